"""The provider protocol: `stream(messages, tools, model)` yields normalized deltas.

The core never sees litellm or httpx objects, only these frozen dataclasses. Messages are plain
OpenAI chat dicts; an assistant message may carry `reasoning_content` (the model's reasoning),
which providers send back in whatever field the backend expects while the previous assistant
message was a tool call.
"""
from __future__ import annotations

from dataclasses import field
from typing import Any, AsyncIterator, Protocol, Union

from realcost_agent.records import record


@record(frozen=True)
class TextDelta:
    text: str


@record(frozen=True)
class ReasoningDelta:
    text: str


@record(frozen=True)
class ToolCallDelta:
    """A fragment of a tool call; fragments with the same index belong to one call."""

    index: int
    id: str | None = None
    name: str | None = None
    arguments: str = ""


@record(frozen=True)
class Usage:
    input_tokens: int = 0
    output_tokens: int = 0
    cached_input_tokens: int = 0
    reasoning_tokens: int = 0
    # Cost the provider itself reported (OpenRouter's usage.cost), when it did.
    provider_cost: float | None = None
    # True when the host reported no usage and these counts were estimated locally.
    estimated: bool = False


@record(frozen=True)
class Finish:
    reason: str  # "stop", "tool_calls", "length", "content_filter", ...


StreamDelta = Union[TextDelta, ReasoningDelta, ToolCallDelta, Usage, Finish]


class ProviderError(Exception):
    """A provider failure, already classified. `str()` is one clear line for the user."""

    def __init__(
        self,
        message: str,
        *,
        backend: str,
        model: str,
        status: int | None = None,
        retryable: bool = False,
        retry_after: float | None = None,
        partial: bool = False,
        usage: "Usage | None" = None,
    ) -> None:
        self.message = message
        self.backend = backend
        self.model = model
        self.status = status
        self.retryable = retryable
        self.retry_after = retry_after
        # True when deltas of this attempt were already yielded: the caller must discard the
        # partial turn before retrying it (see providers.retry).
        self.partial = partial
        # Usage the server reported for a response that then failed (billed all the same).
        self.usage = usage
        super().__init__(self.line())

    def line(self) -> str:
        status = f" HTTP {self.status}" if self.status else ""
        return f"{self.backend} / {self.model}:{status} {self.message}".strip()


@record(frozen=True)
class ModelParams:
    """Per-model request parameters derived from the catalogue."""

    supports_temperature: bool = True
    # o-series models take max_completion_tokens; others max_tokens.
    max_tokens_field: str = "max_tokens"
    reasoning_effort: str | None = None
    max_output_tokens: int | None = None
    temperature: float | None = None
    # None: don't send `parallel_tool_calls` (some backends reject it; the API default is on).
    parallel_tool_calls: bool | None = None


@record(frozen=True)
class ResolvedModel:
    """A model ready to call: what the user asked for, resolved against the catalogue."""

    profile: str | None  # "gpt-oss-20b" | "gpt-oss-120b" | "o4-mini" | None for a raw id
    litellm_id: str  # e.g. "openrouter/openai/gpt-oss-120b"
    backend: str  # "openrouter", "openai", "groq", ..., "openai-compatible"
    api_base: str | None = None
    api_key_env: str | None = None  # name of the environment variable holding the key
    # Model name as the wire API expects it (litellm id without the provider prefix).
    wire_model: str = ""
    params: ModelParams = field(default_factory=ModelParams)
    context_window: int = 131_072
    # True when an OpenAI-compatible HTTP client can serve it directly (no litellm import).
    openai_compatible: bool = True
    extra_headers: tuple[tuple[str, str], ...] = ()
    # Field an assistant message's reasoning is echoed back in ("reasoning" for OpenRouter, Groq,
    # Cerebras; "reasoning_content" for vLLM/Fireworks); None strips it (OpenAI rejects it).
    # A provider that saw the backend stream reasoning under another name uses that name instead.
    reasoning_field: str | None = "reasoning_content"
    # Key in litellm's price file to bill by (may differ from litellm_id, e.g. OpenRouter's o4-mini
    # is billed at OpenAI's list price); None when unknown.
    price_id: str | None = None
    # Local servers (Ollama, vLLM, ...) cost nothing per token.
    free: bool = False
    # Name of the host profile (providers.hosts.HOSTS) whose wire quirks requests follow;
    # "" derives it from backend and api_base (providers.hosts.host_for).
    host: str = ""
    # Name shown for a raw model (banner, ledger, report, TUI) when it differs from litellm_id:
    # the served name at a custom base URL, so `openai/gpt-oss-20b` never shows (or is picked
    # again) as litellm's `openai/openai/gpt-oss-20b`.
    display: str = ""

    @property
    def label(self) -> str:
        return self.profile or self.display or self.litellm_id


class Provider(Protocol):
    name: str

    def stream(
        self,
        messages: list[dict[str, Any]],
        tools: list[dict[str, Any]],
        model: ResolvedModel,
    ) -> AsyncIterator[StreamDelta]: ...

    async def aclose(self) -> None: ...
