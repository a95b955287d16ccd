"""How each real host answers, for the fake server: `FakeOpenAIServer(host="ollama")`.

Each HostShape is written from the host's documentation, issue threads and server code (cited
per shape). A shaped server streams reasoning in the host's field, puts usage where the host
does (or leaves it out), adds the host's cost field, and rejects the requests the host rejects
with the host's own status and error text. It also records the reasoning each request echoed
back in the field the host reads (`server.echoed`), so a test can tell "sent" from "silently
dropped" (vLLM ignores fields it does not read).

Misconfigured servers (for `agent doctor`): `FakeOpenAIServer(host="vllm",
misconfig="no_auto_tool_choice")` and friends answer a request with tools with the real error.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# (status, body) pairs: the hosts' real error answers.
OLLAMA_NULL_CONTENT = (400, {"error": {"message": "invalid message content type: <nil>",
                                       "type": "invalid_request_error", "param": None, "code": None}})
# github.com/ggml-org/llama.cpp/issues/17040: gpt-oss's chat template raises this.
LLAMACPP_BOTH = (500, {"error": {"code": 500, "type": "server_error", "message": (
    "Cannot pass both content and thinking in an assistant message with tool calls! Put the "
    "analysis message in one or the other, but not both.")}})
# Groq validates message fields; reported in client threads for `reasoning_content` echoes.
GROQ_UNKNOWN_FIELD = (400, {"error": {"type": "invalid_request_error", "message": (
    "'messages.1' : for 'role:assistant' the following must be satisfied[('messages.1' : "
    "property 'reasoning_content' is unsupported, did you mean 'reasoning'?)]")}})
# OpenRouter with an empty account (openrouter.ai/docs/api-reference/errors: 402).
OPENROUTER_402 = (402, {"error": {"code": 402, "message": (
    "This request requires more credits, or fewer max_tokens. You requested up to 16384 "
    "tokens, but can only afford 1000. To increase, visit https://openrouter.ai/settings/credits")}})

MISCONFIGS = {
    # github.com/vllm-project/vllm/issues/9986: tools with tool_choice auto on a server started
    # without the flags (vLLM's own error object, not nested under "error").
    "no_auto_tool_choice": (400, {"object": "error", "type": "BadRequestError", "param": None,
                                  "code": 400, "message": (
        "\"auto\" tool choice requires --enable-auto-tool-choice and --tool-call-parser to be set")}),
    # github.com/defilantech/LLMKube/issues/126, containers/ramalama#988: llama-server without --jinja.
    "no_jinja": (500, {"error": {"code": 500, "message": "tools param requires --jinja flag",
                                 "type": "server_error"}}),
}


@dataclass(frozen=True)
class HostShape:
    name: str
    reasoning_field: str = "reasoning"  # field reasoning is streamed in
    reads_reasoning: str | None = "reasoning"  # field an echoed reasoning is read from
    usage: str = "last_chunk"  # last_chunk | finish_chunk | every_chunk | x_groq | missing
    cost: bool = False  # usage.cost (OpenRouter)
    rejects_null_content: tuple[int, dict] | None = None
    rejects_content_with_reasoning: tuple[int, dict] | None = None
    rejects_field: tuple[str, tuple[int, dict]] | None = None  # a message field it refuses
    source: str = ""


SHAPES: dict[str, HostShape] = {s.name: s for s in (
    # openrouter.ai/docs/use-cases/reasoning-tokens; usage-accounting: usage.cost, last chunk.
    HostShape("openrouter", cost=True,
              source="openrouter.ai/docs/use-cases/usage-accounting"),
    # OpenAI o4-mini: no reasoning text in Chat Completions; usage in the include_usage chunk.
    HostShape("openai", reasoning_field="", reads_reasoning=None,
              source="platform.openai.com/docs/api-reference/chat/streaming"),
    # vercel/ai#1651: usage only under x_groq on the final chunk.
    HostShape("groq", usage="x_groq", rejects_field=("reasoning_content", GROQ_UNKNOWN_FIELD),
              source="github.com/vercel/ai/issues/1651"),
    # Together puts usage on the chunk that carries finish_reason.
    HostShape("together", usage="finish_chunk", source="docs.together.ai/reference/chat-completions"),
    HostShape("fireworks", reasoning_field="reasoning_content", reads_reasoning="reasoning_content",
              source="docs.fireworks.ai/guides/reasoning"),
    HostShape("cerebras", source="inference-docs.cerebras.ai/capabilities/reasoning"),
    HostShape("huggingface", source="huggingface.co/docs/inference-providers"),
    # vLLM >= 0.19 streams `reasoning` and reads only `reasoning` back (vllm#27755); with
    # stream_options.continuous_usage_stats it repeats cumulative usage on every chunk.
    HostShape("vllm", usage="every_chunk", source="github.com/vllm-project/vllm/issues/27755"),
    HostShape("ollama", rejects_null_content=OLLAMA_NULL_CONTENT,
              source="github.com/pydantic/pydantic-ai/pull/5231"),
    HostShape("llamacpp", reasoning_field="reasoning_content", reads_reasoning="reasoning_content",
              rejects_content_with_reasoning=LLAMACPP_BOTH,
              source="github.com/ggml-org/llama.cpp/issues/17040"),
    # lmstudio-bug-tracker#676: no usage while streaming.
    HostShape("lmstudio", usage="missing",
              source="github.com/lmstudio-ai/lmstudio-bug-tracker/issues/676"),
)}


def rejection(shape: HostShape, body: dict[str, Any]) -> tuple[int, dict] | None:
    """The host's error answer to this request body, or None when it accepts it."""
    for msg in body.get("messages") or ():
        if not isinstance(msg, dict) or msg.get("role") != "assistant":
            continue
        if shape.rejects_null_content and msg.get("content", None) is None:
            return shape.rejects_null_content
        if (shape.rejects_content_with_reasoning and msg.get("tool_calls") and msg.get("content")
                and msg.get(shape.reads_reasoning or "")):
            return shape.rejects_content_with_reasoning
        if shape.rejects_field and shape.rejects_field[0] in msg:
            return shape.rejects_field[1]
    return None


def echoed_reasoning(shape: HostShape, body: dict[str, Any]) -> list[str]:
    """Reasoning the host would read from this request's assistant tool-call messages."""
    if not shape.reads_reasoning:
        return []
    return [m[shape.reads_reasoning] for m in body.get("messages") or ()
            if isinstance(m, dict) and m.get("role") == "assistant" and m.get("tool_calls")
            and isinstance(m.get(shape.reads_reasoning), str)]


def shape_usage(shape: HostShape, events: list[dict], usage: dict[str, Any]) -> list[dict]:
    """Place `usage` in the stream as the host does; `events` end with the finish chunk."""
    usage = dict(usage)
    if not shape.cost:
        usage.pop("cost", None)
    if shape.usage == "missing":
        return events
    if shape.usage == "finish_chunk":
        events[-1] = {**events[-1], "usage": usage}
        return events
    if shape.usage == "x_groq":
        events[-1] = {**events[-1], "x_groq": {"id": "req_fake", "usage": {
            **usage, "queue_time": 0.01, "prompt_time": 0.002, "completion_time": 0.02}}}
        return events
    if shape.usage == "every_chunk":
        # Cumulative: completion tokens grow chunk by chunk; the last equals the total.
        n = len(events)
        out = []
        for i, ev in enumerate(events):
            partial = dict(usage, completion_tokens=usage["completion_tokens"] * (i + 1) // n)
            partial["total_tokens"] = usage["prompt_tokens"] + partial["completion_tokens"]
            out.append({**ev, "usage": partial})
        return out
    return events + [{**events[-1], "choices": [], "usage": usage}]
