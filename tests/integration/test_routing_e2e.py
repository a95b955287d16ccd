"""Routing by real cost, end to end: the real binary against the fake server with three scripted
models of different quality (gpt-oss-20b cheap and usually wrong, gpt-oss-120b right after one
follow-up, o4-mini costly and right the first time).

A suite run (`agent compare --suite examples/suite`) fills the ledger; then `agent route` and
`model = auto` pick the tier the ledger says is cheapest in real total, and another tier when
the hourly rate changes; the hand-over stop fires when it should (and not when it should not)."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from agentproc import git, make_repo, query, run_agent
from fakeserver import FakeTurn
from suitefixes import CONFIG, FIXES, MODELS, SUITE, missing_tools, script_suite, tool_for


def turn(content: str = "", p: int = 1000, c: int = 50) -> FakeTurn:
    return FakeTurn(content=content, prompt_tokens=p, completion_tokens=c)



@pytest.fixture
def suite_tasks(tmp_path: Path) -> tuple[Path, list[str]]:
    """The shipped suite, minus the tasks whose toolchain is missing here (said in the skip
    reason when none is left)."""
    missing = missing_tools()
    tasks = sorted(t for t in FIXES if tool_for(t) not in missing)
    if len({t.split("-")[0] for t in tasks}) < 2:
        pytest.skip(f"missing toolchains for the suite: {', '.join(missing)}")
    suite = tmp_path / "suite"
    for t in tasks:
        shutil.copytree(SUITE / t, suite / t)
    (tmp_path / "cfg").mkdir()
    (tmp_path / "cfg" / "config.toml").write_text(CONFIG)
    return suite, tasks


def route(project: Path, text: str, *extra: str) -> dict:
    proc = run_agent(project, "route", text, "--format", "json", "--check", "python3 t.py", *extra)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def route_via(project: Path, url: str, text: str, *extra: str) -> dict:
    proc = run_agent(project, "route", text, "--format", "json", "--check", "python3 t.py",
                     "--api-base", url, *extra)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def events(stdout: str) -> list[dict]:
    return [json.loads(line) for line in stdout.splitlines() if line.startswith("{")]


def test_suite_then_auto_routes_by_real_cost(suite_tasks, fake_server, tmp_path: Path) -> None:
    suite, tasks = suite_tasks
    script_suite(fake_server, tasks)
    work = tmp_path / "work"
    work.mkdir()
    proc = run_agent(work, "compare", "--suite", str(suite), "--models", MODELS,
                     "--max-followups", "1", "--debug-minutes-per-followup", "5",
                     "--api-base", fake_server.url, timeout=900)
    assert proc.returncode == 0, proc.stderr
    assert fake_server.remaining() == 0

    (out,) = (work / ".agent" / "compare").iterdir()
    page = json.loads((out / "suite.json").read_text())
    n = len(tasks)
    agg = page["aggregate"]
    assert agg["o4-mini"]["passed"] == n and agg["o4-mini"]["first_try"] == n
    assert agg["gpt-oss-120b"]["passed"] == n and agg["gpt-oss-120b"]["followups"] == n
    assert agg["gpt-oss-20b"]["passed"] == 1 and agg["gpt-oss-20b"]["followups"] == n - 1
    lo, hi = agg["gpt-oss-20b"]["success_ci95"]
    assert 0 < lo < 1 / n < hi < 1  # Wilson: a real interval around 1 of n
    assert page["ranking"][0] == "o4-mini"  # $0.005 API beats 5 min of follow-up at $35/h
    assert agg["gpt-oss-20b"]["real_total"] == pytest.approx(
        agg["gpt-oss-20b"]["api_cost"] + (n - 1) * 5 / 60 * 35)
    assert [t["task"] for t in page["tasks"]] == tasks
    md = (out / "suite.md").read_text()
    assert "## All tasks" in md and all(f"## {t}" in md for t in tasks)
    assert "<table>" in (out / "suite.html").read_text()
    # Every run is in the ledger with what the router matches by.
    rows = query(work, "SELECT model, kind, has_check, size_class FROM tasks")
    assert len(rows) == 3 * n and {tuple(r)[1:] for r in rows} == {("bugfix", 1, "small")}

    # A new, similar task in another project: the learned router picks o4-mini at $35/h...
    project = make_repo(tmp_path / "proj", {"util.py": "x = 1\n", "t.py": "import util\n"})
    text = "parse() in util.py returns the wrong value; fix it so t.py passes"
    d = route_via(project, fake_server.url, text)
    assert d["basis"] == "ledger" and d["model"] == "o4-mini" and d["tier"] == "careful"
    by = {e["model"]: e for e in d["estimates"]}
    assert by["gpt-oss-20b"]["first_try"] == 1 and by["gpt-oss-20b"]["tasks"] == n
    assert by["o4-mini"]["real_cost"] == pytest.approx(by["o4-mini"]["api_cost"])
    assert by["gpt-oss-20b"]["real_cost"] == pytest.approx(
        by["gpt-oss-20b"]["api_cost"] + (n - 1) / n * 5 / 60 * 35)
    assert f"1 of {n} similar tasks first-try" in d["reason"]
    # ... and the cheap model when developer time is (nearly) free.
    cheap = route_via(project, fake_server.url, text, "--hourly-rate", "0.01")
    assert cheap["model"] == "gpt-oss-20b" and cheap["basis"] == "ledger"
    text_out = run_agent(project, "route", text, "--check", "python3 t.py", "--api-base",
                         fake_server.url)
    assert text_out.returncode == 0 and "model: o4-mini (careful tier) · basis: ledger" in text_out.stdout
    assert f"o4-mini        {n}/{n} first-try" in text_out.stdout
    # Without a usable backend it still says what it would pick, and why it cannot run here.
    keyless = route(project, text)
    assert keyless["model"] == "o4-mini" and "cannot run here: Set OPENROUTER_API_KEY" in keyless["reason"]

    # `model = auto` on a real task starts on o4-mini, and model_routed carries the figures.
    fake_server.add(turn("Nothing to do.", p=500, c=20), model="o4-mini")
    run = run_agent(project, "-p", text, "--check", "python3 t.py", "--api-base", fake_server.url,
                    "--output-format", "jsonl")
    assert run.returncode == 0, run.stderr
    routed = next(e for e in events(run.stdout) if e["type"] == "model_routed")
    assert (routed["model"], routed["basis"]) == ("o4-mini", "ledger")
    assert routed["hourly_rate"] == 35.0 and len(routed["estimates"]) == 3
    assert routed["features"]["kind"] == "bugfix" and routed["features"]["has_check"] is True
    fake_server.add(turn("Nothing to do.", p=500, c=20), model="gpt-oss-20b")
    run = run_agent(project, "-p", text, "--check", "python3 t.py", "--api-base", fake_server.url,
                    "--output-format", "jsonl", AGENT_HOURLY_RATE="0.01")
    routed = next(e for e in events(run.stdout) if e["type"] == "model_routed")
    assert routed["model"] == "gpt-oss-20b" and routed["reason"].startswith("learned")
    report = run_agent(project, "report", "--format", "json", "--project")
    assert report.returncode == 0, report.stderr
    decisions = json.loads(report.stdout)["routing"]
    assert [r["model"] for r in decisions[-2:]] == ["o4-mini", "gpt-oss-20b"]
    assert {r["basis"] for r in decisions[-2:]} == {"ledger"}
    md = run_agent(project, "report", "--project", "--format", "md").stdout
    assert "## Routing decisions" in md
    assert "| ledger | learned (bugfix, with check, small context, at $35/h): o4-mini:" in md

    # Hand-over: the ledger says 20b rarely finishes and each follow-up costs 5 minutes, so once
    # its check fails, handing over is cheaper than another attempt: no follow-up is sent.
    (project / "t.py").write_text("raise SystemExit(1)\n")
    git(project, "commit", "-qam", "failing check")
    fake_server.add(turn("Done.", p=500, c=20), model="gpt-oss-20b")
    run = run_agent(project, "-p", text, "-m", "gpt-oss-20b", "--check", "python3 t.py",
                    "--api-base", fake_server.url, "--output-format", "jsonl")
    evs = events(run.stdout)
    (hand,) = [e for e in evs if e["type"] == "hand_over"]
    assert "handing over is cheaper" in hand["message"] and "Tried: gpt-oss-20b" in hand["message"]
    assert hand["attempt_cost"] > hand["by_hand_cost"] and hand["left"].startswith("the check")
    finished = [e for e in evs if e["type"] == "turn_finished"]
    assert [e["reason"] for e in finished] == ["hand_over"] and run.returncode == 1
    assert fake_server.remaining() == 0
    # 120b usually finishes after a follow-up: one more attempt is cheaper, so it goes on.
    fake_server.add(turn("Done.", p=500, c=20), turn("Still done.", p=500, c=20), model="gpt-oss-120b")
    run = run_agent(project, "-p", text, "-m", "gpt-oss-120b", "--check", "python3 t.py",
                    "--api-base", fake_server.url, "--output-format", "jsonl")
    evs = events(run.stdout)
    assert not [e for e in evs if e["type"] == "hand_over"]
    assert len([e for e in evs if e["type"] == "turn_started"]) >= 2
