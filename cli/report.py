"""`agent report` and `agent task ...`: the ledger's command-line side.

    agent report [--session ID | --since DATE | --project [PATH] | --all] [--by model|user|...]
                 [--local]      with a team ledger_url, --all/--since/--project read the team's
                 [--format terminal|md|json|csv|html] [-o FILE] [--hourly-rate USD]
    agent task list [--limit N] [--project [PATH]]
    agent task debug ID DURATION        +3m adds, 5m sets the total, -90s subtracts

Imported only for these commands, so `agent --help` stays fast.
"""
from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
from pathlib import Path
from typing import Any, Sequence, TextIO

from realcost_agent.agent.ledger import Ledger, LedgerError, default_path
from realcost_agent.agent.report import GROUPINGS, Scope, build_report, parse_since

FORMATS = ("terminal", "md", "json", "csv", "html")
EXIT_OK, EXIT_FAIL, EXIT_USAGE = 0, 1, 2


def render(report: dict[str, Any], fmt: str, out: TextIO, *, width: int | None = None) -> None:
    from realcost_agent.agent import report_render as r

    if fmt == "terminal":
        r.render_terminal(report, out, width=width)
    elif fmt == "html":
        from realcost_agent.cli.report_html import render_html

        out.write(render_html(report))
    else:
        out.write({"md": r.render_markdown, "json": r.render_json, "csv": r.render_csv}[fmt](report))


def session_report(ledger: Ledger, session_id: str) -> dict[str, Any]:
    return build_report(ledger.conn, Scope(session=session_id))


def _db(path: str | None) -> Path:
    return Path(path) if path else default_path()


def _open(path: Path) -> Ledger:
    if str(path) != ":memory:" and not path.exists():
        raise LedgerError(f"no ledger at {path} yet: run a task first (agent -p \"...\")")
    return Ledger(path)


def _project(value: str | None) -> str | None:
    return None if value is None else os.path.realpath(os.path.expanduser(value))


def build_report_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="agent report",
        description="Report time, tokens and real cost per model from the ledger "
        "(default: the last session).",
    )
    p.add_argument("--session", metavar="ID", help="one session (default: the last one)")
    p.add_argument("--since", metavar="DATE", help="tasks started since DATE (2025-08-18, 7d, 12h)")
    p.add_argument("--project", nargs="?", const=".", metavar="PATH",
                   help="only this project (default PATH: the current directory)")
    p.add_argument("--all", action="store_true", help="every session in the ledger")
    p.add_argument("--by", choices=list(GROUPINGS), default="model", help="group rows by (default: model)")
    p.add_argument("--format", choices=FORMATS, default="terminal")
    p.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead of stdout")
    p.add_argument("--hourly-rate", type=float, metavar="USD",
                   help="price debug time at this rate instead of the rate recorded with each task")
    p.add_argument("--db", metavar="PATH", help="ledger file (default: data dir/ledger.sqlite3)")
    p.add_argument("--local", action="store_true",
                   help="this machine's ledger only, even when a team ledger_url is set")
    return p


def _team_url(args: argparse.Namespace) -> str | None:
    """The team ledger to report from: ledger_url (user config or AGENT_LEDGER_URL) for the
    reports that span sessions (--all, --since, --project), unless --local or --db."""
    if args.local or args.db or args.session or not (args.all or args.since or args.project):
        return None
    from realcost_agent.agent.config import ConfigError, load_settings

    try:
        return load_settings(Path.cwd(), warnings=[]).ledger_url
    except ConfigError:
        return None  # a broken config is reported by the commands that run the agent


def _team_report(url: str, args: argparse.Namespace, since: float | None) -> dict[str, Any]:
    from realcost_agent.agent import teamledger as tl

    try:  # our own pending rows first, so the team report includes them
        tl.push(_db(None), url)
    except (tl.TeamLedgerError, LedgerError, OSError) as exc:
        raise tl.TeamLedgerError(str(exc)) from None
    memory = tl.team_ledger(url, since=since, project=_project(args.project))
    try:
        report = build_report(memory.conn, Scope(since=since, project=_project(args.project),
                                                 by=args.by, hourly_rate=args.hourly_rate))
    finally:
        memory.close()
    report["warnings"].insert(0, f"team ledger: {tl.redact_url(url)}")
    return report


def main_report(argv: Sequence[str]) -> int:
    args = build_report_parser().parse_args(list(argv))
    try:
        since = None if args.since is None else parse_since(args.since)
    except ValueError as exc:
        print(f"agent report: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    url = _team_url(args)
    if url:
        from realcost_agent.agent.teamledger import TeamLedgerError

        try:
            report = _team_report(url, args, since)
        except TeamLedgerError as exc:
            print(f"agent report: {exc} (--local reports this machine's ledger)", file=sys.stderr)
            return EXIT_FAIL
        return _emit(report, args)
    try:
        ledger = _open(_db(args.db))
    except (LedgerError, OSError) as exc:
        print(f"agent report: {exc}", file=sys.stderr)
        return EXIT_FAIL
    try:
        scope = Scope(session=args.session, since=since, project=_project(args.project), by=args.by,
                      hourly_rate=args.hourly_rate)
        if not (args.session or args.all or since is not None or scope.project):
            scope.session = ledger.last_session_id()
            if scope.session is None:
                print("agent report: no sessions recorded yet", file=sys.stderr)
                return EXIT_FAIL
        report = build_report(ledger.conn, scope)
    finally:
        ledger.close()
    return _emit(report, args)


def _emit(report: dict[str, Any], args: argparse.Namespace) -> int:
    if args.output:
        with open(args.output, "w", encoding="utf-8", newline="") as fh:
            render(report, args.format, fh, width=120)
    else:
        render(report, args.format, sys.stdout)
    return EXIT_OK


def build_task_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="agent task", description="Tasks in the cost ledger.")
    p.add_argument("--db", metavar="PATH", help="ledger file (default: data dir/ledger.sqlite3)")
    sub = p.add_subparsers(dest="command", required=True)
    lst = sub.add_parser("list", help="recent tasks, newest first")
    lst.add_argument("--limit", type=int, default=20)
    lst.add_argument("--project", nargs="?", const=".", metavar="PATH")
    dbg = sub.add_parser(
        "debug", help="correct a task's debug time: +3m adds, 5m sets the total, -90s subtracts",
        description="Correct a task's debug time. The correction is recorded beside the measured "
        "time, never mixed into it. A negative duration subtracts: agent task debug 12 -2m",
    )
    dbg.add_argument("id", type=int, help="task id (see `agent task list`)")
    dbg.add_argument("duration", help="+3m, 5m, 90s, 1.5h, -2m (a bare number is minutes)")
    return p


def _negative_durations_as_values(argv: list[str]) -> list[str]:
    """`agent task debug 12 -2m`: argparse reads `-2m` as an option; a duration is never one."""
    import re

    if "debug" not in argv or "--" in argv:
        return argv
    at = argv.index("debug")
    out = argv[:at + 1]
    rest = argv[at + 1:]
    options = [a for a in rest if a.startswith("-") and not re.fullmatch(r"-\d[\d.]*[a-z]*", a)]
    values = [a for a in rest if a not in options]
    return [*out, *options, "--", *values]


def main_task(argv: Sequence[str]) -> int:
    args = build_task_parser().parse_args(_negative_durations_as_values(list(argv)))
    try:
        ledger = _open(_db(args.db))
    except (LedgerError, OSError) as exc:
        print(f"agent task: {exc}", file=sys.stderr)
        return EXIT_FAIL
    try:
        if args.command == "list":
            _list(ledger.recent_tasks(args.limit, _project(args.project)), sys.stdout)
            return EXIT_OK
        from realcost_agent.agent.tasks import parse_duration

        try:
            seconds, absolute = parse_duration(args.duration)
        except ValueError as exc:
            print(f"agent task debug: error: {exc}", file=sys.stderr)
            return EXIT_USAGE
        try:
            task = ledger.correct_task(args.id, seconds, absolute=absolute, source="cli")
        except LedgerError as exc:
            print(f"agent task debug: {exc}", file=sys.stderr)
            return EXIT_FAIL
        rows = ledger.recent_tasks(1, task_id=args.id)
        print(_debug_line(task, rows[0] if rows else None))
        return EXIT_OK
    finally:
        ledger.close()


def _real_total(row: dict[str, Any]) -> tuple[float, float | None]:
    """(developer cost, real total or None when a call had no price)."""
    dev = max(0.0, row["debug_ms"] + row["correction_ms"]) / 3_600_000 * row["hourly_rate"]
    if row.get("unpriced_calls"):
        return dev, None
    return dev, (row.get("api_cost_known") or 0.0) + dev


def _debug_line(task: dict[str, Any], row: dict[str, Any] | None) -> str:
    from realcost_agent.agent.report_render import minutes, money2

    total = max(0.0, task["debug_ms"] + task["correction_ms"]) / 60000
    line = (f"task {task['id']}: debug time {minutes(total)} (measured "
            f"{minutes(task['debug_ms'] / 60000)}, corrections {task['correction_ms'] / 60000:+.1f} min)")
    if row is not None:
        dev, real = _real_total(row)
        line += f" · developer cost {money2(dev)} · real total "
        line += money2(real) if real is not None else f"≥ {money2(dev)} (API cost unknown)"
    return line


def _list(rows: list[dict[str, Any]], out: TextIO) -> None:
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    from realcost_agent.agent.report_render import console_width, minutes, money2, money4, secs

    import shutil

    width = console_width(out, 160) or shutil.get_terminal_size((160, 24)).columns
    cells = []
    for r in rows:
        dev, real = _real_total(r)
        if r["requests"] and r["billed_calls"] == 0:
            api = "$0 (local)"
        elif r["unpriced_calls"]:
            api = "unknown"
        else:
            api = money4(r["api_cost_known"] or 0.0)
        debug = minutes(max(0.0, r["debug_ms"] + r["correction_ms"]) / 60000)
        cells.append({
            "ID": str(r["id"]),
            "Started": dt.datetime.fromtimestamp(r["started_at"]).strftime("%m-%d %H:%M"),
            "Model": r["model"] or "", "Status": r["status"], "Prompts": str(r["prompts"]),
            "Agent time": secs(r["agent_ms"]), "Debug": debug, "API cost": api,
            "Real total": money2(real) if real is not None else (f"≥ {money2(dev)}" if dev else "unknown"),
            "Prompt": " ".join((r["prompt"] or "").split()),
        })
    # The ID (what `agent task debug ID` needs), status and costs are never cut: they keep their
    # full width, the less important columns go first on a narrow terminal, the prompt takes
    # what is left.
    names = ["ID", "Started", "Model", "Status", "Prompts", "Agent time", "Debug", "API cost",
             "Real total", "Prompt"]
    droppable = ["Started", "Agent time", "Prompts", "Debug", "Model"]

    def needed(cols: list[str]) -> int:
        fixed = sum(max([len(n)] + [len(c[n]) for c in cells]) for n in cols if n != "Prompt")
        return fixed + 12 + 3 * len(cols) + 1  # the prompt's minimum and the borders

    while droppable and needed(names) > width:
        names.remove(droppable.pop(0))
    table = Table(title="Recent tasks", title_justify="left")
    prompt_width = max(12, min(max([6] + [len(c["Prompt"]) for c in cells]),
                               width - needed(names) + 12))
    for name in names:
        if name == "Prompt":
            table.add_column(name, no_wrap=True, overflow="ellipsis", width=prompt_width)
        else:
            table.add_column(name, justify="right" if name in ("ID", "Prompts") else "left",
                             no_wrap=True,
                             min_width=max([len(name)] + [len(c[name]) for c in cells]),
                             overflow="ellipsis" if name == "Model" else "fold")
    for c in cells:
        table.add_row(*(escape(c[n]) for n in names))
    Console(file=out, highlight=False, width=width).print(table)
