"""Driving a Session through whole tasks without a human: the shared core of `agent compare`
and `agent run`. It is a plain consumer of the event stream, like the headless front-end.

    driver = Driver(session, on_event=print_progress)
    problem = await driver.start()   # the preflight's fatal error, or None
    outcome = await driver.send("fix the bug")   # waits for the task's last turn
    outcome = await driver.send("also add a test")   # a follow-up in the same task
    await driver.end(outcome, debug_seconds=300)
    await driver.close()
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Callable

from realcost_agent.agent import events as ev
from realcost_agent.agent.fold import Fold, Totals
from realcost_agent.agent.ops import CorrectDebugTime, EndTask, UserInput

if TYPE_CHECKING:
    from realcost_agent.agent.session import Session


class Outcome:
    """Where a task stands after its last turn (the session's own follow-ups included): a view
    of the task's own fold of the events (agent/fold.py), so compare and run read the same
    figures the headless summary and the TUI do."""

    def __init__(self) -> None:
        self.fold = Fold()
        self.extra_errors: list[str] = []  # the driver's own (the session closed early)

    @property
    def totals(self) -> Totals:
        return self.fold.totals

    task_id = property(lambda self: self.totals.task_id)
    text = property(lambda self: self.totals.text)
    prompts = property(lambda self: self.totals.prompts)
    followups = property(lambda self: self.totals.followups)
    checks = property(lambda self: self.totals.checks)
    check_passed = property(lambda self: self.totals.check_passed)  # the last check's; None: none ran
    check_output = property(lambda self: self.totals.check_output)
    check_command = property(lambda self: self.totals.check_command)
    models = property(lambda self: list(self.totals.models_used))  # in the order the task used them
    files_changed = property(lambda self: list(self.totals.files_changed))
    provider_failed = property(lambda self: self.totals.provider_failed)
    api_cost = property(lambda self: self.totals.api_cost)
    unpriced_calls = property(lambda self: self.totals.unpriced_calls)
    input_tokens = property(lambda self: self.totals.input_tokens)
    output_tokens = property(lambda self: self.totals.output_tokens)
    requests = property(lambda self: self.totals.requests)

    @property
    def reason(self) -> str:
        """The last turn's: "done", "max_steps", "error", ... ("error" before any turn)."""
        return self.totals.reason or "error"

    @property
    def errors(self) -> list[str]:
        return [*self.totals.errors, *self.extra_errors]

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
        self.totals = Fold()  # the whole session's figures
        self._task: Outcome | None = None  # the task being driven: every event is folded in

    async def _next(self) -> ev.Event | None:
        event = await self.session.next_event()
        if event is None:
            self._closed = True
            return None
        self.totals.feed(event)
        if self._task is not None:
            self._task.fold.feed(event)
        if self.on_event is not None:
            self.on_event(event)
        return event

    @property
    def session_id(self) -> str:
        return self.totals.totals.session_id

    async def start(self) -> ev.Error | None:
        """Start the session; the fatal configuration error that stopped it (the preflight's
        missing key), or None once it has started."""
        await self.session.start()
        while (event := await self._next()) is not None:
            if isinstance(event, ev.SessionStarted):
                return None
            if isinstance(event, ev.Error) and event.fatal:
                return event
        return ev.Error("the session closed before it started", "internal", fatal=True)

    async def send(self, text: str, outcome: Outcome | None = None) -> Outcome:
        """Submit a prompt (a new task, or a follow-up in the active one) and wait until the
        task's turns are over: the final TurnFinished, after any automatic follow-ups."""
        out = self._task = outcome or Outcome()
        self.session.submit(UserInput(text))
        while (event := await self._next()) is not None:
            if isinstance(event, ev.TurnFinished) and not event.continues:
                return out
        out.extra_errors.append("the session closed before the task finished")
        return out

    async def end(self, outcome: Outcome, *, debug_seconds: float = 0.0,
                  status: str | None = None) -> None:
        """Record the developer's debug time (a correction: headless measures none) and close
        the task: done when its last turn was, abandoned otherwise."""
        self._task = outcome
        if outcome.totals.task_status != "active":
            return  # nothing to end: the session would answer with no event
        if debug_seconds:
            self.session.submit(CorrectDebugTime(debug_seconds))
        self.session.submit(EndTask(status or ("done" if outcome.reason == "done" else "abandoned")))
        while (event := await self._next()) is not None:
            if isinstance(event, ev.TaskUpdated) and event.status != "active":
                return
            if isinstance(event, ev.Warning) and event.code == ev.CODE_BUSY:
                return

    async def close(self) -> None:
        await self.session.close()
        while not self._closed and await self._next() is not None:
            pass
