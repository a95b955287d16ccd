from __future__ import annotations

import json

import pytest

from realcost_agent.providers import prices
from realcost_agent.providers.base import Usage
from realcost_agent.providers.catalogue import resolve_model
from realcost_agent.providers.prices import FREE, Price, context_window_for, price_for, price_for_model


def test_reads_litellm_bundled_file():
    path = prices.price_file()
    assert path is not None and path.name == "model_prices_and_context_window_backup.json"
    assert "litellm" in path.parts


def test_o4_mini_numbers_from_the_file():
    p = price_for("o4-mini")
    assert p == Price(input=1.1e-06, output=4.4e-06, cached_input=2.75e-07)
    assert p.input_per_million == pytest.approx(1.10)
    assert p.cached_input_per_million == pytest.approx(0.275)
    assert p.output_per_million == pytest.approx(4.40)
    assert price_for("openai/o4-mini") == p  # the file keys OpenAI models without a prefix
    assert context_window_for("o4-mini") == 200_000


def test_gpt_oss_numbers_from_the_file():
    assert price_for("groq/openai/gpt-oss-120b") == Price(1.5e-07, 6e-07, 7.5e-08)
    assert price_for("openrouter/openai/gpt-oss-20b") == Price(2e-08, 1e-07, None)
    assert price_for("cerebras/gpt-oss-120b") == Price(3.5e-07, 7.5e-07, None)
    assert context_window_for("openrouter/openai/gpt-oss-120b") == 131_072


def test_numbers_match_the_json_exactly():
    data = json.loads(prices.price_file().read_text())
    entry = data["fireworks_ai/accounts/fireworks/models/gpt-oss-120b"]
    p = price_for("fireworks_ai/accounts/fireworks/models/gpt-oss-120b")
    assert (p.input, p.output) == (entry["input_cost_per_token"], entry["output_cost_per_token"])


def test_unknown_is_none_not_zero():
    assert price_for("nobody/never-a-model") is None
    assert context_window_for("nobody/never-a-model") is None
    assert price_for("sample_spec") is None
    assert price_for("openrouter/openai/o4-mini") is None  # not in the file: no invented price


def test_model_prices():
    assert price_for_model(resolve_model("gpt-oss-20b", backend="local", env={})) is FREE
    # OpenRouter's o4-mini is billed at OpenAI's list price (explicit in the catalogue).
    assert price_for_model(resolve_model("o4-mini", env={})) == price_for("o4-mini")
    assert price_for_model(resolve_model("gpt-oss-20b", api_base="https://gw.example.com/v1", env={})) is None


def test_cost_of_a_call():
    p = Price(input=1e-6, output=4e-6, cached_input=2.5e-7)
    u = Usage(input_tokens=1000, output_tokens=500, cached_input_tokens=800, reasoning_tokens=300)
    assert p.cost(u) == pytest.approx(200 * 1e-6 + 800 * 2.5e-7 + 500 * 4e-6)
    no_cache_rate = Price(input=1e-6, output=4e-6)
    assert no_cache_rate.cost(u) == pytest.approx(1000 * 1e-6 + 500 * 4e-6)


def test_table_is_cached_per_process():
    prices._table.cache_clear()
    price_for("o4-mini")
    price_for("o3")
    info = prices._table.cache_info()
    assert info.misses == 1 and info.hits >= 1
