"""Ops: everything a front-end can ask of the core session."""
from __future__ import annotations

from realcost_agent.records import record



@record(frozen=True)
class Op:
    pass


@record(frozen=True)
class UserInput(Op):
    """A prompt. Inside an active task it is a follow-up."""

    text: str


@record(frozen=True)
class Approve(Op):
    call_id: str
    # "once" | "session" (approve this tool for the rest of the session) | "deny"
    decision: str
    reason: str = ""


@record(frozen=True)
class Interrupt(Op):
    """Stop the running turn; its processes die, the conversation is kept."""


@record(frozen=True)
class SwitchModel(Op):
    spec: str  # a profile name, any litellm model id, or "auto" (route each task)
    # "session": pin it for the session; "task": for the current task only (or the next one
    # when none is active), after which routing (or the session's pin) applies again.
    scope: str = "session"


@record(frozen=True)
class SetCheck(Op):
    """The check command run after the agent says it is done; None: no check."""

    command: str | None


@record(frozen=True)
class EndTask(Op):
    # "done" | "abandoned" | "ended" (the user started a new task without saying done)
    status: str = "done"


@record(frozen=True)
class CorrectDebugTime(Op):
    """The developer's correction of the current task's debug time: +/- seconds, or a total."""

    seconds: float
    absolute: bool = False


@record(frozen=True)
class Shutdown(Op):
    pass


@record(frozen=True)
class Undo(Op):
    """Restore the working tree to the last checkpoint (before the agent's last changes)."""

    checkpoint_id: int | None = None  # None: the latest


@record(frozen=True)
class PlanInput(Op):
    """Plan mode (/plan, --plan): a prompt answered with read-only tools and a checklist plan."""
    text: str


@record(frozen=True)
class PlanDecision(Op):
    """The user's answer to a PlanProposed: "approve" (with the steps, edited or not) or "reject"."""
    action: str
    steps: tuple[str, ...] = ()
    note: str = ""  # why it was rejected, or what to change; told to the model
