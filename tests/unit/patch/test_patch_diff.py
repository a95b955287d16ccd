"""metadata["diff"] is a real git diff: minimal hunks, and `git apply` reproduces the result."""
from __future__ import annotations

import shutil
import subprocess

import pytest

from _patch_helpers import patch, run_patch, tree_state, write


def test_hunk_lands_on_the_edited_copy_of_repeated_lines(tmp_path):
    src = "".join(f"def f{i}():\n    x = {i % 7}\n    return x\n}}\n" for i in range(300))
    write(tmp_path, "big.py", src)
    r = run_patch(tmp_path, patch("*** Update File: big.py", "@@ def f299():", "-    x = 5", "+    x = 50"))
    assert not r.is_error, r.output
    diff = r.metadata["diff"]
    assert diff.count("\n@@ ") == 1
    assert "@@ -1195,6 +1195,6 @@\n     return x\n }\n def f299():\n-    x = 5\n+    x = 50\n" in diff
    assert "M big.py (+1 -1)" in r.output


def test_two_distant_chunks_make_two_hunks(tmp_path):
    write(tmp_path, "l.txt", "".join(f"line {i}\n" for i in range(40)))
    r = run_patch(tmp_path, patch("*** Update File: l.txt", "@@", "-line 2", "+L2", "@@", "-line 30", "+L30"))
    hunks = [ln for ln in r.metadata["diff"].splitlines() if ln.startswith("@@")]
    assert hunks == ["@@ -1,6 +1,6 @@", "@@ -28,7 +28,7 @@"]


def test_pure_rename_diff_has_no_hunks(tmp_path):
    write(tmp_path, "a.txt", "a\n")
    r = run_patch(tmp_path, patch("*** Update File: a.txt", "*** Move to: b.txt"))
    assert r.metadata["diff"] == "diff --git a/a.txt b/b.txt\nrename from a.txt\nrename to b.txt\n"


@pytest.mark.skipif(shutil.which("git") is None, reason="git not installed")
def test_git_apply_reproduces_the_result(tmp_path):
    work, check = tmp_path / "work", tmp_path / "check"
    files = {
        "m.py": "def f():\n    return 1\n\n\ndef g():\n    return 2\n",
        "crlf.txt": "one\r\ntwo\r\nthree\r\n",
        "noeol.txt": "a\nb",
        "gone.txt": "bye\n",
        "old/name.txt": "keep\nme\n",
    }
    for root in (work, check):
        for rel, content in files.items():
            write(root, rel, content)
    r = run_patch(work, patch(
        "*** Update File: m.py", "@@ def g():", "-    return 2", "+    return 3",
        "*** Update File: crlf.txt", "@@", " two", "+two and a half",
        "*** Update File: noeol.txt", "@@", " a", "-b", "+c",
        "*** Delete File: gone.txt",
        "*** Add File: new/file.txt", "+fresh",
        "*** Update File: old/name.txt", "*** Move to: new/name.txt", "@@", "-me", "+you",
    ))
    assert not r.is_error, r.output
    (tmp_path / "d.patch").write_text(r.metadata["diff"], newline="")
    subprocess.run(["git", "init", "-q", str(check)], check=True)
    subprocess.run(["git", "apply", "--whitespace=nowarn", str(tmp_path / "d.patch")], cwd=check, check=True)
    shutil.rmtree(check / ".git")

    # git drops directories a move leaves empty; apply_patch leaves directories alone.
    def files(root):
        return {k: v for k, v in tree_state(root).items() if v[0] != "dir"}

    assert files(check) == files(work)
    assert (work / "crlf.txt").read_bytes() == b"one\r\ntwo\r\ntwo and a half\r\nthree\r\n"
