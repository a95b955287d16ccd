"""`agent run session.toml`: replay a human-style session headless.

One session, the tasks in order. Each task sends its prompt, then its follow-up prompts in order
(all of them, or only while its check fails), and records the debug minutes each follow-up
stands for. The follow-ups go through the same path as a person's, so the ledger counts them as
follow-ups and `agent report` shows the same tables the interactive session would.

    model = "auto"                  # default for the tasks: auto (routing) or a model to pin
    check = "pytest -q"             # default check ("" for none; unset: config / AGENTS.md)
    debug_minutes_per_followup = 0  # default developer minutes per follow-up sent
    followups_when = "always"       # default: "always" or "check_fails"
    keep_going = false              # go on after a hard error (provider or internal failure)
    attach_check_output = false     # append the failed check's output to the next follow-up
    max_auto_followups = 0          # the session's own follow-ups after failed checks

    [[task]]
    prompt = "Add a --verbose flag to cli.py"
    followups = ["The flag is ignored by `run`; wire it through", "Add a test for it"]
    followups_when = "check_fails"  # send the next follow-up only while the check fails
    check = "pytest -q tests/test_cli.py"
    model = "gpt-oss-20b"           # pinned for this task only; "auto" or unset: routing
    debug_minutes = [4, 2]          # per follow-up sent (or one number for each)

The check runs after every turn that ends with the model saying it is done. A task passes
when its last turn ended done and its last check (if any) passed. Exit code: the number of
tasks that did not pass (0: all passed; capped at 63; tasks skipped after a hard error count),
64 for a bad session file or configuration, 130 when interrupted.
"""
from __future__ import annotations

import argparse
import asyncio
import signal
import sys
import tomllib
from dataclasses import field
from pathlib import Path
from typing import Any, Sequence, TextIO

from realcost_agent.agent import events as ev
from realcost_agent.records import record

EXIT_USAGE, EXIT_INTERRUPTED, MAX_FAILED_CODE = 64, 130, 63
WHEN = ("always", "check_fails")
TOP = {"model": str, "check": str, "debug_minutes_per_followup": (int, float),
       "followups_when": str, "keep_going": bool, "max_auto_followups": int, "task": list,
       "attach_check_output": bool}
TASK = {"prompt": str, "followups": list, "followups_when": str, "check": str, "model": str,
        "debug_minutes": (int, float, list)}


class ScriptError(ValueError):
    pass


@record
class ScriptTask:
    prompt: str
    followups: list[str] = field(default_factory=list)
    when: str = "always"
    check: str | None = None  # None: the session's default
    model: str | None = None
    debug_minutes: list[float] = field(default_factory=list)  # per follow-up, in order


@record
class Script:
    tasks: list[ScriptTask]
    model: str | None = None
    check: str | None = None
    keep_going: bool = False
    max_auto_followups: int = 0
    attach_check_output: bool = False  # what a developer pastes: the failure, under the prompt


def _typed(where: str, data: dict[str, Any], spec: dict[str, Any]) -> None:
    for key, value in data.items():
        kind = spec.get(key)
        if kind is None:
            raise ScriptError(f"{where}: unknown key `{key}` (known: {', '.join(spec)})")
        if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
            raise ScriptError(f"{where}: `{key}` has an invalid value {value!r}")


def parse_script(text: str, name: str = "session.toml") -> Script:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ScriptError(f"{name}: invalid TOML: {exc}") from None
    _typed(name, data, TOP)
    default_minutes = float(data.get("debug_minutes_per_followup", 0.0))
    default_when = data.get("followups_when", "always")
    tasks = []
    for i, raw in enumerate(data.get("task", []), 1):
        where = f"{name}: task {i}"
        if not isinstance(raw, dict):
            raise ScriptError(f"{where}: must be a table ([[task]])")
        _typed(where, raw, TASK)
        if not str(raw.get("prompt", "")).strip():
            raise ScriptError(f"{where}: needs a prompt")
        followups = raw.get("followups", [])
        if not all(isinstance(f, str) and f.strip() for f in followups):
            raise ScriptError(f"{where}: followups must be non-empty strings")
        when = raw.get("followups_when", default_when)
        if when not in WHEN:
            raise ScriptError(f"{where}: followups_when must be one of {', '.join(WHEN)}")
        minutes = raw.get("debug_minutes", default_minutes)
        if isinstance(minutes, list):
            if not all(isinstance(m, (int, float)) and not isinstance(m, bool) for m in minutes):
                raise ScriptError(f"{where}: debug_minutes must be numbers")
            per = [float(m) for m in minutes] + [default_minutes] * (len(followups) - len(minutes))
        else:
            per = [float(minutes)] * len(followups)
        if any(m < 0 for m in per):
            raise ScriptError(f"{where}: debug minutes cannot be negative")
        model = raw.get("model")
        tasks.append(ScriptTask(raw["prompt"], list(followups), when, raw.get("check"),
                                None if model in (None, "", "auto") else model, per))
    if not tasks:
        raise ScriptError(f"{name}: no [[task]] to run")
    if data.get("max_auto_followups", 0) < 0:
        raise ScriptError(f"{name}: max_auto_followups cannot be negative")
    return Script(tasks, data.get("model"), data.get("check"), data.get("keep_going", False),
                  data.get("max_auto_followups", 0), data.get("attach_check_output", False))


def build_parser() -> argparse.ArgumentParser:
    from realcost_agent.cli.main import add_common_flags

    p = argparse.ArgumentParser(
        prog="agent run", formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Replay a scripted session (TOML: tasks, follow-ups, checks, models) headless.",
        epilog="exit codes: N tasks did not pass (0: all passed) · 64 bad file or config · "
        "130 interrupted\nschema: see `python -m pydoc realcost_agent.cli.run`",
    )
    p.add_argument("file", help="the session file (TOML)")
    p.add_argument("--keep-going", action="store_true", default=None,
                   help="go on after a hard error (provider or internal failure)")
    p.add_argument("--report", action="store_true", help="print the session's cost report at the end")
    p.add_argument("--max-steps", type=int, help="model calls per turn")
    p.add_argument("--max-cost", type=float, help="USD per turn")
    p.add_argument("--max-time", type=float, help="seconds per turn")
    add_common_flags(p)
    return p


def main(argv: Sequence[str]) -> int:
    from realcost_agent.cli.main import flags_from, root_from
    from realcost_agent.agent.config import ConfigError, load_settings

    args = build_parser().parse_args(list(argv))
    err = sys.stderr
    try:
        script = parse_script(Path(args.file).read_text(encoding="utf-8"), args.file)
    except (OSError, ScriptError) as exc:
        err.write(f"agent run: error: {exc}\n")
        return EXIT_USAGE
    if args.keep_going:
        script.keep_going = True
    root = root_from(args)
    flags = {**flags_from(args), "max_auto_followups": script.max_auto_followups}
    if flags.get("model") is None and script.model:
        flags["model"] = script.model
    if flags.get("check") is None and script.check is not None:
        flags["check"] = script.check
    warnings: list[str] = []
    try:
        settings = load_settings(root, flags=flags, warnings=warnings,
                                 trust=True if getattr(args, "trust", False) else None)
    except ConfigError as exc:
        err.write(f"agent run: error: {exc}\n")
        return EXIT_USAGE
    try:
        return asyncio.run(run_script(script, settings, root, err=err, report=args.report,
                                      warnings=warnings))
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED


async def run_script(script: Script, settings: Any, root: Path, *, err: TextIO,
                     report: bool = False, warnings: Sequence[str] = ()) -> int:
    from realcost_agent.agent.config import ConfigError
    from realcost_agent.agent.ops import Interrupt, SetCheck, SwitchModel
    from realcost_agent.agent.preflight import check_specs
    from realcost_agent.agent.recorder import attach_ledger
    from realcost_agent.agent.session import Session
    from realcost_agent.cli.driver import Driver

    # Every task's model, before the first task runs: a mistyped model must not fall back
    # silently (the core's one preflight; the session's own model is checked as it starts).
    specs: dict[str, int] = {}  # each model named, with the first task that names it
    for i, task in enumerate(script.tasks, 1):
        if task.model:
            specs.setdefault(task.model, i)
    for spec, problem in check_specs(specs, settings):
        where = f"task {specs[spec]}: " if problem.code == ev.CODE_UNKNOWN_MODEL else ""
        err.write(f"agent run: error: {where}{problem.message}\n")
        return EXIT_USAGE
    try:
        session = Session(settings, root, interactive=False, warnings=warnings)
    except ConfigError as exc:
        err.write(f"agent run: error: {exc}\n")
        return EXIT_USAGE
    recorder = attach_ledger(session, path=None if settings.ledger else ":memory:" if report else None)
    # The configured check (config or a trusted AGENTS.md, as the session reads it): for tasks
    # that name none.
    default_check = settings.check.strip() or None if settings.check is not None else None
    interrupted = False

    def on_signal() -> None:
        nonlocal interrupted
        interrupted = True
        session.submit(Interrupt())

    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, on_signal)
        except (NotImplementedError, RuntimeError):  # pragma: no cover
            pass
    driver = Driver(session, _printer(err))
    problem = await driver.start()
    if problem is not None:  # the session's model cannot be called: nothing ran
        await driver.close()
        if recorder is not None:
            recorder.close()
        err.write(f"agent run: error: {problem.message}\n")
        return EXIT_USAGE
    session_id = driver.session_id
    passed = 0
    try:
        for i, task in enumerate(script.tasks, 1):
            session.submit(SetCheck(default_check if task.check is None else task.check))
            if task.model:
                session.submit(SwitchModel(task.model, scope="task"))
            err.write(f"── task {i}/{len(script.tasks)}\n")
            outcome = await driver.send(task.prompt)
            sent = 0
            for text in task.followups:
                if outcome.hard_error or interrupted or outcome.reason == "interrupted":
                    break
                if task.when == "check_fails" and outcome.check_passed is not False:
                    break  # only while its check fails (and a check that never ran is no failure)
                if script.attach_check_output and outcome.check_passed is False:
                    text += (f"\n\nThe check `{outcome.check_command}` fails:\n```\n"
                             f"{outcome.check_output.strip()}\n```")
                outcome = await driver.send(text, outcome)
                sent += 1
            await driver.end(outcome, debug_seconds=60 * sum(task.debug_minutes[:sent]))
            passed += outcome.passed
            verdict = "passed" if outcome.passed else "did not pass"
            err.write(f"task {i} {verdict}: {outcome.reason}, {sent} follow-up(s), "
                      f"{'check ' + ('passed' if outcome.check_passed else 'failed') if outcome.checks else 'no check'}"
                      f", {', '.join(outcome.models)}\n")
            if interrupted:
                break
            if outcome.hard_error and not script.keep_going:
                err.write(f"stopping after a hard error ({'; '.join(outcome.errors) or outcome.reason});"
                          " --keep-going goes on\n")
                break
    finally:
        await driver.close()
        for sig in (signal.SIGINT, signal.SIGTERM):
            try:
                loop.remove_signal_handler(sig)
            except (NotImplementedError, RuntimeError):  # pragma: no cover
                pass
        if recorder is not None:
            if report:
                from realcost_agent.cli.report import render, session_report

                render(session_report(recorder.ledger, session_id), "terminal", err)
            recorder.close()
    err.write(f"session {session_id}: {passed} of {len(script.tasks)} task(s) passed\n")
    if interrupted:
        return EXIT_INTERRUPTED
    return min(len(script.tasks) - passed, MAX_FAILED_CODE)


def _printer(err: TextIO):  # noqa: ANN202 - an event callback
    def show(event: ev.Event) -> None:
        if isinstance(event, ev.TurnStarted):
            kind = "prompt" if not event.followup else f"follow-up ({event.origin})"
            err.write(f"▸ {kind} on {event.model}: {event.prompt.splitlines()[0][:100]}\n")
        elif isinstance(event, ev.ModelRouted):
            err.write(f"  model {event.model}: {event.reason}\n")
        elif isinstance(event, ev.CheckFinished):
            err.write(f"  check {'passed' if event.passed else 'failed'} "
                      f"(exit code {event.exit_code})\n")
        elif isinstance(event, ev.Error):
            err.write(f"  error: {event.message}\n")
        elif isinstance(event, ev.Warning):
            err.write(f"  warning: {event.message}\n")
    return show
