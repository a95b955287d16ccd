"""The token budget: the map's estimate never exceeds it, and a bigger budget only adds."""
from __future__ import annotations

import pytest

from realcost_agent.tools.repomap import PROFILE_BUDGETS, RepoMap, budget_for, estimate_tokens
from realcost_agent.tools.repomap.render import estimate_line


@pytest.mark.parametrize("budget", [64, 80, 120, 200, 350, 600, 1000, 4096])
def test_estimated_tokens_stay_within_budget(repo, cache_dir, budget):
    rm = RepoMap(repo, cache_dir=cache_dir)
    text = rm.build(task="Engine", budget_tokens=budget)
    assert text
    assert estimate_tokens(text) == rm.stats.tokens <= budget


def test_budget_below_the_floor_is_raised_to_it(repo, cache_dir):
    rm = RepoMap(repo, cache_dir=cache_dir)
    assert rm.build(budget_tokens=1) == rm.build(budget_tokens=64)


def test_bigger_budget_only_adds_lines(repo, cache_dir):
    rm = RepoMap(repo, cache_dir=cache_dir)
    small = rm.build(task="fetchWidgets", budget_tokens=100).splitlines()
    large = rm.build(task="fetchWidgets", budget_tokens=400).splitlines()
    assert len(large) > len(small)
    assert set(small) <= set(large)


def test_whole_repository_fits_a_large_budget(repo, cache_dir):
    rm = RepoMap(repo, cache_dir=cache_dir)
    rm.build(budget_tokens=100_000)
    everything = rm.stats.entries
    rm.build(budget_tokens=100)
    assert 0 < rm.stats.entries < everything


def test_estimate_is_a_sum_over_lines_and_grows_with_length():
    text = "a.py\n  1: def f(x)\n  9: class VeryLongClassNameForTesting(Base)\n"
    assert estimate_tokens(text) == sum(estimate_line(line) for line in text.splitlines())
    assert estimate_line("x" * 100) > estimate_line("x" * 10) >= 1


def test_profile_budgets():
    assert budget_for("gpt-oss-20b") == PROFILE_BUDGETS["gpt-oss-20b"] == 1024
    assert budget_for("gpt-oss-120b") == 4096
    assert budget_for("o4-mini") == 2048
    assert budget_for("some/other-model") == 2048
    assert budget_for(None) == 2048
    assert budget_for("gpt-oss-20b", override=3000) == 3000
