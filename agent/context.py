"""What one turn may use: built by the Session for each turn, it is all a Turn sees.

The Turn never holds the Session. Everything it needs is a field here: plain values fixed for
the turn (its id, the project root, the limits, the task), the two stores it writes through their
own doors (History: the conversation and journal; Meter: prices and totals), and narrow callables
for the Session's services (events, the approval gate, checkpoints, running a tool). The
dataclass is frozen: a turn cannot swap a service for another.

Modelled on Codex's per-turn context (codex-rs/core `TurnContext`), with one difference kept
from this agent's behaviour: `model` is read at each request, so /model during a turn applies
from the turn's next request, as it always has.

A new service for turns (hooks, plan mode, a budget): add a field with a default at the end,
fill it in `Session._turn_context`, call it from the Turn phase it belongs to.
"""
from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING, Any, Awaitable, Callable, Protocol

from realcost_agent.records import record

if TYPE_CHECKING:
    from realcost_agent.agent import events as ev
    from realcost_agent.agent.approvals import Verdict
    from realcost_agent.agent.config import Settings
    from realcost_agent.agent.history import History
    from realcost_agent.agent.meter import Meter
    from realcost_agent.agent.secrets import Redactor
    from realcost_agent.providers.base import Provider, ResolvedModel


class ToolBox(Protocol):
    """The part of the tool registry a turn uses: what exists, its schemas, parsing a call."""

    def names(self) -> list[str]: ...
    def schemas(self) -> list[dict[str, Any]]: ...
    def parse_call(self, name: str, arguments: Any) -> tuple[Any, Any]: ...
    def __contains__(self, name: object) -> bool: ...


class NoHooks:
    """No hooks configured: every phase passes through."""

    async def post_tool(self, call_id: str, tool_name: str, tool_input: Any, result: Any) -> Any:
        return result

    def check_stop(self) -> None:
        return None


@record(frozen=True)
class TurnLimits:
    """The limits a turn stops at, and the stream guard's (agent/streamguard.py)."""

    max_steps: int
    max_time: float | None
    max_cost: float | None
    idle_timeout: float | None
    call_timeout: float | None
    max_response_bytes: int | None

    @classmethod
    def from_settings(cls, settings: Settings) -> TurnLimits:
        return cls(
            max_steps=settings.max_steps, max_time=settings.max_time, max_cost=settings.max_cost,
            idle_timeout=settings.stream_idle_timeout, call_timeout=settings.call_timeout,
            max_response_bytes=settings.max_response_bytes,
        )


@record(frozen=True)
class TurnContext:
    turn_id: str
    root: Path
    limits: TurnLimits
    task: str | None  # the task's first prompt: compaction keeps it, tools rank the map by it
    # The model: the current one (read per request), the cheap one for summaries, and the
    # provider for a model (cached by the session; a key that may not go there is refused).
    model: Callable[[], ResolvedModel]
    cheap_model: Callable[[], ResolvedModel]
    provider: Callable[[ResolvedModel], Provider]
    tools: ToolBox
    # The conversation (append is the one door; it redacts and journals) and the usage meter.
    history: History
    meter: Meter
    # Events (the session redacts every one but the streamed deltas, which come through a
    # StreamRedactor built on `redact`), and .env values picked up after a tool wrote one.
    emit: Callable[[ev.Event], None]
    redact: Redactor
    refresh_secrets: Callable[[], None]
    # (turn_id, call_id, tool, params, shown_args, described) -> Verdict: policy, then the user.
    approve: Callable[..., Awaitable[Verdict]]
    # (turn_id, tool, params, destructive=) -> None: the snapshot a call needs before it runs.
    checkpoint: Callable[..., Awaitable[None]]
    # (tool, params, call_id, git_outside=) -> ToolResult: sandbox, env, streamed output, cancel.
    run_tool: Callable[..., Awaitable[Any]]
    file_changed: Callable[[str], None]  # the repo map ranks files the agent touched
    sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep  # retry back-off (a fake in tests)
    # PreToolUse runs in the approval gate; PostToolUse and its `continue: false` here.
    hooks: Any = None  # agent/hooks.py Hooks; None: NoHooks
    # The model with what the turn learned about it (a local server's real context window, read
    # from its overflow error): handed to the one writer of the current model (TaskFlow.use).
    use_model: Callable[[ResolvedModel], None] = lambda model: None
    # MCP: wait until a starting server's tools are listed (name) -> None; None: no MCP servers.
    wait_for_tool: Callable[[str], Awaitable[None]] | None = None

    def __post_init__(self) -> None:
        if self.hooks is None:
            object.__setattr__(self, "hooks", NoHooks())
