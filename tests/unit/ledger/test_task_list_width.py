"""`agent task list` never cuts what `agent task debug ID` needs: the ID, status and costs."""
from __future__ import annotations

import io
import time

import pytest

from realcost_agent.cli.report import _list, _negative_durations_as_values


def _row(task_id: int, *, prompt: str = "fix the flaky date parsing test in the reports module") -> dict:
    return {
        "id": task_id, "started_at": time.time(), "model": "openrouter/openai/gpt-oss-120b",
        "status": "abandoned", "prompts": 3, "agent_ms": 65_000.0, "debug_ms": 120_000.0,
        "correction_ms": 0.0, "requests": 4, "billed_calls": 4, "unpriced_calls": 0,
        "api_cost_known": 0.012345, "hourly_rate": 35.0, "prompt": prompt,
    }


@pytest.mark.parametrize("columns", [80, 100, 160, 200])
@pytest.mark.parametrize("task_id", [7, 1234567890123])
def test_ids_status_and_costs_survive_every_width(monkeypatch, columns: int, task_id: int) -> None:
    monkeypatch.setenv("COLUMNS", str(columns))
    out = io.StringIO()
    _list([_row(task_id), _row(2, prompt="short")], out)
    text = out.getvalue()
    assert max(len(line) for line in text.splitlines()) <= columns
    assert str(task_id) in text
    assert "abandoned" in text
    assert "$0.0123" in text
    assert "$1.18" in text  # real total: $0.0123 + 2 min at $35/h


def test_unknown_cost_is_shown_as_unknown_not_blank(monkeypatch) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    row = _row(5) | {"unpriced_calls": 1, "api_cost_known": 0.0, "debug_ms": 0.0}
    out = io.StringIO()
    _list([row], out)
    assert out.getvalue().count("unknown") == 2


@pytest.mark.parametrize("argv, expected", [
    (["debug", "12", "-2m"], ["debug", "--", "12", "-2m"]),
    (["debug", "12", "-90s"], ["debug", "--", "12", "-90s"]),
    (["debug", "12", "+3m"], ["debug", "--", "12", "+3m"]),
    (["debug", "12", "--", "-2m"], ["debug", "12", "--", "-2m"]),
    (["list", "--limit", "5"], ["list", "--limit", "5"]),
    (["--db", "x.sqlite3", "debug", "3", "-1.5h"], ["--db", "x.sqlite3", "debug", "--", "3", "-1.5h"]),
])
def test_negative_durations_are_values(argv: list[str], expected: list[str]) -> None:
    assert _negative_durations_as_values(argv) == expected


def test_help_names_every_backend() -> None:
    from realcost_agent.cli.main import build_parser
    from realcost_agent.providers.catalogue import BACKENDS

    text = " ".join(build_parser().format_help().split())
    missing = [name for name in BACKENDS if name not in text]
    assert not missing, f"--help does not name the backends {missing}"
