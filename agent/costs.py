"""The price a call is billed at: config overrides (per million tokens) first, then the
catalogue's price (litellm's bundled price data for the backend actually used; local backends are
free). An unknown price is None, never a silent 0; `Price.cost(usage)` does the arithmetic.
"""
from __future__ import annotations

from typing import Mapping

from realcost_agent.providers.base import ResolvedModel
from realcost_agent.providers.prices import Price, price_for_model


def price_with_overrides(
    model: ResolvedModel, overrides: Mapping[str, Mapping[str, float]]
) -> Price | None:
    for key in (model.litellm_id, model.profile or "", model.wire_model):
        if key and key in overrides:
            o = overrides[key]
            cached = o.get("cached_input")
            return Price(
                input=o.get("input", 0.0) / 1e6,
                output=o.get("output", 0.0) / 1e6,
                cached_input=None if cached is None else cached / 1e6,
            )
    return price_for_model(model)
