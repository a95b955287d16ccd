"""Pick the provider for a resolved model: direct httpx when possible, litellm otherwise."""
from __future__ import annotations

from typing import Mapping, Sequence

from realcost_agent.providers.base import Provider, ResolvedModel
from realcost_agent.providers.openai_compat import OpenAICompatProvider

FORCE_CHOICES = ("direct", "litellm")


def make_provider(
    model: ResolvedModel,
    *,
    force: str | None = None,
    env: Mapping[str, str] | None = None,
    idle_timeout: float | None = None,
    user_bases: Sequence[str] | None = None,
) -> Provider:
    """OpenAICompatProvider for OpenAI-compatible models (every catalogue host, any api_base),
    else LiteLLMProvider. `force` ("direct" | "litellm") overrides, for tests and a config switch.
    `env` is where keys are read at call time (default os.environ).
    `user_bases`: the base URLs the user set; given, the model's key must go to its own catalogue
    host or one of these (providers.keyroute), else KeyRouteError. The session always passes it."""
    if force not in (None, *FORCE_CHOICES):
        raise ValueError(f"force must be one of {FORCE_CHOICES}, not {force!r}")
    if user_bases is not None:
        import os

        from realcost_agent.providers.keyroute import check_key_route

        check_key_route(model, os.environ if env is None else env, user_bases)
    kwargs: dict = {"env": env}
    if idle_timeout is not None:
        kwargs["idle_timeout"] = idle_timeout
    if force == "litellm" or (force is None and not model.openai_compatible):
        # The module is cheap; litellm itself is imported on the first stream() call.
        from realcost_agent.providers.litellm_provider import LiteLLMProvider

        return LiteLLMProvider(**kwargs)
    if not model.api_base:
        raise ValueError(f"{model.label} has no OpenAI-compatible endpoint; use the litellm provider")
    return OpenAICompatProvider(**kwargs)


def warm(provider: Provider) -> None:
    """Do a provider's slow one-time set-up now (litellm's import), e.g. in a worker thread.
    Providers without any (the direct httpx one) have nothing to do."""
    preload = getattr(provider, "preload", None)
    if callable(preload):
        preload()
