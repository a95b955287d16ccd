"""Pilot helpers: the real app over a real Session whose provider is scripted (no HTTP)."""
from __future__ import annotations

import asyncio
import subprocess
from pathlib import Path
from typing import Any, Callable

from realcost_agent.agent.config import Settings
from realcost_agent.agent.session import Session
from realcost_agent.providers.scripted import ScriptedProvider
from realcost_agent.tui.app import AgentApp
from realcost_agent.tui.history import History

KEY_ENV = {"OPENROUTER_API_KEY": "sk-or-test-key-0000", "PATH": "/usr/bin:/bin"}


def make_repo(tmp_path: Path) -> Path:
    root = tmp_path / "proj"
    root.mkdir()
    (root / "calc.py").write_text("def add(a, b):\n    return a - b\n")
    subprocess.run(["git", "init", "-q"], cwd=root, check=True)
    return root


def make_app(
    root: Path,
    turns: list | ScriptedProvider,
    *,
    env: dict[str, str] | None = None,
    history: History | None = None,
    provider_factory: Callable[[Any], Any] | None = None,
    resume: Any = None,
    **settings: Any,
) -> tuple[AgentApp, ScriptedProvider]:
    provider = turns if isinstance(turns, ScriptedProvider) else ScriptedProvider(turns)
    settings.setdefault("approval", "full-auto")
    settings.setdefault("model", "gpt-oss-120b")  # pinned: routing ("auto") is not under test
    config = Settings(**settings)

    # Journals and checkpoints go under AGENT_DATA_HOME: keep them in the test's directory.
    session_env = {**(KEY_ENV if env is None else env), "AGENT_DATA_HOME": str(root.parent / "data")}

    def factory(s: Settings, r: Path, warnings: list[str]) -> Session:
        return Session(
            s, r, interactive=True, env=session_env, warnings=warnings,
            provider_factory=provider_factory or (lambda model: provider),
            output_dir=root.parent / "outputs", resume=resume,
        )

    app = AgentApp(config, root, session_factory=factory, resume=resume,
                   history=history or History(root.parent / "history.jsonl"))
    return app, provider


async def wait_for(pilot, condition: Callable[[], Any], timeout: float = 10.0, what: str = "") -> None:
    """Let the app run until `condition()` holds (fails the test after `timeout`)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what or condition}")
        await pilot.pause(0.02)


async def ready(pilot) -> None:
    await wait_for(pilot, lambda: pilot.app.ready, what="session ready")


async def type_and_send(pilot, text: str) -> None:
    pilot.app.prompt.set_text(text)
    await pilot.press("enter")


async def answered(pilot, turns: int = 1) -> None:
    app = pilot.app
    await wait_for(pilot, lambda: len(app.query(".turn-end")) >= turns and not app.turn_running,
                   what=f"{turns} finished turn(s)")
    await pilot.pause(0.1)  # one more flush tick


def screen_text(app) -> str:
    """The screen as plain text (what a person would read), from the compositor."""
    import io

    from rich.console import Console

    width, height = app.size
    console = Console(width=width, height=height, file=io.StringIO(), force_terminal=True,
                      color_system=None, record=True, legacy_windows=False, safe_box=False)
    console.print(app.screen._compositor.render_update(full=True, screen_stack=app._background_screens))
    return console.export_text()
