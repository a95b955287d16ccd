"""What a checkpoint covers: one walk of the project, symlinks never followed.

Every regular file and symlink, every directory with its mode, gitignored ones included. Left
out: any `.git` entry (the project's repository at the root, nested repositories below it, whose
paths are recorded so a restore can name the ones that appeared since), directories whose name is
in skip_dirs (recorded), the agent's data dir when it lies inside the project, directories that
cannot be listed (recorded), and fifos, sockets and devices.
"""
from __future__ import annotations

import os
import stat
from dataclasses import field
from pathlib import Path

from realcost_agent.records import record


class ScanError(RuntimeError):
    pass


class TooManyFiles(ScanError):
    pass


@record
class Scan:
    files: dict[str, os.stat_result] = field(default_factory=dict)  # regular files, symlinks
    dirs: dict[str, int] = field(default_factory=dict)  # every directory ("." the root): perms
    skipped: list[str] = field(default_factory=list)  # directories left out by name
    unreadable: list[str] = field(default_factory=list)  # directories that could not be listed
    nested_git: list[str] = field(default_factory=list)  # ".git" entries below the root


def scan_tree(root: Path, skip_dirs: frozenset[str], *, exclude: str | None = None,
              max_files: int = 100_000) -> Scan:
    scan = Scan()
    scan.dirs["."] = stat.S_IMODE(os.stat(root).st_mode)
    stack = [""]
    while stack:
        rel_dir = stack.pop()
        try:
            with os.scandir(root / rel_dir if rel_dir else root) as it:
                entries = list(it)
        except OSError:
            if not rel_dir:
                raise ScanError(f"cannot list {root}") from None
            scan.unreadable.append(rel_dir)
            continue
        for entry in entries:
            rel = f"{rel_dir}/{entry.name}" if rel_dir else entry.name
            if entry.name == ".git":
                if rel_dir:
                    scan.nested_git.append(rel)
                continue  # the project's repository (or a nested one): never ours
            try:
                st = entry.stat(follow_symlinks=False)
            except OSError:
                continue
            if stat.S_ISDIR(st.st_mode):
                if entry.name in skip_dirs:
                    scan.skipped.append(rel)
                elif rel != exclude:
                    scan.dirs[rel] = stat.S_IMODE(st.st_mode)
                    stack.append(rel)
            elif stat.S_ISREG(st.st_mode) or stat.S_ISLNK(st.st_mode):
                scan.files[rel] = st
        if len(scan.files) > max_files:
            raise TooManyFiles(f"more than {max_files} files under {root}, the checkpoint limit; "
                            "is the project root right?")
    return scan
