"""External tools (tools/external.py): registered by a raw JSON schema, never shadowing a tool,
checked against their schema, their output capped."""
from __future__ import annotations

from pathlib import Path

import pytest

from realcost_agent.tools.base import ToolContext, ToolResult
from realcost_agent.tools.external import MAX_SCHEMA_CHARS, clean_schema
from realcost_agent.tools.registry import ToolCallError, default_registry

SCHEMA = {"$schema": "https://json-schema.org/draft/2020-12/schema", "title": "args",
          "type": "object", "properties": {"q": {"type": "string"}, "n": {"type": "integer"}},
          "required": ["q"]}


async def echo(arguments: dict, ctx: ToolContext) -> ToolResult:
    return ToolResult("x" * int(arguments.get("n", 1)))


def test_registered_beside_the_builtins_with_the_raw_schema():
    registry = default_registry()
    tool = registry.add_external("mcp__s__find", "Find things", SCHEMA, echo, origin="MCP server s")
    assert tool.mutating and registry.names()[-1] == "mcp__s__find"
    fn = registry.get("mcp__s__find").schema()["function"]
    assert fn["name"] == "mcp__s__find" and fn["description"] == "Find things"
    assert fn["parameters"] == {"type": "object", "properties": SCHEMA["properties"], "required": ["q"]}
    assert "mcp__s__find" not in [t.name for t in registry.read_only()]


def test_a_name_taken_by_a_builtin_is_refused():
    registry = default_registry()
    with pytest.raises(ValueError, match="duplicate tool name 'run_command'"):
        registry.add_external("run_command", "mine now", SCHEMA, echo)
    assert type(registry.get("run_command")).__name__ == "RunCommand"


def test_arguments_are_checked_against_the_schema():
    registry = default_registry()
    registry.add_external("mcp__s__find", "", SCHEMA, echo)
    with pytest.raises(ToolCallError, match="'q' is a required property.*Expected mcp__s__find\\(q, n\\?\\)"):
        registry.parse_call("mcp__s__find", '{"n": 1}')
    with pytest.raises(ToolCallError, match="n: 'two' is not of type 'integer'"):
        registry.parse_call("mcp__s__find", '{"q": "a", "n": "two"}')
    tool, params = registry.parse_call("mcp__s__find", '{"q": "a", "n": 3}')
    assert params.model_dump() == {"q": "a", "n": 3}


async def test_output_is_capped_and_the_call_described(tmp_path: Path):
    registry = default_registry()
    registry.add_external("mcp__s__find", "", SCHEMA, echo, origin="MCP server s")
    tool, params = registry.parse_call("mcp__s__find", '{"q": "a", "n": 5000}')
    result = await registry.execute(tool, params, ToolContext(root=tmp_path, max_output_chars=1000))
    assert len(result.output) < 1100 and "output cut" in result.output
    assert result.description.preview.startswith("MCP server s: mcp__s__find")


def test_schemas_that_providers_would_reject_become_permissive():
    assert clean_schema({"type": "array"})["type"] == "object"
    assert clean_schema(None) == {"type": "object", "properties": {}, "additionalProperties": True}
    huge = {"type": "object", "properties": {f"p{i}": {"type": "string", "description": "d" * 100}
                                             for i in range(MAX_SCHEMA_CHARS // 100)}}
    assert clean_schema(huge)["properties"] == {}
