"""Token counts for a response whose server reported no usage: never a silent zero.

In order of trust (every result is marked `estimated`, in the ledger and the reports):
  1. the server's own tokenizer, where it has an endpoint for it:
     - llama.cpp: POST /apply-template (the chat template applied to the messages) then
       POST /tokenize {"content"} -> {"tokens": [...]} (tools/server/README.md);
     - vLLM: POST /tokenize {"model", "messages"} -> {"count"} (and {"prompt"} for the output);
     - llama-cpp-python: POST /extras/tokenize/count {"input"} -> {"count"} (its server has no
       chat-template endpoint: the messages' text plus a few tokens a message);
  2. the o200k tokenizer (gpt-oss's), when tiktoken and its encoding file are here offline
     (litellm ships the file);
  3. about 4 characters a token (providers/usage.estimate_usage).
Which endpoint a server answered is remembered per base URL, so a server without one is asked
once, not on every call.
"""
from __future__ import annotations

import json
import os
import threading
from typing import Any, Iterable, Mapping

from realcost_agent.providers.base import Usage
from realcost_agent.providers.usage import TOKENS_PER_MESSAGE

COUNT_TIMEOUT = 5.0
_KINDS: dict[str, str] = {}  # api_base -> "llamacpp" | "vllm" | "llama-cpp-python" | "none"
_LOCK = threading.Lock()
_ENCODING: Any = None
_ENCODING_TRIED = False


def _text_of(messages: Iterable[Mapping[str, Any]], tools: Iterable[Mapping[str, Any]]) -> str:
    parts = []
    for m in messages:
        content = m.get("content")
        parts.append(content if isinstance(content, str) else json.dumps(content or "", default=str))
        for key in ("reasoning_content", "reasoning"):
            if isinstance(m.get(key), str):
                parts.append(m[key])
        if m.get("tool_calls"):
            parts.append(json.dumps(m["tool_calls"], default=str))
    parts.extend(json.dumps(t, default=str) for t in tools)
    return "\n".join(parts)


def o200k() -> Any:
    """tiktoken's o200k_base encoding from a file already on this machine, or None (it never
    downloads: offline, or without tiktoken, the caller falls back to 4 characters a token)."""
    global _ENCODING, _ENCODING_TRIED
    with _LOCK:
        if _ENCODING_TRIED:
            return _ENCODING
        _ENCODING_TRIED = True
        try:
            import importlib.util

            import tiktoken
        except ImportError:
            return None
        spec = importlib.util.find_spec("litellm")
        cache = os.environ.get("TIKTOKEN_CACHE_DIR")
        if spec is not None and spec.origin:
            bundled = os.path.join(os.path.dirname(spec.origin), "litellm_core_utils", "tokenizers")
            # sha1 of o200k_base's URL: the name tiktoken caches it under.
            if os.path.exists(os.path.join(bundled, "fb374d419588a4632f3f557e76b4b70aebbca790")):
                cache = bundled
        if not cache or not os.path.isdir(cache):
            return None
        old = os.environ.get("TIKTOKEN_CACHE_DIR")
        os.environ["TIKTOKEN_CACHE_DIR"] = cache
        try:
            _ENCODING = tiktoken.get_encoding("o200k_base")
        except Exception:  # noqa: BLE001 - no file, a corrupt file, no network: fall back
            _ENCODING = None
        finally:
            if old is None:
                os.environ.pop("TIKTOKEN_CACHE_DIR", None)
            else:
                os.environ["TIKTOKEN_CACHE_DIR"] = old
        return _ENCODING


def o200k_usage(messages: list[Mapping[str, Any]], tools: list[Mapping[str, Any]],
                produced: Iterable[str]) -> Usage | None:
    enc = o200k()
    if enc is None:
        return None
    prompt = len(enc.encode(_text_of(messages, tools), disallowed_special=()))
    out = len(enc.encode("".join(produced), disallowed_special=()))
    return Usage(input_tokens=prompt + TOKENS_PER_MESSAGE * len(messages),
                 output_tokens=max(1, out), estimated=True)


async def _post(client: Any, url: str, body: dict[str, Any]) -> Any:
    from realcost_agent.providers.localserver import json_answer

    try:
        resp = await client.post(url, json=body, timeout=COUNT_TIMEOUT)
    except Exception:  # noqa: BLE001 - a server without the endpoint, or gone: next way
        return None
    return json_answer(resp)


async def _llamacpp(client: Any, root: str, body: Mapping[str, Any], out: str) -> Usage | None:
    tmpl = {"messages": body.get("messages") or []}
    if body.get("tools"):
        tmpl["tools"] = body["tools"]
    applied = await _post(client, f"{root}/apply-template", tmpl)
    if not isinstance(applied, Mapping) or not isinstance(applied.get("prompt"), str):
        return None
    p = await _post(client, f"{root}/tokenize", {"content": applied["prompt"], "add_special": True})
    o = await _post(client, f"{root}/tokenize", {"content": out}) if out else {"tokens": []}
    if not (isinstance(p, Mapping) and isinstance(p.get("tokens"), list)
            and isinstance(o, Mapping) and isinstance(o.get("tokens"), list)):
        return None
    return Usage(input_tokens=len(p["tokens"]), output_tokens=max(1, len(o["tokens"])),
                 estimated=True)


async def _vllm(client: Any, root: str, body: Mapping[str, Any], out: str) -> Usage | None:
    req: dict[str, Any] = {"model": body.get("model"), "messages": body.get("messages") or []}
    if body.get("tools"):
        req["tools"] = body["tools"]
    p = await _post(client, f"{root}/tokenize", req)
    if not isinstance(p, Mapping) or not isinstance(p.get("count"), int):
        return None
    o = await _post(client, f"{root}/tokenize", {"model": body.get("model"), "prompt": out,
                                                 "add_special_tokens": False}) if out else {"count": 0}
    if not isinstance(o, Mapping) or not isinstance(o.get("count"), int):
        return None
    return Usage(input_tokens=p["count"], output_tokens=max(1, o["count"]), estimated=True)


async def _llama_cpp_python(client: Any, root: str, body: Mapping[str, Any], out: str) -> Usage | None:
    msgs = list(body.get("messages") or [])
    text = _text_of(msgs, body.get("tools") or [])
    p = await _post(client, f"{root}/extras/tokenize/count", {"input": text, "model": body.get("model")})
    if not isinstance(p, Mapping) or not isinstance(p.get("count"), int):
        return None
    o = await _post(client, f"{root}/extras/tokenize/count",
                    {"input": out, "model": body.get("model")}) if out else {"count": 0}
    if not isinstance(o, Mapping) or not isinstance(o.get("count"), int):
        return None
    return Usage(input_tokens=p["count"] + TOKENS_PER_MESSAGE * len(msgs),
                 output_tokens=max(1, o["count"]), estimated=True)


_COUNTERS = {"llamacpp": _llamacpp, "vllm": _vllm, "llama-cpp-python": _llama_cpp_python}


async def server_usage(client: Any, api_base: str, body: Mapping[str, Any],
                       produced: Iterable[str]) -> Usage | None:
    """The server's own token counts for this request and what it produced; None when it has
    no tokenizer endpoint (remembered per base URL)."""
    from realcost_agent.providers.localserver import server_root

    root = server_root(api_base)
    out = "".join(produced)
    known = _KINDS.get(api_base)
    if known == "none":
        return None
    for kind in ([known] if known else list(_COUNTERS)):
        usage = await _COUNTERS[kind](client, root, body, out)
        if usage is not None:
            _KINDS[api_base] = kind
            return usage
    if known is None:
        _KINDS[api_base] = "none"
    return None


async def counted_usage(client: Any, api_base: str | None, local: bool, body: Mapping[str, Any],
                        produced: list[str]) -> Usage | None:
    """Server tokenizer (local servers only), else o200k; None: use the 4-characters estimate."""
    if local and api_base:
        usage = await server_usage(client, api_base, body, produced)
        if usage is not None:
            return usage
    return o200k_usage(list(body.get("messages") or []), list(body.get("tools") or []), produced)


def forget() -> None:
    """Tests: forget which servers have which endpoint."""
    _KINDS.clear()
