"""What each host does on the wire, as data: one frozen HostProfile per host.

Both clients (providers/openai_compat.py and providers/litellm_provider.py) read these fields;
neither branches on a host's name. A host is chosen by `host_for(backend, api_base)`: the
catalogue backend's host, else a guess from a custom base URL (well-known hostnames and the
default ports of local servers), else GENERIC, which reads every known shape and rejects nothing.

Sources for each quirk are cited on the profile; the contract tests in
tests/integration/providers/test_host_contract.py replay these shapes through both clients.
"""
from __future__ import annotations

import ipaddress
from types import MappingProxyType
from typing import Mapping
from urllib.parse import urlsplit

from realcost_agent.records import record

# Where a host reports token usage in a stream.
USAGE_LAST_CHUNK = "last_chunk"  # OpenAI's stream_options.include_usage: one final chunk
USAGE_EVERY_CHUNK = "every_chunk"  # cumulative usage on every chunk; the last one counts
USAGE_X_GROQ = "x_groq"  # Groq: chunk["x_groq"]["usage"] on the final chunk
USAGE_MISSING = "missing"  # none while streaming: counted locally and marked estimated
USAGE_LOCATIONS = (USAGE_LAST_CHUNK, USAGE_EVERY_CHUNK, USAGE_X_GROQ, USAGE_MISSING)

# Every reasoning spelling seen in the wild; a client reads them all, whatever the profile says,
# because a host can change its spelling between versions (vLLM did).
ALL_REASONING_FIELDS = ("reasoning_content", "reasoning", "reasoning_details")


@record(frozen=True)
class HostProfile:
    name: str
    title: str
    # Fields the host streams reasoning in (delta / message), most usual first.
    reasoning_in: tuple[str, ...] = ("reasoning",)
    # Field the host reads an assistant message's reasoning from; None: never send it back.
    reasoning_out: str | None = "reasoning"
    # Send reasoning back on the assistant tool-call messages of the current turn (gpt-oss
    # needs its chain of thought across tool calls).
    echo_reasoning: bool = True
    # False: the host rejects `"content": null` on an assistant message; send "" instead.
    null_content_ok: bool = True
    # False: the host rejects an assistant tool-call message carrying content AND reasoning;
    # the content is folded into the reasoning (both are the model's analysis there).
    content_with_reasoning_ok: bool = True
    # Where streamed usage arrives (one of USAGE_LOCATIONS).
    usage: str = USAGE_LAST_CHUNK
    # Key inside usage holding the cost the host billed (OpenRouter: usage.cost), or None.
    cost_field: str | None = None
    # Runs on the user's machine: nothing billed per token.
    local: bool = False
    # litellm provider prefix to call this host through instead of the catalogue's litellm id
    # (None: the id as is). The Hugging Face router is plain OpenAI-compatible, while litellm's
    # `huggingface/` route first asks huggingface.co which provider serves the model.
    litellm_prefix: str | None = None
    sources: tuple[str, ...] = ()

    @property
    def usage_paths(self) -> tuple[tuple[str, ...], ...]:
        """Key paths in a chunk where usage may be; the first found wins."""
        if self.usage == USAGE_X_GROQ:
            return (("x_groq", "usage"), ("usage",))
        return (("usage",), ("x_groq", "usage"))


_H = HostProfile
HOSTS: Mapping[str, HostProfile] = MappingProxyType({h.name: h for h in (
    _H("openrouter", "OpenRouter", reasoning_in=("reasoning", "reasoning_details"),
       cost_field="cost",
       sources=("openrouter.ai/docs/use-cases/reasoning-tokens (message.reasoning, reasoning_details)",
                "openrouter.ai/docs/use-cases/usage-accounting (usage.cost in the last chunk)")),
    _H("openai", "OpenAI", reasoning_in=(), reasoning_out=None, echo_reasoning=False,
       sources=("platform.openai.com/docs/api-reference/chat: no reasoning text in Chat "
                "Completions; unknown message fields are a 400",)),
    _H("groq", "Groq", usage=USAGE_X_GROQ,
       sources=("github.com/vercel/ai/issues/1651 (usage under x_groq on the last chunk)",
                "console.groq.com/docs/reasoning (gpt-oss: message.reasoning)")),
    _H("together", "Together AI",
       sources=("docs.together.ai/docs/reasoning-models (delta.reasoning)",)),
    _H("fireworks", "Fireworks AI", reasoning_in=("reasoning_content",),
       reasoning_out="reasoning_content",
       sources=("docs.fireworks.ai/guides/reasoning (reasoning_content; usage on the last chunk)",)),
    _H("cerebras", "Cerebras",
       sources=("inference-docs.cerebras.ai/capabilities/reasoning (gpt-oss: message.reasoning)",)),
    _H("huggingface", "Hugging Face router", reasoning_in=("reasoning", "reasoning_content"),
       litellm_prefix="openai",
       sources=("huggingface.co/docs/inference-providers (OpenAI-compatible router; the field "
                "follows the provider behind it)",)),
    _H("vllm", "vLLM", reasoning_in=("reasoning", "reasoning_content"), local=True,
       sources=("github.com/vllm-project/vllm/issues/27755 (reasoning_content -> reasoning; "
                "newer releases read only `reasoning` back)",
                "github.com/run-llama/llama_index/pull/21076 (vLLM >= 0.17 streams `reasoning`)")),
    _H("ollama", "Ollama (/v1)", null_content_ok=False, local=True,
       sources=("github.com/pydantic/pydantic-ai/pull/5231 (400 invalid message content type: "
                "<nil> on content null)",
                "github.com/ollama/ollama docs/openai.md (delta.reasoning for thinking models)")),
    _H("llamacpp", "llama.cpp server", reasoning_in=("reasoning_content",),
       reasoning_out="reasoning_content", content_with_reasoning_ok=False, local=True,
       sources=("github.com/ggml-org/llama.cpp/issues/17040 (500 Cannot pass both content and "
                "thinking in an assistant message with tool calls!)",
                "github.com/ggml-org/llama.cpp/pull/16934 (reasoning_content read back)")),
    _H("lmstudio", "LM Studio", reasoning_in=("reasoning", "reasoning_content"),
       usage=USAGE_MISSING, local=True,
       sources=("github.com/lmstudio-ai/lmstudio-bug-tracker/issues/676 (no usage in streaming)",)),
    # Anything else: read every known shape, send reasoning as `reasoning` (vLLM, Ollama,
    # OpenRouter, Groq, Cerebras, Together all read it), content "" never null (accepted by all).
    _H("generic", "OpenAI-compatible server", reasoning_in=("reasoning", "reasoning_content"),
       null_content_ok=False),
)})
GENERIC = HOSTS["generic"]
# A model litellm reaches through its own provider API (Anthropic, Gemini, ...): litellm owns the
# wire there, so messages go as the core keeps them (null content is fine for litellm).
NATIVE = HostProfile("litellm-native", "litellm provider", reasoning_in=ALL_REASONING_FIELDS,
                     reasoning_out="reasoning_content")

# Catalogue backend name -> host.
_BACKEND_HOSTS = MappingProxyType({"local": "ollama"})
# Hostnames of the hosted services, for a custom base URL pointing at one of them.
_HOSTNAMES = MappingProxyType({
    "openrouter.ai": "openrouter", "api.openai.com": "openai", "api.groq.com": "groq",
    "api.together.xyz": "together", "api.together.ai": "together",
    "api.fireworks.ai": "fireworks", "api.cerebras.ai": "cerebras",
    "router.huggingface.co": "huggingface",
})
# Default ports of local servers: a loopback/private URL on one of them is most likely that server.
_PORTS = MappingProxyType({11434: "ollama", 8080: "llamacpp", 1234: "lmstudio", 8000: "vllm"})


def host_named(name: str | None) -> HostProfile:
    """The profile for a host or catalogue backend name; GENERIC when unknown."""
    if not name:
        return GENERIC
    name = _BACKEND_HOSTS.get(name, name).lower().replace(".", "").replace("_", "")
    aliases = {"llamacpp": "llamacpp", "lmstudio": "lmstudio", "hf": "huggingface",
               "togetherai": "together", "fireworksai": "fireworks", "local": "ollama"}
    return HOSTS.get(aliases.get(name, name), GENERIC)


def is_local_url(api_base: str | None) -> bool:
    """True for loopback, private-range and link-local hosts (and `localhost`, `*.local`)."""
    if not api_base:
        return False
    host = (urlsplit(api_base).hostname or "").lower()
    if host in ("localhost", "host.docker.internal") or host.endswith((".local", ".localhost")):
        return True
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return False
    mapped = getattr(ip, "ipv4_mapped", None)
    if mapped is not None:  # ::ffff:8.8.8.8 is "private" to older Pythons; judge the IPv4 inside
        ip = mapped
    if ip.is_loopback:
        return True
    if ip.is_unspecified or ip.is_multicast or ip.is_reserved:
        return False
    return ip.is_private or ip.is_link_local


def guess_host(api_base: str | None) -> HostProfile:
    """The host behind a custom base URL: known hostnames, then local servers' default ports."""
    if not api_base:
        return GENERIC
    parts = urlsplit(api_base)
    hostname = (parts.hostname or "").lower()
    for known, name in _HOSTNAMES.items():
        if hostname == known or hostname.endswith("." + known):
            return HOSTS[name]
    try:
        port = parts.port
    except ValueError:
        port = None
    if port in _PORTS and is_local_url(api_base):
        return HOSTS[_PORTS[port]]
    return GENERIC


def host_for(backend: str | None, api_base: str | None = None, explicit: str | None = None) -> HostProfile:
    """The host profile a model's requests follow: an explicit choice (config `api_host`), the
    catalogue backend's host, else a guess from the base URL."""
    if explicit:
        return host_named(explicit)
    if backend:
        named = host_named(backend)
        if named is not GENERIC:
            return named
    return guess_host(api_base)


def profile_of(model: object) -> HostProfile:
    """The host profile of a ResolvedModel (its `host`, else from backend and api_base)."""
    if getattr(model, "openai_compatible", True) is False:
        return NATIVE
    return host_for(getattr(model, "backend", None), getattr(model, "api_base", None),
                    getattr(model, "host", "") or None)
