"""The conversation and its journal, as one object: what the model sees and what `--resume` reads
back are written by the same door.

    history.append(message)     the one way in: redacts, appends, journals (fsync'd)
    history.snapshot(extra)     the messages for a request (a corrective note rides along once)
    history.replace(messages)   after a compaction: the whole conversation, journaled as a reset
    history.resume(messages)    a journaled conversation, repaired so every call has a result
    history.unanswered()        tool calls of the last assistant message still without a result

A journal that fails (disk full) is detached after one Warning; the session goes on unjournaled.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

from realcost_agent.agent import events as ev
from realcost_agent.agent.journal import Journal, repair_history
from realcost_agent.agent.secrets import Redactor

Message = dict[str, Any]


class History:
    def __init__(self, redact: Redactor, emit: Callable[[ev.Event], None]) -> None:
        self._redact = redact
        self._emit = emit
        self._messages: list[Message] = []
        self.journal: Journal | None = None
        # Every tool-call id used in this session: a model that repeats one gets a fresh id.
        self._call_ids: set[str] = set()

    # -- the journal -------------------------------------------------------------------------
    def open_journal(self, path: Path) -> Journal | None:
        """Journal from now on; None (after a Warning) when the file cannot be written."""
        try:
            self.journal = Journal(path, self._redact)
        except OSError as exc:
            self._emit(ev.Warning(f"session journal {path} cannot be written "
                                  f"({exc.strerror or exc}); this session cannot be resumed"))
        return self.journal

    def meta(self, **data: Any) -> None:
        if self.journal is not None:
            self.journal.meta(**data)

    def close(self) -> None:
        if self.journal is not None:
            self.journal.close()

    # -- the conversation --------------------------------------------------------------------
    @property
    def messages(self) -> list[Message]:
        """The conversation (the live list: read it, write through append/replace)."""
        return self._messages

    def append(self, message: Message) -> None:
        # The one door into the conversation: the system prompt (instructions), the task with its
        # repo map, tool results and the model's own text and tool-call arguments.
        message = self._redact.obj(message)
        self._messages.append(message)
        if self.journal is not None:
            self.journal.message(message)
            if self.journal.failed:
                failed, self.journal = self.journal.failed, None
                self._emit(ev.Warning(failed))

    def replace(self, messages: list[Message]) -> None:
        self._messages = [self._redact.obj(m) for m in messages]
        if self.journal is not None:
            self.journal.reset(self._messages)

    def snapshot(self, extra: list[Message] | tuple[Message, ...] = ()) -> list[Message]:
        """A copy for one request, with `extra` (a corrective note) sent this once only."""
        return self._messages + list(extra)

    def resume(self, messages: list[Message]) -> None:
        """A journaled conversation; placeholders for calls a kill left without a result."""
        self._messages = repair_history(messages)
        if self.journal is not None and len(self._messages) != len(messages):
            # Placeholders were inserted after their calls: record the repaired history whole.
            self.journal.reset(self._messages)

    # -- tool calls --------------------------------------------------------------------------
    def unique_call_id(self, given: str | None, fallback: str) -> str:
        """The model's call id, or `fallback` when it gave none or one already used."""
        call_id = fallback if not given or given in self._call_ids else given
        self._call_ids.add(call_id)
        return call_id

    def unanswered(self) -> list[tuple[str, str]]:
        """(id, tool name) of the last assistant message's calls that have no result yet."""
        answered = {m.get("tool_call_id") for m in self._messages if m.get("role") == "tool"}
        for message in reversed(self._messages):
            if message.get("role") == "assistant":
                return [(call["id"], call["function"]["name"])
                        for call in message.get("tool_calls") or [] if call["id"] not in answered]
        return []
