"""Where the session meets the MCP client: two call sites in agent/session.py (the configs in
__init__, start_mcp in start()) and one in its shutdown (`session.mcp.aclose()`).

Front-ends that bring their own servers (ACP's session/new `mcpServers`) call
`start_mcp(session, [McpServerConfig.from_acp(obj), ...])` after `session.start()`.
"""
from __future__ import annotations

from typing import Any, Iterable

from realcost_agent.agent.mcp_config import McpServerConfig, secret_values, servers_from_settings


def mcp_configs(session: Any, settings: Any) -> list[McpServerConfig]:
    """The enabled servers of the (already trust-gated) settings; their secrets get redacted."""
    configs = servers_from_settings(settings)
    add_secrets(session, configs)
    return configs


def add_secrets(session: Any, configs: Iterable[McpServerConfig]) -> None:
    values = secret_values(configs, session.env)
    if values and hasattr(session.redact, "add_named"):
        session.redact.add_named(values)


def start_mcp(session: Any, configs: Iterable[McpServerConfig] | None = None) -> Any:
    """Start the session's configured servers (or these extra ones) in the background.
    Returns the session's McpManager, or None when no server is configured."""
    from realcost_agent.agent.mcp_client import McpManager

    extra = list(configs) if configs is not None else None
    if extra is not None:
        add_secrets(session, extra)
    todo = extra if extra is not None else list(session.mcp_configs)
    if not todo:
        return session.mcp
    if session.mcp is None:
        session.mcp = McpManager(root=session.root, env=session.env, registry=session.registry,
                                 emit=session.emit, redact=session.redact)
    session.mcp.start(todo)
    return session.mcp
