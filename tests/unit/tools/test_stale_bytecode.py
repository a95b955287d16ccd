"""A fix must not run as the old code. Python reuses `__pycache__/NAME.TAG.pyc` while the
source's mtime (whole seconds) and size match what it recorded, so a same-size edit made in the
second the last check ran ran the old bytecode: the routing suite saw a correct fix fail its
check once bytecode caching was on. Every file-changing tool drops that cache."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from realcost_agent.tools.apply_patch import ApplyPatch
from realcost_agent.tools.edit import Edit
from realcost_agent.tools.write_file import WriteFile

BUGGY = "def add(a, b):\n    return a - b\n"
FIXED = "def add(a, b):\n    return a + b\n"  # same size: only the mtime could tell


def check(root: Path) -> str:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    return subprocess.run([sys.executable, "-c", "import calc; print(calc.add(2, 3))"], cwd=root,
                          env=env, capture_output=True, text=True, check=True).stdout.strip()


async def by_edit(ctx):
    return await Edit().run(Edit.Params(path="calc.py", old_string="a - b", new_string="a + b"), ctx)


async def by_write(ctx):
    return await WriteFile().run(WriteFile.Params(path="calc.py", content=FIXED), ctx)


async def by_patch(ctx):
    patch = ("*** Begin Patch\n*** Update File: calc.py\n@@ def add(a, b):\n-    return a - b\n"
             "+    return a + b\n*** End Patch")
    return await ApplyPatch().run(ApplyPatch.Params(patch=patch), ctx)


@pytest.mark.parametrize("change", [by_edit, by_write, by_patch], ids=["edit", "write_file", "apply_patch"])
async def test_a_same_second_same_size_fix_runs_as_the_fix(root, ctx, change):
    src = root / "calc.py"
    src.write_text(BUGGY)
    assert check(root) == "-1"  # the check ran and cached the bytecode
    before = os.stat(src)
    result = await change(ctx)
    assert not result.is_error, result.output
    os.utime(src, ns=(before.st_atime_ns, before.st_mtime_ns))  # as if in the same second
    assert src.read_text() == FIXED
    assert check(root) == "5"


async def test_only_this_files_cache_and_never_through_a_symlink(root, ctx, tmp_path):
    (root / "calc.py").write_text(BUGGY)
    cache = root / "__pycache__"
    cache.mkdir()
    mine = [cache / "calc.cpython-311.pyc", cache / "calc.cpython-312.opt-1.pyc"]
    others = [cache / "calc_test.cpython-311.pyc", cache / "calcx.cpython-311.pyc", cache / "notes.txt"]
    for p in mine + others:
        p.write_bytes(b"x")
    assert not (await by_edit(ctx)).is_error
    assert [p.exists() for p in mine] == [False, False]
    assert all(p.exists() for p in others)

    # A __pycache__ that is a symlink out of the project is left alone, and so is its target.
    sub = root / "pkg"
    sub.mkdir()
    (sub / "calc.py").write_text(BUGGY)
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "calc.cpython-311.pyc").write_bytes(b"keep")
    (sub / "__pycache__").symlink_to(outside)
    result = await Edit().run(Edit.Params(path="pkg/calc.py", old_string="a - b", new_string="a + b"), ctx)
    assert not result.is_error
    assert (outside / "calc.cpython-311.pyc").read_bytes() == b"keep"
