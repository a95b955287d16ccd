"""Approval policy and the child-process environment (secret redaction: agent/secrets.py).

Approval modes: read-only (no mutating tool runs), suggest (ask before every mutating tool),
auto-edit (edits run, commands are asked), full-auto (nothing asked; still confined to the root).
Headless sessions never prompt: what would be asked is denied and the model is told why.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Mapping

SECRET_NAME = re.compile(r"KEY|SECRET|TOKEN|PASSWORD|PASSWD|CREDENTIAL|AUTH", re.IGNORECASE)
# Environment variables that match SECRET_NAME but hold no secret and that tools need.
_NOT_SECRET = {"SSH_AUTH_SOCK", "GPG_AGENT_INFO", "KEYTIMEOUT"}
COMMAND_TOOLS = frozenset({"run_command"})
# Tools from MCP servers (agent/mcp_client.py) are named mcp__SERVER__TOOL.
MCP_PREFIX = "mcp__"


def asks_in_auto_edit(tool_name: str) -> bool:
    """Commands and MCP tools: they can do anything, so auto-edit asks before them."""
    return tool_name in COMMAND_TOOLS or tool_name.startswith(MCP_PREFIX)


@dataclass(frozen=True)
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


def is_secret_name(name: str) -> bool:
    return bool(SECRET_NAME.search(name)) and name not in _NOT_SECRET


# Values that are secrets whatever their variable is called: a password in a URL
# (DATABASE_URL=postgres://u:p@h/db) and the known key formats.
_SECRET_VALUE = re.compile(
    r"[a-z][a-z0-9+.-]*://[^/\s:@]+:[^/\s@]+@"
    r"|\b(?:sk-(?:or-|proj-|ant-)?[A-Za-z0-9_-]{16,}|gsk_[A-Za-z0-9]{20,}|hf_[A-Za-z0-9]{20,}"
    r"|gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,}|AKIA[0-9A-Z]{16}"
    r"|xox[abposr]-[A-Za-z0-9-]{10,})",
    re.IGNORECASE)


# Not passed to commands: shell start-up files a non-interactive shell would source (they would
# make a "read-only" command run code), and the agent's own settings, which name where its data
# and checkpoints live.
_NOT_PASSED = frozenset({"BASH_ENV", "ENV", "AGENT_DATA_HOME", "AGENT_CONFIG_HOME"})


def scrubbed_env(env: Mapping[str, str]) -> dict[str, str]:
    """The environment commands run with: no API keys, tokens or passwords, by name or by
    value (credential URLs, known key formats)."""
    out = {k: v for k, v in env.items()
           if not is_secret_name(k) and not _SECRET_VALUE.search(v) and k not in _NOT_PASSED}
    # Commands must never wait on a pager or an editor the model cannot see.
    out.setdefault("PAGER", "cat")
    out.setdefault("GIT_PAGER", "cat")
    out["GIT_TERMINAL_PROMPT"] = "0"
    return out
