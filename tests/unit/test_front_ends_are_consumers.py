"""Front-ends (cli/, tui/) are pure consumers of the core's events: they submit ops and fold
events, and nothing else. This fails when one of them
  - imports an underscore name from another module (a private helper is no interface),
  - calls `.emit(` (producing events is the core's job; start-up warnings go to the Session),
  - reads the Session's figures or internals (`session.total_cost` ...: use agent.fold),
  - runs its own key preflight (`missing_key`: agent/preflight.py does it once, as events).
"""
from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FRONT_ENDS = ("cli", "tui")
# Session members that hold figures or core state: a front-end reads them from events.
SESSION_INTERNALS = {"total_cost", "unpriced_calls", "total_input", "total_output", "tasks",
                     "flow", "busy", "sandboxed", "messages", "model", "journal", "grants"}


def problems(source: str, module: str) -> list[str]:
    out = []
    tree = ast.parse(source)
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            target = node.module or ""
            for alias in node.names:
                name = alias.name
                if name.startswith("_") and not name.startswith("__") and target != module:
                    out.append(f"line {node.lineno}: imports private {name} from {target}")
                if name == "missing_key":
                    out.append(f"line {node.lineno}: runs its own key preflight (missing_key)")
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            if node.func.attr == "emit":
                out.append(f"line {node.lineno}: calls .emit( (front-ends do not produce events)")
        elif isinstance(node, ast.Attribute) and node.attr in SESSION_INTERNALS:
            owner = node.value
            named = (owner.id if isinstance(owner, ast.Name)
                     else owner.attr if isinstance(owner, ast.Attribute) else "")
            if named == "session":
                out.append(f"line {node.lineno}: reads session.{node.attr} (use the fold)")
    return out


def module_name(path: Path) -> str:
    rel = path.relative_to(ROOT).with_suffix("")
    return ".".join(("realcost_agent", *rel.parts))


def test_front_ends_only_consume_events() -> None:
    found = {}
    files = [p for d in FRONT_ENDS for p in sorted((ROOT / d).rglob("*.py"))]
    assert len(files) > 20  # the front-ends are where this test looks
    for path in files:
        bad = problems(path.read_text(encoding="utf-8"), module_name(path))
        if bad:
            found[str(path.relative_to(ROOT))] = bad
    assert found == {}


def test_the_check_catches_each_kind_of_leak() -> None:
    """The checker itself: each forbidden pattern is reported (so a pass above means something)."""
    leaky = (
        "from realcost_agent.cli.main import _flags\n"
        "from realcost_agent.providers.litellm_provider import _litellm\n"
        "from realcost_agent.providers.catalogue import missing_key\n"
        "session.emit(ev.Warning('x'))\n"
        "self.session.emit(ev.Warning('x'))\n"
        "cost = session.total_cost\n"
        "task = self.session.tasks.current\n"
    )
    assert len(problems(leaky, "realcost_agent.cli.run")) == 7
    clean = (
        "from realcost_agent.agent.version import __version__\n"
        "from realcost_agent.cli.main import flags_from\n"
        "session.submit(op)\n"
        "figures = fold.totals.api_cost\n"
    )
    assert problems(clean, "realcost_agent.cli.run") == []
