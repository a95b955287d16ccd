"""Slash commands: their names, parsing and completion (the command palette offers the same)."""
from __future__ import annotations

from realcost_agent.records import record



@record(frozen=True)
class Command:
    name: str
    args: str
    help: str


COMMANDS: tuple[Command, ...] = (
    Command("model", "<model> [task]", "switch model: auto, a profile or any litellm id; `task`: this task only"),
    Command("check", "<command>", "command that must pass when the agent says done (empty clears)"),
    Command("new", "", "start a new task (the current one ends without being marked done)"),
    Command("done", "", "mark the current task done"),
    Command("undo", "", "revert the agent's last change"),
    Command("plan", "<task>", "plan with read-only tools first; approve, edit or reject the plan"),
    Command("debug", "<+3m | 5m>", "correct the task's debug time: +3m adds, 5m sets the total"),
    Command("cost", "", "cost report for this session"),
    Command("help", "", "keys and commands"),
    Command("quit", "", "exit (prints the session's cost summary)"),
)
BY_NAME = {c.name: c for c in COMMANDS}
ALIASES = {"exit": "quit", "q": "quit", "m": "model", "?": "help"}
PROFILE_NAMES = ("gpt-oss-20b", "gpt-oss-120b", "o4-mini")  # kept here so completion imports nothing
MODEL_HINTS = {"auto": "route each task to a model"}


def parse(text: str) -> tuple[str, str] | None:
    """'/model x' -> ('model', 'x'); None if the text is not a slash command."""
    stripped = text.strip()
    if not stripped.startswith("/") or stripped.startswith("//") or "\n" in stripped:
        return None
    name, _, arg = stripped[1:].partition(" ")
    name = ALIASES.get(name.lower(), name.lower())
    return name, arg.strip()


def completions(text: str, models: tuple[str, ...] = (),
                custom: tuple[tuple[str, str, str], ...] = ()) -> list[tuple[str, str]]:
    """(text to put in the input, description) for a partly typed command; [] when none apply.
    `custom`: the custom commands as (name, argument hint, description), after the built-ins."""
    if not text.startswith("/") or "\n" in text:
        return []
    head, space, arg = text[1:].partition(" ")
    if not space:
        typed = [*COMMANDS, *(Command(n, hint, desc) for n, hint, desc in custom)]
        return [(f"/{c.name}" + (" " if c.args else ""), f"{c.args}  {c.help}".strip())
                for c in typed if c.name.lower().startswith(head.lower()) and f"/{c.name}" != text.rstrip()]
    name = ALIASES.get(head.lower(), head.lower())
    if name == "model":
        seen = dict.fromkeys((*PROFILE_NAMES, *MODEL_HINTS, *models))
        return [(f"/model {m}", MODEL_HINTS.get(m) or ("profile" if m in PROFILE_NAMES else "used this session"))
                for m in seen if m.startswith(arg) and m != arg]
    if name == "debug" and not arg:
        return [("/debug +5m", "add 5 minutes"), ("/debug -2m", "remove 2 minutes"),
                ("/debug 10m", "set the total to 10 minutes")]
    return []
