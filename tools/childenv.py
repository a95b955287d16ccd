"""The environment child processes (commands, git, hooks, servers) run with: no API keys, tokens
or passwords, by name or by value. Lives with the tools, the lowest layer, so that both the tools
and the core use one definition (agent/policy.py re-uses it for approvals' env; agent/secrets.py
for which variables are secret).
"""
from __future__ import annotations

import re
from typing import Mapping

SECRET_NAME = re.compile(r"KEY|SECRET|TOKEN|PASSWORD|PASSWD|CREDENTIAL|AUTH", re.IGNORECASE)
# Environment variables that match SECRET_NAME but hold no secret and that tools need.
_NOT_SECRET = {"SSH_AUTH_SOCK", "GPG_AGENT_INFO", "KEYTIMEOUT"}


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
# and checkpoints live, or where its team ledger is (its URL may carry a password).
_NOT_PASSED = frozenset({"BASH_ENV", "ENV", "AGENT_DATA_HOME", "AGENT_CONFIG_HOME",
                         "AGENT_LEDGER_URL"})


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
