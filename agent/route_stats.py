"""The learned router's aggregate: finished tasks summed per (kind, model, project, check, size),
kept current by triggers on the tasks table, so routing a new task reads a few dozen rows
whatever the ledger's size (bench/route_bench.py), never the tasks themselves.

A task counts once it has a kind (set when it was routed), is no longer active and has its
API cost: an UPDATE takes the old row's share out and puts the new row's in. Each task is summed
twice: under its project, and under ALL ("*", every project), so a lookup reads this project's
rows and the global ones by key, however many projects (every `agent compare` worktree is one). Part of ledger
migration v6 (agent/ledger.py).
"""
from __future__ import annotations

KEY = ("kind", "model", "project", "has_check", "size_class", "files_class")
# autoroute.files_class in SQL: the named files' count as none / few (1-2) / many.
FILES_CLASS_SQL = ("(CASE WHEN COALESCE(R.named_files, 0) <= 0 THEN 'none' "
                   "WHEN R.named_files <= 2 THEN 'few' ELSE 'many' END)")
ALL = "*"  # the project key of the every-project sums
# Summed column -> its value for one task row (R stands for NEW or OLD).
SUMS: dict[str, str] = {
    "tasks": "1",
    "success": "(R.status = 'done' AND R.followups = 0 AND COALESCE(R.check_passed, 1) = 1)",
    "solved": "(R.status = 'done' AND COALESCE(R.check_passed, 1) = 1)",
    "followups": "R.followups",
    "prompts": "R.prompts",
    "api_cost": "R.api_cost",
    "debug_ms": "MAX(0.0, R.debug_ms + R.correction_ms)",
    # Developer minutes of tasks that needed follow-ups (review time per follow-up).
    "followup_debug_ms": "(CASE WHEN R.followups > 0 THEN MAX(0.0, R.debug_ms + R.correction_ms) ELSE 0 END)",
    # Tasks the agent did not finish, and what the developer spent on them (finishing by hand).
    "unsolved": "NOT (R.status = 'done' AND COALESCE(R.check_passed, 1) = 1)",
    "unsolved_debug_ms": "(CASE WHEN R.status = 'done' AND COALESCE(R.check_passed, 1) = 1 THEN 0 "
                         "ELSE MAX(0.0, R.debug_ms + R.correction_ms) END)",
}


def _counts(r: str) -> str:
    return f"{r}.kind IS NOT NULL AND {r}.status != 'active' AND {r}.api_cost IS NOT NULL"


def _key_values(r: str, project: str) -> list[str]:
    return [f"{r}.kind", f"COALESCE({r}.model, '')", project,
            f"COALESCE({r}.has_check, 0)", f"COALESCE({r}.size_class, '')",
            FILES_CLASS_SQL.replace("R.", f"{r}.")]


def _add(r: str) -> str:
    out = []
    for project in (f"{r}.project", f"'{ALL}'"):
        values = [*_key_values(r, project), *(v.replace("R.", f"{r}.") for v in SUMS.values())]
        out.append(f"INSERT INTO route_stats ({', '.join([*KEY, *SUMS])}) VALUES "
                   f"({', '.join(values)}) ON CONFLICT ({', '.join(KEY)}) DO UPDATE SET "
                   + ", ".join(f"{c} = {c} + excluded.{c}" for c in SUMS) + ";")
    return " ".join(out)


def _remove(r: str) -> str:
    sets = ", ".join(f"{c} = {c} - ({v.replace('R.', f'{r}.')})" for c, v in SUMS.items())
    out = []
    for project in (f"{r}.project", f"'{ALL}'"):
        where = " AND ".join(f"{k} = {v}" for k, v in zip(KEY, _key_values(r, project)))
        out.append(f"UPDATE route_stats SET {sets} WHERE {where};")
    return " ".join(out)


STATEMENTS: tuple[str, ...] = (
    "CREATE TABLE route_stats (kind TEXT NOT NULL, model TEXT NOT NULL, project TEXT NOT NULL,"
    " has_check INTEGER NOT NULL, size_class TEXT NOT NULL, files_class TEXT NOT NULL, "
    + ", ".join(f"{c} REAL NOT NULL DEFAULT 0" for c in SUMS)
    + f", PRIMARY KEY ({', '.join(KEY)}))",
    f"CREATE TRIGGER route_stats_insert AFTER INSERT ON tasks WHEN {_counts('NEW')} BEGIN "
    f"{_add('NEW')} END",
    f"CREATE TRIGGER route_stats_update_old AFTER UPDATE ON tasks WHEN {_counts('OLD')} BEGIN "
    f"{_remove('OLD')} END",
    f"CREATE TRIGGER route_stats_update_new AFTER UPDATE ON tasks WHEN {_counts('NEW')} BEGIN "
    f"{_add('NEW')} END",
    f"CREATE TRIGGER route_stats_delete AFTER DELETE ON tasks WHEN {_counts('OLD')} BEGIN "
    f"{_remove('OLD')} END",
)
