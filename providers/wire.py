"""Helpers shared by both providers: outgoing messages, request params, error text.

Kept free of httpx and litellm so either provider (and the tests) can use them cheaply.
"""
from __future__ import annotations

import email.utils
import json
import re
import time
from typing import Any, Iterable, Mapping

from realcost_agent.providers.base import ResolvedModel
from realcost_agent.providers.hosts import ALL_REASONING_FIELDS, HostProfile

# Spellings of reasoning text as a plain string (reasoning_details is a list of parts).
REASONING_KEYS = ("reasoning_content", "reasoning")
# 408 timeout, 409 conflict (OpenAI uses it for transient lock errors), 425 too early,
# 429 rate limit, and every 5xx are worth retrying; other 4xx mean "fix the request".
RETRYABLE_STATUSES = frozenset({408, 409, 425, 429})
MAX_ERROR_CHARS = 300


def is_retryable_status(status: int | None) -> bool:
    return status is not None and (status in RETRYABLE_STATUSES or status >= 500)


def prepare_messages(
    messages: Iterable[Mapping[str, Any]], reasoning_field: str | None,
    host: HostProfile | None = None,
) -> list[dict[str, Any]]:
    """Copy messages for the wire, echoing reasoning only where the model needs it, in the shape
    the host accepts.

    gpt-oss must see its own reasoning for the tool-call chain of the current turn (assistant
    messages with tool_calls after the last user message); elsewhere reasoning is dropped, as the
    model was trained, and it saves tokens. The core stores it as `reasoning_content`.
    With a host profile: `content` is "" instead of null where the host rejects null (Ollama's
    400 "invalid message content type: <nil>"), and a tool-call message never carries content
    and reasoning together where the host rejects that (llama.cpp's 500): the content, which is
    the model's commentary there, is folded into the reasoning.
    """
    msgs = [dict(m) for m in messages]
    last_user = max((i for i, m in enumerate(msgs) if m.get("role") == "user"), default=-1)
    echo = host is None or host.echo_reasoning
    for i, msg in enumerate(msgs):
        if msg.get("role") != "assistant":
            continue
        text = next((msg[k] for k in ALL_REASONING_FIELDS
                     if isinstance(msg.get(k), str) and msg[k]), None)
        for key in ALL_REASONING_FIELDS:
            msg.pop(key, None)
        if text and echo and reasoning_field and i > last_user and msg.get("tool_calls"):
            content = msg.get("content")
            if host is not None and not host.content_with_reasoning_ok and content:
                text = f"{text}\n\n{content}" if isinstance(content, str) else text
                msg["content"] = None
            msg[reasoning_field] = text
        if host is not None and not host.null_content_ok and msg.get("content") is None:
            msg["content"] = ""
    return msgs


# Every request carries an output cap (issue 18): a model the catalogue does not know once
# streamed for 15 minutes with none. The default is bounded by the context left after the prompt.
DEFAULT_OUTPUT_CAP = 8_192
MIN_OUTPUT_CAP = 256  # below this the request would overflow anyway: the server says so
CONTEXT_MARGIN = 0.03  # the prompt estimate (4 chars a token) runs a little low on code


def prompt_estimate(messages: Iterable[Mapping[str, Any]], tools: Iterable[Mapping[str, Any]] = ()) -> int:
    """About how many tokens the request's messages and tool schemas take (4 chars a token)."""
    chars = sum(len(json.dumps(m, ensure_ascii=False, default=str)) for m in messages)
    chars += sum(len(json.dumps(t, ensure_ascii=False, default=str)) for t in tools)
    return chars // 4


def output_cap(model: ResolvedModel, prompt_tokens: int | None = None) -> int:
    """The max tokens to ask for: the profile's cap (else DEFAULT_OUTPUT_CAP), no more than the
    context left after the prompt, and never less than MIN_OUTPUT_CAP."""
    cap = model.params.max_output_tokens or DEFAULT_OUTPUT_CAP
    if prompt_tokens is not None and model.context_window:
        left = int(model.context_window * (1 - CONTEXT_MARGIN)) - prompt_tokens
        cap = min(cap, max(MIN_OUTPUT_CAP, left))
    return cap


def request_params(model: ResolvedModel, prompt_tokens: int | None = None) -> dict[str, Any]:
    """Sampling/limit parameters for the model, with each backend's quirks already applied.
    `prompt_tokens`: the request's estimated prompt size, to keep the output cap inside the
    context window."""
    p = model.params
    out: dict[str, Any] = {p.max_tokens_field: output_cap(model, prompt_tokens)}
    if p.reasoning_effort:
        out["reasoning_effort"] = p.reasoning_effort
    if p.supports_temperature and p.temperature is not None:
        out["temperature"] = p.temperature
    return out


def tool_params(tools: list[dict[str, Any]], model: ResolvedModel) -> dict[str, Any]:
    if not tools:
        return {}  # an empty `tools` list is a 400 on OpenAI
    out: dict[str, Any] = {"tools": tools, "tool_choice": "auto"}
    if model.params.parallel_tool_calls is not None:
        out["parallel_tool_calls"] = model.params.parallel_tool_calls
    return out


def one_line(text: str, limit: int = MAX_ERROR_CHARS) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


_KEYLIKE = re.compile(r"\b(sk|gsk|hf|fw|csk)[-_][A-Za-z0-9_\-]{8,}")


def redact(text: str, secrets: Iterable[str | None] = ()) -> str:
    """Remove API keys from server text: the exact key, then anything key-shaped."""
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, "***")
    return _KEYLIKE.sub(lambda m: m.group(1) + "-***", text)


def error_message(body: bytes | str | Any, fallback: str) -> str:
    """The human part of an error body: OpenAI's {"error": {"message"}} and common variants."""
    obj: Any = body
    if isinstance(body, (bytes, str)):
        raw = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
        try:
            obj = json.loads(raw)
        except ValueError:
            return one_line(raw) if raw.strip() else fallback
    if isinstance(obj, list) and obj:
        obj = obj[0]
    if isinstance(obj, dict):
        err = obj.get("error", obj)
        if isinstance(err, str):
            return one_line(err)
        if isinstance(err, dict):
            msg = err.get("message") or err.get("detail") or err.get("msg")
            if isinstance(msg, str) and msg.strip():
                # OpenRouter wraps the upstream host's error in metadata.raw; it is more useful.
                meta = err.get("metadata")
                raw = meta.get("raw") if isinstance(meta, dict) else None
                if isinstance(raw, str) and raw.strip() and raw.strip() not in msg:
                    msg = f"{msg}: {error_message(raw, raw)}"
                # llama.cpp's overflow error names the window beside the message (#15780).
                n_ctx = err.get("n_ctx")
                if isinstance(n_ctx, int) and not isinstance(n_ctx, bool) and "n_ctx" not in msg:
                    msg = f"{msg} (n_ctx {n_ctx}, prompt {err.get('n_prompt_tokens', '?')} tokens)"
                return one_line(msg)
        detail = obj.get("detail")
        if isinstance(detail, str):
            return one_line(detail)
    return fallback


def parse_retry_after(headers: Mapping[str, str] | Any, now: float | None = None) -> float | None:
    """Seconds to wait from Retry-After (seconds or HTTP date) or retry-after-ms."""
    if headers is None:
        return None
    get = headers.get
    ms = get("retry-after-ms")
    if ms:
        try:
            return max(0.0, float(ms) / 1000.0)
        except ValueError:
            pass
    value = get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def status_hint(status: int | None, model: ResolvedModel) -> str:
    """A short suffix telling the user what to check for auth and not-found errors."""
    if status in (401, 403) and model.api_key_env:
        return f" (check {model.api_key_env})"
    if status == 404:
        return f" (model {model.wire_model or model.litellm_id!r} at {model.api_base or model.backend})"
    return ""
