"""Report formats: the JSON schema holds and bites, CSV/Markdown/HTML/terminal render, unknown
prices read "unknown" (never $0), local backends read "$0 (local)"."""
from __future__ import annotations

import copy
import csv
import io
import json
import re

import jsonschema
import pytest

from realcost_agent.cli.report import render
from realcost_agent.agent.report import REPORT_SCHEMA, Scope, build_report, parse_since
from realcost_agent.agent.report_render import CSV_COLUMNS, render_csv, render_markdown


def _mixed(feeder) -> None:
    priced = feeder("gpt-oss-120b")
    for cost in (0.002, 0.003):
        turn = priced.prompt()
        priced.call(turn, cost=cost, input_tokens=1200, cached=1000, output_tokens=80,
                    reasoning=20, provider_cost=cost * 1.1)
        priced.finish_turn(turn)
    priced.task_update("done", agent_ms=20_000, debug_ms=60_000)
    unpriced = feeder("mystery-model")
    turn = unpriced.prompt()
    unpriced.call(turn, cost=None, input_tokens=500, output_tokens=50)
    unpriced.finish_turn(turn)
    unpriced.task_update("done", agent_ms=5_000, correction_ms=120_000)
    local = feeder("local-20b")
    turn = local.prompt()
    local.call(turn, cost=0.0, local=True, input_tokens=700, output_tokens=70, ttft_ms=300)
    local.finish_turn(turn, "max_steps")
    local.task_update("abandoned", agent_ms=9_000)


@pytest.fixture
def report(ledger, feeder):
    _mixed(feeder)
    return build_report(ledger.conn, Scope())


def test_json_report_matches_its_schema(report) -> None:
    wire = json.loads(render_json_text(report))
    jsonschema.validate(wire, REPORT_SCHEMA)
    assert [g["key"] for g in wire["groups"]] == ["local-20b", "gpt-oss-120b", "mystery-model"]


def render_json_text(report) -> str:
    out = io.StringIO()
    render(report, "json", out)
    return out.getvalue()


@pytest.mark.parametrize("breakage", [
    lambda r: r.pop("totals"),
    lambda r: r["groups"][0].update(api_cost="0.01"),
    lambda r: r["groups"][0].update(surprise=1),
    lambda r: r["groups"][0]["tokens"].pop("cached_input"),
    lambda r: r["scope"].update(by="colour"),
])
def test_the_schema_rejects_broken_reports(report, breakage) -> None:
    broken = copy.deepcopy(report)
    breakage(broken)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken, REPORT_SCHEMA)


def test_unknown_price_is_unknown_never_zero(report) -> None:
    g = {g["key"]: g for g in report["groups"]}["mystery-model"]
    assert g["api_cost"] is None and g["real_total"] is None and g["unpriced_calls"] == 1
    assert g["real_total_known"] == g["developer_cost"] == 2 / 60 * 35.0
    assert report["totals"]["api_cost"] is None and report["totals"]["unpriced_calls"] == 1
    assert report["warnings"] == [
        "1 call(s) to openai/mystery-model have no known price: their cost is unknown, not 0, "
        "and rankings use the priced part. Set a price under [prices] in .agent/config.toml."]
    md = render_markdown(report)
    row = next(line for line in md.splitlines() if line.startswith("| mystery-model |"))
    assert "unknown" in row and "$0.0000" not in row and "$0.00 " not in row


def test_local_backend_costs_zero_and_says_so(report) -> None:
    g = {g["key"]: g for g in report["groups"]}["local-20b"]
    assert g["local"] is True and g["api_cost"] == 0.0 and g["rank"] == 1
    assert "| local-20b | $0 (local) |" in render_markdown(report)


def test_csv_has_one_row_per_group_and_full_precision(report) -> None:
    rows = list(csv.DictReader(io.StringIO(render_csv(report))))
    assert list(rows[0]) == CSV_COLUMNS
    by = {r["key"]: r for r in rows}
    assert float(by["gpt-oss-120b"]["api_cost"]) == 0.002 + 0.003
    # Numeric columns hold numbers: an unknown cost is an empty cell (never 0, never a word), and
    # the row says why; every numeric cell of every row parses as a number or is empty.
    mystery = by["mystery-model"]
    assert mystery["api_cost"] == "" and mystery["real_total"] == ""
    assert int(mystery["unpriced_calls"]) >= 1
    text_columns = {"key", "models", "backends", "litellm_ids"}
    for row in rows:
        for name, value in row.items():
            if name not in text_columns and value != "":
                float(value)
    assert by["gpt-oss-120b"]["cached_input_tokens"] == "2000"
    assert float(by["gpt-oss-120b"]["provider_cost"]) == pytest.approx(0.0055)
    assert by["local-20b"]["local"] == "1"


def test_markdown_has_the_three_seed_tables(report) -> None:
    md = render_markdown(report)
    for title in ("## Results in brief", "## Token economics", "## Real development cost"):
        assert title in md
    assert "| Provider-reported cost (total) |" in md
    # local hit max_steps (abandoned); 120B needed a follow-up; the unpriced one was done at once
    assert "| Single-prompt success | No | No (2 prompts) | Yes |" in md


def test_html_is_self_contained_with_svg_bar_charts(report) -> None:
    out = io.StringIO()
    render(report, "html", out)
    page = out.getvalue()
    assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")
    assert page.count("<svg") == 2
    assert not re.search(r"https?://", page)
    for tag in ("<script", "<link", "src=", "@import", "url("):
        assert tag not in page
    # Real-total bars: one API and one developer segment per group, lengths to scale.
    api = [float(w) for w in re.findall(r'class="bar api"[^>]*width="([\d.]+)"', page)]
    dev = [float(w) for w in re.findall(r'class="bar dev"[^>]*width="([\d.]+)"', page)]
    assert len(api) == len(dev) == 3
    totals = [g["real_total_known"] for g in report["groups"]]
    spans = [a + d for a, d in zip(api, dev)]
    assert max(spans) == pytest.approx(440, abs=0.02)
    assert spans == pytest.approx([440 * t / max(totals) for t in totals], abs=0.02)
    assert "time to first token" in page and "unknown" in page


def test_terminal_render(report) -> None:
    out = io.StringIO()
    render(report, "terminal", out, width=160)
    text = out.getvalue()
    for needle in ("Results in brief", "Token economics", "Real development cost", "unknown",
                   "$0 (local)", "[prices]"):
        assert needle in text


def test_empty_scope_renders_a_plain_message(ledger) -> None:
    report = build_report(ledger.conn, Scope(session="nope"))
    assert report["groups"] == [] and report["totals"]["tasks"] == 0
    jsonschema.validate(report, REPORT_SCHEMA)
    for fmt in ("md", "terminal", "html"):
        out = io.StringIO()
        render(report, fmt, out)
        assert "No tasks recorded" in out.getvalue()


def test_grouping_and_filters(ledger, feeder) -> None:
    _mixed(feeder)
    by_task = build_report(ledger.conn, Scope(by="task"))
    assert len(by_task["groups"]) == 3 and by_task["groups"][0]["models"] == ["local-20b"]
    by_session = build_report(ledger.conn, Scope(by="session"))
    assert sorted(g["sessions"] for g in by_session["groups"]) == [1, 1, 1]
    one = by_session["groups"][1]["key"]
    assert [g["key"] for g in build_report(ledger.conn, Scope(session=one))["groups"]] == ["gpt-oss-120b"]
    assert build_report(ledger.conn, Scope(project="/elsewhere"))["groups"] == []
    assert len(build_report(ledger.conn, Scope(project="/work/proj"))["groups"]) == 3
    assert build_report(ledger.conn, Scope(since=2e9))["groups"] == []  # the fixtures ran in 2025
    with pytest.raises(ValueError):
        build_report(ledger.conn, Scope(by="colour"))


def test_parse_since() -> None:
    assert parse_since("7d", now=1_000_000.0) == 1_000_000.0 - 7 * 86400
    assert parse_since("12h", now=100_000.0) == 100_000.0 - 12 * 3600
    assert parse_since("2025-08-18T00:00:00+00:00") == 1_755_475_200.0
    with pytest.raises(ValueError, match="not a date"):
        parse_since("last tuesday")


def test_many_groups_become_rows(ledger, feeder) -> None:
    from realcost_agent.agent.report_render import tables

    for i in range(7):
        f = feeder("gpt-oss-20b")
        turn = f.prompt(f"task {i}")
        f.call(turn, cost=0.001 * (i + 1))
        f.task_update("done")
    report = build_report(ledger.conn, Scope(by="session"))
    brief, econ, real = tables(report)
    assert brief.headers[:2] == ["Session", "Tasks"] and len(brief.rows) == 7
    assert econ.headers[-1] == "Cost per task" and econ.rows[0][-1] == "$0.0010"
    assert [row[0] for row in brief.rows] == [row[0] for row in real.rows]
