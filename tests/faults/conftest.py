"""Collects the fault-injection figures and prints them at the end of the run."""
from __future__ import annotations

import pytest

_FIGURES: list[dict] = []


@pytest.fixture
def fault_figures() -> list[dict]:
    return _FIGURES


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:  # noqa: ARG001
    if not _FIGURES:
        return
    kinds = sorted({r["kind"] for r in _FIGURES})
    lost = [r for r in _FIGURES if r["lost"]]
    retries = sum(r["retries"] for r in _FIGURES)
    terminalreporter.write_sep("-", "fault injection")
    terminalreporter.write_line(
        f"fault injection: {len(_FIGURES)} runs, {len(kinds)} fault kinds, {len(_FIGURES)} faults "
        f"injected, {len(_FIGURES) - len(lost)} survived with every invariant, {len(lost)} lost "
        f"something; {retries} provider retries on the fake clock"
    )
    for r in lost[:10]:
        terminalreporter.write_line(f"  LOST {r['kind']} seed {r['seed']}: {'; '.join(r['lost'])}")
