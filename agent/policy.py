"""Approval policy (the child-process environment: tools/childenv.py; redaction: agent/secrets.py).

Approval modes: read-only (no mutating tool runs), suggest (ask before every mutating tool),
auto-edit (edits run, commands are asked), full-auto (nothing asked; still confined to the root).
Headless sessions never prompt: what would be asked is denied and the model is told why.
"""
from __future__ import annotations

from realcost_agent.records import record


COMMAND_TOOLS = frozenset({"run_command"})
# Tools from MCP servers (agent/mcp_client.py) are named mcp__SERVER__TOOL.
MCP_PREFIX = "mcp__"


def asks_in_auto_edit(tool_name: str) -> bool:
    """Commands and MCP tools: they can do anything, so auto-edit asks before them."""
    return tool_name in COMMAND_TOOLS or tool_name.startswith(MCP_PREFIX)


@record(frozen=True)
class Decision:
    action: str  # "allow" | "ask" | "deny"
    reason: str = ""


def decide(mode: str, tool_name: str, mutating: bool, *, approved_for_session: bool) -> Decision:
    if not mutating:
        return Decision("allow")
    if mode == "read-only":
        return Decision("deny", f"approval mode is read-only: {tool_name} may change files")
    if approved_for_session or mode == "full-auto":
        return Decision("allow")
    if mode == "auto-edit" and not asks_in_auto_edit(tool_name):
        return Decision("allow")
    return Decision("ask", f"approval mode {mode} asks before {tool_name}")


