"""The core: an async Session. Front-ends submit ops and consume events; nothing else.

    session = Session(settings, root)
    await session.start()
    session.submit(UserInput("fix the failing test"))
    async for event in session.events(): ...

The Session never prints and never imports a UI. It holds the conversation, the current task's
counters and the session's usage totals; each turn runs as one asyncio task (`agent.turn.Turn`).
"""
from __future__ import annotations

import asyncio
import os
import time
import uuid
from pathlib import Path
from typing import Any, AsyncIterator, Callable, Mapping

from realcost_agent.agent import events as ev
from realcost_agent.agent import ops
from realcost_agent.agent.config import ConfigError, Settings
from realcost_agent.agent.costs import price_with_overrides
from realcost_agent.agent.policy import Decision
from realcost_agent.tools.childenv import scrubbed_env
from realcost_agent.agent.secrets import Redactor, StreamRedactor, dotenv_values
from realcost_agent.agent.prompt import load_instructions, repo_info, system_prompt
from realcost_agent.agent.trust import key_bases
from realcost_agent.agent.journal import Journal, Resumed, repair_history, sessions_dir
from realcost_agent.agent.safety.grants import Grant, Grants, grant_for
from realcost_agent.agent.tasks import Task, TaskTracker
from realcost_agent.agent.turn import Turn, cancel_and_wait
from realcost_agent.agent.version import __version__
from realcost_agent.providers.base import Provider, ProviderError, ResolvedModel, Usage
from realcost_agent.providers.keyroute import check_key_route, key_destination, refusal
from realcost_agent.providers.prices import Price

_CLOSED = object()
_STREAMED = (ev.AssistantDelta, ev.ReasoningDelta, ev.ToolOutputDelta)


def new_session_id() -> str:
    return time.strftime("%Y%m%d-%H%M%S") + "-" + uuid.uuid4().hex[:6]


class Session:
    def __init__(
        self,
        settings: Settings,
        root: Path,
        *,
        interactive: bool = False,
        env: Mapping[str, str] | None = None,
        provider_factory: Callable[[ResolvedModel], Provider] | None = None,
        registry: Any = None,
        output_dir: Path | None = None,
        clock: Callable[[], float] = time.monotonic,
        journal: bool = True,
        resume: Resumed | None = None,
        sleep: Callable[[float], Any] = asyncio.sleep,
    ) -> None:
        from realcost_agent.providers.catalogue import resolve_model
        from realcost_agent.tools.registry import default_registry

        self.settings = settings
        self.root = Path(os.path.realpath(root))
        self.interactive = interactive
        self.env = dict(os.environ if env is None else env)
        self.id = resume.session_id if resume else new_session_id()
        self._resume = resume
        self.sleep = sleep  # retry back-off; tests inject a fake clock
        self._journal_enabled = journal
        self.journal: Journal | None = None
        # speed (issue 19): tool names and schemas from a cache in the data dir, the tools
        # (and pydantic) loaded when the first request is on its way. Was: default_registry().
        from realcost_agent.tools.paths import data_dir

        self.registry = registry or default_registry(cache_dir=data_dir(self.env) / "cache")
        # Everything bound for the model, the journal, the ledger or a screen passes through it:
        # append_message() and emit() apply it, streams use StreamRedactor.
        self.redact = Redactor(
            self.env, dotenv_values(self.root), named_values=settings.redact_values,
            redact_env=settings.redact_env,
        )
        self._output_streams: dict[str, StreamRedactor] = {}
        self._provider_factory = provider_factory
        self._providers: dict[tuple[str, str | None], Provider] = {}
        # Keys go only to their own host or a base the user set (agent/trust.py).
        self.key_bases = key_bases(settings)
        try:
            from realcost_agent.agent.taskflow import TaskFlow

            # Routing, pins, the check and escalation; "auto" starts on the first usable tier.
            self.flow = TaskFlow(self)
            self.model = resolve_model(
                self.flow.initial_spec(), **settings.model_kwargs(), env=self.env,
            )
            check_key_route(self.model, self.env, self.key_bases)
        except ValueError as exc:
            raise ConfigError(str(exc)) from None
        self._output_dir = output_dir
        self.approval = settings.approval or ("auto-edit" if interactive else "full-auto")
        self.rules = list(settings.rules)
        self._sandbox_warning = self._sandbox_check()
        from realcost_agent.agent.safety.protected import protected_paths

        # Writes there are asked even in full-auto (agent/safety/protected.py).
        self.protected = protected_paths(self.root, settings.instruction_files, self.env)
        self.checkpoints: Any = None
        self._checkpointed_turns: set[str] = set()
        self._checkpoint_paused: set[str] = set()  # turns whose tree passed the file limit
        self.messages: list[dict[str, Any]] = []
        self.call_ids: set[str] = set()
        # "Approve for the session": command prefixes and edit tools (agent.safety.grants).
        self.grants = Grants()
        self._offered_grants: dict[str, Grant | None] = {}
        # Sum of the calls whose price is known; `unpriced_calls` counts the others.
        self.total_cost = 0.0
        self.unpriced_calls = 0
        self.total_input = 0
        self.total_output = 0
        self.tasks = TaskTracker(
            measure_debug=interactive, idle_cap_seconds=settings.debug_idle_cap_minutes * 60,
            clock=clock,
        )
        self._events: asyncio.Queue[Any] = asyncio.Queue()
        self._ops: asyncio.Queue[ops.Op] = asyncio.Queue()
        self._pending_inputs: list[str] = []
        self._approvals: dict[str, asyncio.Future[Decision]] = {}
        self._turn_task: asyncio.Task[None] | None = None
        self._turn: Turn | None = None
        self._cancel = asyncio.Event()
        self._loop_task: asyncio.Task[None] | None = None
        self._turn_seq = 0
        self._warned_prices: set[str] = set()
        self._closed = False
        self._listeners: list[Callable[[ev.Event], None]] = []
        self.process_groups: set[int] = set()
        self.touched_files: list[str] = []
        self._repo_map: Any = None

    def _sandbox_check(self) -> str | None:
        """None when commands run as configured; a warning when `auto` falls back to unsandboxed."""
        if self.settings.sandbox == "off":
            return None
        from realcost_agent.agent.safety.sandbox import fix_hint, unavailable_reason

        reason = unavailable_reason()
        if reason is None:
            return None
        if self.settings.sandbox == "on":
            raise ConfigError(f"sandbox = on, but bubblewrap cannot run here: {reason}. "
                              f"Fix: {fix_hint(reason)}")
        return (f"commands run UNSANDBOXED: {reason}. Fix: {fix_hint(reason)} "
                "(`agent doctor` checks it)")

    @property
    def sandboxed(self) -> bool:
        """Commands and checks run under bubblewrap."""
        return self.settings.sandbox != "off" and not self._sandbox_warning

    def _wrap_argv(self, argv: list[str], cwd: Any) -> list[str]:
        from realcost_agent.agent.config import user_config_path
        from realcost_agent.tools.paths import data_dir
        from realcost_agent.agent.safety.sandbox import host_hidden, protected_mounts, wrap_command

        return wrap_command(
            argv, self.root, cwd=cwd, network=self.settings.sandbox_network,
            readonly=protected_mounts(self.root, self.settings.instruction_files),
            hide=(data_dir(self.env), user_config_path(self.env).parent, *host_hidden(self.env)),
            env={k: v for k, v in scrubbed_env(self.env).items()
                 if k not in ("SSH_AUTH_SOCK", "GPG_AGENT_INFO", "DBUS_SESSION_BUS_ADDRESS")})

    def command_wrapper(self) -> Any:
        """(argv, cwd) -> argv for commands and checks: the sandbox, or None when unsandboxed."""
        return self._wrap_argv if self.sandboxed else None

    def _git_outside_argv(self, argv: list[str], cwd: Any) -> list[str]:
        """An approved git command that writes .git: outside the sandbox, every word re-quoted,
        with the hardened git config (tools/gitsafe.py). Anything else stays sandboxed."""
        from realcost_agent.tools.gitsafe import local_config_keys, shell_line
        from realcost_agent.agent.safety.gitcmd import git_write_plan

        plan = git_write_plan(argv[-1]) if len(argv) == 3 and argv[:2] == ["/bin/bash", "-c"] else None
        where = cwd or self.root
        if plan is None or "core.worktree" in local_config_keys(where, self.env):
            return self._wrap_argv(argv, cwd)
        return ["/bin/bash", "-c", shell_line(where, plan.argvs, self.env)]

    # -- public surface ----------------------------------------------------------------------
    async def start(self) -> None:
        from realcost_agent.agent.safety.sandbox import harden_process

        harden_process()
        problems: list[str] = []
        # Project files like any other: confined to the project and capped (append_message,
        # the one door into the conversation, redacts the system prompt they go into).
        instructions = load_instructions(self.root, self.settings.instruction_files, problems)
        if self._journal_enabled:
            path = sessions_dir(self.root, self.env) / f"{self.id}.jsonl"
            try:
                self.journal = Journal(path, self.redact)
            except OSError as exc:
                self.emit(ev.Warning(f"session journal {path} cannot be written ({exc.strerror or exc}); "
                                     "this session cannot be resumed"))
            else:
                self.add_listener(self.journal.event)
        if self._resume is not None:
            self._restore(self._resume)
        else:
            info = repo_info(self.root)
            if self.journal is not None:
                self.journal.meta(session_id=self.id, root=str(self.root), model=self.model.label,
                                  version=__version__)
            self.append_message({"role": "system", "content": system_prompt(info, instructions)})
        self.emit(ev.SessionStarted(
            self.id, str(self.root), self.model.label, self.model.backend, __version__,
            tuple(name for name, _ in instructions), key_destination(self.model),
        ))
        for problem in problems:
            self.emit(ev.Warning(problem))
        if self._sandbox_warning:
            self.emit(ev.Warning(self._sandbox_warning))
        if self.settings.checkpoints:
            await self._open_checkpoints()
        self._loop_task = asyncio.create_task(self._op_loop(), name="agent-session-ops")

    def submit(self, op: ops.Op) -> None:
        self._ops.put_nowait(op)

    async def next_event(self) -> ev.Event | None:
        item = await self._events.get()
        if item is _CLOSED:
            self._events.put_nowait(_CLOSED)  # later callers see the end too
            return None
        return item

    async def events(self) -> AsyncIterator[ev.Event]:
        while (event := await self.next_event()) is not None:
            yield event

    @property
    def busy(self) -> bool:
        return self._turn_task is not None and not self._turn_task.done()

    def _restore(self, resumed: Resumed) -> None:
        """Continue a journaled session: its conversation, model, current task and totals."""
        if resumed.meta.get("model") and self.settings.sources.get("model") != "flag":
            self._switch_model(str(resumed.meta["model"]), announce=False)
        self.messages = repair_history(resumed.messages)
        if self.journal is not None and len(self.messages) != len(resumed.messages):
            # Placeholders were inserted after their calls: record the repaired history whole.
            self.journal.reset(self.messages)
        last_task = None
        for record in resumed.events:
            kind = record.get("type")
            if kind == "usage_updated":
                self.total_input += int(record.get("input_tokens", 0))
                self.total_output += int(record.get("output_tokens", 0))
                if record.get("cost") is None:
                    self.unpriced_calls += 1
                else:
                    self.total_cost += float(record["cost"])
            elif kind == "task_updated":
                last_task = record
            elif kind == "model_switched":
                self._switch_model(str(record.get("model")), announce=False)
        if last_task is not None:
            self.tasks.restore(last_task)
        if resumed.skipped_lines:
            self.emit(ev.Warning(
                f"resumed session {self.id}: skipped {resumed.skipped_lines} unreadable journal "
                "line(s) (a write cut off by the crash)"
            ))

    # -- used by the turn --------------------------------------------------------------------
    def replace_messages(self, messages: list[dict[str, Any]]) -> None:
        self.messages = [self.redact.obj(m) for m in messages]
        if self.journal is not None:
            self.journal.reset(self.messages)

    def cheap_model(self) -> ResolvedModel:
        """The cheap profile on the same backend, for summaries; the current model if unusable."""
        from realcost_agent.providers.catalogue import missing_key, resolve_model

        backend = self.model.backend if self.model.profile else self.settings.backend
        try:
            model = resolve_model(
                "gpt-oss-20b", **{**self.settings.model_kwargs(), "backend": backend}, env=self.env
            )
        except ValueError:
            return self.model
        if refusal(model, self.env, self.key_bases):
            return self.model
        return self.model if missing_key(model, self.env) else model

    def append_message(self, message: dict[str, Any]) -> None:
        # The one door into the conversation: the system prompt (instructions), the task with its
        # repo map, tool results and the model's own text and tool-call arguments.
        message = self.redact.obj(message)
        self.messages.append(message)
        if self.journal is not None:
            self.journal.message(message)
            if self.journal.failed:
                failed, self.journal = self.journal.failed, None
                self.emit(ev.Warning(failed))

    def emit(self, event: ev.Event) -> None:
        if not isinstance(event, _STREAMED):  # deltas come through a StreamRedactor already
            event = self.redact.obj(event)
        for listener in list(self._listeners):
            try:
                listener(event)
            except Exception as exc:  # noqa: BLE001 - a recorder must never break the session
                self._listeners.remove(listener)
                self._events.put_nowait(ev.Warning(f"event recorder {listener!r} failed and was detached: {exc}"))
        self._events.put_nowait(event)

    def add_listener(self, listener: Callable[[ev.Event], None]) -> None:
        """Called synchronously with every event, before front-ends see it (the ledger, journals)."""
        self._listeners.append(listener)

    def provider(self, model: ResolvedModel | None = None) -> Provider:
        model = model or self.model
        key = (model.litellm_id, model.api_base)
        why = refusal(model, self.env, self.key_bases)
        if why:  # checked for every model and factory, scripted ones included
            raise ProviderError(why, backend=model.backend, model=model.label)
        if key not in self._providers:
            if self._provider_factory is not None:
                self._providers[key] = self._provider_factory(model)
            else:
                from realcost_agent.providers.factory import make_provider

                force = None if self.settings.provider == "auto" else self.settings.provider
                self._providers[key] = make_provider(
                    model, force=force, env=self.env, idle_timeout=self.settings.stream_idle_timeout,
                    user_bases=self.key_bases,
                )
        return self._providers[key]

    def price(self, model: ResolvedModel | None = None) -> Price | None:
        model = model or self.model
        price = price_with_overrides(model, self.settings.prices)
        if price is None and model.litellm_id not in self._warned_prices:
            self._warned_prices.add(model.litellm_id)
            self.emit(ev.Warning(
                f"no price known for {model.litellm_id}: its cost shows as unknown. "
                "Set one under [prices] in your config.toml (a project's .agent/config.toml "
                "needs trust for it)."
            ))
        return price

    def add_usage(self, usage: Usage, cost: float | None, model: ResolvedModel | None = None) -> None:
        model = model or self.model
        self.total_input += usage.input_tokens
        self.total_output += usage.output_tokens
        task = self.tasks.current
        if task is not None:
            task.requests += 1
            task.input_tokens += usage.input_tokens
            task.output_tokens += usage.output_tokens
            if model.label not in task.models:
                task.models.append(model.label)
        if cost is None:
            self.unpriced_calls += 1
            if task is not None:
                task.unpriced_calls += 1
        else:
            self.total_cost += cost
            if task is not None:
                task.api_cost += cost

    def tool_context(self, call_id: str, *, git_outside: bool = False) -> Any:
        from realcost_agent.tools.base import ToolContext

        stream = self._output_streams[call_id] = StreamRedactor(self.redact)

        def on_output(chunk: str) -> None:
            text = stream.feed(chunk)  # a secret split across chunks is held until whole
            if text:
                self.emit(ev.ToolOutputDelta(call_id, text))

        env = scrubbed_env(self.env)
        wrap = self.command_wrapper()
        if git_outside and wrap is not None:
            from realcost_agent.tools.gitsafe import git_env

            wrap, env = self._git_outside_argv, git_env(env)
        return ToolContext(
            root=self.root,
            env=env,
            output_dir=self._output_dir or self._default_output_dir(),
            command_timeout=self.settings.command_timeout,
            max_output_chars=self.settings.max_output_chars,
            cancel=self._cancel,
            on_output=on_output,
            process_groups=self.process_groups,
            wrap_argv=wrap,
            repo_map=self.repo_map() if self.settings.repo_map_tokens != 0 else None,
            task=self.tasks.current.first_prompt if self.tasks.current else "",
            touched=tuple(self.touched_files),
        )

    def end_output(self, call_id: str) -> None:
        """The tool finished: show what its output stream still held back."""
        stream = self._output_streams.pop(call_id, None)
        text = stream.flush() if stream is not None else ""
        if text:
            self.emit(ev.ToolOutputDelta(call_id, text))

    def _default_output_dir(self) -> Path:
        from realcost_agent.tools.paths import data_dir

        return data_dir(self.env) / "outputs" / self.id

    async def _open_checkpoints(self) -> None:
        """The project's shadow repository in the data dir (agent/shadow_git.py)."""
        from realcost_agent.agent.checkpoints import CheckpointError, Checkpoints, prune_sessions
        from realcost_agent.tools.paths import data_dir

        s = self.settings
        options = dict(data_dir=data_dir(self.env), env=scrubbed_env(self.env),
                       max_file_bytes=int(s.checkpoint_max_file_mb * 1024 * 1024),
                       max_total_bytes=int(s.checkpoint_max_total_mb * 1024 * 1024),
                       skip_dirs=s.checkpoint_skip_dirs)
        try:
            self.checkpoints = await asyncio.to_thread(Checkpoints, self.root, self.id, **options)
        except (CheckpointError, OSError) as exc:
            self.emit(ev.Warning(f"checkpoints unavailable, /undo will not work: {exc}"))
            return
        # speed (issue 19): pruning old sessions' refs (their objects go at the next gc) is
        # housekeeping, so it runs in the background instead of before the first request;
        # _shutdown waits for it. Was: awaited here.
        self._prune_task = asyncio.create_task(asyncio.to_thread(
            _prune_quietly, prune_sessions, (CheckpointError, OSError), self.root, options))

    async def checkpoint_before(self, turn_id: str, tool: Any, params: Any, *,
                                destructive: bool = False) -> None:
        """The checkpoint a tool call needs before it runs (agent/checkpoint_policy.py): file
        tools before the turn's first change, commands unless provably read-only."""
        from realcost_agent.agent.checkpoint_policy import checkpoint_kind

        kind = checkpoint_kind(tool.name, tool.mutating, params, self.root, scrubbed_env(self.env))
        if kind is not None:
            await self.checkpoint(turn_id, f"before {tool.name}",
                                  force=kind == "always" or destructive)

    async def checkpoint(self, turn_id: str, label: str, *, force: bool = False) -> None:
        """Snapshot the tree before the turn's first change (and, with force, before this call),
        without touching the user's branch, index or stash."""
        if self.checkpoints is None or (turn_id in self._checkpointed_turns and not force):
            return
        if turn_id in self._checkpoint_paused:
            return  # the tree is past the file limit: one slow failed scan per turn is enough
        self._checkpointed_turns.add(turn_id)
        from realcost_agent.agent.checkpoints import CheckpointError, CheckpointLimitError

        try:
            cp = await asyncio.to_thread(self.checkpoints.snapshot, f"{turn_id}: {label}",
                                         turn=turn_id)
        except (CheckpointError, OSError) as exc:
            if isinstance(exc, CheckpointLimitError):
                self._checkpoint_paused.add(turn_id)
            self.emit(ev.Warning(f"checkpoint failed, this change cannot be undone: {exc}"))
            return
        if cp.created:
            self.emit(ev.CheckpointCreated(turn_id, cp.id, cp.label, cp.files))

    async def _undo(self, checkpoint_id: int | None) -> None:
        from realcost_agent.agent.checkpoints import CheckpointError

        if self.checkpoints is None:
            self.emit(ev.Warning("checkpoints are off or unavailable: nothing to undo"))
            return
        try:
            target = await asyncio.to_thread(self.checkpoints.undo_target, checkpoint_id)
            if target is None:
                self.emit(ev.Warning("nothing to undo: the agent has changed nothing in this "
                                     "session (or every change is already undone)"))
                return
            report = await asyncio.to_thread(self.checkpoints.restore, target)
        except (CheckpointError, OSError) as exc:
            self.emit(ev.Error(f"undo failed: {exc}", "tool"))
            return
        self.emit(ev.CheckpointRestored(
            target.id, tuple(report.restored), tuple(report.deleted), tuple(report.created),
            tuple(report.skipped), report.backup.id if report.backup else None,
            tuple(report.not_saved),
        ))
        if report.backup_note:
            self.emit(ev.Warning(report.backup_note))
        self.append_message({"role": "user", "content": (
            f"[The user undid the changes since checkpoint {target.id} ({target.label}); the "
            "working tree is back to that state. Re-read files before editing them.]")})

    async def ask_approval(
        self, turn_id: str, call_id: str, tool: str, arguments: Any, decision: Decision,
        description: Any = None,
    ) -> Decision:
        if not self.interactive:
            return Decision(
                "deny",
                f"{decision.reason}, and this headless run cannot ask; "
                "rerun with --approval full-auto (or auto-edit) to allow it",
            )
        future: asyncio.Future[Decision] = asyncio.get_running_loop().create_future()
        self._approvals[call_id] = future
        destructive = bool(getattr(decision, "destructive", False))
        protected = bool(getattr(decision, "protected", ()))
        d = description
        # A protected path is asked every time: nothing to grant for the session.
        grant = None if protected else grant_for(tool, arguments, destructive=destructive,
                                                 paths=d.paths if d else ())
        self._offered_grants[call_id] = grant
        self.emit(ev.ApprovalRequested(
            turn_id, call_id, tool, arguments, decision.reason, destructive,
            summary=d.summary if d else "", paths=d.paths if d else (),  # emit() redacts
            preview=d.preview if d else "", added=d.added if d else None,
            removed=d.removed if d else None, grant=grant.describe() if grant else "",
            protected=protected,
        ))
        try:
            return await future
        finally:
            self._approvals.pop(call_id, None)
            self._offered_grants.pop(call_id, None)

    # -- op handling -------------------------------------------------------------------------
    async def _op_loop(self) -> None:
        while True:
            op = await self._ops.get()
            try:
                if isinstance(op, ops.Shutdown):
                    await self._shutdown()
                    return
                await self._handle(op)
            except Exception as exc:  # noqa: BLE001 - an op must never kill the session
                self.emit(ev.Error(f"internal error handling {type(op).__name__}: {exc}", "internal"))

    async def _handle(self, op: ops.Op) -> None:
        if isinstance(op, ops.UserInput):
            if self.busy:
                self._pending_inputs.append(op.text)
            else:
                self._start_turn(op.text)
        elif isinstance(op, ops.Approve):
            future = self._approvals.get(op.call_id)
            if future is None or future.done():
                self.emit(ev.Warning(f"no approval is pending for call {op.call_id}"))
                return
            if op.decision == "session":
                grant = self._offered_grants.get(op.call_id)
                if grant is not None:  # else it could not be granted: allowed once only
                    self.grants.add(grant)
                future.set_result(Decision("allow"))
            elif op.decision == "once":
                future.set_result(Decision("allow"))
            else:
                reason = op.reason or "the user denied it"
                future.set_result(Decision("deny", f"the user denied this call: {reason}"))
        elif isinstance(op, ops.Interrupt):
            self._pending_inputs.clear()
            if self.busy:
                self._cancel.set()
                assert self._turn_task is not None
                await cancel_and_wait(self._turn_task)
        elif isinstance(op, ops.Undo):
            if self.busy:
                self.emit(ev.Warning("the agent is working: interrupt it before undoing"))
            else:
                await self._undo(op.checkpoint_id)
        elif isinstance(op, ops.SwitchModel):
            self.flow.switch(op.spec, op.scope)
        elif isinstance(op, ops.SetCheck):
            self.flow.set_check(op.command)
        elif isinstance(op, ops.EndTask):
            if self.busy:
                self.emit(ev.Warning("the agent is still working: interrupt it before ending the task"))
                return
            task = self.tasks.end(op.status)
            if task is not None:
                self._emit_task(task)
        elif isinstance(op, ops.CorrectDebugTime):
            task = self.tasks.correct(op.seconds, absolute=op.absolute)
            if task is None:
                self.emit(ev.Warning("no task yet: nothing to correct"))
            else:
                self._emit_task(task)

    def _switch_model(self, spec: str, *, announce: bool = True) -> None:
        from realcost_agent.providers.catalogue import resolve_model

        try:
            model = resolve_model(spec, **self.settings.model_kwargs(), env=self.env)
        except ValueError as exc:
            self.emit(ev.Error(f"cannot switch to {spec!r}: {exc}", "config"))
            return
        why = refusal(model, self.env, self.key_bases)
        if why:
            self.emit(ev.Error(f"cannot switch to {spec!r}: {why}", "config"))
            return
        self.model = model
        if announce:
            self.emit(ev.ModelSwitched(model.label, model.litellm_id, model.backend))

    def _emit_task(self, task: Task) -> None:
        self.emit(ev.TaskUpdated(
            task.id, task.status, task.prompts, task.followups,
            agent_ms=task.agent_seconds * 1000, debug_ms=task.debug_seconds * 1000,
            debug_correction_ms=task.correction_seconds * 1000, api_cost=task.api_cost,
            unpriced_calls=task.unpriced_calls, real_cost=task.real_cost(self.settings.hourly_rate),
        ))

    def refresh_secrets(self) -> None:
        """Pick up .env files created or changed since the session started (by the user, or by
        a command that wrote one), so their values are redacted from then on."""
        values = tuple(dotenv_values(self.root))
        if values != self.redact.extra_values:
            self.redact.rebuild(values)

    def _start_turn(self, prompt: str, origin: str = "user") -> None:
        self.refresh_secrets()
        prompt = self.redact(prompt)  # a pasted key must not reach the model or any record
        task, followup = self.tasks.prompt(prompt)
        self._turn_seq += 1
        turn_id = f"t{self._turn_seq}"
        if not followup:
            try:
                self.flow.on_new_task(task)  # ModelRouted before the task's first record
            except Exception as exc:  # noqa: BLE001 - routing is advice; never strand the prompt
                self.emit(ev.Warning(f"routing failed ({type(exc).__name__}: {exc}); "
                                     f"staying on {self.model.label}"))
        self._emit_task(task)
        self._cancel = asyncio.Event()
        self.emit(ev.TurnStarted(turn_id, task.id, prompt, self.model.label, followup, origin))
        self._turn = Turn(self, turn_id)
        self._turn_task = asyncio.create_task(
            self._run_turn(self._turn, prompt, with_map=not followup), name=f"agent-turn-{turn_id}"
        )

    def repo_map(self) -> Any:
        if self._repo_map is None:
            from realcost_agent.tools.repomap import RepoMap

            self._repo_map = RepoMap(self.root, env=self.env)
        return self._repo_map

    async def _map_for(self, prompt: str) -> str:
        """The repo map for a new task, fitted to the model's budget ('' when off or empty)."""
        from realcost_agent.tools.repomap import budget_for

        if self.settings.repo_map_tokens == 0:
            return ""
        budget = budget_for(self.model.profile, self.settings.repo_map_tokens)
        try:
            return await asyncio.to_thread(
                self.repo_map().build, task=prompt, touched=tuple(self.touched_files),
                budget_tokens=budget,
            )
        except Exception as exc:  # noqa: BLE001 - the map is an aid; never fail the turn on it
            self.emit(ev.Warning(f"repo map unavailable: {type(exc).__name__}: {exc}"))
            return ""

    async def _run_turn(self, turn: Turn, prompt: str, *, with_map: bool) -> None:
        reason, text = "error", ""
        follow: tuple[str, str] | None = None  # the session's own follow-up (prompt, origin)
        try:
            content = prompt
            if with_map:
                repo_map = await self._map_for(prompt)
                if repo_map:
                    content += ("\n\nRepository map (the most relevant files and definitions, "
                                "with line numbers for read_file):\n" + repo_map)
            self.append_message({"role": "user", "content": content})
            reason, text = await turn.run()
            follow = await self.flow.after_turn(reason)  # the check, escalation
        except asyncio.CancelledError:
            turn.on_cancel()
            reason, text = "interrupted", "Interrupted by the user."
        except ProviderError as exc:
            self.emit(ev.Error(exc.line(), "provider"))
            reason, text = "error", exc.line()
        except Exception as exc:  # noqa: BLE001 - report, keep the session alive
            self.emit(ev.Error(f"internal error: {type(exc).__name__}: {exc}", "internal"))
            reason, text = "error", str(exc)
        finally:
            if reason == "error":
                turn.on_cancel()
            task = self.tasks.turn_finished()
            if task is not None:
                self._emit_task(task)  # before TurnFinished: consumers see final figures
            self.emit(ev.TurnFinished(
                turn.turn_id, reason, text, turn.steps, tuple(turn.files_changed),
                (time.monotonic() - turn.started) * 1000, continues=follow is not None,
            ))
            self._turn = None
        if follow is not None and not self._closed:
            self._start_turn(*follow)
        elif self._pending_inputs and not self._closed:
            self._start_turn(self._pending_inputs.pop(0))

    async def _shutdown(self) -> None:
        self._closed = True
        self._pending_inputs.clear()
        if self.busy:
            self._cancel.set()
            assert self._turn_task is not None
            await cancel_and_wait(self._turn_task)
        if self.process_groups:
            from realcost_agent.tools.run_command import kill_surviving_groups

            await kill_surviving_groups(self.process_groups)
        for provider in self._providers.values():
            try:
                await provider.aclose()
            except Exception:  # noqa: BLE001 - closing must not fail the shutdown
                pass
        if getattr(self, "_prune_task", None) is not None:  # speed (issue 19): see _open_checkpoints
            await asyncio.gather(self._prune_task, return_exceptions=True)
        if self.journal is not None:
            self.journal.close()
        self._events.put_nowait(_CLOSED)

    async def close(self) -> None:
        """Submit Shutdown and wait until the session has stopped."""
        if self._loop_task is None or self._loop_task.done():
            if not self._closed:
                await self._shutdown()
            return
        self.submit(ops.Shutdown())
        await self._loop_task


def _prune_quietly(prune: Callable[..., Any], errors: tuple[type[BaseException], ...],
                   root: Path, options: dict[str, Any]) -> None:
    """speed (issue 19): the background prune of _open_checkpoints; its failure is harmless."""
    try:
        prune(root, 20, **options)
    except errors:
        pass
