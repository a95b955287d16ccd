"""The one fold of the event stream (agent/fold.py): every consumer's totals, and the same
figures the ledger's report shows for the same events."""
from __future__ import annotations

import dataclasses

import pytest

from realcost_agent.agent import events as ev
from realcost_agent.agent.fold import Fold, Totals, fold, step


def call(turn: str, model: str, inp: int, out: int, cost: float | None, *, local: bool = False,
         ttft: float | None = 300.0, cached: int = 0) -> ev.UsageUpdated:
    return ev.UsageUpdated(turn, model, f"openrouter/openai/{model}", "openrouter", inp, out, cached,
                           0, cost, None, ttft, ttft, 900.0, None, 0, 0, local=local)


def task(task_id: int, status: str, api: float, real: float, followups: int = 0) -> ev.TaskUpdated:
    return ev.TaskUpdated(task_id, status, followups + 1, followups, 1000.0, 0.0, 0.0, api, 0, real)


def session_events() -> list[ev.Event]:
    return [
        ev.SessionStarted("s1", "/p", "gpt-oss-120b", "openrouter", "0.1", litellm_id="x/120b"),
        ev.Warning("commands run UNSANDBOXED", code=ev.CODE_UNSANDBOXED),
        ev.ModelRouted(1, "gpt-oss-120b", "openrouter/openai/gpt-oss-120b", "openrouter", "large"),
        ev.TurnStarted("t1", 1, "fix it", "gpt-oss-120b"),
        ev.AssistantDelta("t1", "thinking"),
        call("t1", "gpt-oss-120b", 1000, 100, 0.01, ttft=420.0, cached=200),
        ev.ToolCallFinished("t1", "c1", "apply_patch", "ok", False, 5.0, {}, "calc.py +2 -1",
                            ("calc.py",), "diff", 2, 1),
        ev.ToolCallFinished("t1", "c2", "run_command", "ok", False, 5.0, {"exit_code": 0}, "pytest"),
        call("t1", "gpt-oss-120b", 1500, 50, 0.02),
        ev.CheckFinished(1, "pytest -q", False, 1, "1 failed", 80.0, 1, "gpt-oss-120b"),
        task(1, "active", 0.03, 0.03),
        ev.TurnFinished("t1", "done", "fixed", 2, ("calc.py",), 2000.0, continues=True),
        ev.ModelRouted(1, "o4-mini", "openrouter/openai/o4-mini", "openrouter", "check failed",
                       escalated=True),
        ev.TurnStarted("t2", 1, "the check fails", "o4-mini", followup=True, origin="check"),
        call("t2", "o4-mini", 2000, 300, None),  # unpriced
        ev.CheckFinished(1, "pytest -q", True, 0, "", 80.0, 2, "o4-mini"),
        task(1, "active", 0.03, 0.03 + 35.0 / 6, followups=1),
        ev.TurnFinished("t2", "done", "now it passes", 1, ("calc.py", "test_calc.py"), 1000.0),
    ]


def test_the_fold_sums_what_every_front_end_shows() -> None:
    t = fold(session_events())
    assert (t.session_id, t.model, t.backend) == ("s1", "o4-mini", "openrouter")
    assert t.litellm_id == "openrouter/openai/o4-mini"
    assert t.models_used == ("gpt-oss-120b", "o4-mini")
    assert (t.requests, t.input_tokens, t.output_tokens, t.cached_input_tokens) == (3, 4500, 450, 200)
    assert t.api_cost == pytest.approx(0.03) and t.unpriced_calls == 1 and t.cost_usd is None
    assert t.api_text == "≥ $0.0300 (+1 unpriced call)"  # never a plain $0.03
    assert t.first_token_ms == 420.0 and t.duration_ms == 3000.0
    assert t.files_changed == ("calc.py", "test_calc.py")
    assert (t.lines_added, t.lines_removed) == (2, 1)
    assert (t.checks, t.check_passed, t.check_command) == (2, True, "pytest -q")
    assert (t.reason, t.text, t.steps, t.turns, t.turn_running) == ("done", "now it passes", 1, 2, False)
    assert (t.task_id, t.task_status, t.followups) == (1, "active", 1)
    assert t.real_total() == pytest.approx(0.03 + 35.0 / 6)
    assert t.warned(ev.CODE_UNSANDBOXED) and t.fatal is None and t.errors == ()
    rows = {r.model: r for r in t.models}
    assert list(rows) == ["gpt-oss-120b", "o4-mini"]
    assert (rows["gpt-oss-120b"].requests, rows["gpt-oss-120b"].api_cost) == (2, pytest.approx(0.03))
    assert rows["gpt-oss-120b"].first_token_ms == 420.0
    assert rows["o4-mini"].api_text.startswith("unknown") and rows["o4-mini"].unpriced_calls == 1
    assert t.as_dict()["models"][1]["api_text"] == rows["o4-mini"].api_text


def test_step_is_pure() -> None:
    before = Totals()
    delta = ev.AssistantDelta("t1", "x")
    assert step(before, delta) is before  # the hot path allocates nothing
    after = step(before, call("t1", "m", 10, 1, 0.5))
    assert before == Totals() and after.requests == 1  # the input is never changed
    with pytest.raises(dataclasses.FrozenInstanceError):
        after.requests = 2  # type: ignore[misc]
    events = session_events()
    assert fold(events) == fold(events)  # same events, same totals


def test_local_calls_read_local_and_failures_are_kept() -> None:
    t = fold([call("t1", "gpt-oss-20b", 10, 1, 0.0, local=True)] * 2)
    assert t.all_local and t.api_text == "$0 (local)" and t.cost_usd == 0.0
    t = fold([
        ev.Error("Set GROQ_API_KEY", "config", fatal=True, code=ev.CODE_MISSING_KEY),
        ev.Error("429 from the host", "provider"),
        ev.TurnFinished("t1", "error", "429", 0),
    ])
    assert t.fatal is not None and t.fatal.code == ev.CODE_MISSING_KEY
    assert t.provider_failed and t.errors == ("Set GROQ_API_KEY", "429 from the host")
    assert t.reason == "error"


def test_replay_of_a_resumed_journal_carries_calls_only() -> None:
    records = [ev.to_dict(e) for e in session_events()]
    f = Fold()
    f.replay(records, calls_only=True)
    assert (f.totals.requests, f.totals.api_cost) == (3, pytest.approx(0.03))
    assert f.totals.reason == "" and f.totals.files_changed == () and f.totals.checks == 0
    whole = Fold()
    whole.replay(records)
    assert whole.totals == fold(session_events())


def test_the_fold_and_the_ledger_report_agree() -> None:
    """A figure on screen (the fold) and in `agent report` (SQL over the recorder's rows)
    come from the same events and must be the same numbers."""
    from realcost_agent.agent.config import Settings
    from realcost_agent.agent.ledger import Ledger
    from realcost_agent.agent.recorder import LedgerRecorder
    from realcost_agent.agent.report import Scope, build_report

    recorder = LedgerRecorder(Ledger(":memory:"), Settings(), git=lambda root: None)
    events = session_events() + [task(1, "done", 0.03, 0.03 + 35.0 / 6, followups=1)]
    for event in events:
        recorder(event)
    t = fold(events)
    report = build_report(recorder.ledger.conn, Scope(session="s1"))
    totals = report["totals"]
    assert totals["requests"] == t.requests
    assert totals["api_cost_known"] == pytest.approx(t.api_cost)
    assert totals["unpriced_calls"] == t.unpriced_calls
    assert recorder.model == t.model == "o4-mini"
    # The fold's per-model rows count each call for the model that ran it: the report's
    # "tiers" of a task that ran on several models (its groups go by the task's first model).
    tiers = {tier["model"]: tier for tier in report["tiers"]}
    assert list(tiers) == [row.model for row in t.models]
    for row in t.models:
        tier = tiers[row.model]
        assert (tier["requests"], tier["unpriced_calls"]) == (row.requests, row.unpriced_calls)
        assert (tier["input_tokens"], tier["output_tokens"]) == (row.input_tokens, row.output_tokens)
        assert tier["api_cost_known"] == pytest.approx(row.api_cost)
    recorder.close()
