"""The approval gate: may this tool call run? The policy decides (agent/safety/rules.py); when it
says "ask", an interactive session asks the user (ApprovalRequested, answered by the Approve op)
and a headless one denies with the way to allow it.

    verdict = await gate(turn_id, call_id, tool, params, shown_args, described)
    gate.answer(op)        the Approve op: resolve the pending question
    gate.grants            "approve for the session" (agent/safety/grants.py)
"""
from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any, Callable, Sequence

from realcost_agent.agent import events as ev
from realcost_agent.agent import ops
from realcost_agent.agent.policy import Decision
from realcost_agent.agent.safety.grants import Grant, Grants, grant_for
from realcost_agent.agent.safety.rules import decide_call
from realcost_agent.records import record


@record(frozen=True)
class Verdict:
    """The final decision, with what the policy saw before any question was asked."""

    decision: Decision
    destructive: bool = False  # checkpoint before it even when the turn has one
    git_outside: bool = False  # an approved git write runs outside the sandbox

    @property
    def allowed(self) -> bool:
        return self.decision.action != "deny"


class ApprovalGate:
    def __init__(self, *, mode: str, rules: Sequence[Any], interactive: bool, root: Path,
                 protected: Any, sandboxed: bool, emit: Callable[[ev.Event], None]) -> None:
        self.mode = mode
        self.rules = list(rules)
        self.interactive = interactive
        self._root = root
        self._protected = protected
        self._sandboxed = sandboxed
        self._emit = emit
        self.hooks: Any = None  # agent/hooks.py Hooks, set by the Session
        self.grants = Grants()
        self._pending: dict[str, asyncio.Future[Decision]] = {}
        self._offered: dict[str, Grant | None] = {}

    async def __call__(self, turn_id: str, call_id: str, tool: Any, params: Any,
                       shown_args: Any, described: Any) -> Verdict:
        decision = decide_call(
            self.mode, tool.name, tool.mutating, params, self.rules,
            interactive=self.interactive,
            approved_for_session=self.grants.covers(tool.name, params, paths=described.paths),
            root=self._root, protected=self._protected, sandboxed=self._sandboxed,
        )
        destructive = bool(getattr(decision, "destructive", False))
        git_outside = bool(getattr(decision, "git_outside", False))
        if self.hooks is not None:  # hooks: PreToolUse may deny, ask or allow (agent/hooks.py)
            decision = await self.hooks.pre_tool(call_id, tool.name, shown_args, decision)
        if decision.action == "ask":
            decision = await self.ask(turn_id, call_id, tool.name, shown_args, decision, described)
        return Verdict(decision, destructive, git_outside)

    async def ask(self, turn_id: str, call_id: str, tool: str, arguments: Any,
                  decision: Decision, description: Any = None) -> Decision:
        if not self.interactive:
            return Decision(
                "deny",
                f"{decision.reason}, and this headless run cannot ask; "
                "rerun with --approval full-auto (or auto-edit) to allow it",
            )
        future: asyncio.Future[Decision] = asyncio.get_running_loop().create_future()
        self._pending[call_id] = future
        destructive = bool(getattr(decision, "destructive", False))
        protected = bool(getattr(decision, "protected", ()))
        d = description
        # A protected path is asked every time: nothing to grant for the session.
        grant = None if protected else grant_for(tool, arguments, destructive=destructive,
                                                 paths=d.paths if d else ())
        self._offered[call_id] = grant
        self._emit(ev.ApprovalRequested(
            turn_id, call_id, tool, arguments, decision.reason, destructive,
            summary=d.summary if d else "", paths=d.paths if d else (),  # emit() redacts
            preview=d.preview if d else "", added=d.added if d else None,
            removed=d.removed if d else None, grant=grant.describe() if grant else "",
            protected=protected,
        ))
        try:
            return await future
        finally:
            self._pending.pop(call_id, None)
            self._offered.pop(call_id, None)

    def answer(self, op: ops.Approve) -> None:
        future = self._pending.get(op.call_id)
        if future is None or future.done():
            self._emit(ev.Warning(f"no approval is pending for call {op.call_id}"))
            return
        if op.decision == "session":
            grant = self._offered.get(op.call_id)
            if grant is not None:  # else it could not be granted: allowed once only
                self.grants.add(grant)
            future.set_result(Decision("allow"))
        elif op.decision == "once":
            future.set_result(Decision("allow"))
        else:
            reason = op.reason or "the user denied it"
            future.set_result(Decision("deny", f"the user denied this call: {reason}"))
