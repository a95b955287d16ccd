"""Keys and slash commands."""
from __future__ import annotations

from pathlib import Path

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from realcost_agent.tui.commands import COMMANDS

CSS = Path(__file__).resolve().parent.parent / "help.tcss"

KEYS = (
    ("Enter", "send the prompt (runs a /command)"),
    ("Ctrl+J", "new line (also Alt+Enter, Shift+Enter where the terminal reports it, or \\ Enter)"),
    ("Up / Down", "prompt history (on the first / last line)"),
    ("Tab", "complete a /command; otherwise move focus"),
    ("Ctrl+C", "interrupt the running turn; press twice to quit"),
    ("Ctrl+Q", "quit"),
    ("Ctrl+P", "command palette"),
    ("PageUp / PageDown", "scroll the conversation"),
    ("Enter on a tool card", "expand / fold its output"),
    ("y / a / n", "approval: once / don't ask again for what it names / deny with a reason"),
)


def help_table(custom: tuple[tuple[str, str, str], ...] = ()) -> Table:
    """`custom`: the custom commands (name, argument hint, description), after the built-ins."""
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold", no_wrap=True)
    table.add_column()
    for c in COMMANDS:
        table.add_row(f"/{c.name} {c.args}".rstrip(), c.help)
    for name, hint, what in custom:
        table.add_row(f"/{name} {hint}".rstrip(), what)
    table.add_row("", "")
    for key, what in KEYS:
        table.add_row(key, what)
    return table


class HelpScreen(ModalScreen[None]):
    CSS_PATH = CSS
    BINDINGS = [Binding("escape,q,f1", "dismiss", "close")]

    def __init__(self, custom: tuple[tuple[str, str, str], ...] = ()) -> None:
        super().__init__()
        self.custom = custom

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help"):
            yield Static(Text.assemble(("Help", "bold"), ("   esc to close", "dim")))
            yield Static(help_table(self.custom))
