"""Figures that test cases report for the end-of-run summaries (attacks held per class, fault
injection, kill -9 and resume).

They travel on each test report's `user_properties`, so they reach the process that prints the
summary whether the suite runs in one process or on pytest-xdist workers (`make test`): a worker's
module globals never do. A test case adds figures with `add_figure(request.node, kind, value)`
(or through the `fault_figures` / `kill_figures` fixtures); tests/conftest.py collects them.
"""
from __future__ import annotations

from typing import Any

import pytest

_KEY = pytest.StashKey[list]()


def add_figure(node: pytest.Item, kind: str, value: Any) -> None:
    node.stash.setdefault(_KEY, []).append((kind, value))


def take_figures(node: pytest.Item) -> list[tuple[str, Any]]:
    figures = node.stash.get(_KEY, [])
    node.stash[_KEY] = []
    return figures


class FigureList(list):
    """A list a test appends dicts to (the fixtures' old interface); each goes on the report."""

    def __init__(self, node: pytest.Item, kind: str) -> None:
        super().__init__()
        self._node, self._kind = node, kind

    def append(self, value: Any) -> None:  # type: ignore[override]
        super().append(value)
        add_figure(self._node, self._kind, value)

    def extend(self, values: Any) -> None:  # type: ignore[override]
        for value in values:
            self.append(value)
