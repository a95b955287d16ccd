"""The first-run setup panel: no key for the chosen model (or a bad configuration).

Lists, for every backend, the environment variable to set or the local server it expects, and
that --api-base points at any OpenAI-compatible server. Escape keeps the app open (so /model can
pick a backend that is ready); Ctrl+Q quits.

A local backend needs no key, but is usable only when its server runs: each is probed (GET
/models, short timeout) in a worker after the panel is shown, and marked when it answers.
"""
from __future__ import annotations

from pathlib import Path
from typing import Awaitable, Callable

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

CSS = Path(__file__).resolve().parent.parent / "setup.tcss"
PROBE_TIMEOUT = 1.5  # seconds: a local server answers at once or is not there


async def probe(api_base: str, timeout: float = PROBE_TIMEOUT) -> bool:
    """Does an OpenAI-compatible server answer GET {api_base}/models?"""
    import httpx
    from realcost_agent.providers.warm import ssl_context

    try:
        async with httpx.AsyncClient(timeout=timeout, verify=ssl_context()) as client:
            response = await client.get(api_base.rstrip("/") + "/models")
    except (httpx.HTTPError, OSError, ValueError):
        return False
    return response.status_code < 500


def local_bases(hints: list) -> dict[str, str]:
    """backend name -> the URL its local server is expected at."""
    from realcost_agent.providers.catalogue import BACKENDS

    return {h.backend: BACKENDS[h.backend].api_base for h in hints
            if h.backend in BACKENDS and BACKENDS[h.backend].local}


def _mark(hint, local: dict[str, str], probed: dict[str, bool]) -> tuple[Text, str]:  # noqa: ANN001
    if hint.backend in local:
        if hint.backend not in probed:
            return Text("…", style="dim"), hint.line + " (checking…)"
        if probed[hint.backend]:
            return Text("✓", style="green"), hint.line + " (answering)"
        return Text("✗", style="red"), hint.line + " (not running)"
    from realcost_agent.providers.catalogue import CUSTOM_BACKEND

    if hint.backend == CUSTOM_BACKEND:
        return Text("•"), hint.line  # any server: nothing to probe without its URL
    return (Text("✓", style="green") if hint.ready else Text("•")), hint.line


def setup_text(problem: str, hints: list, probed: dict[str, bool] | None = None) -> Group:
    """The panel: the problem, then one line per backend (`realcost_agent.providers.catalogue.SetupHint`)."""
    head = Text()
    head.append("Setup needed\n\n", style="bold")
    head.append(problem + "\n\n", style="yellow")
    head.append("Set the key for one backend in your shell, then run agent again:")
    table = Table.grid(padding=(0, 1))
    table.add_column(no_wrap=True)
    table.add_column()
    local, probed = local_bases(hints), probed or {}
    for hint in hints:  # wrapped lines stay indented under their own backend
        table.add_row(*_mark(hint, local, probed))
    tail = Text()
    tail.append("Or point at any OpenAI-compatible server (Ollama, vLLM, llama.cpp, LM Studio):\n")
    tail.append("  agent --api-base http://localhost:11434/v1 --model gpt-oss-20b\n", style="bold")
    tail.append("\nKeys are read from the environment only, never from config files. ✓ = usable "
                "now (a key is set, or the local server answered).\n", style="dim")
    tail.append("esc: continue (/model switches to a ready backend) · ctrl+q: quit", style="dim")
    return Group(head, Text(""), table, Text(""), tail)


class SetupScreen(ModalScreen[None]):
    CSS_PATH = CSS
    BINDINGS = [Binding("escape,enter", "dismiss", "continue")]

    def __init__(self, problem: str, hints: list,
                 prober: Callable[[str], Awaitable[bool]] | None = None) -> None:
        super().__init__()
        self.problem = problem
        self.hints = hints
        self.prober = prober or probe
        self.probed: dict[str, bool] = {}

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="setup"):
            yield Static(setup_text(self.problem, self.hints, self.probed), id="setup-text")

    def on_mount(self) -> None:
        self.query_one("#setup").focus()
        for backend, url in local_bases(self.hints).items():
            self.run_worker(self._probe(backend, url), group="probe")

    async def _probe(self, backend: str, url: str) -> None:
        self.probed[backend] = await self.prober(url)
        if self.is_attached:
            self.query_one("#setup-text", Static).update(
                setup_text(self.problem, self.hints, self.probed))
