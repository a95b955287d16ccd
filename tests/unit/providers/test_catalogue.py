from __future__ import annotations

import pytest

from realcost_agent.providers.catalogue import (
    BACKENDS, CUSTOM_BACKEND, CUSTOM_KEY_ENV, PROFILES, UnknownModelError, missing_key,
    resolve_model, setup_hints,
)
from realcost_agent.providers.prices import price_for, price_for_model

# backend -> profile -> (litellm id, wire model, api base, key env)
EXPECTED = {
    "openrouter": {
        "gpt-oss-20b": ("openrouter/openai/gpt-oss-20b", "openai/gpt-oss-20b"),
        "gpt-oss-120b": ("openrouter/openai/gpt-oss-120b", "openai/gpt-oss-120b"),
        "o4-mini": ("openrouter/openai/o4-mini", "openai/o4-mini"),
    },
    "openai": {"o4-mini": ("openai/o4-mini", "o4-mini")},
    "groq": {
        "gpt-oss-20b": ("groq/openai/gpt-oss-20b", "openai/gpt-oss-20b"),
        "gpt-oss-120b": ("groq/openai/gpt-oss-120b", "openai/gpt-oss-120b"),
    },
    "together": {
        "gpt-oss-20b": ("together_ai/openai/gpt-oss-20b", "openai/gpt-oss-20b"),
        "gpt-oss-120b": ("together_ai/openai/gpt-oss-120b", "openai/gpt-oss-120b"),
    },
    "fireworks": {
        "gpt-oss-20b": ("fireworks_ai/accounts/fireworks/models/gpt-oss-20b", "accounts/fireworks/models/gpt-oss-20b"),
        "gpt-oss-120b": ("fireworks_ai/accounts/fireworks/models/gpt-oss-120b", "accounts/fireworks/models/gpt-oss-120b"),
    },
    "cerebras": {"gpt-oss-120b": ("cerebras/gpt-oss-120b", "gpt-oss-120b")},
    "huggingface": {
        "gpt-oss-20b": ("huggingface/openai/gpt-oss-20b", "openai/gpt-oss-20b"),
        "gpt-oss-120b": ("huggingface/openai/gpt-oss-120b", "openai/gpt-oss-120b"),
    },
    "local": {
        "gpt-oss-20b": ("openai/gpt-oss:20b", "gpt-oss:20b"),
        "gpt-oss-120b": ("openai/gpt-oss:120b", "gpt-oss:120b"),
    },
}
BASES = {
    "openrouter": ("https://openrouter.ai/api/v1", "OPENROUTER_API_KEY"),
    "openai": ("https://api.openai.com/v1", "OPENAI_API_KEY"),
    "groq": ("https://api.groq.com/openai/v1", "GROQ_API_KEY"),
    "together": ("https://api.together.xyz/v1", "TOGETHER_API_KEY"),
    "fireworks": ("https://api.fireworks.ai/inference/v1", "FIREWORKS_API_KEY"),
    "cerebras": ("https://api.cerebras.ai/v1", "CEREBRAS_API_KEY"),
    "huggingface": ("https://router.huggingface.co/v1", "HF_TOKEN"),
    "local": ("http://localhost:11434/v1", "OLLAMA_API_KEY"),
}
CASES = [(b, p) for b, profiles in EXPECTED.items() for p in profiles]


@pytest.mark.parametrize("backend,profile", CASES)
def test_every_backend_and_profile_resolves(backend, profile):
    m = resolve_model(profile, backend=backend, env={})
    litellm_id, wire = EXPECTED[backend][profile]
    base, key_env = BASES[backend]
    assert (m.litellm_id, m.wire_model, m.api_base, m.api_key_env) == (litellm_id, wire, base, key_env)
    assert m.profile == profile and m.backend == backend and m.openai_compatible
    assert m.context_window == PROFILES[profile].context_window
    assert m.params.reasoning_effort == PROFILES[profile].params.reasoning_effort


@pytest.mark.parametrize("backend,profile", [c for c in CASES if c[0] not in ("local", "huggingface")])
def test_hosted_entries_have_a_price(backend, profile):
    m = resolve_model(profile, backend=backend, env={})
    price = price_for_model(m)
    assert price is not None and price.input > 0 and price.output > 0


def test_backends_table_matches_the_cases():
    for name, profiles in EXPECTED.items():
        assert set(BACKENDS[name].profiles) == set(profiles)
    assert set(BACKENDS["openrouter"].profiles) == set(PROFILES)


def test_profile_params():
    o4 = resolve_model("o4-mini", env={})
    assert not o4.params.supports_temperature
    assert o4.params.max_tokens_field == "max_completion_tokens"
    assert o4.params.reasoning_effort == "medium" and o4.context_window == 200_000
    small, big = resolve_model("gpt-oss-20b", env={}), resolve_model("gpt-oss-120b", env={})
    assert small.params.reasoning_effort == "low" and big.params.reasoning_effort == "medium"
    assert small.params.supports_temperature and small.params.max_tokens_field == "max_tokens"
    assert small.context_window == 131_072


def test_openrouter_is_the_default_without_keys():
    for profile in PROFILES:
        assert resolve_model(profile, env={}).backend == "openrouter"


def test_backend_picked_from_available_keys():
    assert resolve_model("gpt-oss-120b", env={"GROQ_API_KEY": "g"}).backend == "groq"
    assert resolve_model("o4-mini", env={"OPENAI_API_KEY": "o"}).backend == "openai"
    both = {"OPENAI_API_KEY": "o", "OPENROUTER_API_KEY": "r"}
    assert resolve_model("o4-mini", env=both).backend == "openrouter"
    # o4-mini is not on Groq: with only a Groq key, fall back to OpenRouter (and a key hint).
    assert resolve_model("o4-mini", env={"GROQ_API_KEY": "g"}).backend == "openrouter"
    assert resolve_model("gpt-oss-20b", env={"CEREBRAS_API_KEY": "c"}).backend == "openrouter"


def test_together_accepts_either_key_name():
    m = resolve_model("gpt-oss-120b", backend="together", env={"TOGETHERAI_API_KEY": "t"})
    assert m.api_key_env == "TOGETHERAI_API_KEY"
    assert missing_key(m, {"TOGETHERAI_API_KEY": "t"}) is None


def test_local_backends_are_free_and_keyless():
    m = resolve_model("gpt-oss-20b", backend="ollama", env={})
    assert m.backend == "local" and m.free and m.params.max_output_tokens is None
    assert missing_key(m, {}) is None
    custom = resolve_model("gpt-oss:20b-q8", backend="local", env={})
    assert custom.wire_model == "gpt-oss:20b-q8" and custom.params.reasoning_effort == "low"
    assert custom.litellm_id == "openai/gpt-oss:20b-q8" and custom.profile is None
    big = resolve_model("gpt-oss:120b-q4", backend="local", env={})
    assert big.params.reasoning_effort == "medium"
    vllm = resolve_model("gpt-oss-120b", backend="vllm", env={})
    assert vllm.api_base == "http://localhost:8000/v1" and vllm.wire_model == "openai/gpt-oss-120b"


def test_api_base_serves_any_spec_openai_compatibly():
    m = resolve_model("o4-mini", api_base="http://127.0.0.1:9/v1/", env={})
    assert (m.backend, m.api_base, m.wire_model, m.profile) == (CUSTOM_BACKEND, "http://127.0.0.1:9/v1", "o4-mini", "o4-mini")
    assert m.params.max_tokens_field == "max_completion_tokens" and m.api_key_env == CUSTOM_KEY_ENV
    assert m.free and price_for_model(m).input == 0  # a loopback server bills nothing
    # A paid gateway (a LiteLLM proxy) naming a model litellm knows is billed at its price...
    remote = resolve_model("o4-mini", api_base="https://llm.example.com/v1", env={})
    assert remote.price_id == "o4-mini" and not remote.free
    # ...and an unknown name there has no invented price.
    unknown = resolve_model("my-model", api_base="https://llm.example.com/v1", env={})
    assert unknown.price_id is None and price_for_model(unknown) is None
    raw = resolve_model("my-model", api_base="http://127.0.0.1:9/v1", env={})
    assert raw.wire_model == "my-model" and raw.litellm_id == "openai/my-model" and raw.profile is None
    # Served names are kept verbatim (vLLM serves "openai/gpt-oss-20b"); litellm prefixes go.
    hf = resolve_model("openai/gpt-oss-20b", api_base="http://127.0.0.1:9/v1", env={})
    assert hf.wire_model == "openai/gpt-oss-20b" and hf.params.reasoning_effort == "low"
    assert resolve_model("ollama/qwen3:8b", api_base="http://127.0.0.1:9/v1", env={}).wire_model == "qwen3:8b"
    oss = resolve_model("gpt-oss:120b", api_base="http://127.0.0.1:9/v1", env={})
    assert oss.params.reasoning_effort == "medium"
    # A named backend keeps its own names and key at an overridden base (e.g. a proxy).
    proxied = resolve_model("gpt-oss-20b", backend="groq", api_base="http://127.0.0.1:9/v1", env={})
    assert proxied.wire_model == "openai/gpt-oss-20b" and proxied.api_key_env == "GROQ_API_KEY"
    assert proxied.api_base == "http://127.0.0.1:9/v1"


@pytest.mark.parametrize("spec,backend,wire,compat,key_env", [
    ("groq/openai/gpt-oss-20b", "groq", "openai/gpt-oss-20b", True, "GROQ_API_KEY"),
    ("openrouter/openai/gpt-oss-120b", "openrouter", "openai/gpt-oss-120b", True, "OPENROUTER_API_KEY"),
    ("openai/gpt-4.1", "openai", "gpt-4.1", True, "OPENAI_API_KEY"),
    ("gpt-4.1", "openai", "gpt-4.1", True, "OPENAI_API_KEY"),
    ("ollama/gpt-oss:20b", "local", "gpt-oss:20b", True, "OLLAMA_API_KEY"),
    ("anthropic/claude-sonnet-4-20250514", "anthropic", "claude-sonnet-4-20250514", False, "ANTHROPIC_API_KEY"),
    ("bedrock/some-model", "bedrock", "some-model", False, None),
])
def test_raw_litellm_ids(spec, backend, wire, compat, key_env):
    m = resolve_model(spec, env={})
    assert (m.backend, m.wire_model, m.openai_compatible, m.api_key_env) == (backend, wire, compat, key_env)
    assert m.profile is None
    # Shown as it is served: a local server's name, not litellm's "openai/" id.
    assert m.label == (wire if backend == "local" else m.litellm_id)


def test_backend_with_a_model_name_of_its_own():
    m = resolve_model("openai/gpt-oss-safeguard-20b", backend="groq", env={})
    assert (m.litellm_id, m.wire_model, m.backend) == ("groq/openai/gpt-oss-safeguard-20b", "openai/gpt-oss-safeguard-20b", "groq")
    assert m.params.reasoning_effort == "low" and m.context_window == 131_072
    t = resolve_model("together_ai/openai/gpt-oss-20b", backend="together", env={})
    assert t.wire_model == "openai/gpt-oss-20b"


def test_raw_ids_take_family_quirks_and_context_from_price_file():
    m = resolve_model("groq/openai/gpt-oss-20b", env={})
    assert m.params.reasoning_effort == "low"
    o3 = resolve_model("openai/o3", env={})
    assert not o3.params.supports_temperature and o3.params.max_tokens_field == "max_completion_tokens"
    gpt = resolve_model("openai/gpt-4.1", env={})
    assert gpt.context_window > 500_000 and gpt.params.supports_temperature
    assert price_for_model(gpt) == price_for("gpt-4.1")


def test_errors_are_one_line():
    with pytest.raises(UnknownModelError, match="unknown backend 'nope'"):
        resolve_model("gpt-oss-20b", backend="nope", env={})
    with pytest.raises(UnknownModelError, match="does not serve o4-mini.*openrouter"):
        resolve_model("o4-mini", backend="groq", env={})
    with pytest.raises(UnknownModelError):
        resolve_model("  ", env={})
    with pytest.raises(UnknownModelError, match="api base"):
        resolve_model("x", backend="openai-compatible", env={})


def test_missing_key_hints():
    m = resolve_model("gpt-oss-120b", env={})
    hint = missing_key(m, {})
    assert hint and "OPENROUTER_API_KEY" in hint and "\n" not in hint and "gpt-oss-120b" in hint
    assert missing_key(m, {"OPENROUTER_API_KEY": "k"}) is None
    assert missing_key(m, {"OPENROUTER_API_KEY": ""}) is not None
    t = resolve_model("gpt-oss-20b", backend="together", env={})
    assert "TOGETHER_API_KEY" in missing_key(t, {}) and "TOGETHERAI_API_KEY" in missing_key(t, {})
    assert "ANTHROPIC_API_KEY" in missing_key(resolve_model("anthropic/claude-x", env={}), {})
    assert missing_key(resolve_model("bedrock/x", env={}), {}) is None  # litellm knows its auth
    assert missing_key(resolve_model("x", api_base="http://127.0.0.1:1/v1", env={}), {}) is None


def test_setup_hints_cover_every_backend():
    hints = setup_hints({"GROQ_API_KEY": "g"})
    by_name = {h.backend: h for h in hints}
    assert set(BACKENDS) | {CUSTOM_BACKEND} == set(by_name)
    assert by_name["groq"].ready and "ready" in by_name["groq"].line
    assert not by_name["openrouter"].ready and "OPENROUTER_API_KEY" in by_name["openrouter"].line
    assert by_name["local"].ready and "11434" in by_name["local"].line
    assert all("\n" not in h.line for h in hints)


def test_catalogue_is_immutable():
    with pytest.raises(TypeError):
        PROFILES["x"] = PROFILES["o4-mini"]  # type: ignore[index]
    with pytest.raises(TypeError):
        BACKENDS["groq"].models["gpt-oss-20b"] = ("a", "b")  # type: ignore[index]
