"""The narrow turn boundary (issue 13): a Turn runs on its TurnContext alone, and the parts the
Session was split into (History, Meter, ApprovalGate) keep their contracts."""
import asyncio
import dataclasses
import importlib.util
import json
from pathlib import Path

import pytest

from realcost_agent.agent import events as ev
from realcost_agent.agent.approvals import ApprovalGate, Verdict
from realcost_agent.agent.config import Settings
from realcost_agent.agent.context import TurnContext, TurnLimits
from realcost_agent.agent.history import History
from realcost_agent.agent.meter import Meter
from realcost_agent.agent.ops import Approve
from realcost_agent.agent.policy import Decision
from realcost_agent.agent.secrets import Redactor
from realcost_agent.agent.tasks import TaskTracker
from realcost_agent.agent.turn import Turn
from realcost_agent.providers.base import Usage
from realcost_agent.providers.catalogue import resolve_model
from realcost_agent.providers.scripted import ScriptedProvider, text, tool_call, usage
from realcost_agent.tools.base import Description, ToolContext
from realcost_agent.tools.registry import default_registry

ROOT = Path(__file__).resolve().parents[3]
CANARY = "sk-or-canary-1234567890abcdef"
PRICES = {"gpt-oss-120b": {"input": 1.0, "output": 2.0}}  # $ per million tokens


def model(spec="gpt-oss-120b"):
    return resolve_model(spec, **Settings().model_kwargs(), env={})


def of(events, cls):
    return [e for e in events if isinstance(e, cls)]


class Bare:
    """A TurnContext made by hand, with no Session anywhere: what a Turn needs and nothing else."""

    def __init__(self, root, turns, *, verdict=None, max_steps=10):
        self.events: list[ev.Event] = []
        self.redact = Redactor({"OPENROUTER_API_KEY": CANARY})
        self.tasks = TaskTracker(measure_debug=False)
        self.tasks.prompt("what is in a.txt?")
        self.history = History(self.redact, self.events.append)
        self.meter = Meter(PRICES, self.tasks, self.events.append)
        self.provider = ScriptedProvider(turns)
        self.registry = default_registry()
        self.ran: list[tuple[str, object]] = []
        self.touched: list[str] = []
        self.verdict = verdict or Verdict(Decision("allow"))
        self.model = model()
        self.ctx = TurnContext(
            turn_id="t1", root=root, task="what is in a.txt?",
            limits=TurnLimits(max_steps=max_steps, max_time=None, max_cost=None,
                              idle_timeout=30, call_timeout=None, max_response_bytes=1_000_000),
            model=lambda: self.model, cheap_model=lambda: self.model,
            provider=lambda m: self.provider, tools=self.registry, history=self.history,
            meter=self.meter, emit=self.events.append, redact=self.redact,
            refresh_secrets=lambda: None, approve=self.approve, checkpoint=self.checkpoint,
            run_tool=self.run_tool, file_changed=self.touched.append,
        )

    async def approve(self, turn_id, call_id, tool, params, shown_args, described):
        self.ran.append(("approve", tool.name))
        return self.verdict

    async def checkpoint(self, turn_id, tool, params, *, destructive=False):
        self.ran.append(("checkpoint", tool.name))

    async def run_tool(self, tool, params, call_id, *, git_outside=False):
        self.ran.append(("run", tool.name))
        return await self.registry.execute(tool, params, ToolContext(root=self.ctx.root))


@pytest.fixture
def root(tmp_path):
    (tmp_path / "a.txt").write_text(f"hello\nkey={CANARY}\n")
    return tmp_path


async def test_a_turn_runs_on_its_context_alone(root):
    bare = Bare(root, [
        [tool_call("read_file", {"path": "a.txt"}, id="r1"), usage(100, 10)],
        [text("It says hello."), usage(150, 5)],
    ])
    bare.history.append({"role": "user", "content": "what is in a.txt?"})
    turn = Turn(bare.ctx)
    assert not hasattr(turn, "s")
    reason, final = await turn.run()
    assert (reason, final) == ("done", "It says hello.")
    # The phases ran in order through the context's callables.
    assert bare.ran == [("approve", "read_file"), ("checkpoint", "read_file"), ("run", "read_file")]
    roles = [m["role"] for m in bare.history.messages]
    assert roles == ["user", "assistant", "tool", "assistant"]
    tool_result = bare.history.messages[2]["content"]
    assert "hello" in tool_result and CANARY not in tool_result  # the one door redacted it
    # The meter charged both calls; the events carry its totals.
    used = of(bare.events, ev.UsageUpdated)
    assert [u.session_input_tokens for u in used] == [100, 250]
    assert used[-1].session_cost == pytest.approx(bare.meter.total_cost)
    assert bare.meter.total_cost == pytest.approx((250 * 1 + 15 * 2) / 1e6)
    assert turn.cost == pytest.approx(bare.meter.total_cost)
    assert bare.tasks.current.requests == 2
    finished = of(bare.events, ev.ToolCallFinished)
    assert [f.call_id for f in finished] == ["r1"] and not finished[0].is_error


async def test_a_denied_call_never_reaches_the_tool(root):
    bare = Bare(root, [
        [tool_call("write_file", {"path": "b.txt", "content": "x"}, id="w1"), usage(10, 1)],
        [text("Understood."), usage(10, 1)],
    ], verdict=Verdict(Decision("deny", "not in this test")))
    bare.history.append({"role": "user", "content": "write b.txt"})
    reason, _ = await Turn(bare.ctx).run()
    assert reason == "done"
    assert bare.ran == [("approve", "write_file")]  # no checkpoint, no run
    assert not (root / "b.txt").exists()
    result = next(m for m in bare.history.messages if m["role"] == "tool")
    assert result["content"].startswith("Denied: not in this test.")


async def test_the_turn_stops_at_the_contexts_limits(root):
    bare = Bare(root, [[tool_call("read_file", {"path": "a.txt"}), usage(1, 1)]] * 3, max_steps=2)
    bare.history.append({"role": "user", "content": "loop"})
    reason, message = await Turn(bare.ctx).run()
    assert reason == "max_steps" and "(2)" in message


async def test_a_model_switched_during_the_turn_applies_from_its_next_request(root):
    other = model("o4-mini")
    bare = Bare(root, [])

    def first(messages, tools, m):
        bare.model = other  # /model arriving while the first response streams
        return [tool_call("read_file", {"path": "a.txt"}), usage(10, 1)]

    bare.provider.add(first, [text("done"), usage(10, 1)])
    bare.history.append({"role": "user", "content": "go"})
    assert (await Turn(bare.ctx).run())[0] == "done"
    assert [c.model.label for c in bare.provider.calls] == ["gpt-oss-120b", "o4-mini"]
    assert [u.model for u in of(bare.events, ev.UsageUpdated)] == ["gpt-oss-120b", "o4-mini"]


def test_the_context_is_frozen(root):
    bare = Bare(root, [])
    with pytest.raises(dataclasses.FrozenInstanceError):
        bare.ctx.turn_id = "t2"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        bare.ctx.limits.max_steps = 99  # type: ignore[misc]


def test_the_turn_holds_no_session_and_the_model_has_one_writer():
    spec = importlib.util.spec_from_file_location("core_shape", ROOT / "bench" / "core_shape.py")
    shape = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(shape)
    turn = shape.turn_figures()
    assert not turn["holds_session"] and turn["session_members_touched"] == 0
    assert shape.context_figures()["frozen"]
    writers = shape.model_writers()
    assert len(writers) == 1 and writers[0].startswith("agent/taskflow.py"), writers
    assert shape.session_figures()["match_statements"] == 1


# -- History -----------------------------------------------------------------------------------
def test_history_redacts_journals_and_snapshots(tmp_path):
    events = []
    h = History(Redactor({"OPENROUTER_API_KEY": CANARY}), events.append)
    assert h.open_journal(tmp_path / "s.jsonl") is not None
    h.append({"role": "user", "content": f"my key is {CANARY}"})
    assert CANARY not in h.messages[0]["content"]
    assert CANARY not in (tmp_path / "s.jsonl").read_text()
    note = {"role": "user", "content": "a corrective note"}
    assert h.snapshot([note])[-1] == note and len(h.messages) == 1  # sent once, never kept
    assert events == []


def test_a_failing_journal_warns_once_and_is_detached(tmp_path):
    events = []
    h = History(Redactor({}), events.append)
    journal = h.open_journal(tmp_path / "s.jsonl")

    class Full:
        def write(self, data):
            raise OSError(28, "No space left on device")

        def fileno(self):
            return -1

    journal._fh = Full()
    h.append({"role": "user", "content": "one"})
    h.append({"role": "user", "content": "two"})
    assert [e.message for e in of(events, ev.Warning)] == [
        f"session journal {tmp_path / 's.jsonl'} stopped: No space left on device"]
    assert h.journal is None and len(h.messages) == 2  # the conversation goes on


def test_an_unwritable_journal_is_a_warning_not_a_crash(tmp_path):
    (tmp_path / "file").write_text("x")
    events = []
    h = History(Redactor({}), events.append)
    assert h.open_journal(tmp_path / "file" / "s.jsonl") is None
    assert "cannot be resumed" in of(events, ev.Warning)[0].message


def test_history_resume_repairs_and_records_the_repair(tmp_path):
    h = History(Redactor({}), [].append)
    h.open_journal(tmp_path / "s.jsonl")
    call = {"id": "c1", "type": "function", "function": {"name": "read_file", "arguments": "{}"}}
    h.resume([{"role": "user", "content": "go"}, {"role": "assistant", "content": None, "tool_calls": [call]}])
    assert h.messages[-1]["tool_call_id"] == "c1" and h.unanswered() == []
    records = [json.loads(line) for line in (tmp_path / "s.jsonl").read_text().splitlines()]
    assert records[-1]["k"] == "reset" and len(records[-1]["messages"]) == 3


def test_call_ids_are_unique_per_session_and_unanswered_calls_are_found():
    h = History(Redactor({}), [].append)
    assert h.unique_call_id("abc", "fallback1") == "abc"
    assert h.unique_call_id("abc", "fallback2") == "fallback2"  # a model repeating an id
    assert h.unique_call_id(None, "fallback3") == "fallback3"
    calls = [{"id": i, "type": "function", "function": {"name": "read_file", "arguments": "{}"}}
             for i in ("a", "b")]
    h.append({"role": "assistant", "content": None, "tool_calls": calls})
    h.append({"role": "tool", "tool_call_id": "a", "content": "ok"})
    assert h.unanswered() == [("b", "read_file")]


# -- Meter -------------------------------------------------------------------------------------
def test_meter_charges_the_session_and_the_task_and_reports_the_totals():
    events, tasks = [], TaskTracker(measure_debug=False)
    tasks.prompt("task")
    meter = Meter(PRICES, tasks, events.append)
    cost = meter.record(Usage(1000, 100), model(), turn_id="t1", duration_ms=5.0)
    assert cost == pytest.approx((1000 + 200) / 1e6)
    meter.record(Usage(10, 1), model(), turn_id="t1", duration_ms=1.0, purpose="failed_attempt",
                 cost_unknown=True, note="cut by the agent: idle")
    assert (meter.total_input, meter.total_output, meter.unpriced_calls) == (1010, 101, 1)
    assert meter.total_cost == pytest.approx(cost)
    task = tasks.current
    assert (task.requests, task.unpriced_calls, task.api_cost) == (2, 1, pytest.approx(cost))
    first, second = of(events, ev.UsageUpdated)
    assert first.cost == pytest.approx(cost) and first.session_input_tokens == 1000
    assert second.cost is None and second.usage_note == "cut by the agent: idle"
    assert second.session_cost == pytest.approx(cost) and second.purpose == "failed_attempt"


def test_meter_warns_once_per_unpriced_model_and_flags_bad_usage():
    events, tasks = [], TaskTracker(measure_debug=False)
    meter = Meter({}, tasks, events.append)
    unknown = model("openrouter/acme/unknown-model-xyz")
    for _ in range(2):
        assert meter.record(Usage(5, 5), unknown, turn_id="t1", duration_ms=1.0) is None
    assert len([w for w in of(events, ev.Warning) if "no price known" in w.message]) == 1
    assert meter.unpriced_calls == 2
    events.clear()
    assert meter.record(Usage(-3, 5), model(), turn_id="t1", duration_ms=1.0) is None
    assert "recorded as 0 tokens" in of(events, ev.Warning)[0].message
    assert of(events, ev.UsageUpdated)[0].input_tokens == 0


def test_meter_restores_a_resumed_sessions_totals():
    meter = Meter({}, TaskTracker(measure_debug=False), [].append)
    meter.restore([
        {"type": "usage_updated", "input_tokens": 100, "output_tokens": 10, "cost": 0.5},
        {"type": "usage_updated", "input_tokens": 7, "output_tokens": 1, "cost": None},
        {"type": "task_updated", "input_tokens": 999},
    ])
    assert (meter.total_input, meter.total_output, meter.total_cost, meter.unpriced_calls) == (
        107, 11, 0.5, 1)


# -- ApprovalGate ------------------------------------------------------------------------------
def gate_for(tmp_path, *, interactive, mode="suggest"):
    events = []
    gate = ApprovalGate(mode=mode, rules=[], interactive=interactive, root=tmp_path,
                        protected=None, sandboxed=False, emit=events.append)
    return gate, events


async def test_a_headless_gate_denies_what_it_would_ask_and_says_how_to_allow_it(tmp_path):
    gate, events = gate_for(tmp_path, interactive=False)
    tool, params = default_registry().parse_call("run_command", '{"command": "pytest -q"}')
    verdict = await gate("t1", "c1", tool, params, {"command": "pytest -q"}, Description())
    assert not verdict.allowed and "--approval full-auto" in verdict.decision.reason
    assert events == []


async def test_approve_for_the_session_grants_the_prefix(tmp_path):
    gate, events = gate_for(tmp_path, interactive=True)
    tool, params = default_registry().parse_call("run_command", '{"command": "pytest -q"}')
    asking = asyncio.create_task(gate("t1", "c1", tool, params, {"command": "pytest -q"}, Description()))
    while not of(events, ev.ApprovalRequested):
        await asyncio.sleep(0)
    assert of(events, ev.ApprovalRequested)[0].grant  # "approve for the session" is offered
    gate.answer(Approve("c1", "session"))
    assert (await asyncio.wait_for(asking, 5)).allowed
    assert gate.grants.covers("run_command", params, paths=())
    gate.answer(Approve("c1", "once"))  # nothing pending any more
    assert "no approval is pending" in of(events, ev.Warning)[-1].message
