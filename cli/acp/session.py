"""One ACP session: a core Session driven through ops, its events forwarded as `session/update`.

The pump is the only consumer of the core's event stream. Each `session/prompt` submits a
UserInput and waits for the task's last TurnFinished (automatic follow-ups after a failed check
included); approvals become `session/request_permission` round trips answered with Approve.
"""
from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from acp import RequestError
from acp import schema as s
from acp.helpers import (
    start_tool_call,
    text_block,
    tool_content,
    update_agent_message_text,
    update_agent_thought_text,
    update_tool_call,
)

from realcost_agent.agent import events as ev
from realcost_agent.agent import ops
from realcost_agent.cli.acp import mapping

log = logging.getLogger("realcost_agent.acp")

MODEL_CHOICES = (
    ("auto", "auto: route each task (gpt-oss-20b, gpt-oss-120b or o4-mini)"),
    ("gpt-oss-20b", "fast and cheap open-weight model"),
    ("gpt-oss-120b", "the strongest open-weight model here"),
    ("o4-mini", "hosted reasoning model"),
)
OUTPUT_TAIL = 4000  # characters of live command output shown while it runs
OUTPUT_EVERY = 0.1  # seconds between live-output updates of one call


class TurnFigures:
    """Usage and cost over one prompt's turns: a view over the one fold of the event stream
    (agent/fold.py), fed the UsageUpdated events the ledger records."""

    def __init__(self) -> None:
        from realcost_agent.agent.fold import Fold

        self._fold = Fold()
        self.reasons: list[str] = []  # each turn's TurnFinished.reason
        self.session_cost: float | None = None  # the core's running session total

    def add(self, e: ev.UsageUpdated) -> None:
        self._fold.feed(e)
        self.session_cost = e.session_cost

    requests = property(lambda self: self._fold.totals.requests)
    input_tokens = property(lambda self: self._fold.totals.input_tokens)
    output_tokens = property(lambda self: self._fold.totals.output_tokens)
    cached_input_tokens = property(lambda self: self._fold.totals.cached_input_tokens)
    reasoning_tokens = property(lambda self: self._fold.totals.reasoning_tokens)
    cost = property(lambda self: self._fold.totals.api_cost)  # calls with a known price
    unpriced_calls = property(lambda self: self._fold.totals.unpriced_calls)
    local_calls = property(lambda self: self._fold.totals.local_calls)
    models = property(lambda self: [row.model for row in self._fold.totals.models])


def task_figures(e: ev.TaskUpdated | None) -> dict[str, Any] | None:
    if e is None:
        return None
    return {"task_id": e.task_id, "status": e.status, "prompts": e.prompts,
            "followups": e.followups, "agent_ms": round(e.agent_ms, 1),
            "debug_ms": round(e.debug_ms, 1), "debug_correction_ms": round(e.debug_correction_ms, 1),
            "api_cost": e.api_cost, "unpriced_calls": e.unpriced_calls, "real_cost": e.real_cost}


def plan_update(e: ev.PlanUpdated) -> Any:
    """The core's checklist as ACP's `plan` session update (entries replace the whole plan)."""
    statuses = {"pending", "in_progress", "completed"}
    return s.AgentPlanUpdate(session_update="plan", entries=[
        s.PlanEntry(content=str(step.get("step", "")), priority="medium",
                    status=step.get("status") if step.get("status") in statuses else "pending")
        for step in e.steps])


def usage_payload(acp: "AcpSession", f: TurnFigures) -> dict[str, Any]:
    """Figures as `_realcost/usage` (each turn) and the response's `_meta.realcost` (the
    prompt): summed from the UsageUpdated events the ledger records; the task's from its
    TaskUpdated, which the core sends before TurnFinished."""
    return {
        "sessionId": acp.id,
        "model": acp.model,
        "models": f.models,
        "reasons": f.reasons,
        "requests": f.requests,
        "input_tokens": f.input_tokens,
        "output_tokens": f.output_tokens,
        "cached_input_tokens": f.cached_input_tokens,
        "reasoning_tokens": f.reasoning_tokens,
        "cost_usd": f.cost if not f.unpriced_calls else None,  # None: some price unknown
        "cost_usd_known": f.cost,
        "unpriced_calls": f.unpriced_calls,
        "local": f.requests > 0 and f.local_calls == f.requests,
        "session_cost_usd": f.session_cost,
        "task": task_figures(acp.task),
    }



EXT_USAGE = "realcost/usage"  # the SDK sends it as `_realcost/usage`


class AcpSession:
    def __init__(self, conn: Any, core: Any, *, recorder: Any = None, model_choice: str = "auto",
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.conn = conn
        self.core = core
        self.id: str = core.id
        self.root = Path(core.root)
        self.recorder = recorder
        # The session's Redactor (its public `redact`): file texts shown beside the already
        # redacted diffs go through it too.
        self._redact = getattr(core, "redact", None)
        self.clock = clock
        self.model_choice = model_choice
        self.model = core.model.label
        self.task: ev.TaskUpdated | None = None
        self.mcp_servers: list[Any] = []  # agent.acp.mcp.McpServerConfig, as the client passed
        self.held: list[str] = []  # warnings before the first prompt: shown at its start
        self._turn: asyncio.Future[ev.TurnFinished | None] | None = None
        self._figures = TurnFigures()
        self._turn_figures = TurnFigures()  # the running turn's, for its notification
        self._turn_seen = False
        self._errors: list[str] = []
        self._waiters: list[tuple[Callable[[ev.Event], bool], asyncio.Future[ev.Event]]] = []
        self._asks: dict[str, asyncio.Task[None]] = {}
        self._output: dict[str, tuple[str, float]] = {}
        self._pump: asyncio.Task[None] | None = None
        self.in_command = False  # a slash command is running: it answers its own warnings
        self._cancelled = False  # session/cancel came during this prompt

    # -- lifecycle ---------------------------------------------------------------------------
    def start_pump(self) -> None:
        self._pump = asyncio.create_task(self._run_pump(), name=f"acp-pump-{self.id}")

    async def close(self) -> None:
        for task in list(self._asks.values()):
            task.cancel()
        try:
            await asyncio.wait_for(self.core.close(), 15)
        except Exception as exc:  # noqa: BLE001 - closing must always finish
            log.warning("session %s did not close cleanly: %s", self.id, exc)
        if self._pump is not None:
            try:
                await asyncio.wait_for(self._pump, 5)
            except Exception:  # noqa: BLE001
                self._pump.cancel()
        if self.recorder is not None:
            self.recorder.close()

    # -- client -> core ----------------------------------------------------------------------
    @property
    def prompting(self) -> bool:
        return self._turn is not None and not self._turn.done()

    async def prompt(self, text: str) -> tuple[ev.TurnFinished | None, TurnFigures, list[str]]:
        """Run one prompt to the end of its task's turns: (last TurnFinished or None when it
        never became a turn, the figures, error messages)."""
        if self.prompting:
            raise RequestError(-32600, "a prompt is already running in this session: "
                                       "cancel it first (session/cancel)")
        loop = asyncio.get_running_loop()
        self._turn = loop.create_future()
        self._figures, self._turn_seen, self._errors = TurnFigures(), False, []
        self._cancelled = False
        held, self.held = self.held, []
        for message in held:
            await self._say(f"⚠ {message}\n\n")
        self.core.submit(ops.UserInput(text))
        finished = await self._turn
        return finished, self._figures, self._errors

    def cancel(self) -> None:
        """session/cancel: the core's Interrupt; a pending permission request is answered
        "cancelled" by the client itself (the protocol's rule), which denies the call."""
        self._cancelled = True
        self.core.submit(ops.Interrupt())

    async def until(self, predicate: Callable[[ev.Event], bool], timeout: float = 10.0) -> ev.Event | None:
        """Wait for the next event matching `predicate` (an op's answer); None after timeout."""
        future: asyncio.Future[ev.Event] = asyncio.get_running_loop().create_future()
        self._waiters.append((predicate, future))
        try:
            return await asyncio.wait_for(future, timeout)
        except asyncio.TimeoutError:
            return None
        finally:
            self._waiters = [(p, f) for p, f in self._waiters if f is not future]

    # -- core -> client ----------------------------------------------------------------------
    async def _run_pump(self) -> None:
        async for event in self.core.events():
            for predicate, future in list(self._waiters):
                if not future.done() and predicate(event):
                    future.set_result(event)
            try:
                await self._forward(event)
            except Exception as exc:  # noqa: BLE001 - a closed client must not stop the core
                log.warning("forwarding %s failed: %s", event.type, exc)
        if self._turn is not None and not self._turn.done():
            self._turn.set_result(None)

    async def _update(self, update: Any) -> None:
        await self.conn.session_update(session_id=self.id, update=update)

    async def _say(self, text: str) -> None:
        await self._update(update_agent_message_text(text))

    async def _forward(self, e: ev.Event) -> None:  # noqa: C901 - one branch per event type
        if isinstance(e, ev.AssistantDelta):
            if self.prompting:
                await self._say(e.text)
        elif isinstance(e, ev.ReasoningDelta):
            if self.prompting:
                await self._update(update_agent_thought_text(e.text))
        elif isinstance(e, ev.ToolCallStarted):
            update = mapping.tool_started(self.root, e)
            update.status = "in_progress"
            await self._update(update)
        elif isinstance(e, ev.ToolOutputDelta):
            await self._live_output(e)
        elif isinstance(e, ev.ToolCallFinished):
            self._output.pop(e.call_id, None)
            await self._update(mapping.tool_finished(self.root, e, redact=self._redact))
        elif isinstance(e, ev.ApprovalRequested):
            self._asks[e.call_id] = asyncio.create_task(self._ask(e), name=f"acp-ask-{e.call_id}")
        elif isinstance(e, ev.TurnStarted):
            self._turn_seen = True
            self._turn_figures = TurnFigures()
            self.model = e.model
            if e.origin != "user" and self.prompting:
                why = "the check failed" if e.origin == "check" else "escalating the model"
                await self._say(f"\n\n↻ {why}: following up on {e.model}\n\n")
        elif isinstance(e, ev.UsageUpdated):
            self._figures.add(e)
            self._turn_figures.add(e)
        elif isinstance(e, ev.PlanUpdated):  # plan mode's checklist (update_plan): the editor's plan
            await self._update(plan_update(e))
        elif isinstance(e, ev.TaskUpdated):
            self.task = e
            if e.status != "active" and not self.prompting:
                log.info("task %s %s", e.task_id, e.status)
        elif isinstance(e, (ev.ModelSwitched, ev.ModelRouted)):
            self.model = e.model
        elif isinstance(e, ev.CheckStarted):
            await self._update(start_tool_call(
                f"check-{e.task_id}-{e.attempt}", f"check: {e.command.splitlines()[0][:120]}",
                kind="execute", status="in_progress", raw_input={"command": e.command}))
        elif isinstance(e, ev.CheckFinished):
            label = "passed" if e.passed else (f"failed (exit {e.exit_code})" if e.exit_code is not None
                                               else "killed (timed out or interrupted)")
            await self._update(update_tool_call(
                f"check-{e.task_id}-{e.attempt}", status="completed" if e.passed else "failed",
                title=f"check: {e.command.splitlines()[0][:120]} · {label}",
                content=[tool_content(text_block(e.output_tail or label))]))
        elif isinstance(e, ev.Compacted):
            if self.prompting:
                await self._update(update_agent_thought_text(
                    f"\n[older turns summarized to fit the context: {e.before_tokens} → "
                    f"{e.after_tokens} tokens]\n"))
        elif isinstance(e, (ev.Warning, ev.Error)):
            await self._notice(e)
        elif isinstance(e, ev.TurnFinished):
            await self._turn_usage(e)
            for call_id, ask in list(self._asks.items()):  # the turn is over: nothing to answer
                ask.cancel()
                self._asks.pop(call_id, None)
            if not e.continues and self._turn is not None and not self._turn.done():
                self._figures.reasons.append(e.reason)
                self._turn.set_result(e)
            elif e.continues:
                self._figures.reasons.append(e.reason)

    async def _turn_usage(self, e: ev.TurnFinished) -> None:
        """Each turn's usage and cost as an extension notification (a prompt may run several:
        the session's own follow-ups after a failed check)."""
        figures, self._turn_figures = self._turn_figures, TurnFigures()
        figures.reasons.append(e.reason)
        payload = {**usage_payload(self, figures), "turnId": e.turn_id, "continues": e.continues}
        try:
            await self.conn.ext_notification(EXT_USAGE, payload)
        except Exception as exc:  # noqa: BLE001 - the response's _meta has the figures too
            log.warning("usage notification failed: %s", exc)

    async def _notice(self, e: ev.Warning | ev.Error) -> None:
        text = e.message
        if isinstance(e, ev.Error):
            self._errors.append(text)
            # A prompt that never became a turn (the core refused it): answer it, don't hang.
            if self.prompting and not self._turn_seen and self._turn is not None:
                self._turn.set_result(None)
                return
        if self.in_command:
            return
        if self.prompting:
            await self._say(f"\n\n{'error' if isinstance(e, ev.Error) else '⚠'}: {text}\n\n")
        else:
            self.held.append(text)

    async def _live_output(self, e: ev.ToolOutputDelta) -> None:
        text, last = self._output.get(e.call_id, ("", 0.0))
        text = (text + e.text)[-OUTPUT_TAIL:]
        now = self.clock()
        if now - last >= OUTPUT_EVERY:
            self._output[e.call_id] = (text, now)
            await self._update(mapping.tool_output(e.call_id, text))
        else:
            self._output[e.call_id] = (text, last)

    async def _ask(self, e: ev.ApprovalRequested) -> None:
        """The permission round trip; anything but an offered allow denies the call."""
        options = mapping.permission_options(e)
        option_id: str | None = None
        try:
            response = await self.conn.request_permission(
                options=options, session_id=self.id, tool_call=mapping.approval_call(self.root, e, redact=self._redact))
            outcome = response.outcome
            if getattr(outcome, "outcome", "") == "selected":
                option_id = outcome.option_id
        except asyncio.CancelledError:
            return  # the turn ended first: nothing to answer
        except Exception as exc:  # noqa: BLE001 - a client that cannot answer denies
            log.warning("permission request for %s failed: %s", e.call_id, exc)
        finally:
            self._asks.pop(e.call_id, None)
        if self._cancelled:
            return  # the Interrupt already ended the turn and its pending approval
        decision = mapping.decision(option_id, options)
        reason = "" if option_id else "cancelled in the editor"
        self.core.submit(ops.Approve(e.call_id, decision, reason))
        if decision != "deny":
            try:
                await self._update(mapping.tool_running(e.call_id))
            except Exception:  # noqa: BLE001
                pass

    # -- model choice ------------------------------------------------------------------------
    def config_options(self) -> list[s.SessionConfigOptionSelect]:
        choices = list(MODEL_CHOICES)
        if self.model_choice not in {value for value, _ in choices}:
            choices.append((self.model_choice, "as configured"))
        return [s.SessionConfigOptionSelect(
            type="select", id="model", name="Model", category="model",
            description="auto routes each task; a profile pins it for the session",
            current_value=self.model_choice,
            options=[s.SessionConfigSelectOption(value=v, name=v, description=d) for v, d in choices],
        )]

    def modes(self) -> s.SessionModeState:
        """The same choice as session modes, for clients without config options (Toad)."""
        choices = dict(MODEL_CHOICES)
        choices.setdefault(self.model_choice, "as configured")
        return s.SessionModeState(
            current_mode_id=self.model_choice,
            available_modes=[s.SessionMode(id=v, name=v, description=d) for v, d in choices.items()])

    async def announce_model(self) -> None:
        """After a switch through either door, both views say the same."""
        await self.conn.session_update(session_id=self.id, update=s.CurrentModeUpdate(
            session_update="current_mode_update", current_mode_id=self.model_choice))
        await self.conn.session_update(session_id=self.id, update=s.ConfigOptionUpdate(
            session_update="config_option_update", config_options=self.config_options()))

    async def switch_model(self, value: str) -> None:
        """The core's SwitchModel for the session; RequestError when the core refuses it."""
        if value not in {v for v, _ in MODEL_CHOICES} | {self.model_choice}:
            raise RequestError(-32602, f"unknown model {value!r}: one of "
                               + ", ".join(v for v, _ in MODEL_CHOICES))
        if self.prompting:
            raise RequestError(-32600, "the agent is working: cancel the prompt before switching")
        waiter = asyncio.ensure_future(self.until(
            lambda e: isinstance(e, (ev.ModelSwitched, ev.Error))))
        await asyncio.sleep(0)  # the waiter is registered before the op can answer
        self.in_command = True  # the answer is the response, not a notice for later
        try:
            self.core.submit(ops.SwitchModel(value, "session"))
            answer = await waiter
        finally:
            self.in_command = False
        if isinstance(answer, ev.Error):
            raise RequestError(-32602, answer.message)
        self.model_choice = value
