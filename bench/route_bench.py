"""Learned routing (issue 16): the time the router adds to a task's start with 10,000 tasks in the
ledger (goal < 20 ms). A ledger is filled with N finished tasks (three tiers, six kinds, two
projects, with and without checks, three size classes), then the session's own LearnedRouter
(agent/autoroute.py) routes task texts through the real TaskFlow code: the figure is what the
learned part adds over the rule router (features + the ledger's aggregate + the choice), the
first task (which opens the ledger) apart from the rest.

    .venv/bin/python bench/route_bench.py [--tasks 10000] [--runs 200] [--projects 2]
"""
from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from realcost_agent.agent.autoroute import KINDS  # noqa: E402
from realcost_agent.agent.config import Settings  # noqa: E402
from realcost_agent.agent.ledger import Ledger  # noqa: E402
from realcost_agent.agent.routing import route  # noqa: E402

MODELS = ("gpt-oss-20b", "gpt-oss-120b", "o4-mini")
TEXTS = ("fix the off-by-one in pager.py", "implement CSV export for the report",
         "rename load_cfg to load_config everywhere", "add a test for the parser",
         "fix typo in README", "refactor the session loop", "why is the build slow?")


def fill(path: Path, tasks: int, project: str, projects: int = 2) -> None:
    rng = random.Random(16)
    lg = Ledger(path)
    t0 = 1_750_000_000.0
    sessions, rows = [], []
    for n in range(tasks):
        sid = f"s{n // 100:05d}"
        if n % 100 == 0:
            sessions.append((sid, t0, t0, project, None, "auto", "openrouter", "0", 35.0, 0))
        model = MODELS[n % 3]
        followups = rng.choice((0, 0, 1, 2, 3)) if model != "o4-mini" else rng.choice((0, 0, 0, 1))
        rows.append((n + 1, sid, n % 100 + 1, t0 + n, t0 + n, t0 + n,
                     project if n % projects == 1 else f"/work/other{n % projects}", model, "done", followups + 1, followups,
                     followups * rng.uniform(1, 6) * 60_000, 35.0, rng.choice((1, 1, 0)),
                     rng.choice([*(k for k, _ in KINDS), "other"]), rng.choice((0, 1)), rng.choice(("small", "medium", "large")),
                     rng.randint(0, 4), rng.uniform(0.001, 0.05)))
    with lg._tx() as conn:
        conn.executemany("INSERT INTO sessions (id, started_at, updated_at, project, git_commit, "
                         "model, backend, version, hourly_rate, interactive) VALUES (?,?,?,?,?,?,?,?,?,?)",
                         sessions)
        conn.executemany(
            "INSERT INTO tasks (id, session_id, seq, started_at, updated_at, ended_at, project, model,"
            " status, prompts, followups, debug_ms, hourly_rate, check_passed, kind, has_check,"
            " size_class, named_files, api_cost) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", rows)
    lg.conn.execute("ANALYZE")
    lg.close()


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tasks", type=int, default=10_000)
    ap.add_argument("--runs", type=int, default=200)
    # Every `agent compare` worktree is a project of its own: the aggregate's worst case is one
    # project per task.
    ap.add_argument("--projects", type=int, default=2, help="distinct projects among the tasks")
    args = ap.parse_args()
    from realcost_agent.agent.taskflow import TaskFlow

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "proj"
        root.mkdir()
        (root / "pager.py").write_text("x = 1\n" * 200)
        env = {**os.environ, "AGENT_DATA_HOME": str(Path(tmp) / "data")}
        path = Path(tmp) / "data" / "ledger.sqlite3"
        path.parent.mkdir()
        fill(path, args.tasks, str(root), max(2, args.projects))
        stand_in = SimpleNamespace(settings=Settings(), root=root, env=env, messages=[],
                                   model=None, emit=lambda e: None, add_listener=lambda fn: None)
        flow = TaskFlow(stand_in)  # type: ignore[arg-type]
        signals = [flow.signals(t) for t in TEXTS]  # the rule router's part, not measured

        cpu: list[float] = []

        def once(i: int) -> float:
            s = signals[i % len(TEXTS)]
            t0, c0 = time.perf_counter(), time.process_time()
            feats = flow.learned.features(s.task, True, s)
            choice = flow.learned.choose(feats, flow.policy, route(s, flow.policy))
            took = (time.perf_counter() - t0) * 1000
            cpu.append((time.process_time() - c0) * 1000)
            assert choice.basis == "ledger", choice.route.reason
            return took

        first = once(0)  # opens the ledger
        times = sorted(once(i) for i in range(1, args.runs + 1))

        p95 = times[int(len(times) * 0.95) - 1]
        print(f"ledger: {args.tasks:,} tasks in {max(2, args.projects):,} projects")
        print(f"first task (opens the ledger): {first:.2f} ms")
        print(f"per task start: median {statistics.median(times):.2f} ms, p95 {p95:.2f} ms, "
              f"max {times[-1]:.2f} ms over {args.runs} starts (goal < 20 ms)")
        # CPU time too: on a shared machine the wall-clock tail is other processes' time.
        print(f"CPU per task start: median {statistics.median(cpu[1:]):.2f} ms, max "
              f"{max(cpu[1:]):.2f} ms; first task {cpu[0]:.2f} ms")
        choice = flow.learned.choose(flow.learned.features(signals[0].task, True, signals[0]),
                                     flow.policy, route(signals[0], flow.policy))
        print(f"example: {choice.route.profile}: {choice.route.reason}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
