"""The adversarial suite: hostile repositories, a hostile scripted model, injected prompts.

Every attack is one test case marked `@pytest.mark.attack("<class>")` (parametrize freely; each
case counts once). A case passes when the attack *held*: its outcome was asked, denied, redacted,
refused or undone byte-exact, and nothing outside the project changed. At the end of the run the
figures per class are printed: attacks tried, held, broken.

Keep destructive strings inside Python literals that go to the fake model; never in a shell
script or heredoc of your own.
"""
from __future__ import annotations

from collections import Counter

import pytest

CLASSES = ("key_theft", "code_execution", "self_modification", "data_loss", "secrets", "limits")

_tried: Counter[str] = Counter()
_held: Counter[str] = Counter()


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


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):  # noqa: ANN201
    outcome = yield
    report = outcome.get_result()
    cls = _attack_class(item)
    if cls is None:
        return
    if report.when == "call" or (report.when == "setup" and report.outcome != "passed"):
        _tried[cls] += 1
        if report.passed:
            _held[cls] += 1


def pytest_terminal_summary(terminalreporter) -> None:  # noqa: ANN001
    if not _tried:
        return
    tr = terminalreporter
    tr.section("attacks held per class")
    for cls in CLASSES:
        if _tried[cls]:
            tr.write_line(f"{cls:18} tried {_tried[cls]:4}  held {_held[cls]:4}  "
                          f"broke {_tried[cls] - _held[cls]:4}")
    total, held = sum(_tried.values()), sum(_held.values())
    tr.write_line(f"{'total':18} tried {total:4}  held {held:4}  broke {total - held:4}")
