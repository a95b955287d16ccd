"""Snapshot tests (pytest-textual-snapshot) of the main screens, over replayed events so every
figure, path and duration on screen is fixed. Update with: pytest tests/tui --snapshot-update"""
from __future__ import annotations

import itertools
from pathlib import Path

import pytest
from replay import ROOT, ReplaySession, fix_turn, task, usage

from realcost_agent.agent import events as ev
from realcost_agent.agent.config import Settings
from realcost_agent.tui.app import AgentApp
from realcost_agent.tui.history import History


@pytest.fixture(autouse=True)
def pinned_clock(monkeypatch):
    ticks = itertools.count(0, 1.2)
    monkeypatch.setattr("realcost_agent.tui.widgets.stream.clock", lambda: next(ticks))
    monkeypatch.setattr("realcost_agent.tui.app.clock", lambda: 1000.0)  # a running turn shows agent 0.0s
    monkeypatch.delenv("NO_COLOR", raising=False)


def replay_app(turns: list[list[ev.Event]], env: dict[str, str] | None = None, **settings) -> AgentApp:
    session = ReplaySession(turns, env=env)
    return AgentApp(Settings(**settings), Path(ROOT), session_factory=lambda s, r, w: session,
                    history=History(None))


async def started(pilot) -> None:
    from pilot_helpers import wait_for

    pilot.app.prompt.cursor_blink = False
    await wait_for(pilot, lambda: pilot.app.session is not None and pilot.app.ready, what="ready")
    await pilot.pause(0.1)


async def run_prompt(pilot, text: str = "make the failing test pass") -> None:
    from pilot_helpers import wait_for

    await started(pilot)
    pilot.app.prompt.set_text(text)
    await pilot.press("enter")
    await wait_for(pilot, lambda: not pilot.app.turn_running and pilot.app.query(".turn-end"), what="turn")
    await pilot.pause(0.2)


def test_main_screen_after_a_fix_80x24(snap_compare) -> None:
    assert snap_compare(replay_app([fix_turn()]), terminal_size=(80, 24), run_before=run_prompt)


def test_main_screen_after_a_fix_wide(snap_compare) -> None:
    assert snap_compare(replay_app([fix_turn()]), terminal_size=(140, 44), run_before=run_prompt)


def test_startup_screen(snap_compare) -> None:
    assert snap_compare(replay_app([]), terminal_size=(80, 24), run_before=started)


def test_approval_modal(snap_compare) -> None:
    async def run_before(pilot) -> None:
        from pilot_helpers import wait_for

        from realcost_agent.tui.screens.approval import ApprovalScreen

        await started(pilot)
        pilot.app.prompt.set_text("make the failing test pass")
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, ApprovalScreen), what="modal")
        await pilot.pause(0.2)

    assert snap_compare(replay_app([fix_turn(approval=True)]), terminal_size=(80, 24), run_before=run_before)


def test_setup_panel(snap_compare, monkeypatch) -> None:
    async def nothing_runs_here(url: str) -> bool:  # local servers probed: pinned, not real
        return False

    monkeypatch.setattr("realcost_agent.tui.screens.setup.probe", nothing_runs_here)

    async def run_before(pilot) -> None:
        from pilot_helpers import wait_for

        from realcost_agent.tui.screens.setup import SetupScreen

        pilot.app.prompt.cursor_blink = False
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, SetupScreen), what="setup panel")
        await pilot.pause(0.2)

    assert snap_compare(replay_app([], env={}), terminal_size=(100, 32), run_before=run_before)


def test_help_screen(snap_compare) -> None:
    async def run_before(pilot) -> None:
        await started(pilot)
        await pilot.press("f1")
        await pilot.pause(0.2)

    assert snap_compare(replay_app([]), terminal_size=(80, 24), run_before=run_before)


def _two_models() -> list[ev.Event]:
    """Task 1 on gpt-oss-120b in one prompt; task 2 on o4-mini needing a follow-up."""
    return [
        ev.TurnStarted("t1", 1, "timeline previews", "gpt-oss-120b"),
        usage("t1", "gpt-oss-120b", 1, 11_152, 518, 0.0127, 1500, 14_000, (0.0127, 11_152, 518)),
        task(1, "done", 1, 14_000, 300_000, 0.0127),
        ev.ModelSwitched("o4-mini", "openrouter/openai/o4-mini", "openrouter"),
        ev.TurnStarted("t2", 2, "timeline previews", "o4-mini"),
        usage("t2", "o4-mini", 1, 9_334, 6_327, 0.0775, 8000, 33_000, (0.0902, 20_486, 6_845)),
        ev.TurnStarted("t3", 2, "fix the tooltip", "o4-mini"),
        usage("t3", "o4-mini", 2, 9_500, 700, 0.0134, 6000, 9_000, (0.1036, 29_986, 7_545)),
        task(2, "done", 2, 42_000, 120_000, 0.0909),
    ]


def test_cost_report(snap_compare) -> None:
    async def run_before(pilot) -> None:
        from pilot_helpers import wait_for

        from realcost_agent.tui.screens.cost import CostScreen

        await started(pilot)
        for event in _two_models():
            pilot.app.fold(event)
        pilot.app.prompt.set_text("/cost")
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, CostScreen), what="cost screen")
        await pilot.pause(0.2)

    assert snap_compare(replay_app([]), terminal_size=(100, 50), run_before=run_before)
