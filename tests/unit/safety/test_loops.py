"""Repeat detection for identical tool calls within a turn."""
from __future__ import annotations

import pytest

from realcost_agent.agent.safety.loops import RepeatDetector, canonical


def test_fifth_identical_call_trips():
    d = RepeatDetector(limit=5)
    results = [d.observe("read_file", '{"path": "a.py"}') for _ in range(5)]
    assert results[:4] == [None] * 4
    assert results[4] is not None and results[4].count == 5 and results[4].tool == "read_file"
    assert "5 times" in results[4].message()


def test_non_consecutive_repeats_count():
    d = RepeatDetector(limit=3)
    seq = [("read_file", {"path": "a"}), ("search", {"pattern": "x"})] * 3
    hits = [d.observe(t, a) for t, a in seq]
    assert [h is not None for h in hits] == [False, False, False, False, True, True]


def test_argument_spelling_does_not_matter():
    d = RepeatDetector(limit=3)
    assert d.observe("edit", '{"path": "a", "old_string": "x"}') is None
    assert d.observe("edit", '{"old_string":"x","path":"a"}') is None
    assert d.observe("edit", {"path": "a", "old_string": "x"}) is not None


def test_different_arguments_or_tools_are_different_calls():
    d = RepeatDetector(limit=2)
    assert d.observe("read_file", {"path": "a"}) is None
    assert d.observe("read_file", {"path": "b"}) is None
    assert d.observe("list_files", {"path": "a"}) is None
    assert d.observe("read_file", {"path": "a"}) is not None


def test_progress_clears_counts():
    d = RepeatDetector(limit=3)
    for _ in range(10):  # edit, pytest, edit, pytest, ...: each edit changed files
        assert d.observe("run_command", {"command": "pytest -x"}) is None
        assert d.observe("edit", {"path": "a", "old_string": "x", "new_string": "y"}) is None
        d.progress()


def test_reset_for_a_new_turn():
    d = RepeatDetector(limit=2)
    d.observe("read_file", {"path": "a"})
    d.reset()
    assert d.observe("read_file", {"path": "a"}) is None


def test_canonical_forms():
    assert canonical('{"b": 1, "a": 2}') == canonical({"a": 2, "b": 1}) == '{"a":2,"b":1}'
    assert canonical("") == canonical({}) == "{}"
    assert canonical("not json ") == "not json"
    from realcost_agent.tools.read_file import ReadFileParams

    assert canonical(ReadFileParams(path="a")) == canonical({"path": "a"})


def test_limit_must_allow_one_call():
    with pytest.raises(ValueError):
        RepeatDetector(limit=1)
