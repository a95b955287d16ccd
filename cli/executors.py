"""Where bake-off cells run: here (`local`, N at a time) or as Ray tasks on a cluster (`ray`).

    results = await run_cells(cells, run_one, make_executor("ray", address="ray://head:10001"))

A cell is one (task, model, repeat) of a bake-off; `run_one` is an async, top-level (so
picklable) function of a Cell returning a JSON-able dict. The executor only schedules: the
same function runs in this process (`local`) or in a Ray worker (`ray`, one CPU per cell),
where it gets its own worktree from a git bundle of the commit (`Cell.payload["bundle"]`) and
its own ledger file, whose rows come back with the result (`result["rows"]`) for the caller to
load into its ledger (agent.teamledger.load_rows), so the report is the same either way.

A cell that raises, or whose worker dies or is lost, is run once more; if that fails too its
CellResult carries the error. Every cell comes back, in the order given: none is dropped.
"""
from __future__ import annotations

import asyncio
import dataclasses
import os
import tempfile
import time
from dataclasses import field
from pathlib import Path
from typing import Any, Awaitable, Callable, Sequence

from realcost_agent.records import record

CellFn = Callable[["Cell"], Awaitable[dict[str, Any]]]
EXECUTORS = ("local", "ray")
RETRIES = 1


@record(frozen=True)
class Cell:
    task: str
    model: str
    repeat: int = 1
    payload: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    @property
    def key(self) -> str:
        return f"{self.task}/{self.model}/{self.repeat}"

    @property
    def slug(self) -> str:
        from realcost_agent.agent.worktrees import slug

        return slug(f"{self.task}-{self.model}-{self.repeat}")


@record
class CellResult:
    cell: Cell
    value: dict[str, Any] | None = None
    error: str | None = None  # the last attempt's failure, when every attempt failed
    attempts: int = 0
    failures: list[str] = field(default_factory=list)  # why each failed attempt failed
    where: str = "local"  # the worker that produced `value` (host:pid for Ray)
    wall_ms: float = 0.0

    @property
    def retried(self) -> bool:
        return self.attempts > 1


class LocalExecutor:
    """Today's `agent compare`: cells in this process, up to `jobs` at a time."""

    name = "local"

    def __init__(self, jobs: int = 1) -> None:
        if jobs < 1:
            raise ValueError("--jobs must be at least 1")
        self.jobs = jobs

    async def run(self, cells: Sequence[Cell], fn: CellFn) -> list[CellResult]:
        gate = asyncio.Semaphore(self.jobs)

        async def one(cell: Cell) -> CellResult:
            async with gate:
                result = CellResult(cell)
                started = time.monotonic()
                while result.attempts <= RETRIES:
                    result.attempts += 1
                    try:
                        result.value, result.error = await fn(cell), None
                        break
                    except asyncio.CancelledError:
                        raise
                    except Exception as exc:  # retried once, then reported
                        result.error = f"{type(exc).__name__}: {exc}"
                        result.failures.append(result.error)
                result.wall_ms = (time.monotonic() - started) * 1000
                return result

        return list(await asyncio.gather(*(one(c) for c in cells)))


class RayExecutor:
    """Each cell as a Ray task (num_cpus=1). `address`: an existing cluster ("auto",
    "ray://head:10001"); None starts a local one with `num_cpus` (default: this machine's)."""

    name = "ray"

    def __init__(self, address: str | None = None, *, num_cpus: int | None = None) -> None:
        self.address, self.num_cpus = address, num_cpus

    def _init(self) -> Any:
        try:
            import ray
        except ImportError:
            raise RuntimeError("--executor ray needs Ray: pip install 'realcost-agent[team]'") from None
        if not ray.is_initialized():
            kwargs: dict[str, Any] = {"include_dashboard": False, "log_to_driver": True,
                                      "configure_logging": False}
            try:
                if self.address:
                    ray.init(address=self.address, **kwargs)
                else:
                    ray.init(num_cpus=self.num_cpus, **kwargs)
            except Exception as exc:  # no cluster at that address, a bad address, ...
                where = self.address or "a local cluster"
                raise RuntimeError(f"cannot start Ray on {where}: {exc}") from None
        return ray

    async def run(self, cells: Sequence[Cell], fn: CellFn) -> list[CellResult]:
        ray = self._init()
        remote = ray.remote(num_cpus=1, max_retries=0)(_remote_cell)  # retries are ours: reported
        results = [CellResult(c, where="ray") for c in cells]
        started = {i: time.monotonic() for i in range(len(cells))}
        # The repository bundle goes into the object store once, not once per cell.
        stored: dict[int, Any] = {}
        sent: list[tuple[Cell, Any]] = []
        for c in cells:
            data = c.payload.get("bundle")
            if data is not None and id(data) not in stored:
                stored[id(data)] = ray.put(data)
            light = dataclasses.replace(c, payload={k: v for k, v in c.payload.items() if k != "bundle"})
            sent.append((light, None if data is None else stored[id(data)]))
        pending = {remote.remote(fn, *sent[i]): i for i in range(len(cells))}
        for r in results:
            r.attempts = 1
        while pending:
            done, _ = await asyncio.to_thread(ray.wait, list(pending), num_returns=1)
            for ref in done:
                i = pending.pop(ref)
                r = results[i]
                try:
                    value = await asyncio.to_thread(ray.get, ref)
                    r.value, r.error = value, None
                    r.where = str(value.pop("_where", "ray"))
                    r.wall_ms = (time.monotonic() - started[i]) * 1000
                except Exception as exc:  # the cell raised, or its worker died or was lost
                    r.error = _ray_error(exc)
                    r.failures.append(r.error)
                    if r.attempts <= RETRIES:
                        r.attempts += 1
                        pending[remote.remote(fn, *sent[i])] = i
                    else:
                        r.wall_ms = (time.monotonic() - started[i]) * 1000
        return results


def _ray_error(exc: BaseException) -> str:
    import re

    cause = getattr(exc, "cause", None)  # RayTaskError: what the cell itself raised
    if isinstance(cause, BaseException):
        return f"{type(cause).__name__}: {' '.join(str(cause).split())[:300]}"
    kind = type(exc).__name__
    text = re.sub(r"\x1b\[[0-9;]*m", "", " ".join(str(exc).split()))
    if "WorkerCrashed" in kind or "NodeDied" in kind or "ObjectLost" in kind or "died" in text:
        return f"worker lost ({kind}): {text[:300]}"
    return f"{kind}: {text[:300]}"


def _remote_cell(fn: CellFn, cell: Cell, bundle: bytes | None = None) -> dict[str, Any]:
    """In a Ray worker: the cell's own worktree (from the bundle) and ledger, then the cell."""
    import socket

    payload = dict(cell.payload)
    if bundle is not None:
        # Kept for inspection like a local worktree; AGENT_CELL_DIR says where (default: tmp).
        cells_dir = os.environ.get("AGENT_CELL_DIR") or None
        if cells_dir:
            os.makedirs(cells_dir, exist_ok=True)
        base = Path(tempfile.mkdtemp(prefix=f"agent-cell-{cell.slug}-", dir=cells_dir))
        (base / "repo.bundle").write_bytes(bundle)
        from realcost_agent.tools.gitsafe import run_git

        proc = run_git(base, "clone", "-q", str(base / "repo.bundle"), str(base / "worktree"),
                       timeout=300)
        if proc.returncode != 0:
            raise RuntimeError(f"cannot clone the bundle: {proc.stderr.strip()[:300]}")
        commit = payload.get("commit")
        if commit:
            run_git(base / "worktree", "checkout", "-q", "--detach", commit, timeout=60)
        payload.update(worktree=str(base / "worktree"), ledger=str(base / "ledger.sqlite3"),
                       out_dir=str(base), remote=True)
    value = asyncio.run(fn(dataclasses.replace(cell, payload=payload)))
    value["_where"] = f"{socket.gethostname()}:{os.getpid()}"
    return value


def make_executor(name: str, *, jobs: int = 1, address: str | None = None,
                  num_cpus: int | None = None) -> LocalExecutor | RayExecutor:
    if name == "local":
        if address:
            raise ValueError("--address is for --executor ray")
        return LocalExecutor(jobs)
    if name == "ray":
        return RayExecutor(address, num_cpus=num_cpus)
    raise ValueError(f"unknown executor {name!r} (choose {', '.join(EXECUTORS)})")


async def run_cells(cells: Sequence[Cell], fn: CellFn,
                    executor: LocalExecutor | RayExecutor) -> list[CellResult]:
    """Run every cell on `executor`; one CellResult per cell, in order."""
    return await executor.run(cells, fn)
