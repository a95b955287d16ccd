"""End to end: the official ACP SDK's client side drives the real `agent acp` binary against the
fake model server: initialize, a new session, a prompt that reads a file, edits it after a
permission round trip, runs a command (allowed for the session), a cancel mid-turn, then
session/load in a fresh process replays the conversation and goes on."""
from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest

pytest.importorskip("acp", reason="agent-client-protocol is not installed")

from acp import schema as s  # noqa: E402

from acpclient import RecordingClient, handshake, spawn, text_prompt  # noqa: E402
from agentproc import make_repo, query  # noqa: E402
from fakeserver import FakeToolCall, FakeTurn  # noqa: E402

PATCH = (
    "*** Begin Patch\n*** Update File: calc.py\n@@ def add(a, b):\n-    return a - b\n"
    "+    return a + b\n*** End Patch"
)
CMD = f"{sys.executable} show.py"  # a plain command: "allow for the session" can be offered


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_repo(tmp_path / "proj", {"calc.py": "def add(a, b):\n    return a - b\n",
                                         "show.py": "import calc\nprint('SUM', calc.add(2, 3))\n"})


def script_fix(fake) -> None:
    fake.add(FakeTurn(reasoning="Let me look at calc.py.", reasoning_field="reasoning",
                      tool_calls=[FakeToolCall("read_file", {"path": "calc.py"}, id="c_read")]))
    fake.add(FakeTurn(tool_calls=[FakeToolCall("apply_patch", {"patch": PATCH}, id="c_patch")]))
    fake.add(FakeTurn(tool_calls=[FakeToolCall("run_command", {"command": CMD}, id="c_run")]))
    fake.add(FakeTurn(content="Fixed: add() now adds. ANSWER-MARK", prompt_tokens=1500,
                      completion_tokens=20))


def test_acp_read_edit_permission_command_cancel_and_load(repo: Path, fake_server) -> None:
    script_fix(fake_server)
    # The cancel: a long answer streamed slowly, cancelled after its first chunk.
    fake_server.add(FakeTurn(content="word " * 400, chunk_delay=0.05))
    fake_server.add(FakeTurn(content="Resumed fine. LOADED-MARK"))
    args = ("--api-base", fake_server.url, "--approval", "suggest", "--model", "gpt-oss-120b")

    async def first() -> tuple[str, RecordingClient, list]:
        client = RecordingClient(answers=["allow_once", "allow_always"])
        async with spawn(client, repo, *args) as (conn, proc):
            init = await handshake(conn)
            caps = init.agent_capabilities
            assert init.protocol_version == 1 and caps.load_session
            assert caps.prompt_capabilities.image is False  # honest: images are not sent on
            new = await conn.new_session(cwd=str(repo), mcp_servers=[])
            sid = new.session_id
            model = new.config_options[0].root if hasattr(new.config_options[0], "root") else new.config_options[0]
            assert model.id == "model" and model.current_value == "gpt-oss-120b"
            assert {o.value for o in model.options} >= {"auto", "gpt-oss-20b", "gpt-oss-120b", "o4-mini"}

            done = await conn.prompt(session_id=sid, prompt=text_prompt("fix add() and show 2+3"))
            assert done.stop_reason == "end_turn"
            meta = done.field_meta["realcost"]
            assert meta["requests"] == 4 and meta["input_tokens"] >= 1500
            assert meta["task"]["prompts"] == 1

            # The cancel: wait for the first chunk of the slow answer, then session/cancel.
            seen = len(client.updates)
            turn = asyncio.create_task(conn.prompt(session_id=sid, prompt=text_prompt("explain it at length")))
            for _ in range(600):
                if any(u.session_update == "agent_message_chunk" and "word" in u.content.text
                       for _, _, u in client.updates[seen:]):
                    break
                await asyncio.sleep(0.05)
            await conn.cancel(session_id=sid)
            cancelled = await asyncio.wait_for(turn, 60)
            assert cancelled.stop_reason == "cancelled"
            return sid, client, [done, cancelled]
        raise AssertionError("unreachable")

    sid, client, _ = asyncio.run(first())
    kinds = client.kinds(sid)
    assert "agent_thought_chunk" in kinds and "agent_message_chunk" in kinds
    assert "available_commands_update" in kinds
    assert "ANSWER-MARK" in client.text()

    starts = {u.tool_call_id: u for u in client.of("tool_call")}
    assert starts["c_read"].kind == "read" and starts["c_patch"].kind == "edit"
    assert starts["c_run"].kind == "execute"
    assert starts["c_read"].locations[0].path == str(repo / "calc.py")

    # The permission round trips: the edit (allowed once) with its exact diff, then the command
    # (allowed for the session: a plain command can be granted).
    (edit_opts, edit_call), (run_opts, run_call) = client.permissions
    assert [o.kind for o in edit_opts] == ["allow_once", "allow_always", "reject_once"]
    diff = [c for c in edit_call.content if c.type == "diff"][0]
    assert diff.path == str(repo / "calc.py")
    assert diff.old_text == "def add(a, b):\n    return a - b\n"
    assert diff.new_text == "def add(a, b):\n    return a + b\n"
    assert run_call.kind == "execute" and "allow_always" in [o.kind for o in run_opts]

    finals = {u.tool_call_id: u for u in client.of("tool_call_update") if u.status in ("completed", "failed")}
    assert finals["c_read"].status == "completed"
    patch_final = finals["c_patch"]
    assert patch_final.status == "completed"
    done_diff = [c for c in patch_final.content if c.type == "diff"][0]
    assert done_diff.old_text == "def add(a, b):\n    return a - b\n"
    assert done_diff.new_text == "def add(a, b):\n    return a + b\n"
    assert finals["c_run"].status == "completed"
    assert "SUM 5" in finals["c_run"].content[0].content.text
    assert (repo / "calc.py").read_text() == "def add(a, b):\n    return a + b\n"

    # Usage per prompt as an extension notification, the same figures as the response's _meta.
    usage = [p for m, p in client.ext if m.endswith("realcost/usage")]
    assert [(u["turnId"], u["reasons"], u["requests"]) for u in usage][0] == ("t1", ["done"], 4)
    assert usage[1]["turnId"] == "t2" and usage[1]["reasons"] == ["interrupted"]
    assert usage[0]["task"]["prompts"] == 1 and usage[0]["cost_usd_known"] == 0.0  # loopback

    # The ledger: one interactive task, the cancelled prompt a follow-up, as in the TUI.
    rows = query(repo, "SELECT prompts, followups, status, debug_ms FROM tasks WHERE session_id = ?", sid)
    assert [tuple(r)[:3] for r in rows] == [(2, 1, "active")]
    assert rows[0]["debug_ms"] > 0  # the gap before the follow-up is measured, as in the TUI
    assert query(repo, "SELECT interactive FROM sessions WHERE id = ?", sid)[0][0] == 1
    assert len(query(repo, "SELECT id FROM calls WHERE session_id = ?", sid)) >= 4

    async def second() -> RecordingClient:
        client = RecordingClient()
        async with spawn(client, repo, *args) as (conn, proc):
            init = await handshake(conn)
            assert init.agent_capabilities.session_capabilities.list is not None
            listed = (await conn.list_sessions(cwd=str(repo))).sessions
            assert [(i.session_id, i.title, i.cwd) for i in listed] == [
                (sid, "fix add() and show 2+3", str(repo))]
            await conn.load_session(cwd=str(repo), session_id=sid, mcp_servers=[])
            replayed = client.text("user_message_chunk")
            assert "fix add() and show 2+3" in replayed and "Repository map" not in replayed
            assert "ANSWER-MARK" in client.text()
            again = await conn.prompt(session_id=sid, prompt=text_prompt("still there?"))
            assert again.stop_reason == "end_turn"
        return client

    loaded = asyncio.run(second())
    assert "LOADED-MARK" in loaded.text()
    sent = fake_server.chat_bodies[-1]["messages"]
    assert any("fix add() and show 2+3" in str(m.get("content")) for m in sent)  # history kept


def test_acp_bad_requests_get_clear_errors(repo: Path, fake_server) -> None:
    from acp import RequestError

    async def run() -> None:
        client = RecordingClient()
        async with spawn(client, repo, "--api-base", fake_server.url) as (conn, proc):
            await handshake(conn)
            with pytest.raises(RequestError, match="absolute directory"):
                await conn.new_session(cwd="relative/dir", mcp_servers=[])
            with pytest.raises(RequestError, match="absolute path"):
                await conn.new_session(cwd=str(repo), mcp_servers=[
                    s.McpServerStdio(name="x", command="npx", args=[], env=[])])
            with pytest.raises(RequestError, match="no session"):
                await conn.load_session(cwd=str(repo), session_id="nope", mcp_servers=[])
            with pytest.raises(RequestError, match="unknown session"):
                await conn.prompt(session_id="nope", prompt=text_prompt("hi"))

    asyncio.run(run())


def test_acp_model_choice_and_task_commands(repo: Path, fake_server) -> None:
    from acp import RequestError

    fake_server.add(FakeTurn(content="one"), FakeTurn(content="two"))

    async def run() -> tuple[str, RecordingClient]:
        client = RecordingClient()
        async with spawn(client, repo, "--api-base", fake_server.url) as (conn, proc):
            await handshake(conn)
            new = await conn.new_session(cwd=str(repo), mcp_servers=[])
            sid = new.session_id
            assert new.modes.current_mode_id == "auto"  # the same choice, for clients with modes
            resp = await conn.set_config_option(config_id="model", session_id=sid, value="gpt-oss-20b")
            option = resp.config_options[0]
            option = getattr(option, "root", option)
            assert option.current_value == "gpt-oss-20b"
            await conn.prompt(session_id=sid, prompt=text_prompt("hi"))
            first_model = fake_server.chat_bodies[-1]["model"]
            await conn.set_session_mode(session_id=sid, mode_id="gpt-oss-120b")
            await conn.prompt(session_id=sid, prompt=text_prompt("and again"))
            assert "20b" in first_model and "120b" in fake_server.chat_bodies[-1]["model"]
            with pytest.raises(RequestError, match="unknown model"):
                await conn.set_config_option(config_id="model", session_id=sid, value="gpt-9")
            done = await conn.prompt(session_id=sid, prompt=text_prompt("/done"))
            assert done.stop_reason == "end_turn"
        return sid, client

    sid, client = asyncio.run(run())
    assert "task 1 done · 1 follow-up" in client.text()
    assert {c.name for c in client.of("available_commands_update")[0].available_commands} >= {"done", "debug"}
    assert any(u.current_mode_id == "gpt-oss-120b" for u in client.of("current_mode_update"))
    assert len(fake_server.chat_bodies) == 2  # /done made no model call
    rows = query(repo, "SELECT status, prompts FROM tasks WHERE session_id = ?", sid)
    assert [tuple(r) for r in rows] == [("done", 2)]


class EditorClient(RecordingClient):
    """A client that offers fs/*: it holds an unsaved buffer for calc.py and keeps the agent's
    writes in its buffers without saving them (so the disk shows whether the agent bypassed it)."""

    def __init__(self, buffers: dict[str, str]) -> None:
        super().__init__()
        self.buffers = dict(buffers)
        self.fs_reads: list[str] = []
        self.fs_writes: list[tuple[str, str]] = []

    async def read_text_file(self, path: str, session_id: str, limit=None, line=None, **kw):
        self.fs_reads.append(path)
        if path in self.buffers:
            return s.ReadTextFileResponse(content=self.buffers[path])
        return s.ReadTextFileResponse(content=Path(path).read_text())

    async def write_text_file(self, content: str, path: str, session_id: str, **kw):
        self.fs_writes.append((path, content))
        self.buffers[path] = content
        return s.WriteTextFileResponse()


def test_acp_reads_and_edits_go_through_the_editors_buffers(repo: Path, fake_server) -> None:
    calc = str(repo / "calc.py")
    unsaved = "def add(a, b):\n    return a - b  # UNSAVED-BUFFER\n"
    fake_server.add(FakeTurn(tool_calls=[FakeToolCall("read_file", {"path": "calc.py"}, id="r1")]))
    fake_server.add(FakeTurn(tool_calls=[FakeToolCall("edit", {
        "path": "calc.py", "old_string": "a - b  # UNSAVED-BUFFER", "new_string": "a + b"}, id="e1")]))
    fake_server.add(FakeTurn(content="edited in the editor"))

    async def run() -> EditorClient:
        client = EditorClient({calc: unsaved})
        async with spawn(client, repo, "--api-base", fake_server.url, "--approval", "full-auto") as (conn, _):
            await conn.initialize(protocol_version=1, client_capabilities=s.ClientCapabilities(
                fs=s.FileSystemCapabilities(read_text_file=True, write_text_file=True)))
            sid = (await conn.new_session(cwd=str(repo), mcp_servers=[])).session_id
            done = await conn.prompt(session_id=sid, prompt=text_prompt("fix add"))
            assert done.stop_reason == "end_turn"
        return client

    client = asyncio.run(run())
    # The model read the editor's unsaved text, and the edit matched it (not the disk's).
    said = client.text()  # notices (a warning, an error) explain a failure below
    results = [m["content"] for body in fake_server.chat_bodies for m in body["messages"]
               if m.get("role") == "tool" and m.get("tool_call_id") == "r1"]
    assert results and "UNSAVED-BUFFER" in results[0], said
    assert client.fs_writes == [(calc, "def add(a, b):\n    return a + b\n")], said
    assert calc in client.fs_reads
    assert (repo / "calc.py").read_text() == "def add(a, b):\n    return a - b\n"  # not bypassed
    finals = {u.tool_call_id: u for u in client.of("tool_call_update") if u.status}
    assert finals["e1"].status == "completed"


def test_acp_untrusted_project_settings_are_not_applied(repo: Path, fake_server) -> None:
    (repo / ".agent").mkdir()
    (repo / ".agent" / "config.toml").write_text('approval = "full-auto"\n')
    fake_server.add(FakeTurn(content="ok"))

    async def run() -> RecordingClient:
        client = RecordingClient()
        async with spawn(client, repo, "--api-base", fake_server.url) as (conn, _):
            await handshake(conn)
            sid = (await conn.new_session(cwd=str(repo), mcp_servers=[])).session_id
            await conn.prompt(session_id=sid, prompt=text_prompt("hi"))
        return client

    said = asyncio.run(run()).text()
    assert f"agent trust {repo}" in said and "not applied" in said


class HoldingClient(RecordingClient):
    """Keeps a permission request open until the test cancels the prompt, then answers
    "cancelled" as the protocol requires of a client that cancels."""

    def __init__(self) -> None:
        super().__init__()
        self.release = asyncio.Event()

    async def request_permission(self, options, session_id, tool_call, **kwargs):
        self.permissions.append((options, tool_call))
        self.asked.set()
        await self.release.wait()
        return s.RequestPermissionResponse(outcome=s.DeniedOutcome(outcome="cancelled"))


def test_acp_cancel_while_a_permission_is_pending(repo: Path, fake_server) -> None:
    marker = repo / "ran.txt"
    fake_server.add(FakeTurn(tool_calls=[FakeToolCall(
        "run_command", {"command": f"{sys.executable} -c \"open('ran.txt', 'w')\""}, id="c1")]))

    async def run() -> tuple[HoldingClient, object]:
        client = HoldingClient()
        async with spawn(client, repo, "--api-base", fake_server.url, "--approval", "suggest") as (conn, _):
            await handshake(conn)
            sid = (await conn.new_session(cwd=str(repo), mcp_servers=[])).session_id
            turn = asyncio.create_task(conn.prompt(session_id=sid, prompt=text_prompt("run it")))
            await asyncio.wait_for(client.asked.wait(), 60)
            await conn.cancel(session_id=sid)
            client.release.set()
            return client, await asyncio.wait_for(turn, 60)

    client, response = asyncio.run(run())
    assert response.stop_reason == "cancelled"
    assert not marker.exists()  # never approved, never run
    assert "no approval is pending" not in client.text()


def test_acp_sigterm_closes_sessions_and_exits_cleanly(repo: Path, fake_server) -> None:
    async def run() -> int | None:
        client = RecordingClient()
        async with spawn(client, repo, "--api-base", fake_server.url) as (conn, proc):
            await handshake(conn)
            await conn.new_session(cwd=str(repo), mcp_servers=[])
            proc.terminate()
            return await asyncio.wait_for(proc.wait(), 60)

    assert asyncio.run(run()) == 0
    log = (repo.parent / "data" / "logs" / "acp.log")
    assert log.is_file()  # logs went to the file (stdout carries only the protocol)


def test_acp_provider_error_is_a_request_error_and_the_session_goes_on(repo: Path, fake_server) -> None:
    from acp import RequestError

    fake_server.add(FakeTurn(status=401, error_message="Invalid API key"))
    fake_server.add(FakeTurn(content="second try fine"))

    async def run() -> RecordingClient:
        client = RecordingClient()
        async with spawn(client, repo, "--api-base", fake_server.url, "--model", "gpt-oss-120b") as (conn, _):
            await handshake(conn)
            sid = (await conn.new_session(cwd=str(repo), mcp_servers=[])).session_id
            with pytest.raises(RequestError, match="Invalid API key") as failed:
                await conn.prompt(session_id=sid, prompt=text_prompt("hi"))
            assert failed.value.data["realcost"]["reasons"] == ["error"]  # the figures still come
            again = await conn.prompt(session_id=sid, prompt=text_prompt("again"))
            assert again.stop_reason == "end_turn"
        return client

    assert "second try fine" in asyncio.run(run()).text()


def test_acp_check_failure_follow_up_runs_inside_one_prompt(repo: Path, fake_server) -> None:
    """--check: the task's check shows as a command; its failure makes the session follow up by
    itself, and the prompt answers only after the last turn (usage sent for each turn)."""
    fake_server.add(FakeTurn(content="All done."))  # the check will fail: add() still subtracts
    fake_server.add(FakeTurn(tool_calls=[FakeToolCall("apply_patch", {"patch": PATCH}, id="p1")]))
    fake_server.add(FakeTurn(content="Fixed for real."))
    check = f"{sys.executable} -c \"import calc, sys; sys.exit(calc.add(2, 3) != 5)\""

    async def run() -> tuple[RecordingClient, object]:
        client = RecordingClient()
        async with spawn(client, repo, "--api-base", fake_server.url, "--approval", "full-auto",
                         "--model", "gpt-oss-120b", "--check", check) as (conn, _):
            await handshake(conn)
            sid = (await conn.new_session(cwd=str(repo), mcp_servers=[])).session_id
            return client, await conn.prompt(session_id=sid, prompt=text_prompt("fix add"))

    client, response = asyncio.run(run())
    assert response.stop_reason == "end_turn"
    checks = [u for u in client.of("tool_call_update") if u.tool_call_id.startswith("check-")]
    assert [u.status for u in checks] == ["failed", "completed"]
    usage = [p for m, p in client.ext if m.endswith("realcost/usage")]
    assert [(u["reasons"], u["continues"]) for u in usage] == [(["done"], True), (["done"], False)]
    assert response.field_meta["realcost"]["requests"] == 3
    assert "Fixed for real." in client.text()
