"""End to end: the installed `agent` binary, headless, against the fake server: plan mode
(--plan prints the plan, --plan --yes carries it out with update_plan) and hooks from the user's
config (a Stop hook running the project's check, a PreToolUse hook blocking a command)."""
from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest

from agentproc import make_repo, run_agent
from fakeserver import FakeToolCall, FakeTurn

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "hooks"
BUGGY = "def add(a, b):\n    return a - b\n"
TEST = "from calc import add\n\n\ndef test_add():\n    assert add(2, 3) == 5\n"
PLAN = "Plan:\n- [ ] Read calc.py\n- [ ] Fix add()\n- [ ] Run the tests\n"
FIX = {"path": "calc.py", "old_string": "a - b", "new_string": "a + b"}
READ_ONLY = {"read_file", "list_files", "search", "repo_map"}


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_repo(tmp_path / "proj", {"calc.py": BUGGY, "test_calc.py": TEST})


def user_config(repo: Path, text: str) -> None:
    cfg = repo.parent / "cfg"
    cfg.mkdir(exist_ok=True)
    (cfg / "config.toml").write_text(text)


def install(repo: Path, name: str) -> Path:
    target = repo / ".agent" / "hooks" / name
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(EXAMPLES / name, target)
    return target


def events(stdout: str) -> list[dict]:
    return [json.loads(line) for line in stdout.splitlines() if line.strip()]


def tools_of(body: dict) -> set[str]:
    return {t["function"]["name"] for t in body.get("tools", [])}


def test_plan_prints_the_checklist_and_changes_nothing(repo, fake_server):
    fake_server.add(FakeTurn(tool_calls=[FakeToolCall("read_file", {"path": "calc.py"})]))
    fake_server.add(FakeTurn(content=PLAN))
    proc = run_agent(repo, "-p", "fix add", "--plan", "--model", "gpt-oss-120b",
                     "--api-base", fake_server.url)
    assert proc.returncode == 0, proc.stderr
    assert "- [ ] Fix add()" in proc.stdout
    assert "plan proposed (3 steps)" in proc.stderr
    assert all(tools_of(b) <= READ_ONLY for b in fake_server.chat_bodies)
    assert (repo / "calc.py").read_text() == BUGGY and len(fake_server.chat_bodies) == 2


def test_plan_yes_carries_the_plan_out_and_tracks_it(repo, fake_server):
    fake_server.add(FakeTurn(content=PLAN))
    fake_server.add(FakeTurn(tool_calls=[FakeToolCall("update_plan", {"plan": [
        {"step": "Read calc.py", "status": "completed"}, {"step": "Fix add()", "status": "in_progress"},
        {"step": "Run the tests", "status": "pending"}]})]))
    fake_server.add(FakeTurn(tool_calls=[FakeToolCall("edit", FIX)]))
    fake_server.add(FakeTurn(tool_calls=[FakeToolCall("update_plan", {"plan": [
        {"step": "Read calc.py", "status": "completed"}, {"step": "Fix add()", "status": "completed"},
        {"step": "Run the tests", "status": "completed"}], "explanation": "all done"})]))
    fake_server.add(FakeTurn(content="Fixed add()."))
    proc = run_agent(repo, "-p", "fix add", "--plan", "--yes", "--model", "gpt-oss-120b",
                     "--api-base", fake_server.url, "--output-format", "jsonl")
    assert proc.returncode == 0, proc.stderr
    evs = events(proc.stdout)
    assert [e["steps"] for e in evs if e["type"] == "plan_proposed"] == [["Read calc.py", "Fix add()", "Run the tests"]]
    updates = [e for e in evs if e["type"] == "plan_updated"]
    assert [u["source"] for u in updates] == ["approved", "update_plan", "update_plan"]
    assert [s["status"] for s in updates[-1]["steps"]] == ["completed"] * 3
    assert (repo / "calc.py").read_text() == "def add(a, b):\n    return a + b\n"
    bodies = fake_server.chat_bodies
    assert tools_of(bodies[0]) <= READ_ONLY and {"update_plan", "edit"} <= tools_of(bodies[1])
    # One task: the approval was a follow-up of the plan's prompt.
    assert [e["followup"] for e in evs if e["type"] == "turn_started"] == [False, True]


def test_yes_without_plan_is_a_usage_error(repo):
    proc = run_agent(repo, "-p", "x", "--yes")
    assert proc.returncode != 0 and "--yes only goes with --plan" in proc.stderr


def test_a_stop_hook_runs_the_projects_check_and_sends_the_model_back(repo, fake_server):
    # Where the sandbox shows it (a private /tmp and the agent's config dir are not visible).
    script = install(repo, "stop_check.py")
    user_config(repo, f'[[hooks.Stop]]\ncommand = "{sys.executable} {script} '
                      f'{sys.executable} -m pytest -q -p no:cacheprovider"\ntimeout = 300\n')
    fake_server.add(FakeTurn(content="Done, I think."))  # claims done without fixing
    fake_server.add(FakeTurn(tool_calls=[FakeToolCall("edit", FIX)]))
    fake_server.add(FakeTurn(content="Now it passes."))
    proc = run_agent(repo, "-p", "fix add", "--model", "gpt-oss-120b", "--api-base", fake_server.url,
                     "--output-format", "jsonl")
    assert proc.returncode == 0, proc.stderr
    evs = events(proc.stdout)
    hooks = [e for e in evs if e["type"] == "hook_ran"]
    assert [(h["event"], h["decision"]) for h in hooks] == [("Stop", "block"), ("Stop", "")]
    assert [e["origin"] for e in evs if e["type"] == "turn_started"] == ["user", "hook"]
    follow = fake_server.chat_bodies[1]["messages"][-1]["content"]
    assert "A Stop hook asked you to continue" in follow and "assert" in follow
    assert [e for e in evs if e["type"] == "task_updated"][-1]["followups"] == 1


def test_a_pre_tool_use_hook_blocks_a_command_end_to_end(repo, fake_server):
    script = install(repo, "guard_commands.py")
    user_config(repo, f'[[hooks.PreToolUse]]\nmatcher = "Bash"\ncommand = "{sys.executable} {script}"\n')
    fake_server.add(FakeTurn(tool_calls=[FakeToolCall("run_command", {"command": "curl -s example.com > x"})]))
    fake_server.add(FakeTurn(content="ok, offline then"))
    proc = run_agent(repo, "-p", "fetch it", "--model", "gpt-oss-120b", "--api-base", fake_server.url)
    assert proc.returncode == 0, proc.stderr
    result = [m for m in fake_server.chat_bodies[1]["messages"] if m["role"] == "tool"][0]["content"]
    assert "network tools are not allowed" in result and not (repo / "x").exists()
    assert "hook PreToolUse run_command" in proc.stderr and "→ block" in proc.stderr
