"""Fixtures for the tool tests: real temp directories and real git repositories."""
from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from realcost_agent.tools.base import ToolContext


def git(root: Path, *args: str) -> str:
    r = subprocess.run(["git", "-c", "user.email=t@t", "-c", "user.name=t", *args], cwd=root,
                       capture_output=True, text=True, check=True)
    return r.stdout


def write(root: Path, rel: str, content: str | bytes) -> Path:
    p = root / rel
    p.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        p.write_bytes(content)
    else:
        p.write_bytes(content.encode())
    return p


@pytest.fixture
def root(tmp_path: Path) -> Path:
    r = tmp_path / "proj"
    r.mkdir()
    return r


@pytest.fixture
def ctx(root: Path, tmp_path: Path) -> ToolContext:
    # Outputs live outside the project so they never show up in listings or searches.
    return ToolContext(root=root, output_dir=tmp_path / "outputs")


@pytest.fixture
def git_root(root: Path) -> Path:
    git(root, "init", "-q")
    return root


# Helpers as fixtures: importing from conftest breaks once other test dirs have their own.
@pytest.fixture
def w():
    return write


@pytest.fixture
def run_git():
    return git
