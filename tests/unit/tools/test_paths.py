import os
from pathlib import Path

import pytest

from realcost_agent.tools.paths import PathError, display, resolve_in_root
from realcost_agent.tools.read_file import ReadFile
from realcost_agent.tools.write_file import WriteFile


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    d = tmp_path / "outside"
    d.mkdir()
    (d / "secret.txt").write_text("s3cret\n")
    return d


def test_dotdot_refused(root):
    with pytest.raises(PathError, match="outside the project root"):
        resolve_in_root(root, "../x")
    with pytest.raises(PathError):
        resolve_in_root(root, "a/../../x")


def test_dotdot_that_stays_inside_is_fine(root):
    assert resolve_in_root(root, "a/../b.txt") == Path(os.path.realpath(root)) / "b.txt"


def test_absolute_outside_refused(root, outside):
    with pytest.raises(PathError):
        resolve_in_root(root, str(outside / "secret.txt"))
    with pytest.raises(PathError):
        resolve_in_root(root, "/etc/passwd")


def test_absolute_inside_allowed(root):
    (root / "f.txt").write_text("x")
    assert resolve_in_root(root, str(root / "f.txt")) == Path(os.path.realpath(root / "f.txt"))


def test_symlink_pointing_outside_refused(root, outside):
    os.symlink(outside / "secret.txt", root / "link.txt")
    with pytest.raises(PathError):
        resolve_in_root(root, "link.txt")


def test_dangling_symlink_pointing_outside_refused(root, outside):
    os.symlink(outside / "not-there-yet.txt", root / "dangling")
    with pytest.raises(PathError):
        resolve_in_root(root, "dangling")


def test_symlink_inside_resolves_to_target(root):
    (root / "real.txt").write_text("x")
    os.symlink("real.txt", root / "alias.txt")
    assert resolve_in_root(root, "alias.txt") == Path(os.path.realpath(root)) / "real.txt"


def test_git_dir_refused_unless_allowed(root):
    (root / ".git").mkdir()
    (root / ".git" / "config").write_text("[core]\n")
    with pytest.raises(PathError, match=".git"):
        resolve_in_root(root, ".git/config")
    with pytest.raises(PathError):
        resolve_in_root(root, "sub/../.git/config")
    assert resolve_in_root(root, ".git/config", allow_git=True).name == "config"


def test_symlink_into_git_dir_refused(root):
    (root / ".git").mkdir()
    os.symlink(".git", root / "g")
    with pytest.raises(PathError):
        resolve_in_root(root, "g/config")


def test_new_file_inside_allowed(root):
    p = resolve_in_root(root, "new/dir/file.py")
    assert p == Path(os.path.realpath(root)) / "new" / "dir" / "file.py"
    assert not p.exists()


def test_new_file_under_symlinked_dir_pointing_outside_refused(root, outside):
    os.symlink(outside, root / "linkdir")
    with pytest.raises(PathError):
        resolve_in_root(root, "linkdir/new-file.txt")


@pytest.mark.parametrize("bad", ["", "   ", "a\x00b"])
def test_empty_or_nul_refused(root, bad):
    with pytest.raises(PathError):
        resolve_in_root(root, bad)


def test_display_is_repo_relative(root):
    assert display(root, root / "a" / "b.txt") == "a/b.txt"


async def test_tools_return_errors_instead_of_raising(root, ctx, outside):
    os.symlink(outside, root / "linkdir")
    r = await ReadFile().run(ReadFile.Params(path="../outside/secret.txt"), ctx)
    assert r.is_error and "outside the project root" in r.output
    r = await WriteFile().run(WriteFile.Params(path="linkdir/x.txt", content="x"), ctx)
    assert r.is_error
    assert not (outside / "x.txt").exists()


def test_lone_surrogate_is_a_path_error(tmp_path):
    from realcost_agent.tools.paths import PathError, resolve_in_root

    with pytest.raises(PathError, match="not valid text"):
        resolve_in_root(tmp_path, "a\ud800b")


@pytest.mark.parametrize("bad", ["a" * 256, "d/" + "é" * 128, "d/" * 2100 + "f"])
def test_overlong_names_are_path_errors(root, bad):
    with pytest.raises(PathError, match="File name too long"):
        resolve_in_root(root, bad)


def test_longest_allowed_name_is_fine(root):
    assert resolve_in_root(root, "a" * 255).name == "a" * 255
