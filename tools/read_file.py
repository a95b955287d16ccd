"""read_file: numbered lines of a text file, paged so a huge file never floods the context."""
from __future__ import annotations

import asyncio
import io
import os
import stat
from pathlib import Path

from pydantic import Field

from realcost_agent.tools.base import Tool, ToolContext, ToolParams, ToolResult
from realcost_agent.tools.filesets import BINARY_SNIFF_BYTES, project_files
from realcost_agent.tools.paths import PathError, display, resolve_in_root

MAX_LINES = 2000
MAX_LINE_CHARS = 2000
# At most this much of one line is held in memory (a 2 GB file may be one line).
LINE_BYTES = 4 * MAX_LINE_CHARS + 4
# Files up to this size are read to the end to count their lines; bigger ones stop at the range.
COUNT_ALL_BYTES = 16 * 1024 * 1024
# How far into a file read_file goes to reach start_line before it refuses.
MAX_SCAN_BYTES = 256 * 1024 * 1024


class ReadFileParams(ToolParams):
    path: str
    start_line: int | None = Field(None, ge=1, description="1-based, default 1")
    end_line: int | None = Field(None, ge=1, description="inclusive")


class ReadFile(Tool):
    name = "read_file"
    description = (
        "Read a text file. Lines are prefixed with their number and a tab (not part of the "
        f"content). Shows at most {MAX_LINES} lines / ~20k chars per call; use start_line/"
        "end_line to read a range or page on."
    )
    Params = ReadFileParams
    mutating = False

    async def run(self, params: ReadFileParams, ctx: ToolContext) -> ToolResult:
        return await asyncio.to_thread(self._run, params, ctx)

    def _run(self, params: ReadFileParams, ctx: ToolContext) -> ToolResult:
        root = Path(os.path.realpath(ctx.root))
        try:
            path = resolve_in_root(root, params.path)
        except PathError as e:
            return ToolResult(str(e), is_error=True)
        rel = display(root, path)
        if params.end_line is not None and params.end_line < (params.start_line or 1):
            return ToolResult("end_line is before start_line", is_error=True)
        try:
            st = os.stat(path)
        except FileNotFoundError:
            return ToolResult(f"{params.path}: no such file{_suggest(root, path)}", is_error=True)
        except OSError as e:
            return ToolResult(f"{params.path}: {e.strerror}", is_error=True)
        if stat.S_ISDIR(st.st_mode):
            return ToolResult(f"{rel or '.'} is a directory; use list_files to see what is in it",
                              is_error=True)
        if not stat.S_ISREG(st.st_mode):
            # A FIFO or device would block or never end.
            return ToolResult(f"{rel} is not a regular file", is_error=True)
        editor = ctx.files.read(path) if ctx.files is not None else None
        try:
            return self._read(path, rel, st.st_size, params, ctx, editor)
        except OSError as e:
            return ToolResult(f"{rel}: {e.strerror or e}", is_error=True)

    def _read(self, path: Path, rel: str, size: int, params: ReadFileParams,
              ctx: ToolContext, editor: str | None = None) -> ToolResult:
        """Streams line by line, keeping at most LINE_BYTES of any line, and stops once the
        range is read: memory stays bounded whatever the file's size or line lengths."""
        start = params.start_line or 1
        end = params.end_line
        budget = max(1000, ctx.max_output_chars)
        shown: list[tuple[int, str]] = []
        chars = 0
        cut_by_cap = False
        bad_utf8 = False
        total = 0
        counted = True  # False: a big file, read only up to the range (total unknown)
        data = editor.encode("utf-8", "surrogateescape") if editor is not None else None
        if data is not None:
            size = len(data)
        with (io.BytesIO(data) if data is not None else open(path, "rb")) as f:
            if b"\0" in f.read(BINARY_SNIFF_BYTES):
                return ToolResult(
                    f"{rel} is a binary file ({_size(size)}); read_file only shows text",
                    is_error=True)
            f.seek(0)
            while True:
                done = cut_by_cap or (end is not None and total >= end)
                if done and size > COUNT_ALL_BYTES:
                    counted = False
                    break
                if f.tell() > MAX_SCAN_BYTES:  # as far as we read: a range, or a refusal
                    counted = False
                    break
                line = _read_line(f)
                if line is None:
                    break
                raw, length = line
                total += 1
                if total < start or done:
                    continue
                if len(shown) >= MAX_LINES or (shown and chars >= budget):
                    cut_by_cap = True
                    continue
                raw = raw.rstrip(b"\n").removesuffix(b"\r")
                try:
                    text = raw.decode("utf-8")
                except UnicodeDecodeError:
                    text = raw.decode("utf-8", "replace")
                    bad_utf8 = True
                if length > LINE_BYTES:
                    text = (text[:MAX_LINE_CHARS] + f"... [line truncated: {length} bytes]")
                elif len(text) > MAX_LINE_CHARS:
                    text = (text[:MAX_LINE_CHARS]
                            + f"... [line truncated: {len(text)} chars]")
                shown.append((total, text))
                chars += len(text) + len(str(total)) + 2  # number, tab, newline
        if not counted and not shown:
            return ToolResult(
                f"{rel} is {_size(size)}: line {start} lies past the first "
                f"{_size(MAX_SCAN_BYTES)}, which is as far as read_file reads. Use search to "
                "find the lines you need, or run_command (e.g. sed -n) to extract a part",
                is_error=True, metadata={"path": rel, "size": size})
        if not counted:
            first, last = shown[0][0], shown[-1][0]
            width = len(str(last))
            body = "\n".join(f"{n:>{width}}\t{t}" for n, t in shown)
            body += (f"\n(lines {first}-{last} of a {_size(size)} file; its lines were not "
                     f"all counted; call again with start_line={last + 1} to page on)")
            return ToolResult(body, metadata={"path": rel, "total_lines": None, "size": size,
                                              "truncated": True, "start_line": first,
                                              "end_line": last})
        meta = {"path": rel, "total_lines": total, "truncated": cut_by_cap}
        if total == 0:
            return ToolResult(f"({rel} is empty)", metadata=meta)
        if start > total:
            return ToolResult(f"start_line {start} is past the end of {rel} ({total} lines)",
                              is_error=True, metadata=meta)
        first, last = shown[0][0], shown[-1][0]
        width = len(str(last))
        body = "\n".join(f"{n:>{width}}\t{t}" for n, t in shown)
        notes = []
        if bad_utf8:
            notes.append("not valid UTF-8: undecodable bytes shown as \ufffd")
        if cut_by_cap:
            notes.append(f"showing lines {first}-{last} of {total}; "
                         f"call again with start_line={last + 1}")
        elif first > 1 or last < total:
            notes.append(f"lines {first}-{last} of {total}")
        if notes:
            body += "\n(" + "; ".join(notes) + ")"
        meta.update(start_line=first, end_line=last)
        return ToolResult(body, metadata=meta)


def _read_line(f) -> tuple[bytes, int] | None:
    """The next line's first LINE_BYTES bytes and its full length; None at the end. A line
    running past MAX_SCAN_BYTES into the file is given up on: the file is then treated as
    ending there (the caller sees f.tell() past the limit)."""
    line = f.readline(LINE_BYTES)
    if not line:
        return None
    length = len(line)
    if not line.endswith(b"\n"):
        while more := f.readline(65536):  # the rest of an overlong line, not kept
            length += len(more)
            if more.endswith(b"\n") or f.tell() > MAX_SCAN_BYTES:
                break
    return line, length


def _size(n: int) -> str:
    for unit, scale in (("GB", 1 << 30), ("MB", 1 << 20), ("KB", 1 << 10)):
        if n >= scale:
            return f"{n / scale:.1f} {unit} ({n} bytes)"
    return f"{n} bytes"


def _suggest(root: Path, path: Path) -> str:
    """Point at files with the same name elsewhere: the commonest cause is a wrong directory."""
    try:
        files, _ = project_files(root)
    except Exception:  # a hint must never turn a clean error into a crash
        return ""
    same = [f for f in files if f.rsplit("/", 1)[-1] == path.name][:5]
    return f"; files with that name: {', '.join(same)}" if same else ""
