"""An in-process provider that replays scripted turns, for tests where HTTP is beside the point.

    provider = ScriptedProvider([
        [reasoning("look first"), tool_call("read_file", {"path": "a.py"}), usage(100, 20)],
        [text("Done."), usage(150, 5)],
    ])

A turn is a list of items: deltas, builder results (lists are flattened), plain strings
(shorthand for text), or exceptions (raised at that point, e.g. a ProviderError). A turn may
also be a callable `(messages, tools, model) -> turn` to answer based on the request. Tool
calls in a turn get indexes 0, 1, ... in order. A turn without a Finish gets one: "tool_calls"
if it called a tool, else "stop". Every call is recorded in `calls`.
"""
from __future__ import annotations

import copy
import json
from typing import Any, AsyncIterator, Callable, Iterable, Sequence, Union

from realcost_agent.providers.base import (
    Finish, ReasoningDelta, ResolvedModel, StreamDelta, TextDelta, ToolCallDelta, Usage,
)
from realcost_agent.records import record


@record(frozen=True)
class _ToolCall:
    name: str
    arguments: str
    id: str | None
    pieces: int


Item = Union[StreamDelta, _ToolCall, str, BaseException, Sequence[Any]]
Turn = Union[Sequence[Item], Callable[[list, list, ResolvedModel], Sequence[Item]]]


class ScriptExhaustedError(AssertionError):
    """The code under test made more model calls than the script has turns."""


def text(s: str, *, pieces: int = 1) -> list[TextDelta]:
    return [TextDelta(p) for p in _split(s, pieces)]


def reasoning(s: str, *, pieces: int = 1) -> list[ReasoningDelta]:
    return [ReasoningDelta(p) for p in _split(s, pieces)]


def tool_call(name: str, args: dict | str = "{}", *, id: str | None = None, pieces: int = 2) -> _ToolCall:
    """A whole tool call; its arguments are streamed in `pieces` fragments."""
    return _ToolCall(name, args if isinstance(args, str) else json.dumps(args), id, pieces)


def usage(input_tokens: int = 0, output_tokens: int = 0, *, cached: int = 0, reasoning_tokens: int = 0,
          cost: float | None = None) -> Usage:
    return Usage(input_tokens, output_tokens, cached, reasoning_tokens, cost)


def finish(reason: str = "stop") -> Finish:
    return Finish(reason)


def _split(s: str, pieces: int) -> list[str]:
    if not s or pieces <= 1:
        return [s]
    step = -(-len(s) // pieces)
    return [s[i : i + step] for i in range(0, len(s), step)]


@record
class ScriptedCall:
    messages: list[dict[str, Any]]  # deep copies, as they were at call time
    tools: list[dict[str, Any]]
    model: ResolvedModel


class ScriptedProvider:
    name = "scripted"

    def __init__(self, turns: Iterable[Turn] = ()) -> None:
        self._turns: list[Turn] = list(turns)
        self.calls: list[ScriptedCall] = []
        self._call_no = 0

    def add(self, *turns: Turn) -> None:
        self._turns.extend(turns)

    @property
    def remaining(self) -> int:
        return len(self._turns)

    async def aclose(self) -> None:
        return None

    def _expand(self, turn: Sequence[Item]) -> list[StreamDelta | BaseException]:
        out: list[StreamDelta | BaseException] = []
        next_index = 0

        def add(item: Any) -> None:
            nonlocal next_index
            if isinstance(item, str):
                out.append(TextDelta(item))
            elif isinstance(item, _ToolCall):
                idx, next_index = next_index, next_index + 1
                call_id = item.id or f"call_{self._call_no}_{idx}"
                parts = _split(item.arguments, item.pieces)
                out.append(ToolCallDelta(idx, call_id, item.name, parts[0]))
                out.extend(ToolCallDelta(idx, None, None, p) for p in parts[1:])
            elif isinstance(item, ToolCallDelta):
                next_index = max(next_index, item.index + 1)
                out.append(item)
            elif isinstance(item, (TextDelta, ReasoningDelta, Usage, Finish, BaseException)):
                out.append(item)
            elif isinstance(item, (list, tuple)):
                for sub in item:
                    add(sub)
            else:
                raise TypeError(f"ScriptedProvider: can't stream {item!r}")

        for item in turn:
            add(item)
        if not any(isinstance(d, (Finish, BaseException)) for d in out):
            called = any(isinstance(d, ToolCallDelta) for d in out)
            out.append(Finish("tool_calls" if called else "stop"))
        return out

    async def stream(
        self, messages: list[dict[str, Any]], tools: list[dict[str, Any]], model: ResolvedModel
    ) -> AsyncIterator[StreamDelta]:
        self._call_no += 1
        self.calls.append(ScriptedCall(copy.deepcopy(messages), copy.deepcopy(tools), model))
        if not self._turns:
            last = messages[-1] if messages else {}
            raise ScriptExhaustedError(
                f"ScriptedProvider: call #{self._call_no} but the script has no turn left; "
                f"last message was {last.get('role')!r}: {str(last.get('content'))[:120]!r}")
        turn = self._turns.pop(0)
        if callable(turn):
            turn = turn(messages, tools, model)
        for item in self._expand(turn):
            if isinstance(item, BaseException):
                raise item
            yield item
