"""Turn a parsed patch into verified in-memory file changes, then commit them all or none.

`plan` does every check and computes every new file's bytes without writing anything; `commit`
stages temp files (fsynced) beside their targets, swaps them in with os.replace, performs deletes
and move-removals last, and restores the in-memory originals if any step fails.
"""
from __future__ import annotations

import os
import stat
import tempfile
import threading
from dataclasses import field
from pathlib import Path

from realcost_agent.records import record
from realcost_agent.tools.fileops import drop_stale_bytecode
from realcost_agent.tools.patch_match import ChunkError, apply_chunks
from realcost_agent.tools.patch_parser import FileOp, Patch
from realcost_agent.tools.paths import PathError, display, resolve_in_root


class PatchApplyError(Exception):
    """The patch cannot be applied; the message is for the model.

    `unchanged` is False only when a commit failed and even the rollback failed.
    """

    def __init__(self, message: str, unchanged: bool = True):
        super().__init__(message)
        self.unchanged = unchanged


@record
class FileChange:
    kind: str  # A(dd), M(odify), D(elete), R(ename, possibly with edits)
    rel: str  # repo-relative path of the source (or of the new file for A)
    path: Path  # real path of the source (or of the new file for A)
    old: bytes | None
    new: bytes | None
    mode: int | None = None  # permission bits for the written file; None = default
    dest: Path | None = None
    dest_rel: str | None = None
    notes: list[str] = field(default_factory=list)
    # Edited line ranges from patch_match (None: no chunks), used to render the diff.
    regions: list[tuple[int, int, int, int]] | None = None

    @property
    def target(self) -> Path:
        return self.dest or self.path

    @property
    def target_rel(self) -> str:
        return self.dest_rel or self.rel


def plan(patch: Patch, root: Path) -> list[FileChange]:
    root = Path(os.path.realpath(root))
    claimed: dict[Path, int] = {}
    changes: list[FileChange] = []

    def resolve(path: str, op: FileOp) -> tuple[Path, str]:
        real = _confine(root, path, op.line_no)
        rel = display(root, real)
        if real in claimed:
            raise PatchApplyError(
                f"patch line {op.line_no}: {rel} is already changed by the section at patch line "
                f"{claimed[real]}; put all changes to one file in a single section"
            )
        claimed[real] = op.line_no
        return real, rel

    for op in patch.ops:
        real, rel = resolve(op.path, op)
        where = f"patch line {op.line_no}: {rel}"
        if op.kind == "add":
            if os.path.lexists(real):
                raise PatchApplyError(
                    f"{where} already exists; use '*** Update File: {rel}' to change it"
                )
            _check_parent(real, where)
            text = "".join(line + "\n" for line in op.content)
            changes.append(FileChange("A", rel, real, None, _encode(text, where)))
            continue

        if os.path.islink(root / op.path) and op.kind == "delete":
            # Deleting through a link would delete its target, which is not what was asked.
            raise PatchApplyError(f"{where} is a symbolic link; apply_patch will not delete it")
        old, mode = _read(real, where, rel, op.kind)
        if op.kind == "delete":
            changes.append(FileChange("D", rel, real, old, None, mode))
            continue

        if b"\0" in old:
            raise PatchApplyError(f"{where} looks binary (contains NUL bytes); cannot patch it")
        text = old.decode("utf-8", "surrogateescape")
        notes: list[str] = []
        regions = None
        if op.chunks:
            try:
                text, notes, regions = apply_chunks(text, op.chunks, rel)
            except ChunkError as e:
                raise PatchApplyError(str(e)) from None
        change = FileChange(
            "M", rel, real, old, _encode(text, where), mode, notes=notes, regions=regions
        )
        if op.move_to is not None:
            if _confine(root, op.move_to, op.line_no) != real:  # a move onto itself is a plain update
                dest, dest_rel = resolve(op.move_to, op)
                if os.path.lexists(dest):
                    raise PatchApplyError(
                        f"{where}: cannot move to {dest_rel}, which already exists"
                    )
                _check_parent(dest, f"patch line {op.line_no}: {dest_rel}")
                change.kind, change.dest, change.dest_rel = "R", dest, dest_rel
        changes.append(change)
    return changes


def _confine(root: Path, path: str, line_no: int) -> Path:
    try:
        path.encode("utf-8")
    except UnicodeEncodeError:
        raise PatchApplyError(f"patch line {line_no}: the path is not valid text") from None
    try:
        return resolve_in_root(root, path)
    except PathError as e:
        raise PatchApplyError(f"patch line {line_no}: {e}") from None


def _read(real: Path, where: str, rel: str, kind: str) -> tuple[bytes, int]:
    if not os.path.lexists(real):
        hint = " (use '*** Add File' to create it)" if kind == "update" else ""
        raise PatchApplyError(f"{where} does not exist{hint}")
    if os.path.isdir(real):
        raise PatchApplyError(f"{where} is a directory, not a file")
    try:
        st = real.stat()
        return real.read_bytes(), stat.S_IMODE(st.st_mode)
    except OSError as e:
        raise PatchApplyError(f"{where}: cannot read it ({e.strerror or e})") from None


def _check_parent(path: Path, where: str) -> None:
    # A new file needs every existing ancestor to be a directory; catching it here keeps the
    # commit phase from failing on something knowable up front. (os.path, unlike Path.exists,
    # never raises, e.g. on a too-long name; the commit phase reports those.)
    for parent in path.parents:
        if os.path.exists(parent):
            if not os.path.isdir(parent):
                raise PatchApplyError(f"{where}: {parent.name} is a file, not a directory")
            return


def _encode(text: str, where: str) -> bytes:
    try:
        return text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        raise PatchApplyError(f"{where}: the patch contains characters that are not valid text")


_umask_lock = threading.Lock()


def _default_mode() -> int:
    # os.umask can only be read by setting it; do it under a lock and restore immediately.
    with _umask_lock:
        mask = os.umask(0o022)
        os.umask(mask)
    return 0o666 & ~mask


def _write_direct(path: Path, data: bytes, mode: int | None) -> None:
    with open(path, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    if mode is not None:
        os.chmod(path, mode)


def commit(changes: list[FileChange]) -> None:
    """Write every change or none. Raises PatchApplyError after rolling back."""
    writes = [c for c in changes if c.kind != "D" and (c.kind != "M" or c.new != c.old)]
    staged: list[tuple[str, FileChange]] = []
    created_dirs: list[Path] = []
    try:
        for c in writes:
            parent = c.target.parent
            _makedirs(parent, created_dirs)
            fd, tmp = tempfile.mkstemp(prefix=f".{c.target.name}.", suffix=".tmp", dir=parent)
            staged.append((tmp, c))
            with os.fdopen(fd, "wb") as f:
                f.write(c.new or b"")
                f.flush()
                os.fsync(f.fileno())
            os.chmod(tmp, c.mode if c.mode is not None else _default_mode())
    except OSError as e:
        _discard(staged, created_dirs)
        raise PatchApplyError(
            f"could not write {c.target_rel}: {e.strerror or e}"
        ) from None

    replaced: list[FileChange] = []
    removed: list[FileChange] = []
    try:
        for tmp, c in staged:
            os.replace(tmp, c.target)
            replaced.append(c)
            drop_stale_bytecode(Path(c.target))
        for c in changes:
            if c.kind in ("D", "R"):
                os.unlink(c.path)
                removed.append(c)
    except OSError as e:
        failures = _rollback(replaced, removed)
        done = {id(c) for c in replaced}
        _discard([s for s in staged if id(s[1]) not in done], created_dirs)
        if failures:
            raise PatchApplyError(
                f"writing failed ({e.strerror or e}) and the rollback failed for: "
                f"{', '.join(failures)}; these files may be inconsistent, check them",
                unchanged=False,
            ) from None
        raise PatchApplyError(
            f"writing failed ({e.strerror or e}); every file was restored"
        ) from None
    _sync_dirs({c.target.parent for c in changes} | {c.path.parent for c in removed})


def _makedirs(d: Path, created: list[Path]) -> None:
    missing = []
    while not os.path.exists(d):
        missing.append(d)
        d = d.parent
    for m in reversed(missing):
        os.mkdir(m)
        created.append(m)


def _discard(staged: list[tuple[str, FileChange]], created_dirs: list[Path]) -> None:
    for tmp, _ in staged:
        try:
            os.unlink(tmp)
        except OSError:
            pass
    for d in reversed(created_dirs):
        try:
            os.rmdir(d)
        except OSError:
            pass


def _rollback(replaced: list[FileChange], removed: list[FileChange]) -> list[str]:
    """Restore from the in-memory originals; returns the paths that could not be restored.

    Writes in place rather than via os.replace, so a failing replace cannot block the undo.
    """
    failures = []
    for c in reversed(removed):
        try:
            _write_direct(c.path, c.old or b"", c.mode)
        except OSError:
            failures.append(c.rel)
    for c in reversed(replaced):
        try:
            if c.kind == "M":
                _write_direct(c.path, c.old or b"", c.mode)
            else:  # the target did not exist before
                os.unlink(c.target)
        except OSError:
            failures.append(c.target_rel)
    return failures


def _sync_dirs(dirs: set[Path]) -> None:
    for d in dirs:
        try:
            fd = os.open(d, os.O_RDONLY)
        except OSError:
            continue
        try:
            os.fsync(fd)
        except OSError:
            pass
        finally:
            os.close(fd)
