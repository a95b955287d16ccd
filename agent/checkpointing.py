"""The session's checkpoints: the shadow repository opened at start (agent/shadow_git.py), the
snapshot a tool call needs before it runs (agent/checkpoint_policy.py), and /undo.

    keeper.open()                               at session start, when checkpoints are on
    keeper.before(turn_id, tool, params, destructive=...)   before a tool call runs
    keeper.undo(checkpoint_id)                  the Undo op
    keeper.store                                the Checkpoints object (None: off or unavailable)
"""
from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any, Callable, Mapping

from realcost_agent.agent import events as ev
from realcost_agent.agent.config import Settings
from realcost_agent.tools.childenv import scrubbed_env


class CheckpointKeeper:
    def __init__(self, settings: Settings, root: Path, session_id: str, env: Mapping[str, str],
                 emit: Callable[[ev.Event], None],
                 tell_model: Callable[[dict[str, Any]], None]) -> None:
        self._settings = settings
        self._root = root
        self._session_id = session_id
        self._env = env
        self._emit = emit
        self._tell_model = tell_model  # History.append: the model hears of an undo
        self.store: Any = None
        self._checkpointed_turns: set[str] = set()
        self._paused: set[str] = set()  # turns whose tree passed the file limit
        self._prune_task: asyncio.Task[None] | None = None

    async def open(self) -> None:
        """The project's shadow repository in the data dir (agent/shadow_git.py)."""
        from realcost_agent.agent.checkpoints import CheckpointError, Checkpoints, prune_sessions
        from realcost_agent.tools.paths import data_dir

        s = self._settings
        options = dict(data_dir=data_dir(self._env), env=scrubbed_env(self._env),
                       max_file_bytes=int(s.checkpoint_max_file_mb * 1024 * 1024),
                       max_total_bytes=int(s.checkpoint_max_total_mb * 1024 * 1024),
                       skip_dirs=s.checkpoint_skip_dirs)
        try:
            self.store = await asyncio.to_thread(Checkpoints, self._root, self._session_id, **options)
        except (CheckpointError, OSError) as exc:
            self._emit(ev.Warning(f"checkpoints unavailable, /undo will not work: {exc}"))
            return
        # speed (issue 19): pruning old sessions' refs (their objects go at the next gc) is
        # housekeeping, so it runs in the background instead of before the first request;
        # settle() (at shutdown) waits for it.
        def prune() -> None:
            try:
                prune_sessions(self._root, 20, **options)
            except (CheckpointError, OSError):
                pass

        self._prune_task = asyncio.create_task(asyncio.to_thread(prune))

    async def settle(self) -> None:
        """Wait for the background work open() started (the prune); its failure is harmless."""
        if self._prune_task is not None:
            await asyncio.gather(self._prune_task, return_exceptions=True)
            self._prune_task = None

    async def before(self, turn_id: str, tool: Any, params: Any, *,
                     destructive: bool = False) -> None:
        """The checkpoint a tool call needs before it runs (agent/checkpoint_policy.py): file
        tools before the turn's first change, commands unless provably read-only."""
        from realcost_agent.agent.checkpoint_policy import checkpoint_kind

        kind = checkpoint_kind(tool.name, tool.mutating, params, self._root, scrubbed_env(self._env))
        if kind is not None:
            await self.take(turn_id, f"before {tool.name}", force=kind == "always" or destructive)

    async def take(self, turn_id: str, label: str, *, force: bool = False) -> None:
        """Snapshot the tree before the turn's first change (and, with force, before this call),
        without touching the user's branch, index or stash."""
        if self.store is None or (turn_id in self._checkpointed_turns and not force):
            return
        if turn_id in self._paused:
            return  # the tree is past the file limit: one slow failed scan per turn is enough
        self._checkpointed_turns.add(turn_id)
        from realcost_agent.agent.checkpoints import CheckpointError, CheckpointLimitError

        try:
            cp = await asyncio.to_thread(self.store.snapshot, f"{turn_id}: {label}", turn=turn_id)
        except (CheckpointError, OSError) as exc:
            if isinstance(exc, CheckpointLimitError):
                self._paused.add(turn_id)
            self._emit(ev.Warning(f"checkpoint failed, this change cannot be undone: {exc}"))
            return
        if cp.created:
            self._emit(ev.CheckpointCreated(turn_id, cp.id, cp.label, cp.files))

    async def undo(self, checkpoint_id: int | None) -> None:
        from realcost_agent.agent.checkpoints import CheckpointError

        if self.store is None:
            self._emit(ev.Warning("checkpoints are off or unavailable: nothing to undo"))
            return
        try:
            target = await asyncio.to_thread(self.store.undo_target, checkpoint_id)
            if target is None:
                self._emit(ev.Warning("nothing to undo: the agent has changed nothing in this "
                                      "session (or every change is already undone)"))
                return
            report = await asyncio.to_thread(self.store.restore, target)
        except (CheckpointError, OSError) as exc:
            self._emit(ev.Error(f"undo failed: {exc}", "tool"))
            return
        self._emit(ev.CheckpointRestored(
            target.id, tuple(report.restored), tuple(report.deleted), tuple(report.created),
            tuple(report.skipped), report.backup.id if report.backup else None,
            tuple(report.not_saved),
        ))
        if report.backup_note:
            self._emit(ev.Warning(report.backup_note))
        self._tell_model({"role": "user", "content": (
            f"[The user undid the changes since checkpoint {target.id} ({target.label}); the "
            "working tree is back to that state. Re-read files before editing them.]")})
