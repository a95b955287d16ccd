"""Rendering the ranked entries as a compact outline that fits a token budget.

    django/db/models/query.py
      303: class QuerySet(AltersData)
        1495: def filter(self, *args, **kwargs)

Files appear in the order of their best entry; inside a file, definitions in line order, each
under its enclosing definitions (a method under its class) so it reads in context. Line numbers
let the model read_file straight at a definition.

Tokens are ESTIMATED, not counted: a fixed per-line formula over words, numbers and punctuation
(no tokenizer to load, identical on every machine), calibrated to land a little above
o200k_base on code outlines (6-13% above on the fixture, this repository and django; bench/
reports the exact count). Because the estimate is a sum over lines, adding entries one at a time
gives the exact estimate of the text so far; the map is the longest prefix of the ranking that
fits.
"""
from __future__ import annotations

import re
from typing import Mapping, Sequence

from realcost_agent.tools.repomap.rank import Entry

_PIECE = re.compile(r"[A-Za-z]+|\d+|[^\sA-Za-z\d]+|\s+")
# Calibrated on outlines of Python, TS/JS, Go, Rust, Java and C/C++ (bench/repomap_bench.py
# reports the exact o200k_base count beside it): o200k merges common words whole, splits long
# identifiers every ~8 letters, numbers every 3 digits, and punctuation runs in pairs.
WORD_CHARS = 8
PUNCT_CHARS = 2


def estimate_line(line: str) -> int:
    """Estimated tokens of one line plus its newline (ESTIMATE: no tokenizer involved)."""
    n = 1
    for m in _PIECE.finditer(line):
        piece = m.group()
        c = piece[0]
        if c.isalpha():
            n += -(-len(piece) // WORD_CHARS)
        elif c.isdigit():
            n += -(-len(piece) // 3)
        elif c.isspace():
            n += m.start() == 0  # indentation; inner spaces ride on the next word
        else:
            n += -(-len(piece) // PUNCT_CHARS)
    return n


def estimate_tokens(text: str) -> int:
    """Estimated tokens of `text` (the sum over its lines); an estimate, not a tokenizer."""
    return sum(estimate_line(line) for line in text.splitlines())


class _FileOutline:
    """One file's definitions with their enclosing definitions, computed once per render."""

    __slots__ = ("defs", "parents", "index", "shown")

    def __init__(self, defs: Sequence[tuple]):
        # Outer before inner on the same line; depth (from extraction) says who encloses whom.
        order = sorted(range(len(defs)), key=lambda i: (defs[i][2], defs[i][5], i))
        self.defs = [defs[i] for i in order]
        self.parents: list[int] = []
        stack: list[int] = []
        for i, d in enumerate(self.defs):
            while stack and self.defs[stack[-1]][5] >= d[5]:
                stack.pop()
            self.parents.append(stack[-1] if stack else -1)
            stack.append(i)
        self.index = {(d[2], d[0]): i for i, d in reversed(list(enumerate(self.defs)))}
        self.shown: set[int] = set()

    def line(self, i: int) -> str:
        d = self.defs[i]
        return "  " * (d[5] + 1) + f"{d[2]}: {d[4]}"


def fit(entries: Sequence[Entry], tags: Mapping[str, tuple[tuple, tuple]],
        budget_tokens: int) -> tuple[str, int, int]:
    """The outline of the longest prefix of `entries` whose estimate fits the budget.
    Returns (text, estimated tokens, entries used)."""
    outlines: dict[str, _FileOutline] = {}
    order: list[str] = []
    used_tokens = 0
    used = 0
    for _, path, line, name in entries:
        outline = outlines.get(path)
        cost = 0
        new_file = outline is None
        if new_file:
            outline = _FileOutline(tags[path][0])
            cost += estimate_line(path)
        add: list[int] = []
        if line:
            i = outline.index.get((line, name))
            while i is not None and i >= 0 and i not in outline.shown:
                add.append(i)
                cost += estimate_line(outline.line(i))
                i = outline.parents[i]
        if used_tokens + cost > budget_tokens:
            break
        if new_file:
            outlines[path] = outline
            order.append(path)
        outline.shown.update(add)
        used_tokens += cost
        used += 1
    lines: list[str] = []
    for path in order:
        outline = outlines[path]
        lines.append(path)
        lines.extend(outline.line(i) for i in sorted(outline.shown))
    text = "\n".join(lines) + "\n" if lines else ""
    return text, used_tokens, used
