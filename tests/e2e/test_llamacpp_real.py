"""Against a REAL llama.cpp server with a small real model (issue 18): opt-in, `make test-llamacpp`
(marker `llamacpp`, excluded from the default run). Skips with the reason where no server can
run (tests/llamacpp_server.py says how one is found).

What the issue found there, checked on the real thing: the file-path model name and the single
served model, the real context window from /props, its overflow error, usage against the
server's own counts (its log: "prompt eval time = ... / N tokens", "eval time = ... / M
tokens"), the output cap on every request, and a headless run bounded by --max-time.
Figures print as `LLAMACPP FIGURE ...` lines (run with -s).
"""
from __future__ import annotations

import asyncio
import json
import re
import time
from dataclasses import replace
from pathlib import Path

import pytest

import llamacpp_server
from agentproc import make_repo, query, run_agent

pytestmark = [pytest.mark.llamacpp, pytest.mark.timeout(1800),
              pytest.mark.filterwarnings("ignore::DeprecationWarning")]
CTX = 4096


def figure(name: str, value) -> None:
    print(f"LLAMACPP FIGURE {name}: {json.dumps(value)}", flush=True)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    prefix, why = llamacpp_server.how()
    if prefix is None:
        pytest.skip(why)
    model, why = llamacpp_server.model_path()
    if model is None:
        pytest.skip(why)
    log = tmp_path_factory.mktemp("llamacpp") / "server.log"
    try:
        srv = llamacpp_server.start(model, CTX, log)
    except RuntimeError as exc:
        pytest.skip(f"the llama.cpp server cannot run here: {exc}")
    try:
        yield srv
    finally:
        srv.stop()


def _timings(log: str) -> list[tuple[int, int]]:
    """(prompt tokens evaluated, tokens generated) per finished request, from the server log."""
    prompts = [int(n) for n in re.findall(r"prompt eval time =\s*[\d.]+ ms /\s*(\d+) tokens", log)]
    gens = [int(n) for n in re.findall(r"\n[^\n]*?\s eval time =\s*[\d.]+ ms /\s*(\d+) tokens", log)]
    return list(zip(prompts, gens))


def _released(log: str) -> list[int]:
    """Tokens in the slot (prompt + generated) as each request ended, cut ones included."""
    return [int(n) for n in re.findall(r"stop processing: n_tokens =\s*(\d+)", log)]


def test_the_server_tells_its_name_window_and_counts(server):
    from realcost_agent.providers import localserver
    from realcost_agent.providers.catalogue import resolve_model

    localserver.clear_cache()
    info = localserver.probe(server.url, "")
    figure("probe", {"models": info.models, "context": info.context, "source": info.source})
    assert info.models == (server.model_path,)  # llama.cpp lists the file path
    assert info.context == CTX and info.source == "llama.cpp /props n_ctx"
    named = resolve_model("openai/gemma-3-270m-q4_k_m", api_base=server.url, env={})
    model = localserver.adopt(named, named=True,
                              resolve=lambda n: resolve_model(n, api_base=server.url, env={}))
    assert model.wire_model == server.model_path and model.context_window == CTX and model.free


def test_ledger_figures_match_the_servers_own_counts(server):
    """A short real call through the agent's client: the usage it records against the server's
    log, and the server-tokenizer count the agent uses when a server reports none."""
    import httpx

    from realcost_agent.providers.base import Usage
    from realcost_agent.providers.catalogue import resolve_model
    from realcost_agent.providers.localusage import forget, server_usage
    from realcost_agent.providers.openai_compat import OpenAICompatProvider

    model = resolve_model(server.model_path, api_base=server.url, env={})
    model = replace(model, params=replace(model.params, max_output_tokens=12, temperature=0.0))
    messages = [{"role": "user", "content": f"Count from one to five. ({time.time()})"}]

    async def call():
        provider = OpenAICompatProvider(env={})
        try:
            deltas = [d async for d in provider.stream(messages, [], model)]
        finally:
            await provider.aclose()
        text = "".join(getattr(d, "text", "") for d in deltas if type(d).__name__ == "TextDelta")
        forget()
        async with httpx.AsyncClient() as client:
            counted = await server_usage(client, server.url, {"model": model.wire_model,
                                                              "messages": messages}, [text])
        return [d for d in deltas if isinstance(d, Usage)][-1], counted

    before = len(_timings(server.log_text()))
    reported, counted = asyncio.run(call())
    time.sleep(1.0)  # the timing lines follow the last chunk
    timings = _timings(server.log_text())[before:]
    figure("reported_vs_log", {"reported_in": reported.input_tokens,
                               "reported_cached": reported.cached_input_tokens,
                               "reported_out": reported.output_tokens, "log": timings})
    figure("tokenizer_count_vs_reported", {"counted_in": counted and counted.input_tokens,
                                           "counted_out": counted and counted.output_tokens})
    assert not reported.estimated and reported.output_tokens <= 12
    assert timings, server.log_text()[-800:]
    prompt_evaluated, generated = timings[-1]
    assert reported.input_tokens - reported.cached_input_tokens == prompt_evaluated
    assert reported.output_tokens == generated
    # The server's own template + tokenizer agree with what it reported, within a few tokens.
    assert counted is not None and counted.estimated
    assert abs(counted.input_tokens - reported.input_tokens) <= 3
    assert abs(counted.output_tokens - reported.output_tokens) <= 2


def test_its_overflow_error_is_recognised_with_its_window(server):
    from realcost_agent.agent.compaction import is_context_overflow
    from realcost_agent.providers.base import ProviderError
    from realcost_agent.providers.catalogue import resolve_model
    from realcost_agent.providers.openai_compat import OpenAICompatProvider
    from realcost_agent.providers.overflow import reported_window

    model = resolve_model(server.model_path, api_base=server.url, env={})
    messages = [{"role": "user", "content": "word " * (CTX + 500)}]

    async def call():
        provider = OpenAICompatProvider(env={})
        try:
            return [d async for d in provider.stream(messages, [], model)]
        finally:
            await provider.aclose()

    with pytest.raises(ProviderError) as info:
        asyncio.run(call())
    figure("overflow_error", {"status": info.value.status, "message": info.value.message})
    assert is_context_overflow(info.value)
    assert reported_window(info.value.message) == CTX


def test_a_headless_run_is_bounded_by_max_time_and_recorded(server, tmp_path: Path):
    """No --model (the one served model), no --backend (a loopback URL is local): bounded by
    --max-time whatever the model does; every call in the ledger with tokens, none silently 0."""
    repo = make_repo(tmp_path / "proj", {"calc.py": "def add(a, b):\n    return a - b\n"})
    before = len(_timings(server.log_text()))
    released_before = len(_released(server.log_text()))
    t0 = time.monotonic()
    proc = run_agent(repo, "-p", "Say hello in one word.", "--api-base", server.url,
                     "--max-time", "120", "--output-format", "json", timeout=900)
    took = time.monotonic() - t0
    result = json.loads(proc.stdout)
    calls = query(repo, "SELECT * FROM calls ORDER BY rowid")
    timings = _timings(server.log_text())[before:]
    figure("headless", {"status": result["status"], "seconds": round(took, 1),
                        "model": result["model"], "cost": result["cost_usd"],
                        "calls": [{k: c[k] for k in ("input_tokens", "output_tokens",
                                                     "cached_input_tokens", "usage_estimated",
                                                     "purpose", "duration_ms")} for c in calls],
                        "server_log": timings,
                        # a cut request prints no timing: the slot's tokens when it was released
                        "server_released_n_tokens": _released(server.log_text())[released_before:]})
    assert result["model"] == server.model_path
    assert result["cost_usd"] == 0
    assert took < 120 + 240  # --max-time plus start-up and counting, never the model's pace
    assert calls and all(c["input_tokens"] > 0 for c in calls)
    for call, (prompt_evaluated, generated) in zip(
            [c for c in calls if not c["usage_estimated"]], timings):
        assert call["input_tokens"] - call["cached_input_tokens"] == prompt_evaluated
        assert call["output_tokens"] == generated
