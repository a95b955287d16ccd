"""Where the session's tools run: each call's ToolContext (scrubbed env, the sandbox wrapper,
timeouts, the turn's cancel event), its streamed output (redacted as it streams), the process
groups commands leave behind, and the files the agent touched (they steer the repo map).

    runner.run(tool, params, call_id, cancel=..., task=..., git_outside=...) -> ToolResult
    runner.touch(path)          a file the agent changed (the repo map ranks it up)
    runner.map_for(prompt, profile)   the repo map for a new task ('' when off or failing)
"""
from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any, Callable, Mapping

from realcost_agent.agent import events as ev
from realcost_agent.agent.config import Settings
from realcost_agent.tools.childenv import scrubbed_env
from realcost_agent.agent.sandboxing import Sandbox
from realcost_agent.agent.secrets import Redactor, StreamRedactor


class ToolRunner:
    def __init__(self, settings: Settings, root: Path, env: Mapping[str, str], *, registry: Any,
                 sandbox: Sandbox, redact: Redactor, emit: Callable[[ev.Event], None],
                 output_dir: Path, files: Any = None) -> None:
        self._settings = settings
        self._files = files  # ACP: the editor's buffers for read_file/edit/write_file; None: disk
        self._root = root
        self._env = env
        self.registry = registry
        self._sandbox = sandbox
        self._redact = redact
        self._emit = emit
        self._output_dir = output_dir
        self._streams: dict[str, StreamRedactor] = {}
        self._repo_map: Any = None
        # Process groups started by commands: the session kills survivors at exit.
        self.process_groups: set[int] = set()
        self.touched: list[str] = []

    # -- one call ----------------------------------------------------------------------------
    def context(self, call_id: str, *, cancel: asyncio.Event | None = None, task: str = "",
                git_outside: bool = False) -> Any:
        from realcost_agent.tools.base import ToolContext

        stream = self._streams[call_id] = StreamRedactor(self._redact)

        def on_output(chunk: str) -> None:
            text = stream.feed(chunk)  # a secret split across chunks is held until whole
            if text:
                self._emit(ev.ToolOutputDelta(call_id, text))

        wrap, env = self._sandbox.tool_wrap(scrubbed_env(self._env), git_outside=git_outside)
        return ToolContext(
            root=self._root,
            env=env,
            output_dir=self._output_dir,
            command_timeout=self._settings.command_timeout,
            max_output_chars=self._settings.max_output_chars,
            cancel=cancel,
            on_output=on_output,
            process_groups=self.process_groups,
            wrap_argv=wrap,
            repo_map=self.repo_map() if self._settings.repo_map_tokens != 0 else None,
            task=task,
            touched=tuple(self.touched),
            files=self._files,
        )

    async def run(self, tool: Any, params: Any, call_id: str, *, cancel: asyncio.Event | None,
                  task: str, git_outside: bool = False) -> Any:
        ctx = self.context(call_id, cancel=cancel, task=task, git_outside=git_outside)
        try:
            return await self.registry.execute(tool, params, ctx)
        finally:
            self._end_output(call_id)

    def _end_output(self, call_id: str) -> None:
        """The tool finished: show what its output stream still held back."""
        stream = self._streams.pop(call_id, None)
        text = stream.flush() if stream is not None else ""
        if text:
            self._emit(ev.ToolOutputDelta(call_id, text))

    def touch(self, path: str) -> None:
        if path not in self.touched:
            self.touched.append(path)

    # -- the repo map ------------------------------------------------------------------------
    def repo_map(self) -> Any:
        if self._repo_map is None:
            from realcost_agent.tools.repomap import RepoMap

            self._repo_map = RepoMap(self._root, env=self._env)
        return self._repo_map

    async def map_for(self, prompt: str, profile: Any, window: int | None = None) -> str:
        """The repo map for a new task, fitted to the model's budget ('' when off or empty);
        bounded by the model's real window (a local server's, read at start: issue 18)."""
        from realcost_agent.tools.repomap import budget_for

        if self._settings.repo_map_tokens == 0:
            return ""
        budget = budget_for(profile, self._settings.repo_map_tokens, window)
        try:
            return await asyncio.to_thread(
                self.repo_map().build, task=prompt, touched=tuple(self.touched),
                budget_tokens=budget,
            )
        except Exception as exc:  # noqa: BLE001 - the map is an aid; never fail the turn on it
            self._emit(ev.Warning(f"repo map unavailable: {type(exc).__name__}: {exc}"))
            return ""

    async def kill_survivors(self) -> None:
        if self.process_groups:
            from realcost_agent.tools.run_command import kill_surviving_groups

            await kill_surviving_groups(self.process_groups)
