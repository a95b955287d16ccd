"""The session's providers: one per (model id, API base), made on first use and closed at the
end. Every lookup checks the key route first (providers/keyroute.py): a key never goes to a host
it does not belong to, whichever factory (scripted ones included) would make the provider.
"""
from __future__ import annotations

from typing import Callable, Mapping

from realcost_agent.agent.config import Settings
from realcost_agent.providers.base import Provider, ProviderError, ResolvedModel
from realcost_agent.providers.keyroute import refusal


class ProviderPool:
    def __init__(self, settings: Settings, env: Mapping[str, str], key_bases: object,
                 factory: Callable[[ResolvedModel], Provider] | None = None) -> None:
        self._settings = settings
        self._env = env
        self._key_bases = key_bases
        self._factory = factory
        self._providers: dict[tuple[str, str | None], Provider] = {}

    def get(self, model: ResolvedModel) -> Provider:
        why = refusal(model, self._env, self._key_bases)
        if why:  # checked for every model and factory, scripted ones included
            raise ProviderError(why, backend=model.backend, model=model.label)
        key = (model.litellm_id, model.api_base)
        if key not in self._providers:
            if self._factory is not None:
                self._providers[key] = self._factory(model)
            else:
                from realcost_agent.providers.factory import make_provider

                s = self._settings
                self._providers[key] = make_provider(
                    model, force=None if s.provider == "auto" else s.provider, env=self._env,
                    idle_timeout=s.stream_idle_timeout, user_bases=self._key_bases,
                )
        return self._providers[key]

    async def aclose(self) -> None:
        for provider in self._providers.values():
            try:
                await provider.aclose()
            except Exception:  # noqa: BLE001 - closing must not fail the shutdown
                pass
