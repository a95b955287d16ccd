"""MCP in an in-process Session: servers a front-end brings (ACP's session/new mcpServers),
before and after start, through agent/mcp_session.add_mcp_servers."""
from __future__ import annotations

import os
import sys
from pathlib import Path

from mcpfakes import fake_server_script
from realcost_agent.agent import events as ev
from realcost_agent.agent.config import Settings
from realcost_agent.agent.mcp_config import McpServerConfig
from realcost_agent.agent.mcp_session import add_mcp_servers
from realcost_agent.agent.session import Session
from realcost_agent.providers.scripted import ScriptedProvider, text, tool_call
from turnrun import of, run_turn

TOKEN = "ghp_ACPTOKEN0123456789abcdefghijklmnop"


def session_for(root: Path, provider: ScriptedProvider) -> Session:
    env = {"AGENT_CONFIG_HOME": str(root.parent / "cfg"), "AGENT_DATA_HOME": str(root.parent / "data"),
           "PATH": os.environ["PATH"], "OPENROUTER_API_KEY": "sk-or-v1-" + "k" * 40}
    return Session(Settings(model="gpt-oss-120b", approval="full-auto"), root, env=env,
                   provider_factory=lambda m: provider)


def acp_entry(script: Path, name: str) -> McpServerConfig:
    return McpServerConfig.from_acp({"name": name, "command": sys.executable, "args": [str(script)],
                                     "env": [{"name": "GITHUB_TOKEN", "value": TOKEN}]})


async def test_servers_added_before_start_are_named_and_used(tmp_path: Path) -> None:
    root = tmp_path / "proj"
    root.mkdir()
    script = fake_server_script(tmp_path)
    provider = ScriptedProvider([
        [tool_call("mcp__editor__env", {"name": "GITHUB_TOKEN"}, id="c1")], [text("done")]])
    session = session_for(root, provider)
    add_mcp_servers(session, [acp_entry(script, "editor")])
    events = await run_turn(session, "what is the token?", timeout=180)
    assert "MCP servers: editor" in provider.calls[0].messages[0]["content"]
    finished = of(events, ev.ToolCallFinished)[0]
    # The call ran (the model called it before the server was up: it waited) and the token the
    # editor passed is redacted from what the model and the events see.
    assert not finished.is_error and finished.output == "[REDACTED]"
    assert TOKEN not in repr(events) + repr([c.messages for c in provider.calls])


async def test_servers_added_after_start_start_at_once(tmp_path: Path) -> None:
    root = tmp_path / "proj"
    root.mkdir()
    script = fake_server_script(tmp_path)
    session = session_for(root, ScriptedProvider([]))
    await session.start()
    try:
        add_mcp_servers(session, [acp_entry(script, "late")])
        await session.mcp.wait_ready(180)
        assert session.mcp.statuses()[0].state == "ready"
    finally:
        await session.close()
    assert session.mcp.statuses()[0].state == "stopped"
