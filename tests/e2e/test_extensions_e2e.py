"""End to end with the installed `agent` binary and the fake model server: skills in the system
prompt and the `skill` tool, `agent -p "/name args"`, and `agent export` of the run."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from agentproc import make_repo, query, run_agent
from fakeserver import FakeToolCall, FakeTurn

PATCH = (
    "*** Begin Patch\n*** Update File: calc.py\n@@ def add(a, b):\n-    return a - b\n"
    "+    return a + b\n*** End Patch"
)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = make_repo(tmp_path / "proj", {"calc.py": "def add(a, b):\n    return a - b\n"})
    home = tmp_path / "home"
    skill = home / ".agents" / "skills" / "calc-fixer"
    (skill / "references").mkdir(parents=True)
    (skill / "SKILL.md").write_text(
        "---\nname: calc-fixer\ndescription: Fix arithmetic bugs in calc.py. Use when sums are wrong.\n"
        "---\nAlways run the tests after a fix. See references/style.md.\n")
    (skill / "references" / "style.md").write_text("Keep one-line functions.\n")
    commands = home / ".agents" / "commands"
    commands.mkdir(parents=True)
    (commands / "fix.md").write_text(
        "---\ndescription: Fix a function\nargument-hint: <function> <file>\n---\n"
        "Fix the function $1 in $2; details: $ARGUMENTS\n")
    return root


def agent(root: Path, server, *args: str, **env: str):
    return run_agent(root, *args, "--api-base", server.url, "--model", "gpt-oss-120b",
                     HOME=str(root.parent / "home"), **env)


def test_skill_listed_and_loaded_on_demand(project: Path, fake_server) -> None:
    fake_server.add(FakeTurn(tool_calls=[FakeToolCall("skill", {"name": "calc-fixer"}, id="c1")]))
    fake_server.add(FakeTurn(tool_calls=[FakeToolCall(
        "skill", {"name": "calc-fixer", "file": "references/style.md"}, id="c2")]))
    fake_server.add(FakeTurn(tool_calls=[FakeToolCall(
        "skill", {"name": "calc-fixer", "file": "../../../.ssh/id_rsa"}, id="c3")]))
    fake_server.add(FakeTurn(content="Done."))
    proc = agent(project, fake_server, "-p", "the sum is wrong", "--output-format", "jsonl")
    assert proc.returncode == 0, proc.stderr
    first = fake_server.chat_bodies[0]
    system = first["messages"][0]["content"]
    assert "- calc-fixer: Fix arithmetic bugs in calc.py. Use when sums are wrong." in system
    assert "Always run the tests" not in system  # the body waits for the tool call
    assert "skill" in {t["function"]["name"] for t in first["tools"]}
    results = [m for m in fake_server.chat_bodies[3]["messages"] if m["role"] == "tool"]
    assert "Always run the tests after a fix." in results[0]["content"]
    assert "- references/style.md" in results[0]["content"]
    assert results[1]["content"] == "Keep one-line functions.\n"
    assert "outside" in results[2]["content"] or "no `..`" in results[2]["content"]


def test_no_skills_no_skill_tool(tmp_path: Path, fake_server) -> None:
    root = make_repo(tmp_path / "proj", {"a.py": "x = 1\n"})
    (tmp_path / "home").mkdir()
    fake_server.add(FakeTurn(content="Hi."))
    proc = agent(root, fake_server, "-p", "hello")
    assert proc.returncode == 0, proc.stderr
    body = fake_server.chat_bodies[0]
    assert "skill" not in {t["function"]["name"] for t in body["tools"]}
    assert "Skills (" not in body["messages"][0]["content"]


def test_custom_command_headless(project: Path, fake_server) -> None:
    fake_server.add(FakeTurn(content="Fixed."))
    proc = agent(project, fake_server, "-p", "/fix add calc.py", "--output-format", "jsonl")
    assert proc.returncode == 0, proc.stderr
    user = fake_server.chat_bodies[0]["messages"][1]["content"]
    assert user.startswith("Fix the function add in calc.py; details: add calc.py")
    unknown = agent(project, fake_server, "-p", "/fxi add")
    assert unknown.returncode == 2
    assert "unknown command /fxi (custom commands: /fix)" in unknown.stderr
    assert len(fake_server.chat_bodies) == 1  # a typo never reached the model


def test_export_md_and_json_from_journal_and_ledger(project: Path, fake_server, tmp_path: Path) -> None:
    fake_server.add(FakeTurn(tool_calls=[FakeToolCall("apply_patch", {"patch": PATCH}, id="cp")],
                             prompt_tokens=1200, completion_tokens=40))
    fake_server.add(FakeTurn(tool_calls=[FakeToolCall(
        "run_command", {"command": f"{sys.executable} -c \"print('ran ok')\""}, id="cr")],
        prompt_tokens=1300, completion_tokens=30))
    fake_server.add(FakeTurn(content="Fixed `add`.", prompt_tokens=1400, completion_tokens=10))
    proc = agent(project, fake_server, "-p", "fix add", "--output-format", "json")
    assert proc.returncode == 0, proc.stderr
    session_id = query(project, "SELECT id FROM sessions")[0]["id"]

    out = tmp_path / "session.json"
    exported = run_agent(project, "export", "--format", "json", "-o", str(out))
    assert exported.returncode == 0, exported.stderr
    doc = json.loads(out.read_text())
    assert doc["session"]["id"] == session_id and doc["figures_source"] == "ledger"
    (turn,) = doc["turns"]
    assert turn["prompt"] == "fix add" and turn["finished"]["files_changed"] == ["calc.py"]
    calls = [i for i in turn["items"] if i["type"] == "tool_call"]
    assert [c["name"] for c in calls] == ["apply_patch", "run_command"]
    assert "+    return a + b" in calls[0]["diff"] and calls[0]["arguments"] == {"patch": PATCH}
    assert "ran ok" in calls[1]["output"]
    # Per-call figures are the ledger's rows, the ones `agent report` sums.
    rows = query(project, "SELECT input_tokens, output_tokens, cost, duration_ms FROM calls ORDER BY id")
    assert [c["input_tokens"] for c in turn["calls"]] == [r["input_tokens"] for r in rows] == [1200, 1300, 1400]
    assert [c["duration_ms"] for c in turn["calls"]] == [r["duration_ms"] for r in rows]
    assert doc["totals"]["requests"] == 3

    listed = run_agent(project, "export", "--list")
    assert listed.returncode == 0 and listed.stdout.startswith(session_id) and "fix add" in listed.stdout
    md = run_agent(project, "export", session_id)
    assert md.returncode == 0, md.stderr
    assert f"# Agent session {session_id}" in md.stdout
    assert "```diff" in md.stdout and "+    return a + b" in md.stdout
    assert "| 1 | gpt-oss-120b | turn | 1,200 |" in md.stdout
    assert "files changed: `calc.py`" in md.stdout


def test_export_errors_are_clear(project: Path, fake_server) -> None:
    none = run_agent(project, "export")
    assert none.returncode == 2 and "no session recorded" in none.stderr
    fake_server.add(FakeTurn(content="Hi."))
    assert agent(project, fake_server, "-p", "hello").returncode == 0
    missing = run_agent(project, "export", "20990101-000000-abcdef")
    assert missing.returncode == 2 and "no session '20990101-000000-abcdef'" in missing.stderr
    assert "recent:" in missing.stderr
    corrupt = project.parent / "garbage.jsonl"
    corrupt.write_bytes(b"\x00\xffnot json\n{also not\n")
    bad = run_agent(project, "export", str(corrupt))
    assert bad.returncode == 2 and "holds nothing readable (2 unreadable line(s))" in bad.stderr
    assert "Traceback" not in bad.stderr
