"""read_file, search and list_files stay within a fixed memory bound on a 2 GB file.

The files are sparse (a text head, then 2 GB of holes), so making them costs no disk. Memory
is measured with tracemalloc around the tool call: what the tool itself allocates, not the
process's RSS, and never wall time.
"""
from __future__ import annotations

import asyncio
import os
import tracemalloc
from pathlib import Path

import pytest

from realcost_agent.tools.base import ToolContext
from realcost_agent.tools.list_files import ListFiles
from realcost_agent.tools.read_file import MAX_SCAN_BYTES, ReadFile
from realcost_agent.tools.search import Search

GB2 = 2 * 1024 ** 3
BOUND = 16 * 1024 * 1024  # what any of these may allocate at peak


def _sparse(path: Path, head: bytes, size: int = GB2) -> Path:
    with open(path, "wb") as f:
        f.write(head)
        f.truncate(size)
    return path


def _peak(coro_factory):
    tracemalloc.start()
    try:
        result = asyncio.run(coro_factory())
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return result, peak


def _read(root: Path, **params):
    tool = ReadFile()
    ctx = ToolContext(root=root)
    return _peak(lambda: tool.run(tool.Params(**params), ctx))


@pytest.fixture
def big_text(tmp_path: Path) -> Path:
    head = b"".join(b"line %d of a huge log\n" % i for i in range(1, 601))  # > the 8 KB binary sniff
    return _sparse(tmp_path / "huge.log", head)


def test_a_range_of_a_2gb_file_is_read_without_reading_the_rest(tmp_path, big_text):
    r, peak = _read(tmp_path, path="huge.log", start_line=5, end_line=9)
    assert not r.is_error, r.output
    assert "5\tline 5 of a huge log" in r.output and "9\tline 9" in r.output
    assert "10\t" not in r.output
    assert "2.0 GB" in r.output  # says what it did not count
    assert r.metadata["total_lines"] is None and r.metadata["size"] == GB2
    assert peak < BOUND, peak


def test_the_default_page_of_a_2gb_file_is_bounded(tmp_path, big_text):
    r, peak = _read(tmp_path, path="huge.log")
    assert not r.is_error
    assert "1\tline 1 of a huge log" in r.output
    # The 2 GB "line" of holes after the head is cut, not held.
    assert "line truncated" in r.output or "start_line=" in r.output
    assert len(r.output) < 30_000
    assert peak < BOUND, peak


def test_a_line_past_the_scan_limit_is_refused_with_the_size(tmp_path, big_text):
    r, peak = _read(tmp_path, path="huge.log", start_line=5000)
    assert r.is_error
    assert "2.0 GB" in r.output and str(GB2) in r.output
    assert "search" in r.output
    assert peak < BOUND, peak


def test_a_sparse_2gb_file_of_zeros_is_refused_as_binary_with_its_size(tmp_path):
    _sparse(tmp_path / "disk.img", b"")
    r, peak = _read(tmp_path, path="disk.img")
    assert r.is_error and "binary" in r.output and "2.0 GB" in r.output
    assert peak < 1024 * 1024


def test_one_enormous_line_is_cut_not_held(tmp_path):
    # 40 MB on one line (no NUL in the first 8 KB): larger than the count-all limit.
    path = tmp_path / "one.txt"
    with open(path, "wb") as f:
        chunk = b"a" * (1 << 20)
        for _ in range(40):
            f.write(chunk)
        f.write(b"\nsecond line\n")
    r, peak = _read(tmp_path, path="one.txt")
    assert not r.is_error
    assert "line truncated" in r.output and "second line" in r.output
    assert peak < BOUND, peak


def test_small_files_still_report_their_total(tmp_path):
    (tmp_path / "s.txt").write_text("a\nb\nc\n")
    r, _ = _read(tmp_path, path="s.txt", start_line=2, end_line=2)
    assert r.metadata["total_lines"] == 3 and "lines 2-2 of 3" in r.output


def test_scan_limit_is_far_below_the_file(tmp_path):
    assert MAX_SCAN_BYTES < GB2 // 4


def test_search_streams_a_2gb_file(tmp_path, big_text):
    tool = Search(engine="python")
    ctx = ToolContext(root=tmp_path)
    params = tool.Params(pattern="line 17 of", path="huge.log")
    r, peak = _peak(lambda: tool.run(params, ctx))
    assert "line 17 of a huge log" in r.output
    assert peak < BOUND + (2 << 20), peak  # one capped line (1 MiB) plus the bound


def test_list_files_does_not_read_contents(tmp_path, big_text):
    tool = ListFiles()
    ctx = ToolContext(root=tmp_path)
    r, peak = _peak(lambda: tool.run(tool.Params(), ctx))
    assert "huge.log" in r.output
    assert peak < BOUND, peak
