"""What each slash command does: each maps to one op, or to a screen of the app."""
from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from realcost_agent.tui.commands import BY_NAME

if TYPE_CHECKING:
    from realcost_agent.tui.app import AgentApp


def run_slash(app: "AgentApp", name: str, arg: str) -> None:
    from realcost_agent.agent import ops

    conversation = app.conversation
    session = app.session
    if name == "quit":
        app.run_worker(app.action_quit_app())
    elif name == "help":
        app.action_help()
    elif name == "cost":
        from realcost_agent.tui.screens.cost import CostScreen

        if app.costs is None:
            conversation.notice("/cost needs a running session: nothing is measured yet", "warning")
            return
        app.push_screen(CostScreen(app.costs))
    elif name == "interrupt":
        app.interrupt()
    elif name not in BY_NAME and custom_command(app, name) is not None:
        _run_custom(app, name, arg)
    elif name not in BY_NAME:
        conversation.notice(f"unknown command /{name}: /help lists them (// sends a line starting with /)", "warning")
    elif name == "model":
        if not arg:
            conversation.notice(f"model: {app.model or '-'} · /model <profile or model id> to switch", "info")
        elif session is None:
            _retry_with_model(app, arg)
        else:
            spec, _, scope = arg.partition(" ")
            scope = scope.strip() or "session"
            if scope not in ("session", "task"):
                conversation.notice("/model <model> [task]: `task` pins it for this task only", "warning")
                return
            session.submit(ops.SwitchModel(spec, scope=scope))
    elif session is None:
        conversation.notice(f"/{name} needs a running session: {app.setup_problem or 'starting…'}", "warning")
    elif name in ("new", "done"):
        if app.turn_running:
            conversation.notice("the agent is still working: Ctrl+C interrupts it first", "warning")
            return
        if app.stats.task is None or app.stats.task.status != "active":
            conversation.notice("no active task: the next prompt starts one", "info")
            return
        session.submit(ops.EndTask("done" if name == "done" else "ended"))
    elif name == "debug":
        from realcost_agent.agent.tasks import parse_duration

        try:
            seconds, absolute = parse_duration(arg)
        except ValueError as exc:
            conversation.notice(f"/debug: {exc}", "warning")
            return
        session.submit(ops.CorrectDebugTime(seconds, absolute))
        minutes = seconds / 60
        what = f"set to {minutes:g} min" if absolute else f"{minutes:+g} min"
        conversation.notice(f"debug time {what} (shown in /cost)", "info")
    elif name == "check":
        session.submit(ops.SetCheck(arg or None))
        conversation.notice(f"check: {arg}" if arg else "check cleared", "info")
    elif name == "plan":  # plan mode (tui/extensions_view.py)
        from realcost_agent.tui.extensions_view import run_plan_command

        run_plan_command(app, arg)
    elif name == "undo":
        if app.turn_running:
            conversation.notice("the agent is still working: Ctrl+C interrupts it first", "warning")
        else:
            session.submit(ops.Undo())


def _retry_with_model(app: "AgentApp", spec: str) -> None:
    """No session yet (bad configuration): start one with the chosen model."""
    app.settings = dataclasses.replace(app.settings, model=spec)
    app.conversation.notice(f"starting with model {spec}…", "info")
    app.run_worker(app._boot(), group="boot")


# -- custom commands (agent/commands_md.py) ---------------------------------------------------------
def load_custom_commands(app: "AgentApp", session: object) -> None:
    """The user's commands and, once trusted, the project's; problems go to the conversation."""
    from realcost_agent.agent.commands_md import load_commands

    problems: list[str] = []
    try:
        app.custom_commands = load_commands(app.root, app.settings, getattr(session, "env", None),
                                            problems)
    except Exception as exc:  # noqa: BLE001 - commands are an extra: never stop the app on them
        problems.append(f"custom commands not loaded: {type(exc).__name__}: {exc}")
    for problem in problems:  # the TUI's own finding: shown, not an event of the core
        app.conversation.notice(problem, "warning")
    app.prompt.custom = tuple((c.name, c.argument_hint, c.description or f"custom command ({c.label})")
                              for c in app.custom_commands.values())


def custom_command(app: "AgentApp", name: str):  # noqa: ANN201 - CustomCommand | None
    """The command typed as /name (the TUI lower-cases what it parses; file names may not be)."""
    commands = app.custom_commands
    return commands.get(name) or next((c for n, c in commands.items() if n.lower() == name), None)


def _run_custom(app: "AgentApp", name: str, arg: str) -> None:
    from realcost_agent.agent.commands_md import MAX_PROMPT_CHARS

    command = custom_command(app, name)
    prompt = command.expand(arg)
    if len(prompt) > MAX_PROMPT_CHARS:
        app.conversation.notice(f"/{command.name} expands to over {MAX_PROMPT_CHARS:,} characters: not sent", "warning")
        return
    app.conversation.notice(f"/{command.name} ({command.label})", "info")
    app._prompt(prompt)
