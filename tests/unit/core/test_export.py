"""agent export: building the document from a journal and ledger rows, without the binary."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from realcost_agent.cli.export import ExportError, build, export_session, read_journal, render_md


def usage_event(turn: str, tokens: int) -> dict:
    return {"type": "usage_updated", "turn_id": turn, "model": "m", "litellm_id": "x/m", "backend": "b",
            "input_tokens": tokens, "output_tokens": 1, "cached_input_tokens": 0, "reasoning_tokens": 0,
            "cost": 0.5, "provider_cost": None, "ttft_ms": 5.0, "ttft_text_ms": None,
            "duration_ms": 10.0, "session_cost": 0.5, "session_input_tokens": tokens,
            "session_output_tokens": 1, "purpose": "turn", "local": False}


def turn_events(turn: str, tokens: int, call_id: str) -> list[dict]:
    return [
        {"type": "turn_started", "turn_id": turn, "task_id": 1, "prompt": f"prompt {turn}",
         "model": "m", "followup": False, "origin": "user"},
        usage_event(turn, tokens),
        {"type": "assistant_message", "turn_id": turn, "step": 1, "text": "", "reasoning": "",
         "tool_call_ids": [call_id]},
        {"type": "tool_call_finished", "turn_id": turn, "call_id": call_id, "name": "read_file",
         "output": "1\tx = 1", "is_error": False, "duration_ms": 3.0, "summary": "a.py",
         "paths": ["a.py"], "diff": "", "added": None, "removed": None},
        {"type": "turn_finished", "turn_id": turn, "reason": "done", "text": "ok", "steps": 1,
         "files_changed": [], "duration_ms": 20.0},
    ]


def test_resumed_session_repeats_turn_ids_and_each_call_gets_its_own_ledger_row() -> None:
    # After `agent --resume` the turn numbering starts again: t1 twice.
    events = turn_events("t1", 100, "c1") + turn_events("t1", 200, "c2")
    messages = [{"role": "assistant", "tool_calls": [
        {"id": "c1", "function": {"name": "read_file", "arguments": '{"path": "a.py"}'}}]}]
    rows = [{**usage_event("t1", 100), "at": 1.0, "duration_ms": 11.0},
            {**usage_event("t1", 200), "at": 2.0, "duration_ms": 22.0}]
    doc = build({"session_id": "s"}, messages, events, rows, {"requests": 2})
    assert [t["calls"][0]["duration_ms"] for t in doc["turns"]] == [11.0, 22.0]  # the ledger's
    assert doc["figures_source"] == "ledger"
    assert doc["turns"][0]["items"][1]["arguments"] == {"path": "a.py"}
    assert doc["turns"][1]["items"][1]["arguments"] is None  # its message was not journaled


def test_without_a_ledger_the_journal_figures_are_used_and_said() -> None:
    doc = build({"session_id": "s"}, [], turn_events("t1", 100, "c1"), None, None)
    assert doc["figures_source"] == "journal" and doc["turns"][0]["calls"][0]["input_tokens"] == 100
    md = render_md(doc)
    assert "Figures from the session journal" in md and "| 1 | m | turn | 100 |" in md


def test_read_journal_keeps_messages_from_before_a_compaction(tmp_path: Path) -> None:
    path = tmp_path / "s.jsonl"
    lines = [{"k": "meta", "session_id": "s"}, {"k": "msg", "m": {"role": "user", "content": "one"}},
             {"k": "reset", "messages": [{"role": "user", "content": "summary"}]}]
    path.write_text("\n".join(json.dumps(x) for x in lines) + "\n{torn")
    meta, messages, events, bad = read_journal(path)
    assert [m["content"] for m in messages] == ["one", "summary"] and bad == 1


def test_markdown_fences_survive_backticks_in_output() -> None:
    events = turn_events("t1", 1, "c1")
    events[3]["output"] = "```\nnot the end\n```"
    md = render_md(build({}, [], events, None, None))
    assert "````text\n```\nnot the end\n```\n````" in md


def test_missing_session_is_a_clear_error(tmp_path: Path) -> None:
    env = {"AGENT_DATA_HOME": str(tmp_path / "data"), "AGENT_CONFIG_HOME": str(tmp_path / "cfg"),
           "HOME": str(tmp_path)}
    with pytest.raises(ExportError, match="no session recorded"):
        export_session(tmp_path, None, "md", env)
