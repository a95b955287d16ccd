"""The JSONL event stream is a public interface: this pins every event's type and field names."""
import dataclasses
import json

from realcost_agent.agent import events as ev

EXPECTED = {
    "session_started": ["session_id", "root", "model", "backend", "version", "instructions",
                        "host", "litellm_id", "sandboxed"],
    "turn_started": ["turn_id", "task_id", "prompt", "model", "followup", "origin"],
    "assistant_delta": ["turn_id", "text"],
    "reasoning_delta": ["turn_id", "text"],
    "assistant_message": ["turn_id", "step", "text", "reasoning", "tool_call_ids"],
    "tool_call_started": ["turn_id", "call_id", "name", "arguments", "summary", "paths"],
    "tool_output_delta": ["call_id", "text"],
    "tool_call_finished": [
        "turn_id", "call_id", "name", "output", "is_error", "duration_ms", "metadata",
        "summary", "paths", "diff", "added", "removed",
    ],
    "approval_requested": [
        "turn_id", "call_id", "name", "arguments", "reason", "destructive",
        "summary", "paths", "preview", "added", "removed", "grant", "protected",
    ],
    "checkpoint_created": ["turn_id", "checkpoint_id", "label", "files"],
    "checkpoint_restored": ["checkpoint_id", "restored", "deleted", "created", "skipped", "backup_id",
                            "not_saved"],
    "usage_updated": [
        "turn_id", "model", "litellm_id", "backend", "input_tokens", "output_tokens",
        "cached_input_tokens", "reasoning_tokens", "cost", "provider_cost", "ttft_ms",
        "ttft_text_ms", "duration_ms", "session_cost", "session_input_tokens",
        "session_output_tokens", "purpose", "local", "estimated", "setup_ms", "usage_note",
    ],
    "compacted": ["turn_id", "folded_messages", "before_tokens", "after_tokens", "model", "reason"],
    "task_updated": [
        "task_id", "status", "prompts", "followups", "agent_ms", "debug_ms",
        "debug_correction_ms", "api_cost", "unpriced_calls", "real_cost",
    ],
    "model_switched": ["model", "litellm_id", "backend", "reason"],
    "turn_finished": [
        "turn_id", "reason", "text", "steps", "files_changed", "duration_ms", "continues",
    ],
    "model_routed": [
        "task_id", "model", "litellm_id", "backend", "reason", "pinned", "escalated",
        "basis", "estimates", "hourly_rate", "features",
    ],
    "cache_discarded": ["task_id", "from_model", "to_model", "prefix_tokens", "cost"],
    "hand_over": ["task_id", "message", "spent", "attempt_cost", "by_hand_cost", "budget",
                  "tried", "left"],
    "check_started": ["task_id", "command", "attempt"],
    "check_finished": [
        "task_id", "command", "passed", "exit_code", "output_tail", "duration_ms", "attempt",
        "model",
    ],
    "warning": ["message", "code"],
    "error": ["message", "kind", "fatal", "code"],
    "hook_ran": ["event", "matcher", "command", "exit_code", "decision", "reason", "duration_ms",
                 "tool_name", "call_id"],
    "plan_proposed": ["turn_id", "text", "steps"],
    "plan_updated": ["steps", "explanation", "source"],
    "mcp_server_status": ["name", "state", "tools", "error", "transport"],
}


def test_schema_version_is_one():
    assert ev.SCHEMA_VERSION == 1


def test_every_event_type_and_its_fields_are_pinned():
    actual = {
        name: [f.name for f in dataclasses.fields(cls)] for name, cls in ev.EVENT_TYPES.items()
    }
    assert actual == EXPECTED


def test_to_dict_is_json_and_carries_version_and_type():
    event = ev.TurnFinished("t1", "done", "ok", 3, ("a.py", "b.py"), 12.5)
    wire = json.loads(json.dumps(ev.to_dict(event)))
    assert wire == {
        "v": 1, "type": "turn_finished", "turn_id": "t1", "reason": "done", "text": "ok",
        "steps": 3, "files_changed": ["a.py", "b.py"], "duration_ms": 12.5, "continues": False,
    }


def test_events_are_frozen():
    event = ev.Warning("x")
    try:
        event.message = "y"  # type: ignore[misc]
    except dataclasses.FrozenInstanceError:
        return
    raise AssertionError("events must be immutable")


def test_warning_and_error_codes_are_machine_readable_and_round_trip():
    """Front-ends match a warning by its `code`, never its wording; the JSONL form keeps it."""
    warning = ev.Warning("the agent is still working", code=ev.CODE_BUSY)
    error = ev.Error("Set GROQ_API_KEY", "config", fatal=True, code=ev.CODE_MISSING_KEY)
    for event in (warning, error):
        wire = json.loads(json.dumps(ev.to_dict(event)))
        assert wire["code"] == event.code
        assert ev.from_dict(wire) == event
    assert ev.from_dict({"type": "no_such_event"}) is None
    assert ev.from_dict({"type": "warning"}) is None  # a required field missing: not an event
