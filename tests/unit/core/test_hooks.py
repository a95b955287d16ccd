"""Lifecycle hooks (agent/hooks.py): config parsing, the JSON/exit-code protocol, and each event
in a real in-process Session with a scripted model; hooks are real programs run by bash."""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

from realcost_agent.agent import events as ev
from realcost_agent.agent.config import ConfigError, Settings, load_settings
from realcost_agent.agent.hooks import MAX_STOP_FOLLOWUPS, HookSpec, RawRun, interpret, parse_hooks
from realcost_agent.agent.session import Session
from realcost_agent.providers.scripted import ScriptedProvider, text, tool_call
from turnrun import run_turn

PY = sys.executable


def env_for(tmp_path: Path) -> dict[str, str]:
    return {"PATH": os.environ["PATH"], "AGENT_DATA_HOME": str(tmp_path / "data"),
            "AGENT_CONFIG_HOME": str(tmp_path / "cfg"), "HOME": str(tmp_path / "home"),
            "OPENROUTER_API_KEY": "sk-or-v1-hooktestkey0123456789abcdef"}


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    (root / "a.txt").write_text("hello\n")
    return root


def script(root: Path, name: str, body: str) -> str:
    """A Python hook script in the project; the command that runs it."""
    path = root / ".hooks" / name
    path.parent.mkdir(exist_ok=True)
    path.write_text("import json, sys, os\n" + body)
    return f"{PY} .hooks/{name}"


def session(repo: Path, tmp_path: Path, hooks: dict, turns: list, **kw) -> tuple[Session, ScriptedProvider]:
    provider = ScriptedProvider(turns)
    settings = Settings(model="gpt-oss-120b", sandbox="off", checkpoints=False, ledger=False,
                        hooks=parse_hooks(hooks, "test"), **kw)
    return Session(settings, repo, env=env_for(tmp_path), provider_factory=lambda m: provider), provider


async def until_idle(s: Session, prompt: str = "go", timeout: float = 60) -> list[ev.Event]:
    """Events up to the last TurnFinished that does not continue by itself."""
    return await run_turn(s, prompt, timeout, until_idle=True)


def of(events: list, cls: type) -> list:
    return [e for e in events if isinstance(e, cls)]


# -- config -------------------------------------------------------------------------------------
def test_parse_flat_and_claude_nested_forms():
    parsed = parse_hooks({
        "PreToolUse": [{"matcher": "Bash", "command": "a", "timeout": 5}],
        "Stop": [{"hooks": [{"type": "command", "command": "b"}, {"command": "c"}]}],
    }, "cfg")
    assert parsed["PreToolUse"] == [{"matcher": "Bash", "command": "a", "timeout": 5.0, "source": "cfg"}]
    assert [h["command"] for h in parsed["Stop"]] == ["b", "c"]


@pytest.mark.parametrize("bad,match", [
    ({"PreToolCall": [{"command": "x"}]}, "unknown hook event"),
    ({"PreToolUse": [{"matcher": "(", "command": "x"}]}, "not a valid regex"),
    ({"PreToolUse": [{"matcher": "x"}]}, "`command` must be"),
    ({"Stop": [{"command": "x", "timeout": 0}]}, "timeout must be a positive"),
    ({"Stop": "x"}, "must be a list"),
])
def test_bad_hook_config_is_a_clear_error(bad, match):
    from realcost_agent.agent.config import _coerce

    with pytest.raises(ConfigError, match=match):
        _coerce("hooks", bad, "/home/u/.config/agent/config.toml")


def test_a_bad_hook_in_the_user_config_names_the_file(tmp_path):
    cfg = tmp_path / "cfg"
    cfg.mkdir()
    (cfg / "config.toml").write_text('[[hooks.PreToolUse]]\nmatcher = "("\ncommand = "x"\n')
    with pytest.raises(ConfigError, match=r"config.toml: hooks.PreToolUse\[0\]: matcher"):
        load_settings(tmp_path, env={"AGENT_CONFIG_HOME": str(cfg)})


def test_user_config_hooks_load_and_add_up(tmp_path):
    cfg = tmp_path / "cfg"
    cfg.mkdir()
    (cfg / "config.toml").write_text(
        '[[hooks.PreToolUse]]\nmatcher = "run_command"\ncommand = "echo one"\n'
        '[[hooks.Stop]]\ncommand = "make check"\ntimeout = 300\n')
    s = load_settings(tmp_path, env={"AGENT_CONFIG_HOME": str(cfg)})
    assert s.hooks["PreToolUse"][0]["command"] == "echo one"
    assert s.hooks["Stop"][0]["timeout"] == 300.0


def test_matchers_take_our_names_and_claude_codes():
    assert HookSpec("PreToolUse", "Bash", "x").matches("run_command")
    assert HookSpec("PreToolUse", "Edit|Write", "x").matches("write_file")
    assert HookSpec("PreToolUse", "read_.*", "x").matches("read_file")
    assert not HookSpec("PreToolUse", "read", "x").matches("read_file")  # a full match
    assert HookSpec("PostToolUse", "*", "x").matches("anything")
    assert HookSpec("Stop", "whatever", "x").matches(None)


# -- the protocol -------------------------------------------------------------------------------
def test_exit_2_blocks_with_stderr_as_the_reason():
    v, label, problem = interpret("PreToolUse", RawRun(2, "", "no rm in here\n"))
    assert (v.permission, v.blocked, v.reason, label, problem) == ("deny", True, "no rm in here", "block", "")


@pytest.mark.parametrize("out,perm", [
    ({"hookSpecificOutput": {"hookEventName": "PreToolUse", "permissionDecision": "deny",
                             "permissionDecisionReason": "nope"}}, "deny"),
    ({"hookSpecificOutput": {"permissionDecision": "ask", "permissionDecisionReason": "nope"}}, "ask"),
    ({"hookSpecificOutput": {"permissionDecision": "allow", "permissionDecisionReason": "nope"}}, "allow"),
    ({"decision": "block", "reason": "nope"}, "deny"),  # the older form
])
def test_json_permission_decisions(out, perm):
    v, label, _ = interpret("PreToolUse", RawRun(0, json.dumps(out), ""))
    assert v.permission == perm == label and v.reason == "nope"


@pytest.mark.parametrize("raw,needle", [
    (RawRun(1, "", "Traceback: boom"), "exit code 1"),
    (RawRun(0, "{not json", ""), "invalid JSON"),
    (RawRun(None, "", "", timed_out=True), "timed out"),
    (RawRun(None, "", "", error="could not start: no such file"), "could not start"),
])
def test_failures_are_warnings_and_decide_nothing(raw, needle):
    v, label, problem = interpret("PreToolUse", raw)
    assert needle in problem and v.permission == "" and not v.blocked and label in ("error", "timeout")


def test_plain_stdout_is_context_only_where_claude_code_takes_it():
    assert interpret("UserPromptSubmit", RawRun(0, "today is Tuesday", ""))[0].extra == "today is Tuesday"
    assert interpret("PostToolUse", RawRun(0, "today is Tuesday", ""))[0].extra == ""


# -- in a session -------------------------------------------------------------------------------
async def test_pre_tool_use_deny_reaches_the_model_and_the_command_never_runs(repo, tmp_path):
    hook = script(repo, "guard.py",
                  "d = json.load(sys.stdin)\n"
                  "open('seen.json', 'w').write(json.dumps(d))\n"
                  "print('run_command is off today', file=sys.stderr); sys.exit(2)\n")
    s, provider = session(repo, tmp_path, {"PreToolUse": [{"matcher": "Bash", "command": hook}]},
                          [[tool_call("run_command", {"command": "touch ran.txt"}, id="c1")],
                           [text("ok")]])
    events = await until_idle(s)
    assert not (repo / "ran.txt").exists()
    result = [m for m in provider.calls[1].messages if m["role"] == "tool"][0]["content"]
    assert "run_command is off today" in result and "PreToolUse hook" in result
    seen = json.loads((repo / "seen.json").read_text())
    assert seen["hook_event_name"] == "PreToolUse" and seen["tool_name"] == "run_command"
    assert seen["tool_input"] == {"command": "touch ran.txt"} and seen["tool_use_id"] == "c1"
    assert seen["session_id"] == s.id and seen["cwd"] == str(repo.resolve())
    assert seen["transcript_path"].endswith(f"{s.id}.jsonl") and seen["permission_mode"] == "full-auto"
    ran = of(events, ev.HookRan)
    assert [(h.event, h.exit_code, h.decision, h.call_id) for h in ran] == [("PreToolUse", 2, "block", "c1")]


async def test_pre_tool_use_allow_skips_the_question_in_suggest_mode(repo, tmp_path):
    hook = script(repo, "allow.py", "print(json.dumps({'hookSpecificOutput': "
                  "{'permissionDecision': 'allow', 'permissionDecisionReason': 'safe'}}))\n")
    s, _ = session(repo, tmp_path, {"PreToolUse": [{"matcher": "write_file", "command": hook}]},
                   [[tool_call("write_file", {"path": "b.txt", "content": "x\n"})], [text("ok")]],
                   approval="suggest")
    s.interactive = True  # would ask; the hook answered for the user
    events = await until_idle(s)
    assert not of(events, ev.ApprovalRequested) and (repo / "b.txt").read_text() == "x\n"


async def test_post_tool_use_feedback_goes_to_the_model(repo, tmp_path):
    hook = script(repo, "post.py", "d = json.load(sys.stdin)\n"
                  "assert d['tool_response']['output'].startswith('hello') or True\n"
                  "print(json.dumps({'decision': 'block', 'reason': 'lint: a.txt lacks a title'}))\n")
    s, provider = session(repo, tmp_path, {"PostToolUse": [{"matcher": "read_file", "command": hook}]},
                          [[tool_call("read_file", {"path": "a.txt"})], [text("ok")]])
    await until_idle(s)
    result = [m for m in provider.calls[1].messages if m["role"] == "tool"][0]["content"]
    assert "hello" in result and "[PostToolUse hook feedback: lint: a.txt lacks a title]" in result


@pytest.mark.parametrize("body,needle", [
    ("import time; time.sleep(60)\n", "timed out"),
    ("raise SystemExit('crash')\n", "exit code 1"),
    ("sys.stdout.write('{garbage' + 'x' * 200000)\n", "invalid JSON"),
])
async def test_a_broken_hook_is_a_warning_and_the_session_goes_on(repo, tmp_path, body, needle):
    hook = script(repo, "bad.py", body)
    s, _ = session(repo, tmp_path, {"PreToolUse": [{"command": hook, "timeout": 1}]},
                   [[tool_call("read_file", {"path": "a.txt"})], [text("done here")]])
    events = await until_idle(s)
    assert any(needle in w.message for w in of(events, ev.Warning))
    fin = of(events, ev.TurnFinished)[-1]
    assert fin.reason == "done" and fin.text == "done here"
    assert of(events, ev.ToolCallFinished)[0].is_error is False  # the call ran as usual


async def test_user_prompt_submit_can_block_the_prompt(repo, tmp_path):
    hook = script(repo, "gate.py", "d = json.load(sys.stdin)\n"
                  "print(json.dumps({'decision': 'block', 'reason': 'no deploys on Friday'}) "
                  "if 'deploy' in d['prompt'] else '')\n")
    s, provider = session(repo, tmp_path, {"UserPromptSubmit": [{"command": hook}]}, [])
    events = await until_idle(s, "deploy it")
    fin = of(events, ev.TurnFinished)[-1]
    assert fin.reason == "hook_blocked" and "no deploys on Friday" in fin.text
    assert provider.calls == []  # the model never saw it


async def test_user_prompt_submit_context_reaches_the_model(repo, tmp_path):
    hook = script(repo, "ctx.py", "print('The staging DB is down.')\n")
    s, provider = session(repo, tmp_path, {"UserPromptSubmit": [{"command": hook}]}, [[text("ok")]],
                          repo_map_tokens=0)
    await until_idle(s, "what next")
    assert "The staging DB is down." in provider.calls[0].messages[-1]["content"]


async def test_session_start_context_reaches_the_model(repo, tmp_path):
    hook = script(repo, "start.py", "d = json.load(sys.stdin); print('source=' + d['source'])\n")
    s, provider = session(repo, tmp_path, {"SessionStart": [{"command": hook}]}, [[text("ok")]])
    await until_idle(s)
    assert any("source=startup" in str(m["content"]) for m in provider.calls[0].messages)


async def test_stop_hook_continues_once_as_a_counted_followup(repo, tmp_path):
    # Claude Code's pattern: block the stop unless stop_hook_active (the second time round).
    hook = script(repo, "stop.py", "d = json.load(sys.stdin)\n"
                  "if not d['stop_hook_active']:\n"
                  "    print(json.dumps({'decision': 'block', 'reason': 'tests fail: fix test_x'}))\n")
    s, provider = session(repo, tmp_path, {"Stop": [{"command": hook}]},
                          [[text("done")], [text("fixed")]])
    events = await until_idle(s)
    starts = of(events, ev.TurnStarted)
    assert [t.origin for t in starts] == ["user", "hook"] and starts[1].followup
    assert "tests fail: fix test_x" in provider.calls[1].messages[-1]["content"]
    assert of(events, ev.TaskUpdated)[-1].followups == 1
    assert [h.decision for h in of(events, ev.HookRan)] == ["block", ""]


async def test_a_stop_hook_that_always_blocks_is_capped(repo, tmp_path):
    hook = script(repo, "nag.py", "print(json.dumps({'decision': 'block', 'reason': 'again'}))\n")
    turns = [[text(f"done {i}")] for i in range(MAX_STOP_FOLLOWUPS + 3)]
    s, provider = session(repo, tmp_path, {"Stop": [{"command": hook}]}, turns)
    events = await until_idle(s)
    assert len(provider.calls) == MAX_STOP_FOLLOWUPS + 1
    assert any("in a row" in w.message for w in of(events, ev.Warning))


async def test_continue_false_from_post_tool_use_stops_the_turn(repo, tmp_path):
    hook = script(repo, "halt.py", "print(json.dumps({'continue': False, 'stopReason': 'budget hit'}))\n")
    s, provider = session(repo, tmp_path, {"PostToolUse": [{"command": hook}]},
                          [[tool_call("read_file", {"path": "a.txt"})], [text("never")]])
    events = await until_idle(s)
    fin = of(events, ev.TurnFinished)[-1]
    assert fin.reason == "hook_stopped" and "budget hit" in fin.text and len(provider.calls) == 1
    # The call's result is recorded once (history stays valid).
    assert len([m for m in s.messages if m["role"] == "tool"]) == 1
