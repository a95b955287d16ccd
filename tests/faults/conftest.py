"""The fault-injection and kill figures: each test case reports its own (tests/figures.py) and
tests/conftest.py prints them at the end of the run, also when the suite runs on workers."""
from __future__ import annotations

import pytest

from figures import FigureList


@pytest.fixture
def fault_figures(request: pytest.FixtureRequest) -> list[dict]:
    return FigureList(request.node, "fault")


@pytest.fixture
def kill_figures(request: pytest.FixtureRequest) -> list[dict]:
    return FigureList(request.node, "kill")
