"""What a host sends back, played by the fake server over real HTTP and driven through a whole
Session on BOTH client paths (direct httpx and litellm): limits on a response, harmony calls in
the text, used-up output budgets, host errors a resend fixes, same-index parallel calls, bad
usage. Shapes are from the hosts' docs and issue threads:
  - Groq 400 `tool_use_failed` with `failed_generation` (console.groq.com/docs/tool-use,
    "Failed to call a function. Please adjust your prompt."),
  - OpenRouter 402 "... can only afford N" (openrouter.ai/docs/api-reference/errors),
  - vLLM's mid-stream HarmonyError ("unexpected tokens remaining in message header",
    vllm-project/vllm issues on gpt-oss), finish_reason "length" with reasoning only,
  - two parallel calls under one index (the `read_fileread_file` report in issue 11).
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from fakeserver import FakeToolCall, FakeTurn

from realcost_agent.agent import events as ev
from realcost_agent.agent.config import Settings
from realcost_agent.agent.recorder import attach_ledger
from realcost_agent.agent.session import Session
from turnrun import finished, of, run_turn
from realcost_agent.providers.catalogue import CUSTOM_KEY_ENV

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

KEY = "sk-test-0123456789abcdefSECRET"
HARMONY = ('<|channel|>analysis<|message|>Need calc.py.<|end|><|start|>assistant<|channel|>'
           'commentary to=functions.read_file <|constrain|>json<|message|>{"path": "calc.py"}<|call|>')
GROQ_400 = {"error": {
    "message": "Failed to call a function. Please adjust your prompt. See 'failed_generation' "
               "for more details.",
    "type": "invalid_request_error", "code": "tool_use_failed",
    "failed_generation": '<|channel|>commentary to=functions.read_file {"path": calc.py}'}}
AFFORD_402 = {"error": {
    "message": "This request requires more credits, or fewer max_tokens. You requested up to "
               "16384 tokens, but can only afford 2079. To increase, visit "
               "https://openrouter.ai/settings/credits and upgrade to a paid account",
    "code": 402}}
HARMONY_ERROR = {"error": {"object": "error", "type": "BadRequestError", "code": 400,
                           "message": "openai_harmony.HarmonyError: unexpected tokens remaining "
                                      "in message header: Some(\"to=functions.read_file\")"}}


@pytest.fixture(params=["direct", "litellm"])
def kind(request):
    if request.param == "litellm":
        # litellm's one-time import (seconds on a loaded machine) happens inside the first call,
        # so its clock would count it: paid here, the tight limits below time the model's
        # stream alone.
        from realcost_agent.providers.factory import make_provider, warm
        from realcost_agent.providers.catalogue import resolve_model

        warm(make_provider(resolve_model("gpt-oss-20b", env={}), force="litellm"))
    return request.param


@pytest.fixture
def repo(tmp_path):
    root = tmp_path / "repo"
    root.mkdir()
    (root / "calc.py").write_text("def add(a, b):\n    return a - b\n")
    return root


async def drive(repo: Path, server, kind: str, *, ledger: bool = False, timeout: float = 60,
                **settings) -> tuple[list[ev.Event], object]:
    env = {"PATH": os.environ["PATH"], "HOME": str(repo.parent), CUSTOM_KEY_ENV: KEY,
           "AGENT_DATA_HOME": str(repo.parent / "data")}
    settings.setdefault("model", "gpt-oss-20b")
    s = Session(Settings(api_base=server.url, provider=kind, ledger=ledger, repo_map_tokens=0,
                         **settings), repo, env=env, output_dir=repo.parent / "out")
    recorder = attach_ledger(s, path=":memory:") if ledger else None
    return await run_turn(s, "go", timeout), recorder


def last_user(body):
    return [m for m in body["messages"] if m["role"] == "user"][-1]["content"]


# -- limits --------------------------------------------------------------------------------------
async def test_never_ending_stream_ends_at_max_time(repo, fake_server, kind):
    fake_server.add(FakeTurn(content="working", endless=True, chunk_delay=0.05, hang_limit=20))
    events, _ = await drive(repo, fake_server, kind, max_time=1.5)
    assert finished(events).reason == "max_time"


async def test_comment_trickle_ends_at_the_stream_idle_timeout(repo, fake_server, kind):
    # One byte every 0.1 s keeps the HTTP read alive; after the first delta no other arrives.
    for _ in range(3):
        fake_server.add(FakeTurn(content="a", trickle=0.05, hang_limit=20))
    events, _ = await drive(repo, fake_server, kind, stream_idle_timeout=1.5)
    assert finished(events).reason == "stream_timeout"
    assert len(fake_server.chat_bodies) == 3  # first try + two restarts, then stopped


async def test_comment_trickle_before_any_delta_ends_at_call_timeout(repo, fake_server, kind):
    # Keep-alive comments and nothing else (a model "thinking" forever behind a proxy).
    fake_server.add(FakeTurn(content="", trickle=0.05, hang_limit=20))
    events, _ = await drive(repo, fake_server, kind, stream_idle_timeout=1.0, call_timeout=2.5)
    done = finished(events)
    assert done.reason == "stream_timeout" and "call_timeout" in done.text


async def test_text_trickle_ends_at_call_timeout(repo, fake_server, kind):
    fake_server.add(FakeTurn(content="a", trickle=0.05, trickle_text=True, hang_limit=20))
    events, _ = await drive(repo, fake_server, kind, call_timeout=1.5, stream_idle_timeout=30)
    done = finished(events)
    assert done.reason == "stream_timeout" and "call_timeout" in done.text
    assert len(fake_server.chat_bodies) == 1


async def test_huge_response_is_cut_and_its_call_never_runs(repo, fake_server, kind):
    args = {"command": "touch SENTINEL", "pad": "x" * 150_000}
    fake_server.add(FakeTurn(tool_calls=[FakeToolCall("run_command", args)], arg_pieces=40))
    events, _ = await drive(repo, fake_server, kind, max_response_bytes=100_000)
    assert finished(events).reason == "response_too_large"
    assert not of(events, ev.ToolCallStarted) and not (repo / "SENTINEL").exists()


# -- what the model meant ------------------------------------------------------------------------
async def test_harmony_call_after_analysis_in_text_is_run(repo, fake_server, kind):
    fake_server.add(FakeTurn(content=HARMONY, piece=7), FakeTurn(content="It subtracts."))
    events, _ = await drive(repo, fake_server, kind)
    assert finished(events).text == "It subtracts."
    assert "return a - b" in of(events, ev.ToolCallFinished)[0].output
    echoed = fake_server.chat_bodies[1]["messages"][-2]
    assert echoed["tool_calls"][0]["function"]["name"] == "read_file"


async def test_harmony_quoted_in_a_fence_is_the_answer(repo, fake_server, kind):
    quoted = "The call looks like:\n```\n" + HARMONY.replace("read_file", "run_command") + "\n```"
    fake_server.add(FakeTurn(content=quoted, piece=9))
    events, _ = await drive(repo, fake_server, kind)
    assert finished(events).reason == "done" and finished(events).text == quoted
    assert not of(events, ev.ToolCallStarted)


async def test_same_index_parallel_calls_are_two_calls(repo, fake_server, kind):
    calls = [FakeToolCall("read_file", {"path": "calc.py"}, id="call_a"),
             FakeToolCall("list_files", {}, id="call_b")]
    fake_server.add(FakeTurn(tool_calls=calls, same_index=True), FakeTurn(content="ok"))
    events, _ = await drive(repo, fake_server, kind)
    assert [s.name for s in of(events, ev.ToolCallStarted)] == ["read_file", "list_files"]
    assert not any(f.is_error for f in of(events, ev.ToolCallFinished))


# -- output budget -------------------------------------------------------------------------------
async def test_reasoning_only_length_finish_is_retried_with_more_room(repo, fake_server, kind):
    fake_server.add(FakeTurn(reasoning="thinking " * 20, finish_reason="length",
                             completion_tokens=16384),
                    FakeTurn(content="Done."))
    events, _ = await drive(repo, fake_server, kind)
    assert finished(events).reason == "done"
    assert [b["max_tokens"] for b in fake_server.chat_bodies] == [16384, 32000]


async def test_length_finish_twice_stops_with_output_budget(repo, fake_server, kind):
    cut = FakeTurn(reasoning="...", tool_calls=[FakeToolCall("run_command", {"command": "touch S"})],
                   finish_reason="length")
    fake_server.add(cut, cut)
    events, recorder = await drive(repo, fake_server, kind, ledger=True)
    assert finished(events).reason == "output_budget"
    assert not of(events, ev.ToolCallStarted) and not (repo / "S").exists()
    rows = recorder.ledger.calls()
    assert [r["purpose"] for r in rows] == ["failed_attempt", "failed_attempt"]
    assert all(r["input_tokens"] == 10 for r in rows)  # both calls' figures kept


# -- host errors a resend fixes ------------------------------------------------------------------
async def test_groq_tool_use_failed_is_resent_with_a_note(repo, fake_server, kind):
    fake_server.add(FakeTurn(status=400, error_body=GROQ_400), FakeTurn(content="Done."))
    events, recorder = await drive(repo, fake_server, kind, ledger=True)
    assert finished(events).reason == "done"
    assert "tool-calling interface" in last_user(fake_server.chat_bodies[1])
    rows = recorder.ledger.calls()
    assert [r["purpose"] for r in rows] == ["failed_attempt", "turn"]
    assert "tool_call error" in rows[0]["usage_note"]


async def test_openrouter_402_afford_is_resent_with_lower_max_tokens(repo, fake_server, kind):
    fake_server.add(FakeTurn(status=402, error_body=AFFORD_402), FakeTurn(content="Done."))
    events, _ = await drive(repo, fake_server, kind)
    assert finished(events).reason == "done"
    assert 0 < fake_server.chat_bodies[1]["max_tokens"] < 2079


async def test_midstream_harmony_error_is_resent(repo, fake_server, kind):
    fake_server.add(FakeTurn(content="partial answer", stream_error_at=3,
                             stream_error_body=HARMONY_ERROR),
                    FakeTurn(content="Done."))
    events, _ = await drive(repo, fake_server, kind)
    assert finished(events).reason == "done"
    assert "could not be parsed" in last_user(fake_server.chat_bodies[1])


# -- usage data ----------------------------------------------------------------------------------
@pytest.mark.parametrize("raw", [
    {"prompt_tokens": -40, "completion_tokens": 5},
    {"prompt_tokens": 10, "completion_tokens": 99_000_000_000},
    {"prompt_tokens": float("nan"), "completion_tokens": 5},
    {"prompt_tokens": 10.5, "completion_tokens": 5},
])
async def test_absurd_usage_is_bad_data_and_the_ledger_stays_attached(repo, fake_server, kind, raw):
    fake_server.add(FakeTurn(content="ok", raw_usage=raw))
    events, recorder = await drive(repo, fake_server, kind, ledger=True)
    assert finished(events).reason == "done"
    warnings = [w.message for w in of(events, ev.Warning)]
    assert not any("detached" in w for w in warnings)
    rows = recorder.ledger.calls()
    assert len(rows) == 1
    row = rows[0]
    assert 0 <= row["input_tokens"] <= 10_000_000 and 0 <= row["output_tokens"] <= 10_000_000
    if any("bad usage data" in w for w in warnings):
        # Billed, amount unknown; a loopback server bills nothing at all (local: $0).
        assert (row["cost"] is None or row["local"]) and "bad usage data" in row["usage_note"]
    else:  # litellm recounted the figures itself: they are sane, whatever the host said
        assert kind == "litellm" and row["usage_note"] is None


async def test_ttft_is_measured_from_the_request(repo, fake_server, kind):
    fake_server.add(FakeTurn(content="hi"))
    events, _ = await drive(repo, fake_server, kind)
    u = of(events, ev.UsageUpdated)[0]
    assert u.setup_ms is not None and u.ttft_ms is not None
    assert u.duration_ms >= u.setup_ms + u.ttft_ms - 1
