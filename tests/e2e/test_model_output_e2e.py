"""Issue 11's user-visible cases through the real `agent -p` against the fake server: a harmony
call in the text runs (the markup is never the final answer), a quoted one never does, and an
output budget used up by reasoning ends in exit 1 with `[output_budget]`, never "done"."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from fakeserver import FakeTurn

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from agentproc import AGENT, agent_env, query  # noqa: E402

HARMONY = ('analysisWe need calc.py.assistantcommentary to=functions.read_file json'
           '{"path": "calc.py"}')


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "proj"
    root.mkdir()
    (root / "calc.py").write_text("def add(a, b):\n    return a - b\n")
    return root


def agent(root: Path, server, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([AGENT, "-p", "what does add do", "--api-base", server.url, *args],
                          cwd=root, env=agent_env(root), capture_output=True, text=True,
                          timeout=180, stdin=subprocess.DEVNULL)


def test_stripped_harmony_call_in_text_runs_and_is_not_the_answer(repo, fake_server):
    fake_server.add(FakeTurn(content=HARMONY, piece=5), FakeTurn(content="It subtracts."))
    proc = agent(repo, fake_server)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.strip() == "It subtracts."
    tool_msg = fake_server.chat_bodies[1]["messages"][-1]
    assert tool_msg["role"] == "tool" and "return a - b" in tool_msg["content"]


def test_quoted_call_in_a_fence_is_the_answer_and_runs_nothing(repo, fake_server):
    call = json.dumps({"name": "run_command", "arguments": {"command": "touch SENTINEL"}})
    answer = f"You would send:\n```json\n{call}\n```"
    fake_server.add(FakeTurn(content=answer))
    proc = agent(repo, fake_server)
    assert proc.returncode == 0 and "touch SENTINEL" in proc.stdout
    assert not (repo / "SENTINEL").exists() and len(fake_server.chat_bodies) == 1


def test_reasoning_that_uses_the_output_budget_is_never_done(repo, fake_server):
    cut = FakeTurn(reasoning="thinking " * 30, finish_reason="length", completion_tokens=16384)
    fake_server.add(cut, cut)
    proc = agent(repo, fake_server, "--output-format", "json")
    assert proc.returncode == 1, proc.stderr[-2000:]
    out = json.loads(proc.stdout)
    assert out["status"] == "output_budget"
    assert [b["max_tokens"] for b in fake_server.chat_bodies] == [16384, 32000]
    rows = query(repo, "SELECT purpose, output_tokens FROM calls ORDER BY id")
    assert [(r["purpose"], r["output_tokens"]) for r in rows] == [("failed_attempt", 16384)] * 2
    tasks = query(repo, "SELECT status FROM tasks")
    assert [t["status"] for t in tasks] == ["abandoned"]  # not a single-prompt success
