"""Routing decisions over a table of representative tasks, and escalation."""
from __future__ import annotations

import pytest

from realcost_agent.agent.routing import RoutingPolicy, Signals, named_paths, next_tier, policy_from, route

SEED_PROMPT = (
    'Implement "Video Timeline Scrubbing with Dynamic Thumbnail Previews" feature this video '
    "player that works like YouTube's timeline hover behavior. CRITICAL: Do not break existing "
    "video functionality and position thumbnails ABOVE the timeline only. When hovering over the "
    "timeline, show 160x90px thumbnail previews of that timestamp with time tooltips, smooth "
    "cursor following, 200ms fade animations, supporting both mouse and touch interactions."
)

P = RoutingPolicy()
SMALL = (("calc.py", 300),)
TWO_BIG = (("a.py", 30_000), ("b.py", 12_000))

# (task, files, context tokens, repo files, expected profile, a word the reason must contain)
TABLE = [
    ("fix the typo in the README heading", (), 1_500, 40, "gpt-oss-20b", "typo"),
    ("rename get_usr to get_user in users.py", (("users.py", 2_000),), 1_800, 40,
     "gpt-oss-20b", "rename"),
    ("add() in calc.py subtracts; make the test pass", SMALL, 1_200, 12, "gpt-oss-20b", "short"),
    ("update the docstring of parse()", (), 1_000, 3_000, "gpt-oss-120b", "large repo"),
    ("fix the failing test", TWO_BIG, 2_000, 40, "gpt-oss-120b", "bytes"),
    ("make these consistent", (("a", 1), ("b", 1), ("c", 1)), 1_000, 40, "gpt-oss-120b", "3 files"),
    ("why does the cache miss?", (), 20_000, 40, "gpt-oss-120b", "context"),
    ("implement OAuth login", (), 1_000, 40, "gpt-oss-120b", "feature-sized"),
    ("refactor the storage layer behind an interface", (), 1_000, 40, "gpt-oss-120b", "refactor"),
    (" ".join(["word"] * 60), (), 1_000, 40, "gpt-oss-120b", "long task"),
    (SEED_PROMPT, (), 12_000, 30, "o4-mini", "critical"),
    ("patch the security hole in login.py", SMALL, 1_000, 10, "o4-mini", "security"),
    ("this goes to production tonight: fix the date bug", (), 1_000, 10, "o4-mini", "production"),
    ("Don’t break the API while fixing the typo", (), 1_000, 10, "o4-mini", "don't break"),
]


@pytest.mark.parametrize("task,files,context,repo_files,expected,why", TABLE)
def test_route_table(task, files, context, repo_files, expected, why):
    r = route(Signals(task, files, context, repo_files), P)
    assert r.profile == expected, r.reason
    assert why in r.reason
    assert not r.escalated


def test_the_seed_prompt_goes_to_the_careful_tier_even_in_a_tiny_repo():
    # The seed: 20b broke working code ($14.60 real); o4-mini had the lowest real total ($1.24).
    assert route(Signals(SEED_PROMPT, (), 500, 3), P).tier == "careful"


def test_a_task_keeps_its_tier_until_it_keeps_failing():
    base = dict(task="fix it", previous="gpt-oss-20b")
    assert route(Signals(**base, failed_checks=1), P).profile == "gpt-oss-20b"
    up = route(Signals(**base, failed_checks=2), P)
    assert (up.profile, up.escalated) == ("gpt-oss-120b", True)
    assert "2 failed checks on gpt-oss-20b" in up.reason
    tools = route(Signals(**base, tool_failures=1), P)
    assert tools.profile == "gpt-oss-120b" and "tool calls" in tools.reason
    top = route(Signals("x", previous="o4-mini", failed_checks=5), P)
    assert (top.profile, top.escalated) == ("o4-mini", False)
    # A careful task routed up front never drops a tier on follow-ups.
    assert route(Signals("typo", previous="o4-mini"), P).profile == "o4-mini"


def test_tiers_and_thresholds_come_from_the_config_table():
    p = policy_from({"light_max_words": 3, "careful_keywords": ["payments"], "large": "o4-mini",
                     "max_failed_checks": 1})
    assert route(Signals("fix the payments rounding", (), 0, 0), p).profile == "o4-mini"
    assert route(Signals("one two three four", (), 0, 0), p).profile == "o4-mini"  # large = o4-mini
    assert route(Signals("one two", (), 0, 0), p).profile == "gpt-oss-20b"
    assert route(Signals("x", previous="gpt-oss-20b", failed_checks=1), p).escalated
    assert next_tier("gpt-oss-20b", p) == "o4-mini" and next_tier("some/raw-model", p) is None


@pytest.mark.parametrize("table,message", [
    ({"light_max_files": -1}, "light_max_files"),
    ({"nonsense": 1}, "unknown key"),
    ({"careful_keywords": "production"}, "careful_keywords"),
    ({"light": ""}, "light"),
])
def test_bad_routing_tables_are_refused(table, message):
    with pytest.raises(ValueError, match=message):
        policy_from(table)


def test_named_paths():
    assert named_paths("fix src/app.py and ./README.md, not https://x.io/a.html; see lib/x") == [
        "src/app.py", "README.md", "lib/x"]
