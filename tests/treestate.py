"""A byte-exact picture of a directory tree, for "undone exactly" assertions.

    before = tree_state(root)
    ... destroy, undo ...
    assert_same_tree(before, tree_state(root))
"""
from __future__ import annotations

import hashlib
import os
import stat
from pathlib import Path


def tree_state(root: Path, *, skip: tuple[str, ...] = (".git",)) -> dict[str, tuple]:
    """{relative path: ("dir", mode) | ("file", bytes, mode) | ("link", target)} for everything
    under root (symlinks not followed), leaving out top-level entries named in `skip`."""
    root = Path(root)
    out: dict[str, tuple] = {".": ("dir", stat.S_IMODE(os.lstat(root).st_mode))}
    for dirpath, dirs, files in os.walk(root):
        here = Path(dirpath)
        if here == root:
            dirs[:] = [d for d in dirs if d not in skip]
            files = [f for f in files if f not in skip]
        for name in [*dirs, *files]:
            p = here / name
            rel = p.relative_to(root).as_posix()
            st = os.lstat(p)
            if stat.S_ISLNK(st.st_mode):
                out[rel] = ("link", os.readlink(p))
            elif stat.S_ISDIR(st.st_mode):
                out[rel] = ("dir", stat.S_IMODE(st.st_mode))
            else:
                out[rel] = ("file", p.read_bytes(), stat.S_IMODE(st.st_mode))
        # os.walk lists a symlink to a directory among dirs without entering it: fine.
    return out


def tree_digest(root: Path) -> str:
    """One hash of everything under root, .git included (to show it was not touched)."""
    h = hashlib.sha256()
    for rel, value in sorted(tree_state(root, skip=()).items()):
        h.update(repr((rel, value)).encode("utf-8", "surrogateescape"))
    return h.hexdigest()


def assert_same_tree(before: dict[str, tuple], after: dict[str, tuple]) -> None:
    missing = sorted(set(before) - set(after))
    extra = sorted(set(after) - set(before))
    changed = sorted(p for p in set(before) & set(after) if before[p] != after[p])
    assert not (missing or extra or changed), (
        f"tree differs: missing {missing[:10]}, extra {extra[:10]}, changed "
        f"{[(p, _short(before[p]), _short(after[p])) for p in changed[:10]]}")


def _short(value: tuple) -> tuple:
    return tuple(v[:40] if isinstance(v, bytes) else (oct(v) if isinstance(v, int) else v)
                 for v in value)
