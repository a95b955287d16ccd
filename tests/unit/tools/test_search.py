import pytest

from realcost_agent.tools.search import Search, find_rg

needs_rg = pytest.mark.skipif(
    find_rg() is None,
    reason="ripgrep (rg) is not installed: `pip install ripgrep` puts it in the venv")


async def search(ctx, engine="python", **kw):
    return await Search(engine).run(Search.Params(**kw), ctx)


def make_tree(root, w):
    w(root, ".gitignore", "ignored/\n*.tmp\n")
    w(root, "src/app.py", "import os\n\ndef main():\n    return TODO_fix(os)\n")
    w(root, "src/util.py", "def helper():\n    pass  # TODO: tidy\n")
    w(root, "src/deep/mod.py", "class Foo:\n    todo = 1\n")
    w(root, "docs/notes.md", "todo list\nTODO first\nnothing\n")
    w(root, "crlf.txt", "alpha TODO\r\nbeta\r\n")
    w(root, "unicode.txt", "naïve TODO ✓\n")
    w(root, "long.min.js", "var a=1;" * 200 + "TODO" + ";var b=2" * 100 + "\n")
    w(root, ".github/ci.yml", "# TODO ci\n")
    w(root, "ignored/skip.py", "TODO ignored\n")
    w(root, "scratch.tmp", "TODO tmp\n")
    w(root, "blob.bin", b"TODO\x00\x01\x02 binary")
    w(root, "empty.txt", "")
    w(root, "no-eol.txt", "last TODO")


@pytest.fixture(params=["git", "plain"])
def tree(request, root, w, run_git):
    if request.param == "git":
        run_git(root, "init", "-q")
    make_tree(root, w)
    return root


CASES = [
    dict(pattern="TODO"),
    dict(pattern="todo", case_insensitive=True),
    dict(pattern=r"^\s+\w+ = \d+$"),
    dict(pattern="TODO", glob="*.py"),
    dict(pattern="TODO", path="src"),
    dict(pattern="TODO", path="src/app.py"),
    dict(pattern="TODO", max_results=3),
    dict(pattern=r"TODO(?=:)"),  # look-ahead: rg refuses it, the Python fallback answers
    dict(pattern="^$"),
    dict(pattern="a$"),  # must not match "beta\r" in either engine
    dict(pattern="✓"),
    dict(pattern=r"TODO\r?\nbeta"),  # rg refuses a literal newline; per-line matching finds none
    dict(pattern="-x|=1;v"),  # leading dash must not be read as an rg flag
]


@needs_rg
@pytest.mark.parametrize("case", CASES, ids=lambda c: repr(c))
async def test_rg_and_python_agree(tree, ctx, case):
    py = await search(ctx, "python", **case)
    rg = await search(ctx, "rg", **case)
    assert py.output == rg.output
    assert py.is_error == rg.is_error
    assert py.metadata["matches"] == rg.metadata["matches"]
    assert py.metadata["truncated"] == rg.metadata["truncated"]


async def test_python_engine_results(tree, ctx):
    r = await search(ctx, pattern="TODO")
    out = r.output
    assert "ignored/skip.py" not in out and "scratch.tmp" not in out  # .gitignore
    assert "blob.bin" not in out  # binary
    for f in ["src/app.py", "src/util.py", "docs/notes.md", "crlf.txt", "unicode.txt",
              ".github/ci.yml", "no-eol.txt", "long.min.js"]:
        assert f"\n{f}\n" in out, f
    assert "  4:     return TODO_fix(os)" in out
    assert "  1: alpha TODO\n" in out  # no stray \r
    # sorted by path, then line
    files = [ln for ln in out.splitlines()[1:] if not ln.startswith("  ")]
    assert files == sorted(files)
    assert out.startswith("8 matches in 8 files")


async def test_long_lines_are_clipped_around_match(tree, ctx):
    r = await search(ctx, pattern="TODO", glob="*.js")
    line = r.output.splitlines()[2]
    assert "TODO" in line
    assert len(line) < 400
    assert "chars]" in line


async def test_case_insensitive_and_path(tree, ctx):
    r = await search(ctx, pattern="todo", case_insensitive=True, path="docs")
    assert r.output == "2 matches in 1 file\ndocs/notes.md\n  1: todo list\n  2: TODO first"


async def test_max_results_truncates(tree, ctx):
    r = await search(ctx, pattern="TODO", max_results=2)
    assert r.metadata["truncated"] is True
    assert r.metadata["matches"] == 2
    assert "stopped at 2" in r.output


async def test_invalid_regex_is_a_tool_error(tree, ctx):
    for engine in ("python", "auto"):
        r = await search(ctx, engine, pattern="foo(")
        assert r.is_error
        assert "invalid regex" in r.output and "foo(" in r.output


async def test_no_matches(tree, ctx):
    r = await search(ctx, pattern="zzz_nothing")
    assert not r.is_error and r.output.startswith("No matches")


async def test_path_errors(tree, ctx):
    assert (await search(ctx, pattern="x", path="../")).is_error
    assert (await search(ctx, pattern="x", path="missing")).is_error
    r = await search(ctx, pattern="x", path="blob.bin")
    assert r.is_error and "binary" in r.output


async def test_explicit_ignored_file_is_searched(tree, ctx):
    r = await search(ctx, pattern="TODO", path="scratch.tmp")
    assert "scratch.tmp\n  1: TODO tmp" in r.output


@needs_rg
async def test_auto_uses_rg_when_present(tree, ctx):
    r = await search(ctx, "auto", pattern="TODO")
    assert r.metadata["engine"] == "rg"
    r = await search(ctx, "auto", pattern=r"TODO(?=:)")
    assert r.metadata["engine"] == "python"
    assert "src/util.py" in r.output


@needs_rg
async def test_rg_handles_many_files_in_batches(root, ctx, w, monkeypatch):
    import realcost_agent.tools.search as s
    monkeypatch.setattr(s, "_BATCH_FILES", 7)
    for i in range(40):
        w(root, f"d{i:02}/f.txt", f"hit {i}\nmiss\n")
    py = await search(ctx, "python", pattern="hit", max_results=25)
    rg = await search(ctx, "rg", pattern="hit", max_results=25)
    assert py.output == rg.output
    assert rg.metadata == {**py.metadata, "engine": "rg"}
    assert "d24/f.txt" in rg.output and "d25/f.txt" not in rg.output


@pytest.mark.parametrize("pattern", ["a\x00b", "\ud800"])
async def test_patterns_that_cannot_be_argv_use_python(tree, ctx, pattern):
    r = await search(ctx, "auto", pattern=pattern)
    assert not r.metadata.get("internal_error"), r.output
    assert r.metadata["engine"] == "python"
