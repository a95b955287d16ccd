"""The shared team ledger: the local SQLite ledger's rows, copied to PostgreSQL.

    ledger_url = "postgresql://user:password@host/db"   # user config or AGENT_LEDGER_URL

Writes never wait for the network: the agent writes to the local ledger as always (it is the
outbox), and a background `Sender` copies pending rows (synced_rev < rev, see ledger._v7) to
PostgreSQL and then marks them sent. Each row's `uid` is its key there: a row sent twice (a
crash between the remote commit and the local mark) is ignored, a newer revision of a session or
task replaces an older one and never the reverse. So an outage only delays rows, and a row is
counted once.

The PostgreSQL schema is ledger.MIGRATIONS itself, translated (`pg_statement`) and applied in
the same order under an advisory lock, so two agents upgrading at once do not race. In the team
database ids are the writers' local ids and are not unique; rows are linked by uid / task_uid.

Credentials: the URL's password never reaches a message, a log line or a report (`redact_url`,
`scrub`); the Redactor's credential-URL shape covers events too.
"""
from __future__ import annotations

import re
import sqlite3
import threading
from pathlib import Path
from typing import Any, Callable, Iterable
from urllib.parse import urlsplit, urlunsplit

from realcost_agent.agent.ledger import MIGRATIONS, MUTABLE, TABLES, Ledger, Local

SCHEMES = ("postgresql", "postgres")
BATCH = 500
_LOCK_KEY = 7_245_120_917  # pg_advisory_xact_lock key for this schema's migrations


class TeamLedgerError(RuntimeError):
    """The shared ledger cannot be used; the message never holds the URL's password."""


# -- the URL -------------------------------------------------------------------------------------
def redact_url(url: str) -> str:
    """The URL with its password (and any password=... query parameter) shown as ***."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "(an unparsable URL)"
    netloc = parts.netloc
    if "@" in netloc:
        creds, host = netloc.rsplit("@", 1)
        user = creds.split(":", 1)[0]
        netloc = f"{user}:***@{host}" if ":" in creds else f"{user}@{host}"
    query = re.sub(r"(?i)(password=)[^&]*", r"\1***", parts.query)
    return urlunsplit((parts.scheme, netloc, parts.path, query, ""))


def _password(url: str) -> str | None:
    try:
        parts = urlsplit(url)
        found = re.search(r"(?i)password=([^&]*)", parts.query)
        return parts.password or (found.group(1) if found else None)
    except ValueError:
        return None


def scrub(text: str, url: str | None) -> str:
    """`text` (an error message, say) with the URL and its password taken out."""
    if not url:
        return text
    text = text.replace(url, redact_url(url))
    secret = _password(url)
    if secret and len(secret) >= 3:
        from urllib.parse import unquote

        for form in {secret, unquote(secret)}:
            text = text.replace(form, "***")
    return text


def check_url(url: str) -> str | None:
    """Why `url` cannot be a ledger URL, or None (the reason never shows the password)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "ledger_url is not a URL"
    if parts.scheme not in SCHEMES:
        return (f"ledger_url must be a postgresql:// URL, not {redact_url(url)!r} "
                "(the embedded SQLite ledger needs no setting)")
    return None


# -- the PostgreSQL schema ---------------------------------------------------------------------
def pg_statement(sql: str) -> str:
    """One SQLite migration statement in PostgreSQL's dialect. Local ids are not unique across
    writers, so primary keys, foreign keys and (session_id, seq) become plain columns there."""
    s = re.sub(r"\bINTEGER PRIMARY KEY\b", "BIGINT NOT NULL", sql)
    s = re.sub(r"\bTEXT PRIMARY KEY\b", "TEXT NOT NULL", s)
    s = re.sub(r"\s+REFERENCES \w+\(\w+\)", "", s)
    s = re.sub(r",\s*UNIQUE \([^)]*\)", "", s)
    s = re.sub(r"\bREAL\b", "DOUBLE PRECISION", s)
    return re.sub(r"\bINTEGER\b", "BIGINT", s)


def pg_migrations() -> list[list[str]]:
    return [[pg_statement(s) for s in m if not isinstance(s, Local)] for m in MIGRATIONS]


def _psycopg() -> Any:
    try:
        import psycopg
    except ImportError:
        raise TeamLedgerError("ledger_url needs psycopg: pip install 'realcost-agent[team]' "
                              "(rows wait in the local ledger until then)") from None
    return psycopg


def connect(url: str, *, timeout: float = 5.0) -> Any:
    """A connection to the team ledger with its schema up to date."""
    psycopg = _psycopg()
    try:
        conn = psycopg.connect(url, connect_timeout=max(1, int(timeout)), keepalives=1,
                               keepalives_idle=10, keepalives_interval=5, keepalives_count=2)
    except Exception as exc:  # psycopg.Error, or a malformed URL's ProgrammingError
        raise TeamLedgerError(f"cannot reach the team ledger {redact_url(url)}: "
                              f"{scrub(str(exc).strip(), url)}") from None
    try:
        migrate(conn)
    except Exception as exc:
        conn.close()
        raise TeamLedgerError(f"team ledger {redact_url(url)}: {scrub(str(exc).strip(), url)}") from None
    return conn


def migrate(conn: Any) -> int:
    """Bring the team ledger to this agent's schema; refuse one that is newer."""
    wanted = pg_migrations()
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK_KEY,))
        conn.execute("CREATE TABLE IF NOT EXISTS ledger_schema (version BIGINT NOT NULL)")
        row = conn.execute("SELECT version FROM ledger_schema").fetchone()
        if row is None:
            conn.execute("INSERT INTO ledger_schema (version) VALUES (0)")
        version = 0 if row is None else int(row[0])
        if version > len(wanted):
            raise TeamLedgerError(f"the team ledger's schema v{version} is newer than this agent "
                                  f"knows (v{len(wanted)}); upgrade agent")
        for number in range(version, len(wanted)):
            for statement in wanted[number]:
                conn.execute(statement)
        conn.execute("UPDATE ledger_schema SET version = %s", (len(wanted),))
    return len(wanted)


# -- sending -------------------------------------------------------------------------------------
def _columns(local: sqlite3.Connection, table: str) -> list[str]:
    return [r[1] for r in local.execute(f"PRAGMA table_info({table})") if r[1] != "synced_rev"]


def _clean(value: Any) -> Any:
    # PostgreSQL text cannot hold NUL; a prompt or a check's output can.
    return value.replace("\x00", "\ufffd") if isinstance(value, str) else value


def _upsert(table: str, cols: list[str]) -> str:
    sql = (f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join(['%s'] * len(cols))})"
           " ON CONFLICT (uid) DO ")
    if table not in MUTABLE:
        return sql + "NOTHING"  # append-only rows: a resend is a no-op
    sets = ", ".join(f"{c} = EXCLUDED.{c}" for c in cols if c != "uid")
    return sql + f"UPDATE SET {sets} WHERE {table}.rev < EXCLUDED.rev"


PENDING = "synced_rev IS NULL OR synced_rev < rev"


def pending(local: sqlite3.Connection) -> int:
    return sum(int(local.execute(f"SELECT COUNT(*) FROM {t} WHERE {PENDING}").fetchone()[0])
               for t in TABLES)


def sync_once(ledger: Ledger, pg: Any, *, batch: int = BATCH) -> int:
    """Send every pending row (parents first); returns how many were sent. Each batch is
    committed remotely, then marked locally: a crash in between resends it, harmlessly."""
    local, sent = ledger.conn, 0
    for table in TABLES:
        cols = _columns(local, table)
        sql = _upsert(table, cols)
        while True:
            rows = local.execute(f"SELECT rowid, {', '.join(cols)} FROM {table} WHERE {PENDING}"
                                 " ORDER BY rowid LIMIT ?", (batch,)).fetchall()
            if not rows:
                break
            with pg.transaction():
                with pg.cursor() as cur:
                    cur.executemany(sql, [tuple(_clean(v) for v in tuple(r)[1:]) for r in rows])
            rev_at = cols.index("rev") + 1
            with ledger._tx() as conn:
                # Only up to the revision sent: an update made meanwhile stays pending.
                conn.executemany(f"UPDATE {table} SET synced_rev = ? WHERE rowid = ?"
                                 " AND (synced_rev IS NULL OR synced_rev < ?)",
                                 [(r[rev_at], r[0], r[rev_at]) for r in rows])
            sent += len(rows)
            if len(rows) < batch:
                break
    return sent


class Sender:
    """Copies the local ledger's pending rows to the team ledger from a daemon thread.

    Nothing here blocks the agent: a down database only makes the thread wait (backing off up
    to `max_backoff` seconds) while rows queue in the local ledger. `close()` gives a reachable
    database a moment to take the last rows and never waits on an unreachable one."""

    def __init__(self, db_path: str | Path, url: str, *, interval: float = 1.0,
                 max_backoff: float = 30.0, on_warning: Callable[[str], None] | None = None) -> None:
        self.db_path, self.url = str(db_path), url
        self.interval, self.max_backoff = interval, max_backoff
        self.on_warning = on_warning
        self.sent = 0
        self.last_error: str | None = None  # redacted
        self.healthy = False
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._idle = threading.Event()
        self._thread = threading.Thread(target=self._run, name="team-ledger", daemon=True)
        self._warned = False

    def start(self) -> "Sender":
        self._thread.start()
        return self

    def poke(self) -> None:
        self._wake.set()

    def close(self, timeout: float = 5.0) -> bool:
        """Stop after one last round when the database is reachable; True when that round ran."""
        self._idle.clear()
        self._stop.set()
        self._wake.set()
        self._thread.join(timeout if self.healthy else min(timeout, 0.5))
        return not self._thread.is_alive() and self.healthy

    def _run(self) -> None:
        ledger, pg, delay = None, None, self.interval
        try:
            ledger = Ledger(self.db_path)
            while True:
                stopping = self._stop.is_set()
                try:
                    if pg is None:
                        pg = connect(self.url)
                    self.sent += sync_once(ledger, pg)
                    self.healthy, self.last_error, delay = True, None, self.interval
                except Exception as exc:  # keep the thread alive through any outage
                    self._failed(exc)
                    if pg is not None:
                        _close_quietly(pg)
                        pg = None
                    delay = min(self.max_backoff, max(self.interval, delay * 2))
                if stopping:
                    return
                self._idle.set()
                self._wake.wait(delay)
                self._wake.clear()
        except Exception as exc:  # the local ledger itself failed: say so, never raise
            self._failed(exc)
        finally:
            if pg is not None:
                _close_quietly(pg)
            if ledger is not None:
                ledger.close()

    def _failed(self, exc: BaseException) -> None:
        self.healthy = False
        message = exc.args[0] if isinstance(exc, TeamLedgerError) else f"{type(exc).__name__}: {exc}"
        self.last_error = scrub(str(message).strip(), self.url)
        if self.on_warning is not None and not self._warned:
            self._warned = True  # once per session: the rows wait, nothing is lost
            self.on_warning(f"team ledger: {self.last_error}; rows wait in the local ledger "
                            "and are sent when it is back")

    def wait_idle(self, timeout: float) -> bool:
        """Test helper: wait until a round has finished since the last poke."""
        self._idle.clear()
        self.poke()
        return self._idle.wait(timeout)


def _close_quietly(conn: Any) -> None:
    try:
        conn.close()
    except Exception:
        pass


def push(db_path: str | Path, url: str) -> int:
    """Send the pending rows now, in this thread (`agent report` before a team report)."""
    ledger = Ledger(db_path)
    try:
        pg = connect(url)
        try:
            return sync_once(ledger, pg)
        except Exception as exc:
            raise TeamLedgerError(f"team ledger {redact_url(url)}: {scrub(str(exc), url)}") from None
        finally:
            _close_quietly(pg)
    finally:
        ledger.close()


# -- reading the team's rows back --------------------------------------------------------------
def load_rows(ledger: Ledger, data: dict[str, Iterable[dict[str, Any]]]) -> dict[str, int]:
    """Insert rows from another ledger (the team's, a remote worker's) into `ledger`, linking
    children to their task by task_uid; rows already there (same uid) are skipped."""
    conn, added = ledger.conn, {t: 0 for t in TABLES}
    have = {t: set(_columns(conn, t)) for t in TABLES}
    with ledger._tx():
        for table in TABLES:
            for row in data.get(table, ()):
                keep = {k: v for k, v in row.items() if k in have[table] and k != "synced_rev"}
                if table != "sessions":
                    keep.pop("id", None)
                if "task_id" in have[table]:
                    found = conn.execute("SELECT id FROM tasks WHERE uid = ?",
                                         (row.get("task_uid"),)).fetchone()
                    if found is None and table != "calls":
                        continue  # its task is outside the scope read
                    keep["task_id"] = found[0] if found else None
                cur = conn.execute(f"INSERT OR IGNORE INTO {table} ({', '.join(keep)}) VALUES"
                                   f" ({', '.join('?' * len(keep))})", tuple(keep.values()))
                added[table] += cur.rowcount
    return added


def team_ledger(url: str, *, since: float | None = None, project: str | None = None,
                session: str | None = None) -> Ledger:
    """The team's rows in scope, in an in-memory ledger: reports over it run the very same
    code (agent/report.py) as over the local one, so every figure has one source."""
    from psycopg.rows import dict_row

    pg = connect(url)
    try:
        parts, args = [], []
        for col, value in (("started_at >=", since), ("project =", project), ("session_id =", session)):
            if value is not None:
                parts.append(f"{col} %s")
                args.append(value)
        where = (" WHERE " + " AND ".join(parts)) if parts else ""
        in_scope = f"(SELECT uid FROM tasks{where})"
        data: dict[str, list[dict[str, Any]]] = {}
        with pg.cursor(row_factory=dict_row) as cur:
            data["sessions"] = cur.execute(
                f"SELECT * FROM sessions WHERE id IN (SELECT session_id FROM tasks{where})",
                args).fetchall()
            data["tasks"] = cur.execute(f"SELECT * FROM tasks{where} ORDER BY started_at, uid",
                                        args).fetchall()
            for table in ("calls", "checks", "routes", "debug_corrections"):
                data[table] = cur.execute(f"SELECT * FROM {table} WHERE task_uid IN {in_scope}"
                                          " ORDER BY at, uid", args).fetchall()
    except TeamLedgerError:
        raise
    except Exception as exc:
        raise TeamLedgerError(f"team ledger {redact_url(url)}: {scrub(str(exc), url)}") from None
    finally:
        _close_quietly(pg)
    memory = Ledger(":memory:")
    load_rows(memory, data)
    return memory


def export_rows(ledger: Ledger, session_ids: Iterable[str]) -> dict[str, list[dict[str, Any]]]:
    """The rows of these sessions, as load_rows takes them (a remote worker's results)."""
    ids = list(session_ids)
    marks = ", ".join("?" * len(ids)) or "NULL"
    conn = ledger.conn
    out: dict[str, list[dict[str, Any]]] = {
        "sessions": [dict(r) for r in conn.execute(f"SELECT * FROM sessions WHERE id IN ({marks})", ids)],
        "tasks": [dict(r) for r in conn.execute(f"SELECT * FROM tasks WHERE session_id IN ({marks})", ids)],
    }
    for table in TABLES[2:]:
        out[table] = [dict(r) for r in conn.execute(
            f"SELECT x.* FROM {table} x JOIN tasks t ON t.id = x.task_id"
            f" WHERE t.session_id IN ({marks}) ORDER BY x.id", ids)]
    return out

