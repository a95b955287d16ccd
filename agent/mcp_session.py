"""Where the session meets the MCP client: two call sites in agent/session.py (the configs in
__init__, start_mcp in start()) and one in its shutdown (`session.mcp.aclose()`).

Front-ends that bring their own servers (ACP's session/new `mcpServers`) call
`add_mcp_servers(session, [McpServerConfig.from_acp(obj), ...])`, before or after
`session.start()`.
"""
from __future__ import annotations

from typing import Any, Iterable

from realcost_agent.agent.mcp_config import McpServerConfig, secret_values, servers_from_settings

IDLE_START = 1.0  # seconds without a running turn after which the servers start anyway
REQUEST_SETTLE = 0.05


def mcp_configs(session: Any, settings: Any) -> list[McpServerConfig]:
    """The enabled servers of the (already trust-gated) settings; their secrets get redacted."""
    configs = servers_from_settings(settings)
    add_secrets(session, configs)
    return configs


def add_secrets(session: Any, configs: Iterable[McpServerConfig]) -> None:
    values = secret_values(configs, session.env)
    if values and hasattr(session.redact, "add_named"):
        session.redact.add_named(values)


def add_mcp_servers(session: Any, configs: Iterable[McpServerConfig]) -> None:
    """Servers a front-end brings (ACP): before session.start() they join the configured
    ones (named in the system prompt, started with them); after it they start at once."""
    configs = list(configs)
    if getattr(session, "_mcp_started", False):
        start_mcp(session, configs)
    else:
        add_secrets(session, configs)
        session.mcp_configs = [*session.mcp_configs, *configs]


def start_mcp(session: Any, configs: Iterable[McpServerConfig] | None = None) -> Any:
    """Start the session's configured servers (or these extra ones) in the background.
    Returns the session's McpManager, or None when no server is configured."""
    from realcost_agent.agent.mcp_client import McpManager

    session._mcp_started = True
    extra = list(configs) if configs is not None else None
    if extra is not None:
        add_secrets(session, extra)
    todo = extra if extra is not None else list(session.mcp_configs)
    if not todo:
        return session.mcp
    if session.mcp is None:
        session.mcp = McpManager(root=session.root, env=session.env, registry=session.registry,
                                 emit=session.emit, redact=session.redact)
    session.mcp.start(todo, gate=first_request_or_idle(session))
    return session.mcp


async def first_request_or_idle(session: Any, idle: float = IDLE_START) -> None:
    """Resolves when the session's first model request is leaving, or once the session has sat
    idle for `idle` seconds (the TUI waiting for a prompt): the servers' start-up (the SDK
    import, their processes) then never competes with the agent's own for the CPU."""
    import asyncio

    from realcost_agent.providers.recovery import on_request_sent

    sent = asyncio.Event()
    loop = asyncio.get_running_loop()
    remove = on_request_sent(lambda: loop.call_soon_threadsafe(sent.set))
    try:
        while True:
            try:
                await asyncio.wait_for(sent.wait(), idle)
                break
            except asyncio.TimeoutError:
                if not session.busy:
                    return
        await asyncio.sleep(REQUEST_SETTLE)  # let the request reach the wire first
    finally:
        remove()
