"""Shared helpers for the apply_patch tests (imported by name: pytest puts this dir on sys.path)."""
from __future__ import annotations

import asyncio
import hashlib
import os
from pathlib import Path

from realcost_agent.tools.apply_patch import ApplyPatch
from realcost_agent.tools.base import ToolContext, ToolResult


def run_patch(root: Path, text: str) -> ToolResult:
    tool = ApplyPatch()
    return asyncio.run(tool.run(ApplyPatch.Params(patch=text), ToolContext(root=Path(root))))


def tree_state(root: Path) -> dict[str, tuple[str, str, int]]:
    """Every entry under root (including .git and dot files): kind, content hash, mode."""
    state = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            p = Path(dirpath) / name
            rel = p.relative_to(root).as_posix()
            st = os.lstat(p)
            if os.path.islink(p):
                state[rel] = ("link", os.readlink(p), 0)
            elif p.is_dir():
                state[rel] = ("dir", "", st.st_mode & 0o7777)
            else:
                state[rel] = ("file", hashlib.sha256(p.read_bytes()).hexdigest(), st.st_mode & 0o7777)
    return state


def write(root: Path, rel: str, content: str | bytes) -> Path:
    p = Path(root) / rel
    p.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, str):
        content = content.encode()
    p.write_bytes(content)
    return p


def patch(*body: str) -> str:
    return "\n".join(["*** Begin Patch", *body, "*** End Patch"]) + "\n"
