"""Issue 18's bounds as pure functions: the output cap every request carries, the repo-map
budget inside a small window, the usage of a call cut before the server reported any."""
from __future__ import annotations

from dataclasses import replace

from realcost_agent.agent.callusage import received_estimate
from realcost_agent.tools.repomap import budget_for
from realcost_agent.agent.toolcalls import CallAssembler
from realcost_agent.agent.turn import StepResult
from realcost_agent.providers.catalogue import resolve_model
from realcost_agent.providers.localserver import server_root
from realcost_agent.providers.wire import DEFAULT_OUTPUT_CAP, MIN_OUTPUT_CAP, output_cap, request_params


def _model(spec="some-local-model", ctx=None):
    m = resolve_model(spec, api_base="http://127.0.0.1:8080/v1", env={})
    return m if ctx is None else replace(m, context_window=ctx)


def test_an_unknown_model_still_gets_a_cap():
    m = _model()
    assert m.params.max_output_tokens is None
    assert request_params(m)["max_tokens"] == DEFAULT_OUTPUT_CAP


def test_the_cap_leaves_the_prompt_its_room():
    m = _model(ctx=8192)
    assert output_cap(m, 1000) < DEFAULT_OUTPUT_CAP
    assert output_cap(m, 1000) + 1000 <= 8192
    assert output_cap(m, 9000) == MIN_OUTPUT_CAP  # past the window: the server says so


def test_a_profiles_cap_is_kept_when_it_fits():
    m = resolve_model("gpt-oss-120b", backend="openrouter", env={})
    assert output_cap(m, 2000) == m.params.max_output_tokens == 16_384
    assert request_params(m, 2000)["max_tokens"] == 16_384


def test_o_series_cap_goes_in_its_own_field():
    m = resolve_model("o4-mini", backend="openai", env={})
    params = request_params(m, 100)
    assert "max_tokens" not in params and params["max_completion_tokens"] == 32_768


def test_repo_map_budget_fits_a_small_window():
    assert budget_for("gpt-oss-120b", None, 131_072) == 4096  # unchanged on a large window
    assert budget_for("gpt-oss-120b", None, 4096) == 256
    assert budget_for(None, 3000, 4096) == 3000  # the user's own setting wins


def test_a_cut_call_is_recorded_with_what_it_received():
    messages = [{"role": "user", "content": "x" * 400}]
    step = StepResult(text="y" * 80, reasoning="z" * 40)
    parts = CallAssembler(frozenset({"read_file"}))
    parts.add(0, "c1", "read_file", '{"path": "a.py"}')
    usage = received_estimate(messages, step, parts)
    assert usage.estimated and usage.input_tokens >= 100 and usage.output_tokens >= 30
    nothing = received_estimate(messages, StepResult(), CallAssembler(frozenset()))
    assert nothing.output_tokens == 0 and nothing.input_tokens > 0


def test_server_root():
    assert server_root("http://127.0.0.1:8080/v1/") == "http://127.0.0.1:8080"
    assert server_root("http://h:1234/proxy/v1") == "http://h:1234/proxy"
