"""The first-run setup panel: no key for the chosen model (or a bad configuration).

Lists, for every backend, the environment variable to set or the local server it expects, and
that --api-base points at any OpenAI-compatible server. Escape keeps the app open (so /model can
pick a backend that is ready); Ctrl+Q quits.
"""
from __future__ import annotations

from pathlib import Path

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

CSS = Path(__file__).resolve().parent.parent / "setup.tcss"


def setup_text(problem: str, hints: list) -> Group:
    """The panel: the problem, then one line per backend (`providers.catalogue.SetupHint`)."""
    head = Text()
    head.append("Setup needed\n\n", style="bold")
    head.append(problem + "\n\n", style="yellow")
    head.append("Set the key for one backend in your shell, then run agent again:")
    table = Table.grid(padding=(0, 1))
    table.add_column(no_wrap=True)
    table.add_column()
    for hint in hints:  # wrapped lines stay indented under their own backend
        table.add_row(Text("✓", style="green") if hint.ready else Text("•"), hint.line)
    tail = Text()
    tail.append("Or point at any OpenAI-compatible server (Ollama, vLLM, llama.cpp, LM Studio):\n")
    tail.append("  agent --api-base http://localhost:11434/v1 --model gpt-oss-20b\n", style="bold")
    tail.append("\nKeys are read from the environment only, never from config files. ✓ = usable now.\n",
                style="dim")
    tail.append("esc: continue (/model switches to a ready backend) · ctrl+q: quit", style="dim")
    return Group(head, Text(""), table, Text(""), tail)


class SetupScreen(ModalScreen[None]):
    CSS_PATH = CSS
    BINDINGS = [Binding("escape,enter", "dismiss", "continue")]

    def __init__(self, problem: str, hints: list) -> None:
        super().__init__()
        self.problem = problem
        self.hints = hints

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="setup"):
            yield Static(setup_text(self.problem, self.hints), id="setup-text")

    def on_mount(self) -> None:
        self.query_one("#setup").focus()
