"""Colored renderings of diffs, patches and proposed edits (tool cards and the approval modal).

Colors are Rich styles, so NO_COLOR (which Textual honours) leaves the +/- markers readable.
"""
from __future__ import annotations

import difflib
from pathlib import Path
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


def diff_stats(diff: str) -> tuple[int, int]:
    added = removed = 0
    for line in diff.splitlines():
        if line.startswith("+") and not line.startswith("+++"):
            added += 1
        elif line.startswith("-") and not line.startswith("---"):
            removed += 1
    return added, removed


def unified(path: str, old: str, new: str) -> str:
    return "".join(difflib.unified_diff(
        old.splitlines(keepends=True), new.splitlines(keepends=True),
        fromfile=f"a/{path}", tofile=f"b/{path}",
    ))


def _read_existing(root: Path | None, path: str, limit: int = 2_000_000) -> str | None:
    """The current text of a project file, for previewing a write; None when absent/unreadable."""
    if root is None or not path:
        return None
    try:
        target = (root / path).resolve()
        if not target.is_relative_to(root.resolve()) or not target.is_file():
            return None
        if target.stat().st_size > limit:
            return None
        return target.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None


def proposed_change(name: str, arguments: Any, root: Path | None = None) -> str | None:
    """The diff a file tool call would make, computed from its arguments; None if not a file edit."""
    if not isinstance(arguments, dict):
        return None
    if name == "apply_patch" and isinstance(arguments.get("patch"), str):
        return arguments["patch"]
    path = str(arguments.get("path") or "")
    if name == "edit" and isinstance(arguments.get("old_string"), str):
        return unified(path, arguments["old_string"], str(arguments.get("new_string") or ""))
    if name == "write_file" and isinstance(arguments.get("content"), str):
        old = _read_existing(root, path)
        diff = unified(path, old or "", arguments["content"])
        return diff if old is not None else f"new file {path}\n" + diff
    return None


def preview(name: str, arguments: Any, root: Path | None = None) -> RenderableType:
    """What the approval modal shows for a call: the command, or the colored change."""
    change = proposed_change(name, arguments, root)
    if change is not None:
        return colored_diff(change)
    if isinstance(arguments, dict) and "command" in arguments:
        command = str(arguments["command"])
        extras = [f"{k}: {v}" for k, v in arguments.items() if k != "command" and v is not None]
        syntax = Syntax(command, "bash", theme="ansi_dark", word_wrap=True, background_color="default")
        return Group(syntax, Text("\n".join(extras), style="dim")) if extras else syntax
    if isinstance(arguments, dict):
        return Text("\n".join(f"{k}: {v}" for k, v in arguments.items()))
    return Text(str(arguments))
