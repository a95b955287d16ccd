"""Check-driven escalation through the real binary against the fake server: a light task is
routed to gpt-oss-20b, whose scripted answers fail the check twice; the task escalates to
gpt-oss-120b, whose answers pass. The event stream and the ledger show both tiers and costs."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from agentproc import PY, expected_cost, make_repo, query, run_agent
from fakeserver import FakeToolCall, FakeTurn

PRICES = {"gpt-oss-20b": {"input": 0.05, "output": 0.2},
          "gpt-oss-120b": {"input": 0.15, "output": 0.6}}
CONFIG = "".join(f'[prices."{m}"]\ninput = {p["input"]}\noutput = {p["output"]}\n\n'
                 for m, p in PRICES.items())
BUGGY = "def add(a, b):\n    return a - b\n"
TEST = "from calc import add\n\n\ndef test_add():\n    assert add(2, 3) == 5\n"


def patch(old: str, new: str) -> str:
    return (f"*** Begin Patch\n*** Update File: calc.py\n@@ def add(a, b):\n-    {old}\n"
            f"+    {new}\n*** End Patch")


# (model, FakeTurn) in the order the server is asked; usage figures differ per call.
SCRIPT = [
    ("gpt-oss-20b", FakeTurn(content="Done: add() is fixed.", prompt_tokens=900, completion_tokens=30)),
    ("gpt-oss-20b", FakeTurn(tool_calls=[FakeToolCall("apply_patch", {"patch": patch("return a - b", "return a * b")})],
                             prompt_tokens=1100, completion_tokens=80)),
    ("gpt-oss-20b", FakeTurn(content="Fixed it for real.", prompt_tokens=1300, completion_tokens=20)),
    ("gpt-oss-120b", FakeTurn(tool_calls=[FakeToolCall("apply_patch", {"patch": patch("return a * b", "return a + b")})],
                              prompt_tokens=1700, completion_tokens=90)),
    ("gpt-oss-120b", FakeTurn(content="add() now adds; the test passes.", prompt_tokens=1900, completion_tokens=25)),
]


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    # Prices in the user's config: a project's own [prices] need trust (agent/trust.py).
    (tmp_path / "cfg").mkdir()
    (tmp_path / "cfg" / "config.toml").write_text(CONFIG)
    return make_repo(tmp_path / "proj", {"calc.py": BUGGY, "test_calc.py": TEST})


def test_failed_checks_escalate_from_20b_to_120b(repo: Path, fake_server) -> None:
    for model, turn in SCRIPT:
        fake_server.add(turn, model=model)
    check = f"{PY} -m pytest -q -p no:cacheprovider test_calc.py"
    proc = run_agent(repo, "-p", "add() in calc.py subtracts; make test_calc.py pass",
                     "--api-base", fake_server.url, "--check", check, "--output-format", "jsonl")
    assert proc.returncode == 0, proc.stderr
    assert fake_server.remaining() == 0
    assert [b["model"] for b in fake_server.chat_bodies] == [m for m, _ in SCRIPT]
    assert (repo / "calc.py").read_text() == "def add(a, b):\n    return a + b\n"

    events = [json.loads(line) for line in proc.stdout.splitlines()]
    routed = [e for e in events if e["type"] == "model_routed"]
    assert [(e["model"], e["escalated"], e["pinned"]) for e in routed] == [
        ("gpt-oss-20b", False, False), ("gpt-oss-120b", True, False)]
    assert "light tier" in routed[0]["reason"]
    assert routed[1]["reason"] == "escalated: 2 failed checks on gpt-oss-20b"
    checks = [e for e in events if e["type"] == "check_finished"]
    assert [(c["passed"], c["model"], c["attempt"]) for c in checks] == [
        (False, "gpt-oss-20b", 1), (False, "gpt-oss-20b", 2), (True, "gpt-oss-120b", 3)]
    assert "assert 6 == 5" in checks[1]["output_tail"]  # 2 * 3: the 20b's broken "fix"
    turns = [e for e in events if e["type"] == "turn_started"]
    assert [(t["model"], t["origin"], t["followup"]) for t in turns] == [
        ("gpt-oss-20b", "user", False), ("gpt-oss-20b", "check", True),
        ("gpt-oss-120b", "check", True)]
    # The automatic follow-up carries the check's failure output to the model.
    sent = fake_server.chat_bodies[1]["messages"][-1]["content"]
    assert "failed (exit code 1)" in sent and "assert -1 == 5" in sent
    assert [e["continues"] for e in events if e["type"] == "turn_finished"] == [True, True, False]
    assert events[-1]["type"] == "task_updated" and events[-1]["followups"] == 2

    (task,) = query(repo, "SELECT * FROM tasks")
    assert (task["model"], task["final_model"], task["escalations"]) == ("gpt-oss-20b", "gpt-oss-120b", 1)
    assert (task["prompts"], task["followups"], task["check_passed"], task["status"]) == (3, 2, 1, "done")
    assert "light tier" in task["route_reason"] and task["pinned"] == 0
    assert [r["origin"] for r in query(repo, "SELECT origin FROM prompts ORDER BY id")] == [
        "user", "check", "check"]
    assert [(r["model"], r["passed"]) for r in query(repo, "SELECT * FROM checks ORDER BY id")] == [
        ("gpt-oss-20b", 0), ("gpt-oss-20b", 0), ("gpt-oss-120b", 1)]

    # Cost per tier: the ledger's calls, and the report's tier table, equal tokens x prices.
    want: dict[str, float] = {}
    for model, turn in SCRIPT:
        want[model] = want.get(model, 0.0) + expected_cost(PRICES[model], turn.prompt_tokens,
                                                           turn.completion_tokens)
    got = {r["model"]: r["cost"] for r in query(
        repo, "SELECT model, SUM(cost) AS cost FROM calls GROUP BY model")}
    assert got == pytest.approx(want, rel=1e-12)

    report = json.loads(run_agent(repo, "report", "--format", "json").stdout)
    tiers = report["tiers"]
    assert [(t["model"], t["requests"], t["checks"], t["checks_passed"]) for t in tiers] == [
        ("gpt-oss-20b", 3, 2, 0), ("gpt-oss-120b", 2, 1, 1)]
    assert [t["api_cost"] for t in tiers] == pytest.approx([want["gpt-oss-20b"], want["gpt-oss-120b"]])
    assert all(t["model_ms"] > 0 for t in tiers)
    (group,) = report["groups"]
    assert group["key"] == "gpt-oss-20b" and group["followups"] == 2
    assert group["single_prompt_success"]["count"] == 0
    md = run_agent(repo, "report", "--format", "md").stdout
    assert "## Cost and time per tier" in md and "| task 1 | gpt-oss-120b | 2 |" in md


def test_a_pinned_model_is_not_escalated_and_a_failing_check_fails_the_run(repo: Path, fake_server) -> None:
    fake_server.add(FakeTurn(content="done"), FakeTurn(content="done again"),
                    FakeTurn(content="still done"), model="gpt-oss-20b")
    proc = run_agent(repo, "-p", "fix calc.py", "--model", "gpt-oss-20b", "--api-base",
                     fake_server.url, "--check", "exit 3", "--output-format", "json",
                     AGENT_MAX_AUTO_FOLLOWUPS="2")
    assert proc.returncode == 1, proc.stderr
    result = json.loads(proc.stdout)
    assert result["check_passed"] is False and result["model"] == "gpt-oss-20b"
    assert {b["model"] for b in fake_server.chat_bodies} == {"gpt-oss-20b"}
    assert len(fake_server.chat_bodies) == 3  # the first answer + 2 automatic follow-ups
    (task,) = query(repo, "SELECT * FROM tasks")
    assert (task["escalations"], task["pinned"], task["check_passed"], task["followups"]) == (0, 1, 0, 2)
    assert task["route_reason"] == "pinned for the session"
