"""Custom commands in the TUI (Pilot): completion, the command palette, running one."""
from __future__ import annotations

from pathlib import Path

import pytest

from pilot_helpers import KEY_ENV, answered, make_app, ready, screen_text, wait_for
from realcost_agent.providers.scripted import text, usage

from realcost_agent.tui.palette import entries


def home_with_commands(tmp_path: Path) -> dict[str, str]:
    commands = tmp_path / "home" / ".agents" / "commands"
    commands.mkdir(parents=True)
    (commands / "review.md").write_text(
        "---\ndescription: Review a file for bugs\nargument-hint: <file>\n---\n"
        "Review $ARGUMENTS for bugs; list them, change nothing.\n")
    (commands / "help.md").write_text("I try to shadow /help\n")
    return {**KEY_ENV, "HOME": str(tmp_path / "home")}


async def test_custom_command_completes_runs_and_is_in_the_palette(repo: Path, tmp_path: Path) -> None:
    app, provider = make_app(repo, [[text("No bugs."), usage(100, 5)]], env=home_with_commands(tmp_path))
    async with app.run_test(size=(100, 32)) as pilot:
        await ready(pilot)
        await wait_for(pilot, lambda: "review" in app.custom_commands, what="commands loaded")
        assert "help" not in app.custom_commands  # a built-in is never shadowed
        palette = {command: help_text for _, command, help_text in entries(app)}
        assert palette["/review "] == "Review a file for bugs"
        app.prompt.set_text("/rev")
        await wait_for(pilot, lambda: app.prompt.popup is not None and app.prompt.popup.display,
                       what="completion list")
        option = app.prompt.popup.get_option_at_index(0)
        assert option.id == "/review "
        await pilot.press("tab")
        assert app.prompt.text == "/review "
        app.prompt.set_text("/review calc.py")
        await pilot.press("enter")
        await answered(pilot)
        sent = provider.calls[0].messages[-1]["content"]
        assert sent.startswith("Review calc.py for bugs; list them, change nothing.")
        app.action_help()
        await pilot.pause(0.2)
        assert "/review <file>" in screen_text(app) and "Review a file for bugs" in screen_text(app)


@pytest.mark.parametrize("key, loaded", [("n", False), ("t", True)])
async def test_project_command_waits_for_the_trust_dialog(repo: Path, tmp_path: Path, key: str, loaded: bool) -> None:
    from realcost_agent.agent.config import load_settings
    from realcost_agent.agent.session import Session
    from realcost_agent.agent.trust import TrustGate
    from realcost_agent.providers.scripted import ScriptedProvider
    from realcost_agent.tui.app import AgentApp
    from realcost_agent.tui.history import History
    from realcost_agent.tui.screens.trust import TrustScreen

    (repo / ".agents" / "commands").mkdir(parents=True)
    (repo / ".agents" / "commands" / "theirs.md").write_text("---\ndescription: Their prompt\n---\nDo it\n")
    (tmp_path / "home").mkdir()
    env = {**KEY_ENV, "HOME": str(tmp_path / "home"), "AGENT_CONFIG_HOME": str(tmp_path / "cfg"),
           "AGENT_DATA_HOME": str(tmp_path / "data")}
    flags = {"model": "gpt-oss-120b"}
    settings = load_settings(repo, flags=flags, env=env, warnings=[])
    assert settings.project_trust.must_ask
    gate = TrustGate(settings.project_trust.request, repo, flags, env=env)

    def factory(s, r, warnings):  # noqa: ANN001, ANN202
        return Session(s, r, interactive=True, env=env, output_dir=tmp_path / "out",
                       warnings=warnings, provider_factory=lambda m: ScriptedProvider([]))

    app = AgentApp(settings, repo, session_factory=factory, trust=gate,
                   history=History(tmp_path / "history.jsonl"))
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, TrustScreen), what="trust dialog")
        await wait_for(pilot, lambda: "command /theirs" in screen_text(app), what="the command listed")
        assert app.custom_commands == {}  # nothing loaded before the answer
        await pilot.press(key)
        await ready(pilot)
        await pilot.pause(0.2)
        assert ("theirs" in app.custom_commands) is loaded
        assert (("/theirs", "Their prompt") in completions_of(app, "/th")) is loaded


def completions_of(app, text: str) -> list[tuple[str, str]]:
    from realcost_agent.tui.commands import completions

    return completions(text, custom=app.prompt.custom)


def test_the_tui_command_table_stays_inside_the_reserved_names():
    """A custom command never takes a built-in's name: the core's reserved set must hold every
    command and alias the TUI defines (the core cannot import the TUI to ask it)."""
    from realcost_agent.agent.commands_md import BUILTIN_NAMES
    from realcost_agent.tui.commands import ALIASES, BY_NAME

    assert {*BY_NAME, *ALIASES} <= BUILTIN_NAMES
