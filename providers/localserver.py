"""What a local model server says about itself: the models it serves and its real context window.

Each server tells it somewhere else (shapes recorded in tests/fakehosts.py, with sources):
  - llama.cpp `llama-server`: GET /props -> default_generation_settings.n_ctx (the slot's window,
    which is what a request must fit); its /v1/models lists the model by alias or file path,
    with meta.n_ctx on newer builds;
  - vLLM: GET /v1/models -> data[].max_model_len;
  - Ollama: GET /api/ps -> models[].context_length for a loaded model, else POST /api/show ->
    the `num_ctx` parameter, else Ollama's documented default (4096);
  - LM Studio: GET /api/v0/models -> data[].loaded_context_length / max_context_length;
  - llama-cpp-python: nothing (its overflow error names the window: agent/compaction.py).
The probe is short (a few GETs on the user's own machine, `PROBE_TIMEOUT` each, cached per base
URL and model) and never fatal: a server that answers none of them keeps the catalogue's window.

`adopt()` applies it to a resolved model: the name as the server lists it (no `openai/` prefix a
server does not know, a file-path name matched by its file name, the single served model when
the user named none) and the server's window.
"""
from __future__ import annotations

import re
from dataclasses import replace
from typing import Any, Callable, Iterable, Mapping
from urllib.parse import urlsplit, urlunsplit

from realcost_agent.providers.base import ResolvedModel
from realcost_agent.records import record

PROBE_TIMEOUT = 2.0
OLLAMA_DEFAULT_CTX = 4096  # docs.ollama.com/faq "How can I specify the context window size?"
# A window outside this range is not believed (a bad field, a placeholder 0).
_MIN_CTX, _MAX_CTX = 256, 10_000_000


@record(frozen=True)
class ServerInfo:
    models: tuple[str, ...] = ()  # ids as /v1/models lists them
    context: int | None = None  # the window a request must fit, when the server says it
    source: str = ""  # where `context` came from, for doctor
    kind: str = ""  # which server answered: llamacpp | vllm | ollama | lmstudio | ""
    reachable: bool = False


def server_root(api_base: str) -> str:
    """The server's root URL: the base without a trailing /v1 (llama.cpp's /props lives there)."""
    parts = urlsplit(api_base.rstrip("/"))
    path = re.sub(r"/v1$", "", parts.path)
    return urlunsplit((parts.scheme, parts.netloc, path, "", "")).rstrip("/")


def _ctx(value: Any) -> int | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    value = int(value)
    return value if _MIN_CTX <= value <= _MAX_CTX else None


def json_answer(resp: Any) -> Any:
    """A local server's JSON answer, or None: any status but 200, or a body that is not JSON,
    means the server does not say (the probe and the usage counts, providers/localusage.py)."""
    if resp.status_code != 200:
        return None
    try:
        return resp.json()
    except ValueError:
        return None


def _json(client: Any, method: str, url: str, **kw: Any) -> Any:
    try:
        resp = client.request(method, url, **kw)
    except Exception:  # noqa: BLE001 - any transport failure: the server does not say
        return None
    return json_answer(resp)


def _ollama_ctx(client: Any, root: str, model: str) -> tuple[int | None, str]:
    ps = _json(client, "GET", f"{root}/api/ps")
    for m in (ps or {}).get("models") or () if isinstance(ps, Mapping) else ():
        if isinstance(m, Mapping) and model in (m.get("name"), m.get("model")):
            if (n := _ctx(m.get("context_length"))) is not None:
                return n, "Ollama /api/ps context_length"
    show = _json(client, "POST", f"{root}/api/show", json={"model": model})
    if not isinstance(show, Mapping):
        return None, ""
    found = re.search(r"(?m)^\s*num_ctx\s+(\d+)", str(show.get("parameters") or ""))
    if found and (n := _ctx(int(found.group(1)))) is not None:
        return n, "Ollama /api/show num_ctx"
    return OLLAMA_DEFAULT_CTX, "Ollama's default num_ctx (the model is not loaded and sets none)"


def probe(api_base: str, model: str = "", *, host: str = "", timeout: float = PROBE_TIMEOUT,
          client: Any = None) -> ServerInfo:
    """Ask the server at `api_base` what it serves and its context window (see module doc)."""
    own = client is None
    client = client or _client_for(api_base, timeout)
    try:
        return _probe(client, api_base.rstrip("/"), model, host)
    finally:
        if own:
            client.close()


_PROXY_VARS = ("http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY")


def _client_for(api_base: str, timeout: float) -> Any:
    """The standard library's client for plain http with no proxy in the environment (what a
    local server almost always is); httpx otherwise (TLS, a proxy, credentials in the URL)."""
    import os

    parts = urlsplit(api_base)
    if parts.scheme.lower() == "http" and parts.hostname and not parts.username \
            and not any(os.environ.get(v) for v in _PROXY_VARS):
        try:
            return _PlainHttp(parts.hostname, parts.port or 80, timeout)
        except ValueError:  # a port out of range: let httpx say what is wrong
            pass
    import httpx
    from realcost_agent.providers.warm import ssl_context

    # httpx follows no redirect by default, so a plain-http client never reaches an https URL.
    verify = ssl_context() if parts.scheme.lower() == "https" else False
    return httpx.Client(timeout=timeout, verify=verify)


class _PlainHttp:
    """The probe's few requests over one kept-alive `http.client` connection. Same answers as
    httpx for them (no redirects followed, `timeout` per socket operation), at a tenth of the
    CPU per request: the probe runs on the way to the session's first request (issue 19)."""

    def __init__(self, host: str, port: int, timeout: float) -> None:
        import http.client

        self._http = http.client
        self._conn = http.client.HTTPConnection(host, port, timeout=timeout)

    def request(self, method: str, url: str, json: Any = None) -> "_Answer":
        import json as jsonlib

        parts = urlsplit(url)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        headers = {"Accept": "application/json"}
        body = None
        if json is not None:
            body = jsonlib.dumps(json).encode()
            headers["Content-Type"] = "application/json"
        try:
            self._conn.request(method, target, body=body, headers=headers)
            resp = self._conn.getresponse()
            return _Answer(resp.status, resp.read())
        except (self._http.HTTPException, OSError):
            self._conn.close()  # the next request opens a fresh connection
            raise

    def close(self) -> None:
        self._conn.close()


class _Answer:
    def __init__(self, status: int, body: bytes) -> None:
        self.status_code = status
        self._body = body

    def json(self) -> Any:
        import json as jsonlib

        return jsonlib.loads(self._body)  # ValueError (JSONDecodeError, UnicodeDecodeError)


def _probe(client: Any, base: str, model: str, host: str) -> ServerInfo:
    root = server_root(base)
    listing = _json(client, "GET", f"{base}/models")
    entries = [e for e in (listing or {}).get("data") or () if isinstance(e, Mapping)] \
        if isinstance(listing, Mapping) else []
    ids = tuple(str(e.get("id")) for e in entries if e.get("id"))
    reachable = listing is not None
    name = served_name(model, ids) or (ids[0] if len(ids) == 1 else model)
    entry = next((e for e in entries if e.get("id") == name), None)
    info = ServerInfo(ids, reachable=reachable)
    # vLLM: max_model_len on the model entry (also read by any server copying the field).
    if entry is not None and (n := _ctx(entry.get("max_model_len"))) is not None:
        return replace(info, context=n, source="vLLM /v1/models max_model_len", kind="vllm")
    if host in ("", "generic", "llamacpp"):
        props = _json(client, "GET", f"{root}/props")
        if isinstance(props, Mapping):
            dgs = props.get("default_generation_settings")
            n = _ctx(dgs.get("n_ctx")) if isinstance(dgs, Mapping) else None
            n = n or _ctx(props.get("n_ctx"))
            if n is not None:
                return replace(info, context=n, source="llama.cpp /props n_ctx", kind="llamacpp",
                               reachable=True)
        if entry is not None and isinstance(entry.get("meta"), Mapping):
            if (n := _ctx(entry["meta"].get("n_ctx"))) is not None:
                return replace(info, context=n, source="llama.cpp /v1/models meta.n_ctx",
                               kind="llamacpp")
    if host in ("", "generic", "lmstudio"):
        v0 = _json(client, "GET", f"{root}/api/v0/models")
        rows = (v0 or {}).get("data") if isinstance(v0, Mapping) else None
        for row in rows or ():
            if isinstance(row, Mapping) and row.get("id") == name:
                n = _ctx(row.get("loaded_context_length")) or _ctx(row.get("max_context_length"))
                if n is not None:
                    return replace(info, context=n, source="LM Studio /api/v0/models",
                                   kind="lmstudio", reachable=True)
    if host in ("", "generic", "ollama") and name:
        n, source = _ollama_ctx(client, root, name)
        if n is not None:
            return replace(info, context=n, source=source, kind="ollama", reachable=True)
    return info


def served_name(name: str, ids: Iterable[str]) -> str | None:
    """`name` as the server lists it: exact, without a litellm `openai/` prefix, or a file-path
    id matched by its file name (with or without .gguf), case-insensitively. None: not served."""
    ids = list(ids)
    if not name:
        return None
    if name in ids:
        return name
    bare = name.removeprefix("openai/")
    if bare in ids:
        return bare

    def stem(s: str) -> str:
        s = s.replace("\\", "/").rsplit("/", 1)[-1].lower()
        return s[:-5] if s.endswith(".gguf") else s

    matches = [i for i in ids if stem(i) == stem(bare)]
    return matches[0] if len(matches) == 1 else None


# -- applying it to a model ----------------------------------------------------------------------
_CACHE: dict[tuple[str, str], ServerInfo] = {}


def clear_cache() -> None:
    _CACHE.clear()


def cached_probe(api_base: str, model: str, host: str) -> ServerInfo:
    key = (api_base.rstrip("/"), model)
    if key not in _CACHE:
        _CACHE[key] = probe(api_base, model, host=host)
    return _CACHE[key]


def adopt(model: ResolvedModel, *, named: bool,
          resolve: Callable[[str], ResolvedModel] | None = None,
          probe_fn: Callable[[str, str, str], ServerInfo] = cached_probe) -> ResolvedModel:
    """`model` with the local server's own name for it and its real context window.

    Only for an OpenAI-compatible model at a loopback/private base URL. `named`: the user gave
    the model (else the single served model is used). `resolve` re-resolves a served name (to
    get that model's own params); without it only the wire name changes.
    """
    from realcost_agent.providers.hosts import is_local_url, profile_of

    if not (model.openai_compatible and model.api_base and is_local_url(model.api_base)):
        return model
    info = probe_fn(model.api_base, model.wire_model, profile_of(model).name)
    if not info.reachable:
        return model
    name = served_name(model.wire_model, info.models)
    if name is None and not named and len(info.models) == 1:
        name = info.models[0]
    if name is not None and name != model.wire_model:
        # A raw name (or the profile picked by default) takes the served model's own params; a
        # profile the user named keeps its params under the server's name for it.
        model = _rename(model, name)
        if resolve is not None and (model.profile is None or not named):
            try:
                model = resolve(name)
            except ValueError:
                pass
    if info.context is not None:
        model = replace(model, context_window=info.context)
    return model


def _rename(model: ResolvedModel, name: str) -> ResolvedModel:
    return replace(model, wire_model=name, litellm_id=f"openai/{name}",
                   display="" if model.profile else name)


def adopt_for(model: ResolvedModel, settings: Any, env: Mapping[str, str] | None, spec: str,
              *, named: bool | None = None) -> ResolvedModel:
    """`adopt` for a model the agent resolved from `spec` under `settings` (agent.config):
    named when the spec is the user's own --model (not "auto", not a routing tier)."""
    from realcost_agent.providers.catalogue import resolve_model

    if named is None:
        chosen = getattr(settings, "model", "") or ""
        named = chosen not in ("", "auto") and spec == chosen
    kwargs = settings.model_kwargs() if hasattr(settings, "model_kwargs") else {}
    return adopt(model, named=named, resolve=lambda n: resolve_model(n, **kwargs, env=env))
