"""The fake server itself: what other suites rely on."""
from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path

import httpx
from fakeserver import FakeOpenAIServer, FakeToolCall, FakeTurn

from realcost_agent.providers.base import TextDelta
from realcost_agent.providers.catalogue import resolve_model
from realcost_agent.providers.openai_compat import OpenAICompatProvider

FAKESERVER = Path(__file__).resolve().parents[2] / "fakeserver.py"


def test_non_streaming_completion_and_models(fake_server):
    fake_server.add(FakeTurn(content="hi", reasoning="r", reasoning_field="reasoning",
                             tool_calls=[FakeToolCall("f", {"a": 1}, id="c9")], cached_tokens=2))
    with httpx.Client(base_url=fake_server.url) as c:
        models = c.get("/models").json()
        assert [m["id"] for m in models["data"]] == ["gpt-oss-20b", "gpt-oss-120b", "o4-mini"]
        r = c.post("/chat/completions", json={"model": "m", "messages": []}).json()
    msg = r["choices"][0]["message"]
    assert msg["content"] == "hi" and msg["reasoning"] == "r"
    assert msg["tool_calls"][0] == {"id": "c9", "type": "function", "function": {"name": "f", "arguments": '{"a": 1}'}}
    assert r["choices"][0]["finish_reason"] == "tool_calls"
    assert r["usage"]["prompt_tokens_details"]["cached_tokens"] == 2
    assert [q.method for q in fake_server.requests] == ["GET", "POST"]


def test_exhausted_script_and_required_key():
    with FakeOpenAIServer(require_key="k1") as srv, httpx.Client(base_url=srv.url) as c:
        srv.add(FakeTurn(content="x"))
        assert c.post("/chat/completions", json={"model": "m"}).status_code == 401
        assert srv.remaining() == 1
        ok = c.post("/chat/completions", json={"model": "m"}, headers={"Authorization": "Bearer k1"})
        assert ok.status_code == 200
        gone = c.post("/chat/completions", json={"model": "m"}, headers={"Authorization": "Bearer k1"})
        assert gone.status_code == 400 and "no scripted turn left" in gone.json()["error"]["message"]


async def test_per_model_queues_and_concurrent_requests(fake_server):
    for i in range(4):
        fake_server.add(FakeTurn(content=f"big{i}", chunk_delay=0.05), model="gpt-oss-120b")
        fake_server.add(FakeTurn(content=f"any{i}", chunk_delay=0.05))
    big = resolve_model("gpt-oss-120b", api_base=fake_server.url, env={})
    small = resolve_model("gpt-oss-20b", api_base=fake_server.url, env={})
    provider = OpenAICompatProvider(env={})

    async def text(model):
        return "".join([d.text async for d in provider.stream([], [], model) if isinstance(d, TextDelta)])

    results = await asyncio.wait_for(asyncio.gather(*[text(m) for m in [big, small] * 4]), 10)
    await provider.aclose()
    assert sorted(r for r in results if r.startswith("big")) == [f"big{i}" for i in range(4)]
    assert sorted(r for r in results if r.startswith("any")) == [f"any{i}" for i in range(4)]
    assert fake_server.remaining() == 0


def test_runs_as_a_process_with_a_log(tmp_path):
    script = tmp_path / "turns.json"
    script.write_text(json.dumps({"turns": [{"content": "from the script"}],
                                  "by_model": {"o4-mini": [{"content": "o4 answer"}]}}))
    log = tmp_path / "requests.jsonl"
    proc = subprocess.Popen([sys.executable, str(FAKESERVER), "--script", str(script), "--port", "0",
                             "--log", str(log)], stdout=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline().strip()
        assert line.startswith("READY http://127.0.0.1:") and line.endswith("/v1")
        base = line.split()[1]
        with httpx.Client(base_url=base) as c:
            r = c.post("/chat/completions", json={"model": "o4-mini", "messages": [], "stream": True})
            assert "o4 answer" not in r.text  # streamed in pieces
            assert r.text.rstrip().endswith("data: [DONE]")
            r2 = c.post("/chat/completions", json={"model": "x", "messages": []})
            assert r2.json()["choices"][0]["message"]["content"] == "from the script"
    finally:
        proc.terminate()
        assert proc.wait(timeout=10) == 0
    entries = [json.loads(x) for x in log.read_text().splitlines()]
    assert [e["body"]["model"] for e in entries] == ["o4-mini", "x"]
