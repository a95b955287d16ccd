"""Compaction keeps the task, instructions, latest tool results and touched paths; once only."""
import asyncio
import dataclasses
import os

import pytest

from realcost_agent.agent import events as ev
from realcost_agent.agent.compaction import SUMMARY_PREFIX, estimate_tokens, is_context_overflow, split_point, touched_paths
from realcost_agent.agent.config import Settings
from realcost_agent.agent.ops import UserInput
from realcost_agent.agent.session import Session
from realcost_agent.providers.base import ProviderError
from realcost_agent.providers.scripted import ScriptedProvider, text, tool_call, usage


async def run(session, prompt):
    session.submit(UserInput(prompt))
    events = []
    while True:
        event = await asyncio.wait_for(session.next_event(), 20)
        events.append(event)
        if isinstance(event, ev.TurnFinished):
            return events


def make(root, turns, window):
    provider = ScriptedProvider(turns)
    (root / "AGENTS.md").write_text("Use tabs. Project rule 42.\n")
    s = Session(Settings(), root, env={"PATH": os.environ["PATH"], "AGENT_DATA_HOME": str(root.parent / "d")},
                provider_factory=lambda m: provider)
    s.flow.use(dataclasses.replace(s.model, context_window=window))  # the one writer
    return s, provider


@pytest.fixture
def repo(tmp_path):
    root = tmp_path / "r"
    root.mkdir()
    for i in range(4):
        (root / f"big{i}.txt").write_text(("line of text %d\n" % i) * 150)
    return root


async def test_compaction_near_window_keeps_task_paths_and_latest_result(repo):
    turns = [[tool_call("read_file", {"path": f"big{i}.txt"}, id=f"r{i}"), usage(100, 5)] for i in range(4)]
    turns.append([text("- read big0..big2, all plain lines"), usage(900, 40)])  # the summary call
    turns.append([text("All four files are plain text."), usage(300, 10)])
    s, provider = make(repo, turns, window=4000)
    await s.start()
    events = await run(s, "Summarize big0.txt to big3.txt")
    await s.close()
    compacted = [e for e in events if isinstance(e, ev.Compacted)]
    assert len(compacted) == 1 and compacted[0].folded_messages > 0
    assert compacted[0].after_tokens < compacted[0].before_tokens
    finished = [e for e in events if isinstance(e, ev.TurnFinished)][0]
    assert finished.reason == "done"
    summary_request = provider.calls[4]
    assert summary_request.tools == []
    after = provider.calls[5].messages
    assert "Project rule 42" in after[0]["content"]  # instructions live in the system message
    summary = after[1]["content"]
    assert summary.startswith(SUMMARY_PREFIX)
    assert "Summarize big0.txt to big3.txt" in summary
    assert "big0.txt" in summary and "big1.txt" in summary
    assert after[-1]["role"] == "tool" and after[-1]["tool_call_id"] == "r3"  # latest result kept
    purposes = [e.purpose for e in events if isinstance(e, ev.UsageUpdated)]
    assert purposes.count("compaction") == 1


async def test_stops_after_one_attempt_when_summary_still_does_not_fit(repo):
    (repo / "huge.txt").write_text(("x" * 100 + "\n") * 400)
    turns = [
        [tool_call("read_file", {"path": "big0.txt"}, id="a")],
        [tool_call("read_file", {"path": "huge.txt"}, id="b")],
        [text("summary")],
        [text("never reached")],
    ]
    s, provider = make(repo, turns, window=3000)
    await s.start()
    events = await run(s, "read")
    await s.close()
    finished = [e for e in events if isinstance(e, ev.TurnFinished)][0]
    assert finished.reason == "context_overflow"
    assert len([e for e in events if isinstance(e, ev.Compacted)]) <= 1
    assert provider.remaining == 1  # the answer after it never asked for


async def test_provider_overflow_error_compacts_once_and_retries(repo):
    overflow = ProviderError("This model's maximum context length is 8192 tokens", backend="x",
                             model="m", status=400)
    turns = [
        [tool_call("read_file", {"path": "big0.txt"}, id="a")],
        [tool_call("read_file", {"path": "big1.txt"}, id="b")],
        [overflow],
        [text("summary of reading")],
        [text("done after compaction")],
    ]
    s, provider = make(repo, turns, window=200_000)
    await s.start()
    events = await run(s, "read two")
    await s.close()
    finished = [e for e in events if isinstance(e, ev.TurnFinished)][0]
    assert (finished.reason, finished.text) == ("done", "done after compaction")
    assert len([e for e in events if isinstance(e, ev.Compacted)]) == 1


def test_helpers():
    assert is_context_overflow(ProviderError("prompt is too long", backend="b", model="m", status=400))
    assert not is_context_overflow(ProviderError("invalid key", backend="b", model="m", status=401))
    msgs = [{"role": "system", "content": "s"}, {"role": "user", "content": "u" * 400},
            {"role": "assistant", "content": None, "tool_calls": [{"id": "1", "type": "function", "function": {
                "name": "apply_patch", "arguments": '{"patch": "*** Begin Patch\\n*** Update File: src/a.py\\n*** Move to: src/b.py\\n*** End Patch"}'}}]},
            {"role": "tool", "tool_call_id": "1", "content": "ok" * 300},
            {"role": "user", "content": "more"}]
    assert touched_paths(msgs) == ["src/a.py", "src/b.py"]
    cut = split_point(msgs, 400)
    assert cut is not None and msgs[cut]["role"] in ("user", "assistant")
    assert estimate_tokens(msgs) > 0
