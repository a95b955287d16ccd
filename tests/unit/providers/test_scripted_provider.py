from __future__ import annotations

import pytest

from realcost_agent.providers.base import Finish, ProviderError, ReasoningDelta, TextDelta, ToolCallDelta, Usage
from realcost_agent.providers.catalogue import resolve_model
from realcost_agent.providers.retry import stream_with_retries
from realcost_agent.providers.scripted import (
    ScriptExhaustedError, ScriptedProvider, finish, reasoning, text, tool_call, usage,
)

MODEL = resolve_model("gpt-oss-20b", env={})


async def run(p, messages=(), tools=()):
    return [d async for d in p.stream(list(messages), list(tools), MODEL)]


async def test_turns_replay_with_builders_and_record_calls():
    p = ScriptedProvider([
        [reasoning("look"), tool_call("read_file", {"path": "a.py"}, id="c1"),
         tool_call("ls", "{}"), usage(100, 20, cached=50)],
        ["Done.", usage(150, 5)],
    ])
    msgs = [{"role": "user", "content": "go"}]
    first = await run(p, msgs, [{"type": "function"}])
    msgs.append({"role": "assistant", "content": "mutated later"})
    assert first[0] == ReasoningDelta("look")
    calls = [d for d in first if isinstance(d, ToolCallDelta)]
    assert calls[0] == ToolCallDelta(0, "c1", "read_file", calls[0].arguments)
    assert "".join(c.arguments for c in calls if c.index == 0) == '{"path": "a.py"}'
    assert {c.index for c in calls} == {0, 1} and calls[-1].index == 1
    assert first[-2] == Usage(100, 20, 50) and first[-1] == Finish("tool_calls")
    second = await run(p, msgs)
    assert second == [TextDelta("Done."), Usage(150, 5), Finish("stop")]
    assert len(p.calls) == 2 and p.calls[0].messages == [{"role": "user", "content": "go"}]
    assert p.calls[0].tools == [{"type": "function"}] and p.calls[0].model is MODEL
    assert p.remaining == 0


async def test_explicit_finish_and_split_text():
    p = ScriptedProvider([[text("abcdef", pieces=3), finish("length")]])
    assert await run(p) == [TextDelta("ab"), TextDelta("cd"), TextDelta("ef"), Finish("length")]


async def test_running_out_of_turns_is_a_clear_error():
    p = ScriptedProvider([["hi"]])
    await run(p)
    with pytest.raises(ScriptExhaustedError, match="call #2.*no turn left.*'user'"):
        await run(p, [{"role": "user", "content": "again"}])


async def test_exceptions_and_callable_turns():
    boom = ProviderError("overloaded", backend="fake", model="m", status=503, retryable=True)
    p = ScriptedProvider([[boom], lambda messages, tools, model: [f"echo {messages[-1]['content']}"]])

    async def no_sleep(_):
        pass

    out = [d async for d in stream_with_retries(p, [{"role": "user", "content": "x"}], [], MODEL, sleep=no_sleep)]
    assert out == [TextDelta("echo x"), Finish("stop")]


async def test_unknown_items_are_rejected():
    p = ScriptedProvider([[object()]])
    with pytest.raises(TypeError, match="can't stream"):
        await run(p)
