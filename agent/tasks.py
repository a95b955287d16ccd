"""Tasks and the developer's debug time, measured.

A task starts with a prompt and ends when the user marks it done, abandons it, or starts a new
one; later prompts inside it are follow-ups. Debug time is the wall-clock gap between the agent
finishing a turn and the developer's next follow-up or "done", each gap capped so a lunch break
is not billed. Corrections (`/debug +3m`) are kept beside the measured value, never mixed in.
Headless sessions measure nothing: their debug time is zero unless given.
"""
from __future__ import annotations

import time
from dataclasses import field
from typing import Callable

from realcost_agent.records import record


@record
class Task:
    id: int
    status: str = "active"  # "active" | "done" | "abandoned" | "ended" (a new task replaced it)
    prompts: int = 0
    agent_seconds: float = 0.0  # time the agent was busy on this task
    debug_seconds: float = 0.0  # measured gaps, each capped
    correction_seconds: float = 0.0  # the developer's corrections, + or -
    api_cost: float = 0.0  # calls with a known price
    unpriced_calls: int = 0
    requests: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    models: list[str] = field(default_factory=list)
    first_prompt: str = ""
    _turn_started: float | None = None
    _idle_since: float | None = None  # end of the last turn, while waiting on the developer

    @property
    def followups(self) -> int:
        return max(0, self.prompts - 1)

    @property
    def debug_total_seconds(self) -> float:
        return max(0.0, self.debug_seconds + self.correction_seconds)

    def real_cost(self, hourly_rate: float) -> float:
        return self.api_cost + self.debug_total_seconds / 3600.0 * hourly_rate


class TaskTracker:
    def __init__(
        self,
        *,
        measure_debug: bool,
        idle_cap_seconds: float = 600.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.measure_debug = measure_debug
        self.idle_cap = idle_cap_seconds
        self.clock = clock
        self.current: Task | None = None
        self._next_id = 1

    def restore(self, update: dict) -> Task:
        """Continue from a journaled TaskUpdated (resume after a crash)."""
        task = Task(
            id=int(update["task_id"]), status=str(update["status"]), prompts=int(update["prompts"]),
            agent_seconds=float(update.get("agent_ms", 0)) / 1000,
            debug_seconds=float(update.get("debug_ms", 0)) / 1000,
            correction_seconds=float(update.get("debug_correction_ms", 0)) / 1000,
            api_cost=float(update.get("api_cost", 0.0)),
            unpriced_calls=int(update.get("unpriced_calls", 0)),
        )
        self.current = task
        self._next_id = max(self._next_id, task.id + 1)
        return task

    def _close_gap(self, task: Task, now: float) -> None:
        if self.measure_debug and task._idle_since is not None:
            task.debug_seconds += min(max(0.0, now - task._idle_since), self.idle_cap)
        task._idle_since = None

    def prompt(self, text: str = "") -> tuple[Task, bool]:
        """A prompt arrives: (its task, whether it is a follow-up)."""
        now = self.clock()
        task = self.current
        followup = task is not None and task.status == "active"
        if not followup:
            task = Task(self._next_id, first_prompt=text)
            self._next_id += 1
            self.current = task
        else:
            assert task is not None
            self._close_gap(task, now)
        task.prompts += 1
        task._turn_started = now
        return task, followup

    def turn_finished(self) -> Task | None:
        task = self.current
        if task is None or task._turn_started is None:
            return task
        now = self.clock()
        task.agent_seconds += max(0.0, now - task._turn_started)
        task._turn_started = None
        task._idle_since = now
        return task

    def end(self, status: str) -> Task | None:
        """Mark the current task done or abandoned; the gap until now is debug time."""
        task = self.current
        if task is None or task.status != "active":
            return None
        if task._turn_started is not None:  # ended while the agent was still working
            self.turn_finished()
        self._close_gap(task, self.clock())
        task.status = status
        return task

    def correct(self, seconds: float, *, absolute: bool = False) -> Task | None:
        """`/debug +3m` adds, `/debug 5m` sets the total (the measured value stays recorded)."""
        task = self.current
        if task is None:
            return None
        if absolute:
            task.correction_seconds = seconds - task.debug_seconds
        else:
            task.correction_seconds += seconds
        return task


def parse_duration(text: str) -> tuple[float, bool]:
    """'+3m' -> (180, False); '5m' -> (300, True); '-90s' -> (-90, False); '1.5h', '2' (minutes)."""
    s = text.strip().lower().replace(" ", "")
    if not s:
        raise ValueError("empty duration")
    relative = s[0] in "+-"
    sign = -1.0 if s[0] == "-" else 1.0
    if relative:
        s = s[1:]
    units = {"s": 1.0, "m": 60.0, "min": 60.0, "h": 3600.0}
    for suffix in ("min", "s", "m", "h"):
        if s.endswith(suffix):
            number, unit = s[: -len(suffix)], units[suffix]
            break
    else:
        number, unit = s, 60.0
    try:
        value = float(number)
    except ValueError:
        raise ValueError(f"not a duration: {text!r} (try +3m, 5m, 90s, 1.5h)") from None
    if value < 0:
        raise ValueError(f"not a duration: {text!r}")
    return sign * value * unit, not relative
