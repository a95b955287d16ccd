"""Model routing: which tier a task runs on, from what the agent knows about it. Pure functions.

    route(signals, policy) -> Route(profile, reason, tier, escalated)

Three tiers, cheapest first: light (gpt-oss-20b), large (gpt-oss-120b), careful (o4-mini).
The policy's thresholds come from the `[routing]` table in config (see RoutingPolicy); the
defaults are argued from the seed review (../shared/seed/gpt-oss-initial-review.md):

- careful when the task says breaking things is expensive ("production", "security",
  "critical", "do not break", ...). The seed's own prompt says "CRITICAL: Do not break existing
  video functionality": there 20b broke working code and cost $14.60 in real terms, while
  o4-mini cost 6x more in API fees yet had the lowest real total ($1.24) because it needed no
  follow-ups. When a failure costs developer minutes, the careful tier is the cheap one.
- light only for small, local edits: a short task (or one that says typo/rename/docstring...)
  touching at most a couple of small files, in a repo that is not large, with little context.
  The seed's 20b was fast to first token but failed at a multi-part UI feature with 9-15k
  tokens of context, so anything feature-sized, multi-file or context-heavy is not light.
- large otherwise: 120b worked on the first try in the seed at a tenth of o4-mini's API cost,
  so it is the default for everything neither clearly light nor clearly careful.

Within a task the tier never drops. It goes up one tier (escalation) after
`max_failed_checks` failed checks on the current tier, or `max_tool_failures` turns that
ended because tool calls kept failing (malformed or repeated calls).
"""
from __future__ import annotations

import re
from dataclasses import field, fields
from typing import Any, Mapping

from realcost_agent.agent.words import plural
from realcost_agent.records import record

TIER_NAMES = ("light", "large", "careful")


@record(frozen=True)
class Signals:
    """What the session knows when it picks a model."""

    task: str  # the task's first prompt
    files: tuple[tuple[str, int], ...] = ()  # files the task names that exist, with sizes
    context_tokens: int = 0  # estimated tokens the task needs: conversation + named files
    repo_files: int = 0
    # History of the task so far (for follow-ups and escalation).
    previous: str | None = None  # the profile the task runs on now
    failed_checks: int = 0  # failed checks on the current tier
    tool_failures: int = 0  # turns on the current tier that stopped on failing tool calls


@record(frozen=True)
class RoutingPolicy:
    light: str = "gpt-oss-20b"
    large: str = "gpt-oss-120b"
    careful: str = "o4-mini"
    # Light means: at most this many named files, this many bytes in them, this much context,
    # and a task of at most this many words unless a light keyword says it is small anyway.
    light_max_files: int = 2
    light_max_bytes: int = 16_000  # ~4k tokens of source: a couple of small modules
    light_max_context_tokens: int = 8_000  # below the seed's 9-15k, where 20b failed
    light_max_words: int = 40
    # A repo with more files than this needs the larger model to find its way around.
    large_repo_files: int = 1_500
    careful_keywords: tuple[str, ...] = (
        "production", "security", "vulnerab", "critical", "don't break", "do not break",
        "must not break", "without breaking", "never break", "data loss", "careful",
    )
    light_keywords: tuple[str, ...] = (
        "typo", "rename", "docstring", "comment", "wording", "spelling", "log message",
        "bump", "formatting", "lint", "one-line", "one line",
    )
    # Words that make a task feature-sized: never light, however short.
    large_keywords: tuple[str, ...] = (
        "implement", "feature", "refactor", "redesign", "architecture", "migrate", "rewrite",
        "integrate", "support for", "from scratch",
    )
    max_failed_checks: int = 2
    max_tool_failures: int = 1  # a turn already stops after 3 invalid calls in a row
    escalate_pinned: bool = False  # a model the user pinned stays pinned
    # Learned routing (agent/autoroute.py): similar finished tasks a tier needs in the ledger
    # before its history counts; with fewer than two such tiers the rules above decide.
    min_history: int = 3
    # Hand-over (agent/budget.py): stop when one more attempt is expected to cost more than the
    # developer finishing by hand; `hand_over_minutes` is that by-hand time when the ledger has
    # no similar unfinished task to measure it from. `agent compare` turns hand_over off.
    hand_over: bool = True
    hand_over_minutes: int = 30

    @property
    def tiers(self) -> tuple[str, str, str]:
        return (self.light, self.large, self.careful)


@record(frozen=True)
class Route:
    profile: str
    reason: str
    tier: str  # "light" | "large" | "careful" | "" (not one of the policy's tiers)
    escalated: bool = False


def policy_from(table: Mapping[str, Any], **overrides: Any) -> RoutingPolicy:
    """A RoutingPolicy from the `[routing]` config table; ValueError names a bad key."""
    known = {f.name: f for f in fields(RoutingPolicy)}
    values: dict[str, Any] = {}
    for key, value in {**table, **overrides}.items():
        name = key.replace("-", "_")
        if name not in known:
            raise ValueError(f"[routing]: unknown key `{key}` (known: {', '.join(sorted(known))})")
        default = getattr(RoutingPolicy(), name)
        if isinstance(default, bool):
            ok = isinstance(value, bool)
        elif isinstance(default, int):
            ok = isinstance(value, int) and not isinstance(value, bool) and value >= 0
        elif isinstance(default, tuple):
            ok = isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value)
            value = tuple(v.lower() for v in value) if ok else value
        else:
            ok = isinstance(value, str) and bool(value.strip())
        if not ok:
            raise ValueError(f"[routing]: `{key}` has an invalid value {value!r}")
        values[name] = value
    return RoutingPolicy(**values)


def tier_of(profile: str | None, policy: RoutingPolicy) -> str:
    if profile in policy.tiers:
        return TIER_NAMES[policy.tiers.index(profile)]
    return ""


def next_tier(profile: str, policy: RoutingPolicy) -> str | None:
    """The profile one tier up, or None at the top (or for a model outside the tiers)."""
    if profile not in policy.tiers:
        return None
    i = policy.tiers.index(profile)
    return policy.tiers[i + 1] if i + 1 < len(policy.tiers) else None


def _found(words: tuple[str, ...], text: str) -> str | None:
    for word in words:
        if re.search(r"(?<![\w])" + re.escape(word), text):
            return word
    return None


def route(signals: Signals, policy: RoutingPolicy) -> Route:
    if signals.previous:
        return _continue(signals, policy)
    text = signals.task.lower().replace("’", "'")
    careful = _found(policy.careful_keywords, text)
    if careful:
        return Route(policy.careful, f'careful tier: the task says "{careful}" (breaking working '
                     "code costs more developer time than a careful model costs)", "careful")
    n_words = len(text.split())
    n_bytes = sum(size for _, size in signals.files)
    reasons = []
    if len(signals.files) > policy.light_max_files:
        reasons.append(f"{len(signals.files)} files in play")
    if n_bytes > policy.light_max_bytes:
        reasons.append(f"{n_bytes:,} bytes of named files")
    if signals.context_tokens > policy.light_max_context_tokens:
        reasons.append(f"~{signals.context_tokens:,} tokens of context")
    if signals.repo_files > policy.large_repo_files:
        reasons.append(f"a large repo ({signals.repo_files:,} files)")
    large = _found(policy.large_keywords, text)
    if large:
        reasons.append(f'a feature-sized task ("{large}")')
    light = _found(policy.light_keywords, text)
    if not reasons and (light or n_words <= policy.light_max_words):
        what = f'"{light}"' if light else f"a short task ({plural(n_words, 'word')})"
        files = f", {len(signals.files)} small file(s)" if signals.files else ""
        return Route(policy.light, f"light tier: {what}{files}", "light")
    if not reasons:
        reasons.append(f"a long task ({plural(n_words, 'word')})")
    return Route(policy.large, "large tier: " + ", ".join(reasons), "large")


def _continue(signals: Signals, policy: RoutingPolicy) -> Route:
    current = signals.previous or policy.large
    tier = tier_of(current, policy)
    why = None
    if signals.failed_checks >= policy.max_failed_checks:
        why = f"{signals.failed_checks} failed checks on {current}"
    elif signals.tool_failures >= policy.max_tool_failures:
        why = f"tool calls kept failing on {current}"
    if why is None:
        return Route(current, f"continuing the task on {current}", tier)
    up = next_tier(current, policy)
    if up is None:
        return Route(current, f"{why}; no higher tier, staying", tier)
    return Route(up, f"escalated: {why}", tier_of(up, policy), escalated=True)


# Paths a task may name: a/b.py, ./src/x.ts, README.md (a dot and an extension, or a slash).
_PATHLIKE = re.compile(r"(?<![\w/.-])((?:\.{0,2}/)?[\w.-]+(?:/[\w.-]+)*\.[A-Za-z0-9]{1,8}|[\w.-]+/[\w./-]+)")


def named_paths(text: str) -> list[str]:
    """Path-like words in a task, in order, without duplicates (existence is checked later)."""
    seen: dict[str, None] = {}
    for match in _PATHLIKE.finditer(text):
        word = match.group(1).rstrip(".,:;)'\"`")
        if word and not word.startswith(("http:", "https:")):
            seen.setdefault(word.removeprefix("./"), None)
    return list(seen)


@record
class TaskState:
    """What the session tracks per task for routing and escalation (mutable, session-owned)."""

    profile: str | None = None
    pinned: bool = False
    failed_checks: int = 0  # on the current tier
    tool_failures: int = 0  # on the current tier
    checks: int = 0
    auto_followups: int = 0
    last_check: bool | None = None
    escalations: list[str] = field(default_factory=list)
