"""`agent doctor` against the fake server: each check passes or says exactly what to fix."""
from __future__ import annotations

import asyncio
import io
import socket
from pathlib import Path

from realcost_agent.agent.config import Settings
from realcost_agent.cli.doctor import Target, run_doctor, targets
from agentproc import run_agent
from fakeserver import FakeOpenAIServer, FakeToolCall, FakeTurn
from realcost_agent.providers.catalogue import resolve_model

PROFILES = ("gpt-oss-20b", "gpt-oss-120b", "o4-mini")
KEY = "sk-doctor-canary-1234567890"


def doctor(ts, env=None, **kw) -> tuple[int, str]:
    out = io.StringIO()
    code = asyncio.run(run_doctor(ts, env or {}, out, call_timeout=10, **kw))
    return code, out.getvalue()


def ping(server, *models: str) -> None:
    """Each model calls `ping`, then answers once the result comes back (the round trip)."""
    for m in models:
        server.add(FakeTurn(tool_calls=[FakeToolCall("ping", {})]), FakeTurn(content="pong"),
                   model=m)


def test_every_check_passes_against_a_working_server(fake_server) -> None:
    ping(fake_server, *PROFILES)
    ts = targets(Settings(api_base=fake_server.url), {})
    code, out = doctor(ts)
    assert code == 0, out
    assert out.count("tool call round trip works") == 3 and out.count("is listed") == 3
    assert "✗" not in out
    bodies = fake_server.chat_bodies
    assert [b["model"] for b in bodies] == [p for p in PROFILES for _ in (1, 2)]
    assert all(b["tools"][0]["function"]["name"] == "ping" for b in bodies)
    assert all(b["messages"][-1] == {"role": "tool", "tool_call_id": b["messages"][-2]["tool_calls"][0]["id"],
                                     "content": "pong"} for b in bodies[1::2])


def test_unlisted_models_and_a_model_that_will_not_call_tools_are_named() -> None:
    with FakeOpenAIServer(models=["gpt-oss-20b", "o4-mini"]) as server:
        server.add(FakeTurn(content="pong!"), model="gpt-oss-20b")  # text instead of a call
        ping(server, "o4-mini")
        code, out = doctor(targets(Settings(api_base=server.url), {}))
    assert code == 1
    assert "✗ openai-compatible: gpt-oss-120b is not listed" in out
    assert "gpt-oss-20b: asked to call `ping`, got no tool call" in out
    assert "✓ openai-compatible: o4-mini: tool call round trip works" in out
    assert len(server.chat_bodies) == 3  # 20b once, o4-mini's round trip; none for the unlisted


def _target(url: str, *, key_required: bool, name: str = "groq") -> Target:
    models = tuple(resolve_model(p, api_base=url, env={}) for p in ("gpt-oss-20b",))
    return Target(name, "Groq", models, ("GROQ_API_KEY",), key_required, "https://console.groq.com/keys")


def test_a_missing_key_is_named_with_where_to_get_one_and_nothing_is_sent(fake_server) -> None:
    code, out = doctor([_target(fake_server.url, key_required=True)])
    assert code == 1
    assert out.strip() == ("✗ groq: no key: export GROQ_API_KEY=... "
                           "(get one at https://console.groq.com/keys)")
    assert fake_server.requests == []


def test_an_unreachable_server_says_what_to_check() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed once the block ends: nothing listens there
    url = f"http://127.0.0.1:{port}/v1"
    code, out = doctor([_target(url, key_required=True)], {"GROQ_API_KEY": KEY})
    assert code == 1 and "✓ groq: key in GROQ_API_KEY" in out
    assert f"✗ groq: cannot reach {url}/models (ConnectError): check your network" in out
    code, out = doctor([_target(url, key_required=False, name="local")])
    assert "start the server (Groq)" in out


def test_a_failed_request_is_reported_without_the_key(fake_server) -> None:
    fake_server.add(FakeTurn(status=401, error_message=f"Incorrect API key provided: {KEY}"))
    code, out = doctor([_target(fake_server.url, key_required=True)], {"GROQ_API_KEY": KEY})
    assert code == 1
    assert "✗ groq: gpt-oss-20b: the request failed" in out and "401" in out
    assert KEY not in out
    assert fake_server.requests[0].headers["authorization"] == f"Bearer {KEY}"


def test_unconfigured_backends_get_one_line_each() -> None:
    ts = targets(Settings(), {"GROQ_API_KEY": KEY})
    configured = [t.name for t in ts if t.configured]
    assert configured == ["groq"]
    code, out = doctor([t for t in ts if not t.configured])
    assert code == 2 and "– openrouter: not configured · OpenRouter" in out
    assert "nothing is configured" in out


def test_the_cli(tmp_path: Path, fake_server) -> None:
    root = tmp_path / "proj"
    root.mkdir()
    proc = run_agent(root, "doctor", "--api-base", fake_server.url, "--no-call")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.count("is listed") == 3 and fake_server.chat_bodies == []
    proc = run_agent(root, "doctor", "--backend", "groq", "--no-call")
    assert proc.returncode == 1 and "export GROQ_API_KEY=..." in proc.stdout
