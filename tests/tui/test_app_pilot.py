"""Pilot tests: the real app over a real Session, the model scripted in-process."""
from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from pilot_helpers import answered, make_app, ready, screen_text, type_and_send, wait_for
from realcost_agent.providers.scripted import reasoning, text, tool_call, usage
from textual.widgets import Button, Input

from realcost_agent.tui.screens.approval import ApprovalScreen
from realcost_agent.tui.stats import fmt_cost
from realcost_agent.tui.widgets.stream import Reasoning, StreamingMarkdown

PATCH = (
    "*** Begin Patch\n*** Update File: calc.py\n@@ def add(a, b):\n-    return a - b\n"
    "+    return a + b\n*** End Patch"
)
ANSWER = "## Fixed\n\nThe bug was in `add`:\n\n- it subtracted\n- now it adds\n\n```python\nprint(add(2, 3))\n```\n"


async def test_prompt_streamed_and_answered(repo: Path) -> None:
    app, provider = make_app(repo, [[
        reasoning("Look at the question first. " * 8, pieces=12),
        text(ANSWER, pieces=40),
        usage(1200, 80, cost=0.0015),
    ]])
    async with app.run_test(size=(100, 32)) as pilot:
        await ready(pilot)
        await type_and_send(pilot, "why does add fail?")
        await answered(pilot)
        answer = app.query(StreamingMarkdown).filter(".answer").first()
        assert answer.source == ANSWER  # every delta arrived, in order
        block = app.query_one(Reasoning)
        assert block.collapsed and block.title.startswith("Thought for")
        screen = screen_text(app)
        assert "why does add fail?" in screen
        assert "The bug was in add:" in screen  # rendered markdown, not the raw source
        assert "• it subtracted" in screen and "print(add(2, 3))" in screen
        assert "## Fixed" not in screen
        assert app.stats.api_cost > 0  # priced from the price table
        assert "1.2k in/80 out" in screen and f"API {fmt_cost(app.stats.api_cost)}" in screen
        sent = provider.calls[0].messages[-1]
        # The core may append context (a repository map) to a task's first prompt.
        assert sent["role"] == "user" and sent["content"].startswith("why does add fail?")


async def test_tool_card_shows_colored_diff(repo: Path) -> None:
    app, _ = make_app(repo, [
        [tool_call("apply_patch", {"patch": PATCH}, id="call_patch"), usage(100, 20)],
        [text("Fixed."), usage(150, 5)],
    ])
    async with app.run_test(size=(100, 32)) as pilot:
        await ready(pilot)
        await type_and_send(pilot, "fix add")
        await answered(pilot)
        card = app.conversation.cards["call_patch"]
        assert card.finished is not None and not card.finished.is_error
        assert card.has_class("-ok")
        body = card.body_text
        assert body is not None
        assert "-    return a - b" in body.plain and "+    return a + b" in body.plain
        styles = {body.plain[s.start:s.end]: str(s.style) for s in body.spans}
        assert styles["-    return a - b"] == "red" and styles["+    return a + b"] == "green"
        assert "✓ +1 -1" in screen_text(app)
        assert (repo / "calc.py").read_text() == "def add(a, b):\n    return a + b\n"


def _write(path: str, content: str, call_id: str) -> list:
    return [tool_call("write_file", {"path": path, "content": content}, id=call_id), usage(100, 10)]


async def test_approve_once_runs_the_tool(repo: Path) -> None:
    app, _ = make_app(repo, [_write("new.txt", "hello\n", "call_w"), [text("Wrote it.")]],
                      approval="suggest")
    async with app.run_test(size=(100, 32)) as pilot:
        await ready(pilot)
        await type_and_send(pilot, "write new.txt")
        await wait_for(pilot, lambda: isinstance(app.screen, ApprovalScreen), what="approval modal")
        shown = screen_text(app)
        assert "write_file" in shown and "+hello" in shown  # the proposed file as a diff
        await pilot.press("y")
        await answered(pilot)
        assert (repo / "new.txt").read_text() == "hello\n"
        assert app.conversation.cards["call_w"].has_class("-ok")


async def test_deny_sends_the_reason_to_the_model(repo: Path) -> None:
    app, provider = make_app(repo, [_write("new.txt", "hello\n", "call_w"), [text("Understood.")]],
                             approval="suggest")
    async with app.run_test(size=(100, 32)) as pilot:
        await ready(pilot)
        await type_and_send(pilot, "write new.txt")
        await wait_for(pilot, lambda: isinstance(app.screen, ApprovalScreen), what="approval modal")
        await pilot.press("n")
        reason = app.screen.query_one("#deny-reason", Input)
        assert reason.has_focus
        await pilot.press(*"use notes.md instead")
        await pilot.press("enter")
        await answered(pilot)
        assert not (repo / "new.txt").exists()
        tool_message = provider.calls[1].messages[-1]
        assert tool_message["role"] == "tool" and "use notes.md instead" in tool_message["content"]
        assert "denied" in screen_text(app)


async def test_approve_for_session_stops_asking(repo: Path) -> None:
    app, _ = make_app(repo, [_write("a.txt", "a\n", "call_a"), _write("b.txt", "b\n", "call_b"),
                             [text("Both written.")]], approval="suggest")
    async with app.run_test(size=(100, 32)) as pilot:
        await ready(pilot)
        await type_and_send(pilot, "write two files")
        await wait_for(pilot, lambda: isinstance(app.screen, ApprovalScreen), what="approval modal")
        await pilot.click("#session")
        await answered(pilot)
        assert (repo / "a.txt").exists() and (repo / "b.txt").exists()
        assert not isinstance(app.screen, ApprovalScreen)


async def test_model_switch(repo: Path) -> None:
    app, provider = make_app(repo, [[text("one")], [text("two")]])
    async with app.run_test(size=(100, 32)) as pilot:
        await ready(pilot)
        await type_and_send(pilot, "first")
        await answered(pilot)
        await type_and_send(pilot, "/model gpt-oss-20b")
        await wait_for(pilot, lambda: app.model == "gpt-oss-20b" and app.ready, what="model switched")
        await pilot.pause(0.1)
        assert screen_text(app).splitlines()[-1].lstrip().startswith("gpt-oss-20b")
        await type_and_send(pilot, "second")
        await answered(pilot, 2)
        assert [c.model.profile for c in provider.calls] == ["gpt-oss-120b", "gpt-oss-20b"]


async def test_unknown_model_is_reported_not_raised(repo: Path) -> None:
    app, _ = make_app(repo, [])
    async with app.run_test(size=(100, 32)) as pilot:
        await ready(pilot)
        await type_and_send(pilot, "/model gpt-oss-21b")
        await wait_for(pilot, lambda: "cannot switch" in screen_text(app), what="error notice")
        assert app.model == "gpt-oss-120b"


async def test_ctrl_c_interrupts_and_keeps_the_conversation(repo: Path) -> None:
    pid_file = repo / "sleeper.pid"
    command = f"echo $$ > {pid_file}; exec sleep 60"
    app, provider = make_app(repo, [
        [tool_call("run_command", {"command": command}, id="call_sleep")],
        [text("Back again.")],
    ], sandbox="off")  # $$ names a host pid only outside the sandbox's pid namespace
    async with app.run_test(size=(100, 32)) as pilot:
        await ready(pilot)
        await type_and_send(pilot, "sleep for a minute")
        await wait_for(pilot, lambda: pid_file.exists() and pid_file.read_text().strip(), what="command start")
        pid = int(pid_file.read_text())
        await pilot.press("ctrl+c")
        await answered(pilot)
        assert "interrupted" in screen_text(app)
        deadline = time.monotonic() + 5
        while _alive(pid) and time.monotonic() < deadline:
            await pilot.pause(0.05)
        assert not _alive(pid), "the interrupted command's process must die"
        assert app.is_running  # the app is still there
        await type_and_send(pilot, "are you there?")
        await answered(pilot, 2)
        history = provider.calls[-1].messages
        assert any(m.get("tool_call_id") == "call_sleep" for m in history)  # the call kept its result
        assert history[-1]["content"] == "are you there?"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie (exited, not reaped by its parent shell yet) counts as dead
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except OSError:
        return False


async def test_second_ctrl_c_quits(repo: Path) -> None:
    app, _ = make_app(repo, [[tool_call("run_command", {"command": "sleep 60"})], [text("x")]])
    async with app.run_test(size=(100, 32)) as pilot:
        await ready(pilot)
        await type_and_send(pilot, "sleep")
        await wait_for(pilot, lambda: app.turn_running and app.conversation.cards, what="turn running")
        await pilot.press("ctrl+c")
        await pilot.press("ctrl+c")
        await wait_for(pilot, lambda: not app.is_running, what="app exit")
    assert app.return_code == 0


async def test_ctrl_c_when_idle_asks_then_quits(repo: Path) -> None:
    """One Ctrl+C at an idle prompt used to quit at once; now it says how, and a second quits."""
    app, _ = make_app(repo, [])
    async with app.run_test(size=(100, 32)) as pilot:
        await ready(pilot)
        await pilot.press("ctrl+c")
        await pilot.pause(0.2)
        assert app.is_running and "Press Ctrl+C again to quit" in screen_text(app)
        await pilot.press("ctrl+c")
        await wait_for(pilot, lambda: not app.is_running, what="app exit")


async def test_done_closes_the_task(repo: Path) -> None:
    app, _ = make_app(repo, [[text("first answer"), usage(100, 10)], [text("second"), usage(10, 1)]])
    async with app.run_test(size=(100, 32)) as pilot:
        await ready(pilot)
        await type_and_send(pilot, "task one")
        await answered(pilot)
        assert app.stats.tasks[1].status == "active"
        await type_and_send(pilot, "/done")
        await wait_for(pilot, lambda: app.stats.tasks[1].status == "done", what="task done")
        await pilot.pause(0.1)
        assert "task 1 done" in screen_text(app)
        await type_and_send(pilot, "task two")
        await answered(pilot, 2)
        assert app.stats.current_task == 2 and app.stats.tasks[2].followups == 0


async def test_new_ends_the_task_and_debug_corrects_it(repo: Path) -> None:
    app, _ = make_app(repo, [[text("ok")]])
    async with app.run_test(size=(100, 32)) as pilot:
        await ready(pilot)
        await type_and_send(pilot, "task one")
        await answered(pilot)
        await type_and_send(pilot, "/debug +3m")
        await wait_for(pilot, lambda: app.stats.tasks[1].debug_correction_ms == 180_000, what="correction")
        await type_and_send(pilot, "/new")
        await wait_for(pilot, lambda: app.stats.tasks[1].status == "ended", what="task ended")
        await type_and_send(pilot, "/debug soon")
        await wait_for(pilot, lambda: "not a duration" in screen_text(app), what="bad duration")


async def test_undo_reverts_the_last_change(repo: Path) -> None:
    from realcost_agent.agent import ops

    if not hasattr(ops, "Undo"):
        pytest.skip("the core has no Undo op yet")
    app, _ = make_app(repo, [
        [tool_call("apply_patch", {"patch": PATCH}, id="call_patch")], [text("Fixed.")],
    ])
    async with app.run_test(size=(100, 32)) as pilot:
        await ready(pilot)
        await type_and_send(pilot, "fix add")
        await answered(pilot)
        assert "return a + b" in (repo / "calc.py").read_text()
        await type_and_send(pilot, "/undo")
        await wait_for(pilot, lambda: "undo: checkpoint" in screen_text(app), what="undo notice")
        assert (repo / "calc.py").read_text() == "def add(a, b):\n    return a - b\n"


async def test_undo_restores_the_agents_change(repo: Path) -> None:
    app, _ = make_app(repo, [
        [tool_call("apply_patch", {"patch": PATCH}, id="p"), usage(100, 20)],
        [text("Fixed."), usage(150, 5)],
    ])
    async with app.run_test(size=(100, 32)) as pilot:
        await ready(pilot)
        await type_and_send(pilot, "fix add")
        await answered(pilot)
        assert (repo / "calc.py").read_text() == "def add(a, b):\n    return a + b\n"
        await type_and_send(pilot, "/undo")
        await wait_for(pilot, lambda: "return a - b" in (repo / "calc.py").read_text(), what="undo")
        assert (repo / "calc.py").read_text() == "def add(a, b):\n    return a - b\n"


async def test_model_pinned_for_the_task_only(repo: Path) -> None:
    app, _ = make_app(repo, [[text("ok"), usage(10, 1)]])
    async with app.run_test(size=(100, 32)) as pilot:
        await ready(pilot)
        await type_and_send(pilot, "/model o4-mini task")
        await type_and_send(pilot, "hello")
        await answered(pilot)
        assert app.session is not None and app.session.model.profile == "o4-mini"


async def test_setup_panel_without_keys(repo: Path) -> None:
    app, provider = make_app(repo, [[text("never")]], env={"PATH": "/usr/bin:/bin"})
    async with app.run_test(size=(120, 40)) as pilot:
        from realcost_agent.tui.screens.setup import SetupScreen

        await wait_for(pilot, lambda: isinstance(app.screen, SetupScreen) and app.screen.query("#setup-text"),
                       what="setup panel")
        await pilot.pause(0.1)
        shown = screen_text(app)
        assert "Set OPENROUTER_API_KEY" in shown
        assert "export GROQ_API_KEY=..." in shown and "--api-base" in shown
        await pilot.press("escape")
        await type_and_send(pilot, "hello?")
        await pilot.pause(0.1)
        assert "not sent" in screen_text(app)
        assert provider.calls == []  # nothing went to a model without a key
        assert app.prompt.text == "hello?"  # the prompt is kept for later


async def test_setup_panel_on_config_error(repo: Path) -> None:
    from realcost_agent.agent.config import ConfigError

    def broken(settings, root, warnings):  # noqa: ANN001
        raise ConfigError("unknown backend 'nope': choose one of openrouter, ...")

    app, _ = make_app(repo, [])
    app.session_factory = broken
    async with app.run_test(size=(120, 40)) as pilot:
        from realcost_agent.tui.screens.setup import SetupScreen

        await wait_for(pilot, lambda: isinstance(app.screen, SetupScreen) and app.screen.query("#setup-text"),
                       what="setup panel")
        await pilot.pause(0.1)
        assert "unknown backend 'nope'" in screen_text(app)


async def test_prompt_before_ready_waits_and_ui_stays_live(repo: Path) -> None:
    import threading

    release = threading.Event()

    def slow_provider(model):  # noqa: ANN001 - runs in the warm-up thread, like a litellm import
        release.wait(10)
        return provider

    from realcost_agent.providers.scripted import ScriptedProvider

    provider = ScriptedProvider([[text("late but fine")]])
    app, _ = make_app(repo, provider, provider_factory=slow_provider)
    async with app.run_test(size=(100, 32)) as pilot:
        await wait_for(pilot, lambda: app.session is not None, what="session created")
        await type_and_send(pilot, "early prompt")
        await pilot.press(*"still typing")  # the UI takes keys while the provider loads
        assert app.prompt.text == "still typing"
        assert app.queued == ["early prompt"] and provider.calls == []
        release.set()
        await answered(pilot)
        assert provider.calls[0].messages[-1]["content"].startswith("early prompt")


async def test_history_persists_and_recalls(repo: Path, tmp_path: Path) -> None:
    from realcost_agent.tui.history import History

    path = tmp_path / "h" / "history.jsonl"
    app, _ = make_app(repo, [[text("a")], [text("b")]], history=History(path).load())
    async with app.run_test(size=(100, 32)) as pilot:
        await ready(pilot)
        await type_and_send(pilot, "first prompt")
        await answered(pilot)
        await type_and_send(pilot, "second\nprompt")
        await answered(pilot, 2)
        await pilot.press("up")
        assert app.prompt.text == "second\nprompt"
        await pilot.press("up")  # the cursor went to the first line: Up walks on
        assert app.prompt.text == "first prompt"
        await pilot.press("down")
        assert app.prompt.text == "second\nprompt"
    assert History(path).load().entries == ["first prompt", "second\nprompt"]


async def test_multiline_entry_and_slash_completion(repo: Path) -> None:
    app, provider = make_app(repo, [[text("ok")]])
    async with app.run_test(size=(100, 32)) as pilot:
        await ready(pilot)
        await pilot.press(*"line one")
        await pilot.press("ctrl+j")
        await pilot.press(*"line two")
        assert app.prompt.text == "line one\nline two"
        await pilot.press("enter")
        await answered(pilot)
        assert provider.calls[0].messages[-1]["content"].startswith("line one\nline two")
        await pilot.press("/", "m", "o")
        popup = app.prompt_area.popup
        assert popup is not None and popup.display and popup.get_option_at_index(0).id == "/model "
        await pilot.press("tab")
        assert app.prompt.text == "/model "
        await pilot.press(*"gpt-oss-2")
        assert popup.get_option_at_index(0).id == "/model gpt-oss-20b"
        await pilot.press("enter")  # takes the completion and runs it
        await wait_for(pilot, lambda: app.model == "gpt-oss-20b", what="model switched")


async def test_cost_report_screen(repo: Path) -> None:
    app, _ = make_app(repo, [[text("done"), usage(12_000, 500, cost=0.0127)]])
    async with app.run_test(size=(100, 40)) as pilot:
        await ready(pilot)
        await type_and_send(pilot, "do it")
        await answered(pilot)
        await type_and_send(pilot, "/done")
        await wait_for(pilot, lambda: app.stats.tasks[1].status == "done", what="task done")
        await type_and_send(pilot, "/cost")
        from realcost_agent.tui.screens.cost import CostScreen

        await wait_for(pilot, lambda: isinstance(app.screen, CostScreen), what="cost screen")
        shown = screen_text(app)
        await pilot.press("end")
        await pilot.pause(0.1)
        shown += screen_text(app)
        for expected in ("Results in brief", "Single-prompt success", "Cost per task", "Real total",
                         "Ranking", "gpt-oss-120b", fmt_cost(app.stats.api_cost), "12,000", "█"):
            assert expected in shown, expected
        await pilot.press("escape")
        assert not isinstance(app.screen, CostScreen)


async def test_command_palette_runs_commands(repo: Path) -> None:
    app, _ = make_app(repo, [])
    async with app.run_test(size=(100, 32)) as pilot:
        await ready(pilot)
        await pilot.press("ctrl+p")
        await pilot.pause(0.2)
        await pilot.press(*"cost report")
        await pilot.pause(0.5)
        await pilot.press("enter")
        from realcost_agent.tui.screens.cost import CostScreen

        await wait_for(pilot, lambda: isinstance(app.screen, CostScreen), what="cost screen via palette")


async def test_help_screen(repo: Path) -> None:
    app, _ = make_app(repo, [])
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        await type_and_send(pilot, "/help")
        await wait_for(pilot, lambda: "esc to close" in screen_text(app), what="help screen")
        shown = screen_text(app)
        assert "/model <model>" in shown and "Ctrl+J" in shown
        await pilot.press("escape")
        await pilot.pause(0.1)
        assert "/model <model>" not in screen_text(app)


def test_no_color_is_honoured(monkeypatch, repo: Path) -> None:
    """Textual reads NO_COLOR when the app is created; the app must not override it."""
    from textual.filter import Monochrome, NoColor

    monkeypatch.setenv("NO_COLOR", "1")
    app, _ = make_app(repo, [])
    assert app.no_color
    assert any(isinstance(f, (Monochrome, NoColor)) for f in app._filters)
    monkeypatch.delenv("NO_COLOR")
    plain, _ = make_app(repo, [])
    assert not plain.no_color


async def test_ctrl_c_during_approval_closes_the_modal(repo: Path) -> None:
    app, _ = make_app(repo, [_write("new.txt", "x\n", "call_w"), [text("never")]], approval="suggest")
    async with app.run_test(size=(100, 32)) as pilot:
        await ready(pilot)
        await type_and_send(pilot, "write it")
        await wait_for(pilot, lambda: isinstance(app.screen, ApprovalScreen), what="approval modal")
        await pilot.press("ctrl+c")
        await answered(pilot)
        assert not isinstance(app.screen, ApprovalScreen)
        assert "interrupted" in screen_text(app)
        assert not (repo / "new.txt").exists()


async def test_destructive_command_cannot_be_approved_for_the_session() -> None:
    from textual.app import App

    from realcost_agent.agent import events as ev

    decided: list = []
    # Even were a grant offered, a destructive command is approved once at a time.
    event = ev.ApprovalRequested("t1", "c1", "run_command", {"command": "rm -rf build"},
                                 "a destructive command", True, summary="rm -rf build",
                                 grant="`rm …`")

    class Host(App):
        def on_mount(self) -> None:
            self.push_screen(ApprovalScreen(event), decided.append)  # type: ignore[arg-type]

    async with Host().run_test(size=(80, 24)) as pilot:
        await pilot.pause(0.1)
        assert not pilot.app.screen.query_one("#session", Button).display
        await pilot.press("a")  # not offered: ignored
        await pilot.pause(0.05)
        assert decided == []
        await pilot.press("y")
        await pilot.pause(0.05)
        assert decided == [("once", "")]


async def test_resume_shows_the_conversation_and_its_figures(repo: Path) -> None:
    from realcost_agent.agent.journal import load_session

    first, _ = make_app(repo, [[text("The **first** answer."), usage(1000, 50)]])
    async with first.run_test(size=(100, 32)) as pilot:
        await ready(pilot)
        await type_and_send(pilot, "an earlier question")
        await answered(pilot)
        await type_and_send(pilot, "/quit")
        await wait_for(pilot, lambda: not first.is_running, what="exit")
    resumed = load_session(repo, None, env={"AGENT_DATA_HOME": str(repo.parent / "data")})
    app, provider = make_app(repo, [[text("continued")]], resume=resumed)
    async with app.run_test(size=(100, 32)) as pilot:
        await ready(pilot)
        await pilot.pause(0.1)
        shown = screen_text(app)
        assert "an earlier question" in shown and "The first answer." in shown
        assert "resumed session" in shown
        assert app.stats.input_tokens == 1000 and 1 in app.stats.tasks
        await type_and_send(pilot, "and now?")
        await answered(pilot)
        contents = [m.get("content") for m in provider.calls[0].messages]
        assert "The **first** answer." in contents  # the model sees the earlier conversation


async def test_status_bar_shows_the_routed_model_of_the_running_task(repo: Path) -> None:
    """With `auto`, the header names the model the task was routed to, not the session's first
    tier; and it follows the task while it runs (issue 11: it said 120b while 20b ran)."""
    app, provider = make_app(repo, [[text("fixed the typo")]], model="auto")
    async with app.run_test(size=(100, 32)) as pilot:
        await ready(pilot)
        await pilot.pause(0.1)
        assert screen_text(app).splitlines()[-1].lstrip().startswith("auto")  # nothing routed yet
        await type_and_send(pilot, "fix the typo in calc.py")
        await answered(pilot)
        ran = provider.calls[0].model.label
        assert ran == "gpt-oss-20b"  # a short typo task routes to the light tier
        assert app.model == ran
        assert screen_text(app).splitlines()[-1].lstrip().startswith(ran)


async def test_the_status_bar_learns_the_sandbox_from_the_core(repo: Path) -> None:
    """SessionStarted says whether commands are sandboxed: the app asks the session nothing."""
    app, _ = make_app(repo, [], sandbox="off")
    async with app.run_test(size=(120, 32)) as pilot:
        await ready(pilot)
        await wait_for(pilot, lambda: app.status_bar.unsandboxed, what="unsandboxed mark")
        assert "unsandboxed" in app.status_bar.line(120).plain
