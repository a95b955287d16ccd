"""Pick the provider for a resolved model: direct httpx when possible, litellm otherwise."""
from __future__ import annotations

from typing import Mapping

from providers.base import Provider, ResolvedModel
from providers.openai_compat import OpenAICompatProvider

FORCE_CHOICES = ("direct", "litellm")


def make_provider(
    model: ResolvedModel,
    *,
    force: str | None = None,
    env: Mapping[str, str] | None = None,
    idle_timeout: float | None = None,
) -> Provider:
    """OpenAICompatProvider for OpenAI-compatible models (every catalogue host, any api_base),
    else LiteLLMProvider. `force` ("direct" | "litellm") overrides, for tests and a config switch.
    `env` is where keys are read at call time (default os.environ)."""
    if force not in (None, *FORCE_CHOICES):
        raise ValueError(f"force must be one of {FORCE_CHOICES}, not {force!r}")
    kwargs: dict = {"env": env}
    if idle_timeout is not None:
        kwargs["idle_timeout"] = idle_timeout
    if force == "litellm" or (force is None and not model.openai_compatible):
        # The module is cheap; litellm itself is imported on the first stream() call.
        from providers.litellm_provider import LiteLLMProvider

        return LiteLLMProvider(**kwargs)
    if not model.api_base:
        raise ValueError(f"{model.label} has no OpenAI-compatible endpoint; use the litellm provider")
    return OpenAICompatProvider(**kwargs)
