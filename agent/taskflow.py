"""Per-task model choice, the check and escalation, for one Session.

The Session calls three hooks and otherwise knows nothing of routing:
  on_new_task(task)       pick the task's model (a pin, or `route()` over the task's signals)
                          and emit ModelRouted;
  after_turn(reason)      after a turn: run the check when the model said it was done; on
                          failure, or when tool calls kept failing, maybe escalate one tier and
                          return the automatic follow-up to send (prompt, origin), or None;
  switch(spec, scope)     /model: pin per session or per task ("auto" unpins).

Automatic follow-ups count as follow-ups (they go through the same prompt path as the user's):
the seed counted every extra prompt a model needed, and `agent compare` reports them that way.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from realcost_agent.agent import events as ev
from realcost_agent.agent.checks import TOOL_FAILURE_PROMPT, followup_prompt, run_check
from realcost_agent.agent.routing import Route, Signals, TaskState, named_paths, policy_from, route
from realcost_agent.providers.base import ResolvedModel

if TYPE_CHECKING:
    from realcost_agent.agent.session import Session
    from realcost_agent.agent.tasks import Task

MAX_NAMED_FILES = 50


class TaskFlow:
    def __init__(self, session: Session) -> None:
        self.s = session
        settings = session.settings
        # ValueError on a bad [routing] table; the Session turns it into a ConfigError.
        self.policy = policy_from(settings.routing, max_failed_checks=settings.max_failed_checks)
        spec = (settings.model or "auto").strip()
        self.session_pin: str | None = None if spec == "auto" else spec
        self.task_pin: str | None = None
        self.task_pin_for: int | None = None  # the task it applies to; None: the next task
        # An AGENTS.md check arrives through settings.check, and only once the project is
        # trusted (agent.config.load_settings, agent.trust): never read from the tree here.
        self.check: str | None = settings.check.strip() or None if settings.check is not None else None
        self.state = TaskState()
        self._repo_files: int | None = None

    # -- models ------------------------------------------------------------------------------
    def _resolve(self, spec: str) -> ResolvedModel:
        from realcost_agent.providers.catalogue import resolve_model

        from realcost_agent.providers.localserver import adopt_for

        st = self.s.settings
        # local server (issue 18): its own name for the model and its real context window
        return adopt_for(resolve_model(spec, **st.model_kwargs(), env=self.s.env), st, self.s.env, spec)

    def _usable(self, spec: str) -> tuple[ResolvedModel | None, str]:
        """(model, "") when it can be called here; (None or the model, why not) otherwise."""
        from realcost_agent.providers.catalogue import missing_key

        try:
            model = self._resolve(spec)
        except ValueError as exc:
            return None, str(exc)
        hint = missing_key(model, self.s.env)
        return (None, hint) if hint else (model, "")

    def initial_spec(self) -> str:
        """The model the session starts on: the pin, or the first usable tier (large first)."""
        if self.session_pin:
            return self.session_pin
        p = self.policy
        for spec in (p.large, p.careful, p.light):
            if self._usable(spec)[0] is not None:
                return spec
        return p.large  # none usable: the missing-key message names the default's key

    def _routed_model(self, r: Route) -> tuple[ResolvedModel | None, str]:
        """The routed tier, or the nearest usable one when it cannot be called here."""
        model, why = self._usable(r.profile)
        if model is not None:
            return model, r.reason
        p = self.policy
        order = {p.light: (p.large, p.careful), p.large: (p.careful, p.light),
                 p.careful: (p.large, p.light)}.get(r.profile, ())
        for alt in order:
            found, _ = self._usable(alt)
            if found is not None:
                return found, f"{r.reason}; {r.profile} is not usable here ({why}), so {alt}"
        return None, why

    # -- hooks -------------------------------------------------------------------------------
    def on_new_task(self, task: Task) -> None:
        self.state = TaskState()
        if self.task_pin is not None and self.task_pin_for not in (None, task.id):
            self.task_pin = self.task_pin_for = None  # it was for a task that has ended
        pinned_spec, how = None, ""
        if self.task_pin is not None:
            self.task_pin_for = task.id
            pinned_spec, how = self.task_pin, "pinned for this task"
        elif self.session_pin is not None:
            pinned_spec, how = self.session_pin, "pinned for the session"
        if pinned_spec is not None:
            try:
                model = self._resolve(pinned_spec)
            except ValueError as exc:
                self.s.emit(ev.Error(f"cannot use {pinned_spec!r}: {exc}", "config"))
                model = self.s.model
            reason = how
        else:
            chosen, reason = self._routed_model(route(self.signals(task.first_prompt), self.policy))
            model = chosen or self.s.model
        self.s.model = model
        self.state.profile, self.state.pinned = model.label, pinned_spec is not None
        self.s.emit(ev.ModelRouted(task.id, model.label, model.litellm_id, model.backend, reason,
                                   pinned=pinned_spec is not None))

    async def after_turn(self, reason: str) -> tuple[str, str] | None:
        task = self.s.tasks.current
        if task is None or task.status != "active":
            return None
        st = self.state
        if reason in ("tool_errors", "repeated_call"):
            st.tool_failures += 1
            up = self._escalate(task)
            if up is not None and self._may_follow_up():
                return TOOL_FAILURE_PROMPT.format(model=up), "escalation"
            return None
        if reason != "done" or not self.check:
            return None
        st.checks += 1
        checked = self.s.model.label
        self.s.emit(ev.CheckStarted(task.id, self.check, st.checks))
        from realcost_agent.agent.policy import scrubbed_env

        try:
            result = await run_check(
                self.check, self.s.root, scrubbed_env(self.s.env),
                timeout=self.s.settings.check_timeout, process_groups=self.s.process_groups,
                wrap_argv=getattr(self.s, "command_wrapper", lambda: None)(),
            )
        except OSError as exc:
            self.s.emit(ev.Warning(f"the check `{self.check}` could not run: {exc}"))
            return None
        output = self.s.redact(result.output)
        self.s.emit(ev.CheckFinished(task.id, self.check, result.passed, result.exit_code, output,
                                     result.duration_ms, st.checks, checked))
        st.last_check = result.passed
        if result.passed:
            return None
        st.failed_checks += 1
        up = self._escalate(task)
        if not self._may_follow_up():
            return None
        from dataclasses import replace

        return followup_prompt(replace(result, output=output), escalated_to=up), "check"

    def _may_follow_up(self) -> bool:
        if self.state.auto_followups >= self.s.settings.max_auto_followups:
            return False
        self.state.auto_followups += 1
        return True

    def _escalate(self, task: Task) -> str | None:
        """Move the task up one tier when the policy says so; the new model's label, or None."""
        st = self.state
        if st.pinned and not self.policy.escalate_pinned:
            return None
        r = route(Signals(task.first_prompt, previous=st.profile, failed_checks=st.failed_checks,
                          tool_failures=st.tool_failures), self.policy)
        if not r.escalated:
            return None
        model, why = self._usable(r.profile)
        if model is None:
            self.s.emit(ev.Warning(f"cannot escalate to {r.profile}: {why}"))
            return None
        self.s.model = model
        st.escalations.append(model.label)
        st.profile, st.failed_checks, st.tool_failures = model.label, 0, 0
        self.s.emit(ev.ModelRouted(task.id, model.label, model.litellm_id, model.backend, r.reason,
                                   pinned=st.pinned, escalated=True))
        return model.label

    # -- ops ---------------------------------------------------------------------------------
    def switch(self, spec: str, scope: str = "session") -> None:
        spec = spec.strip()
        if scope not in ("session", "task"):
            self.s.emit(ev.Error(f"unknown model scope {scope!r} (session or task)", "config"))
            return
        task = self.s.tasks.current
        active = task if task is not None and task.status == "active" else None
        if spec == "auto":
            if scope == "session":
                self.session_pin = None
            self.task_pin = self.task_pin_for = None
            if active is not None:
                self.state.pinned = False
            m = self.s.model
            self.s.emit(ev.ModelSwitched(m.label, m.litellm_id, m.backend, reason="auto"))
            return
        try:
            model = self._resolve(spec)
        except ValueError as exc:
            self.s.emit(ev.Error(f"cannot switch to {spec!r}: {exc}", "config"))
            return
        if scope == "session":
            self.session_pin, self.task_pin, self.task_pin_for = spec, None, None
        else:
            self.task_pin, self.task_pin_for = spec, active.id if active else None
        if scope == "session" or active is not None:
            self.s.model = model
        if active is not None:  # the rest of this task runs on it; its failures start over
            st = self.state
            st.profile, st.pinned, st.failed_checks, st.tool_failures = model.label, True, 0, 0
        self.s.emit(ev.ModelSwitched(model.label, model.litellm_id, model.backend,
                                     reason="user" if scope == "session" else "task"))

    def set_check(self, command: str | None) -> None:
        self.check = (command or "").strip() or None

    # -- signals -----------------------------------------------------------------------------
    def signals(self, prompt: str) -> Signals:
        from realcost_agent.agent.compaction import estimate_tokens

        root = self.s.root
        files = []
        for rel in named_paths(prompt)[:MAX_NAMED_FILES]:
            try:
                path = Path(os.path.realpath(root / rel))
                if path.is_relative_to(root) and path.is_file():
                    files.append((rel, path.stat().st_size))
            except (OSError, ValueError):  # a name too long, a NUL byte: not a file in play
                continue
        context = estimate_tokens(self.s.messages) + (len(prompt) + sum(n for _, n in files)) // 4
        return Signals(prompt, tuple(files), context, self.repo_files())

    def repo_files(self) -> int:
        if self._repo_files is None:
            from realcost_agent.tools.filesets import project_files

            try:
                self._repo_files = len(project_files(self.s.root)[0])
            except OSError:
                self._repo_files = 0
        return self._repo_files
