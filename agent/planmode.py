"""Plan mode: think first, change nothing, then carry out the plan the user approved.

    session.submit(PlanInput("add a --verbose flag"))   # /plan in the TUI, --plan headless

The planning turn runs with the read-only tools only (`Tool.mutating` false) and no check or Stop
hook after it; the model answers with a markdown checklist, which the session emits as
PlanProposed. The user approves it (as is or edited), or rejects it:

    session.submit(PlanDecision("approve", steps))   # or PlanDecision("reject")

On approval the `update_plan` tool (tools/update_plan.py, as in Codex) joins the registry, the
plan is emitted as PlanUpdated (every step pending) and a follow-up prompt in the same task asks
the model to carry it out, keeping the checklist current; each update_plan call is a PlanUpdated.
"""
from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from realcost_agent.agent import events as ev
from realcost_agent.agent import ops

if TYPE_CHECKING:
    from realcost_agent.agent.session import Session

MAX_STEPS = 50
PLAN_NOTE = (
    "[Plan mode: do not change anything yet; only read-only tools are available. Look at what "
    "you need, then answer with a short plan as a markdown checklist, one `- [ ] step` per line "
    "(at most 12 steps, each a concrete action). The user approves, edits or rejects it before "
    "anything runs.]"
)
_CHECKBOX = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s*\[[ xX]\]\s+(.+?)\s*$")
_NUMBERED = re.compile(r"^\s*\d+[.)]\s+(.+?)\s*$")
_BULLET = re.compile(r"^\s*[-*+]\s+(.+?)\s*$")


def parse_checklist(text: str) -> list[str]:
    """The plan's steps: checkbox lines, else numbered lines, else bullets (at most MAX_STEPS)."""
    lines = (text or "").splitlines()
    for pattern in (_CHECKBOX, _NUMBERED, _BULLET):
        steps = [m.group(1) for line in lines if (m := pattern.match(line))]
        if steps:
            return steps[:MAX_STEPS]
    return []


def plan_text(steps: list[str] | tuple[str, ...]) -> str:
    return "\n".join(f"- [ ] {s}" for s in steps)


def execution_prompt(steps: list[str] | tuple[str, ...], *, edited: bool, note: str = "") -> str:
    how = "approved this plan, after editing it" if edited else "approved this plan"
    lines = [f"The user {how}:", plan_text(steps)]
    if note:
        lines.append(f"Their note: {note}")
    lines.append("Carry it out now. Keep the checklist current with the update_plan tool: mark a "
                 "step in_progress before you start it and completed when it is done.")
    return "\n".join(lines)


class PlanMode:
    def __init__(self, session: Session) -> None:
        self.s = session
        self.planning = False  # a planning turn is running (the Session skips the check then)
        self.proposed: list[str] = []
        self.steps: list[dict[str, str]] = []
        self._full_registry: Any = None
        self._turn_id: str | None = None
        session.add_listener(self._on_event)
        self._restore(getattr(session, "_resume", None))

    def _restore(self, resumed: Any) -> None:
        """A resumed session carries on with its plan: the last plan_updated in its journal."""
        last = None
        for record in getattr(resumed, "events", None) or ():
            if record.get("type") == "plan_updated":
                last = record
        steps = [s for s in (last or {}).get("steps") or () if isinstance(s, dict) and s.get("step")]
        if steps:
            self.steps = [{"step": str(s["step"]), "status": str(s.get("status", "pending"))} for s in steps]
            self._add_update_plan()

    # -- ops ---------------------------------------------------------------------------------
    def handle(self, op: ops.Op) -> None:
        if self.s.busy:
            self.s.emit(ev.Warning("the agent is working: wait or interrupt it before planning"))
            return
        if isinstance(op, ops.PlanInput):
            self._plan(op.text)
        elif isinstance(op, ops.PlanDecision):
            self._decide(op)

    def _plan(self, text: str) -> None:
        if not text.strip():
            self.s.emit(ev.Warning("/plan needs a task: /plan <what to do>"))
            return
        from realcost_agent.tools.registry import ToolRegistry

        self._full_registry = self.s.registry
        # Read-only tools only; update_plan belongs to carrying a plan out, not to making one.
        self.s.registry = ToolRegistry(t for t in self.s.registry.read_only()
                                       if t.name != "update_plan")
        self.planning, self._turn_id, self.proposed = True, None, []
        self.s._start_turn(f"{text.strip()}\n\n{PLAN_NOTE}")

    def _decide(self, op: ops.PlanDecision) -> None:
        if op.action == "reject":
            self.proposed = []
            self.s.emit(ev.PlanUpdated((), op.note, "rejected"))
            return
        if op.action != "approve":
            self.s.emit(ev.Warning(f"unknown plan decision {op.action!r} (approve or reject)"))
            return
        steps = [s.strip() for s in (op.steps or tuple(self.proposed)) if s.strip()][:MAX_STEPS]
        if not steps:
            self.s.emit(ev.Warning("no plan to approve: ask for one with /plan <task>"))
            return
        edited = bool(op.steps) and list(op.steps) != self.proposed
        self._add_update_plan()
        self.steps = [{"step": s, "status": "pending"} for s in steps]
        self.proposed = []
        self.s.emit(ev.PlanUpdated(tuple(self.steps), op.note, "approved"))
        self.s._start_turn(execution_prompt(steps, edited=edited, note=op.note))

    def _add_update_plan(self) -> None:
        from realcost_agent.tools.registry import ToolRegistry
        from realcost_agent.tools.update_plan import UpdatePlan

        if "update_plan" not in self.s.registry:
            self.s.registry = ToolRegistry([*self.s.registry, UpdatePlan(self._updated)])

    def _updated(self, steps: list[dict[str, str]], explanation: str) -> None:
        self.steps = steps
        self.s.emit(ev.PlanUpdated(tuple(steps), explanation, "update_plan"))

    # -- the planning turn's end -------------------------------------------------------------
    def _on_event(self, event: ev.Event) -> None:
        if not self.planning:
            return
        if isinstance(event, ev.TurnStarted) and self._turn_id is None:
            self._turn_id = event.turn_id
        elif isinstance(event, ev.TurnFinished) and event.turn_id == self._turn_id:
            self.planning = False
            if self._full_registry is not None:
                self.s.registry, self._full_registry = self._full_registry, None
            if event.reason != "done":
                return
            self.proposed = parse_checklist(event.text)
            if not self.proposed:
                self.s.emit(ev.Warning("the model's answer has no checklist; approve it with "
                                       "your own steps, or ask again"))
            # Before the TurnFinished it follows from, so a front-end has the plan when the turn ends.
            self.s.emit(ev.PlanProposed(event.turn_id, event.text, tuple(self.proposed)))
