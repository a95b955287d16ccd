"""The tag cache: keyed by (size, mtime_ns); a rebuild re-parses only what changed."""
from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from realcost_agent.tools.repomap import RepoMap, cache as cache_mod, files as files_mod

N_SOURCES = 16  # source files in the fixture (README.md is not one)
PAST = time.time() - 3600


def _age(root: Path) -> None:
    """Move every mtime an hour back, so directory listings are old enough to be cached and a
    later edit is certain to change the mtime."""
    for dirpath, dirnames, filenames in os.walk(root):
        for name in filenames + dirnames:
            os.utime(os.path.join(dirpath, name), (PAST, PAST), follow_symlinks=False)
    os.utime(root, (PAST, PAST))


def test_second_build_parses_nothing(repo, cache_dir):
    rm = RepoMap(repo, cache_dir=cache_dir)
    first = rm.build()
    assert (rm.stats.parsed, rm.stats.cached, rm.stats.files) == (N_SOURCES, 0, N_SOURCES)
    assert rm.build() == first
    assert (rm.stats.parsed, rm.stats.cached) == (0, N_SOURCES)
    assert rm.stats.graph_reused


def test_a_new_process_reads_the_disk_cache(repo, cache_dir):
    first = RepoMap(repo, cache_dir=cache_dir).build()
    rm = RepoMap(repo, cache_dir=cache_dir)  # a fresh instance has only the disk cache
    assert rm.build() == first
    assert (rm.stats.parsed, rm.stats.cached) == (0, N_SOURCES)


def test_editing_one_file_reparses_only_it(repo, cache_dir):
    _age(repo)
    RepoMap(repo, cache_dir=cache_dir).build()
    with open(repo / "app/billing.py", "a") as f:
        f.write("\n\ndef refund_invoice(rows):\n    return rows\n")
    rm = RepoMap(repo, cache_dir=cache_dir)
    text = rm.build(task="refund_invoice")
    assert (rm.stats.parsed, rm.stats.cached) == (1, N_SOURCES - 1)
    assert "def refund_invoice(rows)" in text


def test_touching_one_file_reparses_only_it(repo, cache_dir):
    _age(repo)
    rm = RepoMap(repo, cache_dir=cache_dir)
    rm.build()
    os.utime(repo / "server/main.go")  # same content, new mtime
    rm.build()
    assert (rm.stats.parsed, rm.stats.cached) == (1, N_SOURCES - 1)
    assert not rm.stats.graph_reused


def test_same_size_edit_is_seen_through_mtime(repo, cache_dir):
    _age(repo)
    rm = RepoMap(repo, cache_dir=cache_dir)
    rm.build()
    p = repo / "app/jobs.py"
    p.write_text(p.read_text().replace("def schedule(job)", "def schedul3(job)"))
    text = rm.build(task="schedul3")
    assert rm.stats.parsed == 1 and "def schedul3(job)" in text


def test_deleted_and_added_files(repo, cache_dir):
    rm = RepoMap(repo, cache_dir=cache_dir)
    rm.build()
    (repo / "app/cli.py").unlink()
    (repo / "app/extra.py").write_text("def extra():\n    pass\n")
    text = rm.build(task="extra")
    assert (rm.stats.removed, rm.stats.parsed) == (1, 1)
    assert "app/cli.py" not in text and "app/extra.py" in text


def test_walk_reuses_unchanged_directory_listings(repo, cache_dir, monkeypatch):
    _age(repo)  # not a git repository: the walk is used
    RepoMap(repo, cache_dir=cache_dir).build()
    scans: list[str] = []
    real_scan = files_mod._scan
    monkeypatch.setattr(files_mod, "_scan", lambda path, rel: scans.append(rel) or real_scan(path, rel))
    rm = RepoMap(repo, cache_dir=cache_dir)
    rm.build()
    assert scans == []
    (repo / "server/extra.go").write_text("package server\n\nfunc Extra() {}\n")
    text = rm.build(task="Extra")
    assert scans == ["server"] and "func Extra()" in text


def test_stale_format_invalidates_everything(repo, cache_dir, monkeypatch):
    RepoMap(repo, cache_dir=cache_dir).build()
    monkeypatch.setattr(cache_mod, "FORMAT", cache_mod.FORMAT + 1)
    rm = RepoMap(repo, cache_dir=cache_dir)
    rm.build()
    assert rm.stats.parsed == N_SOURCES


def test_unwritable_cache_dir_still_builds(repo, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    rm = RepoMap(repo, cache_dir=blocker / "cache")  # cannot be created: a file is in the way
    assert "app/core.py" in rm.build()


@pytest.mark.parametrize("rel", ["app/core.py", "server/config.go"])
def test_cache_entry_equals_a_fresh_parse(repo, cache_dir, rel):
    from realcost_agent.tools.repomap.languages import language_of
    from realcost_agent.tools.repomap.tags import extract

    RepoMap(repo, cache_dir=cache_dir).build()
    entries, _ = cache_mod.TagCache(cache_dir, Path(os.path.realpath(repo))).load()
    fresh = extract((repo / rel).read_bytes(), language_of(rel))
    assert entries[rel][2] == tuple(tuple(d) for d in fresh.defs)
    assert entries[rel][3] == fresh.refs
