"""search: regex over the project's text files, with ripgrep when present, else pure Python.

Both engines search the same file list (tools.filesets, binary files already removed) with
line-by-line semantics, and results are sorted by (path, line), so they give identical answers.
ripgrep only does the matching: it gets explicit file names and `--text`, so its own ignore
rules and binary heuristics never come into play.
"""
from __future__ import annotations

import asyncio
import base64
import json
import os
import re
import shutil
import sys
from pathlib import Path
from typing import Literal

from pydantic import Field

from realcost_agent.tools.base import Tool, ToolContext, ToolParams, ToolResult
from realcost_agent.tools.filesets import filter_glob, is_binary, project_files, rel_posix
from realcost_agent.tools.paths import PathError, resolve_in_root

MAX_LINE_CHARS = 300
# Keep each ripgrep command line far below ARG_MAX.
_BATCH_FILES = 1000
_BATCH_BYTES = 100_000

Match = tuple[str, int, str]  # (root-relative path, 1-based line, line text without EOL)


class SearchParams(ToolParams):
    pattern: str = Field(description="regex")
    path: str = Field(".", description="directory or file")
    glob: str | None = Field(None, description="file filter, e.g. *.py")
    case_insensitive: bool = False
    max_results: int = Field(100, ge=1, le=2000)


def find_rg() -> str | None:
    # The `ripgrep` wheel installs rg next to the venv's python, which may not be on PATH.
    return shutil.which("rg") or shutil.which("rg", path=os.path.dirname(sys.executable))


class Search(Tool):
    name = "search"
    description = (
        "Search file contents for a regex (Python syntax, matched per line), skipping "
        ".gitignored and binary files. Returns matching lines grouped by file, with line "
        "numbers. Narrow with path and glob."
    )
    Params = SearchParams
    mutating = False

    def __init__(self, engine: Literal["auto", "rg", "python"] = "auto"):
        self.engine = engine

    async def run(self, params: SearchParams, ctx: ToolContext) -> ToolResult:
        flags = re.IGNORECASE if params.case_insensitive else 0
        try:
            regex = re.compile(params.pattern, flags)
        except re.error as e:
            return ToolResult(f"invalid regex {params.pattern!r}: {e}", is_error=True)
        root = Path(os.path.realpath(ctx.root))
        try:
            target = resolve_in_root(root, params.path)
        except PathError as e:
            return ToolResult(str(e), is_error=True)
        if not target.exists():
            return ToolResult(f"{params.path}: no such file or directory", is_error=True)
        files = await asyncio.to_thread(_searchable_files, root, target, params.glob)
        if isinstance(files, ToolResult):
            return files
        limit = params.max_results
        matches: list[Match] | None = None
        engine = "python"
        rg = find_rg() if self.engine in ("auto", "rg") else None
        if self.engine == "rg" and not rg:
            raise RuntimeError("search engine 'rg' requested but ripgrep is not installed")
        if rg and _argv_safe(params.pattern):
            matches = await _rg_search(rg, root, files, params.pattern,
                                       params.case_insensitive, limit, ctx.cancel)
            engine = "rg"
        if matches is None:  # no rg, or rg rejected a regex Python accepts (look-around, ...)
            matches = await asyncio.to_thread(_py_search, root, files, regex, limit, ctx.cancel)
            engine = "python"
        truncated = len(matches) > limit
        matches = matches[:limit]
        meta = {"matches": len(matches), "truncated": truncated, "engine": engine}
        if not matches:
            return ToolResult(f"No matches in {len(files)} files", metadata=meta)
        return ToolResult(_format(matches, regex, truncated, limit), metadata=meta)


def _searchable_files(root: Path, target: Path, glob: str | None) -> list[str] | ToolResult:
    rel = rel_posix(root, target)
    if target.is_file():
        # An explicitly named file is searched even if .gitignore would hide it.
        if is_binary(target):
            return ToolResult(f"{rel} is a binary file", is_error=True)
        return [rel]
    files, _ = project_files(root, rel)
    return [f for f in filter_glob(files, glob, rel) if not is_binary(root / f)]


def _py_search(root: Path, files: list[str], regex: re.Pattern[str], limit: int,
               cancel: asyncio.Event | None) -> list[Match]:
    out: list[Match] = []
    for rel in files:
        if cancel is not None and cancel.is_set():
            break
        found = 0
        try:
            # Line by line with a cap per line: a 2 GB file is never held in memory whole.
            with open(root / rel, "rb") as f:
                for i, raw in enumerate(_lines(f), 1):
                    line = raw.decode("utf-8", "replace").removesuffix("\n")
                    if regex.search(line):
                        out.append((rel, i, line.removesuffix("\r")))
                        found += 1
                        if found > limit:  # same per-file cap as rg's --max-count
                            break
        except OSError:
            continue
        if len(out) > limit:
            break
    out.sort()
    return out


LINE_CAP = 1 << 20  # bytes of one line searched by the Python engine (the rest is skipped)
SCAN_CAP = 256 << 20  # bytes of one file the Python engine reads (ripgrep has no such limit)


def _lines(f):
    """The file's lines (with their newline), each cut at LINE_CAP bytes, up to SCAN_CAP."""
    while f.tell() <= SCAN_CAP and (line := f.readline(LINE_CAP)):
        if not line.endswith(b"\n"):
            while more := f.readline(65536):  # drain an overlong line without keeping it
                if more.endswith(b"\n") or f.tell() > SCAN_CAP:
                    break
        yield line


def _argv_safe(text: str) -> bool:
    """A NUL byte or a lone surrogate cannot be passed to ripgrep on its command line."""
    try:
        os.fsencode(text)
    except UnicodeEncodeError:
        return False
    return "\x00" not in text


async def _rg_search(rg: str, root: Path, files: list[str], pattern: str, ci: bool, limit: int,
                     cancel: asyncio.Event | None) -> list[Match] | None:
    """None when ripgrep cannot run this regex, so the caller falls back to Python."""
    out: list[Match] = []
    for batch in _batches(files):
        if cancel is not None and cancel.is_set():
            break
        cmd = [rg, "--json", "--no-config", "--text", f"--max-count={limit + 1}",
               f"--regexp={pattern}"]
        if ci:
            cmd.append("--ignore-case")
        cmd += ["--", *batch]
        proc = await asyncio.create_subprocess_exec(
            *cmd, cwd=root, stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        stdout, stderr = await proc.communicate()
        found = list(_parse_rg(stdout))
        # Exit 2 with output just means some file vanished or was unreadable; exit 2 with
        # no output is a regex ripgrep refused.
        if proc.returncode not in (0, 1) and not found:
            return None
        found.sort()
        out += found
        if len(out) > limit:
            break
    return out


def _batches(files: list[str]):
    batch: list[str] = []
    size = 0
    for f in files:
        if batch and (len(batch) >= _BATCH_FILES or size + len(f) > _BATCH_BYTES):
            yield batch
            batch, size = [], 0
        batch.append(f)
        size += len(f) + 1
    if batch:
        yield batch


def _rg_text(obj: dict) -> str:
    if "text" in obj:
        return obj["text"]
    return base64.b64decode(obj.get("bytes", "")).decode("utf-8", "replace")


def _parse_rg(stdout: bytes):
    for raw in stdout.splitlines():
        try:
            msg = json.loads(raw)
        except ValueError:
            continue
        if msg.get("type") != "match":
            continue
        data = msg["data"]
        path = data["path"]
        rel = path["text"] if "text" in path else os.fsdecode(base64.b64decode(path["bytes"]))
        line = _rg_text(data["lines"]).removesuffix("\n").removesuffix("\r")
        yield rel, data["line_number"], line


def _clip(line: str, regex: re.Pattern[str]) -> str:
    """Shorten a long (often minified) line around its first match."""
    line = line.rstrip()
    if len(line) <= MAX_LINE_CHARS:
        return line
    m = regex.search(line)
    start = max(0, m.start() - 60) if m and m.end() > MAX_LINE_CHARS else 0
    piece = line[start:start + MAX_LINE_CHARS]
    more = "..." if start + MAX_LINE_CHARS < len(line) else ""
    return ("..." if start else "") + piece + more + f" [line has {len(line)} chars]"


def _n(k: int, one: str, many: str) -> str:
    return f"{k} {one if k == 1 else many}"


def _format(matches: list[Match], regex: re.Pattern[str], truncated: bool, limit: int) -> str:
    out: list[str] = []
    current = None
    nfiles = 0
    for rel, n, text in matches:
        if rel != current:
            out.append(rel)
            current = rel
            nfiles += 1
        out.append(f"  {n}: {_clip(text, regex)}")
    head = f"{_n(len(matches), 'match', 'matches')} in {_n(nfiles, 'file', 'files')}"
    if truncated:
        head += f" (stopped at {limit}; narrow with path/glob or raise max_results)"
    return head + "\n" + "\n".join(out)
