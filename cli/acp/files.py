"""The editor's files for the agent's tools, when the client offers `fs/read_text_file` and
`fs/write_text_file`: read_file and edit see unsaved buffers, edits land in the editor (which
writes them to disk, so commands and checks see them too).

The tools run in worker threads (asyncio.to_thread) and call this synchronously; each call is
one request on the connection's event loop. A client that fails or times out falls back to
the disk, so an edit is never lost: a read returns None (read the disk), a write False (write
the disk). Paths stay those the tool already resolved and confined to the project.
"""
from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

log = logging.getLogger("realcost_agent.acp")

TIMEOUT = 30.0  # seconds for one client file request


class ClientFiles:
    def __init__(self, conn: Any, loop: asyncio.AbstractEventLoop, *, read: bool, write: bool,
                 timeout: float = TIMEOUT) -> None:
        self.conn = conn
        self.loop = loop
        self.can_read = read
        self.can_write = write
        self.timeout = timeout
        self.session_id = ""  # set once the core session has its id
        self.reads = 0
        self.writes = 0

    def _call(self, coro: Any) -> Any:
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            pass
        else:  # on the loop itself a blocking wait would deadlock: the caller uses the disk
            coro.close()
            raise RuntimeError("client file call from the event loop")
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(self.timeout)

    def read(self, path: Path) -> str | None:
        if not self.can_read or not self.session_id:
            return None
        try:
            response = self._call(self.conn.read_text_file(path=str(path), session_id=self.session_id))
        except Exception as exc:  # noqa: BLE001 - the disk is always there
            log.warning("fs/read_text_file %s failed (%s): reading the disk", path, exc)
            return None
        self.reads += 1
        content = getattr(response, "content", None)
        return content if isinstance(content, str) else None

    def write(self, path: Path, text: str) -> bool:
        if not self.can_write or not self.session_id:
            return False
        try:
            self._call(self.conn.write_text_file(content=text, path=str(path), session_id=self.session_id))
        except Exception as exc:  # noqa: BLE001 - never lose the edit
            log.warning("fs/write_text_file %s failed (%s): writing the disk", path, exc)
            return False
        self.writes += 1
        return True


def for_client(conn: Any, caps: Any) -> ClientFiles | None:
    """A ClientFiles when the client offers either fs method, else None (the agent's own I/O)."""
    fs = getattr(caps, "fs", None)
    read, write = bool(getattr(fs, "read_text_file", False)), bool(getattr(fs, "write_text_file", False))
    if not (read or write):
        return None
    return ClientFiles(conn, asyncio.get_running_loop(), read=read, write=write)
