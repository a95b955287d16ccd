"""Put a checkpoint back onto the project's files (the restore half of agent/checkpoints.py).

Order matters: directories the checkpoint had are made traversable first (a `chmod 000 src`
must not block the restore), then what the checkpoint did not have is removed (files, then the
directories left empty), then files that differ are written, empty directories recreated, and
last the directories' own modes set, deepest first, so a read-only directory is filled before
it becomes read-only. Nothing is ever read, written or deleted through a symlink standing where
a directory should be, and what the checkpoint did not save is left alone.
"""
from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping

from realcost_agent.tools.fileops import _umask, atomic_write

if TYPE_CHECKING:
    from realcost_agent.agent.checkpoints import Checkpoints, RestoreReport


def restore_tree(cps: Checkpoints, target: Mapping[str, tuple[str, str]], meta: dict[str, Any],
                 report: RestoreReport) -> None:
    root = cps.root
    default_dir = 0o777 & ~_umask()
    dirs = {d: int(p, 8) for d, p in (meta.get("dirs") or {}).items()}
    for rel in target:  # every parent of a saved file was a directory
        for parent in _parents(rel):
            dirs.setdefault(parent, default_dir)
    dirs.setdefault(".", stat.S_IMODE(os.stat(root).st_mode) | 0o700)
    unsaved = meta.get("unsaved") or {}
    if isinstance(unsaved, list):
        unsaved = {p: "not saved" for p in unsaved}
    kept_dirs = set(meta.get("skipped_dirs") or []) | set(meta.get("unreadable_dirs") or [])

    def kept(rel: str) -> bool:
        return rel in unsaved or any(p in kept_dirs for p in (rel, *_parents(rel)))

    for rel in sorted(dirs, key=_depth):  # top-down: each must be enterable to reach the next
        _make_enterable(root if rel == "." else root / rel)
    scan = cps._scan(limit=False, skip=meta.get("skip_names"))
    for _ in range(20):  # directories the agent made unreadable: open them, look again
        opened = [d for d in scan.unreadable if not kept(d) and _make_enterable(root / d)]
        if not opened:
            break
        scan = cps._scan(limit=False, skip=meta.get("skip_names"))

    for rel in sorted(scan.files):
        if rel not in target and not kept(rel):
            _delete(root, rel, report)
    for rel in sorted(scan.dirs, key=_depth, reverse=True):
        if rel != "." and rel not in dirs and not kept(rel):
            try:
                os.rmdir(root / rel)  # only succeeds when empty: unsaved content stays
            except OSError:
                pass
    _write(cps, target, meta, report)
    checked: dict[str, bool] = {}
    for rel in sorted(dirs, key=_depth):
        path = root / rel
        if rel != "." and not os.path.lexists(path) and _parent_ok(root, rel, checked):
            try:
                path.mkdir()
            except OSError:
                report.skipped.append(rel + "/")
    for rel in sorted(dirs, key=_depth, reverse=True):
        path = root if rel == "." else root / rel
        try:
            st = os.lstat(path)
            if stat.S_ISDIR(st.st_mode) and stat.S_IMODE(st.st_mode) != dirs[rel]:
                os.chmod(path, dirs[rel])
        except OSError:
            pass
    report.skipped += sorted(p for p in unsaved if not os.path.lexists(root / p))
    report.not_saved += [f"{d}/ (directory not saved by default)"
                         for d in meta.get("skipped_dirs") or []]
    report.not_saved += [f"{d}/ (could not be read)" for d in meta.get("unreadable_dirs") or []]
    report.not_saved += [f"{p} ({why})" for p, why in sorted(unsaved.items())]
    # Never covered, so never removed, but said: what appeared since in places a checkpoint
    # does not look (a `npm install`, a `git init` in a subdirectory).
    report.not_saved += [f"{d}/ (directory not saved by default; appeared since)"
                         for d in sorted(set(scan.skipped) - set(meta.get("skipped_dirs") or []))]
    report.not_saved += [f"{g} (a nested git repository; appeared since)"
                         for g in sorted(set(scan.nested_git) - set(meta.get("nested_git") or []))]


def _write(cps: Checkpoints, entries: Mapping[str, tuple[str, str]], meta: dict[str, Any],
           report: RestoreReport) -> None:
    root = cps.root
    checked: dict[str, bool] = {}
    present = {}
    for rel in entries:
        if _parent_ok(root, rel, checked):
            try:
                present[rel] = os.lstat(root / rel)
            except OSError:
                pass
    present = {r: st for r, st in present.items()
               if stat.S_ISREG(st.st_mode) or stat.S_ISLNK(st.st_mode)}
    have, _ = cps._hash(present, budget=False)
    modes = meta.get("modes", {})
    umask = _umask()
    todo = {}
    for rel, (mode, blob) in entries.items():
        now = have.get(rel)
        # Perms not recorded were the umask default when the snapshot was taken.
        default = (0o777 if mode == "100755" else 0o666) & ~umask
        want_perm = int(modes[rel], 8) if rel in modes else default
        if now and now[:2] == (mode, blob):
            if mode != "120000" and now[2] != want_perm:
                os.chmod(root / rel, want_perm)
                report.restored.append(rel)
            continue
        if not _parent_ok(root, rel, checked):
            report.skipped.append(rel)
            continue
        todo[rel] = (mode, blob, want_perm, os.path.lexists(root / rel))
    blobs = cps._blobs(sorted({t[1] for t in todo.values()}))
    for rel, (mode, blob, want_perm, existed) in todo.items():
        path = root / rel
        try:
            if path.is_dir() and not path.is_symlink():
                path.rmdir()  # an empty leftover directory where the file belongs
            if mode == "120000":
                if os.path.lexists(path):
                    _unlink(path)
                path.parent.mkdir(parents=True, exist_ok=True)
                os.symlink(os.fsdecode(blobs[blob]), path)
            else:
                if path.is_symlink():
                    _unlink(path)  # atomic_write would keep a symlink's target's mode
                atomic_write(path, blobs[blob])
                os.chmod(path, want_perm)
        except (OSError, KeyError):
            report.skipped.append(rel)
            continue
        (report.restored if existed else report.created).append(rel)


def _delete(root: Path, rel: str, report: RestoreReport) -> None:
    if not _parent_ok(root, rel, {}):
        return  # under a symlinked directory: the file is not really in the project
    try:
        _unlink(root / rel)
        report.deleted.append(rel)
    except OSError:
        report.skipped.append(rel)


def _unlink(path: Path) -> None:
    try:
        path.unlink()
    except PermissionError:
        _make_enterable(path.parent)  # a directory the agent made read-only
        path.unlink()


def _make_enterable(path: Path) -> bool:
    """Give a real directory u+rwx (its final mode is set at the end); True if it changed."""
    try:
        st = os.lstat(path)
        if stat.S_ISDIR(st.st_mode) and st.st_mode & 0o700 != 0o700:
            os.chmod(path, stat.S_IMODE(st.st_mode) | 0o700)
            return True
    except OSError:
        pass
    return False


def _parent_ok(root: Path, rel: str, checked: dict[str, bool]) -> bool:
    """Every parent of rel is a real directory inside the root, or missing (and can be made
    one): never read, write or delete through a symlink the agent may have planted."""
    parent = os.path.dirname(rel)
    if not parent:
        return True
    if parent not in checked:
        try:
            ok = stat.S_ISDIR(os.lstat(root / parent).st_mode)
        except FileNotFoundError:
            ok = True
        except OSError:
            ok = False
        checked[parent] = ok and _parent_ok(root, parent, checked)
    return checked[parent]


def _parents(rel: str) -> list[str]:
    parts = rel.split("/")[:-1]
    return ["/".join(parts[:i]) for i in range(1, len(parts) + 1)]


def _depth(rel: str) -> int:
    return -1 if rel == "." else rel.count("/")
