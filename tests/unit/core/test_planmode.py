"""Plan mode (agent/planmode.py): the planning turn sees read-only tools only and runs no check;
the plan comes back as PlanProposed; approval carries it out with update_plan (PlanUpdated)."""
from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest

from realcost_agent.agent import events as ev
from realcost_agent.agent.config import Settings
from realcost_agent.agent.ops import PlanDecision, PlanInput, Shutdown
from realcost_agent.agent.planmode import parse_checklist
from realcost_agent.agent.session import Session
from realcost_agent.providers.scripted import ScriptedProvider, text, tool_call

PLAN = "Here is the plan:\n\n- [ ] Read calc.py\n- [ ] Fix add()\n- [x] Run the tests\n"


def env_for(tmp_path: Path) -> dict[str, str]:
    return {"PATH": os.environ["PATH"], "AGENT_DATA_HOME": str(tmp_path / "data"),
            "AGENT_CONFIG_HOME": str(tmp_path / "cfg")}


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    (root / "calc.py").write_text("def add(a, b):\n    return a - b\n")
    return root


def tool_names(call) -> set[str]:
    return {t["function"]["name"] for t in call.tools}


def make(repo: Path, tmp_path: Path, turns: list, **kw) -> tuple[Session, ScriptedProvider]:
    provider = ScriptedProvider(turns)
    settings = Settings(model="gpt-oss-120b", sandbox="off", checkpoints=False, ledger=False,
                        approval="full-auto", repo_map_tokens=0, **kw)
    return Session(settings, repo, env=env_for(tmp_path), provider_factory=lambda m: provider), provider


async def events_until(s: Session, cls: type, seen: list, count: int = 1) -> None:
    async def go() -> None:
        n = 0
        while True:
            e = await s.next_event()
            seen.append(e)
            if isinstance(e, cls) and not getattr(e, "continues", False):
                n += 1
                if n == count:
                    return
    await asyncio.wait_for(go(), 30)


def of(events: list, cls: type) -> list:
    return [e for e in events if isinstance(e, cls)]


@pytest.mark.parametrize("answer,steps", [
    (PLAN, ["Read calc.py", "Fix add()", "Run the tests"]),
    ("1. look\n2) fix\nprose", ["look", "fix"]),
    ("- a\n* b", ["a", "b"]),
    ("I would just fix it.", []),
])
def test_parse_checklist(answer, steps):
    assert parse_checklist(answer) == steps


async def test_plan_then_approve_then_track_with_update_plan(repo, tmp_path):
    s, provider = make(repo, tmp_path, [
        [tool_call("read_file", {"path": "calc.py"})],
        [text(PLAN)],
        [tool_call("update_plan", {"plan": [
            {"step": "Read calc.py", "status": "completed"},
            {"step": "Fix add()", "status": "in_progress"},
            {"step": "Run the tests", "status": "pending"}]})],
        [tool_call("edit", {"path": "calc.py", "old_string": "a - b", "new_string": "a + b"})],
        [text("Fixed.")],
    ], check="false")
    await s.start()
    s.submit(PlanInput("fix add"))
    seen: list = []
    await events_until(s, ev.TurnFinished, seen)
    # Planning: read-only tools only, no update_plan yet, no check after it.
    planning_tools = tool_names(provider.calls[0])
    assert "read_file" in planning_tools and not planning_tools & {"write_file", "edit", "run_command",
                                                                     "apply_patch", "update_plan"}
    assert "Plan mode" in provider.calls[0].messages[-1]["content"]
    assert not of(seen, ev.CheckStarted)
    proposed = of(seen, ev.PlanProposed)[0]
    assert proposed.steps == ("Read calc.py", "Fix add()", "Run the tests")
    assert seen.index(proposed) < seen.index(of(seen, ev.TurnFinished)[0])
    assert "write_file" in s.registry  # the full registry is back

    s.submit(PlanDecision("approve", ("Read calc.py", "Fix add()", "Run the tests")))
    await events_until(s, ev.TurnFinished, seen)
    assert "update_plan" in tool_names(provider.calls[2])
    prompt = provider.calls[2].messages[-1]["content"]
    assert "approved this plan:" in prompt and "- [ ] Fix add()" in prompt
    updates = of(seen, ev.PlanUpdated)
    assert [u.source for u in updates] == ["approved", "update_plan"]
    assert [st["status"] for st in updates[1].steps] == ["completed", "in_progress", "pending"]
    assert (repo / "calc.py").read_text().endswith("a + b\n")
    starts = of(seen, ev.TurnStarted)
    assert starts[1].followup  # the same task
    s.submit(Shutdown())
    await s.close()


async def test_edited_plan_and_rejection(repo, tmp_path):
    s, provider = make(repo, tmp_path, [[text(PLAN)], [text("ok")]])
    await s.start()
    seen: list = []
    s.submit(PlanInput("fix add"))
    await events_until(s, ev.TurnFinished, seen)
    s.submit(PlanDecision("reject", note="too broad"))
    s.submit(PlanDecision("approve", ("Only fix add()",)))  # nothing proposed, but the user's own steps
    await events_until(s, ev.TurnFinished, seen)
    updates = of(seen, ev.PlanUpdated)
    assert updates[0].source == "rejected" and updates[0].steps == ()
    assert updates[1].steps == ({"step": "Only fix add()", "status": "pending"},)
    assert "after editing it" in provider.calls[1].messages[-1]["content"]
    await s.close()


async def test_a_resumed_session_keeps_its_plan_and_update_plan(repo, tmp_path):
    from realcost_agent.agent.journal import load_session

    s, _ = make(repo, tmp_path, [[text(PLAN)], [tool_call("update_plan", {"plan": [
        {"step": "Read calc.py", "status": "completed"}, {"step": "Fix add()", "status": "pending"}]})],
        [text("paused")]])
    await s.start()
    seen: list = []
    s.submit(PlanInput("fix add"))
    await events_until(s, ev.TurnFinished, seen)
    s.submit(PlanDecision("approve"))
    await events_until(s, ev.TurnFinished, seen)
    await s.close()
    resumed = load_session(repo, s.id, env_for(tmp_path))
    s2, _ = make(repo, tmp_path, [])
    s2 = Session(s2.settings, repo, env=env_for(tmp_path), resume=resumed,
                 provider_factory=lambda m: ScriptedProvider([]))
    assert "update_plan" in s2.registry
    assert [st["status"] for st in s2.plan.steps] == ["completed", "pending"]


async def test_update_plan_rejects_two_steps_in_progress(repo, tmp_path):
    s, provider = make(repo, tmp_path, [[text(PLAN)], [tool_call("update_plan", {"plan": [
        {"step": "a", "status": "in_progress"}, {"step": "b", "status": "in_progress"}]})], [text("ok")]])
    await s.start()
    seen: list = []
    s.submit(PlanInput("x"))
    await events_until(s, ev.TurnFinished, seen)
    s.submit(PlanDecision("approve"))
    await events_until(s, ev.TurnFinished, seen)
    finished = [e for e in of(seen, ev.ToolCallFinished) if e.name == "update_plan"][0]
    assert finished.is_error and "at most one step" in finished.output
    assert [u.source for u in of(seen, ev.PlanUpdated)] == ["approved"]
    await s.close()
