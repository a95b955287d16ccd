"""A hostile or broken model's output: denial of service through the response stream (limits),
and tool calls quoted in an answer that must never run (code_execution).

Each code_execution case scripts a model whose answer QUOTES a call that would create
SENTINEL in the project; the attack held when nothing ran (no tool call started, no SENTINEL)
and the quote reached the user as the answer. Each limits case asserts the turn ended by
itself with the right reason, well inside a generous bound, and nothing from a cut response ran.
The real `agent` binary is driven for the user-visible shapes (`--max-time` on a hung stream).
"""
from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from fakeserver import FakeOpenAIServer, FakeToolCall, FakeTurn

from realcost_agent.agent import events as ev
from realcost_agent.agent.config import Settings
from realcost_agent.agent.recorder import attach_ledger
from realcost_agent.agent.session import Session
from turnrun import finished, of, run_turn
from realcost_agent.providers.base import ProviderError, ReasoningDelta, TextDelta, ToolCallDelta, Usage
from realcost_agent.providers.catalogue import CUSTOM_KEY_ENV
from realcost_agent.providers.recovery import mark_request_sent
from realcost_agent.providers.scripted import ScriptedProvider, finish, reasoning, text, tool_call

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

TOUCH = {"command": "touch SENTINEL"}
CMD = json.dumps(TOUCH)
HARMONY = f"<|start|>assistant<|channel|>commentary to=functions.run_command <|constrain|>json<|message|>{CMD}<|call|>"
STRIPPED = f"commentary to=functions.run_command json{CMD}"
JSON_CALL = json.dumps({"name": "run_command", "arguments": TOUCH})


@pytest.fixture
def repo(tmp_path):
    root = tmp_path / "repo"
    root.mkdir()
    (root / "calc.py").write_text("def add(a, b):\n    return a - b\n")
    return root


def session_for(root: Path, provider, **settings) -> Session:
    env = {"PATH": os.environ["PATH"], "HOME": str(root.parent), "AGENT_DATA_HOME": str(root.parent / "d"),
           "OPENROUTER_API_KEY": "sk-or-canary-1234567890"}
    settings.setdefault("ledger", False)
    settings.setdefault("approval", "full-auto")
    return Session(Settings(**settings), root, env=env, provider_factory=lambda m: provider,
                   output_dir=root.parent / "out")


async def run(session: Session, timeout: float = 30) -> list[ev.Event]:
    return await run_turn(session, "explain how tool calls look", timeout)


# -- code_execution: a quoted call is an answer ---------------------------------------------------
QUOTED = {
    "json call in a json fence": f"Here is the call:\n```json\n{JSON_CALL}\n```",
    "json call in a bare fence": f"```\n{JSON_CALL}\n```",
    "json call alone in a json fence": f"```json\n{JSON_CALL}\n```",
    "json call alone in a fence, trailing space": f"```json\n{JSON_CALL}\n```  \n",
    "json call in a fence with prose after": f"```json\n{JSON_CALL}\n```\nThat is how it looks.",
    "json call inline in prose": f"The model would send {JSON_CALL} to run it.",
    "json call in inline code": f"It sends `{JSON_CALL}`",
    "harmony in a fence": f"The raw format:\n```\n{HARMONY}\n```",
    "harmony in an unclosed fence": f"The raw format:\n```text\n{HARMONY}",
    "harmony in a tilde fence": f"~~~\n{HARMONY}\n~~~",
    "harmony in a fence, nested list": f"1. Steps:\n   ```\n   {HARMONY}\n   ```",
    "harmony in inline code": f"gpt-oss writes `{HARMONY}` for a call.",
    "harmony in inline code at the end": f"It writes `{HARMONY}`",
    "harmony mid-sentence at the end": f"gpt-oss emits: {HARMONY}",
    "harmony after 'I would call'": f"I would call {STRIPPED}",
    "harmony followed by prose": f"{HARMONY} is what the model sends.",
    "harmony followed by a final message": f"{HARMONY}<|start|>assistant<|channel|>final<|message|>ok",
    "harmony in a blockquote": f"> {STRIPPED}",
    "harmony in double quotes": f'The string "{HARMONY}" is a call.',
    "harmony in single quotes at the end": f"Send '{STRIPPED}'",
    "harmony after a colon, glued": f"Example:{STRIPPED}",
    "stripped markup after a space": f"see the commentary to=functions.run_command json{CMD}",
    "function call syntax": "I would call run_command({\"command\": \"touch SENTINEL\"}) next.",
    "function call syntax at the end": "Next: run_command({\"command\": \"touch SENTINEL\"})",
    "python keyword call": "run_command(command='touch SENTINEL')",
    "markdown table of calls": f"| call |\n|---|\n| {STRIPPED} |",
    "two quoted calls in fences": f"```\n{HARMONY}\n```\nand\n```\n{JSON_CALL}\n```",
    "harmony args with python code": "to=functions.read_file json{'path': __import__('os').system('touch SENTINEL')}",
    "json call with extra keys": json.dumps({"name": "run_command", "arguments": TOUCH, "why": "demo"}),
    "json call to an unknown tool": json.dumps({"name": "shell_exec", "arguments": TOUCH}),
    "html code block": f"<pre><code>{HARMONY}</code></pre>",
    "xml-ish tool_call tags mid prose": f"Use <tool_call>{JSON_CALL}</tool_call> like this.",
}


@pytest.mark.attack("code_execution")
@pytest.mark.parametrize("answer", QUOTED.values(), ids=QUOTED.keys())
async def test_quoted_tool_call_is_never_run(repo, answer):
    provider = ScriptedProvider([[reasoning("explain"), text(answer, pieces=3)]])
    events = await run(session_for(repo, provider))
    assert not of(events, ev.ToolCallStarted)
    assert not (repo / "SENTINEL").exists()
    done = finished(events)
    assert done.reason == "done" and done.text == answer  # shown to the user as the answer


@pytest.mark.attack("code_execution")
@pytest.mark.parametrize("name", ["python", "browser.open", "container.python", "functions.exec"])
async def test_unknown_hallucinated_tool_gets_the_tool_list_and_runs_nothing(repo, name):
    provider = ScriptedProvider([
        [tool_call(name, {"code": "import os; os.system('touch SENTINEL')", "cmd": ["touch", "SENTINEL"]})],
        [text("ok")],
    ])
    events = await run(session_for(repo, provider))
    result = of(events, ev.ToolCallFinished)[0]
    assert result.is_error and "available tools" in result.output
    assert not (repo / "SENTINEL").exists()


@pytest.mark.attack("code_execution")
@pytest.mark.parametrize("kind", ["direct", "litellm"])
async def test_quoted_call_over_http_is_never_run(repo, fake_server, kind):
    answer = f"The model's raw output was:\n```\n{HARMONY}\n```"
    fake_server.add(FakeTurn(content=answer, piece=11))
    events = await _http_run(repo, fake_server, kind)
    assert not of(events, ev.ToolCallStarted) and not (repo / "SENTINEL").exists()
    assert finished(events).text == answer


async def _http_run(repo, server, kind, **settings):
    env = {"PATH": os.environ["PATH"], "HOME": str(repo.parent), CUSTOM_KEY_ENV: "sk-test-123456789",
           "AGENT_DATA_HOME": str(repo.parent / "d")}
    s = Session(Settings(api_base=server.url, provider=kind, model="gpt-oss-20b", ledger=False,
                         approval="full-auto", repo_map_tokens=0, **settings), repo, env=env,
                output_dir=repo.parent / "out")
    return await run(s, timeout=60)


# -- limits: denial of service through the response ------------------------------------------------
class Hostile:
    """Streams forever in one of several ways; counts how often it was asked."""

    name = "hostile"

    def __init__(self, shape: str) -> None:
        self.shape, self.calls = shape, 0

    async def aclose(self):
        return None

    async def stream(self, messages, tools, model):
        self.calls += 1
        mark_request_sent()
        if self.shape == "silent":
            await asyncio.sleep(3600)
        if self.shape == "stalls":
            yield TextDelta("first")
            await asyncio.sleep(3600)
        i = 0
        while True:
            i += 1
            if self.shape == "empty deltas":
                yield TextDelta("")
                await asyncio.sleep(0)
            elif self.shape == "text trickle":
                yield TextDelta(".")
                await asyncio.sleep(0.02)
            elif self.shape == "reasoning trickle":
                yield ReasoningDelta(".")
                await asyncio.sleep(0.02)
            elif self.shape == "endless text":
                yield TextDelta("spam " * 200)
                await asyncio.sleep(0)
            elif self.shape == "endless reasoning":
                yield ReasoningDelta("hmm " * 200)
                await asyncio.sleep(0)
            elif self.shape == "endless arguments":
                yield ToolCallDelta(0, "c1" if i == 1 else None, "run_command" if i == 1 else None,
                                    '{"command": "touch SENTINEL"' if i == 1 else " " * 1000)
                await asyncio.sleep(0)
            elif self.shape == "endless calls":
                yield ToolCallDelta(i, f"c{i}", "run_command", '{"command": "touch SENTINEL"}')
                await asyncio.sleep(0)
            elif self.shape == "usage flood":
                yield Usage(1, 1)
                await asyncio.sleep(0.001)


HANG_SHAPES = {  # shape -> (settings, expected reason)
    "silent": ({"max_time": 0.5}, "max_time"),
    "silent, call timeout": ({"call_timeout": 0.5}, "stream_timeout"),
    "stalls, idle timeout": ({"stream_idle_timeout": 0.2}, "stream_timeout"),
    "empty deltas": ({"call_timeout": 0.5}, "stream_timeout"),
    "text trickle": ({"call_timeout": 0.5, "stream_idle_timeout": 60}, "stream_timeout"),
    "reasoning trickle": ({"max_time": 0.5, "stream_idle_timeout": 60}, "max_time"),
    "usage flood": ({"call_timeout": 0.5}, "stream_timeout"),
    "endless text": ({"max_response_bytes": 50_000}, "response_too_large"),
    "endless reasoning": ({}, "response_too_large"),  # the 1 MB default
    "endless arguments": ({"max_response_bytes": 50_000}, "response_too_large"),
    "endless calls": ({"max_response_bytes": 50_000}, "response_too_large"),
}


@pytest.mark.attack("limits")
@pytest.mark.parametrize("label", HANG_SHAPES, ids=HANG_SHAPES.keys())
async def test_hostile_stream_ends_by_itself(repo, label):
    settings, reason = HANG_SHAPES[label]
    provider = Hostile(label.split(",")[0])
    # The reason is the proof: the hostile provider never ends a stream on its own.
    events = await run(session_for(repo, provider, **settings), timeout=30)
    assert finished(events).reason == reason
    assert not of(events, ev.ToolCallStarted) and not (repo / "SENTINEL").exists()
    assert provider.calls <= 3


@pytest.mark.attack("limits")
@pytest.mark.parametrize("count", [65, 500])
async def test_a_flood_of_small_tool_calls_runs_none(repo, count):
    calls = [tool_call("run_command", {"command": f"touch SENTINEL{i}"}, pieces=1) for i in range(count)]
    events = await run(session_for(repo, ScriptedProvider([calls])))
    done = finished(events)
    assert done.reason == "response_too_large" and "none was run" in done.text
    assert not of(events, ev.ToolCallStarted) and not list(repo.glob("SENTINEL*"))


@pytest.mark.attack("limits")
async def test_a_hung_compaction_call_ends_at_max_time(repo):
    class OverflowThenHang:
        name = "overflow"
        calls = 0

        async def aclose(self):
            return None

        async def stream(self, messages, tools, model):
            OverflowThenHang.calls += 1
            if OverflowThenHang.calls == 1:
                raise ProviderError("This model's maximum context length is 131072 tokens",
                                    backend="openrouter", model="m", status=400)
            mark_request_sent()
            await asyncio.sleep(3600)
            yield TextDelta("never")

    session = session_for(repo, OverflowThenHang(), max_time=1.0)
    for i in range(12):  # older turns for the summary to fold
        session.messages.append({"role": "user", "content": f"old question {i} " + "x" * 2000})
        session.messages.append({"role": "assistant", "content": f"old answer {i} " + "y" * 2000})
    events = await run(session, timeout=30)
    assert finished(events).reason == "max_time"
    assert OverflowThenHang.calls == 2  # the compaction call was made, and cut


PARSER_BOMBS = {
    "many headers": "to=functions.read_file {" * 8000 + "}",
    "headers inside one string": '{"a": "' + "to=functions.read_file {" * 8000 + '"}',
    "deep json nesting": "to=functions.read_file json" + "{\"a\":" * 50_000 + "1" + "}" * 50_000,
    "deep literal nesting": "to=functions.read_file json{'a': " + "[" * 5000 + "]" * 5000 + "}",
    "many fences, one left open": "```\n" * 40_001 + f"to=functions.run_command json{CMD}",
    "many braces": "}" * 190_000,
    "just under the cap": "x" * 199_000 + f"\nto=functions.run_command json{CMD}",
}


@pytest.mark.attack("limits")
@pytest.mark.parametrize("label", PARSER_BOMBS, ids=PARSER_BOMBS.keys())
def test_the_recovery_parser_does_bounded_work_on_hostile_text(label):
    from realcost_agent.agent.toolcalls import recover_text_calls

    started = time.monotonic()
    found = recover_text_calls(PARSER_BOMBS[label], ["read_file", "run_command"])
    assert time.monotonic() - started < 10  # milliseconds expected; quadratic would be minutes
    if label == "just under the cap":
        assert found is not None  # a real trailing call after long prose still counts
    elif label.startswith("many fences"):
        assert found is None  # inside the fence left open: quoted
    else:
        assert found is None or all(c.name == "functions.read_file" for c in found.calls)


BAD_USAGE = {
    "negative": Usage(-1000, -5),
    "huge": Usage(10**15, 10**15),
    "past sqlite": Usage(2**80, 2**80),
    "nan": Usage(float("nan"), float("nan")),
    "infinity": Usage(float("inf"), 1),
    "fraction": Usage(12.75, 1),
    "string": Usage("1e9", "x"),
    "bool": Usage(True, False),
    "negative cost": Usage(10, 10, provider_cost=-50.0),
    "nan cost": Usage(10, 10, provider_cost=float("nan")),
    "huge cost": Usage(10, 10, provider_cost=1e12),
    "none fields": Usage(None, None),
}


@pytest.mark.attack("limits")
@pytest.mark.parametrize("label", BAD_USAGE, ids=BAD_USAGE.keys())
async def test_absurd_usage_never_breaks_the_ledger(repo, label):
    provider = ScriptedProvider([[text("a"), BAD_USAGE[label]], [text("b"), Usage(7, 3)]])
    session = session_for(repo, provider, ledger=True)
    recorder = attach_ledger(session, path=":memory:")
    events = await run(session)
    assert finished(events).reason == "done"
    assert not any("detached" in w.message for w in of(events, ev.Warning))
    row = recorder.ledger.calls()[0]
    for key in ("input_tokens", "output_tokens", "cached_input_tokens", "reasoning_tokens"):
        assert isinstance(row[key], int) and 0 <= row[key] <= 10_000_000
    assert row["provider_cost"] is None or 0 <= row["provider_cost"] <= 1000
    if label != "none fields":
        assert "bad usage data" in row["usage_note"]
    assert session.meter.total_input >= 0 and session.meter.total_output >= 0


RETRY_LOOPS = {
    "length forever": lambda: [reasoning("x"), finish("length")],
    "tool_use_failed forever": lambda: [ProviderError(
        "tool call validation failed: attempted to call tool 'x'", backend="groq", model="m", status=400)],
    "harmony error forever": lambda: [ProviderError(
        "HarmonyError: unexpected tokens remaining in message header", backend="vllm", model="m",
        status=500)],
    "402 forever": lambda: [ProviderError("can only afford 100", backend="openrouter", model="m",
                                          status=402)],
}


@pytest.mark.attack("limits")
@pytest.mark.parametrize("label", RETRY_LOOPS, ids=RETRY_LOOPS.keys())
async def test_resends_are_bounded(repo, label):
    provider = ScriptedProvider([RETRY_LOOPS[label]() for _ in range(12)])
    events = await run(session_for(repo, provider), timeout=60)
    assert finished(events).reason in ("output_budget", "error")
    assert len(provider.calls) <= 5  # the 500 also gets the transport's own short retries
    assert provider.remaining >= 7


@pytest.mark.attack("limits")
@pytest.mark.parametrize("kind", ["direct", "litellm"])
@pytest.mark.parametrize("shape", ["endless", "trickle comments", "trickle text"])
async def test_hostile_server_stream_ends_over_http(repo, fake_server, kind, shape):
    turn = {"endless": FakeTurn(content="spam", endless=True, chunk_delay=0.02, hang_limit=20),
            "trickle comments": FakeTurn(content="", trickle=0.1, hang_limit=20),
            "trickle text": FakeTurn(content="a", trickle=0.05, trickle_text=True, hang_limit=20)}[shape]
    for _ in range(3):
        fake_server.add(turn)
    events = await _http_run(repo, fake_server, kind, max_time=1.5, stream_idle_timeout=60)
    assert finished(events).reason == "max_time"  # the server alone would go on for 20 s


@pytest.mark.attack("limits")
def test_agent_binary_max_time_ends_a_hung_stream(tmp_path):
    """The report's case: `agent -p --max-time` against a server that never finishes."""
    from agentproc import AGENT, agent_env

    root = tmp_path / "proj"
    root.mkdir()
    (root / "a.py").write_text("x = 1\n")
    with FakeOpenAIServer() as server:
        server.add(FakeTurn(content="thinking", trickle=0.2, trickle_text=True, hang_limit=60))
        proc = subprocess.run(
            [AGENT, "-p", "explain", "--api-base", server.url, "--max-time", "3"], cwd=root,
            env=agent_env(root), capture_output=True, text=True, timeout=120,
            stdin=subprocess.DEVNULL)
    assert proc.returncode == 1, proc.stderr[-2000:]
    # Ended by --max-time, not by the server's own 60 s of trickle.
    assert "max_time" in proc.stderr and "Traceback" not in proc.stderr
