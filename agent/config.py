"""Settings: defaults < user TOML < project TOML (.agent/config.toml) < environment < flags.

API keys are never read from or written to config files: they come from the environment only.
A config file that names one is refused with a clear message.
"""
from __future__ import annotations

import dataclasses
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping


class ConfigError(ValueError):
    """Bad configuration; the message names the file or variable and the key."""


APPROVAL_MODES = ("read-only", "suggest", "auto-edit", "full-auto")
PROVIDER_PATHS = ("auto", "direct", "litellm")


@dataclass
class Settings:
    # "auto": each task gets a tier from the routing policy (agent/routing.py, [routing] below);
    # a profile name or model id pins that model for the session.
    model: str = "auto"
    backend: str | None = None
    api_base: str | None = None
    # Which client serves OpenAI-compatible backends: the fast direct one or litellm.
    provider: str = "auto"
    max_steps: int = 40
    max_cost: float | None = None  # USD per turn
    max_time: float | None = None  # seconds per turn
    command_timeout: float = 120.0
    # Seconds without a byte from a streaming response before it counts as stalled (retried).
    stream_idle_timeout: float = 120.0
    # None: the front-end's default (headless: full-auto, it never asks; TUI: auto-edit).
    approval: str | None = None
    # Allow/deny rules: [[rules]] tool = "run_command", pattern = "pytest*", action = "allow".
    rules: list[Any] = field(default_factory=list)
    # Run commands and checks in a bubblewrap sandbox (project writable but .git/ and .agent/,
    # the rest read-only, no network, scrubbed env): auto (where bwrap can run) | on | off.
    sandbox: str = "auto"
    sandbox_network: bool = False
    # Snapshot the working tree before the agent's first change in each turn (for /undo).
    checkpoints: bool = True
    hourly_rate: float = 35.0
    # Gaps between the agent's answer and the developer's next prompt are capped at this.
    debug_idle_cap_minutes: float = 10.0
    instruction_files: list[str] = field(default_factory=lambda: ["AGENTS.md"])
    # Token budget of the repo map added to each new task's first prompt (0: none; unset: by
    # profile, 1,024 for gpt-oss-20b, 4,096 for gpt-oss-120b, 2,048 otherwise).
    repo_map_tokens: int | None = None
    max_output_chars: int = 20_000
    # Prices per million tokens keyed by model id: {"input": x, "cached_input": y, "output": z}.
    prices: dict[str, dict[str, float]] = field(default_factory=dict)
    # Record sessions, tasks and calls in the cost ledger (data_dir()/ledger.sqlite3).
    ledger: bool = True
    # A command run after the agent says it is done (None: the "## Check" block of AGENTS.md,
    # if any; "": no check). On failure the agent gets its output as a follow-up.
    check: str | None = None
    check_timeout: float = 600.0
    # Failed checks on one tier before a routed task moves up a tier (agent/routing.py).
    max_failed_checks: int = 2
    # Follow-ups the session sends by itself per task (after failed checks or an escalation).
    max_auto_followups: int = 5
    # The routing policy's thresholds and tiers ([routing] table; keys: agent/routing.py).
    routing: dict[str, Any] = field(default_factory=dict)
    # Where each setting came from, for `agent config` and error messages.
    sources: dict[str, str] = field(default_factory=dict, repr=False)


_ENV = {
    "AGENT_MODEL": "model",
    "AGENT_BACKEND": "backend",
    "AGENT_API_BASE": "api_base",
    "AGENT_PROVIDER": "provider",
    "AGENT_MAX_STEPS": "max_steps",
    "AGENT_MAX_COST": "max_cost",
    "AGENT_MAX_TIME": "max_time",
    "AGENT_COMMAND_TIMEOUT": "command_timeout",
    "AGENT_APPROVAL": "approval",
    "AGENT_HOURLY_RATE": "hourly_rate",
    "AGENT_LEDGER": "ledger",
    "AGENT_SANDBOX": "sandbox",
    "AGENT_REPO_MAP_TOKENS": "repo_map_tokens",
    "AGENT_CHECK": "check",
    "AGENT_MAX_FAILED_CHECKS": "max_failed_checks",
    "AGENT_MAX_AUTO_FOLLOWUPS": "max_auto_followups",
}


_BOOLS = {"1": True, "true": True, "yes": True, "on": True,
          "0": False, "false": False, "no": False, "off": False}


def user_config_path(env: Mapping[str, str] | None = None) -> Path:
    env = os.environ if env is None else env
    if env.get("AGENT_CONFIG_HOME"):
        return Path(env["AGENT_CONFIG_HOME"]) / "config.toml"
    import platformdirs

    return Path(platformdirs.user_config_dir("agent")) / "config.toml"


def project_config_path(root: Path) -> Path:
    return root / ".agent" / "config.toml"


def _coerce(name: str, value: Any, origin: str) -> Any:
    if name == "rules":  # its own parser gives better messages than the generic one
        from agent.safety.rules import parse_rules

        return parse_rules(value, origin)
    if name == "routing":
        from agent.routing import policy_from

        if not isinstance(value, dict):
            raise ConfigError(f"{origin}: [routing] must be a table")
        try:
            policy_from(value)
        except ValueError as exc:
            raise ConfigError(f"{origin}: {exc}") from None
        return dict(value)
    fields = {f.name: f for f in dataclasses.fields(Settings)}
    f = fields[name]
    kind = str(f.type)
    try:
        if value is None:
            return None
        if kind.startswith("bool"):
            if isinstance(value, bool):
                return value
            if isinstance(value, str) and value.strip().lower() in _BOOLS:
                return _BOOLS[value.strip().lower()]
            raise TypeError
        if kind.startswith("int"):
            if isinstance(value, bool):
                raise TypeError
            return int(value)
        if kind.startswith("float"):
            if isinstance(value, bool):
                raise TypeError
            return float(value)
        if kind.startswith("list"):
            if isinstance(value, str):
                return [v.strip() for v in value.split(",") if v.strip()]
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise TypeError
            return list(value)
        if kind.startswith("dict"):
            if not isinstance(value, dict):
                raise TypeError
            return {str(k): {str(a): float(b) for a, b in v.items()} for k, v in value.items()}
        if not isinstance(value, str):
            raise TypeError
        return value
    except (TypeError, ValueError, AttributeError):
        raise ConfigError(f"{origin}: `{name}` has an invalid value {value!r} (expected {kind})") from None


def _apply(settings: Settings, values: Mapping[str, Any], origin: str, warnings: list[str]) -> None:
    known = {f.name for f in dataclasses.fields(Settings)} - {"sources"}
    for key, value in values.items():
        norm = key.replace("-", "_")
        if "api_key" in norm.lower() or norm.lower().endswith("_key") or norm.lower() == "key":
            raise ConfigError(
                f"{origin}: `{key}` looks like an API key. Keys are read from the environment only "
                "(e.g. OPENROUTER_API_KEY); remove it from the file."
            )
        if norm not in known:
            warnings.append(f"{origin}: unknown setting `{key}` ignored")
            continue
        coerced = _coerce(norm, value, origin)
        if norm == "rules":  # user and project rules both apply
            coerced = [*settings.rules, *coerced]
        setattr(settings, norm, coerced)
        settings.sources[norm] = origin


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        return {}
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from None


def load_settings(
    root: Path,
    *,
    flags: Mapping[str, Any] | None = None,
    env: Mapping[str, str] | None = None,
    warnings: list[str] | None = None,
) -> Settings:
    env = os.environ if env is None else env
    warnings = [] if warnings is None else warnings
    settings = Settings()
    for path in (user_config_path(env), project_config_path(root)):
        data = _read_toml(path)
        _apply(settings, data, str(path), warnings)
    from_env = {_ENV[k]: v for k, v in env.items() if k in _ENV and v != ""}
    _apply(settings, from_env, "environment", warnings)
    _apply(settings, {k: v for k, v in (flags or {}).items() if v is not None}, "flag", warnings)
    validate(settings)
    return settings


def validate(settings: Settings) -> None:
    def where(name: str) -> str:
        return settings.sources.get(name, "default")

    if settings.sandbox not in ("off", "auto", "on"):
        raise ConfigError(f"{where('sandbox')}: sandbox must be off, auto or on, not {settings.sandbox!r}")
    if settings.approval is not None and settings.approval not in APPROVAL_MODES:
        raise ConfigError(
            f"{where('approval')}: approval must be one of {', '.join(APPROVAL_MODES)}, "
            f"not {settings.approval!r}"
        )
    if settings.provider not in PROVIDER_PATHS:
        raise ConfigError(
            f"{where('provider')}: provider must be one of {', '.join(PROVIDER_PATHS)}, "
            f"not {settings.provider!r}"
        )
    if settings.max_steps < 1:
        raise ConfigError(f"{where('max_steps')}: max_steps must be at least 1")
    for name in ("max_cost", "max_time"):
        value = getattr(settings, name)
        if value is not None and value <= 0:
            raise ConfigError(f"{where(name)}: {name} must be positive")
    if settings.debug_idle_cap_minutes <= 0:
        raise ConfigError(f"{where('debug_idle_cap_minutes')}: debug_idle_cap_minutes must be positive")
    if settings.stream_idle_timeout <= 0:
        raise ConfigError(f"{where('stream_idle_timeout')}: stream_idle_timeout must be positive")
    if settings.command_timeout <= 0:
        raise ConfigError(f"{where('command_timeout')}: command_timeout must be positive")
    if settings.check_timeout <= 0:
        raise ConfigError(f"{where('check_timeout')}: check_timeout must be positive")
    if settings.max_failed_checks < 1:
        raise ConfigError(f"{where('max_failed_checks')}: max_failed_checks must be at least 1")
    if settings.max_auto_followups < 0:
        raise ConfigError(f"{where('max_auto_followups')}: max_auto_followups cannot be negative")
