"""Direct streaming client for OpenAI-compatible /chat/completions over httpx.

This is the fast path: httpx imports in ~0.1 s, so the first request leaves long before litellm
could even be imported. It serves every catalogue host (OpenRouter, OpenAI, Groq, Together,
Fireworks, Cerebras, Hugging Face, local servers) and any user-given base URL.

Deltas come out in stream order; `Usage` then `Finish` are always the last two (usage is held
to the end because some servers repeat cumulative usage on every chunk).
"""
from __future__ import annotations

import asyncio
import json
import os
import re
from dataclasses import field
from typing import Any, AsyncIterator, Mapping

from realcost_agent.providers.warm import without_httpx_cli
from realcost_agent.records import record

with without_httpx_cli():  # httpx without its command-line client: a third of its import time
    import httpx

from realcost_agent.providers.base import (
    Finish, ProviderError, ReasoningDelta, ResolvedModel, StreamDelta, TextDelta, ToolCallDelta,
    Usage,
)
from realcost_agent.providers.hosts import (
    ALL_REASONING_FIELDS, GENERIC, HostProfile, is_local_url, profile_of,
)
from realcost_agent.providers.localusage import counted_usage
from realcost_agent.providers.recovery import mark_request_sent, trace_request_sent
from realcost_agent.providers.usage import estimate_usage, usage_from, usage_in_chunk
from realcost_agent.providers.wire import (
    REASONING_KEYS, error_message, is_retryable_status, one_line, parse_retry_after,
    prepare_messages, prompt_estimate, redact, request_params, status_hint, tool_params,
)

DEFAULT_IDLE_TIMEOUT = 120.0  # reasoning models can think silently for a long time
DEFAULT_CONNECT_TIMEOUT = 15.0


@record
class StreamState:
    """What one response has shown so far; decides how the stream ended."""

    host: HostProfile = GENERIC
    finish: str | None = None
    usage: Usage | None = None
    done: bool = False
    saw_tool_calls: bool = False
    reasoning_field: str | None = None
    # Everything the model produced, for a local usage estimate when the host sends none.
    produced: list[str] = field(default_factory=list)
    _ids: dict[str, int] = field(default_factory=dict)
    _last_index: int = 0

    def tool_index(self, tc: Mapping[str, Any]) -> int:
        idx = tc.get("index")
        if isinstance(idx, int):
            self._last_index = idx
            return idx
        # Some servers (older Ollama) omit `index` and send whole calls: number them by id.
        tid = tc.get("id")
        if isinstance(tid, str) and tid:
            if tid not in self._ids:
                self._ids[tid] = len(self._ids)
            self._last_index = self._ids[tid]
        return self._last_index

    def deltas(self, chunk: Mapping[str, Any]) -> list[StreamDelta]:
        """Normalize one chunk (streamed `delta` or a whole `message`)."""
        out: list[StreamDelta] = []
        usage = usage_in_chunk(chunk, self.host)
        if usage is not None:  # cumulative hosts repeat it: the last one counts
            self.usage = usage_from(usage, self.host)
        for choice in chunk.get("choices") or ():
            if not isinstance(choice, Mapping) or choice.get("index", 0) != 0:
                continue
            delta = choice.get("delta") or choice.get("message") or {}
            text, key = reasoning_text(delta, self.host)
            if text:
                if key in REASONING_KEYS:
                    self.reasoning_field = key
                self.produced.append(text)
                out.append(ReasoningDelta(text))
            content = delta.get("content")
            if isinstance(content, str) and content:
                self.produced.append(content)
                out.append(TextDelta(content))
            for tc in delta.get("tool_calls") or ():
                if not isinstance(tc, Mapping):
                    continue
                fn = tc.get("function") or {}
                args = fn.get("arguments")
                if isinstance(args, (dict, list)):  # a few servers send parsed JSON
                    args = json.dumps(args)
                self.saw_tool_calls = True
                self.produced.append((fn.get("name") or "") + (args if isinstance(args, str) else ""))
                out.append(ToolCallDelta(
                    index=self.tool_index(tc),
                    id=tc.get("id") or None, name=fn.get("name") or None,
                    arguments=args if isinstance(args, str) else "",
                ))
            if choice.get("finish_reason"):
                self.finish = str(choice["finish_reason"])
        return out

    def ending(self, body: Mapping[str, Any] | None = None) -> list[StreamDelta]:
        out: list[StreamDelta] = []
        if self.usage is None and body is not None:
            # The host sent no usage (LM Studio, a proxy that strips it): count it here.
            self.usage = estimate_usage(body.get("messages") or (), body.get("tools") or (),
                                        self.produced)
        if self.usage is not None:
            out.append(self.usage)
        reason = self.finish or ("tool_calls" if self.saw_tool_calls else "stop")
        if reason in ("function_call",) or (reason == "stop" and self.saw_tool_calls):
            reason = "tool_calls"  # some servers say "stop" after tool calls
        out.append(Finish(reason))
        return out


def reasoning_text(delta: Mapping[str, Any], host: HostProfile) -> tuple[str, str | None]:
    """The reasoning text of one delta/message and the field it came in.

    The host's own fields are tried first, then every other spelling (hosts rename them). A
    server sending two spellings sends the same text twice, so only the first is taken.
    OpenRouter's `reasoning_details` is a list of parts ({"type": "reasoning.text", "text"}).
    """
    order = tuple(host.reasoning_in) + tuple(k for k in ALL_REASONING_FIELDS if k not in host.reasoning_in)
    for key in order:
        value = delta.get(key)
        if isinstance(value, str) and value:
            return value, key
        if isinstance(value, list):
            parts = [p.get("text") or p.get("summary") or "" for p in value if isinstance(p, Mapping)]
            text = "".join(p for p in parts if isinstance(p, str))
            if text:
                return text, key
    return "", None


# llama-cpp-python's chatml-function-calling handler (abetlen/llama-cpp-python#1883), older
# llama.cpp servers ("Cannot use tools with stream", containers/ramalama#1431).
_NO_STREAM_TOOLS = re.compile(
    r"streaming tool choice is not supported|cannot use tools with stream|"
    r"tools? (?:are|is) not supported (?:with|in|when) stream", re.IGNORECASE)


def refuses_streamed_tools(message: str) -> bool:
    return bool(_NO_STREAM_TOOLS.search(message or ""))


async def sse_data(lines: AsyncIterator[str]) -> AsyncIterator[str]:
    """Yield each SSE event's data; comments (`: OPENROUTER PROCESSING`) and other fields skip."""
    buf: list[str] = []
    async for line in lines:
        line = line.rstrip("\r")
        if not line:
            if buf:
                yield "\n".join(buf)
                buf = []
            continue
        if line.startswith(":"):
            continue
        name, _, value = line.partition(":")
        if name == "data":
            buf.append(value[1:] if value.startswith(" ") else value)
    if buf:
        yield "\n".join(buf)


class OpenAICompatProvider:
    name = "direct"

    def __init__(
        self,
        *,
        env: Mapping[str, str] | None = None,
        idle_timeout: float = DEFAULT_IDLE_TIMEOUT,
        connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._env = env
        self.idle_timeout = idle_timeout
        self.connect_timeout = connect_timeout
        self._transport = transport
        # One client for https endpoints and one for plain http (a local server): the plain one
        # never speaks TLS, so it needs no CA bundle (about 45 ms of CPU to load); httpx follows
        # no redirect unless told to, so it never reaches an https URL either.
        self._clients: dict[bool, httpx.AsyncClient] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        # The reasoning field name each endpoint streamed, to echo it back the same way.
        self._seen_fields: dict[tuple[str, str | None], str] = {}
        # Endpoints that refused streamed tool calls (llama-cpp-python): asked unstreamed.
        self._no_stream_tools: set[tuple[str, str | None]] = set()

    def _http(self, url: str) -> httpx.AsyncClient:
        loop = asyncio.get_running_loop()
        if self._loop is not loop:
            # A client is bound to the loop it first ran on; a new loop needs new clients.
            self._clients, self._loop = {}, loop
        tls = not url.lower().startswith("http:")
        client = self._clients.get(tls)
        if client is None or client.is_closed:
            from realcost_agent.providers.warm import ssl_context

            verify: Any = False
            if self._transport is None and tls:
                verify = ssl_context()
            client = self._clients[tls] = httpx.AsyncClient(
                transport=self._transport,
                timeout=httpx.Timeout(self.idle_timeout, connect=self.connect_timeout),
                limits=httpx.Limits(max_keepalive_connections=8, keepalive_expiry=60),
                **({"verify": verify} if self._transport is None else {}),
            )
        return client

    async def aclose(self) -> None:
        clients, self._clients = list(self._clients.values()), {}
        for client in clients:
            if client.is_closed:
                continue
            try:
                await client.aclose()
            except RuntimeError:  # its loop is gone; nothing left to release
                pass

    def _key(self, model: ResolvedModel) -> str | None:
        if not model.api_key_env:
            return None
        env = os.environ if self._env is None else self._env
        return env.get(model.api_key_env) or None

    def reasoning_field(self, model: ResolvedModel) -> str | None:
        """The field reasoning is echoed in: the host's, or the spelling this endpoint was seen
        streaming (a server that writes `reasoning_content` only is an older version that reads
        it back too)."""
        host = profile_of(model)
        if host.reasoning_out is None or model.reasoning_field is None:
            return None
        default = model.reasoning_field or host.reasoning_out
        return self._seen_fields.get((model.backend, model.api_base), default)

    def seen_reasoning_field(self, model: ResolvedModel) -> str | None:
        """The reasoning spelling this endpoint was seen streaming (None: none yet)."""
        return self._seen_fields.get((model.backend, model.api_base))

    def build_body(self, messages: list[dict[str, Any]], tools: list[dict[str, Any]],
                   model: ResolvedModel, *, stream: bool = True) -> dict[str, Any]:
        body: dict[str, Any] = {
            "model": model.wire_model or model.litellm_id.split("/", 1)[-1],
            "messages": prepare_messages(messages, self.reasoning_field(model), profile_of(model)),
        }
        if stream:
            body["stream"] = True
            body["stream_options"] = {"include_usage": True}
        body.update(tool_params(tools, model))
        body.update(request_params(model, prompt_estimate(body["messages"], tools)))
        return body

    def _error(self, model: ResolvedModel, message: str, *, key: str | None, **kw: Any) -> ProviderError:
        return ProviderError(redact(message, [key]), backend=model.backend, model=model.label, **kw)

    async def stream(
        self, messages: list[dict[str, Any]], tools: list[dict[str, Any]], model: ResolvedModel
    ) -> AsyncIterator[StreamDelta]:
        if not model.api_base:
            raise ProviderError("no API base URL configured", backend=model.backend, model=model.label)
        key = self._key(model)
        headers = {"Content-Type": "application/json", "Accept": "text/event-stream"}
        headers.update(dict(model.extra_headers))
        if key:
            headers["Authorization"] = f"Bearer {key}"
        url = model.api_base.rstrip("/") + "/chat/completions"
        # A server that refused streamed tool calls gets them unstreamed from then on (issue 18).
        unstreamed = bool(tools) and (model.backend, model.api_base) in self._no_stream_tools
        body = self.build_body(messages, tools, model, stream=not unstreamed)
        state = StreamState(host=profile_of(model))
        try:
            client = self._http(url)
            # Time to first token runs from here, not from our set-up; the watchers are told
            # once the body is on the wire (trace_request_sent).
            mark_request_sent(on_wire_later=True)
            async with client.stream("POST", url, json=body, headers=headers,
                                     extensions={"trace": trace_request_sent}) as resp:
                if resp.status_code >= 400:
                    raw = await resp.aread()
                    status = resp.status_code
                    msg = error_message(raw, resp.reason_phrase or "error") + status_hint(status, model)
                    raise self._error(model, msg, key=key, status=status,
                                      retryable=is_retryable_status(status),
                                      retry_after=parse_retry_after(resp.headers))
                ctype = resp.headers.get("content-type", "")
                if "json" in ctype and "event-stream" not in ctype:
                    # The server ignored stream=true and answered with one completion.
                    try:
                        obj = json.loads(await resp.aread())
                    except ValueError:
                        raise self._error(model, "malformed JSON response", key=key,
                                          retryable=True) from None
                    for d in self._chunk(obj, state, model, key):
                        yield d
                    state.done = True
                else:
                    lines = sse_data(resp.aiter_lines())
                    async for data in lines:
                        if data.strip() == "[DONE]":
                            state.done = True
                            break
                        try:
                            try:
                                obj = json.loads(data)
                            except ValueError:
                                raise self._error(model, f"malformed stream chunk: {one_line(data, 80)}",
                                                  key=key, retryable=True) from None
                            chunk_deltas = self._chunk(obj, state, model, key)
                        except ProviderError as err:
                            # The response is billed even though it failed: read what is left
                            # for its usage so the ledger stays exact.
                            err.usage = await _drain_usage(lines) or state.usage
                            raise
                        for d in chunk_deltas:
                            yield d
        except ProviderError as err:
            if tools and not unstreamed and refuses_streamed_tools(err.message):
                self._no_stream_tools.add((model.backend, model.api_base))
                # Retryable at once: the resend goes unstreamed, and the retry notice says so once.
                raise self._error(model, (
                    f"the server does not stream tool calls ({one_line(err.message, 100)}); "
                    "asking without streaming for the rest of the session"),
                    key=key, retryable=True, retry_after=0.0) from None
            raise
        except (httpx.UnsupportedProtocol, httpx.InvalidURL) as exc:
            raise self._error(model, f"invalid API base URL {model.api_base!r}: {one_line(str(exc), 120)}",
                              key=key) from None
        except httpx.TimeoutException as exc:
            what = ("connect timed out" if isinstance(exc, httpx.ConnectTimeout)
                    else f"no data for {self.idle_timeout:g}s (idle timeout)")
            raise self._error(model, what, key=key, retryable=True) from None
        except httpx.ConnectError as exc:
            raise self._error(model, f"cannot connect to {model.api_base}: {one_line(str(exc), 120)}",
                              key=key, retryable=True) from None
        except (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError) as exc:
            raise self._error(model, f"connection lost: {one_line(str(exc), 120) or type(exc).__name__}",
                              key=key, retryable=True) from None
        except httpx.HTTPError as exc:
            raise self._error(model, f"{type(exc).__name__}: {one_line(str(exc), 120)}",
                              key=key, retryable=True) from None
        if not state.done and state.finish is None:
            raise self._error(model, "stream ended early", key=key, retryable=True)
        if state.reasoning_field:
            self._seen_fields[(model.backend, model.api_base)] = state.reasoning_field
        if state.usage is None:
            # No usage from the server (issue 18): its own tokenizer, o200k, else 4 chars a token.
            state.usage = await counted_usage(self._http(url), model.api_base,
                                              is_local_url(model.api_base), body, state.produced)
        for d in state.ending(body):
            yield d

    def _chunk(self, obj: Any, state: StreamState, model: ResolvedModel, key: str | None) -> list[StreamDelta]:
        if not isinstance(obj, Mapping):
            return []
        err = obj.get("error")
        if err:
            # Mid-stream error (OpenRouter sends these after a 200): classify by its code.
            code = err.get("code") if isinstance(err, Mapping) else None
            status = code if isinstance(code, int) else None
            retryable = status is None or is_retryable_status(status)
            raise self._error(model, error_message(obj, "error in stream"), key=key,
                              status=status, retryable=retryable)
        return state.deltas(obj)


DRAIN_MAX_EVENTS = 512


async def _drain_usage(lines: Any) -> Usage | None:
    """Read the rest of a failed stream (bounded) and return the usage it reports, if any."""
    usage = None
    try:
        for _ in range(DRAIN_MAX_EVENTS):
            data = await lines.__anext__()
            if data.strip() == "[DONE]":
                break
            try:
                obj = json.loads(data)
            except ValueError:
                continue
            found = usage_in_chunk(obj, GENERIC) if isinstance(obj, Mapping) else None
            if found is not None:  # a failed stream: usage in any known place counts
                usage = usage_from(found)
    except (StopAsyncIteration, httpx.HTTPError):
        pass
    return usage
