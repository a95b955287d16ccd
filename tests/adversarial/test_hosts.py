"""Hostile or broken hosts: what a server reports must not defeat the cost limit, pass a remote
server off as free, or leak a key through its errors or through `agent doctor`."""
from __future__ import annotations

import asyncio
import io
import json
import math

import httpx
import pytest

from realcost_agent.agent.config import Settings
from realcost_agent.cli.doctor import run_doctor, targets
from fakeserver import FakeOpenAIServer, FakeTurn
from realcost_agent.providers.base import ProviderError, Usage
from realcost_agent.providers.catalogue import resolve_model
from realcost_agent.providers.hosts import HOSTS, guess_host, is_local_url
from realcost_agent.providers.openai_compat import OpenAICompatProvider
from realcost_agent.providers.prices import price_for_model
from realcost_agent.agent.usagecheck import MAX_TOKENS, check_usage
from realcost_agent.providers.usage import usage_from, usage_in_chunk

KEY = "sk-hostile-0123456789abcdefSECRET"

BAD_COUNTS = [-1, -10**12, float("nan"), float("inf"), float("-inf"), True, "12", None,
              [5], {"n": 5}, 10**15, -0.5]


@pytest.mark.attack("limits")
@pytest.mark.parametrize("bad", BAD_COUNTS, ids=repr)
@pytest.mark.parametrize("where", ["usage", "x_groq"])
def test_hostile_token_counts_never_go_negative_or_unbounded(bad, where):
    """A negative count would make a call's cost negative and let a turn run past --max-cost."""
    usage = {"prompt_tokens": bad, "completion_tokens": bad,
             "prompt_tokens_details": {"cached_tokens": bad},
             "completion_tokens_details": {"reasoning_tokens": bad}, "cost": bad}
    chunk = {"choices": [], "usage": usage} if where == "usage" else {
        "choices": [], "x_groq": {"usage": usage}}
    found = usage_in_chunk(chunk, HOSTS["groq"] if where == "x_groq" else HOSTS["openrouter"])
    # What the turn records: the host's figures as read, then the one usage check.
    u, _note = check_usage(usage_from(found if found is not None else usage, HOSTS["openrouter"]))
    for n in (u.input_tokens, u.output_tokens, u.cached_input_tokens, u.reasoning_tokens):
        assert isinstance(n, int) and 0 <= n <= MAX_TOKENS
    assert u.provider_cost is None or (math.isfinite(u.provider_cost) and u.provider_cost >= 0)
    price = price_for_model(resolve_model("gpt-oss-120b", backend="openrouter", env={}))
    assert price is not None and price.cost(u) >= 0


@pytest.mark.attack("limits")
@pytest.mark.parametrize("cost", ["-5", -0.01, "nan", "inf", 1e9, "1e400", "0x10"])
def test_hostile_billed_cost_is_dropped_not_believed(cost):
    u, note = check_usage(usage_from({"prompt_tokens": 10, "completion_tokens": 2, "cost": cost},
                                     HOSTS["openrouter"]))
    assert u.provider_cost is None and "provider_cost" in (note or "")


@pytest.mark.attack("limits")
@pytest.mark.parametrize("url", [
    "http://[::ffff:8.8.8.8]/v1",  # IPv4-mapped public address: "private" to Python < 3.13
    "http://localhost.evil.example/v1", "http://127.0.0.1.nip.io/v1", "http://8.8.8.8:11434/v1",
    "http://0.0.0.0:8000/v1", "http://[ff02::1]/v1", "https://api.example.com/v1",
])
def test_a_remote_server_is_not_passed_off_as_local_and_free(url):
    """A remote base URL marked local would bill $0 and never hit --max-cost."""
    assert not is_local_url(url)
    model = resolve_model("gpt-oss-20b", api_base=url, env={})
    assert not model.free
    assert price_for_model(model) is None  # unknown, never $0


@pytest.mark.attack("key_theft")
@pytest.mark.parametrize("url", [
    "https://openrouter.ai.evil.example/api/v1", "https://evilopenrouter.ai/api/v1",
    "https://api.groq.com.evil.example/openai/v1", "https://router.huggingface.co@evil.example/v1",
])
def test_lookalike_hostnames_do_not_get_a_known_hosts_profile_or_key(url):
    """A look-alike URL is an unknown server: no host's profile, and the custom key variable
    (never a catalogue backend's key) is what it may receive."""
    assert guess_host(url).name == "generic"
    model = resolve_model("gpt-oss-20b", api_base=url, env={"OPENROUTER_API_KEY": KEY,
                                                            "GROQ_API_KEY": KEY})
    assert model.api_key_env == "OPENAI_COMPAT_API_KEY" and model.host == "generic"


@pytest.mark.attack("secrets")
@pytest.mark.parametrize("host", ["ollama", "llamacpp", "groq", "vllm"])
def test_a_host_echoing_the_key_in_its_error_never_shows_it(host):
    """The error line the user (and the model's history) sees has the key removed."""
    async def go() -> ProviderError:
        with FakeOpenAIServer(host=host) as server:
            server.add(FakeTurn(status=400, error_message=f"bad key {KEY} for this model"))
            model = resolve_model("gpt-oss-20b", api_base=server.url,
                                  env={"OPENAI_COMPAT_API_KEY": KEY}, host=host)
            provider = OpenAICompatProvider(env={"OPENAI_COMPAT_API_KEY": KEY})
            try:
                with pytest.raises(ProviderError) as info:
                    async for _ in provider.stream([{"role": "user", "content": "x"}], [], model):
                        pass
            finally:
                await provider.aclose()
            return info.value
    err = asyncio.run(go())
    assert KEY not in str(err) and KEY not in err.message and "bad key" in str(err)


@pytest.mark.attack("secrets")
@pytest.mark.parametrize("misconfig", ["no_auto_tool_choice", "no_jinja"])
def test_doctor_never_prints_the_key_a_misconfigured_server_echoes(misconfig, monkeypatch):
    with FakeOpenAIServer(host="vllm", misconfig=misconfig, models=["m"]) as server:
        server.models = [f"m-{KEY}"]  # the server lists a name carrying the key
        env = {"OPENAI_COMPAT_API_KEY": KEY}
        out = io.StringIO()
        code = asyncio.run(run_doctor(targets(Settings(api_base=server.url, model=f"m-{KEY}"), env),
                                      env, out, call_timeout=10))
    assert code == 1 and KEY not in out.getvalue()


@pytest.mark.attack("limits")
@pytest.mark.parametrize("details", [
    [{"type": "reasoning.text", "text": 5}], [None, "x", 3], "not-a-list", [{"text": ["nested"]}],
])
def test_malformed_reasoning_details_do_not_break_the_stream(details):
    body = "".join(f"data: {json.dumps(p)}\n\n" for p in (
        {"choices": [{"index": 0, "delta": {"reasoning_details": details, "content": "ok"}}]},
        {"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]},
    )) + "data: [DONE]\n\n"

    async def go():
        provider = OpenAICompatProvider(env={}, transport=httpx.MockTransport(
            lambda req: httpx.Response(200, content=body.encode(),
                                       headers={"content-type": "text/event-stream"})))
        model = resolve_model("gpt-oss-20b", backend="openrouter", env={"OPENROUTER_API_KEY": KEY})
        try:
            return [d async for d in provider.stream([{"role": "user", "content": "x"}], [], model)]
        finally:
            await provider.aclose()
    out = asyncio.run(go())
    assert any(getattr(d, "text", None) == "ok" for d in out)
    assert isinstance(out[-2], Usage) and out[-2].estimated
