"""Debug time as the ledger records it: a real interactive Session with an injected clock and a
scripted provider, its events recorded by attach_ledger."""
from __future__ import annotations

import asyncio
import os
from pathlib import Path

from realcost_agent.agent import events as ev
from realcost_agent.agent.config import Settings
from realcost_agent.agent.ledger import Ledger
from realcost_agent.agent.ops import CorrectDebugTime, EndTask, UserInput
from realcost_agent.agent.recorder import attach_ledger
from realcost_agent.agent.report import Scope, build_report
from realcost_agent.agent.session import Session
from realcost_agent.providers.scripted import ScriptedProvider, text, usage


class Clock:
    def __init__(self) -> None:
        self.t = 5000.0

    def __call__(self) -> float:
        return self.t


async def _until(session: Session, cls: type, match=lambda e: True, timeout: float = 20) -> ev.Event:
    async def wait():
        while True:
            event = await session.next_event()
            assert event is not None, "session closed first"
            if isinstance(event, cls) and match(event):
                return event

    return await asyncio.wait_for(wait(), timeout)


def _session(root: Path, turns: int, clock: Clock, **settings) -> tuple[Session, Path]:
    provider = ScriptedProvider([[text(f"answer {i}"), usage(1000, 100)] for i in range(turns)])
    db = root.parent / "ledger.sqlite3"
    s = Session(Settings(**settings), root,
                env={"PATH": os.environ["PATH"], "AGENT_DATA_HOME": str(root.parent / "data")},
                provider_factory=lambda m: provider, interactive=True, clock=clock,
                output_dir=root.parent / "out")
    assert attach_ledger(s, path=db) is not None
    return s, db


async def test_gaps_become_measured_debug_time_and_corrections_stay_beside(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    root.mkdir()
    clock = Clock()
    s, db = _session(root, 2, clock, hourly_rate=35.0)
    await s.start()
    s.submit(UserInput("fix the timeline"))
    await _until(s, ev.TurnFinished)
    clock.t += 90  # the developer reads and tests for 90 s
    s.submit(UserInput("thumbnails sit below the bar"))
    await _until(s, ev.TurnFinished)
    clock.t += 45
    s.submit(EndTask("done"))
    await _until(s, ev.TaskUpdated, lambda e: e.status == "done")

    lg = Ledger(db)  # a second reader, as `agent report` would be, while the session runs
    (task,) = [lg.task(r["id"]) for r in lg.recent_tasks()]
    assert (task["status"], task["prompts"], task["followups"]) == ("done", 2, 1)
    assert task["debug_ms"] == 135_000 and task["correction_ms"] == 0

    s.submit(CorrectDebugTime(180))  # /debug +3m
    await _until(s, ev.TaskUpdated, lambda e: e.debug_correction_ms == 180_000)
    task = lg.task(task["id"])
    assert task["debug_ms"] == 135_000 and task["correction_ms"] == 180_000
    # `agent task debug ID 5m` later sets the total; the measured value is kept as measured.
    lg.correct_task(task["id"], 300, absolute=True, source="cli")
    task = lg.task(task["id"])
    assert task["debug_ms"] == 135_000 and task["debug_ms"] + task["correction_ms"] == 300_000
    log = lg.corrections(task["id"])
    assert [(c["source"], c["delta_ms"], c["set_total_ms"]) for c in log] == [
        ("session", 180_000, None), ("cli", -15_000, 300_000)]

    g = build_report(lg.conn, Scope(session=s.id))["groups"][0]
    assert g["debug"] == {"measured_ms": 135_000, "corrections_ms": 165_000, "total_ms": 300_000,
                          "minutes": 5.0}
    assert g["developer_cost"] == 300_000 / 3_600_000 * 35.0
    assert g["tokens"]["input"] == 2000 and g["requests"] == 2
    await s.close()
    lg.close()


async def test_idle_cap_limits_each_gap_in_the_ledger(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    root.mkdir()
    clock = Clock()
    s, db = _session(root, 2, clock, debug_idle_cap_minutes=10)
    await s.start()
    s.submit(UserInput("task"))
    await _until(s, ev.TurnFinished)
    clock.t += 3600  # lunch: billed as the 10-minute cap
    s.submit(UserInput("follow-up"))
    await _until(s, ev.TurnFinished)
    clock.t += 30
    s.submit(EndTask("done"))
    await _until(s, ev.TaskUpdated, lambda e: e.status == "done")
    await s.close()
    lg = Ledger(db)
    (row,) = lg.recent_tasks()
    assert row["debug_ms"] == 630_000
    lg.close()


async def test_a_new_task_ends_the_previous_one_in_the_ledger(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    root.mkdir()
    clock = Clock()
    s, db = _session(root, 2, clock)
    await s.start()
    s.submit(UserInput("first"))
    await _until(s, ev.TurnFinished)
    s.submit(EndTask("abandoned"))
    await _until(s, ev.TaskUpdated, lambda e: e.status == "abandoned")
    s.submit(UserInput("second"))
    await _until(s, ev.TurnFinished)
    await s.close()
    lg = Ledger(db)
    rows = sorted(lg.recent_tasks(), key=lambda r: r["id"])
    assert [(r["seq"], r["status"], r["prompt"], r["requests"]) for r in rows] == [
        (1, "abandoned", "first", 1), (2, "active", "second", 1)]
    assert all(r["session_id"] == s.id for r in rows)
    lg.close()
