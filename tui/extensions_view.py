"""The TUI's side of hooks and plan mode: /plan, the plan dialog, the plan panel, hook lines.

Kept out of app.py so the app only forwards events and one slash command here.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from realcost_agent.agent import events as ev
from realcost_agent.agent.hooks_view import event_lines, hook_line

if TYPE_CHECKING:
    from realcost_agent.tui.app import AgentApp


def run_plan_command(app: "AgentApp", arg: str) -> None:
    from realcost_agent.agent.ops import PlanInput

    if not arg:
        panel = app.plan_panel
        app.conversation.notice(panel.plain if panel.steps else
                                "no plan yet · /plan <task> plans it with read-only tools first", "info")
        return
    if app.turn_running:
        app.conversation.notice("the agent is still working: Ctrl+C interrupts it first", "warning")
        return
    app.conversation.add_user(f"/plan {arg}")
    app.session.submit(PlanInput(arg))


def handle_event(app: "AgentApp", event: ev.Event) -> None:
    """HookRan, PlanProposed, PlanUpdated; a deferred plan answer once its turn has ended; the
    plan panel cleared when its task ends."""
    conversation = app.conversation
    if isinstance(event, ev.HookRan):
        blocked = event.decision in ("deny", "block", "stop")
        failed = event.decision in ("error", "timeout")
        conversation.notice(hook_line(event), "warning" if blocked or failed else "info")
    elif isinstance(event, ev.PlanProposed):
        _ask(app, event)
    elif isinstance(event, ev.PlanUpdated):
        app.plan_panel.show_plan(event.steps, event.explanation)
        if event.source != "update_plan":  # the panel shows updates; say approvals and rejections
            conversation.notice(event_lines(event)[0], "info")
    elif isinstance(event, ev.TaskUpdated):
        if event.status != "active" and app.plan_panel.steps:  # the plan's task has ended
            app.plan_panel.show_plan(())
    elif isinstance(event, ev.TurnFinished) and getattr(app, "_plan_answer", None) is not None:
        op, app._plan_answer = app._plan_answer, None
        app.session.submit(op)


def _ask(app: "AgentApp", event: ev.PlanProposed) -> None:
    from realcost_agent.agent.ops import PlanDecision
    from realcost_agent.tui.screens.plan import PlanScreen

    def answered(result: Any) -> None:
        action, steps = result or ("reject", ())
        op = PlanDecision(action, tuple(steps))
        if app.session is None:
            return
        if app.turn_running:  # the planning turn is still ending: send it after its TurnFinished
            app._plan_answer = op
        else:
            app.session.submit(op)

    app.push_screen(PlanScreen(event.steps), answered)
