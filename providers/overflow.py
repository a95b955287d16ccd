"""A server's "the request does not fit the context window" error, recognised per server, and the
window it names.

Each local server words it its own way (recorded in tests/fakehosts.py with sources):
  - llama.cpp: type `exceed_context_size_error`, "the request exceeds the available context
    size, try increasing it" with `n_ctx` beside it (ggml-org/llama.cpp#15780), newer builds
    "request (N tokens) exceeds the available context size (M tokens), try increasing it";
    HTTP 400, 500 on the first builds that had it;
  - llama-cpp-python and vLLM: OpenAI's "This model's maximum context length is M tokens.
    However, you requested N tokens (...)" (vLLM also "'max_tokens' ... is too large");
    llama-cpp-python's engine error "Requested tokens (N) exceed context window of M";
  - LM Studio: "... the model is loaded with context length of only M tokens, which is not
    enough";
  - hosted APIs: "context_length_exceeded", "prompt is too long", "input is too long".
"""
from __future__ import annotations

import re

_OVERFLOW = re.compile(
    r"context[_ ]length|context window|maximum context|too many tokens|prompt is too long|"
    r"reduce the length|input is too long|exceeds? the (?:model'?s? )?(?:max|context)|"
    r"exceeds? the available context|exceed_context_size|context size|n_ctx",
    re.IGNORECASE,
)
# Wordings that name the window itself, in the order tried.
_WINDOW = (
    re.compile(r"available context size \((\d+) tokens?\)", re.IGNORECASE),
    re.compile(r"\bn_ctx\b\D{0,4}(\d+)", re.IGNORECASE),
    re.compile(r"context window of (\d+)", re.IGNORECASE),
    re.compile(r"maximum context length is (\d+)", re.IGNORECASE),
    re.compile(r"context length of only (\d+)", re.IGNORECASE),
)
# Servers that answer an overflow with a 500 (llama.cpp before it moved to 400): only these
# unmistakable wordings count there.
_STRONG = re.compile(r"exceed_context_size|exceeds? the available context size", re.IGNORECASE)


def is_overflow(status: int | None, message: str) -> bool:
    """True when a server's error says the request does not fit its context window."""
    message = message or ""
    if status in (400, 413, None) and _OVERFLOW.search(message):
        return True
    return status == 500 and bool(_STRONG.search(message))


def reported_window(message: str) -> int | None:
    """The context window (tokens) an overflow error names, if it names one."""
    for pattern in _WINDOW:
        found = pattern.search(message or "")
        if found:
            value = int(found.group(1))
            if 256 <= value <= 10_000_000:
                return value
    return None


def learn_window(model, message: str):  # noqa: ANN001, ANN201 - a ResolvedModel in and out
    """`model` with the smaller window an overflow error named (the server knows best)."""
    from dataclasses import replace

    window = reported_window(message)
    if window is None or window >= model.context_window:
        return model
    return replace(model, context_window=window)
