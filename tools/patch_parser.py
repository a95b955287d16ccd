"""Parse apply_patch text (the Codex CLI format OpenAI models are trained on) into a structure.

The parser only checks shape; whether the patch fits the files is patch_apply's job. Every error
names the patch line number (1-based, counted in the text the model sent) so the model can fix it.
"""
from __future__ import annotations

import os
import re
from dataclasses import field
from typing import Literal

from realcost_agent.records import record

BEGIN = "*** Begin Patch"
END = "*** End Patch"
EOF_MARKER = "*** End of File"

_HEADER = re.compile(r"^\*\*\* (Add|Update|Delete) File:\s*(.*?)\s*$")
_MOVE = re.compile(r"^\*\*\* Move to:\s*(.*?)\s*$")
# Models often emit unified-diff hunk headers ("@@ -12,5 +12,6 @@ def f():"); the numbers are
# unreliable, so only the trailing text is kept, as an anchor.
_UNIFIED_HUNK = re.compile(r"^@@ -\d+(?:,\d+)? \+\d+(?:,\d+)? @@ ?(.*)$")
_FENCE_OPEN = re.compile(r"^\s*(`{3,}|~{3,})[\w.+-]*\s*$")
_HEREDOC = re.compile(r"""^\s*(?:\S*apply_?patch\S*|cat)?\s*<<-?\s*(['"]?)(\w+)\1.*$""")


class PatchSyntaxError(ValueError):
    """The patch text is malformed; the message is for the model and names the patch line."""

    def __init__(self, message: str, line_no: int | None = None):
        self.line_no = line_no
        super().__init__(f"patch line {line_no}: {message}" if line_no else message)


@record
class Chunk:
    """One `@@` section: its anchors and its lines as (op, text), op in ' ', '-', '+'."""

    anchors: list[str]
    lines: list[tuple[str, str]]
    end_of_file: bool
    line_no: int

    @property
    def old(self) -> list[str]:
        return [t for op, t in self.lines if op != "+"]

    @property
    def new(self) -> list[str]:
        return [t for op, t in self.lines if op != "-"]


@record
class FileOp:
    kind: Literal["add", "update", "delete"]
    path: str
    line_no: int
    move_to: str | None = None
    chunks: list[Chunk] = field(default_factory=list)
    content: list[str] = field(default_factory=list)  # Add File lines, without the '+'


@record
class Patch:
    ops: list[FileOp]


def unwrap(text: str) -> tuple[list[str], int]:
    """Strip wrappers models put around patches (``` fences, shell heredocs, whitespace).

    Returns the remaining lines and the 1-based number of the first one in the original text.
    """
    lines = [ln[:-1] if ln.endswith("\r") else ln for ln in text.split("\n")]
    first = 0
    last = len(lines)
    for _ in range(4):  # fence around heredoc, heredoc around fence, ...
        while first < last and not lines[first].strip():
            first += 1
        while last > first and not lines[last - 1].strip():
            last -= 1
        if first >= last:
            break
        head = lines[first]
        if head.strip() == BEGIN:
            break
        fence = _FENCE_OPEN.match(head)
        heredoc = _HEREDOC.match(head) if "<<" in head else None
        if fence:
            first += 1
            # The closing fence may be missing when the answer was cut off; End-Patch checking
            # then reports the truncation.
            if lines[last - 1].strip() == fence.group(1):
                last -= 1
        elif heredoc:
            first += 1
            if lines[last - 1].strip() == heredoc.group(2):
                last -= 1
        else:
            break
    body = lines[first:last]
    # A patch indented as a whole (quoted inside prose) is dedented by the indentation every
    # non-blank line shares; unindented patches share none since headers sit at column 0.
    prefix = os.path.commonprefix([ln[: len(ln) - len(ln.lstrip())] for ln in body if ln.strip()])
    if prefix:
        body = [ln[len(prefix) :] if ln.startswith(prefix) else "" for ln in body]
    return body, first + 1


def patch_paths(text: object) -> list[str]:
    """Every path a patch's headers name (Add/Update/Delete File, Move to), in order, read
    with this parser's own header patterns. Lenient on purpose: a patch that will not parse
    still names what it could touch, and a header is found at any indentation (parse_patch
    dedents a patch indented as a whole), so a safety check never sees fewer paths than
    apply_patch would write. The one reader of patch headers besides the parser itself."""
    if not isinstance(text, str):
        return []
    out: list[str] = []
    for raw in text.split("\n"):
        line = raw.strip()
        m = _HEADER.match(line) or _MOVE.match(line)
        path = m.groups()[-1].strip() if m else ""
        if path:
            out.append(path)
    return out


def _is_marker(line: str) -> bool:
    return line.startswith("*** ")


def parse_patch(text: str) -> Patch:
    if not isinstance(text, str) or not text.strip():
        raise PatchSyntaxError("the patch is empty; it must start with *** Begin Patch")
    lines, base = unwrap(text)
    if not lines or lines[0].strip() != BEGIN:
        raise PatchSyntaxError(
            f"the patch must start with the line '{BEGIN}' "
            f"(got {_show(lines[0] if lines else '')})",
            base,
        )
    # Locate the End line first so a cut-off answer is reported as truncation rather than as
    # whatever half-line it stopped in.
    end_idx = next((i for i, ln in enumerate(lines) if ln.rstrip() == END), None)
    if end_idx is None:
        raise PatchSyntaxError(f"the patch is truncated: it must end with {END}")
    for j in range(end_idx + 1, len(lines)):
        if lines[j].strip():
            raise PatchSyntaxError(
                f"unexpected text after {END}: {_show(lines[j])}; send one patch per call",
                base + j,
            )
    return Patch(_Parser(lines[1:end_idx], base + 1).ops())


def _show(line: str) -> str:
    return repr(line if len(line) <= 60 else line[:57] + "...")


class _Parser:
    def __init__(self, lines: list[str], base: int):
        self.lines = lines
        self.base = base  # patch line number of self.lines[0]
        self.i = 0

    def no(self, i: int | None = None) -> int:
        return self.base + (self.i if i is None else i)

    def ops(self) -> list[FileOp]:
        ops: list[FileOp] = []
        while self.i < len(self.lines):
            line = self.lines[self.i]
            if not line.strip():
                self.i += 1
                continue
            m = _HEADER.match(line.rstrip())
            if not m:
                raise PatchSyntaxError(
                    f"expected '*** Add File: <path>', '*** Update File: <path>' or "
                    f"'*** Delete File: <path>', got {_show(line)}",
                    self.no(),
                )
            kind, path = m.group(1).lower(), m.group(2)
            line_no = self.no()
            if not path:
                raise PatchSyntaxError(f"'*** {m.group(1)} File:' needs a path", line_no)
            self.i += 1
            if kind == "add":
                ops.append(FileOp("add", path, line_no, content=self._add_body(path)))
            elif kind == "delete":
                ops.append(FileOp("delete", path, line_no))
            else:
                ops.append(self._update_body(path, line_no))
        if not ops:
            raise PatchSyntaxError("the patch contains no file operations")
        return ops

    def _add_body(self, path: str) -> list[str]:
        body: list[str] = []
        pending_blank = 0  # blank lines count only if more '+' lines follow (dropped '+')
        while self.i < len(self.lines):
            line = self.lines[self.i]
            if _is_marker(line):
                break
            if not line.strip():
                pending_blank += 1
            elif line.startswith("+"):
                body.extend([""] * pending_blank)
                pending_blank = 0
                body.append(line[1:])
            else:
                raise PatchSyntaxError(
                    f"in '*** Add File: {path}' every line must start with '+', got {_show(line)}",
                    self.no(),
                )
            self.i += 1
        return body

    def _update_body(self, path: str, line_no: int) -> FileOp:
        op = FileOp("update", path, line_no)
        if self.i < len(self.lines):
            m = _MOVE.match(self.lines[self.i].rstrip())
            if m:
                if not m.group(1):
                    raise PatchSyntaxError("'*** Move to:' needs a path", self.no())
                op.move_to = m.group(1)
                self.i += 1
        while self.i < len(self.lines):
            line = self.lines[self.i]
            if _HEADER.match(line.rstrip()):
                break
            if not line.strip() and not op.chunks:
                self.i += 1  # blank separator before the first chunk
                continue
            op.chunks.append(self._chunk(path, first=not op.chunks))
        if not op.chunks and op.move_to is None:
            raise PatchSyntaxError(
                f"'*** Update File: {path}' has no changes; add '@@' chunks with "
                f"' ', '-' and '+' lines",
                line_no,
            )
        return op

    def _chunk(self, path: str, first: bool) -> Chunk:
        start = self.no()
        anchors: list[str] = []
        while self.i < len(self.lines) and self.lines[self.i].startswith("@@"):
            raw = self.lines[self.i].rstrip()
            m = _UNIFIED_HUNK.match(raw)
            text = (m.group(1) if m else raw[2:]).strip()
            if text:
                anchors.append(text)
            self.i += 1
        if start == self.no() and not first:
            # Only the first chunk of a file may omit its '@@' line; elsewhere a stray line here
            # means the model mixed formats.
            raise PatchSyntaxError(
                f"in '*** Update File: {path}' expected an '@@' line to start the next chunk, "
                f"got {_show(self.lines[self.i])}",
                self.no(),
            )
        body: list[tuple[str, str]] = []
        eof = False
        trailing_blank = 0
        while self.i < len(self.lines):
            line = self.lines[self.i]
            if line.rstrip() == EOF_MARKER:
                eof = True
                self.i += 1
                break
            if line.startswith("@@") or _HEADER.match(line.rstrip()):
                break
            if _is_marker(line):
                raise PatchSyntaxError(
                    f"unknown marker {_show(line)} in '*** Update File: {path}'", self.no()
                )
            if line == "":
                # A model that drops the leading space of an empty context line; a run of them
                # at the very end of a chunk is just spacing and is dropped below.
                body.append((" ", ""))
                trailing_blank += 1
            elif line[0] in " +-":
                body.append((line[0], line[1:]))
                trailing_blank = 0
            else:
                raise PatchSyntaxError(
                    f"in '*** Update File: {path}' each chunk line must start with ' ' (context), "
                    f"'-' (remove) or '+' (add); got {_show(line)}",
                    self.no(),
                )
            self.i += 1
        if not eof and trailing_blank:
            del body[len(body) - trailing_blank:]
        if not body:
            raise PatchSyntaxError(f"empty chunk in '*** Update File: {path}'", start)
        return Chunk(anchors, body, eof, start)
