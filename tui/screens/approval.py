"""The approval modal: what the tool wants to do, and three answers.

y approves once; a approves what the dialog names for the rest of the session (a command
prefix such as `pytest …`, or an edit tool outside protected paths: ApprovalRequested.grant),
offered only when the core says the call can be granted; n asks for a reason and denies (the
reason goes back to the model). Escape denies without a reason: the safe default. The title,
paths and diff are the tool's own description of the call (ApprovalRequested fields).
"""
from __future__ import annotations

from pathlib import Path

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Static

from realcost_agent.agent import events as ev
from realcost_agent.tui.widgets.diff import preview
from realcost_agent.tui.widgets.tool_card import summarize_args

CSS = Path(__file__).resolve().parent.parent / "approval.tcss"


class ApprovalScreen(ModalScreen[tuple[str, str]]):
    """Dismisses with (decision, reason): decision is "once", "session" or "deny"."""

    CSS_PATH = CSS
    BINDINGS = [
        Binding("y", "decide('once')", "approve once"),
        Binding("a", "decide('session')", "approve for session"),
        Binding("n", "deny", "deny…"),
        Binding("escape", "escape", "deny", show=False),
    ]

    def __init__(self, event: ev.ApprovalRequested, root: Path | None = None) -> None:
        super().__init__()
        self.event = event
        self.root = root

    def compose(self) -> ComposeResult:
        e = self.event
        with Vertical(id="approval"):
            # A command is shown whole below; for file tools the title names the files.
            target = "" if e.name == "run_command" else (e.summary or summarize_args(e.arguments))
            title = Text.assemble(("Approve ", "bold"), (e.name, "bold yellow"), "?  ", target)
            yield Static(title, id="approval-title")
            if e.reason:
                style = "bold red" if (getattr(e, "destructive", False)
                                       or getattr(e, "protected", False)) else "dim"
                yield Static(Text(e.reason, style=style), id="approval-reason")
            with VerticalScroll(id="approval-body"):
                yield Static(preview(e), id="approval-preview")
            if self.grant:
                yield Static(Text.assemble(("a", "bold"), " = don't ask again this session for ",
                                           (self.grant, "bold")), id="approval-grant")
            else:  # say why `a` is missing: a push, a chain, a destructive command, a protected path
                yield Static(Text("Approved once at a time: calls like this are never approved "
                                  "for the whole session.", style="dim"), id="approval-grant")
            yield Input(placeholder="why not? (sent to the model) — Enter to deny", id="deny-reason")
            with Horizontal(id="approval-buttons"):
                yield Button("\\[y] Approve once", id="once", variant="success")
                yield Button("\\[a] Approve for session", id="session", variant="primary")
                yield Button("\\[n] Deny…", id="deny", variant="error")

    def expire(self) -> None:
        """The turn ended (interrupted): nothing waits for this answer any more."""
        self.expired = True
        if self.app.screen is self:
            self.dismiss(("deny", "the turn ended"))

    def on_screen_resume(self) -> None:
        if getattr(self, "expired", False):  # expired while another screen was on top
            self.dismiss(("deny", "the turn ended"))

    @property
    def destructive(self) -> bool:
        # Protected paths, like destructive commands, are approved one call at a time.
        return bool(getattr(self.event, "destructive", False) or getattr(self.event, "protected", False))

    @property
    def grant(self) -> str:
        """What `a` would grant; "" when the core offers no grant (destructive, protected path,
        a chained or wrapped command): then only "approve once" is possible."""
        return "" if self.destructive else getattr(self.event, "grant", "")

    def on_mount(self) -> None:
        self.query_one("#deny-reason").display = False
        # Destructive commands, protected paths, chains: approved one at a time only.
        self.query_one("#session").display = bool(self.grant)
        self.query_one("#once", Button).focus()

    def action_decide(self, decision: str) -> None:
        if self.query_one("#deny-reason").display:
            return  # typing a reason: letters are text, not answers
        if decision == "session" and not self.grant:
            return
        self.dismiss((decision, ""))

    def action_deny(self) -> None:
        reason = self.query_one("#deny-reason", Input)
        if reason.display:
            return
        reason.display = True
        reason.focus()

    def action_escape(self) -> None:
        reason = self.query_one("#deny-reason", Input)
        if reason.display and reason.value:
            reason.value = ""
            reason.display = False
            self.query_one("#once", Button).focus()
            return
        self.dismiss(("deny", ""))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.dismiss(("deny", event.value.strip()))

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "deny":
            self.action_deny()
        elif event.button.id == "once" or (event.button.id == "session" and self.grant):
            self.dismiss((event.button.id, ""))
