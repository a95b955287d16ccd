from __future__ import annotations

import pytest

from realcost_agent.providers.catalogue import resolve_model
from realcost_agent.providers.factory import make_provider
from realcost_agent.providers.litellm_provider import LiteLLMProvider
from realcost_agent.providers.openai_compat import OpenAICompatProvider


@pytest.mark.parametrize("spec,backend", [
    ("gpt-oss-20b", None), ("gpt-oss-120b", "groq"), ("o4-mini", "openai"),
    ("gpt-oss-120b", "cerebras"), ("gpt-oss-20b", "local"), ("groq/openai/gpt-oss-20b", None),
])
def test_openai_compatible_models_go_direct(spec, backend):
    assert isinstance(make_provider(resolve_model(spec, backend=backend, env={})), OpenAICompatProvider)


def test_api_base_goes_direct_and_others_use_litellm():
    assert isinstance(make_provider(resolve_model("anything", api_base="http://127.0.0.1:1/v1", env={})),
                      OpenAICompatProvider)
    assert isinstance(make_provider(resolve_model("anthropic/claude-x", env={})), LiteLLMProvider)


def test_force():
    m = resolve_model("gpt-oss-20b", env={})
    assert isinstance(make_provider(m, force="litellm"), LiteLLMProvider)
    assert isinstance(make_provider(m, force="direct"), OpenAICompatProvider)
    with pytest.raises(ValueError):
        make_provider(m, force="nope")
    with pytest.raises(ValueError, match="no OpenAI-compatible endpoint"):
        make_provider(resolve_model("anthropic/claude-x", env={}), force="direct")


def test_litellm_kwargs_for_a_catalogue_model():
    m = resolve_model("gpt-oss-120b", backend="groq", env={})
    kw = LiteLLMProvider().build_kwargs([{"role": "user", "content": "x"}], [], m, "gsk-k")
    assert kw["model"] == "groq/openai/gpt-oss-120b" and kw["api_base"] == "https://api.groq.com/openai/v1"
    assert kw["api_key"] == "gsk-k" and kw["num_retries"] == 0 and kw["drop_params"] is True
    assert kw["reasoning_effort"] == "medium" and kw["stream_options"] == {"include_usage": True}
    assert "tools" not in kw
