"""MCP server configuration: `[mcp_servers.NAME]` tables, checked once, with clear errors.

    [mcp_servers.time]                 # stdio: a program the agent starts, in the project root
    command = "uvx"
    args = ["mcp-server-time"]
    env = { TZ = "UTC" }               # set for the server (nothing secret is inherited)
    env_vars = ["GITHUB_TOKEN"]        # passed through from your environment, by name
    startup_timeout_sec = 30           # initialize + list tools
    tool_timeout_sec = 120             # one tools/call

    [mcp_servers.docs]                 # streamable HTTP
    url = "https://example.com/mcp"
    headers = { X-Team = "infra" }
    enabled = false                    # keep the entry, start nothing

The same keys as Codex CLI's config, so a user's existing tables work as they are. A server's
environment is the scrubbed one commands get (no API keys, tokens or passwords, by name or by
value) plus what its table sets: a key reaches a server only when the user names it.
"""
from __future__ import annotations

import re
from dataclasses import field
from typing import Any, Iterable, Mapping

from realcost_agent.agent.config import ConfigError
from realcost_agent.records import record

# Server names become part of tool names (mcp__NAME__TOOL): letters, digits, - and _, and no
# "__" so that the name/tool split stays unambiguous.
NAME_RE = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]|_(?!_))*$")
MAX_NAME = 32
KEYS = frozenset({"command", "args", "env", "env_vars", "url", "headers", "enabled",
                  "startup_timeout_sec", "tool_timeout_sec"})


@record(frozen=True)
class McpServerConfig:
    name: str
    command: str | None = None
    args: tuple[str, ...] = ()
    env: Mapping[str, str] = field(default_factory=dict)
    env_vars: tuple[str, ...] = ()
    url: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    enabled: bool = True
    startup_timeout_sec: float = 30.0
    tool_timeout_sec: float = 120.0
    origin: str = ""  # the file (or "acp") it came from, for messages

    @property
    def transport(self) -> str:
        return "http" if self.url else "stdio"

    def describe(self) -> str:
        if self.url:
            return self.url
        return " ".join([self.command or "", *self.args]).strip()

    def to_table(self) -> dict[str, Any]:
        """The TOML table for this server (what `agent mcp add` writes)."""
        out: dict[str, Any] = {}
        if self.url:
            out["url"] = self.url
            if self.headers:
                out["headers"] = dict(self.headers)
        else:
            out["command"] = self.command
            if self.args:
                out["args"] = list(self.args)
        if self.env:
            out["env"] = dict(self.env)
        if self.env_vars:
            out["env_vars"] = list(self.env_vars)
        if not self.enabled:
            out["enabled"] = False
        return out

    @classmethod
    def from_acp(cls, obj: Mapping[str, Any]) -> "McpServerConfig":
        """An ACP `session/new` mcpServers entry: {name, command, args, env: [{name, value}]} or
        {type: "http", name, url, headers: [{name, value}]}."""
        if not isinstance(obj, Mapping):
            raise ConfigError("acp: an mcpServers entry must be an object")
        name = obj.get("name")
        table: dict[str, Any] = {}
        if obj.get("url"):
            table["url"] = obj["url"]
            table["headers"] = _pairs(obj.get("headers") or [], f"acp: server {name!r} headers")
        else:
            table["command"] = obj.get("command")
            table["args"] = list(obj.get("args") or [])
            table["env"] = _pairs(obj.get("env") or [], f"acp: server {name!r} env")
        return parse_server(str(name) if name is not None else "", table, "acp")


def _pairs(items: Any, where: str) -> dict[str, str]:
    if isinstance(items, Mapping):
        return {str(k): str(v) for k, v in items.items()}
    if not isinstance(items, list):
        raise ConfigError(f"{where} must be a list of {{name, value}}")
    out = {}
    for item in items:
        if not isinstance(item, Mapping) or not isinstance(item.get("name"), str):
            raise ConfigError(f"{where} must be a list of {{name, value}}")
        out[item["name"]] = str(item.get("value", ""))
    return out


def check_name(name: str, origin: str = "config") -> str:
    if not isinstance(name, str) or not NAME_RE.match(name) or len(name) > MAX_NAME:
        raise ConfigError(
            f"{origin}: MCP server name {name!r} must be 1-{MAX_NAME} letters, digits, '-' or "
            "'_' (no '__'): it becomes part of the tool names mcp__NAME__TOOL")
    return name


def parse_server(name: str, table: Any, origin: str = "config") -> McpServerConfig:
    check_name(name, origin)
    where = f"{origin}: [mcp_servers.{name}]"
    if not isinstance(table, Mapping):
        raise ConfigError(f"{where} must be a table")
    unknown = set(table) - KEYS
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {', '.join(sorted(unknown))} "
                          f"(known: {', '.join(sorted(KEYS))})")
    command, url = table.get("command"), table.get("url")
    if bool(command) == bool(url):
        raise ConfigError(f"{where}: set either `command` (a program to start) or `url` "
                          "(a streamable HTTP endpoint), not both or neither")
    if command is not None and not isinstance(command, str):
        raise ConfigError(f"{where}: `command` must be a string")
    if url is not None and (not isinstance(url, str) or not re.match(r"^https?://", url)):
        raise ConfigError(f"{where}: `url` must be an http:// or https:// URL")
    args = table.get("args", [])
    if not isinstance(args, list) or not all(isinstance(a, str) for a in args):
        raise ConfigError(f"{where}: `args` must be a list of strings")
    env = _str_map(table.get("env", {}), f"{where}: `env`")
    headers = _str_map(table.get("headers", {}), f"{where}: `headers`")
    env_vars = table.get("env_vars", [])
    if not isinstance(env_vars, list) or not all(isinstance(v, str) and v for v in env_vars):
        raise ConfigError(f"{where}: `env_vars` must be a list of variable names")
    enabled = table.get("enabled", True)
    if not isinstance(enabled, bool):
        raise ConfigError(f"{where}: `enabled` must be true or false")
    timeouts = {}
    for key in ("startup_timeout_sec", "tool_timeout_sec"):
        value = table.get(key, McpServerConfig.__dataclass_fields__[key].default)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
            raise ConfigError(f"{where}: `{key}` must be a positive number of seconds")
        timeouts[key] = float(value)
    return McpServerConfig(name, command, tuple(args), env, tuple(env_vars), url, headers,
                           enabled, origin=origin, **timeouts)


def _str_map(value: Any, where: str) -> dict[str, str]:
    if not isinstance(value, Mapping):
        raise ConfigError(f"{where} must be a table of strings")
    out = {}
    for k, v in value.items():
        if isinstance(v, bool) or not isinstance(v, (str, int, float)):
            raise ConfigError(f"{where}: {k} must be a string")
        out[str(k)] = str(v)
    return out


def parse_servers(raw: Any, origin: str = "config") -> dict[str, dict[str, Any]]:
    """Validate the `mcp_servers` table; returns it as plain tables (Settings keeps TOML data)."""
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{origin}: `mcp_servers` must be a table of tables ([mcp_servers.NAME])")
    out = {}
    for name, table in raw.items():
        parse_server(name, table, origin)
        out[name] = dict(table)
    return out


def servers_from_settings(settings: Any) -> list[McpServerConfig]:
    """The enabled servers of these settings, each with the file it came from."""
    raw = getattr(settings, "mcp_servers", None) or {}
    sources = getattr(settings, "sources", None) or {}
    configs = [parse_server(name, table, sources.get(f"mcp_servers.{name}", "config"))
               for name, table in raw.items()]
    return [c for c in configs if c.enabled]


def server_env(config: McpServerConfig, env: Mapping[str, str]) -> dict[str, str]:
    """The server's environment: the scrubbed one, the variables it names, then its own `env`."""
    from realcost_agent.tools.childenv import scrubbed_env

    out = scrubbed_env(env)
    for name in config.env_vars:
        if name in env:
            out[name] = env[name]
    out.update(config.env)
    return out


def secret_values(configs: Iterable[McpServerConfig], env: Mapping[str, str]) -> list[str]:
    """Values handed to servers under secret-looking names: redacted from everything they say."""
    from realcost_agent.tools.childenv import is_secret_name

    out = []
    for c in configs:
        for k, v in [*c.env.items(), *((n, env.get(n, "")) for n in c.env_vars), *c.headers.items()]:
            if v and len(v) >= 4 and (is_secret_name(k) or k.lower() == "authorization"):
                out.append(v)
    return out
