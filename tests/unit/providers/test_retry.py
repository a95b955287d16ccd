from __future__ import annotations

import pytest

from realcost_agent.providers.base import Finish, ProviderError, TextDelta
from realcost_agent.providers.catalogue import resolve_model
from realcost_agent.providers.retry import MAX_RETRY_AFTER, backoff_delay, stream_with_retries

MODEL = resolve_model("gpt-oss-20b", env={})


def err(retryable=True, status=503, retry_after=None):
    return ProviderError("boom", backend="b", model="m", status=status, retryable=retryable,
                         retry_after=retry_after)


class Flaky:
    """Fails with the given errors (before or after some text), then succeeds."""

    name = "flaky"

    def __init__(self, failures, text_before_error=0):
        self.failures = list(failures)
        self.text_before_error = text_before_error
        self.calls = 0

    async def stream(self, messages, tools, model):
        self.calls += 1
        if self.failures:
            for i in range(self.text_before_error):
                yield TextDelta(f"t{i}")
            raise self.failures.pop(0)
        yield TextDelta("ok")
        yield Finish("stop")

    async def aclose(self):
        pass


class Sleeps:
    def __init__(self):
        self.delays = []

    async def __call__(self, delay):
        self.delays.append(delay)


async def run(provider, **kw):
    sleep = Sleeps()
    out = [d async for d in stream_with_retries(provider, [], [], MODEL, sleep=sleep, rng=lambda: 0.5, **kw)]
    return out, sleep.delays


async def test_success_needs_no_sleep():
    out, delays = await run(Flaky([]))
    assert out == [TextDelta("ok"), Finish("stop")] and delays == []


async def test_backoff_grows_then_succeeds():
    p = Flaky([err(), err(), err()])
    out, delays = await run(p, max_attempts=4)
    assert out[-1] == Finish("stop") and p.calls == 4
    assert delays == [0.75, 1.5, 3.0]  # base 1 s doubling, jitter factor 0.75 at rng=0.5


async def test_gives_up_after_max_attempts():
    p = Flaky([err()] * 5)
    with pytest.raises(ProviderError) as info:
        await run(p, max_attempts=3)
    assert p.calls == 3 and not info.value.partial


async def test_non_retryable_is_not_retried():
    p = Flaky([err(retryable=False, status=401)])
    sleep = Sleeps()
    with pytest.raises(ProviderError) as info:
        async for _ in stream_with_retries(p, [], [], MODEL, sleep=sleep):
            pass
    assert p.calls == 1 and sleep.delays == [] and info.value.status == 401


async def test_retry_after_is_honoured_and_capped():
    p = Flaky([err(status=429, retry_after=7), err(status=429, retry_after=3600)])
    _, delays = await run(p)
    assert delays == [7, MAX_RETRY_AFTER]


async def test_error_after_output_is_raised_as_partial_not_retried():
    p = Flaky([err()], text_before_error=2)
    seen = []
    with pytest.raises(ProviderError) as info:
        async for d in stream_with_retries(p, [], [], MODEL, sleep=Sleeps()):
            seen.append(d)
    assert seen == [TextDelta("t0"), TextDelta("t1")]
    assert info.value.partial and info.value.retryable and p.calls == 1
    assert isinstance(info.value.__cause__, ProviderError)


async def test_on_retry_callback_sync_and_async():
    events = []
    _, _ = await run(Flaky([err()]), on_retry=lambda a, d, e: events.append((a, d, e.status)))

    async def async_cb(a, d, e):
        events.append(("async", a))

    await run(Flaky([err()]), on_retry=async_cb)
    assert events == [(1, 0.75, 503), ("async", 1)]


def test_backoff_delay_is_capped_and_jittered():
    assert backoff_delay(1, rng=lambda: 0.0) == 0.5
    assert backoff_delay(1, rng=lambda: 0.999) == pytest.approx(0.9995)
    assert backoff_delay(20, rng=lambda: 0.999, cap=30) <= 30
    assert backoff_delay(3, retry_after=0) == 0


async def test_consumer_stopping_early_closes_the_provider_stream():
    closed = []

    class Endless:
        name = "endless"

        async def stream(self, messages, tools, model):
            try:
                while True:
                    yield TextDelta("x")
            finally:
                closed.append(True)

    gen = stream_with_retries(Endless(), [], [], MODEL)
    async for _ in gen:
        break
    await gen.aclose()
    assert closed == [True]
