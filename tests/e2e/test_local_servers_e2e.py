"""The real binary against fake local servers (issue 18), headless: the seed's failures with
llama.cpp and llama-cpp-python, end to end. Shapes and sources: tests/fakehosts.py."""
from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from agentproc import make_repo, query, run_agent
from fakeserver import FakeOpenAIServer, FakeToolCall, FakeTurn

GGUF = "/models/gemma-3-270m-q4_k_m.gguf"


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_repo(tmp_path / "proj", {"calc.py": "def add(a, b):\n    return a - b\n"})


def events(stdout: str) -> list[dict]:
    return [json.loads(line) for line in stdout.splitlines() if line.startswith("{")]


def test_llama_cpp_python_without_model_streams_tools_once_then_unstreamed_and_counts_usage(repo):
    """No --model: the one served model is used under its file-path name; the streamed tool
    request is refused (200 then an error) and asked again unstreamed, said once; the stream
    reports no usage, so the server's tokenizer counts it: the ledger is never 0 in / 0 out."""
    with FakeOpenAIServer(host="llama-cpp-python", models=[GGUF]) as server:
        server.add(FakeTurn(tool_calls=[FakeToolCall("read_file", {"path": "calc.py"})]),
                   FakeTurn(content="add() subtracts."))
        proc = run_agent(repo, "-p", "why does add fail?", "--api-base", server.url,
                         "--output-format", "jsonl")
        bodies = server.chat_bodies
    assert proc.returncode == 0, proc.stderr
    assert {b["model"] for b in bodies} == {GGUF}
    assert [bool(b.get("stream")) for b in bodies] == [True, False, False]
    warnings = [e["message"] for e in events(proc.stdout) if e["type"] == "warning"]
    assert sum("without streaming" in w for w in warnings) == 1, warnings
    calls = query(repo, "SELECT * FROM calls ORDER BY rowid")
    assert len(calls) == 2 and all(c["input_tokens"] > 0 and c["output_tokens"] > 0 for c in calls)
    assert all(c["cost"] == 0 for c in calls)
    started = next(e for e in events(proc.stdout) if e["type"] == "session_started")
    assert GGUF in json.dumps(started)


def test_a_loopback_server_is_local_and_free_without_a_backend(repo):
    """`--api-base http://127.0.0.1:...` alone: $0, "local", no unknown-price warning."""
    with FakeOpenAIServer(host="llamacpp", models=[GGUF]) as server:
        server.add(FakeTurn(content="hi", prompt_tokens=900, completion_tokens=12))
        proc = run_agent(repo, "-p", "say hi", "--api-base", server.url, "--model", "gemma-3-270m-q4_k_m")
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout + proc.stderr
    assert "(local)" in out and "unknown" not in out.lower(), out
    (call,) = query(repo, "SELECT * FROM calls")
    assert (call["input_tokens"], call["output_tokens"], call["cost"]) == (900, 12, 0)


@pytest.mark.parametrize("with_calls", [True, False])
def test_a_length_cut_answer_is_never_success_and_its_calls_never_run(repo, with_calls):
    """The seed: a truncated answer was "done", exit 0, single-prompt success, its calls run."""
    cut = dict(finish_reason="length", completion_tokens=8192)
    turn = (FakeTurn(tool_calls=[FakeToolCall("write_file", {"path": "calc.py", "content": "x"})], **cut)
            if with_calls else FakeTurn(content="The answer is", **cut))
    with FakeOpenAIServer(host="llamacpp", models=[GGUF]) as server:
        server.add(turn, turn)  # cut again with more room
        proc = run_agent(repo, "-p", "fix add", "--api-base", server.url, "--output-format", "json")
        bodies = server.chat_bodies
    assert proc.returncode != 0
    result = json.loads(proc.stdout)
    assert result["status"] == "output_budget", result
    assert (repo / "calc.py").read_text().startswith("def add")  # the cut call never ran
    assert bodies[1]["max_tokens"] > bodies[0]["max_tokens"]  # asked once more with room
    (task,) = query(repo, "SELECT * FROM tasks")
    assert task["status"] != "done"  # so never a single-prompt success
    rows = query(repo, "SELECT purpose FROM calls")
    assert [r["purpose"] for r in rows] == ["failed_attempt", "failed_attempt"]


def test_a_server_that_streams_forever_is_cut_at_max_time(repo):
    """One call streamed for over 15 minutes and --max-time 60 did not stop it. Here a server
    that never finishes (text every 50 ms, for up to 120 s) is cut at --max-time 4; the cut
    call is in the ledger with what was received, estimated."""
    with FakeOpenAIServer(host="llamacpp", models=[GGUF]) as server:
        server.add(FakeTurn(content="more ", endless=True, chunk_delay=0.05, hang_limit=120))
        t0 = time.monotonic()
        proc = run_agent(repo, "-p", "go", "--api-base", server.url, "--max-time", "4",
                         "--output-format", "json", timeout=100)
        took = time.monotonic() - t0
    result = json.loads(proc.stdout)
    assert result["status"] == "max_time", result
    assert result["usage"]["estimated_requests"] == 1 and result["cost_usd"] == 0
    assert took < 90  # bounded by --max-time, far below the server's 120 s
    (call,) = query(repo, "SELECT * FROM calls")
    assert call["usage_estimated"] == 1 and call["output_tokens"] > 0 and call["input_tokens"] > 0
    assert call["cost"] == 0


def test_the_servers_overflow_error_is_recognised(repo):
    """llama-server's "exceeds the available context size" was not recognised (exit 3, no
    compaction). A prompt the agent's estimate lets through but the server (3 chars a token)
    refuses: the error is read as an overflow, compaction is tried, and the turn stops with
    reason context_overflow (nothing older to fold), not as a provider error."""
    with FakeOpenAIServer(host="llamacpp", models=[GGUF]) as server:
        server.add(FakeTurn(content="never sent"))
        proc = run_agent(repo, "-p", "summarize: " + "word " * 10_000, "--api-base", server.url,
                         "--output-format", "json")
        bodies = server.chat_bodies
    result = json.loads(proc.stdout)
    assert result["status"] == "context_overflow", result
    assert len(bodies) == 1  # the refused request; no blind resend of the same prompt
