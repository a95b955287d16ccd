"""The tool contract: a class per tool, a pydantic Params model whose JSON schema is what the
model sees, a `mutating` flag, and `async run(params, ctx) -> ToolResult`.

Errors the model can fix (bad path, no match, patch refused) are returned as
`ToolResult(is_error=True)`; they never raise. Anything raised out of `run` is a bug and the
core reports it as a fatal tool error event.
"""
from __future__ import annotations

import asyncio
import copy
from dataclasses import field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from realcost_agent.records import record

if TYPE_CHECKING:
    from realcost_agent.tools.params import ToolParams


def __getattr__(name: str) -> Any:
    # ToolParams (pydantic) loads on first use, not with this module: the session, the turn and
    # the first request need the contract's dataclasses, not pydantic (issue 19: launch speed).
    if name == "ToolParams":
        from realcost_agent.tools.params import ToolParams

        globals()["ToolParams"] = ToolParams
        return ToolParams
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


@record
class ToolContext:
    """What a tool may use. `root` is the resolved project root; tools never go outside it."""

    root: Path
    # Environment for child processes (already scrubbed of secrets by the core).
    env: dict[str, str] | None = None
    # Where large outputs are saved in full; created on demand.
    output_dir: Path | None = None
    # Default command timeout in seconds.
    command_timeout: float = 120.0
    # Output cap for what goes back to the model (characters).
    max_output_chars: int = 20_000
    # Set by the core when the user interrupts: long-running tools must stop promptly.
    cancel: asyncio.Event | None = None
    # Called with streamed output chunks (run_command) so front-ends can show live output.
    on_output: Any = None  # Callable[[str], None] | None
    # Process groups started by commands; the session kills survivors (background jobs) at exit.
    process_groups: set[int] | None = None
    # The session's repo map (realcost_agent.tools.repomap.RepoMap) and what it ranks by: the task's text and the
    # files the agent touched. None outside a session: the tool then builds its own.
    # Wraps a command's argv (e.g. in a bubblewrap sandbox): (argv, cwd) -> argv.
    wrap_argv: Any = None
    repo_map: Any = None
    task: str = ""
    touched: tuple[str, ...] = ()
    # The editor's view of files (ACP fs/*: cli/acp/files.py), or None: the disk. Sync, for
    # tools that run in a thread: read(path) -> str | None (None: read the disk), write(path,
    # text) -> bool (False: write the disk). Used by read_file, edit and write_file.
    files: Any = None

    def outputs(self) -> Path:
        d = self.output_dir or (self.root / ".agent" / "outputs")
        d.mkdir(parents=True, exist_ok=True)
        return d


@record(frozen=True)
class Description:
    """What a call does (before it runs) or did (after), told once by the tool itself so the
    tool card, the approval dialog and headless output show the same thing.

    summary: one line ("calc.py +1 -1", "pytest -q", "'TODO' in src")
    paths:   project-relative files it touches (or touched)
    preview: the unified diff of the change (edits) or the command text; "" when none
    added/removed: changed line counts of `preview` when it is a diff, else None
    """

    summary: str = ""
    paths: tuple[str, ...] = ()
    preview: str = ""
    added: int | None = None
    removed: int | None = None


@record
class ToolResult:
    output: str
    is_error: bool = False
    # Structured extras for front-ends and the ledger, never sent to the model:
    #   diff: unified diff of the change; files_changed: list[str] (repo-relative);
    #   exit_code: int; full_output_path: str; truncated: bool.
    metadata: dict[str, Any] = field(default_factory=dict)
    # What the call did, in the tool's own words (None: the core derives a plain one).
    description: Description | None = None


class Tool:
    name: ClassVar[str]
    description: ClassVar[str]
    Params: ClassVar[type[ToolParams]]
    mutating: ClassVar[bool] = True  # true when in doubt

    async def run(self, params: ToolParams, ctx: ToolContext) -> ToolResult:  # pragma: no cover
        raise NotImplementedError

    def describe(self, params: ToolParams, root: Path) -> Description:
        """What this call would do, without doing it (cheap; file tools read, never write).
        The default names the first of command/path/pattern; tools with more to say override."""
        args = params.model_dump()
        for key in ("command", "path", "pattern"):
            value = args.get(key)
            if value:
                first = str(value).splitlines()[0][:200]
                if key == "pattern" and args.get("path") not in (None, "", "."):
                    first += f" in {args['path']}"
                paths = (str(args["path"]),) if key == "path" else ()
                return Description(first, paths, str(value) if key == "command" else "")
        return Description(", ".join(f"{k}={v}" for k, v in args.items() if v is not None)[:200])

    @classmethod
    def schema(cls) -> dict[str, Any]:
        """OpenAI function-tool schema, kept compact: every token here is paid on every request.
        Built once per (Params, name, description) in a process (pydantic takes about 6 ms a
        tool); each caller gets its own copy."""
        key = (cls.Params, cls.name, cls.description)
        built = _SCHEMAS.get(key)
        if built is None:
            built = _SCHEMAS[key] = cls._build_schema()
        return copy.deepcopy(built)

    @classmethod
    def _build_schema(cls) -> dict[str, Any]:
        params = cls.Params.model_json_schema()
        params.pop("title", None)
        props = params.get("properties", {})
        for name, prop in props.items():
            props[name] = _compact(prop)
        return {
            "type": "function",
            "function": {"name": cls.name, "description": cls.description, "parameters": params},
        }


_SCHEMAS: dict[tuple[Any, str, str], dict[str, Any]] = {}


def _compact(prop: dict[str, Any]) -> dict[str, Any]:
    """Drop pydantic's per-field title and collapse `X | None = None` to plain `X`: optional
    fields are already optional by not being required, and anyOf+null costs tokens every call."""
    prop = {k: v for k, v in prop.items() if k != "title"}
    any_of = prop.get("anyOf")
    if isinstance(any_of, list):
        non_null = [s for s in any_of if s.get("type") != "null"]
        if len(non_null) == 1 and len(non_null) < len(any_of):
            prop.pop("anyOf")
            prop = {**non_null[0], **prop}
            if prop.get("default", 0) is None:
                prop.pop("default")
    return prop
