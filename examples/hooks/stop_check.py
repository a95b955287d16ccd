#!/usr/bin/env python3
"""A Stop hook that runs the project's check and sends the model back to work while it fails.

    [[hooks.Stop]]
    command = "python3 examples/hooks/stop_check.py python3 -m pytest -q"
    timeout = 600

The words after the script are the check command. It runs like the hook itself: in the project
root, in the sandbox when it is on, without API keys in its environment. Exit 0 with no output
lets the agent stop; {"decision": "block", "reason": ...} asks it to continue, with the check's
output as the reason. The agent caps how often a Stop hook may do that in a row (and counts each
continuation as a follow-up), so a check that never passes cannot loop forever.
"""
import json
import subprocess
import sys

TAIL = 3000  # characters of the check's output the model gets

event = json.load(sys.stdin)
check = sys.argv[1:] or ["make", "check"]
try:
    proc = subprocess.run(check, capture_output=True, text=True, timeout=570)
except (OSError, subprocess.TimeoutExpired) as exc:
    print(f"the check could not run: {exc}", file=sys.stderr)
    sys.exit(1)  # a non-blocking error: the user sees it, the agent stops as usual
if proc.returncode == 0:
    sys.exit(0)
output = (proc.stdout + proc.stderr)[-TAIL:]
again = " (still failing after your last attempt)" if event.get("stop_hook_active") else ""
print(json.dumps({
    "decision": "block",
    "reason": f"`{' '.join(check)}` fails (exit code {proc.returncode}){again}:\n{output}",
}))
