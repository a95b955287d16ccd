"""The plan dialog: the model's checklist, editable, and three answers.

`a` approves it as shown (edits included) and the agent carries it out; `e` moves into the text
to edit it (Escape leaves the text); `r` rejects it and nothing runs. Dismisses with
("approve", steps) or ("reject", ()).
"""
from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static, TextArea

from realcost_agent.agent.planmode import parse_checklist, plan_text


class PlanScreen(ModalScreen[tuple[str, tuple[str, ...]]]):
    DEFAULT_CSS = """
    PlanScreen { align: center middle; background: $background 60%; }
    #plan { width: 90%; max-width: 120; height: auto; max-height: 90%; border: thick $accent;
            background: $surface; padding: 0 1; }
    #plan-title, #plan-help { height: auto; }
    #plan-text { height: auto; max-height: 20; min-height: 4; margin: 1 0 0 0; }
    #plan-buttons { height: auto; margin-top: 1; }
    #plan-buttons Button { margin-right: 1; min-width: 10; }
    """
    BINDINGS = [
        Binding("a", "approve", "approve"),
        Binding("e", "edit", "edit"),
        Binding("r", "reject", "reject"),
        Binding("escape", "leave_text", "back", show=False),
    ]

    def __init__(self, steps: tuple[str, ...]) -> None:
        super().__init__()
        self.steps = tuple(steps)

    def compose(self) -> ComposeResult:
        with Vertical(id="plan"):
            n = len(self.steps)
            head = f"The model proposes a plan of {n} step{'s' if n != 1 else ''}" if n else \
                "The model's answer had no checklist: write the steps you want, one per line"
            yield Static(Text.assemble(("Plan ", "bold"), head, ". Nothing has changed yet."),
                         id="plan-title")
            yield TextArea(plan_text(self.steps), id="plan-text")
            yield Static(Text("Approve it as shown (your edits included), or reject it.", style="dim"),
                         id="plan-help")
            with Horizontal(id="plan-buttons"):
                yield Button("\\[a] Approve", id="plan-approve", variant="success")
                yield Button("\\[e] Edit", id="plan-edit")
                yield Button("\\[r] Reject", id="plan-reject", variant="error")

    def on_mount(self) -> None:
        self.query_one("#plan-approve", Button).focus()

    def edited_steps(self) -> tuple[str, ...]:
        text = self.query_one("#plan-text", TextArea).text
        steps = parse_checklist(text) or [line.strip() for line in text.splitlines() if line.strip()]
        return tuple(steps)

    def action_approve(self) -> None:
        steps = self.edited_steps()
        if not steps:
            self.notify("the plan is empty: add a step or reject it", severity="warning")
            return
        self.dismiss(("approve", steps))

    def action_edit(self) -> None:
        self.query_one("#plan-text", TextArea).focus()

    def action_reject(self) -> None:
        self.dismiss(("reject", ()))

    def action_leave_text(self) -> None:
        if isinstance(self.focused, TextArea):
            self.query_one("#plan-approve", Button).focus()
        else:
            self.action_reject()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        {"plan-approve": self.action_approve, "plan-edit": self.action_edit,
         "plan-reject": self.action_reject}[event.button.id or "plan-reject"]()
