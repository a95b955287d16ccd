"""One turn of the loop: model -> tool calls -> results -> model, until the model answers without
tools, a step/cost/time limit is hit, tool calls keep failing, or the user interrupts.

The turn owns no state of its own beyond counters; the conversation lives in the Session's
`messages`, which stays a valid chat history whatever happens (an interrupted tool call still
gets a result, a stream cut mid-response is discarded and retried whole).
"""
from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from agent import events as ev
from agent.compaction import compact, estimate_tokens, is_context_overflow, needs_compaction
from agent.leaks import find_leaked_call
from agent.safety.loops import RepeatDetector
from agent.safety.rules import decide_call
from providers.base import (
    Finish,
    ProviderError,
    ReasoningDelta,
    ResolvedModel,
    TextDelta,
    ToolCallDelta,
    Usage,
)

if TYPE_CHECKING:
    from agent.session import Session

MAX_CONSECUTIVE_TOOL_ERRORS = 3
MAX_STREAM_RESTARTS = 2
EMPTY_NUDGE = (
    "Your last response had no text and no tool call. Continue the task with a tool call, "
    "or reply with a short summary if you are done."
)


@dataclass
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
    def __init__(self, session: Session, turn_id: str) -> None:
        self.s = session
        self.turn_id = turn_id
        self.steps = 0
        self.cost = 0.0
        self.started = time.monotonic()
        self.files_changed: list[str] = []
        self.consecutive_tool_errors = 0
        self.nudged_empty = False
        self.compacted = False
        self.repeats = RepeatDetector(limit=5)
        self._call_seq = 0

    # -- the loop ----------------------------------------------------------------------------
    async def run(self) -> tuple[str, str]:
        """Returns (reason, final text)."""
        try:
            return await self._loop()
        except TurnStopped as stop:
            # Calls of the last step that never ran still need results for a valid history.
            self._answer_pending("not run: the turn was stopped")
            return stop.reason, stop.message

    async def _loop(self) -> tuple[str, str]:
        settings = self.s.settings
        while True:
            if self.steps >= settings.max_steps:
                return "max_steps", f"Stopped: reached the step limit ({settings.max_steps})."
            if settings.max_time is not None and time.monotonic() - self.started >= settings.max_time:
                return "max_time", f"Stopped: reached the time limit ({settings.max_time:g} s)."
            if settings.max_cost is not None and self.cost >= settings.max_cost:
                return "max_cost", (
                    f"Stopped: reached the cost limit (${settings.max_cost:g}; spent ${self.cost:.4f})."
                )
            if needs_compaction(self.s.messages, self.s.model.context_window):
                await self._compact("the conversation neared the context window")
            self.steps += 1
            step = await self._model_step()
            calls = step.tool_calls
            text = step.text
            if not calls:
                leaked = find_leaked_call(text, self.s.registry.names())
                if leaked:
                    self.s.emit(ev.Warning("recognized a tool call written into the model's text; running it"))
                    calls = [self._new_call(None, leaked[0], leaked[1])]
                    text = ""
            message: dict[str, Any] = {"role": "assistant", "content": text or None}
            if step.reasoning:
                message["reasoning_content"] = step.reasoning
            if calls:
                message["tool_calls"] = calls
            self.s.append_message(message)
            self.s.emit(ev.AssistantMessage(
                self.turn_id, self.steps, text, step.reasoning, tuple(c["id"] for c in calls)
            ))
            if not calls:
                if not text.strip() and not self.nudged_empty and step.finish != "length":
                    # A reasoning-only answer: gpt-oss sometimes stops after thinking. Once.
                    self.nudged_empty = True
                    self.s.append_message({"role": "user", "content": EMPTY_NUDGE})
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
        from providers.retry import stream_with_retries

        restarts = 0
        while True:
            step = StepResult()
            partial: dict[int, dict[str, Any]] = {}
            model = self.s.model
            t0 = time.monotonic()
            ttft = ttft_text = None
            try:
                stream = stream_with_retries(
                    self.s.provider(), self.s.messages, self.s.registry.schemas(), model,
                    on_retry=self._on_retry, sleep=self.s.sleep,
                )
                async for delta in stream:
                    if ttft is None:
                        ttft = (time.monotonic() - t0) * 1000
                    if isinstance(delta, TextDelta):
                        if ttft_text is None:
                            ttft_text = (time.monotonic() - t0) * 1000
                        step.text += delta.text
                        self.s.emit(ev.AssistantDelta(self.turn_id, delta.text))
                    elif isinstance(delta, ReasoningDelta):
                        step.reasoning += delta.text
                        self.s.emit(ev.ReasoningDelta(self.turn_id, delta.text))
                    elif isinstance(delta, ToolCallDelta):
                        slot = partial.setdefault(delta.index, {"id": None, "name": "", "arguments": ""})
                        if delta.id:
                            slot["id"] = delta.id
                        if delta.name:
                            slot["name"] += delta.name
                        slot["arguments"] += delta.arguments
                    elif isinstance(delta, Usage):
                        step.usage = delta
                    elif isinstance(delta, Finish):
                        step.finish = delta.reason
            except ProviderError as exc:
                if exc.usage is not None:  # a failed response is billed all the same
                    self._record_usage(exc.usage, t0, ttft, ttft_text, model=model, purpose="failed_attempt")
                if is_context_overflow(exc):
                    # The real limit is below our estimate of what we sent: fold against that.
                    await self._compact(
                        f"the provider said the context is too long ({exc.message})",
                        window=min(self.s.model.context_window, estimate_tokens(self.s.messages)),
                    )
                    continue
                if exc.partial and exc.retryable and restarts < MAX_STREAM_RESTARTS:
                    restarts += 1
                    self.s.emit(ev.Warning(
                        f"the response stream broke ({exc.line()}); discarding the partial "
                        f"answer and asking again ({restarts}/{MAX_STREAM_RESTARTS})"
                    ))
                    continue
                raise
            self._record_usage(step.usage, t0, ttft, ttft_text, model=model)
            step.tool_calls = [
                self._new_call(slot["id"], slot["name"], slot["arguments"])
                for _, slot in sorted(partial.items())
            ]
            return step

    async def _compact(self, reason: str, *, window: int | None = None) -> None:
        """Summarize older turns once; a second overflow in the same turn stops it."""
        from providers.retry import stream_with_retries

        window = window or self.s.model.context_window
        stop = TurnStopped(
            "context_overflow",
            "Stopped: the conversation does not fit the model's context window even after "
            "compacting it. Start a new task (/new) or switch to a model with a larger window.",
        )
        if self.compacted:
            raise stop
        self.compacted = True
        model = self.s.cheap_model()
        provider = self.s.provider(model)

        class _Retrying:
            def stream(self, messages, tools, m):  # noqa: ANN001, ANN202
                return stream_with_retries(provider, messages, tools, m, sleep=sleep)

        sleep = self.s.sleep
        task = self.s.tasks.current
        t0 = time.monotonic()
        result = await compact(
            self.s.messages, _Retrying(), model, window, task.first_prompt if task else None
        )
        if result is None:
            raise stop
        self.s.replace_messages(result.messages)
        self._record_usage(result.usage, t0, None, None, model=model, purpose="compaction")
        self.s.emit(ev.Compacted(
            self.turn_id, result.folded, result.before_tokens, result.after_tokens, model.label,
            reason,
        ))
        if needs_compaction(self.s.messages, window):
            raise stop

    def _on_retry(self, attempt: int, delay: float, exc: ProviderError) -> None:
        if exc.usage is not None:
            self._record_usage(exc.usage, time.monotonic(), None, None, purpose="failed_attempt")
        self.s.emit(ev.Warning(f"{exc.line()}; retrying in {delay:.1f} s (attempt {attempt + 1})"))

    def _new_call(self, call_id: str | None, name: str, arguments: str) -> dict[str, Any]:
        self._call_seq += 1
        if not call_id or call_id in self.s.call_ids:
            call_id = f"call_{self.turn_id}_{self.steps}_{self._call_seq}"
        self.s.call_ids.add(call_id)
        return {"id": call_id, "type": "function", "function": {"name": name, "arguments": arguments}}

    def _record_usage(
        self, usage: Usage | None, t0: float, ttft: float | None, ttft_text: float | None,
        *, model: ResolvedModel | None = None, purpose: str = "turn",
    ) -> None:
        usage = usage or Usage()
        model = model or self.s.model
        price = self.s.price(model)
        cost = None if price is None else price.cost(usage)
        if cost is not None:
            self.cost += cost
        self.s.add_usage(usage, cost, model)
        self.s.emit(ev.UsageUpdated(
            turn_id=self.turn_id, model=model.label, litellm_id=model.litellm_id,
            backend=model.backend, input_tokens=usage.input_tokens,
            output_tokens=usage.output_tokens, cached_input_tokens=usage.cached_input_tokens,
            reasoning_tokens=usage.reasoning_tokens, cost=cost, provider_cost=usage.provider_cost,
            ttft_ms=ttft, ttft_text_ms=ttft_text, duration_ms=(time.monotonic() - t0) * 1000,
            session_cost=self.s.total_cost, session_input_tokens=self.s.total_input,
            session_output_tokens=self.s.total_output, purpose=purpose,
            local=model.free,
        ))

    # -- one tool call -----------------------------------------------------------------------
    async def _run_call(self, call: dict[str, Any]) -> None:
        from tools.registry import ToolCallError

        call_id = call["id"]
        name = call["function"]["name"]
        raw_args = call["function"]["arguments"]
        try:
            shown_args: Any = json.loads(raw_args) if raw_args.strip() else {}
        except (json.JSONDecodeError, AttributeError):
            shown_args = raw_args
        self.s.emit(ev.ToolCallStarted(self.turn_id, call_id, name, shown_args))
        t0 = time.monotonic()
        try:
            tool, params = self.s.registry.parse_call(name, raw_args)
        except ToolCallError as exc:
            self.consecutive_tool_errors += 1
            self._finish_call(call_id, name, f"Error: {exc}", True, t0, {"invalid_call": True})
            return
        self.consecutive_tool_errors = 0
        repeat = self.repeats.observe(tool.name, params)
        if repeat is not None:
            message = repeat.message()
            self._finish_call(call_id, tool.name, f"Not run: {message}.", True, t0, {"repeated": True})
            raise TurnStopped("repeated_call", f"Stopped: {message}.")
        decision = decide_call(
            self.s.approval, tool.name, tool.mutating, params, self.s.rules,
            interactive=self.s.interactive,
            approved_for_session=tool.name in self.s.approved_tools, root=self.s.root,
            protected=getattr(self.s, "protected", None), sandboxed=getattr(self.s, "sandboxed", False),
        )
        destructive = bool(getattr(decision, "destructive", False))
        git_outside = bool(getattr(decision, "git_outside", False))
        if decision.action == "ask":
            decision = await self.s.ask_approval(self.turn_id, call_id, tool.name, shown_args, decision)
        if decision.action == "deny":
            text = f"Denied: {decision.reason}. Do not retry this call as-is."
            self._finish_call(call_id, tool.name, text, True, t0, {"denied": True})
            return
        if tool.mutating:
            await self.s.checkpoint(self.turn_id, f"before {tool.name}", force=destructive)
        ctx = self.s.tool_context(call_id, git_outside=git_outside) if git_outside else self.s.tool_context(call_id)
        result = await self.s.registry.execute(tool, params, ctx)
        if result.metadata.get("files_changed"):
            self.repeats.progress()
        changed = result.metadata.get("files_changed") or []
        for path in changed:
            if path not in self.files_changed:
                self.files_changed.append(path)
            if path not in self.s.touched_files:
                self.s.touched_files.append(path)
        self._finish_call(call_id, tool.name, result.output, result.is_error, t0, result.metadata)

    def _finish_call(self, call_id: str, name: str, output: str, is_error: bool, t0: float,
                     metadata: dict[str, Any]) -> None:
        output = self.s.redact(output)
        self.s.append_message({"role": "tool", "tool_call_id": call_id, "content": output})
        self.s.emit(ev.ToolCallFinished(
            self.turn_id, call_id, name, output, is_error, (time.monotonic() - t0) * 1000,
            dict(metadata),
        ))

    def _answer_pending(self, text: str) -> None:
        """Give every tool call of the last assistant message a result, so history stays valid."""
        answered = {m.get("tool_call_id") for m in self.s.messages if m.get("role") == "tool"}
        for message in reversed(self.s.messages):
            if message.get("role") == "assistant":
                for call in message.get("tool_calls") or []:
                    if call["id"] not in answered:
                        self.s.append_message(
                            {"role": "tool", "tool_call_id": call["id"], "content": text}
                        )
                        self.s.emit(ev.ToolCallFinished(
                            self.turn_id, call["id"], call["function"]["name"], text, True, 0.0,
                            {"not_run": True},
                        ))
                break

    def on_cancel(self) -> None:
        self._answer_pending("not finished: the turn was interrupted or failed before this call ran")


async def cancel_and_wait(task: asyncio.Task[Any]) -> None:
    task.cancel()
    try:
        await task
    except (asyncio.CancelledError, Exception):  # noqa: BLE001 - the turn reports its own errors
        pass
