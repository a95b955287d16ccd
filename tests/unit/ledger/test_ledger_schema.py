"""The ledger's storage: WAL, versioned migrations, commits visible at once."""
from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest

from realcost_agent.agent.ledger import MIGRATIONS, SCHEMA_VERSION, Ledger, LedgerError


def _schema(path: Path) -> list[tuple]:
    conn = sqlite3.connect(path)
    try:
        return conn.execute("SELECT type, name, sql FROM sqlite_master ORDER BY name").fetchall()
    finally:
        conn.close()


def _fill_v1(lg: Ledger) -> int:
    lg.add_session("s1", project="/p", git_commit="c0ffee", model="o4-mini", backend="openrouter",
                   version="0.1.0", hourly_rate=35.0, interactive=False, at=100.0)
    task = lg.add_task("s1", 1, project="/p", git_commit="c0ffee", model="o4-mini",
                       backend="openrouter", hourly_rate=35.0, at=100.0)
    lg.add_call(session_id="s1", task_id=task, turn_id="t1", project="/p", git_commit="c0ffee",
                model="o4-mini", litellm_id="openrouter/openai/o4-mini", backend="openrouter",
                input_tokens=9334, cached_input_tokens=0, output_tokens=6327, reasoning_tokens=0,
                cost=0.0775, provider_cost=None, ttft_ms=6000.0, ttft_text_ms=8000.0,
                duration_ms=33000.0)
    return task


def test_fresh_ledger_is_wal_at_the_current_version(tmp_path: Path) -> None:
    lg = Ledger(tmp_path / "sub" / "ledger.sqlite3")  # parent dirs are created
    assert lg.journal_mode == "wal"
    assert lg.version == SCHEMA_VERSION == len(MIGRATIONS)
    tables = {r[1] for r in _schema(tmp_path / "sub" / "ledger.sqlite3") if r[0] == "table"}
    assert {"sessions", "tasks", "calls", "debug_corrections", "prompts"} <= tables
    lg.close()


def test_a_v1_ledger_upgrades_and_keeps_its_rows(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite3"
    old = Ledger(path, migrations=MIGRATIONS[:1])
    assert old.version == 1
    task = _fill_v1(old)
    old.close()
    names_v1 = {r[1] for r in _schema(path)}
    assert "debug_corrections" not in names_v1 and "calls_task" not in names_v1

    lg = Ledger(path)
    assert lg.version == SCHEMA_VERSION
    names = {r[1] for r in _schema(path)}
    assert {"debug_corrections", "prompts", "calls_task", "tasks_session"} <= names
    assert [c["cost"] for c in lg.calls(session_id="s1")] == [0.0775]
    lg.add_correction(task, 120_000, source="cli")  # a v2 feature on v1 data
    assert lg.task(task)["correction_ms"] == 120_000
    lg.close()


def test_reopening_is_idempotent(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite3"
    _fill_v1(Ledger(path))
    before = _schema(path)
    for _ in range(3):
        lg = Ledger(path)
        assert lg.version == SCHEMA_VERSION
        assert len(lg.calls()) == 1
        lg.close()
    assert _schema(path) == before


def test_a_newer_ledger_is_refused_not_clobbered(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite3"
    Ledger(path).close()
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    with pytest.raises(LedgerError, match="newer"):
        Ledger(path)


def test_every_write_is_committed_before_it_returns(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite3"
    lg = Ledger(path)
    task = _fill_v1(lg)
    lg.update_task(task, status="done", prompts=1, followups=0, agent_ms=33000, debug_ms=0)
    # Another connection (another process, in real life) sees it while `lg` is still open.
    other = sqlite3.connect(path)
    assert other.execute("SELECT COUNT(*) FROM calls").fetchone()[0] == 1
    assert other.execute("SELECT status FROM tasks").fetchone()[0] == "done"
    other.close()
    lg.close()


def test_concurrent_first_opens_migrate_once(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite3"
    errors: list[BaseException] = []

    def open_it() -> None:
        try:
            Ledger(path).close()
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=open_it) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert Ledger(path).version == SCHEMA_VERSION


def test_failed_migration_leaves_the_previous_version(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite3"
    Ledger(path, migrations=MIGRATIONS[:1]).close()
    broken = (*MIGRATIONS[:1], ("CREATE TABLE ok_table (x)", "THIS IS NOT SQL"))
    with pytest.raises(sqlite3.Error):
        Ledger(path, migrations=broken)
    lg = Ledger(path, migrations=MIGRATIONS[:1])
    assert lg.version == 1
    assert "ok_table" not in {r[1] for r in _schema(path)}  # rolled back whole
    lg.close()
