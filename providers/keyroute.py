"""Where an API key may be sent: its own backend's catalogue host, or a base URL the user set.

A backend's key (OPENROUTER_API_KEY, OPENAI_API_KEY, ...) is a credential for that backend. It is
sent only to
- the catalogue host of a backend that takes that variable (providers.catalogue.BACKENDS), or
- a base URL the user chose: user config, environment or flag, or a project config the user
  trusted (the caller passes these as `user_bases`; agent.trust.key_bases computes them).
Hosts are compared by origin (scheme, host, port): `http://` is not `https://`, and a look-alike
host is not the real one. Models reached through litellm without a base URL go to litellm's
own host for their provider, with that provider's key: nothing to check there.
"""
from __future__ import annotations

from typing import Iterable, Mapping
from urllib.parse import urlsplit

from realcost_agent.providers.base import ResolvedModel

_DEFAULT_PORTS = {"http": 80, "https": 443}


class KeyRouteError(ValueError):
    """A key would go to a host it does not belong to; `str()` is one line for the user."""


def origin(url: str | None) -> str:
    """scheme://host[:port], lowercased, default port dropped; the raw text when unparsable."""
    if not url:
        return ""
    try:
        parts = urlsplit(url.strip())
        host = (parts.hostname or "").lower()
        port = parts.port
    except ValueError:
        return url.strip()
    scheme = parts.scheme.lower()
    if not scheme or not host:
        return url.strip()
    if ":" in host:
        host = f"[{host}]"
    if port is not None and port != _DEFAULT_PORTS.get(scheme):
        return f"{scheme}://{host}:{port}"
    return f"{scheme}://{host}"


def catalogue_origins(key_env: str) -> set[str]:
    """The catalogue hosts of every backend that takes this key variable."""
    from realcost_agent.providers.catalogue import BACKENDS

    return {origin(b.api_base) for b in BACKENDS.values() if key_env in b.key_envs}


def key_destination(model: ResolvedModel) -> str:
    """Where this model's requests (and its key) go, for banners and `agent doctor`."""
    if model.api_base:
        return origin(model.api_base)
    return f"{model.backend} (litellm's own endpoint)"


def refusal(model: ResolvedModel, env: Mapping[str, str], user_bases: Iterable[str] = ()) -> str | None:
    """Why the key may not go where this model sends it, or None when it may (or no key is set)."""
    key_env = model.api_key_env
    if not key_env or not env.get(key_env) or not model.api_base:
        return None
    dest = origin(model.api_base)
    if dest in catalogue_origins(key_env) or dest in {origin(b) for b in user_bases if b}:
        return None
    return (f"refusing to send {key_env} to {dest}: it is not that key's own host and you did not "
            "set that base URL (an untrusted project's api_base never gets your keys; set it in "
            "your user config, AGENT_API_BASE or --api-base, or trust the project with `agent trust`)")


def check_key_route(model: ResolvedModel, env: Mapping[str, str], user_bases: Iterable[str] = ()) -> None:
    why = refusal(model, env, user_bases)
    if why:
        raise KeyRouteError(why)
