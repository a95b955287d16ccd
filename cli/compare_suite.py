"""`agent compare --suite DIR [--repeat K]`: a bake-off over many tasks, not one.

Every directory under DIR holding a `task.toml` (keys as in `agent compare --task-file`) is a
task; its other files are the tree the task starts from. Each is copied into its own git
repository under .agent/compare/suite-<id>/tasks/<task>/ and run K times through `agent
compare` (each model in its own worktree, the check after each attempt, automatic follow-ups
on failure, debug minutes per follow-up as the task file says). Every run goes into the ledger,
so the learned router (agent/autoroute.py) learns from the suite.

The page, .agent/compare/suite-<id>/suite.{md,html,json}, has per task and in aggregate per
model: the success rate (the check passed at the end) with a 95% Wilson interval, the first-try
rate, follow-ups, tokens, API cost and real total (API + debug minutes x hourly rate), all
taken from each run's own comparison (compare.json), so they match its pages.
"""
from __future__ import annotations

import json
import math
import shutil
import time
from html import escape
from pathlib import Path
from typing import Any, TextIO

SUITE_VERSION = 1
Z95 = 1.959963984540054


def wilson(successes: int, n: int, z: float = Z95) -> tuple[float, float] | None:
    """The Wilson score interval of a success rate (good for small n and rates near 0 or 1)."""
    if n <= 0:
        return None
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


def find_tasks(suite: Path) -> list[Path]:
    from realcost_agent.cli.compare import UsageError

    if not suite.is_dir():
        raise UsageError(f"--suite {suite}: not a directory")
    tasks = sorted(p.parent for p in suite.glob("*/task.toml"))
    if not tasks:
        raise UsageError(f"--suite {suite}: no task directories (each needs a task.toml)")
    return tasks


def make_repo(task_dir: Path, dest: Path) -> Path:
    """The task's files (without task.toml) as a fresh git repository with one commit."""
    from realcost_agent.agent import worktrees as wt
    from realcost_agent.tools.gitsafe import run_git

    shutil.copytree(task_dir, dest, ignore=shutil.ignore_patterns("task.toml", ".git", ".agent"))
    ident = ("-c", "user.email=agent@localhost", "-c", "user.name=agent suite")
    for args in (("init", "-q", "-b", "main"), ("add", "-A"),
                 (*ident, "commit", "-q", "--no-verify", "-m", f"suite task {task_dir.name}")):
        proc = run_git(dest, *args, timeout=60)
        if proc.returncode != 0:
            raise wt.WorktreeError(f"{dest}: git {args[-1]}: {(proc.stderr or proc.stdout).strip()}")
    return dest


async def run_suite(args: Any, base: Path, err: TextIO) -> int:
    from realcost_agent.cli import compare as cmp

    suite = Path(args.suite).expanduser().resolve()
    tasks = find_tasks(suite)
    repeat = 1 if args.repeat is None else args.repeat
    if repeat < 1:
        raise cmp.UsageError("--repeat must be at least 1")
    suite_id = "suite-" + time.strftime("%Y%m%d-%H%M%S")
    out = base / ".agent" / "compare" / suite_id
    while out.exists():
        out = out.with_name(out.name + "x")
    out.mkdir(parents=True)
    runs: list[dict[str, Any]] = []
    failed = 0
    for task_dir in tasks:
        args.task_file, args.prompt = str(task_dir / "task.toml"), None
        spec = cmp._spec(args)
        repo = make_repo(task_dir, out / "tasks" / task_dir.name)
        settings, warnings = cmp._settings(args, repo)
        for k in range(repeat):
            err.write(f"suite {task_dir.name} ({k + 1}/{repeat}): {', '.join(spec['models'])}\n")
            before = set((repo / ".agent" / "compare").glob("*"))
            code = await cmp.run_compare(spec, settings, repo, warnings=list(warnings), err=err,
                                         hourly_rate=args.hourly_rate)
            new = sorted(set((repo / ".agent" / "compare").glob("*")) - before)
            if code != cmp.EXIT_OK or not new:
                failed += 1
                continue
            data = json.loads((new[-1] / "compare.json").read_text())
            runs.append({"task": task_dir.name, "repeat": k + 1, "dir": str(new[-1]), **data})
    page = summarize(suite, tasks, runs, repeat, args.hourly_rate)
    written = write(out, page)
    err.write(render_text(page))
    err.write(f"suite: {written['md']}\n       {written['html']}\n")
    return cmp.EXIT_FAILED if not runs else cmp.EXIT_OK


def _blank() -> dict[str, Any]:
    return {"runs": 0, "passed": 0, "first_try": 0, "followups": 0, "input_tokens": 0,
            "output_tokens": 0, "api_cost": 0.0, "unpriced_calls": 0, "debug_minutes": 0.0,
            "real_total": 0.0}


def _add(acc: dict[str, Any], result: dict[str, Any], group: dict[str, Any] | None) -> None:
    acc["runs"] += 1
    passed = bool(result.get("check_passed"))
    acc["passed"] += int(passed)
    acc["first_try"] += int(passed and result["followups"] == 0)
    acc["followups"] += result["followups"]
    acc["input_tokens"] += result["input_tokens"]
    acc["output_tokens"] += result["output_tokens"]
    acc["api_cost"] += result["api_cost"]
    acc["unpriced_calls"] += result["unpriced_calls"]
    if group is not None:  # the run's own report: the ledger's debug minutes and real total
        acc["debug_minutes"] += group["debug"]["minutes"]
        acc["real_total"] += group["real_total_known"]
    else:
        acc["real_total"] += result["api_cost"]


def _finish(acc: dict[str, Any]) -> dict[str, Any]:
    n = acc["runs"]
    ci = wilson(acc["passed"], n)
    return {**acc, "success_rate": acc["passed"] / n if n else None,
            "success_ci95": list(ci) if ci else None,
            "first_try_rate": acc["first_try"] / n if n else None,
            "followups_per_run": acc["followups"] / n if n else None,
            "api_cost_per_run": acc["api_cost"] / n if n else None,
            "real_total_per_run": acc["real_total"] / n if n else None}


def summarize(suite: Path, tasks: list[Path], runs: list[dict[str, Any]], repeat: int,
              hourly_rate: float | None) -> dict[str, Any]:
    per_task: dict[str, dict[str, dict[str, Any]]] = {t.name: {} for t in tasks}
    overall: dict[str, dict[str, Any]] = {}
    models: list[str] = []
    for run in runs:
        groups = {g["key"]: g for g in run["report"]["groups"]}
        for result in run["run"]["results"]:
            model = result["model"]
            if model not in models:
                models.append(model)
            if result.get("error"):
                continue
            for acc in (per_task[run["task"]].setdefault(model, _blank()),
                        overall.setdefault(model, _blank())):
                _add(acc, result, groups.get(model))
    aggregate = {m: _finish(a) for m, a in overall.items()}
    ranking = sorted(aggregate, key=lambda m: (aggregate[m]["real_total_per_run"] or 0.0, m))
    return {
        "v": SUITE_VERSION, "suite": str(suite), "repeat": repeat, "models": models,
        "hourly_rate": hourly_rate, "tasks": [
            {"task": t.name, "results": {m: _finish(a) for m, a in per_task[t.name].items()}}
            for t in tasks],
        "aggregate": aggregate, "ranking": ranking,
        "runs": [{"task": r["task"], "repeat": r["repeat"], "dir": r["dir"],
                  "run_id": r["run"]["run_id"]} for r in runs],
    }


HEADERS = ["Model", "Runs", "Success (95% CI)", "First try", "Follow-ups / run", "Tokens in/out",
           "API cost", "Real total", "Real total / run"]


def _row(model: str, a: dict[str, Any]) -> list[str]:
    from realcost_agent.agent.report_render import money2, money4

    def usd(x: float) -> str:
        return money2(x) if abs(x) >= 1 else money4(x)

    ci = a["success_ci95"]
    rate = "–" if a["success_rate"] is None else (
        f"{a['passed']}/{a['runs']} = {a['success_rate']:.0%} ({ci[0]:.0%}–{ci[1]:.0%})")
    api = money4(a["api_cost"]) + (f" (+{a['unpriced_calls']} unpriced)" if a["unpriced_calls"] else "")
    return [model, str(a["runs"]), rate, f"{a['first_try']}/{a['runs']}",
            "–" if a["followups_per_run"] is None else f"{a['followups_per_run']:.1f}",
            f"{a['input_tokens']:,}/{a['output_tokens']:,}", api, usd(a["real_total"]),
            "–" if a["real_total_per_run"] is None else usd(a["real_total_per_run"])]


def _tables(page: dict[str, Any]) -> list[tuple[str, list[list[str]]]]:
    out = [("All tasks", [_row(m, page["aggregate"][m]) for m in page["ranking"]])]
    for t in page["tasks"]:
        out.append((t["task"], [_row(m, a) for m, a in t["results"].items()]))
    return out


def render_markdown(page: dict[str, Any]) -> str:
    lines = ["# Suite comparison", "", f"- **Suite:** {page['suite']}",
             f"- **Tasks:** {len(page['tasks'])} · **repeats:** {page['repeat']} · "
             f"**models:** {', '.join(page['models'])}",
             "- **Real total:** API cost + the ledger's debug minutes x hourly rate; success is "
             "the check passing at the end, with a 95% Wilson interval.", ""]
    for title, rows in _tables(page):
        lines += [f"## {title}", "", "| " + " | ".join(HEADERS) + " |",
                  "| " + " | ".join("---" for _ in HEADERS) + " |"]
        lines += ["| " + " | ".join(c.replace("|", "\\|") for c in r) + " |" for r in rows]
        lines.append("")
    lines.append("Runs: " + ", ".join(f"{r['task']} #{r['repeat']} ({r['run_id']})" for r in page["runs"]))
    return "\n".join(lines) + "\n"


def render_html(page: dict[str, Any]) -> str:
    body = [f"<h1>Suite comparison</h1><p>{escape(page['suite'])} · {len(page['tasks'])} tasks · "
            f"{page['repeat']} repeat(s)</p>"]
    for title, rows in _tables(page):
        body.append(f"<h2>{escape(title)}</h2><table><thead><tr>"
                    + "".join(f"<th>{escape(h)}</th>" for h in HEADERS) + "</tr></thead><tbody>"
                    + "".join("<tr>" + "".join(f"<td>{escape(c)}</td>" for c in r) + "</tr>"
                              for r in rows) + "</tbody></table>")
    return ("<!doctype html><meta charset=utf-8><title>Suite comparison</title><style>"
            "body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}"
            "td,th{border:1px solid #ccc;padding:.3em .6em}</style>" + "".join(body) + "\n")


def render_text(page: dict[str, Any]) -> str:
    rows = [HEADERS] + [_row(m, page["aggregate"][m]) for m in page["ranking"]]
    widths = [max(len(r[i]) for r in rows) for i in range(len(HEADERS))]
    return "".join("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() + "\n" for r in rows)


def write(out: Path, page: dict[str, Any]) -> dict[str, Path]:
    paths = {"md": out / "suite.md", "html": out / "suite.html", "json": out / "suite.json"}
    paths["md"].write_text(render_markdown(page))
    paths["html"].write_text(render_html(page))
    paths["json"].write_text(json.dumps(page, indent=2, ensure_ascii=False) + "\n")
    return paths
