"""What issue 19's speed-ups change, and that each keeps what it must: the journal writes every
record at once and fsyncs per step; the ledger's git lookup runs ahead but records the same
commit; httpx loads without its CLI and stays whole; the provider import thread is harmless."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from realcost_agent.agent import events as ev
from realcost_agent.agent.config import Settings
from realcost_agent.agent.journal import Journal, load
from realcost_agent.agent.ledger import Ledger
from realcost_agent.agent.recorder import LedgerRecorder


@pytest.fixture
def fsyncs(monkeypatch):
    calls: list[int] = []
    real = os.fsync

    def counting(fd: int) -> None:
        calls.append(fd)
        real(fd)

    monkeypatch.setattr(os, "fsync", counting)
    return calls


def test_journal_writes_each_record_at_once_and_fsyncs_once_per_step(tmp_path: Path, fsyncs) -> None:
    path = tmp_path / "s.jsonl"
    journal = Journal(path, lambda s: s)
    journal.meta(session_id="s")
    journal.message({"role": "system", "content": "sys"})
    journal.message({"role": "user", "content": "fix it"})
    journal.message({"role": "assistant", "content": "", "tool_calls": [{"id": "c1"}]})
    # On disk already (a killed process loses nothing), but no fsync yet.
    assert [m["role"] for m in load(path).messages] == ["system", "user", "assistant"]
    assert fsyncs == []
    journal.event(ev.ToolCallStarted("t1", "c1", "run_command", {}))  # before the side effect
    assert len(fsyncs) == 1
    journal.event(ev.ToolCallStarted("t1", "c2", "run_command", {}))  # nothing new: no fsync
    assert len(fsyncs) == 1
    journal.message({"role": "tool", "tool_call_id": "c1", "content": "ok"})
    journal.event(ev.TurnFinished("t1", "done", "ok", 1, (), 1.0))  # journaled and synced
    assert len(fsyncs) == 2
    journal.message({"role": "user", "content": "more"})
    journal.close()  # the tail is synced at close
    assert len(fsyncs) == 3
    assert load(path).messages[-1]["content"] == "more"


def test_a_journal_that_cannot_sync_says_so(tmp_path: Path, monkeypatch) -> None:
    journal = Journal(tmp_path / "s.jsonl", lambda s: s)

    def broken(fd: int) -> None:
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(os, "fsync", broken)
    journal.message({"role": "user", "content": "x"})
    journal.sync()
    assert journal.failed and "Input/output error" in journal.failed


def test_the_ledger_records_the_commit_looked_up_ahead(tmp_path: Path) -> None:
    looked: list[tuple[str, str]] = []

    def git(root):  # noqa: ANN001
        looked.append((str(root), threading.current_thread().name))
        return "c0ffee"

    rec = LedgerRecorder(Ledger(tmp_path / "l.sqlite3"), Settings(), git=git)
    rec.prefetch_head("/proj")
    rec(ev.SessionStarted("s1", "/proj", "gpt-oss-20b", "openrouter", "0.1.0"))
    assert looked == [("/proj", "agent-git-head")]  # once, in the lookup thread
    row = rec.ledger.conn.execute("SELECT git_commit FROM sessions").fetchone()
    assert row[0] == "c0ffee" and rec.commit == "c0ffee"
    rec.close()


def test_a_lookup_for_another_root_is_not_used(tmp_path: Path) -> None:
    rec = LedgerRecorder(Ledger(tmp_path / "l.sqlite3"), Settings(),
                         git=lambda root: "for-" + str(root))
    rec.prefetch_head("/elsewhere")
    rec(ev.SessionStarted("s1", "/proj", "gpt-oss-20b", "openrouter", "0.1.0"))
    assert rec.commit == "for-/proj"
    rec.close()


def _python(code: str) -> dict:
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def test_httpx_loads_without_its_command_line_client_and_works() -> None:
    got = _python(
        "import json, sys\n"
        "import realcost_agent.providers.openai_compat as oc\n"
        "import httpx\n"
        "r = httpx.Response(200, json={'a': 1})\n"
        "print(json.dumps({'cli': [m for m in ('click', 'pygments', 'httpx._main') if m in sys.modules],"
        " 'marker': 'httpx._main' in sys.modules, 'json': r.json(), 'client': hasattr(httpx, 'AsyncClient')}))\n")
    assert got == {"cli": [], "marker": False, "json": {"a": 1}, "client": True}


def test_the_background_import_loads_the_provider_and_the_cli_still_imports() -> None:
    got = _python(
        "import json, sys\n"
        "from realcost_agent.providers.warm import start_background_import\n"
        "t = start_background_import()\n"
        "from realcost_agent.agent.session import Session\n"  # the main thread's own imports, meanwhile
        "t.join(60)\n"
        "import httpx._main\n"  # whoever wants httpx's CLI later still gets it
        "import ssl\n"
        "from realcost_agent.providers import warm\n"
        "built = list(warm._ssl_context)\n"  # what the thread left: the one context, built ahead
        "ctx = warm.ssl_context()\n"
        "print(json.dumps({'loaded': 'realcost_agent.providers.openai_compat' in sys.modules,"
        " 'again': start_background_import() is None,"
        " 'tls': isinstance(ctx, ssl.SSLContext) and ctx.verify_mode == ssl.CERT_REQUIRED"
        " and ctx.check_hostname, 'ahead': built == [ctx], 'shared': warm.ssl_context() is ctx}))\n")
    assert got == {"loaded": True, "again": True, "tls": True, "ahead": True, "shared": True}


@pytest.mark.parametrize("body, status, out, err", [
    ("print('answer', end=''); return 3", 3, "answer|atexit ran", ""),
    ("raise SystemExit('bad flag')", 1, "|atexit ran", "bad flag"),
    ("raise SystemExit(None)", 0, "|atexit ran", ""),
])
def test_the_quick_exit_keeps_exit_codes_output_and_exit_handlers(body, status, out, err) -> None:
    code = (
        "import atexit, sys\n"
        "from realcost_agent.cli import main as m\n"
        "atexit.register(lambda: print('|atexit ran', end=''))\n"  # flushed after the handlers
        f"def fake():\n    {body}\n"
        "m.main = fake\n"
        "m.entry()\n"
        "print('not reached')\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                          stdin=subprocess.DEVNULL)
    assert (proc.returncode, proc.stdout, proc.stderr.strip()) == (status, out, err)


async def test_the_tools_load_once_the_first_request_has_left_not_while_it_is_built(tmp_path: Path) -> None:
    """Their import (pydantic and every tool) would share the one interpreter with the request
    being built; started when the request leaves, it runs while the model thinks."""
    import asyncio

    from realcost_agent.agent.session import Session
    from realcost_agent.providers.base import TextDelta, Usage
    from realcost_agent.providers.recovery import mark_request_sent
    from realcost_agent.tools.registry import default_registry

    cache = tmp_path / "cache"
    default_registry(cache_dir=cache).schemas()  # a warm schema cache, as after a first run
    registry = default_registry(cache_dir=cache)
    seen: list[tuple[str, bool]] = []

    def loading() -> bool:
        return registry.loaded or registry._loader is not None

    class Provider:
        name = "watch"

        async def aclose(self):
            return None

        async def stream(self, messages, tools, model):
            seen.append(("building", loading()))
            mark_request_sent()
            seen.append(("left", loading()))
            yield TextDelta("ok")
            yield Usage(5, 1)

    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "AGENT_DATA_HOME": str(tmp_path / "d")}
    session = Session(Settings(ledger=False, checkpoints=False), tmp_path, env=env,
                      provider_factory=lambda m: Provider(), registry=registry,
                      output_dir=tmp_path / "out")
    from turnrun import run_turn

    await asyncio.wait_for(run_turn(session, "hi"), 30)
    await session.close()
    assert seen == [("building", False), ("left", True)]
    registry.get("edit")  # and the load finishes: the tools are there
    assert registry.loaded


def test_the_direct_provider_tells_the_watchers_once_the_body_is_on_the_wire() -> None:
    """openai_compat marks the request before its client's first-use set-up and tells the
    on_request_sent watchers only from httpcore's trace, once per request that left."""
    import asyncio

    from fakeserver import FakeOpenAIServer, FakeTurn

    from realcost_agent.providers import recovery
    from realcost_agent.providers.catalogue import resolve_model
    from realcost_agent.providers.factory import make_provider

    told: list[int] = []
    with FakeOpenAIServer() as server:
        server.add(FakeTurn(content="one"), FakeTurn(content="two"))
        model = resolve_model("gpt-oss-20b", api_base=server.url, env={})
        provider = make_provider(model, force="direct", env={})
        remove = recovery.on_request_sent(lambda: told.append(len(server.model_requests)))

        async def go() -> None:
            try:
                for _ in range(2):
                    with recovery.request_timer() as marks:
                        async for _ in provider.stream([{"role": "user", "content": "hi"}], [], model):
                            pass
                    assert len(marks) == 1
            finally:
                await provider.aclose()

        try:
            asyncio.run(go())
        finally:
            remove()
    assert len(told) == 2 and len(server.model_requests) == 2
    # Not at the mark (before the client's set-up): a watcher added at the mark sees nothing.
    calls: list[str] = []
    remove = recovery.on_request_sent(lambda: calls.append("x"))
    try:
        recovery.mark_request_sent(on_wire_later=True)
        assert calls == []
        recovery.mark_request_sent()
        assert calls == ["x"]
    finally:
        remove()
