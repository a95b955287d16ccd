"""The cost report: the seed review's tables for this session's models, and bar charts.

Built only from the events the app has seen (`SessionStats`); tasks count for the model that
served most of their requests.
"""
from __future__ import annotations

from pathlib import Path

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Static

from tui.stats import ModelFigures, SessionStats, fmt_cost, fmt_duration, fmt_tokens

CSS = Path(__file__).resolve().parent.parent / "cost.tcss"
EIGHTHS = " ▏▎▍▌▋▊▉"


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


def _ms(v: float | None) -> str:
    return fmt_duration(v) if v is not None else "-"


def _success(f: ModelFigures) -> str:
    if not f.done_tasks:
        return "-"
    if f.done_tasks == 1:
        return "yes" if f.single_prompt else f"no ({f.followups + 1} prompts)"
    return f"{f.single_prompt}/{f.done_tasks}"


def _table(title: str, models: list[ModelFigures], rows: list[tuple[str, list[str]]]) -> Group:
    # The title sits above the table: as a Rich table title it would wrap to the table's width.
    table = Table(expand=False, show_lines=False, header_style="bold")
    table.add_column("Metric", no_wrap=True)
    for f in models:
        table.add_column(f.model, justify="right", no_wrap=True)
    for label, values in rows:
        table.add_row(label, *values)
    return Group(Text(title, style="bold"), table)


def _ranking(models: list[ModelFigures]) -> list[str]:
    ranked = [f for f in models if f.real_per_task is not None]
    out = []
    for f in models:
        if f.real_per_task is None:
            out.append("-")
        elif len(ranked) == 1:
            out.append("only model")
        else:
            place = ranked.index(f) + 1
            out.append("best value" if place == 1 else f"#{place}")
    return out


def report(stats: SessionStats, width: int = 80) -> RenderableType:
    models = stats.per_model()
    if not models:
        return Text("No model calls yet in this session: the report fills in as you work.", style="dim")
    results = _table("Results in brief", models, [
        ("First response time", [_ms(f.first_response_ms) for f in models]),
        ("Total completion time", [_ms(f.agent_ms / f.tasks) if f.tasks else "-" for f in models]),
        ("Single-prompt success", [_success(f) for f in models]),
        ("Follow-ups", [str(f.followups) for f in models]),
    ])
    tokens = _table("Token usage and cost per task", models, [
        ("Avg tokens per request", [fmt_tokens(f.avg_input + f.avg_output) for f in models]),
        ("Input tokens", [fmt_tokens(f.avg_input) for f in models]),
        ("Output tokens", [fmt_tokens(f.avg_output) for f in models]),
        ("Requests", [str(f.requests) for f in models]),
        ("Cost per task", [fmt_cost(f.cost_per_task) for f in models]),
    ])
    real = _table(f"Real development cost (developer time at ${stats.hourly_rate:g}/h)", models, [
        ("API cost", [fmt_cost(f.api_cost) + (" +?" if f.unpriced else "") for f in models]),
        ("Debug/polish time", [fmt_duration(f.debug_ms) for f in models]),
        ("Developer cost", [fmt_cost(f.developer_cost) for f in models]),
        ("Real total", [fmt_cost(f.real_cost) for f in models]),
        ("Value ranking", _ranking(models)),
    ])
    charts = [
        _chart("Real total per task", models, lambda f: f.real_per_task, fmt_cost, width),
        _chart("API cost", models, lambda f: f.api_cost, fmt_cost, width),
        _chart("First response time", models, lambda f: f.first_response_ms, _ms, width),
    ]
    totals = Text.assemble(
        ("Session  ", "bold"),
        f"{len(stats.tasks)} task(s) · {stats.requests} request(s) · "
        f"{fmt_tokens(stats.input_tokens)} in / {fmt_tokens(stats.output_tokens)} out · "
        f"API {fmt_cost(stats.api_cost)}" + (f" (+{stats.unpriced} unpriced)" if stats.unpriced else "")
        + f" · real total {fmt_cost(stats.real_total)}",
    )
    return Group(totals, Text(""), results, Text(""), tokens, Text(""), real, Text(""), *charts)


def _chart(title, models, value_of, fmt, width: int) -> Group:
    values = [(f.model, value_of(f)) for f in models]
    label_w = max(len(m) for m, _ in values)
    maximum = max((v for _, v in values if v is not None), default=0) or 0
    bar_w = max(10, min(50, width - label_w - 16))
    lines = [Text(title, style="bold")]
    for model, v in values:
        line = Text(f"  {model:<{label_w}} ")
        line.append(bar(v or 0, maximum, bar_w), style="cyan")
        line.append(f" {fmt(v)}")
        lines.append(line)
    lines.append(Text(""))
    return Group(*lines)


class CostScreen(Screen):
    CSS_PATH = CSS
    BINDINGS = [
        Binding("escape,q", "app.pop_screen", "back"),
        Binding("r", "refresh_report", "refresh"),
    ]

    def __init__(self, stats: SessionStats) -> None:
        super().__init__()
        self.stats = stats

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
        self.query_one("#cost-report", Static).update(report(self.stats, self.size.width or 80))
