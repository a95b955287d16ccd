"""The session journal: every conversation message and every figure-bearing event, appended as
it happens, so `agent --resume` continues after a crash or kill -9 with nothing finished lost.

One JSON object per line under data_dir()/sessions/<project key>/<session id>.jsonl:
  {"k": "meta", ...}        once, first: session id, project root, model, version
  {"k": "msg", "m": {...}}  a chat message appended to the conversation
  {"k": "reset", ...}       the conversation after a compaction replaced it (fsync'd)
  {"k": "ev", "e": {...}}   an event in its JSONL form (figures: usage, tasks, model switches)
Streaming deltas are not journaled: the finished message carries the same text. A torn last
line (the process died mid-write) is skipped, never fatal. Secrets are redacted before writing.

Every record is written to the file at once, unbuffered: a killed process (kill -9, a crash)
loses nothing that was written. fsync, which only guards against the machine itself going down,
is batched per step: before a tool call runs (so the step that asked for a side effect is on
disk before the effect), at a turn's and a task's end, at a compaction and at close, one fsync
for everything written since the last. Per message it cost several fsyncs per step, three of
them on the way to the first request.
"""
from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import field
from pathlib import Path
from typing import Any, Callable, Mapping

from realcost_agent.agent import events as ev
from realcost_agent.records import record
from realcost_agent.tools.paths import data_dir

JOURNALED_EVENTS = (
    ev.Compacted, ev.TurnStarted, ev.AssistantMessage, ev.ToolCallFinished, ev.UsageUpdated, ev.TaskUpdated,
    ev.ModelSwitched, ev.TurnFinished, ev.Error,
    ev.PlanUpdated,  # plan mode: a resumed session keeps its plan and update_plan
)
SYNC_EVENTS = (ev.TurnFinished, ev.TaskUpdated)
SYNC_BEFORE = (ev.ToolCallStarted,)  # not journaled, but what led to it must be durable first


def project_key(root: Path) -> str:
    real = os.path.realpath(root)
    return f"{Path(real).name or 'root'}-{hashlib.sha256(real.encode()).hexdigest()[:12]}"


def sessions_dir(root: Path, env: Mapping[str, str] | None = None) -> Path:
    return data_dir(env) / "sessions" / project_key(root)


def latest_session_id(root: Path, env: Mapping[str, str] | None = None) -> str | None:
    d = sessions_dir(root, env)
    try:
        files = sorted(d.glob("*.jsonl"), key=lambda p: (p.stat().st_mtime_ns, p.name))
    except OSError:
        return None
    return files[-1].stem if files else None


class Journal:
    def __init__(self, path: Path, redact: Callable[[str], str]) -> None:
        self.path = path
        self.redact = redact
        path.parent.mkdir(parents=True, exist_ok=True)
        self._fh = open(path, "ab", buffering=0)  # noqa: SIM115 - lives as long as the session
        self.failed: str | None = None
        self._dirty = False  # written since the last fsync

    def sync(self) -> None:
        """fsync what was written since the last one (nothing to do: no system call)."""
        if not self._dirty or self.failed:
            return
        try:
            os.fsync(self._fh.fileno())
            self._dirty = False
        except OSError as exc:
            self.failed = f"session journal {self.path} stopped: {exc.strerror or exc}"

    def _write(self, record: dict[str, Any], sync: bool) -> None:
        if self.failed:
            return
        obj = getattr(self.redact, "obj", None)  # a Redactor: redact the values, never the JSON
        if obj is not None:
            line = json.dumps(obj(record), ensure_ascii=False, separators=(",", ":")) + "\n"
        else:
            line = self.redact(json.dumps(record, ensure_ascii=False, separators=(",", ":"))) + "\n"
        try:
            self._fh.write(line.encode("utf-8", "surrogatepass"))
        except OSError as exc:  # disk full, etc.: say so once, keep the session running
            self.failed = f"session journal {self.path} stopped: {exc.strerror or exc}"
            return
        self._dirty = True
        if sync:
            self.sync()

    def meta(self, **data: Any) -> None:
        self._write({"k": "meta", "t": time.time(), **data}, sync=False)

    def message(self, message: dict[str, Any]) -> None:
        self._write({"k": "msg", "m": message}, sync=False)

    def reset(self, messages: list[dict[str, Any]]) -> None:
        """The conversation was replaced wholesale (compaction): later loads start from here."""
        self._write({"k": "reset", "messages": messages}, sync=True)

    def event(self, event: ev.Event) -> None:
        if isinstance(event, JOURNALED_EVENTS):
            self._write({"k": "ev", "e": ev.to_dict(event)}, sync=isinstance(event, SYNC_EVENTS))
        elif isinstance(event, SYNC_BEFORE):
            self.sync()

    def close(self) -> None:
        self.sync()
        try:
            self._fh.close()
        except OSError:
            pass


@record
class Resumed:
    session_id: str
    meta: dict[str, Any]
    messages: list[dict[str, Any]]
    events: list[dict[str, Any]] = field(default_factory=list)
    skipped_lines: int = 0


def load(path: Path, *, keep_compacted: bool = False) -> Resumed:
    """Read a journal; unreadable lines (a torn last write) are counted and skipped. A
    compaction replaces the messages, unless `keep_compacted` (an export shows every message
    ever appended)."""
    meta: dict[str, Any] = {}
    messages: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []
    skipped = 0
    with open(path, "rb") as fh:
        for raw in fh:
            try:
                record = json.loads(raw.decode("utf-8", "surrogatepass"))
            except (ValueError, UnicodeDecodeError):
                skipped += 1
                continue
            kind = record.get("k") if isinstance(record, dict) else None
            if kind == "meta" and not meta:
                meta = record
            elif kind == "msg" and isinstance(record.get("m"), dict):
                messages.append(record["m"])
            elif kind == "reset" and isinstance(record.get("messages"), list):
                kept = [m for m in record["messages"] if isinstance(m, dict)]
                messages = messages + kept if keep_compacted else kept
            elif kind == "ev" and isinstance(record.get("e"), dict):
                events.append(record["e"])
            else:
                skipped += 1
    return Resumed(path.stem, meta, messages, events, skipped)


def repair_history(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Give every tool call a result (a kill between call and result leaves one dangling)."""
    answered = {m.get("tool_call_id") for m in messages if m.get("role") == "tool"}
    out: list[dict[str, Any]] = []
    for message in messages:
        out.append(message)
        if message.get("role") == "assistant":
            for call in message.get("tool_calls") or []:
                if call.get("id") not in answered:
                    out.append({
                        "role": "tool", "tool_call_id": call.get("id"),
                        "content": "not finished: the session stopped before this call completed",
                    })
                    answered.add(call.get("id"))
    return out


class ResumeError(ValueError):
    """No session to resume; the message says what exists."""


def load_session(root: Path, session_id: str | None, env: Mapping[str, str] | None = None) -> Resumed:
    """The journal of `session_id` in this project, or the latest one when None."""
    d = sessions_dir(root, env)
    sid = session_id or latest_session_id(root, env)
    if sid is None:
        raise ResumeError(f"no session to resume in {root} (journals live in {d})")
    path = d / f"{sid}.jsonl"
    if not path.is_file() or "/" in sid:
        known = sorted(p.stem for p in d.glob("*.jsonl"))[-5:] if d.is_dir() else []
        hint = f"; recent: {', '.join(known)}" if known else ""
        raise ResumeError(f"no session {sid!r} in this project{hint}")
    resumed = load(path)
    if not resumed.messages:
        raise ResumeError(f"session {sid} has no messages to resume")
    return resumed
