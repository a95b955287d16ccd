"""The core session driven by a scripted provider (no HTTP): ops in, events out."""
import asyncio
import json
import os
import subprocess
from pathlib import Path

import pytest

from realcost_agent.agent import events as ev
from realcost_agent.agent.config import Settings
from realcost_agent.agent.ops import Approve, EndTask, Interrupt, SwitchModel, UserInput
from realcost_agent.agent.session import Session
from realcost_agent.providers.base import ProviderError
from realcost_agent.providers.scripted import ScriptedProvider, finish, reasoning, text, tool_call, usage


def make_session(root: Path, turns, **settings) -> tuple[Session, ScriptedProvider]:
    provider = ScriptedProvider(turns)
    env = {"PATH": os.environ["PATH"], "HOME": str(root), "AGENT_DATA_HOME": str(root / ".data"),
           "OPENROUTER_API_KEY": "sk-or-canary-1234567890"}
    interactive = settings.pop("interactive", False)
    s = Session(Settings(**settings), root, env=env, provider_factory=lambda m: provider,
                interactive=interactive, output_dir=root.parent / "outputs")
    return s, provider


async def until_turn_finished(session: Session, on_event=None, timeout=20) -> list[ev.Event]:
    seen: list[ev.Event] = []

    async def collect():
        while True:
            event = await session.next_event()
            assert event is not None, "session closed before the turn finished"
            seen.append(event)
            if on_event:
                on_event(event)
            if isinstance(event, ev.TurnFinished):
                return

    await asyncio.wait_for(collect(), timeout)
    return seen


def of(events, cls):
    return [e for e in events if isinstance(e, cls)]


@pytest.fixture
def repo(tmp_path):
    root = tmp_path / "repo"
    root.mkdir()
    (root / "calc.py").write_text("def add(a, b):\n    return a - b\n")
    return root


async def test_tool_loop_edits_file_and_sends_results_back(repo):
    patch = "*** Begin Patch\n*** Update File: calc.py\n@@\n def add(a, b):\n-    return a - b\n+    return a + b\n*** End Patch"
    s, provider = make_session(repo, [
        [reasoning("read it first"), tool_call("read_file", {"path": "calc.py"}, id="c1"), usage(100, 10)],
        [reasoning("fix the operator"), tool_call("apply_patch", {"patch": patch}, id="c2"), usage(150, 30, cached=100)],
        [text("Fixed add()."), usage(200, 5)],
    ])
    await s.start()
    s.submit(UserInput("fix add"))
    events = await until_turn_finished(s)
    await s.close()

    assert (repo / "calc.py").read_text() == "def add(a, b):\n    return a + b\n"
    done = of(events, ev.TurnFinished)[0]
    assert (done.reason, done.text, done.steps, done.files_changed) == ("done", "Fixed add().", 3, ("calc.py",))
    finished = of(events, ev.ToolCallFinished)
    assert [f.call_id for f in finished] == ["c1", "c2"] and not any(f.is_error for f in finished)
    assert "diff" in finished[1].metadata and "+    return a + b" in finished[1].metadata["diff"]
    # Second request carries the first tool result and the prior reasoning on the tool-call message.
    second = provider.calls[1].messages
    assert second[-1]["role"] == "tool" and second[-1]["tool_call_id"] == "c1"
    assert "return a - b" in second[-1]["content"]
    assert second[-2]["role"] == "assistant" and second[-2]["reasoning_content"] == "read it first"
    usages = of(events, ev.UsageUpdated)
    assert [u.input_tokens for u in usages] == [100, 150, 200]
    assert usages[-1].session_input_tokens == 450 and usages[-1].session_output_tokens == 45
    assert usages[1].cached_input_tokens == 100
    assert all(u.ttft_ms is not None for u in usages)
    types = [type(e).__name__ for e in events]
    assert types[0] == "SessionStarted" and types[-1] == "TurnFinished"
    assert types.index("ToolCallStarted") < types.index("ToolCallFinished")


async def test_three_invalid_tool_calls_end_the_turn_and_never_execute(repo):
    s, provider = make_session(repo, [
        [tool_call("write_file", '{"path": "x.py", "content": ', id="a")],  # malformed JSON
        [tool_call("assistant<|channel|>analysis", {}, id="b")],  # unknown name
        [tool_call("write_file", {"path": "x.py"}, id="c")],  # missing required field
    ])
    await s.start()
    s.submit(UserInput("go"))
    events = await until_turn_finished(s)
    await s.close()
    done = of(events, ev.TurnFinished)[0]
    assert done.reason == "tool_errors"
    assert "3 invalid tool calls" in done.text
    assert not (repo / "x.py").exists()
    outputs = [f.output for f in of(events, ev.ToolCallFinished)]
    assert all(f.is_error for f in of(events, ev.ToolCallFinished))
    assert "JSON" in outputs[0] or "json" in outputs[0]
    assert "read_file" in outputs[1]  # the error lists the valid names
    assert "content" in outputs[2]
    # The model saw each error as a tool result.
    assert provider.calls[2].messages[-1]["content"].startswith("Error:")


async def test_gpt_oss_name_suffix_is_normalized(repo):
    s, _ = make_session(repo, [
        [tool_call("read_file<|channel|>commentary", {"path": "calc.py"}, id="a")],
        [text("ok")],
    ])
    await s.start()
    s.submit(UserInput("look"))
    events = await until_turn_finished(s)
    await s.close()
    finished = of(events, ev.ToolCallFinished)[0]
    assert not finished.is_error and "return a - b" in finished.output


async def test_step_limit(repo):
    s, _ = make_session(repo, [[tool_call("list_files", {})] for _ in range(5)], max_steps=2)
    await s.start()
    s.submit(UserInput("loop"))
    events = await until_turn_finished(s)
    await s.close()
    done = of(events, ev.TurnFinished)[0]
    assert done.reason == "max_steps" and done.steps == 2


async def test_provider_error_is_one_clear_line(repo):
    err = ProviderError("invalid api key", backend="openrouter", model="gpt-oss-120b", status=401)
    s, _ = make_session(repo, [[err]])
    await s.start()
    s.submit(UserInput("go"))
    events = await until_turn_finished(s)
    await s.close()
    errors = of(events, ev.Error)
    assert len(errors) == 1 and errors[0].kind == "provider"
    assert errors[0].message == "openrouter / gpt-oss-120b: HTTP 401 invalid api key"
    assert of(events, ev.TurnFinished)[0].reason == "error"


async def test_leaked_call_in_text_is_run(repo):
    leak = 'to=functions.read_file<|channel|>commentary json<|message|>{"path": "calc.py"}<|call|>'
    s, provider = make_session(repo, [[text(leak)], [text("done")]])
    await s.start()
    s.submit(UserInput("go"))
    events = await until_turn_finished(s)
    await s.close()
    assert any("tool call written into" in w.message for w in of(events, ev.Warning))
    assert "return a - b" in of(events, ev.ToolCallFinished)[0].output
    assert provider.calls[1].messages[-2]["tool_calls"][0]["function"]["name"] == "read_file"


async def test_reasoning_only_answer_is_continued_once(repo):
    s, provider = make_session(repo, [[reasoning("hmm")], [reasoning("still")], [text("never")]])
    await s.start()
    s.submit(UserInput("go"))
    events = await until_turn_finished(s)
    await s.close()
    done = of(events, ev.TurnFinished)[0]
    assert done.reason == "done" and done.steps == 2
    assert "no text and no tool call" in provider.calls[1].messages[-1]["content"]


async def test_secret_in_command_output_never_reaches_the_model(repo):
    # The key is in the session env; the command echoes it from a file, not the env (scrubbed).
    (repo / ".env").write_text("OPENROUTER_API_KEY=sk-or-canary-1234567890\n")
    s, provider = make_session(repo, [
        [tool_call("run_command", {"command": "cat .env; echo key=$OPENROUTER_API_KEY"})],
        [text("done")],
    ])
    await s.start()
    s.submit(UserInput("go"))
    events = await until_turn_finished(s)
    await s.close()
    sent = json.dumps(provider.calls[1].messages)
    assert "sk-or-canary-1234567890" not in sent
    assert "[REDACTED]" in sent
    assert "sk-or-canary" not in json.dumps([ev.to_dict(e) for e in events])


async def test_interrupt_kills_the_command_and_keeps_history_valid(repo):
    s, provider = make_session(repo, [
        [tool_call("run_command", {"command": "echo $$ > pid; sleep 60"}, id="long")],
        [text("after interrupt")],
    ], sandbox="off")  # $$ is a host pid only outside the sandbox's pid namespace
    await s.start()
    s.submit(UserInput("go"))

    def on_event(event):
        if isinstance(event, ev.ToolCallStarted):
            asyncio.get_running_loop().call_later(0.5, s.submit, Interrupt())

    events = await until_turn_finished(s, on_event)
    done = of(events, ev.TurnFinished)[0]
    assert done.reason == "interrupted"
    pid = int((repo / "pid").read_text())
    await asyncio.sleep(0.3)
    assert not Path(f"/proc/{pid}").exists() or "Z" in Path(f"/proc/{pid}/stat").read_text().split()[2]
    # Every tool call has a result; the conversation goes on.
    tool_results = [m for m in s.messages if m["role"] == "tool"]
    assert [m["tool_call_id"] for m in tool_results] == ["long"]
    s.submit(UserInput("continue"))
    events = await until_turn_finished(s)
    await s.close()
    assert of(events, ev.TurnFinished)[0].text == "after interrupt"
    assert of(events, ev.TurnStarted)[0].followup is True


async def test_approval_flow_interactive_deny_and_session_approve(repo):
    s, provider = make_session(repo, [
        [tool_call("write_file", {"path": "a.txt", "content": "A"}, id="w1")],
        [tool_call("write_file", {"path": "b.txt", "content": "B"}, id="w2")],
        [tool_call("write_file", {"path": "c.txt", "content": "C"}, id="w3")],
        [text("done")],
    ], approval="suggest", interactive=True)
    await s.start()
    s.submit(UserInput("write files"))
    answers = iter([("w1", "deny", "not that file"), ("w2", "session", ""), ])

    def on_event(event):
        if isinstance(event, ev.ApprovalRequested):
            call_id, decision, reason = next(answers)
            assert event.call_id == call_id
            s.submit(Approve(call_id, decision, reason))

    events = await until_turn_finished(s, on_event)
    await s.close()
    assert [e.call_id for e in of(events, ev.ApprovalRequested)] == ["w1", "w2"]  # w3: approved for session
    assert not (repo / "a.txt").exists()
    assert (repo / "b.txt").read_text() == "B" and (repo / "c.txt").read_text() == "C"
    denied = of(events, ev.ToolCallFinished)[0]
    assert denied.is_error and "not that file" in denied.output


async def test_headless_never_asks_denies_instead(repo):
    s, _ = make_session(repo, [
        [tool_call("write_file", {"path": "a.txt", "content": "A"})], [text("ok")],
    ], approval="suggest")
    await s.start()
    s.submit(UserInput("go"))
    events = await until_turn_finished(s)
    await s.close()
    assert not of(events, ev.ApprovalRequested)
    assert "cannot ask" in of(events, ev.ToolCallFinished)[0].output
    assert not (repo / "a.txt").exists()


async def test_tasks_count_followups_and_end(repo):
    s, _ = make_session(repo, [[text("one")], [text("two")], [text("three")]])
    await s.start()
    s.submit(UserInput("task"))
    e1 = await until_turn_finished(s)
    s.submit(UserInput("follow-up"))
    e2 = await until_turn_finished(s)
    s.submit(EndTask("done"))
    s.submit(UserInput("new task"))
    e3 = await until_turn_finished(s)
    await s.close()
    t1, t2, t3 = (of(e, ev.TaskUpdated)[-1] for e in (e1, e2, e3))
    assert (t1.task_id, t1.followups) == (1, 0)
    assert (t2.task_id, t2.followups) == (1, 1)
    done = [e for e in e3 if isinstance(e, ev.TaskUpdated) and e.status == "done"]
    assert done and done[0].task_id == 1
    assert (t3.task_id, t3.followups, t3.status) == (2, 0, "active")


async def test_switch_model(repo):
    s, _ = make_session(repo, [[text("hi")]])
    await s.start()
    s.submit(SwitchModel("o4-mini"))
    s.submit(SwitchModel("no-such-profile-xyz"))
    s.submit(UserInput("hello"))
    events = await until_turn_finished(s)
    await s.close()
    switched = of(events, ev.ModelSwitched)
    assert switched and switched[0].model == "o4-mini"
    assert of(events, ev.TurnStarted)[0].model == "o4-mini"


async def test_interactive_session_measures_debug_time_with_injected_clock(repo):
    from realcost_agent.agent.ops import CorrectDebugTime

    now = [0.0]
    provider = ScriptedProvider([[text("first"), usage(1000, 100)], [text("second"), usage(2000, 50)]])
    s = Session(Settings(hourly_rate=35.0, prices={"gpt-oss-120b": {"input": 1.0, "output": 10.0}}),
                repo, env={"PATH": os.environ["PATH"], "AGENT_DATA_HOME": str(repo / ".d")},
                provider_factory=lambda m: provider, interactive=True, clock=lambda: now[0])
    await s.start()
    s.submit(UserInput("task"))
    await until_turn_finished(s)
    now[0] += 120  # two minutes reading the answer
    s.submit(UserInput("follow-up"))
    await until_turn_finished(s)
    now[0] += 60
    s.submit(EndTask("done"))
    s.submit(CorrectDebugTime(60))
    await s.close()
    updates = [e async for e in s.events() if isinstance(e, ev.TaskUpdated)]
    last = updates[-1]
    assert last.status == "done" and last.followups == 1
    assert last.debug_ms == 180_000 and last.debug_correction_ms == 60_000
    api = (3000 * 1.0 + 150 * 10.0) / 1e6
    assert last.api_cost == pytest.approx(api)
    assert last.real_cost == pytest.approx(api + 4 / 60 * 35.0)


async def test_background_jobs_die_with_the_session(repo):
    s, _ = make_session(repo, [
        [tool_call("run_command", {"command": "sleep 300 > /dev/null 2>&1 & echo $! > bg.pid"})],
        [text("started")],
    ], sandbox="off")  # in the sandbox, background jobs die with their command (pid namespace)
    await s.start()
    s.submit(UserInput("start a server"))
    await until_turn_finished(s)
    pid = int((repo / "bg.pid").read_text())
    assert Path(f"/proc/{pid}").exists()
    await s.close()

    def alive(p):
        try:
            return Path(f"/proc/{p}/stat").read_text().split()[2] not in ("Z", "X")
        except FileNotFoundError:
            return False

    assert not alive(pid)


async def test_dotenv_secret_in_prompt_and_output_is_redacted_everywhere(repo):
    (repo / ".env").write_text("STRIPE_LIVE=sk_live_abcdef1234567890\n")
    s, provider = make_session(repo, [
        [tool_call("read_file", {"path": ".env"})],
        [text("ok")],
    ])
    await s.start()
    s.submit(UserInput("use key sk_live_abcdef1234567890 to test"))
    events = await until_turn_finished(s)
    await s.close()
    for call in provider.calls:
        assert "sk_live_abcdef1234567890" not in json.dumps(call.messages)
    assert "sk_live_abcdef1234567890" not in json.dumps([ev.to_dict(e) for e in events])
    journal = next((repo / ".data").rglob("*.jsonl")).read_text()
    assert "sk_live_abcdef1234567890" not in journal and "[REDACTED]" in journal


async def test_undo_restores_the_tree_from_before_the_turn(repo):
    from realcost_agent.agent.ops import Undo

    subprocess.run(["git", "init", "-q"], cwd=repo, check=True)
    (repo / "notes.txt").write_text("mine, uncommitted\n")
    s, _ = make_session(repo, [
        [tool_call("write_file", {"path": "new.py", "content": "x = 1\n"}, id="w"),
         tool_call("run_command", {"command": "rm notes.txt && echo hi > calc.py"}, id="r")],
        [text("changed things")],
    ])
    await s.start()
    s.submit(UserInput("change things"))
    events = await until_turn_finished(s)
    # One before the turn's first file change, one before the command (it may write anything).
    assert [e.checkpoint_id for e in of(events, ev.CheckpointCreated)] == [1, 2]
    assert not (repo / "notes.txt").exists() and (repo / "new.py").exists()
    s.submit(Undo())
    restored = None
    while restored is None:
        e = await asyncio.wait_for(s.next_event(), 10)
        restored = e if isinstance(e, ev.CheckpointRestored) else None
    await s.close()
    assert (repo / "notes.txt").read_text() == "mine, uncommitted\n"
    assert (repo / "calc.py").read_text() == "def add(a, b):\n    return a - b\n"
    assert not (repo / "new.py").exists()
    assert "new.py" in restored.deleted and "notes.txt" in restored.created
    assert "undid the changes" in s.messages[-1]["content"]


async def test_destructive_command_is_denied_headless_even_in_full_auto(repo):
    s, _ = make_session(repo, [
        [tool_call("run_command", {"command": "cd . && rm -rf ./*"})],
        [text("ok")],
    ], approval="full-auto")
    await s.start()
    s.submit(UserInput("clean up"))
    events = await until_turn_finished(s)
    await s.close()
    out = of(events, ev.ToolCallFinished)[0]
    assert out.is_error and out.metadata.get("denied")
    assert (repo / "calc.py").exists()


async def test_destructive_command_asks_interactively_even_in_full_auto(repo):
    s, _ = make_session(repo, [
        [tool_call("run_command", {"command": "git reset --hard"}, id="d")],
        [text("ok")],
    ], approval="full-auto", interactive=True)
    await s.start()
    s.submit(UserInput("reset"))

    def on_event(event):
        if isinstance(event, ev.ApprovalRequested):
            assert event.destructive
            s.submit(Approve(event.call_id, "deny", "no"))

    events = await until_turn_finished(s, on_event)
    await s.close()
    assert len(of(events, ev.ApprovalRequested)) == 1


async def test_identical_call_five_times_stops_the_turn(repo):
    s, _ = make_session(repo, [[tool_call("list_files", {"path": "."})] for _ in range(7)])
    await s.start()
    s.submit(UserInput("loop"))
    events = await until_turn_finished(s)
    await s.close()
    done = of(events, ev.TurnFinished)[0]
    assert done.reason == "repeated_call" and done.steps == 5


async def test_finished_command_groups_are_forgotten_background_ones_kept(repo):
    s, _ = make_session(repo, [
        [tool_call("run_command", {"command": "echo done"}, id="a")],
        [tool_call("run_command", {"command": "sleep 300 > /dev/null 2>&1 &"}, id="b")],
        [text("ok")],
    ], sandbox="off")  # unsandboxed: background groups outlive their command
    await s.start()
    s.submit(UserInput("go"))
    await until_turn_finished(s)
    assert len(s.process_groups) == 1  # only the group with the background sleep
    await s.close()
    assert not s.process_groups
