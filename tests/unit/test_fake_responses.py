"""The fake server's Responses API stream (tests/fake_responses.py), which bench/codex_bench.py
serves to Codex: read back over real HTTP the way Codex's client reads it (SSE `event:` + `data:`
lines, items from response.output_item.done, usage from response.completed, end of stream)."""
from __future__ import annotations

import json
import urllib.request

import pytest

from fake_responses import SHELL, shell_call
from fakeserver import FakeOpenAIServer, FakeToolCall, FakeTurn

TOOLS = [{"type": "function", "name": "exec_command", "parameters": {}},
         {"type": "function", "name": "write_stdin", "parameters": {}}]


def _post(url: str, body: dict) -> list[tuple[str, dict]]:
    req = urllib.request.Request(url + "/responses", data=json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as resp:
        assert resp.headers["Content-Type"] == "text/event-stream"
        text = resp.read().decode()
    events = []
    for block in text.strip().split("\n\n"):
        lines = dict(line.split(": ", 1) for line in block.splitlines())
        data = json.loads(lines["data"])
        assert lines["event"] == data["type"]  # the SSE event name is the payload's type
        events.append((data["type"], data))
    return events


def test_text_tool_call_and_usage_in_the_order_codex_reads_them() -> None:
    with FakeOpenAIServer() as server:
        server.add(FakeTurn(content="Looking.", prompt_tokens=40, completion_tokens=7,
                            cached_tokens=8, tool_calls=[FakeToolCall(SHELL, {"command": "ls"})]))
        events = _post(server.url, {"model": "m", "stream": True, "tools": TOOLS, "input": []})
        assert server.requests[0].path == "/v1/responses"
    kinds = [k for k, _ in events]
    assert kinds[0] == "response.created" and kinds[-1] == "response.completed"
    text = "".join(d["delta"] for k, d in events if k == "response.output_text.delta")
    assert text == "Looking."
    done = [d["item"] for k, d in events if k == "response.output_item.done"]
    assert done[0]["content"][0] == {"type": "output_text", "text": "Looking.", "annotations": []}
    call = done[1]
    assert call["type"] == "function_call" and call["name"] == "exec_command"
    assert json.loads(call["arguments"]) == {"cmd": "ls", "login": False}
    usage = events[-1][1]["response"]["usage"]
    assert usage == {"input_tokens": 40, "input_tokens_details": {"cached_tokens": 8},
                     "output_tokens": 7, "output_tokens_details": {"reasoning_tokens": 0},
                     "total_tokens": 47}
    assert events[-1][1]["response"]["output"] == done


def test_the_shell_call_follows_the_tool_the_request_offers() -> None:
    assert shell_call("ls", {"tools": [{"name": "shell_command"}]}) == (
        "shell_command", {"command": "ls", "login": False})
    assert shell_call("ls", {"tools": [{"name": "shell"}]}) == ("shell", {"command": ["bash", "-c", "ls"]})
    with pytest.raises(ValueError, match="no shell tool"):
        shell_call("ls", {"tools": [{"name": "view_image"}]})


def test_chat_completions_still_served_beside_it() -> None:
    with FakeOpenAIServer() as server:
        server.add(FakeTurn(content="hi"))
        req = urllib.request.Request(server.url + "/chat/completions",
                                     data=json.dumps({"model": "m", "messages": []}).encode(),
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=10) as resp:
            assert json.load(resp)["choices"][0]["message"]["content"] == "hi"
