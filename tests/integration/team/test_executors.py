"""Bake-off cells on the executors: a suite of fake-model cells on a local Ray (2 CPUs) with one
worker killed mid-suite (its cell is run again, and says so), a cell that fails twice (reported,
never dropped), and the local executor's --jobs limit and retry."""
from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

import pytest

from realcost_agent.cli.executors import Cell, LocalExecutor, RayExecutor, make_executor, run_cells


async def fake_model_cell(cell: Cell) -> dict:
    """A fake model's attempt: deterministic tokens and cost per (task, model, repeat). The cell
    named in payload["kill"] kills its own worker the first time (a marker file remembers)."""
    marker = cell.payload.get("kill")
    if marker and cell.model == "m-big" and cell.task == "t2" and not os.path.exists(marker):
        Path(marker).write_text(str(os.getpid()))
        os.kill(os.getpid(), signal.SIGKILL)
    if cell.task == "broken":
        raise RuntimeError(f"model {cell.model} crashed the harness")
    await asyncio.sleep(cell.payload.get("seconds", 0.0))
    tokens = 100 * cell.repeat + len(cell.model) + len(cell.task)
    return {"key": cell.key, "tokens": tokens, "cost": tokens * 1e-6, "pid": os.getpid()}


def suite(tasks=("t1", "t2"), models=("m-small", "m-big"), repeats=2, **payload) -> list[Cell]:
    return [Cell(t, m, r, payload) for t in tasks for m in models for r in range(1, repeats + 1)]


# Its module-scoped fixture is set up once: `--dist loadgroup` keeps these tests on one worker.
pytestmark = pytest.mark.xdist_group("ray")


@pytest.fixture(scope="module")
def ray_local():
    ray = pytest.importorskip("ray", reason="Ray is not installed (pip install 'realcost-agent[team]')")
    # The cell function lives in this test module, which Ray's workers cannot import by name.
    ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])
    ray.init(num_cpus=2, include_dashboard=False, configure_logging=False, log_to_driver=False)
    yield ray
    ray.shutdown()


def test_ray_suite_with_a_worker_killed_mid_suite(ray_local, tmp_path: Path) -> None:
    cells = suite(kill=str(tmp_path / "killed-once"), seconds=0.2) + suite(tasks=("broken",), repeats=1)
    results = asyncio.run(run_cells(cells, fake_model_cell, RayExecutor()))
    assert [r.cell for r in results] == cells  # every cell back, in order
    by_key = {r.cell.key: r for r in results}
    killed = by_key["t2/m-big/1"]
    assert (tmp_path / "killed-once").exists()
    assert killed.retried and killed.attempts == 2 and killed.error is None
    assert "worker lost" in killed.failures[0]
    assert killed.value["tokens"] == 100 + len("m-big") + len("t2")
    assert int((tmp_path / "killed-once").read_text()) != killed.value["pid"]
    for key in ("broken/m-small/1", "broken/m-big/1"):  # failed twice: reported, not dropped
        r = by_key[key]
        assert r.value is None and r.attempts == 2 and "crashed the harness" in r.error
    ok = [r for r in results if r.cell.task != "broken"]
    assert all(r.value and r.value["key"] == r.cell.key for r in ok)
    assert sum(r.retried for r in ok) == 1


def test_local_executor_keeps_jobs_and_retries_once(tmp_path: Path) -> None:
    running, peak = 0, 0

    async def cell_fn(cell: Cell) -> dict:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        await asyncio.sleep(0.01)
        running -= 1
        if cell.task == "flaky" and not (tmp_path / "once").exists():
            (tmp_path / "once").write_text("x")
            raise OSError("transient")
        return {"key": cell.key}

    cells = suite(tasks=("a", "flaky"), models=("x", "y", "z"), repeats=1)
    results = asyncio.run(run_cells(cells, cell_fn, LocalExecutor(jobs=2)))
    assert peak <= 2 and all(r.error is None for r in results)
    assert [r.attempts for r in results].count(2) == 1


def test_make_executor_rejects_bad_choices() -> None:
    with pytest.raises(ValueError):
        make_executor("slurm")
    with pytest.raises(ValueError):
        make_executor("local", address="auto")
    with pytest.raises(ValueError):
        make_executor("local", jobs=0)


def test_make_cells_gives_each_suite_cell_its_own_worktree_and_log(tmp_path: Path) -> None:
    """The call a suite runner makes: (task, spec) pairs x models x repeats, one worktree each."""
    from agentproc import make_repo
    from realcost_agent.agent import worktrees as wt
    from realcost_agent.cli.compare import make_cells

    root = make_repo(tmp_path / "proj", {"a.txt": "a\n"})
    commit = wt.head_commit(root)
    tasks = [("fix-a", {"prompt": "a"}), ("fix-b", {"prompt": "b"})]
    cells = make_cells(tasks, ["m1", "m2"], 2, settings=None, root=root, run_id="r1",
                       commit=commit, out_dir=tmp_path / "out", ledger_path=None, executor="local")
    assert [c.key for c in cells][:3] == ["fix-a/m1/1", "fix-a/m1/2", "fix-a/m2/1"]
    assert len({c.payload["worktree"] for c in cells}) == len(cells) == 8
    assert len({c.payload["log"] for c in cells}) == 8
    assert all(Path(c.payload["worktree"], "a.txt").exists() for c in cells)
    assert cells[-1].payload["spec"] == {"prompt": "b"}


def test_compare_reports_a_retried_cell_and_keeps_a_failed_one(tmp_path: Path) -> None:
    """What the page gets from the executor: a warning for a cell that needed a second attempt,
    and a row with the error for one that failed both (never a missing row)."""
    from realcost_agent.agent.config import Settings
    from realcost_agent.cli.compare import _gather
    from realcost_agent.cli.executors import CellResult

    ok = {"model": "m1", "worktree": "/w", "session_id": None, "task_id": None, "error": None,
          "reason": "done", "checks": 0, "check_passed": None, "followups": 0, "files_changed": [],
          "api_cost": 0.0, "unpriced_calls": 0, "requests": 1, "input_tokens": 1,
          "output_tokens": 1, "wall_ms": 1.0}
    cells = [CellResult(Cell("task", "m1"), value=ok, attempts=2,
                        failures=["worker lost (WorkerCrashedError): died"]),
             CellResult(Cell("task", "m2"), error="RuntimeError: boom", attempts=2,
                        failures=["RuntimeError: boom", "RuntimeError: boom"])]
    warnings: list[str] = []
    rows = _gather(cells, Settings(ledger=False), tmp_path / "l.sqlite3", warnings)
    assert [r["model"] for r in rows] == ["m1", "m2"]
    assert rows[0]["attempts"] == 2 and rows[0]["error"] is None
    assert rows[1]["error"] == "RuntimeError: boom (after 2 attempts)"
    assert warnings == ["task/m1/1: attempt 1 failed (worker lost (WorkerCrashedError): died); run again"]
