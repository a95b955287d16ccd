"""`agent run session.toml` through the real binary against the fake server: two tasks with
follow-ups; the ledger and the report show the follow-ups, checks and models as scripted."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from agentproc import PY, make_repo, query, run_agent
from fakeserver import FakeToolCall, FakeTurn

BUGGY = "def add(a, b):\n    return a - b\n"
TEST = "from calc import add\n\n\ndef test_add():\n    assert add(2, 3) == 5\n"
CHECK = f"{PY} -m pytest -q -p no:cacheprovider test_calc.py"
SESSION = f"""
debug_minutes_per_followup = 1.5

[[task]]
prompt = "make test_calc.py pass"
model = "gpt-oss-20b"
check = "{CHECK}"
followups_when = "check_fails"
followups = ["It still fails: add() must add, not subtract", "Now also simplify it"]
debug_minutes = [3, 2]

[[task]]
prompt = "Document add() in calc.py. Do not break existing behaviour."
check = ""
followups = ["Mention the argument types", "Thanks, that is all"]
"""


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = make_repo(tmp_path / "proj", {"calc.py": BUGGY, "test_calc.py": TEST})
    (tmp_path / "session.toml").write_text(SESSION)
    return root


def test_scripted_session_records_followups_checks_and_models(repo: Path, fake_server) -> None:
    fake_server.add(
        FakeTurn(content="Done.", prompt_tokens=700),  # the check fails: follow-up 1 is sent
        FakeTurn(tool_calls=[FakeToolCall("edit", {"path": "calc.py", "old_string": "a - b",
                                                   "new_string": "a + b"})], prompt_tokens=800),
        FakeTurn(content="Fixed.", prompt_tokens=900),  # passes: follow-up 2 is not sent
        model="gpt-oss-20b")
    fake_server.add(FakeTurn(content="Added a docstring."), FakeTurn(content="Types noted."),
                    FakeTurn(content="You're welcome."), model="o4-mini")
    proc = run_agent(repo, "run", str(repo.parent / "session.toml"), "--api-base", fake_server.url)
    assert proc.returncode == 0, proc.stderr  # no task failed
    assert "2 of 2 task(s) passed" in proc.stderr
    assert fake_server.remaining() == 0
    assert [b["model"] for b in fake_server.chat_bodies] == ["gpt-oss-20b"] * 3 + ["o4-mini"] * 3

    t1, t2 = query(repo, "SELECT * FROM tasks ORDER BY seq")
    assert t1["session_id"] == t2["session_id"]
    assert (t1["model"], t1["pinned"], t1["route_reason"]) == ("gpt-oss-20b", 1, "pinned for this task")
    assert (t1["prompts"], t1["followups"], t1["check_passed"], t1["status"]) == (2, 1, 1, "done")
    assert t1["correction_ms"] == 3 * 60_000  # only the follow-up that was sent
    assert (t2["model"], t2["pinned"]) == ("o4-mini", 0) and "careful tier" in t2["route_reason"]
    assert (t2["prompts"], t2["followups"], t2["check_passed"]) == (3, 2, None)
    assert t2["correction_ms"] == 2 * 1.5 * 60_000
    prompts = [(r["task_id"], r["text"], r["followup"], r["origin"])
               for r in query(repo, "SELECT * FROM prompts ORDER BY id")]
    assert prompts == [
        (t1["id"], "make test_calc.py pass", 0, "user"),
        (t1["id"], "It still fails: add() must add, not subtract", 1, "user"),
        (t2["id"], "Document add() in calc.py. Do not break existing behaviour.", 0, "user"),
        (t2["id"], "Mention the argument types", 1, "user"),
        (t2["id"], "Thanks, that is all", 1, "user"),
    ]
    assert [(r["task_id"], r["passed"]) for r in query(repo, "SELECT * FROM checks ORDER BY id")] == [
        (t1["id"], 0), (t1["id"], 1)]

    report = json.loads(run_agent(repo, "report", "--format", "json").stdout)
    groups = {g["key"]: g for g in report["groups"]}
    assert (groups["gpt-oss-20b"]["followups"], groups["o4-mini"]["followups"]) == (1, 2)
    assert groups["gpt-oss-20b"]["debug"]["minutes"] == pytest.approx(3)
    assert groups["o4-mini"]["debug"]["minutes"] == pytest.approx(3)
    assert groups["gpt-oss-20b"]["requests"] == 3 and groups["o4-mini"]["requests"] == 3
    assert [g["single_prompt_success"]["count"] for g in groups.values()] == [0, 0]
    md = run_agent(repo, "report", "--format", "md").stdout
    assert "| Follow-up prompts | 1 | 2 |" in md or "| Follow-up prompts | 2 | 1 |" in md


def test_a_hard_error_stops_the_script_unless_told_to_keep_going(repo: Path, fake_server) -> None:
    script = repo.parent / "two.toml"
    script.write_text('model = "gpt-oss-120b"\n[[task]]\nprompt = "one"\n[[task]]\nprompt = "two"\n')
    fake_server.add(FakeTurn(status=401, error_message="bad key"), FakeTurn(content="ok"),
                    model="gpt-oss-120b")
    proc = run_agent(repo, "run", str(script), "--api-base", fake_server.url)
    assert proc.returncode == 2, proc.stderr  # two tasks did not pass: one failed, one not run
    assert "stopping after a hard error" in proc.stderr and fake_server.remaining() == 1
    # The flag overrides the file's model: the same script on o4-mini, going on after the error.
    fake_server.add(FakeTurn(status=401, error_message="bad key"), FakeTurn(content="ok"),
                    model="o4-mini")
    proc = run_agent(repo, "run", str(script), "--api-base", fake_server.url, "--keep-going",
                     "--model", "o4-mini")
    assert proc.returncode == 1, proc.stderr  # the first failed, the second passed
    assert "1 of 2 task(s) passed" in proc.stderr
    assert [b["model"] for b in fake_server.chat_bodies] == ["gpt-oss-120b", "o4-mini", "o4-mini"]


def test_a_bad_session_file_is_a_usage_error(repo: Path) -> None:
    bad = repo.parent / "bad.toml"
    bad.write_text('[[task]]\nprompt = "x"\nfollowups_when = "sometimes"\n')
    proc = run_agent(repo, "run", str(bad))
    assert proc.returncode == 64 and "followups_when must be one of" in proc.stderr
    bad.write_text('[[task]]\nprompt = "x"\nmodel = "gpt-oss-12b"\n')  # a typo: refused up front
    proc = run_agent(repo, "run", str(bad), OPENROUTER_API_KEY="sk-or-test-1234567890")
    assert proc.returncode == 64, proc.stderr
    assert "task 1: unknown model 'gpt-oss-12b': did you mean gpt-oss-120b?" in proc.stderr


def test_follow_ups_can_carry_the_failed_checks_output(repo: Path, fake_server) -> None:
    script = repo.parent / "attach.toml"
    script.write_text('attach_check_output = true\nfollowups_when = "check_fails"\n'
                      '[[task]]\nprompt = "go"\nmodel = "gpt-oss-120b"\n'
                      'check = "echo BROKEN-MARKER-42; exit 1"\nfollowups = ["again"]\n')
    fake_server.add(FakeTurn(content="done"), FakeTurn(content="done"), model="gpt-oss-120b")
    proc = run_agent(repo, "run", str(script), "--api-base", fake_server.url)
    assert proc.returncode == 1, proc.stderr  # its check never passes
    sent = fake_server.chat_bodies[1]["messages"][-1]["content"]
    assert sent.startswith("again\n\nThe check `echo BROKEN-MARKER-42; exit 1` fails:")
    assert "BROKEN-MARKER-42" in sent
    (prompt,) = query(repo, "SELECT text FROM prompts WHERE followup = 1")
    assert "BROKEN-MARKER-42" in prompt["text"]
