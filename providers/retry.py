"""Retries for provider streams: exponential backoff with jitter, honouring Retry-After.

The choice about partial output: nothing is buffered (the user sees tokens as they arrive), so
an attempt is only retried here while it has yielded nothing. A retryable failure after some
deltas were yielded is re-raised as a ProviderError with `partial=True` (and `retryable`
kept): the core must discard the partial assistant turn and, if it wants, call
`stream_with_retries` again for the whole turn. Retrying silently mid-turn would duplicate text
and tool-call fragments the caller has already consumed.
"""
from __future__ import annotations

import asyncio
import contextlib
import inspect
import random
from typing import Any, AsyncIterator, Awaitable, Callable

from realcost_agent.providers.base import Provider, ProviderError, ResolvedModel, StreamDelta

BASE_DELAY = 1.0
MAX_DELAY = 30.0
MAX_RETRY_AFTER = 60.0

OnRetry = Callable[[int, float, ProviderError], "Awaitable[None] | None"]


def backoff_delay(
    attempt: int,
    retry_after: float | None = None,
    *,
    rng: Callable[[], float] = random.random,
    base: float = BASE_DELAY,
    cap: float = MAX_DELAY,
    retry_after_cap: float = MAX_RETRY_AFTER,
) -> float:
    """Delay before retry number `attempt` (1-based).

    With Retry-After: that, capped. Otherwise base * 2**(attempt-1), capped, scaled by a jitter
    factor in [0.5, 1) so concurrent clients spread out while the delay still grows.
    """
    if retry_after is not None and retry_after >= 0:
        return min(retry_after, retry_after_cap)
    raw = min(cap, base * (2 ** (attempt - 1)))
    return raw * (0.5 + 0.5 * rng())


async def stream_with_retries(
    provider: Provider,
    messages: list[dict[str, Any]],
    tools: list[dict[str, Any]],
    model: ResolvedModel,
    *,
    max_attempts: int = 4,
    sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
    rng: Callable[[], float] = random.random,
    on_retry: OnRetry | None = None,
    base_delay: float = BASE_DELAY,
    max_delay: float = MAX_DELAY,
    max_retry_after: float = MAX_RETRY_AFTER,
) -> AsyncIterator[StreamDelta]:
    """Yield the deltas of one model call, retrying transient failures before the first delta.

    `on_retry(attempt, delay, error)` is called (and awaited if it returns an awaitable) before
    each wait, so a front-end can show "rate limited, retrying in 4 s".
    """
    attempt = 0
    while True:
        attempt += 1
        yielded = False
        try:
            stream = provider.stream(messages, tools, model)
            closer = contextlib.aclosing(stream) if hasattr(stream, "aclose") else contextlib.nullcontext(stream)
            async with closer as it:
                async for delta in it:
                    yielded = True
                    yield delta
            return
        except ProviderError as err:
            if yielded:
                if err.partial:
                    raise
                raise ProviderError(
                    err.message, backend=err.backend, model=err.model, status=err.status,
                    retryable=err.retryable, retry_after=err.retry_after, partial=True,
                    usage=err.usage,
                ) from err
            if not err.retryable or attempt >= max_attempts:
                raise
            delay = backoff_delay(attempt, err.retry_after, rng=rng, base=base_delay,
                                  cap=max_delay, retry_after_cap=max_retry_after)
            if on_retry is not None:
                result = on_retry(attempt, delay, err)
                if inspect.isawaitable(result):
                    await result
            await sleep(delay)
