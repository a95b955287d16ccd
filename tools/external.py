"""Tools defined outside this package (MCP servers): a name, a description and a raw JSON
schema, run by a callback. They sit in the registry beside the built-ins, are mutating (asked
like commands, see agent.policy.asks_in_auto_edit) and their output is capped here and redacted
by the core like every tool result.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Awaitable, Callable

from pydantic import ConfigDict

from realcost_agent.tools.base import Description, Tool, ToolContext, ToolParams, ToolResult

# A server's own words cost tokens on every request: bounded.
MAX_DESCRIPTION = 1024
MAX_SCHEMA_CHARS = 16_000
_PERMISSIVE = {"type": "object", "properties": {}, "additionalProperties": True}


class ExternalParams(ToolParams):
    """Whatever the server's schema allows: checked against it in validate_args, not here."""

    model_config = ConfigDict(extra="allow")


Runner = Callable[[dict[str, Any], ToolContext], Awaitable[ToolResult]]


class ExternalTool(Tool):
    Params = ExternalParams
    mutating = True

    def __init__(self, name: str, description: str, input_schema: Any, run: Runner, *,
                 mutating: bool = True, origin: str = "") -> None:
        self.name = name  # type: ignore[misc] - per instance, unlike built-ins
        self.description = (description or "").strip()[:MAX_DESCRIPTION]  # type: ignore[misc]
        self.input_schema = clean_schema(input_schema)
        self.mutating = mutating  # type: ignore[misc]
        self.origin = origin  # e.g. "MCP server time"
        self._run = run
        self._validator: Any = None

    def schema(self) -> dict[str, Any]:  # type: ignore[override] - an instance's own schema
        return {"type": "function",
                "function": {"name": self.name, "description": self.description,
                             "parameters": self.input_schema}}

    def validate_args(self, args: dict[str, Any]) -> str | None:
        """A message for the model when the arguments break the schema, else None."""
        try:
            import jsonschema
        except ImportError:  # pragma: no cover - mcp depends on it
            return None
        if self._validator is None:
            try:
                cls = jsonschema.validators.validator_for(self.input_schema)
                self._validator = cls(self.input_schema)
            except Exception:  # noqa: BLE001 - a broken schema: the server checks instead
                self._validator = False
        if not self._validator:
            return None
        errors = sorted(self._validator.iter_errors(args), key=lambda e: list(e.path))
        if not errors:
            return None
        parts = [f"{'.'.join(str(p) for p in e.path) or 'arguments'}: {e.message[:200]}"
                 for e in errors[:3]]
        props = self.input_schema.get("properties") or {}
        required = set(self.input_schema.get("required") or [])
        sig = ", ".join(p if p in required else p + "?" for p in props)
        return f"invalid arguments for {self.name}: {'; '.join(parts)}. Expected {self.name}({sig})"

    async def run(self, params: ToolParams, ctx: ToolContext) -> ToolResult:
        result = await self._run(params.model_dump(), ctx)
        result.output = cap(result.output, ctx.max_output_chars)
        if result.description is None:
            result.description = self.describe(params, ctx.root)
        return result

    def describe(self, params: ToolParams, root: Path) -> Description:
        args = params.model_dump()
        shown = json.dumps(args, ensure_ascii=False, sort_keys=True)
        summary = f"{self.name} {shown}" if args else self.name
        # The preview is what the approval dialog shows: every argument the server will get.
        return Description(summary[:200], (), f"{self.origin}: {self.name}\n{shown}" if self.origin else shown)


def clean_schema(schema: Any) -> dict[str, Any]:
    """An object schema the providers accept: `$schema` dropped, oversize ones made permissive."""
    if not isinstance(schema, dict) or schema.get("type", "object") != "object":
        return dict(_PERMISSIVE)
    out = {k: v for k, v in schema.items() if k not in ("$schema", "title")}
    out["type"] = "object"
    out.setdefault("properties", {})
    try:
        if len(json.dumps(out)) > MAX_SCHEMA_CHARS:
            return dict(_PERMISSIVE)
    except (TypeError, ValueError):
        return dict(_PERMISSIVE)
    return out


def cap(text: str, limit: int) -> str:
    if limit <= 0 or len(text) <= limit:
        return text
    head = text[: limit - 200] if limit > 400 else text[:limit]
    return f"{head}\n… [output cut: {len(text) - len(head):,} more characters; the cap is {limit:,}]"
