"""The HTML report: one self-contained page (inline CSS and SVG, no scripts, no external assets)
so it can be mailed, archived or opened offline. Two bar charts: real total per group split into
API and developer cost, and time to first token beside completion time."""
from __future__ import annotations

from html import escape
from typing import Any

from realcost_agent.agent.report_render import scope_line, label, money2, secs, tables

API_COLOR = "#4c78a8"
DEV_COLOR = "#f58518"
TTFT_COLOR = "#54a24b"
DONE_COLOR = "#b279a2"
CSS = """
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem auto;
max-width:1000px;padding:0 1rem;color:#222}
h1{font-size:1.5rem;margin-bottom:.2rem}h2{font-size:1.15rem;margin-top:2rem}
table{border-collapse:collapse;margin:.5rem 0}th,td{border:1px solid #ccc;padding:.3rem .6rem}
th{background:#f3f3f3;text-align:left}td:not(:first-child){text-align:right}
.note{color:#666;font-size:.9em;margin:.2rem 0}.warn{color:#a15c00}
svg text{font:12px system-ui,sans-serif;fill:#222}
"""

LABEL_W, BAR_W, VALUE_W, ROW_H = 200, 440, 140, 22


def _legend(items: list[tuple[str, str]], y: int) -> str:
    out, x = [], LABEL_W
    for name, color in items:
        out.append(f'<rect x="{x}" y="{y}" width="12" height="12" fill="{color}"/>'
                   f'<text x="{x + 16}" y="{y + 10}">{escape(name)}</text>')
        x += 24 + 8 * len(name)
    return "".join(out)


def _svg(title: str, height: int, body: str) -> str:
    width = LABEL_W + BAR_W + VALUE_W
    return (f'<svg class="chart" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
            f'role="img" aria-label="{escape(title)}"><title>{escape(title)}</title>{body}</svg>')


def cost_chart(report: dict[str, Any]) -> str:
    """Stacked bars: API cost (the priced part) + developer cost = real total, per group."""
    groups = report["groups"]
    top = max((g["real_total_known"] for g in groups), default=0.0) or 1.0
    parts, y = [], 4
    for g in groups:
        api_w = BAR_W * g["api_cost_known"] / top
        dev_w = BAR_W * g["developer_cost"] / top
        total = money2(g["real_total_known"]) if g["real_total"] is not None else \
            f"≥ {money2(g['real_total_known'])}"
        parts.append(
            f'<text x="{LABEL_W - 8}" y="{y + 15}" text-anchor="end">{escape(label(report, g))}</text>'
            f'<rect class="bar api" x="{LABEL_W}" y="{y}" width="{api_w:.2f}" height="{ROW_H}" fill="{API_COLOR}">'
            f'<title>API cost {escape(money2(g["api_cost_known"]))}</title></rect>'
            f'<rect class="bar dev" x="{LABEL_W + api_w:.2f}" y="{y}" width="{dev_w:.2f}" height="{ROW_H}" fill="{DEV_COLOR}">'
            f'<title>developer cost {escape(money2(g["developer_cost"]))}</title></rect>'
            f'<text x="{LABEL_W + api_w + dev_w + 6:.2f}" y="{y + 15}">{escape(total)}</text>'
        )
        y += ROW_H + 10
    parts.append(_legend([("API cost", API_COLOR), ("developer cost", DEV_COLOR)], y + 4))
    return _svg("Real total per group: API cost + developer cost", y + 24, "".join(parts))


def time_chart(report: dict[str, Any]) -> str:
    """Paired bars per group: average time to first token and average completion time."""
    groups = report["groups"]
    values = [v for g in groups for v in (g["first_token_ms"]["avg"], g["completion_ms"]["avg"])
              if v is not None]
    top = max(values, default=0.0) or 1.0
    bar_h = ROW_H // 2 + 2
    parts, y = [], 4
    for g in groups:
        parts.append(f'<text x="{LABEL_W - 8}" y="{y + bar_h + 4}" text-anchor="end">'
                     f'{escape(label(report, g))}</text>')
        for name, value, color in (("first token", g["first_token_ms"]["avg"], TTFT_COLOR),
                                   ("completion", g["completion_ms"]["avg"], DONE_COLOR)):
            w = 0.0 if value is None else BAR_W * value / top
            parts.append(
                f'<rect class="bar" x="{LABEL_W}" y="{y}" width="{w:.2f}" height="{bar_h}" fill="{color}">'
                f'<title>{name} {escape(secs(value))}</title></rect>'
                f'<text x="{LABEL_W + w + 6:.2f}" y="{y + bar_h - 3}">{escape(secs(value))}</text>'
            )
            y += bar_h + 2
        y += 10
    parts.append(_legend([("time to first token", TTFT_COLOR),
                          ("completion time per task", DONE_COLOR)], y + 4))
    return _svg("Time to first token and completion time per group", y + 24, "".join(parts))


def render_html(report: dict[str, Any], *, title: str = "Cost report", preamble: str = "") -> str:
    """`preamble` is trusted HTML put before the tables (`agent compare`'s run and outcome)."""
    out = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
           f"<title>agent · {escape(title)}</title>", f"<style>{CSS}</style></head><body>",
           f"<h1>{escape(title)}</h1>", f'<p class="note">{escape(scope_line(report))}</p>',
           preamble]
    if not report["groups"]:
        out.append("<p>No tasks recorded in this scope.</p></body></html>")
        return "\n".join(out) + "\n"
    for t in tables(report):
        out.append(f"<h2>{escape(t.title)}</h2><table><thead><tr>"
                   + "".join(f"<th>{escape(h)}</th>" for h in t.headers) + "</tr></thead><tbody>")
        out += ["<tr>" + "".join(f"<td>{escape(c)}</td>" for c in row) + "</tr>" for row in t.rows]
        out.append("</tbody></table>")
        out += [f'<p class="note">{escape(n)}</p>' for n in t.notes]
        if t.title == "Real development cost":
            out += ["<h2>Real total</h2>", cost_chart(report)]
        elif t.title == "Results in brief":
            out += ["<h2>Time to first token and completion time</h2>", time_chart(report)]
    out += [f'<p class="warn">warning: {escape(w)}</p>' for w in report["warnings"]]
    out.append("</body></html>")
    return "\n".join(out) + "\n"
