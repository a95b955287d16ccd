"""The workspace-trust dialog: exactly what the project's own settings would do, and two answers.

Shown once, before the session starts, when the project's `.agent/config.toml` or AGENTS.md asks
for settings that need trust (agent/trust.py). `t` trusts them (remembered for these exact
settings), `n` or Escape does not (the safe default): they stay ignored.
"""
from __future__ import annotations

from pathlib import Path

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Static

CSS = Path(__file__).resolve().parent.parent / "trust.tcss"


class TrustScreen(ModalScreen[bool]):
    """Dismisses with True (trust) or False (don't trust)."""

    CSS_PATH = CSS
    BINDINGS = [
        Binding("t", "decide(True)", "trust"),
        Binding("n", "decide(False)", "don't trust"),
        Binding("escape", "decide(False)", "don't trust", show=False),
    ]

    def __init__(self, request, *, changed: bool = False) -> None:  # noqa: ANN001 - TrustRequest
        super().__init__()
        self.request = request
        self.changed = changed

    def compose(self) -> ComposeResult:
        req = self.request
        with Vertical(id="trust"):
            head = "changed since you trusted it" if self.changed else "asks for settings that need your trust"
            yield Static(Text.assemble(("Trust this project? ", "bold"), (req.root, "bold yellow"),
                                       f"\nIt {head}. Until you trust it they are ignored:"),
                         id="trust-title")
            with VerticalScroll(id="trust-body"):
                for item in req.items:
                    line = Text.assemble(("• ", "bold"), (item.key, "bold"), " = ",
                                         (item.value_text(400), "yellow"),
                                         (f"  ({item.note})" if item.note else "", "bold red"),
                                         (f"   from {item.source}", "dim"))
                    yield Static(line, classes="trust-item")
            yield Static(Text("Only trust a project whose settings you have read: they can run "
                              "commands, send your API key to another host and change what is "
                              "asked before the agent acts.", style="dim"), id="trust-help")
            with Horizontal(id="trust-buttons"):
                yield Button("\\[t] Trust", id="trust-yes", variant="warning")
                yield Button("\\[n] Don't trust", id="trust-no", variant="primary")

    def on_mount(self) -> None:
        self.query_one("#trust-no", Button).focus()  # Enter alone never trusts

    def action_decide(self, trusted: bool) -> None:
        self.dismiss(bool(trusted))

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(event.button.id == "trust-yes")
