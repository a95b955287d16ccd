"""The top-level packages form a layered graph with no cycle, and nothing imports the old names.

Layers, lowest first: providers (the model wire) and tools (tools and their engines: file ops,
safe git, child-process env, repo map) know nothing above them; agent (the core) uses both; tui
consumes the core's events; cli (the command-line front-ends) sits on top of everything. Every
import counts, also the lazy ones inside functions.
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("agent", "tools", "providers", "tui", "cli")
NS = "realcost_agent"
ALLOWED = {
    "providers": set(),
    "tools": set(),
    "agent": {"tools", "providers"},
    "tui": {"agent", "tools", "providers"},
    "cli": {"agent", "tools", "providers", "tui"},
}


def _imports(path: Path):
    tree = ast.parse(path.read_text(), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.lineno, node.module


def graph() -> dict[str, dict[str, list[str]]]:
    edges: dict[str, dict[str, list[str]]] = {p: {} for p in PACKAGES}
    for pkg in PACKAGES:
        for f in sorted((ROOT / pkg).rglob("*.py")):
            for line, mod in _imports(f):
                parts = mod.split(".")
                if parts[0] == NS and len(parts) > 1 and parts[1] in PACKAGES and parts[1] != pkg:
                    edges[pkg].setdefault(parts[1], []).append(f"{f.relative_to(ROOT)}:{line}")
    return edges


def test_every_import_follows_the_layers():
    bad = [f"{src} -> {dst} ({where[0]}, {len(where)} in all)"
           for src, dsts in graph().items() for dst, where in dsts.items() if dst not in ALLOWED[src]]
    assert not bad, "imports against the layering:\n" + "\n".join(bad)


def test_the_package_graph_has_no_cycle():
    edges = {src: set(dsts) for src, dsts in graph().items()}
    seen: dict[str, int] = {}

    def visit(node: str, stack: list[str]) -> None:
        if seen.get(node) == 1:
            pytest.fail("import cycle: " + " -> ".join(stack + [node]))
        if seen.get(node) == 2:
            return
        seen[node] = 1
        for nxt in sorted(edges[node]):
            visit(nxt, stack + [node])
        seen[node] = 2

    for pkg in PACKAGES:
        visit(pkg, [])


@pytest.mark.parametrize("where", ["agent", "tools", "providers", "tui", "cli", "tests", "bench", "examples"])
def test_nothing_imports_the_folders_by_their_bare_names(where):
    """Installed, the folders exist only as realcost_agent.<name>; a bare `import tools` would
    pick up whatever other distribution installed a top-level `tools`."""
    bad = []
    for f in sorted((ROOT / where).rglob("*.py")):
        if "node_modules" in f.parts:
            continue
        for line, mod in _imports(f):
            if mod.split(".")[0] in PACKAGES:
                bad.append(f"{f.relative_to(ROOT)}:{line}: {mod}")
    assert not bad, "\n".join(bad)
