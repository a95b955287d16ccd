"""One reader of apply_patch headers (tools.patch_parser.patch_paths) for the safety checks and
compaction: it never sees fewer paths than the parser applies."""
from __future__ import annotations

from pathlib import Path

from realcost_agent.agent.compaction import touched_paths as compaction_paths
from realcost_agent.agent.safety.protected import protected_paths, touched_paths
from realcost_agent.tools.fileops import diff_stats, unified_diff
from realcost_agent.tools.patch_parser import parse_patch, patch_paths

INDENTED = "  *** Begin Patch\n  *** Update File: AGENTS.md\n  @@\n  -a\n  +b\n  *** End Patch\n"


def test_paths_are_the_parsers_own() -> None:
    patch = ("*** Begin Patch\n*** Update File: a.py\n*** Move to: b.py\n@@\n-x\n+y\n"
             "*** Add File: new.txt\n+hi\n*** Delete File:  old.txt  \n*** End Patch")
    ops = parse_patch(patch).ops
    parsed = [p for op in ops for p in (op.path, op.move_to) if p]
    assert patch_paths(patch) == parsed == ["a.py", "b.py", "new.txt", "old.txt"]
    assert patch_paths(None) == [] and patch_paths("no patch here") == []
    # A patch that will not parse still names what it could touch.
    assert patch_paths("*** Update File: x.py\n@@\n-a\n") == ["x.py"]


def test_an_indented_patch_to_a_protected_file_is_seen(tmp_path: Path) -> None:
    """The parser dedents a patch indented as a whole and applies it; the protected-path check
    used its own column-0 pattern and saw no path at all."""
    assert [op.path for op in parse_patch(INDENTED).ops] == ["AGENTS.md"]
    assert touched_paths("apply_patch", {"patch": INDENTED}) == ["AGENTS.md"]
    env = {"AGENT_DATA_HOME": str(tmp_path / "data"), "AGENT_CONFIG_HOME": str(tmp_path / "cfg")}
    (tmp_path / "p").mkdir()
    hits = protected_paths(tmp_path / "p", env=env).hits(touched_paths("apply_patch", {"patch": INDENTED}))
    assert [h.path for h in hits] == ["AGENTS.md"]


def test_compaction_keeps_the_paths_a_patch_touched() -> None:
    import json

    call = {"function": {"name": "apply_patch", "arguments": json.dumps({"patch": INDENTED})}}
    assert compaction_paths([{"role": "assistant", "tool_calls": [call]}]) == ["AGENTS.md"]


def test_diff_stats_counts_inside_hunks_only() -> None:
    assert diff_stats(unified_diff("f", "a\n", "x\x0c-y\n")) == (1, 1)  # \x0c is not a line end
    two = unified_diff("f", "a\n", "b\n") + unified_diff("g", "c\n", "d\n")
    assert diff_stats(two) == (2, 2)  # the second file's ---/+++ are headers
    assert diff_stats(unified_diff("f", "--a\n-b\nc\n", "++a\nc\n")) == (1, 2)
    assert diff_stats(unified_diff("f", "x", "x\ny")) == (2, 1)  # no newline at the end
    assert diff_stats("") == (0, 0)


async def test_a_headless_session_does_not_write_agents_md_through_an_indented_patch(tmp_path: Path) -> None:
    import os

    from realcost_agent.agent import events as ev
    from realcost_agent.agent.config import Settings
    from realcost_agent.agent.session import Session
    from realcost_agent.providers.scripted import ScriptedProvider, text, tool_call, usage
    from turnrun import of, run_turn

    root = tmp_path / "p"
    root.mkdir()
    (root / "AGENTS.md").write_text("a\n")
    provider = ScriptedProvider([[tool_call("apply_patch", {"patch": INDENTED}, id="c1"), usage(10, 1)],
                                 [text("done"), usage(10, 1)]])
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "AGENT_DATA_HOME": str(tmp_path / "d")}
    s = Session(Settings(approval="full-auto", sandbox="off"), root, env=env,
                provider_factory=lambda m: provider)
    events = await run_turn(s, "update the rules")
    (done,) = [e for e in of(events, ev.ToolCallFinished) if e.call_id == "c1"]
    assert done.is_error and done.metadata.get("denied"), done.output
    assert (root / "AGENTS.md").read_text() == "a\n"  # a protected file, asked even in full-auto
