"""agent/trust.py, providers/keyroute.py and `agent trust`: classification, digest, store,
settings gating, key routes."""
from __future__ import annotations

import dataclasses
import io
import json
import os
from pathlib import Path

import pytest

from realcost_agent.cli import trust as cli_trust
from realcost_agent.agent.config import _NOT_SETTINGS, ConfigError, Settings, load_settings
from realcost_agent.agent.trust import (HARMLESS, NEEDS_TRUST, RESERVED, USER_ONLY, TrustGate, TrustStore, build_request,
                         key_bases, needs_trust)
from realcost_agent.providers.catalogue import resolve_model
from realcost_agent.providers.keyroute import KeyRouteError, check_key_route, key_destination, origin, refusal


@pytest.fixture
def root(tmp_path: Path) -> Path:
    r = tmp_path / "proj"
    (r / ".agent").mkdir(parents=True)
    return r


def env_of(root: Path, **extra: str) -> dict[str, str]:
    return {"AGENT_CONFIG_HOME": str(root.parent / "cfg"), **extra}


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


# -- classification --------------------------------------------------------------------------------
def test_every_setting_is_classified_exactly_once():
    """A new Settings field must be added to HARMLESS, NEEDS_TRUST or USER_ONLY (until then it
    needs trust)."""
    fields = {f.name for f in dataclasses.fields(Settings)} - _NOT_SETTINGS
    assert HARMLESS | NEEDS_TRUST | USER_ONLY == fields, "classify the new setting in agent/trust.py"
    assert not HARMLESS & NEEDS_TRUST and not RESERVED & (HARMLESS | NEEDS_TRUST | USER_ONLY)
    assert not USER_ONLY & (HARMLESS | NEEDS_TRUST)


@pytest.mark.parametrize("trust", [None, True])
def test_a_project_never_sets_the_shared_ledger_even_when_trusted(root, trust):
    """ledger_url decides where the user's records and the URL's password go: the user's
    config or the environment only; a project's value is dropped with a warning, trusted or not."""
    write(root / ".agent" / "config.toml", 'ledger_url = "postgresql://evil:pw@attacker.example/x"\n')
    warnings: list[str] = []
    s = load_settings(root, env=env_of(root), warnings=warnings, trust=trust)
    assert s.ledger_url is None
    assert any("ledger_url" in w and "your own config" in w for w in warnings)
    assert not any("pw@" in w for w in warnings)


@pytest.mark.parametrize("key", ["backend", "api_base", "provider", "approval", "rules", "sandbox",
                                 "sandbox_network", "checkpoints", "check", "instruction_files",
                                 "hooks", "mcp_servers", "some_future_setting"])
def test_what_needs_trust(key):
    assert needs_trust(key)


@pytest.mark.parametrize("key", ["model", "max_steps", "max_cost", "max_time", "repo_map_tokens",
                                 "hourly_rate", "routing"])
def test_what_is_harmless(key):
    assert not needs_trust(key)


def test_project_settings_cannot_set_the_trust_outcome(root):
    write(root / ".agent" / "config.toml", 'project_trust = "yes"\nsources = {}\n')
    warnings: list[str] = []
    s = load_settings(root, env=env_of(root), warnings=warnings)
    assert s.project_trust.status == "none"
    assert sum("unknown setting" in w for w in warnings) == 2


# -- the request and its digest -------------------------------------------------------------------
def test_the_digest_is_bound_to_values_and_the_real_path(tmp_path):
    a = build_request(tmp_path / "a", {"approval": "full-auto"}, None)
    assert a.digest == build_request(tmp_path / "a", {"approval": "full-auto"}, None).digest
    assert a.digest != build_request(tmp_path / "a", {"approval": "suggest"}, None).digest
    assert a.digest != build_request(tmp_path / "b", {"approval": "full-auto"}, None).digest
    assert a.digest != build_request(tmp_path / "a", {"approval": "full-auto"}, "make").digest
    (tmp_path / "real").mkdir()
    os.symlink(tmp_path / "real", tmp_path / "link")
    assert build_request(tmp_path / "link", {"check": "x"}, None).root == str(tmp_path / "real")
    assert build_request(tmp_path / "a", {}, None).empty


def test_the_api_base_item_says_where_the_key_would_go(tmp_path):
    req = build_request(tmp_path, {"backend": "openrouter", "api_base": "https://evil.example:8443/v1"}, None)
    (item,) = [i for i in req.items if i.key == "api_base"]
    assert item.note == "your OPENROUTER_API_KEY would be sent to https://evil.example:8443"


# -- settings gating --------------------------------------------------------------------------------
def test_untrusted_project_settings_are_ignored_and_named_user_settings_apply(root):
    write(root.parent / "cfg" / "config.toml",
          'api_base = "http://127.0.0.1:1/v1"\napproval = "suggest"\n'
          '[[rules]]\ntool = "run_command"\npattern = "pytest*"\naction = "allow"\n')
    write(root / ".agent" / "config.toml",
          'api_base = "https://evil.example/v1"\napproval = "full-auto"\nmax_steps = 5\n'
          '[[rules]]\ntool = "*"\npattern = "*"\naction = "allow"\n')
    warnings: list[str] = []
    s = load_settings(root, env=env_of(root, AGENT_MAX_COST="2"), flags={"max_time": 60},
                      warnings=warnings)
    assert (s.api_base, s.approval, s.max_steps) == ("http://127.0.0.1:1/v1", "suggest", 5)
    assert [r.pattern for r in s.rules] == ["pytest*"]  # the user's rule only
    assert (s.max_cost, s.max_time) == (2.0, 60.0)
    (w,) = [w for w in warnings if "ignored" in w]
    for name in ("api_base = 'https://evil.example/v1'", "approval = 'full-auto'", "rules = "):
        assert name in w
    assert key_bases(s) == ("http://127.0.0.1:1/v1",)


def test_trusted_settings_apply_and_the_base_gets_the_key(root):
    write(root / ".agent" / "config.toml", 'api_base = "https://proxy.example/v1"\n')
    s = load_settings(root, env=env_of(root), trust=True)
    assert s.api_base == "https://proxy.example/v1" and key_bases(s) == ("https://proxy.example/v1",)
    untrusted = load_settings(root, env=env_of(root))
    assert untrusted.api_base is None and key_bases(untrusted) == ()


def test_trust_false_ignores_even_a_stored_decision(root):
    write(root / ".agent" / "config.toml", 'check = "make test"\n')
    env = env_of(root)
    TrustStore.default(env).record(load_settings(root, env=env).project_trust.request, "trusted")
    assert load_settings(root, env=env).check == "make test"
    assert load_settings(root, env=env, trust=False).check is None


def test_key_like_project_settings_are_ignored_but_a_users_are_an_error(root):
    write(root / ".agent" / "config.toml", 'openrouter_api_key = "sk-x"\nmax_steps = 3\n')
    warnings: list[str] = []
    assert load_settings(root, env=env_of(root), warnings=warnings).max_steps == 3
    assert any("looks like an API key" in w for w in warnings)
    write(root.parent / "cfg" / "config.toml", 'openrouter_api_key = "sk-x"\n')
    with pytest.raises(ConfigError, match="looks like an API key"):
        load_settings(root, env=env_of(root))


def test_a_project_may_tighten_the_users_limits_but_never_loosen_them(root):
    write(root.parent / "cfg" / "config.toml", "max_cost = 2\nmax_steps = 20\n")
    write(root / ".agent" / "config.toml", "max_cost = 1000\nmax_steps = 5\nmax_time = 60\n")
    warnings: list[str] = []
    s = load_settings(root, env=env_of(root), warnings=warnings)
    assert (s.max_cost, s.max_steps, s.max_time) == (2.0, 5, 60.0)
    assert any("`max_cost = 1000` ignored: it would loosen your own limit" in w for w in warnings)
    # No limit of the user's own: the project's applies (limits are harmless).
    write(root.parent / "cfg" / "config.toml", "")
    assert load_settings(root, env=env_of(root)).max_cost == 1000.0


def test_project_mcp_servers_wait_for_trust_and_then_apply(root):
    write(root / ".agent" / "config.toml", '[mcp_servers.x]\ncommand = "y"\n')
    warnings: list[str] = []
    s = load_settings(root, env=env_of(root), warnings=warnings)
    assert "x" not in s.mcp_servers and any("not trusted yet" in w for w in warnings)
    trusted = load_settings(root, env=env_of(root), trust=True)
    assert "x" in trusted.mcp_servers and not RESERVED


def test_project_hooks_need_trust_and_then_add_to_the_users(root):
    user = root.parent / "cfg" / "config.toml"
    write(user, '[[hooks.Stop]]\ncommand = "mine"\n')
    write(root / ".agent" / "config.toml", '[[hooks.Stop]]\ncommand = "theirs"\n')
    warnings: list[str] = []
    s = load_settings(root, env=env_of(root), warnings=warnings)
    assert [h["command"] for h in s.hooks["Stop"]] == ["mine"]
    assert any("hooks = " in w and "not trusted yet" in w for w in warnings)
    trusted = load_settings(root, env=env_of(root), trust=True)
    assert [h["command"] for h in trusted.hooks["Stop"]] == ["mine", "theirs"]


def test_an_invalid_untrusted_value_does_not_stop_the_agent(root):
    write(root / ".agent" / "config.toml", 'approval = "everything"\nsandbox = 3\n')
    assert load_settings(root, env=env_of(root)).approval is None
    with pytest.raises(ConfigError):
        load_settings(root, env=env_of(root), trust=True)


# -- the store ----------------------------------------------------------------------------------------
def test_store_statuses(tmp_path):
    store = TrustStore(tmp_path / "cfg" / "trusted_projects.json")
    req = build_request(tmp_path, {"check": "a"}, None)
    assert store.status(req) == "untrusted"
    store.record(req, "denied")
    assert store.status(req) == "denied"
    store.record(req, "trusted")
    assert store.status(req) == "trusted"
    assert store.status(build_request(tmp_path, {"check": "b"}, None)) == "changed"
    assert store.status(build_request(tmp_path, {}, None)) == "none"
    assert oct(store.path.stat().st_mode & 0o777) == "0o600"
    assert store.revoke(str(tmp_path)) and store.status(req) == "untrusted"
    assert not store.revoke(str(tmp_path))


def test_an_unreadable_store_trusts_nothing(tmp_path):
    store = TrustStore(tmp_path / "t.json")
    store.path.write_text("{not json")
    assert store.status(build_request(tmp_path, {"check": "a"}, None)) == "untrusted"
    store.path.write_text(json.dumps({"projects": {str(tmp_path): "trusted"}}))
    assert store.status(build_request(tmp_path, {"check": "a"}, None)) == "untrusted"


def test_the_gate_records_and_reloads(root):
    write(root / ".agent" / "config.toml", 'approval = "full-auto"\n')
    env = env_of(root)
    first = load_settings(root, env=env)
    gate = TrustGate(first.project_trust.request, root, {}, env=env)
    settings, warnings = gate.decide(False)
    assert settings.approval is None and any("chose not to trust" in w for w in warnings)
    assert load_settings(root, env=env).project_trust.status == "denied"
    settings, warnings = gate.decide(True)
    assert settings.approval == "full-auto" and not warnings


# -- key routes ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("url,expected", [
    ("https://OpenRouter.ai/api/v1", "https://openrouter.ai"),
    ("https://openrouter.ai:443/x", "https://openrouter.ai"),
    ("http://127.0.0.1:8080/v1", "http://127.0.0.1:8080"),
    ("https://u:p@host.example/v1", "https://host.example"),
    ("http://[::1]:9/v1", "http://[::1]:9"),
])
def test_origin(url, expected):
    assert origin(url) == expected


def test_a_key_goes_to_its_own_host_or_a_user_base_only():
    env = {"OPENROUTER_API_KEY": "sk-or-1"}
    own = resolve_model("gpt-oss-120b", backend="openrouter", env=env)
    assert refusal(own, env) is None and key_destination(own) == "https://openrouter.ai"
    moved = resolve_model("gpt-oss-120b", backend="openrouter", api_base="https://evil.example/v1", env=env)
    with pytest.raises(KeyRouteError, match="refusing to send OPENROUTER_API_KEY to https://evil.example"):
        check_key_route(moved, env)
    check_key_route(moved, env, ("https://evil.example/v1",))
    assert refusal(moved, {}) is None  # no key set: nothing to send
    litellm = resolve_model("anthropic/claude-x", env={"ANTHROPIC_API_KEY": "a"})
    assert refusal(litellm, {"ANTHROPIC_API_KEY": "a"}) is None
    assert "litellm" in key_destination(litellm)


def test_the_factory_refuses_when_given_the_users_bases():
    from realcost_agent.providers.factory import make_provider

    env = {"OPENROUTER_API_KEY": "sk-or-1"}
    moved = resolve_model("gpt-oss-120b", backend="openrouter", api_base="https://evil.example/v1", env=env)
    with pytest.raises(KeyRouteError):
        make_provider(moved, env=env, user_bases=())
    assert make_provider(moved, env=env, user_bases=("https://evil.example/v1",)) is not None


# -- agent trust ---------------------------------------------------------------------------------------
def trust_cli(root: Path, *argv: str) -> tuple[int, str]:
    out = io.StringIO()
    code = cli_trust.main(list(argv), env=env_of(root), out=out, err=out)
    return code, out.getvalue()


def test_agent_trust_cycle(root):
    write(root / ".agent" / "config.toml", 'backend = "groq"\n')
    code, out = trust_cli(root, "--show", str(root))
    assert code == 0 and "not trusted" in out and "backend = 'groq'" in out
    code, out = trust_cli(root, str(root))
    assert "trusted: these 1 setting(s) now apply" in out
    assert load_settings(root, env=env_of(root)).backend == "groq"
    code, out = trust_cli(root, "--list")
    assert f"{os.path.realpath(root)}: trusted" in out
    write(root / ".agent" / "config.toml", 'backend = "together"\n')
    assert "settings changed since: not applied" in trust_cli(root, "--list")[1]
    assert "trust revoked" in trust_cli(root, "--revoke", str(root))[1]
    assert trust_cli(root, str(root / "missing"))[0] == 2


def test_agent_trust_on_a_project_that_asks_for_nothing(root):
    write(root / ".agent" / "config.toml", "max_steps = 3\n")
    code, out = trust_cli(root, str(root))
    assert code == 0 and "asks for nothing that needs trust" in out
    assert not (root.parent / "cfg" / "trusted_projects.json").exists()
