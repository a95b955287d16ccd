"""The MCP client: start the configured servers in the background, put their tools in the
registry as mcp__SERVER__TOOL, run calls with timeouts, stop every server process at exit.

    manager = McpManager(root=root, env=env, registry=registry, emit=session.emit)
    manager.start(configs)          # returns at once; McpServerStatus events follow
    ...
    await manager.aclose()          # every server process ends (the SDK kills the tree)

Start-up never waits for a server: each one runs in its own asyncio task that starts it,
initializes, lists its tools and registers them. The model's first request may go out before a
slow server is ready; its tools join the tool list of the next request. A server that cannot
start, times out or dies gives a McpServerStatus(state="failed") and a Warning, and its tools
answer the model with a clear error; the session goes on.

Server processes: the project root as cwd, the scrubbed environment plus what the server's
table names (agent/mcp_config.py), stderr into a log whose tail explains a failure, and, on
Linux, a parent-death signal (setpriv) so that a `kill -9` of the agent leaves no orphans.
"""
from __future__ import annotations

import asyncio
import os
import re
import shutil
import sys
import tempfile
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any, Awaitable, Callable, Iterable, Mapping

from realcost_agent.agent import events as ev
from realcost_agent.agent.mcp_config import McpServerConfig, server_env
from realcost_agent.agent.policy import MCP_PREFIX
from realcost_agent.tools.base import ToolContext, ToolResult

TOOL_NAME_MAX = 64  # the providers' limit on a function name
CLOSE_TIMEOUT = 10.0  # the SDK's own shutdown is bounded (2 s grace, 2 s TERM, then KILL)
STDERR_TAIL = 600


class _Server:
    def __init__(self, config: McpServerConfig) -> None:
        self.config = config
        self.state = "starting"
        self.error = ""
        self.tools: dict[str, str] = {}  # our name -> the server's name
        self.session: Any = None
        self.task: asyncio.Task[None] | None = None
        self.stop = asyncio.Event()
        self.go = asyncio.Event()  # begin now, whatever the gate says (a call needs it)
        self.settled = asyncio.Event()  # ready or failed
        self.errlog: Any = None


class McpManager:
    def __init__(self, *, root: Path, env: Mapping[str, str], registry: Any,
                 emit: Callable[[ev.Event], None], redact: Callable[[str], str] | None = None) -> None:
        self.root = Path(root)
        self.env = dict(env)
        self.registry = registry
        self._emit = emit
        self._redact = redact or (lambda s: s)
        self.servers: dict[str, _Server] = {}
        self._closed = False
        self._gates: list[asyncio.Future[Any]] = []
        self._sdk: asyncio.Future[Any] | None = None
        self._relists: set[asyncio.Future[Any]] = set()  # kept referenced until done
        if hasattr(registry, "unknown_hint"):
            registry.unknown_hint = self._unknown_hint

    def _unknown_hint(self, name: str) -> str | None:
        """Why mcp__SERVER__… is not a tool: the server failed, or is still starting."""
        if not name.startswith(MCP_PREFIX):
            return None
        server = self.servers.get(name[len(MCP_PREFIX):].split("__", 1)[0])
        if server is None:
            return f"no MCP server is named {name[len(MCP_PREFIX):].split('__', 1)[0]!r}"
        if server.state == "failed":
            return f"MCP server {server.config.name!r} failed: {server.error}"
        if server.state == "starting":
            return f"MCP server {server.config.name!r} is still starting"
        return f"MCP server {server.config.name!r} has no such tool"

    # -- public ------------------------------------------------------------------------------
    def start(self, configs: Iterable[McpServerConfig], *, gate: Awaitable[Any] | None = None) -> None:
        """Start each enabled server in the background (needs a running event loop). With a
        `gate`, the servers are "starting" at once but begin only when it resolves (the session
        passes "the first model request has left", so they never delay it); a call to one of
        their tools opens it early."""
        go = asyncio.ensure_future(gate) if gate is not None else None
        if go is not None:
            self._gates.append(go)
        for config in configs:
            if not config.enabled or self._closed:
                continue
            if config.name in self.servers:
                self._emit(ev.Warning(f"MCP server {config.name!r} is configured twice; the "
                                      "first one is used"))
                continue
            server = self.servers[config.name] = _Server(config)
            server.task = asyncio.create_task(self._serve(server, go), name=f"mcp-{config.name}")

    def loading(self) -> list[str]:
        return [n for n, s in self.servers.items() if s.state == "starting"]

    def statuses(self) -> list[ev.McpServerStatus]:
        return [self._event(s) for s in self.servers.values()]

    async def wait_ready(self, timeout: float | None = None) -> None:
        """Until every server is ready or failed (tests, benchmarks; the session never waits)."""
        waits = [s.settled.wait() for s in self.servers.values()]
        if waits:
            await asyncio.wait_for(asyncio.gather(*waits), timeout)

    async def wait_for_tool(self, name: str) -> None:
        """The model called mcp__SERVER__… before SERVER was ready (it knows the server from
        the system prompt): wait for that server to be ready or failed, within its start-up
        timeout, so the call runs (or fails with the server's own error)."""
        if not name.startswith(MCP_PREFIX):
            return
        server = self.servers.get(name[len(MCP_PREFIX):].split("__", 1)[0])
        if server is None or server.settled.is_set():
            return
        server.go.set()  # needed now: do not wait for the gate
        try:
            await asyncio.wait_for(server.settled.wait(), server.config.startup_timeout_sec + 1)
        except asyncio.TimeoutError:
            pass

    async def aclose(self) -> None:
        """Stop every server and wait for its process to end."""
        self._closed = True
        for server in self.servers.values():
            server.stop.set()
        tasks = [s.task for s in self.servers.values() if s.task is not None and not s.task.done()]
        if tasks:
            _, pending = await asyncio.wait(tasks, timeout=CLOSE_TIMEOUT)
            for task in pending:  # only an unkillable process gets here; the SDK logged it
                task.cancel()
        for gate in self._gates:
            gate.cancel()
        for server in self.servers.values():
            self._drop_tools(server)

    # -- one server --------------------------------------------------------------------------
    async def _serve(self, server: _Server, gate: asyncio.Future[Any] | None) -> None:
        cfg = server.config
        self._set(server, "starting")
        try:
            if not await self._begin(server, gate):
                return  # stopped before it began
            import anyio
            from mcp import ClientSession

            async with AsyncExitStack() as stack:
                try:
                    read, write = await self._open(cfg, server, stack)
                    session = await stack.enter_async_context(
                        ClientSession(read, write, logging_callback=_ignore_log,
                                      message_handler=self._on_message(server)))
                    # Ends the start-up early when the manager closes (a slow server at exit).
                    with anyio.CancelScope() as scope:
                        stopper = asyncio.ensure_future(_cancel_on(server.stop, scope))
                        try:
                            with anyio.fail_after(cfg.startup_timeout_sec):
                                await session.initialize()
                                tools = await _list_tools(session)
                        finally:
                            stopper.cancel()
                    if scope.cancelled_caught:
                        return
                except Exception as exc:  # noqa: BLE001 - any start-up failure is reported
                    self._fail(server, self._why(exc, server, f"did not start within "
                                                 f"{cfg.startup_timeout_sec:g} s"))
                    return
                server.session = session
                self._register(server, tools)
                self._set(server, "ready")
                await server.stop.wait()
        except Exception as exc:  # noqa: BLE001 - a teardown error must not escape the task
            if server.state != "failed":
                self._fail(server, self._why(exc, server, "stopped"), warn=not self._closed)
        finally:
            server.session = None
            server.settled.set()
            if server.errlog is not None:
                server.errlog.close()
            if self._closed and server.state in ("ready", "starting"):
                self._set(server, "stopped")

    async def _begin(self, server: _Server, gate: asyncio.Future[Any] | None) -> bool:
        """Wait for the gate (or a call that needs the server), then load the SDK off the event
        loop: importing it takes seconds on a busy machine. False: stopped meanwhile."""
        waits = [asyncio.ensure_future(server.stop.wait())]
        if gate is not None and not gate.done():
            waits += [gate, asyncio.ensure_future(server.go.wait())]
            await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        if not server.stop.is_set():
            if self._sdk is None:
                self._sdk = asyncio.ensure_future(asyncio.to_thread(_import_sdk))
            await asyncio.wait([self._sdk, waits[0]], return_when=asyncio.FIRST_COMPLETED)
        for w in waits:
            if w is not gate:
                w.cancel()
        return not server.stop.is_set()

    async def _open(self, cfg: McpServerConfig, server: _Server, stack: AsyncExitStack) -> Any:
        if cfg.url:
            from mcp.client.streamable_http import streamable_http_client
            from mcp.shared._httpx_utils import create_mcp_http_client

            http = await stack.enter_async_context(create_mcp_http_client(headers=dict(cfg.headers)))
            return await stack.enter_async_context(streamable_http_client(cfg.url, http_client=http))
        from mcp.client.stdio import StdioServerParameters, stdio_client

        env = server_env(cfg, self.env)
        assert cfg.command
        if shutil.which(cfg.command, path=env.get("PATH", os.defpath)) is None:
            raise _StartError(f"command not found: {cfg.command!r} (on the server's PATH)")
        command, args = cfg.command, list(cfg.args)
        if sys.platform.startswith("linux") and shutil.which("setpriv"):
            # The kernel kills the server when the agent dies, even by SIGKILL.
            command, args = shutil.which("setpriv") or "setpriv", ["--pdeathsig", "KILL", "--", command, *args]
        server.errlog = tempfile.TemporaryFile("w+", encoding="utf-8", errors="replace")
        params = StdioServerParameters(command=command, args=args, env=env, cwd=str(self.root))
        return await stack.enter_async_context(stdio_client(params, errlog=server.errlog))

    def _register(self, server: _Server, tools: list[Any]) -> None:
        name = server.config.name
        for tool in tools:
            ours = tool_name(name, tool.name)
            if ours in self.registry or ours in server.tools:
                self._emit(ev.Warning(f"MCP server {name!r}: tool {tool.name!r} skipped: the name "
                                      f"{ours} is already taken"))
                continue
            # What the server says about its tools goes to the model: redacted like the rest.
            redact_obj = getattr(self._redact, "obj", None)
            schema = redact_obj(tool.input_schema) if redact_obj is not None else tool.input_schema
            self.registry.add_external(
                ours, self._redact(tool.description or ""), schema,
                self._runner(server, tool.name), origin=f"MCP server {name}")
            server.tools[ours] = tool.name

    def _drop_tools(self, server: _Server) -> None:
        for ours in server.tools:
            self.registry.remove(ours)

    def _on_message(self, server: _Server) -> Callable[[Any], Any]:
        async def handle(message: Any) -> None:
            # The server's tools changed: list them again, apart from the dispatcher that
            # delivers this (the answer comes through it too).
            if type(message).__name__ == "ToolListChangedNotification" and server.state == "ready":
                self._relists.add(asyncio.ensure_future(self._relist(server)))
        return handle

    async def _relist(self, server: _Server) -> None:
        try:
            tools = await asyncio.wait_for(_list_tools(server.session),
                                           server.config.startup_timeout_sec)
        except Exception as exc:  # noqa: BLE001 - keep the tools we had
            self._emit(ev.Warning(f"MCP server {server.config.name!r}: its changed tool list "
                                  f"could not be read ({type(exc).__name__}: {exc})"))
            return
        if server.state != "ready":
            return
        self._drop_tools(server)
        server.tools = {}
        self._register(server, tools)
        self._set(server, "ready")  # the new tool count

    def _runner(self, server: _Server, remote: str) -> Callable[[dict[str, Any], ToolContext], Any]:
        async def run(arguments: dict[str, Any], ctx: ToolContext) -> ToolResult:
            return await self.call(server.config.name, remote, arguments, ctx)
        return run

    async def call(self, name: str, remote: str, arguments: dict[str, Any],
                   ctx: ToolContext | None = None) -> ToolResult:
        """Run one tool; every failure is a result the model can read, never an exception."""
        server = self.servers.get(name)
        if server is None or server.session is None or server.state == "failed":
            why = server.error if server is not None and server.error else "it is not running"
            return ToolResult(f"MCP server {name!r} cannot run {remote}: {why}", is_error=True,
                              metadata={"mcp_server": name, "mcp_unavailable": True})
        timeout = server.config.tool_timeout_sec
        call = asyncio.ensure_future(server.session.call_tool(remote, arguments))
        stopped = asyncio.ensure_future(server.stop.wait())
        waits: set[asyncio.Future[Any]] = {call, stopped}
        if ctx is not None and ctx.cancel is not None:
            waits.add(asyncio.ensure_future(ctx.cancel.wait()))
        try:
            done, _ = await asyncio.wait(waits, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for f in waits - {call}:
                f.cancel()
        meta: dict[str, Any] = {"mcp_server": name, "mcp_tool": remote}
        if call not in done:
            call.cancel()
            if not done:
                # The server may be stuck for good: say so, keep it (a later call may work).
                self._emit(ev.Warning(f"MCP server {name!r}: {remote} timed out after {timeout:g} s"))
                return ToolResult(f"MCP server {name!r}: {remote} did not answer within "
                                  f"{timeout:g} s (tool_timeout_sec); it was abandoned",
                                  is_error=True, metadata={**meta, "timed_out": True})
            return ToolResult(f"MCP call {remote} on {name!r} was cancelled", is_error=True,
                              metadata={**meta, "cancelled": True})
        try:
            result = call.result()
        except Exception as exc:  # noqa: BLE001 - the model gets a message, the session goes on
            from mcp import MCPError

            if isinstance(exc, MCPError) and not _connection_lost(exc):
                return ToolResult(f"MCP server {name!r} refused {remote}: {exc}", is_error=True,
                                  metadata=meta)
            why = self._why(exc, server, "the connection was lost")
            self._fail(server, f"died during {remote}: {why}")
            return ToolResult(f"MCP server {name!r} failed during {remote}: {why}. Its tools are "
                              "unavailable for the rest of this session.", is_error=True,
                              metadata={**meta, "mcp_unavailable": True})
        return ToolResult(render_result(result), is_error=bool(getattr(result, "is_error", False)),
                          metadata=meta)

    # -- state -------------------------------------------------------------------------------
    def _event(self, server: _Server) -> ev.McpServerStatus:
        return ev.McpServerStatus(server.config.name, server.state, len(server.tools),
                                  server.error, server.config.transport)

    def _set(self, server: _Server, state: str) -> None:
        server.state = state
        if state in ("ready", "failed"):
            server.settled.set()
        self._emit(self._event(server))

    def _fail(self, server: _Server, why: str, *, warn: bool = True) -> None:
        if server.state == "failed":
            return
        server.error = self._redact(why)
        self._set(server, "failed")
        if warn:
            tools = f"; its {len(server.tools)} tools are unavailable" if server.tools else ""
            self._emit(ev.Warning(f"MCP server {server.config.name!r} failed: {server.error}{tools}"))

    def _why(self, exc: BaseException, server: _Server, timeout_text: str) -> str:
        leaf = _leaf(exc)
        if isinstance(leaf, TimeoutError):
            text = timeout_text
        elif isinstance(leaf, _StartError):
            text = str(leaf)
        elif _connection_lost(leaf):
            text = "the server exited or closed its connection"
        else:
            text = f"{type(leaf).__name__}: {leaf}".rstrip(": ")
        tail = _tail(server.errlog)
        return f"{text}; its stderr ends: {tail}" if tail else text


class _StartError(Exception):
    pass


def _import_sdk() -> None:
    import mcp  # noqa: F401 - the package and the client modules the manager uses
    import mcp.client.stdio  # noqa: F401
    import mcp.client.streamable_http  # noqa: F401


async def _cancel_on(event: asyncio.Event, scope: Any) -> None:
    await event.wait()
    scope.cancel()


async def _ignore_log(params: Any) -> None:
    """Server log notifications: not shown (a chatty server must not flood the TUI)."""


async def _list_tools(session: Any) -> list[Any]:
    from mcp.types import PaginatedRequestParams

    tools: list[Any] = []
    cursor = None
    for _ in range(50):  # a server paging forever must not hang the start
        result = await session.list_tools(params=PaginatedRequestParams(cursor=cursor) if cursor else None)
        tools += list(result.tools)
        cursor = result.next_cursor
        if not cursor:
            break
    return tools


_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")


def tool_name(server: str, tool: str) -> str:
    """mcp__SERVER__TOOL, in the characters and length every provider accepts."""
    prefix = f"{MCP_PREFIX}{server}__"
    return prefix + (_UNSAFE.sub("_", tool) or "_")[: TOOL_NAME_MAX - len(prefix)]


def render_result(result: Any) -> str:
    """A tools/call result as text for the model: text blocks as they are, the rest named."""
    parts: list[str] = []
    for block in getattr(result, "content", None) or []:
        kind = getattr(block, "type", "")
        if kind == "text":
            parts.append(block.text)
        elif kind in ("image", "audio"):
            parts.append(f"[{kind} {block.mime_type}, {len(block.data) * 3 // 4:,} bytes, not shown]")
        elif kind == "resource":
            res = block.resource
            text = getattr(res, "text", None)
            parts.append(f"[resource {res.uri}]\n{text}" if text is not None
                         else f"[resource {res.uri}: binary, not shown]")
        elif kind == "resource_link":
            parts.append(f"[resource link {block.uri}]")
        else:
            parts.append(f"[{kind or 'unknown'} content, not shown]")
    structured = getattr(result, "structured_content", None)
    if not parts and structured is not None:
        import json

        parts.append(json.dumps(structured, ensure_ascii=False, default=str))
    return "\n".join(parts) if parts else "(no output)"


def _leaf(exc: BaseException) -> BaseException:
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    return exc


def _connection_lost(exc: BaseException) -> bool:
    from mcp_types import CONNECTION_CLOSED

    error = getattr(exc, "error", None)
    return getattr(error, "code", None) == CONNECTION_CLOSED or "connection closed" in str(exc).lower()


def _tail(errlog: Any) -> str:
    if errlog is None or errlog.closed:
        return ""
    try:
        errlog.flush()
        errlog.seek(0)
        text = errlog.read()
    except (OSError, ValueError):
        return ""
    text = " ".join(text.split())
    return ("…" + text[-STDERR_TAIL:]) if len(text) > STDERR_TAIL else text


def prompt_note(configs: Iterable[McpServerConfig]) -> str:
    """For the system prompt: which servers are configured; their tools arrive when ready."""
    names = [c.name for c in configs if c.enabled]
    if not names:
        return ""
    return (f"MCP servers: {', '.join(names)}. Their tools are named mcp__SERVER__TOOL and are "
            "added to your tool list as each server finishes starting; one still starting has "
            "no tools yet.")
