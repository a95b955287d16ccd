"""Team-scale figures (issue 17).

1. Ledger write latency, median and p95 over many rows: the local SQLite write the agent waits
   for (the outbox: with the v6 triggers), against a direct synchronous INSERT + COMMIT into
   PostgreSQL per row (what a write straight to the shared ledger would cost), and the
   background sender's throughput (rows copied per second, in batches).
2. A bake-off suite's wall time on a local Ray with 1, 2 and 4 workers (num_cpus): cells that
   wait on a "model" (sleep) and then run a CPU-bound "check", as real cells do.

    .venv/bin/python bench/team_bench.py [--rows 2000] [--cells 8] [--wait 1.5] [--cpu 0.5]

PostgreSQL runs from a temp dir (tests/pgserver.py); as root it runs as `nobody`.
"""
from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE.parent / "tests"))

from realcost_agent.agent import teamledger as tl  # noqa: E402
from realcost_agent.agent.ledger import Ledger  # noqa: E402
from realcost_agent.cli.executors import Cell, RayExecutor, run_cells  # noqa: E402

CALL = dict(session_id="s", task_id=1, model="o4-mini", litellm_id="o4-mini", backend="openai",
            project="/repo", input_tokens=1200, cached_input_tokens=256, output_tokens=300,
            reasoning_tokens=40, cost=0.0021, duration_ms=2300.0, ttft_ms=410.0)


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def stats(name: str, ms: list[float]) -> str:
    return f"{name:<44} median {statistics.median(ms):7.3f} ms   p95 {pct(ms, 95):7.3f} ms   (n={len(ms)})"


def ledger_latency(rows: int) -> None:
    from pgserver import PgServer, unavailable

    why = unavailable()
    if why:
        print(f"ledger latency skipped: {why}")
        return
    server = PgServer()
    server.start(fsync=True)  # durable commits, as on a real server (over a unix socket here)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            lg = Ledger(Path(tmp) / "l.sqlite3")
            lg.add_session("s", project="/repo", git_commit=None, model="o4-mini", backend="openai",
                           version="1", hourly_rate=35.0, interactive=False)
            lg.add_task("s", 1, project="/repo", git_commit=None, model="o4-mini",
                        backend="openai", hourly_rate=35.0)
            from realcost_agent.agent.ledger import MIGRATIONS

            v5 = Ledger(Path(tmp) / "v5.sqlite3", migrations=MIGRATIONS[:5])  # before the outbox
            before = []
            for _ in range(rows):
                t = time.perf_counter()
                v5.add_call(**{**CALL, "task_id": None})
                before.append((time.perf_counter() - t) * 1000)
            local = []
            for _ in range(rows):
                t = time.perf_counter()
                lg.add_call(**CALL)
                local.append((time.perf_counter() - t) * 1000)
            pg = tl.connect(server.url())
            cols = tl._columns(lg.conn, "calls")
            sample = list(lg.conn.execute(f"SELECT {', '.join(cols)} FROM calls LIMIT 1").fetchone())
            uid_at = cols.index("uid")
            direct = []
            for n in range(rows):
                sample[uid_at] = f"direct-{n}"
                t = time.perf_counter()
                pg.execute(tl._upsert("calls", cols), sample)
                pg.commit()
                direct.append((time.perf_counter() - t) * 1000)
            pg.execute("DELETE FROM calls")
            pg.commit()
            t = time.perf_counter()
            sent = tl.sync_once(lg, pg)
            sync_s = time.perf_counter() - t
            pg.close()
            print(stats("SQLite ledger write, schema v5 (no outbox)", before))
            print(stats("SQLite ledger write (add_call, the outbox)", local))
            print(stats("PostgreSQL direct INSERT+COMMIT per row", direct))
            print(f"{'sender: pending rows copied in batches':<44} {sent} rows in {sync_s:.3f} s"
                  f" = {sent / sync_s:,.0f} rows/s")
    finally:
        server.close()


async def bench_cell(cell: Cell) -> dict:
    """A fake bake-off cell: the model's latency (sleep), then a CPU-bound check."""
    await asyncio.sleep(cell.payload["wait"])
    return {"spins": spin(cell.payload["spins"])}


def spin(n: int) -> int:
    """A fixed amount of CPU work (not a fixed time: workers sharing a core take longer)."""
    total = 0
    for i in range(n):
        total += i * i % 7
    return total


def calibrate(seconds: float) -> int:
    n, t = 200_000, time.perf_counter()
    spin(n)
    return int(n * seconds / (time.perf_counter() - t))


def ray_scaling(cells: int, wait: float, cpu: float) -> None:
    try:
        import ray
    except ImportError:
        print("ray scaling skipped: Ray is not installed")
        return
    ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])
    spins = calibrate(cpu)
    suite = [Cell(f"t{i % 4}", f"m{i % 2}", 1 + i // 8, {"wait": wait, "spins": spins})
             for i in range(cells)]
    print(f"suite: {cells} cells, each {wait:g} s model wait + {cpu:g} s CPU check "
          f"(serial work {cells * (wait + cpu):.1f} s)")
    for workers in (1, 2, 4):
        ray.init(num_cpus=workers, include_dashboard=False, configure_logging=False,
                 log_to_driver=False)
        asyncio.run(run_cells(suite[:workers], bench_cell, RayExecutor()))  # warm the workers
        t = time.perf_counter()
        results = asyncio.run(run_cells(suite, bench_cell, RayExecutor()))
        wall = time.perf_counter() - t
        ray.shutdown()
        assert all(r.error is None for r in results)
        print(f"  {workers} Ray worker(s): wall {wall:6.2f} s")


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--rows", type=int, default=2000)
    p.add_argument("--cells", type=int, default=8)
    p.add_argument("--wait", type=float, default=1.5)
    p.add_argument("--cpu", type=float, default=0.5)
    p.add_argument("--skip-ledger", action="store_true")
    p.add_argument("--skip-ray", action="store_true")
    a = p.parse_args()
    if not a.skip_ledger:
        ledger_latency(a.rows)
    if not a.skip_ray:
        ray_scaling(a.cells, a.wait, a.cpu)


if __name__ == "__main__":
    main()
