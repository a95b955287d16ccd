"""Patches that drift from the file the way weak models drift, and land byte-exact anyway."""
from __future__ import annotations

from _patch_helpers import patch, run_patch, write
from realcost_agent.tools.patch_match import apply_chunks
from realcost_agent.tools.patch_parser import parse_patch


def ok(result):
    assert not result.is_error, result.output
    return result


def chunks(*body: str):
    return parse_patch(patch("*** Update File: x", *body)).ops[0].chunks


def test_trailing_whitespace_in_file_is_kept_on_context_lines(tmp_path):
    write(tmp_path, "t.py", "a = 1   \nb = 2\t\nc = 3\n")
    r = ok(run_patch(tmp_path, patch("*** Update File: t.py", "@@", " a = 1", "-b = 2", "+b = 20", " c = 3")))
    assert (tmp_path / "t.py").read_bytes() == b"a = 1   \nb = 20\nc = 3\n"
    assert "ignoring trailing whitespace" in r.output


def test_trailing_whitespace_in_patch_only(tmp_path):
    write(tmp_path, "t.py", "a = 1\nb = 2\n")
    ok(run_patch(tmp_path, patch("*** Update File: t.py", "@@", " a = 1  ", "-b = 2 ", "+b = 3")))
    assert (tmp_path / "t.py").read_bytes() == b"a = 1\nb = 3\n"


FOUR = """def f(x):
    if x:
        y = 1
        return y
    return 0
"""


def test_two_space_patch_lands_at_four_spaces(tmp_path):
    write(tmp_path, "f.py", FOUR)
    r = ok(run_patch(tmp_path, patch(
        "*** Update File: f.py",
        "@@",
        " def f(x):",
        "   if x:",
        "-    y = 1",
        "-    return y",
        "+    y = 2",
        "+    if y:",
        "+      print(y)",
        "+    return y",
        "   return 0",
    )))
    assert (tmp_path / "f.py").read_text() == (
        "def f(x):\n    if x:\n        y = 2\n        if y:\n            print(y)\n"
        "        return y\n    return 0\n"
    )
    assert "re-indented" in r.output


def test_constant_indent_offset_is_added_to_new_depths(tmp_path):
    # The model dropped the method's leading 4 spaces everywhere: an offset, not a scale.
    src = "class C:\n    def m(self):\n        a = 1\n        return a\n"
    write(tmp_path, "c.py", src)
    ok(run_patch(tmp_path, patch(
        "*** Update File: c.py",
        "@@",
        " def m(self):",
        "     a = 1",
        "+    for i in range(3):",
        "+        a += i",
        "     return a",
    )))
    assert (tmp_path / "c.py").read_text() == (
        "class C:\n    def m(self):\n        a = 1\n        for i in range(3):\n"
        "            a += i\n        return a\n"
    )


def test_spaces_patch_into_tab_indented_file():
    src = "func f() {\n\tif x {\n\t\treturn 1\n\t}\n}\n"
    text, notes, _ = apply_chunks(src, chunks(
        "@@", " func f() {", "     if x {", "-        return 1", "+        y := 2", "+        return y", "     }",
    ), "f.go")
    assert text == "func f() {\n\tif x {\n\t\ty := 2\n\t\treturn y\n\t}\n}\n"
    assert notes and "indentation" in notes[0]


def test_exact_match_keeps_added_indentation_as_written(tmp_path):
    write(tmp_path, "e.py", "if a:\n    b()\n")
    ok(run_patch(tmp_path, patch("*** Update File: e.py", "@@", " if a:", "+      odd()", "     b()")))
    assert (tmp_path / "e.py").read_text() == "if a:\n      odd()\n    b()\n"


def test_curly_quotes_and_dashes_in_patch_match_ascii_file(tmp_path):
    src = "msg = \"it's done\"\nsep = '-'\nval = 1\n"
    write(tmp_path, "q.py", src)
    r = ok(run_patch(tmp_path, patch(
        "*** Update File: q.py",
        "@@",
        " msg = \u201cit\u2019s done\u201d",
        " sep = \u2018\u2014\u2019",
        "-val = 1",
        "+val = \u201cnew\u201d",
    )))
    # Context stays byte-exact; the substituted characters are undone in the added line too.
    assert (tmp_path / "q.py").read_text() == "msg = \"it's done\"\nsep = '-'\nval = \"new\"\n"
    assert "Unicode punctuation" in r.output


def test_nbsp_and_ellipsis_in_patch(tmp_path):
    write(tmp_path, "n.txt", "wait...\nfoo bar\nend\n")
    ok(run_patch(tmp_path, patch("*** Update File: n.txt", "@@", " wait\u2026", "-foo\u00a0bar", "+baz")))
    assert (tmp_path / "n.txt").read_text() == "wait...\nbaz\nend\n"


def test_unicode_that_the_file_really_has_is_not_rewritten(tmp_path):
    write(tmp_path, "u.md", "Title \u2014 intro\nold\n")
    ok(run_patch(tmp_path, patch("*** Update File: u.md", "@@", " Title - intro", "-old", "+new \u2014 text")))
    assert (tmp_path / "u.md").read_text() == "Title \u2014 intro\nnew \u2014 text\n"


def test_crlf_file_with_lf_patch_stays_crlf_and_context_byte_exact(tmp_path):
    raw = b"one\r\ntwo  \r\nthree\r\nfour\r\n"
    write(tmp_path, "w.txt", raw)
    ok(run_patch(tmp_path, patch("*** Update File: w.txt", "@@", " two", "-three", "+THREE", "+3b", " four")))
    assert (tmp_path / "w.txt").read_bytes() == b"one\r\ntwo  \r\nTHREE\r\n3b\r\nfour\r\n"


def test_crlf_file_without_trailing_newline():
    text, _, _ = apply_chunks("a\r\nb", chunks("@@", " b", "+c"), "x")
    assert text == "a\r\nb\r\nc"


def test_crlf_patch_text_on_lf_file(tmp_path):
    write(tmp_path, "l.txt", "a\nb\n")
    ok(run_patch(tmp_path, "*** Begin Patch\r\n*** Update File: l.txt\r\n@@\r\n-a\r\n+A\r\n*** End Patch\r\n"))
    assert (tmp_path / "l.txt").read_bytes() == b"A\nb\n"


def test_mixed_line_endings_keep_each_lines_own_ending():
    text, _, _ = apply_chunks("a\r\nb\nc\r\nd\r\n", chunks("@@", " b", "-c", "+C"), "x")
    assert text == "a\r\nb\nC\r\nd\r\n"


def test_exact_match_preferred_over_fuzzy_elsewhere():
    src = "    x = 1\nx = 1\n"
    text, notes, _ = apply_chunks(src, chunks("@@", "-x = 1", "+x = 2"), "x")
    assert text == "    x = 1\nx = 2\n" and notes == []


def test_dropped_leading_space_on_blank_context_line(tmp_path):
    write(tmp_path, "b.py", "a = 1\n\nb = 2\n")
    ok(run_patch(tmp_path, "*** Begin Patch\n*** Update File: b.py\n@@\n a = 1\n\n-b = 2\n+b = 3\n*** End Patch"))
    assert (tmp_path / "b.py").read_text() == "a = 1\n\nb = 3\n"


def test_utf8_bom_survives(tmp_path):
    write(tmp_path, "bom.txt", "\ufefffirst\nsecond\n".encode())
    ok(run_patch(tmp_path, patch("*** Update File: bom.txt", "@@", " first", "-second", "+2nd")))
    assert (tmp_path / "bom.txt").read_bytes() == "\ufefffirst\n2nd\n".encode()
