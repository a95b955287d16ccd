"""The real-cost ledger: sessions, tasks and model calls in an embedded SQLite database.

It lives at data_dir()/ledger.sqlite3 and is written as things happen, one committed
transaction per write, so a crash loses nothing that had finished. WAL mode lets `agent report`
read while a session writes. synchronous=NORMAL keeps a commit well under a millisecond; in WAL
mode a committed write still survives the process being killed (only an OS crash or power cut
can drop the last few commits).

The schema is versioned: MIGRATIONS is an ordered list and `PRAGMA user_version` says how many
have run. Never edit a released migration; append a new one.
"""
from __future__ import annotations

import sqlite3
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator, Sequence

from realcost_agent.agent.route_stats import STATEMENTS as ROUTE_STATS

Migration = tuple[str, ...]  # statements, run in one transaction


class Local(str):
    """A statement for the local SQLite ledger only (its sync bookkeeping: triggers, backfills,
    the outbox marks); the shared PostgreSQL ledger (agent/teamledger.py) skips it."""


# Every table, in the order rows are sent to a shared ledger (parents first).
TABLES = ("sessions", "tasks", "calls", "debug_corrections", "prompts", "routes", "checks",
          "cache_switches")
MUTABLE = ("sessions", "tasks")  # updated after insert: each update raises `rev`
TASK_LINKED = ("calls", "debug_corrections", "prompts", "routes", "checks", "cache_switches")


def _v7() -> Migration:
    """Team rows: a random uid per row (the shared ledger's key: a resent row is ignored, so a
    crash between sending and marking never doubles it), who wrote it (user, machine), a
    revision that each update raises, and the revision last sent (`synced_rev`: the outbox,
    a row is pending while synced_rev < rev). Triggers fill these, so no write path changes."""
    out: list[str] = [Local("CREATE TABLE ledger_meta (key TEXT PRIMARY KEY, value TEXT)")]
    for t in TABLES:
        out += [f"ALTER TABLE {t} ADD COLUMN uid TEXT", f"ALTER TABLE {t} ADD COLUMN user_name TEXT",
                f"ALTER TABLE {t} ADD COLUMN machine TEXT",
                f"ALTER TABLE {t} ADD COLUMN rev INTEGER NOT NULL DEFAULT 1",
                Local(f"ALTER TABLE {t} ADD COLUMN synced_rev INTEGER")]
        if t in TASK_LINKED:
            out.append(f"ALTER TABLE {t} ADD COLUMN task_uid TEXT")
        out.append(Local(f"UPDATE {t} SET uid = lower(hex(randomblob(16))) WHERE uid IS NULL"))
    for t in TABLES:
        link = ""
        if t in TASK_LINKED:
            out.append(Local(f"UPDATE {t} SET task_uid = (SELECT uid FROM tasks WHERE tasks.id ="
                             f" {t}.task_id) WHERE task_id IS NOT NULL"))
            link = ", task_uid = (SELECT uid FROM tasks WHERE tasks.id = NEW.task_id)"
        out += [
            f"CREATE UNIQUE INDEX {t}_uid ON {t}(uid)",
            Local(f"CREATE INDEX {t}_pending ON {t}(uid) WHERE synced_rev IS NULL OR synced_rev < rev"),
            Local(f"""CREATE TRIGGER {t}_stamp AFTER INSERT ON {t} WHEN NEW.uid IS NULL BEGIN
                UPDATE {t} SET uid = lower(hex(randomblob(16))),
                  user_name = COALESCE(NEW.user_name, (SELECT value FROM ledger_meta WHERE key = 'user')),
                  machine = COALESCE(NEW.machine, (SELECT value FROM ledger_meta WHERE key = 'machine')){link}
                WHERE rowid = NEW.rowid;
            END"""),
        ]
    for t in MUTABLE:
        # Marking a row sent changes only synced_rev, so it does not count as an update.
        out.append(Local(f"""CREATE TRIGGER {t}_rev AFTER UPDATE ON {t}
            WHEN OLD.uid IS NOT NULL AND NEW.rev = OLD.rev AND NEW.synced_rev IS OLD.synced_rev BEGIN
                UPDATE {t} SET rev = rev + 1 WHERE rowid = NEW.rowid;
            END"""))
    return tuple(out)


MIGRATIONS: tuple[Migration, ...] = (
    # v1: the three record types.
    (
        """CREATE TABLE sessions (
            id TEXT PRIMARY KEY,
            started_at REAL NOT NULL,
            updated_at REAL NOT NULL,
            project TEXT NOT NULL,
            git_commit TEXT,
            model TEXT,
            backend TEXT,
            version TEXT,
            hourly_rate REAL NOT NULL,
            interactive INTEGER NOT NULL DEFAULT 0
        )""",
        """CREATE TABLE tasks (
            id INTEGER PRIMARY KEY,
            session_id TEXT NOT NULL REFERENCES sessions(id),
            seq INTEGER NOT NULL,
            started_at REAL NOT NULL,
            updated_at REAL NOT NULL,
            ended_at REAL,
            project TEXT NOT NULL,
            git_commit TEXT,
            model TEXT,
            backend TEXT,
            status TEXT NOT NULL,
            last_reason TEXT,
            prompts INTEGER NOT NULL DEFAULT 0,
            followups INTEGER NOT NULL DEFAULT 0,
            agent_ms REAL NOT NULL DEFAULT 0,
            debug_ms REAL NOT NULL DEFAULT 0,
            correction_ms REAL NOT NULL DEFAULT 0,
            session_correction_ms REAL NOT NULL DEFAULT 0,
            hourly_rate REAL NOT NULL,
            check_passed INTEGER,
            UNIQUE (session_id, seq)
        )""",
        """CREATE TABLE calls (
            id INTEGER PRIMARY KEY,
            session_id TEXT NOT NULL,
            task_id INTEGER REFERENCES tasks(id),
            turn_id TEXT,
            at REAL NOT NULL,
            project TEXT NOT NULL,
            git_commit TEXT,
            model TEXT NOT NULL,
            litellm_id TEXT NOT NULL,
            backend TEXT NOT NULL,
            local INTEGER NOT NULL DEFAULT 0,
            purpose TEXT NOT NULL DEFAULT 'turn',
            input_tokens INTEGER NOT NULL,
            cached_input_tokens INTEGER NOT NULL,
            output_tokens INTEGER NOT NULL,
            reasoning_tokens INTEGER NOT NULL,
            cost REAL,
            provider_cost REAL,
            ttft_ms REAL,
            ttft_text_ms REAL,
            duration_ms REAL NOT NULL
        )""",
    ),
    # v2: corrections kept as a log beside the measured time, prompts, and report indexes.
    (
        """CREATE TABLE debug_corrections (
            id INTEGER PRIMARY KEY,
            task_id INTEGER NOT NULL REFERENCES tasks(id),
            at REAL NOT NULL,
            delta_ms REAL NOT NULL,
            set_total_ms REAL,
            source TEXT NOT NULL
        )""",
        """CREATE TABLE prompts (
            id INTEGER PRIMARY KEY,
            task_id INTEGER NOT NULL REFERENCES tasks(id),
            turn_id TEXT,
            at REAL NOT NULL,
            followup INTEGER NOT NULL,
            text TEXT NOT NULL
        )""",
        "CREATE INDEX sessions_started ON sessions(started_at)",
        "CREATE INDEX tasks_session ON tasks(session_id)",
        "CREATE INDEX tasks_started ON tasks(started_at)",
        "CREATE INDEX tasks_project ON tasks(project, started_at)",
        "CREATE INDEX calls_task ON calls(task_id)",
        "CREATE INDEX corrections_task ON debug_corrections(task_id)",
        "CREATE INDEX prompts_task ON prompts(task_id)",
    ),
    # v3: routing (each task's model choice and escalations), checks, who sent each prompt.
    (
        "ALTER TABLE tasks ADD COLUMN route_reason TEXT",
        "ALTER TABLE tasks ADD COLUMN pinned INTEGER",
        "ALTER TABLE tasks ADD COLUMN final_model TEXT",
        "ALTER TABLE tasks ADD COLUMN escalations INTEGER NOT NULL DEFAULT 0",
        "ALTER TABLE prompts ADD COLUMN origin TEXT NOT NULL DEFAULT 'user'",
        """CREATE TABLE routes (
            id INTEGER PRIMARY KEY,
            task_id INTEGER NOT NULL REFERENCES tasks(id),
            at REAL NOT NULL,
            model TEXT NOT NULL,
            litellm_id TEXT,
            backend TEXT,
            reason TEXT NOT NULL,
            pinned INTEGER NOT NULL,
            escalated INTEGER NOT NULL
        )""",
        """CREATE TABLE checks (
            id INTEGER PRIMARY KEY,
            task_id INTEGER NOT NULL REFERENCES tasks(id),
            at REAL NOT NULL,
            attempt INTEGER NOT NULL,
            command TEXT NOT NULL,
            model TEXT,
            passed INTEGER NOT NULL,
            exit_code INTEGER,
            duration_ms REAL NOT NULL,
            output_tail TEXT
        )""",
        "CREATE INDEX routes_task ON routes(task_id)",
        "CREATE INDEX checks_task ON checks(task_id)",
    ),
    # v4: a call whose host reported no usage has locally estimated token counts.
    (
        "ALTER TABLE calls ADD COLUMN usage_estimated INTEGER NOT NULL DEFAULT 0",
    ),
    # v5: the agent's own set-up time before a request left, and a note on figures that are
    # not the provider's as sent (bad data clamped, a response cut before usage came).
    (
        "ALTER TABLE calls ADD COLUMN setup_ms REAL",
        "ALTER TABLE calls ADD COLUMN usage_note TEXT",
    ),
    # v6: what the learned router (agent/autoroute.py) matches similar tasks by, each task's
    # API cost as the session counted it (so routing aggregates one table, not the calls), the
    # cache thrown away when a task switched models, and hand-overs to the developer.
    (
        "ALTER TABLE tasks ADD COLUMN kind TEXT",
        "ALTER TABLE tasks ADD COLUMN has_check INTEGER",
        "ALTER TABLE tasks ADD COLUMN size_class TEXT",
        "ALTER TABLE tasks ADD COLUMN named_files INTEGER",
        "ALTER TABLE tasks ADD COLUMN api_cost REAL",
        # The router's aggregate, kept by triggers (agent/route_stats.py).
        # The router's local aggregate: not shared (the team ledger has the rows it sums).
        *(Local(s) for s in ROUTE_STATS),
        """CREATE TABLE cache_switches (
            id INTEGER PRIMARY KEY,
            task_id INTEGER NOT NULL REFERENCES tasks(id),
            at REAL NOT NULL,
            from_model TEXT NOT NULL,
            to_model TEXT NOT NULL,
            prefix_tokens INTEGER NOT NULL,
            cost REAL
        )""",
        "CREATE INDEX cache_switches_task ON cache_switches(task_id)",
    ),
    # v7: rows a team can share (see _v7).
    _v7(),
)

SCHEMA_VERSION = len(MIGRATIONS)
PROMPT_CHARS = 4000  # prompts are kept for `agent task list`, not as a transcript

CALL_FIELDS = (
    "session_id", "task_id", "turn_id", "at", "project", "git_commit", "model", "litellm_id",
    "backend", "local", "purpose", "input_tokens", "cached_input_tokens", "output_tokens",
    "reasoning_tokens", "cost", "provider_cost", "ttft_ms", "ttft_text_ms", "duration_ms",
    "usage_estimated", "setup_ms", "usage_note",
)


class LedgerError(RuntimeError):
    pass


def default_path(env: Any = None) -> Path:
    from realcost_agent.tools.paths import data_dir

    return data_dir(env) / "ledger.sqlite3"


class Ledger:
    def __init__(self, path: str | Path, *, migrations: Sequence[Migration] = MIGRATIONS,
                 identity: tuple[str, str] | None = None) -> None:
        self.path = str(path)
        self._call_columns: set[str] | None = None  # read once, after migrations
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        # Autocommit mode: every statement outside `_tx` is its own committed transaction.
        self.conn = sqlite3.connect(self.path, timeout=10.0, isolation_level=None)
        self.conn.row_factory = sqlite3.Row
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA synchronous=NORMAL")
        self.conn.execute("PRAGMA foreign_keys=ON")
        before = self.version
        self._migrate(migrations)
        if len(migrations) >= 6:  # who writes the rows (agent/teamledger.py)
            self._stamp_identity(identity, backfill=before < 6)

    # -- schema ------------------------------------------------------------------------------
    @property
    def version(self) -> int:
        return int(self.conn.execute("PRAGMA user_version").fetchone()[0])

    @property
    def journal_mode(self) -> str:
        return str(self.conn.execute("PRAGMA journal_mode").fetchone()[0])

    def _migrate(self, migrations: Sequence[Migration]) -> None:
        if self.version > len(migrations):
            raise LedgerError(
                f"{self.path}: ledger schema v{self.version} is newer than this agent knows "
                f"(v{len(migrations)}); upgrade agent"
            )
        if self.version == len(migrations):
            return
        # IMMEDIATE takes the write lock first, so two processes opening a fresh ledger at once
        # cannot both run the same migration; the version is re-read under the lock.
        with self._tx():
            for number in range(self.version, len(migrations)):
                for statement in migrations[number]:
                    self.conn.execute(statement)
                self.conn.execute(f"PRAGMA user_version = {number + 1}")

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield self.conn
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")

    def close(self) -> None:
        self.conn.close()

    def _stamp_identity(self, identity: tuple[str, str] | None, *, backfill: bool) -> None:
        """The insert triggers stamp new rows with ledger_meta's user and machine. A writer
        passes its identity; a reader (a report, the team sender) keeps the one recorded, so
        only a fresh ledger takes the default. Rows from before v7 get it once."""
        have = dict(self.conn.execute("SELECT key, value FROM ledger_meta").fetchall())
        if identity is None and "user" in have and "machine" in have:
            identity = (have["user"], have["machine"])
        self.user, self.machine = identity or _identity()
        if have == {"user": self.user, "machine": self.machine} and not backfill:
            return
        with self._tx() as conn:
            conn.executemany("INSERT OR REPLACE INTO ledger_meta (key, value) VALUES (?, ?)",
                             [("user", self.user), ("machine", self.machine)])
            if backfill:
                for t in TABLES:
                    conn.execute(f"UPDATE {t} SET user_name = ?, machine = ? WHERE user_name IS NULL",
                                 (self.user, self.machine))

    # -- writes (each one committed before returning) ----------------------------------------
    def add_session(
        self, session_id: str, *, project: str, git_commit: str | None, model: str | None,
        backend: str | None, version: str | None, hourly_rate: float, interactive: bool,
        at: float | None = None,
    ) -> None:
        at = time.time() if at is None else at
        # A resumed session keeps its id: keep its first start, refresh the rest.
        self.conn.execute(
            "INSERT INTO sessions (id, started_at, updated_at, project, git_commit, model, backend,"
            " version, hourly_rate, interactive) VALUES (?,?,?,?,?,?,?,?,?,?)"
            " ON CONFLICT(id) DO UPDATE SET updated_at=excluded.updated_at,"
            " git_commit=excluded.git_commit, model=excluded.model, backend=excluded.backend,"
            " version=excluded.version, hourly_rate=excluded.hourly_rate",
            (session_id, at, at, project, git_commit, model, backend, version, hourly_rate,
             int(interactive)),
        )

    def find_task(self, session_id: str, seq: int) -> sqlite3.Row | None:
        return self.conn.execute(
            "SELECT * FROM tasks WHERE session_id = ? AND seq = ?", (session_id, seq)
        ).fetchone()

    def add_task(
        self, session_id: str, seq: int, *, project: str, git_commit: str | None,
        model: str | None, backend: str | None, hourly_rate: float, status: str = "active",
        at: float | None = None,
    ) -> int:
        at = time.time() if at is None else at
        cur = self.conn.execute(
            "INSERT INTO tasks (session_id, seq, started_at, updated_at, project, git_commit,"
            " model, backend, status, hourly_rate) VALUES (?,?,?,?,?,?,?,?,?,?)",
            (session_id, seq, at, at, project, git_commit, model, backend, status, hourly_rate),
        )
        return int(cur.lastrowid or 0)

    def update_task(
        self, task_id: int, *, status: str, prompts: int, followups: int, agent_ms: float,
        debug_ms: float, at: float | None = None,
    ) -> None:
        at = time.time() if at is None else at
        ended = None if status == "active" else at
        self.conn.execute(
            "UPDATE tasks SET status=?, prompts=?, followups=?, agent_ms=?, debug_ms=?,"
            " updated_at=?, ended_at=COALESCE(ended_at, ?) WHERE id=?",
            (status, prompts, followups, agent_ms, debug_ms, at, ended, task_id),
        )

    def set_task_features(self, task_id: int, *, kind: str, has_check: bool, size_class: str,
                          named_files: int) -> None:
        """What the learned router matches this task by (agent/autoroute.py)."""
        self.conn.execute(
            "UPDATE tasks SET kind=?, has_check=?, size_class=?, named_files=? WHERE id=?",
            (kind, int(has_check), size_class, named_files, task_id))

    def set_task_api_cost(self, task_id: int, api_cost: float) -> None:
        self.conn.execute("UPDATE tasks SET api_cost=? WHERE id=?", (api_cost, task_id))

    def add_cache_switch(self, task_id: int, *, from_model: str, to_model: str,
                         prefix_tokens: int, cost: float | None, at: float | None = None) -> None:
        self.conn.execute(
            "INSERT INTO cache_switches (task_id, at, from_model, to_model, prefix_tokens, cost)"
            " VALUES (?,?,?,?,?,?)",
            (task_id, time.time() if at is None else at, from_model, to_model, prefix_tokens, cost))

    def cache_switches(self, task_id: int) -> list[dict[str, Any]]:
        return [dict(r) for r in self.conn.execute(
            "SELECT * FROM cache_switches WHERE task_id = ? ORDER BY id", (task_id,))]

    def set_task_reason(self, task_id: int, reason: str) -> None:
        self.conn.execute("UPDATE tasks SET last_reason=? WHERE id=?", (reason, task_id))

    def set_check_passed(self, task_id: int, passed: bool | None) -> None:
        self.conn.execute(
            "UPDATE tasks SET check_passed=? WHERE id=?",
            (None if passed is None else int(passed), task_id),
        )

    def add_correction(
        self, task_id: int, delta_ms: float, *, source: str, set_total_ms: float | None = None,
        session_total_ms: float | None = None, at: float | None = None,
    ) -> None:
        """Log a correction and fold it into the task's net correction, in one transaction."""
        at = time.time() if at is None else at
        with self._tx() as conn:
            conn.execute(
                "INSERT INTO debug_corrections (task_id, at, delta_ms, set_total_ms, source)"
                " VALUES (?,?,?,?,?)", (task_id, at, delta_ms, set_total_ms, source),
            )
            conn.execute(
                "UPDATE tasks SET correction_ms = correction_ms + ?, updated_at = ?,"
                " session_correction_ms = COALESCE(?, session_correction_ms) WHERE id = ?",
                (delta_ms, at, session_total_ms, task_id),
            )

    def correct_task(self, task_id: int, seconds: float, *, absolute: bool, source: str = "cli") -> dict[str, Any]:
        """`agent task debug ID +3m` adds; `... 5m` sets the total (measured stays as measured)."""
        row = self.task(task_id)
        if row is None:
            raise LedgerError(f"no task {task_id} in the ledger")
        ms = seconds * 1000.0
        if absolute:
            delta = ms - (row["debug_ms"] + row["correction_ms"])
            self.add_correction(task_id, delta, source=source, set_total_ms=ms)
        else:
            self.add_correction(task_id, ms, source=source)
        return self.task(task_id) or {}

    def add_prompt(self, task_id: int, turn_id: str, text: str, followup: bool,
                   at: float | None = None, origin: str = "user") -> None:
        self.conn.execute(
            "INSERT INTO prompts (task_id, turn_id, at, followup, text, origin)"
            " VALUES (?,?,?,?,?,?)",
            (task_id, turn_id, time.time() if at is None else at, int(followup),
             text[:PROMPT_CHARS], origin),
        )

    def add_route(self, task_id: int, *, model: str, litellm_id: str | None, backend: str | None,
                  reason: str, pinned: bool, escalated: bool, at: float | None = None) -> None:
        """A task's model choice (the first) or an escalation, in one transaction with the
        task's summary columns: route_reason/pinned from the first, final_model from the last."""
        at = time.time() if at is None else at
        with self._tx() as conn:
            conn.execute(
                "INSERT INTO routes (task_id, at, model, litellm_id, backend, reason, pinned,"
                " escalated) VALUES (?,?,?,?,?,?,?,?)",
                (task_id, at, model, litellm_id, backend, reason, int(pinned), int(escalated)),
            )
            conn.execute(
                "UPDATE tasks SET final_model=?, escalations=escalations+?,"
                " route_reason=COALESCE(route_reason, ?), pinned=COALESCE(pinned, ?) WHERE id=?",
                (model, int(escalated), reason, int(pinned), task_id),
            )

    def add_check(self, task_id: int, *, attempt: int, command: str, model: str | None,
                  passed: bool, exit_code: int | None, duration_ms: float, output_tail: str,
                  at: float | None = None) -> None:
        """A check's result; the task's check_passed follows the latest one."""
        at = time.time() if at is None else at
        with self._tx() as conn:
            conn.execute(
                "INSERT INTO checks (task_id, at, attempt, command, model, passed, exit_code,"
                " duration_ms, output_tail) VALUES (?,?,?,?,?,?,?,?,?)",
                (task_id, at, attempt, command, model, int(passed), exit_code, duration_ms,
                 output_tail[-PROMPT_CHARS:]),
            )
            conn.execute("UPDATE tasks SET check_passed=? WHERE id=?", (int(passed), task_id))

    def routes(self, task_id: int) -> list[dict[str, Any]]:
        return [dict(r) for r in self.conn.execute(
            "SELECT * FROM routes WHERE task_id = ? ORDER BY id", (task_id,))]

    def checks(self, task_id: int) -> list[dict[str, Any]]:
        return [dict(r) for r in self.conn.execute(
            "SELECT * FROM checks WHERE task_id = ? ORDER BY id", (task_id,))]

    def prompts(self, task_id: int) -> list[dict[str, Any]]:
        return [dict(r) for r in self.conn.execute(
            "SELECT * FROM prompts WHERE task_id = ? ORDER BY id", (task_id,))]

    def session_tasks(self, session_id: str) -> list[dict[str, Any]]:
        return [dict(r) for r in self.conn.execute(
            "SELECT * FROM tasks WHERE session_id = ? ORDER BY seq", (session_id,))]

    def add_call(self, **fields: Any) -> int:
        fields.setdefault("at", time.time())
        fields["local"] = int(bool(fields.get("local")))
        if "usage_estimated" in fields:
            fields["usage_estimated"] = int(bool(fields["usage_estimated"]))
        fields.setdefault("purpose", "turn")
        # Only the columns given and this ledger's schema has (tests pin older migrations).
        if self._call_columns is None:
            self._call_columns = {r[1] for r in self.conn.execute("PRAGMA table_info(calls)")}
        keys = [k for k in CALL_FIELDS if k in fields and k in self._call_columns]
        cur = self.conn.execute(
            f"INSERT INTO calls ({', '.join(keys)}) VALUES ({', '.join('?' * len(keys))})",
            tuple(fields[k] for k in keys),
        )
        return int(cur.lastrowid or 0)

    # -- reads -------------------------------------------------------------------------------
    def last_session_id(self, project: str | None = None) -> str | None:
        sql, args = "SELECT id FROM sessions", ()
        if project is not None:
            sql, args = sql + " WHERE project = ?", (project,)
        row = self.conn.execute(sql + " ORDER BY started_at DESC, rowid DESC LIMIT 1", args).fetchone()
        return None if row is None else str(row[0])

    def task(self, task_id: int) -> dict[str, Any] | None:
        row = self.conn.execute("SELECT * FROM tasks WHERE id = ?", (task_id,)).fetchone()
        return None if row is None else dict(row)

    def calls(self, *, session_id: str | None = None, task_id: int | None = None) -> list[dict[str, Any]]:
        where, args = _where(session_id=session_id, task_id=task_id)
        return [dict(r) for r in self.conn.execute(f"SELECT * FROM calls{where} ORDER BY id", args)]

    def corrections(self, task_id: int) -> list[dict[str, Any]]:
        return [dict(r) for r in self.conn.execute(
            "SELECT * FROM debug_corrections WHERE task_id = ? ORDER BY id", (task_id,))]

    def recent_tasks(self, limit: int = 20, project: str | None = None,
                     task_id: int | None = None) -> list[dict[str, Any]]:
        """Newest first, each with its call totals and first prompt."""
        where, args = _where(**{"t.project": project, "t.id": task_id})
        sql = f"""
            SELECT t.*,
              (SELECT COUNT(*) FROM calls c WHERE c.task_id = t.id) AS requests,
              (SELECT SUM(c.cost) FROM calls c WHERE c.task_id = t.id) AS api_cost_known,
              (SELECT COUNT(*) FROM calls c WHERE c.task_id = t.id AND c.cost IS NULL) AS unpriced_calls,
              (SELECT COUNT(*) FROM calls c WHERE c.task_id = t.id AND c.local = 0) AS billed_calls,
              (SELECT p.text FROM prompts p WHERE p.task_id = t.id ORDER BY p.id LIMIT 1) AS prompt
            FROM tasks t{where} ORDER BY t.started_at DESC, t.id DESC LIMIT ?"""
        return [dict(r) for r in self.conn.execute(sql, (*args, limit))]


def identity(env: Any = None) -> tuple[str, str]:
    """What a writer passes as Ledger(identity=...): see _identity."""
    return _identity(env)


def _identity(env: Any = None) -> tuple[str, str]:
    """(user, machine) for new rows: AGENT_LEDGER_USER / AGENT_LEDGER_MACHINE, else the login
    name and the host name."""
    import getpass
    import os
    import socket

    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (some containers)
        user = str(os.getuid()) if hasattr(os, "getuid") else "unknown"
    env = os.environ if env is None else env
    return (env.get("AGENT_LEDGER_USER") or user,
            env.get("AGENT_LEDGER_MACHINE") or socket.gethostname() or "unknown")


def _where(**filters: Any) -> tuple[str, tuple[Any, ...]]:
    parts = [(f"{k} = ?", v) for k, v in filters.items() if v is not None]
    if not parts:
        return "", ()
    return " WHERE " + " AND ".join(p for p, _ in parts), tuple(v for _, v in parts)
