"""Tool-call recovery: what the model meant to call, from what the host actually delivered.

Three kinds of damage are repaired here, and one kind of text is deliberately left alone.

1. Calls written into the text. gpt-oss speaks harmony; when a host does not parse it, the call
   arrives as text: `<|start|>assistant<|channel|>commentary to=functions.read_file
   <|constrain|>json<|message|>{"path": "a.py"}<|call|>`, or the same with the special tokens
   stripped (`commentary to=functions.read_file json{"path": "a.py"}`), often after an analysis
   message (`<|channel|>analysis<|message|>We need ...<|end|>` or `analysisWe need ...`).

   THE RULE (what separates a call from a quoted call). Text is executed as a call only when
   ALL of these hold:
     a. its trailing part is harmony call markup: a header `to=NAME` (optionally with
        `<|start|>assistant`, `<|channel|>commentary` or their stripped words), then one JSON
        object (or Python-literal dict), then nothing but end tokens (`<|call|>`, `<|end|>`,
        `<|return|>`) and whitespace: the markup ENDS the message, no prose follows it;
     b. the markup starts at a call boundary: the start of the text, the start of a line, right
        after a harmony special token, or glued to the previous word with no space (how text
        looks when a server strips the special tokens). Markup in the middle of a sentence
        ("it emits: <|start|>...", "I would call to=functions...") is a quotation;
     c. it is not inside a code fence (``` or ~~~) or inline code (`...`), nor in a quote;
     d. its arguments are one object. (An unknown tool name is answered with a tool error
        listing the real tools; nothing runs.)
   Several such blocks in a row at the end are several calls. Anything else (a tool call as
   JSON inside a markdown code block, `read_file({...})` in prose, harmony markup followed by
   more prose) is an answer that talks about a call, and is shown, never run.
   A message that is nothing but `{"name": NAME, "arguments": {...}}` (no fence, no prose) is
   the JSON call syntax of other models and is run too.

2. Names and arguments. `functions.read_file`, `read_file<|channel|>commentary` -> read_file;
   the tools gpt-oss was trained with (`repo_browser.open_file`, `repo_browser.search`,
   `repo_browser.print_tree`, `container.exec`) map to ours when the mapping is unambiguous;
   others (`python`, `browser.*`) get a tool error listing the real tools. Arguments sent as a
   JSON string holding JSON, or as a Python literal (single quotes, True/None), are decoded.

3. Streamed fragments. Two parallel calls streamed under the same index (a new id, or a new
   complete name after a complete call) are two calls, never `read_fileread_file`.
"""
from __future__ import annotations

import ast
import json
import re
from dataclasses import field
from typing import Any, Iterable

from realcost_agent.records import record

MAX_TEXT = 200_000  # longer text is never scanned for calls
MAX_TRAILING_CALLS = 8
MAX_CANDIDATES = 16  # headers tried per block, from the end
MAX_LITERAL = 20_000  # Python-literal arguments longer than this are not decoded

_END_TOKENS = re.compile(r"(?:\s|<\|(?:call|end|return)\|>)*\Z")
_HEADER = re.compile(
    r"(?P<head>(?:<\|start\|>\s*assistant\s*)?"
    r"(?:<\|channel\|>\s*commentary\s*|(?:assistant)?commentary[ \t]+)?)"
    r"to=(?P<name>[A-Za-z_][\w.\-]*)"
    r"(?:\s*<\|channel\|>\s*commentary|[ \t]+commentary)?"
    r"\s*(?:<\|constrain\|>\s*)?(?:json\s*)?(?:<\|message\|>)?\s*"
)
_SPECIAL = re.compile(r"<\|[a-z_]+\|>")
_ANALYSIS_HEAD = re.compile(
    r"\A\s*(?:<\|start\|>\s*assistant\s*)?(?:<\|channel\|>\s*analysis\s*<\|message\|>|analysis(?=\S))"
)
_FENCE = re.compile(r"^[ \t]*(```|~~~)", re.MULTILINE)


@record(frozen=True)
class TextCall:
    name: str  # as written (normalize with normalize_call)
    arguments: str  # JSON object text


@record
class Recovered:
    """A message whose trailing part was call markup: the calls, and what text is left."""

    calls: list[TextCall]
    text: str = ""
    reasoning: str = ""


# -- 1. calls written into the text -------------------------------------------------------------
def _in_code(prefix: str) -> bool:
    """True when the end of `prefix` is inside a fenced block, inline code, or a quote line."""
    if len(_FENCE.findall(prefix)) % 2:
        return True
    line = prefix.rsplit("\n", 1)[-1]
    if line.count("`") % 2:
        return True
    return line.lstrip().startswith(">") and not _SPECIAL.search(line)


def _at_boundary(prefix: str) -> bool:
    stripped = prefix.rstrip(" \t")
    if not stripped or stripped.endswith("\n"):
        return True
    if _SPECIAL.search(stripped[-16:]) and stripped.endswith("|>"):
        return True
    if stripped != prefix:  # a space before the markup: it sits inside a sentence
        return False
    # Glued to the previous word: special tokens stripped by the server, never prose style.
    return prefix[-1] not in "\"'`:([{<=,;*_"


def _parse_args(span: str) -> str | None:
    """`span` as one JSON object (or Python dict literal), re-encoded; None otherwise."""
    obj = _decode_json(span)
    if obj is None and len(span) <= MAX_LITERAL:
        obj = _safe_literal(span)
    if not isinstance(obj, dict) or not all(isinstance(k, str) for k in obj):
        return None
    try:
        return json.dumps(obj)
    except (TypeError, ValueError):
        return None


def _trailing_call(text: str) -> tuple[int, TextCall] | None:
    """The call block that ends `text`, and where it starts; None when the end is not a call.

    Bounded work on hostile text: the arguments must run from a header to the text's last `}`
    (only end tokens after it), and only the last few headers are tried."""
    tail = _END_TOKENS.search(text)
    body_end = tail.start() if tail else len(text)
    if body_end == 0 or text[body_end - 1] != "}":
        return None
    headers = list(_HEADER.finditer(text, 0, body_end))
    for m in reversed(headers[-MAX_CANDIDATES:]):
        span = text[m.end():body_end]
        if not span.startswith("{"):
            continue
        args = _parse_args(span)
        if args is None:
            continue
        prefix = text[:m.start()]
        if _in_code(prefix) or not _at_boundary(prefix):
            continue
        return m.start(), TextCall(m.group("name"), args)
    return None


def _whole_json_call(text: str) -> TextCall | None:
    body = text.strip()
    if not (body.startswith("{") and body.endswith("}")):
        return None
    try:
        obj = json.loads(body)
    except json.JSONDecodeError:
        return None
    if not isinstance(obj, dict) or set(obj) - {"name", "arguments", "parameters", "type"}:
        return None
    name, args = obj.get("name"), obj.get("arguments", obj.get("parameters"))
    if isinstance(args, str):
        args = _decode_json(args)
    if not isinstance(name, str) or not isinstance(args, dict):
        return None
    return TextCall(name, json.dumps(args))


def _split_prefix(prefix: str) -> tuple[str, str]:
    """(text, reasoning) of what precedes the calls, harmony framing removed."""
    analysis = _ANALYSIS_HEAD.match(prefix)
    cleaned = _SPECIAL.sub(" ", prefix[analysis.end():] if analysis else prefix)
    cleaned = re.sub(r"(?:\s*\bassistant\s*)+\Z", "", cleaned.strip()).strip()
    cleaned = re.sub(r"assistant(?:commentary)?\Z", "", cleaned).strip()
    return ("", cleaned) if analysis else (cleaned, "")


def recover_text_calls(text: str, known: Iterable[str]) -> Recovered | None:
    """The calls that end `text` by THE RULE above, or None when the text is an answer."""
    if not text or len(text) > MAX_TEXT:
        return None
    known = set(known)
    whole = _whole_json_call(text)
    if whole is not None:
        return Recovered([whole]) if normalize_name(whole.name, known)[0] else None
    calls: list[TextCall] = []
    rest = text
    while len(calls) < MAX_TRAILING_CALLS:
        found = _trailing_call(rest)
        if found is None:
            break
        start, call = found
        calls.insert(0, call)
        rest = rest[:start]
        tail = _END_TOKENS.search(rest)
        rest = rest[: tail.start()] if tail else rest
    if not calls:
        return None
    # An unknown name in real call markup (`python`, `browser.search`) is still a call: it is
    # answered with a tool error listing the real tools, and nothing runs.
    body, reasoning = _split_prefix(rest)
    return Recovered(calls, body, reasoning)


# -- 2. names and arguments -------------------------------------------------------------------
# Tools gpt-oss was trained with (the harmony reference's browser/container tools) -> ours.
ALIASES: dict[str, str] = {
    "repo_browser.open_file": "read_file", "repo_browser.open": "read_file",
    "repo_browser.read_file": "read_file", "repo_browser.cat": "read_file",
    "repo_browser.search": "search", "repo_browser.grep": "search",
    "repo_browser.print_tree": "list_files", "repo_browser.list_files": "list_files",
    "repo_browser.ls": "list_files",
    "container.exec": "run_command", "container.run": "run_command", "shell": "run_command",
    "bash": "run_command",
}
_ARG_RENAMES: dict[str, dict[str, str]] = {
    "read_file": {"file": "path", "filename": "path", "line_start": "start_line",
                  "start": "start_line", "line_end": "end_line", "end": "end_line"},
    "search": {"query": "pattern", "regex": "pattern", "q": "pattern"},
    "list_files": {"dir": "path", "directory": "path"},
    "run_command": {"cmd": "command"},
}
_DROP = {"read_file": {"num_lines", "loc"}, "list_files": {"depth"},
         "run_command": {"workdir", "env", "timeout"}}


def normalize_name(raw: str, known: Iterable[str]) -> tuple[str | None, str | None]:
    """(our tool name or None, the alias it came from or None)."""
    known = set(known)
    if raw in known:
        return raw, None
    name = (raw or "").split("<|", 1)[0].strip()
    name = name.split()[0] if name.split() else ""
    name = name.removeprefix("to=").removeprefix("functions.")
    if name in known:
        return name, None
    target = ALIASES.get(name)
    if target in known:
        return target, name
    return None, None


def _safe_literal(text: str) -> Any:
    if len(text) > MAX_TEXT:
        return None
    try:
        return ast.literal_eval(text)  # literals only: never evaluates code
    except (ValueError, SyntaxError, MemoryError, RecursionError, TypeError):
        return None


def _decode_json(text: str) -> Any:
    try:
        return json.loads(text)
    except (json.JSONDecodeError, RecursionError):
        return None


def repair_arguments(raw: Any) -> tuple[Any, bool]:
    """(arguments, repaired): JSON text for the registry; `raw` unchanged when nothing fits."""
    if isinstance(raw, dict):
        return json.dumps(raw), True
    if not isinstance(raw, str):
        return raw, False
    text = _SPECIAL.sub("", raw).strip()
    if not text:
        return "{}", raw.strip() != ""
    obj = _decode_json(text)
    if isinstance(obj, dict):
        return (raw, False) if text == raw.strip() else (json.dumps(obj), True)
    if isinstance(obj, str):  # double-encoded: a JSON string holding the JSON object
        inner = _decode_json(obj)
        if isinstance(inner, dict):
            return json.dumps(inner), True
    if obj is None and text.startswith("{"):
        lit = _safe_literal(text)
        if isinstance(lit, dict) and all(isinstance(k, str) for k in lit):
            try:
                return json.dumps(lit), True
            except (TypeError, ValueError):
                pass
    return raw, False


def _map_args(tool: str, alias: str, arguments: str) -> str:
    obj = _decode_json(arguments)
    if not isinstance(obj, dict):
        return arguments
    renames, drop = _ARG_RENAMES.get(tool, {}), _DROP.get(tool, set())
    out = {renames.get(k, k): v for k, v in obj.items() if k not in drop}
    if tool == "run_command" and isinstance(out.get("command"), list):
        argv = [str(a) for a in out["command"]]
        # container.exec's ["bash", "-lc", "script"] is the script itself.
        if len(argv) == 3 and argv[0] in ("bash", "sh") and argv[1] in ("-c", "-lc"):
            out["command"] = argv[2]
        else:
            import shlex

            out["command"] = shlex.join(argv)
    if tool == "read_file" and "start_line" in out and "num_lines" in obj and "end_line" not in out:
        try:
            out["end_line"] = int(out["start_line"]) + int(obj["num_lines"]) - 1
        except (TypeError, ValueError):
            pass
    return json.dumps(out)


@record(frozen=True)
class NormalizedCall:
    name: str  # ours when known; else what the model sent
    arguments: Any
    note: str | None = None  # what was repaired, for the call's metadata


def normalize_call(raw_name: str, arguments: Any, known: Iterable[str]) -> NormalizedCall:
    name, alias = normalize_name(raw_name, known)
    args, repaired = repair_arguments(arguments)
    notes = []
    if name is None:
        return NormalizedCall(raw_name, args, "arguments decoded" if repaired else None)
    if alias is not None:
        args = _map_args(name, alias, args) if isinstance(args, str) else args
        notes.append(f"{alias} -> {name}")
    elif name != raw_name:
        notes.append(f"name {raw_name[:60]!r} -> {name}")
    if repaired:
        notes.append("arguments decoded")
    return NormalizedCall(name, args, "; ".join(notes) or None)


# -- 3. streamed fragments ----------------------------------------------------------------------
@record
class _Slot:
    id: str | None
    name: str
    arguments: str


@record
class CallAssembler:
    """Joins ToolCallDelta fragments into calls, splitting calls that share an index."""

    known: frozenset[str] = frozenset()
    slots: list[_Slot] = field(default_factory=list)
    _by_index: dict[int, _Slot] = field(default_factory=dict)

    def _complete(self, slot: _Slot) -> bool:
        return isinstance(_decode_json(slot.arguments), dict) if slot.arguments.strip() else False

    def _starts_new(self, slot: _Slot, call_id: str | None, name: str | None) -> bool:
        if call_id and slot.id and call_id != slot.id:
            return True
        if not name or not slot.name or (call_id and call_id == slot.id):
            return False  # same id: a repeated name or a name in fragments
        if name == slot.name:  # repeated on every chunk, or a second call of the same tool
            return self._complete(slot)
        return self._complete(slot) or (not slot.arguments and slot.name in self.known)

    def add(self, index: int, call_id: str | None, name: str | None, arguments: str) -> None:
        slot = self._by_index.get(index)
        if slot is None or self._starts_new(slot, call_id, name):
            slot = _Slot(call_id, name or "", arguments or "")
            self.slots.append(slot)
            self._by_index[index] = slot
            return
        if call_id and not slot.id:
            slot.id = call_id
        if name and name != slot.name:
            slot.name += name  # a name streamed in fragments
        slot.arguments += arguments or ""

    def calls(self) -> list[tuple[str | None, str, str]]:
        return [(s.id, s.name, s.arguments) for s in self.slots]

    def size(self) -> int:
        return sum(len(s.arguments) + len(s.name) for s in self.slots)
