"""Colored renderings of diffs, patches and proposed edits (tool cards and the approval modal).

Colors are Rich styles, so NO_COLOR (which Textual honours) leaves the +/- markers readable.
"""
from __future__ import annotations

from typing import Any

from rich.console import Group, RenderableType
from rich.syntax import Syntax
from rich.text import Text

ADD = "green"
REMOVE = "red"
HUNK = "cyan"
HEADER = "bold"


def _line_style(line: str) -> str:
    if line.startswith(("+++", "---", "diff --git", "index ", "*** ", "new file", "deleted file")):
        return HEADER
    if line.startswith("+"):
        return ADD
    if line.startswith("-"):
        return REMOVE
    if line.startswith("@@"):
        return HUNK
    return ""


def colored_diff(diff: str, *, max_lines: int | None = None) -> Text:
    """A unified diff (or an apply_patch body) with added lines green and removed lines red."""
    lines = diff.rstrip("\n").splitlines()
    hidden = 0
    if max_lines is not None and len(lines) > max_lines:
        hidden = len(lines) - max_lines
        lines = lines[:max_lines]
    text = Text(no_wrap=False, end="")
    for i, line in enumerate(lines):
        if i:
            text.append("\n")
        text.append(line, style=_line_style(line))
    if hidden:
        text.append(f"\n… {hidden} more line{'s' if hidden != 1 else ''}", style="dim italic")
    return text


def preview(event: Any) -> RenderableType:
    """What the approval modal shows: the tool's own preview (ApprovalRequested.preview), as the
    colored diff it would apply, or the command."""
    arguments = event.arguments
    if event.added is not None and event.preview:
        return colored_diff(event.preview)
    if isinstance(arguments, dict) and "command" in arguments:
        command = str(arguments["command"])
        extras = [f"{k}: {v}" for k, v in arguments.items() if k != "command" and v is not None]
        syntax = Syntax(command, "bash", theme="ansi_dark", word_wrap=True, background_color="default")
        return Group(syntax, Text("\n".join(extras), style="dim")) if extras else syntax
    if event.preview:  # e.g. a patch that will not apply: show what was sent
        return colored_diff(event.preview)
    if isinstance(arguments, dict):
        return Text("\n".join(f"{k}: {v}" for k, v in arguments.items()))
    return Text(str(arguments))


