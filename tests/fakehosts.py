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

import json
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
    # -- local servers (issue 18): what the server says about itself, and its errors --------
    # The context window it runs with, and where it tells it: "props" (llama.cpp /props),
    # "max_model_len" (vLLM /v1/models), "ollama" (/api/ps, /api/show), "lmstudio"
    # (/api/v0/models), "" (it does not say: llama-cpp-python). None: not a local server.
    n_ctx: int | None = None
    ctx_at: str = ""
    # Its tokenizer endpoint: "llamacpp" | "vllm" | "llama-cpp-python" | "" (none).
    tokenizer: str = ""
    # (status, body) answered when a request's prompt passes n_ctx; "{n_ctx}"/"{n}" filled in.
    overflow: tuple[int, dict] | None = None
    # Streamed requests with tools: an in-stream error event after the 200 (llama-cpp-python).
    refuses_streamed_tools: dict | None = None


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

# -- local servers (issue 18) ---------------------------------------------------------------------
# ggml-org/llama.cpp#15780 (type exceed_context_size_error with n_prompt_tokens and n_ctx; 400
# since #16486, oobabooga/textgen#7257 shows the 400 body).
LLAMACPP_OVERFLOW = (400, {"error": {
    "code": 400, "type": "exceed_context_size_error", "n_prompt_tokens": "{n}", "n_ctx": "{n_ctx}",
    "message": "the request exceeds the available context size, try increasing it"}})
# vllm-project/vllm#20409; llama-cpp-python's server formats its overflow the same way
# (llama_cpp/server/errors.py context_length_exceeded; abetlen/llama-cpp-python#416).
OPENAI_STYLE_OVERFLOW = (400, {"object": "error", "type": "BadRequestError", "code": 400, "message": (
    "This model's maximum context length is {n_ctx} tokens. However, you requested {n} tokens "
    "({n} in the messages, 0 in the completion). Please reduce the length of the messages or "
    "completion.")})
LLAMA_CPP_PYTHON_OVERFLOW = (400, {"error": {"code": "context_length_exceeded", "type": "invalid_request_error",
    "param": "messages", "message": OPENAI_STYLE_OVERFLOW[1]["message"]}})
# lmstudio-ai: the loaded context is too small for the prompt.
LMSTUDIO_OVERFLOW = (400, {"error": (
    "Trying to keep the first {n} tokens when context the overflows. However, the model is "
    "loaded with context length of only {n_ctx} tokens, which is not enough. Try to load the "
    "model with a larger context length, or provide a shorter input")})
# abetlen/llama-cpp-python#1883: stream=True with tool_choice auto on chatml-function-calling.
LLAMA_CPP_PYTHON_NO_STREAM_TOOLS = {"error": {
    "message": "Automatic streaming tool choice is not supported", "type": "internal_server_error",
    "param": None, "code": None}}

LOCAL = (
    # llama-server: /props default_generation_settings.n_ctx, /tokenize, /apply-template
    # (llama.cpp tools/server/README.md); reports usage when streaming (include_usage).
    HostShape("llamacpp", reasoning_field="reasoning_content", reads_reasoning="reasoning_content",
              rejects_content_with_reasoning=LLAMACPP_BOTH, n_ctx=16384, ctx_at="props",
              tokenizer="llamacpp", overflow=LLAMACPP_OVERFLOW,
              source="github.com/ggml-org/llama.cpp/pull/15780; tools/server/README.md"),
    # llama-cpp-python: no usage when streaming (issue 18's 27 requests, 0 rows), tools refused
    # when streamed, /extras/tokenize/count, no way to read n_ctx but its overflow error names it.
    HostShape("llama-cpp-python", reasoning_field="", reads_reasoning=None, usage="missing",
              n_ctx=16384, tokenizer="llama-cpp-python", overflow=LLAMA_CPP_PYTHON_OVERFLOW,
              refuses_streamed_tools=LLAMA_CPP_PYTHON_NO_STREAM_TOOLS,
              source="github.com/abetlen/llama-cpp-python/issues/1883, /issues/416"),
    # vLLM: /v1/models data[].max_model_len, /tokenize with messages (vllm docs: Tokenizer API).
    HostShape("vllm", usage="every_chunk", n_ctx=32768, ctx_at="max_model_len", tokenizer="vllm",
              overflow=OPENAI_STYLE_OVERFLOW, source="github.com/vllm-project/vllm/issues/20409"),
    # Ollama: /api/ps models[].context_length, /api/show parameters "num_ctx N" (docs/api.md).
    HostShape("ollama", rejects_null_content=OLLAMA_NULL_CONTENT, n_ctx=16384, ctx_at="ollama",
              source="github.com/ollama/ollama docs/api.md (/api/show, /api/ps)"),
    # LM Studio: /api/v0/models loaded_context_length (lmstudio.ai/docs/developer/rest/endpoints).
    HostShape("lmstudio", usage="missing", n_ctx=16384, ctx_at="lmstudio", overflow=LMSTUDIO_OVERFLOW,
              source="lmstudio.ai/docs/developer/rest/endpoints; lmstudio-bug-tracker#676"),
)
SHAPES.update({s.name: s for s in LOCAL})


def fake_tokens(text: str) -> int:
    """The fake servers' tokenizer: one token per 3 characters (so it differs from the agent's
    4-characters estimate, and a test can tell which one was used)."""
    return -(-len(text) // 3)


def applied_template(messages: list[dict[str, Any]]) -> str:
    """The fake llama.cpp's chat template (what /apply-template returns and a request counts)."""
    return "".join(f"<|{m.get('role')}|>{m.get('content') or ''}{json.dumps(m.get('tool_calls') or '')}"
                   for m in messages if isinstance(m, dict))


def prompt_tokens(shape: HostShape, body: dict[str, Any]) -> int:
    """What this server counts for a request's prompt (its usage, its overflow check)."""
    msgs = [m for m in body.get("messages") or () if isinstance(m, dict)]
    text = applied_template(msgs) + (json.dumps(body["tools"]) if body.get("tools") else "")
    if shape.tokenizer == "llama-cpp-python":
        return fake_tokens("\n".join(str(m.get("content") or "") for m in msgs)) + 4 * len(msgs)
    return fake_tokens(text)


def _fill(obj: Any, **values: int) -> Any:
    if isinstance(obj, str):
        for key, value in values.items():
            if obj == "{" + key + "}":
                return value
            obj = obj.replace("{" + key + "}", str(value))
        return obj
    if isinstance(obj, dict):
        return {k: _fill(v, **values) for k, v in obj.items()}
    return obj


def overflow_answer(shape: HostShape, body: dict[str, Any]) -> tuple[int, dict] | None:
    """The server's overflow error when the prompt passes its window, else None."""
    if shape.n_ctx is None or shape.overflow is None:
        return None
    n = prompt_tokens(shape, body)
    if n <= shape.n_ctx:
        return None
    status, err = shape.overflow
    return status, _fill(err, n=n, n_ctx=shape.n_ctx)


def local_route(shape: HostShape, method: str, path: str, body: Any,
                models: list[str]) -> tuple[int, Any] | None:
    """A local server's own endpoints (window, tokenizer); None: not one of them."""
    path = path.split("?", 1)[0].rstrip("/")
    body = body if isinstance(body, dict) else {}
    if shape.n_ctx is None:
        return None
    if method == "GET" and path == "/props" and shape.ctx_at == "props":
        return 200, {"default_generation_settings": {"n_ctx": shape.n_ctx, "params": {}},
                     "total_slots": 1, "model_path": models[0] if models else "",
                     "chat_template": "{{ messages }}", "build_info": "b0000-fake"}
    if method == "GET" and path == "/api/ps" and shape.ctx_at == "ollama":
        return 200, {"models": [{"name": m, "model": m, "context_length": shape.n_ctx} for m in models]}
    if method == "POST" and path == "/api/show" and shape.ctx_at == "ollama":
        return 200, {"parameters": f"num_ctx {shape.n_ctx}", "model_info": {"gptoss.context_length": 131072}}
    if method == "GET" and path == "/api/v0/models" and shape.ctx_at == "lmstudio":
        return 200, {"object": "list", "data": [
            {"id": m, "object": "model", "type": "llm", "state": "loaded",
             "max_context_length": 131072, "loaded_context_length": shape.n_ctx} for m in models]}
    if shape.tokenizer == "llamacpp" and method == "POST" and path == "/apply-template":
        return 200, {"prompt": applied_template(body.get("messages") or []) + (
            json.dumps(body["tools"]) if body.get("tools") else "")}
    if shape.tokenizer == "llamacpp" and method == "POST" and path == "/tokenize":
        return 200, {"tokens": list(range(fake_tokens(str(body.get("content") or ""))))}
    if shape.tokenizer == "vllm" and method == "POST" and path == "/tokenize":
        if "messages" in body:
            n = prompt_tokens(shape, body)
        else:
            n = fake_tokens(str(body.get("prompt") or ""))
        return 200, {"count": n, "max_model_len": shape.n_ctx, "tokens": list(range(n))}
    if shape.tokenizer == "llama-cpp-python" and method == "POST" and path == "/extras/tokenize/count":
        return 200, {"count": fake_tokens(str(body.get("input") or ""))}
    return None


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
