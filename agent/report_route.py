"""The report's routing sections: why each task ran on its model (the learned router's figures
or the rules), and the cache each model switch threw away, as its own cost line.

Both come from the ledger (routes, cache_switches) in the report's scope; an older ledger
without the cache_switches table simply has no such lines.
"""
from __future__ import annotations

import sqlite3
from typing import Any

_STR = {"type": "string"}
_INT = {"type": "integer", "minimum": 0}
_NUM_OR_NULL = {"type": ["number", "null"]}

SCHEMA_PROPERTIES: dict[str, Any] = {
    # The first routing decision of each routed (not pinned) task, newest last (at most LIMIT).
    "routing": {"type": "array", "items": {
        "type": "object", "additionalProperties": False,
        "required": ["task", "model", "basis", "reason"],
        "properties": {"task": _INT, "model": _STR, "basis": _STR, "reason": _STR}}},
    # The cache thrown away when a task switched models (inside the API cost already).
    "cache_switches": {"type": "array", "items": {
        "type": "object", "additionalProperties": False,
        "required": ["task", "from_model", "to_model", "prefix_tokens", "cost"],
        "properties": {"task": _INT, "from_model": _STR, "to_model": _STR,
                       "prefix_tokens": _INT, "cost": _NUM_OR_NULL}}},
}
LIMIT = 200


def basis_of(reason: str) -> str:
    return "ledger" if reason.startswith("learned") else "rules"


def sections(conn: sqlite3.Connection, where: str, args: list[Any]) -> dict[str, Any]:
    both = f"{where}{' AND' if where else ' WHERE'}"
    routes = conn.execute(f"""
        SELECT t.id AS task, r.model AS model, r.reason AS reason FROM routes r
        JOIN tasks t ON t.id = r.task_id{both} r.pinned = 0 AND r.escalated = 0
          AND r.id = (SELECT MIN(id) FROM routes WHERE task_id = t.id)
        ORDER BY t.started_at DESC, t.id DESC LIMIT {LIMIT}""", args).fetchall()
    out: dict[str, Any] = {"routing": [
        {"task": int(r["task"]), "model": str(r["model"]), "basis": basis_of(str(r["reason"])),
         "reason": str(r["reason"])} for r in reversed(routes)]}
    try:
        rows = conn.execute(f"""
            SELECT t.id AS task, s.from_model, s.to_model, s.prefix_tokens, s.cost
            FROM cache_switches s JOIN tasks t ON t.id = s.task_id{where}
            ORDER BY s.id""", args).fetchall()
    except sqlite3.OperationalError:  # a ledger before schema v6
        rows = []
    out["cache_switches"] = [
        {"task": int(r["task"]), "from_model": str(r["from_model"]), "to_model": str(r["to_model"]),
         "prefix_tokens": int(r["prefix_tokens"]),
         "cost": None if r["cost"] is None else float(r["cost"])} for r in rows]
    return out


def tables(report: dict[str, Any]) -> list[Any]:
    from realcost_agent.agent.report_render import Table, count, money4

    out = []
    if report.get("routing"):
        out.append(Table("Routing decisions", ["Task", "Model", "Basis", "Why"], [
            [f"task {r['task']}", r["model"], r["basis"], r["reason"]] for r in report["routing"]],
            ["`ledger`: the tier whose similar past tasks cost least in real total (API + "
             "minutes x rate); `rules`: too little history, the rule router decided."]))
    if report.get("cache_switches"):
        rows = [[f"task {c['task']}", f"{c['from_model']} → {c['to_model']}",
                 count(c["prefix_tokens"]), "unknown" if c["cost"] is None else money4(c["cost"])]
                for c in report["cache_switches"]]
        total = sum(c["cost"] or 0.0 for c in report["cache_switches"])
        rows.append(["total", "", "", money4(total)])
        out.append(Table("Cache thrown away on model switches",
                         ["Task", "Switch", "Prefix tokens re-sent", "Cost"], rows,
                         ["The conversation so far goes to the new model uncached: prefix x "
                          "(input - cached input price). Already inside the API cost above."]))
    return out
