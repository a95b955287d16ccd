"""Local model servers (issue 18) against fake servers answering as llama.cpp, llama-cpp-python,
vLLM, Ollama and LM Studio do (shapes and sources in tests/fakehosts.py), over real HTTP:
their served names and context windows, their overflow errors, usage when they report none,
the output cap on every request, and the unstreamed fallback for tool calls."""
from __future__ import annotations

import httpx
import pytest
from fakehosts import SHAPES, applied_template, fake_tokens, prompt_tokens
from fakeserver import FakeOpenAIServer, FakeToolCall, FakeTurn

from realcost_agent.agent.compaction import is_context_overflow
from realcost_agent.providers import localserver, localusage
from realcost_agent.providers.base import Finish, ProviderError, TextDelta, ToolCallDelta, Usage
from realcost_agent.providers.catalogue import resolve_model
from realcost_agent.providers.factory import make_provider
from realcost_agent.providers.localserver import adopt, probe, served_name
from realcost_agent.providers.overflow import learn_window, reported_window
from realcost_agent.providers.wire import DEFAULT_OUTPUT_CAP, MIN_OUTPUT_CAP

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

TOOLS = [{"type": "function", "function": {
    "name": "read_file", "description": "Read a file",
    "parameters": {"type": "object", "properties": {"path": {"type": "string"}}}}}]
GGUF = "/models/gemma-3-270m-q4_k_m.gguf"  # llama.cpp and llama-cpp-python list the file path


@pytest.fixture(autouse=True)
def _fresh():
    localserver.clear_cache()
    localusage.forget()
    yield
    localserver.clear_cache()
    localusage.forget()


def _model(server, spec="gemma-3-270m-q4_k_m", **kw):
    return resolve_model(spec, api_base=server.url, env={}, **kw)


async def _collect(model, messages, tools=(), kind="direct"):
    provider = make_provider(model, force=kind, env={})
    try:
        return [d async for d in provider.stream(list(messages), list(tools), model)], provider
    finally:
        await provider.aclose()


# -- context window and names --------------------------------------------------------------------
@pytest.mark.parametrize("host,source", [
    ("llamacpp", "llama.cpp /props n_ctx"), ("vllm", "vLLM /v1/models max_model_len"),
    ("ollama", "Ollama /api/ps context_length"), ("lmstudio", "LM Studio /api/v0/models"),
])
def test_each_server_tells_its_real_window(host, source):
    with FakeOpenAIServer(host=host, models=["gpt-oss-20b"]) as server:
        info = probe(server.url, "gpt-oss-20b")
        # The plain-http probe uses the standard library's client; httpx (its client for TLS
        # and proxies) reads the same answers.
        assert type(localserver._client_for(server.url, 1.0)).__name__ == "_PlainHttp"
        with httpx.Client(timeout=2.0) as client:
            assert probe(server.url, "gpt-oss-20b", client=client) == info
    assert info.reachable and info.models == ("gpt-oss-20b",)
    assert info.context == SHAPES[host].n_ctx and info.source == source


def test_the_probe_client_is_httpx_for_tls_a_proxy_or_credentials(monkeypatch):
    for var in localserver._PROXY_VARS:
        monkeypatch.delenv(var, raising=False)
    pick = lambda url: type(localserver._client_for(url, 1.0)).__name__  # noqa: E731
    assert pick("http://127.0.0.1:8080/v1") == "_PlainHttp"
    assert pick("http://[::1]:8080/v1") == "_PlainHttp"
    assert pick("https://127.0.0.1:8080/v1") == "Client"
    assert pick("http://user:secret@127.0.0.1:8080/v1") == "Client"
    monkeypatch.setenv("HTTP_PROXY", "http://proxy.example:3128")
    assert pick("http://127.0.0.1:8080/v1") == "Client"


def test_the_plain_http_probe_survives_a_server_that_closes_each_connection_and_one_that_is_gone():
    """An HTTP/1.0 server closes after every answer: each request opens a new connection."""
    import json
    import socket
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class OneShot(BaseHTTPRequestHandler):  # protocol_version HTTP/1.0: closes every time
        def do_GET(self):  # noqa: N802
            if self.path == "/props":
                body = json.dumps({"default_generation_settings": {"n_ctx": 4096}}).encode()
            elif self.path == "/v1/models":
                body = json.dumps({"data": [{"id": "gpt-oss-20b"}]}).encode()
            else:
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), OneShot)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        info = probe(f"http://127.0.0.1:{server.server_port}/v1", "gpt-oss-20b")
    finally:
        server.shutdown()
        server.server_close()
    assert info.reachable and info.models == ("gpt-oss-20b",) and info.context == 4096
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]
    gone = probe(f"http://127.0.0.1:{closed}/v1", "gpt-oss-20b", timeout=1.0)
    assert not gone.reachable and gone.context is None


def test_llama_cpp_python_does_not_say_and_the_catalogue_window_stays():
    with FakeOpenAIServer(host="llama-cpp-python", models=[GGUF]) as server:
        info = probe(server.url, GGUF)
        model = adopt(_model(server, GGUF), named=True)
    assert info.reachable and info.context is None
    assert model.context_window == 131_072 and model.wire_model == GGUF


def test_the_servers_window_replaces_the_assumed_one_and_bounds_the_output_cap():
    """The seed's llama-server had 8,192 tokens where the agent assumed 131,072."""
    with FakeOpenAIServer(host="llamacpp", models=["gpt-oss-20b"]) as server:
        server.add(FakeTurn(content="ok"))
        model = adopt(_model(server, "gpt-oss-20b"), named=True)
        assert model.context_window == SHAPES["llamacpp"].n_ctx
        # Fits the server's window (3 chars a token there) but leaves less than the default cap.
        big = [{"role": "user", "content": "x" * (3 * (model.context_window - 3000))}]
        import asyncio

        asyncio.run(_collect(model, big))
        (body,) = server.chat_bodies
    assert MIN_OUTPUT_CAP <= body["max_tokens"] < DEFAULT_OUTPUT_CAP


@pytest.mark.parametrize("name,ids,want", [
    ("openai/gemma", ["gemma"], "gemma"),  # litellm's prefix never reaches the server
    ("gemma-3-270m-q4_k_m", [GGUF], GGUF),  # a file-path id, matched by its file name
    ("gemma-3-270m-q4_k_m.gguf", [GGUF], GGUF),
    ("openai/gpt-oss-20b", ["openai/gpt-oss-20b"], "openai/gpt-oss-20b"),  # vLLM's own name
    ("other", [GGUF], None),
])
def test_served_name(name, ids, want):
    assert served_name(name, ids) == want


@pytest.mark.parametrize("kind", ["direct", "litellm"])
async def test_openai_prefix_is_not_sent_to_a_server_that_lists_the_bare_name(kind):
    with FakeOpenAIServer(host="llamacpp", models=[GGUF]) as server:
        server.add(FakeTurn(content="hi"))
        model = adopt(_model(server, "openai/gemma-3-270m-q4_k_m.gguf"), named=True,
                      resolve=lambda n: _model(server, n))
        await _collect(model, [{"role": "user", "content": "hi"}], kind=kind)
        (body,) = server.chat_bodies
    assert body["model"] == GGUF and model.label == GGUF


def test_the_single_served_model_is_used_when_none_is_named():
    with FakeOpenAIServer(host="llama-cpp-python", models=[GGUF]) as server:
        default = _model(server, "gpt-oss-120b")  # what "auto" resolves to
        model = adopt(default, named=False, resolve=lambda n: _model(server, n))
    assert model.wire_model == GGUF and model.profile is None and model.free


def test_a_named_model_the_server_does_not_list_is_left_for_doctor_to_report():
    with FakeOpenAIServer(host="llamacpp", models=[GGUF, "other.gguf"]) as server:
        model = adopt(_model(server, "gpt-oss-20b"), named=True)
    assert model.wire_model == "gpt-oss-20b"


def test_no_server_no_change():
    model = resolve_model("gpt-oss-20b", api_base="http://127.0.0.1:9/v1", env={})
    assert adopt(model, named=True) == model


# -- overflow errors -------------------------------------------------------------------------------
@pytest.mark.parametrize("host", ["llamacpp", "llama-cpp-python", "vllm", "lmstudio"])
async def test_each_servers_overflow_error_is_recognised_with_its_window(host):
    with FakeOpenAIServer(host=host, models=["m"]) as server:
        server.add(FakeTurn(content="never"))
        model = _model(server, "m")
        big = [{"role": "user", "content": "y" * (3 * SHAPES[host].n_ctx + 300)}]
        with pytest.raises(ProviderError) as info:
            await _collect(model, big)
    assert is_context_overflow(info.value), info.value.message
    assert reported_window(info.value.message) == SHAPES[host].n_ctx
    assert learn_window(model, info.value.message).context_window == SHAPES[host].n_ctx


@pytest.mark.parametrize("status,text", [
    (500, "the request exceeds the available context size. try increasing the context size or "
          "enable context shift (n_ctx 256, prompt 1407 tokens)"),  # llama.cpp#15780's first form
    (400, "request (9000 tokens) exceeds the available context size (8192 tokens), try increasing it"),
    (400, "Requested tokens (2285) exceed context window of 2048"),
])
def test_overflow_wordings(status, text):
    err = ProviderError(text, backend="b", model="m", status=status)
    assert is_context_overflow(err)
    assert reported_window(text) in (256, 8192, 2048)


def test_a_500_that_is_not_an_overflow_is_not_one():
    err = ProviderError("context length is fine, the server crashed", backend="b", model="m", status=500)
    assert not is_context_overflow(err)


# -- usage when the server reports none ------------------------------------------------------------
MSGS = [{"role": "system", "content": "You are terse."}, {"role": "user", "content": "Say hello to the world."}]


def _usage_of(deltas) -> Usage:
    (usage,) = [d for d in deltas if isinstance(d, Usage)]
    return usage


@pytest.mark.parametrize("kind", ["direct", "litellm"])
async def test_llama_cpp_python_streams_no_usage_its_tokenizer_counts_it(kind):
    """27 real requests left 0 rows: now the server's own /extras/tokenize/count."""
    with FakeOpenAIServer(host="llama-cpp-python", models=[GGUF]) as server:
        server.add(FakeTurn(content="Hello, world!"))
        deltas, _ = await _collect(_model(server, GGUF), MSGS, kind=kind)
    usage = _usage_of(deltas)
    assert usage.estimated
    assert usage.output_tokens == fake_tokens("Hello, world!")
    assert usage.input_tokens == prompt_tokens(SHAPES["llama-cpp-python"], {"messages": MSGS})


async def test_llamacpp_without_usage_counts_with_its_template_and_tokenizer():
    with FakeOpenAIServer(host="llamacpp", models=[GGUF]) as server:
        server.add(FakeTurn(content="Hello there", usage=False))
        deltas, _ = await _collect(_model(server, GGUF), MSGS)
    usage = _usage_of(deltas)
    assert usage.estimated
    assert usage.input_tokens == fake_tokens(applied_template(MSGS))
    assert usage.output_tokens == fake_tokens("Hello there")


async def test_vllm_without_usage_counts_with_its_tokenize_endpoint():
    with FakeOpenAIServer(host="vllm", models=["openai/gpt-oss-20b"]) as server:
        server.add(FakeTurn(content="Hi", usage=False))
        deltas, _ = await _collect(_model(server, "openai/gpt-oss-20b"), MSGS)
    usage = _usage_of(deltas)
    assert usage.estimated and usage.input_tokens == prompt_tokens(SHAPES["vllm"], {"messages": MSGS})


async def test_lmstudio_has_no_tokenizer_endpoint_and_gets_a_labelled_estimate():
    with FakeOpenAIServer(host="lmstudio", models=["openai/gpt-oss-20b"]) as server:
        server.add(FakeTurn(content="Hello, world!"), FakeTurn(content="again"))
        model = _model(server, "openai/gpt-oss-20b")
        first, _ = await _collect(model, MSGS)
        await _collect(model, MSGS)
        asked = [r.path for r in server.requests if r.method == "POST" and "chat" not in r.path]
    usage = _usage_of(first)
    assert usage.estimated and usage.input_tokens > 0 and usage.output_tokens > 0
    # The tokenizer endpoints were tried for the first call only: remembered as absent.
    assert len(asked) == len(set(asked))


async def test_reported_usage_is_taken_as_is():
    with FakeOpenAIServer(host="llamacpp", models=[GGUF]) as server:
        server.add(FakeTurn(content="x", prompt_tokens=321, completion_tokens=7))
        deltas, _ = await _collect(_model(server, GGUF), MSGS)
    usage = _usage_of(deltas)
    assert (usage.input_tokens, usage.output_tokens, usage.estimated) == (321, 7, False)


# -- every request carries an output cap -------------------------------------------------------------
@pytest.mark.parametrize("kind", ["direct", "litellm"])
async def test_an_unknown_model_gets_an_output_cap(kind):
    """One call streamed for over 15 minutes: no max_tokens was sent for an unknown model."""
    with FakeOpenAIServer(host="llamacpp", models=[GGUF]) as server:
        server.add(FakeTurn(content="hi"))
        model = _model(server, GGUF)
        assert model.params.max_output_tokens is None
        await _collect(model, MSGS, kind=kind)
        (body,) = server.chat_bodies
    assert body["max_tokens"] == DEFAULT_OUTPUT_CAP


# -- streamed tool calls refused ---------------------------------------------------------------------
async def test_llama_cpp_python_refusing_streamed_tools_falls_back_once_and_remembers():
    with FakeOpenAIServer(host="llama-cpp-python", models=[GGUF]) as server:
        server.add(FakeTurn(tool_calls=[FakeToolCall("read_file", {"path": "a.py"})]),
                   FakeTurn(content="done"))
        model = _model(server, GGUF)
        provider = make_provider(model, force="direct", env={})
        try:
            with pytest.raises(ProviderError) as info:
                [d async for d in provider.stream(MSGS, TOOLS, model)]
            assert info.value.retryable and info.value.retry_after == 0
            assert "without streaming" in info.value.message
            again = [d async for d in provider.stream(MSGS, TOOLS, model)]
            later = [d async for d in provider.stream(MSGS, TOOLS, model)]
        finally:
            await provider.aclose()
        bodies = server.chat_bodies
    calls = [d for d in again if isinstance(d, ToolCallDelta)]
    assert calls and calls[0].name == "read_file"
    assert [d.reason for d in again if isinstance(d, Finish)] == ["tool_calls"]
    assert [d.text for d in later if isinstance(d, TextDelta)] == ["done"]
    assert [bool(b.get("stream")) for b in bodies] == [True, False, False]


# -- doctor --------------------------------------------------------------------------------------------
def _doctor(settings) -> tuple[int, str]:
    import asyncio
    import io

    from realcost_agent.cli.doctor import run_doctor, targets

    out = io.StringIO()
    code = asyncio.run(run_doctor(targets(settings, {}), {}, out, call_timeout=20))
    return code, out.getvalue()


def test_doctor_lists_what_the_server_serves_and_uses_its_name():
    """The seed: `--model openai/<name>` sent the prefix, doctor said "not listed", and without
    --model it checked the three profiles only; its --jinja hint showed with jinja on."""
    from realcost_agent.agent.config import Settings

    with FakeOpenAIServer(host="llamacpp", models=[GGUF]) as server:
        server.add(FakeTurn(content="I would rather talk."), FakeTurn(content="Still talking."))
        code, named = _doctor(Settings(api_base=server.url, model="openai/gemma-3-270m-q4_k_m.gguf"))
        _, auto = _doctor(Settings(api_base=server.url))
        bodies = server.chat_bodies
    for out in (named, auto):
        assert f"serves 1 model(s): {GGUF}" in out
        assert "context window 16,384 tokens (llama.cpp /props n_ctx)" in out
        assert f"{GGUF} is listed" in out and "not listed" not in out
        assert "the server accepted the tools, so the model itself did not call it" in out
        assert "--jinja" not in out
    assert [b["model"] for b in bodies] == [GGUF, GGUF]
    assert all(b["max_tokens"] <= 2048 for b in bodies)  # the ping is bounded in tokens too
    assert code == 1


def test_doctor_suggests_the_served_name_for_an_unlisted_model():
    from realcost_agent.agent.config import Settings

    with FakeOpenAIServer(host="vllm", models=["Qwen/Qwen3-8B", "openai/gpt-oss-20b"]) as server:
        server.add(FakeTurn(tool_calls=[FakeToolCall("ping", {})]), FakeTurn(content="pong"))
        _, same = _doctor(Settings(api_base=server.url, model="gpt-oss-20b"))
        code, other = _doctor(Settings(api_base=server.url, model="gpt-oss-120b"))
    # vLLM's own name for the profile is found and used ...
    assert "gpt-oss-20b (openai/gpt-oss-20b) is listed" in same and "round trip works" in same
    assert "context window 32,768 tokens (vLLM /v1/models max_model_len)" in same
    # ... and a model it does not serve gets the closest served name.
    assert code == 1
    assert "gpt-oss-120b is not listed: use --model openai/gpt-oss-20b" in other


def test_doctor_round_trip_on_a_server_that_refuses_streamed_tools():
    from realcost_agent.agent.config import Settings

    with FakeOpenAIServer(host="llama-cpp-python", models=[GGUF]) as server:
        server.add(FakeTurn(tool_calls=[FakeToolCall("ping", {})]), FakeTurn(content="pong"))
        code, out = _doctor(Settings(api_base=server.url))
        bodies = server.chat_bodies
    assert code == 0, out
    assert "tool call round trip works (unstreamed: the server refuses streamed tool calls)" in out
    assert [bool(b.get("stream")) for b in bodies] == [True, False, False]
