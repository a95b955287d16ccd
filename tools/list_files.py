"""list_files: the project's files as git sees them, folded into directory counts when large."""
from __future__ import annotations

import asyncio
import os
import heapq
from pathlib import Path

from pydantic import Field

from realcost_agent.tools.base import Tool, ToolContext, ToolParams, ToolResult
from realcost_agent.tools.filesets import filter_glob, project_files, rel_posix
from realcost_agent.tools.paths import PathError, resolve_in_root


class ListFilesParams(ToolParams):
    path: str = "."
    pattern: str | None = Field(None, description="glob, e.g. *.py or src/**/*.ts")
    max_entries: int = Field(400, ge=1, le=5000)


class ListFiles(Tool):
    name = "list_files"
    description = (
        "List files under a directory (default: project root), skipping .gitignored ones. "
        "Paths are relative to the project root. Big trees are folded into 'dir/ (N files)' "
        "lines; list that dir to see inside."
    )
    Params = ListFilesParams
    mutating = False

    async def run(self, params: ListFilesParams, ctx: ToolContext) -> ToolResult:
        return await asyncio.to_thread(self._run, params, ctx)

    def _run(self, params: ListFilesParams, ctx: ToolContext) -> ToolResult:
        root = Path(os.path.realpath(ctx.root))
        try:
            target = resolve_in_root(root, params.path)
        except PathError as e:
            return ToolResult(str(e), is_error=True)
        base = rel_posix(root, target)
        if target.is_file():
            return ToolResult(base, metadata={"count": 1})
        if not target.is_dir():
            return ToolResult(f"{params.path}: no such directory", is_error=True)
        files, capped = project_files(root, base)
        files = filter_glob(files, params.pattern, base)
        where = base or "."
        if not files:
            why = f" matching {params.pattern!r}" if params.pattern else ""
            return ToolResult(f"No files{why} under {where} (ignored files are not listed)",
                              metadata={"count": 0})
        entries, folded = _fold(files, base, params.max_entries)
        lines = entries[: params.max_entries]
        head = f"{len(files)}{'+' if capped else ''} files under {where}"
        if folded:
            head += " (large directories folded)"
        out = [head + ":", *lines]
        if len(entries) > len(lines):
            out.append(f"... and {len(entries) - len(lines)} more entries; "
                       "narrow with path or pattern")
        truncated = folded or len(entries) > len(lines)
        return ToolResult("\n".join(out), metadata={"count": len(files), "truncated": truncated})


def _fold(files: list[str], base: str, cap: int) -> tuple[list[str], bool]:
    """All files if they fit under `cap`. Otherwise start from the top-level entries and keep
    opening the smallest folded directory while the listing still fits, so small directories
    show their files and big ones (vendor/, node_modules/) stay one 'dir/ (N files)' line.
    Returns the sorted entries and whether anything stayed folded."""
    if len(files) <= cap:
        return files, False
    prefix = base + "/" if base else ""
    tree: dict = {}
    for f in files:
        node = tree
        *dirs, name = f[len(prefix):].split("/")
        for d in dirs:
            node = node.setdefault(d, {})
        node[name] = None
    sizes: dict[int, int] = {}

    def size(node: dict) -> int:
        if id(node) not in sizes:
            sizes[id(node)] = sum(1 if v is None else size(v) for v in node.values())
        return sizes[id(node)]

    shown: dict[str, dict | None] = {prefix + k: v for k, v in tree.items()}
    heap = [(size(v), p) for p, v in shown.items() if v is not None]
    heapq.heapify(heap)
    while heap:
        _, path = heapq.heappop(heap)
        node = shown[path]
        assert node is not None
        if len(shown) - 1 + len(node) > cap:
            continue  # a bigger directory may still have fewer entries, so keep looking
        del shown[path]
        for k, v in node.items():
            shown[f"{path}/{k}"] = v
            if v is not None:
                heapq.heappush(heap, (size(v), f"{path}/{k}"))
    entries = sorted((p + "/" if v is not None else p, v) for p, v in shown.items())
    folded = any(v is not None for _, v in entries)
    return [p if v is None else f"{p} ({size(v)} files)" for p, v in entries], folded
