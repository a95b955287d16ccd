"""Token prices and context windows from litellm's bundled price file, without importing litellm.

`importlib.util.find_spec("litellm")` locates the installed package without executing it, so we
read `model_prices_and_context_window_backup.json` in ~20 ms instead of paying litellm's
multi-second import. The parsed table is cached per process by `lru_cache` on `_table`.
Unknown models give None, never a silent zero: a wrong zero would under-report real cost.
"""
from __future__ import annotations

import importlib.util
import json
from functools import lru_cache
from pathlib import Path
from typing import Any, Mapping

from realcost_agent.providers.base import ResolvedModel, Usage
from realcost_agent.records import record

PRICE_FILE = "model_prices_and_context_window_backup.json"


@record(frozen=True)
class Price:
    """USD per token."""

    input: float
    output: float
    cached_input: float | None = None  # None: cache hits are billed as plain input

    @property
    def input_per_million(self) -> float:
        return self.input * 1e6

    @property
    def output_per_million(self) -> float:
        return self.output * 1e6

    @property
    def cached_input_per_million(self) -> float | None:
        return None if self.cached_input is None else self.cached_input * 1e6

    def cost(self, usage: Usage) -> float:
        """Cost of one call; reasoning tokens are already inside output_tokens."""
        cached = min(usage.cached_input_tokens, usage.input_tokens)
        cached_rate = self.input if self.cached_input is None else self.cached_input
        return ((usage.input_tokens - cached) * self.input + cached * cached_rate
                + usage.output_tokens * self.output)


FREE = Price(0.0, 0.0, 0.0)


def price_file() -> Path | None:
    spec = importlib.util.find_spec("litellm")
    if spec is None or not spec.submodule_search_locations:
        return None
    for loc in spec.submodule_search_locations:
        path = Path(loc) / PRICE_FILE
        if path.is_file():
            return path
    return None


@lru_cache(maxsize=1)
def _table() -> Mapping[str, Mapping[str, Any]]:
    path = price_file()
    if path is None:
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {k: v for k, v in data.items() if isinstance(v, dict) and k != "sample_spec"}


def _candidates(litellm_id: str) -> list[str]:
    """The id as given, then without an `openai/` prefix (the file keys OpenAI models bare)."""
    out = [litellm_id]
    if litellm_id.startswith("openai/"):
        out.append(litellm_id.removeprefix("openai/"))
    return out


def _entry(litellm_id: str) -> Mapping[str, Any] | None:
    table = _table()
    for key in _candidates(litellm_id):
        if key in table:
            return table[key]
    return None


def _num(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def price_for(litellm_id: str) -> Price | None:
    entry = _entry(litellm_id)
    if entry is None:
        return None
    inp, out = _num(entry.get("input_cost_per_token")), _num(entry.get("output_cost_per_token"))
    if inp is None or out is None:
        return None
    return Price(input=inp, output=out, cached_input=_num(entry.get("cache_read_input_token_cost")))


def context_window_for(litellm_id: str) -> int | None:
    entry = _entry(litellm_id)
    if entry is None:
        return None
    for key in ("max_input_tokens", "max_tokens"):
        value = entry.get(key)
        if isinstance(value, int) and value > 0:
            return value
    return None


def price_for_model(model: ResolvedModel) -> Price | None:
    """The price to bill a resolved model at: free locally, else its catalogue price id."""
    from realcost_agent.providers.local import is_local

    if is_local(model):  # the one "is this call local" predicate
        return FREE
    return price_for(model.price_id) if model.price_id else None
