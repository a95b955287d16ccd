"""Every mark and figure on screen true (issue 12): what the TUI shows is what the core said."""
from __future__ import annotations

from pathlib import Path

from pilot_helpers import answered, make_app, ready, screen_text, type_and_send, wait_for
from realcost_agent.providers.scripted import text, tool_call, usage

from realcost_agent.tui.screens.approval import ApprovalScreen


async def fast_type(pilot, keys: list[str]) -> None:
    """Keys that reach the focused widget back to back, as when the app is busy while someone
    types quickly: every key is queued before the first is handled, so the messages a key
    posts (TextArea.Changed) arrive after the later keys (Pilot.press waits after each key)."""
    from textual import events
    from textual.keys import _character_to_key

    target = pilot.app.focused
    for key in keys:
        name = _character_to_key(key) if len(key) == 1 and not key.isalnum() else key
        target.post_message(events.Key(name, key if len(key) == 1 else None))
    await pilot.pause(0.2)


async def fast_keys(pilot, keys: list[str]) -> None:
    """Keys from the terminal back to back (a burst the driver reads at once), through the
    app's routing and bindings, with no wait between them."""
    from textual import events
    from textual.keys import _character_to_key

    app = pilot.app
    for key in keys:
        name = _character_to_key(key) if len(key) == 1 and not key.isalnum() else key
        event = events.Key(name, key if len(key) == 1 else None)
        event.set_sender(app)
        app._driver.send_message(event)
    await pilot.pause(0.2)


def _call(name: str, args: dict, call_id: str) -> list:
    return [tool_call(name, args, id=call_id), usage(100, 10)]


async def test_card_shows_the_tools_own_line_counts(repo: Path) -> None:
    # Deleting a line that starts with "--" used to read "+0 -0": the card counted by itself.
    (repo / "q.sql").write_text("select 1;\n-- old note\nselect 2;\n")
    app, _ = make_app(repo, [
        _call("edit", {"path": "q.sql", "old_string": "-- old note\n", "new_string": ""}, "call_e"),
        [text("Removed.")],
    ])
    async with app.run_test(size=(100, 32)) as pilot:
        await ready(pilot)
        await type_and_send(pilot, "drop the note")
        await answered(pilot)
        card = app.conversation.cards["call_e"]
        assert card.finished is not None and (card.finished.added, card.finished.removed) == (0, 1)
        shown = screen_text(app)
        assert "✓ +0 -1" in shown and "+0 -0" not in shown
        assert "q.sql +0 -1" in shown  # the title is the tool's summary
        assert "--- old note" in card.body_text.plain  # the diff the tool made


async def test_approval_shows_the_exact_diff_the_edit_will_make(repo: Path) -> None:
    app, _ = make_app(repo, [
        _call("edit", {"path": "calc.py", "old_string": "a - b", "new_string": "a + b"}, "call_e"),
        [text("Fixed.")],
    ], approval="suggest")
    async with app.run_test(size=(100, 32)) as pilot:
        await ready(pilot)
        await type_and_send(pilot, "fix add")
        await wait_for(pilot, lambda: isinstance(app.screen, ApprovalScreen), what="approval")
        await pilot.pause(0.1)
        shown = screen_text(app)
        # Whole lines of the file, not the fragments the model sent.
        assert "-    return a - b" in shown and "+    return a + b" in shown
        assert "calc.py +1 -1" in shown
        assert "don't ask again this session for edit" in shown
        await pilot.press("y")
        await answered(pilot)


async def test_approve_for_session_grants_a_command_prefix_not_the_tool(repo: Path) -> None:
    """`a` on `pytest` used to let `git push origin master` run unasked."""
    app, _ = make_app(repo, [
        _call("run_command", {"command": "pytest -q"}, "call_1"),
        _call("run_command", {"command": "pytest -x tests"}, "call_2"),
        _call("run_command", {"command": "git push origin master"}, "call_3"),
        _call("run_command", {"command": "pytest -q; git status"}, "call_4"),
        [text("done")],
    ], approval="auto-edit")
    asked: list[str] = []
    async with app.run_test(size=(100, 32)) as pilot:
        await ready(pilot)
        await type_and_send(pilot, "run the tests and push")
        await wait_for(pilot, lambda: isinstance(app.screen, ApprovalScreen), what="first ask")
        await pilot.pause(0.1)
        assert "don't ask again this session for `pytest …`" in screen_text(app)
        asked.append(app.screen.event.call_id)
        await pilot.press("a")
        await wait_for(pilot, lambda: isinstance(app.screen, ApprovalScreen)
                       and app.screen.event.call_id != "call_1", what="the push asked")
        asked.append(app.screen.event.call_id)
        await pilot.pause(0.1)
        # A push is never granted for the session: only once.
        assert not app.screen.query_one("#session").display
        await pilot.press("n")
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, ApprovalScreen)
                       and app.screen.event.call_id == "call_4", what="the chain asked")
        asked.append(app.screen.event.call_id)
        await pilot.press("escape")
        await answered(pilot)
    assert asked == ["call_1", "call_3", "call_4"]  # call_2 (pytest again) ran unasked
    cards = app.conversation.cards
    assert cards["call_2"].finished is not None and not cards["call_2"].finished.metadata.get("denied")
    assert cards["call_3"].finished.metadata.get("denied")


async def test_fast_typed_model_name_is_what_enter_sends(repo: Path) -> None:
    """`/model` then a quickly typed name: Enter used to take the stale highlighted completion."""
    app, _ = make_app(repo, [])
    async with app.run_test(size=(100, 32)) as pilot:
        await ready(pilot)
        sent: list[str] = []
        app.run_command_text = sent.append  # type: ignore[method-assign]
        for name in ("gpt-oss-20b", "o4-mini"):
            await pilot.press(*"/model ")  # the list of models opens
            await fast_type(pilot, [*name, "enter"])
            await wait_for(pilot, lambda: len(sent) == 1, what="sent")
            assert sent.pop() == f"/model {name}"
            assert app.prompt.text == ""


async def test_typing_on_a_focused_card_sends_the_message(repo: Path) -> None:
    """A card has focus; a quickly typed message and Enter used to toggle the card instead of
    sending, and the leftover text merged with the next message."""
    app, _ = make_app(repo, [
        _call("read_file", {"path": "calc.py"}, "call_r"), [text("read it")],
        [text("one")], [text("two")],
    ])
    async with app.run_test(size=(100, 32)) as pilot:
        await ready(pilot)
        await type_and_send(pilot, "read calc.py")
        await answered(pilot)
        sent: list[str] = []
        real = app.run_command_text
        app.run_command_text = lambda t: (sent.append(t), real(t))  # type: ignore[method-assign]
        card = app.conversation.cards["call_r"]
        for message in ("hello there", "second one"):
            card.focus()
            await pilot.pause(0.05)
            await fast_keys(pilot, [*message, "enter"])
            await wait_for(pilot, lambda: len(sent) >= 1, what=f"{message!r} sent")
            assert sent.pop() == message
            assert not card.expanded and app.prompt.text == ""
        await answered(pilot, 3)
        card.focus()  # with nothing typed, Enter on a card still expands it
        await pilot.press("enter")
        assert card.expanded


async def test_fast_typed_command_keeps_its_argument(repo: Path) -> None:
    app, _ = make_app(repo, [])
    async with app.run_test(size=(100, 32)) as pilot:
        await ready(pilot)
        sent: list[str] = []
        app.run_command_text = sent.append  # type: ignore[method-assign]
        await pilot.press(*"/deb")  # the list of commands opens on /debug
        await fast_type(pilot, [*"ug +3m", "enter"])
        await wait_for(pilot, lambda: sent, what="sent")
        assert sent == ["/debug +3m"]


def _status(app) -> str:
    return app.status_bar.line(160).plain


async def test_agent_time_ticks_during_a_turn_and_interrupting_clears(repo: Path) -> None:
    """The status bar read "agent 0ms" for a whole running turn, and "interrupting…" stayed."""
    app, _ = make_app(repo, [_call("run_command", {"command": "sleep 30"}, "call_s"), [text("x")]])
    async with app.run_test(size=(160, 50)) as pilot:
        await ready(pilot)
        await type_and_send(pilot, "wait a while")
        await wait_for(pilot, lambda: "call_s" in app.conversation.cards, what="command running")
        await wait_for(pilot, lambda: "agent 0.0s" not in _status(app) and "agent 0ms" not in _status(app)
                       and "agent " in _status(app), what="agent time moving")
        await pilot.press("ctrl+c")
        await wait_for(pilot, lambda: not app.turn_running, what="interrupted")
        await pilot.pause(0.2)
        shown = screen_text(app)
        assert "interrupting…" not in shown and "interrupted" in shown
        assert app.status_bar.state == "ready"


async def test_checkpoint_notice_only_after_changes(repo: Path) -> None:
    app, _ = make_app(repo, [
        _call("run_command", {"command": "ls"}, "call_ls"), [text("listed")],
        _call("edit", {"path": "calc.py", "old_string": "a - b", "new_string": "a + b"}, "call_e"),
        [text("fixed")],
    ])
    async with app.run_test(size=(100, 32)) as pilot:
        await ready(pilot)
        await type_and_send(pilot, "list files")
        await answered(pilot)
        assert "saved before" not in screen_text(app)  # a read-only command changed nothing
        await type_and_send(pilot, "fix add")
        await answered(pilot, 2)
        assert "saved before these changes · /undo reverts them" in screen_text(app)


async def test_your_time_is_shown_apart_from_agent_time(repo: Path) -> None:
    app, _ = make_app(repo, [[text("done"), usage(100, 10)]])
    async with app.run_test(size=(160, 50)) as pilot:
        await ready(pilot)
        await type_and_send(pilot, "do it")
        await answered(pilot)
        await type_and_send(pilot, "/debug +3m")
        await wait_for(pilot, lambda: "you 3m00s" in _status(app), what="your time")
        status = _status(app)
        assert "agent " in status and "real $1.75" in status  # 3 min at $35/h, no API price


async def test_task_line_never_shows_an_unknown_price_as_zero(repo: Path) -> None:
    app, _ = make_app(repo, [[text("done"), usage(1000, 10)]], model="openrouter/acme/unpriced-model")
    async with app.run_test(size=(160, 50)) as pilot:
        await ready(pilot)
        await type_and_send(pilot, "do it")
        await answered(pilot)
        await type_and_send(pilot, "/done")
        await wait_for(pilot, lambda: app.stats.tasks[1].status == "done", what="task done")
        await pilot.pause(0.1)
        shown = screen_text(app)
        assert "task 1 done · 0 follow-ups · API unknown (1 unpriced call) · real ≥ $" in shown
        assert "$0.0000" not in shown
        status = _status(app)
        assert "API unknown" in status and "real ≥$" in status and "API $0" not in status
        from realcost_agent.tui.screens.cost import summary_lines

        summary = "\n".join(summary_lines(app.costs))
        assert "API unknown" in summary and "total: API unknown (1 unpriced call)" in summary


async def test_setup_panel_probes_local_servers(fake_server) -> None:
    """A local backend was marked "usable now" without asking it; now it is probed (in a worker,
    after the panel is up) and marked by the answer."""
    import asyncio

    from textual.app import App

    from realcost_agent.providers.catalogue import setup_hints
    from realcost_agent.tui.screens.setup import SetupScreen, local_bases, probe

    hints = setup_hints({})
    local = local_bases(hints)
    assert local  # ollama, vllm, ... expect servers on this machine
    up = next(iter(local))
    release = asyncio.Event()

    async def prober(url: str) -> bool:
        await release.wait()  # the panel is painted before any answer
        return url == local[up]

    class Host(App):
        def on_mount(self) -> None:
            self.push_screen(SetupScreen("no key set", hints, prober))

    async with Host().run_test(size=(160, 50)) as pilot:
        await pilot.pause(0.1)
        assert "(checking…)" in screen_text(pilot.app)
        release.set()
        await wait_for(pilot, lambda: "(checking…)" not in screen_text(pilot.app), what="probed")
        import io

        from rich.console import Console

        from realcost_agent.tui.screens.setup import setup_text

        screen = pilot.app.screen
        console = Console(width=400, file=io.StringIO(), record=True)
        console.print(setup_text(screen.problem, screen.hints, screen.probed))
        lines = console.export_text().splitlines()
        title = {h.backend: h.title for h in hints}
        assert any("✓" in ln and title[up] in ln and "(answering)" in ln for ln in lines)
        others = [b for b in local if b != up]
        assert all(any("✗" in ln and title[b] in ln and "(not running)" in ln for ln in lines)
                   for b in others)
    # The real probe: a server that answers GET /models, and a port where nothing listens.
    assert await probe(fake_server.url)
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]
    assert not await probe(f"http://127.0.0.1:{closed}/v1", timeout=2)


async def test_palette_has_the_agents_commands_only(repo: Path) -> None:
    """Ctrl+P mixed in Textual's own commands (theme, screenshot, a second "Quit"), and had no
    /check."""
    from textual.command import CommandList, CommandPalette

    from realcost_agent.tui.commands import COMMANDS
    from realcost_agent.tui.palette import entries

    app, _ = make_app(repo, [])
    async with app.run_test(size=(160, 50)) as pilot:
        await ready(pilot)
        commands = {command.strip().split()[0] for _, command, _ in entries(app)}
        assert {f"/{c.name}" for c in COMMANDS} <= commands  # every slash command, /check included
        await pilot.press("ctrl+p")
        await wait_for(pilot, lambda: isinstance(app.screen, CommandPalette), what="palette")
        await pilot.pause(0.3)
        shown = app.screen.query_one(CommandList)
        titles = [str(shown.get_option_at_index(i).prompt) for i in range(shown.option_count)]
        assert sum("Quit" in t for t in titles) == 1, titles
        assert not any(word in t for t in titles for word in ("theme", "Screenshot", "Keys"))
        await pilot.press(*"check")
        await pilot.pause(0.5)
        await pilot.press("enter")
        await wait_for(pilot, lambda: not isinstance(app.screen, CommandPalette), what="palette closed")
        assert app.prompt.text == "/check "  # left to finish, not run (which cleared the check)


async def test_counts_read_in_the_singular(repo: Path) -> None:
    """"1 words", "1 steps", "follow-up(s)": a count of one reads as one."""
    from realcost_agent.agent import events as ev
    from realcost_agent.tui.stats import task_line

    done = ev.TaskUpdated(1, "done", 2, 1, api_cost=0.01, real_cost=0.5, unpriced_calls=1)
    assert task_line(done) == "task 1 done · 1 follow-up · API ≥ $0.0100 (+1 unpriced call) · real ≥ $0.50"
    app, _ = make_app(repo, [[text("hi")]])
    async with app.run_test(size=(160, 50)) as pilot:
        await ready(pilot)
        await type_and_send(pilot, "hello")
        await answered(pilot)
        app.conversation.handle(ev.Compacted("t9", 1, 900, 300, "gpt-oss-20b", "test"))
        await pilot.pause(0.1)
        shown = screen_text(app)
        assert "1 step ·" in shown and "1 older message summarized" in shown
        assert "(s)" not in shown
