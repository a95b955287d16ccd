import os

from realcost_agent.tools.filesets import compile_glob, project_files
from realcost_agent.tools.list_files import ListFiles


async def ls(ctx, **kw):
    return await ListFiles().run(ListFiles.Params(**kw), ctx)


def listed(result) -> list[str]:
    return result.output.splitlines()[1:]


async def test_git_repo_respects_gitignore(git_root, ctx, w, run_git):
    w(git_root, ".gitignore", "build/\n*.log\n")
    w(git_root, "src/main.py", "x")
    w(git_root, "README.md", "x")
    w(git_root, "build/out.o", "x")
    w(git_root, "debug.log", "x")
    w(git_root, ".github/ci.yml", "x")
    run_git(git_root, "add", ".")
    run_git(git_root, "commit", "-qm", "init")
    w(git_root, "untracked.txt", "x")
    w(git_root, "force.log", "x")
    run_git(git_root, "add", "-f", "force.log")  # tracked despite .gitignore: git shows it
    r = await ls(ctx)
    assert not r.is_error
    assert listed(r) == [".github/ci.yml", ".gitignore", "README.md", "force.log",
                         "src/main.py", "untracked.txt"]
    assert r.output.startswith("6 files under .")


async def test_root_below_the_repo_top(git_root, w, run_git):
    from realcost_agent.tools.base import ToolContext
    w(git_root, ".gitignore", "*.tmp\n")
    w(git_root, "outer.txt", "x")
    w(git_root, "pkg/inner.py", "x")
    w(git_root, "pkg/junk.tmp", "x")
    r = await ls(ToolContext(root=git_root / "pkg"))
    assert listed(r) == ["inner.py"]


async def test_git_deleted_tracked_file_not_listed(git_root, ctx, w, run_git):
    w(git_root, "a.txt", "x")
    w(git_root, "b.txt", "x")
    run_git(git_root, "add", ".")
    (git_root / "a.txt").unlink()
    assert listed(await ls(ctx)) == ["b.txt"]


async def test_non_git_dir_respects_gitignore(root, ctx, w):
    w(root, ".gitignore", "# comment\n*.log\n!keep.log\nbuild/\n/top-only.txt\n")
    w(root, "a.py", "x")
    w(root, "x.log", "x")
    w(root, "keep.log", "x")
    w(root, "build/out.o", "x")
    w(root, "top-only.txt", "x")
    w(root, "sub/top-only.txt", "x")  # anchored pattern: only the root one is ignored
    w(root, "sub/deep/y.log", "x")
    w(root, "sub/.gitignore", "secret.txt\n")
    w(root, "sub/secret.txt", "x")
    w(root, "secret.txt", "x")  # the nested rule does not reach up
    w(root, ".git/junk", "x")  # not a real repository, but still never listed
    r = await ls(ctx)
    assert listed(r) == [".gitignore", "a.py", "keep.log", "secret.txt", "sub/.gitignore",
                         "sub/top-only.txt"]


async def test_pattern_and_subdir(git_root, ctx, w):
    w(git_root, "src/a.py", "x")
    w(git_root, "src/pkg/b.py", "x")
    w(git_root, "src/pkg/c.txt", "x")
    w(git_root, "docs/d.py", "x")
    assert listed(await ls(ctx, pattern="*.py")) == ["docs/d.py", "src/a.py", "src/pkg/b.py"]
    assert listed(await ls(ctx, path="src")) == ["src/a.py", "src/pkg/b.py", "src/pkg/c.txt"]
    assert listed(await ls(ctx, path="src", pattern="pkg/*")) == ["src/pkg/b.py",
                                                                  "src/pkg/c.txt"]
    assert listed(await ls(ctx, pattern="src/**/*.{py,txt}")) == [
        "src/a.py", "src/pkg/b.py", "src/pkg/c.txt"]
    r = await ls(ctx, pattern="*.rs")
    assert not r.is_error and "No files" in r.output


async def test_large_tree_is_folded(root, ctx, w):
    for i in range(30):
        w(root, f"vendor/lib{i}/file.js", "x")
    for i in range(5):
        w(root, f"src/m{i}.py", "x")
    w(root, "setup.py", "x")
    r = await ls(ctx, max_entries=10)
    # the small directory is opened, the big one stays one line
    assert listed(r) == ["setup.py", "src/m0.py", "src/m1.py", "src/m2.py", "src/m3.py",
                         "src/m4.py", "vendor/ (30 files)"]
    assert "folded" in r.output.splitlines()[0]
    assert r.metadata["truncated"] is True
    assert r.metadata["count"] == 36


async def test_fold_opens_directories_while_they_fit(root, ctx, w):
    for i in range(3):
        for j in range(4):
            w(root, f"a/b{i}/c{j}.txt", "x")
    r = await ls(ctx, max_entries=5)
    assert listed(r) == ["a/b0/ (4 files)", "a/b1/ (4 files)", "a/b2/ (4 files)"]
    r = await ls(ctx, path="a", max_entries=7)
    assert listed(r) == ["a/b0/c0.txt", "a/b0/c1.txt", "a/b0/c2.txt", "a/b0/c3.txt",
                         "a/b1/ (4 files)", "a/b2/ (4 files)"]


async def test_flat_dir_over_cap_is_cut_with_count(root, ctx, w):
    for i in range(12):
        w(root, f"f{i:02}.txt", "x")
    r = await ls(ctx, max_entries=5)
    assert listed(r)[:5] == ["f00.txt", "f01.txt", "f02.txt", "f03.txt", "f04.txt"]
    assert "... and 7 more entries" in r.output


async def test_errors(root, ctx, w):
    r = await ls(ctx, path="../")
    assert r.is_error
    r = await ls(ctx, path="nope")
    assert r.is_error and "no such directory" in r.output


def test_symlink_escaping_root_is_not_listed(root, tmp_path, w):
    outside = tmp_path / "elsewhere.txt"
    outside.write_text("x")
    w(root, "ok.txt", "x")
    os.symlink(outside, root / "escape.txt")
    os.symlink("ok.txt", root / "alias.txt")
    files, _ = project_files(root)
    assert files == ["alias.txt", "ok.txt"]


def test_glob_semantics():
    assert compile_glob("*.py")("a/b/c.py")
    assert not compile_glob("src/*.py")("src/a/b.py")
    assert compile_glob("src/**/*.py")("src/a/b.py")
    assert compile_glob("src/**/*.py")("src/b.py")
    assert compile_glob("*.{ts,tsx}")("x/y.tsx")
    assert not compile_glob("*.{ts,tsx}")("x/y.js")
    assert compile_glob("test_[ab].py")("test_a.py")
    assert not compile_glob("test_[!ab].py")("test_a.py")
