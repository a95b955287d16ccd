"""Workspace trust: which settings a project may set on its own, and which need the user's word.

A cloned repository is someone else's code. Its `.agent/config.toml` and the `## Check` block of
its AGENTS.md could otherwise run commands, send the user's API key to another host, widen the
approval mode or pull files from outside the project into the prompt. So every setting that comes
from the project is one of two kinds:

- HARMLESS: it changes what the agent shows or how much it spends within the user's own limits,
  never what runs, where requests (and keys) go, or what leaves the machine;
- everything else needs trust (NEEDS_TRUST, plus RESERVED keys for features to come). A setting
  that is in neither set is treated as needing trust: a new setting is safe by default and
  becomes project-settable only by being added to HARMLESS (tests/unit/core/test_trust.py fails
  until every Settings field is classified).

Until the user trusts the project, the trust-needing settings are ignored with a warning naming
each. Trust is bound to the project's real path and a digest of those settings (their values and
the AGENTS.md check command): any change, a `git pull` or the agent's own edit, makes the project
untrusted again. Decisions live in `<user config dir>/trusted_projects.json` (see TrustStore),
never in the repository and never in the user's hand-written config.toml.
"""
from __future__ import annotations

import hashlib
import json
import os
import tempfile
import time
from dataclasses import field
from pathlib import Path
from typing import Any, Mapping

from realcost_agent.records import record

# Project-settable without trust. Why each is harmless:
HARMLESS = frozenset({
    "model",                    # which model; keys still go only to that model's own host
    "routing",                  # tiers are model ids, resolved like `model`
    "max_steps", "max_cost", "max_time",   # limits: they can only stop a turn sooner or later
    "budget",                   # a task's real-cost limit: it can only hand over sooner (tighten-only)
    "command_timeout", "stream_idle_timeout", "check_timeout",
    "call_timeout", "max_response_bytes",  # a model call's own bounds (loosening: tighten-only)
    "max_failed_checks", "max_auto_followups",  # follow-ups only after a check the user allowed
    "max_output_chars", "repo_map_tokens",  # how much context the model gets
    "debug_idle_cap_minutes",
    # Only the report's arithmetic (API cost + debug time x rate); a team may share its rate.
    "hourly_rate",
})

# Need trust: they decide what runs, where requests and keys go, what is asked, what is kept.
NEEDS_TRUST = frozenset({
    "backend", "api_base", "provider",   # where the user's key is sent
    "api_host",                          # how requests are shaped for that host
    "api_base_local",                    # true prices every call at $0: defeats max_cost
    "approval", "rules",                 # what runs without asking
    "sandbox", "sandbox_network",        # containment of commands
    "checkpoints",                       # whether /undo can restore
    # what /undo covers: a project could shrink the caps or skip its own source tree
    "checkpoint_max_file_mb", "checkpoint_max_total_mb", "checkpoint_skip_dirs",
    "check",                             # a command run after every turn
    "instruction_files",                 # which files go into the system prompt
    "prices",                            # zero prices would defeat the user's max_cost
    "ledger",                            # the user's own record of what was spent
    # Extra values to redact only narrow what the model sees, but a hostile list ("return",
    # "self") would garble every file the model reads and then writes back: trust first.
    "redact_values", "redact_env",
    "hooks",                             # programs run at lifecycle events (agent/hooks.py)
    "mcp_servers",                       # MCP servers: programs started, URLs contacted
})

# Never from a project, trusted or not: where the user's own records (and the credentials in
# the URL) go. Only the user's config or the environment sets them; config.py drops them from a
# project's file with a warning.
USER_ONLY = frozenset({"ledger_url"})

# Keys kept for features to come: none now (hooks and MCP servers are real settings that need
# trust). A reserved key is refused from a project and warned about from the user's config.
RESERVED: frozenset[str] = frozenset()

# Limits the user set in their own config: a project may tighten them, never loosen them (a
# project's `max_cost = 1000` must not lift the user's own `max_cost = 2`).
TIGHTEN_ONLY = frozenset({"max_steps", "max_cost", "max_time", "call_timeout", "max_response_bytes",
                          "budget"})

AGENTS_CHECK = "check (AGENTS.md ## Check)"
STORE_NAME = "trusted_projects.json"
STORE_VERSION = 1


def needs_trust(key: str) -> bool:
    """True for every setting a project may not apply without trust (unknown ones included)."""
    return key not in HARMLESS


@record(frozen=True)
class TrustItem:
    key: str      # a setting name, or AGENTS_CHECK
    value: Any    # the raw value the project asks for (JSON-able)
    source: str   # the file it comes from, relative to the project root
    note: str = ""  # what it would do, when not obvious (e.g. where a key would be sent)

    def value_text(self, width: int = 100) -> str:
        return _show(self.value, width)

    def line(self, width: int = 100) -> str:
        text = f"{self.key} = {_show(self.value, width)}"
        return f"{text}  ({self.note})" if self.note else text


@record(frozen=True)
class TrustRequest:
    """What a project asks for that needs trust; empty for a project that asks for nothing."""

    root: str  # the project's real path
    items: tuple[TrustItem, ...] = ()
    digest: str = ""

    @property
    def empty(self) -> bool:
        return not self.items

    def names(self) -> list[str]:
        return [item.key for item in self.items]


@record
class TrustOutcome:
    """How a settings load treated the project's trust-needing settings."""

    request: TrustRequest
    # "none": nothing needs trust · "trusted": stored decision matches · "flag": trusted for this
    # run (--trust, or the TUI's answer) · "untrusted": never decided · "changed": trusted before,
    # the settings changed since · "denied": the user said no to these exact settings.
    status: str
    applied: bool = False
    ignored: tuple[str, ...] = field(default_factory=tuple)
    config_source: str = ""  # how load_settings names the project config in Settings.sources

    @property
    def must_ask(self) -> bool:
        return self.status in ("untrusted", "changed")


def build_request(root: Path, project: Mapping[str, Any], agents_check: str | None,
                  source: str = ".agent/config.toml", env: Mapping[str, str] | None = None,
                  extra: tuple[TrustItem, ...] = ()) -> TrustRequest:
    """The trust request for a project: its config's trust-needing values, its AGENTS.md check
    and `extra` items (its skills and custom commands, agent/extensions.py)."""
    real = os.path.realpath(root)
    items: list[TrustItem] = []
    for key in sorted(project):
        norm = key.replace("-", "_")
        if needs_trust(norm):
            items.append(TrustItem(norm, _jsonable(project[key]), source, _note(norm, project, env)))
    if agents_check:
        items.append(TrustItem(AGENTS_CHECK, agents_check, "AGENTS.md", "run after every turn"))
    items.extend(extra)
    payload = {"root": real, "settings": [[i.key, i.value] for i in items]}
    digest = hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest() if items else ""
    return TrustRequest(real, tuple(items), digest)


def _note(key: str, project: Mapping[str, Any], env: Mapping[str, str] | None) -> str:
    if key != "api_base":
        return ""
    from realcost_agent.providers.keyroute import origin

    backend = project.get("backend")
    where = origin(str(project.get(key)))
    if backend:
        from realcost_agent.providers.catalogue import BACKENDS

        b = BACKENDS.get(str(backend))
        if b and b.key_envs:
            return f"your {b.key_envs[0]} would be sent to {where}"
    return f"requests (and any key for them) would go to {where}"


def ignored_warning(outcome: TrustOutcome) -> str:
    """The warning naming each ignored setting, with how to trust them."""
    req = outcome.request
    why = {"changed": "its settings changed since you trusted it",
           "denied": "you chose not to trust it"}.get(outcome.status, "it is not trusted yet")
    listed = "; ".join(item.line(60) for item in req.items)
    return (f"project settings ignored because {why}: {listed}. Review and trust them with "
            f"`agent trust {req.root}` (or pass --trust for one run).")


# -- the store -----------------------------------------------------------------------------------
def store_path(env: Mapping[str, str] | None = None) -> Path:
    from realcost_agent.agent.config import user_config_path

    return user_config_path(env).parent / STORE_NAME


class TrustStore:
    """Decisions by real project path: {"decision": "trusted"|"denied", "digest", "items", "at"}.

    A JSON file in the user's config directory, written whole and atomically (0600). Kept apart
    from config.toml so the agent never rewrites a file the user edits by hand, and so each
    entry can carry the digest it was given for."""

    def __init__(self, path: Path) -> None:
        self.path = path

    @classmethod
    def default(cls, env: Mapping[str, str] | None = None) -> "TrustStore":
        return cls(store_path(env))

    def load(self) -> dict[str, dict[str, Any]]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError):
            return {}  # unreadable: nothing is trusted, which is the safe reading
        projects = data.get("projects") if isinstance(data, dict) else None
        return {str(k): v for k, v in projects.items() if isinstance(v, dict)} if isinstance(projects, dict) else {}

    def entry(self, root: str) -> dict[str, Any] | None:
        return self.load().get(os.path.realpath(root))

    def status(self, request: TrustRequest) -> str:
        if request.empty:
            return "none"
        entry = self.entry(request.root)
        if entry is None:
            return "untrusted"
        if entry.get("digest") != request.digest:
            return "changed" if entry.get("decision") == "trusted" else "untrusted"
        return "trusted" if entry.get("decision") == "trusted" else "denied"

    def record(self, request: TrustRequest, decision: str) -> None:
        if decision not in ("trusted", "denied"):
            raise ValueError(f"decision must be trusted or denied, not {decision!r}")
        projects = self.load()
        projects[request.root] = {
            "decision": decision, "digest": request.digest,
            "items": [[i.key, i.value, i.source] for i in request.items],
            "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        }
        self._write(projects)

    def revoke(self, root: str) -> bool:
        projects = self.load()
        if projects.pop(os.path.realpath(root), None) is None:
            return False
        self._write(projects)
        return True

    def _write(self, projects: dict[str, Any]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".trusted-", dir=self.path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump({"version": STORE_VERSION, "projects": projects}, fh, indent=2, sort_keys=True)
                fh.flush()
                os.fsync(fh.fileno())
            os.chmod(tmp, 0o600)
            os.replace(tmp, self.path)
        except BaseException:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            raise


# -- used by load_settings -----------------------------------------------------------------------
def _gated(key: str) -> bool:
    """A project key that needs trust: a known setting outside HARMLESS, or a reserved one.
    Unknown keys do nothing (config.py warns about them), so they ask for nothing."""
    from realcost_agent.agent.config import _NOT_SETTINGS, Settings
    import dataclasses

    known = {f.name for f in dataclasses.fields(Settings)} - _NOT_SETTINGS
    return (key in RESERVED or key in NEEDS_TRUST or key in USER_ONLY
            or (key in known and needs_trust(key)))


def gate_project(root: Path, project: Mapping[str, Any], settings: Any,
                 env: Mapping[str, str], trust: bool | str | None,
                 ) -> tuple[dict[str, Any], str | None, TrustOutcome]:
    """Split the project's config into what applies now and what waits for trust.

    Returns (the project values to apply, the AGENTS.md check to use or None, the outcome).
    Nothing that needs trust is read into Settings unless the decision allows it."""
    from realcost_agent.agent.checks import check_from_agents_md

    names = project.get("instruction_files", settings.instruction_files)
    if not (isinstance(names, list) and all(isinstance(n, str) for n in names)):
        names = settings.instruction_files
    agents_check = check_from_agents_md(Path(root), names)
    gated = {k: v for k, v in project.items() if _gated(k.replace("-", "_"))}
    # Skills and custom commands: instructions from the project, trusted as they are now.
    from realcost_agent.agent.extensions import project_trust_items

    request = build_request(Path(root), gated, agents_check, env=env,
                            extra=tuple(project_trust_items(Path(root), env)))
    if request.empty:
        return dict(project), None, TrustOutcome(request, "none", applied=True)
    if trust is True:
        status, applied = "flag", True
    elif isinstance(trust, str):
        applied = trust == request.digest
        status = "flag" if applied else "changed"
    else:
        status = TrustStore.default(env).status(request)
        if trust is False and status != "denied":
            status = "denied"
        applied = status == "trusted"
    outcome = TrustOutcome(request, status, applied, () if applied else tuple(request.names()))
    if applied:
        return dict(project), agents_check, outcome
    return {k: v for k, v in project.items() if k not in gated}, None, outcome


class TrustGate:
    """The TUI's question: what the project asks for, and what each answer does.

    `decide(True)` remembers the trust and reloads the settings with them applied, but only if
    they are still exactly what the dialog showed (digest); `decide(False)` remembers the refusal
    (the next start warns instead of asking; `agent trust` changes it) and keeps them ignored."""

    def __init__(self, request: TrustRequest, root: Path, flags: Mapping[str, Any],
                 env: Mapping[str, str] | None = None) -> None:
        self.request = request
        self.root = Path(root)
        self.flags = dict(flags)
        self.env = env

    def decide(self, trusted: bool) -> tuple[Any, list[str]]:
        from realcost_agent.agent.config import load_settings

        TrustStore.default(self.env).record(self.request, "trusted" if trusted else "denied")
        warnings: list[str] = []
        settings = load_settings(self.root, flags=self.flags, env=self.env, warnings=warnings,
                                 trust=self.request.digest if trusted else False)
        return settings, warnings


def loosened_limits(project: Mapping[str, Any], settings: Any) -> list[str]:
    """Project keys that would loosen a limit the user set in their own config."""
    out = []
    for key, value in project.items():
        norm = key.replace("-", "_")
        mine = getattr(settings, norm, None) if norm in TIGHTEN_ONLY else None
        if mine is None or norm not in getattr(settings, "sources", {}):
            continue
        try:
            if float(value) > float(mine):
                out.append(key)
        except (TypeError, ValueError):
            continue  # config.py reports the bad value
    return out


# -- used by the session -------------------------------------------------------------------------
def is_project_source(settings: Any, name: str) -> bool:
    """Whether the setting's value came from the project's config file."""
    source = str(getattr(settings, "sources", {}).get(name, ""))
    outcome = getattr(settings, "project_trust", None)
    if outcome is not None and outcome.config_source:
        return source == outcome.config_source
    # Settings not built by load_settings: judge by the file name, erring towards "project".
    return source.endswith(os.path.join(".agent", "config.toml"))


def key_bases(settings: Any) -> tuple[str, ...]:
    """Base URLs the user's keys may be sent to besides each key's own catalogue host: the
    configured api_base when the user set it (user config, environment, flag), or when it came
    from a project the user trusted."""
    base = getattr(settings, "api_base", None)
    if not base:
        return ()
    if is_project_source(settings, "api_base"):
        outcome = getattr(settings, "project_trust", None)
        if outcome is None or not outcome.applied:
            return ()
    return (base,)


def _jsonable(value: Any) -> Any:
    try:
        return json.loads(json.dumps(value, default=str))
    except (TypeError, ValueError):
        return str(value)


def _show(value: Any, width: int) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    text = repr(text) if isinstance(value, str) else text
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"
