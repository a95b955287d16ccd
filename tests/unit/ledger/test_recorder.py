"""The recorder: events in, rows out, each call tied to its task, project and commit."""
from __future__ import annotations

import subprocess
from pathlib import Path

from realcost_agent.agent import events as ev
from realcost_agent.agent.config import Settings
from realcost_agent.agent.ledger import Ledger
from realcost_agent.agent.recorder import LedgerRecorder, attach_ledger, git_head


def test_calls_land_on_their_task_with_every_figure(ledger, feeder) -> None:
    f = feeder("gpt-oss-120b", commit="deadbeef")
    t1 = f.prompt("first task")
    f.call(t1, cost=0.001, input_tokens=1200, cached=1024, output_tokens=40, reasoning=12,
           provider_cost=0.0012, ttft_ms=350.0, ttft_text_ms=None, duration_ms=2100.0)
    f.finish_turn(t1)
    f.task_update("done", agent_ms=2100)
    f.new_task()
    t2 = f.prompt("second task")
    f.call(t2, cost=None)
    f.finish_turn(t2, "max_steps")
    first, second = ledger.calls(session_id=f.session_id)
    assert first["task_id"] != second["task_id"]
    assert {k: first[k] for k in (
        "turn_id", "model", "litellm_id", "backend", "input_tokens", "cached_input_tokens",
        "output_tokens", "reasoning_tokens", "cost", "provider_cost", "ttft_ms", "ttft_text_ms",
        "duration_ms", "project", "git_commit", "local", "purpose")} == {
        "turn_id": "t1", "model": "gpt-oss-120b", "litellm_id": "openrouter/openai/gpt-oss-120b",
        "backend": "openrouter", "input_tokens": 1200, "cached_input_tokens": 1024,
        "output_tokens": 40, "reasoning_tokens": 12, "cost": 0.001, "provider_cost": 0.0012,
        "ttft_ms": 350.0, "ttft_text_ms": None, "duration_ms": 2100.0, "project": "/work/proj",
        "git_commit": "deadbeef", "local": 0, "purpose": "turn"}
    assert second["cost"] is None  # unknown stays unknown, not 0
    task2 = ledger.task(second["task_id"])
    assert task2["last_reason"] == "max_steps" and task2["seq"] == 2
    assert ledger.task(first["task_id"])["status"] == "done"


def test_model_switch_sets_the_next_tasks_model(ledger, feeder) -> None:
    f = feeder("gpt-oss-120b")
    f.prompt()
    f.task_update("done")
    f.recorder(ev.ModelSwitched("o4-mini", "openrouter/openai/o4-mini", "openrouter"))
    f.new_task()
    f.prompt()
    rows = sorted(ledger.recent_tasks(), key=lambda r: r["id"])
    assert [r["model"] for r in rows] == ["gpt-oss-120b", "o4-mini"]


def test_a_resumed_session_continues_its_task_row(tmp_path: Path) -> None:
    db = tmp_path / "ledger.sqlite3"
    settings = Settings()

    def play(corrections: float) -> None:
        rec = LedgerRecorder(Ledger(db), settings, git=lambda root: None)
        rec(ev.SessionStarted("same-id", "/p", "gpt-oss-20b", "openrouter", "0.1.0"))
        rec(ev.TaskUpdated(1, "active", 1, 0, debug_correction_ms=corrections))
        rec.close()

    play(60_000)
    play(60_000)  # the resumed session reports the same running total: no new correction
    play(90_000)
    lg = Ledger(db)
    (row,) = lg.recent_tasks()
    assert row["correction_ms"] == 90_000
    assert [c["delta_ms"] for c in lg.corrections(row["id"])] == [60_000, 30_000]
    assert lg.conn.execute("SELECT COUNT(*) FROM sessions").fetchone()[0] == 1


def test_git_head(tmp_path: Path) -> None:
    assert git_head(tmp_path) is None  # not a repository
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    assert git_head(tmp_path) is None  # no commit yet
    (tmp_path / "a").write_text("x")
    subprocess.run(["git", "-c", "user.email=t@t", "-c", "user.name=t", "add", "a"], cwd=tmp_path, check=True)
    subprocess.run(["git", "-c", "user.email=t@t", "-c", "user.name=t", "commit", "-qm", "x"],
                   cwd=tmp_path, check=True)
    head = git_head(tmp_path)
    assert head is not None and len(head) == 40


class _FakeSession:
    def __init__(self, settings: Settings, env: dict[str, str]) -> None:
        self.settings, self.env, self.interactive = settings, env, False
        self.listeners: list = []
        self.emitted: list = []

    def add_listener(self, fn) -> None:
        self.listeners.append(fn)

    def emit(self, event) -> None:
        self.emitted.append(event)


def test_attach_ledger_honours_the_setting_and_the_data_dir(tmp_path: Path) -> None:
    env = {"AGENT_DATA_HOME": str(tmp_path / "data")}
    off = _FakeSession(Settings(ledger=False), env)
    assert attach_ledger(off) is None and off.listeners == []
    on = _FakeSession(Settings(), env)
    rec = attach_ledger(on)
    assert rec is not None and on.listeners == [rec]
    assert Path(rec.ledger.path) == tmp_path / "data" / "ledger.sqlite3"
    rec.close()


def test_an_unopenable_ledger_warns_and_the_session_goes_on(tmp_path: Path) -> None:
    (tmp_path / "data").write_text("a file where the directory should be")
    s = _FakeSession(Settings(), {"AGENT_DATA_HOME": str(tmp_path / "data")})
    assert attach_ledger(s) is None
    assert s.listeners == [] and "cannot be opened" in s.emitted[0].message


def test_ledger_setting_from_the_environment(tmp_path: Path) -> None:
    from realcost_agent.agent.config import load_settings

    env = {"AGENT_CONFIG_HOME": str(tmp_path / "cfg")}
    assert load_settings(tmp_path, env={**env, "AGENT_LEDGER": "0"}).ledger is False
    assert load_settings(tmp_path, env={**env, "AGENT_LEDGER": "yes"}).ledger is True
    assert load_settings(tmp_path, env=env).ledger is True
