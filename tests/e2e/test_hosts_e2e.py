"""The real binary against fake servers answering as real hosts (tests/fakehosts.py): the
issue-11 failures, end to end, on both client paths."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from agentproc import make_repo, query, run_agent
from fakeserver import FakeOpenAIServer, FakeToolCall, FakeTurn

PATHS = ["direct", "litellm"]


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = make_repo(tmp_path / "proj", {"calc.py": "def add(a, b):\n    return a - b\n"})
    (root / ".agent").mkdir()
    return root


def events(stdout: str) -> list[dict]:
    return [json.loads(line) for line in stdout.splitlines() if line.startswith("{")]


@pytest.mark.parametrize("path", PATHS)
def test_ollama_reasoning_only_step_then_nudge_does_not_lose_the_task(repo: Path, path: str):
    """gpt-oss ends a step with reasoning only; the agent nudges and asks again. Ollama's /v1
    refuses the stored `content: null` with 400 "invalid message content type: <nil>": the
    task used to die there (exit 3)."""
    (repo.parent / "cfg").mkdir(exist_ok=True)  # the user's config: a project's needs trust
    (repo.parent / "cfg" / "config.toml").write_text(f'api_host = "ollama"\nprovider = "{path}"\n')
    with FakeOpenAIServer(host="ollama", models=["gpt-oss:20b"]) as server:
        server.add(FakeTurn(reasoning="I think the bug is in add."),  # no text, no call
                   FakeTurn(reasoning="Read it.", tool_calls=[FakeToolCall("read_file", {"path": "calc.py"})]),
                   FakeTurn(content="add() subtracts; it should add."))
        proc = run_agent(repo, "-p", "why does add fail?", "--model", "gpt-oss:20b",
                         "--api-base", server.url, "--output-format", "jsonl")
        bodies = server.chat_bodies
        echoed = server.echoed
    assert proc.returncode == 0, proc.stderr
    assert len(bodies) == 3
    stored = [m for m in bodies[1]["messages"] if m["role"] == "assistant"]
    assert stored and all(m["content"] == "" for m in stored)  # never null to Ollama
    assert echoed[2] == ["Read it."]  # the tool-call reasoning went back where Ollama reads it
    finished = [e for e in events(proc.stdout) if e["type"] == "turn_finished"]
    assert finished and finished[-1]["reason"] == "done"


@pytest.mark.parametrize("path", PATHS)
def test_groq_usage_in_x_groq_reaches_the_ledger(repo: Path, path: str):
    """Groq reports usage only under x_groq: it used to be read as 0 tokens and $0."""
    (repo / ".agent" / "config.toml").write_text(f'provider = "{path}"\n')
    with FakeOpenAIServer(host="groq", models=["openai/gpt-oss-20b"]) as server:
        server.add(FakeTurn(content="hello", prompt_tokens=1500, completion_tokens=120))
        proc = run_agent(repo, "-p", "say hello", "--model", "gpt-oss-20b", "--backend", "groq",
                         "--api-base", server.url, "--output-format", "json",
                         GROQ_API_KEY="gsk_test_0123456789abcdef")
    assert proc.returncode == 0, proc.stderr
    (call,) = query(repo, "SELECT * FROM calls")
    assert (call["input_tokens"], call["output_tokens"]) == (1500, 120)
    assert call["usage_estimated"] == 0
    assert call["cost"] is not None and call["cost"] > 0  # priced at Groq's list price


@pytest.mark.parametrize("path", PATHS)
def test_openrouter_billed_cost_is_kept_beside_the_computed_one(repo: Path, path: str):
    (repo / ".agent" / "config.toml").write_text(f'provider = "{path}"\n')
    with FakeOpenAIServer(host="openrouter", models=["openai/gpt-oss-120b"]) as server:
        server.add(FakeTurn(content="hi", prompt_tokens=2000, completion_tokens=300, cost=0.00123))
        proc = run_agent(repo, "-p", "say hi", "--model", "gpt-oss-120b", "--backend", "openrouter",
                         "--api-base", server.url, OPENROUTER_API_KEY="sk-or-test-0123456789abcdef")
    assert proc.returncode == 0, proc.stderr
    (call,) = query(repo, "SELECT * FROM calls")
    assert call["provider_cost"] == pytest.approx(0.00123)
    assert call["cost"] is not None


def test_unknown_api_host_is_a_clear_usage_error(repo: Path):
    proc = run_agent(repo, "-p", "x", "--model", "gpt-oss-20b", "--api-base",
                     "http://127.0.0.1:9/v1", "--api-host", "vlm")
    assert proc.returncode == 2
    assert "unknown api_host 'vlm'" in proc.stderr and "vllm" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_doctor_cli_names_the_vllm_fix(repo: Path):
    with FakeOpenAIServer(host="vllm", misconfig="no_auto_tool_choice",
                          models=["openai/gpt-oss-20b"]) as server:
        proc = run_agent(repo, "doctor", "--api-base", server.url, "--api-host", "vllm",
                         "--model", "openai/gpt-oss-20b")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "host profile: vLLM (from api_host)" in proc.stdout
    assert "--enable-auto-tool-choice --tool-call-parser openai" in proc.stdout
