"""The one fold of the event stream into totals, for every consumer that shows a figure.

    totals = fold(events)                 # or, live:
    f = Fold(); f.feed(event); f.totals   # a Totals after each event

`step(totals, event) -> totals` is a pure reducer over frozen values: the headless summary (text
and JSON), the driver of `agent compare` / `agent run`, the TUI's status bar and the ledger
recorder all read these fields, so tokens, cost, files changed, the check and the stop reason
are summed once and cannot disagree between a screen, a JSON object and a report. Cost is
summed from the calls (UsageUpdated), as the ledger's report sums its call rows; an unknown
price is counted apart (`unpriced_calls`), never as $0; `api_text` words it with the one
function every surface uses (agent.report_render.api_text).
"""
from __future__ import annotations

import dataclasses
from typing import Any, Iterable

from realcost_agent.agent import events as ev
from realcost_agent.records import record


@record(frozen=True)
class ModelRow:
    """One model's calls (each call counts for the model that ran it)."""

    model: str
    backend: str = ""
    litellm_id: str = ""
    requests: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cached_input_tokens: int = 0
    estimated_requests: int = 0  # calls whose tokens were counted locally (issue 18)
    reasoning_tokens: int = 0
    api_cost: float = 0.0  # the calls with a known price
    unpriced_calls: int = 0
    local_calls: int = 0  # calls to a local server: $0 because nothing is billed
    first_token_ms: float | None = None  # this model's first call

    @property
    def api_text(self) -> str:
        return _api_text(self.api_cost, self.unpriced_calls, self.requests, self.local_calls)

    def as_dict(self) -> dict[str, Any]:
        return {**dataclasses.asdict(self), "api_text": self.api_text}


@record(frozen=True)
class Totals:
    session_id: str = ""
    # The model in use now (the last one started, routed, switched to or billed).
    model: str = ""
    litellm_id: str = ""
    backend: str = ""
    models_used: tuple[str, ...] = ()  # in the order they were routed to or ran turns
    # Calls.
    requests: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cached_input_tokens: int = 0
    estimated_requests: int = 0  # calls whose tokens were counted locally (issue 18)
    reasoning_tokens: int = 0
    api_cost: float = 0.0  # the calls with a known price
    unpriced_calls: int = 0
    local_calls: int = 0
    first_token_ms: float | None = None  # the first call's time to first token
    # Per model, in order of first use: each call counts for the model that ran it (the
    # report's "tiers"; its groups go by the model a task started with).
    models: tuple[ModelRow, ...] = ()
    # Work.
    files_changed: tuple[str, ...] = ()  # over every finished turn, first change first
    lines_added: int = 0  # the tools' own counts of their changes (ToolCallFinished)
    lines_removed: int = 0
    checks: int = 0
    check_passed: bool | None = None  # the last check; None when none ran
    check_command: str = ""
    check_output: str = ""
    # Turns and tasks.
    turns: int = 0
    turn_running: bool = False
    reason: str = ""  # the last finished turn's stop reason ("" before any)
    text: str = ""  # its final text
    steps: int = 0  # its model calls
    continues: bool = False  # the session follows it up by itself
    duration_ms: float = 0.0  # every finished turn's time, summed
    task_id: int = 0  # the current task
    task_status: str = ""  # its status ("" before any task)
    prompts: int = 0
    followups: int = 0
    tasks: tuple[ev.TaskUpdated, ...] = ()  # the latest update of each task, by first seen
    # Problems.
    errors: tuple[str, ...] = ()
    provider_failed: bool = False
    fatal: ev.Error | None = None  # a fatal error (a missing key): the session cannot work
    warnings: tuple[tuple[str, str], ...] = ()  # (code, message)

    # -- derived figures ---------------------------------------------------------------------
    @property
    def all_local(self) -> bool:
        return self.requests > 0 and self.local_calls == self.requests

    @property
    def cost_usd(self) -> float | None:
        """The API cost when every call had a price (or ran locally), else None: unknown."""
        return None if self.unpriced_calls else self.api_cost

    @property
    def api_text(self) -> str:
        """"$0.0123", "≥ $0.0100 (+1 unpriced call)", "unknown (…)" or "$0 (local)"."""
        return _api_text(self.api_cost, self.unpriced_calls, self.requests, self.local_calls)

    @property
    def task(self) -> ev.TaskUpdated | None:
        """The current task's latest update."""
        for t in self.tasks:
            if t.task_id == self.task_id:
                return t
        return None

    def real_total(self) -> float:
        """API cost of the priced calls plus each task's developer time at its hourly rate."""
        return self.api_cost + sum(max(0.0, t.real_cost - t.api_cost) for t in self.tasks)

    def warned(self, code: str) -> bool:
        return any(c == code for c, _ in self.warnings)

    def as_dict(self) -> dict[str, Any]:
        """The figures as JSON-ready values (the headless summary's `totals`)."""
        return {
            "requests": self.requests, "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens, "cached_input_tokens": self.cached_input_tokens,
            "reasoning_tokens": self.reasoning_tokens, "api_cost_known": self.api_cost,
            "cost_usd": self.cost_usd, "unpriced_calls": self.unpriced_calls,
            "local_calls": self.local_calls, "api_text": self.api_text,
            "first_token_ms": self.first_token_ms, "duration_ms": self.duration_ms,
            "files_changed": list(self.files_changed), "lines_added": self.lines_added,
            "lines_removed": self.lines_removed, "check_passed": self.check_passed,
            "checks": self.checks, "followups": self.followups,
            "models": [row.as_dict() for row in self.models],
        }


def _api_text(known: float, unpriced: int, requests: int, local: int) -> str:
    from realcost_agent.agent.report_render import api_text

    return api_text(known, unpriced, all_unpriced=unpriced >= requests,
                    local=requests > 0 and local == requests)


def _add(seq: tuple[str, ...], *items: str) -> tuple[str, ...]:
    new = tuple(i for i in dict.fromkeys(items) if i and i not in seq)
    return seq + new if new else seq


def _call(row: Any, e: ev.UsageUpdated) -> dict[str, Any]:
    """The fields one call adds to a Totals or a ModelRow (both have these names)."""
    out = {
        "requests": row.requests + 1,
        "input_tokens": row.input_tokens + e.input_tokens,
        "output_tokens": row.output_tokens + e.output_tokens,
        "cached_input_tokens": row.cached_input_tokens + e.cached_input_tokens,
        "reasoning_tokens": row.reasoning_tokens + e.reasoning_tokens,
        "api_cost": row.api_cost + (e.cost or 0.0),
        "unpriced_calls": row.unpriced_calls + (e.cost is None),
        "local_calls": row.local_calls + bool(e.local),
        "estimated_requests": row.estimated_requests + bool(e.estimated),
    }
    if row.first_token_ms is None and e.ttft_ms is not None:
        out["first_token_ms"] = e.ttft_ms
    return out


def _usage(t: Totals, e: ev.UsageUpdated) -> Totals:
    rows = list(t.models)
    i = next((i for i, r in enumerate(rows) if r.model == e.model), None)
    if i is None:
        rows.append(ModelRow(e.model, e.backend, e.litellm_id))
        i = len(rows) - 1
    rows[i] = dataclasses.replace(rows[i], **_call(rows[i], e))
    return dataclasses.replace(t, **_call(t, e), models=tuple(rows))


def step(t: Totals, e: ev.Event) -> Totals:  # noqa: C901 - one branch per event type
    """The totals after one more event (the same object when the event changes no figure)."""
    r = dataclasses.replace
    if isinstance(e, (ev.AssistantDelta, ev.ReasoningDelta, ev.ToolOutputDelta)):
        return t  # the hot path: text streams through untouched
    if isinstance(e, ev.UsageUpdated):
        return _usage(t, e)
    if isinstance(e, ev.ToolCallFinished):
        if e.added is None and not e.paths:
            return t
        return r(t, lines_added=t.lines_added + (e.added or 0),
                 lines_removed=t.lines_removed + (e.removed or 0))
    if isinstance(e, ev.SessionStarted):
        return r(t, session_id=e.session_id, model=e.model, backend=e.backend,
                 litellm_id=e.litellm_id or t.litellm_id)
    if isinstance(e, ev.ModelRouted):
        return r(t, model=e.model, litellm_id=e.litellm_id, backend=e.backend,
                 models_used=_add(t.models_used, e.model))
    if isinstance(e, ev.ModelSwitched):  # the next turn's model, not yet one the task used
        return r(t, model=e.model, litellm_id=e.litellm_id, backend=e.backend)
    if isinstance(e, ev.TurnStarted):
        return r(t, turn_running=True, task_id=e.task_id, model=e.model,
                 models_used=_add(t.models_used, e.model))
    if isinstance(e, ev.TurnFinished):
        return r(t, turn_running=False, turns=t.turns + 1, reason=e.reason, text=e.text,
                 steps=e.steps, continues=e.continues, duration_ms=t.duration_ms + e.duration_ms,
                 files_changed=_add(t.files_changed, *e.files_changed))
    if isinstance(e, ev.TaskUpdated):
        tasks = tuple(e if x.task_id == e.task_id else x for x in t.tasks)
        if not any(x.task_id == e.task_id for x in t.tasks):
            tasks += (e,)
        return r(t, tasks=tasks, task_id=e.task_id, task_status=e.status, prompts=e.prompts,
                 followups=e.followups)
    if isinstance(e, ev.CheckFinished):
        return r(t, checks=t.checks + 1, check_passed=e.passed, check_command=e.command,
                 check_output=e.output_tail)
    if isinstance(e, ev.Error):
        return r(t, errors=t.errors + (e.message,),
                 provider_failed=t.provider_failed or e.kind == "provider",
                 fatal=e if e.fatal and t.fatal is None else t.fatal)
    if isinstance(e, ev.Warning):
        return r(t, warnings=t.warnings + ((e.code, e.message),))
    return t


def fold(events: Iterable[ev.Event], start: Totals | None = None) -> Totals:
    t = start if start is not None else Totals()
    for e in events:
        t = step(t, e)
    return t


class Fold:
    """A live fold: feed it events as they come, read `totals` at any time."""

    def __init__(self, start: Totals | None = None) -> None:
        self.totals = start if start is not None else Totals()

    def feed(self, event: ev.Event) -> Totals:
        self.totals = step(self.totals, event)
        return self.totals

    __call__ = feed  # a Session listener / on_event callback

    def replay(self, records: Iterable[dict[str, Any]], *, calls_only: bool = False) -> None:
        """Journal records of a resumed session (JSONL dicts), so its totals carry on. With
        `calls_only`, only the calls' figures carry on (tokens, cost, per-model rows): a
        headless run resumes the session's spending, but its answer, files, check and errors
        are this run's own."""
        for record in records:
            event = ev.from_dict(record)
            if event is not None:
                self.feed(event)
        if calls_only:
            keep = ("session_id", "model", "litellm_id", "backend", "requests", "input_tokens",
                    "output_tokens", "cached_input_tokens", "reasoning_tokens", "api_cost",
                    "unpriced_calls", "local_calls", "first_token_ms", "models")
            self.totals = Totals(**{k: getattr(self.totals, k) for k in keep})
