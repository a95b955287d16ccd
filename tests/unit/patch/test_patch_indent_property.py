"""Property: a patch (or edit) with drifted indentation gives exactly the intended file or is
refused; never a third outcome (applied, but indented wrongly).

Files are generated as well-formed nested blocks (an opener is always followed by a deeper
line, dedents return to an enclosing depth), edited in a well-formed way, and the model's side
is rendered with a random drift: another unit (1-4 spaces or a tab), an offset, a dedent to the
chunk's shallowest line, the context drifted while added lines are right, trailing whitespace.
"""
from __future__ import annotations

import asyncio
import os
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from realcost_agent.tools.base import ToolContext
from realcost_agent.tools.edit import Edit
from realcost_agent.tools.patch_match import ChunkError, apply_chunks
from realcost_agent.tools.patch_parser import Chunk

SETTINGS = settings(
    max_examples=int(os.environ.get("PATCH_FUZZ_EXAMPLES", 300)),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


@st.composite
def drifted_edit(draw):
    # The file: (depth, text, opens_block) rows.
    n = draw(st.integers(2, 14))
    rows: list[tuple[int, str, bool]] = []
    depth = 0
    for i in range(n):
        if rows and rows[-1][2]:
            depth += 1
        elif rows:
            depth = draw(st.integers(0, depth))
        opener = i < n - 1 and draw(st.booleans())
        rows.append((depth, f"if c{i}:" if opener else f"s{i} = {i}", opener))
    if rows[-1][2]:
        rows.append((rows[-1][0] + 1, f"s{n} = {n}", False))
    n = len(rows)

    # A well-formed edit after row i: a statement (or a new if with a body) at a depth the
    # structure allows, optionally replacing row i itself (same depth).
    i = draw(st.integers(0, n - 1))
    d_i, _, opens = rows[i]
    nxt = rows[i + 1][0] if i + 1 < n else 0
    d = d_i + 1 if opens else draw(st.integers(nxt, d_i))
    new = [(d, "new = 1")] if draw(st.booleans()) else [(d, "if new:"), (d + 1, "new = 2")]
    replace = not opens and draw(st.booleans()) and d == d_i
    start = i if replace else i + 1
    removed = [rows[i]] if replace else []
    if replace:
        new = [(d_i, rows[i][1].replace("=", "= 10 +"))] + new
    c1 = draw(st.integers(0 if start else 0, min(start, 3)))
    c2 = draw(st.integers(0, min(n - i - 1, 3)))
    if c1 + c2 + len(removed) == 0:
        c1 = 1 if start else 0
        c2 = 0 if start else 1

    unit = draw(st.sampled_from(["    ", "  ", "\t"]))
    p_unit = draw(st.sampled_from(["    ", "  ", " ", "\t", "   ", "        "]))
    offset = draw(st.sampled_from(["", "", " ", "  ", "    ", "\t"]))
    dedent = draw(st.booleans())
    mixed = draw(st.integers(0, 4)) == 0  # context drifted, added lines in the file's indent
    trailing = draw(st.integers(0, 4)) == 0
    return rows, start, removed, new, c1, c2, unit, p_unit, offset, dedent, mixed, trailing


def _build(case):
    rows, start, removed, new, c1, c2, unit, p_unit, offset, dedent, mixed, trailing = case
    end = start + len(removed)
    before = rows[start - c1 : start]
    after = rows[end : end + c2]
    chunk_depths = [r[0] for r in before + removed + after] + [d for d, _ in new]
    base = min(chunk_depths) if dedent else 0

    def file_line(d, t):
        return unit * d + t

    def patch_line(d, t):
        return offset + p_unit * (d - base) + t

    body: list[tuple[str, str]] = []
    for op, group in ((" ", before), ("-", removed)):
        body += [(op, patch_line(d, t) + ("  " if trailing else "")) for d, t, _ in group]
    body += [("+", file_line(d, t) if mixed else patch_line(d, t)) for d, t in new]
    body += [(" ", patch_line(d, t) + ("  " if trailing else "")) for d, t, _ in after]
    text = "".join(file_line(d, t) + "\n" for d, t, _ in rows)
    added = [t for op, t in body if op == "+"]
    if all(patch_line(d, "") == file_line(d, "") for d, _, _ in before + removed + after):
        # Context without indentation drift: the added lines are the model's own choice and are
        # kept as written (there is nothing to map from).
        pass
    else:
        added = [file_line(d, t) for d, t in new]
    expected = "".join(
        [file_line(d, t) + "\n" for d, t, _ in rows[:start]]
        + [a + "\n" for a in added]
        + [file_line(d, t) + "\n" for d, t, _ in rows[end:]]
    )
    return text, body, expected


@SETTINGS
@given(drifted_edit())
def test_drifted_patch_is_exact_or_refused(case):
    text, body, expected = _build(case)
    try:
        result = apply_chunks(text, [Chunk([], body, False, 1)], "f.py").text
    except ChunkError:
        return  # refused: the model is told and retries
    assert result == expected, (body, result)


@settings(max_examples=int(os.environ.get("PATCH_FUZZ_EXAMPLES", 300)) // 3, deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(drifted_edit())
def test_drifted_edit_is_exact_or_refused(case):
    text, body, expected = _build(case)
    old = "\n".join(t for op, t in body if op != "+")
    new = "\n".join(t for op, t in body if op != "-")
    if old == new:
        return
    with tempfile.TemporaryDirectory() as d:
        p = Path(d) / "f.py"
        p.write_text(text)
        params = Edit.Params(path="f.py", old_string=old, new_string=new)
        r = asyncio.run(Edit().run(params, ToolContext(root=Path(d))))
        after = p.read_text()
    if r.is_error:
        assert after == text
    else:
        assert after == expected, (old, new, after)
