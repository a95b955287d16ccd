"""The price a call is billed at: config overrides (per million tokens) first, then the
catalogue's price (litellm's bundled price data for the backend actually used; local backends are
free). An unknown price is None, never a silent 0; `Price.cost(usage)` does the arithmetic.
"""
from __future__ import annotations

from typing import Mapping

from realcost_agent.providers.base import ResolvedModel
from realcost_agent.providers.local import LOCAL_PRICE_KEY, is_local
from realcost_agent.providers.prices import Price, price_for_model


def price_with_overrides(
    model: ResolvedModel, overrides: Mapping[str, Mapping[str, float]]
) -> Price | None:
    for key in (model.litellm_id, model.profile or "", model.wire_model):
        if key and key != LOCAL_PRICE_KEY and key in overrides:
            o = overrides[key]
            cached = o.get("cached_input")
            return Price(
                input=o.get("input", 0.0) / 1e6,
                output=o.get("output", 0.0) / 1e6,
                cached_input=None if cached is None else cached / 1e6,
            )
    return price_for_model(model)


def local_rate(overrides: Mapping[str, Mapping[str, float]]) -> float | None:
    """USD per hour of local compute from `[prices.local] per_hour`, or None."""
    rate = overrides.get(LOCAL_PRICE_KEY, {}).get("per_hour")
    return None if rate is None else float(rate)


def local_compute(cost: float | None, model: ResolvedModel, duration_ms: float,
                  overrides: Mapping[str, Mapping[str, float]]) -> tuple[float | None, bool]:
    """(cost, local) of one call: a local call's wall time at `[prices.local] per_hour` is added
    to whatever its tokens cost (the seed's "free" local runs cost GPU hours). A local call
    stays "local" when priced by the hour; one the user priced per token under [prices] is
    billed like any other and is not."""
    local = is_local(model)
    rate = local_rate(overrides) if local else None
    if rate is None:
        return cost, local and not cost
    return (cost or 0.0) + duration_ms / 3_600_000 * rate, True
