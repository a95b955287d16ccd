"""Renderers for the report dict of agent.report: terminal (rich), Markdown, CSV and JSON.

All of them show the seed review's three tables: results in brief, token economics, real
development cost. Rounding happens only here, for display.
"""
from __future__ import annotations

import csv
import io
import json
from dataclasses import field
from typing import Any, TextIO

from realcost_agent.records import record


@record
class Table:
    title: str
    headers: list[str]
    rows: list[list[str]]
    notes: list[str] = field(default_factory=list)


# -- display formats --------------------------------------------------------------------------
def money4(x: float) -> str:
    return f"${x:,.2f}" if abs(x) >= 100 else f"${x:.4f}"


def money2(x: float) -> str:
    return f"${x:,.2f}"


def api_text(known: float, unpriced: int, *, all_unpriced: bool, local: bool = False) -> str:
    """An API cost that may include calls without a price: "unknown" when none had one, a lower
    bound with the unpriced calls counted when some had, never a plain $0; "$0 (local)" when
    every call ran on a local server ("$0.0123 (local)" when [prices.local] prices its hours). Every surface (TUI, headless, compare) words it with this
    one function."""
    from realcost_agent.agent.words import plural

    if local:  # priced by the hour under [prices.local]: the amount, still marked local
        return f"{money4(known)} (local)" if known else "$0 (local)"
    if not unpriced:
        return money4(known)
    calls = plural(unpriced, "unpriced call")
    return f"unknown ({calls})" if all_unpriced else f"≥ {money4(known)} (+{calls})"


def secs(ms: float | None) -> str:
    if ms is None:
        return "–"
    s = ms / 1000.0
    return f"{s:.1f} s" if s < 10 else f"{s:,.0f} s"


def span(stats: dict[str, Any]) -> str:
    """'1.2 s' or '1.2 s (0.8–2.1 s)' when the values differ."""
    if stats["avg"] is None:
        return "–"
    if stats["min"] == stats["max"]:
        return secs(stats["avg"])
    return f"{secs(stats['avg'])} ({secs(stats['min'])[:-2]}–{secs(stats['max'])})"


def minutes(m: float) -> str:
    return f"{round(m):.0f} min" if abs(m - round(m)) < 0.05 else f"{m:.1f} min"


def count(x: float | None, digits: int = 0) -> str:
    return "–" if x is None else f"{x:,.{digits}f}"


def api_cost(g: dict[str, Any], amount_key: str = "api_cost") -> str:
    if g["local"]:
        return f"{money4(g[amount_key])} (local)" if g[amount_key] else "$0 (local)"
    if g["unpriced_calls"] and g["unpriced_calls"] >= g["requests"]:
        return "unknown"
    if g["unpriced_calls"]:
        return f"≥ {money4(g['api_cost_known'])} (+{g['unpriced_calls']} unpriced)"
    return money4(g[amount_key])


def real_total(g: dict[str, Any]) -> str:
    if g["real_total"] is None:
        return f"≥ {money2(g['real_total_known'])} (API cost unknown)"
    return money2(g["real_total"])


def debug_time(g: dict[str, Any]) -> str:
    d = g["debug"]
    text = minutes(d["minutes"])
    if d["corrections_ms"] and d["measured_ms"]:
        text += (f" ({minutes(d['measured_ms'] / 60000)[:-4]} measured, "
                 f"{d['corrections_ms'] / 60000:+.1f} corrected)")
    return text


def success(g: dict[str, Any]) -> str:
    s = g["single_prompt_success"]
    if s["of"] == 1:
        return "Yes" if s["count"] else (f"No ({g['prompts']} prompts)" if g["prompts"] > 1 else "No")
    return f"{s['count']}/{s['of']} ({s['rate']:.0%})"


def followups(g: dict[str, Any]) -> str:
    if g["tasks"] == 1:
        return str(g["followups"])
    return f"{g['followups']} ({g['followups_per_task']:.1f}/task)"


def _provider(g: dict[str, Any]) -> str:
    if g["provider_cost"] is None:
        return "–"
    text = money4(g["provider_cost"])
    if g["provider_cost_calls"] < g["requests"]:
        text += f" ({g['provider_cost_calls']} of {g['requests']} calls)"
    return text


def console_width(file: TextIO, default: int = 120) -> int | None:
    """Rich's own width on a terminal; a wide page when piped, so tables do not squash."""
    try:
        if file.isatty():
            return None
    except (AttributeError, ValueError):
        pass
    import os

    return int(os.environ.get("COLUMNS") or 0) or default


def ranking(g: dict[str, Any], n: int) -> str:
    if n > 1 and g["rank"] == 1:
        return "1 · best value"
    if n > 1 and g["rank"] == n:
        return f"{n} · worst value"
    return str(g["rank"])


def label(report: dict[str, Any], g: dict[str, Any]) -> str:
    if report["scope"]["by"] == "task":
        return f"task {g['key']} ({', '.join(g['models'])})"
    return g["key"]


def rate_note(report: dict[str, Any]) -> str:
    rates = report.get("hourly_rates") or []
    shown = ", ".join(f"${r:g}/h" for r in rates) or "–"
    return f"Developer cost = debug minutes / 60 × hourly rate ({shown}); real total = API cost + developer cost."


# -- the three tables -------------------------------------------------------------------------
def tables(report: dict[str, Any]) -> list[Table]:
    groups = report["groups"]
    names = [label(report, g) for g in groups]
    brief = Table("Results in brief", ["Metric", *names], [
        ["Tasks", *(str(g["tasks"]) for g in groups)],
        ["Requests", *(str(g["requests"]) for g in groups)],
        ["First response time (first token)", *(span(g["first_token_ms"]) for g in groups)],
        ["First visible text", *(span(g["first_text_ms"]) for g in groups)],
        ["Total completion time (per task)", *(span(g["completion_ms"]) for g in groups)],
        ["Single-prompt success", *(success(g) for g in groups)],
        ["Follow-up prompts", *(followups(g) for g in groups)],
    ], ["Times are averages, with the range in brackets; completion time is the agent's busy time."])
    econ_rows = [
        ["Avg tokens per request", *(count(g["tokens"]["per_request"]) for g in groups)],
        ["Input tokens (per task)", *(count(g["tokens"]["input_per_task"]) for g in groups)],
        ["Cached input tokens (per task)", *(count(g["tokens"]["cached_input_per_task"]) for g in groups)],
        ["Output tokens (per task)", *(count(g["tokens"]["output_per_task"]) for g in groups)],
        ["Reasoning tokens (per task)", *(count(g["tokens"]["reasoning_per_task"]) for g in groups)],
        ["Requests per task", *(count(g["requests"] / g["tasks"], 1) for g in groups)],
        ["Cost per task", *(api_cost(g, "cost_per_task") for g in groups)],
    ]
    if any(g["provider_cost_calls"] for g in groups):
        econ_rows.append(["Provider-reported cost (total)", *(_provider(g) for g in groups)])
    econ = Table("Token economics", ["Metric", *names], econ_rows,
                 ["Reasoning tokens are part of the output tokens."])
    per_task = any(g["tasks"] > 1 for g in groups)
    headers = ["Model" if report["scope"]["by"] == "model" else report["scope"]["by"].title(),
               "API cost", "Debug time", "Developer cost", "Real total"]
    if per_task:
        headers.append("Real total per task")
    headers.append("Ranking")
    rows = []
    for g, name in zip(groups, names):
        row = [name, api_cost(g), debug_time(g), money2(g["developer_cost"]), real_total(g)]
        if per_task:
            row.append("–" if g["real_total_per_task"] is None else money2(g["real_total_per_task"]))
        rows.append([*row, ranking(g, len(groups))])
    real = Table("Real development cost", headers, rows,
                 [rate_note(report), "Ranked by real total per task, cheapest first."])
    if len(groups) > WIDE_GROUPS:  # metrics as columns, one row per group (e.g. --by task)
        brief, econ = _transpose(brief, headers[0]), _transpose(econ, headers[0])
    out = [brief, econ, real]
    if report.get("tiers"):
        out.append(tier_table(report["tiers"]))
    from realcost_agent.agent.report_route import tables as route_tables

    return out + route_tables(report)  # routing decisions, cache lost on switches


def tier_table(tiers: list[dict[str, Any]]) -> Table:
    """Cost and time per model inside the tasks that ran on several (escalations)."""
    rows = []
    for t in tiers:
        cost = "unknown" if t["api_cost"] is None and t["unpriced_calls"] >= t["requests"] else (
            money4(t["api_cost_known"]) + (" (+unpriced)" if t["unpriced_calls"] else ""))
        checks = f"{t['checks_passed']}/{t['checks']} passed" if t["checks"] else "–"
        rows.append([f"task {t['task']}", t["model"], str(t["requests"]), secs(t["model_ms"]),
                     count(t["input_tokens"]), count(t["output_tokens"]), cost, checks])
    return Table("Cost and time per tier", ["Task", "Model", "Requests", "Model time", "Input",
                                            "Output", "API cost", "Checks"], rows,
                 ["Tasks that moved between models (an escalation after failed checks or "
                  "failing tool calls, or a switch), in the order they used them. Model time is "
                  "the time spent in model calls."])


TERMINAL_ROWS = 50
WIDE_GROUPS = 5  # more groups than this and they become rows rather than columns


def _transpose(t: Table, corner: str) -> Table:
    columns = [[row[0] for row in t.rows]] + [
        [row[i] for row in t.rows] for i in range(1, len(t.headers))]
    return Table(t.title, [corner, *columns[0]], [[t.headers[i], *columns[i]] for i in range(1, len(t.headers))],
                 t.notes)


def scope_line(report: dict[str, Any]) -> str:
    s = report["scope"]
    parts = [f"session {s['session']}" if s["session"] else
             f"sessions {', '.join(s['sessions'])}" if s.get("sessions") else "all sessions"]
    if s["since"]:
        parts.append(f"since {s['since']}")
    if s["project"]:
        parts.append(f"project {s['project']}")
    parts.append(f"by {s['by']}")
    t = report["totals"]
    return f"{' · '.join(parts)} · {_n(t['tasks'], 'task')}, {_n(t['requests'], 'request')}"


def _n(n: int, word: str) -> str:
    from realcost_agent.agent.words import plural

    return plural(n, word)


# -- formats ----------------------------------------------------------------------------------
def render_json(report: dict[str, Any]) -> str:
    return json.dumps(report, indent=2, ensure_ascii=False) + "\n"


def render_markdown(report: dict[str, Any], *, title: str = "Cost report", preamble: str = "") -> str:
    out = [f"# {title}", "", scope_line(report), ""]
    if preamble:  # e.g. `agent compare`'s run and outcome, before the seed's tables
        out += [preamble.rstrip(), ""]
    if not report["groups"]:
        return "\n".join([*out, "No tasks recorded in this scope.", ""])
    for t in tables(report):
        out += [f"## {t.title}", "", "| " + " | ".join(t.headers) + " |",
                "| " + " | ".join("---" for _ in t.headers) + " |"]
        out += ["| " + " | ".join(c.replace("|", "\\|") for c in row) + " |" for row in t.rows]
        out += ["", *(f"{n}  " for n in t.notes), ""]
    out += [f"> warning: {w}" for w in report["warnings"]]
    return "\n".join(out).rstrip() + "\n"


CSV_COLUMNS = [
    "key", "rank", "tasks", "sessions", "models", "backends", "litellm_ids", "local", "requests",
    "first_token_ms_avg", "first_token_ms_min", "first_token_ms_max", "first_text_ms_avg",
    "first_text_ms_min", "first_text_ms_max", "completion_ms_avg", "completion_ms_min",
    "completion_ms_max", "completion_ms_total", "single_prompt_success", "prompts", "followups",
    "input_tokens", "cached_input_tokens", "output_tokens", "reasoning_tokens",
    "tokens_per_request", "api_cost", "api_cost_known", "unpriced_calls", "provider_cost",
    "cost_per_task", "debug_measured_min", "debug_corrections_min", "debug_min",
    "developer_cost", "real_total", "real_total_known", "real_total_per_task",
]


def _csv_row(g: dict[str, Any]) -> list[Any]:
    def num(x: Any) -> Any:
        return "" if x is None else x

    # A numeric column holds numbers only: a cost with a missing price is an empty cell (never
    # 0, never the word "unknown"); `unpriced_calls` says why and `*_known` has the priced part.
    cost = num

    d, tok = g["debug"], g["tokens"]
    return [
        g["key"], g["rank"], g["tasks"], g["sessions"], ";".join(g["models"]),
        ";".join(g["backends"]), ";".join(g["litellm_ids"]), int(g["local"]), g["requests"],
        *(num(g[s][k]) for s in ("first_token_ms", "first_text_ms") for k in ("avg", "min", "max")),
        *(num(g["completion_ms"][k]) for k in ("avg", "min", "max", "total")),
        g["single_prompt_success"]["count"], g["prompts"], g["followups"],
        tok["input"], tok["cached_input"], tok["output"], tok["reasoning"], num(tok["per_request"]),
        cost(g["api_cost"]), g["api_cost_known"], g["unpriced_calls"], num(g["provider_cost"]),
        cost(g["cost_per_task"]), d["measured_ms"] / 60000, d["corrections_ms"] / 60000,
        d["minutes"], g["developer_cost"], cost(g["real_total"]), g["real_total_known"],
        cost(g["real_total_per_task"]),
    ]


def render_csv(report: dict[str, Any]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for g in report["groups"]:
        writer.writerow(_csv_row(g))
    return buf.getvalue()


def terminal_parts(report: dict[str, Any]) -> list[Any]:
    """The terminal report as rich renderables: `agent report`, the TUI's /cost screen and its
    exit summary all show these, so they cannot disagree."""
    from rich.markup import escape
    from rich.table import Table as RichTable
    from rich.text import Text

    parts: list[Any] = [Text.from_markup(f"[bold]Cost report[/bold] · {escape(scope_line(report))}")]
    if not report["groups"]:
        return [*parts, Text("No tasks recorded in this scope.")]
    for t in tables(report):
        table = RichTable(title=t.title, title_justify="left", title_style="bold")
        for i, header in enumerate(t.headers):
            table.add_column(header, justify="left" if i == 0 else "right")
        # rich lays out every row; thousands (--by task) take seconds and nobody reads them here.
        for row in t.rows[:TERMINAL_ROWS]:
            table.add_row(*(escape(c) for c in row))
        parts.append(table)
        if len(t.rows) > TERMINAL_ROWS:
            parts.append(Text(f"… {len(t.rows) - TERMINAL_ROWS:,} more rows: use --format md, csv, "
                              "json or html for all of them"))
        parts += [Text(note, style="dim") for note in t.notes]
    parts += [Text.assemble(("warning:", "yellow"), f" {w}") for w in report["warnings"]]
    return parts


def render_terminal(report: dict[str, Any], file: TextIO, *, width: int | None = None) -> None:
    from rich.console import Console

    console = Console(file=file, width=width or console_width(file), highlight=False, soft_wrap=False)
    for part in terminal_parts(report):
        console.print(part)

