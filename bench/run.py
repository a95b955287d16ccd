"""Benchmarks that print figures (`make bench`). Nothing here asserts: tests assert behaviour.

Figures, each with its goal from the foundation issue:
  startup         `agent --version` / `agent --help` wall time (goal < 0.3 s)
  launch          process start -> first model request reaches the fake server, headless
                  (goal < 1.5 s), direct client vs litellm path in the same run, plus a bare
                  `import litellm` as the baseline the goal exists to avoid
  overhead        fixed tokens of the first request: system prompt + tool schemas, o200k_base
                  (goal < 2,000; aider sends 2,496 with no tools)
  loop            agent overhead per tool round trip, model and tool time excluded (goal < 10 ms
                  median)
  ledger          `agent report` over 10,000 tasks / 100,000 calls (goal < 1 s); ledger write per
                  model call (goal < 2 ms): bench/ledger_bench.py
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(HERE))

BIN = Path(sys.executable).parent
AGENT = str(BIN / "agent")


def _median_run(cmd: list[str], n: int, env: dict[str, str] | None = None) -> float:
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        subprocess.run(cmd, capture_output=True, env=env, check=False, stdin=subprocess.DEVNULL)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def bench_startup(n: int) -> None:
    base = _median_run([sys.executable, "-c", "pass"], n)
    version = _median_run([AGENT, "--version"], n)
    help_ = _median_run([AGENT, "--help"], n)
    print(f"startup   agent --version  {version * 1000:7.0f} ms  (goal < 300 ms; bare python {base * 1000:.0f} ms)")
    print(f"startup   agent --help     {help_ * 1000:7.0f} ms  (goal < 300 ms)")


def _tmp_repo() -> Path:
    root = Path(tempfile.mkdtemp(prefix="agent-bench-"))
    (root / "app.py").write_text("def main():\n    return 1\n" * 150)
    subprocess.run(["git", "init", "-q"], cwd=root, check=True)
    return root


def _launch_once(provider: str, repo: Path) -> float:
    from fakeserver import FakeOpenAIServer, FakeTurn

    with FakeOpenAIServer() as server:
        server.add(FakeTurn(content="ok"))
        env = dict(os.environ, AGENT_CONFIG_HOME=str(repo / ".cfg"), AGENT_DATA_HOME=str(repo / ".data"),
                   LITELLM_LOCAL_MODEL_COST_MAP="True")
        t0 = time.time()
        proc = subprocess.run(
            [AGENT, "-p", "hi", "--api-base", server.url, "--provider", provider, "-C", str(repo)],
            capture_output=True, env=env, stdin=subprocess.DEVNULL, check=False,
        )
        if proc.returncode != 0:
            raise RuntimeError(f"agent failed: {proc.stderr.decode()[-500:]}")
        posts = server.model_requests  # not the loopback probe's POST /api/show
        return posts[0].received_at - t0


def bench_launch(n: int) -> None:
    repo = _tmp_repo()
    direct = statistics.median(_launch_once("direct", repo) for _ in range(n))
    via_litellm = statistics.median(_launch_once("litellm", repo) for _ in range(max(1, n // 2)))
    imp = _median_run([sys.executable, "-c", "import litellm"], max(1, n // 2),
                      env=dict(os.environ, LITELLM_LOCAL_MODEL_COST_MAP="True"))
    print(f"launch    to first request, direct   {direct:6.2f} s  (goal < 1.5 s)")
    print(f"launch    to first request, litellm  {via_litellm:6.2f} s  "
          f"(ratio litellm/direct {via_litellm / direct:.1f}x; `import litellm` alone {imp:.2f} s)")


def bench_overhead() -> None:
    from tokenizer import count_tokens

    from realcost_agent.agent.prompt import load_instructions, repo_info, system_prompt
    from realcost_agent.tools.registry import default_registry

    info = repo_info(ROOT)
    prompt = system_prompt(info, load_instructions(ROOT, []))
    schemas = default_registry().schemas()
    tools_json = json.dumps(schemas, separators=(",", ":"))
    p_tokens, method = count_tokens(prompt)
    t_tokens, _ = count_tokens(tools_json)
    # Chat templates add a few tokens per message and per tool; this counts content only.
    print(f"overhead  system prompt {p_tokens} + {len(schemas)} tool schemas {t_tokens} = "
          f"{p_tokens + t_tokens} tokens ({method}; goal < 2,000)")


class _TimingProvider:
    """Answers every request with one cheap tool call, recording when each request starts and
    when its stream ends, so model time can be subtracted exactly."""

    name = "timing"

    def __init__(self, steps: int, path: str) -> None:
        self.steps = steps
        self.path = path
        self.starts: list[float] = []
        self.ends: list[float] = []

    async def stream(self, messages, tools, model):  # noqa: ANN001
        from realcost_agent.providers.base import Finish, TextDelta, ToolCallDelta, Usage

        self.starts.append(time.perf_counter())
        n = len(self.starts)
        if n <= self.steps:
            yield ToolCallDelta(0, f"c{n}", "read_file", "")
            # A different range each time: identical calls would trip the loop detector.
            yield ToolCallDelta(0, None, None, json.dumps({"path": self.path, "start_line": 1, "end_line": n}))
            yield Usage(1000 + n * 50, 20)
            yield Finish("tool_calls")
        else:
            yield TextDelta("done")
            yield Finish("stop")
        self.ends.append(time.perf_counter())

    async def aclose(self) -> None:
        pass


async def _loop_overhead(steps: int) -> list[float]:
    from realcost_agent.agent import events as ev
    from realcost_agent.agent.config import Settings
    from realcost_agent.agent.ops import Shutdown, UserInput
    from realcost_agent.agent.session import Session

    repo = _tmp_repo()
    provider = _TimingProvider(steps, "app.py")
    env = dict(os.environ, AGENT_DATA_HOME=str(repo / ".data"))
    session = Session(Settings(model="gpt-oss-120b", max_steps=steps + 5, repo_map_tokens=0,
                               prices={"gpt-oss-120b": {"input": 0.1, "output": 0.5}}),
                      repo, env=env, provider_factory=lambda m: provider)
    await session.start()
    session.submit(UserInput("read app.py many times"))
    tool_ms: list[float] = []
    async for event in session.events():
        if isinstance(event, ev.ToolCallFinished):
            tool_ms.append(event.duration_ms)
        elif isinstance(event, ev.TurnFinished):
            session.submit(Shutdown())
    # Round trip i: stream i ends -> tool runs -> request i+1 starts; minus the tool's own time.
    return [
        (provider.starts[i + 1] - provider.ends[i]) * 1000 - tool_ms[i]
        for i in range(steps)
    ]


def bench_loop(steps: int) -> None:
    overheads = asyncio.run(_loop_overhead(steps))
    overheads.sort()
    p90 = overheads[int(len(overheads) * 0.9) - 1]
    print(f"loop      overhead per tool round trip: median {statistics.median(overheads):.2f} ms, "
          f"p90 {p90:.2f} ms over {steps} round trips (goal median < 10 ms)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", choices=["startup", "launch", "overhead", "loop", "ledger"])
    parser.add_argument("-n", type=int, default=7, help="repetitions for timed commands")
    args = parser.parse_args()
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    if args.only in (None, "startup"):
        bench_startup(args.n)
    if args.only in (None, "launch"):
        bench_launch(args.n)
    if args.only in (None, "overhead"):
        bench_overhead()
    if args.only in (None, "loop"):
        bench_loop(200)
    if args.only in (None, "ledger"):
        import ledger_bench

        ledger_bench.bench_report(10_000, 10)
        ledger_bench.bench_writes(2000)
    return 0


if __name__ == "__main__":
    sys.exit(main())
