"""Refusals: each names what failed, says nothing changed, and leaves every byte as it was."""
from __future__ import annotations

import os

import pytest

from _patch_helpers import patch, run_patch, tree_state, write

SRC = """import os


def alpha():
    value = compute(1)
    return value


def beta():
    value = compute(1)
    return value
"""


@pytest.fixture
def tree(tmp_path):
    write(tmp_path, "m.py", SRC)
    write(tmp_path, "other.txt", "keep me\n")
    write(tmp_path, ".git/config", "[core]\n")
    write(tmp_path, "dir/inner.txt", "inner\n")
    return tmp_path


def refused(root, text, *fragments):
    before = tree_state(root)
    r = run_patch(root, text)
    assert r.is_error, r.output
    for f in fragments:
        assert f in r.output, f"{f!r} not in:\n{r.output}"
    assert r.output.rstrip().endswith("No file was changed.")
    assert r.metadata.get("files_changed") == []
    assert tree_state(root) == before
    return r.output


def test_no_begin(tree):
    refused(tree, "*** Update File: m.py\n@@\n-import os\n*** End Patch",
            "must start with the line '*** Begin Patch'")


def test_truncated_without_end(tree):
    refused(tree, "*** Begin Patch\n*** Update File: m.py\n@@\n-import os\n+import sys\n",
            "the patch is truncated: it must end with *** End Patch")


def test_bad_line_prefix_names_file_and_patch_line(tree):
    refused(tree, patch("*** Update File: m.py", "@@", " import os", "import sys"),
            "patch line 5", "m.py", "'import sys'")


def test_ambiguous_context_lists_places(tree):
    refused(tree, patch("*** Update File: m.py", "@@", "-    value = compute(1)", "+    value = compute(2)"),
                  "m.py: chunk 1 (patch line 3)", "matches 2 places (lines 5, 10)", "@@")


def test_ambiguous_anchor(tree):
    write(tree, "r.py", "def f():\n    x = 1\ndef f():\n    x = 1\n")
    refused(tree, patch("*** Update File: r.py", "@@ def f():", "-    x = 1", "+    x = 2"),
            "anchor 'def f():' matches 2 places (lines 1, 3)")


def test_missing_context_shows_closest_region(tree):
    refused(tree, patch("*** Update File: m.py", "@@", " def beta():", "-    value = compute(3)", "+    value = 4"),
                  "m.py: chunk 1 (patch line 3): could not find these lines",
                  "    value = compute(3)", "Closest lines in the file (lines 9-10)", "    9| def beta():")


def test_missing_anchor(tree):
    refused(tree, patch("*** Update File: m.py", "@@ def gamma():", "-    return value"),
            "could not find the @@ anchor line 'def gamma():'")


def test_chunks_out_of_order(tree):
    refused(tree, patch("*** Update File: m.py", "@@", " def beta():", "+    pass", "@@", " def alpha():", "+    pass"),
            "chunk 2", "before the previous chunk's match", "file order")


def test_end_of_file_marker_but_not_at_end(tree):
    refused(tree, patch("*** Update File: m.py", "@@", "-import os", "+import sys", "*** End of File"),
            "marked '*** End of File'")


def test_add_existing_file(tree):
    refused(tree, patch("*** Add File: other.txt", "+x"),
            "patch line 2: other.txt already exists", "*** Update File: other.txt")


def test_update_missing_file(tree):
    refused(tree, patch("*** Update File: nope.py", "@@", "-a", "+b"),
            "patch line 2: nope.py does not exist", "*** Add File")


def test_delete_missing_file(tree):
    refused(tree, patch("*** Delete File: nope.py"), "nope.py does not exist")


def test_move_onto_existing_file(tree):
    refused(tree, patch("*** Update File: m.py", "*** Move to: other.txt", "@@", "-import os", "+import sys"),
            "cannot move to other.txt, which already exists")


def test_duplicate_operations_on_same_path(tree):
    refused(tree, patch("*** Update File: m.py", "@@", "-import os", "+import sys",
                        "*** Delete File: ./m.py"),
            "patch line 6: m.py is already changed by the section at patch line 2")


def test_move_target_also_added(tree):
    refused(tree, patch("*** Update File: other.txt", "*** Move to: new.txt",
                        "*** Add File: new.txt", "+x"),
            "new.txt is already changed")


@pytest.mark.parametrize("path", ["../outside.txt", "/etc/passwd", "dir/../../x.txt"])
def test_path_outside_root(tree, path):
    refused(tree, patch(f"*** Add File: {path}", "+x"), "outside the project root")


def test_update_path_outside_root(tree):
    refused(tree, patch("*** Update File: ../m.py", "@@", "-a"), "outside the project root")


def test_move_outside_root(tree):
    refused(tree, patch("*** Update File: other.txt", "*** Move to: ../escaped.txt"), "outside the project root")


@pytest.mark.parametrize("body", [
    ("*** Update File: .git/config", "@@", "-[core]", "+[evil]"),
    ("*** Add File: .git/hooks/pre-commit", "+#!/bin/sh"),
    ("*** Delete File: .git/config",),
])
def test_path_in_git(tree, body):
    refused(tree, patch(*body), "inside .git/")


def test_symlink_pointing_outside(tree, tmp_path_factory):
    outside = tmp_path_factory.mktemp("outside")
    (outside / "secret.txt").write_text("secret\n")
    os.symlink(outside / "secret.txt", tree / "link.txt")
    os.symlink(outside, tree / "linkdir")
    refused(tree, patch("*** Update File: link.txt", "@@", "-secret", "+owned"), "outside the project root")
    refused(tree, patch("*** Add File: linkdir/new.txt", "+x"), "outside the project root")
    assert (outside / "secret.txt").read_text() == "secret\n"
    assert not (outside / "new.txt").exists()


def test_delete_of_symlink_is_refused(tree):
    os.symlink("other.txt", tree / "alias.txt")
    refused(tree, patch("*** Delete File: alias.txt"), "symbolic link")


def test_update_directory(tree):
    refused(tree, patch("*** Update File: dir", "@@", "-a"), "dir is a directory")


def test_add_under_a_file(tree):
    refused(tree, patch("*** Add File: other.txt/child.txt", "+x"), "other.txt is a file, not a directory")


def test_binary_file(tree):
    write(tree, "b.bin", b"\x00\x01abc\n")
    refused(tree, patch("*** Update File: b.bin", "@@", "-abc"), "binary")


def test_unknown_header(tree):
    refused(tree, patch("*** Rename File: m.py"), "expected '*** Add File")


def test_text_after_end(tree):
    refused(tree, patch("*** Delete File: other.txt") + "*** Begin Patch\n", "unexpected text after *** End Patch")


def test_lone_surrogate_in_added_text(tree):
    refused(tree, patch("*** Add File: s.txt", "+bad \ud800 char"), "not valid text")


def test_chunk_above_its_anchor(tree):
    refused(tree, patch("*** Update File: m.py", "@@ def beta():", "-import os", "+import sys"),
            "under the @@ anchor at line 9", "They occur at line 1, above that anchor")


@pytest.mark.parametrize("path, fragment", [
    ("bad\ud800name.txt", "the path is not valid text"),
    ("x" * 300 + ".txt", "File name too long"),
    ("d" * 300 + "/f.txt", "File name too long"),
])
def test_unusable_paths_are_refused(tree, path, fragment):
    refused(tree, patch(f"*** Add File: {path}", "+x"), fragment)
