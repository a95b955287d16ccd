"""`agent doctor` and gpt-oss servers: the known misconfigurations, played by the fake server
with the servers' real error text (tests/fakehosts.py), are named with their fix; a working
server's round trip passes and its reasoning field is reported."""
from __future__ import annotations

import asyncio
import io

import pytest

from realcost_agent.agent.config import Settings
from realcost_agent.cli.doctor import run_doctor, targets
from realcost_agent.cli.doctor_hosts import diagnose, ollama_native
from fakeserver import FakeOpenAIServer, FakeToolCall, FakeTurn

SERVED = "openai/gpt-oss-20b"


def doctor(settings: Settings) -> tuple[int, str]:
    out = io.StringIO()
    code = asyncio.run(run_doctor(targets(settings, {}), {}, out, call_timeout=10))
    return code, out.getvalue()


def round_trip(server, reasoning: str = "The user wants a ping.") -> None:
    server.add(FakeTurn(reasoning=reasoning, tool_calls=[FakeToolCall("ping", {})]),
               FakeTurn(content="pong received"))


@pytest.mark.parametrize("host,misconfig,expected", [
    ("vllm", "no_auto_tool_choice",
     "vLLM was started without tool calling: restart it with `vllm serve openai/gpt-oss-20b "
     "--enable-auto-tool-choice --tool-call-parser openai`"),
    ("llamacpp", "no_jinja", "llama.cpp was started without --jinja"),
])
def test_a_server_started_without_tool_calling_is_named_with_the_fix(host, misconfig, expected):
    with FakeOpenAIServer(host=host, misconfig=misconfig, models=[SERVED]) as server:
        code, out = doctor(Settings(api_base=server.url, model=SERVED, api_host=host))
    assert code == 1
    assert expected in out, out
    assert "✗" in out and "the request failed" not in out  # the diagnosis replaces the raw error


def test_ollama_native_route_is_named_with_the_v1_url():
    with FakeOpenAIServer(host="ollama", models=["gpt-oss:20b"]) as server:
        native = f"http://127.0.0.1:{server.port}/api"
        code, out = doctor(Settings(api_base=native, model="gpt-oss:20b", api_host="ollama"))
        assert server.chat_bodies == []  # nothing was sent to the wrong route
        v1 = f"http://127.0.0.1:{server.port}/v1"
    assert code == 1
    assert f"is Ollama's native API, not its OpenAI-compatible one: use --api-base {v1}" in out


@pytest.mark.parametrize("host,streamed,echoed", [
    ("vllm", "reasoning", "reasoning"),
    ("llamacpp", "reasoning_content", "reasoning_content"),
    ("ollama", "reasoning", "reasoning"),
])
def test_working_server_round_trip_and_its_reasoning_field(host, streamed, echoed):
    with FakeOpenAIServer(host=host, models=[SERVED]) as server:
        round_trip(server)
        code, out = doctor(Settings(api_base=server.url, model=SERVED, api_host=host))
        # The tool result went back with the reasoning where this host reads it, and the
        # host accepted the history (Ollama: content "" not null; llama.cpp: not both).
        assert server.echoed[-1] == ["The user wants a ping."]
    assert code == 0, out
    assert "tool call round trip works" in out
    assert f"reasoning streams in `{streamed}` and is sent back in `{echoed}`" in out


def test_a_server_without_reasoning_output_is_pointed_at_its_parser():
    with FakeOpenAIServer(host="vllm", models=[SERVED]) as server:
        round_trip(server, reasoning="")
        code, out = doctor(Settings(api_base=server.url, model=SERVED, api_host="vllm"))
    assert code == 0  # it works; the note is advice, not a failure
    assert "--reasoning-parser openai_gptoss" in out


@pytest.mark.parametrize("status,text,name", [
    (400, '"auto" tool choice requires --enable-auto-tool-choice and --tool-call-parser to be set',
     "vllm_tool_choice"),
    (500, "tools param requires --jinja flag", "llamacpp_jinja"),
    (400, "invalid message content type: <nil>", "null_content"),
    (500, "Cannot pass both content and thinking in an assistant message with tool calls! Put "
          "the analysis message in one or the other, but not both.", "content_and_thinking"),
    (404, "404 page not found", "ollama_native_route"),
])
def test_diagnose_known_error_texts(status, text, name):
    diag = diagnose(status, text, "http://localhost:11434")
    assert diag is not None and diag.name == name and "\n" not in diag.message


def test_ollama_native_detection():
    assert ollama_native("http://localhost:11434") and ollama_native("http://box:9999/api/")
    assert not ollama_native("http://localhost:11434/v1") and not ollama_native("http://h:8000/v1")
    assert diagnose(404, "404 page not found", "http://localhost:8000/v1") is None
