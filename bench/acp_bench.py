"""`agent acp` latency, driven by the official ACP SDK's client against the fake model server.

    .venv/bin/python bench/acp_bench.py [-n 7]

Per run, a fresh `agent acp` process (what an editor starts) in a temp git repo:
  spawn -> initialize answered     process start and imports, the handshake
  initialize -> first update       the figure: initialize sent (at spawn, as editors do),
                                   session/new, session/prompt, until the prompt's first
                                   `session/update` arrives
  initialized -> first update      the same from the initialize response (process started)
  of which session/new             the core Session started (config, journal, ledger, checkpoints)
  of which prompt -> first update  the model's first streamed token relayed (fake server: ~0 ms)
  agent CPU, whole run             user+sys CPU of the agent process from start to exit (its
                                   git children included): the figure without the machine's load
Medians over the runs (and min/max). Nothing here asserts.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))

from acpclient import RecordingClient, handshake, spawn, text_prompt  # noqa: E402
from agentproc import make_repo  # noqa: E402
from fakeserver import FakeOpenAIServer, FakeTurn  # noqa: E402


async def one_run(root: Path, url: str) -> dict[str, float]:
    client = RecordingClient()
    t_spawn = time.monotonic()
    async with spawn(client, root, "--api-base", url, "--model", "gpt-oss-120b") as (conn, _):
        t_init = time.monotonic()
        await handshake(conn)
        t_init_done = time.monotonic()
        new = await conn.new_session(cwd=str(root), mcp_servers=[])
        t_new = time.monotonic()
        seen = len(client.updates)
        prompt = asyncio.create_task(conn.prompt(session_id=new.session_id, prompt=text_prompt("hi")))
        while len(client.updates) == seen or all(
                u.session_update == "available_commands_update" for _, _, u in client.updates[seen:]):
            if prompt.done():
                raise RuntimeError(f"the prompt ended with no update: {prompt.result()}")
            await asyncio.sleep(0.0005)
        first = next(t for t, _, u in client.updates[seen:]
                     if u.session_update != "available_commands_update")
        await prompt
    return {
        "spawn_to_initialized": t_init_done - t_spawn,
        "init_to_first_update": first - t_init,
        "initialized_to_first_update": first - t_init_done,
        "new_session": t_new - t_init_done,
        "prompt_to_first_update": first - t_new,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("-n", type=int, default=7, help="runs (default 7)")
    parser.add_argument("--no-bytecode", action="store_true",
                        help="keep PYTHONDONTWRITEBYTECODE: every process compiles the agent's "
                        "sources (the default measures an install with its bytecode cached)")
    args = parser.parse_args()
    runs: list[dict[str, float]] = []
    with tempfile.TemporaryDirectory() as tmp, FakeOpenAIServer() as server:
        if not args.no_bytecode:  # as installed: .pyc cached (kept out of the tree), one warm-up
            os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
            os.environ["PYTHONPYCACHEPREFIX"] = str(Path(tmp) / "pycache")
            root = make_repo(Path(tmp) / "warm", {"a.py": "x = 1\n"})
            server.add(FakeTurn(content="warm"))
            asyncio.run(one_run(root, server.url))
        for i in range(args.n):
            root = make_repo(Path(tmp) / f"p{i}", {"calc.py": "def add(a, b):\n    return a + b\n"})
            server.add(FakeTurn(content="hello there"))
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            run = asyncio.run(one_run(root, server.url))
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            # CPU the agent process used over its whole life (start to exit): load-independent.
            run["agent_cpu_whole_run"] = (after.ru_utime + after.ru_stime
                                          - before.ru_utime - before.ru_stime)
            runs.append(run)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"agent acp, {args.n} runs (fresh process each, bytecode "
          f"{'not cached' if args.no_bytecode else 'cached'}), fake model server on loopback; "
          f"load average {load:.1f} on {os.cpu_count()} CPUs:")
    for key in runs[0]:
        values = [r[key] * 1000 for r in runs]
        print(f"  {key:24s} median {statistics.median(values):7.1f} ms  "
              f"(min {min(values):.1f}, max {max(values):.1f})  runs: "
              + " ".join(f"{v:.0f}" for v in values))
    return 0


if __name__ == "__main__":
    sys.exit(main())
