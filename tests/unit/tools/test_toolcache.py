"""The tool schemas the first request carries come from a cache (tools/toolcache.py) only when it
matches the code; the tools load later, and what they validate is what the model was sent."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from realcost_agent.tools import toolcache
from realcost_agent.tools.registry import builtin_tools, default_registry


def live() -> tuple[list[str], list[dict]]:
    tools = builtin_tools()
    return [t.name for t in tools], [t.schema() for t in tools]


def test_a_cold_cache_is_built_and_then_serves_the_same_schemas(tmp_path: Path) -> None:
    cold = default_registry(cache_dir=tmp_path)
    names, schemas = live()
    assert cold.schemas() == schemas and cold.names() == names  # built the normal way
    cached = json.loads((tmp_path / toolcache.CACHE_FILE).read_text())
    assert cached["names"] == names and cached["schemas"] == schemas

    warm = default_registry(cache_dir=tmp_path)
    assert not warm.loaded
    assert warm.schemas() == schemas and warm.names() == names
    assert "run_command" in warm and warm.resolve_name("functions.read_file") == "read_file"
    tool, params = warm.parse_call("read_file", '{"path": "a.py"}')  # loads the tools
    assert warm.loaded and tool.name == "read_file" and params.path == "a.py"


def test_a_cache_for_other_code_is_ignored_and_rewritten(tmp_path: Path) -> None:
    (tmp_path / toolcache.CACHE_FILE).write_text(json.dumps(
        {"key": "old", "names": ["read_file"], "schemas": [{"stale": True}]}))
    reg = default_registry(cache_dir=tmp_path)
    names, schemas = live()
    assert reg.schemas() == schemas
    assert json.loads((tmp_path / toolcache.CACHE_FILE).read_text())["key"] == toolcache.cache_key()


def test_a_wrong_cache_with_the_right_key_is_corrected_when_the_tools_load(tmp_path: Path) -> None:
    # Whatever got there (a hand edit, a bug): loading the tools compares and rewrites.
    names, schemas = live()
    (tmp_path / toolcache.CACHE_FILE).write_text(json.dumps(
        {"key": toolcache.cache_key(), "names": names, "schemas": [{"x": 1}] * len(names)}))
    reg = default_registry(cache_dir=tmp_path)
    reg.schemas()  # from the cache
    assert reg.get("edit") is not None  # waits for the load
    assert json.loads((tmp_path / toolcache.CACHE_FILE).read_text())["schemas"] == schemas
    assert default_registry(cache_dir=tmp_path).schemas() == schemas


def test_the_session_path_does_not_import_pydantic_or_the_tools(tmp_path: Path) -> None:
    code = (
        "import sys, json\n"
        "from realcost_agent.agent.session import Session\n"
        "from realcost_agent.agent.turn import Turn\n"
        "from realcost_agent.tools.registry import default_registry\n"
        f"reg = default_registry(cache_dir={str(tmp_path)!r})\n"
        "names = reg.names(); 'edit' in reg; reg.resolve_name('functions.edit')\n"
        "before = [m for m in ('pydantic', 'realcost_agent.tools.edit') if m in sys.modules]\n"
        "schemas = reg.schemas()\n"  # from the cache
        "reg.get('edit')\n"
        "print(json.dumps([before, 'pydantic' in sys.modules, len(schemas)]))\n"
    )
    default_registry(cache_dir=tmp_path).schemas()  # a warm cache
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                         check=True).stdout
    assert json.loads(out.strip().splitlines()[-1]) == [[], True, len(live()[0])]
