#!/usr/bin/env python3
"""A PreToolUse hook that keeps the model's commands off the network tools and asks about pushes.

    [[hooks.PreToolUse]]
    matcher = "Bash"            # Claude Code's name for run_command; "run_command" works too
    command = "python3 examples/hooks/guard_commands.py"
"""
import json
import re
import sys

event = json.load(sys.stdin)
command = str(event.get("tool_input", {}).get("command", ""))
if re.search(r"\b(curl|wget|nc|ssh|scp)\b", command):
    # Exit code 2: the call is blocked and stderr is the reason the model sees.
    print("network tools are not allowed in this project; work offline", file=sys.stderr)
    sys.exit(2)
if re.search(r"\bgit\s+push\b", command):
    print(json.dumps({"hookSpecificOutput": {
        "hookEventName": "PreToolUse", "permissionDecision": "ask",
        "permissionDecisionReason": "pushing leaves the machine: confirm it"}}))
