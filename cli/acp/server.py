"""The ACP agent: the protocol's requests on one side, core Sessions on the other.

    agent acp [--model M] [--api-base URL] [--approval MODE] [--trust] ...

stdin/stdout carry JSON-RPC only: the real stdout is kept for the protocol and fd 1 is pointed
at stderr, so a stray print (ours or a library's) can never corrupt the stream. Logs go to
<data dir>/logs/acp.log.
"""
from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
import time
from pathlib import Path
from typing import Any, Callable, Mapping

from acp import PROTOCOL_VERSION, RequestError
from acp import schema as s
from acp.core import AgentSideConnection
from acp.helpers import update_agent_message_text

from realcost_agent.cli.acp import commands, history, mcp
from realcost_agent.cli.acp import files as client_files
from realcost_agent.cli.acp.session import AcpSession, usage_payload

log = logging.getLogger("realcost_agent.acp")

INVALID_PARAMS, INVALID_REQUEST, INTERNAL = -32602, -32600, -32603


class RealCostAgent:
    """Implements acp.interfaces.Agent. One process serves one client, any number of sessions."""

    def __init__(self, flags: Mapping[str, Any], *, trust: bool = False,
                 env: Mapping[str, str] | None = None) -> None:
        self.flags = dict(flags)
        self.trust = trust
        self.env = dict(os.environ if env is None else env)
        self.conn: Any = None
        self.client_caps: s.ClientCapabilities | None = None
        self.sessions: dict[str, AcpSession] = {}
        self.initialized_at: float | None = None

    def on_connect(self, conn: Any) -> None:
        self.conn = conn

    # -- handshake ---------------------------------------------------------------------------
    async def initialize(self, protocol_version: int, client_capabilities: Any = None,
                         client_info: Any = None, **kwargs: Any) -> s.InitializeResponse:
        from realcost_agent.agent.version import __version__

        self.initialized_at = time.monotonic()
        self.client_caps = client_capabilities
        log.info("initialize: client %s, protocol %s, capabilities %s", client_info,
                 protocol_version, client_capabilities)
        # Honest: what this build does. Images/audio are not sent to the model; MCP servers
        # the editor passes are started by the core's MCP client (cli/acp/mcp.py).
        return s.InitializeResponse(
            protocol_version=PROTOCOL_VERSION,
            agent_capabilities=s.AgentCapabilities(
                load_session=True,
                session_capabilities=s.SessionCapabilities(list=s.SessionListCapabilities()),
                prompt_capabilities=s.PromptCapabilities(image=False, audio=False, embedded_context=True),
                mcp_capabilities=s.McpCapabilities(http=False, sse=False),
            ),
            agent_info=s.Implementation(name="realcost-agent", title="agent", version=__version__),
            auth_methods=[],
        )

    async def authenticate(self, method_id: str, **kwargs: Any) -> s.AuthenticateResponse:
        raise RequestError(INVALID_PARAMS, "no authentication methods: API keys are read from "
                           "the environment the editor starts `agent acp` with")

    # -- sessions ----------------------------------------------------------------------------
    def _root(self, cwd: str) -> Path:
        root = Path(cwd)
        if not root.is_absolute() or not root.is_dir():
            raise RequestError(INVALID_PARAMS, f"cwd must be an existing absolute directory, got {cwd!r}")
        return root.resolve()

    async def _open(self, cwd: str, mcp_servers: Any, resume: Any = None) -> AcpSession:
        from realcost_agent.agent.config import ConfigError, load_settings
        from realcost_agent.agent.recorder import attach_ledger
        from realcost_agent.agent.session import Session
        from realcost_agent.agent.preflight import model_problem

        root = self._root(cwd)
        try:
            servers = mcp.validate(mcp_servers)
        except mcp.McpConfigError as exc:
            raise RequestError(INVALID_PARAMS, str(exc)) from None
        warnings: list[str] = []
        try:
            # No trust screen here: an untrusted project's own settings are ignored (warned),
            # exactly as headless does; `agent trust` in a terminal, or --trust, grants it.
            settings = load_settings(root, flags=self.flags, env=self.env, warnings=warnings,
                                     trust=True if self.trust else None)
            # The editor's buffers for read_file/edit/write_file when the client offers fs/*.
            files = client_files.for_client(self.conn, self.client_caps)
            core = Session(settings, root, interactive=True, env=self.env, resume=resume,
                           files=files)
        except ConfigError as exc:
            raise RequestError(INVALID_PARAMS, f"configuration error: {exc}") from None
        if files is not None:
            files.session_id = core.id
        problem = model_problem(core.model, core.env)  # the core's one preflight
        if problem is not None:  # said at session/new: the editor shows it before any prompt
            raise RequestError(INVALID_PARAMS, problem.message)
        outcome = settings.project_trust
        if outcome is not None and outcome.must_ask:
            warnings.append(f"this project's own settings were not applied: it is not trusted. "
                            f"Review and trust them with `agent trust {root}` in a terminal, "
                            "then start a new session")
        recorder = attach_ledger(core)  # before start(): the ledger sees SessionStarted
        session = AcpSession(self.conn, core, recorder=recorder,
                             model_choice=settings.model or "auto")
        session.mcp_servers = servers
        session.held.extend(warnings)
        # The editor's MCP servers: given before start(), the core's MCP client starts them with
        # its own (in the background) and names them in the system prompt (cli/acp/mcp.py).
        session.held.extend(mcp.attach_mcp_servers(core, servers))
        await core.start()
        session.start_pump()
        self.sessions[session.id] = session
        log.info("session %s in %s (%d MCP server(s) passed)", session.id, root, len(servers))
        return session

    async def _after_open(self, session: AcpSession) -> None:
        """Notifications that may only follow the session's response: the slash commands."""
        await asyncio.sleep(0)
        try:
            await self.conn.session_update(session_id=session.id, update=s.AvailableCommandsUpdate(
                session_update="available_commands_update", available_commands=commands.available()))
        except Exception as exc:  # noqa: BLE001
            log.warning("available commands not sent: %s", exc)

    async def new_session(self, cwd: str, additional_directories: Any = None,
                          mcp_servers: Any = None, **kwargs: Any) -> s.NewSessionResponse:
        session = await self._open(cwd, mcp_servers)
        asyncio.get_running_loop().call_soon(lambda: asyncio.ensure_future(self._after_open(session)))
        return s.NewSessionResponse(session_id=session.id, config_options=session.config_options(),
                                    modes=session.modes())

    async def load_session(self, cwd: str, session_id: str, mcp_servers: Any = None,
                           additional_directories: Any = None, **kwargs: Any) -> s.LoadSessionResponse:
        from realcost_agent.agent.journal import ResumeError, load_session

        if session_id in self.sessions:
            raise RequestError(INVALID_REQUEST, f"session {session_id} is already open")
        root = self._root(cwd)
        try:
            resumed = load_session(root, session_id, self.env)
        except ResumeError as exc:
            raise RequestError(INVALID_PARAMS, str(exc)) from None
        session = await self._open(cwd, mcp_servers, resume=resumed)
        # Safe after the core started: nothing is forwarded before a prompt but notices, held.
        await history.replay(self.conn, session_id, resumed.messages)
        asyncio.get_running_loop().call_soon(lambda: asyncio.ensure_future(self._after_open(session)))
        return s.LoadSessionResponse(config_options=session.config_options(), modes=session.modes())

    async def list_sessions(self, cwd: str | None = None, cursor: str | None = None,
                            **kwargs: Any) -> s.ListSessionsResponse:
        if cwd is not None:
            self._root(cwd)
        return s.ListSessionsResponse(sessions=history.list_sessions(cwd, self.env))

    def _session(self, session_id: str) -> AcpSession:
        session = self.sessions.get(session_id)
        if session is None:
            raise RequestError(INVALID_PARAMS, f"unknown session {session_id!r}")
        return session

    async def set_config_option(self, config_id: str, session_id: str, value: Any,
                                **kwargs: Any) -> s.SetSessionConfigOptionResponse:
        session = self._session(session_id)
        if config_id != "model" or not isinstance(value, str):
            raise RequestError(INVALID_PARAMS, f"unknown config option {config_id!r} (model)")
        await session.switch_model(value)
        asyncio.ensure_future(session.announce_model())
        return s.SetSessionConfigOptionResponse(config_options=session.config_options())

    async def set_session_mode(self, session_id: str, mode_id: str,
                               **kwargs: Any) -> s.SetSessionModeResponse:
        """Modes are the model choice too (the `model` config option's values)."""
        session = self._session(session_id)
        await session.switch_model(mode_id)
        asyncio.ensure_future(session.announce_model())
        return s.SetSessionModeResponse()

    # -- prompts -----------------------------------------------------------------------------
    async def prompt(self, session_id: str, prompt: list[Any], **kwargs: Any) -> s.PromptResponse:
        session = self._session(session_id)
        text = prompt_text(prompt)
        command = commands.parse(text)
        if command is not None:
            session.in_command = True
            try:
                answer = await commands.run(session, *command)
            finally:
                session.in_command = False
            await self.conn.session_update(session_id=session_id, update=update_agent_message_text(answer))
            return s.PromptResponse(stop_reason="end_turn")
        finished, figures, errors = await session.prompt(text)
        usage = usage_payload(session, figures)  # the prompt's turns together
        if finished is None or finished.reason == "error":
            raise RequestError(INTERNAL, errors[-1] if errors else
                               (finished.text if finished else "the prompt did not run"),
                               {"realcost": usage})
        from realcost_agent.cli.acp.mapping import stop_reason

        return s.PromptResponse(
            stop_reason=stop_reason(finished.reason),
            usage=s.Usage(total_tokens=figures.input_tokens + figures.output_tokens,
                          input_tokens=figures.input_tokens, output_tokens=figures.output_tokens,
                          thought_tokens=figures.reasoning_tokens or None,
                          cached_read_tokens=figures.cached_input_tokens or None),
            field_meta={"realcost": usage},
        )

    async def cancel(self, session_id: str, **kwargs: Any) -> None:
        session = self.sessions.get(session_id)
        if session is not None:
            session.cancel()

    async def ext_method(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        raise RequestError(-32601, f"unknown method _{method}")

    async def ext_notification(self, method: str, params: dict[str, Any]) -> None:
        log.info("ignored extension notification _%s", method)

    async def close_all(self) -> None:
        for session in list(self.sessions.values()):
            await session.close()
        self.sessions.clear()


def prompt_text(blocks: list[Any]) -> str:
    """The prompt's content blocks as one text: text as is, files the user attached (@-mentions)
    as their path, embedded text resources inline. Images/audio were not offered: refused."""
    parts: list[str] = []
    for block in blocks:
        kind = getattr(block, "type", "")
        if kind == "text":
            parts.append(block.text)
        elif kind == "resource_link":
            parts.append(f"@{_uri_path(block.uri)}")
        elif kind == "resource":
            res = block.resource
            if getattr(res, "text", None) is None:
                raise RequestError(INVALID_PARAMS, f"binary resource {res.uri} is not supported")
            parts.append(f"\n<file uri=\"{res.uri}\">\n{res.text}\n</file>\n")
        else:
            raise RequestError(INVALID_PARAMS, f"{kind or 'this'} content is not supported "
                               "(the prompt capabilities say so)")
    text = " ".join(p for p in parts if p).strip()
    if not text:
        raise RequestError(INVALID_PARAMS, "the prompt is empty")
    return text


def _uri_path(uri: str) -> str:
    from urllib.parse import unquote, urlparse

    parsed = urlparse(uri)
    return unquote(parsed.path) if parsed.scheme == "file" else uri


# -- process -----------------------------------------------------------------------------------
def _log_to_file(env: Mapping[str, str]) -> Path | None:
    path = history.data_dir(env) / "logs" / "acp.log"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handler: logging.Handler = logging.FileHandler(path, encoding="utf-8")
    except OSError:
        handler, path = logging.NullHandler(), None
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO if env.get("AGENT_ACP_DEBUG") else logging.WARNING)
    log.setLevel(logging.INFO)
    return path


async def _protocol_streams() -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """stdin for reading; a private copy of stdout for writing, then fd 1 -> stderr."""
    loop = asyncio.get_running_loop()
    proto_fd = os.dup(1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    reader = asyncio.StreamReader(limit=50 * 1024 * 1024)
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    # A StreamReaderProtocol gives the writer flow control (drain waits while the pipe is full).
    protocol = asyncio.StreamReaderProtocol(asyncio.StreamReader())
    transport, _ = await loop.connect_write_pipe(lambda: protocol, os.fdopen(proto_fd, "wb", 0))
    return reader, asyncio.StreamWriter(transport, protocol, None, loop)


async def serve(flags: Mapping[str, Any], *, trust: bool = False) -> int:
    agent = RealCostAgent(flags, trust=trust)
    reader, writer = await _protocol_streams()
    conn = AgentSideConnection(agent, writer, reader, listening=False)
    listening = asyncio.ensure_future(conn.listen())  # until the client closes stdin
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):  # the editor stops us: clean up
        try:
            loop.add_signal_handler(sig, listening.cancel)
        except (NotImplementedError, RuntimeError):  # pragma: no cover
            pass
    try:
        await listening
    except asyncio.CancelledError:
        log.info("stopped by a signal")
    finally:
        await agent.close_all()
        await asyncio.shield(conn.close())
    return 0


def main(flags: Mapping[str, Any], *, trust: bool = False) -> int:
    path = _log_to_file(os.environ)
    log.info("agent acp starting (log %s)", path)
    try:
        return asyncio.run(serve(flags, trust=trust))
    except KeyboardInterrupt:
        return 130


def cli_main(argv: list[str], common: Callable[[Any], None],
             flags: Callable[[Any], Mapping[str, Any]]) -> int:
    """`agent acp [flags]`: the same model, backend, approval and sandbox flags as `agent`
    (`common` adds them, `flags` reads them: the CLI's own, passed in so this module imports
    no front-end); the project directory is each session's cwd (session/new), not -C."""
    import argparse

    parser = argparse.ArgumentParser(
        prog="agent acp",
        description="Run the agent as an Agent Client Protocol server on stdin/stdout, for "
        "editors and clients such as Zed, JetBrains IDEs and Toad. Logs: <data dir>/logs/acp.log.")
    common(parser)
    for action in parser._actions:  # the client gives each session's folder and load
        if action.dest in ("cd", "resume"):
            action.help = argparse.SUPPRESS
    args = parser.parse_args(argv)
    if args.resume or args.cd:
        parser.error("--resume and -C do not apply: the client sends session/load and cwd")
    if sys.stdin is not None and sys.stdin.isatty():
        print("agent acp speaks JSON-RPC on stdin/stdout: start it from an ACP client "
              "(Zed, a JetBrains IDE, Toad), not a terminal", file=sys.stderr)
        return 2
    return main(flags(args), trust=bool(args.trust))
