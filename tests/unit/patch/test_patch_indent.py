"""Drifted indentation is mapped onto the file's exactly, or the chunk is refused.

Each mapping kind (scale, tabs <-> spaces, offset, dedented at another scale, context drifted
but added lines not) and each refusal (ambiguous, unmappable, structure that does not match).
"""
from __future__ import annotations

from _patch_helpers import patch, run_patch, tree_state, write
from realcost_agent.tools.patch_indent import Style, file_style, map_indentation, show_ws, Seq
from realcost_agent.tools.patch_match import apply_chunks
from realcost_agent.tools.patch_parser import parse_patch


def chunks(*body: str):
    return parse_patch(patch("*** Update File: x", *body)).ops[0].chunks


def applied(src: str, *body: str) -> str:
    return apply_chunks(src, chunks("@@", *body), "x").text


FOUR = (
    "class C:\n"
    "    def m(self, x):\n"
    "        if x:\n"
    "            y = 1\n"
    "        return 0\n"
)


def test_halved_patch_new_level_follows_the_scale():
    # Levels 0/2/4/6 in the patch are 0/4/8/12 in the file; the new level 8 becomes 16.
    out = applied(
        FOUR,
        " def m(self, x):",
        "   if x:",
        "     y = 1",
        "+    if y:",
        "+      while y:",
        "+        y -= 1",
        "   return 0",
    )
    assert out == FOUR.replace(
        "            y = 1\n",
        "            y = 1\n            if y:\n                while y:\n                    y -= 1\n",
    )


def test_doubled_patch_into_two_space_file():
    src = "def f(x):\n  if x:\n    y = 1\n  return 0\n"
    out = applied(src, " def f(x):", "     if x:", "-        y = 1", "+        y = 2", "+        if y:", "+            z = 3", "     return 0")
    assert out == "def f(x):\n  if x:\n    y = 2\n    if y:\n      z = 3\n  return 0\n"


def test_tab_patch_into_space_file():
    out = applied(FOUR, " \tdef m(self, x):", " \t\tif x:", " \t\t\ty = 1", "+\t\t\tif y:", "+\t\t\t\tprint(y)", " \t\treturn 0")
    assert out == FOUR.replace(
        "            y = 1\n", "            y = 1\n            if y:\n                print(y)\n"
    )


def test_space_patch_into_tab_file_with_new_level():
    src = "func f() {\n\tif x {\n\t\treturn 1\n\t}\n}\n"
    out = applied(src, " func f() {", "   if x {", "-    return 1", "+    if y {", "+      return 2", "+    }", "   }")
    assert out == "func f() {\n\tif x {\n\t\tif y {\n\t\t\treturn 2\n\t\t}\n\t}\n}\n"


def test_makefile_recipe_written_with_spaces_gets_its_tab():
    src = "all: build\n\nbuild:\n\tcc -o app main.c\n\nclean:\n\trm -f app\n"
    out = applied(src, " build:", "     cc -o app main.c", "+    strip app", " ", " clean:")
    assert out == "all: build\n\nbuild:\n\tcc -o app main.c\n\tstrip app\n\nclean:\n\trm -f app\n"


def test_constant_offset_both_ways():
    deeper = applied(FOUR, "       def m(self, x):", "           if x:", "+              z = 2", "               y = 1")
    assert "            z = 2\n            y = 1\n" in deeper
    shallower = applied(FOUR, "   if x:", "       y = 1", "+  else:", "+      y = 2", "   return 0")
    assert shallower == FOUR.replace("            y = 1\n", "            y = 1\n        else:\n            y = 2\n")


def test_dedented_patch_at_half_scale():
    # The model dropped the class and method indentation and used 2 spaces per level.
    out = applied(FOUR, " if x:", "   y = 1", "+  if y > 0:", "+    y = 0", " return 0")
    assert out == FOUR.replace(
        "            y = 1\n", "            y = 1\n            if y > 0:\n                y = 0\n"
    )


def test_context_drifted_but_added_lines_already_right():
    # Context halved, new lines written in the file's real indentation: taking them as written
    # is the only reading that keeps the file's structure.
    out = applied(FOUR, "   if x:", "     y = 1", "+            y += 2", "+            if y:", "+                y -= 1", "   return 0")
    assert out == FOUR.replace(
        "            y = 1\n",
        "            y = 1\n            y += 2\n            if y:\n                y -= 1\n",
    )


def test_changed_line_keeps_its_depth_and_method_is_not_swallowed():
    src = "class K:\n    def a(self):\n        return 1\n\n    def b(self):\n        return 2\n"
    out = applied(src, " def a(self):", "     return 1", "+", "+def helper(self):", "+    return 3", " ", " def b(self):")
    assert out == src.replace("\n\n    def b", "\n\n    def helper(self):\n        return 3\n\n    def b")


def test_trailing_whitespace_and_indentation_drift_together():
    src = "def f():\n    a = 1\n    return a\n"
    out = applied(src, " def f():  ", "   a = 1 ", "+  b = 2", "   return a\t")
    assert out == "def f():\n    a = 1\n    b = 2\n    return a\n"


def test_yaml_list_items_keep_their_keys():
    src = "jobs:\n  - name: a\n    run: x\n  - name: b\n    run: y\n"
    # Doubled: the keys under a list item sit deeper than its "- " line, legitimately.
    out = applied(src, " jobs:", "     - name: a", "         run: x", "+        env: prod", "     - name: b")
    assert out == "jobs:\n  - name: a\n    run: x\n    env: prod\n  - name: b\n    run: y\n"


# ---- refusals ----


def refused(tmp_path, src: str, *body: str) -> str:
    write(tmp_path, "f.py", src)
    before = tree_state(tmp_path)
    r = run_patch(tmp_path, patch("*** Update File: f.py", "@@", *body))
    assert r.is_error, r.output
    assert tree_state(tmp_path) == before
    assert "No file was changed." in r.output
    return r.output


def test_ambiguous_level_is_refused_with_the_real_lines(tmp_path):
    # Context halved; "z = 3" sits at the patch's "y = 1" depth. Mapped, it goes inside the if
    # (8); taken as already in the file's indentation, after it (4). Both are valid code, so
    # nothing is written and the model sees the real lines.
    src = "def f(x):\n    if x:\n        y = 1\n    return 0\n"
    out = refused(tmp_path, src, " def f(x):", "   if x:", "     y = 1", "+    z = 3", "   return 0")
    assert "'z = 3' could belong at 8 spaces or at 4 spaces" in out
    assert "    2| \u00b7\u00b7\u00b7\u00b7if x:" in out
    assert "    3| \u00b7\u00b7\u00b7\u00b7\u00b7\u00b7\u00b7\u00b7y = 1" in out
    assert "only by ignoring indentation" in out and "f.py: chunk 1 (patch line 3)" in out


def test_single_context_level_with_shallower_added_line_is_refused(tmp_path):
    # Context only at one depth (4 in the patch, 8 in the file); "w = 0" at patch column 0 is
    # one level up (4) or two (0), and the blank lines and top-level code after say nothing.
    src = "def f(x):\n    if x:\n        a = 1\n        b = 2\n\n\nz = 1\n"
    out = refused(tmp_path, src, "     a = 1", "     b = 2", "+w = 0")
    assert "could belong at" in out


def test_one_level_up_is_taken_when_the_next_line_settles_it():
    src = "def f(x):\n    if x:\n        a = 1\n        b = 2\n    return x\n"
    out = applied(src, "     a = 1", "     b = 2", "+w = 0")
    assert out == src.replace("    return x", "    w = 0\n    return x")


def test_added_lines_off_the_files_grid_are_refused(tmp_path):
    # Context at 1/5 (file 8/12) but added lines at 2/6: no reading lands them on the file's
    # 4-space grid, so the patch is inconsistent in itself.
    out = refused(tmp_path, FOUR, "  if x:", "      y = 1", "+  else:", "+      y = 2", "  return 0")
    assert "(1 space -> 8 spaces, 5 spaces -> 12 spaces)" in out


def test_level_standing_for_two_file_levels_is_unmappable(tmp_path):
    # Two context lines share one patch indentation but sit at different depths in the file;
    # an added line at that indentation has no single answer.
    src = "def f(x):\n    if x:\n        a = 1\n    b = 2\n"
    out = refused(tmp_path, src, "  if x:", "  a = 1", "+  c = 3", "  b = 2")
    assert "cannot be mapped" in out or "could belong at" in out


def test_tabs_mixed_into_space_context_is_refused_when_it_breaks_structure(tmp_path):
    # Context drifted to 2 spaces; the added line uses a tab, which the file never does and
    # which maps to nothing.
    out = refused(tmp_path, FOUR, "   if x:", "     y = 1", "+\t\tz = 3", "   return 0")
    assert "f.py: chunk 1 (patch line 3)" in out


def test_exact_context_keeps_added_lines_as_written():
    # No drift in the context: nothing to map, even if the added line looks odd.
    assert applied("if a:\n    b()\n", " if a:", "+      odd()", "     b()") == (
        "if a:\n      odd()\n    b()\n"
    )


# ---- the module's pieces ----


def test_file_style_detects_unit_and_character():
    assert file_style(["a:", "  b", "    c"]) == Style(" ", 2)
    assert file_style(["a:", "\tb", "\t\tc", "\td"]) == Style("\t", 1)
    assert file_style(["plain", "text"]) == Style("", None)


def test_show_ws_makes_indentation_visible():
    assert show_ws("\t  x = 1  ") == "\u2192\u00b7\u00b7x = 1  "


def test_map_indentation_without_drift_returns_patch_indentation():
    seq = Seq([], [(" ", "  a"), ("+", 0)], [])
    assert map_indentation([("  a", "  a")], ["      b"], seq, Style(" ", 2)) == ["      "]
