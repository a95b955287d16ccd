"""The hand-over point: before an escalation or an automatic follow-up, is one more agent attempt
expected to cost less than the developer finishing the task by hand?

    decision = weigh(history, task, model=..., kind=..., rate=..., budget=..., policy=...)

One more attempt costs its API calls, the developer's minutes reviewing it (the ledger's debug
minutes per follow-up on that model) and, if it fails (1 - p), finishing by hand anyway:

    attempt  = api per attempt + review minutes x rate + (1 - p) x by_hand
    by_hand  = minutes the developer spent on similar tasks the agent did not finish, x rate

where p is that model's share of attempts that ended a similar task successfully. Handing over
is cheaper when attempt > by_hand. A budget (`--budget USD`, `budget` in config) bounds the
task's real total: when what is spent plus the attempt's own cost (API + review) would pass it,
the task is handed over too. Without enough history only the budget rule applies, the attempt
priced from this task's own calls so far.
"""
from __future__ import annotations

import sqlite3
from typing import Any

from realcost_agent.records import record



@record(frozen=True)
class AttemptStats:
    tasks: int
    api_per_attempt: float
    review_minutes: float  # developer minutes per follow-up
    success_per_attempt: float  # p
    by_hand_minutes: float | None  # None: no similar unfinished task measured


def attempt_stats(conn: sqlite3.Connection | None, model: str, kind: str) -> AttemptStats | None:
    """Per-attempt figures for `model` on tasks of `kind`, all projects."""
    if conn is None:
        return None
    try:
        row = conn.execute(
            "SELECT TOTAL(tasks), TOTAL(prompts), TOTAL(api_cost), TOTAL(solved),"
            " TOTAL(followup_debug_ms), TOTAL(followups), TOTAL(unsolved), TOTAL(unsolved_debug_ms)"
            " FROM route_stats WHERE kind = ? AND model = ? AND project = '*'",
            (kind, model)).fetchone()
    except sqlite3.Error:
        return None
    tasks, prompts = int(row[0]), int(row[1])
    if not tasks or not prompts:
        return None
    return AttemptStats(tasks, row[2] / prompts, (row[4] / 60_000 / row[5]) if row[5] else 0.0,
                        row[3] / prompts, row[7] / row[6] / 60_000 if row[6] else None)


@record(frozen=True)
class Decision:
    hand_over: bool
    spent: float
    attempt_cost: float
    by_hand_cost: float
    why: str  # the figures, in words


def weigh(stats: AttemptStats | None, task: Any, *, rate: float, budget: float | None,
          min_history: int, default_minutes: float, use_history: bool = True) -> Decision:
    spent = task.real_cost(rate)
    learned = use_history and stats is not None and stats.tasks >= max(1, min_history)
    if learned:
        assert stats is not None
        api, review, p = stats.api_per_attempt, stats.review_minutes, stats.success_per_attempt
        minutes = stats.by_hand_minutes if stats.by_hand_minutes is not None else default_minutes
        source = (f"ledger: {stats.tasks} similar tasks, {p:.0%} of attempts succeed, "
                  f"~{review:.0f} min review per follow-up")
    else:  # this task's own figures: its API per prompt, its debug minutes per follow-up
        api = task.api_cost / max(1, task.prompts)
        review = task.debug_total_seconds / 60 / task.followups if task.followups else 0.0
        p, minutes, source = 0.0, default_minutes, "this task's own calls (too little history)"
    by_hand = minutes / 60 * rate
    own = api + review / 60 * rate
    attempt = own + (1 - p) * by_hand
    figures = (f"one more attempt ~{_usd(attempt)} (API ~{_usd(api)} + ~{review:.0f} min review"
               f" + {1 - p:.0%} x finishing by hand) vs by hand ~{_usd(by_hand)} "
               f"(~{minutes:.0f} min at ${rate:g}/h); spent {_usd(spent)}; {source}")
    if budget is not None and spent + own > budget:
        return Decision(True, spent, attempt, by_hand,
                        f"the budget {_usd(budget)} would be passed (spent {_usd(spent)} + "
                        f"~{_usd(own)} for one more attempt); {figures}")
    if learned and attempt > by_hand:
        return Decision(True, spent, attempt, by_hand, f"handing over is cheaper: {figures}")
    return Decision(False, spent, attempt, by_hand, figures)


def _usd(x: float) -> str:
    return f"${x:.2f}" if x >= 1 else f"${x:.4f}"


def maybe_hand_over(flow: Any, task: Any, left: str) -> bool:
    """Called by TaskFlow before an escalation or automatic follow-up: True (and HandOver
    emitted, flow.stop_reason = "hand_over") when the task should go to the developer now."""
    from realcost_agent.agent import events as ev
    from realcost_agent.agent.autoroute import kind_of
    from realcost_agent.agent.routing import Signals, route

    s, policy, st = flow.s, flow.policy, flow.state
    budget = getattr(s.settings, "budget", None)
    if not policy.hand_over and budget is None:
        return False
    # The model one more attempt would run on: the escalation target when the rules move up.
    r = route(Signals(task.first_prompt, previous=st.profile, failed_checks=st.failed_checks,
                      tool_failures=st.tool_failures), policy)
    model = r.profile if r.escalated and not (st.pinned and not policy.escalate_pinned) \
        else (st.profile or s.model.label)
    stats = attempt_stats(flow.learned.history(), model, kind_of(task.first_prompt))
    rate = float(s.settings.hourly_rate)
    d = weigh(stats, task, rate=rate, budget=budget, min_history=policy.min_history,
              default_minutes=policy.hand_over_minutes, use_history=policy.hand_over)
    if not d.hand_over:
        return False
    tried = tuple(dict.fromkeys([*task.models, *st.escalations])) or (s.model.label,)
    message = (f"handing over to you: {d.why}. Tried: {', '.join(tried)} over "
               f"{task.prompts} prompt(s), {st.checks} check(s). Left: {left}")
    flow.stop_reason = "hand_over"
    s.emit(ev.HandOver(task.id, message, d.spent, d.attempt_cost, d.by_hand_cost, budget,
                       tried, left))
    return True
