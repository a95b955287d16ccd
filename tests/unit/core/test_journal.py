"""Crash-safe sessions: the journal holds every finished message; resume continues from it."""
import asyncio
import json
import os

import pytest

from realcost_agent.agent import events as ev
from realcost_agent.agent.config import Settings
from realcost_agent.agent.journal import ResumeError, latest_session_id, load, load_session, repair_history
from realcost_agent.agent.ops import UserInput
from realcost_agent.agent.session import Session
from realcost_agent.providers.scripted import ScriptedProvider, text, tool_call, usage


def env_for(tmp_path):
    return {"PATH": os.environ["PATH"], "AGENT_DATA_HOME": str(tmp_path / "data"),
            "OPENROUTER_API_KEY": "sk-or-journal-canary-999"}


async def run_turn(session):
    while True:
        event = await asyncio.wait_for(session.next_event(), 20)
        if isinstance(event, ev.TurnFinished):
            return event


@pytest.fixture
def repo(tmp_path):
    root = tmp_path / "repo"
    root.mkdir()
    (root / "a.txt").write_text("hello\n")
    return root


async def test_resume_continues_the_conversation_and_figures(repo, tmp_path):
    env = env_for(tmp_path)
    p1 = ScriptedProvider([
        [tool_call("read_file", {"path": "a.txt"}, id="r1"), usage(100, 10)],
        [text("It says hello. key sk-or-journal-canary-999"), usage(120, 5)],
    ])
    s1 = Session(Settings(model="gpt-oss-120b", prices={"gpt-oss-120b": {"input": 1, "output": 2}}), repo, env=env,
                 provider_factory=lambda m: p1)
    await s1.start()
    s1.submit(UserInput("what is in a.txt?"))
    await run_turn(s1)
    # No close(): as if the process was killed right after the turn.
    sid = s1.id
    assert latest_session_id(repo, env) == sid
    raw = (tmp_path / "data").rglob(f"{sid}.jsonl").__next__().read_text()
    assert "sk-or-journal-canary-999" not in raw and "[REDACTED]" in raw

    resumed = load_session(repo, None, env)
    p2 = ScriptedProvider([[text("Still hello."), usage(200, 3)]])
    s2 = Session(Settings(model="gpt-oss-120b", prices={"gpt-oss-120b": {"input": 1, "output": 2}}), repo, env=env,
                 provider_factory=lambda m: p2, resume=resumed)
    await s2.start()
    assert s2.id == sid
    assert s2.meter.total_input == 220 and s2.meter.total_cost == pytest.approx((220 * 1 + 15 * 2) / 1e6)
    s2.submit(UserInput("and now?"))
    finished = await run_turn(s2)
    await s2.close()
    assert finished.text == "Still hello."
    sent = p2.calls[0].messages
    assert [m["role"] for m in sent] == ["system", "user", "assistant", "tool", "assistant", "user"]
    assert "hello" in sent[3]["content"]
    # The follow-up belongs to the same task.
    assert s2.tasks.current.id == 1 and s2.tasks.current.prompts == 2


async def test_torn_last_line_is_skipped_and_dangling_calls_repaired(repo, tmp_path):
    env = env_for(tmp_path)
    p1 = ScriptedProvider([[tool_call("read_file", {"path": "a.txt"}, id="x1")], [text("done")]])
    s1 = Session(Settings(), repo, env=env, provider_factory=lambda m: p1)
    await s1.start()
    s1.submit(UserInput("go"))
    await run_turn(s1)
    await s1.close()
    path = next((tmp_path / "data").rglob(f"{s1.id}.jsonl"))
    lines = path.read_text().splitlines(keepends=True)
    # Simulate a kill after the tool-call message was written: drop everything after it, then
    # append half a line.
    idx = max(i for i, l in enumerate(lines) if '"tool_calls"' in l and '"k":"msg"' in l)
    path.write_text("".join(lines[: idx + 1]) + '{"k":"msg","m":{"role":"tool","tool_')
    resumed = load(path)
    assert resumed.skipped_lines == 1
    repaired = repair_history(resumed.messages)
    assert repaired[-1]["role"] == "tool" and repaired[-1]["tool_call_id"] == "x1"
    s2 = Session(Settings(), repo, env=env, provider_factory=lambda m: ScriptedProvider([]),
                 resume=resumed)
    await s2.start()
    warning = await asyncio.wait_for(s2.next_event(), 5)
    while not isinstance(warning, ev.Warning):
        warning = await asyncio.wait_for(s2.next_event(), 5)
    assert "skipped 1 unreadable journal line" in warning.message
    await s2.close()


def test_resume_errors_are_clear(repo, tmp_path):
    env = env_for(tmp_path)
    with pytest.raises(ResumeError, match="no session to resume"):
        load_session(repo, None, env)
    with pytest.raises(ResumeError, match="no session 'nope'"):
        load_session(repo, "nope", env)


def test_journal_lines_are_json(repo, tmp_path):
    env = env_for(tmp_path)

    async def go():
        s = Session(Settings(), repo, env=env, provider_factory=lambda m: ScriptedProvider([[text("hi")]]))
        await s.start()
        s.submit(UserInput("x"))
        await run_turn(s)
        await s.close()
        return s.id

    sid = asyncio.run(go())
    path = next((tmp_path / "data").rglob(f"{sid}.jsonl"))
    records = [json.loads(l) for l in path.read_text().splitlines()]
    assert records[0]["k"] == "meta" and records[0]["session_id"] == sid
    kinds = {r["k"] for r in records}
    assert kinds == {"meta", "msg", "ev"}
    assert not any(r["k"] == "ev" and r["e"]["type"] == "assistant_delta" for r in records)


async def test_repeated_resumes_keep_one_result_per_call(repo, tmp_path):
    env = env_for(tmp_path)
    p1 = ScriptedProvider([[tool_call("read_file", {"path": "a.txt"}, id="c1"),
                            tool_call("list_files", {}, id="c2")], [text("done")]])
    s1 = Session(Settings(model="gpt-oss-120b"), repo, env=env, provider_factory=lambda m: p1)
    await s1.start()
    s1.submit(UserInput("go"))
    await run_turn(s1)
    await s1.close()
    path = next((tmp_path / "data").rglob(f"{s1.id}.jsonl"))
    lines = path.read_text().splitlines(keepends=True)
    # Killed after c1's result was journaled, before c2's.
    cut = next(i for i, l in enumerate(lines) if '"tool_call_id":"c1"' in l and '"k":"msg"' in l)
    path.write_text("".join(lines[: cut + 1]))
    for _ in range(2):
        s = Session(Settings(model="gpt-oss-120b"), repo, env=env,
                    provider_factory=lambda m: ScriptedProvider([]), resume=load(path))
        await s.start()
        await s.close()
        ids = [m["tool_call_id"] for m in s.messages if m["role"] == "tool"]
        assert sorted(ids) == ["c1", "c2"]
    journaled = [m["tool_call_id"] for m in load(path).messages if m["role"] == "tool"]
    assert sorted(journaled) == ["c1", "c2"]
