"""Command palette (Ctrl+P) entries: the slash commands as actions."""
from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Iterator

from textual.command import DiscoveryHit, Hit, Hits, Provider

from realcost_agent.tui.commands import PROFILE_NAMES

if TYPE_CHECKING:
    from realcost_agent.tui.app import AgentApp


def entries(app: "AgentApp") -> Iterator[tuple[str, str, str]]:
    """(title, slash command, help); a command ending in a space is left in the input to finish."""
    yield "New task", "/new", "end the current task and start fresh"
    yield "Mark task done", "/done", "the current task is finished"
    yield "Interrupt the running turn", "/interrupt", "same as Ctrl+C"
    for name in dict.fromkeys((*PROFILE_NAMES, *app.models_seen)):
        yield f"Switch model: {name}", f"/model {name}", "use this model from the next request"
    yield "Switch model to another id…", "/model ", "type a profile or any litellm model id"
    yield "Set the check command…", "/check ", "a command that must pass when the agent says done"
    yield "Correct debug time…", "/debug ", "+3m adds, 5m sets the total"
    yield "Plan first…", "/plan ", "read-only tools, then approve, edit or reject the plan"
    yield "Undo the last change", "/undo", "revert the agent's last edit"
    yield "Cost report", "/cost", "this session's tables and charts"
    for command in app.custom_commands.values():  # agent/commands_md.py
        yield (f"Run /{command.name}", f"/{command.name}" + (" " if command.argument_hint else ""),
               command.description or f"custom command ({command.label})")
    yield "Help", "/help", "keys and commands"
    yield "Quit", "/quit", "exit and print the cost summary"


class AgentCommands(Provider):
    def _run(self, command: str) -> None:
        if command.endswith(" "):  # needs an argument: put it in the prompt to finish
            prompt = self.app.prompt  # type: ignore[attr-defined]
            prompt.set_text(command)
            prompt.focus()
            return
        self.app.run_command_text(command)  # type: ignore[attr-defined]

    async def discover(self) -> Hits:
        for title, command, help_text in entries(self.app):  # type: ignore[arg-type]
            yield DiscoveryHit(title, partial(self._run, command), help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for title, command, help_text in entries(self.app):  # type: ignore[arg-type]
            score = max(matcher.match(title), matcher.match(command))
            if score > 0:
                yield Hit(score, matcher.highlight(title), partial(self._run, command), help=help_text)
