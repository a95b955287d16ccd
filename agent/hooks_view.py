"""How hook runs and plans read as text: one wording for headless output and the TUI."""
from __future__ import annotations

from realcost_agent.agent import events as ev

MARKS = {"pending": "☐", "in_progress": "◐", "completed": "☑"}


def hook_line(e: ev.HookRan) -> str:
    what = f"{e.event}" + (f" {e.tool_name}" if e.tool_name else "")
    status = ("timed out" if e.decision == "timeout" else
              "could not run" if e.exit_code is None else f"exit {e.exit_code}")
    said = f" → {e.decision}" if e.decision and e.decision not in ("error", "timeout") else ""
    reason = f": {_one_line(e.reason, 120)}" if e.reason else ""
    return f"hook {what} · {_one_line(e.command, 60)} · {status}{said}{reason} · {e.duration_ms / 1000:.1f}s"


def plan_lines(steps: tuple | list) -> list[str]:
    """A checklist of PlanUpdated steps ({"step", "status"}) or PlanProposed steps (str)."""
    out = []
    for step in steps:
        if isinstance(step, str):
            out.append(f"{MARKS['pending']} {step}")
        else:
            out.append(f"{MARKS.get(step.get('status', ''), '?')} {step.get('step', '')}")
    return out


def plan_progress(steps: tuple | list) -> str:
    done = sum(1 for s in steps if isinstance(s, dict) and s.get("status") == "completed")
    return f"{done}/{len(steps)} done"


def event_lines(e: ev.Event) -> list[str]:
    if isinstance(e, ev.HookRan):
        return [hook_line(e)]
    if isinstance(e, ev.PlanProposed):
        if not e.steps:
            return ["plan: the model proposed no checklist"]
        return [f"plan proposed ({len(e.steps)} steps):", *(f"  {line}" for line in plan_lines(e.steps))]
    if isinstance(e, ev.PlanUpdated):
        if e.source == "rejected":
            return ["plan rejected" + (f": {e.explanation}" if e.explanation else "")]
        head = f"plan {'approved' if e.source == 'approved' else 'updated'} · {plan_progress(e.steps)}"
        if e.explanation:
            head += f" · {_one_line(e.explanation, 120)}"
        return [head, *(f"  {line}" for line in plan_lines(e.steps))]
    return []


def _one_line(text: str, width: int) -> str:
    line = " ".join(str(text).split())
    return line if len(line) <= width else line[: width - 1] + "…"
