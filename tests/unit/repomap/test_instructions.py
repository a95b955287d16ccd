"""AGENTS.md precedence: the root's applies everywhere, a subdirectory's to files under it, and
the nearest one wins (it comes last in the chain)."""
from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from realcost_agent.agent.instructions import (MAX_INSTRUCTIONS_CHARS, find_instructions, instructions_for,
                                scope_of, winning_instructions)


def _write(root: Path, rel: str, text: str) -> None:
    p = root / rel
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(text)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "p"
    _write(root, "AGENTS.md", "root rules")
    _write(root, "pkg/AGENTS.md", "pkg rules")
    _write(root, "pkg/sub/AGENTS.md", "sub rules")
    _write(root, "other/AGENTS.md", "other rules")
    _write(root, "pkg/sub/mod.py", "x = 1\n")
    _write(root, "pkgextra/file.py", "x = 1\n")
    return root


def test_finds_root_and_subdirectory_files_shallowest_first(project):
    found = find_instructions(project)
    assert [rel for rel, _ in found] == [
        "AGENTS.md", "other/AGENTS.md", "pkg/AGENTS.md", "pkg/sub/AGENTS.md"]
    assert found[0] == ("AGENTS.md", "root rules")


@pytest.mark.parametrize("path, chain", [
    ("README.md", ["AGENTS.md"]),
    ("pkg/a.py", ["AGENTS.md", "pkg/AGENTS.md"]),
    ("pkg/sub/mod.py", ["AGENTS.md", "pkg/AGENTS.md", "pkg/sub/AGENTS.md"]),
    ("./pkg/sub/deeper/x.py", ["AGENTS.md", "pkg/AGENTS.md", "pkg/sub/AGENTS.md"]),
    ("pkg/sub", ["AGENTS.md", "pkg/AGENTS.md", "pkg/sub/AGENTS.md"]),
    ("other/z.py", ["AGENTS.md", "other/AGENTS.md"]),
    ("pkgextra/file.py", ["AGENTS.md"]),  # a name prefix is not a parent directory
])
def test_chain_runs_root_to_nearest(project, path, chain):
    found = find_instructions(project)
    assert [rel for rel, _ in instructions_for(found, path)] == chain
    assert winning_instructions(found, path)[0] == chain[-1]


def test_nearest_wins(project):
    found = find_instructions(project)
    assert winning_instructions(found, "pkg/sub/mod.py") == ("pkg/sub/AGENTS.md", "sub rules")
    assert winning_instructions(found, "setup.py") == ("AGENTS.md", "root rules")


def test_no_root_file_means_no_winner_outside_subdirectories(tmp_path):
    _write(tmp_path, "pkg/AGENTS.md", "pkg rules")
    found = find_instructions(tmp_path)
    assert winning_instructions(found, "main.py") is None
    assert winning_instructions(found, "pkg/main.py") == ("pkg/AGENTS.md", "pkg rules")


def test_configured_names_and_their_order_within_a_directory(project):
    _write(project, "CONVENTIONS.md", "conventions")
    _write(project, "pkg/CONVENTIONS.md", "pkg conventions")
    found = find_instructions(project, names=("CONVENTIONS.md", "AGENTS.md"))
    assert [rel for rel, _ in instructions_for(found, "pkg/x.py")] == [
        "CONVENTIONS.md", "AGENTS.md", "pkg/CONVENTIONS.md", "pkg/AGENTS.md"]
    only = find_instructions(project, names=("CONVENTIONS.md",))
    assert [rel for rel, _ in only] == ["CONVENTIONS.md", "pkg/CONVENTIONS.md"]
    assert find_instructions(project, names=()) == []


def test_gitignored_instruction_files_are_skipped(project):
    subprocess.run(["git", "init", "-q"], cwd=project, check=True)
    _write(project, ".gitignore", "other/\n")
    rels = [rel for rel, _ in find_instructions(project)]
    assert "other/AGENTS.md" not in rels and "pkg/AGENTS.md" in rels


def test_long_files_are_truncated(tmp_path):
    _write(tmp_path, "AGENTS.md", "x" * (MAX_INSTRUCTIONS_CHARS + 500))
    (_, text), = find_instructions(tmp_path)
    assert text.endswith("[... truncated]")
    assert len(text) < MAX_INSTRUCTIONS_CHARS + 100


def test_scope_descriptions():
    assert scope_of("AGENTS.md") == "the whole project"
    assert scope_of("pkg/sub/AGENTS.md") == "files under pkg/sub/"
