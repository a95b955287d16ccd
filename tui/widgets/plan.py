"""The plan panel: the approved plan's checklist above the prompt, kept current by PlanUpdated
events (the model's update_plan calls). Hidden while there is no plan."""
from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from realcost_agent.agent.hooks_view import MARKS, plan_progress

STYLES = {"completed": "green", "in_progress": "bold yellow", "pending": ""}
MAX_SHOWN = 12  # steps shown; the rest are counted, so the conversation keeps its room


class PlanPanel(Static):
    DEFAULT_CSS = """
    PlanPanel { height: auto; max-height: 16; border: round $panel-lighten-2; padding: 0 1;
                display: none; }
    PlanPanel.-shown { display: block; }
    """

    def __init__(self, **kwargs) -> None:
        super().__init__("", **kwargs)
        self.steps: tuple[dict[str, str], ...] = ()
        self.explanation = ""

    def show_plan(self, steps: tuple[dict[str, str], ...], explanation: str = "") -> None:
        self.steps, self.explanation = tuple(steps), explanation
        self.set_class(bool(self.steps), "-shown")
        self.update(self.render_text())

    def render_text(self) -> Text:
        text = Text.assemble(("Plan ", "bold"), (plan_progress(self.steps), "dim"))
        if self.explanation:
            text.append(f" · {self.explanation}", "dim italic")
        for step in self.steps[:MAX_SHOWN]:
            status = step.get("status", "pending")
            text.append(f"\n{MARKS.get(status, '?')} {step.get('step', '')}", STYLES.get(status, ""))
        if len(self.steps) > MAX_SHOWN:
            text.append(f"\n… {len(self.steps) - MAX_SHOWN} more", "dim")
        return text

    @property
    def plain(self) -> str:
        return self.render_text().plain
