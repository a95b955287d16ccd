from __future__ import annotations

import pytest

from realcost_agent.tools.patch_parser import PatchSyntaxError, parse_patch, unwrap

FULL = """*** Begin Patch
*** Add File: new.py
+a
+b
*** Update File: old.py
*** Move to: renamed.py
@@ class A:
@@ def f(self):
 ctx
-gone
+added
*** End of File
*** Delete File: dead.py
*** End Patch"""


def test_full_structure():
    p = parse_patch(FULL)
    assert [op.kind for op in p.ops] == ["add", "update", "delete"]
    add, upd, dele = p.ops
    assert (add.path, add.content, add.line_no) == ("new.py", ["a", "b"], 2)
    assert (upd.path, upd.move_to, upd.line_no) == ("old.py", "renamed.py", 5)
    [chunk] = upd.chunks
    assert chunk.anchors == ["class A:", "def f(self):"]
    assert chunk.lines == [(" ", "ctx"), ("-", "gone"), ("+", "added")]
    assert chunk.old == ["ctx", "gone"] and chunk.new == ["ctx", "added"]
    assert chunk.end_of_file is True
    assert chunk.line_no == 7
    assert (dele.path, dele.line_no) == ("dead.py", 13)


def test_first_chunk_may_omit_at_at_and_bare_at_at_has_no_anchor():
    p = parse_patch("*** Begin Patch\n*** Update File: x\n a\n-b\n@@\n c\n+d\n*** End Patch")
    c1, c2 = p.ops[0].chunks
    assert c1.anchors == [] and c1.lines == [(" ", "a"), ("-", "b")]
    assert c2.anchors == [] and c2.lines == [(" ", "c"), ("+", "d")]


def test_unified_hunk_header_keeps_only_trailing_text_as_anchor():
    p = parse_patch("*** Begin Patch\n*** Update File: x\n@@ -3,4 +3,5 @@ def g():\n-a\n+b\n"
                    "@@ -10 +11 @@\n-c\n*** End Patch")
    assert [c.anchors for c in p.ops[0].chunks] == [["def g():"], []]


def test_empty_line_inside_chunk_is_empty_context_but_trailing_blanks_are_dropped():
    p = parse_patch("*** Begin Patch\n*** Update File: x\n@@\n a\n\n-b\n\n\n*** End Patch")
    assert p.ops[0].chunks[0].lines == [(" ", "a"), (" ", ""), ("-", "b")]


def test_explicit_space_context_at_chunk_end_is_kept():
    p = parse_patch("*** Begin Patch\n*** Update File: x\n@@\n-b\n \n*** End Patch")
    assert p.ops[0].chunks[0].lines == [("-", "b"), (" ", "")]


def test_add_file_blank_lines_between_plus_lines_count_but_not_trailing():
    p = parse_patch("*** Begin Patch\n*** Add File: x\n+a\n\n+b\n\n*** End Patch")
    assert p.ops[0].content == ["a", "", "b"]


@pytest.mark.parametrize(
    "wrapped",
    [
        "```\n{p}\n```",
        "```diff\n{p}\n```\n",
        "apply_patch <<'EOF'\n{p}\nEOF",
        'apply_patch <<"PATCH"\n{p}\nPATCH\n',
        "cat <<EOF | apply_patch\n{p}\nEOF",
        "```bash\napply_patch <<'EOF'\n{p}\nEOF\n```",
        "\n\n   \n{p}\n\n  \n",
    ],
)
def test_wrappers_are_tolerated(wrapped):
    inner = "*** Begin Patch\n*** Delete File: a.txt\n*** End Patch"
    p = parse_patch(wrapped.format(p=inner))
    assert [(op.kind, op.path) for op in p.ops] == [("delete", "a.txt")]


def test_crlf_patch_text_is_read_as_lf():
    p = parse_patch("*** Begin Patch\r\n*** Update File: x\r\n@@\r\n-a\r\n+b\r\n*** End Patch\r\n")
    assert p.ops[0].chunks[0].lines == [("-", "a"), ("+", "b")]


def test_line_numbers_count_from_the_original_text_through_wrappers():
    text = "```\n*** Begin Patch\n*** Update File: x\n@@\n-a\nbad line\n*** End Patch\n```"
    with pytest.raises(PatchSyntaxError) as e:
        parse_patch(text)
    assert e.value.line_no == 6
    assert "patch line 6" in str(e.value) and "'bad line'" in str(e.value)


def test_unwrap_reports_first_line_number():
    lines, first = unwrap("\n\n```\n*** Begin Patch\n*** End Patch\n```")
    assert lines == ["*** Begin Patch", "*** End Patch"] and first == 4


@pytest.mark.parametrize(
    "text, fragment",
    [
        ("", "empty"),
        ("*** Update File: x\n@@\n-a\n*** End Patch", "must start with the line '*** Begin Patch'"),
        ("*** Begin Patch\n*** Update File: x\n@@\n-a\n", "the patch is truncated: it must end with *** End Patch"),
        ("```\n*** Begin Patch\n*** Delete File: x\n", "truncated"),
        ("*** Begin Patch\n*** End Patch", "no file operations"),
        ("*** Begin Patch\n*** Update File: x\n*** End Patch", "has no changes"),
        ("*** Begin Patch\n*** Update File: x\n@@ def f\n*** End Patch", "empty chunk"),
        ("*** Begin Patch\n*** Add File: x\nno plus\n*** End Patch", "must start with '+'"),
        ("*** Begin Patch\n*** Update File: x\n@@\n-a\n*** Bogus\n*** End Patch", "unknown marker"),
        ("*** Begin Patch\n*** Frobnicate File: x\n*** End Patch", "expected '*** Add File"),
        ("*** Begin Patch\n*** Delete File:\n*** End Patch", "needs a path"),
        ("*** Begin Patch\n*** Update File: x\n*** Move to:\n@@\n-a\n*** End Patch", "needs a path"),
        ("*** Begin Patch\n*** Delete File: x\n*** End Patch\nmore text", "unexpected text after"),
    ],
)
def test_syntax_errors(text, fragment):
    with pytest.raises(PatchSyntaxError) as e:
        parse_patch(text)
    assert fragment in str(e.value)


def test_bad_prefix_error_names_file_and_line():
    text = "*** Begin Patch\n*** Update File: src/m.py\n@@\n a\n-b\n\tc\n*** End Patch"
    with pytest.raises(PatchSyntaxError) as e:
        parse_patch(text)
    msg = str(e.value)
    assert "patch line 6" in msg and "src/m.py" in msg and "' ' (context)" in msg


def test_context_line_that_looks_like_a_marker_is_content():
    text = "*** Begin Patch\n*** Update File: x\n@@\n *** End Patch\n-*** Delete File: y\n*** End Patch"
    chunk = parse_patch(text).ops[0].chunks[0]
    assert chunk.lines == [(" ", "*** End Patch"), ("-", "*** Delete File: y")]


def test_patch_indented_as_a_whole_is_dedented():
    text = "    *** Begin Patch\n    *** Update File: x\n    @@\n       ctx\n\n    -old\n    +new\n    *** End Patch\n"
    chunk = parse_patch(text).ops[0].chunks[0]
    assert chunk.lines == [(" ", "  ctx"), (" ", ""), ("-", "old"), ("+", "new")]


def test_unindented_patch_keeps_context_indentation():
    text = "*** Begin Patch\n*** Update File: x\n@@\n     deep\n-    old\n*** End Patch"
    assert parse_patch(text).ops[0].chunks[0].lines == [(" ", "    deep"), ("-", "    old")]
