"""Usage of a call that ended without the server's figures (cut by a limit, failed mid-answer,
interrupted): counted from the request and what had been received, so such a call is never a
silent zero in the ledger (issue 18). Marked `estimated`.

A local server's own tokenizer counts it where it has one (providers/localusage.py: llama.cpp's
/apply-template + /tokenize, vLLM's /tokenize, llama-cpp-python's /extras/tokenize/count), else
o200k, else about 4 characters a token.
"""
from __future__ import annotations

from typing import Any

from realcost_agent.providers.base import ResolvedModel, Usage
from realcost_agent.providers.usage import estimate_usage

COUNT_BUDGET = 10.0  # seconds: counting never holds up a stopping turn for long


def _received(step: Any, parts: Any) -> list[str]:
    received = [getattr(step, "text", "") or "", getattr(step, "reasoning", "") or ""]
    for slot in getattr(parts, "slots", ()) or ():
        received.append((getattr(slot, "name", "") or "") + (getattr(slot, "arguments", "") or ""))
    return [r for r in received if r]


def received_estimate(messages: list[dict[str, Any]], step: Any, parts: Any) -> Usage:
    """The same without asking anyone (an interrupted turn must stop at once)."""
    received = _received(step, parts)
    usage = estimate_usage(messages, (), received)
    if not received:
        usage = Usage(input_tokens=usage.input_tokens, output_tokens=0, estimated=True)
    return usage


async def received_usage(model: ResolvedModel, messages: list[dict[str, Any]], step: Any,
                         parts: Any) -> Usage:
    """`step`: the turn's StepResult so far (text, reasoning); `parts`: its CallAssembler."""
    import asyncio

    received = _received(step, parts)
    usage: Usage | None = None
    try:
        usage = await asyncio.wait_for(_counted(model, messages, received), COUNT_BUDGET)
    except (asyncio.TimeoutError, Exception):  # noqa: BLE001 - counting is best effort
        usage = None
    if usage is None:
        usage = estimate_usage(messages, (), received)
    if not received:  # nothing came back: no output tokens to guess at
        usage = Usage(input_tokens=usage.input_tokens, output_tokens=0, estimated=True)
    return usage


async def _counted(model: ResolvedModel, messages: list[dict[str, Any]],
                   received: list[str]) -> Usage | None:
    import httpx
    from realcost_agent.providers.warm import ssl_context

    from realcost_agent.providers.hosts import is_local_url, profile_of
    from realcost_agent.providers.localusage import counted_usage
    from realcost_agent.providers.wire import prepare_messages

    local = bool(model.api_base) and is_local_url(model.api_base)
    body = {"model": model.wire_model,
            "messages": prepare_messages(messages, model.reasoning_field, profile_of(model))}
    async with httpx.AsyncClient(timeout=COUNT_BUDGET, verify=ssl_context()) as client:
        return await counted_usage(client, model.api_base, local, body, received)
