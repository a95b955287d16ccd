"""The session's per-task model choice, pins, checks and escalation, with a scripted provider;
the check runner and the AGENTS.md check syntax."""
from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path

import pytest

from realcost_agent.agent import events as ev
from realcost_agent.agent.checks import parse_check_section, run_check
from realcost_agent.agent.config import ConfigError, Settings
from realcost_agent.agent.ops import EndTask, Interrupt, SetCheck, SwitchModel, UserInput
from realcost_agent.agent.session import Session
from realcost_agent.providers.scripted import ScriptedProvider, text, usage

ENV = {"PATH": os.environ["PATH"], "OPENROUTER_API_KEY": "sk-or-test-1234567890"}


def session(root: Path, turns, **settings) -> tuple[Session, ScriptedProvider]:
    provider = ScriptedProvider(turns)
    env = {**ENV, "HOME": str(root), "AGENT_DATA_HOME": str(root.parent / "data")}
    s = Session(Settings(repo_map_tokens=0, **settings), root, env=env,
                provider_factory=lambda m: provider, output_dir=root.parent / "out")
    return s, provider


async def until_final(s: Session, timeout: float = 20) -> list[ev.Event]:
    seen: list[ev.Event] = []

    async def collect() -> None:
        while (e := await s.next_event()) is not None:
            seen.append(e)
            if isinstance(e, ev.TurnFinished) and not e.continues:
                return

    await asyncio.wait_for(collect(), timeout)
    return seen


def of(events, cls):
    return [e for e in events if isinstance(e, cls)]


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    (root / "calc.py").write_text("x = 1\n")
    return root


async def test_model_routed_comes_before_the_tasks_first_record_and_names_the_model(repo):
    s, provider = session(repo, [[text("ok"), usage(5, 1)]])
    await s.start()
    s.submit(UserInput("fix the typo in calc.py"))
    events = await until_final(s)
    await s.close()
    kinds = [type(e) for e in events]
    assert kinds.index(ev.ModelRouted) < kinds.index(ev.TaskUpdated) < kinds.index(ev.TurnStarted)
    routed = of(events, ev.ModelRouted)[0]
    assert (routed.model, routed.pinned) == ("gpt-oss-20b", False) and "typo" in routed.reason
    assert of(events, ev.TurnStarted)[0].model == "gpt-oss-20b"
    assert provider.calls[0].model.label == "gpt-oss-20b"


async def test_session_starts_on_the_large_tier_and_a_pin_wins(repo):
    s, _ = session(repo, [])
    assert s.model.label == "gpt-oss-120b"  # auto: shown before any task is routed
    pinned, provider = session(repo, [[text("ok")]], model="o4-mini")
    await pinned.start()
    pinned.submit(UserInput("fix the typo"))
    events = await until_final(pinned)
    await pinned.close()
    routed = of(events, ev.ModelRouted)[0]
    assert (routed.model, routed.pinned, routed.reason) == ("o4-mini", True, "pinned for the session")


async def test_a_task_pin_lasts_one_task_then_routing_resumes(repo):
    s, provider = session(repo, [[text("a")], [text("b")], [text("c")]])
    await s.start()
    s.submit(SwitchModel("o4-mini", scope="task"))  # no active task: applies to the next one
    s.submit(UserInput("fix the typo"))
    first = await until_final(s)
    s.submit(UserInput("and the other typo"))  # a follow-up: same task, same pin
    await until_final(s)
    s.submit(EndTask())
    s.submit(UserInput("fix another typo"))
    second = await until_final(s)
    await s.close()
    assert [c.model.label for c in provider.calls] == ["o4-mini", "o4-mini", "gpt-oss-20b"]
    assert of(first, ev.ModelRouted)[0].reason == "pinned for this task"
    assert of(second, ev.ModelRouted)[0].pinned is False


async def test_model_auto_unpins_the_session(repo):
    s, provider = session(repo, [[text("a")], [text("b")]], model="o4-mini")
    await s.start()
    s.submit(UserInput("fix the typo"))
    await until_final(s)
    s.submit(EndTask())
    s.submit(SwitchModel("auto"))
    s.submit(UserInput("fix the typo again"))
    await until_final(s)
    await s.close()
    assert [c.model.label for c in provider.calls] == ["o4-mini", "gpt-oss-20b"]


async def test_failed_checks_send_followups_then_escalate(repo):
    # Three answers that never fix anything: 20b twice (2 failed checks), then 120b.
    s, provider = session(repo, [[text("done")], [text("done")], [text("done")]],
                          check="exit 1", max_auto_followups=2)
    await s.start()
    s.submit(UserInput("fix the typo"))
    events = await until_final(s)
    await s.close()
    assert [c.model.label for c in provider.calls] == ["gpt-oss-20b", "gpt-oss-20b", "gpt-oss-120b"]
    assert [e.passed for e in of(events, ev.CheckFinished)] == [False, False, False]
    assert [(e.model, e.escalated) for e in of(events, ev.ModelRouted)] == [
        ("gpt-oss-20b", False), ("gpt-oss-120b", True)]
    assert [e.origin for e in of(events, ev.TurnStarted)] == ["user", "check", "check"]
    assert of(events, ev.TaskUpdated)[-1].followups == 2  # automatic follow-ups count
    assert "The check `exit 1` failed (exit code 1)" in provider.calls[1].messages[-1]["content"]
    assert "escalated to gpt-oss-120b" in provider.calls[2].messages[-1]["content"]


async def test_a_model_switch_mid_task_records_the_cache_it_throws_away(repo):
    # route (issue 16): /model in the middle of a task sends the conversation uncached.
    prices = {"o4-mini": {"input": 1.1, "cached_input": 0.275, "output": 4.4}}
    s, provider = session(repo, [[text("a"), usage(3000, 200)], [text("b"), usage(3300, 10)]],
                          prices=prices)
    await s.start()
    s.submit(UserInput("fix the typo"))
    await until_final(s)
    s.submit(SwitchModel("o4-mini", scope="task"))
    s.submit(UserInput("and the other one"))
    events = await until_final(s)
    await s.close()
    (lost,) = of(events, ev.CacheDiscarded)
    assert (lost.from_model, lost.to_model, lost.prefix_tokens) == ("gpt-oss-20b", "o4-mini", 3200)
    assert lost.cost == 3200 * (1.1 / 1e6 - 0.275 / 1e6)
    assert [c.model.label for c in provider.calls] == ["gpt-oss-20b", "o4-mini"]


def fill_ledger(path: Path) -> None:
    """Finished bugfix tasks with a check: 20b cheap but 1 of 4 first-try with 10 minutes of
    follow-ups on each failure; o4-mini dearer and always first-try."""
    from realcost_agent.agent.ledger import Ledger

    lg = Ledger(path)
    for n, (model, followups, minutes, api) in enumerate(
            [("gpt-oss-20b", 0, 0, 0.001)] + [("gpt-oss-20b", 2, 10, 0.001)] * 3
            + [("o4-mini", 0, 0, 0.05)] * 4):
        lg.add_session(f"s{n}", project="/elsewhere", git_commit=None, model=model, backend="x",
                       version="0", hourly_rate=35.0, interactive=False)
        tid = lg.add_task(f"s{n}", 1, project="/elsewhere", git_commit=None, model=model,
                          backend="x", hourly_rate=35.0)
        lg.set_task_features(tid, kind="bugfix", has_check=True, size_class="small", named_files=1)
        lg.set_check_passed(tid, followups == 0)
        lg.set_task_api_cost(tid, api)
        lg.update_task(tid, status="done", prompts=followups + 1, followups=followups,
                       agent_ms=1.0, debug_ms=minutes * 60_000)
    lg.close()


@pytest.mark.parametrize("rate,expected", [(35.0, "o4-mini"), (0.001, "gpt-oss-20b")])
async def test_auto_routes_to_the_cheapest_tier_in_real_total_from_the_ledger(repo, rate, expected):
    # route (issue 16): learned routing, in process; the numbers ride on model_routed.
    fill_ledger(repo.parent / "data" / "ledger.sqlite3")
    s, provider = session(repo, [[text("ok")]], hourly_rate=rate, check="true")
    await s.start()
    s.submit(UserInput("fix the wrong total in calc.py"))
    events = await until_final(s)
    await s.close()
    routed = of(events, ev.ModelRouted)[0]
    assert (routed.model, routed.basis, routed.hourly_rate) == (expected, "ledger", rate)
    assert routed.features["kind"] == "bugfix" and routed.features["named_files"] == 1
    assert {e["model"] for e in routed.estimates} == {"gpt-oss-20b", "o4-mini"}
    assert routed.reason.startswith(f"learned (bugfix, with check, small context, at ${rate:g}/h)")
    assert provider.calls[0].model.label == expected


async def test_set_check_and_a_passing_check_end_the_turns(repo):
    s, provider = session(repo, [[text("done")]])
    await s.start()
    s.submit(SetCheck("test -f calc.py"))
    s.submit(UserInput("fix the typo"))
    events = await until_final(s)
    await s.close()
    (check,) = of(events, ev.CheckFinished)
    assert check.passed and check.exit_code == 0 and check.command == "test -f calc.py"
    assert len(provider.calls) == 1


async def test_the_check_comes_from_agents_md_and_config_can_turn_it_off(repo):
    from realcost_agent.agent.config import load_settings

    (repo / "AGENTS.md").write_text("# Rules\nBe brief.\n\n## Check\n\n```sh\ntest -f nope.txt\n```\n")
    env = {"AGENT_CONFIG_HOME": str(repo.parent / "cfg")}
    # The AGENTS.md check needs trust (agent/trust.py): it arrives through settings.check.
    trusted = load_settings(repo, env=env, trust=True)
    assert trusted.check == "test -f nope.txt" and trusted.sources["check"] == "AGENTS.md"
    s, _ = session(repo, [], check=trusted.check)
    assert s.flow.check == "test -f nope.txt"
    assert load_settings(repo, env=env).check is None  # not trusted: no check
    bare, _ = session(repo, [])
    assert bare.flow.check is None  # the session never reads AGENTS.md's check itself
    off, _ = session(repo, [], check="")
    assert off.flow.check is None


async def test_an_interrupt_during_the_check_kills_it(repo):
    s, _ = session(repo, [[text("done")]], check="sleep 30")
    await s.start()
    s.submit(UserInput("fix the typo"))
    started = time.monotonic()
    seen = []
    while True:
        e = await asyncio.wait_for(s.next_event(), 20)
        seen.append(e)
        if isinstance(e, ev.CheckStarted):
            await asyncio.sleep(0.2)
            s.submit(Interrupt())
        if isinstance(e, ev.TurnFinished):
            break
    await s.close()
    assert seen[-1].reason == "interrupted" and not seen[-1].continues
    assert not of(seen, ev.CheckFinished)
    assert time.monotonic() - started < 20  # not the check's 30 s
    assert not s.process_groups or all(not _alive(pg) for pg in s.process_groups)


def _alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def test_a_bad_routing_table_is_a_config_error(repo):
    with pytest.raises(ConfigError, match="light_max_files"):
        session(repo, [], routing={"light_max_files": "two"})


@pytest.mark.parametrize("doc,expected", [
    ("## Check\n```\nnpm test\n```", "npm test"),
    ("### check:\n\nRun this:\n\n~~~bash\nmake lint\nmake test\n~~~\n", "make lint\nmake test"),
    ("## Checklist\n```\nno\n```", None),
    ("## Check\nno block here\n## Next\n```\nnot this\n```", None),
    ("intro\n```\nnot a check\n```", None),
])
def test_agents_md_check_syntax(doc, expected):
    assert parse_check_section(doc) == expected


async def test_run_check_reports_failure_output_and_kills_on_timeout(tmp_path):
    failed = await run_check("echo out; echo err >&2; exit 4", tmp_path, ENV, timeout=10)
    assert (failed.passed, failed.exit_code) == (False, 4)
    assert "out" in failed.output and "err" in failed.output
    slow = await run_check("sleep 30 & sleep 30; echo never", tmp_path, ENV, timeout=0.5)
    assert slow.timed_out and slow.exit_code is None and not slow.passed
    assert "timed out after 0.5s" in slow.output and "never" not in slow.output
    long = await run_check("seq 1 200000", tmp_path, ENV, timeout=10)
    assert long.passed and long.output.endswith("200000\n") and len(long.output) < 7_000
