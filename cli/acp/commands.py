"""The TUI's task commands in an ACP client (advertised as `available_commands`): a prompt that
is one of them submits the same op as the TUI's slash command, and no model call is made."""
from __future__ import annotations

from typing import TYPE_CHECKING

from acp import schema as s

from realcost_agent.agent import events as ev
from realcost_agent.agent import ops

if TYPE_CHECKING:
    from realcost_agent.cli.acp.session import AcpSession

COMMANDS: dict[str, tuple[str, str | None]] = {
    "done": ("mark the current task done (the next prompt starts a new task)", None),
    "new": ("end the current task without marking it done", None),
    "debug": ("correct the task's debug time: +5m, -2m or a total like 20m", "+5m"),
    "check": ("set the command run when the agent says it is done (none: clear it)", "pytest -q"),
    "undo": ("restore the files to before the agent's last changes", None),
}


def available() -> list[s.AvailableCommand]:
    return [s.AvailableCommand(
        name=name, description=desc,
        input=s.AvailableCommandInput(root=s.UnstructuredCommandInput(hint=hint)) if hint else None,
    ) for name, (desc, hint) in COMMANDS.items()]


def parse(text: str) -> tuple[str, str] | None:
    """'/debug +5m' -> ('debug', '+5m'); None when the prompt is not one of COMMANDS."""
    stripped = text.strip()
    if not stripped.startswith("/") or stripped.startswith("//"):
        return None
    name, _, arg = stripped[1:].partition(" ")
    return (name, arg.strip()) if name in COMMANDS else None


def _task_line(e: ev.TaskUpdated) -> str:
    """The TUI's closing line of a task (tui/stats.py task_line), from the same TaskUpdated
    figures and money formatting; kept here because the core may not import a front-end."""
    from realcost_agent.agent.report_render import api_text, money2
    from realcost_agent.agent.words import plural

    api = api_text(e.api_cost, e.unpriced_calls, all_unpriced=e.api_cost == 0)
    real = f"≥ {money2(e.real_cost)}" if e.unpriced_calls else money2(e.real_cost)
    return (f"task {e.task_id} {e.status} · {plural(e.followups, 'follow-up')} · "
            f"API {api} · real {real}")


async def run(session: "AcpSession", name: str, arg: str) -> str:
    """Do the command; the answer shown to the user."""
    core = session.core
    if name in ("done", "new"):
        # A resumed session's task was restored without an event: ask the tracker, as Driver does.
        current = session.task or getattr(core.tasks, "current", None)
        if current is None or current.status != "active":
            return "no active task: the next prompt starts one"
        core.submit(ops.EndTask("done" if name == "done" else "ended"))
        event = await session.until(lambda e: isinstance(e, ev.TaskUpdated) and e.status != "active"
                                    or isinstance(e, ev.Warning))
        if isinstance(event, ev.TaskUpdated):
            return _task_line(event)
        return getattr(event, "message", "the task did not end")
    if name == "debug":
        from realcost_agent.agent.tasks import parse_duration

        try:
            seconds, absolute = parse_duration(arg)
        except ValueError as exc:
            return f"/debug: {exc}"
        core.submit(ops.CorrectDebugTime(seconds, absolute))
        event = await session.until(lambda e: isinstance(e, (ev.TaskUpdated, ev.Warning)))
        if isinstance(event, ev.Warning):
            return event.message
        minutes = seconds / 60
        return f"debug time {'set to ' + format(minutes, 'g') + ' min' if absolute else format(minutes, '+g') + ' min'}"
    if name == "check":
        core.submit(ops.SetCheck(arg or None))
        return f"check: {arg}" if arg else "check cleared"
    if name == "undo":
        core.submit(ops.Undo())
        event = await session.until(lambda e: isinstance(e, (ev.CheckpointRestored, ev.Warning, ev.Error)),
                                    timeout=60)
        if isinstance(event, ev.CheckpointRestored):
            files = len(event.restored) + len(event.deleted) + len(event.created)
            return f"restored checkpoint {event.checkpoint_id}: {files} file(s) back as they were"
        return getattr(event, "message", "undo did not answer")
    return f"unknown command /{name}"
