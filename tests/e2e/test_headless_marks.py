"""Headless text and JSON tell the truth (issue 12): a failing command is a ✗, a failed check shows
its output, an error is never an "answer", plurals read right, and on a terminal the answer is
printed once."""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

from agentproc import AGENT, make_repo
from agentproc import run_agent as _run
from fakeserver import FakeToolCall, FakeTurn


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_repo(tmp_path / "proj", {"calc.py": "def add(a, b):\n    return a - b\n"})


def run_agent(root: Path, *args: str, env_extra: dict[str, str] | None = None):
    return _run(root, *args, **(env_extra or {}))


def test_a_command_exiting_1_is_marked_failed(repo: Path, fake_server) -> None:
    fake_server.add(FakeTurn(tool_calls=[FakeToolCall(
        "run_command", {"command": f"{sys.executable} -c 'import sys; print(\"boom\"); sys.exit(1)'"},
        id="c1")]))
    fake_server.add(FakeTurn(tool_calls=[FakeToolCall("run_command", {"command": "true"}, id="c2")]))
    fake_server.add(FakeTurn(content="done"))
    proc = run_agent(repo, "-p", "run it", "--api-base", fake_server.url)
    assert proc.returncode == 0, proc.stderr
    lines = [l.strip() for l in proc.stderr.splitlines() if l.strip().startswith(("✓", "✗"))]
    assert lines[0].startswith("✗ exit 1"), proc.stderr
    assert lines[1].startswith("✓ exit 0"), proc.stderr


def test_a_failed_check_shows_its_output(repo: Path, fake_server) -> None:
    fake_server.add(FakeTurn(content="done"))
    fake_server.add(FakeTurn(content="still done"))
    fake_server.add(FakeTurn(content="really done"))
    check = f"{sys.executable} -c 'print(\"AssertionError: 5 != -1\"); raise SystemExit(1)'"
    proc = run_agent(repo, "-p", "fix it", "--api-base", fake_server.url, "--model", "gpt-oss-20b",
                     "--check", check,
                     env_extra={"AGENT_MAX_AUTO_FOLLOWUPS": "1"})
    assert proc.returncode == 1
    assert "✗ failed (exit code 1)" in proc.stderr
    assert "    AssertionError: 5 != -1" in proc.stderr


def test_progress_lines_show_the_tools_own_summary(repo: Path, fake_server) -> None:
    patch = ("*** Begin Patch\n*** Update File: calc.py\n@@ def add(a, b):\n-    return a - b\n"
             "+    return a + b\n*** End Patch")
    fake_server.add(FakeTurn(tool_calls=[FakeToolCall("apply_patch", {"patch": patch}, id="p1")]))
    fake_server.add(FakeTurn(content="fixed"))
    proc = run_agent(repo, "-p", "fix", "--api-base", fake_server.url)
    assert proc.returncode == 0, proc.stderr
    done = [l.strip() for l in proc.stderr.splitlines() if l.strip().startswith("✓")]
    assert done == ["✓ +1 -1 · calc.py +1 -1"], proc.stderr  # not "Applied patch to 1 file:"


def test_one_step_is_singular(repo: Path, fake_server) -> None:
    fake_server.add(FakeTurn(content="Nothing to do."))
    proc = run_agent(repo, "-p", "hi", "--api-base", fake_server.url)
    assert "1 step ·" in proc.stderr and "1 steps" not in proc.stderr
    assert "$0 (local)" in proc.stderr.splitlines()[-1]  # a loopback server bills nothing


def test_json_error_is_not_an_answer(repo: Path, fake_server) -> None:
    fake_server.add(FakeTurn(status=401, error_message="Invalid API key"))
    proc = run_agent(repo, "-p", "hi", "--api-base", fake_server.url, "--output-format", "json")
    assert proc.returncode == 3
    result = json.loads(proc.stdout)
    assert result["answer"] == ""
    assert "401" in result["error"]
    assert result["status"] == "error"


def test_text_error_prints_no_answer_on_stdout(repo: Path, fake_server) -> None:
    fake_server.add(FakeTurn(status=401, error_message="Invalid API key"))
    proc = run_agent(repo, "-p", "hi", "--api-base", fake_server.url)
    assert proc.returncode == 3 and proc.stdout == ""


def test_json_success_has_no_error(repo: Path, fake_server) -> None:
    fake_server.add(FakeTurn(content="fine"))
    proc = run_agent(repo, "-p", "hi", "--api-base", fake_server.url, "--output-format", "json")
    result = json.loads(proc.stdout)
    assert result["answer"] == "fine" and result["error"] is None


def test_answer_printed_once_and_rendered_on_a_terminal(repo: Path, fake_server) -> None:
    import pexpect

    answer = "The **parser** works; see `calc.py`."
    fake_server.add(FakeTurn(content="Looking first.", tool_calls=[
        FakeToolCall("read_file", {"path": "calc.py"}, id="r1")]))
    fake_server.add(FakeTurn(content=answer))
    env = {k: v for k, v in os.environ.items() if not k.endswith("_API_KEY")}
    env.update({"AGENT_CONFIG_HOME": str(repo.parent / "cfg"),
                "AGENT_DATA_HOME": str(repo.parent / "data"), "NO_COLOR": "1", "TERM": "xterm"})
    child = pexpect.spawn(AGENT, ["-p", "explain", "--api-base", fake_server.url], cwd=str(repo),
                          env=env, encoding="utf-8", timeout=120, dimensions=(24, 100))
    child.expect(pexpect.EOF)
    child.close()
    screen = child.before
    assert child.exitstatus == 0, screen
    assert screen.count("works; see") == 1, screen  # once, not streamed and then printed
    assert "**parser**" not in screen  # rendered, not raw markdown
    assert "Looking first." in screen  # narration before a tool call still shows


def test_unknown_price_is_never_dollar_zero(repo: Path, fake_server) -> None:
    (repo.parent / "cfg").mkdir(exist_ok=True)
    (repo.parent / "cfg" / "config.toml").write_text("api_base_local = false\n")
    fake_server.add(FakeTurn(content="ok"))
    proc = run_agent(repo, "-p", "hi", "--api-base", fake_server.url, "--model", "my-own-model")
    assert proc.returncode == 0, proc.stderr
    final = proc.stderr.strip().splitlines()[-1]
    assert "unknown (1 unpriced call)" in final and "$0.0000" not in final, final


def test_api_text_words_every_case() -> None:
    from realcost_agent.agent.report_render import api_text

    assert api_text(0.0123, 0, all_unpriced=False) == "$0.0123"
    assert api_text(0.0, 2, all_unpriced=True) == "unknown (2 unpriced calls)"
    assert api_text(0.5, 1, all_unpriced=False) == "≥ $0.5000 (+1 unpriced call)"
