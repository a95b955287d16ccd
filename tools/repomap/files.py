"""The source files a map covers, with the (size, mtime_ns) that keys their cache entries.

Inside a git work tree: `git ls-files --cached --others --exclude-standard` (what git shows,
ignored files left out). Elsewhere, or when git lists nothing: a walk that skips VCS, dependency
and virtualenv directories (any with a pyvenv.cfg). Only files in a supported language are stat'ed, once each, with
lstat: symlinks are skipped so the map never reads outside the root.
"""
from __future__ import annotations

import os
import shutil
import stat
import subprocess
import time
from pathlib import Path

from realcost_agent.tools.repomap.languages import language_of

MAX_FILE_BYTES = 1_000_000
# Only for the walk: git's own listing already leaves out what the project ignores.
SKIP_DIRS = frozenset({
    ".git", ".hg", ".svn", "node_modules", "bower_components", ".venv", "venv", "__pycache__",
    ".tox", ".nox", ".mypy_cache", ".pytest_cache", ".ruff_cache", "site-packages",
})

Stat = tuple[int, int]  # (size, mtime_ns)
# walked directory -> (mtime_ns or -1, subdirectories, supported files), all root-relative
DirCache = dict[str, tuple[int, tuple[str, ...], tuple[str, ...]]]
RACY_NS = 2_000_000_000


def source_files(root: Path, max_bytes: int = MAX_FILE_BYTES,
                 dirs: DirCache | None = None) -> dict[str, Stat]:
    """Root-relative POSIX path -> (size, mtime_ns) for supported, regular, not-too-big files,
    in sorted path order. `dirs` (walk only) is updated in place: see _walk."""
    names = _git_files(root)
    if not names:  # not a repository, or one that ignores this directory
        names = _walk(root, {} if dirs is None else dirs)
    out: dict[str, Stat] = {}
    base = str(root)
    for rel in sorted(set(names)):
        if language_of(rel) is None:
            continue
        try:
            st = os.lstat(os.path.join(base, rel))
        except OSError:
            continue  # deleted since git listed it
        if stat.S_ISREG(st.st_mode) and st.st_size <= max_bytes:
            out[rel] = (st.st_size, st.st_mtime_ns)
    return out


def _git_files(root: Path) -> list[str] | None:
    git = shutil.which("git")
    if not git:
        return None
    from realcost_agent.tools.gitsafe import git_argv, git_env

    try:
        proc = subprocess.run(
            git_argv(root, "-c", "core.quotepath=off", "ls-files", "-z", "--cached", "--others",
                     "--exclude-standard", git=git),
            cwd=root, env=git_env(), capture_output=True, timeout=60, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired):
        return None
    if proc.returncode != 0:
        return None
    return [os.fsdecode(n) for n in proc.stdout.split(b"\0") if n]


def _walk(root: Path, dirs: DirCache) -> list[str]:
    """Supported files under root. A directory whose mtime is unchanged since the last walk
    has the same entries, so its cached listing is reused (one stat instead of a scandir of
    every entry: django's 2,400 locale directories cost 40 ms to scan, 5 ms to stat).
    Listings younger than RACY_NS are not trusted: an entry added within the same clock tick
    would not move the mtime."""
    out: list[str] = []
    seen: set[str] = set()
    stack = [""]
    now = time.time_ns()
    while stack:
        rel_dir = stack.pop()
        path = os.path.join(root, rel_dir) if rel_dir else str(root)
        try:
            mtime = os.stat(path).st_mtime_ns
        except OSError:
            continue
        seen.add(rel_dir)
        cached = dirs.get(rel_dir)
        if cached is not None and cached[0] == mtime:
            subdirs, files = cached[1], cached[2]
        else:
            subdirs, files = _scan(path, rel_dir)
            dirs[rel_dir] = (mtime if now - mtime > RACY_NS else -1, subdirs, files)
        out.extend(files)
        stack.extend(subdirs)
    for gone in [d for d in dirs if d not in seen]:
        del dirs[gone]
    return out


def _scan(path: str, rel_dir: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    try:
        with os.scandir(path) as it:
            entries = sorted(it, key=lambda e: e.name)
    except OSError:
        return (), ()
    if rel_dir and any(e.name == "pyvenv.cfg" for e in entries):
        return (), ()  # a virtualenv: dependencies, not the project's code
    subdirs, files = [], []
    for entry in entries:
        rel = f"{rel_dir}/{entry.name}" if rel_dir else entry.name
        try:
            if entry.is_dir(follow_symlinks=False):
                if entry.name not in SKIP_DIRS:
                    subdirs.append(rel)
            elif language_of(entry.name) is not None:
                files.append(rel)
        except OSError:
            continue
    return tuple(subdirs), tuple(files)
