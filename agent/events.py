"""Events: everything the core says, as frozen dataclasses.

Front-ends (TUI, headless text, headless JSONL, tests) consume this one stream. The JSONL form
(`to_dict`) is a public interface: it carries SCHEMA_VERSION and every event's `type`; a schema
test pins the field names. Add fields at the end with defaults; bump the version on any
incompatible change.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, ClassVar

SCHEMA_VERSION = 1


@dataclass(frozen=True)
class Event:
    type: ClassVar[str] = "event"


@dataclass(frozen=True)
class SessionStarted(Event):
    type: ClassVar[str] = "session_started"
    session_id: str
    root: str
    model: str
    backend: str
    version: str
    instructions: tuple[str, ...] = ()  # project instruction files loaded (AGENTS.md ...)
    host: str = ""  # where requests and the API key go (scheme://host[:port]), never the key


@dataclass(frozen=True)
class TurnStarted(Event):
    type: ClassVar[str] = "turn_started"
    turn_id: str
    task_id: int
    prompt: str
    model: str
    followup: bool = False
    # "user" | "check" (the session's follow-up after a failed check) | "escalation"
    origin: str = "user"


@dataclass(frozen=True)
class AssistantDelta(Event):
    type: ClassVar[str] = "assistant_delta"
    turn_id: str
    text: str


@dataclass(frozen=True)
class ReasoningDelta(Event):
    type: ClassVar[str] = "reasoning_delta"
    turn_id: str
    text: str


@dataclass(frozen=True)
class AssistantMessage(Event):
    """One finished model response (a step): its text, reasoning and the calls it asked for."""

    type: ClassVar[str] = "assistant_message"
    turn_id: str
    step: int
    text: str
    reasoning: str = ""
    tool_call_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class ToolCallStarted(Event):
    type: ClassVar[str] = "tool_call_started"
    turn_id: str
    call_id: str
    name: str
    arguments: Any  # parsed dict when valid JSON, else the raw string
    # The tool's own description of the call (tools.base.Description): one line, and the
    # project-relative paths it touches. Empty for a call that could not be parsed.
    summary: str = ""
    paths: tuple[str, ...] = ()


@dataclass(frozen=True)
class ToolOutputDelta(Event):
    type: ClassVar[str] = "tool_output_delta"
    call_id: str
    text: str


@dataclass(frozen=True)
class ToolCallFinished(Event):
    type: ClassVar[str] = "tool_call_finished"
    turn_id: str
    call_id: str
    name: str
    output: str
    is_error: bool
    duration_ms: float
    # diff, files_changed, exit_code, full_output_path, truncated, denied ...
    metadata: dict[str, Any] = field(default_factory=dict)
    # What the call did, as the tool describes it (every front-end shows these, none derives
    # its own): one line, the paths changed, the unified diff, and its changed-line counts
    # (None when the call changed no file).
    summary: str = ""
    paths: tuple[str, ...] = ()
    diff: str = ""
    added: int | None = None
    removed: int | None = None


@dataclass(frozen=True)
class ApprovalRequested(Event):
    type: ClassVar[str] = "approval_requested"
    turn_id: str
    call_id: str
    name: str
    arguments: Any
    reason: str
    destructive: bool = False  # a destructive command: front-ends offer no "approve for session"
    # What the call would do, as the tool describes it: one line, the paths, the exact diff it
    # would apply (edits) or the command, and the diff's changed-line counts.
    summary: str = ""
    paths: tuple[str, ...] = ()
    preview: str = ""
    added: int | None = None
    removed: int | None = None
    # What "approve for the session" would allow from now on, shown to the user
    # ("run_command `pytest …`", "edit"); "" when this call cannot be granted (destructive,
    # protected path, unparsable): then only "approve once" is offered.
    grant: str = ""
    protected: bool = False  # a write to a protected path (.agent/, AGENTS.md, .git/, .env*): same


@dataclass(frozen=True)
class UsageUpdated(Event):
    """One finished model call, with the figures the ledger records."""

    type: ClassVar[str] = "usage_updated"
    turn_id: str
    model: str  # profile or model id as the user named it
    litellm_id: str
    backend: str
    input_tokens: int
    output_tokens: int
    cached_input_tokens: int
    reasoning_tokens: int
    cost: float | None  # None when the price is unknown
    provider_cost: float | None
    ttft_ms: float | None  # request sent -> first streamed token of any kind
    ttft_text_ms: float | None  # request sent -> first visible text token
    duration_ms: float
    session_cost: float | None
    session_input_tokens: int
    session_output_tokens: int
    purpose: str = "turn"  # "turn" | "compaction" | "failed_attempt" (billed, then failed)
    local: bool = False  # a local backend: its cost is 0 because nothing is billed, not unknown
    # The host reported no usage: the token counts were estimated locally (about 4 chars/token).
    estimated: bool = False
    # The agent's own time before the request left (provider import, first HTTP client, retry
    # back-off): measured apart so ttft_ms is the server's alone.
    setup_ms: float | None = None
    # Set when the figures are not the provider's as sent: bad data clamped, or a call cut by
    # the agent before usage came (then cost is None: billed, amount unknown).
    usage_note: str | None = None


@dataclass(frozen=True)
class TaskUpdated(Event):
    type: ClassVar[str] = "task_updated"
    task_id: int
    status: str  # "active" | "done" | "abandoned" | "ended"
    prompts: int
    followups: int
    agent_ms: float = 0.0  # time the agent was busy on the task
    debug_ms: float = 0.0  # measured developer follow-up/debug time (gaps, each capped)
    debug_correction_ms: float = 0.0  # the developer's corrections, kept apart
    api_cost: float = 0.0  # calls with a known price
    unpriced_calls: int = 0
    real_cost: float = 0.0  # api_cost + (debug + correction) hours x hourly_rate


@dataclass(frozen=True)
class ModelSwitched(Event):
    type: ClassVar[str] = "model_switched"
    model: str
    litellm_id: str
    backend: str
    reason: str = "user"


@dataclass(frozen=True)
class ModelRouted(Event):
    """The model a task runs on, chosen by routing (or pinned), and why; also each escalation."""

    type: ClassVar[str] = "model_routed"
    task_id: int
    model: str
    litellm_id: str
    backend: str
    reason: str
    pinned: bool = False  # the user chose it (per session or per task); routing did not
    escalated: bool = False  # moved up a tier after failed checks or failing tool calls


@dataclass(frozen=True)
class CheckStarted(Event):
    type: ClassVar[str] = "check_started"
    task_id: int
    command: str
    attempt: int  # 1 for the task's first check


@dataclass(frozen=True)
class CheckFinished(Event):
    type: ClassVar[str] = "check_finished"
    task_id: int
    command: str
    passed: bool
    exit_code: int | None  # None: killed after its timeout or by an interrupt
    output_tail: str
    duration_ms: float
    attempt: int
    model: str  # the model whose work was checked


@dataclass(frozen=True)
class Compacted(Event):
    """Older turns were summarized to fit the context window."""

    type: ClassVar[str] = "compacted"
    turn_id: str
    folded_messages: int
    before_tokens: int  # estimates (about 4 characters a token)
    after_tokens: int
    model: str
    reason: str


@dataclass(frozen=True)
class CheckpointCreated(Event):
    type: ClassVar[str] = "checkpoint_created"
    turn_id: str
    checkpoint_id: int
    label: str
    files: int


@dataclass(frozen=True)
class CheckpointRestored(Event):
    type: ClassVar[str] = "checkpoint_restored"
    checkpoint_id: int
    restored: tuple[str, ...]
    deleted: tuple[str, ...]
    created: tuple[str, ...]
    skipped: tuple[str, ...]
    backup_id: int | None  # the state just before the restore, itself restorable
    # What the checkpoint did not cover and the restore left as it was, each with why:
    # "node_modules/ (directory not saved by default)", "big.iso (larger than the 20 MB ...)".
    not_saved: tuple[str, ...] = ()


@dataclass(frozen=True)
class TurnFinished(Event):
    type: ClassVar[str] = "turn_finished"
    turn_id: str
    # "done" | "max_steps" | "max_cost" | "max_time" | "tool_errors" | "repeated_call" |
    # "context_overflow" | "output_budget" | "stream_timeout" | "response_too_large" |
    # "interrupted" | "error"
    reason: str
    text: str
    steps: int
    files_changed: tuple[str, ...] = ()
    duration_ms: float = 0.0
    # The session goes on with this task by itself (an automatic follow-up after a failed
    # check, or an escalation): front-ends that end a task after its turn wait for the last.
    continues: bool = False


@dataclass(frozen=True)
class Warning(Event):  # noqa: A001 - the protocol's name
    type: ClassVar[str] = "warning"
    message: str


@dataclass(frozen=True)
class Error(Event):
    type: ClassVar[str] = "error"
    message: str
    # "provider" | "config" | "tool" | "internal"
    kind: str = "internal"
    fatal: bool = False


@dataclass(frozen=True)
class McpServerStatus(Event):
    """An MCP server's state changed: "starting", "ready" (its tools are in the tool list),
    "failed" (did not start, timed out, or died; `error` says why) or "stopped" (at exit)."""

    type: ClassVar[str] = "mcp_server_status"
    name: str
    state: str
    tools: int = 0  # tools it offers to the model (when ready)
    error: str = ""
    transport: str = "stdio"  # "stdio" | "http"


EVENT_TYPES: dict[str, type[Event]] = {
    cls.type: cls
    for cls in (
        SessionStarted, TurnStarted, AssistantDelta, ReasoningDelta, AssistantMessage,
        ToolCallStarted, ToolOutputDelta, ToolCallFinished, ApprovalRequested, UsageUpdated,
        TaskUpdated, ModelSwitched, Compacted, CheckpointCreated, CheckpointRestored, TurnFinished,
        Warning, Error, ModelRouted, CheckStarted, CheckFinished, McpServerStatus,
    )
}


def to_dict(event: Event) -> dict[str, Any]:
    """The JSONL wire form: {"v": SCHEMA_VERSION, "type": ..., <fields>}."""
    out: dict[str, Any] = {"v": SCHEMA_VERSION, "type": event.type}
    for f in dataclasses.fields(event):
        value = getattr(event, f.name)
        out[f.name] = list(value) if isinstance(value, tuple) else value
    return out
