"""The ledger through the real `agent` binary against the fake OpenAI server over real HTTP:
token totals equal what the server reported, costs equal tokens x configured prices exactly,
a SIGKILLed run leaves every finished call, and `agent report` works end to end."""
from __future__ import annotations

import json
import math
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import jsonschema
import pytest

from realcost_agent.agent.report import REPORT_SCHEMA
from fakeserver import FakeToolCall, FakeTurn

AGENT = shutil.which("agent", path=str(Path(sys.executable).parent)) or "agent"

# Per million tokens, as in .agent/config.toml; 20B has no cached price (cache hits bill as input).
PRICES = {"gpt-oss-120b": {"input": 0.15, "cached_input": 0.075, "output": 0.6},
          "gpt-oss-20b": {"input": 0.05, "output": 0.2}}
CONFIG = """
[prices."gpt-oss-120b"]
input = 0.15
cached_input = 0.075
output = 0.6

[prices."gpt-oss-20b"]
input = 0.05
output = 0.2
"""

RUN_120B = [  # (prompt, completion, cached, reasoning, provider cost, tool call?)
    (1200, 40, 0, 12, 0.00021, True),
    (1400, 60, 1024, 0, None, True),
    (1700, 25, 1280, 5, 0.00013, False),
]
RUN_20B = [(900, 300, 512, 200, None, True), (1000, 20, 896, 0, None, False)]


def expected_cost(model: str, prompt: int, completion: int, cached: int) -> float:
    """The same arithmetic as realcost_agent.providers.prices.Price.cost, from the configured prices."""
    p = PRICES[model]
    inp, out = p["input"] / 1e6, p["output"] / 1e6
    cached_rate = p["cached_input"] / 1e6 if "cached_input" in p else inp
    cached = min(cached, prompt)
    return (prompt - cached) * inp + cached * cached_rate + completion * out


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", "-c", "user.email=t@t", "-c", "user.name=t", *args], cwd=cwd,
                          check=True, capture_output=True, text=True).stdout.strip()


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "proj"
    root.mkdir()
    (root / "app.py").write_text("print('hi')\n")
    # Prices in the user's config: a project's own [prices] need trust (agent/trust.py).
    (tmp_path / "cfg").mkdir()
    (tmp_path / "cfg" / "config.toml").write_text(CONFIG)
    git(root, "init", "-q", "-b", "main")
    git(root, "add", ".")
    git(root, "commit", "-qm", "init")
    return root


def env_for(root: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.endswith("_API_KEY") and k != "AGENT_LEDGER"}
    env.update({"AGENT_CONFIG_HOME": str(root.parent / "cfg"), "AGENT_DATA_HOME": str(root.parent / "data"),
                "LITELLM_LOCAL_MODEL_COST_MAP": "True"})
    env.update(extra)
    return env


def run_agent(root: Path, *args: str, **extra: str) -> subprocess.CompletedProcess:
    return subprocess.run([AGENT, *args], cwd=root, env=env_for(root, **extra), capture_output=True,
                          text=True, timeout=120, stdin=subprocess.DEVNULL)


def ledger_db(root: Path) -> Path:
    return root.parent / "data" / "ledger.sqlite3"


def query(root: Path, sql: str, *args) -> list[sqlite3.Row]:
    conn = sqlite3.connect(ledger_db(root))
    conn.row_factory = sqlite3.Row
    try:
        return conn.execute(sql, args).fetchall()
    finally:
        conn.close()


def script(server, rows, model: str) -> None:
    for prompt, completion, cached, reasoning, pcost, tool in rows:
        server.add(FakeTurn(
            content="" if tool else "all done",
            tool_calls=[FakeToolCall("list_files", {})] if tool else [],
            prompt_tokens=prompt, completion_tokens=completion, cached_tokens=cached,
            reasoning_tokens=reasoning, cost=pcost,
        ), model=model)


def test_ledger_totals_and_costs_equal_server_usage_times_prices(repo: Path, fake_server) -> None:
    script(fake_server, RUN_120B, "gpt-oss-120b")
    script(fake_server, RUN_20B, "gpt-oss-20b")
    for model in ("gpt-oss-120b", "gpt-oss-20b"):
        proc = run_agent(repo, "-p", "look around", "--model", model, "--api-base", fake_server.url)
        assert proc.returncode == 0, proc.stderr
    head = git(repo, "rev-parse", "HEAD")

    calls = query(repo, "SELECT * FROM calls ORDER BY id")
    sent = [("gpt-oss-120b", r) for r in RUN_120B] + [("gpt-oss-20b", r) for r in RUN_20B]
    assert len(calls) == len(sent)
    for call, (model, (prompt, completion, cached, reasoning, pcost, _)) in zip(calls, sent):
        assert (call["model"], call["input_tokens"], call["output_tokens"],
                call["cached_input_tokens"], call["reasoning_tokens"]) == (
            model, prompt, completion, cached, reasoning)
        assert call["cost"] == expected_cost(model, prompt, completion, cached)  # exactly
        assert call["provider_cost"] == pcost
        assert call["project"] == str(repo.resolve()) and call["git_commit"] == head
        assert call["ttft_ms"] is not None and call["duration_ms"] > 0
    sessions = query(repo, "SELECT * FROM sessions ORDER BY started_at")
    assert len(sessions) == 2 and all(s["git_commit"] == head for s in sessions)
    tasks = query(repo, "SELECT * FROM tasks ORDER BY id")
    assert [(t["model"], t["status"], t["last_reason"], t["prompts"]) for t in tasks] == [
        ("gpt-oss-120b", "done", "done", 1), ("gpt-oss-20b", "done", "done", 1)]
    assert all(t["git_commit"] == head and t["project"] == str(repo.resolve()) for t in tasks)

    proc = run_agent(repo, "report", "--all", "--format", "json")
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    jsonschema.validate(report, REPORT_SCHEMA)
    groups = {g["key"]: g for g in report["groups"]}
    for model, rows in (("gpt-oss-120b", RUN_120B), ("gpt-oss-20b", RUN_20B)):
        g = groups[model]
        assert g["tokens"]["input"] == sum(r[0] for r in rows)
        assert g["tokens"]["output"] == sum(r[1] for r in rows)
        assert g["tokens"]["cached_input"] == sum(r[2] for r in rows)
        assert g["tokens"]["reasoning"] == sum(r[3] for r in rows)
        assert g["requests"] == len(rows) and g["unpriced_calls"] == 0
        assert math.isclose(g["api_cost"], math.fsum(expected_cost(model, *r[:3]) for r in rows),
                            rel_tol=1e-12)
    assert groups["gpt-oss-120b"]["provider_cost"] == pytest.approx(0.00021 + 0.00013)
    assert groups["gpt-oss-120b"]["provider_cost_calls"] == 2
    # With no scope, the report covers the last session only.
    last = json.loads(run_agent(repo, "report", "--format", "json").stdout)
    assert [g["key"] for g in last["groups"]] == ["gpt-oss-20b"]


def test_headless_report_and_debug_minutes(repo: Path, fake_server) -> None:
    script(fake_server, RUN_20B, "gpt-oss-20b")
    proc = run_agent(repo, "-p", "go", "--model", "gpt-oss-20b", "--api-base", fake_server.url,
                     "--output-format", "json", "--report", "--debug-minutes", "5")
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    jsonschema.validate(result["report"], REPORT_SCHEMA)
    (g,) = result["report"]["groups"]
    assert g["debug"] == {"measured_ms": 0.0, "corrections_ms": 300_000.0, "total_ms": 300_000.0,
                          "minutes": 5.0}
    assert g["developer_cost"] == 5 / 60 * 35.0
    assert g["single_prompt_success"] == {"count": 1, "of": 1, "rate": 1.0}
    (task,) = query(repo, "SELECT * FROM tasks")
    assert (task["status"], task["debug_ms"], task["correction_ms"]) == ("done", 0.0, 300_000.0)
    (corr,) = query(repo, "SELECT * FROM debug_corrections")
    assert (corr["source"], corr["delta_ms"]) == ("session", 300_000.0)


def test_text_report_goes_to_stderr_and_stdout_stays_the_answer(repo: Path, fake_server) -> None:
    fake_server.add(FakeTurn(content="Nothing to do.", prompt_tokens=100, completion_tokens=5))
    proc = run_agent(repo, "-p", "hi", "--api-base", fake_server.url, "--report")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "Nothing to do.\n"
    assert "Real development cost" in proc.stderr and "Token economics" in proc.stderr


def test_stopped_task_is_abandoned_with_its_reason(repo: Path, fake_server) -> None:
    for _ in range(2):
        fake_server.add(FakeTurn(tool_calls=[FakeToolCall("list_files", {})]))
    proc = run_agent(repo, "-p", "loop", "--api-base", fake_server.url, "--max-steps", "1")
    assert proc.returncode == 1
    (task,) = query(repo, "SELECT * FROM tasks")
    assert (task["status"], task["last_reason"]) == ("abandoned", "max_steps")


def test_unknown_price_and_local_backend(repo: Path, fake_server) -> None:
    # No prices, and the server marked paid (a loopback base URL is free by default): an
    # openai-compatible model litellm has no price for is unknown, never $0.
    (repo.parent / "cfg" / "config.toml").write_text("api_base_local = false\n")
    fake_server.add(FakeTurn(content="a"), FakeTurn(content="b"))
    assert run_agent(repo, "-p", "x", "--model", "gpt-oss-120b", "--api-base",
                     fake_server.url).returncode == 0
    md = run_agent(repo, "report", "--format", "md").stdout
    row = next(line for line in md.splitlines() if line.startswith("| gpt-oss-120b |"))
    assert "unknown" in row and "$0.0000" not in row
    assert run_agent(repo, "-p", "y", "--backend", "local", "--model", "gpt-oss-20b",
                     "--api-base", fake_server.url).returncode == 0
    md = run_agent(repo, "report", "--format", "md").stdout
    assert "| gpt-oss-20b | $0 (local) |" in md
    (call,) = query(repo, "SELECT * FROM calls WHERE local = 1")
    assert call["cost"] == 0.0


def test_loopback_base_url_is_free_and_served_name_shown_once(repo: Path, fake_server) -> None:
    """`--model openai/gpt-oss-20b --api-base http://127.0.0.1:...`: the name on the wire is the
    served name, shown as such (never litellm's `openai/openai/...`), and the call is local."""
    (repo.parent / "cfg" / "config.toml").write_text("")  # no prices
    # A server that serves that name (vLLM's); one listing the bare `gpt-oss-20b` gets the bare
    # name instead (issue 18: tests/integration/providers/test_local_servers.py).
    fake_server.models = ["openai/gpt-oss-20b"]
    fake_server.add(FakeTurn(content="a", prompt_tokens=50, completion_tokens=7))
    proc = run_agent(repo, "-p", "x", "--model", "openai/gpt-oss-20b", "--api-base",
                     fake_server.url, "--output-format", "json", "--report")
    assert proc.returncode == 0, proc.stderr
    assert fake_server.chat_bodies[0]["model"] == "openai/gpt-oss-20b"
    # Every shown name is the served one (litellm_id stays litellm's own id, for the litellm path).
    assert "openai/openai" not in proc.stderr and json.loads(proc.stdout)["model"] == "openai/gpt-oss-20b"
    (call,) = query(repo, "SELECT * FROM calls")
    assert call["model"] == "openai/gpt-oss-20b" and call["local"] == 1 and call["cost"] == 0.0
    md = run_agent(repo, "report", "--format", "md").stdout
    assert "| openai/gpt-oss-20b | $0 (local) |" in md and "openai/openai" not in md


def test_host_without_usage_is_estimated_in_the_ledger(repo: Path) -> None:
    """LM Studio streams no usage: the call is counted locally and marked estimated."""
    from fakeserver import FakeOpenAIServer

    (repo.parent / "cfg").mkdir(exist_ok=True)  # the user's config: a project's needs trust
    (repo.parent / "cfg" / "config.toml").write_text('api_host = "lmstudio"\n')
    with FakeOpenAIServer(host="lmstudio") as server:
        server.add(FakeTurn(content="a reasonably long answer from a server without usage"))
        proc = run_agent(repo, "-p", "x", "--model", "gpt-oss-20b", "--api-base", server.url,
                         "--output-format", "jsonl")
    assert proc.returncode == 0, proc.stderr
    usage = [json.loads(l) for l in proc.stdout.splitlines() if '"usage_updated"' in l]
    assert usage and usage[0]["estimated"] is True and usage[0]["input_tokens"] > 0
    (call,) = query(repo, "SELECT * FROM calls")
    assert call["usage_estimated"] == 1 and call["output_tokens"] > 0
    report = json.loads(run_agent(repo, "report", "--format", "json").stdout)
    assert any("1 call(s) to gpt-oss-20b came without usage" in w for w in report["warnings"])


def test_ledger_off_writes_nothing_but_report_still_works(repo: Path, fake_server) -> None:
    fake_server.add(FakeTurn(content="ok", prompt_tokens=321, completion_tokens=9))
    proc = run_agent(repo, "-p", "hi", "--api-base", fake_server.url, "--report",
                     "--output-format", "json", AGENT_LEDGER="0")
    assert proc.returncode == 0, proc.stderr
    assert not ledger_db(repo).exists()
    assert json.loads(proc.stdout)["report"]["groups"][0]["tokens"]["input"] == 321


def test_task_list_and_debug_correction_from_the_cli(repo: Path, fake_server) -> None:
    fake_server.add(FakeTurn(content="ok"))
    assert run_agent(repo, "-p", "polish the timeline", "--api-base", fake_server.url).returncode == 0
    listed = run_agent(repo, "task", "list", COLUMNS="160")  # wide enough for the whole prompt
    assert listed.returncode == 0 and "polish the timeline" in listed.stdout
    (task,) = query(repo, "SELECT id FROM tasks")
    proc = run_agent(repo, "task", "debug", str(task["id"]), "+3m")
    assert proc.returncode == 0, proc.stderr
    assert "debug time 3 min" in proc.stdout
    proc = run_agent(repo, "task", "debug", str(task["id"]), "-1m")  # no `--` needed
    assert proc.returncode == 0 and "debug time 2 min" in proc.stdout, proc.stderr
    proc = run_agent(repo, "task", "debug", str(task["id"]), "--", "-1m")
    assert proc.returncode == 0 and "debug time 1 min" in proc.stdout
    rows = query(repo, "SELECT source, delta_ms FROM debug_corrections ORDER BY id")
    assert [tuple(r) for r in rows] == [("cli", 180_000.0), ("cli", -60_000.0), ("cli", -60_000.0)]
    assert run_agent(repo, "task", "debug", "999", "5m").returncode == 1
    assert run_agent(repo, "task", "debug", str(task["id"]), "soon").returncode == 2


def test_report_without_a_ledger_says_so(repo: Path) -> None:
    proc = run_agent(repo, "report")
    assert proc.returncode == 1 and "no ledger" in proc.stderr


def test_sigkill_mid_task_leaves_every_finished_call(repo: Path, fake_server) -> None:
    finished = [(1000 + i, 10 + i) for i in range(3)]
    for prompt, completion in finished:
        fake_server.add(FakeTurn(tool_calls=[FakeToolCall("list_files", {})], prompt_tokens=prompt,
                                 completion_tokens=completion))
    fake_server.add(FakeTurn(content="never arrives", delay_first_byte=30))
    proc = subprocess.Popen([AGENT, "-p", "work", "--api-base", fake_server.url], cwd=repo,
                            env=env_for(repo), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            stdin=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while len(fake_server.chat_bodies) < 4:  # the 4th request: calls 1-3 have finished
            assert proc.poll() is None and time.monotonic() < deadline, "agent never got there"
            time.sleep(0.02)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    assert query(repo, "PRAGMA integrity_check")[0][0] == "ok"
    calls = query(repo, "SELECT input_tokens, output_tokens FROM calls ORDER BY id")
    assert [tuple(c) for c in calls] == finished
    (task,) = query(repo, "SELECT status, prompts FROM tasks")
    assert tuple(task) == ("active", 1)  # it never finished: still open, not lost
    report = run_agent(repo, "report", "--format", "json")
    assert report.returncode == 0 and json.loads(report.stdout)["totals"]["requests"] == 3
