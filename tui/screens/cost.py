"""The cost report (/cost) and the summary printed when the app exits.

Both are `agent report` for this session: the app folds every event into a LedgerRecorder over
an in-memory ledger (`session_costs`), and the same `build_report` and `terminal_parts` render
it. So per-task figures are per task (not per-request averages), an unknown price reads
"unknown" or "≥ $x (+n unpriced)" and never $0, and the TUI cannot disagree with the report.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.console import Group, RenderableType
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Static

CSS = Path(__file__).resolve().parent.parent / "cost.tcss"
EIGHTHS = " ▏▎▍▌▋▊▉"


def session_costs(settings: Any) -> Any:
    """A recorder over an in-memory ledger, fed by the app with every event of the session."""
    from realcost_agent.agent.ledger import Ledger
    from realcost_agent.agent.recorder import LedgerRecorder

    # No git lookups: the report shows no commit, and a subprocess would stall the UI loop.
    return LedgerRecorder(Ledger(":memory:"), settings, interactive=True, git=lambda root: None)


def session_report(costs: Any) -> dict[str, Any]:
    from realcost_agent.agent.report import Scope, build_report

    return build_report(costs.ledger.conn, Scope(session=costs.session_id))


def bar(value: float, maximum: float, width: int) -> str:
    """A horizontal bar in eighth-cell steps."""
    if maximum <= 0 or value <= 0:
        return ""
    cells = value / maximum * width
    full = int(cells)
    frac = int(round((cells - full) * 8))
    if frac == 8:
        full, frac = full + 1, 0
    return "█" * full + (EIGHTHS[frac] if frac else "")


def _chart(title: str, values: list[tuple[str, float | None, str]], width: int) -> Group:
    label_w = max(len(name) for name, _, _ in values)
    maximum = max((v for _, v, _ in values if v is not None), default=0) or 0
    bar_w = max(10, min(50, width - label_w - 24))
    lines = [Text(title, style="bold")]
    for name, value, shown in values:
        line = Text(f"  {name:<{label_w}} ")
        line.append(bar(value or 0, maximum, bar_w), style="cyan")
        line.append(f" {shown}")
        lines.append(line)
    lines.append(Text(""))
    return Group(*lines)


def charts(report: dict[str, Any], width: int) -> list[Group]:
    from realcost_agent.agent.report_render import api_cost, money2, secs

    groups = report["groups"]
    if not groups:
        return []
    real = [(g["key"], g["real_total_known"] / g["tasks"],
             money2(g["real_total_per_task"]) if g["real_total_per_task"] is not None
             else f"≥ {money2(g['real_total_known'] / g['tasks'])}") for g in groups]
    api = [(g["key"], g["api_cost_known"], api_cost(g)) for g in groups]
    first = [(g["key"], g["first_token_ms"]["avg"], secs(g["first_token_ms"]["avg"])) for g in groups]
    return [_chart("Real total per task", real, width), _chart("API cost", api, width),
            _chart("First response time", first, width)]


def report(costs: Any, width: int = 80) -> RenderableType:
    from realcost_agent.agent.report_render import terminal_parts

    data = session_report(costs)
    if not data["groups"]:
        return Text("No model calls yet in this session: the report fills in as you work.", style="dim")
    parts = terminal_parts(data)
    return Group(*parts, Text(""), *charts(data, width))


def summary_lines(costs: Any) -> list[str]:
    """The short summary printed on the terminal after the app exits: the report's own groups
    and totals with the report's formatting (each line fits 80 columns for usual figures)."""
    from realcost_agent.agent.report_render import api_cost, debug_time, money2
    from realcost_agent.agent.report_render import api_text
    from realcost_agent.agent.words import plural

    if costs.session_id is None:
        return ["agent: no session was started"]
    data = session_report(costs)
    t = data["totals"]
    lines = [f"agent session {costs.session_id} · {plural(t['tasks'], 'task')} · "
             f"{plural(t['requests'], 'request')}"]
    for g in data["groups"]:
        lines.append(f"  {g['key']}: {plural(g['tasks'], 'task')} · API {api_cost(g)} · "
                     f"debug {debug_time(g)} · real {_real(g)}")
    api = api_text(t["api_cost_known"], t["unpriced_calls"],
                   all_unpriced=t["unpriced_calls"] >= t["requests"],
                   local=bool(data["groups"]) and all(g["local"] for g in data["groups"]))
    real = f"≥ {money2(t['real_total_known'])}" if t["unpriced_calls"] else money2(t["real_total_known"])
    lines.append(f"  total: API {api} · real total {real}")
    lines.append(f"  details: agent report --session {costs.session_id}")
    return lines


class CostScreen(Screen):
    CSS_PATH = CSS
    BINDINGS = [
        Binding("escape,q", "app.pop_screen", "back"),
        Binding("r", "refresh_report", "refresh"),
    ]

    def __init__(self, costs: Any) -> None:
        super().__init__()
        self.costs = costs

    def compose(self) -> ComposeResult:
        yield Static(Text.assemble(("Cost report", "bold"), ("   esc back · r refresh", "dim")),
                     id="cost-title")
        with VerticalScroll(id="cost-body"):
            yield Static(id="cost-report")

    def on_mount(self) -> None:
        self.action_refresh_report()
        self.query_one("#cost-body").focus()

    def on_resize(self) -> None:
        self.action_refresh_report()

    def action_refresh_report(self) -> None:
        self.query_one("#cost-report", Static).update(report(self.costs, self.size.width or 80))


def _real(g: dict[str, Any]) -> str:
    """A group's real total for one summary line: the known part as a bound when a price is
    missing (the report's own cell adds "(API cost unknown)", too long for 80 columns)."""
    from realcost_agent.agent.report_render import money2

    if g["real_total"] is None:
        return f"≥ {money2(g['real_total_known'])}"
    return money2(g["real_total"])
