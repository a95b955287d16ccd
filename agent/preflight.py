"""The preflight, once: what the core says at start-up, as events with a machine-readable code.

Front-ends never check keys or word start-up problems themselves: the Session emits these
(`startup_events`, `model_problem`), and `check_specs` answers for models that have no session
yet (`agent compare` checks every model before it makes a worktree; `agent run` every task's
model before the first task runs).
"""
from __future__ import annotations

import os
from typing import Any, Iterable, Mapping

from realcost_agent.agent import events as ev


def model_problem(model: Any, env: Mapping[str, str] | None = None) -> ev.Error | None:
    """A fatal configuration error when `model` (a ResolvedModel) cannot be called here: its
    API key is not set. None when it can."""
    from realcost_agent.providers.catalogue import missing_key

    hint = missing_key(model, os.environ if env is None else env)
    if hint is None:
        return None
    return ev.Error(hint, "config", fatal=True, code=ev.CODE_MISSING_KEY)


def check_specs(specs: Iterable[str], settings: Any,
                env: Mapping[str, str] | None = None) -> list[tuple[str, ev.Error]]:
    """(spec, fatal error) for each model name that does not resolve or has no key."""
    from realcost_agent.providers.catalogue import resolve_model

    env = os.environ if env is None else env
    problems = []
    for spec in specs:
        try:
            model = resolve_model(spec, **settings.model_kwargs(), env=env)
        except ValueError as exc:
            problems.append((spec, ev.Error(str(exc), "config", fatal=True,
                                            code=ev.CODE_UNKNOWN_MODEL)))
            continue
        problem = model_problem(model, env)
        if problem is not None:
            problems.append((spec, problem))
    return problems


def startup_events(*, config_warnings: Iterable[str] = (), instruction_problems: Iterable[str] = (),
                   sandbox_warning: str | None = None, model: Any = None,
                   env: Mapping[str, str] | None = None) -> list[ev.Event]:
    """The warnings after SessionStarted, in the order a user reads them, then the fatal
    missing-key error when the model cannot be called (an interactive session goes on: the
    user can switch to a model that can)."""
    out: list[ev.Event] = [ev.Warning(w, code=ev.CODE_CONFIG) for w in config_warnings]
    out += [ev.Warning(p, code=ev.CODE_INSTRUCTIONS) for p in instruction_problems]
    if sandbox_warning:
        out.append(ev.Warning(sandbox_warning, code=ev.CODE_UNSANDBOXED))
    if model is not None:
        problem = model_problem(model, env)
        if problem is not None:
            out.append(problem)
    return out
