"""The TUI's parts on their own: markdown splitting and streaming, stats, commands, history, diffs."""
from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from markdown_it import MarkdownIt
from replay import task, usage
from rich.console import Console
from textual.app import App, ComposeResult

from realcost_agent.agent import events as ev
from realcost_agent.tui.commands import completions, parse
from realcost_agent.tui.history import History
from realcost_agent.tui.stats import SessionStats, fmt_cost, fmt_duration
from realcost_agent.tui.widgets.diff import colored_diff, preview
from realcost_agent.tui.widgets.status import StatusBar
from realcost_agent.tui.widgets.stream import AnswerMarkdown, StreamingMarkdown, split_settled

DOC = (
    "# Title\n\nA paragraph with **bold** and `code`.\n\n"
    "- one\n- two\n  continued\n\n"
    "```python\ndef f():\n\n    return 1\n```\n\n"
    "1. first\n2. second\n\n"
    "> quoted\n> more\n\nLast line.\n"
)


def test_split_keeps_blocks_whole() -> None:
    parser = MarkdownIt("gfm-like")
    for cut in range(len(DOC) + 1):
        settled, tail = split_settled(DOC[:cut], parser)
        assert settled + tail == DOC[:cut]
        # A fence is never split open: the settled part has balanced fences.
        assert settled.count("```") % 2 == 0
    settled, tail = split_settled(DOC, parser)
    assert tail == "Last line.\n"
    # Inside an unfinished fence, a blank line is not a boundary.
    partial = DOC[: DOC.index("    return 1")]
    assert split_settled(partial, parser)[1].startswith("```python")


def _plain(lines) -> list[str]:
    texts = ["".join(seg.text for seg in line).rstrip() for line in lines]
    return [t for t in texts if t.strip()]


class _Host(App):
    CSS = "Screen { scrollbar-gutter: stable; }"  # a constant width, as in the app

    def __init__(self, widget) -> None:
        super().__init__()
        self.widget = widget

    def compose(self) -> ComposeResult:
        yield self.widget


async def test_streaming_renders_like_the_whole_document() -> None:
    """Token by token with flushes in between, the lines match rendering the answer at once,
    and each settled block is rendered once: the cost does not grow with the answer."""
    text = DOC * 6
    widget = StreamingMarkdown()
    async with _Host(widget).run_test(size=(70, 30)) as pilot:
        for i in range(0, len(text), 5):
            widget.write(text[i:i + 5])
            if i % 40 == 0:
                widget.flush()
                await pilot.pause()
        widget.flush()
        await pilot.pause()
        width = widget.size.width
        settled, tail = widget._lines(width)
        console = Console(width=width, file=None)
        whole = console.render_lines(AnswerMarkdown(text), console.options.update_width(width))
        assert _plain(settled + tail) == _plain(whole)
        assert widget.source == text
        settled_text = "".join(widget._chunks)
        assert len(settled_text) > len(text) * 0.9
        # Only the tail is re-rendered as text arrives: settled text is rendered exactly once.
        assert widget.settled_chars_rendered == len(settled_text)


def _events() -> list[ev.Event]:
    return [
        ev.SessionStarted("s1", "/p", "gpt-oss-120b", "openrouter", "0.1.0"),
        ev.TurnStarted("t1", 1, "a", "gpt-oss-120b"),
        usage("t1", "gpt-oss-120b", 1, 1000, 100, 0.01, 500, 2000, (0.01, 1000, 100)),
        task(1, "done", 1, 2000, 600_000, 0.01),
        ev.ModelSwitched("o4-mini", "openrouter/openai/o4-mini", "openrouter"),
        ev.TurnStarted("t2", 2, "b", "o4-mini"),
        usage("t2", "o4-mini", 1, 2000, 300, None, 900, 4000, (0.01, 3000, 400)),  # unpriced
        ev.TurnStarted("t3", 2, "c", "o4-mini"),
        usage("t3", "o4-mini", 2, 1000, 100, 0.05, 700, 1000, (0.06, 4000, 500)),
        task(2, "active", 2, 5000, 60_000, 0.05),
    ]


def test_stats_fold_events_for_the_status_bar() -> None:
    stats = SessionStats(hourly_rate=35.0)
    for event in _events():
        stats.feed(event)
    assert stats.model == "o4-mini" and stats.requests == 3
    assert (stats.input_tokens, stats.output_tokens) == (4000, 500)
    assert stats.api_cost == pytest.approx(0.06) and stats.unpriced == 1
    # developer time: 10 min + 1 min at $35/h, on top of the API cost
    assert stats.real_total == pytest.approx(0.06 + 11 / 60 * 35)


def test_cost_report_and_exit_summary_are_agent_report_of_the_session() -> None:
    """/cost used to show per-request averages as "per task" and unknown prices as $0."""
    from realcost_agent.agent.config import Settings
    from realcost_agent.tui.screens.cost import session_costs, session_report, summary_lines

    costs = session_costs(Settings())
    for event in _events():
        costs(event)
    report = session_report(costs)
    groups = {g["key"]: g for g in report["groups"]}
    # o4-mini's task: two requests of 2000 and 1000 input tokens = 3000 per task, not 1500.
    assert groups["o4-mini"]["tokens"]["input_per_task"] == 3000
    assert groups["o4-mini"]["api_cost"] is None and groups["o4-mini"]["unpriced_calls"] == 1
    summary = "\n".join(summary_lines(costs))
    assert "2 tasks · 3 requests" in summary and "(+1 unpriced" in summary
    assert "$0.0000" not in summary and "details: agent report --session s1" in summary
    console = Console(width=120, record=True, file=io.StringIO())
    from realcost_agent.tui.screens.cost import report as render

    console.print(render(costs, 120))
    shown = console.export_text()
    assert "Input tokens (per task)" in shown and "3,000" in shown
    assert "≥ $0.0500 (+1 unpriced)" in shown  # never a plain $0.05 nor $0


def test_formatting() -> None:
    assert fmt_duration(450) == "450ms" and fmt_duration(4200) == "4.2s" and fmt_duration(125_000) == "2m05s"
    assert fmt_cost(0.0127) == "$0.0127" and fmt_cost(2.934) == "$2.93" and fmt_cost(None) == "-"


def test_slash_parsing_and_completion() -> None:
    assert parse("/model gpt-oss-20b") == ("model", "gpt-oss-20b")
    assert parse("  /q ") == ("quit", "")
    assert parse("//not a command") is None and parse("hello /model") is None
    assert parse("/model x\nmore") is None  # multi-line text is a prompt
    assert [v for v, _ in completions("/d")] == ["/done", "/debug "]
    assert [v for v, _ in completions("/model gpt")] == ["/model gpt-oss-20b", "/model gpt-oss-120b"]
    assert ("/model groq/openai/gpt-oss-20b", "used this session") in completions(
        "/model g", ("groq/openai/gpt-oss-20b",))
    assert completions("/done") == [] and completions("plain text") == []


def test_history_walks_and_persists(tmp_path: Path) -> None:
    path = tmp_path / "h.jsonl"
    history = History(path).load()
    for text in ("one", "two", "two", "three"):
        history.add(text)
    assert history.previous("draft") == "three"
    assert history.previous("three") == "two"
    assert history.previous("two") == "one"
    assert history.previous("one") is None  # stays at the oldest
    assert history.following() == "two"
    assert history.following() == "three"
    assert history.following() == "draft"  # back to what was being typed
    path.write_text(path.read_text() + "not json\n" + json.dumps({"text": "four"}) + "\n")
    assert History(path).load().entries == ["one", "two", "three", "four"]


def test_history_is_per_project(tmp_path: Path) -> None:
    from realcost_agent.tui.history import history_path

    env = {"AGENT_DATA_HOME": str(tmp_path)}
    a, b = history_path(tmp_path / "a", env), history_path(tmp_path / "b", env)
    assert a != b and a.parent == tmp_path / "history"


def test_colored_diff_and_previews() -> None:
    text = colored_diff("--- a/x\n+++ b/x\n@@ -1 +1 @@\n-old\n+new\n context\n")
    styles = {text.plain[s.start:s.end]: str(s.style) for s in text.spans}
    assert styles["-old"] == "red" and styles["+new"] == "green" and styles["@@ -1 +1 @@"] == "cyan"
    assert "more line" in colored_diff("\n".join(f"+{i}" for i in range(50)), max_lines=10).plain
    console = Console(width=60, record=True, file=None)
    asked = ev.ApprovalRequested("t", "c", "run_command", {"command": "pytest -q", "timeout": 30},
                                 "asks", summary="pytest -q", preview="pytest -q")
    console.print(preview(asked))
    shown = console.export_text()
    assert "pytest -q" in shown and "timeout: 30" in shown
    # An edit shows the tool's own diff (the exact change), not one rebuilt from the arguments.
    edit = ev.ApprovalRequested("t", "c", "edit", {"path": "a", "old_string": "x", "new_string": "y"},
                                "asks", preview="--- a/a\n+++ b/a\n@@ -1 +1 @@\n-real\n+line\n",
                                added=1, removed=1)
    assert "-real" in preview(edit).plain  # type: ignore[union-attr]


def test_status_bar_fits_narrow_terminals() -> None:
    stats = SessionStats()
    for event in _events():
        stats.feed(event)
    bar = StatusBar()
    bar.stats, bar.model = stats, "o4-mini"
    parts = [p for _, p, _ in bar.parts()]
    assert parts[0] == "o4-mini" and parts[-1].startswith("real ≥$")  # one call had no price
    assert "1 follow-up" in parts and "task 2" in parts
    widths = {}
    for width in (40, 80, 160):
        text = widths[width] = bar.line(width).plain
        assert len(text) <= width and "o4-mini" in text and "real ≥$" in text
    assert "follow-up" in widths[160] and "follow-up" not in widths[40]



def test_status_bar_says_unsandboxed_even_when_narrow() -> None:
    stats = SessionStats()
    for event in _events():
        stats.feed(event)
    bar = StatusBar()
    bar.stats, bar.model = stats, "o4-mini"
    assert "unsandboxed" not in bar.line(160).plain
    bar.unsandboxed = True
    for width in (60, 80, 160):
        assert "unsandboxed" in bar.line(width).plain


def test_status_bar_says_local_when_every_call_ran_locally() -> None:
    import dataclasses

    stats = SessionStats()
    stats.feed(ev.SessionStarted("s1", "/p", "gpt-oss-20b", "local", "0.1.0"))
    stats.feed(ev.TurnStarted("t1", 1, "a", "gpt-oss-20b"))
    call = usage("t1", "gpt-oss-20b", 1, 100, 10, 0.0, 50, 200, (0.0, 100, 10))
    stats.feed(dataclasses.replace(call, local=True))
    bar = StatusBar()
    bar.stats, bar.model = stats, "gpt-oss-20b"
    assert "API $0 (local)" in bar.line(120).plain
    stats.feed(call)  # one billed call: no longer all local
    assert "(local)" not in bar.line(120).plain


def test_status_bar_shows_local_compute_priced_by_the_hour() -> None:
    import dataclasses

    stats = SessionStats()
    stats.feed(ev.SessionStarted("s1", "/p", "gpt-oss-20b", "local", "0.1.0"))
    stats.feed(ev.TurnStarted("t1", 1, "a", "gpt-oss-20b"))
    call = usage("t1", "gpt-oss-20b", 1, 100, 10, 0.0123, 50, 200, (0.0123, 100, 10))
    stats.feed(dataclasses.replace(call, local=True))  # [prices.local]: wall time x per_hour
    bar = StatusBar()
    bar.stats, bar.model = stats, "gpt-oss-20b"
    line = bar.line(120).plain
    assert "(local)" in line and "$0 (local)" not in line


def test_status_bar_shows_each_mcp_servers_state() -> None:
    stats = SessionStats()
    stats.feed(ev.SessionStarted("s1", "/p", "o4-mini", "openai", "0.1.0"))
    bar = StatusBar()
    bar.stats, bar.model = stats, "o4-mini"
    assert "MCP" not in bar.line(160).plain  # none configured: nothing shown
    for name in ("time", "fs", "git"):
        stats.feed(ev.McpServerStatus(name, "starting"))
    assert "MCP 0/3 (3 starting)" in bar.line(160).plain
    stats.feed(ev.McpServerStatus("time", "ready", tools=2))
    stats.feed(ev.McpServerStatus("fs", "failed", error="exited"))
    part = [p for p in bar.parts() if p[1].startswith("MCP")][0]
    assert part[1] == "MCP 1/3 (1 starting) (1 failed)" and "red" in part[2]
    stats.feed(ev.McpServerStatus("git", "ready", tools=12))
    assert "MCP 2/3 (1 failed)" in bar.line(160).plain


def test_status_bar_says_when_token_counts_are_estimated() -> None:
    import dataclasses

    stats = SessionStats()
    stats.feed(ev.SessionStarted("s1", "/p", "gemma", "local", "0.1.0"))
    stats.feed(ev.TurnStarted("t1", 1, "a", "gemma"))
    call = usage("t1", "gemma", 1, 100, 10, 0.0, 50, 200, (0.0, 100, 10))
    bar = StatusBar()
    bar.stats, bar.model = stats, "gemma"
    stats.feed(call)
    assert "(est.)" not in bar.line(160).plain
    stats.feed(dataclasses.replace(call, estimated=True))
    assert "200 in/20 out (est.)" in bar.line(160).plain
