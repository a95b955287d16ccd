"""`agent route "task"`: which model `model = "auto"` would pick for a task here, and why, with
the ledger's figures per tier; nothing runs and nothing is recorded.

It goes through the same TaskFlow code a task's start does (signals, learned router, the
fallback when a tier has no key here), over a stand-in for the session: the text and JSON show
exactly what the `model_routed` event of that task would carry.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Sequence

from realcost_agent.agent.words import plural


def build_parser() -> argparse.ArgumentParser:
    from realcost_agent.cli.main import add_common_flags

    p = argparse.ArgumentParser(
        prog="agent route",
        description="Say which model `auto` would route TASK to in this project and why: per "
        "tier, similar past tasks from the ledger (first-try share, follow-ups, API cost, "
        "developer minutes, expected real total). Runs nothing.")
    p.add_argument("task", help="the task text")
    p.add_argument("--format", choices=["text", "json"], default="text")
    p.add_argument("--hourly-rate", type=float, metavar="USD", help="price minutes at this rate")
    add_common_flags(p)
    return p


def route_task(task: str, settings: Any, root: Path, env: dict[str, str]) -> dict[str, Any]:
    """The routing decision for `task` as `model_routed` would carry it (JSON-able)."""
    from realcost_agent.agent.autoroute import explain
    from realcost_agent.agent.routing import route
    from realcost_agent.agent.taskflow import TaskFlow

    stand_in = SimpleNamespace(settings=settings, root=root, env=env, messages=[], model=None,
                               history=SimpleNamespace(messages=[]),
                               emit=lambda event: None, add_listener=lambda fn: None)
    flow = TaskFlow(stand_in)  # type: ignore[arg-type]
    if flow.session_pin:
        return {"model": flow.session_pin, "basis": "pinned", "tier": "",
                "reason": f"model = {flow.session_pin} is pinned ({settings.sources.get('model', 'config')}); "
                          "`auto` routes", "estimates": [], "features": {},
                "hourly_rate": settings.hourly_rate}
    signals = flow.signals(task)
    feats = flow.learned.features(task, flow.check is not None, signals)
    choice = flow.learned.choose(feats, flow.policy, route(signals, flow.policy))
    model, reason = flow.learned.routed_model(flow, choice)
    out = explain(choice, model.label if model else choice.route.profile)
    # The fallback when the tier has no key here, as the task would say it; or why none can run.
    out["reason"] = reason if model else f"{choice.route.reason}; cannot run here: {reason}"
    return out


def render_text(d: dict[str, Any]) -> str:
    lines = [f"model: {d['model']}" + (f" ({d['tier']} tier)" if d.get("tier") else "")
             + f" · basis: {d['basis']}", f"why: {d['reason']}"]
    f = d.get("features") or {}
    if f:
        lines.append(f"task: {f['kind']} · {'a check' if f['has_check'] else 'no check'} · "
                     f"{f['size_class']} context (~{f['context_tokens']:,} tokens) · "
                     f"{plural(f['named_files'], 'named file')}")
    for e in d.get("estimates", []):
        lines.append(f"  {e['model']:<14} {e['first_try']}/{e['tasks']} first-try  "
                     f"{e['followups']:.1f} follow-ups  API ~${e['api_cost']:.4f}  "
                     f"~{e['minutes']:.1f} min  real ~${e['real_cost']:.2f}  ({e['scope']})")
    if d.get("hourly_rate") is not None:
        lines.append(f"hourly rate: ${d['hourly_rate']:g}/h")
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str]) -> int:
    from realcost_agent.cli.main import flags_from, root_from
    from realcost_agent.agent.config import ConfigError, load_settings

    args = build_parser().parse_args(list(argv))
    if not args.task.strip():
        print("agent route: error: the task text is empty", file=sys.stderr)
        return 2
    root = root_from(args)
    warnings: list[str] = []
    flags = {**flags_from(args), "hourly_rate": args.hourly_rate}
    try:
        settings = load_settings(root, flags=flags, warnings=warnings,
                                 trust=True if args.trust else None)
        decision = route_task(args.task, settings, root, dict(os.environ))
    except (ConfigError, ValueError) as exc:
        print(f"agent route: error: {exc}", file=sys.stderr)
        return 2
    for w in warnings:
        print(f"warning: {w}", file=sys.stderr)
    if args.format == "json":
        print(json.dumps(decision, indent=2))
    else:
        sys.stdout.write(render_text(decision))
    return 0
