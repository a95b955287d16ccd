"""The cache a model switch throws away, as its own cost line.

A provider's prompt cache belongs to one model. When a task moves to another model (an
escalation, or /model in the middle of a task), the whole conversation so far, the prefix, goes
to the new model uncached. The prefix is what the last call on the old model read and wrote
(its input + output tokens: the next request starts with exactly that). Its cost line is what
the cold cache costs over a warm one on the new model:

    prefix_tokens x (input price - cached input price)      (0 when it prices cache hits as input)

That amount is inside the next call's API cost already (the provider bills it there); the line
only says how much of it the switch caused, so totals never count it twice.
"""
from __future__ import annotations

from typing import Any

from realcost_agent.agent import events as ev


class CacheTracker:
    def __init__(self, session: Any) -> None:
        self.s = session
        self._listening = False
        self._last: dict[str, tuple[int, int]] = {}  # litellm id -> (input, output) of its last call

    def task_started(self, task_id: int) -> None:
        if not self._listening:  # the session's listeners exist once it has started
            self.s.add_listener(self._on_event)
            self._listening = True
        self._last.clear()  # a new task starts a new conversation prefix

    def _on_event(self, event: ev.Event) -> None:
        if isinstance(event, ev.UsageUpdated) and event.purpose == "turn":
            self._last[event.litellm_id] = (event.input_tokens, event.output_tokens)

    def switched(self, task_id: int, old: Any, new: Any) -> ev.CacheDiscarded | None:
        if old is None or old.litellm_id == new.litellm_id:
            return None
        last = self._last.get(old.litellm_id)
        if last is None:
            return None  # nothing was sent on the old model in this task: nothing cached
        prefix = last[0] + last[1]
        event = ev.CacheDiscarded(task_id, old.label, new.label, prefix,
                                  discarded_cost(self.s.meter.price(new), prefix))
        self.s.emit(event)
        return event


def discarded_cost(price: Any, prefix_tokens: int) -> float | None:
    if price is None:
        return None
    cached = price.input if price.cached_input is None else price.cached_input
    return prefix_tokens * max(0.0, price.input - cached)
