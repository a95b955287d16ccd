"""Token usage as hosts report it, and a local estimate when they report none.

Shared by both clients so a host's figures come out the same whichever path called it:
`usage_in_chunk` finds usage where the host profile says it arrives (top-level `usage`, Groq's
`x_groq.usage`), `usage_from` reads OpenAI's usage JSON plus the host's cost field, and
`estimate_usage` counts a response locally (about 4 characters a token, the same rule as
agent.compaction.estimate_tokens) when nothing came, marking it `estimated`.
"""
from __future__ import annotations

import json
from typing import Any, Iterable, Mapping

from providers.base import Usage
from providers.hosts import HostProfile

CHARS_PER_TOKEN = 4
# Chat-template overhead per message (role markers); o200k-based templates spend about this.
TOKENS_PER_MESSAGE = 4


def _get(obj: Any, key: str) -> Any:
    if obj is None:
        return None
    if isinstance(obj, Mapping):
        return obj.get(key)
    return getattr(obj, key, None)


# No single response is billed for more tokens than this; a bigger figure is a broken or hostile
# server, and believing it would blow the ledger (and a negative one would defeat --max-cost).
MAX_TOKENS = 100_000_000
MAX_COST = 10_000.0  # USD for one call


def _int(value: Any) -> int:
    """A token count: a finite number in [0, MAX_TOKENS], else 0 (never negative, NaN or bool)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return 0
    if value != value or value in (float("inf"), float("-inf")):
        return 0
    return min(max(0, int(value)), MAX_TOKENS)


def _cost(value: Any) -> float | None:
    """A billed cost: finite, in [0, MAX_COST]; anything else is no figure (None), not a guess."""
    if isinstance(value, str):  # a few proxies send the cost as a decimal string
        try:
            value = float(value)
        except ValueError:
            return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    value = float(value)
    if value != value or value < 0 or value > MAX_COST:
        return None
    return value


def usage_from(obj: Any, host: HostProfile | None = None) -> Usage:
    """OpenAI usage JSON (dict or pydantic object) to a Usage, with the host's billed cost."""
    cost_key = host.cost_field if host is not None and host.cost_field else "cost"
    return Usage(
        input_tokens=_int(_get(obj, "prompt_tokens")),
        output_tokens=_int(_get(obj, "completion_tokens")),
        cached_input_tokens=_int(_get(_get(obj, "prompt_tokens_details"), "cached_tokens")),
        reasoning_tokens=_int(_get(_get(obj, "completion_tokens_details"), "reasoning_tokens")),
        provider_cost=_cost(_get(obj, cost_key)),
    )


def has_counts(obj: Any) -> bool:
    return bool(_int(_get(obj, "prompt_tokens")) or _int(_get(obj, "completion_tokens")))


def usage_in_chunk(chunk: Any, host: HostProfile) -> Any | None:
    """The raw usage object of one chunk, looked up where the host puts it; None when absent."""
    for path in host.usage_paths:
        node = chunk
        for key in path:
            node = _get(node, key)
        if node is not None and has_counts(node):
            return node
    return None


def estimate_tokens_of(texts: Iterable[str]) -> int:
    return sum(len(t) for t in texts if t) // CHARS_PER_TOKEN


def estimate_usage(messages: Iterable[Mapping[str, Any]], tools: Iterable[Mapping[str, Any]],
                   output_texts: Iterable[str]) -> Usage:
    """A local count for a response the host reported no usage for; marked estimated."""
    msgs = list(messages)
    prompt = sum(len(json.dumps(m, ensure_ascii=False)) for m in msgs)
    prompt += sum(len(json.dumps(t, ensure_ascii=False)) for t in tools)
    out = estimate_tokens_of(output_texts)
    return Usage(
        input_tokens=prompt // CHARS_PER_TOKEN + TOKENS_PER_MESSAGE * len(msgs),
        output_tokens=max(1, out), estimated=True,
    )
