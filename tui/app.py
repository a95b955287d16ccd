"""`agent` with no arguments: a full-screen Textual app over the same core Session as headless.

The app holds no agent logic: it submits ops (`session.submit`) and folds the core's events
(`await session.next_event()` in a worker on the app's own asyncio loop) into widgets. The core
is imported, created and started only after the first paint, and the provider (litellm for some
backends, which takes seconds to import) is warmed in a thread; a prompt typed before then waits
in a queue while the UI stays live.
"""
from __future__ import annotations

import asyncio
import gc
import os
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from textual.app import App, ComposeResult
from textual.binding import Binding

from realcost_agent.tui.history import History
from realcost_agent.tui.stats import SessionStats, plural
from realcost_agent.tui.widgets.conversation import Conversation
from realcost_agent.tui.widgets.prompt import PromptArea, PromptInput
from realcost_agent.tui.widgets.status import StatusBar

if TYPE_CHECKING:  # agent.events is imported after the first paint
    from realcost_agent.agent import events as ev

TICK = 1 / 20  # text deltas are batched into one layout per tick
DOUBLE_PRESS = 2.0  # a second Ctrl+C within this many seconds quits
clock = time.monotonic  # the running turn's time (snapshot tests pin it)


def _palette() -> type:
    from realcost_agent.tui.palette import AgentCommands

    return AgentCommands


def _import_core() -> None:
    """Runs in a thread: the core's imports stay off the first paint and off the UI loop."""
    import realcost_agent.agent.recorder  # noqa: F401
    import realcost_agent.agent.session  # noqa: F401
    import realcost_agent.providers.factory  # noqa: F401
    import realcost_agent.tools.registry  # noqa: F401


class AgentApp(App[int]):
    CSS_PATH = Path(__file__).resolve().parent / "app.tcss"  # absolute: subclasses live elsewhere
    TITLE = "agent"
    COMMANDS = {_palette}  # only the agent's own commands: no second "Quit", no theme picker
    BINDINGS = [
        Binding("ctrl+c", "interrupt", "interrupt/quit", priority=True, show=False),
        Binding("ctrl+q", "quit_app", "quit", priority=True, show=False),
        Binding("pageup", "scroll_conversation(-1)", show=False),
        Binding("pagedown", "scroll_conversation(1)", show=False),
        Binding("f1", "help", "help", show=False),
    ]

    def __init__(
        self,
        settings: Any,
        root: Path,
        *,
        warnings: list[str] | None = None,
        # (settings, root, start-up warnings) -> a Session; the session emits the warnings.
        session_factory: Callable[[Any, Path, list[str]], Any] | None = None,
        history: History | None = None,
        resume: Any = None,
        trust: Any = None,
    ) -> None:
        super().__init__()
        # agent.trust.TrustGate when the project asks for settings that need trust: the session
        # is created only after the user answers the dialog.
        self.trust = trust
        self.settings = settings
        self.root = Path(root)
        self.startup_warnings = list(warnings or [])
        self.session_factory = session_factory or self._default_session
        self.resume = resume  # agent.journal.Resumed: the conversation to continue
        self.recorder: Any = None
        self.session: Any = None
        self.stats = SessionStats(getattr(settings, "hourly_rate", 35.0))  # the status bar's figures
        self.costs: Any = None  # /cost and the exit summary: `agent report` of this session
        self.model = getattr(settings, "model", "")
        self.models_seen: list[str] = []
        # Custom commands (agent/commands_md.py) by name, loaded once the session starts.
        self.custom_commands: dict[str, Any] = {}
        self.ready = False  # the session is started and its provider warmed
        self.queued: list[str] = []  # prompts typed before `ready`
        self.turn_running = False
        self.setup_problem: str | None = None
        self._history = history
        self._last_interrupt = 0.0
        self._interrupting: Any = None  # the "interrupting…" notice, until the turn ends
        self._quitting = False
        self._pump_worker: Any = None
        self._turn_started = 0.0
        self._stall: Any = None
        if os.environ.get("AGENT_TUI_STALL_LOG"):  # benchmark instrumentation only
            from realcost_agent.tui.instrument import StallMeter

            self._stall = StallMeter.from_env()

    # -- layout ---------------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        # Kept as attributes: `query_one` searches the active screen, which may be a modal.
        # The saved history is read after the first paint (_after_first_paint).
        history = self._history or History(None)
        self.conversation = Conversation(self.root, id="conversation")
        self.prompt_area = PromptArea(history, id="prompt-area")
        self.prompt: PromptInput = self.prompt_area.input
        self.status_bar = StatusBar(id="status")
        from realcost_agent.tui.widgets.plan import PlanPanel

        self.plan_panel = PlanPanel(id="plan-panel")  # plan mode: the approved plan's checklist
        self._plan_answer: Any = None  # a plan decision waiting for its turn to end
        yield self.conversation
        yield self.plan_panel
        yield self.prompt_area
        yield self.status_bar

    def on_mount(self) -> None:
        self.prompt.focus()
        self.set_interval(TICK, self._tick)
        if self._stall is not None:
            self.set_interval(0.02, self._stall.tick)
        self.call_after_refresh(self._after_first_paint)

    def _after_first_paint(self) -> None:
        if self._history is None:
            from realcost_agent.tui.history import history_path

            self.prompt.prompt_history = History(history_path(self.root)).load()
        self.run_worker(self._boot(), group="boot")

    # -- start-up -------------------------------------------------------------------------------
    def _default_session(self, settings: Any, root: Path, warnings: list[str]) -> Any:
        from realcost_agent.agent.recorder import attach_ledger
        from realcost_agent.agent.session import Session

        session = Session(settings, root, interactive=True, resume=self.resume, warnings=warnings)
        self.recorder = attach_ledger(session)  # the cost ledger, as headless records it
        return session

    async def _boot(self) -> None:
        await asyncio.to_thread(_import_core)
        from realcost_agent.agent.config import ConfigError

        try:
            if self.trust is not None:
                await self._decide_trust()
            session = self.session_factory(self.settings, self.root, self.startup_warnings)
        except ConfigError as exc:
            self._needs_setup(f"Configuration problem: {exc}")
            self._set_state("setup needed")
            return
        from realcost_agent.tui.screens.cost import session_costs

        self.session = session
        self.costs = session_costs(self.settings)
        if self.resume is not None:
            self._show_resumed(self.resume)
        try:
            await session.start()
        except Exception as exc:  # noqa: BLE001 - a panel with the reason, never a traceback
            self.session = None
            self._needs_setup(f"The session could not start: {type(exc).__name__}: {exc}")
            self._set_state("setup needed")
            return
        # The start-up warnings and a missing key arrive as events (agent/preflight.py).
        from realcost_agent.tui.actions import load_custom_commands

        load_custom_commands(self, session)  # after trust was decided: the project's need it
        self._pump_worker = self.run_worker(self._pump(session), group="events")
        await self._warm_provider()
        # Everything loaded so far (Textual, the core, httpx) lives as long as the app. Full
        # garbage collections scanned all of it and stalled the UI 100-200 ms mid-stream.
        gc.freeze()

    async def _decide_trust(self) -> None:
        """Ask once; then reload the settings with the answer (nothing applied before it)."""
        import dataclasses

        from realcost_agent.tui.screens.trust import TrustScreen

        self._set_state("trust?")
        answer: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        changed = getattr(self.settings.project_trust, "status", "") == "changed"
        self.push_screen(TrustScreen(self.trust.request, changed=changed),
                         lambda result: answer.done() or answer.set_result(bool(result)))
        trusted = await answer
        settings, warnings = await asyncio.to_thread(self.trust.decide, trusted)
        if settings.approval is None:  # unset: the TUI asks before commands
            settings = dataclasses.replace(settings, approval="auto-edit")
        self.settings, self.startup_warnings, self.trust = settings, warnings, None
        self._set_state("starting…")

    def _show_resumed(self, resumed: Any) -> None:
        """The continued session's conversation and figures, before new events arrive."""
        from realcost_agent.agent import events as ev

        for record in resumed.events:
            event = ev.from_dict(record)  # None: a journal line from another version
            if event is not None:
                self.fold(event)
        self.conversation.show_history(resumed.messages)
        self.conversation.notice(f"resumed session {resumed.session_id}", "banner")

    async def _warm_provider(self) -> None:
        """Create the provider (and import litellm if it needs it) off the UI loop."""
        self.ready = False
        self._set_state("connecting…")
        session = self.session
        if session is not None:
            await asyncio.to_thread(_warm, session)
        self.ready = True
        self._set_state("working" if self.turn_running else "ready")
        queued, self.queued = self.queued, []
        for text in queued:
            self._send(text)

    def _needs_setup(self, problem: str) -> None:
        from realcost_agent.providers.catalogue import setup_hints
        from realcost_agent.tui.screens.setup import SetupScreen

        self.setup_problem = problem
        env = self.session.env if self.session is not None else None
        self.push_screen(SetupScreen(problem, setup_hints(env)))

    # -- events ---------------------------------------------------------------------------------
    async def _pump(self, session: Any) -> None:
        while (event := await session.next_event()) is not None:
            self.fold(event)
            try:
                self._on_event(event)
            except Exception as exc:  # noqa: BLE001 - one bad render must not stop the stream
                self.conversation.notice(f"display error on {event.type}: {exc}", "error")

    def fold(self, event: ev.Event) -> None:
        """Every event into the session's figures: the status bar's and the cost report's."""
        self.stats.feed(event)
        if self.costs is not None:
            try:
                self.costs(event)
            except Exception as exc:  # noqa: BLE001 - the report must never stop the stream
                self.costs = None
                self.conversation.notice(f"the cost report stopped: {exc}", "error")

    def _on_event(self, event: ev.Event) -> None:
        from realcost_agent.agent import events as ev

        conversation = self.conversation
        if getattr(event, "code", "") == ev.CODE_MISSING_KEY:  # the core's preflight
            if isinstance(event, ev.Error):
                self._needs_setup(event.message)  # at start-up: the setup panel
            else:  # switched to a model without its key: said in place, prompts held
                self.setup_problem = event.message
                conversation.notice(f"setup: {event.message}", "warning")
            return
        conversation.handle(event)
        if isinstance(event, (ev.HookRan, ev.PlanProposed, ev.PlanUpdated, ev.TurnFinished,
                              ev.TaskUpdated)):
            from realcost_agent.tui.extensions_view import handle_event

            handle_event(self, event)  # hooks and plan mode
        if self._stall is not None:
            self._stall.on_event(event, self)
        if isinstance(event, ev.SessionStarted):
            # With routing, no model is chosen until a task is routed: say so, not the first tier.
            routed = str(getattr(self.settings, "model", "")).strip() == "auto"
            self._set_model("auto" if routed else event.model)
            # Commands run without the bubblewrap sandbox: said always visible.
            self.status_bar.unsandboxed = not event.sandboxed
            extra = f" · instructions: {', '.join(event.instructions)}" if event.instructions else ""
            host = f" at {event.host}" if getattr(event, "host", "") else ""
            conversation.notice(
                f"agent {event.version} · {event.model} via {event.backend}{host} · {event.root}{extra}",
                "banner")
        elif isinstance(event, ev.TurnStarted):
            self._set_model(event.model)  # the model this turn actually runs on
            self.turn_running, self._turn_started = True, clock()
            self._set_state("working")
        elif isinstance(event, ev.TurnFinished):
            self.turn_running = False
            self._set_state("ready" if self.ready else "connecting…")
            self._close_approvals()
            if self._interrupting is not None:  # the turn-end line now says "interrupted"
                self._interrupting.remove()
                self._interrupting = None
        elif isinstance(event, ev.ApprovalRequested):
            self._set_state("approval needed")
            self._ask_approval(event)
        elif isinstance(event, ev.ModelSwitched):
            self._set_model(event.model)
            conversation.notice(f"model: {event.model} via {event.backend}", "info")
            self.setup_problem = None  # the core warns next (code missing_key) if it still is one
            self.run_worker(self._warm_provider(), group="boot")
        elif event.type == "model_routed":
            self._set_model(event.model)  # type: ignore[attr-defined]
        elif event.type == "mcp_server_status" and event.state == "ready":  # type: ignore[attr-defined]
            conversation.notice(f"MCP server {event.name} ready: {event.tools} tools", "info")  # type: ignore[attr-defined]
        elif isinstance(event, ev.TaskUpdated) and event.status != "active":
            from realcost_agent.tui.stats import task_line

            conversation.notice(task_line(event), "task")

    def _set_model(self, model: str) -> None:
        self.model = model
        if model not in self.models_seen:
            self.models_seen.append(model)
        self.prompt.models = tuple(self.models_seen)

    def _set_state(self, state: str) -> None:
        self.status_bar.state = state

    def _tick(self) -> None:
        if not self.conversation.is_attached:
            return  # shutting down
        self.conversation.flush()
        running_ms = (clock() - self._turn_started) * 1000 if self.turn_running else 0.0
        if self.turn_running and self.status_bar.state.startswith("working"):
            self._set_state(f"working {running_ms / 1000:.0f}s")
        self.status_bar.refresh_from(self.stats, self.model, running_ms)
        if self._stall is not None:
            self._stall.after_flush(self)

    # -- approvals ------------------------------------------------------------------------------
    def _ask_approval(self, event: ev.ApprovalRequested) -> None:
        from realcost_agent.agent.ops import Approve
        from realcost_agent.tui.screens.approval import ApprovalScreen

        def answered(result: tuple[str, str] | None) -> None:
            decision, reason = result or ("deny", "")
            card = self.conversation.cards.get(event.call_id)
            if card is not None:
                card.set_waiting(False)
            if self.turn_running:
                self._set_state("working")
            if self.session is not None and self.turn_running:
                self.session.submit(Approve(event.call_id, decision, reason))

        self.push_screen(ApprovalScreen(event, self.root), answered)

    def _close_approvals(self) -> None:
        from realcost_agent.tui.screens.approval import ApprovalScreen

        for screen in list(self.screen_stack):
            if isinstance(screen, ApprovalScreen):
                screen.expire()

    # -- input ----------------------------------------------------------------------------------
    def on_prompt_input_submitted(self, message: PromptInput.Submitted) -> None:
        self.run_command_text(message.text)

    def run_command_text(self, text: str) -> None:
        """A line from the input or the palette: a slash command, or a prompt for the agent."""
        from realcost_agent.tui.commands import parse

        command = parse(text)
        if command is None:
            self._prompt(text[1:] if text.startswith("//") else text)
            return
        from realcost_agent.tui.actions import run_slash

        run_slash(self, *command)

    def _prompt(self, text: str) -> None:
        if self.setup_problem:
            self.conversation.notice(f"not sent: {self.setup_problem}", "warning")
            self.prompt.set_text(text)
            return
        self.conversation.add_user(text)
        if not self.ready or self.session is None:
            self.queued.append(text)
            self.conversation.notice("waiting for the model provider to be ready…", "info")
            return
        self._send(text)

    def _send(self, text: str) -> None:
        from realcost_agent.agent.ops import UserInput

        if self.turn_running:
            self.conversation.notice("queued: sent when the current turn finishes", "info")
        self.session.submit(UserInput(text))

    # -- keys -----------------------------------------------------------------------------------
    async def action_interrupt(self) -> None:
        """Ctrl+C: interrupt a running turn; when idle, ask for a second press to quit."""
        now = time.monotonic()
        if now - self._last_interrupt <= DOUBLE_PRESS:
            await self.action_quit_app()
            return
        self._last_interrupt = now
        if self.turn_running or self.queued:
            self.interrupt()
        else:  # the hint sits where the eye already is, and goes when the chance has passed
            before = self.status_bar.state
            self._set_state("Press Ctrl+C again to quit")
            self.set_timer(DOUBLE_PRESS, lambda: self.status_bar.state.startswith("Press Ctrl+C")
                           and self._set_state(before))

    def interrupt(self) -> None:
        from realcost_agent.agent.ops import Interrupt

        dropped, self.queued = len(self.queued), []
        if self.session is not None and self.turn_running:
            self.session.submit(Interrupt())
            self._set_state("interrupting…")
            if self._interrupting is None:
                self._interrupting = self.conversation.notice(
                    "interrupting… (Ctrl+C again to quit)", "warning")
        elif dropped:
            self.conversation.notice(f"dropped {plural(dropped, 'queued prompt')}", "warning")

    async def action_quit_app(self) -> None:
        if self._quitting:
            return
        self._quitting = True
        self._set_state("quitting…")
        if self.session is not None:
            try:
                await asyncio.wait_for(self.session.close(), 10)
                if self._pump_worker is not None:
                    await asyncio.wait_for(self._pump_worker.wait(), 5)
            except Exception:  # noqa: BLE001 - quitting must always work
                pass
        if self._stall is not None:
            self._stall.write()
        self.exit(0)

    def action_scroll_conversation(self, direction: int) -> None:
        conversation = self.conversation
        if direction < 0:
            conversation.scroll_page_up()
        else:
            conversation.scroll_page_down()

    def action_help(self) -> None:
        from realcost_agent.tui.screens.help import HelpScreen

        self.push_screen(HelpScreen(self.prompt.custom))  # with the custom commands


def _warm(session: Any) -> None:
    from realcost_agent.providers.factory import warm

    try:
        warm(session.provider())
    except Exception:  # noqa: BLE001 - the first request reports the real error
        return


def run_tui(settings: Any, root: Path, warnings: list[str] | None = None, resume: Any = None,
            trust: Any = None) -> int:
    """Run the app; once it has exited, print the session's cost summary on the terminal."""
    import dataclasses

    if getattr(settings, "approval", "") is None:  # unset: the TUI asks before commands
        settings = dataclasses.replace(settings, approval="auto-edit")
    app = AgentApp(settings, root, warnings=warnings, resume=resume, trust=trust)
    app.run()
    if app.recorder is not None:
        app.recorder.close()
    if app.costs is not None:
        from realcost_agent.tui.screens.cost import summary_lines

        for line in summary_lines(app.costs):
            print(line)
    return app.return_code or 0
