"""Start-up with MCP servers (issue 14): time from launching `agent -p` to the first model
request reaching the (fake, millisecond) server, with three MCP servers configured against
none. Runs are interleaved (none, three, none, three, ...) so that load on the machine hits both
alike; the figure is the ratio of the medians (goal: at most 1.10).

The three servers are the real reference ones: mcp-server-time and mcp-server-git (PyPI, the
test extra) and @modelcontextprotocol/server-filesystem (npm, installed once into a cache dir;
without npm a second mcp-server-time takes its place, and the output says so).

    .venv/bin/python bench/mcp_startup_bench.py [--runs 7]
"""
from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))

from agentproc import AGENT, agent_env, make_repo  # noqa: E402
from fakeserver import FakeOpenAIServer, FakeTurn  # noqa: E402
from mcpfakes import git_server, npm_filesystem_server, time_server  # noqa: E402


def servers(root: Path) -> tuple[str, str]:
    """The three servers' TOML tables, and which ones they are."""
    time_bin, git_bin = time_server(), git_server()
    if not time_bin or not git_bin:
        raise SystemExit("mcp-server-time / mcp-server-git missing: install the test extra")
    entry, why = npm_filesystem_server()
    tables = {"time": {"command": time_bin, "args": ["--local-timezone", "UTC"]},
              "git": {"command": git_bin, "args": ["--repository", str(root)]}}
    if entry:
        tables["fs"] = {"command": "node", "args": [entry, str(root)]}
        names = "mcp-server-time, mcp-server-git, @modelcontextprotocol/server-filesystem"
    else:
        tables["time2"] = {"command": time_bin}
        names = f"mcp-server-time x2, mcp-server-git ({why})"
    text = "".join(f"[mcp_servers.{n}]\n" + "".join(f"{k} = {json.dumps(v)}\n" for k, v in t.items())
                   + "\n" for n, t in tables.items())
    return text, names


def one_run(with_mcp: bool) -> tuple[float, float]:
    """(ms from launch to the first model request, ms from launch to exit)."""
    with tempfile.TemporaryDirectory() as tmp, FakeOpenAIServer() as server:
        root = make_repo(Path(tmp) / "proj", {"a.py": "x = 1\n"})
        (Path(tmp) / "cfg").mkdir()
        text = servers(root)[0] if with_mcp else ""
        (Path(tmp) / "cfg" / "config.toml").write_text(text)
        server.add(FakeTurn(content="x is 1."))
        t0 = time.time()
        subprocess.run([AGENT, "-p", "what is x", "--api-base", server.url], cwd=root,
                       env=agent_env(root), capture_output=True, timeout=300,
                       stdin=subprocess.DEVNULL, check=True)
        done = time.time()
        first = next(r for r in server.requests if "chat/completions" in r.path)
        return (first.received_at - t0) * 1000, (done - t0) * 1000


def in_process(runs: int) -> None:
    """What the MCP client adds to the path from Session() to the first model request, in one
    process (no interpreter start-up, whose noise on a shared machine dwarfs it): the same three
    servers configured, a scripted provider timing its first call."""
    import asyncio

    from realcost_agent.agent.config import Settings
    from realcost_agent.agent.mcp_config import parse_servers
    from realcost_agent.agent.session import Session
    from realcost_agent.providers.scripted import ScriptedProvider, text

    class Timed(ScriptedProvider):
        first: float | None = None

        def stream(self, messages, tools, model):  # noqa: ANN001, ANN202
            self.first = self.first or time.perf_counter()
            return super().stream(messages, tools, model)

    async def once(with_mcp: bool, tmp: Path) -> float:
        root = tmp / "proj"
        root.mkdir(exist_ok=True)
        tables = tomllib.loads(servers(root)[0])["mcp_servers"] if with_mcp else {}
        settings = Settings(model="gpt-oss-120b", approval="full-auto", checkpoints=False,
                            ledger=False, mcp_servers=parse_servers(tables))
        provider = Timed([[text("ok")]])
        env = {**agent_env(root), "OPENROUTER_API_KEY": "sk-or-v1-" + "b" * 40}
        from realcost_agent.agent.ops import UserInput

        t0 = time.perf_counter()
        session = Session(settings, root, env=env, provider_factory=lambda m: provider, journal=False)
        await session.start()
        session.submit(UserInput("hi"))
        while provider.first is None:  # no event consumer: the same work in both kinds
            await asyncio.sleep(0.001)
        await session.close()
        return (provider.first - t0) * 1000

    import tomllib

    none, three = [], []
    with tempfile.TemporaryDirectory() as tmp:
        asyncio.run(once(False, Path(tmp)))
        asyncio.run(once(True, Path(tmp)))
        for _ in range(runs):
            none.append(asyncio.run(once(False, Path(tmp))))
            three.append(asyncio.run(once(True, Path(tmp))))
    n, t = statistics.median(none), statistics.median(three)
    print(f"in process, Session() -> first model call ms: none median {n:.1f}, 3 MCP servers "
          f"median {t:.1f}: {t - n:+.1f} ms, ratio {t / n:.3f} ({runs} interleaved runs each)")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=7, help="runs of each kind (interleaved)")
    ap.add_argument("--in-process-runs", type=int, default=15)
    args = ap.parse_args()
    in_process(args.in_process_runs)
    with tempfile.TemporaryDirectory() as tmp:
        print("MCP servers:", servers(Path(tmp))[1])
    one_run(False), one_run(True)  # warm the caches (imports, npm, git) for both kinds
    none, three = [], []
    for _ in range(args.runs):
        none.append(one_run(False))
        three.append(one_run(True))
    for label, runs in (("no MCP servers", none), ("3 MCP servers", three)):
        firsts = [r[0] for r in runs]
        print(f"{label:15} first request ms: median {statistics.median(firsts):7.1f}  "
              f"runs {', '.join(f'{x:.0f}' for x in firsts)}  | exit ms median "
              f"{statistics.median(r[1] for r in runs):7.1f}")
    ratio = statistics.median(r[0] for r in three) / statistics.median(r[0] for r in none)
    pairs = sorted(t[0] / n[0] for n, t in zip(none, three))
    best = min(r[0] for r in three) / min(r[0] for r in none)
    print(f"ratio of medians (3 servers / none): {ratio:.3f}  (goal <= 1.10); of the fastest "
          f"runs: {best:.3f}; per interleaved pair: median {statistics.median(pairs):.3f}, "
          f"min {pairs[0]:.3f}, max {pairs[-1]:.3f}")


if __name__ == "__main__":
    main()
