"""Collects the fault-injection figures and prints them at the end of the run."""
from __future__ import annotations

import pytest

_FIGURES: list[dict] = []
_KILLS: list[dict] = []


@pytest.fixture
def fault_figures() -> list[dict]:
    return _FIGURES


@pytest.fixture
def kill_figures() -> list[dict]:
    return _KILLS


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:  # noqa: ARG001
    if _KILLS:
        bad = [r for r in _KILLS if r["problems"]]
        terminalreporter.write_sep("-", "kill -9 and resume")
        terminalreporter.write_line(
            f"kill -9: {len(_KILLS)} kills at random points, {sum(r['resumed'] for r in _KILLS)} "
            f"resumed (the rest died before the session started), {len(bad)} lost messages, "
            "corrupted files or double-counted the ledger"
        )
        for r in bad[:10]:
            terminalreporter.write_line(f"  LOST seed {r['seed']}: {'; '.join(r['problems'])}")
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
