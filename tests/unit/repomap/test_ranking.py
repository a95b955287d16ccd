"""Ranking on the fixture repository: what the task names comes first."""
from __future__ import annotations

import pytest

from realcost_agent.tools.repomap import RepoMap


def _files(text: str) -> list[str]:
    return [line for line in text.splitlines() if line and not line.startswith(" ")]


@pytest.mark.parametrize("task, first", [
    ("compute_invoice_total returns the wrong value", "app/billing.py"),
    ("fix the fetchWidgets timeout handling", "web/src/api.ts"),
    ("renderWidgetList shows nothing", "web/src/view.js"),
    ("ParseConfig ignores the port", "server/config.go"),
    ("crc_update overflows on long input", "native/src/lib.rs"),
    ("feeFor rounds down", "java/src/FeeTable.java"),
    ("ring_push drops values when full", "csrc/ring.c"),
    ("Matrix::determinant is always zero", "cpp/matrix.cpp"),
])
def test_the_file_defining_the_named_symbol_ranks_first(repo, cache_dir, task, first):
    text = RepoMap(repo, cache_dir=cache_dir).build(task=task, budget_tokens=300)
    assert _files(text)[0] == first


def test_without_a_task_the_hub_outranks_a_leaf(repo, cache_dir):
    files = _files(RepoMap(repo, cache_dir=cache_dir).build(budget_tokens=4096))
    assert files.index("app/core.py") < files.index("app/cli.py")


def test_the_named_definition_is_shown_under_its_file(repo, cache_dir):
    text = RepoMap(repo, cache_dir=cache_dir).build(task="Checksum.feed is slow",
                                                    budget_tokens=100)
    lines = text.splitlines()
    assert lines[0] == "native/src/lib.rs"
    assert any("pub fn feed(&mut self, data: &[u8])" in line for line in lines)


def test_a_file_named_in_the_task_comes_first(repo, cache_dir):
    text = RepoMap(repo, cache_dir=cache_dir).build(task="tidy up web/src/view.js please",
                                                    budget_tokens=200)
    assert _files(text)[0] == "web/src/view.js"


def test_touched_files_are_always_shown(repo, cache_dir):
    rm = RepoMap(repo, cache_dir=cache_dir)
    untouched = _files(rm.build(task="compute_invoice_total", budget_tokens=64))
    assert "csrc/ring.h" not in untouched
    touched = _files(rm.build(task="compute_invoice_total", touched=["csrc/ring.h"],
                              budget_tokens=64))
    assert "csrc/ring.h" in touched


def test_absolute_touched_paths_are_understood(repo, cache_dir):
    rm = RepoMap(repo, cache_dir=cache_dir)
    text = rm.build(touched=[str(repo / "java/src/Ledger.java")], budget_tokens=64)
    assert "java/src/Ledger.java" in _files(text)


@pytest.mark.parametrize("focus, first", [
    ("server/", "server/config.go"),
    ("feeFor", "java/src/FeeTable.java"),
    ("native/src/lib.rs", "native/src/lib.rs"),
])
def test_focus_centres_the_map(repo, cache_dir, focus, first):
    text = RepoMap(repo, cache_dir=cache_dir).build(focus=focus, budget_tokens=200)
    assert _files(text)[0] == first


def test_prose_words_do_not_outrank_named_code(repo, cache_dir):
    # "run" and "stop" are method names in app/core.py, but here they are plain English.
    text = RepoMap(repo, cache_dir=cache_dir).build(
        task="run the report and stop when monthly_report() fails", budget_tokens=100)
    assert _files(text)[0] == "app/reports.py"
