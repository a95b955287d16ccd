"""One contract, two providers: the direct httpx client and litellm, against the fake server."""
from __future__ import annotations

import json
from dataclasses import replace

import pytest
from fakeserver import FakeToolCall, FakeTurn

from realcost_agent.providers.base import Finish, ProviderError, ReasoningDelta, TextDelta, ToolCallDelta, Usage
from realcost_agent.providers.catalogue import CUSTOM_KEY_ENV, resolve_model
from realcost_agent.providers.factory import make_provider

# litellm's pydantic models warn on every chunk under pydantic 2.11+; not our code.
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

KEY = "sk-test-0123456789abcdefSECRET"
ENV = {CUSTOM_KEY_ENV: KEY}
USER = [{"role": "user", "content": "hello"}]
TOOLS = [
    {"type": "function", "function": {"name": "read_file", "description": "Read a file",
                                      "parameters": {"type": "object", "properties": {"path": {"type": "string"}}}}},
    {"type": "function", "function": {"name": "list_dir", "description": "List a directory",
                                      "parameters": {"type": "object", "properties": {"dir": {"type": "string"}}}}},
]


@pytest.fixture(params=["direct", "litellm"])
def kind(request):
    return request.param


def model_for(server, spec="gpt-oss-20b"):
    return resolve_model(spec, api_base=server.url, env=ENV)


async def collect(provider, model, messages=USER, tools=()):
    out = []
    try:
        async for delta in provider.stream(list(messages), list(tools), model):
            out.append(delta)
    finally:
        await provider.aclose()
    return out


async def failure(provider, model, messages=USER, tools=()) -> ProviderError:
    with pytest.raises(ProviderError) as info:
        await collect(provider, model, messages, tools)
    return info.value


def joined(deltas, cls):
    return "".join(d.text for d in deltas if isinstance(d, cls))


async def test_text_streams_in_pieces_and_ends_with_usage_then_finish(fake_server, kind):
    fake_server.add(FakeTurn(content="Hello, world! Streaming works.", keepalive=2))
    model = model_for(fake_server)
    deltas = await collect(make_provider(model, force=kind, env=ENV), model)
    assert joined(deltas, TextDelta) == "Hello, world! Streaming works."
    assert sum(isinstance(d, TextDelta) for d in deltas) > 3
    assert isinstance(deltas[-2], Usage) and deltas[-1] == Finish("stop")
    body = fake_server.chat_bodies[0]
    assert body["stream"] is True and body["stream_options"] == {"include_usage": True}
    assert body["model"] == "gpt-oss-20b" and body["messages"] == USER
    assert body["reasoning_effort"] == "low"
    assert fake_server.requests[0].headers["authorization"] == f"Bearer {KEY}"


@pytest.mark.parametrize("field", ["reasoning_content", "reasoning"])
async def test_reasoning_in_either_spelling(fake_server, kind, field):
    fake_server.add(FakeTurn(reasoning="First I think, then I answer.", reasoning_field=field,
                             content="Answer."))
    model = model_for(fake_server)
    deltas = await collect(make_provider(model, force=kind, env=ENV), model)
    assert joined(deltas, ReasoningDelta) == "First I think, then I answer."
    assert joined(deltas, TextDelta) == "Answer."
    first_text = next(i for i, d in enumerate(deltas) if isinstance(d, TextDelta))
    assert all(not isinstance(d, ReasoningDelta) for d in deltas[first_text:])


def assemble(deltas):
    calls: dict[int, dict] = {}
    for d in deltas:
        if isinstance(d, ToolCallDelta):
            call = calls.setdefault(d.index, {"id": None, "name": None, "arguments": ""})
            call["id"] = call["id"] or d.id
            call["name"] = call["name"] or d.name
            call["arguments"] += d.arguments
    return calls


async def test_parallel_tool_calls_assemble_by_index(fake_server, kind):
    fake_server.add(FakeTurn(
        reasoning="Need two tools.",
        tool_calls=[FakeToolCall("read_file", {"path": "src/main.py"}, id="call_a"),
                    FakeToolCall("list_dir", {"dir": "tests/unit"}, id="call_b")],
        arg_pieces=4))
    model = model_for(fake_server)
    deltas = await collect(make_provider(model, force=kind, env=ENV), model, tools=TOOLS)
    calls = assemble(deltas)
    assert sorted(calls) == [0, 1]
    assert calls[0]["id"] == "call_a" and calls[0]["name"] == "read_file"
    assert json.loads(calls[0]["arguments"]) == {"path": "src/main.py"}
    assert calls[1]["id"] == "call_b" and calls[1]["name"] == "list_dir"
    assert json.loads(calls[1]["arguments"]) == {"dir": "tests/unit"}
    assert sum(isinstance(d, ToolCallDelta) and d.index == 0 for d in deltas) >= 3
    assert deltas[-1] == Finish("tool_calls")
    body = fake_server.chat_bodies[0]
    assert [t["function"]["name"] for t in body["tools"]] == ["read_file", "list_dir"]
    assert body["tool_choice"] == "auto"


async def test_usage_with_cached_and_reasoning_tokens(fake_server, kind):
    fake_server.add(FakeTurn(content="ok", prompt_tokens=1200, completion_tokens=340,
                             cached_tokens=1024, reasoning_tokens=300, cost=0.00042))
    model = model_for(fake_server)
    deltas = await collect(make_provider(model, force=kind, env=ENV), model)
    usage = [d for d in deltas if isinstance(d, Usage)]
    assert len(usage) == 1
    u = usage[0]
    assert (u.input_tokens, u.output_tokens, u.cached_input_tokens, u.reasoning_tokens) == (1200, 340, 1024, 300)
    if kind == "direct":  # litellm drops OpenRouter's usage.cost; cost then comes from prices
        assert u.provider_cost == pytest.approx(0.00042)


async def test_reasoning_echoed_only_for_the_current_tool_call_chain(fake_server, kind):
    fake_server.add(FakeTurn(content="done"))
    model = model_for(fake_server)
    messages = [
        {"role": "system", "content": "be brief"},
        {"role": "user", "content": "first task"},
        {"role": "assistant", "content": None, "reasoning_content": "OLD reasoning",
         "tool_calls": [{"id": "c0", "type": "function", "function": {"name": "read_file", "arguments": "{}"}}]},
        {"role": "tool", "tool_call_id": "c0", "content": "x"},
        {"role": "assistant", "content": "old answer", "reasoning_content": "OLD final"},
        {"role": "user", "content": "second task"},
        {"role": "assistant", "content": None, "reasoning_content": "I should read a.py",
         "tool_calls": [{"id": "c1", "type": "function",
                         "function": {"name": "read_file", "arguments": "{\"path\": \"a.py\"}"}}]},
        {"role": "tool", "tool_call_id": "c1", "content": "print('hi')"},
    ]
    await collect(make_provider(model, force=kind, env=ENV), model, messages, TOOLS)
    sent = fake_server.chat_bodies[0]["messages"]
    # An unknown OpenAI-compatible server gets `reasoning` (what vLLM, Ollama, OpenRouter, Groq
    # read back) and "" for null content (Ollama rejects null): see providers/hosts.py GENERIC.
    assert sent[6].get("reasoning") == "I should read a.py" and sent[6]["content"] == ""
    for i in (2, 4):
        assert "reasoning_content" not in sent[i] and "reasoning" not in sent[i]
    assert sent[6]["tool_calls"][0]["id"] == "c1"
    assert messages[6]["reasoning_content"] == "I should read a.py"  # caller's list untouched


async def test_direct_echoes_reasoning_under_the_field_the_backend_streamed(fake_server):
    fake_server.add(FakeTurn(reasoning="think", reasoning_field="reasoning",
                             tool_calls=[FakeToolCall("read_file", {"path": "a"})]),
                    FakeTurn(content="ok"))
    model = model_for(fake_server)
    provider = make_provider(model, force="direct", env=ENV)
    await collect(provider, model, tools=TOOLS)
    follow = USER + [
        {"role": "assistant", "content": None, "reasoning_content": "think",
         "tool_calls": [{"id": "c", "type": "function", "function": {"name": "read_file", "arguments": "{}"}}]},
        {"role": "tool", "tool_call_id": "c", "content": "data"},
    ]
    await collect(provider, model, follow, TOOLS)
    sent = fake_server.chat_bodies[1]["messages"][1]
    assert sent["reasoning"] == "think" and "reasoning_content" not in sent


async def test_o4_mini_params(fake_server, kind):
    fake_server.add(FakeTurn(content="ok"))
    model = model_for(fake_server, "o4-mini")
    model = replace(model, params=replace(model.params, temperature=0.3))
    await collect(make_provider(model, force=kind, env=ENV), model, tools=TOOLS)
    body = fake_server.chat_bodies[0]
    assert body["model"] == "o4-mini"
    assert "temperature" not in body and "max_tokens" not in body
    assert body["max_completion_tokens"] == model.params.max_output_tokens
    assert body["reasoning_effort"] == "medium"


async def test_gpt_oss_sends_temperature_when_set(fake_server, kind):
    fake_server.add(FakeTurn(content="ok"))
    model = model_for(fake_server, "gpt-oss-120b")
    model = replace(model, params=replace(model.params, temperature=0.3))
    await collect(make_provider(model, force=kind, env=ENV), model)
    body = fake_server.chat_bodies[0]
    assert body["temperature"] == 0.3 and body["reasoning_effort"] == "medium"
    assert body["max_tokens"] == model.params.max_output_tokens


@pytest.mark.parametrize("status,message", [
    (401, f"Incorrect API key provided: {KEY}"),
    (404, "The model `gpt-oss-20b` does not exist"),
    (400, "Invalid schema for function 'read_file'"),
])
async def test_client_errors_are_final_one_line_and_keyless(fake_server, kind, status, message):
    fake_server.add(FakeTurn(status=status, error_message=message))
    model = model_for(fake_server)
    err = await failure(make_provider(model, force=kind, env=ENV), model)
    text = str(err)
    assert err.status == status and err.retryable is False
    assert "\n" not in text
    assert "openai-compatible" in text and "gpt-oss-20b" in text and str(status) in text
    assert KEY not in text and KEY not in repr(err) and KEY not in err.message
    assert message.split(":")[0].split("`")[0].strip() in text
    assert len(fake_server.chat_bodies) == 1


async def test_429_with_retry_after_is_retryable(fake_server, kind):
    fake_server.add(FakeTurn(status=429, error_message="Rate limit reached", retry_after=7))
    model = model_for(fake_server)
    err = await failure(make_provider(model, force=kind, env=ENV), model)
    assert err.status == 429 and err.retryable and err.retry_after == pytest.approx(7)
    assert "Rate limit reached" in str(err)


@pytest.mark.parametrize("status", [500, 503])
async def test_server_errors_are_retryable(fake_server, kind, status):
    fake_server.add(FakeTurn(status=status, error_message="upstream overloaded",
                             error_type="server_error"))
    model = model_for(fake_server)
    err = await failure(make_provider(model, force=kind, env=ENV), model)
    assert err.status == status and err.retryable


@pytest.mark.parametrize("framing", ["chunked", "close"])
async def test_cut_stream_is_retryable(fake_server, kind, framing):
    fake_server.add(FakeTurn(content="this answer never finishes", cut_after=4, framing=framing))
    model = model_for(fake_server)
    err = await failure(make_provider(model, force=kind, env=ENV), model)
    assert err.retryable and err.status is None
    assert KEY not in str(err)


async def test_connection_refused_is_retryable(kind):
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    model = resolve_model("gpt-oss-20b", api_base=f"http://127.0.0.1:{port}/v1", env=ENV)
    err = await failure(make_provider(model, force=kind, env=ENV), model)
    assert err.retryable and KEY not in str(err)


async def test_idle_timeout_is_retryable(fake_server, kind):
    fake_server.add(FakeTurn(content="slow stream here", chunk_delay=1.5))
    model = model_for(fake_server)
    err = await failure(make_provider(model, force=kind, env=ENV, idle_timeout=0.4), model)
    assert err.retryable


async def test_error_event_inside_stream_is_retryable(fake_server, kind):
    fake_server.add(FakeTurn(content="partial", stream_error_at=3, error_message="provider died"))
    model = model_for(fake_server)
    err = await failure(make_provider(model, force=kind, env=ENV), model)
    assert err.retryable and "provider died" in str(err)


async def test_malformed_chunk_is_a_retryable_error(fake_server, kind):
    fake_server.add(FakeTurn(content="some text here", malformed_at=2))
    model = model_for(fake_server)
    err = await failure(make_provider(model, force=kind, env=ENV), model)
    assert err.retryable and KEY not in str(err)


async def test_no_key_set_sends_no_authorization(fake_server):
    fake_server.add(FakeTurn(content="ok"))
    model = resolve_model("gpt-oss-20b", api_base=fake_server.url, env={})
    await collect(make_provider(model, force="direct", env={}), model)
    assert "authorization" not in fake_server.requests[0].headers


async def test_delay_before_first_byte_and_keepalives_are_tolerated(fake_server, kind):
    fake_server.add(FakeTurn(content="late but fine", delay_first_byte=0.3, keepalive=3,
                             chunk_delay=0.01))
    model = model_for(fake_server)
    deltas = await collect(make_provider(model, force=kind, env=ENV), model)
    assert joined(deltas, TextDelta) == "late but fine"
