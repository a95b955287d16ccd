"""Time to first token as the ledger records it (issue 11, item 6): the real `agent -p` against
the fake server (answering in milliseconds), two model calls per run, on both client paths.
Prints per call: ttft_ms (from the request leaving), setup_ms (the agent's own time before it),
and their sum, which is what the first call's TTFT used to include.

    .venv/bin/python bench/ttft_bench.py [--runs 3]
"""
from __future__ import annotations

import argparse
import sqlite3
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))

from agentproc import AGENT, agent_env  # noqa: E402
from fakeserver import FakeOpenAIServer, FakeToolCall, FakeTurn  # noqa: E402


def one_run(provider: str) -> list[tuple[float, float]]:
    with tempfile.TemporaryDirectory() as tmp, FakeOpenAIServer() as server:
        root = Path(tmp) / "proj"
        root.mkdir()
        (root / "a.py").write_text("x = 1\n")
        server.add(FakeTurn(tool_calls=[FakeToolCall("read_file", {"path": "a.py"})]),
                   FakeTurn(content="x is 1."))
        subprocess.run([AGENT, "-p", "what is x", "--api-base", server.url], cwd=root,
                       env=agent_env(root, AGENT_PROVIDER=provider), capture_output=True,
                       timeout=300, stdin=subprocess.DEVNULL, check=True)
        conn = sqlite3.connect(Path(tmp) / "data" / "ledger.sqlite3")
        rows = conn.execute("SELECT ttft_ms, setup_ms FROM calls ORDER BY id").fetchall()
        conn.close()
        return [(float(t), float(s)) for t, s in rows]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    for provider in ("direct", "litellm"):
        runs = [one_run(provider) for _ in range(args.runs)]
        for i, label in enumerate(("first call", "second call")):
            ttft = statistics.median(r[i][0] for r in runs)
            setup = statistics.median(r[i][1] for r in runs)
            print(f"{provider:8} {label:12} ttft_ms {ttft:8.1f}  setup_ms {setup:8.1f}  "
                  f"(ttft as measured before: {ttft + setup:8.1f})")


if __name__ == "__main__":
    main()
