"""`agent doctor`: check each configured backend and say exactly what to fix.

For every backend that is configured (a key is set, it is the configured --backend, or an
--api-base is given), in order, stopping at the first failure of each:
  key        the key variable is set (keys are never printed, only their variable names);
  reachable  GET {api_base}/models answers (short timeout), and accepts the key;
  listed     each profile's model name on that backend is in the list;
  tool call  a tool-call round trip: a tiny streamed request offering a `ping` tool gets a
             `ping` call back, then its result goes back (with the model's reasoning, as the
             agent sends it) and the model answers (two real requests: a fraction of a cent on
             paid backends; --no-call skips them). Known gpt-oss server misconfigurations
             (vLLM without tool calling, llama.cpp without --jinja, Ollama's native route) are
             recognised by the server's error text and named with the fix
             (cli/doctor_hosts.py), and the reasoning field the server uses is reported.
First, one line says whether commands run in the bubblewrap sandbox, and how to fix it if not
(it does not change the exit code).
Backends that are not configured get one line saying how to configure them.
Exit code: 0 all checks passed · 1 something failed · 2 nothing is configured.
"""
from __future__ import annotations

import argparse
import asyncio
import sys
from dataclasses import replace
from typing import Any, Iterable, Mapping, Sequence, TextIO

from realcost_agent.providers.base import ResolvedModel
from realcost_agent.records import record

GET_TIMEOUT = 5.0
CALL_TIMEOUT = 60.0
PING_TOOL = {"type": "function", "function": {
    "name": "ping", "description": "Answer a health check. Call it when asked to.",
    "parameters": {"type": "object", "properties": {}, "additionalProperties": False}}}
PING_MESSAGES = [
    {"role": "system", "content": "You are a health check. Call the ping tool, nothing else."},
    {"role": "user", "content": "Call the ping tool now."},
]


@record(frozen=True)
class Target:
    name: str
    title: str
    models: tuple[ResolvedModel, ...]  # the profiles it serves, resolved for it
    key_envs: tuple[str, ...] = ()
    key_required: bool = False
    key_url: str = ""
    configured: bool = True
    hint: str = ""  # how to configure it, for the "not configured" line

    @property
    def api_base(self) -> str:
        return (self.models[0].api_base or "") if self.models else ""


@record(frozen=True)
class Finding:
    target: str
    step: str  # "key" | "reachable" | "listed" | "tool_call" | "configured"
    ok: bool | None  # None: skipped / not configured
    message: str

    def line(self) -> str:
        mark = {True: "✓", False: "✗", None: "–"}[self.ok]
        return f"{mark} {self.target}: {self.message}"


def targets(settings: Any, env: Mapping[str, str], *, include_all: bool = False) -> list[Target]:
    """The catalogue's backends (or the one --api-base endpoint), marked configured or not."""
    from realcost_agent.providers.catalogue import BACKENDS, CUSTOM_KEY_ENV, PROFILES, resolve_model, setup_hints

    if settings.api_base:
        specs = list(PROFILES) if settings.model in (None, "", "auto") else [settings.model]
        kwargs = settings.model_kwargs() if hasattr(settings, "model_kwargs") else {
            "backend": settings.backend, "api_base": settings.api_base}
        models = tuple(resolve_model(s, **kwargs, env=env) for s in specs)
        models = _served_models(models, kwargs, env, named=settings.model not in (None, "", "auto"))
        return [Target(models[0].backend, settings.api_base, models, (CUSTOM_KEY_ENV,))]
    hints = {h.backend: h.line for h in setup_hints(env)}
    out = []
    for name, b in BACKENDS.items():
        has_key = any(env.get(k) for k in b.key_envs)
        configured = include_all or settings.backend == name or (has_key and not b.local)
        models = tuple(resolve_model(p, backend=name, env=env) for p in b.models)
        out.append(Target(name, b.title, models, b.key_envs, b.key_required, b.key_url,
                          configured, hints.get(name, "")))
    return out


def _served_models(models: tuple[ResolvedModel, ...], kwargs: Mapping[str, Any],
                   env: Mapping[str, str], *, named: bool) -> tuple[ResolvedModel, ...]:
    """A local server's own names for the models (issue 18): no `openai/` prefix it does not
    list, the single model it serves when none was named; duplicates dropped."""
    from realcost_agent.providers.catalogue import resolve_model
    from realcost_agent.providers.localserver import adopt

    out: list[ResolvedModel] = []
    for m in models:
        m = adopt(m, named=named, resolve=lambda n: resolve_model(n, **kwargs, env=env))
        if all(o.wire_model != m.wire_model for o in out):
            out.append(m)
    return tuple(out)


async def check_target(t: Target, env: Mapping[str, str], *, call: bool = True,
                       get_timeout: float = GET_TIMEOUT,
                       call_timeout: float = CALL_TIMEOUT,
                       user_bases: Sequence[str] | None = None) -> list[Finding]:
    """`user_bases`: base URLs the user set (agent.trust.key_bases); a key goes only to its own
    catalogue host or one of these. None: the target's own base counts as the user's (callers
    that built the target themselves); `agent doctor` always passes them."""
    import httpx
    from realcost_agent.providers.warm import ssl_context

    from realcost_agent.providers.keyroute import catalogue_origins, origin

    if not t.configured:
        return [Finding(t.name, "configured", None, f"not configured · {t.hint}")]
    key_env = next((k for k in t.key_envs if env.get(k)), None)
    if t.key_required and key_env is None:
        where = f" (get one at {t.key_url})" if t.key_url else ""
        return [Finding(t.name, "key", False,
                        f"no key: export {t.key_envs[0]}=...{where}")]
    dest = origin(t.api_base)
    if user_bases is None:
        user_bases = (t.api_base,)
    if key_env and dest not in catalogue_origins(key_env) | {origin(b) for b in user_bases}:
        return [Finding(t.name, "key", False,
                        f"refusing to send {key_env} to {dest}: not its own host and not a base URL "
                        "you set (an untrusted project's api_base is ignored)")]
    found = [Finding(t.name, "key", True,
                     f"key in {key_env}, sent only to {dest}" if key_env else f"no key needed · {dest}")]
    if t.models:
        from realcost_agent.cli.doctor_hosts import host_line
        from realcost_agent.providers.hosts import guess_host, profile_of

        model, host = t.models[0], profile_of(t.models[0])
        # Named by api_host: a custom URL whose host is not what the URL alone suggests.
        explicit = (model.backend == "openai-compatible" and host.name != "generic"
                    and host is not guess_host(model.api_base))
        found.append(Finding(t.name, "host", None,
                             host_line(host, t.api_base, host.name if explicit else None)))
    headers = {"Authorization": f"Bearer {env[key_env]}"} if key_env else {}
    url = t.api_base.rstrip("/") + "/models"
    try:
        async with httpx.AsyncClient(timeout=get_timeout, verify=ssl_context()) as client:
            resp = await client.get(url, headers=headers)
    except httpx.HTTPError as exc:
        what = type(exc).__name__
        fix = ("start the server (" + t.title + ")" if not t.key_required
               else "check your network, proxy and the API base URL")
        return [*found, Finding(t.name, "reachable", False, f"cannot reach {url} ({what}): {fix}")]
    if resp.status_code in (401, 403):
        return [*found, Finding(t.name, "reachable", False,
                                f"{url} refused the key in {key_env or '(none sent)'} "
                                f"(HTTP {resp.status_code}): check or replace that key")]
    ids: set[str] | None = None
    if resp.status_code == 200:
        try:
            ids = {str(m.get("id")) for m in resp.json().get("data", [])}
        except (ValueError, AttributeError):
            ids = None
        found.append(Finding(t.name, "reachable", True, f"{url} answers"))
        if ids is not None and not t.key_required:
            # A local server: say what it serves and what it told about its window (issue 18).
            found.extend(_served_findings(t, ids))
    else:
        from realcost_agent.cli.doctor_hosts import diagnose

        diag = diagnose(resp.status_code, resp.text, t.api_base)
        if diag is not None:
            return [*found, Finding(t.name, "reachable", False, diag.message)]
        found.append(Finding(t.name, "reachable", None,
                             f"{url} answered HTTP {resp.status_code}: cannot list its models"))
    for model in t.models:
        label = f"{model.label} ({model.wire_model})" if model.wire_model != model.label else model.label
        if ids is not None and model.wire_model not in ids:
            fix = (f"pull or serve it under that name ({t.title})" if not t.key_required
                   else "this backend does not offer it under that name: pick another backend "
                   "for it (--backend) or check the model name")
            if not t.key_required and ids:
                fix = _suggest(model.wire_model, ids) + "; or " + fix
            found.append(Finding(t.name, "listed", False, f"{label} is not listed: {fix}"))
            continue
        if ids is not None:
            found.append(Finding(t.name, "listed", True, f"{label} is listed"))
        if call:
            found.extend(await _tool_call(t, model, env, call_timeout, user_bases))
    return found


async def _tool_call(t: Target, model: ResolvedModel, env: Mapping[str, str],
                     timeout: float, user_bases: Sequence[str]) -> list[Finding]:
    """The round trip: ping call, then its result back (as the agent sends it), then an answer."""
    from realcost_agent.cli.doctor_hosts import diagnose, reasoning_note
    from realcost_agent.providers.base import ProviderError, ReasoningDelta, ToolCallDelta
    from realcost_agent.providers.factory import make_provider
    from realcost_agent.providers.hosts import profile_of
    from realcost_agent.providers.keyroute import KeyRouteError

    # The ping needs little room: a small cap, so even a model that never stops is bounded
    # in tokens as well as by `timeout` (issue 18).
    model = replace(model, params=replace(model.params, max_output_tokens=min(
        model.params.max_output_tokens or PING_MAX_TOKENS, PING_MAX_TOKENS)))
    try:
        provider = make_provider(model, env=env, user_bases=tuple(user_bases))
    except KeyRouteError as exc:
        return [Finding(t.name, "tool_call", False, f"{model.label}: {exc}")]
    names: dict[int, str] = {}
    ids: dict[int, str] = {}
    notes: list[str] = []
    reasoning: list[str] = []
    answered: list[bool] = []

    async def collect(messages: list[dict[str, Any]]) -> None:
        try:
            await collect_once(messages)
        except ProviderError as exc:
            # A server that refuses streamed tool calls is asked again unstreamed (issue 18).
            if not (exc.retryable and "without streaming" in exc.message):
                raise
            notes.append(exc.message)
            await collect_once(messages)

    async def collect_once(messages: list[dict[str, Any]]) -> None:
        async for delta in provider.stream(messages, [PING_TOOL], model):
            if isinstance(delta, ToolCallDelta):
                if delta.name:
                    names[delta.index] = names.get(delta.index, "") + delta.name
                if delta.id:
                    ids[delta.index] = delta.id
            elif isinstance(delta, ReasoningDelta):
                reasoning.append(delta.text)
            answered.append(True)

    def failed(exc: ProviderError, step: str) -> list[Finding]:
        diag = diagnose(exc.status, exc.message, model.api_base or "", model.wire_model)
        text = diag.message if diag else f"the request failed: {exc.line()}"
        return [Finding(t.name, "tool_call", False, f"{model.label}: {step}{text}")]

    try:
        try:
            await asyncio.wait_for(collect(PING_MESSAGES), timeout)
        except ProviderError as exc:
            return failed(exc, "")
        if "ping" not in names.values():
            got = ", ".join(sorted(set(names.values()))) or "no tool call"
            return [Finding(t.name, "tool_call", False,
                            f"{model.label}: asked to call `ping`, got {got}: {no_call_hint(model)}")]
        index = next(i for i, n in names.items() if n == "ping")
        call_id = ids.get(index) or "call_doctor_ping"
        # Stored as agent/turn.py stores it: content None, reasoning as reasoning_content.
        history = [*PING_MESSAGES, {
            "role": "assistant", "content": None, "reasoning_content": "".join(reasoning),
            "tool_calls": [{"id": call_id, "type": "function",
                            "function": {"name": "ping", "arguments": "{}"}}]},
            {"role": "tool", "tool_call_id": call_id, "content": "pong"}]
        try:
            await asyncio.wait_for(collect(history), timeout)
        except ProviderError as exc:
            return failed(exc, "the tool result was refused: ")
    except TimeoutError:
        return [Finding(t.name, "tool_call", False,
                        f"{model.label}: no answer within {timeout:g}s: the server is overloaded "
                        "or the model is still loading; try again")]
    finally:
        await provider.aclose()
    host = profile_of(model)
    seen = getattr(provider, "seen_reasoning_field", lambda m: None)(model)
    echoed = getattr(provider, "reasoning_field", lambda m: model.reasoning_field)(model)
    ok, note = reasoning_note(host, seen, echoed, bool("".join(reasoning)))
    how = " (unstreamed: the server refuses streamed tool calls)" if notes else ""
    return [Finding(t.name, "tool_call", True, f"{model.label}: tool call round trip works{how}"),
            Finding(t.name, "reasoning", ok, f"{model.label}: {note}")]


PING_MAX_TOKENS = 2_048


def no_call_hint(model: ResolvedModel) -> str:
    """Why a server that accepted the tools got no `ping` call back, per host: the server took
    the request with tools, so llama.cpp's --jinja and vLLM's --enable-auto-tool-choice are on
    (without them it answers with an error, which `diagnose` names)."""
    from realcost_agent.providers.hosts import is_local_url, profile_of

    host = profile_of(model).name
    if host == "generic" and is_local_url(model.api_base):
        from realcost_agent.providers.localserver import cached_probe

        host = cached_probe(model.api_base or "", model.wire_model, "").kind or host  # what answered
    if host == "vllm":
        return ("the server accepted the tools; check its tool-call parser (gpt-oss: "
                "--tool-call-parser openai) or use a model trained for tool calls")
    if host in ("llamacpp", "ollama", "lmstudio"):
        return ("the server accepted the tools, so the model itself did not call it: use a model "
                "trained for tool calls (gpt-oss); small models often answer in text instead")
    return ("tool calling does not work with this model here (vLLM: --enable-auto-tool-choice "
            "--tool-call-parser openai; llama.cpp: --jinja)")


def _suggest(name: str, ids: set[str]) -> str:
    import difflib

    from realcost_agent.providers.localserver import served_name

    close = served_name(name, ids) or next(iter(difflib.get_close_matches(
        name.removeprefix("openai/"), sorted(ids), n=1, cutoff=0.3)), None)
    if close is None and len(ids) == 1:
        close = next(iter(ids))
    return f"use --model {close}" if close else f"use --model with one of: {', '.join(sorted(ids)[:5])}"


def _served_findings(t: Target, ids: set[str]) -> list[Finding]:
    from realcost_agent.providers.localserver import cached_probe

    shown = ", ".join(sorted(ids)[:8]) + (f" (+{len(ids) - 8} more)" if len(ids) > 8 else "")
    out = [Finding(t.name, "served", None, f"serves {len(ids)} model(s): {shown or 'none'}")]
    model = t.models[0] if t.models else None
    if model is not None and model.wire_model in ids:
        from realcost_agent.providers.hosts import is_local_url

        if is_local_url(t.api_base):
            info = cached_probe(t.api_base, model.wire_model, "")
            if info.context is not None:
                out.append(Finding(t.name, "context", None,
                                   f"context window {info.context:,} tokens ({info.source})"))
    return out


def sandbox_finding(setting: str = "auto") -> Finding:
    """Whether commands will run in the bubblewrap sandbox here, and how to fix it if not."""
    from realcost_agent.agent.safety.sandbox import fix_hint, unavailable_reason

    if setting == "off":
        return Finding("sandbox", "sandbox", None,
                       "off (sandbox = \"off\"): commands run unsandboxed, with your files writable")
    reason = unavailable_reason()
    if reason is None:
        return Finding("sandbox", "sandbox", True,
                       "bubblewrap works: commands and checks run sandboxed")
    return Finding("sandbox", "sandbox", False,
                   f"commands run UNSANDBOXED: {reason}. Fix: {fix_hint(reason)}")


async def run_doctor(ts: Iterable[Target], env: Mapping[str, str], out: TextIO, *,
                     call: bool = True, get_timeout: float = GET_TIMEOUT,
                     call_timeout: float = CALL_TIMEOUT, user_bases: Sequence[str] | None = None) -> int:
    from realcost_agent.agent.secrets import Redactor

    redact = Redactor(env)  # a server may echo what it was sent; keys never reach the screen
    configured = failed = 0
    for t in ts:
        found = await check_target(t, env, call=call, get_timeout=get_timeout,
                                   call_timeout=call_timeout, user_bases=user_bases)
        configured += t.configured
        failed += any(f.ok is False for f in found)
        for f in found:
            out.write(redact(f.line()) + "\n")
    if not configured:
        out.write("nothing is configured: set one of the keys above, or pass --api-base URL\n")
        return 2
    return 1 if failed else 0


def main(argv: Sequence[str]) -> int:
    import os

    from realcost_agent.cli.main import flags_from, root_from
    from realcost_agent.agent.config import ConfigError, load_settings

    p = argparse.ArgumentParser(prog="agent doctor", description=__doc__.split("\n\n")[0],
                                epilog="exit codes: 0 all passed · 1 something failed · "
                                "2 nothing configured")
    p.add_argument("--backend", help="check only this backend")
    p.add_argument("--api-base", help="check this OpenAI-compatible endpoint")
    p.add_argument("--api-host", metavar="HOST", help="the server behind --api-base (vllm, ollama, llamacpp, ...)")
    p.add_argument("-m", "--model", help="with --api-base: the model to check (default: the three profiles)")
    p.add_argument("-C", "--cd", metavar="DIR", help="project directory (for its config)")
    p.add_argument("--all", action="store_true", help="also check backends that are not configured")
    p.add_argument("--no-call", action="store_true", help="skip the tool-call round trip (no request is billed)")
    p.add_argument("--trust", action="store_true", help="apply the project's settings that need trust")
    args = p.parse_args(list(argv))
    for name in ("approval", "provider", "sandbox"):
        setattr(args, name, None)
    from realcost_agent.agent.trust import key_bases

    warnings: list[str] = []
    try:
        settings = load_settings(root_from(args), flags=flags_from(args), warnings=warnings,
                                 trust=True if args.trust else None)
        ts = targets(settings, os.environ, include_all=args.all)
    except (ConfigError, ValueError) as exc:
        print(f"agent doctor: error: {exc}", file=sys.stderr)
        return 2
    if args.backend and not args.api_base:
        from realcost_agent.providers.catalogue import backend_name

        name = backend_name(args.backend)
        ts = [t for t in ts if t.name == name]
        if not ts:
            print(f"agent doctor: error: unknown backend {args.backend!r}", file=sys.stderr)
            return 2
        ts = [Target(**{**t.__dict__, "configured": True}) for t in ts]
    for w in warnings:
        print(f"warning: {w}", file=sys.stderr)
    print(sandbox_finding(settings.sandbox).line())
    return asyncio.run(run_doctor(ts, os.environ, sys.stdout, call=not args.no_call,
                                  user_bases=key_bases(settings)))
