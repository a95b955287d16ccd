"""Ledger test helpers: a ledger in a temp dir and a feeder that plays a session's events into
a real LedgerRecorder, the way Session.emit would."""
from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from realcost_agent.agent import events as ev
from realcost_agent.agent.config import Settings
from realcost_agent.agent.ledger import Ledger
from realcost_agent.agent.recorder import LedgerRecorder

BACKENDS = {"o4-mini": ("openrouter/openai/o4-mini", "openrouter"),
            "gpt-oss-120b": ("openrouter/openai/gpt-oss-120b", "openrouter"),
            "gpt-oss-20b": ("openrouter/openai/gpt-oss-20b", "openrouter"),
            "local-20b": ("openai/gpt-oss:20b", "local")}


class WallClock:
    def __init__(self, t: float = 1_750_000_000.0) -> None:
        self.t = t

    def __call__(self) -> float:
        self.t += 1.0
        return self.t


class Feeder:
    """One session's events. Figures not given get plausible defaults."""

    _ids = itertools.count(1)

    def __init__(self, ledger: Ledger, model: str, *, hourly_rate: float = 35.0,
                 root: str = "/work/proj", commit: str | None = "abc123", clock=None) -> None:
        self.model = model
        self.litellm_id, self.backend = BACKENDS.get(model, (f"openai/{model}", "openai-compatible"))
        self.recorder = LedgerRecorder(ledger, Settings(hourly_rate=hourly_rate),
                                       clock=clock or WallClock(), git=lambda root: commit)
        self.session_id = f"s{next(self._ids)}"
        self.turns = 0
        self.task = 0
        self.prompts = 0
        self.recorder(ev.SessionStarted(self.session_id, root, model, self.backend, "0.1.0"))

    def new_task(self) -> None:
        self.task += 1
        self.prompts = 0

    def prompt(self, text: str = "implement timeline scrubbing") -> str:
        if self.task == 0:
            self.new_task()
        self.prompts += 1
        self.turns += 1
        turn = f"t{self.turns}"
        self.task_update("active")
        self.recorder(ev.TurnStarted(turn, self.task, text, self.model, self.prompts > 1))
        return turn

    def call(self, turn: str, *, cost: float | None = 0.001, input_tokens: int = 1000,
             output_tokens: int = 100, cached: int = 0, reasoning: int = 0,
             provider_cost: float | None = None, ttft_ms: float | None = 800.0,
             ttft_text_ms: float | None = 1200.0, duration_ms: float = 3000.0,
             local: bool = False) -> None:
        self.recorder(ev.UsageUpdated(
            turn_id=turn, model=self.model, litellm_id=self.litellm_id, backend=self.backend,
            input_tokens=input_tokens, output_tokens=output_tokens, cached_input_tokens=cached,
            reasoning_tokens=reasoning, cost=cost, provider_cost=provider_cost, ttft_ms=ttft_ms,
            ttft_text_ms=ttft_text_ms, duration_ms=duration_ms, session_cost=None,
            session_input_tokens=0, session_output_tokens=0, local=local,
        ))

    def finish_turn(self, turn: str, reason: str = "done") -> None:
        self.recorder(ev.TurnFinished(turn, reason, "ok", 1))

    def task_update(self, status: str, *, agent_ms: float = 0.0, debug_ms: float = 0.0,
                    correction_ms: float = 0.0) -> None:
        self.recorder(ev.TaskUpdated(
            self.task, status, self.prompts, max(0, self.prompts - 1), agent_ms=agent_ms,
            debug_ms=debug_ms, debug_correction_ms=correction_ms,
        ))

    @property
    def task_id(self) -> int:
        found = self.recorder.task_id(self.task)
        assert found is not None
        return found


@pytest.fixture
def ledger(tmp_path: Path):
    lg = Ledger(tmp_path / "ledger.sqlite3")
    yield lg
    lg.close()


@pytest.fixture
def feeder(ledger):
    def make(model: str, **kw) -> Feeder:
        return Feeder(ledger, model, **kw)

    return make
