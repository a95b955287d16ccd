"""Property tests: generated patches apply exactly; garbage never raises and never writes."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from unidiff import PatchSet

from _patch_helpers import run_patch, tree_state, write
from realcost_agent.tools.base import ToolResult

# A small alphabet makes repeated lines (and so ambiguous context) common enough to test both
# outcomes; a few typographic characters and markers-as-content keep the parser honest.
LINE = st.text(alphabet="ab #:=()\t\u2019\u2014*@+-", max_size=6)
# PATCH_FUZZ_EXAMPLES=5000 for a longer local run.
SETTINGS = settings(max_examples=int(os.environ.get("PATCH_FUZZ_EXAMPLES", 300)), deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def file_and_edit(draw):
    lines = draw(st.lists(LINE, min_size=1, max_size=12))
    trailing = draw(st.booleans())
    # Without a final newline an empty last line has no bytes at all; that file is a different
    # file (one line shorter), so keep the generated model unambiguous.
    assume(trailing or lines[-1] != "")
    eol = draw(st.sampled_from(["\n", "\r\n"]))
    n = len(lines)
    i = draw(st.integers(0, n))
    k = draw(st.integers(0, n - i))
    c1 = draw(st.integers(0, min(i, 3)))
    c2 = draw(st.integers(0, min(n - i - k, 3)))
    assume(c1 + k + c2 > 0)
    added = draw(st.lists(LINE, max_size=3))
    eof = i + k + c2 == n and draw(st.booleans())
    return lines, trailing, eol, i, k, c1, c2, added, eof


def _text(lines: list[str], eol: str, trailing: bool) -> str:
    return eol.join(lines) + (eol if trailing and lines else "")


@SETTINGS
@given(file_and_edit())
def test_generated_single_chunk_patch_applies_exactly(case):
    lines, trailing, eol, i, k, c1, c2, added, eof = case
    body = (
        [" " + s for s in lines[i - c1 : i]]
        + ["-" + s for s in lines[i : i + k]]
        + ["+" + s for s in added]
        + [" " + s for s in lines[i + k : i + k + c2]]
    )
    text = "\n".join(
        ["*** Begin Patch", "*** Update File: f.txt", "@@", *body]
        + (["*** End of File"] if eof else [])
        + ["*** End Patch"]
    )
    old = lines[i - c1 : i + k + c2]
    occurrences = [s for s in range(len(lines) - len(old) + 1) if lines[s : s + len(old)] == old]
    with tempfile.TemporaryDirectory() as d:
        root = Path(d)
        write(root, "f.txt", _text(lines, eol, trailing))
        before = tree_state(root)
        r = run_patch(root, text)
        if eof or len(occurrences) == 1:
            assert not r.is_error, r.output
            # A one-line file without a final newline has no ending to copy: added lines get LF.
            new_eol = eol if len(lines) > 1 or trailing else "\n"
            expected = _text(lines[:i] + added + lines[i + k :], new_eol, trailing)
            assert (root / "f.txt").read_bytes() == expected.encode()
            assert sorted(tree_state(root)) == ["f.txt"]  # no temp files left
            _check_diff(r.metadata["diff"], _text(lines, eol, trailing), expected)
        else:
            assert r.is_error and f"matches {len(occurrences)} places" in r.output
            assert tree_state(root) == before


def _check_diff(diff: str, before: str, after: str) -> None:
    """Every hunk's source/target lines are the old/new file's lines at the stated positions."""
    if before == after:
        return
    old, new = before.split("\n"), after.split("\n")
    for hunk in PatchSet(diff)[0]:
        src = [ln.value.rstrip("\n") for ln in hunk.source_lines()]
        tgt = [ln.value.rstrip("\n") for ln in hunk.target_lines()]
        start = hunk.source_start - (1 if hunk.source_length else 0)
        assert old[start : start + len(src)] == src
        start = hunk.target_start - (1 if hunk.target_length else 0)
        assert new[start : start + len(tgt)] == tgt


def _assert_garbage_safe(text: str, must_fail: bool) -> None:
    with tempfile.TemporaryDirectory() as d:
        root = Path(d)
        write(root, "f.txt", "a\nb\n")
        write(root, "sub/g.txt", "x\r\ny\r\n")
        before = tree_state(root)
        r = run_patch(root, text)
        assert isinstance(r, ToolResult) and isinstance(r.output, str)
        if must_fail:
            assert r.is_error
        if r.is_error:
            assert tree_state(root) == before, r.output


ANY_CHAR = st.characters(blacklist_categories=())  # includes lone surrogates and NUL


@SETTINGS
@given(st.text(alphabet=ANY_CHAR))
def test_arbitrary_text_is_refused_without_writing(text):
    assume("*** Begin Patch" not in text)
    _assert_garbage_safe(text, must_fail=True)


PIECES = st.one_of(
    st.sampled_from([
        "*** Begin Patch", "*** End Patch", "*** Update File: f.txt", "*** Update File: sub/g.txt",
        "*** Add File: f.txt", "*** Add File: new.txt", "*** Delete File: f.txt",
        "*** Delete File: missing.txt", "*** Move to: h.txt", "*** Move to: sub/g.txt",
        "*** Update File: ../out.txt", "*** Add File: .git/x", "*** End of File", "@@", "@@ a",
        "@@ -1,2 +1,2 @@", " a", " b", "-a", "-b", "+c", " x", "-y", "", "```", "EOF",
        "apply_patch <<'EOF'",
    ]),
    st.text(alphabet=ANY_CHAR, max_size=8),
    # Headers with arbitrary paths: surrogates, NUL, '..', over-long names.
    st.builds(
        str.__add__,
        st.sampled_from(["*** Add File: ", "*** Update File: ", "*** Delete File: ", "*** Move to: "]),
        st.one_of(st.text(alphabet=ANY_CHAR, max_size=12), st.text(alphabet="ab./", max_size=300)),
    ),
)


@SETTINGS
@given(st.lists(PIECES, max_size=14))
def test_token_soup_never_raises_and_refusals_never_write(pieces):
    _assert_garbage_safe("\n".join(pieces), must_fail=False)


@SETTINGS
@given(st.lists(PIECES, max_size=10))
def test_wrapped_soup_never_raises(pieces):
    _assert_garbage_safe("\n".join(["*** Begin Patch", *pieces, "*** End Patch"]), must_fail=False)
