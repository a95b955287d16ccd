import os
import stat

import pytest

from realcost_agent.tools import fileops
from realcost_agent.tools.write_file import WriteFile


async def write_file(ctx, path, content):
    return await WriteFile().run(WriteFile.Params(path=path, content=content), ctx)


async def test_creates_file_and_parent_dirs(root, ctx):
    r = await write_file(ctx, "a/b/c.py", "print('hi')\n")
    assert not r.is_error
    assert (root / "a/b/c.py").read_text() == "print('hi')\n"
    assert r.metadata["files_changed"] == ["a/b/c.py"]
    diff = r.metadata["diff"]
    assert diff.startswith("--- /dev/null\n+++ b/a/b/c.py\n")
    assert "+print('hi')" in diff
    assert "Created a/b/c.py" in r.output
    assert "+print" not in r.output  # the diff is for front-ends, not the model


async def test_new_file_gets_umask_mode_not_0600(root, ctx):
    old = os.umask(0o022)
    try:
        await write_file(ctx, "n.txt", "x")
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(root / "n.txt").st_mode) == 0o644


async def test_overwrite_keeps_mode_and_reports_diff(root, ctx, w):
    p = w(root, "run.sh", "#!/bin/sh\necho old\n")
    os.chmod(p, 0o755)
    r = await write_file(ctx, "run.sh", "#!/bin/sh\necho new\n")
    assert not r.is_error
    assert p.read_text() == "#!/bin/sh\necho new\n"
    assert stat.S_IMODE(os.stat(p).st_mode) == 0o755
    assert "-echo old\n+echo new\n" in r.metadata["diff"]
    assert r.metadata["diff"].startswith("--- a/run.sh\n+++ b/run.sh\n")
    assert "+1 -1" in r.output


async def test_writes_exactly_what_it_is_given(root, ctx):
    await write_file(ctx, "x.txt", "a\r\nb")
    assert (root / "x.txt").read_bytes() == b"a\r\nb"


async def test_failed_write_leaves_original_and_no_temp_files(root, ctx, w, monkeypatch):
    p = w(root, "keep.txt", "original\n")

    def boom(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(fileops.os, "replace", boom)
    r = await write_file(ctx, "keep.txt", "new content\n")
    assert r.is_error and "No space left" in r.output
    assert p.read_text() == "original\n"
    assert sorted(os.listdir(root)) == ["keep.txt"]


async def test_write_goes_through_temp_file_in_same_dir(root, ctx, w, monkeypatch):
    seen = []
    real_replace = os.replace

    def spy(src, dst):
        seen.append((os.path.dirname(src), os.path.exists(src), dst))
        return real_replace(src, dst)

    monkeypatch.setattr(fileops.os, "replace", spy)
    await write_file(ctx, "d/f.txt", "x")
    [(src_dir, existed, dst)] = seen
    assert existed and src_dir == os.path.dirname(dst) == str(root / "d")


async def test_unchanged_content_is_not_rewritten(root, ctx, w):
    p = w(root, "same.txt", "same\n")
    before = os.stat(p).st_ino
    r = await write_file(ctx, "same.txt", "same\n")
    assert not r.is_error and r.metadata["files_changed"] == []
    assert os.stat(p).st_ino == before


@pytest.mark.parametrize("bad", ["../escape.txt", ".git/config", "/etc/x"])
async def test_refuses_outside_root_and_git(root, ctx, bad):
    (root / ".git").mkdir()
    r = await write_file(ctx, bad, "x")
    assert r.is_error
    assert not (root / ".git" / "config").exists()
    assert not (root.parent / "escape.txt").exists()


async def test_refuses_directory_targets(root, ctx, w):
    w(root, "d/f.txt", "x")
    assert (await write_file(ctx, "d", "x")).is_error
    assert (await write_file(ctx, "new/", "x")).is_error
    r = await write_file(ctx, "d/f.txt/inner", "x")
    assert r.is_error and "is a file" in r.output


async def test_symlink_target_is_written_and_link_kept(root, ctx, w):
    w(root, "real.txt", "old\n")
    os.symlink("real.txt", root / "link.txt")
    r = await write_file(ctx, "link.txt", "new\n")
    assert not r.is_error
    assert os.path.islink(root / "link.txt")
    assert (root / "real.txt").read_text() == "new\n"
