"""Plan mode and hooks in the TUI (Textual Pilot over a real Session, scripted model): /plan opens
the plan dialog, approve / edit / reject, the plan panel follows update_plan; hook runs show."""
from __future__ import annotations

import sys

from pilot_helpers import make_app, make_repo, ready, type_and_send, wait_for

from realcost_agent.agent.hooks import parse_hooks
from realcost_agent.providers.scripted import text, tool_call
from realcost_agent.tui.screens.plan import PlanScreen

PLAN = "Plan:\n- [ ] Read calc.py\n- [ ] Fix add()\n"


def screen_text(app) -> str:
    return "\n".join(str(w.render()) for w in app.query(".notice"))


async def test_plan_approve_then_the_panel_tracks_update_plan(tmp_path):
    root = make_repo(tmp_path)
    app, provider = make_app(root, [
        [text(PLAN)],
        [tool_call("update_plan", {"plan": [{"step": "Read calc.py", "status": "completed"},
                                            {"step": "Fix add()", "status": "in_progress"}]})],
        [tool_call("edit", {"path": "calc.py", "old_string": "a - b", "new_string": "a + b"})],
        [text("Fixed.")],
    ], sandbox="off", checkpoints=False, ledger=False, repo_map_tokens=0)
    async with app.run_test(size=(100, 40)) as pilot:
        await ready(pilot)
        await type_and_send(pilot, "/plan fix add")
        await wait_for(pilot, lambda: isinstance(app.screen, PlanScreen), what="the plan dialog")
        assert app.screen.steps == ("Read calc.py", "Fix add()")
        assert not {"edit", "write_file", "run_command"} & {t["function"]["name"] for t in provider.calls[0].tools}
        await pilot.press("a")
        await wait_for(pilot, lambda: "◐ Fix add()" in app.plan_panel.plain, what="the panel update")
        assert app.plan_panel.has_class("-shown") and "☑ Read calc.py" in app.plan_panel.plain
        await wait_for(pilot, lambda: len(provider.calls) == 4 and not app.turn_running, what="the fix")
        assert (root / "calc.py").read_text().endswith("a + b\n")
        assert "plan approved" in screen_text(app)
        await type_and_send(pilot, "/done")
        await wait_for(pilot, lambda: not app.plan_panel.has_class("-shown"), what="panel cleared")


async def test_plan_edit_and_reject(tmp_path):
    root = make_repo(tmp_path)
    app, provider = make_app(root, [[text(PLAN)], [text("ok")], [text(PLAN)]],
                             sandbox="off", checkpoints=False, ledger=False, repo_map_tokens=0)
    async with app.run_test(size=(100, 40)) as pilot:
        await ready(pilot)
        await type_and_send(pilot, "/plan fix add")
        await wait_for(pilot, lambda: isinstance(app.screen, PlanScreen), what="the plan dialog")
        await pilot.press("e")
        area = app.screen.query_one("#plan-text")
        area.text = "- [ ] Only fix add()\n"
        await pilot.press("escape")  # out of the text, back to the buttons
        assert isinstance(app.screen, PlanScreen)
        await pilot.press("a")
        await wait_for(pilot, lambda: len(provider.calls) == 2 and not app.turn_running, what="run")
        prompt = provider.calls[1].messages[-1]["content"]
        assert "after editing it" in prompt and "Only fix add()" in prompt and "Read calc.py" not in prompt
        await type_and_send(pilot, "/plan again")
        await wait_for(pilot, lambda: isinstance(app.screen, PlanScreen), what="the second dialog")
        await pilot.press("r")
        await wait_for(pilot, lambda: "plan rejected" in screen_text(app), what="the rejection")
        assert not app.plan_panel.has_class("-shown") and len(provider.calls) == 3


async def test_hook_runs_show_in_the_conversation(tmp_path):
    root = make_repo(tmp_path)
    (root / "guard.py").write_text("import sys\nprint('not today', file=sys.stderr)\nsys.exit(2)\n")
    hooks = parse_hooks({"PreToolUse": [{"matcher": "Bash", "command": f"{sys.executable} guard.py"}]}, "t")
    app, _ = make_app(root, [[tool_call("run_command", {"command": "ls"})], [text("ok")]],
                      sandbox="off", checkpoints=False, ledger=False, hooks=hooks)
    async with app.run_test(size=(100, 40)) as pilot:
        await ready(pilot)
        await type_and_send(pilot, "list")
        await wait_for(pilot, lambda: "hook PreToolUse run_command" in screen_text(app), what="hook line")
        assert "→ block: not today" in screen_text(app)
