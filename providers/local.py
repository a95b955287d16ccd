"""The one predicate for "is this call local": the model runs on the user's own (or a self-hosted)
server, so no provider bills it per token. ResolvedModel.free carries it: set for the local
backends (Ollama, vLLM, llama.cpp, LM Studio) and by providers.catalogue.apply_host for a custom
base URL on a loopback or private address (providers.hosts.is_local_url) unless the user said
otherwise (`api_base_local`). Everything that asks "local?" (pricing by wall time under
[prices.local], the "(local)" label) asks here, so the answer cannot differ between surfaces.
"""
from __future__ import annotations

from typing import Any

LOCAL_PRICE_KEY = "local"  # [prices.local] per_hour = USD per hour of local compute


def is_local(model: Any) -> bool:
    return bool(getattr(model, "free", False))
