"""The always-visible status bar: model, task, follow-ups, agent time, your time, tokens, API and
real cost.

Agent time ticks while a turn runs (the task's recorded time plus the running turn's). "you" is
the developer's measured debug time plus corrections: it is what, beside the API cost, makes the
real total climb between prompts, so it is shown apart from the agent's time.

Parts are dropped from the least to the most important when the terminal is narrow, so the line
never wraps (80 columns keeps model, task, tokens and both costs).
"""
from __future__ import annotations

from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

from realcost_agent.tui.stats import SessionStats, fmt_cost, fmt_duration, fmt_tokens


class StatusBar(Widget):
    DEFAULT_CSS = """
    StatusBar { height: 1; width: 1fr; }
    """

    state = reactive("starting…")

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.stats: SessionStats | None = None
        self.model = ""
        self.running_ms = 0.0  # the running turn's time so far, not yet in the task's figures
        self._key = None
        self.unsandboxed = False  # commands run outside the bubblewrap sandbox

    def refresh_from(self, stats: SessionStats, model: str, running_ms: float = 0.0) -> None:
        """Re-render only when a shown figure changed (called on every tick)."""
        self.stats, self.model, self.running_ms = stats, model, running_ms
        task = stats.task
        key = (
            model, stats.input_tokens, stats.output_tokens, round(stats.api_cost, 6),
            round(stats.real_total, 4), stats.unpriced, int(running_ms / 1000),
            tuple((e.name, e.state) for e in stats.mcp.values()),
            (task.task_id, task.status, task.followups, int(task.agent_ms / 100),
             int(_your_ms(task) / 1000)) if task else None,
        )
        if key != self._key:
            self._key = key
            self.refresh()

    def parts(self) -> list[tuple[int, str, str]]:
        """(priority: lower is kept longer, text, style)."""
        out: list[tuple[int, str, str]] = [(0, self.model or "-", "bold")]
        if self.unsandboxed:
            out.append((0, "unsandboxed", "bold red"))
        stats = self.stats
        if stats is None:
            return out
        mcp = stats.mcp_summary()  # each MCP server's state, from McpServerStatus events
        if mcp is not None:
            out.append((3, *mcp))
        task = stats.task
        if task is not None:
            label = f"task {task.task_id}" + ("" if task.status == "active" else f" {task.status}")
            out.append((1, label, ""))
            out.append((4, f"{task.followups} follow-up{'s' if task.followups != 1 else ''}", ""))
            agent_ms = task.agent_ms + (self.running_ms if task.status == "active" else 0.0)
            out.append((5, f"agent {_short(agent_ms)}", ""))
            out.append((2, f"you {_short(_your_ms(task))}", ""))  # kept before tokens: it explains the real total
        # Counted locally when the server reported no usage (issue 18): said, as in every report.
        est = " (est.)" if stats.totals.estimated_requests else ""
        out.append((2, f"{fmt_tokens(stats.input_tokens)} in/{fmt_tokens(stats.output_tokens)} out{est}", ""))
        # Worded as every report words it (agent.report_render.api_text, through the fold): a
        # call without a price is never $0, a local server's calls are "$0 (local)".
        api = stats.api_text if stats.requests else "$0"  # nothing called yet
        out.append((1, f"API {api}", ""))
        bound = "≥" if stats.unpriced else ""
        unknown = stats.unpriced and stats.unpriced >= stats.requests and not stats.totals.all_local
        real = "unknown" if unknown and not stats.real_total else bound + fmt_cost(stats.real_total)
        out.append((0, f"real {real}", "bold"))
        return out

    def render(self) -> Text:
        return self.line(self.size.width or 80)

    def line(self, width: int) -> Text:
        right = Text(f" {self.state} ", style="reverse" if self.state != "ready" else "dim")
        parts = self.parts()
        budget = width - right.cell_len - 1
        # Drop the least important parts until the line fits.
        while parts and _width(parts) > budget:
            worst = max(range(len(parts)), key=lambda i: (parts[i][0], i))
            if parts[worst][0] == 0 and len(parts) == 1:
                break
            parts.pop(worst)
        text = Text(" ")
        for i, (_, part, style) in enumerate(parts):
            if i:
                text.append(" · ", style="dim")
            text.append(part, style=style)
        pad = max(1, width - text.cell_len - right.cell_len)
        text.append(" " * pad)
        text.append_text(right)
        text.truncate(width)
        return text


def _your_ms(task) -> float:  # noqa: ANN001 - a TaskUpdated
    return max(0.0, task.debug_ms + task.debug_correction_ms)


def _width(parts: list[tuple[int, str, str]]) -> int:
    return 1 + sum(len(p[1]) for p in parts) + 3 * (len(parts) - 1)


def _short(ms: float) -> str:
    """Seconds at least: "0.4s" rather than "400ms", which read like a frozen figure."""
    return f"{ms / 1000:.1f}s" if ms < 1000 else fmt_duration(ms)
