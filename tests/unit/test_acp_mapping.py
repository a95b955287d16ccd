"""The ACP front-end's pure parts: events -> session/update payloads, permission options,
stop reasons, diffs as whole old/new texts, MCP configs, prompt blocks."""
from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("acp", reason="agent-client-protocol is not installed")

from acp import RequestError  # noqa: E402
from acp import schema as s  # noqa: E402

from realcost_agent.agent import events as ev  # noqa: E402
from realcost_agent.cli.acp import commands, mapping, mcp  # noqa: E402
from realcost_agent.cli.acp.server import prompt_text  # noqa: E402
from realcost_agent.tools.fileops import unified_diff  # noqa: E402

OLD = "a\nb\nc\nd\ne\nf\ng\nh\ni\nj\n"
NEW = "a\nB\nc\nd\ne\nf\ng\nh\ni\nj\nk\n"


def test_apply_and_invert_the_tools_own_diffs() -> None:
    diff = unified_diff("x.txt", OLD, NEW)
    assert mapping.apply_unified(OLD, diff) == NEW
    assert mapping.apply_unified(NEW, mapping.invert(diff)) == OLD
    # No trailing newline on either side, a new file, a deleted file.
    d2 = unified_diff("y", "one\ntwo", "one\nthree")
    assert mapping.apply_unified("one\ntwo", d2) == "one\nthree"
    assert mapping.apply_unified("", unified_diff("n", None, "fresh\n")) == "fresh\n"
    assert mapping.apply_unified("gone\n", unified_diff("g", "gone\n", None)) == ""


def test_a_diff_that_does_not_apply_is_refused_not_guessed() -> None:
    diff = unified_diff("x.txt", OLD, NEW)
    assert mapping.apply_unified("something else\n", diff) is None


def test_diff_contents_old_and_new_text_before_and_after(tmp_path: Path) -> None:
    (tmp_path / "x.txt").write_text(OLD)
    diff = unified_diff("x.txt", OLD, NEW)
    before = mapping.diff_contents(tmp_path, ("x.txt",), diff, applied=False)
    assert [(b.type, b.path, b.old_text, b.new_text) for b in before] == [
        ("diff", str(tmp_path / "x.txt"), OLD, NEW)]
    (tmp_path / "x.txt").write_text(NEW)
    after = mapping.diff_contents(tmp_path, ("x.txt",), diff, applied=True)
    assert (after[0].old_text, after[0].new_text) == (OLD, NEW)
    # The file changed under us: the unified diff is shown as text instead of a wrong diff.
    (tmp_path / "x.txt").write_text("unrelated\n")
    fallback = mapping.diff_contents(tmp_path, ("x.txt",), diff, applied=False)
    assert fallback[0].type == "content" and "+B" in fallback[0].content.text


def test_multi_file_patch_diff_is_split_per_file(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("1\n")
    (tmp_path / "b.py").write_text("2\n")
    diff = unified_diff("a.py", "1\n", "one\n") + unified_diff("b.py", "2\n", None)
    blocks = mapping.diff_contents(tmp_path, ("a.py", "b.py"), diff, applied=False)
    assert [(Path(b.path).name, b.new_text) for b in blocks] == [("a.py", "one\n"), ("b.py", "")]


def test_stop_reasons_only_map_what_the_protocol_names() -> None:
    assert mapping.stop_reason("done") == "end_turn"
    assert mapping.stop_reason("interrupted") == "cancelled"
    assert mapping.stop_reason("max_steps") == "max_turn_requests"
    assert mapping.stop_reason("output_budget") == "max_tokens"
    assert mapping.stop_reason("max_cost") == "end_turn"  # the core's own limit: _meta says it


def _approval(**kw) -> ev.ApprovalRequested:
    base = dict(turn_id="t1", call_id="c1", name="run_command", arguments={"command": "ls"},
                reason="commands are asked", summary="ls", grant="run_command `ls …`")
    return ev.ApprovalRequested(**{**base, **kw})


def test_allow_always_only_when_the_core_can_grant_it() -> None:
    kinds = lambda e: [o.kind for o in mapping.permission_options(e)]  # noqa: E731
    assert kinds(_approval()) == ["allow_once", "allow_always", "reject_once"]
    assert kinds(_approval(destructive=True, grant="")) == ["allow_once", "reject_once"]
    assert kinds(_approval(protected=True)) == ["allow_once", "reject_once"]
    assert kinds(_approval(grant="")) == ["allow_once", "reject_once"]


def test_decisions_deny_anything_not_offered() -> None:
    offered = mapping.permission_options(_approval(grant=""))
    assert mapping.decision("allow_once", offered) == "once"
    assert mapping.decision("allow_always", offered) == "deny"  # not offered: no grant
    assert mapping.decision("reject_once", offered) == "deny"
    assert mapping.decision(None, offered) == "deny"  # cancelled
    full = mapping.permission_options(_approval())
    assert mapping.decision("allow_always", full) == "session"


def test_tool_events_carry_kind_locations_and_status(tmp_path: Path) -> None:
    start = mapping.tool_started(tmp_path, ev.ToolCallStarted("t1", "c1", "read_file", {"path": "a.py"},
                                                              summary="a.py", paths=("a.py",)))
    assert (start.kind, start.title, start.locations[0].path) == ("read", "read_file: a.py", str(tmp_path / "a.py"))
    failed = mapping.tool_finished(tmp_path, ev.ToolCallFinished(
        "t1", "c2", "run_command", "boom", False, 5.0, metadata={"exit_code": 2}, summary="make"))
    assert failed.status == "failed" and "exit 2" in failed.title
    assert mapping.tool_kind("some_mcp_tool") == "other"


def test_mcp_configs_are_validated() -> None:
    ok = mcp.validate([
        s.McpServerStdio(name="fs", command="/usr/bin/mcp-fs", args=["--root", "."],
                         env=[s.EnvVariable(name="TOKEN", value="t")]),
        s.HttpMcpServer(type="http", name="web", url="https://mcp.example/x", headers=[]),
    ])
    assert [(c.name, c.transport) for c in ok] == [("fs", "stdio"), ("web", "http")]
    assert ok[0].env == (("TOKEN", "t"),) and "TOKEN" not in repr(ok[0].headers)
    with pytest.raises(mcp.McpConfigError, match="absolute path"):
        mcp.validate([s.McpServerStdio(name="x", command="npx", args=[], env=[])])
    with pytest.raises(mcp.McpConfigError, match="twice"):
        mcp.validate([s.McpServerStdio(name="x", command="/a", args=[], env=[])] * 2)
    with pytest.raises(mcp.McpConfigError, match="url"):
        mcp.validate([s.HttpMcpServer(type="http", name="w", url="ftp://x", headers=[])])
    assert mcp.attach_mcp_servers(object(), []) == []
    # before the core session starts, the editor's servers join its configured ones, which
    # start with it and are named in the system prompt; their secret values are redacted
    from types import SimpleNamespace

    from realcost_agent.agent.secrets import Redactor

    core = SimpleNamespace(mcp_configs=[], env={}, redact=Redactor({}))
    assert mcp.attach_mcp_servers(core, ok) == []
    assert [c.name for c in core.mcp_configs] == ["fs", "web"]


def test_prompt_blocks_to_text() -> None:
    text = prompt_text([
        s.TextContentBlock(type="text", text="look at"),
        s.ResourceContentBlock(type="resource_link", uri="file:///p/a%20b.py", name="a b.py"),
        s.EmbeddedResourceContentBlock(type="resource", resource=s.TextResourceContents(
            uri="file:///p/c.py", text="print(1)")),
    ])
    assert text.startswith("look at @/p/a b.py") and "print(1)" in text
    with pytest.raises(RequestError, match="not supported"):
        prompt_text([s.ImageContentBlock(type="image", data="AA==", mime_type="image/png")])
    with pytest.raises(RequestError, match="empty"):
        prompt_text([s.TextContentBlock(type="text", text="  ")])


def test_slash_commands_parse() -> None:
    assert commands.parse("/debug +5m") == ("debug", "+5m")
    assert commands.parse("/done") == ("done", "")
    assert commands.parse("//done") is None and commands.parse("/unknown") is None
    assert commands.parse("fix /done later") is None


def test_client_files_fall_back_to_the_disk_when_the_editor_fails() -> None:
    import asyncio
    import threading

    from realcost_agent.cli.acp.files import ClientFiles

    class Conn:
        def __init__(self, fail: bool) -> None:
            self.fail = fail
            self.written: list[tuple[str, str]] = []

        async def read_text_file(self, path: str, session_id: str):
            if self.fail:
                raise RuntimeError("editor gone")
            return s.ReadTextFileResponse(content="from the buffer")

        async def write_text_file(self, content: str, path: str, session_id: str):
            if self.fail:
                raise RuntimeError("editor gone")
            self.written.append((path, content))

    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    try:
        good = ClientFiles(Conn(False), loop, read=True, write=True)
        good.session_id = "s1"
        assert good.read(Path("/p/a.py")) == "from the buffer"
        assert good.write(Path("/p/a.py"), "new") and good.conn.written == [("/p/a.py", "new")]
        bad = ClientFiles(Conn(True), loop, read=True, write=True)
        bad.session_id = "s1"
        assert bad.read(Path("/p/a.py")) is None  # the tool reads the disk
        assert bad.write(Path("/p/a.py"), "new") is False  # the tool writes the disk
        offered_read_only = ClientFiles(Conn(False), loop, read=True, write=False)
        offered_read_only.session_id = "s1"
        assert offered_read_only.write(Path("/p/a.py"), "new") is False
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)
        loop.close()


def test_file_texts_beside_a_redacted_diff_are_redacted_too(tmp_path: Path) -> None:
    secret = "sk-live-0123456789abcdef"
    old, new = f"key = '{secret}'\nx = 1\n", f"key = '{secret}'\nx = 2\n"
    (tmp_path / "conf.py").write_text(old)
    redact = lambda text: text.replace(secret, "[REDACTED]")  # noqa: E731 - the Redactor's job
    diff = redact(unified_diff("conf.py", old, new))  # as Session.emit hands it over
    blocks = mapping.diff_contents(tmp_path, ("conf.py",), diff, applied=False, redact=redact)
    assert blocks[0].type == "diff"
    assert secret not in blocks[0].old_text + blocks[0].new_text
    assert blocks[0].new_text == "key = '[REDACTED]'\nx = 2\n"


def test_plan_updates_become_the_editors_plan() -> None:
    from realcost_agent.agent import events as ev
    from realcost_agent.cli.acp.session import plan_update

    update = plan_update(ev.PlanUpdated(({"step": "read the parser", "status": "completed"},
                                         {"step": "fix the off-by-one", "status": "in_progress"},
                                         {"step": "run the tests", "status": "bogus"})))
    dumped = update.model_dump(by_alias=True, exclude_none=True)
    assert dumped["sessionUpdate"] == "plan"
    assert [(x["content"], x["status"]) for x in dumped["entries"]] == [
        ("read the parser", "completed"), ("fix the off-by-one", "in_progress"),
        ("run the tests", "pending")]
