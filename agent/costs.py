"""API cost of one model call from its usage and a price.

Prices come from config overrides (per million tokens) first, then litellm's bundled price data
for the backend actually used. Local backends cost 0 and say so. An unknown price is None, never
a silent 0. `input_tokens` includes cached tokens (OpenAI's usage semantics); cached tokens are
priced at the cached rate where one is known.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

from providers.base import ResolvedModel, Usage

LOCAL_BACKENDS = frozenset({"local", "ollama", "openai-compatible"})


@dataclass(frozen=True)
class PricePerToken:
    input: float
    output: float
    cached_input: float | None = None
    source: str = "litellm"  # "litellm" | "config" | "local"


def price_for_model(
    model: ResolvedModel, overrides: Mapping[str, Mapping[str, float]]
) -> PricePerToken | None:
    for key in (model.litellm_id, model.profile or "", model.wire_model):
        if key and key in overrides:
            o = overrides[key]
            cached = o.get("cached_input")
            return PricePerToken(
                input=o.get("input", 0.0) / 1e6,
                output=o.get("output", 0.0) / 1e6,
                cached_input=None if cached is None else cached / 1e6,
                source="config",
            )
    if model.backend in LOCAL_BACKENDS:
        return PricePerToken(0.0, 0.0, 0.0, source="local")
    from providers.prices import price_for

    p = price_for(model.litellm_id)
    if p is None:
        return None
    return PricePerToken(input=p.input, output=p.output, cached_input=p.cached_input)


def call_cost(usage: Usage, price: PricePerToken | None) -> float | None:
    if price is None:
        return None
    cached = min(usage.cached_input_tokens, usage.input_tokens)
    uncached = usage.input_tokens - cached
    cached_rate = price.cached_input if price.cached_input is not None else price.input
    return uncached * price.input + cached * cached_rate + usage.output_tokens * price.output
