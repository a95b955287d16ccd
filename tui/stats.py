"""The status bar's figures, folded only from the core's events (no access to the session).

The cost report (/cost) and the exit summary are not built here: they are `agent report` of
this session (tui.screens.cost), so that no second set of per-model sums can disagree with it.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from realcost_agent.agent.words import plural

if TYPE_CHECKING:
    from realcost_agent.agent import events as ev


class SessionStats:
    """The status bar's view of the session: the core's one fold of the events
    (agent.fold.Totals), read through the names the bar uses."""

    def __init__(self, hourly_rate: float = 35.0) -> None:
        from realcost_agent.agent.fold import Fold  # not at import time: off the first paint

        self.hourly_rate = hourly_rate
        self.fold = Fold()
        self.mcp: dict[str, Any] = {}  # MCP server name -> its latest McpServerStatus

    def feed(self, event: ev.Event) -> None:
        self.fold.feed(event)
        if event.type == "mcp_server_status":  # a state to show, not a total: kept here
            self.mcp[event.name] = event  # type: ignore[attr-defined]

    @property
    def totals(self) -> Any:  # agent.fold.Totals
        return self.fold.totals

    session_id = property(lambda self: self.totals.session_id)
    current_task = property(lambda self: self.totals.task_id or None)
    model = property(lambda self: self.totals.model)
    backend = property(lambda self: self.totals.backend)
    input_tokens = property(lambda self: self.totals.input_tokens)
    output_tokens = property(lambda self: self.totals.output_tokens)
    api_cost = property(lambda self: self.totals.api_cost)  # the calls with a known price
    unpriced = property(lambda self: self.totals.unpriced_calls)
    requests = property(lambda self: self.totals.requests)
    local_calls = property(lambda self: self.totals.local_calls)
    api_text = property(lambda self: self.totals.api_text)  # as every report words it

    @property
    def tasks(self) -> dict[int, Any]:  # task id -> its latest TaskUpdated
        return {t.task_id: t for t in self.totals.tasks}

    def mcp_summary(self) -> tuple[str, str] | None:
        """The status bar's MCP part and its style: "MCP 2/3 · 1 starting", red when one failed."""
        if not self.mcp:
            return None
        states = [e.state for e in self.mcp.values()]
        ready, starting, failed = (states.count(s) for s in ("ready", "starting", "failed"))
        text = f"MCP {ready}/{len(states)}"
        if starting:
            text += f" ({starting} starting)"
        if failed:
            text += f" ({failed} failed)"
        return text, "bold red" if failed else ("yellow" if starting else "")

    @property
    def real_total(self) -> float:
        """API cost of every priced call plus each task's developer time at the hourly rate."""
        return self.totals.real_total()

    @property
    def task(self) -> Any:  # the current task's latest TaskUpdated, or None
        return self.totals.task


def task_line(task: Any) -> str:
    """The line shown when a task ends (a TaskUpdated). An unknown price is never shown as $0:
    the priced part is a lower bound and the unpriced calls are counted."""
    from realcost_agent.agent.report_render import api_text, money2

    api = api_text(task.api_cost, task.unpriced_calls, all_unpriced=task.api_cost == 0)
    real = f"≥ {money2(task.real_cost)}" if task.unpriced_calls else money2(task.real_cost)
    return (f"task {task.task_id} {task.status} · {plural(task.followups, 'follow-up')} · "
            f"API {api} · real {real}")


def fmt_tokens(n: float) -> str:
    if n >= 1_000_000:
        return f"{n / 1_000_000:.1f}M"
    if n >= 10_000:
        return f"{n / 1000:.0f}k"
    if n >= 1000:
        return f"{n / 1000:.1f}k"
    return f"{n:.0f}"


def fmt_duration(ms: float | None) -> str:
    if ms is None:
        return "-"
    if ms < 1000:
        return f"{ms:.0f}ms"
    s = ms / 1000
    if s < 10:
        return f"{s:.1f}s"
    if s < 60:
        return f"{s:.0f}s"
    if s < 3600:
        return f"{int(s // 60)}m{int(s % 60):02d}s"
    return f"{int(s // 3600)}h{int(s % 3600 // 60):02d}m"


def fmt_cost(usd: float | None) -> str:
    if usd is None:
        return "-"
    if usd == 0:
        return "$0"
    if abs(usd) < 1:  # API costs are fractions of a cent to a few cents: keep them readable
        return f"${usd:.4f}"
    return f"${usd:.2f}"
