from pathlib import Path

import pytest

from realcost_agent.agent.config import ConfigError, load_settings


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    return {"AGENT_CONFIG_HOME": str(tmp_path / "user"), **extra}


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def test_precedence_defaults_user_project_env_flags(tmp_path):
    root = tmp_path / "proj"
    _write(tmp_path / "user" / "config.toml", 'model = "o4-mini"\nmax_steps = 7\nhourly_rate = 50\n')
    _write(root / ".agent" / "config.toml", 'max_steps = 5\nbackend = "groq"\n')
    env = _env(tmp_path, AGENT_BACKEND="together", AGENT_MAX_COST="0.5")
    s = load_settings(root, flags={"max_cost": 0.25, "model": None}, env=env)
    assert s.model == "o4-mini"  # user file; the None flag does not override
    assert s.max_steps == 5  # project beats user (a project may tighten, never loosen, a limit)
    assert s.backend == "together"  # env beats project
    assert s.max_cost == 0.25  # flag beats env
    assert s.hourly_rate == 50.0
    assert s.sources["max_steps"].endswith(".agent/config.toml")
    assert s.sources["max_cost"] == "flag"


def test_api_key_in_config_file_is_refused(tmp_path):
    root = tmp_path / "proj"
    _write(tmp_path / "user" / "config.toml", 'openrouter_api_key = "sk-secret"\n')
    with pytest.raises(ConfigError) as info:
        load_settings(root, env=_env(tmp_path))
    assert "environment" in str(info.value)
    assert "sk-secret" not in str(info.value)


def test_api_key_in_a_project_config_is_ignored_with_a_warning(tmp_path):
    """Someone else's file: refusing to start would strand the user in that repository."""
    root = tmp_path / "proj"
    _write(root / ".agent" / "config.toml", 'openrouter_api_key = "sk-secret"\nmax_steps = 4\n')
    warnings: list[str] = []
    s = load_settings(root, env=_env(tmp_path), warnings=warnings)
    assert s.max_steps == 4
    (w,) = [w for w in warnings if "API key" in w]
    assert "environment" in w and "sk-secret" not in w


def test_invalid_toml_names_the_file(tmp_path):
    root = tmp_path / "proj"
    _write(root / ".agent" / "config.toml", "model = \n")
    with pytest.raises(ConfigError, match="config.toml: invalid TOML"):
        load_settings(root, env=_env(tmp_path))


def test_bad_types_and_values_are_clear(tmp_path):
    root = tmp_path / "proj"
    with pytest.raises(ConfigError, match="max_steps"):
        load_settings(root, env=_env(tmp_path, AGENT_MAX_STEPS="many"))
    with pytest.raises(ConfigError, match="approval must be one of"):
        load_settings(root, flags={"approval": "yolo"}, env=_env(tmp_path))
    with pytest.raises(ConfigError, match="max_steps must be at least 1"):
        load_settings(root, flags={"max_steps": 0}, env=_env(tmp_path))


def test_unknown_keys_warn_not_fail(tmp_path):
    root = tmp_path / "proj"
    _write(root / ".agent" / "config.toml", 'colour = "blue"\n')
    warnings: list[str] = []
    load_settings(root, env=_env(tmp_path), warnings=warnings)
    assert any("unknown setting `colour`" in w for w in warnings)


def test_prices_table(tmp_path):
    root = tmp_path / "proj"
    _write(root / ".agent" / "config.toml", '[prices."my/model"]\ninput = 1.5\noutput = 6\n')
    assert load_settings(root, env=_env(tmp_path)).prices == {}  # prices need trust
    s = load_settings(root, env=_env(tmp_path), trust=True)
    assert s.prices == {"my/model": {"input": 1.5, "output": 6.0}}
