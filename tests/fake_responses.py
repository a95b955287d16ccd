"""The OpenAI Responses API (`POST /v1/responses`, streaming) for the fake server.

Recent Codex CLI versions speak only this wire to custom providers (`wire_api = "responses"`), so
the side-by-side bench (bench/codex_bench.py) needs it. The shape is the minimal one Codex's
client (codex-rs/codex-api/src/sse/responses.rs) reads, in the order the real API sends it:

    response.created            {"response": {"id", "status": "in_progress", ...}}
    response.output_item.added  the assistant message item, empty
    response.output_text.delta  the text in small pieces
    response.output_item.done   the full message item
    response.output_item.done   one per tool call: {"type": "function_call", "name",
                                "arguments" (a JSON string), "call_id"}
    response.completed          {"response": {"id", "status": "completed", "output": [...],
                                "usage": {input_tokens, input_tokens_details.cached_tokens,
                                output_tokens, output_tokens_details.reasoning_tokens,
                                total_tokens}}}

then the stream ends (Codex treats end-of-stream after response.completed as the turn's end).
Every event is `event: <type>` + `data: <json>`, as the real API sends it.

A tool call named SHELL is a shell command for whichever shell tool the request offers (Codex
picks its tool set per model: `shell_command`, `exec_command` or `shell`), so one scripted turn
runs the same command whatever the client calls its tool.
"""
from __future__ import annotations

import json
import time
from typing import Any

SHELL = "$shell"  # FakeToolCall(SHELL, {"command": "..."}): the request's own shell tool


def _tool_names(body: dict[str, Any]) -> list[str]:
    names = []
    for tool in body.get("tools") or ():
        if isinstance(tool, dict):
            names.append(str(tool.get("name") or (tool.get("function") or {}).get("name") or ""))
    return names


def shell_call(command: str, body: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """(tool name, arguments) running `command` with the shell tool this request offers."""
    names = _tool_names(body)
    # Not a login shell: a login shell reads the machine's profile scripts first (2 s on some
    # machines), which `agent`'s run_command does not do either.
    if "shell_command" in names:
        return "shell_command", {"command": command, "login": False}
    if "exec_command" in names:
        return "exec_command", {"cmd": command, "login": False}
    if "shell" in names:
        return "shell", {"command": ["bash", "-c", command]}
    raise ValueError(f"the request offers no shell tool (tools: {names})")


def _usage(turn: Any) -> dict[str, Any]:
    return {
        "input_tokens": turn.prompt_tokens,
        "input_tokens_details": {"cached_tokens": turn.cached_tokens},
        "output_tokens": turn.completion_tokens,
        "output_tokens_details": {"reasoning_tokens": turn.reasoning_tokens},
        "total_tokens": turn.prompt_tokens + turn.completion_tokens,
    }


def response_events(turn: Any, body: dict[str, Any], n: int) -> list[dict[str, Any]]:
    """The events of one streamed response for a FakeTurn (tests/fakeserver.py)."""
    rid, model, created = f"resp_fake_{n}", str(body.get("model", "fake")), int(time.time())
    head = {"id": rid, "object": "response", "created_at": created, "model": model}
    events: list[dict[str, Any]] = [
        {"type": "response.created", "response": {**head, "status": "in_progress", "output": []}}]
    output: list[dict[str, Any]] = []
    if turn.content:
        mid = f"msg_fake_{n}"
        events.append({"type": "response.output_item.added", "output_index": 0,
                       "item": {"type": "message", "id": mid, "role": "assistant",
                                "status": "in_progress", "content": []}})
        step = max(1, turn.piece)
        for i in range(0, len(turn.content), step):
            events.append({"type": "response.output_text.delta", "item_id": mid, "output_index": 0,
                           "content_index": 0, "delta": turn.content[i:i + step]})
        item = {"type": "message", "id": mid, "role": "assistant", "status": "completed",
                "content": [{"type": "output_text", "text": turn.content, "annotations": []}]}
        events.append({"type": "response.output_item.done", "output_index": 0, "item": item})
        output.append(item)
    for i, tc in enumerate(turn.tool_calls):
        if tc.name == SHELL:
            args = tc.arguments if isinstance(tc.arguments, dict) else json.loads(tc.arguments)
            name, arguments = shell_call(str(args["command"]), body)
            arguments_json = json.dumps(arguments)
        else:
            name, arguments_json = tc.name, tc.arguments_json
        item = {"type": "function_call", "id": f"fc_fake_{n}_{i}", "status": "completed",
                "call_id": tc.id or f"call_{n}_{i}", "name": name, "arguments": arguments_json}
        events.append({"type": "response.output_item.done", "output_index": len(output),
                       "item": item})
        output.append(item)
    events.append({"type": "response.completed",
                   "response": {**head, "status": "completed", "output": output,
                                "usage": _usage(turn)}})
    return events


def sse(event: dict[str, Any]) -> bytes:
    return f"event: {event['type']}\ndata: {json.dumps(event)}\n\n".encode()
