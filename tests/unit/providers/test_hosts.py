"""Host profiles (providers/hosts.py): how a host is chosen, what each does to the outgoing
history, usage lookup and the local estimate, and names that round-trip."""
from __future__ import annotations

import pytest

from realcost_agent.providers.catalogue import BACKENDS, UnknownModelError, resolve_model
from realcost_agent.providers.hosts import (
    GENERIC, HOSTS, NATIVE, USAGE_LOCATIONS, guess_host, host_for, is_local_url, profile_of,
)
from realcost_agent.providers.usage import estimate_usage, usage_from, usage_in_chunk
from realcost_agent.providers.wire import prepare_messages

CALL = [{"id": "c1", "type": "function", "function": {"name": "read_file", "arguments": "{}"}}]


def history(content=None):
    return [
        {"role": "user", "content": "go"},
        {"role": "assistant", "content": content, "reasoning_content": "plan", "tool_calls": CALL},
        {"role": "tool", "tool_call_id": "c1", "content": "data"},
    ]


def test_every_profile_is_complete():
    for h in HOSTS.values():
        assert h.usage in USAGE_LOCATIONS
        assert h.reasoning_out is None or h.reasoning_out in ("reasoning", "reasoning_content")
        if h.name != "generic":
            assert h.sources, f"{h.name} cites no source"
    # Every catalogue backend has its host.
    for name in BACKENDS:
        assert host_for(name).name != "generic", name


@pytest.mark.parametrize("url,host", [
    ("https://openrouter.ai/api/v1", "openrouter"), ("https://api.groq.com/openai/v1", "groq"),
    ("https://api.fireworks.ai/inference/v1", "fireworks"), ("http://localhost:11434/v1", "ollama"),
    ("http://127.0.0.1:8080/v1", "llamacpp"), ("http://192.168.1.9:1234/v1", "lmstudio"),
    ("http://localhost:8000/v1", "vllm"), ("https://gpu.example.com:8000/v1", "generic"),
    ("http://localhost:9999/v1", "generic"), (None, "generic"),
])
def test_guess_host(url, host):
    assert guess_host(url).name == host


def test_explicit_host_wins_and_unknown_is_refused():
    m = resolve_model("gpt-oss-20b", api_base="https://gpu.example.com/v1", env={}, host="vllm")
    assert m.host == "vllm" and m.reasoning_field == "reasoning"
    with pytest.raises(UnknownModelError, match="unknown api_host 'vlm'"):
        resolve_model("gpt-oss-20b", api_base="https://gpu.example.com/v1", env={}, host="vlm")


def test_api_base_local_overrides_the_address():
    paid = resolve_model("gpt-oss-20b", api_base="http://127.0.0.1:1/v1", env={}, api_base_local=False)
    assert not paid.free
    free = resolve_model("gpt-oss-20b", api_base="https://gw.example.com/v1", env={}, api_base_local=True)
    assert free.free
    assert is_local_url("http://10.1.2.3:8000/v1") and not is_local_url("https://8.8.8.8/v1")


def test_ollama_gets_empty_content_never_null():
    out = prepare_messages(history(None), "reasoning", HOSTS["ollama"])
    assert out[1]["content"] == "" and out[1]["reasoning"] == "plan"
    # A reasoning-only final answer of an earlier turn too (it stays in the history).
    final = prepare_messages([{"role": "user", "content": "a"},
                              {"role": "assistant", "content": None, "reasoning_content": "r"},
                              {"role": "user", "content": "b"}], "reasoning", HOSTS["ollama"])
    assert final[1] == {"role": "assistant", "content": ""}


def test_llamacpp_never_gets_content_and_reasoning_together():
    out = prepare_messages(history("Reading the file."), "reasoning_content", HOSTS["llamacpp"])
    assert out[1]["reasoning_content"] == "plan\n\nReading the file." and not out[1]["content"]
    # Where both are fine (vLLM), both go as they are.
    vllm = prepare_messages(history("Reading the file."), "reasoning", HOSTS["vllm"])
    assert vllm[1]["content"] == "Reading the file." and vllm[1]["reasoning"] == "plan"


def test_openai_gets_no_reasoning_at_all():
    out = prepare_messages(history(None), "reasoning", HOSTS["openai"])
    assert not {"reasoning", "reasoning_content", "reasoning_details"} & set(out[1])


def test_usage_location_per_host():
    groq = {"choices": [], "x_groq": {"usage": {"prompt_tokens": 7, "completion_tokens": 3}}}
    assert usage_from(usage_in_chunk(groq, HOSTS["groq"])).input_tokens == 7
    assert usage_in_chunk(groq, GENERIC) is not None  # an unknown host is read everywhere
    zero = {"usage": {"prompt_tokens": 0, "completion_tokens": 0}}
    assert usage_in_chunk(zero, HOSTS["vllm"]) is None  # vLLM's empty usage on early chunks
    cost = usage_from({"prompt_tokens": 1, "completion_tokens": 1, "cost": "0.0025"}, HOSTS["openrouter"])
    assert cost.provider_cost == pytest.approx(0.0025)


def test_estimate_is_marked_and_counts_everything_sent_and_received():
    msgs = [{"role": "user", "content": "x" * 400}]
    u = estimate_usage(msgs, [], ["y" * 80])
    assert u.estimated and u.input_tokens >= 100 and u.output_tokens == 20


@pytest.mark.parametrize("spec", ["openai/gpt-oss-20b", "gpt-oss:20b", "ollama/gpt-oss:20b", "my-model"])
def test_a_shown_name_resolves_to_the_same_wire_name(spec):
    """What the banner/ledger/TUI show can be picked again (/model NAME) and sends the same."""
    base = "http://127.0.0.1:9/v1"
    m = resolve_model(spec, api_base=base, env={})
    again = resolve_model(m.label, api_base=base, env={})
    assert "openai/openai" not in m.label
    assert again.wire_model == m.wire_model and again.label == m.label


def test_litellm_native_models_keep_their_history_as_is():
    m = resolve_model("anthropic/claude-sonnet-4-20250514", env={})
    assert profile_of(m) is NATIVE
    out = prepare_messages(history(None), m.reasoning_field, profile_of(m))
    assert out[1]["content"] is None  # litellm converts it for Anthropic itself
