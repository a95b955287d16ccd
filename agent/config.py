"""Settings: defaults < user TOML < project TOML (.agent/config.toml) < environment < flags.

API keys are never read from or written to config files: they come from the environment only.
A config file that names one is refused with a clear message.
"""
from __future__ import annotations

import dataclasses
import os
from dataclasses import field
from pathlib import Path
from typing import Any, Mapping

from realcost_agent.records import record


class ConfigError(ValueError):
    """Bad configuration; the message names the file or variable and the key."""


APPROVAL_MODES = ("read-only", "suggest", "auto-edit", "full-auto")
PROVIDER_PATHS = ("auto", "direct", "litellm")


@record
class Settings:
    # "auto": each task gets a tier from the routing policy (agent/routing.py, [routing] below);
    # a profile name or model id pins that model for the session.
    model: str = "auto"
    backend: str | None = None
    api_base: str | None = None
    # The host behind api_base when it can't be guessed (providers/hosts.py: vllm, ollama,
    # llamacpp, lmstudio, openrouter, groq, ...); its wire quirks are then followed.
    api_host: str | None = None
    # A custom api_base bills nothing (true) or is paid (false); unset: free for loopback and
    # private addresses, else priced from the model id when litellm knows it.
    api_base_local: bool | None = None
    # Which client serves OpenAI-compatible backends: the fast direct one or litellm.
    provider: str = "auto"
    max_steps: int = 40
    max_cost: float | None = None  # USD per turn
    max_time: float | None = None  # seconds per turn
    # USD of real total (API + debug minutes x hourly_rate) a task may cost: before each
    # escalation or automatic follow-up that would pass it, the task is handed over to the
    # developer (agent/budget.py). A project may only lower the user's own.
    budget: float | None = None
    command_timeout: float = 120.0
    # Seconds without a byte from a streaming response (and, once it has begun, without a
    # delta) before it counts as stalled (retried twice, then the turn stops).
    stream_idle_timeout: float = 120.0
    # Wall-clock seconds one model response may take (a server trickling bytes defeats the
    # idle timeout); a response past it is cut and the turn stops (`max_time` still applies).
    call_timeout: float = 600.0
    # Text + reasoning + tool arguments of one response; past it the response is cut, unrun.
    max_response_bytes: int = 1_000_000
    # None: the front-end's default (headless: full-auto, it never asks; TUI: auto-edit).
    approval: str | None = None
    # Allow/deny rules: [[rules]] tool = "run_command", pattern = "pytest*", action = "allow".
    rules: list[Any] = field(default_factory=list)
    # Run commands and checks in a bubblewrap sandbox (project writable but .git/ and .agent/,
    # the rest read-only, no network, scrubbed env): auto (where bwrap can run) | on | off.
    sandbox: str = "auto"
    sandbox_network: bool = False
    # Snapshot the project (gitignored files too) into a shadow repo in the data dir before the
    # agent's first file change in each turn and before every command that may write (/undo).
    checkpoints: bool = True
    # Files over the per-file cap, and the largest ones once a snapshot passes the total, are
    # not saved (named in the undo report); directories with these names are skipped.
    checkpoint_max_file_mb: float = 20.0
    checkpoint_max_total_mb: float = 1024.0
    checkpoint_skip_dirs: list[str] = field(default_factory=lambda: [
        "node_modules", ".venv", "venv", ".tox", ".nox", "__pycache__", ".mypy_cache",
        ".pytest_cache", ".ruff_cache", ".gradle", ".next"])
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
    # A shared team ledger ("postgresql://user:pass@host/db"): rows go to the local ledger first
    # and a background sender copies them there (agent/teamledger.py). From the user's config
    # or AGENT_LEDGER_URL only, never from a project (agent/trust.py USER_ONLY).
    ledger_url: str | None = None
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
    # Extra secrets to redact everywhere (any length >= 4): literal values, and names of
    # environment variables whose values are secret whatever their name. User and project
    # config add up (a project can only make redaction stricter).
    redact_values: list[str] = field(default_factory=list)
    redact_env: list[str] = field(default_factory=list)
    # Lifecycle hooks ([[hooks.PreToolUse]] matcher/command/timeout; agent/hooks.py), as
    # {event: [{matcher, command, timeout, source}]}. User and project hooks add up.
    hooks: dict[str, list[Any]] = field(default_factory=dict)
    # MCP servers by name ([mcp_servers.NAME]: command/args/env or url; agent/mcp_config.py).
    # User and project tables add up; on a name in both, the user's own table wins.
    mcp_servers: dict[str, Any] = field(default_factory=dict)
    # Where each setting came from, for `agent config` and error messages.
    sources: dict[str, str] = field(default_factory=dict, repr=False)
    # How the project's trust-needing settings were treated (agent.trust.TrustOutcome); None
    # when these Settings were not built by load_settings. Never settable from a file.
    project_trust: Any = field(default=None, repr=False, compare=False)

    def model_kwargs(self) -> dict[str, Any]:
        """What resolve_model needs from the settings besides the spec."""
        return {"backend": self.backend, "api_base": self.api_base, "host": self.api_host,
                "api_base_local": self.api_base_local}


_NOT_SETTINGS = frozenset({"sources", "project_trust"})


_ENV = {
    "AGENT_MODEL": "model",
    "AGENT_BACKEND": "backend",
    "AGENT_API_BASE": "api_base",
    "AGENT_API_HOST": "api_host",
    "AGENT_API_BASE_LOCAL": "api_base_local",
    "AGENT_PROVIDER": "provider",
    "AGENT_MAX_STEPS": "max_steps",
    "AGENT_MAX_COST": "max_cost",
    "AGENT_MAX_TIME": "max_time",
    "AGENT_BUDGET": "budget",
    "AGENT_COMMAND_TIMEOUT": "command_timeout",
    "AGENT_CALL_TIMEOUT": "call_timeout",
    "AGENT_STREAM_IDLE_TIMEOUT": "stream_idle_timeout",
    "AGENT_MAX_RESPONSE_BYTES": "max_response_bytes",
    "AGENT_APPROVAL": "approval",
    "AGENT_HOURLY_RATE": "hourly_rate",
    "AGENT_LEDGER": "ledger",
    "AGENT_LEDGER_URL": "ledger_url",
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
        from realcost_agent.agent.safety.rules import parse_rules

        return parse_rules(value, origin)
    if name == "routing":
        from realcost_agent.agent.routing import policy_from

        if not isinstance(value, dict):
            raise ConfigError(f"{origin}: [routing] must be a table")
        try:
            policy_from(value)
        except ValueError as exc:
            raise ConfigError(f"{origin}: {exc}") from None
        return dict(value)
    if name == "hooks":
        from realcost_agent.agent.hooks import HookConfigError, parse_hooks

        try:
            return parse_hooks(value, origin)
        except HookConfigError as exc:
            raise ConfigError(str(exc)) from None

    if name == "mcp_servers":
        from realcost_agent.agent.mcp_config import parse_servers

        return parse_servers(value, origin)
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
    from realcost_agent.agent.trust import RESERVED

    known = {f.name for f in dataclasses.fields(Settings)} - _NOT_SETTINGS
    for key, value in values.items():
        norm = key.replace("-", "_")
        if _looks_like_key(norm):
            raise ConfigError(
                f"{origin}: `{key}` looks like an API key. Keys are read from the environment only "
                "(e.g. OPENROUTER_API_KEY); remove it from the file."
            )
        if norm in RESERVED:
            warnings.append(f"{origin}: `{key}` is not supported yet; ignored")
            continue
        if norm not in known:
            warnings.append(f"{origin}: unknown setting `{key}` ignored")
            continue
        coerced = _coerce(norm, value, origin)
        if norm == "rules":  # user and project rules both apply
            coerced = [*settings.rules, *coerced]
        elif norm == "hooks":  # user and (trusted) project hooks both run
            merged = {k: list(v) for k, v in settings.hooks.items()}
            for event, entries in coerced.items():
                merged.setdefault(event, []).extend(entries)
            coerced = merged
        elif norm == "mcp_servers":  # MCP: by name, the user's own table wins
            _merge_mcp(settings, coerced, origin, warnings)
            continue
        elif norm in ("redact_values", "redact_env"):  # only ever adds redaction
            coerced = [*getattr(settings, norm), *(v for v in coerced if v not in getattr(settings, norm))]
        setattr(settings, norm, coerced)
        settings.sources[norm] = origin


def _merge_mcp(settings: Settings, servers: dict[str, Any], origin: str, warnings: list[str]) -> None:
    merged = dict(settings.mcp_servers)
    for name, table in servers.items():
        first = settings.sources.get(f"mcp_servers.{name}")
        if first is not None and first != origin and origin.endswith(".toml") and first.endswith(".toml"):
            warnings.append(f"{origin}: MCP server `{name}` is also in {first}; that one is used")
            continue
        merged[name] = table
        settings.sources[f"mcp_servers.{name}"] = origin
    settings.mcp_servers = merged
    settings.sources["mcp_servers"] = origin


def _looks_like_key(norm: str) -> bool:
    low = norm.lower()
    return "api_key" in low or low.endswith("_key") or low == "key"


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        fh = path.open("rb")
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from None
    import tomllib  # only when a config file exists: its parser costs a start without one

    with fh:
        try:
            return tomllib.load(fh)
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
    trust: bool | str | None = None,
) -> Settings:
    """`trust`: None applies the project's trust-needing settings only when the trust store
    holds a matching decision; True applies them (--trust); a digest string applies them only
    if they are still exactly what the user was shown (the TUI dialog); False never does.
    Ignored settings are named in `warnings` (agent.trust.ignored_warning)."""
    from realcost_agent.agent.trust import gate_project

    env = os.environ if env is None else env
    warnings = [] if warnings is None else warnings
    settings = Settings()
    user_path = user_config_path(env)
    _apply(settings, _read_toml(user_path), str(user_path), warnings)
    project_path = project_config_path(root)
    project = _read_toml(project_path)
    for key in [k for k in project if _looks_like_key(k.replace("-", "_"))]:
        # Someone else's file: refusing to start would leave the user stuck in that repository.
        warnings.append(f"{project_path}: `{key}` looks like an API key setting and is ignored: "
                        "keys are read from the environment only")
        del project[key]
    from realcost_agent.agent.trust import USER_ONLY

    for key in [k for k in project if k.replace("-", "_") in USER_ONLY]:
        # Where the user's rows (and credentials) go is the user's call alone, trusted or not.
        warnings.append(f"{project_path}: `{key}` is ignored: it can only be set in your own "
                        f"config ({user_path}) or the environment")
        del project[key]
    applied, agents_check, outcome = gate_project(root, project, settings, env, trust)
    from realcost_agent.agent.trust import loosened_limits

    for key in loosened_limits(applied, settings):
        warnings.append(f"{project_path}: `{key} = {applied.pop(key)!r}` ignored: it would loosen "
                        f"your own limit ({key} = {getattr(settings, key)!r} in {user_path})")
    outcome.config_source = str(project_path)
    _apply(settings, applied, str(project_path), warnings)
    from_env = {_ENV[k]: v for k, v in env.items() if k in _ENV and v != ""}
    _apply(settings, from_env, "environment", warnings)
    _apply(settings, {k: v for k, v in (flags or {}).items() if v is not None}, "flag", warnings)
    if agents_check and settings.check is None:
        settings.check = agents_check  # only present when trusted
        settings.sources["check"] = "AGENTS.md"
    settings.project_trust = outcome
    if not outcome.applied and not outcome.request.empty:
        from realcost_agent.agent.trust import ignored_warning

        warnings.append(ignored_warning(outcome))
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
    for name in ("max_cost", "max_time", "budget"):
        value = getattr(settings, name)
        if value is not None and value <= 0:
            raise ConfigError(f"{where(name)}: {name} must be positive")
    if settings.debug_idle_cap_minutes <= 0:
        raise ConfigError(f"{where('debug_idle_cap_minutes')}: debug_idle_cap_minutes must be positive")
    if settings.stream_idle_timeout <= 0:
        raise ConfigError(f"{where('stream_idle_timeout')}: stream_idle_timeout must be positive")
    if settings.ledger_url:
        from realcost_agent.agent.teamledger import check_url

        problem = check_url(settings.ledger_url)
        if problem:
            raise ConfigError(f"{where('ledger_url')}: {problem}")
    if settings.call_timeout <= 0:
        raise ConfigError(f"{where('call_timeout')}: call_timeout must be positive")
    if settings.max_response_bytes < 1_000:
        raise ConfigError(f"{where('max_response_bytes')}: max_response_bytes must be at least 1000")
    if settings.command_timeout <= 0:
        raise ConfigError(f"{where('command_timeout')}: command_timeout must be positive")
    if settings.check_timeout <= 0:
        raise ConfigError(f"{where('check_timeout')}: check_timeout must be positive")
    if settings.max_failed_checks < 1:
        raise ConfigError(f"{where('max_failed_checks')}: max_failed_checks must be at least 1")
    for name in ("checkpoint_max_file_mb", "checkpoint_max_total_mb"):
        if getattr(settings, name) <= 0:
            raise ConfigError(f"{where(name)}: {name} must be positive")
    if settings.max_auto_followups < 0:
        raise ConfigError(f"{where('max_auto_followups')}: max_auto_followups cannot be negative")
