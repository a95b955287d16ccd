"""End to end: the installed `agent` binary, headless, against the fake model server, with MCP
servers in the user's config: the reference servers from PyPI and npm, a failing one, and a
kill -9 of the agent that must leave no server process behind."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from agentproc import AGENT, agent_env, make_repo, run_agent
from fakeserver import FakeToolCall, FakeTurn
from mcpfakes import alive, fake_server_script, npm_filesystem_server, pids_with, time_server
from realcost_agent.cli.mcp import _toml


def write_servers(root: Path, servers: dict[str, dict]) -> None:
    cfg = root.parent / "cfg"
    cfg.mkdir(exist_ok=True)
    text = ""
    for name, table in servers.items():
        text += f"[mcp_servers.{name}]\n" + "".join(f"{k} = {_toml(v)}\n" for k, v in table.items()) + "\n"
    (cfg / "config.toml").write_text(text)


def events_of(proc: subprocess.CompletedProcess) -> list[dict]:
    return [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]


@pytest.mark.skipif(time_server() is None, reason="mcp-server-time is not installed (test extra)")
def test_headless_run_uses_reference_mcp_servers(tmp_path: Path, fake_server) -> None:
    entry, why = npm_filesystem_server()
    if entry is None:
        pytest.skip(why)
    root = make_repo(tmp_path / "proj", {"notes.md": "buy oat milk\n"})
    script = fake_server_script(tmp_path)
    write_servers(root, {
        "time": {"command": time_server(), "args": ["--local-timezone", "UTC"],
                 "startup_timeout_sec": 120},
        "fs": {"command": "node", "args": [entry, str(root)], "startup_timeout_sec": 120},
        "broken": {"command": sys.executable, "args": [str(script), "exit"]},
    })
    fake_server.add(FakeTurn(tool_calls=[FakeToolCall(
        "mcp__time__convert_time",
        {"source_timezone": "UTC", "time": "09:30", "target_timezone": "Asia/Kolkata"}, id="c_time")]))
    fake_server.add(FakeTurn(tool_calls=[FakeToolCall(
        "mcp__fs__read_text_file", {"path": str(root / "notes.md")}, id="c_fs")]))
    fake_server.add(FakeTurn(content="09:30 UTC is 15:00 in India; the note says buy oat milk."))
    proc = run_agent(root, "-p", "what time in India, and what is in my notes?", "--api-base",
                     fake_server.url, "--output-format", "jsonl", timeout=300)
    assert proc.returncode == 0, proc.stderr
    events = events_of(proc)
    status = {(e["name"], e["state"]) for e in events if e["type"] == "mcp_server_status"}
    assert {("time", "ready"), ("fs", "ready"), ("broken", "failed")} <= status
    finished = {e["call_id"]: e for e in events if e["type"] == "tool_call_finished"}
    assert not finished["c_time"]["is_error"] and "15:00" in finished["c_time"]["output"]
    assert not finished["c_fs"]["is_error"] and "buy oat milk" in finished["c_fs"]["output"]
    warnings = " ".join(e["message"] for e in events if e["type"] == "warning")
    assert "MCP server 'broken' failed" in warnings
    bodies = fake_server.chat_bodies
    assert "MCP servers: time, fs, broken" in bodies[0]["messages"][0]["content"]
    # Once the servers are up, their tools sit in the tool list beside the built-ins.
    tools = [t["function"]["name"] for t in bodies[-1]["tools"]]
    assert "run_command" in tools and "mcp__time__get_current_time" in tools
    assert "mcp__fs__read_text_file" in tools
    # The model's tool result went back as sent by the server.
    results = [m for m in bodies[-1]["messages"] if m["role"] == "tool"]
    assert "15:00" in results[0]["content"]


def test_kill_9_of_the_agent_leaves_no_mcp_server(tmp_path: Path, fake_server) -> None:
    root = make_repo(tmp_path / "proj", {"a.py": "x = 1\n"})
    script = fake_server_script(tmp_path)
    marker = tmp_path / "pids"
    write_servers(root, {
        "ok": {"command": sys.executable, "args": [str(script), "ok"], "env": {"MCP_MARKER": str(marker)}},
        # Never reads its stdin: only a signal ends it.
        "stuck": {"command": sys.executable, "args": [str(script), "hang"],
                  "env": {"MCP_MARKER": str(marker)}, "startup_timeout_sec": 600},
    })
    fake_server.add(FakeTurn(content="slow answer", delay_first_byte=120))
    proc = subprocess.Popen([AGENT, "-p", "hello", "--api-base", fake_server.url], cwd=root,
                            env=agent_env(root), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            stdin=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            pids = [int(p) for p in marker.read_text().split()] if marker.exists() else []
            if len(pids) == 2:
                break
            time.sleep(0.2)
        assert len(pids) == 2, "both servers started"
        assert all(alive(p) for p in pids)
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    deadline = time.monotonic() + 30
    while any(alive(p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.1)
    survivors = subprocess.run(["ps", "-o", "pid=,args=", "-p", ",".join(map(str, pids))],
                               capture_output=True, text=True).stdout.strip()
    assert not [p for p in pids if alive(p)], f"orphaned MCP servers: {survivors}"
    assert not pids_with(str(script)), "ps still lists a server of this test"


def test_normal_exit_stops_the_servers(tmp_path: Path, fake_server) -> None:
    root = make_repo(tmp_path / "proj", {"a.py": "x = 1\n"})
    script = fake_server_script(tmp_path)
    marker = tmp_path / "pids"
    write_servers(root, {"ok": {"command": sys.executable, "args": [str(script)],
                                "env": {"MCP_MARKER": str(marker)}, "startup_timeout_sec": 120}})
    fake_server.add(FakeTurn(tool_calls=[FakeToolCall("mcp__ok__echo", {"text": "ping"}, id="c1")]))
    fake_server.add(FakeTurn(content="done"))
    proc = run_agent(root, "-p", "echo ping", "--api-base", fake_server.url, "--output-format", "jsonl")
    assert proc.returncode == 0, proc.stderr
    finished = [e for e in events_of(proc) if e["type"] == "tool_call_finished"]
    assert finished[0]["output"] == "ping" and not finished[0]["is_error"]
    pids = [int(p) for p in marker.read_text().split()]
    assert pids and not [p for p in pids if alive(p)]
    assert not pids_with(str(script)), "ps still lists a server of this test"
