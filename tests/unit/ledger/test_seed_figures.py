"""The seed review's real-development-cost table, reproduced through the recorder, the ledger
and the real report code: $0.0775 + 2 min -> $1.17 / $1.24; $0.0127 + 5 min -> $2.92 / $2.93;
$0.0137 + 25 min -> $14.58 / $14.60 at $35/h, ranked in that order."""
from __future__ import annotations

import math

from realcost_agent.agent.report import Scope, build_report
from realcost_agent.agent.report_render import render_markdown, tables

SEED = [  # model, API cost, debug minutes, developer cost, real total (as the seed prints them)
    ("o4-mini", 0.0775, 2, "$1.17", "$1.24"),
    ("gpt-oss-120b", 0.0127, 5, "$2.92", "$2.93"),
    ("gpt-oss-20b", 0.0137, 25, "$14.58", "$14.60"),
]


def _seed_ledger(ledger, feeder) -> None:
    # o4-mini: one prompt, 2 minutes stated by the developer (a headless run's correction).
    o4 = feeder("o4-mini")
    turn = o4.prompt()
    o4.call(turn, cost=0.0775, input_tokens=9334, output_tokens=6327, ttft_ms=8000, duration_ms=33000)
    o4.finish_turn(turn)
    o4.task_update("done", agent_ms=33_000, correction_ms=120_000)
    # 120B: one prompt, 5 minutes measured.
    big = feeder("gpt-oss-120b")
    turn = big.prompt()
    big.call(turn, cost=0.0127, input_tokens=11152, output_tokens=518, ttft_ms=1500, duration_ms=14000)
    big.finish_turn(turn)
    big.task_update("done", agent_ms=14_000, debug_ms=300_000)
    # 20B: six prompts; 20 minutes measured, then `agent task debug ID +5m`.
    small = feeder("gpt-oss-20b")
    for i in range(6):
        turn = small.prompt("try again" if i else "implement timeline scrubbing")
        small.call(turn, cost=0.0137 if i == 0 else 0.0, input_tokens=2406, output_tokens=348)
        small.finish_turn(turn)
        small.task_update("active", agent_ms=13_500 * (i + 1), debug_ms=240_000 * i)
    small.task_update("done", agent_ms=81_000, debug_ms=1_200_000)
    ledger.correct_task(small.task_id, 300, absolute=False, source="cli")


def test_seed_real_costs_and_ranking_reproduce_exactly(ledger, feeder) -> None:
    _seed_ledger(ledger, feeder)
    report = build_report(ledger.conn, Scope())
    groups = report["groups"]
    assert [g["key"] for g in groups] == [s[0] for s in SEED]
    assert [g["rank"] for g in groups] == [1, 2, 3]
    for g, (model, api, minutes, dev_text, total_text) in zip(groups, SEED):
        dev = minutes / 60 * 35.0
        assert g["api_cost"] == api
        assert g["debug"]["minutes"] == minutes
        assert g["developer_cost"] == dev  # unrounded, exactly the formula
        assert g["real_total"] == api + dev
        assert f"${g['developer_cost']:.2f}" == dev_text
        assert f"${g['real_total']:.2f}" == total_text
    totals = report["totals"]
    assert math.isclose(totals["real_total"], math.fsum(g["real_total"] for g in groups),
                        rel_tol=1e-15)
    assert f"${totals['real_total']:.2f}" == "$18.77"


def test_seed_table_renders_like_the_seed(ledger, feeder) -> None:
    _seed_ledger(ledger, feeder)
    report = build_report(ledger.conn, Scope())
    real = tables(report)[2]
    assert real.headers == ["Model", "API cost", "Debug time", "Developer cost", "Real total", "Ranking"]
    assert real.rows == [
        ["o4-mini", "$0.0775", "2 min", "$1.17", "$1.24", "1 · best value"],
        ["gpt-oss-120b", "$0.0127", "5 min", "$2.92", "$2.93", "2"],
        ["gpt-oss-20b", "$0.0137", "25 min (20 measured, +5.0 corrected)", "$14.58", "$14.60",
         "3 · worst value"],
    ]
    brief = {row[0]: row[1:] for row in tables(report)[0].rows}
    assert brief["Single-prompt success"] == ["Yes", "Yes", "No (6 prompts)"]
    assert brief["Follow-up prompts"] == ["0", "0", "5"]
    md = render_markdown(report)
    assert "| o4-mini | $0.0775 | 2 min | $1.17 | $1.24 | 1 · best value |" in md


def test_measured_and_corrected_debug_time_stay_apart(ledger, feeder) -> None:
    _seed_ledger(ledger, feeder)
    g = {g["key"]: g for g in build_report(ledger.conn, Scope())["groups"]}
    assert g["gpt-oss-20b"]["debug"] == {"measured_ms": 1_200_000.0, "corrections_ms": 300_000.0,
                                         "total_ms": 1_500_000.0, "minutes": 25.0}
    assert g["o4-mini"]["debug"]["measured_ms"] == 0 and g["o4-mini"]["debug"]["corrections_ms"] == 120_000
    assert g["gpt-oss-120b"]["debug"]["corrections_ms"] == 0


def test_a_different_rate_changes_only_the_developer_cost(ledger, feeder) -> None:
    _seed_ledger(ledger, feeder)
    report = build_report(ledger.conn, Scope(hourly_rate=70.0))
    g = report["groups"][0]
    assert g["developer_cost"] == 2 / 60 * 70.0 and g["api_cost"] == 0.0775
    assert report["hourly_rates"] == [70.0]
