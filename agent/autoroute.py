"""Learned routing: the tier whose similar past tasks cost least in real total (API + minutes).

    choice = choose(history, features, project, policy, hourly_rate, rule_route)

For `model = "auto"`, each tier is estimated from the ledger's finished tasks that started on
it and resemble the new one: same kind of task (from its text), same check-or-not, same context
size class; the same project first, then all projects, widening the match only when a tier has
fewer than `policy.min_history` such tasks. Per tier: the share that succeeded on the first
prompt, mean follow-ups, mean API cost and mean developer minutes; its expected real total is
API + minutes / 60 x hourly rate, at the rate in force now (so a dearer hour favours the tier
that needs fewer follow-ups). The lowest wins. With fewer than two tiers estimated the rule
router (agent/routing.py) decides and the reason says so.

One GROUP BY over route_stats (the finished tasks' sums, kept by triggers; agent/route_stats.py,
with the report's definition of single-prompt success) per new task, whatever the ledger's size
(bench/route_bench.py). The ledger is opened read-only; no ledger, an older schema or a
locked file means no history, never a failed task.
"""
from __future__ import annotations

import re
import sqlite3
from dataclasses import asdict
from pathlib import Path
from typing import Any, Mapping, Sequence

from realcost_agent.agent.route_stats import ALL
from realcost_agent.agent.routing import TIER_NAMES, Route, RoutingPolicy
from realcost_agent.records import record


# Task kinds, first match wins: a "fix the failing test" is a bugfix, "add a test" a test.
KINDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("docs", ("typo", "docstring", "readme", "documentation", "comment", "wording", "spelling")),
    ("bugfix", ("fix", "bug", "broken", "wrong", "fails", "failing", "error", "crash",
                "incorrect", "regression", "off-by-one")),
    ("refactor", ("refactor", "rename", "clean up", "cleanup", "extract", "simplify", "move ")),
    ("test", ("test", "coverage")),
    ("feature", ("implement", "add ", "feature", "support", "create", "new ")),
)
SIZE_CLASSES = ((8_000, "small"), (32_000, "medium"))  # context tokens; above: "large"


def kind_of(text: str) -> str:
    low = " " + text.lower() + " "
    for kind, words in KINDS:
        if any(re.search(r"(?<![\w])" + re.escape(w), low) for w in words):
            return kind
    return "other"


def files_class(named_files: int) -> str:
    """How many existing files the task names: none, few (1-2: a local edit) or many."""
    return FILES_CLASSES[0 if named_files <= 0 else 1 if named_files <= 2 else 2]


FILES_CLASSES = ("none", "few", "many")  # route_stats.FILES_CLASS_SQL says the same in SQL


def size_class(context_tokens: int) -> str:
    for limit, name in SIZE_CLASSES:
        if context_tokens <= limit:
            return name
    return "large"


@record(frozen=True)
class Features:
    kind: str
    has_check: bool
    size_class: str
    named_files: int
    context_tokens: int

    @classmethod
    def of(cls, text: str, *, has_check: bool, named_files: int, context_tokens: int) -> "Features":
        return cls(kind_of(text), has_check, size_class(context_tokens), named_files, context_tokens)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@record(frozen=True)
class Estimate:
    model: str
    tier: str
    tasks: int  # similar tasks found at `scope`
    first_try: int  # of them, succeeded on the first prompt
    followups: float  # mean
    api_cost: float  # mean USD
    minutes: float  # mean developer minutes
    real_cost: float  # api_cost + minutes / 60 x rate
    scope: str  # how similar: "this project", "all projects", widened...

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def line(self) -> str:
        return (f"{self.model}: {self.first_try} of {self.tasks} similar tasks first-try, "
                f"~{self.followups:.1f} follow-ups, ~{_usd(self.api_cost)} + ~{self.minutes:.0f} min"
                f" = ~{_usd(self.real_cost)}")


@record(frozen=True)
class Choice:
    route: Route
    basis: str  # "ledger" | "rules"
    estimates: tuple[Estimate, ...]
    features: Features
    hourly_rate: float


def _usd(value: float) -> str:
    if not value:
        return "$0"
    return f"${value:.2f}" if abs(value) >= 0.995 else f"${value:.4f}"


def open_history(path: str | Path | None) -> sqlite3.Connection | None:
    """The ledger read-only, or None when there is none (or it cannot be read)."""
    if path is None or str(path) == ":memory:" or not Path(path).is_file():
        return None
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=0.5)
        conn.execute("SELECT kind FROM route_stats LIMIT 0")  # schema v6 or later
        return conn
    except sqlite3.Error:
        return None


# Match levels, most specific first: (name, same project, same check, size, named files).
LEVELS = (
    ("this project, same kind, check, size and files", True, True, True, True),
    ("all projects, same kind, check, size and files", False, True, True, True),
    ("all projects, same kind, check and size", False, True, True, False),
    ("all projects, same kind and check", False, True, False, False),
    ("all projects, same kind", False, False, False, False),
)


def estimate(conn: sqlite3.Connection | None, f: Features, project: str,
             models: Sequence[str], hourly_rate: float, min_history: int) -> dict[str, Estimate]:
    """Per model (the tier it started on), the estimate at the most specific level with at
    least `min_history` finished similar tasks; models without enough history are absent."""
    if conn is None or not models:
        return {}
    marks = ",".join("?" * len(models))
    try:  # route_stats: the finished tasks' sums, kept by triggers (agent/route_stats.py):
        # this project's rows (p) and the every-project ones, by key
        rows = conn.execute(f"""
            SELECT model, project = ? AS p, has_check = ? AS c, size_class = ? AS s,
              SUM(tasks), SUM(success), SUM(followups), TOTAL(api_cost), TOTAL(debug_ms),
              files_class = ? AS fc
            FROM route_stats WHERE kind = ? AND model IN ({marks}) AND project IN (?, ?)
              AND tasks > 0
            GROUP BY model, p, c, s, fc""",
            (project, int(f.has_check), f.size_class, files_class(f.named_files), f.kind,
             *models, project, ALL)).fetchall()
    except sqlite3.Error:
        return {}
    out: dict[str, Estimate] = {}
    for model in models:
        mine = [r for r in rows if r[0] == model]
        for name, same_p, same_c, same_s, same_f in LEVELS:
            picked = [r for r in mine if bool(r[1]) == same_p and (r[2] or not same_c)
                      and (r[3] or not same_s) and (r[9] or not same_f)]
            n = int(sum(r[4] for r in picked))
            if n < max(1, min_history):
                continue
            api = sum(r[7] for r in picked) / n
            minutes = sum(r[8] for r in picked) / n / 60_000
            out[model] = Estimate(
                model, "", n, int(sum(r[5] or 0 for r in picked)),
                sum(r[6] or 0 for r in picked) / n, api, minutes,
                api + minutes / 60 * hourly_rate, name)
            break
    return out


def choose(conn: sqlite3.Connection | None, f: Features, project: str, policy: RoutingPolicy,
           hourly_rate: float, rule: Route) -> Choice:
    """The tier with the lowest expected real total, or the rule router's `rule` with the reason
    why history did not decide."""
    tiers = dict(zip(policy.tiers, TIER_NAMES))
    found = estimate(conn, f, project, policy.tiers, hourly_rate, policy.min_history)
    ests = tuple(_tiered(found[m], tiers[m]) for m in policy.tiers if m in found)
    what = f"{f.kind}, {'with' if f.has_check else 'no'} check, {f.size_class} context"
    if len(ests) < 2:
        counts = ", ".join(f"{m} {found[m].tasks if m in found else 'too few'}" for m in policy.tiers)
        reason = (f"rules (too little history for {what}: need {policy.min_history} similar "
                  f"finished tasks on at least two tiers; {counts}): {rule.reason}")
        return Choice(Route(rule.profile, reason, rule.tier, rule.escalated), "rules", ests, f,
                      hourly_rate)
    # Lowest expected real total; a tie goes to the cheaper tier (listed first).
    best = min(ests, key=lambda e: (round(e.real_cost, 6), policy.tiers.index(e.model)))
    others = [e for e in ests if e is not best]
    missing = [m for m in policy.tiers if m not in found]
    reason = (f"learned ({what}, at ${hourly_rate:g}/h): {best.line()}"
              + "".join(f"; {e.line()}" for e in others)
              + "".join(f"; {m}: too little history" for m in missing))
    return Choice(Route(best.model, reason, best.tier), "ledger", ests, f, hourly_rate)


def _tiered(e: Estimate, tier: str) -> Estimate:
    return Estimate(**{**e.as_dict(), "tier": tier})


def explain(choice: Choice, routed: str) -> dict[str, Any]:
    """The JSON form `agent route --format json` prints and tests read."""
    return {"model": routed, "tier": choice.route.tier, "basis": choice.basis,
            "reason": choice.route.reason, "hourly_rate": choice.hourly_rate,
            "features": choice.features.as_dict(),
            "estimates": [e.as_dict() for e in choice.estimates]}


def event_line(event: Any) -> str | None:
    """The one wording of the routing events for every front-end (headless, TUI)."""
    kind = getattr(event, "type", "")
    if kind == "hand_over":
        return f"hand-over: {event.message}"
    if kind == "cache_discarded":
        cost = "unknown" if event.cost is None else f"${event.cost:.4f}"
        return (f"cache thrown away: {event.from_model} → {event.to_model}, "
                f"{event.prefix_tokens:,} tokens re-sent uncached ({cost}, inside the API cost)")
    return None


def history_path(settings: Any, env: Mapping[str, str]) -> Path | None:
    """The ledger the session records to (None when the ledger is off)."""
    if not getattr(settings, "ledger", True):
        return None
    from realcost_agent.agent.ledger import default_path

    return default_path(env)


def _in_project(root: Path, rel: str) -> bool:
    """A named file that exists inside the project (as TaskFlow.signals counts them)."""
    import os

    try:
        path = Path(os.path.realpath(root / rel))
        return path.is_relative_to(root) and path.is_file()
    except (OSError, ValueError):
        return False


class LearnedRouter:
    """The session's side of learned routing: its features for a task, its history connection
    (opened once the ledger exists), and the fields ModelRouted carries."""

    def __init__(self, session: Any) -> None:
        self.s = session
        self._conn: sqlite3.Connection | None = None

    def history(self) -> sqlite3.Connection | None:
        if self._conn is None:
            self._conn = open_history(history_path(self.s.settings, self.s.env))
        return self._conn

    def features(self, prompt: str, has_check: bool, signals: Any = None) -> Features:
        if signals is None:  # a pinned task: no routing signals computed, a cheap estimate
            from realcost_agent.agent.compaction import estimate_tokens
            from realcost_agent.agent.routing import named_paths

            root = Path(self.s.root)
            names = [n for n in named_paths(prompt)[:50] if _in_project(root, n)]
            context = estimate_tokens(self.s.messages) + len(prompt) // 4
            return Features.of(prompt, has_check=has_check, named_files=len(names),
                               context_tokens=context)
        return Features.of(prompt, has_check=has_check, named_files=len(signals.files),
                           context_tokens=signals.context_tokens)

    def choose(self, f: Features, policy: RoutingPolicy, rule: Route) -> Choice:
        return choose(self.history(), f, str(self.s.root), policy,
                      float(self.s.settings.hourly_rate), rule)

    def routed_model(self, flow: Any, choice: Choice) -> tuple[Any, str]:
        """(model, reason) for the choice: when the learned tier cannot be called here (no key),
        the next cheapest learned tier that can; else the rules' nearest usable tier."""
        if choice.basis == "ledger":
            ranked = sorted(choice.estimates, key=lambda e: e.real_cost)
            first, why = flow._usable(ranked[0].model)
            if first is not None:
                return first, choice.route.reason
            for e in ranked[1:]:
                model, _ = flow._usable(e.model)
                if model is not None:
                    return model, (f"{choice.route.reason}; {ranked[0].model} is not usable here "
                                   f"({why}), so the next cheapest, {e.model}")
        return flow._routed_model(choice.route)

    def event_fields(self, f: Features, choice: Choice | None, pinned: bool) -> dict[str, Any]:
        """ModelRouted's basis/estimates/hourly_rate/features for this choice."""
        return {"basis": "pinned" if pinned or choice is None else choice.basis,
                "estimates": tuple(e.as_dict() for e in choice.estimates) if choice else (),
                "hourly_rate": float(self.s.settings.hourly_rate), "features": f.as_dict()}
