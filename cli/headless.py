"""Headless front-end: one task, no questions asked, then exit with a documented code.

It is only a consumer of the core's event stream, like the TUI:
  text   progress and tool activity on stderr, the final answer on stdout
  json   one final object on stdout (answer, status, files changed, usage, cost)
  jsonl  every event as one JSON object per line on stdout (schema: agent.events)
"""
from __future__ import annotations

import asyncio
import json
import signal
import sys
import time
from pathlib import Path
from typing import Any, TextIO

from realcost_agent.agent import events as ev
from realcost_agent.cli.main import (
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_PROVIDER,
    EXIT_TASK_FAILED,
    EXIT_USAGE,
)
from realcost_agent.agent.config import ConfigError, Settings
from realcost_agent.agent.words import plural
from realcost_agent.agent.ops import CorrectDebugTime, EndTask, Interrupt, Shutdown, UserInput

RESULT_SCHEMA_VERSION = 1


class _TextPrinter:
    """Progress on stderr. When stdout is a terminal too, the final answer is printed once, on
    stdout, rendered: streaming it to stderr as well would show it twice on the same screen. Text
    the model writes before calling tools is still shown, as narration, when its step ends."""

    def __init__(self, err: TextIO, *, answer_on_terminal: bool = False) -> None:
        self.err = err
        self.in_text = False
        self.hold_text = answer_on_terminal
        self.held: list[str] = []

    def __call__(self, event: ev.Event) -> None:
        w = self.err.write
        if isinstance(event, ev.AssistantDelta):
            if self.hold_text:
                self.held.append(event.text)
                return
            w(event.text)
            self.in_text = True
            return
        if self.in_text:
            w("\n")
            self.in_text = False
        if isinstance(event, ev.AssistantMessage):
            narration = "".join(self.held).strip()
            self.held.clear()
            if narration and event.tool_call_ids:
                w(narration + "\n")
        elif isinstance(event, ev.SessionStarted):
            host = f" at {event.host}" if event.host else ""
            w(f"agent {event.version} · {event.model} via {event.backend}{host} · {event.root}\n")
        elif isinstance(event, ev.ToolCallStarted):
            w(f"▸ {event.name} {event.summary or _short_args(event.arguments)}\n")
        elif isinstance(event, ev.ToolCallFinished):
            w(f"  {_tool_outcome(event)}\n")
        elif isinstance(event, ev.ModelRouted):
            w(f"{'escalated to' if event.escalated else 'model:'} {event.model} · {event.reason}\n")
        elif isinstance(event, (ev.HandOver, ev.CacheDiscarded)):  # route: issue 16
            from realcost_agent.agent.autoroute import event_line

            w(f"{event_line(event)}\n")
        elif isinstance(event, ev.CheckStarted):
            w(f"▸ check: {event.command.splitlines()[0][:120]}\n")
        elif isinstance(event, ev.CheckFinished):
            mark = "✓ passed" if event.passed else (
                f"✗ failed (exit code {event.exit_code})" if event.exit_code is not None
                else "✗ failed (killed: timed out or interrupted)")
            w(f"  {mark} in {event.duration_ms / 1000:.1f}s\n")
            if not event.passed and event.output_tail.strip():
                for line in event.output_tail.rstrip().splitlines()[-CHECK_TAIL_LINES:]:
                    w(f"    {line}\n")
        elif isinstance(event, (ev.HookRan, ev.PlanProposed, ev.PlanUpdated)):
            from realcost_agent.agent.hooks_view import event_lines  # hooks, plan mode

            for line in event_lines(event):
                w(line + "\n")
        elif isinstance(event, ev.Warning):
            w(f"warning: {event.message}\n")
        elif isinstance(event, ev.Error):
            w(f"error: {event.message}\n")
        self.err.flush()


CHECK_TAIL_LINES = 20  # of a failed check's output, under its ✗ line


def _tool_outcome(event: ev.ToolCallFinished) -> str:
    """One line: the same mark the TUI's card shows and the tool's own summary."""
    from realcost_agent.agent.describe import finished_mark

    ok, label = finished_mark(event)
    summary = event.summary or (event.output.strip().splitlines() or [""])[0][:160]
    return f"{'✓' if ok else '✗'} {label}" + (f" · {summary}" if summary else "")


def _short_args(arguments: Any) -> str:
    """Only for a call no tool described (an unknown tool, arguments that did not parse)."""
    return " ".join(str(arguments).split())[:120]


async def _drive(
    prompt: str, settings: Settings, root: Path, output_format: str, out: TextIO, err: TextIO,
    warnings: list[str], report: bool = False, debug_minutes: float = 0.0,
    resume: Any = None, plan: str | None = None,
) -> int:
    from realcost_agent.agent.fold import Fold
    from realcost_agent.agent.session import Session

    try:
        # The configuration's warnings go to the core, which emits them (with a `code`).
        session = Session(settings, root, interactive=False, resume=resume, warnings=warnings)
    except ConfigError as exc:
        err.write(f"agent: error: {exc}\n")
        return EXIT_USAGE

    recorder = None
    if settings.ledger or report:
        from realcost_agent.agent.recorder import attach_ledger

        # With the ledger off, --report still works from a ledger kept in memory.
        recorder = attach_ledger(session, path=None if settings.ledger else ":memory:")

    printer = (_TextPrinter(err, answer_on_terminal=_is_terminal(out))
               if output_format == "text" else None)
    # Every figure below comes from this one fold of the events (agent/fold.py). A resumed
    # session's calls are folded first: its cost and tokens carry on (as in the TUI and the
    # ledger's report); the answer, files, check and errors are this run's.
    totals = Fold()
    if resume is not None:
        totals.replay(resume.events, calls_only=True)
    started = time.monotonic()
    loop = asyncio.get_running_loop()
    interrupted = False

    def on_signal() -> None:
        nonlocal interrupted
        interrupted = True
        session.submit(Interrupt())
        if not totals.totals.turn_running:  # nothing to interrupt: stop waiting for a turn
            session.submit(Shutdown())

    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, on_signal)
        except (NotImplementedError, RuntimeError):  # pragma: no cover - non-main thread
            pass

    await session.start()
    # plan mode: "print" shows the plan and stops; "approve" (--yes) carries it out
    from realcost_agent.agent.ops import PlanDecision, PlanInput

    session.submit(PlanInput(prompt) if plan else UserInput(prompt))
    carry_out = False

    async for event in session.events():
        t = totals.feed(event)
        if output_format == "jsonl":
            out.write(json.dumps(ev.to_dict(event), ensure_ascii=False) + "\n")
            out.flush()
        elif printer is not None and not (isinstance(event, ev.Error) and event is t.fatal):
            printer(event)
        if isinstance(event, ev.Error):
            if event is t.fatal and t.turns == 0:  # the preflight: the session did not start
                session.submit(Shutdown())
            elif event.kind == "internal" and not t.turn_running and t.turns == 0:
                session.submit(Shutdown())  # the prompt never became a turn: don't hang
        elif isinstance(event, ev.PlanProposed) and plan == "approve" and event.steps:
            carry_out = True  # plan mode --yes: approved once its turn has finished
        elif isinstance(event, ev.TurnFinished):
            if event.continues:  # the session follows up by itself (failed check, escalation)
                continue
            if carry_out:  # plan mode --yes
                carry_out = False
                session.submit(PlanDecision("approve"))
                continue
            # Headless measures no debug time: only what the developer states, as a correction.
            if debug_minutes:
                session.submit(CorrectDebugTime(debug_minutes * 60.0))
            session.submit(EndTask("done" if event.reason == "done" else "abandoned"))
            session.submit(Shutdown())
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.remove_signal_handler(sig)
        except (NotImplementedError, RuntimeError):  # pragma: no cover
            pass
    t = totals.totals
    if t.fatal is not None and t.turns == 0:
        if recorder is not None:
            recorder.close()
        err.write(f"agent: error: {t.fatal.message}\n")
        return EXIT_USAGE

    report_obj = None
    if recorder is not None:
        if report:
            from realcost_agent.cli.report import session_report

            report_obj = session_report(recorder.ledger, t.session_id)
        recorder.close()

    finished = t.turns > 0
    reason = t.reason if finished else "error"
    if interrupted or reason == "interrupted":
        code = EXIT_INTERRUPTED
    elif reason == "done" and t.check_passed is False:
        code = EXIT_TASK_FAILED  # the model said done, but the task's check still fails
    elif reason == "done":
        code = EXIT_OK
    elif t.provider_failed:
        code = EXIT_PROVIDER
    else:
        code = EXIT_TASK_FAILED

    # On a provider or internal error the turn's text is the error, not an answer.
    answer = t.text if finished and reason != "error" else ""
    if output_format == "text":
        if answer:
            if _is_terminal(out):
                _print_markdown(answer, out)
            else:
                out.write(answer.rstrip("\n") + "\n")
        check = "" if t.check_passed is None else " · check " + ("passed" if t.check_passed else "failed")
        err.write(
            f"[{reason}{check}] {plural(t.steps, 'step')} · "
            f"{t.input_tokens} in / {t.output_tokens} out tokens"
            f"{' (estimated)' if t.estimated_requests else ''} · {t.api_text} · "
            f"{time.monotonic() - started:.1f}s\n"
        )
    elif output_format == "json":
        result = {
            "v": RESULT_SCHEMA_VERSION,
            "session_id": t.session_id,
            "status": reason,
            "exit_code": code,
            "answer": answer,
            "error": (t.errors[-1] if t.errors else t.text) or None if reason == "error" else None,
            "files_changed": list(t.files_changed),
            "check_passed": t.check_passed,
            "steps": t.steps,
            "model": t.model,
            "litellm_id": t.litellm_id,
            "backend": t.backend,
            "usage": {"input_tokens": t.input_tokens, "output_tokens": t.output_tokens,
                      "cached_input_tokens": t.cached_input_tokens,
                      "reasoning_tokens": t.reasoning_tokens, "requests": t.requests,
                      # issue 18: calls counted locally (the server reported no usage); the key
                      # appears only when some call was estimated
                      **({"estimated_requests": t.estimated_requests} if t.estimated_requests else {})},
            "cost_usd": t.cost_usd,
            "cost_usd_known": t.api_cost,
            "unpriced_calls": t.unpriced_calls,
            "duration_ms": round((time.monotonic() - started) * 1000, 1),
            "errors": list(t.errors),
            # Added in the same version (new keys only): the summary line's cost words and
            # the tools' changed-line counts, from the same fold. Per-model tables are the
            # report's (--report), so they exist once.
            "cost_text": t.api_text,
            "lines_added": t.lines_added,
            "lines_removed": t.lines_removed,
        }
        if report:
            result["report"] = report_obj
        out.write(json.dumps(result, ensure_ascii=False, indent=2) + "\n")
    if report and output_format != "json":  # stdout stays the answer (or the event stream)
        if report_obj is None:
            err.write("agent: no report: the cost ledger could not be opened\n")
        else:
            from realcost_agent.cli.report import render

            render(report_obj, "terminal", err)
    out.flush()
    return code


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def _print_markdown(text: str, out: TextIO) -> None:
    from rich.console import Console
    from rich.markdown import Markdown

    Console(file=out, highlight=False, soft_wrap=False).print(Markdown(text))


def run_headless(
    prompt: str, settings: Settings, root: Path, *, output_format: str = "text",
    warnings: list[str] | None = None, out: TextIO | None = None, err: TextIO | None = None,
    report: bool = False, debug_minutes: float = 0.0, resume: Any = None, plan: str | None = None,
) -> int:
    try:
        return asyncio.run(_drive(
            prompt, settings, root, output_format, out or sys.stdout, err or sys.stderr,
            warnings or [], report, debug_minutes, resume, plan,
        ))
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
