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
    """Session totals and the current task, as the status bar shows them."""

    def __init__(self, hourly_rate: float = 35.0) -> None:
        self.hourly_rate = hourly_rate
        self.session_id = ""
        self.model = ""
        self.backend = ""
        self.input_tokens = 0
        self.output_tokens = 0
        self.api_cost = 0.0
        self.unpriced = 0
        self.requests = 0
        self.local_calls = 0  # calls to a local server: $0 because nothing is billed
        self.tasks: dict[int, Any] = {}  # task id -> its latest TaskUpdated
        self.current_task: int | None = None
        self.mcp: dict[str, Any] = {}  # MCP server name -> its latest McpServerStatus

    def feed(self, event: ev.Event) -> None:
        from realcost_agent.agent import events as ev  # not at import time: it is off the first paint

        if isinstance(event, ev.SessionStarted):
            self.session_id, self.model, self.backend = event.session_id, event.model, event.backend
        elif isinstance(event, ev.ModelSwitched) or event.type == "model_routed":
            self.model, self.backend = event.model, event.backend  # type: ignore[attr-defined]
        elif isinstance(event, ev.TurnStarted):
            self.current_task = event.task_id
        elif isinstance(event, ev.UsageUpdated):
            self.requests += 1
            self.input_tokens = event.session_input_tokens
            self.output_tokens = event.session_output_tokens
            if event.session_cost is not None:
                self.api_cost = event.session_cost
            if event.cost is None:
                self.unpriced += 1
            self.local_calls += int(event.local)
        elif isinstance(event, ev.TaskUpdated):
            self.tasks[event.task_id] = event
            self.current_task = event.task_id
        elif event.type == "mcp_server_status":
            self.mcp[event.name] = event  # type: ignore[attr-defined]

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
        developer = sum(max(0.0, t.real_cost - t.api_cost) for t in self.tasks.values())
        return self.api_cost + developer

    @property
    def task(self) -> Any:  # the current task's latest TaskUpdated, or None
        return self.tasks.get(self.current_task) if self.current_task is not None else None


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
