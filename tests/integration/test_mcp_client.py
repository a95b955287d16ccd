"""The MCP client (agent/mcp_client.py) against real server processes: the reference servers
from PyPI (mcp-server-time, mcp-server-git) and npm (@modelcontextprotocol/server-filesystem),
a tiny server of our own over stdio and streamable HTTP, and servers that fail at once, hang,
or die mid-call. No model here: tests/e2e/test_mcp_e2e.py drives the agent."""
from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from mcpfakes import (alive, fake_server_script, fake_table, free_port, git_server,
                      npm_filesystem_server, time_server)
from realcost_agent.agent import events as ev
from realcost_agent.agent.mcp_client import McpManager
from realcost_agent.agent.mcp_config import parse_server
from realcost_agent.tools.base import ToolContext
from realcost_agent.tools.registry import default_registry

START = 120  # generous: a loaded CI machine imports the SDK slowly


class Harness:
    def __init__(self, root: Path, env: dict[str, str] | None = None) -> None:
        self.root = root
        self.events: list[ev.Event] = []
        self.registry = default_registry()
        self.manager = McpManager(root=root, env=env if env is not None else dict(os.environ),
                                  registry=self.registry, emit=self.events.append)

    async def start(self, **tables: dict) -> None:
        configs = [parse_server(name, {"startup_timeout_sec": START, **t}) for name, t in tables.items()]
        self.manager.start(configs)
        await self.manager.wait_ready(START + 30)

    async def call(self, name: str, args: dict | None = None, **ctx):
        tool, params = self.registry.parse_call(name, json.dumps(args or {}))
        return await self.registry.execute(tool, params, ToolContext(root=self.root, **ctx))

    def states(self, name: str) -> list[str]:
        return [e.state for e in self.events if isinstance(e, ev.McpServerStatus) and e.name == name]

    def warnings(self) -> str:
        return "\n".join(e.message for e in self.events if isinstance(e, ev.Warning))


@pytest.fixture
def script(tmp_path: Path) -> Path:
    return fake_server_script(tmp_path)


@pytest.fixture
async def h(tmp_path: Path):
    root = tmp_path / "proj"
    root.mkdir()
    harness = Harness(root)
    yield harness
    await harness.manager.aclose()


@pytest.mark.skipif(time_server() is None, reason="mcp-server-time is not installed (test extra)")
async def test_reference_time_server_tools_and_call(h: Harness) -> None:
    await h.start(time={"command": time_server(), "args": ["--local-timezone", "UTC"]})
    assert h.states("time") == ["starting", "ready"]
    names = [n for n in h.registry.names() if n.startswith("mcp__")]
    assert names == ["mcp__time__get_current_time", "mcp__time__convert_time"]
    schema = h.registry.get("mcp__time__get_current_time").schema()["function"]["parameters"]
    assert schema["required"] == ["timezone"] and "timezone" in schema["properties"]
    result = await h.call("mcp__time__convert_time", {"source_timezone": "UTC", "time": "12:00",
                                                     "target_timezone": "Asia/Tokyo"})
    assert not result.is_error, result.output
    assert "Asia/Tokyo" in result.output and "21:00" in result.output
    status = [e for e in h.events if isinstance(e, ev.McpServerStatus)][-1]
    assert (status.tools, status.transport) == (2, "stdio")


@pytest.mark.skipif(git_server() is None, reason="mcp-server-git is not installed (test extra)")
async def test_reference_git_server_reads_the_project_repo(h: Harness) -> None:
    subprocess.run(["git", "init", "-q", "-b", "main", str(h.root)], check=True)
    (h.root / "a.txt").write_text("hello\n")
    await h.start(git={"command": git_server(), "args": ["--repository", str(h.root)]})
    assert h.states("git")[-1] == "ready", h.warnings()
    result = await h.call("mcp__git__git_status", {"repo_path": str(h.root)})
    assert not result.is_error, result.output
    assert "a.txt" in result.output


async def test_npm_filesystem_server(h: Harness) -> None:
    entry, why = npm_filesystem_server()
    if entry is None:
        pytest.skip(why)
    (h.root / "notes.md").write_text("# notes\nremember the milk\n")
    await h.start(fs={"command": "node", "args": [entry, str(h.root)]})
    assert h.states("fs")[-1] == "ready", h.warnings()
    assert "mcp__fs__read_text_file" in h.registry
    result = await h.call("mcp__fs__read_text_file", {"path": str(h.root / "notes.md")})
    assert not result.is_error, result.output
    assert "remember the milk" in result.output
    outside = await h.call("mcp__fs__read_text_file", {"path": "/etc/hostname"})
    assert outside.is_error  # the server's own sandbox, reported as a tool error


async def test_server_env_has_no_api_keys_and_runs_in_the_project(tmp_path: Path, script: Path) -> None:
    root = tmp_path / "proj"
    root.mkdir()
    env = {**os.environ, "OPENAI_API_KEY": "sk-proj-abcdefghijklmnopqrstuvwx",
           "GITHUB_TOKEN": "ghp_abcdefghijklmnopqrstuvwxyz0123", "PLAIN": "kept"}
    harness = Harness(root, env)
    try:
        await harness.start(a=fake_table(script, env={"SET_HERE": "yes"}),
                            b=fake_table(script, env_vars=["GITHUB_TOKEN"]))
        got = {}
        for var in ("OPENAI_API_KEY", "GITHUB_TOKEN", "PLAIN", "SET_HERE"):
            got[var] = (await harness.call("mcp__a__env", {"name": var})).output
        assert got == {"OPENAI_API_KEY": "<unset>", "GITHUB_TOKEN": "<unset>", "PLAIN": "kept",
                       "SET_HERE": "yes"}
        # Named explicitly with env_vars: passed through to that server only.
        token = (await harness.call("mcp__b__env", {"name": "GITHUB_TOKEN"})).output
        assert token == env["GITHUB_TOKEN"]
        assert (await harness.call("mcp__a__cwd")).output == str(root)
    finally:
        await harness.manager.aclose()


async def test_streamable_http_server(h: Harness, script: Path) -> None:
    port = free_port()
    proc = subprocess.Popen([sys.executable, str(script), "http", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        url = f"http://127.0.0.1:{port}/mcp"
        deadline = time.monotonic() + START
        await h.start(web={"url": url, "startup_timeout_sec": 5})
        while h.states("web")[-1] == "failed" and time.monotonic() < deadline:
            # The server may still be importing: a fresh manager tries again.
            await h.manager.aclose()
            h.events.clear()
            h.manager = McpManager(root=h.root, env=dict(os.environ), registry=h.registry,
                                   emit=h.events.append)
            await asyncio.sleep(0.5)
            await h.start(web={"url": url, "startup_timeout_sec": 5})
        assert h.states("web")[-1] == "ready", h.warnings()
        result = await h.call("mcp__web__echo", {"text": "over http"})
        assert result.output == "over http"
        assert [e for e in h.events if isinstance(e, ev.McpServerStatus)][-1].transport == "http"
    finally:
        proc.terminate()
        proc.wait(timeout=30)


async def test_a_server_that_exits_at_once_fails_clearly_the_others_work(h: Harness, script: Path) -> None:
    await h.start(broken=fake_table(script, "exit"), good=fake_table(script))
    assert h.states("broken") == ["starting", "failed"]
    failed = [e for e in h.events if isinstance(e, ev.McpServerStatus) and e.state == "failed"][0]
    assert "exited" in failed.error and "cannot open the database" in failed.error  # its stderr
    assert "MCP server 'broken' failed" in h.warnings()
    assert (await h.call("mcp__good__echo", {"text": "still here"})).output == "still here"
    from realcost_agent.tools.registry import ToolCallError

    # The model calling the failed server's tool learns why it is not there.
    with pytest.raises(ToolCallError, match="MCP server 'broken' failed: the server exited"):
        h.registry.parse_call("mcp__broken__query", "{}")
    with pytest.raises(ToolCallError, match="MCP server 'good' has no such tool"):
        h.registry.parse_call("mcp__good__nope", "{}")


async def test_a_missing_command_fails_clearly(h: Harness) -> None:
    await h.start(ghost={"command": "no-such-mcp-server-xyz"})
    assert h.states("ghost")[-1] == "failed"
    assert "command not found: 'no-such-mcp-server-xyz'" in h.warnings()


async def test_a_hanging_server_times_out_at_start(h: Harness, script: Path) -> None:
    h.manager.start([parse_server("stuck", {**fake_table(script, "hang"), "startup_timeout_sec": 2})])
    await h.manager.wait_ready(60)
    assert h.states("stuck") == ["starting", "failed"]
    assert "did not start within 2 s" in h.warnings()


async def test_a_server_dying_mid_call_gives_an_error_and_the_rest_goes_on(h: Harness, script: Path) -> None:
    await h.start(frail=fake_table(script), other=fake_table(script))
    assert (await h.call("mcp__frail__echo", {"text": "alive"})).output == "alive"
    result = await h.call("mcp__frail__die")
    assert result.is_error and "failed during die" in result.output
    assert h.states("frail")[-1] == "failed"
    assert "MCP server 'frail' failed" in h.warnings()
    again = await h.call("mcp__frail__echo", {"text": "x"})
    assert again.is_error and "cannot run echo" in again.output
    assert (await h.call("mcp__other__echo", {"text": "fine"})).output == "fine"


async def test_a_call_that_hangs_times_out(h: Harness, script: Path) -> None:
    await h.start(lazy=fake_table(script, tool_timeout_sec=1))
    result = await h.call("mcp__lazy__slow", {"seconds": 60})
    assert result.is_error and "did not answer within 1 s" in result.output
    assert "timed out" in h.warnings()


async def test_an_interrupt_cancels_a_call(h: Harness, script: Path) -> None:
    await h.start(lazy=fake_table(script))
    cancel = asyncio.Event()
    asyncio.get_running_loop().call_later(0.5, cancel.set)
    result = await h.call("mcp__lazy__slow", {"seconds": 60}, cancel=cancel)
    assert result.is_error and "cancelled" in result.output


async def test_a_changed_tool_list_is_picked_up(h: Harness, script: Path) -> None:
    await h.start(s=fake_table(script))
    assert "mcp__s__shout" not in h.registry
    assert (await h.call("mcp__s__grow")).output == "grown"
    deadline = time.monotonic() + START
    while "mcp__s__shout" not in h.registry and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
    assert (await h.call("mcp__s__shout", {"text": "hey"})).output == "HEY"
    last = [e for e in h.events if isinstance(e, ev.McpServerStatus)][-1]
    assert (last.state, last.tools) == ("ready", 9)


async def test_output_is_capped(h: Harness, script: Path) -> None:
    await h.start(s=fake_table(script))
    result = await h.call("mcp__s__big", {"n": 50_000}, max_output_chars=2_000)
    assert len(result.output) < 2_200 and "output cut" in result.output


async def test_bad_arguments_are_reported_from_the_schema(h: Harness, script: Path) -> None:
    from realcost_agent.tools.registry import ToolCallError

    await h.start(s=fake_table(script))
    with pytest.raises(ToolCallError, match="'text' is a required property"):
        h.registry.parse_call("mcp__s__echo", "{}")


async def test_a_gate_holds_the_start_until_it_opens_or_a_tool_is_needed(tmp_path: Path, script: Path) -> None:
    marker = tmp_path / "pids"
    root = tmp_path / "proj"
    root.mkdir()
    harness = Harness(root)
    gate_a, gate_b = asyncio.get_running_loop().create_future(), asyncio.get_running_loop().create_future()
    env = {"MCP_MARKER": str(marker)}
    try:
        harness.manager.start([parse_server("a", {**fake_table(script, env=env), "startup_timeout_sec": START})],
                              gate=gate_a)
        harness.manager.start([parse_server("b", {**fake_table(script, env=env), "startup_timeout_sec": START})],
                              gate=gate_b)
        await asyncio.sleep(1.0)
        assert not marker.exists() and harness.manager.loading() == ["a", "b"]
        gate_a.set_result(None)  # e.g. the first model request has left
        await asyncio.wait_for(harness.manager.servers["a"].settled.wait(), START)
        assert harness.states("a") == ["starting", "ready"] and harness.states("b") == ["starting"]
        # The model calls b's tool before b's gate opened: it starts now and the call runs.
        await harness.manager.wait_for_tool("mcp__b__echo")
        assert (await harness.call("mcp__b__echo", {"text": "now"})).output == "now"
    finally:
        await harness.manager.aclose()


async def test_close_interrupts_a_server_still_starting(tmp_path: Path, script: Path) -> None:
    marker = tmp_path / "pids"
    root = tmp_path / "proj"
    root.mkdir()
    harness = Harness(root)
    harness.manager.start([parse_server("stuck", {**fake_table(script, "hang", env={"MCP_MARKER": str(marker)}),
                                                  "startup_timeout_sec": 3600})])
    deadline = time.monotonic() + START
    while not marker.exists() and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
    pid = int(marker.read_text().split()[0])
    assert alive(pid)
    # Bounded by the SDK's own shutdown (stdin closed, 2 s, TERM, 2 s, KILL), not by the
    # server's hour-long start-up timeout.
    await asyncio.wait_for(harness.manager.aclose(), 60)
    assert not alive(pid) and harness.states("stuck") == ["starting", "stopped"]


async def test_close_stops_every_server_process(tmp_path: Path, script: Path) -> None:
    marker = tmp_path / "pids"
    root = tmp_path / "proj"
    root.mkdir()
    harness = Harness(root)
    await harness.start(a=fake_table(script, env={"MCP_MARKER": str(marker)}),
                        b=fake_table(script, env={"MCP_MARKER": str(marker)}))
    pids = [int(p) for p in marker.read_text().split()]
    assert len(pids) == 2 and all(alive(p) for p in pids)
    await harness.manager.aclose()
    assert not [p for p in pids if alive(p)]
    assert harness.states("a")[-1] == "stopped"
    assert not [n for n in harness.registry.names() if n.startswith("mcp__")]
