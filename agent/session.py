"""The core: an async Session. Front-ends submit ops and consume events; nothing else.

    session = Session(settings, root)
    await session.start()
    session.submit(UserInput("fix the failing test"))
    async for event in session.events(): ...

The Session never prints and never imports a UI. It owns the parts and the turn lifecycle:
  history      the conversation and its journal (agent/history.py)
  meter        prices and usage totals (agent/meter.py)
  flow         the current model, routing, the check, escalation (agent/taskflow.py)
  approvals    the approval gate (agent/approvals.py)
  sandbox, tool_runner, checkpointing   how tools run (agent/sandboxing.py, toolrun.py,
               checkpointing.py)
Each turn runs as one asyncio task (`agent.turn.Turn`) that sees only the TurnContext the
Session builds for it (agent/context.py).
"""
from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path
from typing import Any, AsyncIterator, Callable, Mapping

from realcost_agent.agent import events as ev
from realcost_agent.agent import ops
from realcost_agent.agent.approvals import ApprovalGate
from realcost_agent.agent.checkpointing import CheckpointKeeper
from realcost_agent.agent.config import ConfigError, Settings
from realcost_agent.agent.context import TurnContext, TurnLimits
from realcost_agent.agent.history import History
from realcost_agent.agent.journal import Resumed, sessions_dir
from realcost_agent.agent.meter import Meter
from realcost_agent.agent.provider_pool import ProviderPool
from realcost_agent.agent.prompt import load_instructions, repo_info, system_prompt
from realcost_agent.agent.sandboxing import Sandbox
from realcost_agent.agent.secrets import Redactor, dotenv_values
from realcost_agent.agent.tasks import Task, TaskTracker
from realcost_agent.agent.toolrun import ToolRunner
from realcost_agent.agent.trust import key_bases
from realcost_agent.agent.turn import Turn, cancel_and_wait
from realcost_agent.agent.turn import TurnStopped as TurnStoppedBeforeRun
from realcost_agent.agent.version import __version__
from realcost_agent.providers.base import Provider, ProviderError, ResolvedModel
from realcost_agent.providers.keyroute import check_key_route, key_destination

_CLOSED = object()
_STREAMED = (ev.AssistantDelta, ev.ReasoningDelta, ev.ToolOutputDelta)


def after_first_request(work: Callable[[], None]) -> Callable[[], None]:
    """Run `work` once, when a model request has next left the process; returns the remover."""
    from realcost_agent.providers.recovery import on_request_sent

    def fire() -> None:
        remove()
        work()

    remove = on_request_sent(fire)
    return remove


def new_session_id() -> str:
    # 24 random bits, as uuid4().hex[:6] gave, without importing uuid (and platform) at launch.
    return time.strftime("%Y%m%d-%H%M%S") + "-" + os.urandom(3).hex()


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
        warnings: tuple[str, ...] | list[str] = (),
        # ACP: the editor's files (cli/acp/files.py) for read_file/edit/write_file; None: disk.
        files: Any = None,
    ) -> None:
        from realcost_agent.tools.paths import data_dir
        from realcost_agent.agent.safety.protected import protected_paths
        from realcost_agent.agent.taskflow import TaskFlow
        from realcost_agent.tools.registry import default_registry

        self.settings = settings
        # Configuration warnings from load_settings: start() emits them (agent/preflight.py).
        self.startup_warnings = tuple(warnings)
        # An injected provider (tests, scripted models) brings its own credentials: the
        # headless key preflight in start() is for the providers the session makes itself.
        self._own_providers = provider_factory is None
        self.root = Path(os.path.realpath(root))
        self.interactive = interactive
        self.env = dict(os.environ if env is None else env)
        self.id = resume.session_id if resume else new_session_id()
        self._resume = resume
        self.sleep = sleep  # retry back-off; tests inject a fake clock
        # ACP: the editor's files (cli/acp/files.py) for read_file/edit/write_file; None: disk.
        self.files = files
        self._journal_enabled = journal
        # speed (issue 19): tool names and schemas from a cache in the data dir, the tools
        # (and pydantic) loaded when the first request is on its way.
        self.registry = registry if registry is not None else default_registry(
            cache_dir=data_dir(self.env) / "cache")
        # ... and they load once the first request has left, while the model thinks: started
        # any earlier, their import shares the one interpreter with the request being built.
        load = getattr(self.registry, "load_in_background", None)
        self._stop_watching = after_first_request(load) if load is not None else (lambda: None)
        self._events: asyncio.Queue[Any] = asyncio.Queue()
        self._listeners: list[Callable[[ev.Event], None]] = []
        # Everything bound for the model, the journal, the ledger or a screen passes through it:
        # History.append() and emit() apply it, streams use StreamRedactor.
        self.redact = Redactor(
            self.env, dotenv_values(self.root), named_values=settings.redact_values,
            redact_env=settings.redact_env,
        )
        # Keys go only to their own host or a base the user set (agent/trust.py).
        self.key_bases = key_bases(settings)
        self.providers = ProviderPool(settings, self.env, self.key_bases, provider_factory)
        self.tasks = TaskTracker(
            measure_debug=interactive, idle_cap_seconds=settings.debug_idle_cap_minutes * 60,
            clock=clock,
        )
        self.history = History(self.redact, self.emit)
        self.meter = Meter(settings.prices, self.tasks, self.emit)
        try:
            # The one owner of the current model: routing, pins, the check and escalation;
            # "auto" starts on the first usable tier.
            self.flow = TaskFlow(self)
            check_key_route(self.flow.model, self.env, self.key_bases)
        except ValueError as exc:
            raise ConfigError(str(exc)) from None
        self.sandbox = Sandbox(settings, self.root, self.env)  # ConfigError: sandbox = on, no bwrap
        self.approvals = ApprovalGate(
            mode=settings.approval or ("auto-edit" if interactive else "full-auto"),
            rules=settings.rules, interactive=interactive, root=self.root,
            # Writes there are asked even in full-auto (agent/safety/protected.py).
            protected=protected_paths(self.root, settings.instruction_files, self.env),
            sandboxed=self.sandbox.sandboxed, emit=self.emit,
        )
        self.checkpointing = CheckpointKeeper(settings, self.root, self.id, self.env, self.emit,
                                              self.history.append)
        self.tool_runner = ToolRunner(
            settings, self.root, self.env, registry=self.registry, sandbox=self.sandbox,
            redact=self.redact, emit=self.emit,
            output_dir=output_dir or data_dir(self.env) / "outputs" / self.id, files=files,
        )
        self.process_groups = self.tool_runner.process_groups  # the check's go there too
        self._ops: asyncio.Queue[ops.Op] = asyncio.Queue()
        self._pending_inputs: list[str] = []
        self._turn_task: asyncio.Task[None] | None = None
        self._cancel = asyncio.Event()
        self._loop_task: asyncio.Task[None] | None = None
        self._turn_seq = 0
        self._closed = False
        # MCP servers (agent/mcp_client.py), started in the background by start().
        from realcost_agent.agent.mcp_session import mcp_configs

        self.mcp: Any = None
        self.mcp_configs = mcp_configs(self, settings)
        from realcost_agent.agent.hooks import Hooks
        from realcost_agent.agent.planmode import PlanMode

        self.hooks = Hooks(self)  # hooks: lifecycle hooks (agent/hooks.py)
        self.approvals.hooks = self.hooks  # hooks: PreToolUse runs inside the approval gate
        self.plan = PlanMode(self)  # plan mode: /plan, --plan, update_plan (agent/planmode.py)

    # -- public surface ----------------------------------------------------------------------
    async def start(self) -> None:
        from realcost_agent.agent.safety.sandbox import harden_process

        harden_process()
        # arch-front: the one preflight (agent/preflight.py). A headless session whose model
        # cannot be called (no API key) says so as a fatal Error and stops: no one can fix it.
        # An injected provider (tests, scripted models) brings its own credentials.
        from realcost_agent.agent.preflight import model_problem, startup_events

        headless_check = not self.interactive and self._own_providers
        fatal = model_problem(self.model, self.env) if headless_check else None
        if fatal is not None:
            self.emit(fatal)
            self._closed = True
            self._events.put_nowait(_CLOSED)
            return
        problems: list[str] = []
        # Project files like any other: confined to the project and capped (History.append,
        # the one door into the conversation, redacts the system prompt they go into).
        instructions = load_instructions(self.root, self.settings.instruction_files, problems)
        # Skills (agent/skills.py): registers the `skill` tool when there are any; the project's
        # only once trusted. Returns the system prompt's list of them ('' when none).
        from realcost_agent.agent.skills import attach_skills

        skills_section = attach_skills(self, problems)
        if self._journal_enabled:
            journal = self.history.open_journal(sessions_dir(self.root, self.env) / f"{self.id}.jsonl")
            if journal is not None:
                self.add_listener(journal.event)  # the figure-bearing events
        if self._resume is not None:
            self._restore(self._resume)
        else:
            info = repo_info(self.root)
            self.history.meta(session_id=self.id, root=str(self.root), model=self.model.label,
                              version=__version__)
            from realcost_agent.agent.mcp_client import prompt_note  # MCP: name the servers

            note = prompt_note(self.mcp_configs)
            self.history.append({"role": "system",
                                 "content": system_prompt(info, instructions) + skills_section
                                 + (f"\n\n{note}" if note else "")})
        self.emit(ev.SessionStarted(
            self.id, str(self.root), self.model.label, self.model.backend, __version__,
            tuple(name for name, _ in instructions), key_destination(self.model),
            self.model.litellm_id, self.sandbox.sandboxed,
        ))
        # arch-front: every start-up warning and the missing-key error, each with its `code`.
        for event in startup_events(
            config_warnings=self.startup_warnings, instruction_problems=problems,
            sandbox_warning=self.sandbox.warning, env=self.env,
            model=self.model if self.interactive else None,  # headless: checked above
        ):
            self.emit(event)
        if self.settings.checkpoints:
            await self.checkpointing.open()
        from realcost_agent.agent.mcp_session import start_mcp  # MCP: servers in the background

        start_mcp(self)
        await self.hooks.session_start("resume" if self._resume else "startup")  # hooks: SessionStart
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

    async def close(self) -> None:
        """Submit Shutdown and wait until the session has stopped."""
        if self._loop_task is None or self._loop_task.done():
            if not self._closed:
                await self._shutdown()
            return
        self.submit(ops.Shutdown())
        await self._loop_task

    @property
    def busy(self) -> bool:
        return self._turn_task is not None and not self._turn_task.done()

    @property
    def model(self) -> ResolvedModel:
        """The current model (TaskFlow is its one writer)."""
        return self.flow.model

    @property
    def messages(self) -> list[dict[str, Any]]:
        """The conversation, for reading (History.append is the way in)."""
        return self.history.messages

    # Read by front-ends that have not moved to folding UsageUpdated events yet.
    @property
    def total_cost(self) -> float:
        return self.meter.total_cost

    @property
    def unpriced_calls(self) -> int:
        return self.meter.unpriced_calls

    def provider(self, model: ResolvedModel | None = None) -> Provider:
        return self.providers.get(model or self.model)

    def refresh_secrets(self) -> None:
        """Pick up .env files created or changed since the session started (by the user, or by
        a command that wrote one), so their values are redacted from then on."""
        values = tuple(dotenv_values(self.root))
        if values != self.redact.extra_values:
            self.redact.rebuild(values)

    def _restore(self, resumed: Resumed) -> None:
        """Continue a journaled session: its conversation, model, current task and totals."""
        self.flow.resume(resumed.meta, resumed.events,
                         flagged=self.settings.sources.get("model") == "flag")
        self.history.resume(resumed.messages)
        self.meter.restore(resumed.events)
        tasks = [r for r in resumed.events if r.get("type") == "task_updated"]
        if (last_task := tasks[-1] if tasks else None) is not None:
            self.tasks.restore(last_task)
        if resumed.skipped_lines:
            self.emit(ev.Warning(
                f"resumed session {self.id}: skipped {resumed.skipped_lines} unreadable journal "
                "line(s) (a write cut off by the crash)"
            ))

    # -- op handling -------------------------------------------------------------------------
    async def _op_loop(self) -> None:
        running = True
        while running:
            op = await self._ops.get()
            try:
                running = await self._handle(op)
            except Exception as exc:  # noqa: BLE001 - an op must never kill the session
                self.emit(ev.Error(f"internal error handling {type(op).__name__}: {exc}", "internal"))

    async def _handle(self, op: ops.Op) -> bool:
        """Carry out one op; False once the session has shut down."""
        match op:
            case ops.UserInput(text=text):
                if self.busy:
                    self._pending_inputs.append(text)
                else:
                    self._start_turn(text)
            case ops.Approve():
                self.approvals.answer(op)
            case ops.Interrupt():
                self._pending_inputs.clear()
                await self._stop_turn()
            case ops.Undo(checkpoint_id=checkpoint_id):
                if self.busy:
                    self.emit(ev.Warning("the agent is working: interrupt it before undoing",
                                         code=ev.CODE_BUSY))
                else:
                    await self.checkpointing.undo(checkpoint_id)
            case ops.PlanInput() | ops.PlanDecision():
                self.plan.handle(op)  # plan mode (agent/planmode.py)
            case ops.SwitchModel(spec=spec, scope=scope):
                self.flow.switch(spec, scope)
            case ops.SetCheck(command=command):
                self.flow.set_check(command)
            case ops.EndTask(status=status):
                if self.busy:
                    self.emit(ev.Warning("the agent is still working: interrupt it before ending "
                                         "the task", code=ev.CODE_BUSY))
                elif (task := self.tasks.end(status)) is not None:
                    self._emit_task(task)
            case ops.CorrectDebugTime(seconds=seconds, absolute=absolute):
                task = self.tasks.correct(seconds, absolute=absolute)
                if task is None:
                    self.emit(ev.Warning("no task yet: nothing to correct"))
                else:
                    self._emit_task(task)
            case ops.Shutdown():
                await self._shutdown()
                return False
        return True

    def _emit_task(self, task: Task) -> None:
        self.emit(ev.TaskUpdated(
            task.id, task.status, task.prompts, task.followups,
            agent_ms=task.agent_seconds * 1000, debug_ms=task.debug_seconds * 1000,
            debug_correction_ms=task.correction_seconds * 1000, api_cost=task.api_cost,
            unpriced_calls=task.unpriced_calls, real_cost=task.real_cost(self.settings.hourly_rate),
        ))

    # -- the turn lifecycle ------------------------------------------------------------------
    def _start_turn(self, prompt: str, origin: str = "user") -> None:
        self.refresh_secrets()
        prompt = self.redact(prompt)  # a pasted key must not reach the model or any record
        task, followup = self.tasks.prompt(prompt)
        self._turn_seq += 1
        turn_id = f"t{self._turn_seq}"
        self.hooks.turn_origin = origin  # hooks: UserPromptSubmit only for the user's prompts
        if not followup:
            try:
                self.flow.on_new_task(task)  # ModelRouted before the task's first record
            except Exception as exc:  # noqa: BLE001 - routing is advice; never strand the prompt
                self.emit(ev.Warning(f"routing failed ({type(exc).__name__}: {exc}); "
                                     f"staying on {self.model.label}"))
        self._emit_task(task)
        self._cancel = asyncio.Event()
        self.emit(ev.TurnStarted(turn_id, task.id, prompt, self.model.label, followup, origin))
        turn = Turn(self._turn_context(turn_id, task))
        self._turn_task = asyncio.create_task(
            self._run_turn(turn, prompt, with_map=not followup), name=f"agent-turn-{turn_id}"
        )

    def _turn_context(self, turn_id: str, task: Task) -> TurnContext:
        """All a turn sees: its limits and task, the model, the stores and narrow callables."""
        runner, cancel, flow = self.tool_runner, self._cancel, self.flow

        async def run_tool(tool: Any, params: Any, call_id: str, *, git_outside: bool = False) -> Any:
            return await runner.run(tool, params, call_id, cancel=cancel, task=task.first_prompt,
                                    git_outside=git_outside)

        return TurnContext(
            turn_id=turn_id, root=self.root, limits=TurnLimits.from_settings(self.settings),
            task=task.first_prompt, model=lambda: flow.model, cheap_model=flow.cheap_model,
            provider=self.provider, tools=self.registry, history=self.history, meter=self.meter,
            emit=self.emit, redact=self.redact, refresh_secrets=self.refresh_secrets,
            approve=self.approvals, checkpoint=self.checkpointing.before, run_tool=run_tool,
            file_changed=runner.touch, sleep=self.sleep, hooks=self.hooks, use_model=flow.use,
            wait_for_tool=self.mcp.wait_for_tool if self.mcp is not None else None,
        )

    async def _run_turn(self, turn: Turn, prompt: str, *, with_map: bool) -> None:
        reason, text = "error", ""
        follow: tuple[str, str] | None = None  # the session's own follow-up (prompt, origin)
        try:
            # hooks: a UserPromptSubmit hook may refuse the prompt or add context (agent/hooks.py)
            gate = await self.hooks.user_prompt(prompt)
            if gate.blocked or gate.stop:
                raise TurnStoppedBeforeRun("hook_blocked", f"The prompt was blocked by a hook: {gate.reason}")
            content = prompt + (f"\n\n[UserPromptSubmit hook context]\n{gate.extra}" if gate.extra else "")
            if with_map:
                repo_map = await self.tool_runner.map_for(prompt, self.model.profile,
                                                         self.model.context_window)
                if repo_map:
                    content += ("\n\nRepository map (the most relevant files and definitions, "
                                "with line numbers for read_file):\n" + repo_map)
            self.history.append({"role": "user", "content": content})
            reason, text = await turn.run()
            if not self.plan.planning:  # plan mode: a planning turn ends with its plan
                follow = await self.flow.after_turn(reason)  # the check, escalation
                reason = self.flow.stop_reason or reason  # route: "hand_over" (agent/budget.py)
                if follow is None and reason != "hand_over":  # hooks: a Stop hook may ask to go on
                    follow = await self.hooks.stop(reason)
        except TurnStoppedBeforeRun as stop:  # hooks: the prompt was refused
            self.emit(ev.Warning(stop.message))
            reason, text = stop.reason, stop.message
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
        if follow is not None and not self._closed:
            self._start_turn(*follow)
        elif self._pending_inputs and not self._closed:
            self._start_turn(self._pending_inputs.pop(0))

    async def _stop_turn(self) -> None:
        if self.busy:
            self._cancel.set()
            assert self._turn_task is not None
            await cancel_and_wait(self._turn_task)

    async def _shutdown(self) -> None:
        self._closed = True
        self._stop_watching()
        self._pending_inputs.clear()
        await self._stop_turn()
        if self.mcp is not None:  # MCP: every server process ends with the session
            await self.mcp.aclose()
        await self.tool_runner.kill_survivors()
        await self.checkpointing.settle()  # speed (issue 19): the background prune
        await self.providers.aclose()
        self.history.close()
        self._events.put_nowait(_CLOSED)
