"""Journaled sessions for ACP: `session/list` reads them, `session/load` replays one."""
from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any, Mapping

from acp import schema as s
from acp.helpers import (
    start_tool_call,
    text_block,
    tool_content,
    update_agent_message_text,
    update_tool_call,
    update_user_message_text,
)

from realcost_agent.cli.acp.mapping import tool_kind

MAP_MARK = "\n\nRepository map ("  # the agent's own addition to a task's first prompt
MAX_LISTED = 100
HEAD_LINES = 40  # journal lines read for a title: the meta line and the first prompt


def user_text(content: Any) -> str:
    return content.split(MAP_MARK, 1)[0] if isinstance(content, str) else ""


def _summary(path: Path) -> tuple[str, str]:
    """(project root, title) from a journal's first lines; a torn or odd journal gives ''."""
    root = title = ""
    try:
        with open(path, "rb") as fh:
            for _, raw in zip(range(HEAD_LINES), fh):
                try:
                    record = json.loads(raw)
                except ValueError:
                    continue
                if record.get("k") == "meta":
                    root = str(record.get("root") or "")
                elif record.get("k") == "msg" and (record.get("m") or {}).get("role") == "user":
                    title = " ".join(user_text(record["m"].get("content")).split())[:120]
                    break
    except OSError:
        pass
    return root, title


def data_dir(env: Mapping[str, str]) -> Path:
    """The agent's data folder (tools/paths.py)."""
    from realcost_agent.tools.paths import data_dir as find

    return find(env)


def list_sessions(cwd: str | None, env: Mapping[str, str]) -> list[s.SessionInfo]:
    """The newest journals first: of `cwd`'s project, or of every project when None."""
    from realcost_agent.agent.journal import sessions_dir

    if cwd:
        dirs = [sessions_dir(Path(cwd), env)]
    else:
        base = data_dir(env) / "sessions"
        dirs = [d for d in base.iterdir() if d.is_dir()] if base.is_dir() else []
    files: list[tuple[float, Path]] = []
    for d in dirs:
        for path in d.glob("*.jsonl"):
            try:
                files.append((path.stat().st_mtime, path))
            except OSError:
                continue
    out = []
    for mtime, path in sorted(files, reverse=True)[:MAX_LISTED]:
        root, title = _summary(path)
        if not root or (cwd and Path(root) != Path(cwd).resolve()):
            continue
        out.append(s.SessionInfo(
            session_id=path.stem, cwd=root, title=title or None,
            updated_at=dt.datetime.fromtimestamp(mtime, dt.timezone.utc).isoformat()))
    return out


async def replay(conn: Any, session_id: str, messages: list[dict[str, Any]]) -> None:
    """The protocol's load: the whole conversation streamed back before the response."""
    async def send(update: Any) -> None:
        await conn.session_update(session_id=session_id, update=update)

    for m in messages:
        role, content = m.get("role"), m.get("content")
        text = content if isinstance(content, str) else ""
        if role == "user" and text:
            await send(update_user_message_text(user_text(text)))
        elif role == "assistant":
            if text:
                await send(update_agent_message_text(text))
            for call in m.get("tool_calls") or []:
                fn = call.get("function") or {}
                name = str(fn.get("name", "tool"))
                await send(start_tool_call(str(call.get("id")), name, kind=tool_kind(name),
                                           status="completed", raw_input=fn.get("arguments")))
        elif role == "tool" and text and m.get("tool_call_id"):
            await send(update_tool_call(str(m["tool_call_id"]),
                                        content=[tool_content(text_block(text[:4000]))]))
