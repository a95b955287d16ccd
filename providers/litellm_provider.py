"""The provider protocol over litellm.acompletion, for hosts that don't speak OpenAI's API.

litellm takes seconds to import, so it is imported on the first `stream()` call only, and only
here. LITELLM_LOCAL_MODEL_COST_MAP (and its siblings) are set first so litellm never fetches its
data files from the network, and telemetry is switched off.

For OpenAI-compatible models (only reached here when forced) the call goes to the model's
`litellm_id` with its `api_base` and key passed explicitly, so litellm's env lookups don't matter.
"""
from __future__ import annotations

import asyncio
import json
import math
import os
import re
from dataclasses import replace
from typing import Any, AsyncIterator, Mapping

from realcost_agent.providers.base import (
    Finish, ProviderError, ReasoningDelta, ResolvedModel, StreamDelta, TextDelta, ToolCallDelta,
    Usage,
)
from realcost_agent.providers.hosts import HostProfile, profile_of
from realcost_agent.providers.recovery import mark_request_sent
# _get: attribute or key access (litellm hands out pydantic objects, dicts, or a mix).
from realcost_agent.providers.usage import _get, estimate_usage, usage_from, usage_in_chunk
from realcost_agent.providers.wire import (
    error_message, is_retryable_status, one_line, parse_retry_after, prepare_messages, redact,
    prompt_estimate, request_params, status_hint, tool_params,
)

DEFAULT_IDLE_TIMEOUT = 120.0
# litellm refuses an OpenAI-style call without a key; local servers ignore this placeholder.
_NO_KEY = "no-key"


def _litellm() -> Any:
    # Local copies only: without these litellm fetches its price map and header config from
    # GitHub at import/first use.
    for name in ("LITELLM_LOCAL_MODEL_COST_MAP", "LITELLM_LOCAL_ANTHROPIC_BETA_HEADERS",
                 "LITELLM_LOCAL_BLOG_POSTS"):
        os.environ.setdefault(name, "True")
    import litellm  # noqa: PLC0415 - deliberately lazy: the import takes seconds

    if hasattr(litellm, "telemetry"):
        litellm.telemetry = False
    litellm.suppress_debug_info = True
    return litellm


def _int(value: Any) -> int:
    if value is None or (isinstance(value, int) and not isinstance(value, bool)):
        return value or 0
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return int(value)
    return value  # bad data (NaN, 1.5, "12"): kept for the turn's usage check to flag


def usage_from_litellm(usage: Any) -> Usage:
    return usage_from(usage)


class RawTap:
    """Sees each chunk as the host sent it, before litellm rewrites it.

    litellm drops what it does not model (OpenRouter's usage.cost, Groq's x_groq.usage) and,
    when it finds no usage, substitutes its own count. The tap reads usage where the host
    profile says it arrives, so both clients report the host's own figures. It hooks the two
    stream kinds litellm 1.82.6 hands out: the OpenAI SDK's AsyncStream (pydantic chunks, extra
    fields kept) and litellm's BaseModelResponseIterator (a `chunk_parser(dict)` per chunk).
    """

    def __init__(self, host: HostProfile) -> None:
        self.host = host
        self.installed = False
        self.usage: Any = None

    def observe(self, chunk: Any) -> None:
        if hasattr(chunk, "model_dump"):
            try:
                chunk = chunk.model_dump()
            except Exception:  # noqa: BLE001 - an odd object: nothing to learn from it
                return
        if isinstance(chunk, Mapping):
            found = usage_in_chunk(chunk, self.host)
            if found is not None:
                self.usage = found

    def install(self, response: Any) -> None:
        inner = getattr(response, "completion_stream", None)
        if inner is None:
            return
        parser = getattr(inner, "chunk_parser", None)
        if callable(parser) and hasattr(inner, "streaming_response"):
            def chunk_parser(chunk: Any, _orig: Any = parser) -> Any:
                self.observe(chunk)
                return _orig(chunk=chunk)

            inner.chunk_parser = chunk_parser
            self.installed = True
        elif hasattr(inner, "__aiter__"):
            async def tapped() -> Any:
                async for chunk in inner:
                    self.observe(chunk)
                    yield chunk

            response.completion_stream = tapped()
            self.installed = True


def _usage_rejected(exc: BaseException) -> bool:
    """litellm's pydantic Usage refused the host's figures (it wraps that mid-stream)."""
    text = str(getattr(exc, "original_exception", None) or exc)
    return "validation error for Usage" in text or "validation error for Usage" in str(exc)


# "litellm.RateLimitError: RateLimitError: OpenAIException - slow down" -> "slow down"
_PREFIX = re.compile(r"^\s*(litellm\.\w+:|\w+Error:|\w+Exception\s*-)\s*")


def _clean(text: str) -> str:
    text = str(text).strip()
    while (stripped := _PREFIX.sub("", text, count=1)) != text:
        text = stripped
    start = text.find("{")
    if start >= 0:  # the server's JSON error body, when litellm passed it through
        msg = error_message(text[start:], "")
        if msg:
            return msg
    return one_line(text)


class LiteLLMProvider:
    name = "litellm"

    def __init__(self, *, env: Mapping[str, str] | None = None,
                 idle_timeout: float = DEFAULT_IDLE_TIMEOUT) -> None:
        self._env = env
        self.idle_timeout = idle_timeout

    async def aclose(self) -> None:
        return None  # litellm owns its HTTP clients

    def preload(self) -> None:
        """Import litellm now (it takes seconds): the TUI calls this in a thread after the
        first paint, through providers.factory.warm, so the first request does not wait."""
        _litellm()

    def _key(self, model: ResolvedModel) -> str | None:
        if not model.api_key_env:
            return None
        env = os.environ if self._env is None else self._env
        return env.get(model.api_key_env) or None

    def build_kwargs(self, messages: list[dict[str, Any]], tools: list[dict[str, Any]],
                     model: ResolvedModel, key: str | None) -> dict[str, Any]:
        prefix = profile_of(model).litellm_prefix
        kwargs: dict[str, Any] = {
            "model": f"{prefix}/{model.wire_model}" if prefix and model.wire_model else model.litellm_id,
            # litellm reports reasoning as `reasoning_content` whatever the wire said, so the
            # echo field is the catalogue's per-backend one.
            "messages": prepare_messages(messages, model.reasoning_field, profile_of(model)),
            "stream": True,
            "stream_options": {"include_usage": True},
            "timeout": self.idle_timeout,
            "num_retries": 0,  # providers.retry owns retries
            "max_retries": 0,
            # Drop what a provider doesn't take (e.g. reasoning_effort) instead of failing.
            "drop_params": True,
        }
        kwargs.update(tool_params(tools, model))
        kwargs.update(request_params(model, prompt_estimate(kwargs["messages"], tools)))
        if model.api_base:
            kwargs["api_base"] = model.api_base
        if key:
            kwargs["api_key"] = key
        elif model.openai_compatible and model.api_base:
            kwargs["api_key"] = _NO_KEY
        if model.extra_headers:
            kwargs["extra_headers"] = dict(model.extra_headers)
        if model.openai_compatible and "reasoning_effort" in kwargs:
            # litellm's capability table doesn't know gpt-oss on every host and would drop it.
            kwargs["allowed_openai_params"] = ["reasoning_effort"]
        return kwargs

    def _error(self, model: ResolvedModel, exc: BaseException, key: str | None) -> ProviderError:
        lit = _litellm()
        # Errors after the first chunk come wrapped; classify by what actually happened.
        exc = getattr(exc, "original_exception", None) or exc
        status = getattr(exc, "status_code", None)
        status = status if isinstance(status, int) else None
        transient = (lit.Timeout, lit.APIConnectionError, lit.ServiceUnavailableError,
                     lit.InternalServerError, lit.RateLimitError, asyncio.TimeoutError)
        if isinstance(exc, lit.Timeout) or isinstance(exc, asyncio.TimeoutError):
            status, msg = None, f"no data for {self.idle_timeout:g}s (timeout)"
        else:
            msg = _clean(getattr(exc, "message", None) or str(exc)) or type(exc).__name__
        if isinstance(exc, lit.APIConnectionError) and status in (None, 500):
            status = None  # litellm labels connection failures 500; there was no HTTP answer
        retryable = is_retryable_status(status) if status else isinstance(exc, transient)
        if status in (400, 401, 403, 404, 422):
            retryable = False
        headers = getattr(exc, "litellm_response_headers", None)
        if headers is None:
            headers = getattr(getattr(exc, "response", None), "headers", None)
        retry_after = parse_retry_after(headers)
        return ProviderError(redact(msg + status_hint(status, model), [key]), backend=model.backend,
                             model=model.label, status=status, retryable=retryable,
                             retry_after=retry_after)

    async def stream(
        self, messages: list[dict[str, Any]], tools: list[dict[str, Any]], model: ResolvedModel
    ) -> AsyncIterator[StreamDelta]:
        lit = _litellm()
        key = self._key(model)
        kwargs = self.build_kwargs(messages, tools, model, key)
        host = profile_of(model)
        tap = RawTap(host)
        finish: str | None = None
        usage: Usage | None = None
        saw_tools = False
        produced: list[str] = []
        try:
            mark_request_sent()  # after the (slow) import: time to first token starts here
            response = await lit.acompletion(**kwargs)
            tap.install(response)
            async for chunk in response:
                u = _get(chunk, "usage")
                if u is not None and (_get(u, "prompt_tokens") or _get(u, "completion_tokens")):
                    usage = usage_from_litellm(u)
                for choice in _get(chunk, "choices") or ():
                    if _get(choice, "index") not in (0, None):
                        continue
                    delta = _get(choice, "delta")
                    text = _get(delta, "reasoning_content") or _get(delta, "reasoning")
                    if isinstance(text, str) and text:
                        produced.append(text)
                        yield ReasoningDelta(text)
                    content = _get(delta, "content")
                    if isinstance(content, str) and content:
                        produced.append(content)
                        yield TextDelta(content)
                    for pos, tc in enumerate(_get(delta, "tool_calls") or ()):
                        fn = _get(tc, "function")
                        args = _get(fn, "arguments")
                        if isinstance(args, (dict, list)):
                            args = json.dumps(args)
                        idx = _get(tc, "index")
                        saw_tools = True
                        produced.append((_get(fn, "name") or "") + (args if isinstance(args, str) else ""))
                        yield ToolCallDelta(index=idx if isinstance(idx, int) else pos,
                                            id=_get(tc, "id") or None, name=_get(fn, "name") or None,
                                            arguments=args if isinstance(args, str) else "")
                    reason = _get(choice, "finish_reason")
                    if reason:
                        finish = str(reason)
            # On a cut stream litellm invents finish_reason "stop"; its wrapper still knows
            # whether the server sent one (attributes of the pinned litellm release).
            if (getattr(response, "received_finish_reason", "") is None
                    and getattr(response, "intermittent_finish_reason", None) is None):
                finish = None
        except ProviderError:
            raise
        except Exception as exc:  # noqa: BLE001 - every litellm failure becomes a ProviderError
            if not (finish is not None and _usage_rejected(exc)):
                raise self._error(model, exc, key) from None
            # The answer was complete; only the usage chunk (NaN, ...) failed litellm's
            # validation. Pass it on as bad data for the turn's usage check, not a failure.
            usage = Usage(input_tokens=float("nan"), output_tokens=float("nan"))  # type: ignore[arg-type]
        if finish is None:
            raise ProviderError("stream ended early", backend=model.backend, model=model.label,
                                retryable=True)
        if tap.usage is not None:
            usage = usage_from(tap.usage, host)  # the host's own figures and billed cost
        elif tap.installed or usage is None:
            # The host sent none: litellm's substitute (or ours) is an estimate; say so.
            usage = await _counted(model, kwargs, produced, usage)
        yield usage
        if finish == "function_call" or (finish == "stop" and saw_tools):
            finish = "tool_calls"
        yield Finish(finish)


async def _counted(model: ResolvedModel, kwargs: dict[str, Any], produced: list[str],
                   substitute: Usage | None) -> Usage:
    """No usage from the host (issue 18): the local server's own tokenizer, else litellm's
    substitute count, else o200k, else 4 chars a token; always marked estimated."""
    import httpx
    from realcost_agent.providers.warm import ssl_context

    from realcost_agent.providers.hosts import is_local_url
    from realcost_agent.providers.localusage import o200k_usage, server_usage

    body = {"model": model.wire_model, "messages": kwargs["messages"], "tools": kwargs.get("tools") or []}
    if model.api_base and is_local_url(model.api_base):
        async with httpx.AsyncClient(verify=ssl_context()) as client:
            usage = await server_usage(client, model.api_base, body, produced)
        if usage is not None:
            return usage
    if substitute is not None:
        return replace(substitute, estimated=True)
    return (o200k_usage(kwargs["messages"], kwargs.get("tools") or [], produced)
            or estimate_usage(kwargs["messages"], kwargs.get("tools") or (), produced))
