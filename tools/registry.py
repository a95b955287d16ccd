"""The tool registry: which tools exist, their schemas, and turning a model's raw call
(name + JSON arguments) into a validated (tool, params) pair or a message the model can act on.
"""
from __future__ import annotations

import asyncio
import json
import traceback
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Iterator

from realcost_agent.tools.base import Tool, ToolContext, ToolResult

if TYPE_CHECKING:  # pydantic loads with the first tool call, not with the registry (issue 19)
    from pydantic import ValidationError

    from realcost_agent.tools.params import ToolParams


class ToolCallError(Exception):
    """A call the model got wrong; str(exc) is the message to send back as the tool result."""

    def __init__(self, message: str, tool_name: str | None = None):
        super().__init__(message)
        self.message = message
        self.tool_name = tool_name


class ToolRegistry:
    def __init__(self, tools: Iterable[Tool] = ()):
        self._tools: dict[str, Tool] = {}
        self.unknown_hint: Any = None  # (name) -> str | None, set by the MCP client
        for tool in tools:
            self.register(tool)

    def register(self, tool: Tool) -> None:
        if tool.name in self._tools:
            raise ValueError(f"duplicate tool name {tool.name!r}")
        self._tools[tool.name] = tool

    def add_external(self, name: str, description: str, input_schema: Any, run: Any, *,
                     mutating: bool = True, origin: str = "") -> Tool:
        """Register a tool defined elsewhere (an MCP server) by its raw JSON schema; `run` is
        `async (arguments: dict, ctx) -> ToolResult`. A name already taken (a built-in
        included) raises ValueError: nothing external can shadow a tool."""
        from realcost_agent.tools.external import ExternalTool

        tool = ExternalTool(name, description, input_schema, run, mutating=mutating, origin=origin)
        self.register(tool)
        return tool

    def remove(self, name: str) -> None:
        self._tools.pop(name, None)

    def get(self, name: str) -> Tool | None:
        return self._tools.get(name)

    def names(self) -> list[str]:
        return list(self._tools)

    def __contains__(self, name: object) -> bool:
        return name in self._tools

    def __iter__(self) -> Iterator[Tool]:
        return iter(self._tools.values())

    def __len__(self) -> int:
        return len(self._tools)

    def schemas(self) -> list[dict[str, Any]]:
        """OpenAI function-tool schemas in registration order (stable, so prompt caching holds)."""
        return [tool.schema() for tool in self._tools.values()]

    def read_only(self) -> ToolRegistry:
        """The non-mutating subset, e.g. for a planning or review mode."""
        return ToolRegistry(t for t in self._tools.values() if not t.mutating)

    def resolve_name(self, raw: str) -> str | None:
        """Map what the model sent to a tool name. gpt-oss servers sometimes leak harmony
        framing into the name: `functions.read_file`, `read_file<|channel|>commentary`."""
        return resolve_tool_name(raw, self._tools)

    def parse_call(self, name: str, arguments: str | dict | None) -> tuple[Tool, ToolParams]:
        resolved = self.resolve_name(name)
        if resolved is None:
            shown = name if len(name) <= 80 else name[:80] + "..."
            # Why a tool is missing, when its source knows (an MCP server that failed to start).
            hint = self.unknown_hint(name) if self.unknown_hint is not None else None
            raise ToolCallError(f"unknown tool {shown!r}{f' ({hint})' if hint else ''}; "
                                f"available tools: {', '.join(self._tools)}")
        tool = self._tools[resolved]
        args = _parse_arguments(tool.name, arguments)
        from pydantic import ValidationError

        try:
            params = tool.Params.model_validate(args)
        except ValidationError as e:
            raise ToolCallError(_summarize(tool, e), tool.name) from None
        check = getattr(tool, "validate_args", None)  # external tools: their JSON schema
        problem = check(args) if check is not None else None
        if problem:
            raise ToolCallError(problem, tool.name)
        return tool, params

    async def execute(self, tool: Tool, params: ToolParams, ctx: ToolContext) -> ToolResult:
        """Run a tool; an exception escaping it is a bug in the tool, reported as such."""
        try:
            result = await tool.run(params, ctx)
        except asyncio.CancelledError:
            raise
        except Exception as e:
            return ToolResult(
                f"internal error in tool {tool.name} (a bug in the tool, not in your call): "
                f"{type(e).__name__}: {e}",
                is_error=True,
                metadata={"internal_error": True, "traceback": traceback.format_exc()})
        if not isinstance(result, ToolResult):
            return ToolResult(f"internal error in tool {tool.name}: it returned no result",
                              is_error=True, metadata={"internal_error": True})
        return result


def resolve_tool_name(raw: str, names: Any) -> str | None:
    """ToolRegistry.resolve_name over any collection of tool names."""
    if raw in names:
        return raw
    name = (raw or "").split("<|", 1)[0].strip()
    name = name.split()[0] if name.split() else ""
    name = name.removeprefix("to=").removeprefix("functions.")
    return name if name in names else None


def _parse_arguments(tool: str, arguments: str | dict | None) -> dict[str, Any]:
    if arguments is None:
        return {}
    if isinstance(arguments, dict):
        return arguments
    if isinstance(arguments, (bytes, bytearray)):
        arguments = arguments.decode("utf-8", "replace")
    text = arguments.strip()
    if not text:
        return {}
    try:
        obj, end = json.JSONDecoder().raw_decode(text)
    except json.JSONDecodeError as e:
        near = text[max(0, e.pos - 30):e.pos + 30]
        raise ToolCallError(
            f"arguments for {tool} are not valid JSON: {e.msg} at line {e.lineno} column "
            f"{e.colno} (near {near!r}); send one JSON object", tool) from None
    rest = text[end:].strip()
    # Trailing harmony tokens (`<|call|>`) are framing noise, not a second value.
    if rest and not rest.startswith("<|"):
        raise ToolCallError(
            f"arguments for {tool}: extra text after the JSON object at char {end}: "
            f"{rest[:40]!r}; send exactly one JSON object", tool)
    if obj is None:
        return {}
    if not isinstance(obj, dict):
        raise ToolCallError(f"arguments for {tool} must be a JSON object, got "
                            f"{type(obj).__name__}", tool)
    return obj


def _summarize(tool: Tool, err: ValidationError) -> str:
    problems = []
    errors = err.errors()
    for e in errors[:3]:
        field = ".".join(str(p) for p in e["loc"]) or "arguments"
        kind = e["type"]
        msg = ("missing (required)" if kind == "missing"
               else "unknown parameter" if kind == "extra_forbidden"
               else e["msg"])
        problems.append(f"{field}: {msg}")
    if len(errors) > 3:
        problems.append(f"and {len(errors) - 3} more")
    schema = tool.Params.model_json_schema()
    required = set(schema.get("required", []))
    sig = ", ".join(p if p in required else p + "?" for p in schema.get("properties", {}))
    return f"invalid arguments for {tool.name}: {'; '.join(problems)}. Expected {tool.name}({sig})"


def default_registry(cache_dir: Path | None = None) -> ToolRegistry:
    """The built-in tools. With `cache_dir`, their names and schemas come from a cache there
    when it matches the code, and the tools themselves (and pydantic) load when first used, in
    the background once the first request is on its way (tools/toolcache.py)."""
    if cache_dir is not None:
        from realcost_agent.tools.toolcache import LazyToolRegistry

        return LazyToolRegistry(builtin_tools, cache_dir)
    return ToolRegistry(builtin_tools())


def builtin_tools() -> list[Tool]:
    from realcost_agent.tools.edit import Edit
    from realcost_agent.tools.list_files import ListFiles
    from realcost_agent.tools.read_file import ReadFile
    from realcost_agent.tools.repo_map import RepoMap
    from realcost_agent.tools.run_command import RunCommand
    from realcost_agent.tools.search import Search
    from realcost_agent.tools.write_file import WriteFile

    tools: list[Tool] = [ReadFile(), ListFiles(), Search(), RepoMap(), Edit()]
    try:  # written separately; the registry works without it
        from realcost_agent.tools.apply_patch import ApplyPatch
    except ModuleNotFoundError as e:
        if e.name != "realcost_agent.tools.apply_patch":  # a broken apply_patch must not vanish silently
            raise
    else:
        tools.append(ApplyPatch())
    tools += [WriteFile(), RunCommand()]
    return tools
