"""The core's shape, by AST (issue 13, "a narrow turn context"): prints the figures the issue
asks for so the before and after numbers come from one tool.

    python bench/core_shape.py [--json]

Session:  methods (defs in the class body, properties included), instance attributes (every
          distinct `self.X` assigned anywhere in the class), lines of agent/session.py and of the
          class itself.
Turn:     lines of agent/turn.py and of the class; the distinct members of the Session it touches
          (`self.s.X`) and, once it has one, the distinct members of its context (`self.ctx.X`).
Model writers: every assignment to a current-model attribute (`.model` / `._model`) in the core
          modules: the goal is one place.
Op dispatch: `isinstance(op, ops.X)` tests vs `match` statements in Session.
"""
from __future__ import annotations

import ast
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
AGENT = ROOT / "agent"


def _class(tree: ast.Module, name: str) -> ast.ClassDef | None:
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and node.name == name:
            return node
    return None


def _parse(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def _lines(path: Path) -> int:
    return len(path.read_text(encoding="utf-8").splitlines())


def _self_attrs_assigned(cls: ast.ClassDef) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(cls):
        targets: list[ast.expr] = []
        if isinstance(node, ast.Assign):
            targets = list(node.targets)
        elif isinstance(node, (ast.AnnAssign, ast.AugAssign)):
            targets = [node.target]
        for target in targets:
            for t in ast.walk(target):  # tuple targets: `self.a, self.b = ...`
                if (isinstance(t, ast.Attribute) and isinstance(t.value, ast.Name)
                        and t.value.id == "self"):
                    found.add(t.attr)
    return found


def _members_via(cls: ast.ClassDef, holder: str) -> set[str]:
    """Distinct X in `self.<holder>.X` inside the class."""
    found: set[str] = set()
    for node in ast.walk(cls):
        if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Attribute)
                and node.value.attr == holder and isinstance(node.value.value, ast.Name)
                and node.value.value.id == "self"):
            found.add(node.attr)
    return found


def _getattr_via(cls: ast.ClassDef, holder: str) -> set[str]:
    """`getattr(self.<holder>, "X", ...)`: a member touched by name."""
    found: set[str] = set()
    for node in ast.walk(cls):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                and node.func.id == "getattr" and len(node.args) >= 2):
            obj, name = node.args[0], node.args[1]
            if (isinstance(obj, ast.Attribute) and obj.attr == holder
                    and isinstance(name, ast.Constant) and isinstance(name.value, str)):
                found.add(name.value)
    return found


def session_figures() -> dict:
    path = AGENT / "session.py"
    cls = _class(_parse(path), "Session")
    assert cls is not None, "no Session class in agent/session.py"
    methods = [n.name for n in cls.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]
    attrs = _self_attrs_assigned(cls)
    isinstance_ops = sum(
        1 for n in ast.walk(cls)
        if isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id == "isinstance"
        and len(n.args) == 2 and isinstance(n.args[1], ast.Attribute)
        and isinstance(n.args[1].value, ast.Name) and n.args[1].value.id == "ops"
    )
    matches = sum(1 for n in ast.walk(cls) if isinstance(n, ast.Match))
    public_methods = sorted(m for m in methods if not m.startswith("_"))
    public_attrs = sorted(a for a in attrs if not a.startswith("_"))
    return {
        "file_lines": _lines(path),
        "class_lines": cls.end_lineno - cls.lineno + 1,
        "methods": len(methods),
        "instance_attributes": len(attrs),
        "public_methods": public_methods,
        "public_attributes": public_attrs,
        "op_isinstance_tests": isinstance_ops,
        "match_statements": matches,
    }


def turn_figures() -> dict:
    path = AGENT / "turn.py"
    cls = _class(_parse(path), "Turn")
    assert cls is not None, "no Turn class in agent/turn.py"
    via_session = _members_via(cls, "s") | _getattr_via(cls, "s")
    via_ctx = _members_via(cls, "ctx") | _getattr_via(cls, "ctx")
    holds_session = any(
        isinstance(n, ast.arg) and n.arg == "session" for n in ast.walk(cls)
    ) or bool(via_session)
    return {
        "file_lines": _lines(path),
        "class_lines": cls.end_lineno - cls.lineno + 1,
        "holds_session": holds_session,
        "session_members_touched": len(via_session),
        "session_members": sorted(via_session),
        "context_members_touched": len(via_ctx),
        "context_members": sorted(via_ctx),
    }


def context_figures() -> dict | None:
    path = AGENT / "context.py"
    if not path.exists():
        return None
    cls = _class(_parse(path), "TurnContext")
    if cls is None:
        return None
    fields = [n.target.id for n in cls.body
              if isinstance(n, ast.AnnAssign) and isinstance(n.target, ast.Name)]
    frozen = any(
        isinstance(d, ast.Call) and any(k.arg == "frozen" and getattr(k.value, "value", False)
                                        for k in d.keywords)
        for d in cls.decorator_list
    )
    return {"fields": len(fields), "field_names": fields, "frozen": frozen,
            "file_lines": _lines(path)}


CORE = ("session.py", "turn.py", "taskflow.py", "context.py", "history.py", "meter.py",
        "sandboxing.py", "checkpointing.py", "approvals.py", "toolrun.py", "provider_pool.py")


def model_writers() -> list[str]:
    """Assignments to `<something>.model` / `._model` in the core modules (the event folds in
    front-ends and the recorder keep their own copy of a label: not the current model)."""
    found = []
    for path in [AGENT / n for n in CORE if (AGENT / n).exists()]:
        tree = _parse(path)
        for node in ast.walk(tree):
            targets: list[ast.expr] = []
            if isinstance(node, ast.Assign):
                targets = list(node.targets)
            elif isinstance(node, (ast.AnnAssign, ast.AugAssign)):
                targets = [node.target]
            for target in targets:
                for t in ast.walk(target):
                    if isinstance(t, ast.Attribute) and t.attr in ("model", "_model"):
                        found.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    return found


def core_module_lines() -> dict[str, int]:
    return {n: _lines(AGENT / n) for n in CORE if (AGENT / n).exists()}


def main() -> None:
    figures = {
        "session": session_figures(),
        "turn": turn_figures(),
        "turn_context": context_figures(),
        "model_writers": model_writers(),
        "core_module_lines": core_module_lines(),
    }
    if "--json" in sys.argv:
        print(json.dumps(figures, indent=2))
        return
    s, t, c = figures["session"], figures["turn"], figures["turn_context"]
    print(f"Session: {s['methods']} methods, {s['instance_attributes']} instance attributes, "
          f"class {s['class_lines']} lines, agent/session.py {s['file_lines']} lines")
    print(f"  public methods ({len(s['public_methods'])}): {', '.join(s['public_methods'])}")
    print(f"  public attributes ({len(s['public_attributes'])}): {', '.join(s['public_attributes'])}")
    print(f"  op dispatch: {s['op_isinstance_tests']} isinstance(op, ops.X) tests, "
          f"{s['match_statements']} match statement(s)")
    print(f"Turn: class {t['class_lines']} lines, agent/turn.py {t['file_lines']} lines; "
          f"holds the Session: {'yes' if t['holds_session'] else 'no'}; "
          f"Session members touched: {t['session_members_touched']}")
    if t["session_members"]:
        print(f"  via self.s: {', '.join(t['session_members'])}")
    if t["context_members"]:
        print(f"  via self.ctx ({t['context_members_touched']}): {', '.join(t['context_members'])}")
    if c is not None:
        print(f"TurnContext: {c['fields']} fields, frozen: {c['frozen']}: {', '.join(c['field_names'])}")
    writers = figures["model_writers"]
    print(f"writers of the current model: {len(writers)}: {', '.join(writers)}")
    print("core module lines: " + ", ".join(f"{k} {v}" for k, v in figures["core_module_lines"].items()))


if __name__ == "__main__":
    main()
