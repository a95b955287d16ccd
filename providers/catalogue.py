"""The model catalogue: three profiles, the backends that serve them, and `resolve_model`.

A *profile* (gpt-oss-20b, gpt-oss-120b, o4-mini) fixes the request parameters; a *backend*
(openrouter, groq, ...) fixes where the request goes, which key it needs and the model's name
there. Everything here is static data plus pure functions: no litellm, no network, no env reads
unless a mapping is passed (or os.environ by default in `resolve_model`).
"""
from __future__ import annotations

import difflib
import os
import re
from dataclasses import replace
from types import MappingProxyType
from typing import Mapping

from realcost_agent.providers.base import ModelParams, ResolvedModel
from realcost_agent.records import record

DEFAULT_BACKEND = "openrouter"
DEFAULT_CONTEXT_WINDOW = 131_072
# Backend name for "any spec at a user-given OpenAI-compatible base URL".
CUSTOM_BACKEND = "openai-compatible"
CUSTOM_KEY_ENV = "OPENAI_COMPAT_API_KEY"


@record(frozen=True)
class Profile:
    name: str
    description: str
    params: ModelParams
    context_window: int


# gpt-oss output cap stays under every host's limit (Groq allows 32766 for 120b).
_GPT_OSS_MAX_OUT = 16_384

PROFILES: Mapping[str, Profile] = MappingProxyType(
    {
        "gpt-oss-20b": Profile(
            "gpt-oss-20b",
            "OpenAI open-weight 21B MoE: fast and cheap, runs locally in 16 GB",
            ModelParams(reasoning_effort="low", max_output_tokens=_GPT_OSS_MAX_OUT),
            131_072,
        ),
        "gpt-oss-120b": Profile(
            "gpt-oss-120b",
            "OpenAI open-weight 117B MoE: the strongest open model here",
            ModelParams(reasoning_effort="medium", max_output_tokens=_GPT_OSS_MAX_OUT),
            131_072,
        ),
        "o4-mini": Profile(
            "o4-mini",
            "OpenAI o4-mini: hosted reasoning model (no temperature; reasoning is hidden)",
            ModelParams(
                supports_temperature=False,
                max_tokens_field="max_completion_tokens",
                reasoning_effort="medium",
                max_output_tokens=32_768,
            ),
            200_000,
        ),
    }
)


@record(frozen=True)
class Backend:
    name: str
    title: str
    key_envs: tuple[str, ...]  # accepted env vars, preferred first; () = no key at all
    api_base: str
    # profile -> (litellm id, model name on the wire)
    models: Mapping[str, tuple[str, str]]
    key_required: bool = True
    reasoning_field: str | None = "reasoning"
    parallel_tool_calls: bool | None = None
    local: bool = False
    key_url: str = ""
    extra_headers: tuple[tuple[str, str], ...] = ()

    @property
    def profiles(self) -> tuple[str, ...]:
        return tuple(self.models)


def _m(**pairs: tuple[str, str]) -> Mapping[str, tuple[str, str]]:
    return MappingProxyType({k.replace("_", "-"): v for k, v in pairs.items()})


def _gpt_oss(prefix: str, wire: str, sizes: tuple[str, ...] = ("20b", "120b")):
    """litellm ids and wire names for the gpt-oss sizes a host serves; {s} is the size."""
    return {
        f"gpt_oss_{s}": (f"{prefix}{wire.format(s=s)}", wire.format(s=s)) for s in sizes
    }


BACKENDS: Mapping[str, Backend] = MappingProxyType(
    {
        "openrouter": Backend(
            "openrouter", "OpenRouter (one key for all three models)", ("OPENROUTER_API_KEY",),
            "https://openrouter.ai/api/v1",
            _m(**_gpt_oss("openrouter/", "openai/gpt-oss-{s}"),
               o4_mini=("openrouter/openai/o4-mini", "openai/o4-mini")),
            parallel_tool_calls=True, key_url="https://openrouter.ai/keys",
            # OpenRouter's app attribution headers; harmless elsewhere, sent only here.
            extra_headers=(("X-Title", "agent"),),
        ),
        "openai": Backend(
            "openai", "OpenAI", ("OPENAI_API_KEY",), "https://api.openai.com/v1",
            _m(o4_mini=("openai/o4-mini", "o4-mini")),
            # Chat Completions returns no reasoning text and rejects unknown message fields.
            reasoning_field=None, key_url="https://platform.openai.com/api-keys",
        ),
        "groq": Backend(
            "groq", "Groq", ("GROQ_API_KEY",), "https://api.groq.com/openai/v1",
            _m(**_gpt_oss("groq/", "openai/gpt-oss-{s}")),
            parallel_tool_calls=True, key_url="https://console.groq.com/keys",
        ),
        "together": Backend(
            "together", "Together AI", ("TOGETHER_API_KEY", "TOGETHERAI_API_KEY"),
            "https://api.together.xyz/v1",
            _m(**_gpt_oss("together_ai/", "openai/gpt-oss-{s}")),
            key_url="https://api.together.ai/settings/api-keys",
        ),
        "fireworks": Backend(
            "fireworks", "Fireworks AI", ("FIREWORKS_API_KEY",),
            "https://api.fireworks.ai/inference/v1",
            _m(**_gpt_oss("fireworks_ai/", "accounts/fireworks/models/gpt-oss-{s}")),
            reasoning_field="reasoning_content", key_url="https://fireworks.ai/account/api-keys",
        ),
        "cerebras": Backend(
            "cerebras", "Cerebras", ("CEREBRAS_API_KEY",), "https://api.cerebras.ai/v1",
            _m(**_gpt_oss("cerebras/", "gpt-oss-{s}", sizes=("120b",))),
            key_url="https://cloud.cerebras.ai",
        ),
        "huggingface": Backend(
            "huggingface", "Hugging Face Inference Providers", ("HF_TOKEN", "HUGGINGFACE_API_KEY"),
            "https://router.huggingface.co/v1",
            _m(**_gpt_oss("huggingface/", "openai/gpt-oss-{s}")),
            key_url="https://huggingface.co/settings/tokens",
        ),
        # Local servers: the litellm path reaches them as generic OpenAI-compatible endpoints.
        "local": Backend(
            "local", "Ollama on this machine (ollama pull gpt-oss:20b)", ("OLLAMA_API_KEY",),
            "http://localhost:11434/v1",
            _m(**_gpt_oss("openai/", "gpt-oss:{s}")), key_required=False, local=True,
        ),
        "vllm": Backend(
            "vllm", "vLLM server (vllm serve openai/gpt-oss-20b)", ("VLLM_API_KEY",),
            "http://localhost:8000/v1",
            _m(**_gpt_oss("openai/", "openai/gpt-oss-{s}")), key_required=False, local=True,
            reasoning_field="reasoning_content",
        ),
        "llamacpp": Backend(
            "llamacpp", "llama.cpp server (llama-server -hf ggml-org/gpt-oss-20b-GGUF)", (),
            "http://localhost:8080/v1",
            _m(**_gpt_oss("openai/", "gpt-oss-{s}")), key_required=False, local=True,
            reasoning_field="reasoning_content",
        ),
        "lmstudio": Backend(
            "lmstudio", "LM Studio server", (), "http://localhost:1234/v1",
            _m(**_gpt_oss("openai/", "openai/gpt-oss-{s}")), key_required=False, local=True,
        ),
    }
)

# Order in which a backend is picked for a profile when none is named: the first with a key set.
_PREFERENCE = ("openrouter", "openai", "groq", "cerebras", "together", "fireworks", "huggingface")
_ALIASES = MappingProxyType({"ollama": "local", "together_ai": "together", "fireworks_ai": "fireworks",
                             "hf": "huggingface", "llama.cpp": "llamacpp", "lm_studio": "lmstudio",
                             "custom": CUSTOM_BACKEND})


def backend_name(name: str) -> str:
    """The backend a name stands for: litellm's names and old spellings map to ours."""
    return _ALIASES.get(name, name)


# litellm prefixes of hosts we reach directly over OpenAI-compatible HTTP.
_COMPAT_PREFIXES = MappingProxyType({
    "openrouter": "openrouter", "openai": "openai", "groq": "groq", "together_ai": "together",
    "fireworks_ai": "fireworks", "cerebras": "cerebras", "huggingface": "huggingface",
    "ollama": "local", "ollama_chat": "local", "hosted_vllm": "vllm", "lm_studio": "lmstudio",
})
_LOCAL_PREFIXES = frozenset({"ollama", "ollama_chat", "hosted_vllm", "lm_studio"})
# Key variables of common litellm-only providers, so `missing_key` can name them.
_LITELLM_KEYS = MappingProxyType({
    "anthropic": "ANTHROPIC_API_KEY", "gemini": "GEMINI_API_KEY", "mistral": "MISTRAL_API_KEY",
    "deepseek": "DEEPSEEK_API_KEY", "xai": "XAI_API_KEY", "azure": "AZURE_API_KEY",
    "cohere": "COHERE_API_KEY", "deepinfra": "DEEPINFRA_API_KEY", "perplexity": "PERPLEXITYAI_API_KEY",
})
_OPENAI_NAMES = re.compile(r"^(gpt-|o\d|chatgpt-|codex-)")


class UnknownModelError(ValueError):
    """The spec or backend can't be resolved; `str()` is a one-line user message."""


def _key_env(backend: Backend, env: Mapping[str, str]) -> str | None:
    for name in backend.key_envs:
        if env.get(name):
            return name
    return backend.key_envs[0] if backend.key_envs else None


def _has_key(backend: Backend, env: Mapping[str, str]) -> bool:
    return not backend.key_required or any(env.get(n) for n in backend.key_envs)


def _pick_backend(profile: str, env: Mapping[str, str]) -> Backend:
    for name in _PREFERENCE:
        b = BACKENDS[name]
        if profile in b.models and _has_key(b, env):
            return b
    return BACKENDS[DEFAULT_BACKEND]


def _oss_profile(name: str) -> Profile:
    """The gpt-oss profile closest to a served model name (gpt-oss:20b, gpt-oss-20b-GGUF...)."""
    return PROFILES["gpt-oss-20b" if re.search(r"(?<!\d)20b", name.lower()) else "gpt-oss-120b"]


def _infer_params(name: str) -> tuple[ModelParams, int | None]:
    """Params for a raw model name: gpt-oss and o-series get their profile's quirks."""
    low = name.lower()
    if "gpt-oss" in low:
        prof = _oss_profile(low)
        return prof.params, prof.context_window
    base = low.rsplit("/", 1)[-1]
    if re.match(r"^o\d", base) or base.startswith("gpt-5"):
        return replace(PROFILES["o4-mini"].params, max_output_tokens=None), None
    return ModelParams(), None


def _for_backend(profile: Profile, backend: Backend, api_base: str | None,
                 env: Mapping[str, str], wire: str | None = None) -> ResolvedModel:
    litellm_id, default_wire = backend.models[profile.name]
    params = replace(profile.params, parallel_tool_calls=backend.parallel_tool_calls)
    if backend.local:
        # Local servers often run a smaller context; let them choose the output cap.
        params = replace(params, max_output_tokens=None)
    if wire is not None:  # a custom model name on a local server
        litellm_id, default_wire = f"openai/{wire}", wire
    price_id = None if backend.local else litellm_id
    if backend.name == "openrouter" and profile.name == "o4-mini":
        # Missing from litellm's price file; OpenRouter passes OpenAI's list price through.
        price_id = "o4-mini"
    return ResolvedModel(
        profile=profile.name, litellm_id=litellm_id, backend=backend.name,
        api_base=api_base or backend.api_base, api_key_env=_key_env(backend, env),
        wire_model=default_wire, params=params, context_window=profile.context_window,
        openai_compatible=True, extra_headers=backend.extra_headers,
        reasoning_field=backend.reasoning_field, price_id=price_id, free=backend.local,
    )


def _context_window(price_id: str | None, fallback: int | None) -> int:
    if fallback:
        return fallback
    if price_id:
        from realcost_agent.providers.prices import context_window_for  # reads a JSON file; only for raw ids

        found = context_window_for(price_id)
        if found:
            return found
    return DEFAULT_CONTEXT_WINDOW


def _served_name(spec: str) -> str:
    """The model name a local/custom server gets: the spec verbatim (vLLM and LM Studio serve
    names like "openai/gpt-oss-20b"), minus a litellm local-provider prefix ("ollama/...")."""
    prefix, _, rest = spec.partition("/")
    return rest if rest and prefix in _LOCAL_PREFIXES else spec


def _custom(spec: str, api_base: str, env: Mapping[str, str], backend: Backend | None) -> ResolvedModel:
    """Any spec served by the OpenAI-compatible path at a user-given base URL."""
    profile = PROFILES.get(spec)
    wire = spec if profile else _served_name(spec)
    params, ctx = (profile.params, profile.context_window) if profile else _infer_params(wire)
    key_env = (_key_env(backend, env) if backend else None) or CUSTOM_KEY_ENV
    return ResolvedModel(
        profile=profile.name if profile else None, litellm_id=f"openai/{wire}",
        backend=backend.name if backend else CUSTOM_BACKEND, api_base=api_base.rstrip("/"),
        api_key_env=key_env, wire_model=wire, params=params,
        context_window=ctx or DEFAULT_CONTEXT_WINDOW, openai_compatible=True,
        extra_headers=backend.extra_headers if backend else (),
        reasoning_field=backend.reasoning_field if backend else "reasoning_content", price_id=None,
        free=bool(backend and backend.local),
    )


def _raw(spec: str, backend_name: str | None, env: Mapping[str, str]) -> ResolvedModel:
    prefix, _, rest = spec.partition("/")
    if not rest:
        prefix, rest = ("openai", spec) if _OPENAI_NAMES.match(spec) else ("", spec)
    bname = backend_name or _COMPAT_PREFIXES.get(prefix)
    if bname in BACKENDS:
        b = BACKENDS[bname]
        params, ctx = _infer_params(rest)
        params = replace(params, parallel_tool_calls=b.parallel_tool_calls)
        litellm_id = f"openai/{rest}" if b.local else f"{prefix}/{rest}"
        price_id = None if b.local else litellm_id
        return ResolvedModel(
            profile=None, litellm_id=litellm_id, backend=b.name, api_base=b.api_base,
            api_key_env=_key_env(b, env), wire_model=rest, params=params,
            context_window=_context_window(price_id, ctx), openai_compatible=True,
            extra_headers=b.extra_headers, reasoning_field=b.reasoning_field,
            price_id=price_id, free=b.local,
        )
    # Anything else goes through litellm, which knows the provider's own API.
    params, ctx = _infer_params(rest)
    return ResolvedModel(
        profile=None, litellm_id=spec, backend=prefix or "litellm", api_base=None,
        api_key_env=_LITELLM_KEYS.get(prefix), wire_model=rest, params=params,
        context_window=_context_window(spec, ctx), openai_compatible=False,
        reasoning_field="reasoning_content", price_id=spec,
    )


def resolve_model(
    spec: str,
    *,
    backend: str | None = None,
    api_base: str | None = None,
    env: Mapping[str, str] | None = None,
    host: str | None = None,
    api_base_local: bool | None = None,
) -> ResolvedModel:
    """Resolve a profile name or litellm model id to a ResolvedModel, with its host profile
    (providers.hosts) applied: `host` names it (config `api_host`), else the backend's, else a
    guess from `api_base`. `api_base_local` marks a custom base URL free (None: automatic for
    loopback and private addresses). See `_resolve` for how the spec is read."""
    model = _resolve(spec, backend=backend, api_base=api_base, env=env)
    return apply_host(model, host=host, api_base_local=api_base_local)


def apply_host(model: ResolvedModel, *, host: str | None = None,
               api_base_local: bool | None = None) -> ResolvedModel:
    """Fill in the model's host profile, its reasoning field, and whether it is billed."""
    from realcost_agent.providers.hosts import HOSTS, host_for, is_local_url

    if host and host.lower() not in HOSTS and host.lower() not in ("local", "llama.cpp", "lm_studio"):
        raise UnknownModelError(f"unknown api_host {host!r}: choose one of {', '.join(HOSTS)}")
    profile = host_for(model.backend if model.backend != CUSTOM_BACKEND else None,
                       model.api_base, host)
    changes: dict = {"host": profile.name}
    if (model.profile is None and model.openai_compatible and model.backend != "openai"
            and model.wire_model and model.litellm_id == f"openai/{model.wire_model}"):
        changes["display"] = model.wire_model  # litellm's "openai/" prefix is not its name
    if model.openai_compatible:
        changes["reasoning_field"] = profile.reasoning_out
    if model.backend == CUSTOM_BACKEND or host:
        local = is_local_url(model.api_base) if api_base_local is None else api_base_local
        free = bool(local or model.free)
        changes["free"] = free
        if not free and model.price_id is None:
            changes["price_id"] = _custom_price_id(model)
    return replace(model, **changes)


def _custom_price_id(model: ResolvedModel) -> str | None:
    """A paid custom base URL (a LiteLLM proxy, a hosted gateway) is billed at the litellm
    price of the model it names, when litellm's price file knows that id."""
    from realcost_agent.providers.prices import price_for

    for cand in (model.wire_model, model.litellm_id.removeprefix("openai/")):
        if cand and price_for(cand) is not None:
            return cand
    return None


def _resolve(
    spec: str,
    *,
    backend: str | None = None,
    api_base: str | None = None,
    env: Mapping[str, str] | None = None,
) -> ResolvedModel:
    """Resolve a profile name or litellm model id to a ResolvedModel.

    - profile, no backend: the first backend (OpenRouter first) whose key is set, else OpenRouter;
    - profile + backend: that backend's name for it; for a local backend a non-profile spec is
      taken as the model name on that server (e.g. resolve_model("gpt-oss:20b-q8", backend="local"));
    - api_base given: any spec is served by the OpenAI-compatible path at that base;
    - raw litellm ids: known OpenAI-compatible hosts go direct, the rest through litellm.
    """
    env = os.environ if env is None else env
    spec = spec.strip()
    if not spec:
        raise UnknownModelError("no model given: pick one of " + ", ".join(PROFILES))
    b: Backend | None = None
    if backend:
        name = _ALIASES.get(backend, backend)
        if name != CUSTOM_BACKEND:
            if name not in BACKENDS:
                raise UnknownModelError(
                    f"unknown backend {backend!r}: choose one of {', '.join(BACKENDS)}")
            b = BACKENDS[name]
        elif not api_base:
            raise UnknownModelError("backend 'openai-compatible' needs an api base URL")
    profile = PROFILES.get(spec)
    if profile and b and profile.name in b.models:
        return _for_backend(profile, b, api_base, env)
    if api_base:
        return _custom(spec, api_base, env, b)
    if profile and b:
        raise UnknownModelError(
            f"{b.title} does not serve {spec}; backends that do: "
            + ", ".join(n for n, x in BACKENDS.items() if spec in x.models))
    if profile:
        return _for_backend(profile, _pick_backend(spec, env), None, env)
    if b and b.local:
        # A local server's own model name; params from the closest profile.
        name = _served_name(spec)
        if "gpt-oss" in name.lower():
            return replace(_for_backend(_oss_profile(name), b, None, env, wire=name), profile=None)
        return _raw(f"openai/{name}", b.name, env)
    if b:
        # A hosted backend's own model name, e.g. ("openai/gpt-oss-20b", backend="groq").
        prefix = next(p for p, name in _COMPAT_PREFIXES.items() if name == b.name)
        if not spec.startswith(prefix + "/"):
            spec = f"{prefix}/{spec}"
    if "/" not in spec and _unknown_bare_id(spec):
        close = difflib.get_close_matches(spec, list(PROFILES), n=1, cutoff=0.6)
        hint = f"did you mean {close[0]}? " if close else ""
        raise UnknownModelError(
            f"unknown model {spec!r}: {hint}use a profile ({', '.join(PROFILES)}) "
            "or a litellm id such as groq/openai/gpt-oss-20b")
    return _raw(spec, b.name if b else None, env)


def _unknown_bare_id(spec: str) -> bool:
    """A bare id (no provider prefix) that litellm's model table does not know either."""
    from realcost_agent.providers.prices import context_window_for, price_for

    return price_for(spec) is None and context_window_for(spec) is None


def missing_key(model: ResolvedModel, env: Mapping[str, str] | None = None) -> str | None:
    """A one-line hint naming the env var to set, or None when the model can be called."""
    env = os.environ if env is None else env
    b = BACKENDS.get(model.backend)
    if model.backend == CUSTOM_BACKEND or (b is not None and not b.key_required):
        return None  # local / custom servers usually take no key
    if not model.api_key_env or env.get(model.api_key_env):
        return None
    names = b.key_envs if b else (model.api_key_env,)
    if any(env.get(n) for n in names):
        return None
    alt = f" (or {' / '.join(names[1:])})" if len(names) > 1 else ""
    where = f"; get one at {b.key_url}" if b and b.key_url else ""
    return (f"Set {names[0]}{alt} to use {model.label} via {b.title if b else model.backend}"
            f"{where}, or choose another backend.")


@record(frozen=True)
class SetupHint:
    backend: str
    title: str
    ready: bool  # a key is set (or none is needed)
    profiles: tuple[str, ...]
    line: str  # one line for the user


def setup_hints(env: Mapping[str, str] | None = None) -> list[SetupHint]:
    """One hint per backend, for the first-run screen: what to set to use it."""
    env = os.environ if env is None else env
    hints = []
    for b in BACKENDS.values():
        models = ", ".join(b.models)
        if b.local:
            line = f"{b.title}: no key needed; serves {models} at {b.api_base}"
        elif _has_key(b, env):
            line = f"{b.title}: ready ({_key_env(b, env)} is set); serves {models}"
        else:
            alt = f" (or {' / '.join(b.key_envs[1:])})" if len(b.key_envs) > 1 else ""
            where = f" — get one at {b.key_url}" if b.key_url else ""
            line = f"{b.title}: export {b.key_envs[0]}=...{alt} for {models}{where}"
        hints.append(SetupHint(b.name, b.title, _has_key(b, env), b.profiles, line))
    hints.append(SetupHint(
        CUSTOM_BACKEND, "Any OpenAI-compatible server", True, tuple(PROFILES),
        f"Any OpenAI-compatible server: --api-base URL (key, if any, in {CUSTOM_KEY_ENV})"))
    return hints
