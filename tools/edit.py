"""edit: exact search/replace in one file, with hints when the text does not match."""
from __future__ import annotations

import asyncio
import difflib
import os
from pathlib import Path
from typing import Any

from realcost_agent.records import record
from realcost_agent.tools.base import Description, Tool, ToolContext, ToolParams, ToolResult
from realcost_agent.tools.fileops import atomic_write, diff_stats, unified_diff
from realcost_agent.tools.filesets import BINARY_SNIFF_BYTES
from realcost_agent.tools.patch_match import EXACT, LEVEL_NOTE, ChunkError, TextLines, Matcher, apply_chunks
from realcost_agent.tools.patch_parser import Chunk
from realcost_agent.tools.paths import PathError, display, resolve_in_root

_HINT_MAX_LINES = 8


class EditParams(ToolParams):
    path: str
    old_string: str
    new_string: str
    replace_all: bool = False


class Edit(Tool):
    name = "edit"
    description = (
        "Replace old_string with new_string in a file. old_string must match exactly "
        "(indentation included; no line-number prefixes) and occur once unless replace_all "
        "is true; include nearby lines to make it unique."
    )
    Params = EditParams
    mutating = True

    async def run(self, params: EditParams, ctx: ToolContext) -> ToolResult:
        return await asyncio.to_thread(self._run, params, ctx)

    def _run(self, params: EditParams, ctx: ToolContext) -> ToolResult:
        planned = _plan(params, Path(os.path.realpath(ctx.root)), ctx.files)
        if isinstance(planned, ToolResult):
            return planned
        try:
            if ctx.files is None or not ctx.files.write(planned.path, planned.updated):
                atomic_write(planned.path, planned.updated.encode("utf-8", "surrogateescape"))
        except OSError as e:
            return ToolResult(f"cannot write {planned.rel}: {e.strerror or e}", is_error=True)
        d = planned.description()
        return ToolResult(f"Edited {planned.rel} at {planned.where} (+{d.added} -{d.removed} lines)"
                          f"{planned.note}",
                          metadata={"diff": d.preview, "files_changed": [planned.rel],
                                    "replacements": planned.count},
                          description=d)

    def describe(self, params: ToolParams, root: Path) -> Description:
        assert isinstance(params, EditParams)
        planned = _plan(params, Path(os.path.realpath(root)))
        if isinstance(planned, ToolResult):  # will fail: say why, show what was asked
            return Description(f"{params.path} (will fail: {planned.output.splitlines()[0][:80]})",
                               (params.path,), unified_diff(params.path, params.old_string,
                                                            params.new_string))
        return planned.description()


@record
class _Planned:
    path: Path
    rel: str
    text: str
    updated: str
    where: str
    count: int
    note: str

    def description(self) -> Description:
        diff = unified_diff(self.rel, self.text, self.updated)
        added, removed = diff_stats(diff)
        return Description(f"{self.rel} +{added} -{removed}", (self.rel,), diff, added, removed)


def _plan(params: EditParams, root: Path, files: Any = None) -> _Planned | ToolResult:
    """The edited text, computed in memory (nothing written); a ToolResult error when refused."""
    try:
        path = resolve_in_root(root, params.path)
    except PathError as e:
        return ToolResult(str(e), is_error=True)
    rel = display(root, path)
    if path.is_dir():
        return ToolResult(f"{rel} is a directory", is_error=True)
    if not path.exists():
        return ToolResult(f"{params.path}: no such file (use write_file to create one)",
                          is_error=True)
    if params.old_string == "":
        return ToolResult("old_string is empty; give the exact text to replace "
                          "(or use write_file for a new file)", is_error=True)
    if params.old_string == params.new_string:
        return ToolResult("old_string and new_string are identical; nothing to change",
                          is_error=True)
    try:
        editor = files.read(path) if files is not None else None  # the editor's unsaved text
        data = editor.encode("utf-8", "surrogateescape") if editor is not None else path.read_bytes()
    except OSError as e:
        return ToolResult(f"cannot read {rel}: {e.strerror}", is_error=True)
    if b"\0" in data[:BINARY_SNIFF_BYTES]:
        return ToolResult(f"{rel} is a binary file; edit only changes text", is_error=True)
    # surrogateescape: bytes that are not UTF-8 survive the round trip untouched.
    text = data.decode("utf-8", "surrogateescape")
    new = params.new_string.encode("utf-8", "replace").decode("utf-8")
    old, new, count = _find(text, params.old_string, new)
    if count and "\n" in new and _inside_indentation(text, old):
        # The file's indentation of old_string's first line is not in old_string ("x" or
        # "  x" inside "    x"): replacing the text would leave new_string's later lines
        # at the model's idea of the depth. Map them line by line, or refuse.
        drifted = _drift_edit(text, params.old_string, new, rel)
        if drifted is None:
            return ToolResult(
                f"old_string matches in {rel} only inside deeper indentation; copy the "
                f"exact text (indentation included) from the file.{_hint(text, old)}",
                is_error=True)
        if isinstance(drifted, str):
            return ToolResult(drifted, is_error=True)
        return _Planned(path, rel, text, *drifted)
    if count == 0:
        drifted = _drift_edit(text, params.old_string, new, rel)
        if isinstance(drifted, str):
            return ToolResult(drifted, is_error=True)
        if drifted is not None:
            return _Planned(path, rel, text, *drifted)
        return ToolResult(f"old_string not found in {rel}.{_hint(text, params.old_string)}",
                          is_error=True)
    if count > 1 and not params.replace_all:
        lines = _match_lines(text, old)
        shown = ", ".join(map(str, lines[:20])) + (", ..." if len(lines) > 20 else "")
        return ToolResult(
            f"old_string occurs {count} times in {rel} (lines {shown}); include more "
            "surrounding text to make it unique, or set replace_all=true", is_error=True)
    first_line = text.count("\n", 0, text.find(old)) + 1
    updated = text.replace(old, new) if params.replace_all else text.replace(old, new, 1)
    where = f"{count} places" if count > 1 else f"line {first_line}"
    return _Planned(path, rel, text, updated, where, count, "")


def _find(text: str, old: str, new: str) -> tuple[str, str, int]:
    """Try old_string as given, then adapted to the file's line endings: models almost always
    send LF, and a CRLF file must still match and stay CRLF."""
    variants = [(old, new)]
    if "\r\n" in text and "\n" in old and "\r\n" not in old:
        variants.append((old.replace("\n", "\r\n"),
                         new.replace("\r\n", "\n").replace("\n", "\r\n")))
    if "\r\n" in old and "\r\n" not in text:
        variants.append((old.replace("\r\n", "\n"), new.replace("\r\n", "\n")))
    for o, n in variants:
        count = text.count(o)
        if count:
            return o, n, count
    return old, new, 0


def _inside_indentation(text: str, old: str) -> bool:
    """True when an occurrence of old begins inside or right after a line's indentation, so
    the line's real indentation is not part of what the model wrote."""
    if old[:1] in ("\r", "\n"):
        return False
    pos = text.find(old)
    while pos != -1:
        start = text.rfind("\n", 0, pos) + 1
        if pos > start and not text[start:pos].strip(" \t"):
            return True
        pos = text.find(old, pos + 1)
    return False


def _drift_edit(text: str, old: str, new: str, rel: str) -> tuple[str, str, int, str] | str | None:
    """Apply old -> new by whole lines when old_string matches only with drift (indentation,
    trailing whitespace, typographic punctuation), with apply_patch's rule: unchanged lines keep
    the file's bytes, new lines take the file's indentation and line endings, and a new line
    whose indentation cannot be mapped without guessing is refused.

    Returns (updated, where, count, note), an error message, or None when nothing matches.
    """
    old_lines = old.replace("\r\n", "\n").split("\n")
    new_lines = new.replace("\r\n", "\n").split("\n")
    if (old_lines[-1] == "") != (new_lines[-1] == ""):
        return None  # one side ends a line and the other does not: not a whole-line edit
    if old_lines[-1] == "" and len(old_lines) > 1:
        old_lines.pop()
        new_lines.pop()
    if not any(ln.strip() for ln in old_lines):
        return None
    bodies = TextLines.from_text(text).bodies
    level, hits = Matcher(bodies).first_level(old_lines, 0, False)
    if not hits:
        return None
    if len(hits) > 1:
        shown = ", ".join(str(h + 1) for h in hits[:20])
        return (f"old_string is not in {rel} as written; ignoring indentation it matches "
                f"{len(hits)} places (lines {shown}). Copy the exact text, with more "
                "surrounding lines, from the file.")
    ops: list[tuple[str, str]] = []
    sm = difflib.SequenceMatcher(None, old_lines, new_lines, autojunk=False)
    for tag, i1, i2, j1, j2 in sm.get_opcodes():
        if tag == "equal":
            ops += [(" ", ln) for ln in old_lines[i1:i2]]
        else:
            ops += [("-", ln) for ln in old_lines[i1:i2]] + [("+", ln) for ln in new_lines[j1:j2]]
    try:
        updated, notes, _ = apply_chunks(text, [Chunk([], ops, False, 0)], rel, name_chunks=False)
    except ChunkError as e:
        return f"old_string is not in {rel} as written. {e}"
    note = f"; old_string matched {LEVEL_NOTE[level]}" if level != EXACT else ""
    return updated, f"line {hits[0] + 1}", 1, note.replace("added lines", "new lines")


def _match_lines(text: str, old: str) -> list[int]:
    lines, pos = [], text.find(old)
    while pos != -1:
        lines.append(text.count("\n", 0, pos) + 1)
        pos = text.find(old, pos + len(old))
    return lines


def _squash(s: str) -> str:
    return "".join(s.split())


def _hint(text: str, old: str) -> str:
    """Where the model probably meant: a whitespace-insensitive match, else the closest line."""
    lines = [ln.removesuffix("\r") for ln in text.split("\n")]
    want = [_squash(ln) for ln in old.replace("\r\n", "\n").strip("\n").split("\n")]
    if not any(want):
        return ""
    flat = [_squash(ln) for ln in lines]
    k = len(want)
    for i in range(len(lines) - k + 1):
        if k == 1:
            ok = want[0] in flat[i]
        else:
            ok = (flat[i].endswith(want[0]) and flat[i + 1:i + k - 1] == want[1:-1]
                  and flat[i + k - 1].startswith(want[-1]))
        if ok:
            block = lines[i:i + min(k, _HINT_MAX_LINES)]
            shown = "\n".join(f"{i + 1 + j}\t{ln}" for j, ln in enumerate(block))
            return (f" It matches ignoring whitespace at line {i + 1}; copy the exact text "
                    f"(indentation, spaces, line breaks) from the file:\n{shown}")
    if len(lines) > 50_000:
        return " Re-read the file and copy the text exactly."
    first = next(ln for ln in old.replace("\r\n", "\n").split("\n") if ln.strip())
    stripped = [ln.strip() for ln in lines]
    close = difflib.get_close_matches(first.strip(), stripped, n=1, cutoff=0.6)
    if close:
        n = stripped.index(close[0])
        return f" Closest line is {n + 1}: {lines[n].strip()[:200]}"
    return " Re-read the file and copy the text exactly."
