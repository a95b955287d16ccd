"""Repeat detection: a model stuck calling the same tool with the same arguments.

Counting rule: within one turn, identical calls (same tool, same arguments after canonical JSON
normalisation) are counted whether or not they are consecutive, so A,B,A,B,... loops are caught
too. A change to the project (a tool reporting files_changed) clears the counts: `edit, pytest,
edit, pytest, ...` is progress, not a loop, and rerunning the tests after each fix must never
stop a turn. The call that reaches `limit` is the one to refuse.
"""
from __future__ import annotations

import json
from collections import Counter
from typing import Any

from realcost_agent.records import record


@record(frozen=True)
class Repeat:
    tool: str
    count: int
    arguments: str  # canonical form, for the message

    def message(self) -> str:
        return (f"the same {self.tool} call was made {self.count} times in this turn without any "
                "file changing in between; stopping the turn to break the loop")


def canonical(arguments: Any) -> str:
    """One spelling per meaning: key order and whitespace do not make a call new."""
    if isinstance(arguments, (bytes, bytearray)):
        arguments = arguments.decode("utf-8", "replace")
    if isinstance(arguments, str):
        try:
            arguments = json.loads(arguments) if arguments.strip() else {}
        except ValueError:
            return arguments.strip()  # malformed: compared as text
    if hasattr(arguments, "model_dump"):
        arguments = arguments.model_dump(exclude_defaults=True)
    try:
        return json.dumps(arguments, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    except (TypeError, ValueError):
        return repr(arguments)


class RepeatDetector:
    def __init__(self, limit: int = 5) -> None:
        if limit < 2:
            raise ValueError("limit must be at least 2")
        self.limit = limit
        self._counts: Counter[tuple[str, str]] = Counter()

    def observe(self, tool: str, arguments: Any) -> Repeat | None:
        """Count a call about to run; a Repeat when this one reaches the limit."""
        key = (tool, canonical(arguments))
        self._counts[key] += 1
        count = self._counts[key]
        return Repeat(tool, count, key[1]) if count >= self.limit else None

    def progress(self) -> None:
        """The project changed: earlier calls may now give different results."""
        self._counts.clear()

    def reset(self) -> None:
        """A new turn."""
        self._counts.clear()
