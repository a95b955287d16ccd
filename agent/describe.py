"""Each tool call described once, by its tool, for every front-end (card, dialog, headless).

`describe_call` asks the tool what a call would do (off the event loop: an edit tool reads the
file to compute the exact diff); `outcome` is what the finished call did. Front-ends show these
fields of ToolCallStarted / ApprovalRequested / ToolCallFinished and never re-derive them.
"""
from __future__ import annotations

import asyncio
from pathlib import Path

from tools.base import Description, Tool, ToolParams, ToolResult


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
