"""Git worktrees for `agent compare`: one per model, at the same commit, inside the repo under
.agent/worktrees/<run-id>/<model> and hidden from `git status` through .git/info/exclude.

Only committed work is compared: uncommitted changes are not copied in (the caller warns), so
every model starts from the same reproducible tree and the comparison names its commit.
"""
from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

from realcost_agent.tools.gitsafe import run_git

WORKTREES = Path(".agent") / "worktrees"
RUNS = Path(".agent") / "compare"
EXCLUDES = ("/.agent/worktrees/", "/.agent/compare/")


class WorktreeError(RuntimeError):
    pass


def _git(cwd: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    proc = run_git(cwd, *args, timeout=120)  # no repo hooks/filters (post-checkout, smudge)
    if check and proc.returncode != 0:
        raise WorktreeError(f"git {' '.join(args)}: {(proc.stderr or proc.stdout).strip()}")
    return proc


def repo_root(path: Path) -> Path:
    proc = _git(path, "rev-parse", "--show-toplevel", check=False)
    if proc.returncode != 0:
        raise WorktreeError(f"{path} is not inside a git repository: `agent compare` runs each "
                            "model in a git worktree of it (git init && git commit first)")
    return Path(proc.stdout.strip()).resolve()


def head_commit(root: Path) -> str:
    proc = _git(root, "rev-parse", "--verify", "-q", "HEAD", check=False)
    if proc.returncode != 0 or not proc.stdout.strip():
        raise WorktreeError("the repository has no commit yet: commit the starting point first")
    return proc.stdout.strip()


def dirty_files(root: Path) -> list[str]:
    """Tracked files with uncommitted changes (these are NOT in the worktrees)."""
    out = _git(root, "status", "--porcelain=v1", "--untracked-files=no").stdout
    return [line[3:] for line in out.splitlines() if line.strip()]


def ensure_excluded(root: Path) -> None:
    """Keep the worktrees and run outputs out of `git status` without touching .gitignore."""
    path = Path(_git(root, "rev-parse", "--git-path", "info/exclude").stdout.strip())
    if not path.is_absolute():
        path = root / path
    path.parent.mkdir(parents=True, exist_ok=True)
    text = path.read_text() if path.exists() else ""
    missing = [line for line in EXCLUDES if line not in text.splitlines()]
    if missing:
        sep = "" if not text or text.endswith("\n") else "\n"
        path.write_text(text + sep + "# agent compare\n" + "\n".join(missing) + "\n")


def slug(model: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", model).strip("._") or "model"


def add(root: Path, run_id: str, model: str, commit: str) -> Path:
    path = root / WORKTREES / run_id / slug(model)
    if path.exists():
        raise WorktreeError(f"{path} already exists")
    path.parent.mkdir(parents=True, exist_ok=True)
    _git(root, "worktree", "add", "--detach", str(path), commit)
    return path


# What running a check leaves in a project that does not ignore it (Python's bytecode caches,
# pytest's cache): not the model's change, so not counted in it.
CHECK_LEFTOVERS = (":(exclude,glob)**/__pycache__/**", ":(exclude,glob)**/*.py[co]",
                   ":(exclude,glob)**/.pytest_cache/**")


def diffstat(path: Path, commit: str) -> str:
    """What the model changed, committed or not, untracked files included, counted by the one
    diff-stat function the tool cards and headless lines use (tools.fileops.diff_stats), in
    git's --shortstat wording."""
    from realcost_agent.tools.fileops import diff_stats

    _git(path, "add", "-A", "--intent-to-add", "--", ".", *CHECK_LEFTOVERS, check=False)
    # Bytes: a file in another encoding must not stop the count (split on "\n" only).
    raw = run_git(path, "diff", "--no-color", "--no-ext-diff", "--no-textconv", commit,
                  "--", ".", *CHECK_LEFTOVERS, timeout=120, text=False)
    diff = (raw.stdout or b"").decode("utf-8", "replace")
    files = sum(1 for line in diff.split("\n") if line.startswith("diff --git "))
    if not files:
        return "no changes"
    added, removed = diff_stats(diff)
    parts = [f"{files} file{'s' if files != 1 else ''} changed"]
    if added or not removed:
        parts.append(f"{added} insertion{'s' if added != 1 else ''}(+)")
    if removed or not added:
        parts.append(f"{removed} deletion{'s' if removed != 1 else ''}(-)")
    return ", ".join(parts)


def clean(root: Path, run_id: str | None = None) -> list[Path]:
    """Remove the worktrees of one run (or all runs); returns the removed paths."""
    base = root / WORKTREES
    runs = [base / run_id] if run_id else sorted(p for p in base.glob("*") if p.is_dir())
    removed = []
    for run in runs:
        for path in sorted(p for p in run.glob("*") if p.is_dir()):
            if _git(root, "worktree", "remove", "--force", str(path), check=False).returncode != 0:
                shutil.rmtree(path, ignore_errors=True)  # not a registered worktree any more
            removed.append(path)
        shutil.rmtree(run, ignore_errors=True)
    _git(root, "worktree", "prune", check=False)
    if base.is_dir() and not any(base.iterdir()):
        base.rmdir()
    return removed
