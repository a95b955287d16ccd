"""Learned routing (agent/autoroute.py), its aggregate (agent/route_stats.py), the hand-over
arithmetic (agent/budget.py), the cache-switch line, local compute prices and the budget setting."""
from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from realcost_agent.agent.autoroute import Features, choose, estimate, kind_of, open_history, size_class
from realcost_agent.agent.budget import AttemptStats, attempt_stats, weigh
from realcost_agent.agent.cacheswitch import discarded_cost
from realcost_agent.cli.compare_suite import wilson
from realcost_agent.agent.config import load_settings
from realcost_agent.agent.costs import local_compute, price_with_overrides
from realcost_agent.agent.ledger import Ledger
from realcost_agent.agent.routing import Route, RoutingPolicy, policy_from
from realcost_agent.providers.catalogue import resolve_model
from realcost_agent.providers.prices import FREE, Price

POLICY = RoutingPolicy()
RULE = Route("gpt-oss-120b", "large tier: a long task", "large")
BUGFIX = Features("bugfix", True, "small", 1, 900)


def add_task(lg: Ledger, n: int, *, model: str, project: str = "/p", kind: str = "bugfix",
             followups: int = 0, passed: bool = True, api: float = 0.01, minutes: float = 0.0,
             has_check: bool = True, size: str = "small", status: str = "done") -> None:
    sid = f"s{n}"
    lg.add_session(sid, project=project, git_commit=None, model=model, backend="x", version="0",
                   hourly_rate=35.0, interactive=False)
    tid = lg.add_task(sid, 1, project=project, git_commit=None, model=model, backend="x",
                      hourly_rate=35.0)
    lg.set_task_features(tid, kind=kind, has_check=has_check, size_class=size, named_files=1)
    lg.set_check_passed(tid, passed)
    lg.set_task_api_cost(tid, api)
    lg.update_task(tid, status=status, prompts=followups + 1, followups=followups, agent_ms=1.0,
                   debug_ms=minutes * 60_000)


@pytest.fixture
def ledger(tmp_path: Path) -> tuple[Ledger, Path]:
    path = tmp_path / "ledger.sqlite3"
    return Ledger(path), path


def history(lg: Ledger, path: Path) -> sqlite3.Connection:
    conn = open_history(path)
    assert conn is not None
    return conn


def fill_seed_like(lg: Ledger, project: str = "/p") -> None:
    """20b: cheap, 1 of 4 first-try, 10 min each failure; o4-mini: dear, always first-try."""
    n = 0
    for i in range(4):
        n += 1
        add_task(lg, n, model="gpt-oss-20b", project=project, followups=0 if i == 0 else 2,
                 passed=i == 0, api=0.001, minutes=0 if i == 0 else 10)
    for _ in range(4):
        n += 1
        add_task(lg, n, model="o4-mini", project=project, api=0.05)


def test_kinds_and_sizes() -> None:
    assert kind_of("Fix the failing test in pager.py") == "bugfix"
    assert kind_of("add a test for the parser") == "test"
    assert kind_of("Implement CSV export") == "feature"
    assert kind_of("fix typo in README") == "docs"
    assert kind_of("rename load_cfg to load_config") == "refactor"
    assert kind_of("why is the build slow?") == "other"
    assert [size_class(n) for n in (10, 8_000, 8_001, 40_000)] == ["small", "small", "medium", "large"]


def test_route_stats_follow_every_task_update(ledger) -> None:
    lg, path = ledger
    fill_seed_like(lg)
    add_task(lg, 99, model="gpt-oss-20b", status="active")  # unfinished: not counted
    tid = lg.add_task("s1", 2, project="/p", git_commit=None, model="o4-mini", backend="x",
                      hourly_rate=35.0)
    lg.set_task_features(tid, kind="bugfix", has_check=True, size_class="small", named_files=0)
    lg.set_task_api_cost(tid, 0.5)
    lg.update_task(tid, status="done", prompts=1, followups=0, agent_ms=1, debug_ms=0)
    lg.update_task(tid, status="done", prompts=3, followups=2, agent_ms=1, debug_ms=120_000)
    lg.correct_task(tid, 60, absolute=False)  # +1 min by `agent task debug`
    direct = lg.conn.execute(
        "SELECT model, COUNT(*), SUM(status = 'done' AND followups = 0 AND COALESCE(check_passed, 1) = 1),"
        " SUM(followups), TOTAL(api_cost), TOTAL(MAX(0.0, debug_ms + correction_ms)) FROM tasks"
        " WHERE kind IS NOT NULL AND status != 'active' AND api_cost IS NOT NULL"
        " GROUP BY model ORDER BY model").fetchall()
    kept = lg.conn.execute(
        "SELECT model, SUM(tasks), SUM(success), SUM(followups), TOTAL(api_cost), TOTAL(debug_ms)"
        " FROM route_stats WHERE project = '*' GROUP BY model HAVING SUM(tasks) > 0"
        " ORDER BY model").fetchall()
    per_project = lg.conn.execute(
        "SELECT model, SUM(tasks) FROM route_stats WHERE project = '/p' GROUP BY model"
        " ORDER BY model").fetchall()
    assert [tuple(r) for r in per_project] == [(r[0], r[1]) for r in kept]
    assert [tuple(r) for r in kept] == [tuple(float(x) if not isinstance(x, str) else x for x in r)
                                        for r in direct]
    o4 = next(r for r in kept if r[0] == "o4-mini")
    assert (o4[1], o4[2], o4[3]) == (5, 4, 2) and o4[5] == pytest.approx(180_000)


def test_learned_choice_follows_the_hourly_rate(ledger) -> None:
    lg, path = ledger
    fill_seed_like(lg)
    conn = history(lg, path)
    at_35 = choose(conn, BUGFIX, "/p", POLICY, 35.0, RULE)
    assert at_35.basis == "ledger" and at_35.route.profile == "o4-mini" and at_35.route.tier == "careful"
    cheap = {e.model: e for e in at_35.estimates}["gpt-oss-20b"]
    assert (cheap.tasks, cheap.first_try, cheap.followups) == (4, 1, 1.5)
    assert cheap.minutes == pytest.approx(7.5) and cheap.real_cost == pytest.approx(0.001 + 7.5 / 60 * 35)
    assert "gpt-oss-120b: too little history" in at_35.route.reason
    assert "gpt-oss-20b: 1 of 4 similar tasks first-try" in at_35.route.reason
    # Developer time nearly free: the cheapest API wins.
    assert choose(conn, BUGFIX, "/p", POLICY, 0.001, RULE).route.profile == "gpt-oss-20b"


def test_an_unusable_learned_tier_falls_to_the_next_cheapest(ledger) -> None:
    from types import SimpleNamespace

    from realcost_agent.agent.autoroute import LearnedRouter

    lg, path = ledger
    fill_seed_like(lg)
    choice = choose(history(lg, path), BUGFIX, "/p", POLICY, 35.0, RULE)
    assert choice.route.profile == "o4-mini"

    class Flow:
        def __init__(self, usable: set[str]) -> None:
            self.usable = usable

        def _usable(self, spec: str):
            return (SimpleNamespace(label=spec), "") if spec in self.usable else (None, "no key")

        def _routed_model(self, r: Route):
            return None, "nothing usable"

    router = LearnedRouter(SimpleNamespace())
    model, reason = router.routed_model(Flow({"gpt-oss-20b", "o4-mini"}), choice)
    assert model.label == "o4-mini" and reason == choice.route.reason
    model, reason = router.routed_model(Flow({"gpt-oss-20b"}), choice)
    assert model.label == "gpt-oss-20b"
    assert reason.endswith("o4-mini is not usable here (no key), so the next cheapest, gpt-oss-20b")
    assert router.routed_model(Flow(set()), choice) == (None, "nothing usable")


def test_too_little_history_means_the_rules_decide_and_say_so(ledger) -> None:
    lg, path = ledger
    add_task(lg, 1, model="o4-mini")
    add_task(lg, 2, model="gpt-oss-20b")
    c = choose(history(lg, path), BUGFIX, "/p", POLICY, 35.0, RULE)
    assert c.basis == "rules" and c.route.profile == "gpt-oss-120b"
    assert c.route.reason.startswith("rules (too little history for bugfix, with check, small context")
    assert c.route.reason.endswith(RULE.reason)
    assert choose(None, BUGFIX, "/p", POLICY, 35.0, RULE).basis == "rules"  # no ledger at all


def test_same_project_first_then_all_then_wider(ledger) -> None:
    lg, path = ledger
    fill_seed_like(lg, project="/other")
    for n in range(3):  # here, 20b always works first try
        add_task(lg, 100 + n, model="gpt-oss-20b", project="/mine", api=0.001)
    conn = history(lg, path)
    found = estimate(conn, BUGFIX, "/mine", POLICY.tiers, 35.0, 3)
    assert found["gpt-oss-20b"].scope.startswith("this project") and found["gpt-oss-20b"].tasks == 3
    assert found["o4-mini"].scope == "all projects, same kind, check, size and files"
    # Naming many files: the match drops the files first.
    many = Features("bugfix", True, "small", 5, 900)
    assert estimate(conn, many, "/mine", POLICY.tiers, 35.0, 3)["o4-mini"].scope == \
        "all projects, same kind, check and size"
    assert choose(conn, BUGFIX, "/mine", POLICY, 35.0, RULE).route.profile == "gpt-oss-20b"
    # A medium-context task: no exact size match, the match widens to kind and check.
    medium = Features("bugfix", True, "medium", 0, 20_000)
    assert estimate(conn, medium, "/mine", POLICY.tiers, 35.0, 3)["o4-mini"].scope == \
        "all projects, same kind and check"
    # Another kind: nothing similar.
    assert estimate(conn, Features("docs", True, "small", 0, 10), "/mine", POLICY.tiers, 35.0, 3) == {}


def test_open_history_is_none_for_a_missing_or_old_ledger(tmp_path: Path) -> None:
    assert open_history(tmp_path / "none.sqlite3") is None
    old = tmp_path / "old.sqlite3"
    sqlite3.connect(old).execute("CREATE TABLE tasks (id INTEGER)").connection.commit()
    assert open_history(old) is None


@dataclass
class FakeTask:
    api_cost: float = 0.0
    prompts: int = 1
    debug_total_seconds: float = 0.0
    models: list = field(default_factory=list)

    @property
    def followups(self) -> int:
        return self.prompts - 1

    def real_cost(self, rate: float) -> float:
        return self.api_cost + self.debug_total_seconds / 3600 * rate


def test_hand_over_when_an_attempt_costs_more_than_finishing_by_hand() -> None:
    poor = AttemptStats(tasks=6, api_per_attempt=0.001, review_minutes=5, success_per_attempt=0.1,
                        by_hand_minutes=5)
    d = weigh(poor, FakeTask(), rate=35, budget=None, min_history=3, default_minutes=30)
    # 0.001 + 5 min + 90% x 5 min  >  5 min
    assert d.hand_over and d.attempt_cost == pytest.approx(0.001 + 5 / 60 * 35 + 0.9 * 5 / 60 * 35)
    assert d.by_hand_cost == pytest.approx(5 / 60 * 35) and d.why.startswith("handing over is cheaper")
    good = AttemptStats(6, 0.001, 5, 0.5, None)  # by hand: the 30-minute default
    assert not weigh(good, FakeTask(), rate=35, budget=None, min_history=3, default_minutes=30).hand_over
    thin = AttemptStats(2, 0.001, 5, 0.0, 5)  # too few tasks: history does not decide
    assert not weigh(thin, FakeTask(), rate=35, budget=None, min_history=3, default_minutes=30).hand_over


def test_the_budget_bounds_the_real_total() -> None:
    spent = FakeTask(api_cost=0.004, prompts=2, debug_total_seconds=0)
    d = weigh(None, spent, rate=35, budget=0.005, min_history=3, default_minutes=30)
    assert d.hand_over and "the budget $0.0050 would be passed" in d.why  # 0.004 + 0.002 > 0.005
    assert not weigh(None, spent, rate=35, budget=1.0, min_history=3, default_minutes=30).hand_over


def test_attempt_stats_from_the_ledger(ledger) -> None:
    lg, path = ledger
    fill_seed_like(lg)
    s = attempt_stats(history(lg, path), "gpt-oss-20b", "bugfix")
    assert s is not None and s.tasks == 4
    assert s.success_per_attempt == pytest.approx(1 / 10)  # 1 solved over 1 + 3 x 3 prompts
    assert s.review_minutes == pytest.approx(30 / 6) and s.by_hand_minutes == pytest.approx(10)
    assert attempt_stats(history(lg, path), "gpt-oss-120b", "bugfix") is None


def test_cache_line_and_local_compute_are_exact() -> None:
    price = Price(input=0.15 / 1e6, output=0.6 / 1e6, cached_input=0.015 / 1e6)
    assert discarded_cost(price, 1290) == 1290 * (0.15 / 1e6 - 0.015 / 1e6)
    assert discarded_cost(Price(1e-6, 2e-6), 1000) == 0.0  # no cache price: nothing lost
    assert discarded_cost(None, 1000) is None
    local = resolve_model("gpt-oss-20b", backend="local")
    assert local_compute(None, local, 1500.0, {"local": {"per_hour": 7.2}}) == (1500.0 / 3_600_000 * 7.2, True)
    assert local_compute(0.0, local, 1500.0, {}) == (0.0, True)
    paid = resolve_model("gpt-oss-20b", backend="openrouter")
    assert local_compute(0.01, paid, 1500.0, {"local": {"per_hour": 7.2}}) == (0.01, False)
    # `[prices.local]` is never taken for a model's own per-token price.
    assert price_with_overrides(resolve_model("local", backend="local"),
                                {"local": {"per_hour": 1}}) == FREE  # not Price(0, 0, None)


def test_wilson_interval() -> None:
    lo, hi = wilson(1, 6)
    assert lo == pytest.approx(0.0301, abs=1e-4) and hi == pytest.approx(0.5635, abs=1e-4)
    assert wilson(0, 0) is None and wilson(5, 5)[1] == 1.0


def test_budget_setting_is_tighten_only(tmp_path: Path) -> None:
    root = tmp_path / "proj"
    (root / ".agent").mkdir(parents=True)
    (tmp_path / "cfg").mkdir()
    env = {"AGENT_CONFIG_HOME": str(tmp_path / "cfg"), "AGENT_DATA_HOME": str(tmp_path / "data")}
    (tmp_path / "cfg" / "config.toml").write_text("budget = 2\n")
    (root / ".agent" / "config.toml").write_text("budget = 10\n")
    warnings: list[str] = []
    assert load_settings(root, env=env, warnings=warnings).budget == 2.0
    assert any("`budget = 10` ignored: it would loosen your own limit" in w for w in warnings)
    (root / ".agent" / "config.toml").write_text("budget = 0.5\n")
    assert load_settings(root, env=env).budget == 0.5
    assert load_settings(root, env=env, flags={"budget": 0.25}).budget == 0.25
    (root / ".agent" / "config.toml").write_text("budget = -1\n")
    with pytest.raises(ValueError, match="budget must be positive"):
        load_settings(root, env=env)


def test_policy_keys_for_learning_and_hand_over() -> None:
    p = policy_from({"min_history": 5, "hand_over": False, "hand_over_minutes": 12})
    assert (p.min_history, p.hand_over, p.hand_over_minutes) == (5, False, 12)
    with pytest.raises(ValueError, match="hand_over"):
        policy_from({"hand_over": "yes"})


def test_features_of_a_pinned_task_count_only_files_in_the_project(tmp_path: Path) -> None:
    from types import SimpleNamespace

    from realcost_agent.agent.autoroute import LearnedRouter

    root = tmp_path / "proj"
    root.mkdir()
    (root / "a.py").write_text("x = 1\n")
    (tmp_path / "outside.py").write_text("y = 2\n")
    router = LearnedRouter(SimpleNamespace(root=root, messages=[]))
    f = router.features("fix a.py and ../outside.py and missing.py", has_check=False)
    assert (f.kind, f.named_files, f.has_check, f.size_class) == ("bugfix", 1, False, "small")


def test_cache_tracker_prices_the_prefix_of_the_old_models_last_call() -> None:
    from types import SimpleNamespace

    from realcost_agent.agent import events as ev
    from realcost_agent.agent.cacheswitch import CacheTracker

    price = Price(input=1.1 / 1e6, output=4.4 / 1e6, cached_input=0.275 / 1e6)
    emitted, listeners = [], []
    session = SimpleNamespace(meter=SimpleNamespace(price=lambda m: price), emit=emitted.append,
                              add_listener=listeners.append)
    old = SimpleNamespace(litellm_id="openai/gpt-oss-20b", label="gpt-oss-20b")
    new = SimpleNamespace(litellm_id="openai/o4-mini", label="o4-mini")
    tracker = CacheTracker(session)
    tracker.task_started(1)
    assert tracker.switched(1, old, new) is None  # nothing sent yet: nothing cached
    for n_in, n_out, purpose in ((800, 40, "turn"), (2000, 100, "turn"), (50, 5, "compaction")):
        listeners[0](ev.UsageUpdated("t1", "gpt-oss-20b", old.litellm_id, "x", n_in, n_out, 0, 0,
                                     None, None, None, None, 1.0, None, 0, 0, purpose=purpose))
    lost = tracker.switched(1, old, new)
    assert lost == ev.CacheDiscarded(1, "gpt-oss-20b", "o4-mini", 2100,
                                     2100 * (1.1 / 1e6 - 0.275 / 1e6))
    assert emitted == [lost]
    assert tracker.switched(1, new, new) is None  # not a switch
    tracker.task_started(2)  # a new task: a new prefix
    assert tracker.switched(2, old, new) is None and len(listeners) == 1
