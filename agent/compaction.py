"""Compaction: when the conversation nears the model's context window, older turns are
summarized by the cheap profile, keeping the task, the project instructions (they live in the
system message, which is never summarized), the latest tool results and every file path touched.

It runs at most once per overflow: if the summary still does not fit, the turn stops with a
clear message instead of summarizing summaries forever.
"""
from __future__ import annotations

import json
from typing import Any

from realcost_agent.records import record
from realcost_agent.tools.patch_parser import patch_paths

from realcost_agent.providers.base import ProviderError, ReasoningDelta, ResolvedModel, TextDelta, Usage

# Start compacting when the estimate passes this share of the window (leaves room to answer).
TRIGGER_SHARE = 0.85
# The recent part kept verbatim aims at this share of the window.
KEEP_SHARE = 0.30
MAX_RENDERED_TOOL_OUTPUT = 2_000
SUMMARY_PREFIX = "Summary of the earlier conversation (older turns were compacted to fit the context window):"



SUMMARIZE_INSTRUCTIONS = (
    "You summarize a coding agent's conversation so it can continue the task with less context. "
    "Write a compact summary: the user's task and follow-ups, decisions made, what was changed "
    "and where, what was tried and failed, the current state, and what remains. Keep exact file "
    "paths, function names, commands and error messages. No preamble."
)


def estimate_tokens(messages: list[dict[str, Any]]) -> int:
    """A cheap, deterministic estimate (about 4 characters a token); it says no more than that."""
    return sum(len(json.dumps(m, ensure_ascii=False)) for m in messages) // 4 + 4 * len(messages)


def is_context_overflow(exc: ProviderError) -> bool:
    """Each server's own wording (providers/overflow.py)."""
    from realcost_agent.providers.overflow import is_overflow

    return is_overflow(exc.status, exc.message)


def needs_compaction(messages: list[dict[str, Any]], window: int) -> bool:
    return estimate_tokens(messages) > window * TRIGGER_SHARE


def split_point(messages: list[dict[str, Any]], window: int) -> int | None:
    """Index where the verbatim tail starts: at a user or assistant message (never between a
    tool call and its result), keeping about KEEP_SHARE of the window. None if nothing to fold."""
    budget = window * KEEP_SHARE
    total = 0
    best = None
    for i in range(len(messages) - 1, 0, -1):
        total += estimate_tokens([messages[i]])
        if messages[i].get("role") in ("user", "assistant"):
            if total > budget and best is not None:
                break
            best = i
    if best is None or best <= 1:
        return None
    return best


def touched_paths(messages: list[dict[str, Any]]) -> list[str]:
    """Every path the agent's tool calls named, in first-seen order."""
    seen: list[str] = []
    for m in messages:
        for call in m.get("tool_calls") or []:
            try:
                args = json.loads(call["function"]["arguments"] or "{}")
            except (ValueError, KeyError, TypeError):
                continue
            if not isinstance(args, dict):
                continue
            paths = [args.get("path")] if isinstance(args.get("path"), str) else []
            paths += patch_paths(args.get("patch"))
            for p in paths:
                p = p.strip()
                if p and p not in seen:
                    seen.append(p)
    return seen


def render_for_summary(messages: list[dict[str, Any]]) -> str:
    parts = []
    for m in messages:
        role = m.get("role")
        if role == "tool":
            out = str(m.get("content") or "")
            if len(out) > MAX_RENDERED_TOOL_OUTPUT:
                out = out[:MAX_RENDERED_TOOL_OUTPUT] + f"\n[... {len(out) - MAX_RENDERED_TOOL_OUTPUT} chars cut]"
            parts.append(f"[tool result {m.get('tool_call_id')}]\n{out}")
        elif role == "assistant":
            text = str(m.get("content") or "")
            calls = [
                f"{c['function']['name']}({c['function']['arguments'][:500]})"
                for c in m.get("tool_calls") or []
            ]
            parts.append("[assistant] " + text + ("\n calls: " + "; ".join(calls) if calls else ""))
        else:
            parts.append(f"[{role}] {m.get('content')}")
    return "\n\n".join(parts)


@record
class CompactionResult:
    messages: list[dict[str, Any]]
    usage: Usage
    model: ResolvedModel
    folded: int  # messages folded into the summary
    before_tokens: int
    after_tokens: int


async def compact(
    messages: list[dict[str, Any]], provider: Any, model: ResolvedModel, window: int,
    task_prompt: str | None,
) -> CompactionResult | None:
    """Summarize messages[1:split] with `model`; None when there is nothing to fold."""
    cut = split_point(messages, window)
    if cut is None:
        return None
    old, tail = messages[1:cut], messages[cut:]
    request = [
        {"role": "system", "content": SUMMARIZE_INSTRUCTIONS},
        {"role": "user", "content": render_for_summary(old)},
    ]
    text = ""
    usage = Usage()
    async for delta in provider.stream(request, [], model):
        if isinstance(delta, TextDelta):
            text += delta.text
        elif isinstance(delta, Usage):
            usage = delta
        elif isinstance(delta, ReasoningDelta):
            continue
    paths = touched_paths(old)
    parts = [SUMMARY_PREFIX, text.strip() or "(the summary came back empty)"]
    if task_prompt:
        parts.append(f"The task as the user gave it:\n{task_prompt}")
    if paths:
        parts.append("Files touched so far: " + ", ".join(paths))
    summary = {"role": "user", "content": "\n\n".join(parts)}
    new = [messages[0], summary, *tail]
    return CompactionResult(new, usage, model, len(old), estimate_tokens(messages), estimate_tokens(new))
