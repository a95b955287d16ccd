"""The comparison page of `agent compare`: the run and each model's outcome, then the seed's
tables (results in brief, token economics, real development cost) and charts from the ledger.

Written to <repo>/.agent/compare/<run-id>/ as compare.md, compare.html and compare.json
({"v", "run", "report"}: the run record below and agent.report's REPORT_SCHEMA dict).
"""
from __future__ import annotations

import json
from html import escape
from pathlib import Path
from typing import Any

from realcost_agent.agent.report_render import money4, secs

COMPARE_VERSION = 1


def _check(r: dict[str, Any]) -> str:
    if r.get("error"):
        return "not run"
    if r["check_passed"] is None:
        return "no check" if not r["checks"] else "–"
    return "passed" if r["check_passed"] else "failed"


def outcome_rows(run: dict[str, Any]) -> list[list[str]]:
    rows = []
    for r in run["results"]:
        stop = r.get("error") or r["reason"]
        if r["unpriced_calls"] and r["unpriced_calls"] >= r["requests"]:
            cost = "unknown"  # no price for this model: never shown as $0
        else:
            cost = money4(r["api_cost"]) + (" + unpriced" if r["unpriced_calls"] else "")
        where = Path(r["worktree"])
        if where.is_relative_to(run["root"]):
            where = where.relative_to(run["root"])
        rows.append([r["model"], _check(r), f"{r['checks']}", str(r["followups"]), stop,
                     r.get("diffstat", ""), cost, secs(r["wall_ms"]), str(where)])
    return rows


HEADERS = ["Model", "Check", "Checks run", "Follow-ups", "Last turn", "Changes", "API cost",
           "Wall time", "Worktree"]


def _intro(run: dict[str, Any]) -> list[tuple[str, str]]:
    minutes = run["debug_minutes_per_followup"]
    return [
        ("Commit", run["commit"]),
        ("Check", run["check"] or "(none)"),
        ("Follow-ups", f"up to {run['max_followups']} automatic follow-ups per model, each "
                       "carrying the failed check's output"),
        ("Debug time", f"{minutes:g} min per follow-up, recorded as each task's debug time"
         if minutes else "none configured (--debug-minutes-per-followup); correct it with "
                         "`agent task debug ID 5m`, then `agent compare --report RUN`"),
        ("Run", f"{run['run_id']} ({'parallel' if run['parallel'] else 'one model at a time'})"),
    ]


def markdown_preamble(run: dict[str, Any]) -> str:
    out = ["**Task:**", "", *("> " + line for line in run["prompt"].splitlines()), ""]
    out += [f"- **{k}:** {v}" for k, v in _intro(run)]
    out += ["", "## Outcome", "", "| " + " | ".join(HEADERS) + " |",
            "| " + " | ".join("---" for _ in HEADERS) + " |"]
    out += ["| " + " | ".join(c.replace("|", "\\|").replace("\n", " ") for c in row) + " |"
            for row in outcome_rows(run)]
    out += ["", "Ledger task ids (for `agent task debug ID +3m`): " + ", ".join(
        f"{r['model']} = {r['task_id']}" for r in run["results"] if r["task_id"]) + "  "]
    for w in run.get("warnings", []):
        out.append(f"> warning: {w}")
    return "\n".join(out) + "\n"


def html_preamble(run: dict[str, Any]) -> str:
    items = "".join(f"<li><b>{escape(k)}:</b> {escape(v)}</li>" for k, v in _intro(run))
    out = [f"<p><b>Task:</b></p><blockquote>{escape(run['prompt'])}</blockquote>",
           f"<ul>{items}</ul>",
           "<h2>Outcome</h2><table><thead><tr>"
           + "".join(f"<th>{escape(h)}</th>" for h in HEADERS) + "</tr></thead><tbody>"]
    out += ["<tr>" + "".join(f"<td>{escape(c)}</td>" for c in row) + "</tr>"
            for row in outcome_rows(run)]
    out.append("</tbody></table>")
    out += [f'<p class="warn">warning: {escape(w)}</p>' for w in run.get("warnings", [])]
    return "\n".join(out)


def write(out_dir: Path, run: dict[str, Any], report: dict[str, Any]) -> dict[str, Path]:
    from realcost_agent.cli.report_html import render_html
    from realcost_agent.agent.report_render import render_markdown

    out_dir.mkdir(parents=True, exist_ok=True)
    title = "Model comparison"
    paths = {"md": out_dir / "compare.md", "html": out_dir / "compare.html",
             "json": out_dir / "compare.json"}
    paths["md"].write_text(render_markdown(report, title=title, preamble=markdown_preamble(run)))
    paths["html"].write_text(render_html(report, title=title, preamble=html_preamble(run)))
    paths["json"].write_text(json.dumps({"v": COMPARE_VERSION, "run": run, "report": report},
                                        indent=2, ensure_ascii=False) + "\n")
    return paths
