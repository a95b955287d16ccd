"""Whole or nothing: verification failures and commit-phase failures leave the tree as it was."""
from __future__ import annotations

import os

import pytest

from _patch_helpers import patch, run_patch, tree_state, write


@pytest.fixture
def tree(tmp_path):
    write(tmp_path, "a.txt", "a1\na2\n")
    write(tmp_path, "b.txt", "b1\nb2\n")
    write(tmp_path, "c.txt", "c1\n")
    write(tmp_path, "d.txt", "d1\n")
    os.chmod(tmp_path / "b.txt", 0o754)
    return tmp_path


BIG = patch(
    "*** Update File: a.txt", "@@", "-a1", "+A1",
    "*** Add File: new/deep/n.txt", "+n",
    "*** Update File: b.txt", "*** Move to: moved/b.txt", "@@", "-b2", "+B2",
    "*** Update File: c.txt", "@@", "-c1", "+C1",
    "*** Delete File: d.txt",
)


def test_big_patch_applies_when_nothing_fails(tree):
    r = run_patch(tree, BIG)
    assert not r.is_error, r.output
    assert (tree / "a.txt").read_text() == "A1\na2\n"
    assert (tree / "new/deep/n.txt").read_text() == "n\n"
    assert (tree / "moved/b.txt").read_text() == "b1\nB2\n"
    assert os.stat(tree / "moved/b.txt").st_mode & 0o777 == 0o754
    assert (tree / "c.txt").read_text() == "C1\n"
    assert not (tree / "d.txt").exists() and not (tree / "b.txt").exists()


def test_second_file_failing_leaves_first_untouched(tree):
    before = tree_state(tree)
    r = run_patch(tree, patch(
        "*** Update File: a.txt", "@@", "-a1", "+A1",
        "*** Update File: b.txt", "@@", "-no such line", "+x",
    ))
    assert r.is_error
    assert "b.txt: chunk 1 (patch line 7)" in r.output and "No file was changed." in r.output
    assert tree_state(tree) == before


def test_second_chunk_failing_leaves_first_chunk_unapplied(tree):
    before = tree_state(tree)
    r = run_patch(tree, patch("*** Update File: a.txt", "@@", "-a1", "+A1", "@@", "-zzz", "+y"))
    assert r.is_error and "a.txt: chunk 2" in r.output
    assert tree_state(tree) == before


def test_last_operation_failing_blocks_earlier_adds_and_deletes(tree):
    before = tree_state(tree)
    r = run_patch(tree, patch(
        "*** Add File: fresh.txt", "+x",
        "*** Delete File: c.txt",
        "*** Add File: a.txt", "+clash",
    ))
    assert r.is_error and "a.txt already exists" in r.output
    assert tree_state(tree) == before


def _fail_on_call(monkeypatch, name, n, match=None):
    real = getattr(os, name)
    calls = {"n": 0}

    def fake(*args, **kwargs):
        if match is None or match in str(args[0]):
            calls["n"] += 1
            if calls["n"] == n:
                raise OSError(28, "No space left on device")
        return real(*args, **kwargs)

    monkeypatch.setattr(os, name, fake)
    return calls


@pytest.mark.parametrize("n", [1, 2, 3, 4])
def test_replace_failure_midway_rolls_back(tree, monkeypatch, n):
    before = tree_state(tree)
    calls = _fail_on_call(monkeypatch, "replace", n)
    r = run_patch(tree, BIG)
    assert calls["n"] == n
    assert r.is_error
    assert "No space left on device" in r.output and "every file was restored" in r.output
    assert "No file was changed." in r.output
    # Restored content, modes, no temp files, no directories left from the Add/Move.
    assert tree_state(tree) == before


def test_unlink_failure_during_deletes_rolls_back(tree, monkeypatch):
    before = tree_state(tree)
    calls = _fail_on_call(monkeypatch, "unlink", 1, match="d.txt")
    r = run_patch(tree, BIG)
    assert calls["n"] >= 1 and r.is_error and "every file was restored" in r.output
    assert tree_state(tree) == before


def test_staging_failure_leaves_no_temp_files(tree, monkeypatch):
    before = tree_state(tree)
    _fail_on_call(monkeypatch, "fsync", 3)
    r = run_patch(tree, BIG)
    assert r.is_error and "could not write" in r.output and "No file was changed." in r.output
    assert tree_state(tree) == before


def test_failed_rollback_is_reported_honestly(tree, monkeypatch):
    import builtins

    _fail_on_call(monkeypatch, "replace", 2)
    real_open = builtins.open

    def bad_open(path, mode="r", *a, **k):
        if "w" in mode and str(path).endswith("a.txt"):
            raise OSError(13, "Permission denied")
        return real_open(path, mode, *a, **k)

    monkeypatch.setattr(builtins, "open", bad_open)
    r = run_patch(tree, BIG)
    assert r.is_error
    assert "rollback failed for: a.txt" in r.output and "may have been changed" in r.output
    assert "No file was changed." not in r.output
