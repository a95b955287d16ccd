"""Limits on one model response, enforced where the turn consumes the provider stream.

A provider's own timeouts see bytes, not progress: a server that trickles a keep-alive comment
(or one character of text) every few seconds never trips an idle timeout. So the turn wraps
whatever async iterator the provider returns (provider-agnostic) and ends it when
  - no delta came for `idle_timeout` seconds after the first one -> StreamLimit("idle")
    (before the first delta a reasoning model may think silently behind keep-alive comments
    for minutes: there the provider's own byte timeout, call_timeout and max_time hold)
  - the call ran longer than `call_timeout` seconds    -> StreamLimit("call_timeout")
  - the turn's `--max-time` deadline passed            -> StreamLimit("max_time")
  - text + reasoning + tool arguments passed `max_bytes` -> StreamLimit("too_large")
The wrapped stream is closed (its HTTP response released) before StreamLimit is raised.
"""
from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Any, AsyncIterator, Callable

from realcost_agent.providers.base import ReasoningDelta, StreamDelta, TextDelta, ToolCallDelta
from realcost_agent.records import record

DEFAULT_CALL_TIMEOUT = 600.0  # a slow reasoning answer takes minutes; a stuck one never ends
DEFAULT_MAX_RESPONSE_BYTES = 1_000_000


class StreamLimit(Exception):
    def __init__(self, kind: str, message: str, *, partial: bool) -> None:
        super().__init__(message)
        self.kind = kind  # "idle" | "call_timeout" | "max_time" | "too_large"
        self.message = message
        self.partial = partial  # deltas were already consumed


@record(frozen=True)
class Limits:
    idle_timeout: float | None = None
    call_timeout: float | None = DEFAULT_CALL_TIMEOUT
    turn_deadline: float | None = None  # on `clock`'s scale
    max_bytes: int | None = DEFAULT_MAX_RESPONSE_BYTES


def delta_size(delta: Any) -> int:
    if isinstance(delta, (TextDelta, ReasoningDelta)):
        return len(delta.text.encode("utf-8", "replace"))
    if isinstance(delta, ToolCallDelta):
        return len((delta.arguments or "").encode("utf-8", "replace")) + len(delta.name or "")
    return 0


async def guarded(
    stream: AsyncIterator[StreamDelta], limits: Limits, *,
    clock: Callable[[], float] = time.monotonic,
) -> AsyncIterator[StreamDelta]:
    """Yield `stream`'s deltas within `limits`; raise StreamLimit when one is passed."""
    loop = asyncio.get_running_loop()
    start = clock()
    call_end = None if limits.call_timeout is None else start + limits.call_timeout
    size = 0
    seen = False
    it = stream.__aiter__()
    try:
        while True:
            now = clock()
            idle = None if limits.idle_timeout is None or not seen else now + limits.idle_timeout
            ends = {"call_timeout": call_end, "max_time": limits.turn_deadline, "idle": idle}
            live = {k: v for k, v in ends.items() if v is not None}
            kind = min(live, key=live.__getitem__) if live else None
            wait = None if kind is None else max(0.0, live[kind] - now)
            timer = asyncio.timeout_at(None if wait is None else loop.time() + wait)
            try:
                async with timer:
                    delta = await it.__anext__()
            except StopAsyncIteration:
                return
            except TimeoutError:
                if kind is None or not timer.expired():
                    raise  # not ours
                raise StreamLimit(kind, _message(kind, limits), partial=seen) from None
            seen = True
            size += delta_size(delta)
            if limits.max_bytes is not None and size > limits.max_bytes:
                raise StreamLimit("too_large", _message("too_large", limits), partial=True)
            yield delta
    finally:
        aclose = getattr(it, "aclose", None)
        if aclose is not None:
            with contextlib.suppress(Exception):
                await aclose()


def _message(kind: str, limits: Limits) -> str:
    if kind == "idle":
        return f"no data from the model for {limits.idle_timeout:g} s (stream idle timeout)"
    if kind == "call_timeout":
        return (f"the model's response took longer than {limits.call_timeout:g} s "
                "(call_timeout); it was cut")
    if kind == "max_time":
        return "the turn's time limit (--max-time) passed while the model was still answering"
    return (f"the model's response passed {limits.max_bytes:,} bytes (max_response_bytes); "
            "it was cut and nothing in it was run")
