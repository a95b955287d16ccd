"""What a hook costs per tool call: a turn of N read_file calls with no hook, with a no-op
PreToolUse hook (`true`), and with a Python hook that reads its JSON, unsandboxed and in the
bubblewrap sandbox. Scripted model (no network); the median of --runs.

    .venv/bin/python bench/hooks_bench.py [--calls 20] [--runs 3]
"""
from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from realcost_agent.agent import events as ev
from realcost_agent.agent.config import Settings
from realcost_agent.agent.hooks import parse_hooks
from realcost_agent.agent.ops import UserInput
from realcost_agent.agent.safety.sandbox import unavailable_reason
from realcost_agent.agent.session import Session
from realcost_agent.providers.scripted import ScriptedProvider, text, tool_call

PY_HOOK = "import json, sys; json.load(sys.stdin)"


async def one_turn(root: Path, calls: int, hooks: dict, sandbox: str) -> float:
    turns = [[tool_call("read_file", {"path": "a.txt"}, id=f"c{i}")] for i in range(calls)] + [[text("done")]]
    provider = ScriptedProvider(turns)
    settings = Settings(model="gpt-oss-120b", sandbox=sandbox, checkpoints=False, ledger=False,
                        approval="full-auto", repo_map_tokens=0, hooks=parse_hooks(hooks, "bench"))
    env = {"PATH": os.environ["PATH"], "AGENT_DATA_HOME": str(root.parent / "data"),
           "AGENT_CONFIG_HOME": str(root.parent / "cfg")}
    s = Session(settings, root, env=env, provider_factory=lambda m: provider)
    await s.start()
    t0 = time.perf_counter()
    s.submit(UserInput("read it"))
    while not isinstance(await s.next_event(), ev.TurnFinished):
        pass
    elapsed = time.perf_counter() - t0
    await s.close()
    return elapsed


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--calls", type=int, default=20)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    sandbox_ok = unavailable_reason() is None
    cases = [("no hook", {}, "off"),
             ("`true` hook, unsandboxed", {"PreToolUse": [{"command": "true"}]}, "off"),
             ("python hook, unsandboxed", {"PreToolUse": [{"command": f"{sys.executable} -c '{PY_HOOK}'"}]}, "off")]
    if sandbox_ok:
        cases += [("`true` hook, sandboxed", {"PreToolUse": [{"command": "true"}]}, "on"),
                  ("python hook, sandboxed", {"PreToolUse": [{"command": f"{sys.executable} -c '{PY_HOOK}'"}]}, "on")]
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "proj"
        root.mkdir()
        (root / "a.txt").write_text("hello\n")
        base = None
        for name, hooks, sandbox in cases:
            times = [asyncio.run(one_turn(root, args.calls, hooks, sandbox)) for _ in range(args.runs)]
            med = statistics.median(times)
            base = med if base is None else base
            extra = (med - base) / args.calls * 1000
            print(f"{name:30s} {med:6.2f} s for {args.calls} calls · +{extra:5.1f} ms per call")
    if not sandbox_ok:
        print(f"(sandboxed cases skipped: {unavailable_reason()})")


if __name__ == "__main__":
    main()
