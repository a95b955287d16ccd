from __future__ import annotations

import os
import stat

import pytest
from unidiff import PatchSet

from _patch_helpers import patch, run_patch, tree_state, write
from realcost_agent.tools.apply_patch import ApplyPatch

SRC = """import os


def alpha():
    a = 1
    b = 2
    return a + b


def beta():
    c = 3
    return c
"""


def ok(result):
    assert not result.is_error, result.output
    return result


def test_add_file_creates_parents_and_reports(tmp_path):
    r = ok(run_patch(tmp_path, patch("*** Add File: pkg/sub/new.py", "+x = 1", "+", "+y = 2")))
    assert (tmp_path / "pkg/sub/new.py").read_bytes() == b"x = 1\n\ny = 2\n"
    assert r.metadata["files_changed"] == ["pkg/sub/new.py"]
    assert "A pkg/sub/new.py (+3)" in r.output
    assert "--- /dev/null\n+++ b/pkg/sub/new.py\n" in r.metadata["diff"]
    mode = stat.S_IMODE(os.stat(tmp_path / "pkg/sub/new.py").st_mode)
    umask = os.umask(0)
    os.umask(umask)
    assert mode == 0o666 & ~umask


def test_add_empty_file(tmp_path):
    ok(run_patch(tmp_path, patch("*** Add File: empty.txt")))
    assert (tmp_path / "empty.txt").read_bytes() == b""


def test_update_multi_chunk(tmp_path):
    write(tmp_path, "m.py", SRC)
    r = ok(run_patch(tmp_path, patch(
        "*** Update File: m.py",
        "@@",
        " def alpha():",
        "-    a = 1",
        "+    a = 10",
        "     b = 2",
        "@@",
        " def beta():",
        "     c = 3",
        "-    return c",
        "+    return c * 2",
    )))
    expected = SRC.replace("a = 1", "a = 10").replace("return c\n", "return c * 2\n")
    assert (tmp_path / "m.py").read_text() == expected
    assert "M m.py (+2 -2)" in r.output
    assert r.metadata["files_changed"] == ["m.py"]


def test_delete_file(tmp_path):
    write(tmp_path, "gone.txt", "1\n2\n")
    r = ok(run_patch(tmp_path, patch("*** Delete File: gone.txt")))
    assert not (tmp_path / "gone.txt").exists()
    assert "D gone.txt (-2)" in r.output
    assert "--- a/gone.txt\n+++ /dev/null\n" in r.metadata["diff"]


def test_pure_move_keeps_content_and_mode(tmp_path):
    p = write(tmp_path, "old/name.sh", "#!/bin/sh\necho hi\n")
    os.chmod(p, 0o755)
    r = ok(run_patch(tmp_path, patch("*** Update File: old/name.sh", "*** Move to: new/dir/name.sh")))
    new = tmp_path / "new/dir/name.sh"
    assert not p.exists() and new.read_text() == "#!/bin/sh\necho hi\n"
    assert stat.S_IMODE(os.stat(new).st_mode) == 0o755
    assert "R old/name.sh -> new/dir/name.sh" in r.output
    assert r.metadata["files_changed"] == ["old/name.sh", "new/dir/name.sh"]
    assert "rename from old/name.sh\nrename to new/dir/name.sh\n" in r.metadata["diff"]


def test_move_and_update(tmp_path):
    write(tmp_path, "a.py", SRC)
    r = ok(run_patch(tmp_path, patch(
        "*** Update File: a.py",
        "*** Move to: b.py",
        "@@ def beta():",
        "-    c = 3",
        "+    c = 4",
    )))
    assert not (tmp_path / "a.py").exists()
    assert (tmp_path / "b.py").read_text() == SRC.replace("c = 3", "c = 4")
    assert "R a.py -> b.py (+1 -1)" in r.output
    assert "--- a/a.py\n+++ b/b.py\n" in r.metadata["diff"]


def test_move_onto_itself_is_plain_update(tmp_path):
    write(tmp_path, "a.txt", "x\n")
    r = ok(run_patch(tmp_path, patch("*** Update File: a.txt", "*** Move to: ./a.txt", "@@", "-x", "+y")))
    assert (tmp_path / "a.txt").read_text() == "y\n" and "M a.txt" in r.output


def test_multiple_files_and_diff_parses_with_unidiff(tmp_path):
    write(tmp_path, "one.txt", "a\nb\nc\n")
    write(tmp_path, "two.txt", "x\ny\n")
    r = ok(run_patch(tmp_path, patch(
        "*** Update File: one.txt", "@@", " a", "-b", "+B", " c",
        "*** Delete File: two.txt",
        "*** Add File: three.txt", "+3",
    )))
    assert (tmp_path / "one.txt").read_text() == "a\nB\nc\n"
    assert not (tmp_path / "two.txt").exists()
    assert (tmp_path / "three.txt").read_text() == "3\n"
    assert r.metadata["files_changed"] == ["one.txt", "two.txt", "three.txt"]
    ps = PatchSet(r.metadata["diff"])
    assert [(f.path, f.added, f.removed) for f in ps] == [
        ("one.txt", 1, 1), ("two.txt", 0, 2), ("three.txt", 1, 0),
    ]
    assert r.output.splitlines()[0] == "Applied patch to 3 files:"


def test_end_of_file_marker_picks_the_last_occurrence(tmp_path):
    write(tmp_path, "f.txt", "end\nmid\nend\n")
    ok(run_patch(tmp_path, patch("*** Update File: f.txt", "@@", "-end", "+END", "*** End of File")))
    assert (tmp_path / "f.txt").read_text() == "end\nmid\nEND\n"


def test_append_at_end_of_file_with_context(tmp_path):
    write(tmp_path, "f.txt", "a\nb\n")
    ok(run_patch(tmp_path, patch("*** Update File: f.txt", "@@", " b", "+c", "*** End of File")))
    assert (tmp_path / "f.txt").read_text() == "a\nb\nc\n"


REPEATED = """class A:
    def run(self):
        x = 1
        return x

class B:
    def run(self):
        x = 1
        return x
"""


def test_anchor_disambiguates_repeated_block(tmp_path):
    write(tmp_path, "r.py", REPEATED)
    ok(run_patch(tmp_path, patch("*** Update File: r.py", "@@ class B:", "-        x = 1", "+        x = 2")))
    assert (tmp_path / "r.py").read_text() == "x = 2".join(REPEATED.rsplit("x = 1", 1))


def test_anchor_first_occurrence_chain_narrows(tmp_path):
    src = "class A:\n    def run(self):\n        pass\n    def stop(self):\n        pass\n" \
          "class B:\n    def run(self):\n        pass\n    def stop(self):\n        pass\n"
    write(tmp_path, "c.py", src)
    ok(run_patch(tmp_path, patch(
        "*** Update File: c.py", "@@ class B:", "@@ def stop(self):", "-        pass", "+        return 1",
    )))
    lines = (tmp_path / "c.py").read_text().splitlines()
    assert lines[9] == "        return 1" and lines.count("        pass") == 3


def test_anchor_repeated_as_first_context_line(tmp_path):
    write(tmp_path, "r.py", REPEATED)
    ok(run_patch(tmp_path, patch(
        "*** Update File: r.py", "@@ class B:", " class B:", "     def run(self):", "-        x = 1", "+        x = 3",
    )))
    assert (tmp_path / "r.py").read_text().splitlines()[7] == "        x = 3"


def test_pure_insertion_after_anchor(tmp_path):
    write(tmp_path, "r.py", REPEATED)
    ok(run_patch(tmp_path, patch("*** Update File: r.py", "@@ class B:", "+    attr = 1")))
    assert (tmp_path / "r.py").read_text().splitlines()[5:7] == ["class B:", "    attr = 1"]


def test_pure_insertion_without_anchor_appends(tmp_path):
    write(tmp_path, "f.txt", "a\n")
    ok(run_patch(tmp_path, patch("*** Update File: f.txt", "@@", "+b")))
    assert (tmp_path / "f.txt").read_text() == "a\nb\n"


def test_missing_trailing_newline_is_preserved(tmp_path):
    write(tmp_path, "f.txt", "a\nb")
    r = ok(run_patch(tmp_path, patch("*** Update File: f.txt", "@@", " a", "-b", "+c", "+d")))
    assert (tmp_path / "f.txt").read_bytes() == b"a\nc\nd"
    assert "\\ No newline at end of file" in r.metadata["diff"]


def test_context_before_unterminated_last_line_gains_newline_only_in_middle(tmp_path):
    write(tmp_path, "f.txt", "a\nb")
    ok(run_patch(tmp_path, patch("*** Update File: f.txt", "@@", " b", "+c")))
    assert (tmp_path / "f.txt").read_bytes() == b"a\nb\nc"


def test_remove_all_lines(tmp_path):
    write(tmp_path, "f.txt", "a\nb\n")
    ok(run_patch(tmp_path, patch("*** Update File: f.txt", "@@", "-a", "-b")))
    assert (tmp_path / "f.txt").read_bytes() == b""


def test_update_preserves_permission_bits(tmp_path):
    p = write(tmp_path, "run.sh", "echo a\n")
    os.chmod(p, 0o750)
    ok(run_patch(tmp_path, patch("*** Update File: run.sh", "@@", "-echo a", "+echo b")))
    assert stat.S_IMODE(os.stat(p).st_mode) == 0o750 and p.read_text() == "echo b\n"


def test_symlink_inside_root_edits_target_and_keeps_link(tmp_path):
    write(tmp_path, "real.txt", "a\n")
    os.symlink("real.txt", tmp_path / "link.txt")
    ok(run_patch(tmp_path, patch("*** Update File: link.txt", "@@", "-a", "+b")))
    assert os.path.islink(tmp_path / "link.txt")
    assert (tmp_path / "real.txt").read_text() == "b\n"


def test_no_temp_files_left_behind(tmp_path):
    write(tmp_path, "a.txt", "a\n")
    ok(run_patch(tmp_path, patch("*** Update File: a.txt", "@@", "-a", "+b", "*** Add File: d/n.txt", "+n")))
    assert sorted(tree_state(tmp_path)) == ["a.txt", "d", "d/n.txt"]


def test_wrapped_patch_applies(tmp_path):
    write(tmp_path, "a.txt", "a\n")
    text = "```\napply_patch <<'EOF'\n" + patch("*** Update File: a.txt", "@@", "-a", "+b") + "EOF\n```\n"
    ok(run_patch(tmp_path, text))
    assert (tmp_path / "a.txt").read_text() == "b\n"


def test_non_utf8_bytes_in_context_survive(tmp_path):
    write(tmp_path, "l.txt", b"caf\xe9\nold\n")
    ok(run_patch(tmp_path, patch("*** Update File: l.txt", "@@", "-old", "+new")))
    assert (tmp_path / "l.txt").read_bytes() == b"caf\xe9\nnew\n"


def test_schema_and_description_are_compact():
    schema = ApplyPatch.schema()["function"]
    assert schema["name"] == "apply_patch" and ApplyPatch.mutating is True
    assert list(schema["parameters"]["properties"]) == ["patch"]
    desc = schema["description"]
    for marker in ("*** Begin Patch", "*** Update File:", "*** Add File:", "*** Delete File:",
                   "*** Move to:", "@@", "*** End Patch"):
        assert marker in desc
    assert len(desc) < 600  # roughly 100-150 tokens


def test_params_reject_unknown_fields():
    with pytest.raises(Exception):
        ApplyPatch.Params(patch="x", path="y")


SCOPED = """def f1():
    x = 1
    return x

def f2():
    x = 2
    return x

def f3():
    x = 1
    return x
"""


def test_anchor_block_bounds_the_search(tmp_path):
    # f2 has no "x = 1"; the next one (in f3) is outside f2's block and not the only one.
    write(tmp_path, "s.py", SCOPED)
    before = tree_state(tmp_path)
    r = run_patch(tmp_path, patch("*** Update File: s.py", "@@ def f2():", "-    x = 1", "+    x = 9"))
    assert r.is_error
    assert "under the @@ anchor at line 5" in r.output and "outside the block" in r.output
    assert tree_state(tmp_path) == before


def test_anchor_outside_block_accepted_when_context_is_unique(tmp_path):
    write(tmp_path, "s.py", SCOPED)
    ok(run_patch(tmp_path, patch("*** Update File: s.py", "@@ def f1():", "-    x = 2", "+    x = 9")))
    assert (tmp_path / "s.py").read_text() == SCOPED.replace("x = 2", "x = 9")


def test_decorator_anchor_lends_scope_of_next_block(tmp_path):
    src = "@route('/a')\ndef a():\n    return 1\n\n@route('/b')\ndef b():\n    return 1\n"
    write(tmp_path, "d.py", src)
    ok(run_patch(tmp_path, patch("*** Update File: d.py", "@@ @route('/b')", "-    return 1", "+    return 2")))
    assert (tmp_path / "d.py").read_text() == src[::-1].replace("1 nruter", "2 nruter", 1)[::-1]


def test_brace_block_includes_closing_line(tmp_path):
    src = "fn a() {\n    one();\n}\nfn b() {\n    two();\n}\n// end\nfn c() {\n}\n"
    write(tmp_path, "x.rs", src)
    ok(run_patch(tmp_path, patch("*** Update File: x.rs", "@@ fn b() {", "     two();", " }", "+fn new() {}")))
    assert (tmp_path / "x.rs").read_text() == src.replace("two();\n}\n", "two();\n}\nfn new() {}\n")


def test_second_anchor_must_be_inside_first_anchors_block(tmp_path):
    src = ("class A:\n    def stop(self):\n        pass\n"
           "class B:\n    def run(self):\n        pass\n"
           "class C:\n    def stop(self):\n        pass\n"
           "class D:\n    def stop(self):\n        pass\n")
    write(tmp_path, "c.py", src)
    before = tree_state(tmp_path)
    r = run_patch(tmp_path, patch("*** Update File: c.py", "@@ class B:", "@@ def stop(self):", "-        pass", "+        return"))
    assert r.is_error and "could not find the @@ anchor line 'def stop(self):'" in r.output
    assert tree_state(tmp_path) == before


def test_update_that_changes_nothing_is_reported_and_not_written(tmp_path):
    p = write(tmp_path, "same.txt", "a\n")
    mtime = os.stat(p).st_mtime_ns
    r = ok(run_patch(tmp_path, patch("*** Update File: same.txt", "@@", "-a", "+a")))
    assert "M same.txt (no change)" in r.output
    assert r.metadata == {"diff": "", "files_changed": []}
    assert os.stat(p).st_mtime_ns == mtime
