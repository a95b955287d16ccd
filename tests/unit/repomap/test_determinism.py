"""Same files + same task = the same map, byte for byte, in separate processes.

Each build runs in its own interpreter with a different PYTHONHASHSEED (so set and dict-of-str
iteration orders differ between them) and its own cache: one cold, one warm from the other's
disk cache. Aider's map fails exactly this (its tag order varies between runs).
"""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

SCRIPT = r"""
import sys
from realcost_agent.tools.repomap import RepoMap
root, cache, task = sys.argv[1], sys.argv[2], sys.argv[3]
rm = RepoMap(root, cache_dir=cache)
text = rm.build(task=task, touched=["server/main.go"], budget_tokens=int(sys.argv[4]))
sys.stdout.buffer.write(text.encode("utf-8"))
sys.stderr.write(f"{rm.stats.parsed} {rm.stats.cached}")
"""


def _build(repo, cache, seed: str, task: str, budget: int = 300) -> tuple[bytes, str]:
    env = dict(os.environ, PYTHONHASHSEED=seed)
    proc = subprocess.run([sys.executable, "-c", SCRIPT, str(repo), str(cache), task, str(budget)],
                          capture_output=True, env=env, timeout=120, check=True)
    return proc.stdout, proc.stderr.decode()


@pytest.mark.parametrize("task", ["", "compute_invoice_total is wrong in app/billing.py",
                                  "the ledger balance after fees and the parse config step"])
def test_two_processes_build_identical_maps(repo, tmp_path, task):
    a, stats_a = _build(repo, tmp_path / "cache-a", "1", task)
    b, stats_b = _build(repo, tmp_path / "cache-b", "2", task)
    assert stats_a == stats_b == "16 0"  # both cold
    assert a and a == b


def test_warm_build_from_another_processes_cache_is_identical(repo, tmp_path):
    cold, _ = _build(repo, tmp_path / "cache", "3", "Engine")
    warm, stats = _build(repo, tmp_path / "cache", "4", "Engine")
    assert stats == "0 16"
    assert warm == cold


def test_in_process_rebuilds_are_identical(repo, cache_dir):
    from realcost_agent.tools.repomap import RepoMap

    rm = RepoMap(repo, cache_dir=cache_dir)
    maps = {rm.build(task="fetchWidgets", budget_tokens=b) for b in (200, 200, 200)}
    assert len(maps) == 1
