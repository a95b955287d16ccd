"""One turn of the loop: model -> tool calls -> results -> model, until the model answers without
tools, a step/cost/time limit is hit, tool calls keep failing, or the user interrupts.

The turn sees only its TurnContext (agent/context.py), never the Session. It owns no state of
its own beyond counters; the conversation lives in the context's History, which stays a valid
chat history whatever happens (an interrupted tool call still gets a result, a stream cut
mid-response is discarded and retried whole).

A tool call runs in phases, one method each (where hooks and new checks attach):
  _parse_call -> _started (ToolCallStarted, loop guard) -> _gate (policy, approval)
  -> _execute (checkpoint, run) -> _after_call (files changed) -> _finish_call (result, event)

What the model sends back is checked before anything runs: the stream is read under limits
(agent/streamguard.py: idle, call_timeout, --max-time, size), tool calls are assembled and
repaired, and calls written into the text are recognized only by the rule in agent/toolcalls.py;
a response cut at its output budget ("length") never runs and is asked again once with more
room; host errors a resend fixes are resent (providers/recovery.py); usage is sanity-checked
(agent/usagecheck.py) before it is recorded.
"""
from __future__ import annotations

import asyncio
import json
import re
import time
from dataclasses import field, replace
from typing import TYPE_CHECKING, Any

from realcost_agent.agent import events as ev
from realcost_agent.agent.compaction import compact, estimate_tokens, is_context_overflow, needs_compaction
from realcost_agent.agent.describe import describe_call, outcome
from realcost_agent.agent.safety.loops import RepeatDetector
from realcost_agent.agent.streamguard import Limits, StreamLimit, guarded
from realcost_agent.agent.toolcalls import CallAssembler, normalize_call, recover_text_calls
from realcost_agent.providers.overflow import learn_window  # issue 18
from realcost_agent.agent.callusage import received_estimate, received_usage  # issue 18
from realcost_agent.agent.secrets import StreamRedactor
from realcost_agent.records import record
from realcost_agent.tools.base import Description
from realcost_agent.providers.base import (
    Finish,
    ProviderError,
    ReasoningDelta,
    ResolvedModel,
    TextDelta,
    ToolCallDelta,
    Usage,
)
from realcost_agent.providers.recovery import (
    MAX_CORRECTIVE_RETRIES, afford_tokens, classify, corrective_note, lowered_max_tokens,
    request_timer,
)

if TYPE_CHECKING:
    from realcost_agent.agent.approvals import Verdict
    from realcost_agent.agent.context import TurnContext

MAX_CONSECUTIVE_TOOL_ERRORS = 3
MAX_STREAM_RESTARTS = 2
MAX_CALLS_PER_RESPONSE = 64  # gpt-oss asks for a handful in parallel; thousands is an attack
# An output budget raised after a reasoning-only "length" finish stays under every host's cap.
MAX_RAISED_OUTPUT_TOKENS = 32_000
_LOWER_EFFORT = {"high": "medium", "medium": "low"}
EMPTY_NUDGE = (
    "Your last response had no text and no tool call. Continue the task with a tool call, "
    "or reply with a short summary if you are done."
)


@record
class StepResult:
    text: str = ""
    reasoning: str = ""
    tool_calls: list[dict[str, Any]] = field(default_factory=list)
    usage: Usage | None = None
    finish: str | None = None


class TurnStopped(Exception):
    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


class Turn:
    def __init__(self, ctx: TurnContext) -> None:
        self.ctx = ctx
        self.turn_id = ctx.turn_id
        self.steps = 0
        self.cost = 0.0
        self.started = time.monotonic()
        self.files_changed: list[str] = []
        self.consecutive_tool_errors = 0
        self.nudged_empty = False
        self.compacted = False
        self.repeats = RepeatDetector(limit=5)
        self._call_seq = 0
        # Request overrides for the rest of the turn (a 402 "can only afford", a used-up budget).
        self._max_tokens: int | None = None
        self._effort: str | None = None
        self._afford_retried = False
        self._budget_retried = False
        self._call_notes: dict[str, str] = {}

    # -- the loop ----------------------------------------------------------------------------
    async def run(self) -> tuple[str, str]:
        """Returns (reason, final text)."""
        try:
            return await self._loop()
        except TurnStopped as stop:
            # Calls of the last step that never ran still need results for a valid history.
            self._answer_pending("not run: the turn was stopped")
            return stop.reason, stop.message

    def _limit_reached(self) -> tuple[str, str] | None:
        """(reason, text) when a step, time or cost limit stops the turn before its next step."""
        limits = self.ctx.limits
        if self.steps >= limits.max_steps:
            return "max_steps", f"Stopped: reached the step limit ({limits.max_steps})."
        if limits.max_time is not None and time.monotonic() - self.started >= limits.max_time:
            return "max_time", f"Stopped: reached the time limit ({limits.max_time:g} s)."
        if limits.max_cost is not None and self.cost >= limits.max_cost:
            return "max_cost", (
                f"Stopped: reached the cost limit (${limits.max_cost:g}; spent ${self.cost:.4f})."
            )
        return None

    async def _loop(self) -> tuple[str, str]:
        history = self.ctx.history
        while True:
            if (stop := self._limit_reached()) is not None:
                return stop
            if needs_compaction(history.messages, self.ctx.model().context_window):
                await self._compact("the conversation neared the context window")
            self.steps += 1
            step = await self._model_step()
            calls = step.tool_calls
            text, reasoning = step.text, step.reasoning
            if not calls:
                recovered = recover_text_calls(text, self.ctx.tools.names())
                if recovered:
                    self.ctx.emit(ev.Warning(
                        "recognized a tool call written into the model's text (harmony markup "
                        "ending the message); running it as a tool call"))
                    calls = [self._new_call(None, c.name, c.arguments) for c in recovered.calls]
                    text = recovered.text
                    reasoning = "\n".join(p for p in (reasoning, recovered.reasoning) if p)
            message: dict[str, Any] = {"role": "assistant", "content": text or None}
            if reasoning:
                message["reasoning_content"] = reasoning
            if calls:
                message["tool_calls"] = calls
            self.ctx.history.append(message)
            self.ctx.emit(ev.AssistantMessage(
                self.turn_id, self.steps, text, reasoning, tuple(c["id"] for c in calls)
            ))
            if not calls:
                if not text.strip() and not self.nudged_empty:
                    # A reasoning-only answer: gpt-oss sometimes stops after thinking. Once.
                    self.nudged_empty = True
                    self.ctx.history.append({"role": "user", "content": EMPTY_NUDGE})
                    continue
                return "done", text
            for call in calls:
                await self._run_call(call)
                if self.consecutive_tool_errors >= MAX_CONSECUTIVE_TOOL_ERRORS:
                    raise TurnStopped("tool_errors", (
                        f"Stopped: {MAX_CONSECUTIVE_TOOL_ERRORS} invalid tool calls in a row "
                        "(malformed arguments or unknown tools). Try again or switch model."
                    ))

    # -- one model call ----------------------------------------------------------------------
    async def _model_step(self) -> StepResult:
        from realcost_agent.providers.retry import stream_with_retries

        restarts = corrective = 0
        notes: list[dict[str, Any]] = []  # a corrective note goes with the resend only
        while True:
            step = StepResult()
            parts = CallAssembler(frozenset(self.ctx.tools.names()))
            model = self._request_model()
            limits = self._limits()
            t0 = time.monotonic()
            ttft = ttft_text = None
            # A secret the model streams in pieces is held until whole (the finished message is
            # redacted whole by the session).
            text_stream, reasoning_stream = StreamRedactor(self.ctx.redact), StreamRedactor(self.ctx.redact)
            with request_timer() as sent:
                try:
                    stream = stream_with_retries(
                        self.ctx.provider(self.ctx.model()), self.ctx.history.snapshot(notes),
                        self.ctx.tools.schemas(),
                        model, on_retry=self._on_retry, sleep=self.ctx.sleep,
                    )
                    async for delta in guarded(stream, limits):
                        if ttft is None:
                            ttft = _since(sent, t0)
                        if isinstance(delta, TextDelta):
                            if ttft_text is None:
                                ttft_text = _since(sent, t0)
                            step.text += delta.text
                            if shown := text_stream.feed(delta.text):
                                self.ctx.emit(ev.AssistantDelta(self.turn_id, shown))
                        elif isinstance(delta, ReasoningDelta):
                            step.reasoning += delta.text
                            if shown := reasoning_stream.feed(delta.text):
                                self.ctx.emit(ev.ReasoningDelta(self.turn_id, shown))
                        elif isinstance(delta, ToolCallDelta):
                            parts.add(delta.index, delta.id, delta.name, delta.arguments)
                        elif isinstance(delta, Usage):
                            step.usage = delta
                        elif isinstance(delta, Finish):
                            step.finish = delta.reason
                except asyncio.CancelledError:
                    # issue 18: an interrupted call is recorded with what it had received
                    self._record_usage(received_estimate(self.ctx.history.messages, step, parts), t0, ttft,
                                       ttft_text, model=model, sent=sent, purpose="failed_attempt",
                                       cost_unknown=True, note="interrupted")
                    raise
                except StreamLimit as limit:
                    # Cut before the server reported usage: billed, but by how much is unknown;
                    # the tokens are estimated from what was received (issue 18).
                    self._record_usage(await received_usage(model, self.ctx.history.messages, step, parts), t0, ttft,
                                       ttft_text, model=model, sent=sent,
                                       purpose="failed_attempt", cost_unknown=True,
                                       note=f"cut by the agent: {limit.kind}")
                    if limit.kind == "idle" and restarts < MAX_STREAM_RESTARTS:
                        restarts += 1
                        self.ctx.emit(ev.Warning(f"{limit.message}; asking again "
                                               f"({restarts}/{MAX_STREAM_RESTARTS})"))
                        continue
                    reason = {"max_time": "max_time", "too_large": "response_too_large"}.get(
                        limit.kind, "stream_timeout")
                    self.ctx.emit(ev.Warning(limit.message))
                    raise TurnStopped(reason, f"Stopped: {limit.message}.") from None
                except ProviderError as exc:
                    kind = classify(exc)
                    if exc.usage is not None:  # a failed response is billed all the same
                        self._record_usage(exc.usage, t0, ttft, ttft_text, model=model, sent=sent,
                                           purpose="failed_attempt")
                    elif kind is not None:
                        # A host that generated and then rejected the call (tool_use_failed,
                        # HarmonyError) billed an unknown amount; a 402 refusal billed nothing.
                        self._record_usage(None, t0, ttft, ttft_text, model=model, sent=sent,
                                           purpose="failed_attempt", cost_unknown=kind != "afford",
                                           note=f"{kind} error: {exc.message[:120]}")
                    if is_context_overflow(exc):
                        # issue 18: the window the server named in its error holds from now on
                        self.ctx.use_model(learn_window(self.ctx.model(), exc.message))
                        # The real limit is below our estimate of what we sent: fold against that.
                        await self._compact(
                            f"the provider said the context is too long ({exc.message})",
                            window=min(self.ctx.model().context_window,
                                       estimate_tokens(self.ctx.history.messages)),
                        )
                        continue
                    if kind in ("tool_call", "harmony") and corrective < MAX_CORRECTIVE_RETRIES:
                        corrective += 1
                        notes = [{"role": "user", "content": corrective_note(kind, exc)}]
                        self.ctx.emit(ev.Warning(
                            f"{exc.line()}; asking again with a corrective note "
                            f"({corrective}/{MAX_CORRECTIVE_RETRIES})"))
                        continue
                    if kind == "afford" and not self._afford_retried:
                        self._afford_retried = True
                        self._max_tokens = lowered_max_tokens(afford_tokens(exc) or 1)
                        self.ctx.emit(ev.Warning(
                            f"{exc.line()}; asking again with max_tokens {self._max_tokens}"))
                        continue
                    if exc.partial and exc.retryable and restarts < MAX_STREAM_RESTARTS:
                        restarts += 1
                        self.ctx.emit(ev.Warning(
                            f"the response stream broke ({exc.line()}); discarding the partial "
                            f"answer and asking again ({restarts}/{MAX_STREAM_RESTARTS})"
                        ))
                        continue
                    if exc.usage is None and kind is None and (ttft is not None or exc.partial):
                        # issue 18: a call that failed mid-answer is recorded with what came
                        self._record_usage(await received_usage(model, self.ctx.history.messages, step, parts), t0, ttft,
                                           ttft_text, model=model, sent=sent,
                                           purpose="failed_attempt", cost_unknown=True,
                                           note=f"failed: {exc.message[:120]}")
                    raise
            if shown := reasoning_stream.flush():
                self.ctx.emit(ev.ReasoningDelta(self.turn_id, shown))
            if shown := text_stream.flush():
                self.ctx.emit(ev.AssistantDelta(self.turn_id, shown))
            if step.finish == "length":
                self._record_usage(step.usage, t0, ttft, ttft_text, model=model, sent=sent,
                                   purpose="failed_attempt", note="output budget used up")
                self._output_budget(step, model, had_calls=bool(parts.slots))
                continue
            self._record_usage(step.usage, t0, ttft, ttft_text, model=model, sent=sent)
            if len(parts.slots) > MAX_CALLS_PER_RESPONSE:
                message = (f"the model asked for {len(parts.slots)} tool calls in one response "
                           f"(the limit is {MAX_CALLS_PER_RESPONSE}); none was run")
                self.ctx.emit(ev.Warning(message))
                raise TurnStopped("response_too_large", f"Stopped: {message}.")
            step.tool_calls = [self._new_call(cid, name, args) for cid, name, args in parts.calls()]
            return step

    def _limits(self) -> Limits:
        limits = self.ctx.limits
        return Limits(
            idle_timeout=limits.idle_timeout, call_timeout=limits.call_timeout,
            turn_deadline=None if limits.max_time is None else self.started + limits.max_time,
            max_bytes=limits.max_response_bytes,
        )

    def _request_model(self) -> ResolvedModel:
        """The session's model with this turn's overrides of max_tokens / reasoning effort."""
        model = self.ctx.model()
        if self._max_tokens is None and self._effort is None:
            return model
        params = model.params
        if self._max_tokens is not None:
            params = replace(params, max_output_tokens=self._max_tokens)
        if self._effort is not None:
            params = replace(params, reasoning_effort=self._effort)
        return replace(model, params=params)

    def _output_budget(self, step: StepResult, model: ResolvedModel, *, had_calls: bool) -> None:
        """A response cut at the output budget is never an answer and its calls never run:
        ask once more with more room (or less reasoning), else stop the turn."""
        what = ("on reasoning, with no answer and no tool call"
                if not step.text.strip() and not had_calls else
                "before its answer or tool call was complete")
        current = model.params.max_output_tokens
        if current is None and step.usage is not None and step.usage.output_tokens > 0:
            current = step.usage.output_tokens
        more = None if current is None else min(current * 2, MAX_RAISED_OUTPUT_TOKENS)
        if self._afford_retried:
            more = None  # the account cannot pay for more
        effort = _LOWER_EFFORT.get(model.params.reasoning_effort or "")
        if not self._budget_retried and ((more and more > (current or 0)) or effort):
            self._budget_retried = True
            if more and more > (current or 0):
                self._max_tokens, change = more, f"max_tokens {more}"
            else:
                self._effort, change = effort, f"reasoning effort {effort}"
            self.ctx.emit(ev.Warning(f"the model used its whole output budget {what}; "
                                   f"asking again with {change}"))
            return
        message = (f"the model used its whole output budget ({current or 'the host default'} "
                   f"tokens) {what}")
        self.ctx.emit(ev.Warning(message + "; stopping (nothing from that response was run)"))
        raise TurnStopped("output_budget", (
            f"Stopped: {message}. Nothing from that response was run. Try a model with a larger "
            "output budget, a lower reasoning effort, or a smaller task."))

    async def _compact(self, reason: str, *, window: int | None = None) -> None:
        """Summarize older turns once; a second overflow in the same turn stops it."""
        from realcost_agent.providers.retry import stream_with_retries

        window = window or self.ctx.model().context_window
        stop = TurnStopped(
            "context_overflow",
            "Stopped: the conversation does not fit the model's context window even after "
            "compacting it. Start a new task (/new) or switch to a model with a larger window.",
        )
        if self.compacted:
            raise stop
        self.compacted = True
        model = self.ctx.cheap_model()
        provider = self.ctx.provider(model)

        limits = self._limits()

        class _Retrying:
            def stream(self, messages, tools, m):  # noqa: ANN001, ANN202
                return guarded(stream_with_retries(provider, messages, tools, m, sleep=sleep), limits)

        sleep = self.ctx.sleep
        history = self.ctx.history
        t0 = time.monotonic()
        try:
            result = await compact(history.messages, _Retrying(), model, window, self.ctx.task)
        except StreamLimit as limit:  # the summary call hung or ran away like any other
            self.ctx.emit(ev.Warning(f"compacting: {limit.message}"))
            raise TurnStopped("max_time" if limit.kind == "max_time" else "context_overflow",
                              f"Stopped: compacting the conversation failed: {limit.message}.") from None
        if result is None:
            raise stop
        history.replace(result.messages)
        self._record_usage(result.usage, t0, None, None, model=model, purpose="compaction")
        self.ctx.emit(ev.Compacted(
            self.turn_id, result.folded, result.before_tokens, result.after_tokens, model.label,
            reason,
        ))
        if needs_compaction(history.messages, window):
            raise stop

    def _on_retry(self, attempt: int, delay: float, exc: ProviderError) -> None:
        if exc.usage is not None:
            self._record_usage(exc.usage, time.monotonic(), None, None, purpose="failed_attempt")
        self.ctx.emit(ev.Warning(f"{exc.line()}; retrying in {delay:.1f} s (attempt {attempt + 1})"))

    def _new_call(self, call_id: str | None, name: str, arguments: str) -> dict[str, Any]:
        self._call_seq += 1
        # Stable, never random: the same turn/step/position always gets the same id.
        call_id = self.ctx.history.unique_call_id(
            call_id, f"call_{self.turn_id}_{self.steps}_{self._call_seq}")
        fixed = normalize_call(name, arguments, self.ctx.tools.names())
        if fixed.note:
            self._call_notes[call_id] = fixed.note
        name = fixed.name if fixed.name in self.ctx.tools else _SAFE_NAME.sub("_", fixed.name)[:64]
        args = fixed.arguments if isinstance(fixed.arguments, str) else json.dumps(fixed.arguments)
        return {"id": call_id, "type": "function", "function": {"name": name, "arguments": args}}

    def _record_usage(
        self, usage: Usage | None, t0: float, ttft: float | None, ttft_text: float | None,
        *, model: ResolvedModel | None = None, purpose: str = "turn",
        sent: list[float] | None = None, note: str | None = None, cost_unknown: bool = False,
    ) -> None:
        """Charge one model call to the meter (it emits UsageUpdated); count it for --max-cost."""
        cost = self.ctx.meter.record(
            usage, model or self.ctx.model(), turn_id=self.turn_id, purpose=purpose,
            ttft_ms=ttft, ttft_text_ms=ttft_text, duration_ms=(time.monotonic() - t0) * 1000,
            setup_ms=(sent[0] - t0) * 1000 if sent else None, note=note, cost_unknown=cost_unknown,
        )
        if cost is not None:
            self.cost += cost

    # -- one tool call: one method per phase -------------------------------------------------
    async def _run_call(self, call: dict[str, Any]) -> None:
        call_id, name = call["id"], call["function"]["name"]
        raw_args = call["function"]["arguments"]
        try:
            shown_args: Any = json.loads(raw_args) if raw_args.strip() else {}
        except (json.JSONDecodeError, AttributeError):
            shown_args = raw_args
        t0 = time.monotonic()
        if self.ctx.wait_for_tool is not None and name not in self.ctx.tools:
            await self.ctx.wait_for_tool(name)  # MCP: a tool of a server still starting
        parsed = self._parse_call(call_id, name, raw_args, shown_args, t0)
        if parsed is None:
            return
        tool, params = parsed
        described = await self._started(call_id, name, tool, params, shown_args, t0)
        verdict = await self._gate(call_id, tool, params, shown_args, described)
        if not verdict.allowed:
            text = f"Denied: {verdict.decision.reason}. Do not retry this call as-is."
            self._finish_call(call_id, tool.name, text, True, t0, {"denied": True})
            return
        result = await self._execute(call_id, tool, params, verdict, shown_args)
        self._after_call(tool, params, result)
        self._finish_call(call_id, tool.name, result.output, result.is_error, t0, result.metadata,
                          outcome(described, result))
        self.ctx.hooks.check_stop()  # hooks: a PostToolUse `continue: false` ends the turn

    def _parse_call(self, call_id: str, name: str, raw_args: str, shown_args: Any,
                    t0: float) -> tuple[Any, Any] | None:
        """The tool and its validated parameters; None (answered with the error) when invalid."""
        from realcost_agent.tools.registry import ToolCallError

        try:
            return self.ctx.tools.parse_call(name, raw_args)
        except ToolCallError as exc:
            self.ctx.emit(ev.ToolCallStarted(self.turn_id, call_id, name, shown_args))
            self.consecutive_tool_errors += 1
            self._finish_call(call_id, name, f"Error: {exc}", True, t0, {"invalid_call": True})
            return None

    async def _started(self, call_id: str, name: str, tool: Any, params: Any, shown_args: Any,
                       t0: float) -> Description:
        """ToolCallStarted with what the call will do; a call repeated without progress stops
        the turn here."""
        described = await describe_call(tool, params, self.ctx.root)
        self.ctx.emit(ev.ToolCallStarted(self.turn_id, call_id, name, shown_args,
                                         self.ctx.redact(described.summary), described.paths))
        self.consecutive_tool_errors = 0
        repeat = self.repeats.observe(tool.name, params)
        if repeat is not None:
            message = repeat.message()
            self._finish_call(call_id, tool.name, f"Not run: {message}.", True, t0, {"repeated": True})
            raise TurnStopped("repeated_call", f"Stopped: {message}.")
        return described

    async def _gate(self, call_id: str, tool: Any, params: Any, shown_args: Any,
                    described: Description) -> Verdict:
        """May it run: the policy, then the user when the policy asks (agent/approvals.py)."""
        return await self.ctx.approve(self.turn_id, call_id, tool, params, shown_args, described)

    async def _execute(self, call_id: str, tool: Any, params: Any, verdict: Verdict,
                       shown_args: Any = None) -> Any:
        """Checkpoint if the call needs one, then run it (sandbox, env, streamed output)."""
        await self.ctx.checkpoint(self.turn_id, tool, params, destructive=verdict.destructive)
        result = await self.ctx.run_tool(tool, params, call_id, git_outside=verdict.git_outside)
        # hooks: PostToolUse feedback goes to the model with the result (agent/hooks.py)
        result = await self.ctx.hooks.post_tool(call_id, tool.name, shown_args, result)
        if tool.mutating:
            self.ctx.refresh_secrets()  # a .env it wrote is redacted from its own result on
        return result

    def _after_call(self, tool: Any, params: Any, result: Any) -> None:
        """What a finished call changed: the turn's files, the repo map's, the loop guard's."""
        changed = result.metadata.get("files_changed") or []
        if changed:
            self.repeats.progress()
        for path in changed:
            if path not in self.files_changed:
                self.files_changed.append(path)
            self.ctx.file_changed(path)

    def _finish_call(self, call_id: str, name: str, output: str, is_error: bool, t0: float,
                     metadata: dict[str, Any], described: Description | None = None) -> None:
        output = self.ctx.redact(output)
        if call_id in self._call_notes:  # a repaired name or arguments: say what was done
            metadata = {**metadata, "recovered": self._call_notes[call_id]}
        self.ctx.history.append({"role": "tool", "tool_call_id": call_id, "content": output})
        d = described or Description((output.strip().splitlines() or [""])[0][:160])
        self.ctx.emit(ev.ToolCallFinished(
            self.turn_id, call_id, name, output, is_error, (time.monotonic() - t0) * 1000,
            dict(metadata), self.ctx.redact(d.summary), d.paths, self.ctx.redact(d.preview),
            d.added, d.removed,
        ))

    def _answer_pending(self, text: str) -> None:
        """Give every tool call of the last assistant message a result, so history stays valid."""
        for call_id, name in self.ctx.history.unanswered():
            self.ctx.history.append({"role": "tool", "tool_call_id": call_id, "content": text})
            self.ctx.emit(ev.ToolCallFinished(
                self.turn_id, call_id, name, text, True, 0.0, {"not_run": True},
            ))

    def on_cancel(self) -> None:
        self._answer_pending("not finished: the turn was interrupted or failed before this call ran")


_SAFE_NAME = re.compile(r"[^A-Za-z0-9_-]")


def _since(sent: list[float], t0: float) -> float:
    """Milliseconds since the last request left (or since t0 when the provider did not say)."""
    return (time.monotonic() - (sent[-1] if sent else t0)) * 1000


async def cancel_and_wait(task: asyncio.Task[Any]) -> None:
    task.cancel()
    try:
        await task
    except (asyncio.CancelledError, Exception):  # noqa: BLE001 - the turn reports its own errors
        pass
