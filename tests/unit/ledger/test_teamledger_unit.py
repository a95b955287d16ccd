"""The team ledger without a server: URL redaction, the schema translation, the outbox marks
the v6 triggers keep, the setting's sources, and a sender that never blocks the writer."""
from __future__ import annotations

import time
from pathlib import Path

import pytest

from realcost_agent.agent import teamledger as tl
from realcost_agent.agent.config import ConfigError, load_settings
from realcost_agent.agent.ledger import TABLES, Ledger

SECRET = "hunter2-Zq9"


@pytest.mark.parametrize("url, shown", [
    (f"postgresql://ann:{SECRET}@db.example:5432/ledger", "postgresql://ann:***@db.example:5432/ledger"),
    (f"postgres://db.example/ledger?user=ann&password={SECRET}&sslmode=require",
     "postgres://db.example/ledger?user=ann&password=***&sslmode=require"),
    ("postgresql://ann@db.example/ledger", "postgresql://ann@db.example/ledger"),
])
def test_redact_url(url: str, shown: str) -> None:
    assert tl.redact_url(url) == shown
    if SECRET in url:  # an error quoting the URL or the bare password shows neither
        assert SECRET not in tl.scrub(f"failed for {url}: password {SECRET} rejected", url)


def test_a_non_postgres_url_is_refused_without_showing_its_password(tmp_path: Path) -> None:
    env = {"AGENT_CONFIG_HOME": str(tmp_path / "cfg"),
           "AGENT_LEDGER_URL": f"mysql://ann:{SECRET}@db.example/x"}
    with pytest.raises(ConfigError) as info:
        load_settings(tmp_path, env=env)
    assert "postgresql://" in str(info.value) and SECRET not in str(info.value)


def test_the_url_comes_from_the_environment_or_the_user_config(tmp_path: Path) -> None:
    (tmp_path / "cfg").mkdir()
    (tmp_path / "cfg" / "config.toml").write_text('ledger_url = "postgresql://u@h/db"\n')
    env = {"AGENT_CONFIG_HOME": str(tmp_path / "cfg")}
    assert load_settings(tmp_path, env=env).ledger_url == "postgresql://u@h/db"
    env["AGENT_LEDGER_URL"] = "postgresql://v@h/db"
    assert load_settings(tmp_path, env=env).ledger_url == "postgresql://v@h/db"


def test_the_postgres_schema_is_the_same_migrations_translated() -> None:
    create = tl.pg_statement("CREATE TABLE t (id INTEGER PRIMARY KEY, task_id INTEGER NOT NULL"
                             " REFERENCES tasks(id), at REAL NOT NULL,\n UNIQUE (a, b)\n)")
    assert create == "CREATE TABLE t (id BIGINT NOT NULL, task_id BIGINT NOT NULL, at DOUBLE PRECISION NOT NULL\n)"
    flat = [s for m in tl.pg_migrations() for s in m]
    assert not any("TRIGGER" in s or "randomblob" in s or "synced_rev" in s for s in flat)
    assert sum("_uid ON" in s for s in flat) == len(TABLES)  # the upsert's key


def test_every_write_and_update_leaves_a_row_pending_until_marked(tmp_path: Path) -> None:
    lg = Ledger(tmp_path / "l.sqlite3", identity=("ann", "box"))
    lg.add_session("s", project="/p", git_commit=None, model="m", backend="b", version="1",
                   hourly_rate=35.0, interactive=False)
    task = lg.add_task("s", 1, project="/p", git_commit=None, model="m", backend="b", hourly_rate=35.0)
    lg.add_call(session_id="s", task_id=task, model="m", litellm_id="m", backend="b", project="/p",
                input_tokens=1, cached_input_tokens=0, output_tokens=1, reasoning_tokens=0,
                duration_ms=1.0)
    assert tl.pending(lg.conn) == 3
    row = lg.conn.execute("SELECT uid, task_uid, user_name, machine FROM calls").fetchone()
    assert row["task_uid"] == lg.conn.execute("SELECT uid FROM tasks").fetchone()[0]
    assert (row["user_name"], row["machine"]) == ("ann", "box") and len(row["uid"]) == 32
    for t in TABLES:  # what sync_once does after the remote commit
        lg.conn.execute(f"UPDATE {t} SET synced_rev = rev")
    assert tl.pending(lg.conn) == 0
    lg.update_task(task, status="done", prompts=1, followups=0, agent_ms=1.0, debug_ms=0.0)
    assert tl.pending(lg.conn) == 1  # the task's new revision waits to be sent
    # A reader (report, sender) opening the ledger keeps the writer's identity.
    assert (Ledger(lg.path).user, Ledger(lg.path).machine) == ("ann", "box")


def test_rows_from_another_ledger_load_once_linked_by_uid(tmp_path: Path) -> None:
    a = Ledger(tmp_path / "a.sqlite3", identity=("ann", "box"))
    a.add_session("s", project="/p", git_commit=None, model="m", backend="b", version="1",
                  hourly_rate=35.0, interactive=False)
    a.add_task("s", 1, project="/p", git_commit=None, model="m", backend="b", hourly_rate=35.0)
    b = Ledger(tmp_path / "b.sqlite3")
    b.add_session("x", project="/q", git_commit=None, model="m", backend="b", version="1",
                  hourly_rate=35.0, interactive=False)
    b.add_task("x", 1, project="/q", git_commit=None, model="m", backend="b", hourly_rate=35.0)
    a.add_call(session_id="s", task_id=1, model="m", litellm_id="m", backend="b", project="/p",
               input_tokens=7, cached_input_tokens=0, output_tokens=1, reasoning_tokens=0,
               duration_ms=1.0)
    rows = tl.export_rows(a, ["s"])
    assert tl.load_rows(b, rows)["calls"] == 1
    assert tl.load_rows(b, rows)["calls"] == 0  # the same rows again: nothing doubles
    call = b.conn.execute("SELECT c.input_tokens, t.session_id, c.user_name FROM calls c"
                          " JOIN tasks t ON t.id = c.task_id").fetchone()
    assert tuple(call) == (7, "s", "ann")


def test_an_unreachable_team_ledger_never_blocks_the_writer(tmp_path: Path) -> None:
    url = f"postgresql://ann:{SECRET}@/db?host={tmp_path}/no-such-socket-dir"
    lg = Ledger(tmp_path / "l.sqlite3")
    warnings: list[str] = []
    sender = tl.Sender(lg.path, url, interval=0.01, max_backoff=0.05,
                       on_warning=warnings.append).start()
    for seq in range(1, 51):  # writes go on while the sender fails in its thread
        lg.add_session(f"s{seq}", project="/p", git_commit=None, model="m", backend="b",
                       version="1", hourly_rate=35.0, interactive=False)
    deadline = time.monotonic() + 30
    while sender.last_error is None and time.monotonic() < deadline:
        time.sleep(0.01)
    assert sender.close(timeout=10) is False  # unhealthy: close does not wait on it
    assert tl.pending(lg.conn) == 50
    assert warnings and SECRET not in warnings[0] and SECRET not in (sender.last_error or "")


def test_commands_never_get_the_ledger_url() -> None:
    """The URL may carry a password in its query (password=...), which no value shape catches:
    the variable itself is kept from every command the agent runs."""
    from realcost_agent.tools.childenv import scrubbed_env

    env = scrubbed_env({"PATH": "/bin", "AGENT_LEDGER_URL": f"postgresql://h/db?password={SECRET}"})
    assert "AGENT_LEDGER_URL" not in env and env["PATH"] == "/bin"
