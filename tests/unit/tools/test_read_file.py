from realcost_agent.tools.base import ToolContext
from realcost_agent.tools.read_file import ReadFile


async def read(ctx, **kw):
    return await ReadFile().run(ReadFile.Params(**kw), ctx)


async def test_small_file_numbered(root, ctx, w):
    w(root, "a.txt", "alpha\nbeta\n")
    r = await read(ctx, path="a.txt")
    assert not r.is_error
    assert r.output == "1\talpha\n2\tbeta"
    assert r.metadata["total_lines"] == 2


async def test_pages_long_file(root, w):
    ctx = ToolContext(root=root, max_output_chars=100_000)  # so the line cap is what bites
    w(root, "big.txt", "".join(f"line {i}\n" for i in range(1, 3001)))
    r = await read(ctx, path="big.txt")
    lines = r.output.splitlines()
    assert lines[0] == "   1\tline 1"
    assert lines[1999] == "2000\tline 2000"
    assert "showing lines 1-2000 of 3000; call again with start_line=2001" in lines[-1]
    r2 = await read(ctx, path="big.txt", start_line=2001)
    lines2 = r2.output.splitlines()
    assert lines2[0] == "2001\tline 2001"
    assert lines2[-2] == "3000\tline 3000"
    assert "call again" not in r2.output
    assert "lines 2001-3000 of 3000" in lines2[-1]


async def test_char_budget_pages_too(root, w):
    ctx = ToolContext(root=root, max_output_chars=1000)
    w(root, "wide.txt", "".join("x" * 99 + "\n" for _ in range(100)))
    r = await read(ctx, path="wide.txt")
    assert len(r.output) < 1500
    assert "call again with start_line=" in r.output
    assert r.metadata["truncated"] is True


async def test_range(root, ctx, w):
    w(root, "r.txt", "".join(f"{i}\n" for i in range(1, 11)))
    r = await read(ctx, path="r.txt", start_line=5, end_line=7)
    assert r.output.splitlines()[:3] == ["5\t5", "6\t6", "7\t7"]
    assert "lines 5-7 of 10" in r.output
    assert "8\t8" not in r.output


async def test_range_errors(root, ctx, w):
    w(root, "r.txt", "a\nb\n")
    r = await read(ctx, path="r.txt", start_line=5)
    assert r.is_error and "past the end" in r.output and "2 lines" in r.output
    r = await read(ctx, path="r.txt", start_line=2, end_line=1)
    assert r.is_error


async def test_binary_refused(root, ctx, w):
    w(root, "img.bin", b"\x89PNG\r\n\x1a\n\x00\x00\x00rest")
    r = await read(ctx, path="img.bin")
    assert r.is_error and "binary" in r.output


async def test_non_utf8_replaced_and_flagged(root, ctx, w):
    w(root, "latin.txt", "caf\xe9\n".encode("latin-1"))
    r = await read(ctx, path="latin.txt")
    assert not r.is_error
    assert "1\tcaf\ufffd" in r.output
    assert "not valid UTF-8" in r.output


async def test_missing_file_suggests_same_name(root, ctx, w):
    w(root, "src/pkg/util.py", "x\n")
    r = await read(ctx, path="util.py")
    assert r.is_error and "no such file" in r.output
    assert "src/pkg/util.py" in r.output


async def test_directory_refused(root, ctx, w):
    w(root, "d/x.txt", "x")
    r = await read(ctx, path="d")
    assert r.is_error and "list_files" in r.output


async def test_empty_file(root, ctx, w):
    w(root, "e.txt", "")
    r = await read(ctx, path="e.txt")
    assert not r.is_error and "empty" in r.output


async def test_crlf_and_long_lines(root, ctx, w):
    w(root, "c.txt", "one\r\ntwo\r\n" + "z" * 5000 + "\n")
    r = await read(ctx, path="c.txt")
    assert "\r" not in r.output
    assert "1\tone\n2\ttwo" in r.output
    assert "line truncated: 5000 chars" in r.output
    assert len(r.output) < 2500


async def test_last_line_without_newline(root, ctx, w):
    w(root, "n.txt", "a\nb")
    r = await read(ctx, path="n.txt")
    assert r.output == "1\ta\n2\tb"
