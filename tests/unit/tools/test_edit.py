import os
import stat

from realcost_agent.tools.edit import Edit

SRC = "def a():\n    return 1\n\n\ndef b():\n    return 1\n"


async def edit(ctx, path, old, new, **kw):
    return await Edit().run(Edit.Params(path=path, old_string=old, new_string=new, **kw), ctx)


def snapshot(p):
    st = os.stat(p)
    return p.read_bytes(), st.st_mtime_ns, st.st_ino


async def test_single_match_replaced(root, ctx, w):
    p = w(root, "m.py", SRC)
    r = await edit(ctx, "m.py", "def b():\n    return 1", "def b():\n    return 2")
    assert not r.is_error
    assert p.read_text() == SRC.replace("def b():\n    return 1", "def b():\n    return 2")
    assert "line 5" in r.output
    assert r.metadata["files_changed"] == ["m.py"]
    assert "-    return 1\n+    return 2\n" in r.metadata["diff"]


async def test_multiple_matches_refused_with_lines(root, ctx, w):
    p = w(root, "m.py", SRC)
    before = snapshot(p)
    r = await edit(ctx, "m.py", "return 1", "return 2")
    assert r.is_error
    assert "2 times" in r.output and "lines 2, 6" in r.output and "replace_all" in r.output
    assert snapshot(p) == before


async def test_replace_all(root, ctx, w):
    p = w(root, "m.py", SRC)
    r = await edit(ctx, "m.py", "return 1", "return 2", replace_all=True)
    assert not r.is_error
    assert p.read_text().count("return 2") == 2 and "return 1" not in p.read_text()
    assert r.metadata["replacements"] == 2


async def test_no_match_untouched_with_whitespace_hint(root, ctx, w):
    p = w(root, "m.py", SRC)
    before = snapshot(p)
    # Not whole lines (starts mid-line) and wrongly indented: no drift match, only the hint.
    r = await edit(ctx, "m.py", "b():\n  return 1", "x")
    assert r.is_error
    assert "not found" in r.output
    assert "ignoring whitespace at line 5" in r.output
    assert "6\t    return 1" in r.output
    assert snapshot(p) == before


async def test_no_match_closest_line_hint(root, ctx, w):
    w(root, "m.py", "alpha = compute(1)\nbeta = other()\n")
    r = await edit(ctx, "m.py", "alpha = compute(2)", "x")
    assert r.is_error and "Closest line is 1: alpha = compute(1)" in r.output


async def test_no_match_without_anything_close(root, ctx, w):
    w(root, "m.py", "alpha\n")
    r = await edit(ctx, "m.py", "zzzzqqq", "x")
    assert r.is_error and "not found" in r.output and "Closest" not in r.output


async def test_crlf_file_matched_with_lf_and_kept_crlf(root, ctx, w):
    p = w(root, "win.txt", b"one\r\ntwo\r\nthree\r\n")
    r = await edit(ctx, "win.txt", "two\nthree", "2\nthree\nfour")
    assert not r.is_error, r.output
    assert p.read_bytes() == b"one\r\n2\r\nthree\r\nfour\r\n"


async def test_lf_file_matched_with_crlf_old_string(root, ctx, w):
    p = w(root, "unix.txt", "one\ntwo\n")
    r = await edit(ctx, "unix.txt", "one\r\ntwo", "1\r\n2")
    assert not r.is_error
    assert p.read_bytes() == b"1\n2\n"


async def test_single_line_edit_in_crlf_file(root, ctx, w):
    p = w(root, "win.txt", b"a = 1\r\nb = 2\r\n")
    await edit(ctx, "win.txt", "b = 2", "b = 3")
    assert p.read_bytes() == b"a = 1\r\nb = 3\r\n"


async def test_non_utf8_bytes_elsewhere_survive(root, ctx, w):
    p = w(root, "l1.txt", b"caf\xe9\nname = old\n")
    r = await edit(ctx, "l1.txt", "old", "new")
    assert not r.is_error
    assert p.read_bytes() == b"caf\xe9\nname = new\n"


async def test_mode_preserved(root, ctx, w):
    p = w(root, "s.sh", "echo a\n")
    os.chmod(p, 0o750)
    await edit(ctx, "s.sh", "echo a", "echo b")
    assert stat.S_IMODE(os.stat(p).st_mode) == 0o750


async def test_argument_errors(root, ctx, w):
    p = w(root, "m.py", SRC)
    before = snapshot(p)
    assert "identical" in (await edit(ctx, "m.py", "a", "a")).output
    assert "empty" in (await edit(ctx, "m.py", "", "x")).output
    r = await edit(ctx, "nope.py", "a", "b")
    assert r.is_error and "write_file" in r.output
    assert (await edit(ctx, "../m.py", "a", "b")).is_error
    w(root, "bin.dat", b"\x00\x01a")
    assert "binary" in (await edit(ctx, "bin.dat", "a", "b")).output
    assert snapshot(p) == before


# ---- indentation drift: mapped onto the file's indentation exactly, or refused ----

NESTED = "class C:\n    def m(self, x):\n        if x:\n            y = 1\n        return 0\n"


async def test_halved_old_and_new_are_mapped_to_the_files_indentation(root, ctx, w):
    p = w(root, "n.py", NESTED)
    r = await edit(ctx, "n.py", "    if x:\n      y = 1\n    return 0",
                   "    if x:\n      y = 1\n      if y:\n        y -= 1\n    return 0")
    assert not r.is_error, r.output
    assert p.read_text() == NESTED.replace(
        "            y = 1\n", "            y = 1\n            if y:\n                y -= 1\n")
    assert "ignoring indentation" in r.output and "line 3" in r.output


async def test_tabs_old_string_in_space_file(root, ctx, w):
    p = w(root, "n.py", NESTED)
    r = await edit(ctx, "n.py", "\t\tif x:\n\t\t\ty = 1", "\t\tif x:\n\t\t\ty = 2\n\t\telse:\n\t\t\ty = 3")
    assert not r.is_error, r.output
    assert p.read_text() == NESTED.replace(
        "            y = 1\n", "            y = 2\n        else:\n            y = 3\n")


async def test_context_drifted_new_string_already_right(root, ctx, w):
    p = w(root, "n.py", NESTED)
    r = await edit(ctx, "n.py", "if x:\n    y = 1",
                   "if x:\n            y = 1\n            if y:\n                y -= 1")
    assert not r.is_error, r.output
    assert "                y -= 1\n" in p.read_text() and "            if y:\n" in p.read_text()


async def test_unchanged_lines_keep_the_files_bytes(root, ctx, w):
    p = w(root, "t.py", "def f():\n    a = 1   \n    return a\n")
    r = await edit(ctx, "t.py", "  a = 1\n  return a", "  a = 1\n  b = 2\n  return a")
    assert not r.is_error, r.output
    assert p.read_bytes() == b"def f():\n    a = 1   \n    b = 2\n    return a\n"


async def test_ambiguous_drift_refused_with_visible_indentation(root, ctx, w):
    src = "def f(x):\n    if x:\n        y = 1\n    return 0\n"
    p = w(root, "a.py", src)
    before = snapshot(p)
    r = await edit(ctx, "a.py", "  if x:\n    y = 1\n  return 0",
                   "  if x:\n    y = 1\n    z = 3\n  return 0")
    assert r.is_error
    assert "could belong at" in r.output
    assert "\u00b7\u00b7\u00b7\u00b7\u00b7\u00b7\u00b7\u00b7y = 1" in r.output
    assert snapshot(p) == before


async def test_drift_matching_two_places_refused(root, ctx, w):
    p = w(root, "m.py", SRC)
    before = snapshot(p)
    r = await edit(ctx, "m.py", "  return 1\n", "  return 2\n  # done\n")
    assert r.is_error and "2 places" in r.output
    assert snapshot(p) == before


async def test_old_string_inside_deeper_indentation_is_mapped_not_spliced(root, ctx, w):
    # "  y = 1" occurs inside "            y = 1"; a plain replace would put the second new line
    # at 2 spaces. Mapped, both lines land at the file's depth.
    p = w(root, "n.py", NESTED)
    r = await edit(ctx, "n.py", "  y = 1", "  y = 1\n  z = 2")
    assert not r.is_error, r.output
    assert p.read_text() == NESTED.replace("            y = 1\n", "            y = 1\n            z = 2\n")


async def test_single_line_inside_indentation_still_a_plain_replace(root, ctx, w):
    p = w(root, "n.py", NESTED)
    r = await edit(ctx, "n.py", "y = 1", "y = 5")
    assert not r.is_error
    assert p.read_text() == NESTED.replace("y = 1", "y = 5")


async def test_drifted_edit_in_crlf_tab_file_keeps_crlf_and_tabs(root, ctx, w):
    p = w(root, "m.go", b"func f() {\r\n\tif x {\r\n\t\treturn 1\r\n\t}\r\n}\r\n")
    r = await edit(ctx, "m.go", "    if x {\n        return 1\n    }",
                   "    if x {\n        y := 2\n        return y\n    }")
    assert not r.is_error, r.output
    assert p.read_bytes() == b"func f() {\r\n\tif x {\r\n\t\ty := 2\r\n\t\treturn y\r\n\t}\r\n}\r\n"


async def test_line_inside_indentation_with_unmappable_new_lines_refused(root, ctx, w):
    # "y = 1" sits inside 12 spaces; the new second line is at 3 spaces, off any reading of the
    # file's 4-space grid, so nothing is written.
    p = w(root, "n.py", NESTED)
    before = snapshot(p)
    r = await edit(ctx, "n.py", "y = 1", "y = 1\n   z = 2")
    assert r.is_error and "not in n.py as written" in r.output
    assert snapshot(p) == before
