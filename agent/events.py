"""Events: everything the core says, as frozen dataclasses.

Front-ends (TUI, headless text, headless JSONL, tests) consume this one stream. The JSONL form
(`to_dict`) is a public interface: it carries SCHEMA_VERSION and every event's `type`; a schema
test pins the field names. Add fields at the end with defaults; bump the version on any
incompatible change.
"""
from __future__ import annotations

import dataclasses
from dataclasses import field
from typing import Any, ClassVar

from realcost_agent.records import record

SCHEMA_VERSION = 1


@record(frozen=True)
class Event:
    type: ClassVar[str] = "event"


@record(frozen=True)
class SessionStarted(Event):
    type: ClassVar[str] = "session_started"
    session_id: str
    root: str
    model: str
    backend: str
    version: str
    instructions: tuple[str, ...] = ()  # project instruction files loaded (AGENTS.md ...)
    host: str = ""  # where requests and the API key go (scheme://host[:port]), never the key
    litellm_id: str = ""  # the starting model's provider id (as ModelRouted and UsageUpdated)
    # Commands and checks run under the bubblewrap sandbox. False when it is off or could not
    # run (then a warning with code "unsandboxed" says why): the TUI keeps it on screen.
    sandboxed: bool = False


@record(frozen=True)
class TurnStarted(Event):
    type: ClassVar[str] = "turn_started"
    turn_id: str
    task_id: int
    prompt: str
    model: str
    followup: bool = False
    # "user" | "check" (the session's follow-up after a failed check) | "escalation" |
    # "hook" (a Stop hook asked the model to continue)
    origin: str = "user"


@record(frozen=True)
class AssistantDelta(Event):
    type: ClassVar[str] = "assistant_delta"
    turn_id: str
    text: str


@record(frozen=True)
class ReasoningDelta(Event):
    type: ClassVar[str] = "reasoning_delta"
    turn_id: str
    text: str


@record(frozen=True)
class AssistantMessage(Event):
    """One finished model response (a step): its text, reasoning and the calls it asked for."""

    type: ClassVar[str] = "assistant_message"
    turn_id: str
    step: int
    text: str
    reasoning: str = ""
    tool_call_ids: tuple[str, ...] = ()


@record(frozen=True)
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


@record(frozen=True)
class ToolOutputDelta(Event):
    type: ClassVar[str] = "tool_output_delta"
    call_id: str
    text: str


@record(frozen=True)
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


@record(frozen=True)
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


@record(frozen=True)
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


@record(frozen=True)
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


@record(frozen=True)
class ModelSwitched(Event):
    type: ClassVar[str] = "model_switched"
    model: str
    litellm_id: str
    backend: str
    reason: str = "user"


@record(frozen=True)
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
    # How it was chosen: "ledger" (learned: lowest expected real total, agent/autoroute.py),
    # "rules" (agent/routing.py; too little history), "pinned", "escalation".
    basis: str = ""
    # Per tier, what the ledger says of similar tasks: {"model", "tier", "tasks", "first_try",
    # "followups", "api_cost", "minutes", "real_cost", "scope"} (real_cost at hourly_rate).
    estimates: tuple[dict[str, Any], ...] = ()
    hourly_rate: float | None = None
    # What similar tasks are matched by (recorded in the ledger with the task):
    # {"kind", "has_check", "size_class", "named_files", "context_tokens"}.
    features: dict[str, Any] = field(default_factory=dict)


@record(frozen=True)
class CheckStarted(Event):
    type: ClassVar[str] = "check_started"
    task_id: int
    command: str
    attempt: int  # 1 for the task's first check


@record(frozen=True)
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


@record(frozen=True)
class Compacted(Event):
    """Older turns were summarized to fit the context window."""

    type: ClassVar[str] = "compacted"
    turn_id: str
    folded_messages: int
    before_tokens: int  # estimates (about 4 characters a token)
    after_tokens: int
    model: str
    reason: str


@record(frozen=True)
class CheckpointCreated(Event):
    type: ClassVar[str] = "checkpoint_created"
    turn_id: str
    checkpoint_id: int
    label: str
    files: int


@record(frozen=True)
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


@record(frozen=True)
class TurnFinished(Event):
    type: ClassVar[str] = "turn_finished"
    turn_id: str
    # "done" | "max_steps" | "max_cost" | "max_time" | "tool_errors" | "repeated_call" |
    # "context_overflow" | "output_budget" | "stream_timeout" | "response_too_large" |
    # "interrupted" | "error" | "hook_blocked" (a UserPromptSubmit hook refused the prompt) |
    # "hook_stopped" (a hook answered `continue: false`)
    reason: str
    text: str
    steps: int
    files_changed: tuple[str, ...] = ()
    duration_ms: float = 0.0
    # The session goes on with this task by itself (an automatic follow-up after a failed
    # check, or an escalation): front-ends that end a task after its turn wait for the last.
    continues: bool = False


# Machine-readable `code`s of Warning and Error: front-ends match these, never the wording.
# "" is a warning or error no front-end needs to tell apart.
CODE_CONFIG = "config"  # a configuration warning (load_settings), given to the Session
CODE_INSTRUCTIONS = "instructions"  # an instruction file skipped or cut (AGENTS.md ...)
CODE_UNSANDBOXED = "unsandboxed"  # commands and checks run without the bubblewrap sandbox
CODE_MISSING_KEY = "missing_key"  # the model needs an API key that is not set
CODE_UNKNOWN_MODEL = "unknown_model"  # a model name that does not resolve
CODE_BUSY = "busy"  # an op refused because a turn is running (end the task, undo)


@record(frozen=True)
class Warning(Event):  # noqa: A001 - the protocol's name
    type: ClassVar[str] = "warning"
    message: str
    code: str = ""  # one of the CODE_* above, or ""


@record(frozen=True)
class Error(Event):
    type: ClassVar[str] = "error"
    message: str
    # "provider" | "config" | "tool" | "internal"
    kind: str = "internal"
    # The session cannot work as configured (a missing API key at start-up): a headless run
    # exits with its usage code, the TUI shows its setup panel.
    fatal: bool = False
    code: str = ""  # one of the CODE_* above, or ""


@record(frozen=True)
class HookRan(Event):
    """One lifecycle hook ran (agent/hooks.py)."""

    type: ClassVar[str] = "hook_ran"
    event: str  # SessionStart | UserPromptSubmit | PreToolUse | PostToolUse | Stop
    matcher: str
    command: str
    exit_code: int | None  # None: timed out or could not start
    # "" (no say) | "allow" | "deny" | "ask" | "block" | "stop" | "error" | "timeout"
    decision: str
    reason: str
    duration_ms: float
    tool_name: str = ""
    call_id: str = ""


@record(frozen=True)
class PlanProposed(Event):
    """Plan mode: the model's plan, waiting for the user to approve, edit or reject it."""

    type: ClassVar[str] = "plan_proposed"
    turn_id: str
    text: str  # the model's whole answer
    steps: tuple[str, ...]  # its checklist


@record(frozen=True)
class PlanUpdated(Event):
    """The plan being carried out: set on approval, then by the model's update_plan calls."""

    type: ClassVar[str] = "plan_updated"
    # ({"step": str, "status": "pending" | "in_progress" | "completed"}, ...); () : no plan
    steps: tuple[dict[str, str], ...]
    explanation: str = ""
    # "approved" | "update_plan" | "rejected"
    source: str = "update_plan"


@record(frozen=True)
class CacheDiscarded(Event):
    """A model switch in the middle of a task: the prompt cache of the old model is thrown away
    and the conversation so far (the prefix) goes to the new model uncached. `cost` is what that
    costs over a warm cache on the new model (prefix x (input - cached input price)); it is
    inside the next call's API cost already, shown as its own line, never added twice."""

    type: ClassVar[str] = "cache_discarded"
    task_id: int
    from_model: str
    to_model: str
    prefix_tokens: int
    cost: float | None  # None: the new model's price is unknown


@record(frozen=True)
class HandOver(Event):
    """The task stops and goes to the developer: one more agent attempt is expected to cost more
    than finishing by hand, or would pass the task's budget (agent/budget.py)."""

    type: ClassVar[str] = "hand_over"
    task_id: int
    message: str  # what was tried, what is left, and the figures
    spent: float  # the task's real total so far (API + debug minutes x rate)
    attempt_cost: float  # expected real cost of one more attempt (its failure included)
    by_hand_cost: float  # expected cost of the developer finishing by hand
    budget: float | None = None
    tried: tuple[str, ...] = ()  # the models the task ran on, in order
    left: str = ""  # the failing check (or what the last turn stopped on)


@record(frozen=True)
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
        Warning, Error, ModelRouted, CheckStarted, CheckFinished, HookRan, PlanProposed,
        PlanUpdated, CacheDiscarded, HandOver, McpServerStatus,
    )
}


def from_dict(record: dict[str, Any]) -> Event | None:
    """An event back from its JSONL form (a journal line); None for an unknown type or fields
    from another version that do not fit."""
    cls = EVENT_TYPES.get(str(record.get("type", "")))
    if cls is None:
        return None
    names = {f.name for f in dataclasses.fields(cls)}
    fields = {k: tuple(v) if isinstance(v, list) else v for k, v in record.items() if k in names}
    try:
        return cls(**fields)
    except TypeError:
        return None


def to_dict(event: Event) -> dict[str, Any]:
    """The JSONL wire form: {"v": SCHEMA_VERSION, "type": ..., <fields>}."""
    out: dict[str, Any] = {"v": SCHEMA_VERSION, "type": event.type}
    for f in dataclasses.fields(event):
        value = getattr(event, f.name)
        out[f.name] = list(value) if isinstance(value, tuple) else value
    return out
