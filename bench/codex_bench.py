"""Side by side with Codex CLI: launch to first model request, and the whole session.

    .venv/bin/python bench/codex_bench.py [--rounds 7] [--codex-version 0.169.0] [--json]

Codex (`@openai/codex`, pinned) is installed from npm into a cache directory on first use
(skipped, with the reason, when npm is missing). Both tools then run against the same fake model
server (tests/fakeserver.py; Codex speaks the Responses API, tests/fake_responses.py), on fresh
copies of the same repository with the same bug, the same two model turns (narration + one shell
command `cat calc.py`, then the answer) and the same command, never asking for approval, the
command sandboxed in both (bubblewrap, the project writable: `--sandbox on` / Codex's
workspace-write) or, with `--sandbox off`, in neither. Rounds are interleaved, the order
alternating each round, so machine load hits both alike: on a shared, loaded machine only the
ratios of one run mean anything, never the absolute figures.

Measured per run, on the wall clock:
  first request   process start -> the first model request reaches the server
  session         process start -> process exit (two model turns, one command)
  peak RSS        of the process and its waited-for children (getrusage, per run)

Each tool gets one config/data home for all its rounds (a user's real, warm state) and one
warm-up run that is not counted. Python is byte-compiled first and `agent` runs without
PYTHONDONTWRITEBYTECODE, or every run would pay compilation.
"""
from __future__ import annotations

import argparse
import compileall
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT / "tests"))

from fake_responses import SHELL  # noqa: E402
from fakeserver import FakeOpenAIServer, FakeToolCall, FakeTurn  # noqa: E402

CODEX_VERSION = "0.169.0"  # the newest in the npm registry when this bench was written
MODEL = "gpt-oss-20b"
COMMAND = "cat calc.py"
PROMPT = "add(2, 3) returns -1 instead of 5. Find the bug."
NARRATION = "Let me look at calc.py."
ANSWER = "The bug is in calc.py: add subtracts. It should return a + b."
BUGGY = "def add(a, b):\n    return a - b\n"


@dataclass
class Run:
    first: float  # s, start -> first request at the server
    session: float  # s, start -> exit
    rss_mib: float


def ensure_codex(version: str, cache: Path) -> tuple[str | None, str]:
    """(path of the codex binary, "") or (None, why not)."""
    binary = cache / "node_modules" / ".bin" / "codex"
    if binary.exists():
        return str(binary), ""
    npm = shutil.which("npm")
    if npm is None:
        return None, "npm is not installed"
    cache.mkdir(parents=True, exist_ok=True)
    proc = subprocess.run([npm, "install", "--no-audit", "--no-fund", "--prefix", str(cache),
                           f"@openai/codex@{version}"], capture_output=True, text=True,
                          stdin=subprocess.DEVNULL, timeout=900)
    if proc.returncode != 0 or not binary.exists():
        return None, f"npm install @openai/codex@{version} failed: {proc.stderr.strip()[-300:]}"
    return str(binary), ""


def byte_compile() -> None:
    """Compile the agent and its dependencies once, so no run pays for it."""
    purelib = Path(sysconfig.get_paths()["purelib"])
    for path in (ROOT / "agent", ROOT / "cli", ROOT / "providers", ROOT / "tools", ROOT / "tui",
                 purelib):
        if path.exists():
            compileall.compile_dir(str(path), quiet=1, workers=0)


def make_template(base: Path) -> Path:
    repo = base / "template"
    repo.mkdir()
    (repo / "calc.py").write_text(BUGGY)
    (repo / "test_calc.py").write_text("from calc import add\n\n\ndef test_add():\n"
                                       "    assert add(2, 3) == 5\n")
    (repo / "README.md").write_text("# calc\n\nA tiny calculator.\n")
    git = ["git", "-c", "user.email=b@b", "-c", "user.name=b"]
    for args in (["init", "-q", "-b", "main"], ["add", "."], ["commit", "-qm", "init"]):
        subprocess.run(git + args, cwd=repo, check=True, capture_output=True)
    return repo


def _timed(cmd: list[str], env: dict[str, str], cwd: Path, server: FakeOpenAIServer,
           log: Path) -> Run:
    with open(log, "wb") as out:
        t0 = time.time()
        proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=out,
                                stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(proc.pid, 0)
        t1 = time.time()
        proc.returncode = os.waitstatus_to_exitcode(status)
    posts = server.model_requests  # not the loopback probe's POST /api/show
    if proc.returncode != 0 or len(posts) != 2 or server.remaining():
        raise RuntimeError(f"{cmd[0]} failed (exit {proc.returncode}, {len(posts)} requests): "
                           f"{log.read_text(errors='replace')[-800:]}")
    # Both really ran the command: its output went back to the model in the second request.
    if "return a - b" not in json.dumps(posts[1].body):
        raise RuntimeError(f"{cmd[0]}: the command's output is not in the second request")
    return Run(posts[0].received_at - t0, t1 - t0, usage.ru_maxrss / 1024)


def run_agent(template: Path, work: Path, n: int, sandbox: bool) -> Run:
    repo = work / f"agent-{n}"
    shutil.copytree(template, repo)
    env = {k: v for k, v in os.environ.items()
           if not k.endswith(("_API_KEY", "_TOKEN")) and not k.startswith("AGENT_")
           and k != "PYTHONDONTWRITEBYTECODE"}
    env.update(AGENT_CONFIG_HOME=str(work / "agent-cfg"), AGENT_DATA_HOME=str(work / "agent-data"),
               LITELLM_LOCAL_MODEL_COST_MAP="True")
    with FakeOpenAIServer() as server:
        server.add(FakeTurn(content=NARRATION,
                            tool_calls=[FakeToolCall("run_command", {"command": COMMAND})]),
                   FakeTurn(content=ANSWER))
        agent = str(Path(sys.executable).parent / "agent")
        cmd = [agent, "-p", PROMPT, "--api-base", server.url, "-m", MODEL,
               "--approval", "full-auto", "--sandbox", "on" if sandbox else "off", "-C", str(repo)]
        return _timed(cmd, env, repo, server, work / "agent.log")


def run_codex(codex: str, template: Path, work: Path, n: int, sandbox: bool) -> Run:
    repo = work / f"codex-{n}"
    shutil.copytree(template, repo)
    home = work / "codex-home"
    home.mkdir(exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.endswith(("_API_KEY", "_TOKEN"))}
    env["CODEX_HOME"] = str(home)
    with FakeOpenAIServer() as server:
        server.add(FakeTurn(content=NARRATION, tool_calls=[FakeToolCall(SHELL, {"command": COMMAND})]),
                   FakeTurn(content=ANSWER))
        cmd = [codex, "exec", "--skip-git-repo-check", "-C", str(repo), "-m", MODEL,
               "-c", f'model_providers.fake.base_url="{server.url}"',
               "-c", 'model_providers.fake.name="fake"',
               "-c", 'model_providers.fake.wire_api="responses"',
               "-c", 'model_provider="fake"',
               # Never asks, like `agent --approval full-auto`; both sandboxed (bubblewrap, the
               # project writable) or neither.
               *(["-s", "workspace-write", "-c", 'approval_policy="never"'] if sandbox
                 else ["--dangerously-bypass-approvals-and-sandbox"]), PROMPT]
        return _timed(cmd, env, repo, server, work / "codex.log")


def _median(runs: list[Run], field: str) -> float:
    return statistics.median(getattr(r, field) for r in runs)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--codex-version", default=CODEX_VERSION)
    ap.add_argument("--cache", type=Path,
                    default=Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
                    / "realcost-agent-bench")
    ap.add_argument("--json", action="store_true", help="also print the figures as one JSON object")
    ap.add_argument("--sandbox", choices=["on", "off"], default="on",
                    help="run the command sandboxed in both (default) or in neither")
    args = ap.parse_args()

    codex, why = ensure_codex(args.codex_version, args.cache / f"codex-{args.codex_version}")
    if codex is None:
        print(f"codex bench skipped: {why}")
        return 0
    byte_compile()
    load_before = os.getloadavg()[0]
    agent_runs: list[Run] = []
    codex_runs: list[Run] = []
    sandbox = args.sandbox == "on"
    # Not under /tmp: Codex refuses to set up its sandbox helper in a CODEX_HOME there.
    with tempfile.TemporaryDirectory(prefix="run-", dir=args.cache) as tmp:
        work = Path(tmp)
        template = make_template(work)
        run_agent(template, work, -1, sandbox)  # warm-up: caches, homes, page cache; not counted
        run_codex(codex, template, work, -1, sandbox)
        for i in range(args.rounds):
            order = ("agent", "codex") if i % 2 else ("codex", "agent")
            for who in order:
                if who == "agent":
                    agent_runs.append(run_agent(template, work, i, sandbox))
                else:
                    codex_runs.append(run_codex(codex, template, work, i, sandbox))
    load_after = os.getloadavg()[0]

    figures = {
        "rounds": args.rounds,
        "codex_version": args.codex_version,
        "load_average": [round(load_before, 2), round(load_after, 2)],
        "cores": os.cpu_count(),
        "sandbox": args.sandbox,
    }
    print(f"codex bench: {args.rounds} interleaved rounds, Codex CLI {args.codex_version}, "
          f"sandbox {args.sandbox} in both, load average {load_before:.1f} -> {load_after:.1f} "
          f"on {os.cpu_count()} cores")
    print(f"{'':24}{'codex':>10}{'agent':>10}{'agent/codex':>13}")
    for field, label, unit in (("first", "launch to first request", "s"),
                               ("session", "whole session", "s"), ("rss_mib", "peak RSS", "MiB")):
        c, a = _median(codex_runs, field), _median(agent_runs, field)
        figures[field] = {"codex": round(c, 4), "agent": round(a, 4), "ratio": round(a / c, 3)}
        fmt = "{:>8.3f} {}" if unit == "s" else "{:>6.0f} {}"
        print(f"{label:24}{fmt.format(c, unit):>10}{fmt.format(a, unit):>10}{a / c:>12.2f}x")
    if args.json:
        print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
