"""Per-task model choice, the check and escalation, for one Session.

The Session calls three hooks and otherwise knows nothing of routing:
  on_new_task(task)       pick the task's model (a pin, or `route()` over the task's signals)
                          and emit ModelRouted;
  after_turn(reason)      after a turn: run the check when the model said it was done; on
                          failure, or when tool calls kept failing, maybe escalate one tier and
                          return the automatic follow-up to send (prompt, origin), or None;
  switch(spec, scope)     /model: pin per session or per task ("auto" unpins).

It is the one owner of the current model: `model` reads it, `use(model)` is its only writer
(start, routing, escalation, /model, resume all go through it), `cheap_model()` picks the
summary model on the same backend.

Automatic follow-ups count as follow-ups (they go through the same prompt path as the user's):
the seed counted every extra prompt a model needed, and `agent compare` reports them that way.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Mapping

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
        # route: learned routing from the ledger (agent/autoroute.py); a hand-over (agent/budget.py)
        # sets stop_reason = "hand_over" for the turn's end; model switches price the lost cache.
        from realcost_agent.agent.autoroute import LearnedRouter
        from realcost_agent.agent.cacheswitch import CacheTracker

        self.learned = LearnedRouter(session)
        self.cache = CacheTracker(session)
        self.stop_reason: str | None = None
        # ValueError when the starting model cannot be resolved (a ConfigError for the user).
        self.use(self._resolve(self.initial_spec()))

    # -- the current model -------------------------------------------------------------------
    @property
    def model(self) -> ResolvedModel:
        return self._model

    def use(self, model: ResolvedModel) -> None:
        """The one writer of the current model; events about the change are the caller's."""
        self._model = model

    def resume(self, meta: Mapping[str, Any], events: Iterable[Mapping[str, Any]], *,
               flagged: bool) -> None:
        """A resumed session's model: the journal's (unless --model named one), then every
        /model switch it recorded, in order."""
        if meta.get("model") and not flagged:
            self.restore_model(str(meta["model"]))
        for record in events:
            if record.get("type") == "model_switched":
                self.restore_model(str(record.get("model")))

    def restore_model(self, spec: str) -> None:
        """A resumed session's model (its journal's); an Error when it is unusable here."""
        from realcost_agent.providers.keyroute import refusal

        try:
            model = self._resolve(spec)
        except ValueError as exc:
            self.s.emit(ev.Error(f"cannot switch to {spec!r}: {exc}", "config"))
            return
        why = refusal(model, self.s.env, self.s.key_bases)
        if why:
            self.s.emit(ev.Error(f"cannot switch to {spec!r}: {why}", "config"))
            return
        self.use(model)

    def cheap_model(self) -> ResolvedModel:
        """The cheap profile on the same backend, for summaries; the current model if unusable."""
        from realcost_agent.providers.catalogue import missing_key, resolve_model
        from realcost_agent.providers.keyroute import refusal

        settings, current = self.s.settings, self._model
        backend = current.backend if current.profile else settings.backend
        try:
            model = resolve_model(
                "gpt-oss-20b", **{**settings.model_kwargs(), "backend": backend}, env=self.s.env
            )
        except ValueError:
            return current
        from realcost_agent.providers.localserver import adopt_for

        model = adopt_for(model, settings, self.s.env, "gpt-oss-20b")  # local server (issue 18)
        if refusal(model, self.s.env, self.s.key_bases):
            return current
        return current if missing_key(model, self.s.env) else model

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
        choice = None  # route: the learned router's choice (None when pinned)
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
                model = self.model
            reason = how
            feats = self.learned.features(task.first_prompt, self.check is not None)
        else:
            # route: the ledger's cheapest tier in real total, else the rules (agent/autoroute.py)
            signals = self.signals(task.first_prompt)
            feats = self.learned.features(task.first_prompt, self.check is not None, signals)
            choice = self.learned.choose(feats, self.policy, route(signals, self.policy))
            chosen, reason = self.learned.routed_model(self, choice)
            model = chosen or self.model
        self.cache.task_started(task.id)
        self.use(model)
        self.state.profile, self.state.pinned = model.label, pinned_spec is not None
        self.s.emit(ev.ModelRouted(task.id, model.label, model.litellm_id, model.backend, reason,
                                   pinned=pinned_spec is not None,
                                   **self.learned.event_fields(feats, choice, pinned_spec is not None)))

    async def after_turn(self, reason: str) -> tuple[str, str] | None:
        self.stop_reason = None
        task = self.s.tasks.current
        if task is None or task.status != "active":
            return None
        st = self.state
        if reason in ("tool_errors", "repeated_call"):
            st.tool_failures += 1
            if self._hand_over(task, f"the last turn stopped: {reason}"):  # route: agent/budget.py
                return None
            up = self._escalate(task)
            if up is not None and self.may_follow_up():
                return TOOL_FAILURE_PROMPT.format(model=up), "escalation"
            return None
        if reason != "done" or not self.check:
            return None
        st.checks += 1
        checked = self.model.label
        self.s.emit(ev.CheckStarted(task.id, self.check, st.checks))
        from realcost_agent.tools.childenv import scrubbed_env

        try:
            result = await run_check(
                self.check, self.s.root, scrubbed_env(self.s.env),
                timeout=self.s.settings.check_timeout, process_groups=self.s.process_groups,
                wrap_argv=self.s.sandbox.command_wrapper(),
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
        if self._hand_over(task, f"the check `{self.check}` still fails (exit {result.exit_code})"):
            return None  # route: handing over is cheaper (agent/budget.py)
        up = self._escalate(task)
        if not self.may_follow_up():
            return None
        from dataclasses import replace

        return followup_prompt(replace(result, output=output), escalated_to=up), "check"

    def _hand_over(self, task: Task, left: str) -> bool:
        """route: stop here when the developer finishing is cheaper (or the budget would pass)."""
        if self.state.auto_followups >= self.s.settings.max_auto_followups:
            return False  # no attempt would follow anyway
        from realcost_agent.agent.budget import maybe_hand_over

        return maybe_hand_over(self, task, left)

    def may_follow_up(self) -> bool:
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
        self.cache.switched(task.id, self.model, model)  # route: the cache thrown away
        self.use(model)
        st.escalations.append(model.label)
        st.profile, st.failed_checks, st.tool_failures = model.label, 0, 0
        self.s.emit(ev.ModelRouted(task.id, model.label, model.litellm_id, model.backend, r.reason,
                                   pinned=st.pinned, escalated=True, basis="escalation"))
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
            m = self.model
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
        if active is not None:  # route: a switch mid-task throws the prompt cache away
            self.cache.switched(active.id, self.model, model)
        if scope == "session" or active is not None:
            self.use(model)
        if active is not None:  # the rest of this task runs on it; its failures start over
            st = self.state
            st.profile, st.pinned, st.failed_checks, st.tool_failures = model.label, True, 0, 0
        self.s.emit(ev.ModelSwitched(model.label, model.litellm_id, model.backend,
                                     reason="user" if scope == "session" else "task"))
        # arch-front: a model without its key is said at once, from the one preflight.
        from realcost_agent.agent.preflight import model_problem

        problem = model_problem(model, self.s.env)
        if problem is not None:
            self.s.emit(ev.Warning(problem.message, code=problem.code))

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
