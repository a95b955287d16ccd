"""A stand-in session that replays fixed events, for snapshot tests: every figure, id, path and
duration on screen is pinned, so screenshots only change when the rendering does."""
from __future__ import annotations

import asyncio
from typing import Any

from realcost_agent.agent import events as ev
from realcost_agent.agent import ops
from realcost_agent.providers.catalogue import resolve_model

KEY_ENV = {"OPENROUTER_API_KEY": "sk-or-snapshot-0000"}
ROOT = "/work/project"
PATCH = (
    "*** Begin Patch\n*** Update File: calc.py\n@@ def add(a, b):\n-    return a - b\n"
    "+    return a + b\n*** End Patch"
)
DIFF = (
    "diff --git a/calc.py b/calc.py\n--- a/calc.py\n+++ b/calc.py\n@@ -1,2 +1,2 @@\n"
    " def add(a, b):\n-    return a - b\n+    return a + b\n"
)
ANSWER = (
    "## Fixed\n\n`add` in **calc.py** subtracted instead of adding:\n\n"
    "- `return a - b` became `return a + b`\n- the test passes now\n\n"
    "```python\ndef add(a, b):\n    return a + b\n```\n"
)


def usage(turn: str, model: str, n: int, inp: int, out: int, cost: float, ttft: float, dur: float,
          totals: tuple[float, int, int]) -> ev.UsageUpdated:
    return ev.UsageUpdated(turn, model, f"openrouter/openai/{model}", "openrouter", inp, out, 0, 0,
                           cost, None, ttft, ttft + 50, dur, *totals)


def task(task_id: int, status: str, prompts: int, agent_ms: float, debug_ms: float, api: float,
         rate: float = 35.0) -> ev.TaskUpdated:
    real = api + debug_ms / 3_600_000 * rate
    return ev.TaskUpdated(task_id, status, prompts, max(0, prompts - 1), agent_ms, debug_ms, 0.0,
                          api, 0, real)


def fix_turn(approval: bool = False) -> list[ev.Event]:
    """Reasoning, a patch with its diff, a test run, then a markdown answer."""
    t = "t1"
    events: list[ev.Event] = [
        ev.TurnStarted(t, 1, "make the failing test pass", "gpt-oss-120b"),
        task(1, "active", 1, 0, 0, 0.0),
        ev.ReasoningDelta(t, "The test fails because add() subtracts. "),
        ev.ReasoningDelta(t, "Patch calc.py, then run the tests."),
        ev.AssistantMessage(t, 1, "", "The test fails because add() subtracts.", ("call_patch",)),
        usage(t, "gpt-oss-120b", 1, 1200, 40, 0.0001, 620, 1400, (0.0001, 1200, 40)),
        ev.ToolCallStarted(t, "call_patch", "apply_patch", {"patch": PATCH}, "calc.py +1 -1",
                           ("calc.py",)),
    ]
    if approval:
        return events + [ev.ApprovalRequested(
            t, "call_patch", "apply_patch", {"patch": PATCH},
            "approval mode suggest asks before apply_patch", summary="calc.py +1 -1",
            paths=("calc.py",), preview=DIFF, added=1, removed=1,
            grant="apply_patch (outside protected paths)")]
    return events + [
        ev.ToolCallFinished(t, "call_patch", "apply_patch", "Done: calc.py", False, 12.0,
                            {"diff": DIFF, "files_changed": ["calc.py"]}, "calc.py +1 -1",
                            ("calc.py",), DIFF, 1, 1),
        ev.ToolCallStarted(t, "call_test", "run_command", {"command": "pytest -q"}, "pytest -q"),
        ev.ToolOutputDelta("call_test", ".                                    [100%]\n"),
        ev.ToolOutputDelta("call_test", "1 passed in 0.02s\n"),
        ev.ToolCallFinished(t, "call_test", "run_command", ".  [100%]\n1 passed in 0.02s\n[exit code 0]",
                            False, 820.0, {"exit_code": 0}, "pytest -q · exit 0"),
        *[ev.AssistantDelta(t, ANSWER[i:i + 7]) for i in range(0, len(ANSWER), 7)],
        ev.AssistantMessage(t, 2, ANSWER),
        usage(t, "gpt-oss-120b", 2, 1500, 90, 0.0002, 480, 2100, (0.0003, 2700, 130)),
        task(1, "active", 1, 4200, 0, 0.0003),
        ev.TurnFinished(t, "done", ANSWER, 2, ("calc.py",), 4200.0),
    ]


class ReplaySession:
    """The Session surface the app uses (start, submit, next_event, close, model, env)."""

    def __init__(self, turns: list[list[ev.Event]], *, env: dict[str, str] | None = None) -> None:
        self.env = dict(KEY_ENV if env is None else env)
        self.model = resolve_model("gpt-oss-120b", env=self.env)
        self.submitted: list[ops.Op] = []
        self._turns = list(turns)
        self._queue: asyncio.Queue[Any] = asyncio.Queue()

    async def start(self) -> None:
        from realcost_agent.agent.preflight import startup_events

        self.emit(ev.SessionStarted("s-1", ROOT, "gpt-oss-120b", self.model.backend, "0.1.0", ("AGENTS.md",),
                                    sandboxed=True))
        for event in startup_events(model=self.model, env=self.env):  # the core's own preflight
            self.emit(event)

    def emit(self, event: ev.Event) -> None:
        self._queue.put_nowait(event)

    def provider(self) -> None:
        return None

    def submit(self, op: ops.Op) -> None:
        self.submitted.append(op)
        if isinstance(op, ops.UserInput) and self._turns:
            for event in self._turns.pop(0):
                self.emit(event)
        elif isinstance(op, ops.Shutdown):
            self._queue.put_nowait(None)

    async def next_event(self) -> ev.Event | None:
        return await self._queue.get()

    async def close(self) -> None:
        self.submit(ops.Shutdown())
