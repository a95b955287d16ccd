"""Where `agent`'s time goes: before the first model request, and per step.

    .venv/bin/python bench/profile_agent.py [--top 20] [--runs 5]

The scenario of bench/codex_bench.py (fake server, two model turns, one shell command), run as
the real binary three ways:
  timeline    start -> first request -> second request -> exit, medians over --runs
  importtime  `python -X importtime`: the heaviest imports, cumulative and self
  cprofile    a cProfile of one whole headless run: the top functions by cumulative time, and
              the project's own functions by their own time
Python is byte-compiled first and run without PYTHONDONTWRITEBYTECODE (see codex_bench.py).
"""
from __future__ import annotations

import argparse
import os
import pstats
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import codex_bench as cb  # noqa: E402
from fakeserver import FakeOpenAIServer, FakeToolCall, FakeTurn  # noqa: E402


def _run(prefix: list[str], template: Path, work: Path, n: int) -> tuple[list[float], float, str]:
    """(request arrival times, exit time, stderr), all relative to the launch."""
    repo = work / f"p-{n}"
    subprocess.run(["cp", "-r", str(template), str(repo)], check=True)
    env = {k: v for k, v in os.environ.items()
           if not k.endswith(("_API_KEY", "_TOKEN")) and not k.startswith("AGENT_")
           and k != "PYTHONDONTWRITEBYTECODE"}
    env.update(AGENT_CONFIG_HOME=str(work / "cfg"), AGENT_DATA_HOME=str(work / "data"),
               LITELLM_LOCAL_MODEL_COST_MAP="True")
    with FakeOpenAIServer() as server:
        server.add(FakeTurn(content=cb.NARRATION,
                            tool_calls=[FakeToolCall("run_command", {"command": cb.COMMAND})]),
                   FakeTurn(content=cb.ANSWER))
        args = ["-p", cb.PROMPT, "--api-base", server.url, "-m", cb.MODEL,
                "--approval", "full-auto", "--sandbox", "on", "-C", str(repo)]
        t0 = time.time()
        proc = subprocess.run(prefix + args, env=env, capture_output=True, text=True,
                              stdin=subprocess.DEVNULL)
        t1 = time.time()
        if proc.returncode != 0:
            raise RuntimeError(proc.stderr[-800:])
        return [r.received_at - t0 for r in server.model_requests], t1 - t0, proc.stderr


def timeline(template: Path, work: Path, runs: int) -> None:
    agent = str(Path(sys.executable).parent / "agent")
    _run([agent], template, work, -1)  # warm-up
    rows = [_run([agent], template, work, i) for i in range(runs)]
    first = statistics.median(r[0][0] for r in rows)
    second = statistics.median(r[0][1] - r[0][0] for r in rows)
    tail = statistics.median(r[1] - r[0][1] for r in rows)
    total = statistics.median(r[1] for r in rows)
    bare = statistics.median(_bare_python() for _ in range(runs))
    print(f"timeline (median of {runs}): bare python {bare * 1000:.0f} ms; launch -> request 1 "
          f"{first * 1000:.0f} ms; request 1 -> request 2 {second * 1000:.0f} ms (stream, "
          f"command, step overhead); request 2 -> exit {tail * 1000:.0f} ms; total {total * 1000:.0f} ms")


def _bare_python() -> float:
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", "pass"], check=True)
    return time.perf_counter() - t0


_IMPORT = re.compile(r"import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)")


def importtime(template: Path, work: Path, top: int) -> None:
    _, _, stderr = _run([sys.executable, "-X", "importtime", "-m", "realcost_agent.cli.main"],
                        template, work, 100)
    rows = [(int(m[1]), int(m[2]), len(m[3]) // 2, m[4]) for m in map(_IMPORT.match, stderr.splitlines()) if m]
    total = sum(r[0] for r in rows)
    print(f"\nimporttime: {len(rows)} modules, {total / 1000:.0f} ms of imports in all "
          f"(top level, by cumulative ms):")
    for self_us, cum_us, _, name in sorted((r for r in rows if r[2] == 0), key=lambda r: -r[1])[:top]:
        print(f"  {cum_us / 1000:8.1f}  {name}")
    print("by own ms:")
    for self_us, _, _, name in sorted(rows, key=lambda r: -r[0])[:top]:
        print(f"  {self_us / 1000:8.1f}  {name}")


def cprofile(template: Path, work: Path, top: int, out: Path | None = None) -> None:
    out = out or work / "run.prof"
    _run([sys.executable, "-m", "cProfile", "-o", str(out), "-m", "realcost_agent.cli.main"],
         template, work, 101)
    stats = pstats.Stats(str(out))
    print(f"\ncprofile: whole headless run, {stats.total_tt:.3f} s of profiled time; top by cumulative:")  # type: ignore[attr-defined]
    _print(stats, "cumulative", top, lambda name: True)
    ours = lambda path: path.startswith(str(cb.ROOT)) and "/.venv/" not in path  # noqa: E731
    print("the project's own functions, by cumulative time (imports excluded):")
    _print(stats, "cumulative", top, lambda path: ours(path), skip_modules=True)
    print("the project's own functions, by own time:")
    _print(stats, "tottime", top, ours)


def _print(stats: pstats.Stats, key: str, top: int, keep, skip_modules: bool = False) -> None:  # noqa: ANN001
    entries = stats.stats  # type: ignore[attr-defined]
    col = 3 if key == "cumulative" else 2
    rows = sorted(((v[col], v[1], k) for k, v in entries.items()
                   if keep(k[0]) and not (skip_modules and k[2] == "<module>")), key=lambda r: -r[0])
    for t, calls, (path, line, func) in rows[:top]:
        short = re.sub(r".*/(site-packages|lib/python3\.\d+)/", "", path).replace(str(cb.ROOT) + "/", "")
        print(f"  {t * 1000:8.1f} ms {calls:6d}x  {short}:{line} {func}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--top", type=int, default=20)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--only", choices=["timeline", "importtime", "cprofile"])
    ap.add_argument("--save", type=Path, help="keep the cProfile data in this file (pstats)")
    args = ap.parse_args()
    cb.byte_compile()
    with tempfile.TemporaryDirectory(prefix="agent-profile-") as tmp:
        work = Path(tmp)
        template = cb.make_template(work)
        agent = str(Path(sys.executable).parent / "agent")
        _run([agent], template, work, -2)  # a user's warm state: homes, caches (tool schemas)
        if args.only in (None, "timeline"):
            timeline(template, work, args.runs)
        if args.only in (None, "importtime"):
            importtime(template, work, args.top)
        if args.only in (None, "cprofile"):
            cprofile(template, work, args.top, args.save)
    return 0


if __name__ == "__main__":
    sys.exit(main())
