"""Recognize a tool call that the model leaked into its text instead of the tool-call channel.

gpt-oss servers sometimes pass the harmony format through (`to=functions.read_file
<|channel|>commentary json<|message|>{...}<|call|>`), and some models answer with a bare JSON
object `{"name": ..., "arguments": {...}}`. Only an unambiguous leak is recognized: the whole
text is the call, it names exactly one known tool, and its arguments are a JSON object.
"""
from __future__ import annotations

import json
import re
from typing import Iterable

_HARMONY = re.compile(
    r"^\s*(?:<\|start\|>assistant)?\s*(?:<\|channel\|>commentary\s*)?to=functions\.(?P<name>[\w-]+)"
    r"\s*(?:<\|channel\|>\s*commentary)?\s*(?:<\|constrain\|>)?\s*(?:json)?\s*<\|message\|>"
    r"(?P<args>\{.*\})\s*(?:<\|call\|>)?\s*$",
    re.DOTALL,
)
_FENCE = re.compile(r"^\s*```(?:json)?\s*\n(?P<body>.*)\n```\s*$", re.DOTALL)


def find_leaked_call(text: str, known: Iterable[str]) -> tuple[str, str] | None:
    """Return (tool name, arguments JSON) when `text` is unambiguously one tool call."""
    if not text or len(text) > 200_000:
        return None
    names = set(known)
    m = _HARMONY.match(text)
    if m and m.group("name") in names:
        args = m.group("args")
        try:
            if isinstance(json.loads(args), dict):
                return m.group("name"), args
        except json.JSONDecodeError:
            return None
        return None
    fenced = _FENCE.match(text)
    body = fenced.group("body") if fenced else text
    body = body.strip()
    if not (body.startswith("{") and body.endswith("}")):
        return None
    try:
        obj = json.loads(body)
    except json.JSONDecodeError:
        return None
    if not isinstance(obj, dict) or set(obj) - {"name", "arguments", "parameters", "type"}:
        return None
    name = obj.get("name")
    args = obj.get("arguments", obj.get("parameters"))
    if isinstance(args, str):
        try:
            args = json.loads(args)
        except json.JSONDecodeError:
            return None
    if name in names and isinstance(args, dict):
        return name, json.dumps(args)
    return None
