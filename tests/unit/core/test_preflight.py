"""The preflight exists once, in the core: start-up warnings and a missing key are events with
a machine-readable `code` (agent/preflight.py), whatever front-end consumes them."""
from __future__ import annotations

import asyncio
import os
from pathlib import Path

from realcost_agent.agent import events as ev
from realcost_agent.agent.config import Settings
from realcost_agent.agent.ops import SwitchModel
from realcost_agent.agent.preflight import check_specs
from realcost_agent.agent.session import Session
from realcost_agent.providers.scripted import ScriptedProvider

KEY = {"OPENROUTER_API_KEY": "sk-or-canary-1234567890"}


def session(root: Path, *, keys: dict[str, str], interactive: bool = False,
            warnings: tuple[str, ...] = (), real_provider: bool = False, **settings) -> Session:
    env = {"PATH": os.environ["PATH"], "HOME": str(root), "AGENT_DATA_HOME": str(root / ".data"),
           **keys}
    settings.setdefault("model", "gpt-oss-120b")
    settings.setdefault("backend", "openrouter")
    settings.setdefault("sandbox", "off")
    # The headless key check is for the providers the session makes itself; a test's scripted
    # provider brings its own credentials (no request is made either way: it stops first).
    factory = None if real_provider else (lambda m: ScriptedProvider([]))
    return Session(Settings(**settings), root, env=env, interactive=interactive,
                   provider_factory=factory, warnings=warnings)


async def drain(s: Session, until: type | None = None, timeout: float = 10) -> list[ev.Event]:
    seen: list[ev.Event] = []

    async def collect() -> None:
        while (event := await s.next_event()) is not None:
            seen.append(event)
            if until is not None and isinstance(event, until):
                return

    await asyncio.wait_for(collect(), timeout)
    return seen


async def test_a_headless_session_without_its_key_says_so_once_and_stops(tmp_path: Path) -> None:
    s = session(tmp_path, keys={}, real_provider=True)
    await s.start()
    events = await drain(s)  # the stream ends by itself: nothing else will come
    assert [type(e) for e in events] == [ev.Error]
    (error,) = events
    assert error.fatal and error.kind == "config" and error.code == ev.CODE_MISSING_KEY
    assert "OPENROUTER_API_KEY" in error.message
    assert not (tmp_path / ".data").exists()  # no journal for a session that never ran
    await s.close()
    # The same session with a scripted provider starts: it needs no key.
    (tmp_path / "x").mkdir()
    scripted = session(tmp_path / "x", keys={})
    await scripted.start()
    assert isinstance((await drain(scripted, until=ev.SessionStarted))[0], ev.SessionStarted)
    await scripted.close()


async def test_an_interactive_session_starts_and_reports_the_missing_key(tmp_path: Path) -> None:
    s = session(tmp_path, keys={}, interactive=True, warnings=("unknown key `colour` ignored",))
    await s.start()
    s.submit(SwitchModel("gpt-oss-20b"))
    events = await drain(s, until=ev.ModelSwitched)
    kinds = [(type(e).__name__, getattr(e, "code", None)) for e in events]
    assert kinds[:3] == [("SessionStarted", None), ("Warning", ev.CODE_CONFIG),
                         ("Error", ev.CODE_MISSING_KEY)]
    # Switching to another model without its key: said again, as a warning with the same code.
    more = await drain(s, until=ev.Warning)
    assert more[-1].code == ev.CODE_MISSING_KEY and "gpt-oss-20b" in more[-1].message
    await s.close()


async def test_a_session_with_its_key_only_warns(tmp_path: Path) -> None:
    s = session(tmp_path, keys=KEY, warnings=("w1",))
    await s.start()
    events = await drain(s, until=ev.Warning)
    assert isinstance(events[0], ev.SessionStarted) and events[0].litellm_id
    assert events[-1] == ev.Warning("w1", code=ev.CODE_CONFIG)
    await s.close()
    rest = await drain(s)
    assert not any(isinstance(e, ev.Error) for e in rest)


def test_models_without_a_session_use_the_same_preflight() -> None:
    settings = Settings()
    problems = dict(check_specs(["gpt-oss-12b", "gpt-oss-120b", "o4-mini"], settings, env={}))
    assert problems["gpt-oss-12b"].code == ev.CODE_UNKNOWN_MODEL
    assert "did you mean gpt-oss-120b" in problems["gpt-oss-12b"].message
    assert problems["gpt-oss-120b"].code == ev.CODE_MISSING_KEY
    assert check_specs(["gpt-oss-120b"], settings, env=KEY) == []
