"""One host contract, two clients: every host shape in tests/fakehosts.py, through the direct
httpx client and through litellm, over real HTTP.

Each host is reached the way a user reaches it: its catalogue backend (so litellm takes its own
provider route: `groq/...`, `openrouter/...`, `fireworks_ai/...`) with the base URL pointed at a
fake server answering as that host does (its reasoning field, usage location, cost field, and
its real error text for the requests it refuses). The shapes and their sources are in
tests/fakehosts.py; what the clients do about them is providers/hosts.py.
"""
from __future__ import annotations

import json

import pytest
from fakehosts import SHAPES
from fakeserver import FakeOpenAIServer, FakeToolCall, FakeTurn

from realcost_agent.providers.base import Finish, ProviderError, ReasoningDelta, TextDelta, ToolCallDelta, Usage
from realcost_agent.providers.catalogue import BACKENDS, resolve_model
from realcost_agent.providers.factory import make_provider

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

KEY = "sk-test-0123456789abcdefSECRET"
ENV = {name: KEY for b in BACKENDS.values() for name in b.key_envs}
# fake host shape -> catalogue backend that reaches it
BACKEND_OF = {"ollama": "local"}
# llama-cpp-python has no catalogue backend: its contract is tests/integration/providers/test_local_servers.py
HOSTS = sorted(set(SHAPES) - {"llama-cpp-python"})
TOOLS = [{"type": "function", "function": {
    "name": "read_file", "description": "Read a file",
    "parameters": {"type": "object", "properties": {"path": {"type": "string"}}}}}]
FIGURES = dict(prompt_tokens=1200, completion_tokens=340, cached_tokens=1024, reasoning_tokens=300,
               cost=0.00042)


@pytest.fixture(params=["direct", "litellm"])
def kind(request):
    return request.param


@pytest.fixture(params=HOSTS)
def host(request):
    server = FakeOpenAIServer(host=request.param).start()
    try:
        yield server
    finally:
        server.stop()


def model_for(server):
    name = server.shape.name
    spec = "o4-mini" if name == "openai" else "gpt-oss-120b"
    return resolve_model(spec, backend=BACKEND_OF.get(name, name), api_base=server.url, env=ENV)


async def collect(model, kind, messages, tools=()):
    provider = make_provider(model, force=kind, env=ENV)
    try:
        return [d async for d in provider.stream(list(messages), list(tools), model)]
    finally:
        await provider.aclose()


def text(deltas, cls):
    return "".join(d.text for d in deltas if isinstance(d, cls))


def the_usage(deltas) -> Usage:
    usage = [d for d in deltas if isinstance(d, Usage)]
    assert len(usage) == 1, f"expected one usage, got {usage}"
    return usage[0]


async def test_answer_reasoning_usage_and_billed_cost(host, kind):
    shape = host.shape
    host.add(FakeTurn(reasoning="Think about it first.", content="The answer.", **FIGURES))
    model = model_for(host)
    assert model.host == shape.name
    deltas = await collect(model, kind, [{"role": "user", "content": "hi"}])
    assert text(deltas, TextDelta) == "The answer."
    assert text(deltas, ReasoningDelta) == ("Think about it first." if shape.reasoning_field else "")
    assert deltas[-1] == Finish("stop") and isinstance(deltas[-2], Usage)
    u = the_usage(deltas)
    if shape.usage == "missing":
        # Nothing reported: counted locally, never a silent 0, and marked as an estimate.
        assert u.estimated and u.input_tokens > 0 and u.output_tokens > 0
    else:
        assert not u.estimated
        assert (u.input_tokens, u.output_tokens) == (1200, 340)
        if shape.usage != "x_groq":  # Groq's x_groq block carries no token details
            assert (u.cached_input_tokens, u.reasoning_tokens) == (1024, 300)
    assert u.provider_cost == (pytest.approx(0.00042) if shape.cost else None)


def first_turn_history(reasoning: str, content: str | None):
    """The history the agent keeps after a tool-call step (agent/turn.py stores reasoning as
    `reasoning_content` and an empty text as None)."""
    return [
        {"role": "user", "content": "read a.py"},
        {"role": "assistant", "content": content, "reasoning_content": reasoning,
         "tool_calls": [{"id": "call_1", "type": "function",
                         "function": {"name": "read_file", "arguments": "{\"path\": \"a.py\"}"}}]},
        {"role": "tool", "tool_call_id": "call_1", "content": "print('hi')"},
    ]


async def test_tool_call_round_trip_echoes_reasoning_where_the_host_reads_it(host, kind):
    shape = host.shape
    host.add(FakeTurn(reasoning="I should read a.py.",
                      tool_calls=[FakeToolCall("read_file", {"path": "a.py"}, id="call_1")]),
             FakeTurn(content="It prints hi."))
    model = model_for(host)
    first = await collect(model, kind, [{"role": "user", "content": "read a.py"}], TOOLS)
    calls = [d for d in first if isinstance(d, ToolCallDelta)]
    assert calls[0].name == "read_file" and first[-1] == Finish("tool_calls")
    assert json.loads("".join(c.arguments for c in calls)) == {"path": "a.py"}
    second = await collect(model, kind, first_turn_history("I should read a.py.", None), TOOLS)
    assert text(second, TextDelta) == "It prints hi."  # the host accepted the history
    echoed = host.echoed[-1]
    if shape.reads_reasoning:
        assert echoed == ["I should read a.py."], f"reasoning not where {shape.name} reads it"
    sent = host.chat_bodies[-1]["messages"][1]
    if not shape.reads_reasoning:  # OpenAI: no reasoning field at all
        assert not {"reasoning", "reasoning_content", "reasoning_details"} & set(sent)


async def test_reasoning_only_answer_then_nudge_is_accepted(host, kind):
    """gpt-oss ending a step with reasoning only: the agent stores content None, nudges, and
    asks again; Ollama refuses null content with a 400 unless it is sent as ""."""
    host.add(FakeTurn(content="Done."))
    model = model_for(host)
    history = [
        {"role": "user", "content": "fix it"},
        {"role": "assistant", "content": None, "reasoning_content": "thinking only"},
        {"role": "user", "content": "Continue the task with a tool call, or reply."},
    ]
    deltas = await collect(model, kind, history, TOOLS)
    assert text(deltas, TextDelta) == "Done."


async def test_commentary_and_reasoning_on_a_tool_call_message_are_accepted(host, kind):
    """A gpt-oss step with a preamble (content) and reasoning and a tool call: llama.cpp's
    template refuses both with a 500; its profile folds the content into the reasoning."""
    shape = host.shape
    host.add(FakeTurn(content="ok"))
    model = model_for(host)
    deltas = await collect(model, kind, first_turn_history("Plan: read it.", "Reading a.py now."), TOOLS)
    assert text(deltas, TextDelta) == "ok"
    if shape.rejects_content_with_reasoning:
        assert host.echoed[-1] == ["Plan: read it.\n\nReading a.py now."]


async def test_a_refusal_ends_in_a_clear_error_not_a_silent_success(host, kind):
    """A host refusing for its own reasons (OpenRouter's empty account: 402) is a final,
    one-line error naming the host's reason; no usage is invented for it."""
    host.add(FakeTurn(status=402, error_type="payment_required", error_message=(
        "This request requires more credits, or fewer max_tokens. You requested up to 16384 "
        "tokens, but can only afford 1000.")))
    model = model_for(host)
    with pytest.raises(ProviderError) as info:
        await collect(model, kind, [{"role": "user", "content": "hi"}])
    err = info.value
    assert err.status == 402 and not err.retryable
    assert "can only afford 1000" in str(err) and "\n" not in str(err) and KEY not in str(err)
