"""`agent compare`: the seed review's experiment on any task, measured instead of by hand.

    agent compare "task" --models gpt-oss-20b,gpt-oss-120b,o4-mini --check "npm test"
    agent compare --task-file task.toml [--parallel]
    agent compare --report RUN_ID         rebuild a run's page (after `agent task debug ...`)
    agent compare --clean [RUN_ID]        remove the worktrees (the pages stay)

Each model gets its own git worktree of the repo at HEAD (.agent/worktrees/<run>/<model>) and
works there headless with its model pinned (no routing, no escalation). After each attempt the
check runs; on failure the model gets an automatic follow-up carrying the failure output, up
to --max-followups of them. Debug time per follow-up (--debug-minutes-per-followup, the
seed's "follow-up time") is recorded as each task's debug time, so the real total is
API cost + follow-ups x minutes / 60 x hourly rate. Everything goes to the ledger; the page
is written to .agent/compare/<run>/compare.{md,html,json}. Worktrees are kept for inspection.

Task file (TOML), every key optional except prompt; flags override it:

    prompt = "Implement ..."
    check = "node --test tests/"
    models = ["gpt-oss-20b", "gpt-oss-120b", "o4-mini"]
    max_followups = 5
    debug_minutes_per_followup = 5
    parallel = true
"""
from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import signal
import sys
import time
import tomllib
from pathlib import Path
from typing import Any, Sequence, TextIO

from realcost_agent.agent import events as ev
from realcost_agent.agent import worktrees as wt

DEFAULT_MODELS = ("gpt-oss-20b", "gpt-oss-120b", "o4-mini")
TASK_KEYS = {"prompt": str, "check": str, "models": list, "max_followups": int,
             "debug_minutes_per_followup": (int, float), "parallel": bool}
EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


class UsageError(Exception):
    pass


def load_task_file(path: Path) -> dict[str, Any]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise UsageError(f"{path}: {exc}") from None
    for key, value in data.items():
        kind = TASK_KEYS.get(key)
        if kind is None:
            raise UsageError(f"{path}: unknown key `{key}` (known: {', '.join(TASK_KEYS)})")
        if not isinstance(value, kind) or isinstance(value, bool) and kind is not bool:
            raise UsageError(f"{path}: `{key}` has an invalid value {value!r}")
    return data


def build_parser() -> argparse.ArgumentParser:
    from realcost_agent.cli.main import add_common_flags

    p = argparse.ArgumentParser(
        prog="agent compare", formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Run one task on several models, each in its own git worktree at HEAD, "
        "check each attempt, follow up on failures, and write the seed-style comparison "
        "(Markdown + HTML) from the ledger.",
        epilog="exit codes: 0 the comparison was written · 1 no model could run · 2 usage",
    )
    p.add_argument("prompt", nargs="?", help="the task (or prompt = ... in --task-file)")
    p.add_argument("--task-file", metavar="TOML", help="prompt, check, models, max_followups, ...")
    p.add_argument("--models", help=f"comma-separated (default: {','.join(DEFAULT_MODELS)})")
    p.add_argument("--max-followups", type=int, metavar="N",
                   help="automatic follow-ups per model after failed checks (default 5)")
    p.add_argument("--debug-minutes-per-followup", type=float, metavar="MIN",
                   help="developer minutes each follow-up stands for (default 0)")
    p.add_argument("--hourly-rate", type=float, metavar="USD", help="price debug time at this rate")
    p.add_argument("--parallel", action="store_true", default=None,
                   help="run the models at once (--jobs with one job per model)")
    p.add_argument("--jobs", type=int, metavar="N", help="cells run at once by --executor local")
    p.add_argument("--executor", choices=("local", "ray"), default="local",
                   help="where each (task, model, repeat) cell runs: this process (default) or "
                   "Ray tasks, each with its own worktree and ledger on its worker")
    p.add_argument("--address", metavar="ADDR",
                   help="--executor ray: the cluster (auto, ray://head:10001); default: a local one")
    p.add_argument("--max-steps", type=int, help="model calls per turn")
    p.add_argument("--max-cost", type=float, help="USD per turn")
    p.add_argument("--max-time", type=float, help="seconds per turn")
    p.add_argument("--clean", nargs="?", const="", metavar="RUN_ID",
                   help="remove the worktrees of RUN_ID (default: every run) and exit")
    p.add_argument("--report", metavar="RUN_ID", help="rebuild RUN_ID's page from the ledger")
    # route: bake-off suites (cli/compare_suite.py)
    p.add_argument("--suite", metavar="DIR", help="run every task directory under DIR (each with "
                   "a task.toml and its files) on every model; per-task and aggregate page")
    p.add_argument("--repeat", type=int, metavar="K", help="with --suite: run each task K times")
    add_common_flags(p)
    return p


def main(argv: Sequence[str]) -> int:
    args = build_parser().parse_args(list(argv))
    err = sys.stderr
    try:
        if args.suite:  # route: a suite needs no repository here (cli/compare_suite.py)
            from realcost_agent.cli.compare_suite import run_suite

            base = Path(args.cd).expanduser().resolve() if args.cd else Path.cwd()
            return asyncio.run(run_suite(args, base, err))
        root = wt.repo_root(Path(args.cd).expanduser() if args.cd else Path.cwd())
        if args.clean is not None:
            removed = wt.clean(root, args.clean or None)
            print(f"removed {len(removed)} worktree(s)" + "".join(f"\n  {p}" for p in removed))
            return EXIT_OK
        if args.report:
            return _rebuild(root, args.report, args.hourly_rate)
        spec = _spec(args)
        settings, warnings = _settings(args, root)
        from realcost_agent.cli.executors import make_executor

        jobs = args.jobs or (len(spec["models"]) if spec["parallel"] else 1)
        try:
            executor = make_executor(args.executor, jobs=jobs, address=args.address)
        except ValueError as exc:
            raise UsageError(str(exc)) from None
        return asyncio.run(run_compare(spec, settings, root, warnings=warnings, err=err,
                                       hourly_rate=args.hourly_rate, executor=executor))
    except (UsageError, wt.WorktreeError) as exc:
        err.write(f"agent compare: error: {exc}\n")
        return EXIT_USAGE


def _spec(args: argparse.Namespace) -> dict[str, Any]:
    data = load_task_file(Path(args.task_file)) if args.task_file else {}
    prompt = args.prompt or data.get("prompt")
    if not prompt or not str(prompt).strip():
        raise UsageError("no task: give one, or prompt = ... in --task-file")
    models = [m.strip() for m in args.models.split(",")] if args.models else data.get("models")
    models = [m for m in (models or DEFAULT_MODELS) if m]
    if len(set(models)) != len(models):
        raise UsageError("a model is listed twice")
    followups = args.max_followups if args.max_followups is not None else data.get("max_followups", 5)
    minutes = args.debug_minutes_per_followup
    minutes = data.get("debug_minutes_per_followup", 0.0) if minutes is None else minutes
    if followups < 0 or minutes < 0:
        raise UsageError("--max-followups and --debug-minutes-per-followup cannot be negative")
    return {"prompt": str(prompt), "models": models, "check": args.check or data.get("check"),
            "max_followups": int(followups), "debug_minutes_per_followup": float(minutes),
            "parallel": bool(args.parallel if args.parallel is not None else data.get("parallel", False))}


def _settings(args: argparse.Namespace, root: Path):  # noqa: ANN202 - (Settings, warnings)
    from realcost_agent.cli.main import flags_from
    from realcost_agent.agent.config import ConfigError, load_settings

    warnings: list[str] = []
    flags = {**flags_from(args), "model": None, "check": None}  # per model, and per the spec
    try:
        return load_settings(root, flags=flags, warnings=warnings,
                             trust=True if getattr(args, "trust", False) else None), warnings
    except ConfigError as exc:
        raise UsageError(str(exc)) from None


def _preflight(models: list[str], settings: Any) -> None:
    """Every model resolves and has its key before any worktree is made (the core's one
    preflight, agent/preflight.py, asked for models that have no session yet)."""
    from realcost_agent.agent.preflight import check_specs

    for spec, problem in check_specs(models, settings):
        unknown = problem.code == ev.CODE_UNKNOWN_MODEL
        raise UsageError(f"{spec}: {problem.message}" if unknown else problem.message)


async def run_compare(spec: dict[str, Any], settings: Any, root: Path, *, warnings: list[str],
                      err: TextIO, hourly_rate: float | None = None, executor: Any = None) -> int:
    from realcost_agent.cli.executors import LocalExecutor

    executor = executor or LocalExecutor(len(spec["models"]) if spec["parallel"] else 1)
    _preflight(spec["models"], settings)
    commit = wt.head_commit(root)
    dirty = wt.dirty_files(root)
    if dirty:
        warnings.append(f"{len(dirty)} file(s) have uncommitted changes that are NOT in the "
                        f"worktrees (they start at {commit[:12]}): commit them to compare them")
    for w in warnings:
        err.write(f"warning: {w}\n")
    run_id = time.strftime("%Y%m%d-%H%M%S")
    while (root / wt.WORKTREES / run_id).exists() or (root / wt.RUNS / run_id).exists():
        run_id += "x"
    out_dir = root / wt.RUNS / run_id
    out_dir.mkdir(parents=True)
    wt.ensure_excluded(root)
    ledger_path = None if settings.ledger else out_dir / "ledger.sqlite3"
    cells = make_cells([("task", spec)], spec["models"], 1, settings=settings, root=root,
                       run_id=run_id, commit=commit, out_dir=out_dir, ledger_path=ledger_path,
                       executor=executor.name)
    if executor.name == "local":
        err.write(f"compare {run_id}: {len(cells)} worktree(s) at {commit[:12]} under "
                  f"{root / wt.WORKTREES / run_id}\n")
    else:
        err.write(f"compare {run_id}: {len(cells)} cell(s) at {commit[:12]} on Ray, each in its "
                  "own worktree on its worker\n")
    interrupts: list[Any] = []
    _CTX.update(err=err, interrupts=interrupts)
    loop = asyncio.get_running_loop()
    # Ctrl-C interrupts local sessions; with Ray it stops the driver (and its local cluster).
    for sig in (signal.SIGINT, signal.SIGTERM) if executor.name == "local" else ():
        try:
            loop.add_signal_handler(sig, lambda: [s.submit_interrupt() for s in interrupts])
        except (NotImplementedError, RuntimeError):  # pragma: no cover - not the main thread
            pass
    from realcost_agent.cli.executors import run_cells

    try:
        results = _gather(await run_cells(cells, compare_cell, executor), settings, ledger_path,
                          warnings)
    except RuntimeError as exc:  # the executor could not start (Ray missing, no cluster)
        raise UsageError(str(exc)) from None
    for sig in (signal.SIGINT, signal.SIGTERM) if executor.name == "local" else ():
        try:
            loop.remove_signal_handler(sig)
        except (NotImplementedError, RuntimeError):  # pragma: no cover
            pass
    for r in results:
        if "diffstat" not in r:  # a remote cell's comes from its worker
            r["diffstat"] = wt.diffstat(Path(r["worktree"]), commit) if not r["error"] else ""
    run = {**spec, "executor": executor.name, "run_id": run_id, "root": str(root), "commit": commit, "results": results,
           "warnings": warnings, "ledger": str(ledger_path) if ledger_path else None}
    written = _write(root, run, hourly_rate)
    _summary(run, err)
    err.write(f"comparison: {written['md']}\n            {written['html']}\n"
              f"worktrees kept for inspection; `agent compare --clean {run_id}` removes them\n")
    return EXIT_FAILED if all(r["error"] for r in results) else EXIT_OK


# This process's stderr and the sessions Ctrl-C interrupts (a Ray worker has its own, unused).
_CTX: dict[str, Any] = {"err": sys.stderr, "interrupts": []}


def make_cells(tasks: list[tuple[str, dict[str, Any]]], models: Sequence[str], repeat: int, *,
               settings: Any, root: Path, run_id: str, commit: str, out_dir: Path,
               ledger_path: Path | None, executor: str) -> list[Any]:
    """One cell per (task, model, repeat); each task is (name, spec) with spec as `_spec` makes
    it (prompt, check, max_followups, ...). A local cell's worktree is made here (named by the
    model alone for a single task run once, as before), a remote one's by its worker from a
    bundle of the commit (cli/executors.py). A suite runner passes its tasks and --repeat here
    and runs the cells with executors.run_cells(cells, compare_cell, executor)."""
    from realcost_agent.cli.executors import Cell

    base = {"settings": settings, "commit": commit, "out_dir": str(out_dir),
            "ledger": str(ledger_path) if ledger_path else None}
    single = len(tasks) == 1 and repeat == 1
    cells = [Cell(name, m, r, {**base, "spec": spec})
             for name, spec in tasks for m in models for r in range(1, repeat + 1)]
    if executor == "local":
        out = []
        for c in cells:
            path = wt.add(root, run_id, c.model if single else c.slug, commit)
            out.append(Cell(c.task, c.model, c.repeat, {**c.payload, "worktree": str(path),
                                                         "log": None if single else c.slug}))
        return out
    bundle = out_dir / "repo.bundle"
    from realcost_agent.tools.gitsafe import run_git

    proc = run_git(root, "bundle", "create", str(bundle), "HEAD", timeout=300)
    if proc.returncode != 0:
        raise UsageError(f"cannot bundle the repository for the workers: {proc.stderr.strip()}")
    data = bundle.read_bytes()
    return [Cell(c.task, c.model, c.repeat, {**c.payload, "bundle": data,
                                              "log": None if single else c.slug}) for c in cells]


async def compare_cell(cell: Any) -> dict[str, Any]:
    """One cell of `agent compare` (run by cli/executors.py, here or in a Ray worker)."""
    p = cell.payload
    result = await _run_model(cell.model, Path(p["worktree"]), p["spec"], p["settings"],
                              Path(p["out_dir"]), Path(p["ledger"]) if p["ledger"] else None,
                              _CTX["err"], _CTX["interrupts"], log_name=p.get("log"))
    if p.get("remote"):  # what stays on the worker comes back: diffstat, the ledger's rows
        from realcost_agent.agent.ledger import Ledger
        from realcost_agent.agent.teamledger import export_rows

        result["diffstat"] = wt.diffstat(Path(result["worktree"]), p["commit"])
        ledger = Ledger(p["ledger"])
        try:
            result["rows"] = export_rows(ledger, [result["session_id"]] if result["session_id"] else [])
        finally:
            ledger.close()
    return result


def _gather(cells: list[Any], settings: Any, ledger_path: Path | None,
            warnings: list[str]) -> list[dict[str, Any]]:
    """Each cell's result; a remote cell's ledger rows are loaded into this run's ledger (so
    the report is built as for a local run) and a retried or failed cell is reported."""
    from realcost_agent.agent.ledger import Ledger, default_path
    from realcost_agent.agent.teamledger import load_rows

    results = []
    for c in cells:
        r = c.value
        if r is None:  # both attempts failed: a row that says so, never a missing one
            r = {"model": c.cell.model, "worktree": "", "session_id": None, "task_id": None,
                 "error": f"{c.error} (after {c.attempts} attempts)", "reason": "error",
                 "checks": 0, "check_passed": None, "followups": 0, "files_changed": [],
                 "api_cost": 0.0, "unpriced_calls": 0, "requests": 0, "input_tokens": 0,
                 "output_tokens": 0, "wall_ms": c.wall_ms, "diffstat": ""}
        elif c.retried:
            warnings.append(f"{c.cell.key}: attempt 1 failed ({c.failures[0]}); run again")
        rows = r.pop("rows", None)
        if rows is not None:
            r["worktree"] = f"{c.where.split(':')[0]}:{r['worktree']}"
            ledger = Ledger(ledger_path or default_path())
            try:
                load_rows(ledger, rows)
                found = ledger.conn.execute("SELECT id FROM tasks WHERE session_id = ?",
                                            (r["session_id"],)).fetchone()
                r["task_id"] = found[0] if found else None
            finally:
                ledger.close()
        r["cell"], r["attempts"], r["where"] = c.cell.key, c.attempts, c.where
        results.append(r)
    if settings.ledger and getattr(settings, "ledger_url", None) and any(
            c.value and c.where != "local" for c in cells):
        from realcost_agent.agent.teamledger import TeamLedgerError, push

        try:  # the workers' rows: on to the team ledger now, or by the next run's sender
            push(default_path(), settings.ledger_url)
        except (TeamLedgerError, OSError) as exc:
            warnings.append(str(exc))
    return results


class _Interruptible:
    def __init__(self, session: Any) -> None:
        self.session = session

    def submit_interrupt(self) -> None:
        from realcost_agent.agent.ops import Interrupt

        self.session.submit(Interrupt())


async def _run_model(model: str, path: Path, spec: dict[str, Any], settings: Any, out_dir: Path,
                     ledger_path: Path | None, err: TextIO, interrupts: list[Any],
                     log_name: str | None = None) -> dict[str, Any]:
    from realcost_agent.agent.config import ConfigError
    from realcost_agent.cli.driver import Driver, Outcome
    from realcost_agent.agent.recorder import attach_ledger
    from realcost_agent.agent.session import Session

    # Pinned, never escalated: the comparison is of this model, follow-ups included.
    # route: no hand-over either (agent/budget.py): each model's own follow-ups are measured.
    routing = {**settings.routing, "escalate_pinned": False, "hand_over": False}
    overrides: dict[str, Any] = {"model": model, "routing": routing,
                                 "max_auto_followups": spec["max_followups"]}
    if spec["check"]:
        overrides["check"] = spec["check"]
    result: dict[str, Any] = {"model": model, "worktree": str(path), "session_id": None,
                              "task_id": None, "error": None, "reason": "error", "checks": 0,
                              "check_passed": None, "followups": 0, "files_changed": [],
                              "api_cost": 0.0, "unpriced_calls": 0, "requests": 0,
                              "input_tokens": 0, "output_tokens": 0, "wall_ms": 0.0}
    started = time.monotonic()
    try:
        session = Session(dataclasses.replace(settings, **overrides), path, interactive=False)
    except ConfigError as exc:
        result["error"] = str(exc)
        return result
    recorder = attach_ledger(session, path=ledger_path)
    log = (out_dir / f"{log_name or wt.slug(model)}.events.jsonl").open("w", encoding="utf-8")

    def on_event(event: ev.Event) -> None:
        log.write(json.dumps(ev.to_dict(event), ensure_ascii=False) + "\n")
        if isinstance(event, ev.CheckFinished):
            err.write(f"[{model}] check {'passed' if event.passed else 'failed'} "
                      f"(attempt {event.attempt})\n")
        elif isinstance(event, ev.Error):
            err.write(f"[{model}] error: {event.message}\n")

    interrupts.append(_Interruptible(session))
    driver = Driver(session, on_event)
    outcome = Outcome()
    try:
        problem = await driver.start()
        if problem is not None:
            outcome.extra_errors.append(problem.message)
        else:
            outcome = await driver.send(spec["prompt"])
            minutes = spec["debug_minutes_per_followup"] * outcome.followups
            await driver.end(outcome, debug_seconds=minutes * 60)
    finally:
        await driver.close()
        log.close()
        if recorder is not None:
            result["task_id"] = recorder.task_id(outcome.task_id) if outcome.task_id else None
            recorder.close()
    result.update(
        session_id=driver.session_id or None, reason=outcome.reason, checks=outcome.checks,
        check_passed=outcome.check_passed, followups=outcome.followups,
        files_changed=outcome.files_changed, api_cost=outcome.api_cost,
        unpriced_calls=outcome.unpriced_calls, requests=outcome.requests,
        input_tokens=outcome.input_tokens, output_tokens=outcome.output_tokens,
        wall_ms=(time.monotonic() - started) * 1000,
        error="; ".join(outcome.errors) if outcome.hard_error else None,
    )
    status = ("passed" if outcome.check_passed else "failed") if outcome.checks else outcome.reason
    from realcost_agent.agent.words import plural

    err.write(f"[{model}] {status} · {plural(outcome.followups, 'follow-up')} · "
              f"{outcome.totals.api_text}\n")
    return result


def _write(root: Path, run: dict[str, Any], hourly_rate: float | None) -> dict[str, Path]:
    from realcost_agent.cli import compare_report
    from realcost_agent.agent.ledger import Ledger, default_path
    from realcost_agent.agent.report import Scope, build_report

    ids = tuple(r["session_id"] for r in run["results"] if r["session_id"])
    ledger = Ledger(run["ledger"] or default_path())
    try:
        report = build_report(ledger.conn, Scope(sessions=ids, by="model", hourly_rate=hourly_rate))
    finally:
        ledger.close()
    return compare_report.write(root / wt.RUNS / run["run_id"], run, report)


def _rebuild(root: Path, run_id: str, hourly_rate: float | None) -> int:
    path = root / wt.RUNS / run_id / "compare.json"
    try:
        run = json.loads(path.read_text())["run"]
    except (OSError, ValueError, KeyError) as exc:
        raise UsageError(f"no comparison {run_id} here ({exc})") from None
    written = _write(root, run, hourly_rate)
    print(f"{written['md']}\n{written['html']}")
    return EXIT_OK


def _summary(run: dict[str, Any], err: TextIO) -> None:
    from realcost_agent.cli.compare_report import HEADERS, outcome_rows

    rows = [HEADERS[:-1]] + [row[:-1] for row in outcome_rows(run)]
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for row in rows:
        err.write("  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() + "\n")
