import asyncio
import json

import pytest

from realcost_agent.tools.base import Tool, ToolParams, ToolResult
from realcost_agent.tools.list_files import ListFiles
from realcost_agent.tools.read_file import ReadFile
from realcost_agent.tools.registry import ToolCallError, ToolRegistry, default_registry

CORE = ["read_file", "list_files", "search", "edit", "write_file", "run_command"]


@pytest.fixture
def reg():
    return default_registry()


def test_default_tools_and_stable_order(reg):
    names = reg.names()
    assert [n for n in names if n in CORE] == CORE
    assert set(names) - set(CORE) == {"apply_patch", "repo_map"}
    assert not any(n == "python" or n.startswith("browser") for n in names)
    assert [s["function"]["name"] for s in reg.schemas()] == names
    assert reg.schemas() == default_registry().schemas()


def test_schemas_are_compact(reg):
    text = json.dumps(reg.schemas())
    assert len(text) / 4 < 1500  # ~tokens: leaves room for the system prompt under 2,000
    for s in reg.schemas():
        fn = s["function"]
        assert len(fn["description"]) / 4 < 160, fn["name"]
        for prop in fn["parameters"]["properties"].values():
            assert "title" not in prop and "anyOf" not in prop


def test_read_only_subset(reg):
    ro = reg.read_only().names()
    assert set(ro) == {"read_file", "list_files", "search", "repo_map"}
    assert reg.get("run_command").mutating and reg.get("edit").mutating


def test_parse_call_ok(reg):
    tool, params = reg.parse_call("read_file", '{"path": "a.py", "start_line": "3"}')
    assert isinstance(tool, ReadFile)
    assert params.path == "a.py" and params.start_line == 3


@pytest.mark.parametrize("name", [
    "functions.read_file", "read_file<|channel|>commentary",
    "functions.read_file<|channel|>commentary", " read_file ", "read_file json",
])
def test_harmony_noise_in_names_is_normalized(reg, name):
    tool, _ = reg.parse_call(name, '{"path": "x"}')
    assert tool.name == "read_file"


@pytest.mark.parametrize("name", ["assistant<|channel|>analysis", "python", "readfile", ""])
def test_unknown_names_list_valid_ones(reg, name):
    with pytest.raises(ToolCallError) as e:
        reg.parse_call(name, "{}")
    assert "unknown tool" in e.value.message
    assert "read_file" in e.value.message and "run_command" in e.value.message


def test_malformed_json_says_where(reg):
    with pytest.raises(ToolCallError) as e:
        reg.parse_call("read_file", '{"path": "a.py" "start_line": 3}')
    msg = str(e.value)
    assert "not valid JSON" in msg and "column 17" in msg and "delimiter" in msg


def test_extra_text_and_harmony_suffix_in_arguments(reg):
    _, params = reg.parse_call("read_file", '{"path": "a.py"}<|call|>')
    assert params.path == "a.py"
    with pytest.raises(ToolCallError, match="extra text"):
        reg.parse_call("read_file", '{"path": "a.py"} {"path": "b"}')


@pytest.mark.parametrize("args", ["", "   ", None, "null", {}])
def test_empty_arguments_are_an_empty_object(reg, args):
    tool, params = reg.parse_call("list_files", args)
    assert isinstance(tool, ListFiles) and params.path == "."


def test_non_object_arguments(reg):
    with pytest.raises(ToolCallError, match="must be a JSON object"):
        reg.parse_call("read_file", '["a.py"]')


def test_schema_errors_are_summarized(reg):
    with pytest.raises(ToolCallError) as e:
        reg.parse_call("read_file", "{}")
    assert "path: missing (required)" in str(e.value)
    assert "read_file(path, start_line?, end_line?)" in str(e.value)
    with pytest.raises(ToolCallError) as e:
        reg.parse_call("read_file", '{"path": "a", "lines": 3}')
    assert "lines: unknown parameter" in str(e.value)
    with pytest.raises(ToolCallError) as e:
        reg.parse_call("read_file", '{"path": "a", "start_line": "ten"}')
    assert "start_line:" in str(e.value) and "integer" in str(e.value)
    assert len(str(e.value).splitlines()) <= 2


def test_duplicate_registration_refused():
    with pytest.raises(ValueError):
        ToolRegistry([ReadFile(), ReadFile()])


class Boom(Tool):
    name = "boom"
    description = "raises"
    Params = ToolParams
    mutating = False

    async def run(self, params, ctx):
        raise KeyError("kaput")


class Slow(Tool):
    name = "slow"
    description = "sleeps"
    Params = ToolParams

    async def run(self, params, ctx):
        await asyncio.sleep(10)
        return ToolResult("never")


async def test_execute_turns_exceptions_into_internal_errors(ctx):
    reg = ToolRegistry([Boom()])
    tool, params = reg.parse_call("boom", "")
    r = await reg.execute(tool, params, ctx)
    assert r.is_error and "internal error" in r.output and "kaput" in r.output
    assert r.metadata["internal_error"] is True and "KeyError" in r.metadata["traceback"]


async def test_execute_passes_results_and_cancellation(root, ctx):
    (root / "f.txt").write_text("hi\n")
    reg = default_registry()
    r = await reg.execute(*reg.parse_call("read_file", '{"path": "f.txt"}'), ctx)
    assert r.output == "1\thi" and not r.is_error
    slow = ToolRegistry([Slow()])
    task = asyncio.create_task(slow.execute(Slow(), ToolParams(), ctx))
    await asyncio.sleep(0.05)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
