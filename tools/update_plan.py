"""update_plan: the model keeps the approved plan's checklist current (as in Codex CLI).

Registered by plan mode (agent/planmode.py) once the user approves a plan; each call replaces the
whole list and is shown as a PlanUpdated event (the TUI's plan widget). It changes no file.
"""
from __future__ import annotations

from typing import Any, Callable, Literal

from pydantic import Field

from realcost_agent.tools.base import Description, Tool, ToolContext, ToolParams, ToolResult

MAX_STEPS = 50


class PlanItem(ToolParams):
    step: str = Field(..., min_length=1, max_length=500)
    status: Literal["pending", "in_progress", "completed"]


class UpdatePlanParams(ToolParams):
    plan: list[PlanItem] = Field(..., min_length=1, max_length=MAX_STEPS)
    explanation: str | None = Field(None, max_length=2000)


class UpdatePlan(Tool):
    name = "update_plan"
    description = (
        "Update the task's plan: send the whole checklist each time, every step with status "
        "pending, in_progress or completed (at most one in_progress). Mark a step in_progress "
        "before working on it and completed when it is done."
    )
    Params = UpdatePlanParams
    mutating = False

    def __init__(self, on_update: Callable[[list[dict[str, str]], str], None] | None = None) -> None:
        self.on_update = on_update

    def describe(self, params: UpdatePlanParams, root: Any) -> Description:  # type: ignore[override]
        done = sum(1 for p in params.plan if p.status == "completed")
        return Description(f"plan: {done}/{len(params.plan)} done")

    async def run(self, params: UpdatePlanParams, ctx: ToolContext) -> ToolResult:  # type: ignore[override]
        active = [p.step for p in params.plan if p.status == "in_progress"]
        if len(active) > 1:
            return ToolResult(f"at most one step may be in_progress; got {len(active)}: "
                              + "; ".join(active[:3]), is_error=True)
        steps = [{"step": p.step.strip(), "status": p.status} for p in params.plan]
        if self.on_update is not None:
            self.on_update(steps, (params.explanation or "").strip())
        done = sum(1 for s in steps if s["status"] == "completed")
        return ToolResult(f"Plan updated: {done}/{len(steps)} steps completed.",
                          metadata={"plan": steps})
