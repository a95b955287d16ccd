"""Cost lines end to end (the real binary, the fake server): local compute priced by wall time
under [prices.local], the cache a mid-task model switch throws away, and the budget hand-over."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from agentproc import make_repo, query, run_agent
from fakeserver import FakeToolCall, FakeTurn

FAILING = {"calc.py": "def add(a, b):\n    return a - b\n",
           "t.py": "from calc import add\nassert add(2, 3) == 5\n"}
FIX = FakeToolCall("edit", {"path": "calc.py", "old_string": "return a - b",
                            "new_string": "return a + b"})


def project(tmp_path: Path, config: str) -> Path:
    (tmp_path / "cfg").mkdir()
    (tmp_path / "cfg" / "config.toml").write_text('sandbox = "off"\ncheckpoints = false\n' + config)
    return make_repo(tmp_path / "proj", FAILING)


def events(stdout: str) -> list[dict]:
    return [json.loads(line) for line in stdout.splitlines() if line.startswith("{")]


def test_local_calls_are_priced_by_wall_time_and_shown_as_local(tmp_path: Path, fake_server) -> None:
    root = project(tmp_path, "[prices.local]\nper_hour = 7.2\n")
    fake_server.add(FakeTurn(content="Nothing to change.", chunk_delay=0.01))
    proc = run_agent(root, "-p", "say hi", "-m", "gpt-oss-20b", "--api-base", fake_server.url)
    assert proc.returncode == 0, proc.stderr
    (call,) = query(root, "SELECT cost, duration_ms, local FROM calls")
    assert call["local"] == 1 and call["duration_ms"] > 0
    assert call["cost"] == call["duration_ms"] / 3_600_000 * 7.2  # exact: one formula, one figure
    report = run_agent(root, "report")
    assert report.returncode == 0 and "(local)" in report.stdout and "$0 (local)" not in report.stdout
    # Without [prices.local] the same call is free and says so.
    (tmp_path / "cfg" / "config.toml").write_text('sandbox = "off"\ncheckpoints = false\n')
    fake_server.add(FakeTurn(content="Hi."))
    proc = run_agent(root, "-p", "say hi", "-m", "gpt-oss-20b", "--api-base", fake_server.url)
    last = query(root, "SELECT cost, local FROM calls ORDER BY id DESC LIMIT 1")[0]
    assert (last["cost"], last["local"]) == (0.0, 1) and "$0 (local)" in proc.stderr


def test_an_escalation_records_the_cache_it_throws_away(tmp_path: Path, fake_server) -> None:
    root = project(tmp_path, 'max_failed_checks = 1\n\n[routing]\nescalate_pinned = true\n\n'
                   '[prices."gpt-oss-20b"]\ninput = 0.05\noutput = 0.2\n\n'
                   '[prices."gpt-oss-120b"]\ninput = 0.15\ncached_input = 0.015\noutput = 0.6\n')
    fake_server.add(FakeTurn(content="Done.", prompt_tokens=1234, completion_tokens=56),
                    model="gpt-oss-20b")
    fake_server.add(FakeTurn(tool_calls=[FIX], prompt_tokens=1400, completion_tokens=40),
                    FakeTurn(content="Fixed.", prompt_tokens=1500, completion_tokens=10),
                    model="gpt-oss-120b")
    proc = run_agent(root, "-p", "fix add() in calc.py", "-m", "gpt-oss-20b", "--check",
                     "python3 t.py", "--api-base", fake_server.url, "--output-format", "jsonl")
    assert proc.returncode == 0, proc.stderr
    evs = events(proc.stdout)
    (lost,) = [e for e in evs if e["type"] == "cache_discarded"]
    expected = 1290 * (0.15 / 1e6 - 0.015 / 1e6)  # (1234 + 56) tokens re-sent uncached
    assert (lost["from_model"], lost["to_model"], lost["prefix_tokens"]) == ("gpt-oss-20b", "gpt-oss-120b", 1290)
    assert lost["cost"] == expected
    (row,) = query(root, "SELECT from_model, to_model, prefix_tokens, cost FROM cache_switches")
    assert tuple(row) == ("gpt-oss-20b", "gpt-oss-120b", 1290, expected)
    report = run_agent(root, "report", "--format", "json")
    data = json.loads(report.stdout)
    assert data["cache_switches"] == [{"task": 1, "from_model": "gpt-oss-20b",
                                       "to_model": "gpt-oss-120b", "prefix_tokens": 1290,
                                       "cost": expected}]
    md = run_agent(root, "report").stdout
    assert "Cache thrown away on model switches" in md and "1,290" in md


@pytest.mark.parametrize("budget,hands_over", [("0.001", True), ("5", False)])
def test_the_budget_hands_over_before_a_follow_up_would_pass_it(tmp_path: Path, fake_server,
                                                                budget: str, hands_over: bool) -> None:
    root = project(tmp_path, '[prices."o4-mini"]\ninput = 1.1\noutput = 4.4\n')
    fake_server.add(FakeTurn(content="Done.", prompt_tokens=1000, completion_tokens=100),
                    model="o4-mini")
    if not hands_over:
        fake_server.add(FakeTurn(tool_calls=[FIX]), FakeTurn(content="Fixed."), model="o4-mini")
    proc = run_agent(root, "-p", "fix add() in calc.py", "-m", "o4-mini", "--check", "python3 t.py",
                     "--budget", budget, "--api-base", fake_server.url, "--output-format", "jsonl")
    evs = events(proc.stdout)
    hand = [e for e in evs if e["type"] == "hand_over"]
    reasons = [e["reason"] for e in evs if e["type"] == "turn_finished"]
    assert fake_server.remaining() == 0
    if hands_over:
        (h,) = hand
        spent = (1000 * 1.1 + 100 * 4.4) / 1e6
        assert h["budget"] == 0.001 and h["spent"] == pytest.approx(spent)
        assert "the budget $0.0010 would be passed" in h["message"]
        assert "Tried: o4-mini" in h["message"] and "Left: the check `python3 t.py` still fails" in h["message"]
        assert reasons == ["hand_over"] and proc.returncode == 1
        assert query(root, "SELECT last_reason FROM tasks")[0][0] == "hand_over"
        # The text front-end says it too.
        fake_server.add(FakeTurn(content="Done.", prompt_tokens=1000, completion_tokens=100),
                        model="o4-mini")
        text = run_agent(root, "-p", "fix add() in calc.py", "-m", "o4-mini", "--check",
                         "python3 t.py", "--budget", budget, "--api-base", fake_server.url)
        assert "hand-over: handing over to you: the budget $0.0010 would be passed" in text.stderr
    else:
        assert not hand and reasons == ["done", "done"] and proc.returncode == 0, proc.stderr
