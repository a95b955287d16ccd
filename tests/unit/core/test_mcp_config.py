"""MCP configuration, approvals and `agent mcp add|remove|list` (no server processes here,
except `list --check` against a missing command)."""
from __future__ import annotations

import io
import os
import tomllib
from pathlib import Path

import pytest

from realcost_agent.agent.config import ConfigError, load_settings
from realcost_agent.cli.mcp import main as mcp_main
from realcost_agent.agent.mcp_client import render_result
from realcost_agent.agent.mcp_config import McpServerConfig, parse_server, secret_values, server_env
from realcost_agent.agent.policy import decide
from realcost_agent.agent.safety.rules import decide_call, parse_rules
from realcost_agent.agent.trust import needs_trust


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {"AGENT_CONFIG_HOME": str(tmp_path / "cfg"), "AGENT_DATA_HOME": str(tmp_path / "data"),
            "PATH": os.environ["PATH"]}


def cli(env: dict[str, str], *argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = mcp_main(list(argv), env=env, out=out, err=err)
    return code, out.getvalue(), err.getvalue()


# -- config --------------------------------------------------------------------------------------
@pytest.mark.parametrize("table,message", [
    ({}, "either `command`"),
    ({"command": "x", "url": "http://h/mcp"}, "not both"),
    ({"url": "file:///etc/passwd"}, "http:// or https://"),
    ({"command": "x", "args": "a b"}, "`args` must be a list"),
    ({"command": "x", "env": {"A": ["b"]}}, "A must be a string"),
    ({"command": "x", "startup_timeout_sec": 0}, "positive number"),
    ({"command": "x", "enabled": "no"}, "true or false"),
    ({"command": "x", "cwd": "/"}, "unknown key(s) cwd"),
])
def test_bad_tables_get_clear_errors(table, message):
    with pytest.raises(ConfigError, match="mcp_servers.srv") as err:
        parse_server("srv", table, "config.toml")
    assert message in str(err.value)


def test_a_bad_table_in_the_user_config_names_the_file(tmp_path, env):
    (tmp_path / "cfg").mkdir()
    (tmp_path / "cfg" / "config.toml").write_text('[mcp_servers.x]\nargs = ["a"]\n')
    with pytest.raises(ConfigError, match=r"config.toml: \[mcp_servers.x\]"):
        load_settings(tmp_path, env=env)


def test_mcp_servers_need_trust_and_are_not_reserved_any_more(tmp_path, env):
    assert needs_trust("mcp_servers")
    (tmp_path / "cfg").mkdir()
    (tmp_path / "cfg" / "config.toml").write_text('[mcp_servers.time]\ncommand = "uvx"\nargs = ["mcp-server-time"]\n')
    warnings: list[str] = []
    settings = load_settings(tmp_path, env=env, warnings=warnings)
    assert settings.mcp_servers == {"time": {"command": "uvx", "args": ["mcp-server-time"]}}
    assert not any("not supported" in w for w in warnings)


def test_user_and_trusted_project_servers_add_up(tmp_path, env):
    (tmp_path / "cfg").mkdir()
    (tmp_path / "cfg" / "config.toml").write_text('[mcp_servers.a]\ncommand = "a"\n')
    (tmp_path / ".agent").mkdir()
    (tmp_path / ".agent" / "config.toml").write_text('[mcp_servers.b]\nurl = "https://h/mcp"\n')
    settings = load_settings(tmp_path, env=env, trust=True)
    assert sorted(settings.mcp_servers) == ["a", "b"]
    from realcost_agent.agent.mcp_config import servers_from_settings

    origins = {c.name: c.origin for c in servers_from_settings(settings)}
    assert origins["b"].endswith(os.path.join(".agent", "config.toml"))


def test_disabled_servers_are_not_started():
    from types import SimpleNamespace

    from realcost_agent.agent.mcp_config import servers_from_settings

    settings = SimpleNamespace(mcp_servers={"a": {"command": "a", "enabled": False},
                                            "b": {"command": "b"}}, sources={})
    assert [c.name for c in servers_from_settings(settings)] == ["b"]


def test_server_env_drops_keys_unless_named():
    env = {"PATH": "/bin", "OPENAI_API_KEY": "sk-proj-abcdefghijklmnopqrstu", "GH_TOKEN": "ghp_x" * 5,
           "DATABASE_URL": "postgres://u:pw@h/db", "LANG": "C.UTF-8"}
    cfg = parse_server("s", {"command": "x", "env_vars": ["GH_TOKEN"], "env": {"MODE": "ro"}})
    got = server_env(cfg, env)
    assert got["GH_TOKEN"] == env["GH_TOKEN"] and got["MODE"] == "ro" and got["LANG"] == "C.UTF-8"
    assert "OPENAI_API_KEY" not in got and "DATABASE_URL" not in got
    assert secret_values([cfg], env) == [env["GH_TOKEN"]]


def test_acp_entries_become_the_same_configs():
    stdio = McpServerConfig.from_acp({"name": "fs", "command": "npx", "args": ["-y", "srv"],
                                      "env": [{"name": "A", "value": "1"}]})
    assert (stdio.command, stdio.args, dict(stdio.env), stdio.origin) == ("npx", ("-y", "srv"), {"A": "1"}, "acp")
    http = McpServerConfig.from_acp({"type": "http", "name": "web", "url": "https://h/mcp",
                                     "headers": [{"name": "Authorization", "value": "Bearer abcd1234"}]})
    assert http.transport == "http" and http.headers == {"Authorization": "Bearer abcd1234"}
    assert secret_values([http], {}) == ["Bearer abcd1234"]
    with pytest.raises(ConfigError):
        McpServerConfig.from_acp({"name": "bad name", "command": "x"})


# -- approvals -----------------------------------------------------------------------------------
def test_mcp_tools_are_asked_in_auto_edit_like_commands():
    assert decide("auto-edit", "mcp__time__get_current_time", True, approved_for_session=False).action == "ask"
    assert decide("auto-edit", "edit", True, approved_for_session=False).action == "allow"
    assert decide("full-auto", "mcp__time__x", True, approved_for_session=False).action == "allow"
    assert decide("read-only", "mcp__time__x", True, approved_for_session=False).action == "deny"


def test_a_rule_can_allow_or_deny_a_servers_tools():
    rules = parse_rules([{"tool": "mcp__time__*", "pattern": "*", "action": "allow"},
                         {"tool": "*", "pattern": "mcp__git__git_push*", "action": "deny"}])
    allowed = decide_call("auto-edit", "mcp__time__convert_time", True, {}, rules,
                          interactive=True, approved_for_session=False)
    assert allowed.action == "allow"
    denied = decide_call("full-auto", "mcp__git__git_push", True, {}, rules,
                         interactive=True, approved_for_session=False)
    assert denied.action == "deny"
    other = decide_call("auto-edit", "mcp__fs__write_file", True, {"path": "a"}, rules,
                        interactive=True, approved_for_session=False)
    assert other.action == "ask"


def test_results_render_text_and_name_the_rest():
    from types import SimpleNamespace as NS

    result = NS(content=[NS(type="text", text="hello"), NS(type="image", mime_type="image/png", data="AAAA"),
                         NS(type="resource", resource=NS(uri="file:///a", text="body"))],
                structured_content=None)
    assert render_result(result) == "hello\n[image image/png, 3 bytes, not shown]\n[resource file:///a]\nbody"
    assert render_result(NS(content=[], structured_content={"a": 1})) == '{"a": 1}'
    assert render_result(NS(content=[], structured_content=None)) == "(no output)"


# -- agent mcp -----------------------------------------------------------------------------------
def test_add_list_remove_round_trip_keeps_the_rest_of_the_file(tmp_path, env):
    cfg = tmp_path / "cfg" / "config.toml"
    cfg.parent.mkdir()
    original = '# my settings\nmodel = "gpt-oss-120b"  # the big one\n\n[prices."x/y"]\ninput = 1.0\n'
    cfg.write_text(original)
    code, out, err = cli(env, "add", "time", "--env", "TZ=UTC", "--", "uvx", "mcp-server-time", "--local-timezone", "UTC")
    assert code == 0, err
    code, _, err = cli(env, "add", "docs", "--url", "https://example.com/mcp", "--header", "X-Team=a b")
    assert code == 0, err
    data = tomllib.loads(cfg.read_text())
    assert data["mcp_servers"]["time"] == {"command": "uvx", "args": ["mcp-server-time", "--local-timezone", "UTC"],
                                           "env": {"TZ": "UTC"}}
    assert data["mcp_servers"]["docs"] == {"url": "https://example.com/mcp", "headers": {"X-Team": "a b"}}
    code, out, _ = cli(env, "list", "-C", str(tmp_path))
    assert code == 0 and "time" in out and "uvx mcp-server-time" in out and "https://example.com/mcp" in out
    assert cli(env, "add", "time", "--", "other")[0] == 2  # exists already
    assert cli(env, "remove", "time")[0] == 0
    assert cli(env, "remove", "docs")[0] == 0
    assert cfg.read_text().rstrip("\n") == original.rstrip("\n")
    code, _, err = cli(env, "remove", "docs")
    assert code == 2 and "no MCP server named 'docs'" in err


def test_add_refuses_bad_input_and_changes_nothing(tmp_path, env):
    cfg = tmp_path / "cfg" / "config.toml"
    cfg.parent.mkdir()
    cfg.write_text("model = 'x'\n")
    for argv in (["add", "bad__name", "--", "x"], ["add", "s"], ["add", "s", "--env", "NOEQUALS", "--", "x"],
                 ["add", "s", "--url", "ftp://h"]):
        code, _, err = cli(env, *argv)
        assert code == 2 and err.startswith("agent mcp:"), argv
    assert cfg.read_text() == "model = 'x'\n"


def test_list_shows_an_untrusted_project_server_as_waiting(tmp_path, env):
    (tmp_path / ".agent").mkdir()
    (tmp_path / ".agent" / "config.toml").write_text('[mcp_servers.evil]\ncommand = "/bin/evil"\n')
    code, out, _ = cli(env, "list", "-C", str(tmp_path))
    assert code == 0 and "evil" in out and "not started until you trust it" in out


def test_list_check_reports_a_failing_server(tmp_path, env):
    assert cli(env, "add", "ghost", "--", "no-such-mcp-binary-xyz")[0] == 0
    code, out, _ = cli(env, "list", "--check", "-C", str(tmp_path))
    assert code == 1 and "FAILED: command not found" in out
