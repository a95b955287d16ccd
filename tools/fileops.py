"""Helpers shared by the file-changing tools: atomic writes and unified diffs."""
from __future__ import annotations

import difflib
import os
import re
import stat
import tempfile
from contextlib import suppress
from pathlib import Path


def _umask() -> int:
    # os.umask can only be read by setting it, which races with other threads; /proc has it.
    with suppress(OSError, ValueError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    return 0o022


def atomic_write(path: Path, data: bytes) -> None:
    """Write via a temp file in the same directory + fsync + os.replace, so a crash or a full
    disk leaves either the old file or the new one, never a torn one. Permission bits of an
    existing file are kept; new files get the usual 0666 & ~umask instead of mkstemp's 0600."""
    parent = path.parent
    parent.mkdir(parents=True, exist_ok=True)
    try:
        mode = stat.S_IMODE(os.stat(path).st_mode)
    except FileNotFoundError:
        mode = 0o666 & ~_umask()
    fd, tmp = tempfile.mkstemp(dir=parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        with suppress(OSError):
            os.unlink(tmp)
        raise
    # The rename lives in the directory entry; sync it too so it survives a power cut.
    with suppress(OSError):
        dfd = os.open(parent, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)
    drop_stale_bytecode(path)


def drop_stale_bytecode(path: Path) -> None:
    """Remove the bytecode Python cached for `path` (a .py file just rewritten).

    Python trusts `__pycache__/NAME.*.pyc` while the source's mtime (whole seconds) and size match
    what the .pyc recorded. An edit that keeps the size (`a - b` -> `a + b`) in the same second as
    the check that wrote the cache would run the old code: the fix looks like a failure. Only a
    real `__pycache__` directory beside the file is touched (not one symlinked elsewhere), and
    only its entries named for this file."""
    if path.suffix != ".py":
        return
    cache = path.parent / "__pycache__"
    with suppress(OSError):
        if not stat.S_ISDIR(os.lstat(cache).st_mode):
            return
        # NAME.TAG.pyc or NAME.TAG.opt-N.pyc, for any interpreter's tag (cpython-312, pypy39...)
        mine = re.compile(re.escape(path.stem) + r"\.[A-Za-z0-9_-]+(?:\.opt-\d+)?\.pyc")
        for entry in os.scandir(cache):
            if mine.fullmatch(entry.name):
                with suppress(OSError):
                    os.unlink(entry.path)  # an entry that is a symlink: the link goes, not its target


def split_keepends(text: str) -> list[str]:
    """Split on "\\n" only (str.splitlines also splits on \\x0c, \\u2028, ... which would
    make diffs and line numbers disagree with every other tool)."""
    parts = text.split("\n")
    lines = [p + "\n" for p in parts[:-1]]
    if parts[-1]:
        lines.append(parts[-1])
    return lines


def printable(text: str) -> str:
    """Text decoded with surrogateescape, made safe for JSON / terminals."""
    try:
        return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    except UnicodeEncodeError:  # a lone surrogate that did not come from surrogateescape
        return text.encode("utf-8", "replace").decode("utf-8")


def unified_diff(rel: str, old: str | None, new: str | None) -> str:
    """Git-style unified diff; None for old/new means the file did not / does not exist."""
    a = split_keepends(printable(old)) if old else []
    b = split_keepends(printable(new)) if new else []
    fromfile = f"a/{rel}" if old is not None else "/dev/null"
    tofile = f"b/{rel}" if new is not None else "/dev/null"
    out = []
    for line in difflib.unified_diff(a, b, fromfile, tofile, n=3):
        if not line.endswith("\n"):
            line += "\n\\ No newline at end of file\n"
        out.append(line)
    return "".join(out)


_HUNK = re.compile(r"^@@ -\d+(?:,(\d+))? \+\d+(?:,(\d+))? @@")


def diff_stats(diff: str) -> tuple[int, int]:
    """(+lines, -lines) of a unified diff: one file or several, difflib's or git's. The one
    count of a change every surface shows (tool card, headless line, JSONL, compare report).

    Lines are split on "\n" only and counted inside hunks by the hunk header's own lengths,
    so a removed line starting with "--", a line holding \x0c or \u2028, and the next file's
    ---/+++ header are each read for what they are."""
    added = removed = 0
    old_left = new_left = 0
    for line in diff.split("\n"):
        if old_left > 0 or new_left > 0:
            if line.startswith("+"):
                added, new_left = added + 1, new_left - 1
            elif line.startswith("-"):
                removed, old_left = removed + 1, old_left - 1
            elif line.startswith("\\"):
                continue  # "\ No newline at end of file"
            else:  # context (" "; an empty line where a tool trimmed the space)
                old_left, new_left = old_left - 1, new_left - 1
            continue
        m = _HUNK.match(line)
        if m:
            old_left = int(m.group(1)) if m.group(1) is not None else 1
            new_left = int(m.group(2)) if m.group(2) is not None else 1
    return added, removed
