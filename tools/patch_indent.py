"""Map a drifted edit's indentation onto the file's, or say that it cannot be done safely.

When a patch (or an edit's old_string) matched the file only by ignoring indentation, its added
lines are written in the patch's indentation, not the file's. Each unchanged or removed line pairs
a patch indentation with the file's real one; from those pairs this module derives the mapping
(per level, or a consistent scale + offset such as 2 -> 4 spaces, tabs <-> spaces, a dedented
patch) and applies it to the added lines.

Several readings can fit the same pairs: a level the context never shows can follow from
different scale/offset pairs, and the model may have drifted only its context while writing the
added lines in the file's own indentation. Every reading is computed; when they disagree, the
ones whose result breaks the file's indentation structure least win, and a tie is refused
(IndentError), because writing a guess would be silently wrong code.
"""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import field
from fractions import Fraction

from realcost_agent.records import record

TAB_WIDTH = 8
# A line ending in one of these may be followed by a deeper one (block, bracket, continuation).
_OPENERS = (":", "{", "(", "[", ",", "\\", "=", "=>", "->", "+", "-", "*", "|", "&", "and", "or")


class IndentError(ValueError):
    """The added lines' indentation cannot be mapped onto the file without guessing."""


def leading_ws(s: str) -> str:
    return s[: len(s) - len(s.lstrip())]


def width(ws: str) -> int:
    return len(ws.replace("\t", " " * TAB_WIDTH))


@record(frozen=True)
class Style:
    """How the file indents: its character ('' when unknown) and its unit in that character."""

    char: str
    unit: int | None

    @property
    def unit_width(self) -> int | None:
        return None if self.unit is None else self.unit * (TAB_WIDTH if self.char == "\t" else 1)


def file_style(bodies: list[str]) -> Style:
    tabs = spaces = 0
    steps: Counter[int] = Counter()
    prev = 0
    for b in bodies:
        if not b.strip():
            continue
        ws = leading_ws(b)
        if ws.startswith("\t"):
            tabs += 1
        elif ws:
            spaces += 1
        if ws and set(ws) == {" "}:
            if len(ws) > prev:
                steps[len(ws) - prev] += 1
            prev = len(ws)
        elif not ws:
            prev = 0
    if tabs > spaces:
        return Style("\t", 1)
    if not spaces:
        return Style("", None)
    common = [s for s, _ in steps.most_common(3) if s in (1, 2, 3, 4, 8)]
    return Style(" ", common[0] if common else None)


def _count(ws: str, char: str) -> int | None:
    """Indentation as a count of `char`, or None when it uses another character."""
    if not ws:
        return 0
    return len(ws) if char and set(ws) == {char} else None


@record
class Seq:
    """The edited region in file order, for judging candidate indentations.

    `items` holds (' ', file line) for unchanged lines, ('-', file line) for removed ones and
    ('+', k) for the k-th added line; `before`/`after` are the file's own lines around it.
    """

    before: list[str]
    items: list[tuple[str, str | int]]
    after: list[str]
    patch_ws: list[str] = field(default_factory=list)  # each item's indentation in the patch


def map_indentation(
    pairs: list[tuple[str, str]], added: list[str], seq: Seq, style: Style
) -> list[str]:
    """The file indentation for each added line (`added` holds their full patch text).

    `pairs` are (patch line, file line) for the matched non-blank lines. Raises IndentError.
    """
    texts = list(added)
    ws_added = [leading_ws(a) for a in texts]
    pairs = [(leading_ws(p), leading_ws(f)) for p, f in pairs]
    if all(p == f for p, f in pairs):
        return ws_added  # the context did not drift; added lines stay as written
    needed = [i for i, t in enumerate(texts) if t.strip()]
    seen = {p for p, _ in pairs}
    cands = _candidates(pairs, [ws_added[i] for i in needed], style)
    results: dict[tuple[str, ...], list[str]] = {}
    for name, mapped in cands:
        if mapped is not None:
            results.setdefault(tuple(mapped), []).append(name)
    if len(results) > 1 or results.get(tuple(ws_added[i] for i in needed)) == ["as written"]:
        # Readings disagree, or the only one left is "as written" (context drifted, added lines
        # not): judge them by the file's structure, and never take "as written" unchecked.
        scored = {r: _violations(seq, dict(zip(needed, r)), texts, style) for r in results}
        best = min(scored.values(), default=0)
        results = {r: n for r, n in results.items() if scored[r] == best}
        if list(results.values()) == [["as written"]] and len(scored) == 1:
            # Nothing else could map the added lines. Taking them as written is only safe when
            # they are plainly not in the patch's drifted style (its context uses tabs and they
            # use spaces, or the reverse) and they fit the file's structure.
            context_chars = {c for p, _ in pairs for c in p}
            added_chars = {c for i in needed for c in ws_added[i]}
            if best or context_chars & added_chars:
                results = {}
        elif best and (
            list(results.values()) == [["as written"]]
            or any(ws_added[i] not in seen for i in needed)
        ):
            # The best reading still breaks the file's structure, and it either ignores the
            # drift or extends the mapping to a depth the context never showed: a guess.
            results = {}
    if not results:
        raise IndentError(_unmappable(pairs))
    if len(results) > 1:
        raise IndentError(_ambiguous(pairs, needed, texts, results))
    chosen = next(iter(results))
    known = {leading_ws(b) for b in [*seq.before, *seq.after] if b.strip()}
    known |= {leading_ws(x) for op, x in seq.items if op != "+" and isinstance(x, str)}
    for i, ws in zip(needed, chosen):
        if not _on_grid(ws, known, style):
            # The best reading still leaves a line where the file never indents: the patch is
            # inconsistent in itself, so any placement would be a guess.
            line = texts[i].strip()
            raise IndentError(
                f"the added line {_short(line)!r} would land at {_fmt(ws)}, which is not how the "
                f"file indents"
            )
    out = ["" for _ in texts]
    for i, ws in zip(needed, chosen):
        out[i] = ws
    return out


def _on_grid(ws: str, known: set[str], style: Style) -> bool:
    if ws in known or not ws:
        return True
    if style.char and set(ws) != {style.char}:
        return False
    unit = style.unit_width
    return not unit or width(ws) % unit == 0


def _short(line: str) -> str:
    return line if len(line) <= 60 else line[:57] + "..."


def _candidates(
    pairs: list[tuple[str, str]], ws_added: list[str], style: Style
) -> list[tuple[str, list[str] | None]]:
    """(name, mapped indentation) for each reading of the pairs; None where it cannot map."""
    seen: dict[str, set[str]] = {}
    for p, f in pairs:
        seen.setdefault(p, set()).add(f)
    # A patch level that stands for two file levels (an aligned continuation line, say) maps
    # nothing; an added line at that level is then unmappable.
    exact = {p: next(iter(fs)) for p, fs in seen.items() if len(fs) == 1}
    levels = sorted((width(p), width(f)) for p, f in exact.items())
    if any(b[1] <= a[1] for a, b in zip(levels, levels[1:])):
        # Deeper in the patch is not deeper in the file: the context's structure is not the
        # file's, so no mapping learned from it can be trusted.
        return [("as written", list(ws_added))]
    fchar = style.char or next((c for _, f in pairs for c in f), " ")
    # The patch's indent character, from its context (or, when that is all at column 0, from
    # its added lines); None when it mixes tabs and spaces, which no scale can map.
    pchars = {c for p, _ in pairs for c in p} or {c for w in ws_added for c in w} or {fchar}
    pchar = pchars.pop() if len(pchars) == 1 else None
    points = {}
    for p, f in exact.items():
        pc, fc = _count(p, pchar or ""), _count(f, fchar)
        if pc is None or fc is None:
            points = None
            break
        points[pc] = fc
    linear: list[tuple[str, Fraction, Fraction]] = []  # (name, scale, offset) readings
    if points and len(points) >= 2:
        (p1, f1), (p2, f2) = sorted(points.items())[:2]
        a = Fraction(f2 - f1, p2 - p1)
        b = f1 - a * p1
        if a > 0 and all(a * p + b == f for p, f in points.items()):
            linear.append(("scale+offset", a, b))
    elif points and len(points) == 1 and style.unit:
        # One level seen: the scale is not pinned down. Try every usual patch unit (and a pure
        # offset, and a pure scale); the file's grid and structure then rule readings out, and
        # whatever still disagrees is refused.
        (p0, f0), = points.items()
        scales = {Fraction(1)} | ({Fraction(f0, p0)} if p0 and f0 else set())
        scales |= {Fraction(style.unit, u) for u in ((1,) if pchar == "\t" else (1, 2, 3, 4, 8))}
        linear += [("scale+offset", a, f0 - a * p0) for a in sorted(scales)]

    def by_line(a: Fraction, b: Fraction) -> list[str] | None:
        out = []
        for w in ws_added:
            if w in exact:
                out.append(exact[w])
                continue
            pc = _count(w, pchar or "")
            if pc is None:
                return None
            f = a * pc + b
            if f.denominator != 1 or f < 0:
                return None
            out.append(fchar * int(f))
        return out

    cands: list[tuple[str, list[str] | None]] = [(n, by_line(a, b)) for n, a, b in linear]
    if not linear:
        known = all(w in exact for w in ws_added)
        cands.append(("levels", [exact[w] for w in ws_added] if known else None))
    # The model may have drifted only the lines it copied and written the new ones correctly.
    cands.append(("as written", list(ws_added)))
    return cands


def _code(text: str) -> str | None:
    """The line without a trailing comment; None for a comment line, whose indentation and
    ending say nothing reliable about structure."""
    s = text.strip()
    if s.startswith(("#", "//", "/*", "* ")):
        return None
    for marker in (" #", " //"):
        cut = s.find(marker)
        if cut > 0 and s[:cut].count('"') % 2 == 0 and s[:cut].count("'") % 2 == 0:
            s = s[:cut].rstrip()
    return s


def _ends_open(text: str) -> bool:
    s = _code(text)
    return s is not None and (s.endswith(_OPENERS) or s.startswith("- "))


def _violations(seq: Seq, mapped: dict[int, str], texts: list[str], style: Style) -> int:
    """How badly a reading breaks the file's indentation structure, counting only what added
    lines change (unchanged lines are the same in every reading):
    - an added line in the wrong character or off the file's unit;
    - a step deeper by more than one unit, or deeper after a line that opens nothing;
    - a line that opens a block (':' or '{') followed by one that is not deeper;
    - a dedent to a depth no enclosing line has;
    - an unchanged line after the edit that gets a different parent (enclosing line) than it
      has in the file, e.g. a method swallowed by an added function at the wrong depth.
    """
    # Rows: (ws, text, key); key identifies the line across old and new sides.
    before = [(leading_ws(b), b, ("b", i)) for i, b in enumerate(seq.before)]
    after = [(leading_ws(b), b, ("a", i)) for i, b in enumerate(seq.after)]
    old_rows, new_rows = list(before), list(before)
    for i, (op, item) in enumerate(seq.items):
        if op == "+":
            assert isinstance(item, int)
            if item in mapped:
                new_rows.append((mapped[item], texts[item], ("+", item)))
            continue
        assert isinstance(item, str)
        row = (leading_ws(item), item, (op, i))
        old_rows.append(row)
        if op == " ":
            new_rows.append(row)
    old_rows += after
    new_rows += after
    old_parent = _parents(old_rows)
    new_parent = _parents(new_rows)
    rows = [r for r in new_rows if r[1].strip()]
    replaced = _replacements(seq)
    unit = style.unit_width
    known = {leading_ws(r[1]) for r in old_rows if r[1].strip()}
    bad = 0
    stack = [0]
    prev: tuple[str, str, tuple] | None = None
    seen_added = False
    for n, (ws, text, key) in enumerate(rows):
        is_added = key[0] == "+"
        w = width(ws)
        local = 0
        if is_added:
            seen_added = True
            # An indentation the file already uses here is fine, alignment spaces and all.
            if ws not in known:
                if style.char and set(ws) != {style.char}:
                    local += 1
                if unit and w % unit:
                    local += 1
            local += _misplaced_clause(rows, n)
            local += replaced.get(key[1], "") not in ("", ws)
        structural = 0  # these depend on the reading even between unchanged lines
        if not is_added and seen_added:
            # A parent that was removed may be replaced by an added line, not by another one.
            orig, now = old_parent.get(key), new_parent.get(key)
            if (now[0] != "+" if orig and orig[0] == "-" and now else now != orig):
                structural += 1
        if prev is not None:
            pw = width(prev[0])
            if unit and w > pw + unit:
                local += 1
            if w > pw and not _ends_open(prev[1]):
                local += 1
            opens = (_code(prev[1]) or "").endswith((":", "{"))
            if w <= pw and opens and not text.lstrip().startswith("- "):
                local += 1
            # Code after return/raise/break/continue in the same block never runs.
            if w == pw and _JUMP.match(prev[1].lstrip()) and not _ends_open(prev[1]):
                local += 1
        if w > stack[-1]:
            stack.append(w)
        else:
            while len(stack) > 1 and stack[-1] > w:
                stack.pop()
            if stack[-1] != w:
                structural += 1
                stack.append(w)
        if is_added or (prev is not None and prev[2][0] == "+"):
            bad += local
        if seen_added:
            bad += structural
        prev = (ws, text, key)
    return bad


def _replacements(seq: Seq) -> dict[int, str]:
    """Added line k -> the file indentation of the removed line it replaces, when the patch
    writes both at the same indentation (a changed line keeps its depth)."""
    out: dict[int, str] = {}
    if len(seq.patch_ws) != len(seq.items):
        return out
    i, n = 0, len(seq.items)
    while i < n:
        if seq.items[i][0] != "-":
            i += 1
            continue
        j = i
        while j < n and seq.items[j][0] == "-":
            j += 1
        k = j
        while k < n and seq.items[k][0] == "+":
            k += 1
        for r, a in zip(range(i, j), range(j, k)):
            removed, added = seq.items[r][1], seq.items[a][1]
            if seq.patch_ws[r] == seq.patch_ws[a] and isinstance(removed, str) and removed.strip():
                assert isinstance(added, int)
                out[added] = leading_ws(removed)
        i = k
    return out


_JUMP = re.compile(r"(return|raise|break|continue)\b")
_CLAUSE = re.compile(r"(else|elif|except|finally)\b")
_COMPOUND = re.compile(r"(if|elif|else|for|async for|while|try|except|with|async with)\b")


def _misplaced_clause(rows: list[tuple[str, str, tuple]], n: int) -> int:
    """1 when rows[n] is an else/elif/except/finally with no statement at its depth above it
    that it could continue (an if, for, while, try, ...)."""
    text = rows[n][1].lstrip()
    if not _CLAUSE.match(text) or not text.rstrip().endswith(":"):
        return 0
    w = width(rows[n][0])
    for ws, above, _ in reversed(rows[:n]):
        if width(ws) < w:
            return 1
        if width(ws) == w:
            return 0 if _COMPOUND.match(above.lstrip()) else 1
    return 1


def _parents(rows: list[tuple[str, str, tuple]]) -> dict[tuple, tuple | None]:
    """Each line's enclosing line: the nearest non-blank line above it that is shallower."""
    out: dict[tuple, tuple | None] = {}
    stack: list[tuple[int, tuple]] = []
    for ws, text, key in rows:
        if not text.strip():
            continue
        w = width(ws)
        while stack and stack[-1][0] >= w:
            stack.pop()
        out[key] = stack[-1][1] if stack else None
        stack.append((w, key))
    return out


def show_ws(s: str) -> str:
    """A line with its indentation made visible: '·' per space, '→' per tab."""
    ws = leading_ws(s)
    return ws.replace(" ", "\u00b7").replace("\t", "\u2192") + s[len(ws) :]


def _fmt(ws: str) -> str:
    if not ws:
        return "column 0"
    n = len(ws)
    if set(ws) == {"\t"}:
        return f"{n} tab{'s' if n != 1 else ''}"
    if set(ws) == {" "}:
        return f"{n} space{'s' if n != 1 else ''}"
    return repr(ws)


def _drift(pairs: list[tuple[str, str]]) -> str:
    """'the unchanged lines are indented differently from the file (2 spaces -> 4 spaces, ...)'"""
    ordered = sorted(set(pairs), key=lambda t: (width(t[0]), width(t[1])))
    shown = ", ".join(f"{_fmt(p)} -> {_fmt(f)}" for p, f in ordered[:5])
    more = ", ..." if len(ordered) > 5 else ""
    return f"the unchanged lines are indented differently from the file ({shown}{more})"


def _unmappable(pairs: list[tuple[str, str]]) -> str:
    return f"{_drift(pairs)} and the added lines' indentation cannot be mapped from that"


def _ambiguous(
    pairs: list[tuple[str, str]],
    needed: list[int],
    texts: list[str],
    results: dict[tuple[str, ...], list[str]],
) -> str:
    first, second = list(results)[:2]
    for i, k in enumerate(needed):
        if first[i] != second[i]:
            line = _short(texts[k].strip())
            return (
                f"{_drift(pairs)}, and the added line {line!r} could belong at "
                f"{_fmt(first[i])} or at {_fmt(second[i])}"
            )
    return f"{_drift(pairs)}, and the added lines' indentation is ambiguous"
