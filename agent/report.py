"""Reports over the ledger, shaped like the seed review's tables, aggregated in SQL.

`build_report(conn, Scope(...))` returns one JSON-able dict following REPORT_SCHEMA (below);
every renderer (terminal, md, csv, html, json) works from that dict.

Definitions:
  group             the tasks sharing a key (`--by model`: the model the task started with);
                    a task's calls count for its group even if the model was switched mid-task
  first token       model call sent -> first streamed token of any kind (reasoning counts);
                    first text: -> first visible answer text
  completion time   the agent's busy time on a task (all its turns)
  tiers             per task that ran on several models (escalation): each model's calls,
                    cost, model time and checks
  single-prompt     done with zero follow-ups, and its check passed when one was configured
    success         (check_passed NULL = no check)
  debug time        measured follow-up time + the developer's corrections, at least 0 per task
  developer cost    debug hours x the hourly rate recorded with each task (or --hourly-rate)
  real total        API cost + developer cost; groups are ranked by real total per task,
                    ascending (the cheapest real cost is rank 1)
An unknown price is never a 0: `api_cost` and `real_total` are null when any call has no
price, and the `*_known` fields hold the priced part. Local backends cost 0 and say `local`.
Totals come from unrounded values; only renderers round.
"""
from __future__ import annotations

import datetime as dt
import re
import sqlite3
from typing import Any

from realcost_agent.agent.report_route import SCHEMA_PROPERTIES as _ROUTE_PROPERTIES
from realcost_agent.agent.report_route import sections as route_sections
from realcost_agent.records import record

REPORT_VERSION = 1
GROUPINGS = {"model": "t.model", "task": "t.id", "session": "t.session_id", "project": "t.project",
             # who and where (ledger v6; the team ledger's reports: agent/teamledger.py)
             "user": "t.user_name", "machine": "t.machine"}

_NUM = {"type": "number"}
_NUM_OR_NULL = {"type": ["number", "null"]}
_INT = {"type": "integer", "minimum": 0}
_STATS = {
    "type": "object", "required": ["avg", "min", "max"], "additionalProperties": False,
    "properties": {"avg": _NUM_OR_NULL, "min": _NUM_OR_NULL, "max": _NUM_OR_NULL},
}
_STRINGS = {"type": "array", "items": {"type": "string"}}

# The JSON report (`agent report --format json`, `agent -p ... --report --output-format json`).
REPORT_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "agent cost report",
    "type": "object",
    "required": ["v", "generated_at", "scope", "hourly_rate", "hourly_rates", "groups", "totals",
                 "warnings"],
    "additionalProperties": False,
    "properties": {
        "v": {"const": REPORT_VERSION},
        "generated_at": {"type": "string"},  # ISO 8601, UTC
        "scope": {
            "type": "object", "required": ["session", "since", "project", "by"],
            "additionalProperties": False,
            "properties": {
                "session": {"type": ["string", "null"]},
                "since": {"type": ["string", "null"]},
                "project": {"type": ["string", "null"]},
                "by": {"enum": list(GROUPINGS)},
                "sessions": {"type": ["array", "null"], "items": {"type": "string"}},
            },
        },
        # Tasks whose calls ran on more than one model (escalations): cost and model time per
        # model, in the order the task used them.
        "tiers": {"type": "array", "items": {"$ref": "#/$defs/tier"}},
        "hourly_rate": _NUM_OR_NULL,  # the --hourly-rate override; null: each task's own rate
        "hourly_rates": {"type": "array", "items": _NUM},  # the rates the figures used
        "groups": {"type": "array", "items": {"$ref": "#/$defs/group"}},  # ordered by rank
        "totals": {
            "type": "object", "additionalProperties": False,
            "required": ["tasks", "requests", "api_cost", "api_cost_known", "unpriced_calls",
                         "debug_minutes", "developer_cost", "real_total", "real_total_known"],
            "properties": {
                "tasks": _INT, "requests": _INT, "api_cost": _NUM_OR_NULL, "api_cost_known": _NUM,
                "unpriced_calls": _INT, "debug_minutes": _NUM, "developer_cost": _NUM,
                "real_total": _NUM_OR_NULL, "real_total_known": _NUM,
            },
        },
        "warnings": _STRINGS,
        **_ROUTE_PROPERTIES,  # routing decisions, cache lost on switches (agent/report_route.py)
    },
    "$defs": {
        "tier": {
            "type": "object", "additionalProperties": False,
            "required": ["task", "session", "seq", "model", "requests", "input_tokens",
                         "output_tokens", "model_ms", "api_cost", "api_cost_known",
                         "unpriced_calls", "checks", "checks_passed"],
            "properties": {
                "task": _INT, "session": {"type": "string"}, "seq": _INT,
                "model": {"type": "string"}, "requests": _INT, "input_tokens": _INT,
                "output_tokens": _INT, "model_ms": _NUM, "api_cost": _NUM_OR_NULL,
                "api_cost_known": _NUM, "unpriced_calls": _INT, "checks": _INT,
                "checks_passed": _INT,
            },
        },
        "group": {
            "type": "object", "additionalProperties": False,
            "required": [
                "key", "rank", "tasks", "sessions", "models", "backends", "litellm_ids", "local",
                "requests", "first_token_ms", "first_text_ms", "completion_ms",
                "single_prompt_success", "prompts", "followups", "followups_per_task", "tokens",
                "api_cost", "api_cost_known", "unpriced_calls", "provider_cost",
                "provider_cost_calls", "cost_per_task", "debug", "developer_cost", "real_total",
                "real_total_known", "real_total_per_task",
            ],
            "properties": {
                "key": {"type": "string"},
                "rank": {"type": "integer", "minimum": 1},
                "tasks": _INT, "sessions": _INT,
                "models": _STRINGS, "backends": _STRINGS, "litellm_ids": _STRINGS,
                "local": {"type": "boolean"},  # every call ran on a local backend (cost 0)
                "requests": _INT,
                "first_token_ms": _STATS, "first_text_ms": _STATS,
                "completion_ms": {**_STATS, "required": ["avg", "min", "max", "total"],
                                  "properties": {**_STATS["properties"], "total": _NUM}},
                "single_prompt_success": {
                    "type": "object", "required": ["count", "of", "rate"],
                    "additionalProperties": False,
                    "properties": {"count": _INT, "of": _INT, "rate": _NUM_OR_NULL},
                },
                "prompts": _INT, "followups": _INT, "followups_per_task": _NUM_OR_NULL,
                "tokens": {
                    "type": "object", "additionalProperties": False,
                    "required": ["input", "cached_input", "output", "reasoning", "per_request",
                                 "input_per_task", "cached_input_per_task", "output_per_task",
                                 "reasoning_per_task"],
                    "properties": {
                        "input": _INT, "cached_input": _INT, "output": _INT, "reasoning": _INT,
                        "per_request": _NUM_OR_NULL, "input_per_task": _NUM_OR_NULL,
                        "cached_input_per_task": _NUM_OR_NULL, "output_per_task": _NUM_OR_NULL,
                        "reasoning_per_task": _NUM_OR_NULL,
                    },
                },
                "api_cost": _NUM_OR_NULL, "api_cost_known": _NUM, "unpriced_calls": _INT,
                "provider_cost": _NUM_OR_NULL,  # summed from the calls that reported one
                "provider_cost_calls": _INT, "cost_per_task": _NUM_OR_NULL,
                "debug": {
                    "type": "object", "additionalProperties": False,
                    "required": ["measured_ms", "corrections_ms", "total_ms", "minutes"],
                    "properties": {"measured_ms": _NUM, "corrections_ms": _NUM,
                                   "total_ms": _NUM, "minutes": _NUM},
                },
                "developer_cost": _NUM, "real_total": _NUM_OR_NULL, "real_total_known": _NUM,
                "real_total_per_task": _NUM_OR_NULL,
            },
        },
    },
}


@record
class Scope:
    session: str | None = None
    since: float | None = None  # unix time
    project: str | None = None
    by: str = "model"
    hourly_rate: float | None = None  # override the rates recorded with the tasks
    sessions: tuple[str, ...] | None = None  # only these sessions (e.g. one `agent compare` run)


def parse_since(text: str, now: float | None = None) -> float:
    """'2025-08-18', '2025-08-18T14:00', '7d', '12h' -> unix time (naive dates are local)."""
    s = text.strip()
    m = re.fullmatch(r"(\d+(?:\.\d+)?)\s*([dhm])", s.lower())
    if m:
        unit = {"d": 86400, "h": 3600, "m": 60}[m.group(2)]
        base = dt.datetime.now().timestamp() if now is None else now
        return base - float(m.group(1)) * unit
    try:
        when = dt.datetime.fromisoformat(s)
    except ValueError:
        raise ValueError(f"not a date: {text!r} (try 2025-08-18, 2025-08-18T14:00 or 7d)") from None
    return when.timestamp()


def _filter(scope: Scope) -> tuple[str, list[Any]]:
    parts, args = [], []
    if scope.session is not None:
        parts.append("t.session_id = ?")
        args.append(scope.session)
    if scope.since is not None:
        parts.append("t.started_at >= ?")
        args.append(scope.since)
    if scope.project is not None:
        parts.append("t.project = ?")
        args.append(scope.project)
    if scope.sessions is not None:
        parts.append(f"t.session_id IN ({', '.join('?' * len(scope.sessions)) or 'NULL'})")
        args.extend(scope.sessions)
    return (" WHERE " + " AND ".join(parts)) if parts else "", args


def _split(concat: str | None) -> list[str]:
    return sorted(set(concat.split(","))) if concat else []


def _div(a: float | None, b: float | None) -> float | None:
    return None if a is None or not b else a / b


def build_report(conn: sqlite3.Connection, scope: Scope) -> dict[str, Any]:
    if scope.by not in GROUPINGS:
        raise ValueError(f"cannot group by {scope.by!r} (choose {', '.join(GROUPINGS)})")
    key = GROUPINGS[scope.by]
    where, args = _filter(scope)
    debug = "MAX(0.0, t.debug_ms + t.correction_ms)"
    task_rows = conn.execute(f"""
        SELECT CAST({key} AS TEXT) AS k, COUNT(*) AS tasks, COUNT(DISTINCT t.session_id) AS sessions,
          SUM(t.prompts) AS prompts, SUM(t.followups) AS followups,
          AVG(t.agent_ms) AS c_avg, MIN(t.agent_ms) AS c_min, MAX(t.agent_ms) AS c_max,
          SUM(t.agent_ms) AS c_sum,
          SUM(t.status = 'done' AND t.followups = 0 AND COALESCE(t.check_passed, 1) = 1) AS success,
          SUM(t.debug_ms) AS measured, SUM(t.correction_ms) AS corrections, SUM({debug}) AS debug,
          SUM({debug} / 3600000.0 * COALESCE(?, t.hourly_rate)) AS dev_cost,
          GROUP_CONCAT(DISTINCT t.model) AS models
        FROM tasks t{where} GROUP BY k""", [scope.hourly_rate, *args]).fetchall()
    call_rows = {r["k"]: r for r in conn.execute(f"""
        SELECT CAST({key} AS TEXT) AS k, COUNT(*) AS requests,
          SUM(c.input_tokens) AS input, SUM(c.cached_input_tokens) AS cached,
          SUM(c.output_tokens) AS output, SUM(c.reasoning_tokens) AS reasoning,
          TOTAL(c.cost) AS cost_known, SUM(c.cost IS NULL) AS unpriced,
          SUM(c.provider_cost) AS provider_cost, COUNT(c.provider_cost) AS provider_calls,
          AVG(c.ttft_ms) AS f_avg, MIN(c.ttft_ms) AS f_min, MAX(c.ttft_ms) AS f_max,
          AVG(c.ttft_text_ms) AS x_avg, MIN(c.ttft_text_ms) AS x_min, MAX(c.ttft_text_ms) AS x_max,
          SUM(c.local) AS local_calls,
          GROUP_CONCAT(DISTINCT c.backend) AS backends, GROUP_CONCAT(DISTINCT c.litellm_id) AS ids,
          GROUP_CONCAT(DISTINCT c.model) AS models
        FROM calls c JOIN tasks t ON t.id = c.task_id{where} GROUP BY k""", args)}
    rates = [r[0] for r in conn.execute(
        f"SELECT DISTINCT COALESCE(?, t.hourly_rate) FROM tasks t{where} ORDER BY 1",
        [scope.hourly_rate, *args])]
    unpriced = conn.execute(
        f"SELECT c.litellm_id, COUNT(*) FROM calls c JOIN tasks t ON t.id = c.task_id{where}"
        f"{' AND' if where else ' WHERE'} c.cost IS NULL GROUP BY c.litellm_id ORDER BY 1", args,
    ).fetchall()
    estimated: list[Any] = []
    if any(r[1] == "usage_estimated" for r in conn.execute("PRAGMA table_info(calls)")):
        estimated = conn.execute(
            f"SELECT c.model, COUNT(*) FROM calls c JOIN tasks t ON t.id = c.task_id{where}"
            f"{' AND' if where else ' WHERE'} c.usage_estimated = 1 GROUP BY c.model ORDER BY 1",
            args,
        ).fetchall()
    groups = [_group(t, call_rows.get(t["k"])) for t in task_rows]
    # Rank by real total per task: the known part when a price is missing (flagged in warnings).
    groups.sort(key=lambda g: (g["real_total_known"] / g["tasks"], g["key"]))
    for rank, g in enumerate(groups, 1):
        g["rank"] = rank
    return {
        "v": REPORT_VERSION,
        "generated_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "scope": {
            "session": scope.session,
            "since": None if scope.since is None else
            dt.datetime.fromtimestamp(scope.since, dt.timezone.utc).isoformat(timespec="seconds"),
            "project": scope.project, "by": scope.by,
            "sessions": None if scope.sessions is None else list(scope.sessions),
        },
        "hourly_rate": scope.hourly_rate,
        "hourly_rates": rates,
        "groups": groups,
        "totals": _totals(groups),
        "tiers": _tiers(conn, where, args),
        **route_sections(conn, where, args),
        "warnings": [
            f"{n} call(s) to {model_id} have no known price: their cost is unknown, not 0, and "
            "rankings use the priced part. Set a price under [prices] in .agent/config.toml."
            for model_id, n in unpriced
        ] + [
            f"{n} call(s) to {model} came without usage from the host (or were cut before it "
            "came): their tokens (and cost) are estimated, by the local server's own tokenizer "
            "where it has one, else o200k, else about 4 characters a token."
            for model, n in estimated
        ],
    }


def _group(t: sqlite3.Row, c: sqlite3.Row | None) -> dict[str, Any]:
    tasks = int(t["tasks"])
    requests = int(c["requests"]) if c else 0
    tok = {k: int(c[k] or 0) if c else 0 for k in ("input", "cached", "output", "reasoning")}
    unpriced = int(c["unpriced"] or 0) if c else 0
    cost_known = float(c["cost_known"]) if c else 0.0
    api_cost = None if unpriced else cost_known
    dev_cost = float(t["dev_cost"] or 0.0)
    real_known = cost_known + dev_cost
    models = _split(t["models"]) if t["models"] else []
    if c and c["models"]:
        models = sorted(set(models) | set(_split(c["models"])))
    return {
        "key": str(t["k"]) if t["k"] is not None else "(unknown)",
        "rank": 0,
        "tasks": tasks, "sessions": int(t["sessions"]),
        "models": models,
        "backends": _split(c["backends"]) if c else [],
        "litellm_ids": _split(c["ids"]) if c else [],
        "local": bool(c and requests and int(c["local_calls"] or 0) == requests),
        "requests": requests,
        "first_token_ms": _stats(c, "f"), "first_text_ms": _stats(c, "x"),
        "completion_ms": {"avg": t["c_avg"], "min": t["c_min"], "max": t["c_max"],
                          "total": float(t["c_sum"] or 0.0)},
        "single_prompt_success": {"count": int(t["success"] or 0), "of": tasks,
                                  "rate": int(t["success"] or 0) / tasks},
        "prompts": int(t["prompts"] or 0), "followups": int(t["followups"] or 0),
        "followups_per_task": int(t["followups"] or 0) / tasks,
        "tokens": {
            "input": tok["input"], "cached_input": tok["cached"], "output": tok["output"],
            "reasoning": tok["reasoning"],
            "per_request": _div(tok["input"] + tok["output"], requests),
            "input_per_task": tok["input"] / tasks, "cached_input_per_task": tok["cached"] / tasks,
            "output_per_task": tok["output"] / tasks, "reasoning_per_task": tok["reasoning"] / tasks,
        },
        "api_cost": api_cost, "api_cost_known": cost_known, "unpriced_calls": unpriced,
        "provider_cost": None if not c or c["provider_cost"] is None else float(c["provider_cost"]),
        "provider_cost_calls": int(c["provider_calls"] or 0) if c else 0,
        "cost_per_task": _div(api_cost, tasks),
        "debug": {"measured_ms": float(t["measured"] or 0.0),
                  "corrections_ms": float(t["corrections"] or 0.0),
                  "total_ms": float(t["debug"] or 0.0),
                  "minutes": float(t["debug"] or 0.0) / 60000.0},
        "developer_cost": dev_cost,
        "real_total": None if api_cost is None else api_cost + dev_cost,
        "real_total_known": real_known,
        "real_total_per_task": None if api_cost is None else (api_cost + dev_cost) / tasks,
    }


def _stats(c: sqlite3.Row | None, p: str) -> dict[str, float | None]:
    if c is None:
        return {"avg": None, "min": None, "max": None}
    return {"avg": c[f"{p}_avg"], "min": c[f"{p}_min"], "max": c[f"{p}_max"]}


def _tiers(conn: sqlite3.Connection, where: str, args: list[Any]) -> list[dict[str, Any]]:
    """Per model within each task that used more than one (an escalation, a switch)."""
    both = f"{where}{' AND' if where else ' WHERE'}"
    rows = conn.execute(f"""
        SELECT t.id AS task, t.session_id AS session, t.seq AS seq, c.model AS model,
          COUNT(*) AS requests, SUM(c.input_tokens) AS input, SUM(c.output_tokens) AS output,
          TOTAL(c.duration_ms) AS model_ms, TOTAL(c.cost) AS cost_known,
          SUM(c.cost IS NULL) AS unpriced, MIN(c.id) AS first_call,
          (SELECT COUNT(*) FROM checks k WHERE k.task_id = t.id AND k.model = c.model) AS checks,
          (SELECT COALESCE(SUM(k.passed), 0) FROM checks k
             WHERE k.task_id = t.id AND k.model = c.model) AS checks_passed
        FROM calls c JOIN tasks t ON t.id = c.task_id{both} t.id IN
          (SELECT task_id FROM calls WHERE task_id IS NOT NULL GROUP BY task_id
           HAVING COUNT(DISTINCT model) > 1)
        GROUP BY t.id, c.model ORDER BY t.started_at, t.id, first_call""", args).fetchall()
    return [{
        "task": int(r["task"]), "session": str(r["session"]), "seq": int(r["seq"]),
        "model": str(r["model"]), "requests": int(r["requests"]),
        "input_tokens": int(r["input"] or 0), "output_tokens": int(r["output"] or 0),
        "model_ms": float(r["model_ms"]), "api_cost_known": float(r["cost_known"]),
        "api_cost": None if r["unpriced"] else float(r["cost_known"]),
        "unpriced_calls": int(r["unpriced"] or 0), "checks": int(r["checks"]),
        "checks_passed": int(r["checks_passed"]),
    } for r in rows]


def _totals(groups: list[dict[str, Any]]) -> dict[str, Any]:
    unpriced = sum(g["unpriced_calls"] for g in groups)
    api_known = sum(g["api_cost_known"] for g in groups)
    dev = sum(g["developer_cost"] for g in groups)
    return {
        "tasks": sum(g["tasks"] for g in groups),
        "requests": sum(g["requests"] for g in groups),
        "api_cost": None if unpriced else api_known,
        "api_cost_known": api_known,
        "unpriced_calls": unpriced,
        "debug_minutes": sum(g["debug"]["minutes"] for g in groups),
        "developer_cost": dev,
        "real_total": None if unpriced else api_known + dev,
        "real_total_known": api_known + dev,
    }
