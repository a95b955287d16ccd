"""MCP servers an ACP client passes in `session/new` / `session/load`: validated and kept.

They come from the user's editor configuration, not from the repository, so they do not wait
for project trust (agent/trust.py gates only what the project itself brings). Nothing here
starts a server itself: `attach_mcp_servers` hands them to the core's MCP client.
"""
from __future__ import annotations

import re
from dataclasses import field
from pathlib import Path
from typing import Any

from realcost_agent.records import record

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


class McpConfigError(ValueError):
    """A server config the agent cannot use; the message names the server and the field."""


@record(frozen=True)
class McpServerConfig:
    """One MCP server as the client described it. `transport`: "stdio" | "http" | "sse"."""

    name: str
    transport: str
    command: str = ""  # stdio: the program (absolute path, as ACP requires)
    args: tuple[str, ...] = ()
    env: tuple[tuple[str, str], ...] = ()  # stdio: extra environment
    url: str = ""  # http / sse
    headers: tuple[tuple[str, str], ...] = field(default=(), repr=False)  # may hold tokens


def _pairs(items: Any, what: str, server: str) -> tuple[tuple[str, str], ...]:
    out = []
    for item in items or ():
        name = getattr(item, "name", None)
        value = getattr(item, "value", None)
        if not isinstance(name, str) or not name or not isinstance(value, str):
            raise McpConfigError(f"MCP server {server!r}: each {what} needs a name and a value")
        out.append((name, value))
    return tuple(out)


def validate(servers: list[Any] | None) -> list[McpServerConfig]:
    """The SDK's parsed server models -> McpServerConfig; McpConfigError on the first bad one."""
    configs: list[McpServerConfig] = []
    seen: set[str] = set()
    for server in servers or ():
        name = getattr(server, "name", "")
        if not isinstance(name, str) or not NAME.match(name):
            raise McpConfigError(f"MCP server name {name!r} is not usable: letters, digits, '_', "
                                 "'.', '-', at most 64 characters")
        if name in seen:
            raise McpConfigError(f"MCP server {name!r} is given twice")
        seen.add(name)
        kind = getattr(server, "type", None) or "stdio"
        if kind == "stdio":
            command = getattr(server, "command", "")
            if not isinstance(command, str) or not Path(command).is_absolute():
                raise McpConfigError(f"MCP server {name!r}: command must be an absolute path, "
                                     f"got {command!r}")
            args = tuple(str(a) for a in getattr(server, "args", None) or ())
            configs.append(McpServerConfig(name, "stdio", command=command, args=args,
                                           env=_pairs(getattr(server, "env", None), "env variable", name)))
        elif kind in ("http", "sse"):
            url = getattr(server, "url", "")
            if not isinstance(url, str) or not re.match(r"^https?://[^\s/]+", url):
                raise McpConfigError(f"MCP server {name!r}: url must be http(s)://..., got {url!r}")
            configs.append(McpServerConfig(name, kind, url=url,
                                           headers=_pairs(getattr(server, "headers", None), "header", name)))
        else:
            raise McpConfigError(f"MCP server {name!r}: transport {kind!r} is not supported "
                                 "(stdio, http, sse)")
    return configs


def attach_mcp_servers(session: Any, servers: list[McpServerConfig]) -> list[str]:
    """Start the editor's `servers` for the core `session` (agent/mcp_session.py) and register
    their tools. Called once per ACP session, after Session.start() and before the first prompt;
    they are the user's own configuration (the editor's), so they need no project trust.
    Returns warnings to show the user (a server config the MCP client refuses)."""
    if not servers:
        return []
    from realcost_agent.agent.config import ConfigError
    from realcost_agent.agent.mcp_config import McpServerConfig as CoreConfig
    from realcost_agent.agent.mcp_session import add_mcp_servers

    configs, problems = [], []
    for s in servers:
        entry: dict[str, Any] = {"name": s.name}
        if s.transport == "stdio":
            entry.update(command=s.command, args=list(s.args),
                         env=[{"name": k, "value": v} for k, v in s.env])
        else:
            entry.update(type=s.transport, url=s.url,
                         headers=[{"name": k, "value": v} for k, v in s.headers])
        try:
            configs.append(CoreConfig.from_acp(entry))
        except ConfigError as exc:
            problems.append(f"MCP server {s.name!r} from the editor not started: {exc}")
    if configs:
        add_mcp_servers(session, configs)
    return problems
