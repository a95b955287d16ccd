"""Usage figures from a provider are data to check, not facts: a host (or a proxy in between)
can send negative, fractional, NaN, huge or non-numeric token counts. Such a figure is recorded
as bad data: clamped to 0 (tokens) or unknown (cost), named in a warning and in the call's
`usage_note`, so totals stay meaningful and nothing downstream (the ledger's SQLite integers,
the session's sums) ever sees it.
"""
from __future__ import annotations

import math
from typing import Any

from realcost_agent.providers.base import Usage

MAX_TOKENS = 10_000_000  # no single call reads or writes more than this
MAX_COST = 1_000.0  # USD for one call

_TOKEN_FIELDS = ("input_tokens", "output_tokens", "cached_input_tokens", "reasoning_tokens")


def _count(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if 0 <= value <= MAX_TOKENS else None
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return _count(int(value))
    return None


def _cost(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    value = float(value)
    return value if math.isfinite(value) and 0 <= value <= MAX_COST else None


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:39] + "…"


def check_usage(usage: Any) -> tuple[Usage, str | None]:
    """(usage safe to record, a note naming the bad figures or None)."""
    if usage is None:
        return Usage(), None
    bad: list[str] = []
    clean: dict[str, Any] = {}
    for name in _TOKEN_FIELDS:
        raw = getattr(usage, name, 0)
        value = _count(raw)
        if value is None:
            bad.append(f"{name}={_shown(raw)}")
            value = 0
        clean[name] = value
    raw_cost = getattr(usage, "provider_cost", None)
    clean["provider_cost"] = None if raw_cost is None else _cost(raw_cost)
    if raw_cost is not None and clean["provider_cost"] is None:
        bad.append(f"provider_cost={_shown(raw_cost)}")
    if not bad:
        return (usage if isinstance(usage, Usage) else Usage(**clean)), None
    return Usage(**clean), "bad usage data from the provider: " + ", ".join(bad)
