"""The core's events as ACP `session/update` payloads: pure functions, no I/O but reading the
project's files for edit diffs (ACP carries whole old/new texts, the core a unified diff)."""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Callable

from acp import schema as s
from acp.helpers import (
    start_tool_call,
    text_block,
    tool_content,
    tool_diff_content,
    update_tool_call,
)

from realcost_agent.agent import events as ev

# Tools describe themselves (agent/describe.py); ACP only wants a coarse kind for the icon.
TOOL_KINDS: dict[str, str] = {
    "read_file": "read",
    "list_files": "search",
    "search": "search",
    "repo_map": "search",
    "edit": "edit",
    "apply_patch": "edit",
    "write_file": "edit",
    "run_command": "execute",
}
EDIT_TOOLS = frozenset(name for name, kind in TOOL_KINDS.items() if kind == "edit")

# TurnFinished.reason -> ACP StopReason. Only what the protocol has a word for is mapped to it;
# the core's own limits (cost, time, tool errors...) end the turn, and `_meta` says which.
STOP_REASONS: dict[str, str] = {
    "done": "end_turn",
    "max_steps": "max_turn_requests",
    "repeated_call": "max_turn_requests",
    "tool_errors": "max_turn_requests",
    "output_budget": "max_tokens",
    "context_overflow": "max_tokens",
    "response_too_large": "max_tokens",
    "interrupted": "cancelled",
    "refusal": "refusal",
}


def stop_reason(reason: str) -> str:
    return STOP_REASONS.get(reason, "end_turn")


def tool_kind(name: str) -> str:
    return TOOL_KINDS.get(name, "other")


def _locations(root: Path, paths: tuple[str, ...]) -> list[s.ToolCallLocation]:
    return [s.ToolCallLocation(path=str(root / p)) for p in paths]


def _title(name: str, summary: str) -> str:
    return f"{name}: {summary}" if summary else name


def read_text(path: Path) -> str | None:
    """A project file's text for a diff; None when absent, binary or unreadable."""
    try:
        data = path.read_bytes()
    except OSError:
        return None
    if b"\0" in data[:8192]:
        return None
    return data.decode("utf-8", "replace")


_HUNK = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")


def apply_unified(old: str, diff: str) -> str | None:
    """Apply a one-file unified diff (as the core's tools produce: exact, from this very text)
    to `old`; None when it does not apply, so the caller falls back to showing the diff."""
    lines = old.splitlines(keepends=True)
    out: list[str] = []
    pos = 0
    in_hunk = False
    last_tag = ""
    for raw in diff.splitlines(keepends=True):
        m = _HUNK.match(raw)
        if m:
            start = int(m.group(1)) - (0 if m.group(2) == "0" else 1)
            if start < pos or start > len(lines):
                return None
            out.extend(lines[pos:start])
            pos, in_hunk = start, True
            continue
        if not in_hunk:  # the file's ---/+++ header
            continue
        if raw.startswith("\\"):  # "\ No newline at end of file", about the line before it
            if last_tag in (" ", "+") and out and out[-1].endswith("\n"):
                out[-1] = out[-1][:-1]
            continue
        tag, text = raw[:1], raw[1:]
        last_tag = tag
        if tag in (" ", "-"):
            if pos >= len(lines) or lines[pos].rstrip("\r\n") != text.rstrip("\r\n"):
                return None
            if tag == " ":
                out.append(lines[pos])
            pos += 1
        elif tag == "+":
            out.append(text if text.endswith("\n") else text + "\n")
        else:
            return None
    out.extend(lines[pos:])
    return "".join(out)


def split_file_diffs(diff: str) -> dict[str, str]:
    """A multi-file unified diff split per target path (`+++ b/path`)."""
    parts: dict[str, list[str]] = {}
    current: list[str] | None = None
    pending: list[str] = []
    for raw in diff.splitlines(keepends=True):
        if raw.startswith("--- "):
            pending = [raw]
            current = None
            continue
        if raw.startswith("+++ "):
            target = _diff_path(raw)
            if target == "/dev/null" and pending:  # a deletion: name it by its old path
                target = _diff_path(pending[0])
            current = parts.setdefault(target, [])
            current.extend(pending + [raw])
            pending = []
            continue
        if current is not None:
            current.append(raw)
    return {path: "".join(lines) for path, lines in parts.items()}


def _diff_path(header: str) -> str:
    path = header[4:].rstrip("\r\n").split("\t")[0]
    return path[2:] if path.startswith(("a/", "b/")) else path


def diff_contents(root: Path, paths: tuple[str, ...], diff: str, *, applied: bool,
                  redact: Callable[[str], str] | None = None) -> list[Any]:
    """ACP diff blocks (old and new text) for an edit: `applied` is False before the edit
    (approval: the file on disk is the old text) and True after it (disk holds the new one;
    the old text is the diff undone). Falls back to the unified diff as text. `redact` is the
    session's Redactor: the event's diff is redacted already, so the file's text is too (then
    the diff applies, and a secret in the file is not shown)."""
    per_file = split_file_diffs(diff) if diff else {}
    if not per_file and len(paths) == 1 and diff:
        per_file = {paths[0]: diff}
    blocks: list[Any] = []
    for rel, file_diff in per_file.items():
        path = root / rel
        on_disk = read_text(path)
        if redact is not None and on_disk is not None:
            on_disk = redact(on_disk)
        if not applied:
            old = on_disk if on_disk is not None else ""
            new = apply_unified(old, file_diff)
        else:
            new = on_disk if on_disk is not None else ""
            old = apply_unified(new, invert(file_diff))
        if new is None or old is None:
            blocks = []
            break
        blocks.append(tool_diff_content(str(path), new, old or None))
    if not blocks and diff:
        return [tool_content(text_block(f"```diff\n{diff.rstrip()}\n```"))]
    return blocks


def invert(diff: str) -> str:
    """The same diff the other way round (new -> old)."""
    out = []
    for raw in diff.splitlines(keepends=True):
        m = _HUNK.match(raw)
        if m:
            a, b, c, d = m.group(1), m.group(2), m.group(3), m.group(4)
            rest = raw[m.end():]
            out.append(f"@@ -{c}{',' + d if d is not None else ''} +{a}{',' + b if b is not None else ''} @@{rest}")
        elif raw.startswith("+++ ") or raw.startswith("--- "):
            out.append(raw)
        elif raw.startswith("+"):
            out.append("-" + raw[1:])
        elif raw.startswith("-"):
            out.append("+" + raw[1:])
        else:
            out.append(raw)
    return "".join(out)


def tool_started(root: Path, e: ev.ToolCallStarted) -> s.ToolCallStart:
    return start_tool_call(
        e.call_id, _title(e.name, e.summary), kind=tool_kind(e.name), status="pending",
        locations=_locations(root, e.paths), raw_input=e.arguments,
    )


def tool_running(call_id: str) -> s.ToolCallProgress:
    return update_tool_call(call_id, status="in_progress")


def tool_output(call_id: str, text: str) -> s.ToolCallProgress:
    """Live command output. An update's content replaces the call's content in the client, so
    the caller sends the output so far (its tail), not the new chunk alone."""
    return update_tool_call(call_id, content=[tool_content(text_block(text))])


def tool_finished(root: Path, e: ev.ToolCallFinished, *, output_cap: int = 20_000,
                  redact: Callable[[str], str] | None = None) -> s.ToolCallProgress:
    from realcost_agent.agent.describe import finished_mark

    ok, label = finished_mark(e)
    content: list[Any] = []
    if e.name in EDIT_TOOLS and e.diff and not e.is_error:
        content = diff_contents(root, e.paths, e.diff, applied=True, redact=redact)
    if not content and e.output:
        text = e.output if len(e.output) <= output_cap else e.output[:output_cap] + "\n…(truncated)"
        content = [tool_content(text_block(text))]
    return update_tool_call(
        e.call_id, status="completed" if ok else "failed",
        title=_title(e.name, f"{e.summary} · {label}" if e.summary else label),
        content=content, locations=_locations(root, e.paths),
        raw_output={"is_error": e.is_error, "duration_ms": round(e.duration_ms, 1),
                    **{k: v for k, v in (e.metadata or {}).items()
                       if k in ("exit_code", "files_changed", "denied", "truncated")}},
    )


def approval_call(root: Path, e: ev.ApprovalRequested,
                  redact: Callable[[str], str] | None = None) -> s.ToolCallUpdate:
    """The tool call a permission request is about: the exact diff or command it would run."""
    content: list[Any] = []
    if e.name in EDIT_TOOLS and e.preview:
        content = diff_contents(root, e.paths, e.preview, applied=False, redact=redact)
    elif e.preview:
        content = [tool_content(text_block(e.preview))]
    reason = f"{e.reason}" + (" (protected path: asked every time)" if e.protected else "")
    content.append(tool_content(text_block(f"Needs approval: {reason}")))
    return s.ToolCallUpdate(
        tool_call_id=e.call_id, title=_title(e.name, e.summary), kind=tool_kind(e.name),
        status="pending", content=content, locations=_locations(root, e.paths),
        raw_input=e.arguments,
    )


ALLOW_ONCE, ALLOW_ALWAYS, REJECT = "allow_once", "allow_always", "reject_once"


def permission_options(e: ev.ApprovalRequested) -> list[s.PermissionOption]:
    """Allow once / allow always / reject. "Always" only when the core offers a grant for the
    session: never for destructive commands or protected paths (the TUI's rule)."""
    options = [s.PermissionOption(option_id=ALLOW_ONCE, name="Allow once", kind="allow_once")]
    if e.grant and not e.destructive and not e.protected:
        options.append(s.PermissionOption(
            option_id=ALLOW_ALWAYS, name=f"Allow for this session: {e.grant}", kind="allow_always"))
    options.append(s.PermissionOption(option_id=REJECT, name="Reject", kind="reject_once"))
    return options


def decision(option_id: str | None, offered: list[s.PermissionOption]) -> str:
    """The Approve op's decision for the client's answer; anything unknown denies."""
    ids = {o.option_id for o in offered}
    if option_id not in ids:
        return "deny"
    return {ALLOW_ONCE: "once", ALLOW_ALWAYS: "session"}.get(option_id or "", "deny")
