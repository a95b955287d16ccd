"""Provider failures a resend usually fixes, and when a request really left.

Classification works on the error's one-line message, so it holds for both client paths (the
direct client keeps the host's `error.message`; litellm wraps it, and its text is cleaned to the
same message):
  - "tool_call"   a host-side tool-call parse/validation failure: Groq's 400 `tool_use_failed`
                  ("Failed to call a function. Please adjust your prompt..."), "tool call
                  validation failed: ...", a host that could not parse the generated call;
  - "harmony"     the server's harmony parser failed on the model's output: vLLM's
                  HarmonyError, "unexpected tokens remaining in message header", openai_harmony
                  errors (often mid-stream);
  - "afford"      OpenRouter's 402 "... can only afford N tokens": resend with max_tokens < N.
The turn resends the first two at most twice with a short corrective note to the model (the
note goes with the resend only; history is unchanged) and the third once.

Request timing: `mark_request_sent()` is called by a provider right before the HTTP request
leaves; the turn reads it through `request_timer()`, so time to first token is measured from
the request, never from the agent's own set-up (imports, the first HTTP client, a retry's
back-off).
"""
from __future__ import annotations

import contextvars
import re
import time
from contextlib import contextmanager
from typing import Callable, Iterator

from realcost_agent.providers.base import ProviderError

_TOOL_CALL = re.compile(
    r"tool_use_failed|tool call validation failed|failed to call a function|"
    r"failed to parse tool call|error parsing tool call|invalid tool call|"
    r"tool_calls?\b.*\b(?:could not be parsed|parse error)",
    re.IGNORECASE,
)
_HARMONY = re.compile(
    r"harmony|unexpected tokens remaining in message header|unexpected token .* while expecting",
    re.IGNORECASE,
)
_AFFORD = re.compile(r"can only afford\s+(\d[\d,]*)", re.IGNORECASE)

MAX_CORRECTIVE_RETRIES = 2
TOOL_CALL_NOTE = (
    "Your previous response could not be delivered: the host failed to parse its tool call "
    "({detail}). Call a tool through the tool-calling interface with the exact tool name and "
    "one JSON object as arguments, or answer in plain text. Do not write tool calls in text."
)
HARMONY_NOTE = (
    "Your previous response could not be parsed by the server ({detail}). Reply again in the "
    "normal format: reasoning, then either one tool call with JSON arguments or a final answer."
)


def classify(err: ProviderError) -> str | None:
    """"tool_call" | "harmony" | "afford" | None (not a failure a resend fixes)."""
    text = err.message or ""
    if err.status == 402 or _AFFORD.search(text):
        return "afford" if afford_tokens(err) is not None else None
    if err.status in (401, 403, 404, 429):
        return None
    if _TOOL_CALL.search(text):
        return "tool_call"
    if _HARMONY.search(text):
        return "harmony"
    return None


def afford_tokens(err: ProviderError) -> int | None:
    """N from "can only afford N" (OpenRouter's 402 when the credits cover fewer tokens)."""
    m = _AFFORD.search(err.message or "")
    if not m:
        return None
    try:
        n = int(m.group(1).replace(",", ""))
    except ValueError:
        return None
    return n if n > 0 else None


def lowered_max_tokens(afford: int) -> int:
    """Below N with a margin (the estimate is the host's, from before the prompt was counted)."""
    return max(1, afford - max(1, afford // 10))


def corrective_note(kind: str, err: ProviderError) -> str:
    detail = (err.message or "")[:160]
    return (TOOL_CALL_NOTE if kind == "tool_call" else HARMONY_NOTE).format(detail=detail)


# -- request timing ----------------------------------------------------------------------------
_SENT: contextvars.ContextVar[list[float] | None] = contextvars.ContextVar(
    "agent_request_sent", default=None)


_ON_SENT: list[Callable[[], None]] = []


def on_request_sent(callback: Callable[[], None]) -> Callable[[], None]:
    """Call `callback` each time a model request has left; returns the remover. Work that can
    wait for the model's answer starts there (the MCP servers, the tools' own import), so it
    never competes with the request for the CPU (one interpreter: issue 19)."""
    _ON_SENT.append(callback)
    return lambda: _ON_SENT.remove(callback) if callback in _ON_SENT else None


def _notify_sent() -> None:
    for callback in list(_ON_SENT):
        try:
            callback()
        except Exception:  # noqa: BLE001 - a watcher must never fail a request
            pass


def mark_request_sent(*, on_wire_later: bool = False) -> None:
    """Providers call this right before a request leaves (the mark is a no-op outside
    request_timer). `on_wire_later`: the provider reports the body on the wire itself
    (trace_request_sent), and the on_request_sent watchers run then instead of now."""
    marks = _SENT.get()
    if marks is not None:
        marks.append(time.monotonic())
    if not on_wire_later:
        _notify_sent()


def refine_request_sent() -> None:
    """Move the current attempt's mark to now: the request's last byte has just been written."""
    marks = _SENT.get()
    if marks:
        marks[-1] = time.monotonic()


async def trace_request_sent(name: str, info: object) -> None:
    """httpcore's `trace` extension: refines the mark when the request body is on the wire,
    so the client's own first-use set-up (lazy imports, the connection pool) is not TTFT, and
    tells the on_request_sent watchers."""
    if name.endswith("send_request_body.complete"):
        refine_request_sent()
        _notify_sent()


@contextmanager
def request_timer() -> Iterator[list[float]]:
    """Collects the monotonic times requests were sent inside the block (one per attempt)."""
    marks: list[float] = []
    token = _SENT.set(marks)
    try:
        yield marks
    finally:
        _SENT.reset(token)
