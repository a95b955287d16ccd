"""Usage of a call that ended without the server's figures (cut by a limit, failed mid-answer,
interrupted): estimated from the request and what had been received, so such a call is never a
silent zero in the ledger (issue 18). Marked `estimated`.
"""
from __future__ import annotations

from typing import Any

from realcost_agent.providers.base import Usage
from realcost_agent.providers.usage import estimate_usage


def received_usage(messages: list[dict[str, Any]], step: Any, parts: Any) -> Usage:
    """`step`: the turn's StepResult so far (text, reasoning); `parts`: its CallAssembler."""
    received = [getattr(step, "text", "") or "", getattr(step, "reasoning", "") or ""]
    for slot in getattr(parts, "slots", ()) or ():
        received.append((getattr(slot, "name", "") or "") + (getattr(slot, "arguments", "") or ""))
    usage = estimate_usage(messages, (), received)
    if not any(received):
        usage = Usage(input_tokens=usage.input_tokens, output_tokens=0, estimated=True)
    return usage
