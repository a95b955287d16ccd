"""The compare page's "files changed" (agent.worktrees.diffstat) counts what the model changed,
new files included, and not what running the check left behind in a project that does not ignore
it: bytecode caches and pytest's cache (a run with bytecode writing on showed "3 files changed"
for a one-line fix)."""
from __future__ import annotations

import subprocess
from pathlib import Path

from realcost_agent.agent.worktrees import diffstat


def _git(root: Path, *args: str) -> str:
    return subprocess.run(["git", "-c", "user.email=t@t", "-c", "user.name=t", *args], cwd=root,
                          check=True, capture_output=True, text=True).stdout.strip()


def test_check_leftovers_are_not_the_models_change(tmp_path: Path) -> None:
    _git(tmp_path, "init", "-q")
    (tmp_path / "calc.py").write_text("def add(a, b):\n    return a - b\n")
    _git(tmp_path, "add", ".")
    _git(tmp_path, "commit", "-qm", "init")
    commit = _git(tmp_path, "rev-parse", "HEAD")
    assert diffstat(tmp_path, commit) == "no changes"

    (tmp_path / "calc.py").write_text("def add(a, b):\n    return a + b\n")  # the model's fix
    (tmp_path / "notes.txt").write_text("new\n")  # a new file the model wrote: counted
    for leftover in ("__pycache__/calc.cpython-311.pyc", "pkg/__pycache__/m.cpython-311.pyc",
                     "old.pyc", ".pytest_cache/v/cache/lastfailed", "pkg/.pytest_cache/README.md"):
        (tmp_path / leftover).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / leftover).write_bytes(b"\x00cache\n")
    assert diffstat(tmp_path, commit) == "2 files changed, 2 insertions(+), 1 deletion(-)"
