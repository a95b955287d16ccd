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
from realcost_agent.agent.cli import (
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
    resume: Any = None,
) -> int:
    from realcost_agent.agent.session import Session

    try:
        session = Session(settings, root, interactive=False, resume=resume)
    except ConfigError as exc:
        err.write(f"agent: error: {exc}\n")
        return EXIT_USAGE
    from realcost_agent.providers.catalogue import missing_key

    hint = missing_key(session.model, session.env)
    if hint:
        err.write(f"agent: error: {hint}\n")
        return EXIT_USAGE

    recorder = None
    if settings.ledger or report:
        from realcost_agent.agent.recorder import attach_ledger

        # With the ledger off, --report still works from a ledger kept in memory.
        recorder = attach_ledger(session, path=None if settings.ledger else ":memory:")

    printer = (_TextPrinter(err, answer_on_terminal=_is_terminal(out))
               if output_format == "text" else None)
    started = time.monotonic()
    loop = asyncio.get_running_loop()
    interrupted = False

    def on_signal() -> None:
        nonlocal interrupted
        interrupted = True
        session.submit(Interrupt())
        if not session.busy:  # nothing to interrupt: stop waiting for a turn that won't come
            session.submit(Shutdown())

    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, on_signal)
        except (NotImplementedError, RuntimeError):  # pragma: no cover - non-main thread
            pass

    await session.start()
    for message in warnings:
        session.emit(ev.Warning(message))
    session.submit(UserInput(prompt))

    finished: ev.TurnFinished | None = None
    check: ev.CheckFinished | None = None  # the task's last check, when one ran
    changed: dict[str, None] = {}  # files changed over all the task's turns
    provider_failed = False
    usage = {"input_tokens": 0, "output_tokens": 0, "cached_input_tokens": 0,
             "reasoning_tokens": 0, "requests": 0}
    local_calls = 0
    errors: list[str] = []
    async for event in session.events():
        if output_format == "jsonl":
            out.write(json.dumps(ev.to_dict(event), ensure_ascii=False) + "\n")
            out.flush()
        elif printer is not None:
            printer(event)
        if isinstance(event, ev.UsageUpdated):
            usage["requests"] += 1
            local_calls += int(event.local)
            # issue 18: calls whose tokens are estimated (no usage from the server) are counted
            if event.estimated:  # the key appears only when some call was estimated
                usage["estimated_requests"] = usage.get("estimated_requests", 0) + 1
            for key in ("input_tokens", "output_tokens", "cached_input_tokens", "reasoning_tokens"):
                usage[key] += getattr(event, key)
        elif isinstance(event, ev.Error):
            errors.append(event.message)
            provider_failed = provider_failed or event.kind == "provider"
            if event.kind == "internal" and not session.busy and finished is None:
                session.submit(Shutdown())  # the prompt never became a turn: don't hang
        elif isinstance(event, ev.CheckFinished):
            check = event
        elif isinstance(event, ev.TurnFinished):
            finished = event
            changed.update(dict.fromkeys(event.files_changed))
            if event.continues:  # the session follows up by itself (failed check, escalation)
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

    report_obj = None
    if recorder is not None:
        if report:
            from realcost_agent.agent.cli_report import session_report

            report_obj = session_report(recorder.ledger, session.id)
        recorder.close()

    reason = finished.reason if finished else "error"
    if interrupted or reason == "interrupted":
        code = EXIT_INTERRUPTED
    elif reason == "done" and check is not None and not check.passed:
        code = EXIT_TASK_FAILED  # the model said done, but the task's check still fails
    elif reason == "done":
        code = EXIT_OK
    elif provider_failed:
        code = EXIT_PROVIDER
    else:
        code = EXIT_TASK_FAILED

    if output_format == "text":
        answer = finished.text if finished and reason != "error" else ""
        if answer:
            if _is_terminal(out):
                _print_markdown(answer, out)
            else:
                out.write(answer.rstrip("\n") + "\n")
        from realcost_agent.agent.report_render import api_text

        cost = api_text(session.total_cost, session.unpriced_calls,
                        all_unpriced=session.unpriced_calls >= usage["requests"],
                        local=usage["requests"] > 0 and local_calls == usage["requests"])
        err.write(
            f"[{reason}{'' if check is None else ' · check ' + ('passed' if check.passed else 'failed')}] "
            f"{plural(finished.steps if finished else 0, 'step')} · "
            f"{usage['input_tokens']} in / {usage['output_tokens']} out tokens"
            f"{' (estimated)' if usage.get('estimated_requests') else ''} · {cost} · "
            f"{time.monotonic() - started:.1f}s\n"
        )
    elif output_format == "json":
        result = {
            "v": RESULT_SCHEMA_VERSION,
            "session_id": session.id,
            "status": reason,
            "exit_code": code,
            # On a provider or internal error the turn's text is the error, not an answer.
            "answer": finished.text if finished and reason != "error" else "",
            "error": (errors[-1] if errors else (finished.text if finished else "")) or None
            if reason == "error" else None,
            "files_changed": list(changed),
            "check_passed": None if check is None else check.passed,
            "steps": finished.steps if finished else 0,
            "model": session.model.label,
            "litellm_id": session.model.litellm_id,
            "backend": session.model.backend,
            "usage": usage,
            "cost_usd": session.total_cost if not session.unpriced_calls else None,
            "cost_usd_known": session.total_cost,
            "unpriced_calls": session.unpriced_calls,
            "duration_ms": round((time.monotonic() - started) * 1000, 1),
            "errors": errors,
        }
        if report:
            result["report"] = report_obj
        out.write(json.dumps(result, ensure_ascii=False, indent=2) + "\n")
    if report and output_format != "json":  # stdout stays the answer (or the event stream)
        if report_obj is None:
            err.write("agent: no report: the cost ledger could not be opened\n")
        else:
            from realcost_agent.agent.cli_report import render

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
    report: bool = False, debug_minutes: float = 0.0, resume: Any = None,
) -> int:
    try:
        return asyncio.run(_drive(
            prompt, settings, root, output_format, out or sys.stdout, err or sys.stderr,
            warnings or [], report, debug_minutes, resume,
        ))
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
