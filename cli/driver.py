"""Driving a Session through whole tasks without a human: the shared core of `agent compare`
and `agent run`. It is a plain consumer of the event stream, like the headless front-end.

    driver = Driver(session, on_event=print_progress)
    await session.start()
    outcome = await driver.send("fix the bug")   # waits for the task's last turn
    outcome = await driver.send("also add a test")   # a follow-up in the same task
    await driver.end(outcome, debug_seconds=300)
    await driver.close()
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable

from realcost_agent.agent import events as ev
from realcost_agent.agent.ops import CorrectDebugTime, EndTask, UserInput

if TYPE_CHECKING:
    from realcost_agent.agent.session import Session


@dataclass
class Outcome:
    """Where a task stands after its last turn (the session's own follow-ups included)."""

    task_id: int = 0
    reason: str = "error"  # the last turn's: "done", "max_steps", "error", ...
    text: str = ""
    prompts: int = 0
    followups: int = 0
    checks: int = 0
    check_passed: bool | None = None  # the last check's result; None when none ran
    check_output: str = ""  # the last check's output tail
    check_command: str = ""
    models: list[str] = field(default_factory=list)  # in the order the task used them
    files_changed: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    provider_failed: bool = False
    api_cost: float = 0.0
    unpriced_calls: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    requests: int = 0

    @property
    def passed(self) -> bool:
        """Done, and its check passed when one ran."""
        return self.reason == "done" and self.check_passed is not False

    @property
    def hard_error(self) -> bool:
        """The provider or the agent failed (not the model's work)."""
        return self.reason == "error" or self.provider_failed


class Driver:
    def __init__(self, session: Session, on_event: Callable[[ev.Event], None] | None = None) -> None:
        self.session = session
        self.on_event = on_event
        self._closed = False

    async def _next(self) -> ev.Event | None:
        event = await self.session.next_event()
        if event is None:
            self._closed = True
        elif self.on_event is not None:
            self.on_event(event)
        return event

    async def send(self, text: str, outcome: Outcome | None = None) -> Outcome:
        """Submit a prompt (a new task, or a follow-up in the active one) and wait until the
        task's turns are over: the final TurnFinished, after any automatic follow-ups."""
        out = outcome or Outcome()
        self.session.submit(UserInput(text))
        while (event := await self._next()) is not None:
            if isinstance(event, ev.ModelRouted):
                if event.model not in out.models:
                    out.models.append(event.model)
            elif isinstance(event, ev.TurnStarted):
                out.task_id = event.task_id
                if event.model not in out.models:
                    out.models.append(event.model)
            elif isinstance(event, ev.CheckFinished):
                out.checks += 1
                out.check_passed = event.passed
                out.check_output, out.check_command = event.output_tail, event.command
            elif isinstance(event, ev.UsageUpdated):
                out.requests += 1
                out.input_tokens += event.input_tokens
                out.output_tokens += event.output_tokens
            elif isinstance(event, ev.TaskUpdated):
                out.prompts, out.followups = event.prompts, event.followups
                out.api_cost, out.unpriced_calls = event.api_cost, event.unpriced_calls
            elif isinstance(event, ev.Error):
                out.errors.append(event.message)
                out.provider_failed = out.provider_failed or event.kind == "provider"
            elif isinstance(event, ev.TurnFinished):
                out.reason, out.text = event.reason, event.text
                for path in event.files_changed:
                    if path not in out.files_changed:
                        out.files_changed.append(path)
                if not event.continues:
                    return out
        out.errors.append("the session closed before the task finished")
        return out

    async def end(self, outcome: Outcome, *, debug_seconds: float = 0.0,
                  status: str | None = None) -> None:
        """Record the developer's debug time (a correction: headless measures none) and close
        the task: done when its last turn was, abandoned otherwise."""
        task = self.session.tasks.current
        if task is None or task.status != "active":
            return  # nothing to end: the session would answer with no event
        if debug_seconds:
            self.session.submit(CorrectDebugTime(debug_seconds))
        self.session.submit(EndTask(status or ("done" if outcome.reason == "done" else "abandoned")))
        while (event := await self._next()) is not None:
            if isinstance(event, ev.TaskUpdated) and event.status != "active":
                outcome.api_cost, outcome.unpriced_calls = event.api_cost, event.unpriced_calls
                return
            if isinstance(event, ev.Warning) and "still working" in event.message:
                return

    async def close(self) -> None:
        await self.session.close()
        while not self._closed and await self._next() is not None:
            pass
