"""Parser edge cases of the direct client, through httpx.MockTransport (no sockets)."""
from __future__ import annotations

import json

import httpx
import pytest

from realcost_agent.providers.base import Finish, ProviderError, ReasoningDelta, TextDelta, ToolCallDelta, Usage
from realcost_agent.providers.catalogue import resolve_model
from realcost_agent.providers.openai_compat import OpenAICompatProvider

MODEL = resolve_model("gpt-oss-20b", api_base="http://127.0.0.1:1/v1", env={})


async def run(handler, model=MODEL, keep_estimates=False):
    """The deltas, without the local usage estimate a stream without usage gets (SSE parsing is
    what these tests check; tests/unit/providers/test_hosts.py covers the estimate)."""
    p = OpenAICompatProvider(env={}, transport=httpx.MockTransport(handler))
    try:
        out = [d async for d in p.stream([{"role": "user", "content": "x"}], [], model)]
    finally:
        await p.aclose()
    return [d for d in out if keep_estimates or not (isinstance(d, Usage) and d.estimated)]


def sse(*payloads, done=True, sep="\n"):
    parts = [f"data: {p if isinstance(p, str) else json.dumps(p)}{sep}{sep}" for p in payloads]
    if done:
        parts.append(f"data: [DONE]{sep}{sep}")
    return "".join(parts).encode()


def stream_response(body: bytes):
    return lambda request: httpx.Response(200, headers={"content-type": "text/event-stream"}, content=body)


def delta(**d):
    return {"choices": [{"index": 0, "delta": d, "finish_reason": None}]}


async def test_crlf_comments_and_event_fields():
    body = (b": keepalive\r\n\r\nevent: message\r\nid: 1\r\n"
            + sse(delta(content="a"), {"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}, sep="\r\n"))
    out = await run(stream_response(body))
    assert out == [TextDelta("a"), Finish("stop")]


async def test_multiline_data_event_is_joined():
    body = b'data: {"choices": [{"index": 0,\ndata: "delta": {"content": "hi"}, "finish_reason": "stop"}]}\n\ndata: [DONE]\n\n'
    assert await run(stream_response(body)) == [TextDelta("hi"), Finish("stop")]


async def test_tool_calls_without_index_are_numbered_by_id():
    body = sse(
        delta(tool_calls=[{"id": "a", "function": {"name": "f", "arguments": {"x": 1}}}]),
        delta(tool_calls=[{"id": "b", "function": {"name": "g", "arguments": "{}"}}]),
        {"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]},
    )
    out = await run(stream_response(body))
    calls = [d for d in out if isinstance(d, ToolCallDelta)]
    assert [(c.index, c.id, c.name, c.arguments) for c in calls] == [(0, "a", "f", '{"x": 1}'), (1, "b", "g", "{}")]
    assert out[-1] == Finish("tool_calls")  # "stop" after tool calls is normalized


async def test_done_without_finish_reason_still_finishes():
    out = await run(stream_response(sse(delta(content="x"))))
    assert out == [TextDelta("x"), Finish("stop")]


async def test_cumulative_usage_reported_once_at_the_end():
    u1 = {"choices": [], "usage": {"prompt_tokens": 5, "completion_tokens": 1}}
    u2 = {"choices": [], "usage": {"prompt_tokens": 5, "completion_tokens": 2}}
    body = sse(delta(content="a"), u1, {"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}, u2)
    out = await run(stream_response(body))
    assert out == [TextDelta("a"), Usage(5, 2), Finish("stop")]


async def test_non_streaming_json_answer_is_accepted():
    completion = {"choices": [{"index": 0, "finish_reason": "stop",
                               "message": {"role": "assistant", "content": "whole", "reasoning": "r"}}],
                  "usage": {"prompt_tokens": 3, "completion_tokens": 4}}
    out = await run(lambda r: httpx.Response(200, json=completion))
    assert out == [ReasoningDelta("r"), TextDelta("whole"), Usage(3, 4), Finish("stop")]


async def test_empty_stream_is_retryable():
    with pytest.raises(ProviderError, match="stream ended early") as info:
        await run(stream_response(b""))
    assert info.value.retryable


async def test_error_with_non_json_body():
    with pytest.raises(ProviderError) as info:
        await run(lambda r: httpx.Response(502, text="<html>Bad gateway</html>"))
    assert info.value.retryable and "Bad gateway" in str(info.value) and info.value.status == 502


async def test_request_shape_and_headers():
    seen = {}

    def handler(request: httpx.Request):
        seen["url"] = str(request.url)
        seen["headers"] = request.headers
        seen["body"] = json.loads(request.content)
        return httpx.Response(200, headers={"content-type": "text/event-stream"}, content=sse(delta(content="k")))

    m = resolve_model("gpt-oss-120b", env={"OPENROUTER_API_KEY": "sk-or-xyz"})
    p = OpenAICompatProvider(env={"OPENROUTER_API_KEY": "sk-or-xyz"}, transport=httpx.MockTransport(handler))
    tools = [{"type": "function", "function": {"name": "f", "parameters": {}}}]
    [d async for d in p.stream([{"role": "user", "content": "x"}], tools, m)]
    await p.aclose()
    assert seen["url"] == "https://openrouter.ai/api/v1/chat/completions"
    assert seen["headers"]["authorization"] == "Bearer sk-or-xyz"
    assert seen["headers"]["x-title"] == "agent"
    body = seen["body"]
    assert body["model"] == "openai/gpt-oss-120b" and body["parallel_tool_calls"] is True
    assert body["max_tokens"] == 16384 and body["reasoning_effort"] == "medium"
    assert "temperature" not in body


async def test_bad_base_url_is_final():
    m = resolve_model("gpt-oss-20b", api_base="ftp://127.0.0.1:1/v1", env={})
    p = OpenAICompatProvider(env={})
    with pytest.raises(ProviderError, match="invalid API base URL") as info:
        [d async for d in p.stream([], [], m)]
    await p.aclose()
    assert not info.value.retryable


async def test_garbled_json_answer_is_retryable():
    with pytest.raises(ProviderError, match="malformed JSON") as info:
        await run(lambda r: httpx.Response(200, headers={"content-type": "application/json"}, content=b"{oops"))
    assert info.value.retryable


async def test_plain_http_never_loads_a_ca_bundle_and_https_shares_one(monkeypatch, fake_server):
    """A local server over plain http gets a client that speaks no TLS, so no CA bundle is loaded
    (45 ms of CPU a launch); an https endpoint gets the process's one shared, verifying context."""
    import ssl

    from realcost_agent.providers import warm

    built: list[object] = []
    real = warm.ssl_context
    monkeypatch.setattr(warm, "ssl_context", lambda: built.append(1) or real())
    from fakeserver import FakeTurn

    fake_server.add(FakeTurn(content="hello"))
    model = resolve_model("gpt-oss-20b", api_base=fake_server.url, env={})
    p = OpenAICompatProvider(env={})
    try:
        out = [d async for d in p.stream([{"role": "user", "content": "x"}], [], model)]
        assert "".join(d.text for d in out if isinstance(d, TextDelta)) == "hello" and built == []
        https = p._http("https://example.invalid/v1")
        assert built == [1] and https is p._http("https://example.invalid/v1")
        assert p._http("http://127.0.0.1:1/v1") is not https
    finally:
        await p.aclose()
    ctx = real()
    assert isinstance(ctx, ssl.SSLContext) and ctx.verify_mode == ssl.CERT_REQUIRED and real() is ctx
