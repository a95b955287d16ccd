"""The adversarial suite: hostile repositories, a hostile scripted model, injected prompts.

Every attack is one test case marked `@pytest.mark.attack("<class>")` (parametrize freely; each
case counts once). A case passes when the attack *held*: its outcome was asked, denied, redacted,
refused or undone byte-exact, and nothing outside the project changed. At the end of the run the
figures per class are printed (tests/conftest.py): attacks tried, held, broken.

Keep destructive strings inside Python literals that go to the fake model; never in a shell
script or heredoc of your own.
"""
from __future__ import annotations

import pytest

from figures import add_figure

CLASSES = ("key_theft", "code_execution", "self_modification", "data_loss", "secrets", "limits")


def _attack_class(item: pytest.Item) -> str | None:
    marker = item.get_closest_marker("attack")
    if marker is None:
        return None
    cls = marker.args[0] if marker.args else marker.kwargs.get("cls")
    if cls not in CLASSES:
        raise pytest.UsageError(f"{item.nodeid}: attack class {cls!r} is not one of {CLASSES}")
    return cls


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        _attack_class(item)  # fail collection on an unknown class


@pytest.fixture(autouse=True)
def _attack_figure(request: pytest.FixtureRequest) -> None:
    cls = _attack_class(request.node)
    if cls is not None:
        add_figure(request.node, "attack", cls)
