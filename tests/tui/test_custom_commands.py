"""Custom commands in the TUI (Pilot): completion, the command palette, running one."""
from __future__ import annotations

from pathlib import Path

from pilot_helpers import KEY_ENV, answered, make_app, ready, wait_for
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
