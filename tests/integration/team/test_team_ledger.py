"""The shared team ledger against a real PostgreSQL (tests/pgserver.py): two users writing at
once, an outage in the middle (nothing lost, nothing doubled), a crash between the remote
commit and the local mark, the team report by user, and credentials never shown."""
from __future__ import annotations

import itertools
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from pgserver import PASSWORD, PgServer, unavailable
from realcost_agent.agent import teamledger as tl
from realcost_agent.agent.ledger import TABLES, Ledger
from realcost_agent.agent.report import Scope, build_report

# Its module-scoped fixture is set up once: `--dist loadgroup` keeps these tests on one worker.
pytestmark = [pytest.mark.skipif(unavailable() is not None, reason=str(unavailable())),
              pytest.mark.xdist_group("postgres")]
_names = itertools.count()


@pytest.fixture(scope="module")
def server():
    srv = PgServer()
    srv.start()
    yield srv
    srv.close()


@pytest.fixture
def url(server: PgServer) -> str:
    """A fresh database per test on the shared server."""
    import psycopg

    name = f"team{next(_names)}"
    with psycopg.connect(server.url(), autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    return server.url().replace("/postgres?", f"/{name}?")


def write_task(lg: Ledger, session: str, seq: int, *, calls: int, cost: float) -> None:
    """One finished task with `calls` priced calls, written the way the recorder writes."""
    lg.add_session(session, project="/repo", git_commit=None, model="o4-mini", backend="openai",
                   version="1", hourly_rate=35.0, interactive=False)
    task = lg.add_task(session, seq, project="/repo", git_commit=None, model="o4-mini",
                       backend="openai", hourly_rate=35.0)
    for _ in range(calls):
        lg.add_call(session_id=session, task_id=task, model="o4-mini", litellm_id="o4-mini",
                    backend="openai", project="/repo", input_tokens=100, cached_input_tokens=0,
                    output_tokens=10, reasoning_tokens=0, cost=cost, duration_ms=5.0)
    lg.update_task(task, status="done", prompts=1, followups=0, agent_ms=1000.0, debug_ms=60000.0)


def remote_counts(url: str) -> dict[str, tuple[int, int]]:
    """(rows, distinct uids) per table."""
    import psycopg

    with psycopg.connect(url) as conn:
        return {t: conn.execute(f"SELECT COUNT(*), COUNT(DISTINCT uid) FROM {t}").fetchone()
                for t in TABLES}


def wait_until(predicate, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def test_the_same_migrations_give_the_same_columns(url: str, tmp_path: Path) -> None:
    import psycopg

    tl.connect(url).close()
    tl.connect(url).close()  # a second connect finds the schema current
    local = Ledger(tmp_path / "l.sqlite3")
    with psycopg.connect(url) as conn:
        for table in TABLES:
            remote = [r[0] for r in conn.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_name = %s"
                " ORDER BY ordinal_position", (table,))]
            assert remote == tl._columns(local.conn, table), table


def test_two_users_write_at_once_and_the_team_report_splits_them(url: str, tmp_path: Path) -> None:
    users = {"alice": (6, 0.01), "bob": (4, 0.02)}  # tasks, cost per call

    def work(name: str) -> None:
        lg = Ledger(tmp_path / f"{name}.sqlite3", identity=(name, f"{name}-laptop"))
        sender = tl.Sender(lg.path, url, interval=0.05).start()
        tasks, cost = users[name]
        for seq in range(1, tasks + 1):
            write_task(lg, f"{name}-s", seq, calls=3, cost=cost)
        sender.close(timeout=30)
        tl.push(lg.path, url)  # whatever the last round missed
        lg.close()

    threads = [threading.Thread(target=work, args=(n,)) for n in users]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    counts = remote_counts(url)
    assert counts["tasks"] == (10, 10) and counts["calls"] == (30, 30)
    memory = tl.team_ledger(url)
    report = build_report(memory.conn, Scope(by="user"))
    by_user = {g["key"]: g for g in report["groups"]}
    assert set(by_user) == {"alice", "bob"}
    assert by_user["alice"]["tasks"] == 6 and by_user["bob"]["tasks"] == 4
    assert by_user["alice"]["api_cost"] == pytest.approx(6 * 3 * 0.01)
    assert by_user["bob"]["api_cost"] == pytest.approx(4 * 3 * 0.02)
    # Each user's developer time: 1 debug minute per task at the task's own rate.
    assert by_user["bob"]["developer_cost"] == pytest.approx(4 / 60 * 35.0)
    machines = build_report(memory.conn, Scope(by="machine"))
    assert {g["key"] for g in machines["groups"]} == {"alice-laptop", "bob-laptop"}


def test_an_outage_loses_nothing_and_doubles_nothing(server: PgServer, url: str,
                                                       tmp_path: Path) -> None:
    lg = Ledger(tmp_path / "l.sqlite3", identity=("carol", "box"))
    warnings: list[str] = []
    sender = tl.Sender(lg.path, url, interval=0.05, max_backoff=0.2,
                       on_warning=warnings.append).start()
    try:
        for seq in range(1, 4):
            write_task(lg, "s1", seq, calls=2, cost=0.01)
        wait_until(lambda: tl.pending(lg.conn) == 0)
        server.stop()
        started = time.monotonic()
        for seq in range(4, 9):  # the database is down: writes go on, locally, at once
            write_task(lg, "s1", seq, calls=2, cost=0.01)
        assert time.monotonic() - started < 30  # never waits on the network (generous bound)
        wait_until(lambda: sender.last_error is not None)
        assert tl.pending(lg.conn) > 0
        server.start()
        wait_until(lambda: tl.pending(lg.conn) == 0)
    finally:
        if not server.running:
            server.start()
        sender.close(timeout=30)
    counts = remote_counts(url)
    assert counts["tasks"] == (8, 8) and counts["calls"] == (16, 16) and counts["sessions"] == (1, 1)
    # The tasks' final state arrived (updates after the first send are sent again).
    import psycopg

    with psycopg.connect(url) as conn:
        assert conn.execute("SELECT COUNT(*) FROM tasks WHERE status = 'done'").fetchone()[0] == 8
    assert warnings and "rows wait in the local ledger" in warnings[0]
    assert all(PASSWORD not in w for w in warnings) and PASSWORD not in (sender.last_error or "")


def test_a_crash_between_sending_and_marking_never_doubles(url: str, tmp_path: Path,
                                                            monkeypatch) -> None:
    lg = Ledger(tmp_path / "l.sqlite3")
    write_task(lg, "s1", 1, calls=5, cost=0.01)
    pg = tl.connect(url)
    real_tx = lg._tx
    monkeypatch.setattr(lg, "_tx", lambda: (_ for _ in ()).throw(OSError("killed before the mark")))
    with pytest.raises(OSError):
        tl.sync_once(lg, pg)  # the sessions batch is committed remotely, never marked locally
    monkeypatch.setattr(lg, "_tx", real_tx)
    assert tl.sync_once(lg, pg) == 1 + 1 + 5  # everything is resent ...
    assert tl.sync_once(lg, pg) == 0
    pg.close()
    counts = remote_counts(url)
    assert counts["sessions"] == (1, 1) and counts["calls"] == (5, 5)  # ... and counted once


def test_an_older_revision_never_overwrites_a_newer_one(url: str, tmp_path: Path) -> None:
    lg = Ledger(tmp_path / "l.sqlite3")
    write_task(lg, "s1", 1, calls=0, cost=0.0)
    stale = dict(lg.conn.execute("SELECT * FROM tasks").fetchone())
    tl.push(lg.path, url)
    lg.update_task(1, status="interrupted", prompts=2, followups=1, agent_ms=5.0, debug_ms=1.0)
    tl.push(lg.path, url)
    memory = Ledger(":memory:")
    pg = tl.connect(url)
    stale["status"] = "stale"
    cols = [c for c in stale if c != "synced_rev"]
    pg.execute(tl._upsert("tasks", cols), [stale[c] for c in cols])  # a late resend of rev 2
    pg.commit()
    assert pg.execute("SELECT status FROM tasks").fetchone()[0] == "interrupted"
    pg.close()
    memory.close()


def test_credentials_never_show(server: PgServer, url: str, tmp_path: Path) -> None:
    wrong = url.replace(PASSWORD, "Wr0ng-pass-77aa")
    with pytest.raises(tl.TeamLedgerError) as info:
        tl.connect(wrong)
    assert "Wr0ng-pass-77aa" not in str(info.value) and "***" in str(info.value)
    sender = tl.Sender(tmp_path / "l.sqlite3", wrong, interval=0.05)
    seen: list[str] = []
    sender.on_warning = seen.append
    sender.start()
    wait_until(lambda: sender.last_error is not None)
    sender.close(timeout=5)
    assert seen and all("Wr0ng-pass-77aa" not in m for m in seen)
    # The command line: the team report's error names the server, never the password.
    env = {"AGENT_LEDGER_URL": wrong, "AGENT_DATA_HOME": str(tmp_path / "data"),
           "AGENT_CONFIG_HOME": str(tmp_path / "cfg"), "HOME": str(tmp_path), "PATH": "/usr/bin:/bin"}
    proc = subprocess.run([sys.executable, "-m", "realcost_agent.cli.main", "report", "--all"],
                          capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120)
    assert proc.returncode == 1
    assert "Wr0ng-pass-77aa" not in proc.stderr + proc.stdout
    assert "team:***@" in proc.stderr


def test_agent_report_all_by_user_reads_the_team_ledger(url: str, tmp_path: Path) -> None:
    for name in ("dana", "eve"):
        lg = Ledger(tmp_path / f"{name}.sqlite3", identity=(name, "m"))
        write_task(lg, f"{name}-s", 1, calls=2, cost=0.5)
        tl.push(lg.path, url)
        lg.close()
    env = {"AGENT_LEDGER_URL": url, "AGENT_DATA_HOME": str(tmp_path / "data"),
           "AGENT_CONFIG_HOME": str(tmp_path / "cfg"), "HOME": str(tmp_path),
           "PATH": "/usr/bin:/bin"}
    proc = subprocess.run([sys.executable, "-m", "realcost_agent.cli.main", "report", "--all",
                           "--by", "user", "--format", "json"],
                          capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120)
    assert proc.returncode == 0, proc.stderr
    import json

    report = json.loads(proc.stdout)
    assert {g["key"]: g["api_cost"] for g in report["groups"]} == {"dana": 1.0, "eve": 1.0}
    assert PASSWORD not in proc.stdout and "***" in report["warnings"][0]


def test_the_real_agent_sends_its_rows_to_the_team_ledger(url: str, tmp_path: Path,
                                                          fake_server) -> None:
    """`agent -p` with AGENT_LEDGER_URL: the run's rows reach PostgreSQL by the time it exits,
    stamped with the user and machine; nothing about the URL's password in its output."""
    import psycopg

    from agentproc import make_repo, run_agent
    from fakeserver import FakeTurn

    fake_server.add(FakeTurn(content="Done.", prompt_tokens=100, completion_tokens=5))
    repo = make_repo(tmp_path / "proj", {"a.py": "x = 1\n"})
    proc = run_agent(repo, "-p", "say done", "--model", "gpt-oss-20b", "--api-base",
                     fake_server.url, AGENT_LEDGER_URL=url, AGENT_LEDGER_USER="frank",
                     AGENT_LEDGER_MACHINE="ci-box")
    assert proc.returncode == 0, proc.stderr
    assert PASSWORD not in proc.stdout + proc.stderr
    with psycopg.connect(url) as conn:
        rows = conn.execute("SELECT user_name, machine, input_tokens FROM calls").fetchall()
        tasks = conn.execute("SELECT user_name, status FROM tasks").fetchall()
    assert rows == [("frank", "ci-box", 100)]
    assert tasks and tasks[0][0] == "frank"


def test_two_sessions_sending_from_one_ledger_count_each_row_once(url: str, tmp_path: Path) -> None:
    """Two agents on one machine share the local ledger, so two senders race for the same
    pending rows: the uid key makes the loser's copy a no-op."""
    lg = Ledger(tmp_path / "l.sqlite3")
    senders = [tl.Sender(lg.path, url, interval=0.01).start() for _ in range(2)]
    for seq in range(1, 21):
        write_task(lg, "s1", seq, calls=3, cost=0.01)
    wait_until(lambda: tl.pending(lg.conn) == 0)
    for sender in senders:
        sender.close(timeout=30)
    counts = remote_counts(url)
    assert counts["tasks"] == (20, 20) and counts["calls"] == (60, 60)
