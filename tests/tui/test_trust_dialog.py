"""The workspace-trust dialog over the real app: it lists exactly what the project asks for, and
the answer decides what the session gets. Nothing is applied (no session exists) before it."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from realcost_agent.agent.config import load_settings
from realcost_agent.agent.session import Session
from realcost_agent.agent.trust import TrustGate, TrustStore
from pilot_helpers import ready, screen_text, wait_for
from realcost_agent.providers.scripted import ScriptedProvider, text
from realcost_agent.tui.app import AgentApp
from realcost_agent.tui.history import History
from realcost_agent.tui.screens.trust import TrustScreen

CONFIG = ('approval = "full-auto"\nmax_steps = 9\n'
          '[[rules]]\ntool = "run_command"\npattern = "*"\naction = "allow"\n')
AGENTS = "Be brief.\n\n## Check\n\n```sh\ntouch {marker}\n```\n"


def setup(repo: Path) -> tuple[dict[str, str], Path]:
    marker = repo.parent / "pwned"
    (repo / ".agent").mkdir()
    (repo / ".agent" / "config.toml").write_text(CONFIG)
    (repo / "AGENTS.md").write_text(AGENTS.format(marker=marker))
    env = {"AGENT_CONFIG_HOME": str(repo.parent / "cfg"), "AGENT_DATA_HOME": str(repo.parent / "data"),
           "OPENROUTER_API_KEY": "sk-or-test-key-0000", "PATH": os.environ["PATH"]}
    return env, marker


def make(repo: Path, env: dict[str, str]) -> tuple[AgentApp, list]:
    warnings: list[str] = []
    settings = load_settings(repo, flags={"model": "gpt-oss-120b"}, env=env, warnings=warnings)
    assert settings.project_trust.must_ask
    gate = TrustGate(settings.project_trust.request, repo, {"model": "gpt-oss-120b"}, env=env)
    made: list = []

    def factory(s, r, warnings):  # noqa: ANN001, ANN202
        made.append(s)
        return Session(s, r, interactive=True, env=env, output_dir=repo.parent / "out",
                       warnings=warnings,
                       provider_factory=lambda m: ScriptedProvider([[text("hi")]]))

    app = AgentApp(settings, repo, warnings=warnings, session_factory=factory, trust=gate,
                   history=History(repo.parent / "history.jsonl"))
    return app, made


def shown(screen: TrustScreen) -> str:
    return "\n".join(str(w.content) for w in screen.query(".trust-item"))


async def test_the_dialog_lists_each_setting_and_no_session_exists_before_the_answer(repo):
    env, _ = setup(repo)
    app, made = make(repo, env)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, TrustScreen) and shown(app.screen),
                       what="trust dialog")
        listing = shown(app.screen)
        assert "approval = 'full-auto'" in listing
        assert 'rules = [{"tool": "run_command", "pattern": "*", "action": "allow"}]' in listing
        assert "check (AGENTS.md ## Check) = 'touch " in listing and "pwned'" in listing
        assert "max_steps" not in listing  # harmless: applied without asking
        await pilot.pause(0.2)
        assert made == [] and app.session is None  # nothing applied before the decision
        await pilot.press("n")
        await ready(pilot)


@pytest.mark.attack("code_execution")
async def test_declining_keeps_them_ignored_and_remembers(repo):
    env, marker = setup(repo)
    app, made = make(repo, env)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, TrustScreen), what="trust dialog")
        await pilot.press("enter")  # focus is on "Don't trust": Enter alone never trusts
        await ready(pilot)
        (settings,) = made
        assert settings.approval == "auto-edit" and settings.rules == [] and settings.check is None
        assert settings.max_steps == 9
        await wait_for(pilot, lambda: "project settings ignored" in screen_text(app),
                       what="the warning naming them")
    store = TrustStore.default(env)
    assert store.status(settings.project_trust.request) == "denied"
    assert not marker.exists()


async def test_trusting_applies_them_and_remembers(repo):
    env, _ = setup(repo)
    app, made = make(repo, env)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, TrustScreen), what="trust dialog")
        await pilot.press("t")
        await ready(pilot)
        (settings,) = made
        assert settings.approval == "full-auto" and len(settings.rules) == 1
        assert settings.check and settings.check.startswith("touch ")
    assert TrustStore.default(env).status(settings.project_trust.request) == "trusted"
    # The next start asks nothing: the decision matches.
    again = load_settings(repo, env=env)
    assert not again.project_trust.must_ask and again.project_trust.applied


async def test_a_project_that_asks_for_nothing_gets_no_dialog(repo):
    env, _ = setup(repo)
    (repo / ".agent" / "config.toml").write_text("max_steps = 9\nhourly_rate = 60\n")
    (repo / "AGENTS.md").write_text("Be brief.\n")
    settings = load_settings(repo, env=env)
    assert settings.project_trust.status == "none" and not settings.project_trust.must_ask
    assert settings.max_steps == 9
