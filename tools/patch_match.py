"""Locate patch chunks in a file's text and compute the new text (pure: no I/O).

Matching forgives drift in a fixed order (exact, trailing whitespace, indentation, Unicode
punctuation) and the first level with any hit decides: one hit is used, several are refused.
Whatever level matched, the file's own bytes win: context lines are copied from the file, removed
lines are removed by position, added lines take the file's line ending and indentation.
"""
from __future__ import annotations

import difflib
from functools import cached_property
from typing import NamedTuple

from realcost_agent.records import record
from realcost_agent.tools.patch_indent import (
    IndentError,
    Seq,
    Style,
    file_style,
    leading_ws,
    map_indentation,
    show_ws,
)
from realcost_agent.tools.patch_parser import Chunk

EXACT, TRAILING_WS, INDENT, PUNCT = 0, 1, 2, 3
LEVEL_NOTE = {
    TRAILING_WS: "ignoring trailing whitespace",
    INDENT: "ignoring indentation; added lines were re-indented to match the file",
    PUNCT: "after normalizing Unicode punctuation and whitespace",
}

# Typographic characters models substitute for ASCII (smart quotes, dashes, odd spaces).
_PUNCT_MAP = {
    **dict.fromkeys("\u2018\u2019\u201a\u201b\u2032", "'"),
    **dict.fromkeys("\u201c\u201d\u201e\u201f\u2033", '"'),
    **dict.fromkeys("\u2010\u2011\u2012\u2013\u2014\u2015\u2212", "-"),
    **dict.fromkeys("\u00a0\u202f\u205f\u3000", " "),
    **dict.fromkeys("".join(chr(c) for c in range(0x2002, 0x200B)), " "),
    "\u2026": "...",
    "\u200b": "",
    "\ufeff": "",
}
_PUNCT_TABLE = str.maketrans(_PUNCT_MAP)


class ChunkError(ValueError):
    """A chunk cannot be placed; the message is for the model."""


def _key(level: int, s: str) -> str:
    if level == EXACT:
        return s
    if level == TRAILING_WS:
        return s.rstrip()
    if level == INDENT:
        return s.strip()
    return " ".join(s.translate(_PUNCT_TABLE).split())


@record
class TextLines:
    """A file as lines without terminators; `eols` keeps each line's own ending ('' = none)."""

    bodies: list[str]
    eols: list[str]
    trailing_newline: bool
    eol: str  # the file's dominant ending, given to added lines

    @classmethod
    def from_text(cls, text: str) -> TextLines:
        parts = text.split("\n")
        trailing = parts[-1] == ""
        if trailing:
            parts.pop()
        bodies, eols = [], []
        for i, part in enumerate(parts):
            last_unterminated = i == len(parts) - 1 and not trailing
            if part.endswith("\r") and not last_unterminated:
                bodies.append(part[:-1])
                eols.append("\r\n")
            else:
                bodies.append(part)
                eols.append("" if last_unterminated else "\n")
        crlf = eols.count("\r\n")
        return cls(bodies, eols, trailing, "\r\n" if crlf > eols.count("\n") else "\n")

    @cached_property
    def style(self) -> Style:
        return file_style(self.bodies)


class Matcher:
    def __init__(self, bodies: list[str]):
        self.bodies = bodies
        self._keys: dict[int, list[str]] = {}

    def keys(self, level: int) -> list[str]:
        if level not in self._keys:
            self._keys[level] = [_key(level, b) for b in self.bodies]
        return self._keys[level]

    def hits(self, pattern: list[str], start: int, level: int, eof: bool, first: bool) -> list[int]:
        keys, n = self.keys(level), len(pattern)
        if not n:
            return []
        pk = [_key(level, p) for p in pattern]
        last = len(keys) - n
        found = []
        for i in [last] if eof else range(start, last + 1):
            if i >= start and keys[i] == pk[0] and keys[i : i + n] == pk:
                found.append(i)
                if first:
                    break
        return found

    def first_level(
        self, pattern: list[str], start: int, eof: bool, first: bool = False
    ) -> tuple[int, list[int]]:
        """The first forgiveness level with any hit, and its hits (or only the first hit)."""
        for level in (EXACT, TRAILING_WS, INDENT, PUNCT):
            found = self.hits(pattern, start, level, eof, first)
            if found:
                return level, found
        return EXACT, []


class Applied(NamedTuple):
    text: str
    notes: list[str]  # which chunks needed forgiveness, for the model
    # (old_start, old_end, new_start, new_end) line ranges of each chunk's region, so the diff
    # can be built from what was actually edited instead of re-derived from whole files.
    regions: list[tuple[int, int, int, int]]


def apply_chunks(text: str, chunks: list[Chunk], label: str, name_chunks: bool = True) -> Applied:
    """Return the new text for `text` with `chunks` applied in order, plus notes on forgiveness.

    Raises ChunkError (naming `label`, the chunk and its patch line unless `name_chunks` is
    False) when a chunk cannot be placed exactly once or its indentation cannot be mapped.
    """
    lines = TextLines.from_text(text)
    matcher = Matcher(lines.bodies)
    cursor = 0
    edits: list[tuple[int, int, list[tuple[str, str]]]] = []
    notes: list[str] = []
    for n, chunk in enumerate(chunks, 1):
        where = f"{label}: chunk {n} (patch line {chunk.line_no})" if name_chunks else label
        pos, level = _locate(matcher, chunk, cursor, where)
        edits.append((pos, len(chunk.old), _replacement(lines, chunk, pos, level, where)))
        if level != EXACT:
            notes.append(f"chunk {n} matched {LEVEL_NOTE[level]}")
        cursor = pos + len(chunk.old)

    out = list(zip(lines.bodies, lines.eols))
    for pos, length, repl in reversed(edits):
        out[pos : pos + length] = repl
    regions, shift = [], 0
    for pos, length, repl in edits:
        regions.append((pos, pos + length, pos + shift, pos + shift + len(repl)))
        shift += len(repl) - length
    # Every line but the last needs a terminator; the last keeps the file's EOF convention.
    fixed = [(b, e or lines.eol) for b, e in out]
    if fixed:
        b, e = fixed[-1]
        fixed[-1] = (b, e if lines.trailing_newline else "")
    return Applied("".join(b + e for b, e in fixed), notes, regions)


def _locate(m: Matcher, chunk: Chunk, cursor: int, where: str) -> tuple[int, int]:
    old = chunk.old
    if not chunk.anchors:
        if not old:  # pure addition without an anchor: append at the end of the file
            return len(m.bodies), EXACT
        level, hits = m.first_level(old, cursor, chunk.end_of_file)
        if len(hits) == 1:
            return hits[0], level
        if hits:
            raise ChunkError(_ambiguous(where, hits, "the chunk's context"))
        raise ChunkError(_not_found(m, chunk, old, cursor, where))

    # Anchors narrow in sequence: every place the first one occurs, then for each of those the
    # next occurrence of each following anchor inside its block. The chunk then takes its first
    # hit at or after the last anchor (models often repeat the anchor as context, hence "at").
    places = m.first_level([chunk.anchors[0]], cursor, False)[1]
    if not places:
        raise ChunkError(_not_found(m, chunk, chunk.anchors[:1], cursor, where, True))
    for anchor in chunk.anchors[1:]:
        narrowed = {h[0] for p in places if (h := _in_block(m, [anchor], p + 1, p, cursor, False))}
        if not narrowed:
            raise ChunkError(_not_found(m, chunk, [anchor], cursor, where, True, places[0]))
        places = sorted(narrowed)
    results: dict[int, int] = {}
    for p in places:
        if not old:
            results.setdefault(p + 1, EXACT)
        elif h := _in_block(m, old, p, p, cursor, chunk.end_of_file):
            results.setdefault(*h)
    if len(results) == 1:
        return next(iter(results.items()))
    if results:
        named = " then ".join(repr(a) for a in chunk.anchors)
        raise ChunkError(_ambiguous(where, places, f"the @@ anchor {named}"))
    raise ChunkError(_not_found(m, chunk, old, cursor, where, after_anchor=places[0]))


def _in_block(
    m: Matcher, pattern: list[str], start: int, anchor: int, cursor: int, eof: bool
) -> tuple[int, int] | None:
    """The first hit at/after `start` if it begins inside the anchor's block; otherwise the hit
    only if it is the sole one after `cursor` (then the anchor is not needed to place it).

    Without the block bound, "@@ def f3():" with lines that f3 lacks would silently edit the
    next function that has them.
    """
    level, hits = m.first_level(pattern, start, eof, True)
    if not hits:
        return None
    if eof or hits[0] < _block_end(m.bodies, anchor):
        return hits[0], level
    if m.hits(pattern, cursor, level, eof, False) == hits:
        return hits[0], level
    return None


def _indent(s: str) -> int:
    return len(s.expandtabs(4)) - len(s.expandtabs(4).lstrip())


def _block_end(bodies: list[str], p: int, follow: bool = True) -> int:
    """Exclusive end of the block opened by line p: the lines after it indented deeper, plus a
    closing bracket/`end` line at its own depth. A line that opens no block (a decorator, a
    comment) lends its scope from the next line, once."""
    n, depth = len(bodies), _indent(bodies[p])
    q = p + 1
    while q < n and not bodies[q].strip():
        q += 1
    if q >= n:
        return n
    if _indent(bodies[q]) <= depth:
        return _block_end(bodies, q, False) if follow else p + 1
    while q < n and (not bodies[q].strip() or _indent(bodies[q]) > depth):
        q += 1
    if q < n and (bodies[q].lstrip()[:1] in (")", "]", "}") or bodies[q].strip() == "end"):
        q += 1
    return q


def _ambiguous(where: str, hits: list[int], what: str) -> str:
    shown = ", ".join(str(h + 1) for h in hits[:10]) + (", ..." if len(hits) > 10 else "")
    return (
        f"{where}: {what} matches {len(hits)} places (lines {shown}), so the change is "
        f"ambiguous. Add more unchanged context lines, or an '@@ <line>' anchor naming the "
        f"enclosing class/function, so it matches exactly one place."
    )


def _not_found(
    m: Matcher,
    chunk: Chunk,
    pattern: list[str],
    cursor: int,
    where: str,
    anchor: bool = False,
    after_anchor: int | None = None,
) -> str:
    """Explain a miss. `cursor` is where the previous chunk ended; `after_anchor` the 0-based
    line of the @@ anchor the search started from, if any."""
    what = f"the @@ anchor line {pattern[0]!r}" if anchor else "these lines"
    if after_anchor is not None:
        after = f" under the @@ anchor at line {after_anchor + 1}"
    else:
        after = f" after line {cursor}" if cursor else ""
    msg = [f"{where}: could not find {what}{after}."]
    if not anchor:
        shown = pattern[:6]
        msg += ["Expected (from the chunk's ' ' and '-' lines):"]
        msg += [f"  {_clip(s)}" for s in shown] + (["  ..."] if len(pattern) > 6 else [])
    # Explain the near-misses a model can act on directly.
    if after_anchor is not None:
        _, later = m.first_level(pattern, after_anchor, False)
        if later:
            end = _block_end(m.bodies, after_anchor)
            msg.append(
                f"They occur at line {later[0] + 1}, outside the block under that anchor (lines "
                f"{after_anchor + 1}-{end}) and at more than one place; fix the anchor or add "
                f"context."
            )
            return "\n".join(msg)
        _, between = m.first_level(pattern, cursor, False)
        if between:
            msg.append(
                f"They occur at line {between[0] + 1}, above that anchor; an @@ line must name a "
                f"line before the change (fix or drop it)."
            )
            return "\n".join(msg)
    _, anywhere = m.first_level(pattern, 0, False, True)
    if anywhere and anywhere[0] < cursor:
        msg.append(
            f"They occur at line {anywhere[0] + 1}, before the previous chunk's match; chunks "
            f"must appear in file order."
        )
        return "\n".join(msg)
    if chunk.end_of_file and not anchor:
        _, elsewhere = m.first_level(pattern, cursor, False)
        if elsewhere:
            msg.append(
                f"They occur at line {elsewhere[0] + 1}, but the chunk is marked "
                f"'*** End of File' and they are not the file's last lines."
            )
            return "\n".join(msg)
    if not m.bodies:
        msg.append("The file is empty.")
    else:
        start = _closest(m.bodies, pattern)
        end = min(start + max(len(pattern), 1), len(m.bodies), start + 8)
        span = f"line {end}" if end == start + 1 else f"lines {start + 1}-{end}"
        msg.append(f"Closest lines in the file ({span}):")
        msg += [f"{i + 1:>5}| {_clip(m.bodies[i])}" for i in range(start, end)]
    msg.append("Copy ' ' and '-' lines exactly from the current file (read it again if unsure).")
    return "\n".join(msg)


def _clip(s: str, width: int = 160) -> str:
    return s if len(s) <= width else s[: width - 3] + "..."


def _closest(bodies: list[str], pattern: list[str]) -> int:
    """Start of the window of len(pattern) lines most similar to the pattern (difflib)."""
    n = max(len(pattern), 1)
    sm = difflib.SequenceMatcher(autojunk=False)
    sm.set_seq2("\n".join(p.strip() for p in pattern))
    stripped = [b.strip() for b in bodies[:20_000]]
    scored = []
    for i in range(max(len(stripped) - n + 1, 1)):
        sm.set_seq1("\n".join(stripped[i : i + n]))
        scored.append((sm.quick_ratio(), i))
    # quick_ratio is an upper bound; refine only the most promising windows.
    best, best_i = -1.0, 0
    for _, i in sorted(scored, key=lambda t: (-t[0], t[1]))[:25]:
        sm.set_seq1("\n".join(stripped[i : i + n]))
        r = sm.ratio()
        if r > best or (r == best and i < best_i):
            best, best_i = r, i
    return best_i


def _replacement(
    lines: TextLines, chunk: Chunk, pos: int, level: int, where: str
) -> list[tuple[str, str]]:
    """The (body, eol) lines that replace file lines pos..pos+len(old)."""
    # Pair each matched patch line with the file line it matched, for re-indentation and for
    # spotting which typographic characters the model substituted.
    pairs: list[tuple[str, str]] = []  # (patch line, file line), both non-blank
    items: list[tuple[str, str | int]] = []  # the region in order, for judging indentation
    added: list[str] = []
    patch_ws = [leading_ws(text) for _, text in chunk.lines]
    drifted: set[str] = set()
    j = pos
    for op, text in chunk.lines:
        if op == "+":
            items.append(("+", len(added)))
            added.append(text)
            continue
        body = lines.bodies[j]
        if text.strip() and body.strip():
            pairs.append((text, body))
        items.append((op, body))
        if level == PUNCT:
            drifted |= {c for c in text if c in _PUNCT_MAP and c not in body}
        j += 1
    table = str.maketrans({c: _PUNCT_MAP[c] for c in drifted})
    if drifted:
        added = [a.translate(table) for a in added]
    if level >= INDENT:
        end = pos + len(chunk.old)
        seq = Seq(lines.bodies[max(pos - 40, 0) : pos], items, _after(lines.bodies, end), patch_ws)
        try:
            indents = map_indentation(pairs, added, seq, lines.style)
        except IndentError as e:
            raise ChunkError(_indent_refusal(where, str(e), lines.bodies, pos, end)) from None
        added = [ws + a.lstrip() if a.strip() else "" for ws, a in zip(indents, added)]

    out: list[tuple[str, str]] = []
    j = pos
    k = 0
    for op, _ in chunk.lines:
        if op == " ":
            out.append((lines.bodies[j], lines.eols[j]))
            j += 1
        elif op == "-":
            j += 1
        else:
            out.append((added[k], lines.eol))
            k += 1
    return out


def _after(bodies: list[str], end: int) -> list[str]:
    """The file's lines after an edited region, up to its third non-blank one."""
    out: list[str] = []
    for b in bodies[end : end + 30]:
        out.append(b)
        if sum(1 for o in out if o.strip()) >= 3:
            break
    return out


def _indent_refusal(where: str, why: str, bodies: list[str], start: int, end: int) -> str:
    shown = range(start, min(end, start + 12))
    return "\n".join(
        [
            f"{where}: the context matched lines {start + 1}-{end} only by ignoring indentation, "
            f"and {why}, so the chunk was not applied.",
            "The file's lines there, indentation shown (\u00b7 = space, \u2192 = tab):",
            *(f"{i + 1:>5}| {_clip(show_ws(bodies[i]))}" for i in shown),
            *(["  ..."] if end - start > 12 else []),
            "Copy the unchanged and removed lines exactly from the file, and indent the new lines "
            "the way the file indents them.",
        ]
    )
