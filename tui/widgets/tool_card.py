"""One tool call as a card, keyed by its call id: what runs, its live output, then its result.

Output arrives in many small deltas; the card only keeps text and re-renders on the app's flush
tick, showing the last lines while running. Finished cards stay short (a tail, or the first lines
of a diff) and expand with Enter or a click.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.reactive import reactive
from textual.widgets import Static

from realcost_agent.agent import events as ev
from realcost_agent.tui.widgets.diff import colored_diff

LIVE_LINES = 8  # tail of a running command's output
SHORT_LINES = 12  # a finished card, collapsed
LONG_LINES = 400  # a finished card, expanded (the full output is in the tool's output file)
QUIET_TOOLS = frozenset({"read_file", "list_files", "search"})  # results hidden until expanded


def summarize_args(arguments: Any) -> str:
    """A fallback title for a call the core could not describe (unparsable arguments, or a
    resumed conversation's history): the first line of what the model sent."""
    if isinstance(arguments, dict):
        for key in ("command", "path", "pattern"):
            if arguments.get(key):
                return str(arguments[key]).splitlines()[0][:200]
        return ", ".join(f"{k}={str(v).splitlines()[0] if v else v}" for k, v in arguments.items())[:200]
    return (str(arguments).splitlines() or [""])[0][:200]


def tail_lines(text: str, n: int) -> tuple[str, int]:
    lines = text.rstrip("\n").splitlines()
    return "\n".join(lines[-n:]), max(0, len(lines) - n)


class ToolCard(Vertical, can_focus=True):
    BINDINGS = [("enter,space", "toggle", "expand")]

    expanded = reactive(False, init=False)

    def __init__(self, event: ev.ToolCallStarted, root: Path | None = None) -> None:
        super().__init__(classes="tool-card -running")
        self.call_id = event.call_id
        self.tool = event.name
        self.arguments = event.arguments
        self.summary = getattr(event, "summary", "") or summarize_args(event.arguments)
        self.root = root
        self.preview = ""  # the diff an edit waiting for approval would apply
        self.output = ""
        self.finished: ev.ToolCallFinished | None = None
        self.waiting_approval = False
        self._dirty = True
        self.body_text: Text | None = None  # what the body shows (kept for tests and copying)
        self._title = Static(self._title_text(), classes="tool-title")
        self._status = Static("running", classes="tool-status")
        self._body = Static("", classes="tool-body")

    def compose(self) -> ComposeResult:
        with Horizontal(classes="tool-head"):
            yield self._title
            yield self._status
        yield self._body

    def on_mount(self) -> None:
        self.flush()

    def _title_text(self) -> Text:
        text = Text()
        text.append(self.tool, style="bold")
        if self.summary:
            text.append("  " + self.summary)
        return text

    # -- updates from events -------------------------------------------------------------------
    def append_output(self, text: str) -> None:
        self.output += text
        self._dirty = True

    def set_waiting(self, waiting: bool, preview: str = "") -> None:
        self.waiting_approval = waiting
        if preview and self.tool != "run_command":
            self.preview = preview
        self.set_class(waiting, "-waiting")
        self._dirty = True

    def finish(self, event: ev.ToolCallFinished) -> None:
        self.finished = event
        self.waiting_approval = False
        self.remove_class("-running", "-waiting")
        self.add_class("-error" if event.is_error else "-ok")
        self._dirty = True
        self.flush()

    def on_click(self) -> None:
        self.action_toggle()

    def action_toggle(self) -> None:
        self.expanded = not self.expanded

    def watch_expanded(self) -> None:
        self._dirty = True
        self.flush()

    # -- rendering ------------------------------------------------------------------------------
    def flush(self) -> None:
        """Re-render if anything changed (called on the app's ~20 Hz tick)."""
        if not self._dirty:
            return
        self._dirty = False
        status, style = self._status_line()
        self._status.update(Text(status, style=style))
        body = self.body_text = self._body_text()
        self._body.update(body if body is not None else "")
        self._body.display = body is not None

    def _status_line(self) -> tuple[str, str]:
        done = self.finished
        if done is None:
            if self.waiting_approval:
                return "waiting for approval", "bold yellow"
            return "running…", "dim"
        from realcost_agent.agent.describe import finished_mark

        ok, label = finished_mark(done)
        seconds = f"{done.duration_ms / 1000:.1f}s"
        style = "green" if ok else ("yellow" if label == "not run" else "bold red")
        if label.startswith(("exit", "error")):
            label = f"{label} · {seconds}"
        return f"{'✓' if ok else '✗'} {label}", style

    def _body_text(self) -> Text | None:
        done = self.finished
        limit = LONG_LINES if self.expanded else SHORT_LINES
        if done is None:
            if self.waiting_approval:
                return colored_diff(self.preview, max_lines=limit) if self.preview else None
            if not self.output:
                return None
            shown, hidden = tail_lines(self.output, LIVE_LINES)
            return _with_hidden(Text(shown, style="dim"), hidden, before=True)
        if done.diff and not done.is_error:
            return colored_diff(done.diff, max_lines=limit)
        if self.tool in QUIET_TOOLS and not done.is_error and not self.expanded:
            return None
        text = done.output or self.output
        if not text.strip():
            return None
        if self.tool == "run_command" and not self.expanded:
            shown, hidden = tail_lines(text, SHORT_LINES)
            return _with_hidden(Text(shown, style="red" if done.is_error else ""), hidden, before=True)
        lines = text.rstrip("\n").splitlines()
        shown = "\n".join(lines[:limit])
        return _with_hidden(Text(shown, style="red" if done.is_error else ""), len(lines) - limit)


def _with_hidden(text: Text, hidden: int, *, before: bool = False) -> Text:
    if hidden <= 0:
        return text
    note = Text(f"… {hidden} more line{'s' if hidden != 1 else ''} (enter to expand)", style="dim italic")
    return Text.assemble(note, "\n", text) if before else Text.assemble(text, "\n", note)
