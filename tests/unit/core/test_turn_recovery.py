"""What the turn does with what the model sends back: limits on a response, output budgets, host
errors a resend fixes, bad usage data, time to first token (scripted providers, no HTTP)."""
import asyncio
import json
import math
import os
from pathlib import Path

import pytest

from realcost_agent.agent import events as ev
from realcost_agent.agent.config import Settings
from realcost_agent.agent.recorder import attach_ledger
from realcost_agent.agent.session import Session
from turnrun import finished, of, run_turn
from realcost_agent.providers.base import ProviderError, TextDelta, ToolCallDelta, Usage
from realcost_agent.providers.recovery import mark_request_sent
from realcost_agent.providers.scripted import ScriptedProvider, finish, reasoning, text, tool_call, usage


def session_for(root: Path, provider, **settings) -> Session:
    env = {"PATH": os.environ["PATH"], "HOME": str(root), "AGENT_DATA_HOME": str(root / ".data"),
           "OPENROUTER_API_KEY": "sk-or-canary-1234567890"}
    settings.setdefault("ledger", False)
    return Session(Settings(**settings), root, env=env, provider_factory=lambda m: provider,
                   output_dir=root.parent / "outputs")


async def run(session: Session, prompt="go", timeout=30) -> list[ev.Event]:
    return await run_turn(session, prompt, timeout)


@pytest.fixture
def repo(tmp_path):
    root = tmp_path / "repo"
    root.mkdir()
    (root / "calc.py").write_text("def add(a, b):\n    return a - b\n")
    return root


class Endless:
    """A provider whose stream never ends: silent, or trickling one character at a time."""

    name = "endless"

    def __init__(self, trickle: float | None = None, piece: str = "x") -> None:
        self.trickle, self.piece, self.calls, self.closed = trickle, piece, 0, 0

    async def aclose(self):
        return None

    async def stream(self, messages, tools, model):
        self.calls += 1
        mark_request_sent()
        try:
            yield TextDelta("thinking")
            while True:
                await asyncio.sleep(self.trickle or 3600)
                if self.trickle:
                    yield TextDelta(self.piece)
        finally:
            self.closed += 1


# -- limits on one response ----------------------------------------------------------------------
async def test_max_time_ends_a_stream_that_never_ends(repo):
    provider = Endless()
    events = await run(session_for(repo, provider, max_time=0.5, stream_idle_timeout=60))
    done = finished(events)
    assert done.reason == "max_time" and "--max-time" in done.text
    assert provider.closed == 1  # the stream was closed, not left hanging


async def test_call_timeout_ends_a_trickle_that_defeats_the_idle_timeout(repo):
    provider = Endless(trickle=0.02)
    events = await run(session_for(repo, provider, call_timeout=0.6, stream_idle_timeout=60))
    done = finished(events)
    assert done.reason == "stream_timeout" and "call_timeout" in done.text
    assert provider.calls == 1 and provider.closed == 1
    cut = [u for u in of(events, ev.UsageUpdated) if u.purpose == "failed_attempt"]
    assert cut and cut[0].cost is None and "call_timeout" in cut[0].usage_note


async def test_idle_stream_is_asked_again_then_stopped(repo):
    provider = Endless()
    events = await run(session_for(repo, provider, stream_idle_timeout=0.2))
    assert finished(events).reason == "stream_timeout"
    assert provider.calls == 3  # the first try and two restarts
    assert sum("stream idle timeout" in w.message for w in of(events, ev.Warning)) == 3


async def test_response_over_the_size_cap_is_cut_and_never_run(repo):
    huge = '{"command": "touch SENTINEL", "pad": "' + "x" * 5000 + '"}'
    provider = ScriptedProvider([[tool_call("run_command", huge, pieces=10)]])
    events = await run(session_for(repo, provider, max_response_bytes=2000))
    done = finished(events)
    assert done.reason == "response_too_large" and "nothing in it was run" in done.text
    assert not of(events, ev.ToolCallStarted) and not (repo / "SENTINEL").exists()


async def test_endless_text_hits_the_size_cap(repo):
    provider = Endless(trickle=0.0001, piece="y" * 500)
    events = await run(session_for(repo, provider, max_response_bytes=20_000, call_timeout=60))
    assert finished(events).reason == "response_too_large"


# -- output budget -------------------------------------------------------------------------------
async def test_length_with_no_answer_is_retried_with_more_room_then_done(repo):
    provider = ScriptedProvider([
        [reasoning("long thinking"), usage(100, 16384), finish("length")],
        [text("Done."), usage(100, 50)],
    ])
    events = await run(session_for(repo, provider, model="gpt-oss-120b"))
    assert finished(events).reason == "done"
    budgets = [c.model.params.max_output_tokens for c in provider.calls]
    assert budgets == [16384, 32000]
    purposes = [u.purpose for u in of(events, ev.UsageUpdated)]
    assert purposes == ["failed_attempt", "turn"]  # the cut call's cost is recorded


async def test_length_twice_stops_with_output_budget_and_runs_nothing(repo):
    cut = [reasoning("..."), tool_call("run_command", {"command": "touch SENTINEL"}), usage(10, 9),
           finish("length")]
    provider = ScriptedProvider([cut, cut])
    events = await run(session_for(repo, provider, model="gpt-oss-120b"))
    done = finished(events)
    assert done.reason == "output_budget" and "Nothing from that response was run" in done.text
    assert not of(events, ev.ToolCallStarted) and not (repo / "SENTINEL").exists()
    assert any("output budget" in w.message for w in of(events, ev.Warning))
    assert len(of(events, ev.UsageUpdated)) == 2


async def test_length_at_the_cap_lowers_reasoning_effort_instead(repo):
    provider = ScriptedProvider([[reasoning("."), finish("length")], [text("ok")]])
    events = await run(session_for(repo, provider, model="o4-mini"))
    assert finished(events).reason == "done"
    first, second = (c.model.params for c in provider.calls)
    assert first.max_output_tokens == 32_768 and first.reasoning_effort == "medium"
    assert second.max_output_tokens == 32_768 and second.reasoning_effort == "low"


async def test_cut_text_answer_is_never_done(repo):
    provider = ScriptedProvider([[text("The fix is to chan"), finish("length")],
                                 [text("The fix is"), finish("length")]])
    events = await run(session_for(repo, provider))
    assert finished(events).reason == "output_budget"


# -- host errors a resend fixes ------------------------------------------------------------------
def groq_400():
    return ProviderError("Failed to call a function. Please adjust your prompt. See "
                         "'failed_generation' for more details.", backend="groq",
                         model="gpt-oss-120b", status=400)


async def test_groq_tool_use_failed_is_resent_with_a_corrective_note(repo):
    provider = ScriptedProvider([[groq_400()], [text("Done.")]])
    events = await run(session_for(repo, provider))
    assert finished(events).reason == "done"
    note = provider.calls[1].messages[-1]
    assert note["role"] == "user" and "tool" in note["content"]
    failed = [u for u in of(events, ev.UsageUpdated) if u.purpose == "failed_attempt"]
    assert len(failed) == 1


async def test_tool_call_errors_are_resent_at_most_twice(repo):
    provider = ScriptedProvider([[groq_400()], [groq_400()], [groq_400()], [text("never")]])
    events = await run(session_for(repo, provider))
    assert finished(events).reason == "error" and len(provider.calls) == 3
    assert len([u for u in of(events, ev.UsageUpdated) if u.purpose == "failed_attempt"]) == 3


async def test_midstream_harmony_error_is_resent(repo):
    err = ProviderError("HarmonyError: unexpected tokens remaining in message header",
                        backend="local", model="gpt-oss-20b", status=400, partial=True)
    provider = ScriptedProvider([[text("partial"), err], [text("Done.")]])
    events = await run(session_for(repo, provider))
    assert finished(events).reason == "done"
    assert "could not be parsed" in provider.calls[1].messages[-1]["content"]
    # The note went with the resend only: history holds the prompt and the answer.
    roles = [m["role"] for m in provider.calls[1].messages]
    assert roles.count("user") == 2 and len(provider.calls) == 2


async def test_402_can_only_afford_is_resent_once_with_lower_max_tokens(repo):
    def afford():
        return ProviderError("This request requires more credits, or fewer max_tokens. You "
                             "requested up to 16384 tokens, but can only afford 2079.",
                             backend="openrouter", model="gpt-oss-120b", status=402)
    provider = ScriptedProvider([[afford()], [text("Done.")]])
    events = await run(session_for(repo, provider))
    assert finished(events).reason == "done"
    assert provider.calls[1].model.params.max_output_tokens < 2079
    provider = ScriptedProvider([[afford()], [afford()], [text("never")]])
    events = await run(session_for(repo, provider))
    assert finished(events).reason == "error" and len(provider.calls) == 2


# -- tool calls from the stream ------------------------------------------------------------------
async def test_same_index_parallel_calls_are_two_calls(repo):
    provider = ScriptedProvider([
        [ToolCallDelta(0, "c1", "read_file", '{"path": "calc.py"}'),
         ToolCallDelta(0, "c2", "read_file", '{"path": "calc.py"}'), finish("tool_calls")],
        [text("Done.")],
    ])
    events = await run(session_for(repo, provider))
    started = of(events, ev.ToolCallStarted)
    assert [s.name for s in started] == ["read_file", "read_file"]
    assert all(not f.is_error for f in of(events, ev.ToolCallFinished))


async def test_missing_ids_get_stable_ones_and_history_stays_valid(repo):
    provider = ScriptedProvider([
        [ToolCallDelta(0, None, "read_file", '{"path": "calc.py"}'),
         ToolCallDelta(1, None, "list_files", "{}"), finish("tool_calls")],
        [text("Done.")],
    ])
    await run(session_for(repo, provider))
    sent = provider.calls[1].messages
    ids = [c["id"] for c in sent[-3]["tool_calls"]]
    assert ids == ["call_t1_1_1", "call_t1_1_2"]
    assert [m["tool_call_id"] for m in sent[-2:]] == ids


async def test_hallucinated_tool_is_mapped_and_python_gets_the_tool_list(repo):
    provider = ScriptedProvider([
        [tool_call("repo_browser.open_file", {"path": "calc.py", "line_start": 1, "num_lines": 1}),
         tool_call("python", {"code": "open('x','w')"})],
        [text("Done.")],
    ])
    events = await run(session_for(repo, provider))
    first, second = of(events, ev.ToolCallFinished)
    assert not first.is_error and "def add" in first.output
    assert first.metadata["recovered"] == "repo_browser.open_file -> read_file"
    assert second.is_error and "available tools" in second.output and "read_file" in second.output
    assert not (repo / "x").exists()


async def test_harmony_after_analysis_in_text_is_run_and_exit_is_not_the_markup(repo):
    leak = ("<|channel|>analysis<|message|>Need calc.py.<|end|><|start|>assistant<|channel|>"
            'commentary to=functions.read_file <|constrain|>json<|message|>{"path": "calc.py"}<|call|>')
    provider = ScriptedProvider([[text(leak)], [text("It subtracts.")]])
    events = await run(session_for(repo, provider))
    assert finished(events).text == "It subtracts."
    assert "return a - b" in of(events, ev.ToolCallFinished)[0].output
    stored = provider.calls[1].messages[-2]
    assert stored["content"] is None and stored["reasoning_content"] == "Need calc.py."


# -- usage data ----------------------------------------------------------------------------------
@pytest.mark.parametrize("bad", [
    Usage(-5, 10), Usage(10, 10**12), Usage(float("nan"), 10), Usage(12.5, 3), Usage("12", 3),
    Usage(10, 10, provider_cost=float("inf")), Usage(10, 10, provider_cost=-1.0),
    Usage(2**70, 1), Usage(True, 1),
])
async def test_bad_usage_is_recorded_as_bad_data_and_the_ledger_stays(repo, bad):
    provider = ScriptedProvider([[text("a"), bad], [text("b"), usage(7, 3)]])
    session = session_for(repo, provider, ledger=True)
    recorder = attach_ledger(session, path=":memory:")
    events = await run(session)
    assert finished(events).reason == "done"
    warn = [w for w in of(events, ev.Warning) if "bad usage data" in w.message]
    assert warn and not any("detached" in w.message for w in of(events, ev.Warning))
    rows = recorder.ledger.calls()
    assert len(rows) == 1 and "bad usage data" in rows[0]["usage_note"]
    for key in ("input_tokens", "output_tokens", "cached_input_tokens", "reasoning_tokens"):
        assert isinstance(rows[0][key], int) and 0 <= rows[0][key] <= 10_000_000
    assert rows[0]["cost"] is None  # unknown, not $0
    assert recorder in session._listeners or session._closed


async def test_recorder_survives_an_event_with_absurd_figures(repo):
    session = session_for(repo, ScriptedProvider([[text("ok")]]), ledger=True)
    recorder = attach_ledger(session, path=":memory:")
    events = await run(session)
    recorder(ev.UsageUpdated("t1", "m", "x/m", "b", 2**70, -1, 0, 0, math.nan, math.inf, math.nan,
                             None, 1.0, 0.0, 0, 0))
    row = recorder.ledger.calls()[-1]
    assert row["input_tokens"] == 0 and row["cost"] is None and "bad usage" in row["usage_note"]
    assert finished(events).reason == "done"


# -- time to first token -------------------------------------------------------------------------
async def test_ttft_runs_from_the_request_not_from_the_agents_set_up(repo):
    class SlowStart:
        name = "slow"

        async def aclose(self):
            return None

        async def stream(self, messages, tools, model):
            await asyncio.sleep(0.4)  # an import, a first client, ... before the request leaves
            mark_request_sent()
            yield TextDelta("hi")
            yield Usage(5, 1)

    events = await run(session_for(repo, SlowStart()))
    u = of(events, ev.UsageUpdated)[0]
    assert u.setup_ms >= 400 and u.ttft_ms < u.setup_ms
    assert u.duration_ms >= u.setup_ms
