"""kill -9 at random points of a scripted headless task, then `agent --resume`: nothing finished
is lost, no file is corrupted, and the ledger counts every call exactly once.

KILL_RUNS sets how many kills (default 20 in `make test`; `make test-full` runs 100); each kill is
its own test case, so a loaded machine slows the suite down but never fails it on a time budget.
The figures are printed at the end of the run.
"""
from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from realcost_agent.agent.journal import load, sessions_dir
from fakeserver import FakeOpenAIServer, FakeToolCall, FakeTurn

RUNS = int(os.environ.get("KILL_RUNS", "20"))
EARLY_SHARE = 0.15  # kills aimed at start-up; the rest land once the session has started
AGENT = str(Path(sys.executable).parent / "agent")
BUGGY = "def add(a, b):\n    return a - b\n"
FIXED = "def add(a, b):\n    return a + b\n"
PATCH = ("*** Begin Patch\n*** Update File: calc.py\n@@ def add(a, b):\n-    return a - b\n"
         "+    return a + b\n*** End Patch")


def script(server: FakeOpenAIServer) -> None:
    slow = 0.02  # spreads each response over ~0.1-0.3 s so kills land mid-stream too
    server.add(FakeTurn(reasoning="read first " * 4, chunk_delay=slow,
                        tool_calls=[FakeToolCall("read_file", {"path": "calc.py"}, id="k_read")],
                        prompt_tokens=700, completion_tokens=20))
    server.add(FakeTurn(reasoning="patch it " * 4, chunk_delay=slow,
                        tool_calls=[FakeToolCall("apply_patch", {"patch": PATCH}, id="k_patch")],
                        prompt_tokens=800, completion_tokens=40))
    server.add(FakeTurn(chunk_delay=slow, tool_calls=[
        FakeToolCall("run_command", {"command": "sleep 0.2; cat calc.py"}, id="k_run")],
        prompt_tokens=900, completion_tokens=15))
    server.add(FakeTurn(content="Fixed add(). " * 5, chunk_delay=slow, prompt_tokens=1000,
                        completion_tokens=10))
    for _ in range(6):  # whatever the resumed run needs to finish
        server.add(FakeTurn(content="Resumed and done.", prompt_tokens=1100, completion_tokens=5))


def env_for(base: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.endswith("_API_KEY")}
    env.update(AGENT_CONFIG_HOME=str(base / "cfg"), AGENT_DATA_HOME=str(base / "data"),
               LITELLM_LOCAL_MODEL_COST_MAP="True")
    return env


def ledger_calls(base: Path) -> list[tuple]:
    db = base / "data" / "ledger.sqlite3"
    if not db.exists():
        return []
    with sqlite3.connect(db) as conn:
        return conn.execute("SELECT session_id, turn_id, input_tokens, output_tokens FROM calls").fetchall()


def journal_usage(base: Path, root: Path) -> list[dict]:
    out = []
    for path in sessions_dir(root, {"AGENT_DATA_HOME": str(base / "data")}).glob("*.jsonl"):
        out += [e for e in load(path).events if e.get("type") == "usage_updated"]
    return out


def one_run(base: Path, seed: int) -> dict:
    rng = random.Random(seed)
    root = base / "repo"
    root.mkdir()
    (root / "calc.py").write_text(BUGGY)
    subprocess.run(["git", "init", "-q"], cwd=root, check=True)
    env = env_for(base)
    problems: list[str] = []
    with FakeOpenAIServer() as server:
        script(server)
        proc = subprocess.Popen(
            [AGENT, "-p", "fix add", "--api-base", server.url, "--output-format", "jsonl"],
            cwd=root, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        lines: list[bytes] = []
        started = threading.Event()

        def read() -> None:  # the JSONL stream, line by line, until the kill closes it
            for line in proc.stdout:  # type: ignore[union-attr]
                lines.append(line)
                if b'"session_started"' in line:
                    started.set()

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        early = rng.random() < EARLY_SHARE
        if early:  # a kill during start-up, before the session exists
            delay = rng.uniform(0.0, 0.3)
        else:
            # Timed from the session's start, not the process's: on a loaded machine start-up
            # alone can outlast any fixed delay, and every kill would land before the session.
            started.wait(timeout=120)
            delay = rng.uniform(0.0, 2.0)  # from the session's start to past the end of the task
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        reader.join(timeout=30)
        seen = [json.loads(line) for line in b"".join(lines).decode().splitlines() if line.endswith("}")]
        calc = (root / "calc.py").read_text()
        if calc not in (BUGGY, FIXED):
            problems.append("calc.py corrupted by the kill")
        finished_before = {e["call_id"] for e in seen if e["type"] == "tool_call_finished"}
        sid = next((e["session_id"] for e in seen if e["type"] == "session_started"), None)
        if sid is None:
            if not early:
                problems.append("the session had started, but its session_started line was lost")
            return {"seed": seed, "delay": delay, "problems": problems, "resumed": False}
        journal_before = load(sessions_dir(root, env) / f"{sid}.jsonl")
        journaled_results = {m.get("tool_call_id") for m in journal_before.messages if m["role"] == "tool"}
        if finished_before - journaled_results:
            problems.append(f"tool results shown but not journaled: {finished_before - journaled_results}")
        resumed = subprocess.run(
            [AGENT, "-p", "continue", "--resume", "--api-base", server.url, "--output-format", "json"],
            cwd=root, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60,
        )
        if resumed.returncode != 0:
            problems.append(f"resume exited {resumed.returncode}: {resumed.stderr[-300:]}")
        elif json.loads(resumed.stdout)["session_id"] != sid:
            problems.append("resume started a different session")
        journal_after = load(sessions_dir(root, env) / f"{sid}.jsonl")
        before = journal_before.messages
        if journal_after.messages[: len(before)] != before:
            problems.append("messages journaled before the kill are missing after resume")
        if "Traceback" in resumed.stderr:
            problems.append("traceback on resume")
        delivered = [u for u in server.delivered_usage if u]
    calls = ledger_calls(base)
    usage_events = journal_usage(base, root)
    if len(calls) != len(set(calls)) or len(calls) != len(usage_events):
        problems.append(f"ledger has {len(calls)} calls for {len(usage_events)} journaled usage events")
    if sum(c[2] for c in calls) > sum(u["prompt_tokens"] for u in delivered):
        problems.append("ledger counts more input tokens than the server delivered")
    if (root / "calc.py").read_text() not in (BUGGY, FIXED):
        problems.append("calc.py corrupted after resume")
    return {"seed": seed, "delay": delay, "problems": problems, "resumed": True}


@pytest.mark.parametrize("seed", range(RUNS))
def test_kill_9_then_resume(tmp_path: Path, kill_figures: list, seed: int) -> None:
    base = tmp_path / f"k{seed}"
    base.mkdir()
    result = one_run(base, seed)
    kill_figures.append(result)
    assert not result["problems"], json.dumps(result, indent=1)
