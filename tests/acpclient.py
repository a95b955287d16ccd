"""An ACP client for tests and bench/: the official SDK's client side (acp.spawn_agent_process)
spawning the real `agent acp` binary, recording every update and answering permission requests
from a script."""
from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

from acp import PROTOCOL_VERSION, spawn_agent_process
from acp import schema as s

from agentproc import AGENT, agent_env


class RecordingClient:
    """Implements acp.interfaces.Client: keeps what the agent sends, in order."""

    def __init__(self, answers: list[str] | None = None) -> None:
        self.updates: list[tuple[float, str, Any]] = []  # (monotonic time, session id, update)
        self.permissions: list[Any] = []  # RequestPermissionRequest-like (options, tool_call)
        self.answers = list(answers or [])  # option ids to choose, in order; none left: cancel
        self.ext: list[tuple[str, dict]] = []
        self.got_update = asyncio.Event()
        self.asked = asyncio.Event()

    def on_connect(self, conn: Any) -> None:
        self.conn = conn

    async def session_update(self, session_id: str, update: Any, **kwargs: Any) -> None:
        self.updates.append((time.monotonic(), session_id, update))
        self.got_update.set()

    async def request_permission(self, options: list[Any], session_id: str, tool_call: Any,
                                 **kwargs: Any) -> s.RequestPermissionResponse:
        self.permissions.append((options, tool_call))
        self.asked.set()
        if not self.answers:
            return s.RequestPermissionResponse(outcome=s.DeniedOutcome(outcome="cancelled"))
        choice = self.answers.pop(0)
        return s.RequestPermissionResponse(outcome=s.AllowedOutcome(outcome="selected", option_id=choice))

    async def ext_notification(self, method: str, params: dict) -> None:
        self.ext.append((method, params))

    async def ext_method(self, method: str, params: dict) -> dict:
        return {}

    # The client offers neither fs nor terminal: the agent must use its own tools.
    async def read_text_file(self, *a: Any, **k: Any) -> Any:
        raise AssertionError("fs/read_text_file was not offered")

    async def write_text_file(self, *a: Any, **k: Any) -> Any:
        raise AssertionError("fs/write_text_file was not offered")

    async def create_terminal(self, *a: Any, **k: Any) -> Any:
        raise AssertionError("terminal/* was not offered")

    def kinds(self, session_id: str | None = None) -> list[str]:
        return [u.session_update for _, sid, u in self.updates if session_id in (None, sid)]

    def of(self, kind: str) -> list[Any]:
        return [u for _, _, u in self.updates if u.session_update == kind]

    def text(self, kind: str = "agent_message_chunk") -> str:
        return "".join(u.content.text for u in self.of(kind) if getattr(u.content, "text", None))


def spawn(client: RecordingClient, root: Path, *args: str, **env: str):
    """The `agent acp` process and the SDK's connection to it (an async context manager)."""
    return spawn_agent_process(client, AGENT, "acp", *args, cwd=str(root),
                               env=agent_env(root, **env))


async def handshake(conn: Any) -> s.InitializeResponse:
    return await conn.initialize(
        protocol_version=PROTOCOL_VERSION,
        client_capabilities=s.ClientCapabilities(fs=s.FileSystemCapabilities(), terminal=False),
        client_info=s.Implementation(name="sdk-test-client", version="0"),
    )


def text_prompt(text: str) -> list[s.TextContentBlock]:
    return [s.TextContentBlock(type="text", text=text)]
