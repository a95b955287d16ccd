"""Streaming markdown that stays fast on long answers.

Measured with Textual 8.2.8: a `Markdown` widget turns every block (each list item, each fence)
into several widgets; every layout pass and every restyle walks all of them, so the cost per
frame grows with the answer (an 80 KB answer is ~1,500 widgets, and one focus change restyles
them all for over a second). And a `Static` holding the whole answer renders it twice per update
(once to measure its height, once to draw).

So an answer is ONE widget drawing pre-rendered lines (Textual's line API). The text is split at
top-level block boundaries, found with the markdown-it parser Textual itself uses: every block
before the last is finished, is rendered once (Rich markdown) and its lines are *settled*; only
the last, still-growing block, the live tail, is re-rendered on each batched write. The settled
lines are rendered again only when the width changes.
"""
from __future__ import annotations

import time

from markdown_it import MarkdownIt
from rich.markdown import Heading
from rich.markdown import Markdown as RichMarkdown
from rich.segment import Segment
from textual.geometry import Size
from textual.strip import Strip
from textual.widget import Widget
from textual.widgets import Collapsible

clock = time.monotonic  # tests pin it for deterministic snapshots


def split_settled(text: str, parser: MarkdownIt) -> tuple[str, str]:
    """(finished blocks, live tail): the tail starts at the last top-level block."""
    tokens = parser.parse(text)
    starts = [t.map[0] for t in tokens if t.level == 0 and t.map is not None and t.nesting >= 0]
    if len(starts) < 2:
        return "", text
    lines = text.splitlines(keepends=True)
    cut = starts[-1]
    return "".join(lines[:cut]), "".join(lines[cut:])


class _LeftHeading(Heading):
    LEVEL_ALIGN = {**Heading.LEVEL_ALIGN, "h1": "left"}  # a centred title looks lost in a chat


class AnswerMarkdown(RichMarkdown):
    elements = {**RichMarkdown.elements, "heading_open": _LeftHeading}


def _blank(line: list[Segment]) -> bool:
    return all(not seg.text.strip() and not (seg.style and seg.style.bgcolor) for seg in line)


class StreamingMarkdown(Widget):
    """An assistant answer (or reasoning): settled lines, then the live tail's lines."""

    DEFAULT_CSS = """
    StreamingMarkdown { width: 1fr; height: auto; }
    """

    def __init__(self, text: str = "", *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._parser = MarkdownIt("gfm-like")
        self._pending: list[str] = []
        self._chunks: list[str] = []  # settled markdown, in the pieces it settled in
        self._tail_text = ""
        self._width = 0
        self._settled: list[Strip] = []
        self._tail: list[Strip] | None = []  # None: re-render at the next draw
        self.source = ""
        self.settled_chars_rendered = 0  # stays len(settled text) until a resize: no re-renders
        if text:
            self._pending.append(text)

    def write(self, text: str) -> None:
        """Queue text; it shows at the next `flush`."""
        if text:
            self._pending.append(text)

    @property
    def has_pending(self) -> bool:
        return bool(self._pending)

    def on_mount(self) -> None:
        self.flush()

    def flush(self) -> bool:
        """Move queued text into the lines; True if anything changed."""
        if not self._pending:
            return False
        new = "".join(self._pending)
        self._pending.clear()
        self.source += new
        settled, tail = split_settled(self._tail_text + new, self._parser)
        if settled:
            self._chunks.append(settled)
            if self._width:
                self._settled.extend(self._render(settled, self._width, gap=bool(self._settled)))
                self.settled_chars_rendered += len(settled)
        self._tail_text = tail
        self._tail = None
        self.refresh(layout=True)
        return True

    # -- rendering ------------------------------------------------------------------------------
    def _render(self, markdown: str, width: int, *, gap: bool) -> list[Strip]:
        """Rich markdown to strips, without Rich's leading/trailing blank lines (pieces rendered
        apart would be spaced unevenly); `gap` puts one blank line before the piece."""
        if not markdown.strip():
            return []
        console = self.app.console
        options = self.app.console_options.update(width=width, height=None, highlight=False)
        lines = console.render_lines(AnswerMarkdown(markdown, code_theme="monokai"), options, pad=True)
        start, end = 0, len(lines)
        while start < end and _blank(lines[start]):
            start += 1
        while end > start and _blank(lines[end - 1]):
            end -= 1
        strips = [Strip(line, width) for line in lines[start:end]]
        return ([Strip.blank(width)] if gap and strips else []) + strips

    def _lines(self, width: int) -> tuple[list[Strip], list[Strip]]:
        if width != self._width:  # resized: everything is laid out again, once
            self._width = width
            self._settled = []
            for chunk in self._chunks:
                self._settled.extend(self._render(chunk, width, gap=bool(self._settled)))
                self.settled_chars_rendered += len(chunk)
            self._tail = None
        if self._tail is None:
            self._tail = self._render(self._tail_text, width, gap=bool(self._settled))
        return self._settled, self._tail

    def get_content_width(self, container: Size, viewport: Size) -> int:
        return container.width

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        settled, tail = self._lines(width)
        return len(settled) + len(tail)

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        settled, tail = self._lines(width)
        if y < len(settled):
            strip = settled[y]
        elif y - len(settled) < len(tail):
            strip = tail[y - len(settled)]
        else:
            strip = Strip.blank(width)
        return strip.apply_style(self.rich_style)


class Reasoning(Collapsible):
    """The model's reasoning for one step: open while it streams, folded once the step moves on."""

    def __init__(self) -> None:
        self.stream = StreamingMarkdown(classes="reasoning-text")
        super().__init__(self.stream, title="Thinking…", collapsed=False, classes="reasoning")
        self._started = clock()
        self.done = False

    def finish(self) -> None:
        if self.done:
            return
        self.done = True
        self.stream.flush()
        self.title = f"Thought for {clock() - self._started:.1f}s"
        self.collapsed = True
