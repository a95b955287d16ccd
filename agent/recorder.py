"""The ledger's event consumer: a Session listener that writes what happened as it happens.

    recorder = attach_ledger(session)   # before session.start(), so it sees SessionStarted

Each finished model call (UsageUpdated) becomes a call row; each TaskUpdated updates the task
row; corrections of the debug time are logged beside the measured value. The listener runs
synchronously inside the session's event loop, so every write is one small committed statement.
"""
from __future__ import annotations

import math
import subprocess
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from realcost_agent.agent import events as ev
from realcost_agent.agent.fold import Fold
from realcost_agent.tools.gitsafe import run_git
from realcost_agent.agent.ledger import Ledger, LedgerError, default_path
from realcost_agent.agent.usagecheck import check_usage
from realcost_agent.providers.base import Usage

if TYPE_CHECKING:
    from realcost_agent.agent.config import Settings
    from realcost_agent.agent.session import Session


def git_head(root: str | Path) -> str | None:
    """The checked-out commit, or None outside git (or before the first commit)."""
    try:
        proc = run_git(root, "rev-parse", "--verify", "-q", "HEAD", timeout=5)
    except (OSError, subprocess.SubprocessError):
        return None
    head = proc.stdout.strip()
    return head if proc.returncode == 0 and head else None


class LedgerRecorder:
    def __init__(
        self, ledger: Ledger, settings: Settings, *, interactive: bool = False,
        clock: Callable[[], float] = time.time,
        git: Callable[[str | Path], str | None] = git_head,
    ) -> None:
        self.ledger = ledger
        self.settings = settings
        self.interactive = interactive
        self.clock = clock
        self.git = git
        self.session_id: str | None = None
        self.project = ""
        self.commit: str | None = None
        # The session's figures and current model, from the one fold of the events: a new
        # task's row takes the model in use (agent/fold.py), as every front-end names it.
        self.fold = Fold()
        self._tasks: dict[int, int] = {}  # the session's task number -> ledger task id
        self._task_commit: dict[int, str | None] = {}
        self._session_corrections: dict[int, float] = {}  # ledger task id -> last value seen
        self._turn_task: dict[str, int] = {}  # turn id -> ledger task id
        self.sender: Any = None  # agent.teamledger.Sender when ledger_url is set
        self._head: tuple[str, Any] | None = None  # (root, Future) from prefetch_head
        self._handlers: dict[type[ev.Event], Callable[[Any], None]] = {
            ev.SessionStarted: self._session_started,
            ev.TaskUpdated: self._task_updated,
            ev.TurnStarted: self._turn_started,
            ev.UsageUpdated: self._usage,
            ev.TurnFinished: self._turn_finished,
            ev.ModelRouted: self._model_routed,
            ev.CheckFinished: self._check_finished,
            ev.CacheDiscarded: self._cache_discarded,
        }

    def __call__(self, event: ev.Event) -> None:
        self.fold.feed(event)  # first: a routed task's row takes its new model
        handler = self._handlers.get(type(event))
        if handler is not None:
            handler(event)

    @property
    def model(self) -> str | None:
        return self.fold.totals.model or None

    @property
    def backend(self) -> str | None:
        return self.fold.totals.backend or None

    def prefetch_head(self, root: str | Path) -> None:
        """Start looking up the project's commit now, in a thread: SessionStarted then finds it
        instead of waiting for a git process on the way to the first request."""
        from concurrent.futures import Future
        import threading

        future: Future = Future()

        def look() -> None:
            try:
                future.set_result(self.git(root))
            except BaseException as exc:  # noqa: BLE001 - handed to whoever reads it
                future.set_exception(exc)

        threading.Thread(target=look, name="agent-git-head", daemon=True).start()
        self._head = (str(root), future)

    def _commit_of(self, root: str) -> str | None:
        head, self._head = self._head, None
        if head is not None and head[0] == root:
            return head[1].result()
        return self.git(root)

    def task_id(self, session_task: int) -> int | None:
        """The ledger id of the session's task number `session_task`."""
        return self._tasks.get(session_task)

    def close(self) -> None:
        self.ledger.close()
        if self.sender is not None:  # team ledger: one last round if it is reachable
            self.sender.close()

    # -- handlers ----------------------------------------------------------------------------
    def _session_started(self, e: ev.SessionStarted) -> None:
        self.session_id, self.project = e.session_id, e.root
        self.commit = self._commit_of(e.root)
        self.ledger.add_session(
            e.session_id, project=e.root, git_commit=self.commit, model=e.model,
            backend=e.backend, version=e.version, hourly_rate=self.settings.hourly_rate,
            interactive=self.interactive, at=self.clock(),
        )

    def _ledger_task(self, seq: int) -> int:
        found = self._tasks.get(seq)
        if found is not None:
            return found
        assert self.session_id is not None, "TaskUpdated before SessionStarted"
        row = self.ledger.find_task(self.session_id, seq)  # a resumed session's task
        if row is not None:
            task_id = int(row["id"])
            self._session_corrections[task_id] = float(row["session_correction_ms"])
            self._task_commit[task_id] = row["git_commit"]
        else:
            # The first task reuses the session's commit; later ones look again (the agent or
            # the developer may have committed in between).
            commit = self.commit if not self._tasks else self.git(self.project)
            task_id = self.ledger.add_task(
                self.session_id, seq, project=self.project, git_commit=commit,
                model=self.model, backend=self.backend, hourly_rate=self.settings.hourly_rate,
                at=self.clock(),
            )
            self._session_corrections[task_id] = 0.0
            self._task_commit[task_id] = commit
        self._tasks[seq] = task_id
        return task_id

    def _task_updated(self, e: ev.TaskUpdated) -> None:
        task_id = self._ledger_task(e.task_id)
        now = self.clock()
        self.ledger.update_task(
            task_id, status=e.status, prompts=e.prompts, followups=e.followups,
            agent_ms=e.agent_ms, debug_ms=e.debug_ms, at=now,
        )
        # The session's own API total: the learned router aggregates tasks, never calls.
        self.ledger.set_task_api_cost(task_id, e.api_cost)
        # The session reports its running total of corrections; the ledger logs each change,
        # so corrections made elsewhere (`agent task debug`) are never overwritten.
        delta = e.debug_correction_ms - self._session_corrections.get(task_id, 0.0)
        if delta:
            self.ledger.add_correction(
                task_id, delta, source="session", session_total_ms=e.debug_correction_ms, at=now,
            )
            self._session_corrections[task_id] = e.debug_correction_ms

    def _turn_started(self, e: ev.TurnStarted) -> None:
        task_id = self._ledger_task(e.task_id)
        self._turn_task[e.turn_id] = task_id
        self.ledger.add_prompt(task_id, e.turn_id, e.prompt, e.followup, at=self.clock(),
                               origin=e.origin)

    def _usage(self, e: ev.UsageUpdated) -> None:
        task_id = self._turn_task.get(e.turn_id)
        # The turn checks usage already; checked again here because a bad figure reaching
        # SQLite (an int past 2**63) would raise and detach the ledger for the session.
        usage, bad = check_usage(Usage(e.input_tokens, e.output_tokens, e.cached_input_tokens,
                                       e.reasoning_tokens, e.provider_cost))
        note = e.usage_note if not bad else "; ".join(n for n in (e.usage_note, bad) if n)
        self.ledger.add_call(
            session_id=self.session_id or "", task_id=task_id, turn_id=e.turn_id, at=self.clock(),
            project=self.project, git_commit=self._task_commit.get(task_id or -1, self.commit),
            model=e.model, litellm_id=e.litellm_id, backend=e.backend, local=e.local,
            purpose=e.purpose, input_tokens=usage.input_tokens,
            cached_input_tokens=usage.cached_input_tokens, output_tokens=usage.output_tokens,
            reasoning_tokens=usage.reasoning_tokens, cost=_finite(e.cost),
            provider_cost=usage.provider_cost, ttft_ms=_finite(e.ttft_ms),
            ttft_text_ms=_finite(e.ttft_text_ms), duration_ms=_finite(e.duration_ms) or 0.0,
            setup_ms=_finite(e.setup_ms), usage_note=note, usage_estimated=e.estimated,
        )

    def _model_routed(self, e: ev.ModelRouted) -> None:
        task_id = self._ledger_task(e.task_id)
        self.ledger.add_route(task_id, model=e.model, litellm_id=e.litellm_id, backend=e.backend,
                              reason=e.reason, pinned=e.pinned, escalated=e.escalated,
                              at=self.clock())
        f = e.features
        if not e.escalated and f:  # what later tasks are matched by (agent/autoroute.py)
            self.ledger.set_task_features(
                task_id, kind=str(f.get("kind", "other")), has_check=bool(f.get("has_check")),
                size_class=str(f.get("size_class", "small")),
                named_files=int(f.get("named_files", 0)))

    def _cache_discarded(self, e: ev.CacheDiscarded) -> None:
        self.ledger.add_cache_switch(self._ledger_task(e.task_id), from_model=e.from_model,
                                     to_model=e.to_model, prefix_tokens=e.prefix_tokens,
                                     cost=_finite(e.cost), at=self.clock())

    def _check_finished(self, e: ev.CheckFinished) -> None:
        self.ledger.add_check(
            self._ledger_task(e.task_id), attempt=e.attempt, command=e.command, model=e.model,
            passed=e.passed, exit_code=e.exit_code, duration_ms=e.duration_ms,
            output_tail=e.output_tail, at=self.clock(),
        )

    def _turn_finished(self, e: ev.TurnFinished) -> None:
        task_id = self._turn_task.get(e.turn_id)
        if task_id is not None:
            self.ledger.set_task_reason(task_id, e.reason)


def _finite(value: float | None) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) else None


def attach_ledger(session: Session, *, path: str | Path | None = None) -> LedgerRecorder | None:
    """Record `session` in the ledger (or in `path`, e.g. ":memory:"); None when it is turned
    off or cannot be opened (then a warning says why: the agent works on without it)."""
    import sqlite3

    if path is None:
        if not session.settings.ledger:
            return None
        path = default_path(session.env)
    try:
        from realcost_agent.agent.ledger import identity

        # The writer's identity stamps its rows (user, machine: the team ledger's columns).
        ledger = Ledger(path, identity=identity(session.env))
    except (OSError, sqlite3.Error, LedgerError) as exc:
        session.emit(ev.Warning(f"the cost ledger at {path} cannot be opened ({exc}); "
                                "this session is not recorded"))
        return None
    recorder = LedgerRecorder(ledger, session.settings, interactive=session.interactive)
    root = getattr(session, "root", None)
    if root is not None:
        recorder.prefetch_head(root)
    session.add_listener(recorder)
    url = getattr(session.settings, "ledger_url", None)
    if url and path == default_path(session.env):
        # The shared team ledger: a background sender copies this ledger's rows to it.
        import asyncio

        from realcost_agent.agent.teamledger import Sender

        try:
            loop: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            loop = None

        def warn(message: str) -> None:  # from the sender's thread: into the session's loop
            if loop is not None and not loop.is_closed():
                loop.call_soon_threadsafe(session.emit, ev.Warning(message))

        recorder.sender = Sender(path, url, on_warning=warn).start()
    return recorder
