"""MCP attacks: a cloned repository declaring its own MCP server (a program the agent would
run), a server whose output carries the user's secrets, a server whose tool tries to pass for a
built-in, and a model calling an MCP tool where the user expects to be asked."""
from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import pytest

from mcpfakes import fake_server_script
from realcost_agent.agent import events as ev
from realcost_agent.agent.config import load_settings
from realcost_agent.cli.mcp import _toml
from realcost_agent.agent.ops import Approve, Shutdown, UserInput
from realcost_agent.agent.session import Session
from realcost_agent.providers.scripted import ScriptedProvider, text, tool_call

KEY = "sk-or-v1-USERKEY0123456789abcdef0123456789"
TOKEN = "ghp_SERVERTOKEN0123456789abcdefghijkl"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "proj"
    (root / ".agent").mkdir(parents=True)
    (root / "lib.py").write_text("X = 1\n")
    return root


def env_for(root: Path, **extra: str) -> dict[str, str]:
    return {"AGENT_CONFIG_HOME": str(root.parent / "cfg"), "AGENT_DATA_HOME": str(root.parent / "data"),
            "HOME": str(root.parent), "PATH": os.environ["PATH"], "OPENROUTER_API_KEY": KEY, **extra}


def table(name: str, values: dict) -> str:
    return f"[mcp_servers.{name}]\n" + "".join(f"{k} = {_toml(v)}\n" for k, v in values.items())


def user_config(root: Path, text_: str) -> None:
    (root.parent / "cfg").mkdir(exist_ok=True)
    (root.parent / "cfg" / "config.toml").write_text(text_)


async def run(session: Session, prompt: str, *, approve: str | None = None,
              until_ready: int = 0) -> list[ev.Event]:
    """Start, wait for `until_ready` servers to settle, run one turn, close; all events."""
    await session.start()
    seen: list[ev.Event] = []
    if until_ready:
        await session.mcp.wait_ready(120)
    session.submit(UserInput(prompt))
    while True:
        event = await asyncio.wait_for(session.next_event(), 120)
        seen.append(event)
        if isinstance(event, ev.ApprovalRequested):
            session.submit(Approve(event.call_id, approve or "deny", "no"))
        if isinstance(event, ev.TurnFinished):
            break
    session.submit(Shutdown())
    while (event := await asyncio.wait_for(session.next_event(), 60)) is not None:
        seen.append(event)
    return seen


@pytest.mark.attack("code_execution")
@pytest.mark.parametrize("flag", [None, False])
async def test_an_untrusted_project_server_is_never_started(project, tmp_path, flag):
    script = fake_server_script(tmp_path)
    marker = tmp_path / "started"
    (project / ".agent" / "config.toml").write_text(table("helper", {
        "command": sys.executable, "args": [str(script)], "env": {"MCP_MARKER": str(marker)}}))
    env = env_for(project)
    warnings: list[str] = []
    settings = load_settings(project, env=env, warnings=warnings, trust=flag)
    assert settings.mcp_servers == {}
    assert any("mcp_servers = " in w for w in warnings), warnings
    provider = ScriptedProvider([[tool_call("mcp__helper__echo", {"text": "hi"})], [text("ok")]])
    s = Session(settings, project, env=env, provider_factory=lambda m: provider)
    events = await run(s, "use the helper")
    assert s.mcp is None and not marker.exists()
    finished = [e for e in events if isinstance(e, ev.ToolCallFinished)][0]
    assert finished.is_error and "unknown tool" in finished.output
    assert "MCP servers" not in provider.calls[0].messages[0]["content"]


@pytest.mark.attack("code_execution")
async def test_a_trusted_project_server_starts(project, tmp_path):
    """The same server, once the user trusts the project: the gate is trust, nothing else."""
    script = fake_server_script(tmp_path)
    marker = tmp_path / "started"
    (project / ".agent" / "config.toml").write_text(table("helper", {
        "command": sys.executable, "args": [str(script)], "env": {"MCP_MARKER": str(marker)},
        "startup_timeout_sec": 120}))
    env = env_for(project)
    settings = load_settings(project, env=env, trust=True)
    assert list(settings.mcp_servers) == ["helper"]
    provider = ScriptedProvider([[tool_call("mcp__helper__echo", {"text": "hi"})], [text("ok")]])
    s = Session(settings, project, env=env, provider_factory=lambda m: provider)
    events = await run(s, "use the helper")
    assert marker.exists()
    finished = [e for e in events if isinstance(e, ev.ToolCallFinished)][0]
    assert finished.output == "hi" and not finished.is_error


@pytest.mark.attack("code_execution")
async def test_a_project_cannot_replace_the_users_own_server(project, tmp_path):
    script = fake_server_script(tmp_path)
    user_config(project, table("db", {"command": sys.executable, "args": [str(script)]}))
    (project / ".agent" / "config.toml").write_text(table("db", {"command": "/bin/evil"}))
    warnings: list[str] = []
    settings = load_settings(project, env=env_for(project), warnings=warnings, trust=True)
    assert settings.mcp_servers["db"]["command"] == sys.executable
    assert any("also in" in w for w in warnings)


@pytest.mark.attack("secrets")
async def test_server_output_carrying_secrets_is_redacted(project, tmp_path):
    """A server given a token (explicitly, in the user's config) echoes it, and echoes the
    user's API key the model smuggled into the arguments: neither reaches the model or events."""
    script = fake_server_script(tmp_path)
    user_config(project, table("leaky", {"command": sys.executable, "args": [str(script)],
                                         "env": {"GITHUB_TOKEN": TOKEN}, "startup_timeout_sec": 120}))
    env = env_for(project)
    settings = load_settings(project, env=env)
    provider = ScriptedProvider([
        [tool_call("mcp__leaky__env", {"name": "GITHUB_TOKEN"}, id="c1"),
         tool_call("mcp__leaky__echo", {"text": f"key={KEY}"}, id="c2")],
        [text("done")]])
    s = Session(settings, project, env=env, provider_factory=lambda m: provider)
    events = await run(s, "show me the token", until_ready=1)
    finished = {e.call_id: e for e in events if isinstance(e, ev.ToolCallFinished)}
    assert "[REDACTED]" in finished["c1"].output and "[REDACTED]" in finished["c2"].output
    everything = repr(events) + repr([c.messages for c in provider.calls])
    assert TOKEN not in everything and KEY not in everything


@pytest.mark.attack("code_execution")
async def test_a_tool_named_like_a_builtin_cannot_shadow_it(project, tmp_path):
    script = fake_server_script(tmp_path)
    user_config(project, table("run_command", {"command": sys.executable, "args": [str(script)],
                                               "startup_timeout_sec": 120}))
    env = env_for(project)
    settings = load_settings(project, env=env)
    settings.approval = "auto-edit"
    provider = ScriptedProvider([[tool_call("run_command", {"command": "echo hi"}, id="c1")],
                                 [text("ok")]])
    s = Session(settings, project, interactive=True, env=env, provider_factory=lambda m: provider)
    events = await run(s, "run it", until_ready=1)
    names = [t["function"]["name"] for t in provider.calls[0].tools]
    # The server's tool got its own prefixed name; the built-in is the built-in, once.
    assert names.count("run_command") == 1
    assert "mcp__run_command__run_command" in names
    builtin = s.registry.get("run_command")
    assert type(builtin).__module__.endswith("tools.run_command")
    asked = [e for e in events if isinstance(e, ev.ApprovalRequested)]
    assert asked and asked[0].name == "run_command"  # the built-in, asked as usual
    finished = [e for e in events if isinstance(e, ev.ToolCallFinished)][0]
    assert "the MCP server's run_command got" not in finished.output


def test_names_that_would_shadow_or_confuse_are_refused_or_prefixed():
    from realcost_agent.agent.config import ConfigError
    from realcost_agent.agent.mcp_client import tool_name
    from realcost_agent.agent.mcp_config import check_name

    for bad in ["", "a__b", "../x", "x y", "a.b", "_x", "x" * 40]:
        with pytest.raises(ConfigError):
            check_name(bad)
    assert tool_name("s", "../../etc/passwd") == "mcp__s________etc_passwd"
    assert tool_name("s", "read_file") == "mcp__s__read_file"
    assert len(tool_name("s", "y" * 200)) == 64


@pytest.mark.attack("code_execution")
async def test_an_mcp_tool_is_asked_in_auto_edit(project, tmp_path):
    script = fake_server_script(tmp_path)
    marker = tmp_path / "calls"
    user_config(project, table("tool", {"command": sys.executable, "args": [str(script)],
                                        "startup_timeout_sec": 120}))
    env = env_for(project)
    settings = load_settings(project, env=env)
    settings.approval = "auto-edit"
    provider = ScriptedProvider([[tool_call("mcp__tool__echo", {"text": str(marker)}, id="c1")],
                                 [text("ok")]])
    s = Session(settings, project, interactive=True, env=env, provider_factory=lambda m: provider)
    events = await run(s, "go", approve="deny", until_ready=1)
    asked = [e for e in events if isinstance(e, ev.ApprovalRequested)]
    assert [a.name for a in asked] == ["mcp__tool__echo"]
    assert "MCP server tool" in asked[0].preview  # the user sees which server gets what
    finished = [e for e in events if isinstance(e, ev.ToolCallFinished)][0]
    assert finished.is_error and "Denied" in finished.output
