"""Ledger figures (issue 3): `agent report` over 10,000 tasks / 100,000 calls (goal < 1 s), and
the time a ledger write adds to each model call, through the real recorder (goal < 2 ms).

    .venv/bin/python bench/ledger_bench.py [--tasks 10000] [--calls-per-task 10]
"""
from __future__ import annotations

import argparse
import io
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from realcost_agent.agent import events as ev  # noqa: E402
from realcost_agent.agent.config import Settings  # noqa: E402
from realcost_agent.agent.ledger import CALL_FIELDS, Ledger  # noqa: E402
from realcost_agent.agent.recorder import LedgerRecorder  # noqa: E402

AGENT = str(Path(sys.executable).parent / "agent")
MODELS = [("o4-mini", "openrouter/openai/o4-mini"), ("gpt-oss-120b", "openrouter/openai/gpt-oss-120b"),
          ("gpt-oss-20b", "openrouter/openai/gpt-oss-20b")]


def generate(path: Path, tasks: int, calls_per_task: int, per_session: int = 100) -> None:
    """Rows straight into SQLite in one transaction: the figure is the report, not the writes."""
    rng = random.Random(3)
    lg = Ledger(path)
    conn = lg.conn
    t0 = 1_750_000_000.0
    sessions, task_rows, call_rows = [], [], []
    for n in range(tasks):
        sid = f"s{n // per_session:05d}"
        model, litellm_id = MODELS[(n // per_session) % len(MODELS)]
        at = t0 + n * 600
        if n % per_session == 0:
            sessions.append((sid, at, at, "/work/proj", "c0ffee", model, "openrouter", "0.1.0", 35.0, 1))
        prompts = rng.choice((1, 1, 1, 2, 3, 6))
        task_rows.append((n + 1, sid, n % per_session + 1, at, at + 60, at + 60, "/work/proj", "c0ffee",
                          model, "openrouter", "done", "done", prompts, prompts - 1,
                          rng.uniform(5e3, 9e4), rng.uniform(0, 1.5e6), rng.choice((0.0, 6e4)), 0.0, 35.0))
        for _ in range(calls_per_task):
            inp = rng.randint(2000, 16000)
            call = dict(
                session_id=sid, task_id=n + 1, turn_id="t1", at=at, project="/work/proj",
                git_commit="c0ffee", model=model, litellm_id=litellm_id, backend="openrouter", local=0,
                purpose="turn", input_tokens=inp, cached_input_tokens=rng.randint(0, inp // 2),
                output_tokens=rng.randint(50, 6000), reasoning_tokens=rng.randint(0, 500),
                cost=None if rng.random() < 0.001 else rng.uniform(1e-4, 1e-2),
                provider_cost=None, ttft_ms=rng.uniform(300, 9000), ttft_text_ms=rng.uniform(500, 12000),
                duration_ms=rng.uniform(1000, 30000), usage_estimated=0,
                setup_ms=rng.uniform(1, 20), usage_note=None)
            call_rows.append(tuple(call[k] for k in CALL_FIELDS))
    conn.execute("BEGIN")
    conn.executemany("INSERT INTO sessions VALUES (?,?,?,?,?,?,?,?,?,?)", sessions)
    conn.executemany(
        "INSERT INTO tasks (id, session_id, seq, started_at, updated_at, ended_at, project, git_commit,"
        " model, backend, status, last_reason, prompts, followups, agent_ms, debug_ms, correction_ms,"
        " session_correction_ms, hourly_rate) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", task_rows)
    conn.executemany(
        f"INSERT INTO calls ({', '.join(CALL_FIELDS)}) VALUES ({', '.join('?' * len(CALL_FIELDS))})",
        call_rows)
    conn.execute("COMMIT")
    lg.close()


def bench_report(tasks: int, calls_per_task: int) -> None:
    from realcost_agent.cli.report import render
    from realcost_agent.agent.report import Scope, build_report

    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "ledger.sqlite3"
        t = time.perf_counter()
        generate(db, tasks, calls_per_task)
        gen = time.perf_counter() - t
        lg = Ledger(db)
        times = []
        for _ in range(5):
            t = time.perf_counter()
            report = build_report(lg.conn, Scope())
            for fmt in ("terminal", "json", "html"):
                render(report, fmt, io.StringIO(), width=140)
            times.append(time.perf_counter() - t)
        t = time.perf_counter()
        build_report(lg.conn, Scope(session=lg.last_session_id()))
        one = time.perf_counter() - t
        lg.close()
        env = dict(os.environ, LITELLM_LOCAL_MODEL_COST_MAP="True")
        wall = []
        for fmt in ("terminal", "json"):
            for _ in range(3):
                t = time.perf_counter()
                proc = subprocess.run([AGENT, "report", "--all", "--db", str(db), "--format", fmt],
                                      capture_output=True, env=env, check=False)
                wall.append(time.perf_counter() - t)
                if proc.returncode != 0:
                    raise RuntimeError(proc.stderr.decode()[-400:])
        n_calls = tasks * calls_per_task
        print(f"ledger    {tasks:,} tasks / {n_calls:,} calls generated in {gen:.1f} s "
              f"({db.stat().st_size / 1e6:.0f} MB)")
        print(f"ledger    report, whole ledger by model (aggregate + terminal/json/html) "
              f"{statistics.median(times) * 1000:6.0f} ms in-process")
        print(f"ledger    report, last session {one * 1000:6.1f} ms in-process")
        print(f"ledger    `agent report --all` wall time, process start to exit "
              f"{statistics.median(wall) * 1000:6.0f} ms median, {max(wall) * 1000:.0f} ms max (goal < 1 s)")


def bench_writes(n: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        lg = Ledger(Path(tmp) / "ledger.sqlite3")
        rec = LedgerRecorder(lg, Settings(), git=lambda root: "c0ffee")
        rec(ev.SessionStarted("s1", tmp, "gpt-oss-120b", "openrouter", "0.1.0"))
        rec(ev.TaskUpdated(1, "active", 1, 0))
        rec(ev.TurnStarted("t1", 1, "bench", "gpt-oss-120b"))
        usage = ev.UsageUpdated(
            turn_id="t1", model="gpt-oss-120b", litellm_id="openrouter/openai/gpt-oss-120b",
            backend="openrouter", input_tokens=12000, output_tokens=500, cached_input_tokens=8000,
            reasoning_tokens=100, cost=0.0012, provider_cost=0.0013, ttft_ms=900.0,
            ttft_text_ms=1300.0, duration_ms=12000.0, session_cost=0.0, session_input_tokens=0,
            session_output_tokens=0)
        samples, task_samples = [], []
        for i in range(n):
            t = time.perf_counter()
            rec(usage)
            samples.append(time.perf_counter() - t)
            if i % 10 == 0:  # a turn end updates the task too
                t = time.perf_counter()
                rec(ev.TaskUpdated(1, "active", 1, 0, agent_ms=i * 100.0))
                task_samples.append(time.perf_counter() - t)
        samples.sort()
        lg.close()
        print(f"ledger    write per model call (recorder -> committed row, WAL, synchronous=NORMAL) "
              f"median {statistics.median(samples) * 1000:.3f} ms, p99 {samples[int(len(samples) * 0.99)] * 1000:.3f} ms "
              f"(goal < 2 ms); task update median {statistics.median(task_samples) * 1000:.3f} ms")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tasks", type=int, default=10_000)
    parser.add_argument("--calls-per-task", type=int, default=10)
    parser.add_argument("--writes", type=int, default=2000)
    args = parser.parse_args()
    bench_report(args.tasks, args.calls_per_task)
    bench_writes(args.writes)
    return 0


if __name__ == "__main__":
    sys.exit(main())
