"""Each tool call described once, by its tool, for every front-end (card, dialog, headless).

`describe_call` asks the tool what a call would do (off the event loop: an edit tool reads the
file to compute the exact diff); `outcome` is what the finished call did. Front-ends show these
fields of ToolCallStarted / ApprovalRequested / ToolCallFinished and never re-derive them.
"""
from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING

from realcost_agent.tools.base import Description, Tool, ToolResult

if TYPE_CHECKING:
    from realcost_agent.agent.events import ToolCallFinished
    from realcost_agent.tools.params import ToolParams  # pydantic: only when a tool is used


async def describe_call(tool: Tool, params: ToolParams, root: Path) -> Description:
    try:
        return await asyncio.to_thread(tool.describe, params, root)
    except Exception as exc:  # noqa: BLE001 - a description must never stop the call
        return Description(f"({type(exc).__name__} while describing the call)")


def outcome(call: Description, result: ToolResult) -> Description:
    """What the call did: the tool's own account, else the call's description with its result."""
    if result.description is not None and not result.is_error:
        return result.description
    meta = result.metadata
    if result.is_error:
        first = (result.output.strip().splitlines() or ["error"])[0][:160]
        return Description(first, call.paths)
    summary = call.summary
    if meta.get("exit_code") is not None:
        summary = f"{summary} · exit {meta['exit_code']}"
    changed = tuple(meta.get("files_changed") or ())
    return Description(summary, changed or call.paths)


def finished_mark(event: "ToolCallFinished") -> tuple[bool, str]:
    """The one verdict every surface shows for a finished call: (ok, label). A command that ran
    and exited non-zero is not ok, whatever the tool call itself did."""
    meta = event.metadata or {}
    if meta.get("denied"):
        return False, "denied"
    if meta.get("not_run"):
        return False, "not run"
    if meta.get("exit_code") is not None:
        code = meta["exit_code"]
        return code == 0, f"exit {code}"
    if event.is_error:
        return False, "error"
    if event.added is not None:  # the tool's own count of its change
        return True, f"+{event.added} -{event.removed}"
    lines = len(event.output.splitlines())
    return True, f"{lines} line{'s' if lines != 1 else ''}"
