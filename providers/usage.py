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

from realcost_agent.providers.base import Usage
from realcost_agent.providers.hosts import HostProfile

CHARS_PER_TOKEN = 4
# Chat-template overhead per message (role markers); o200k-based templates spend about this.
TOKENS_PER_MESSAGE = 4


def _get(obj: Any, key: str) -> Any:
    if obj is None:
        return None
    if isinstance(obj, Mapping):
        return obj.get(key)
    return getattr(obj, key, None)


def _int(value: Any) -> Any:
    """A token count as the host sent it: a whole number stays (a whole float becomes an int);
    anything else (NaN, 1.5, "12", negative, absurdly large) is passed on unchanged, so the
    turn's usage check (agent/usagecheck.py) records it as bad data and clamps it, in one
    place, with a warning, instead of it vanishing here."""
    if value is None:
        return 0
    if isinstance(value, float) and value == value and value not in (float("inf"), float("-inf")) \
            and value.is_integer():
        return int(value)
    return value


def _cost(value: Any) -> Any:
    """A billed cost as sent (a few proxies send a decimal string: read as a number); bad values
    are passed on for the usage check to flag."""
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return value
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
    return bool(_get(obj, "prompt_tokens") or _get(obj, "completion_tokens"))


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
