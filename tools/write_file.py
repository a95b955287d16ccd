"""write_file: create or replace a whole file, atomically, reporting the diff."""
from __future__ import annotations

import asyncio
import os
from pathlib import Path

from realcost_agent.tools.base import Description, Tool, ToolContext, ToolParams, ToolResult
from realcost_agent.tools.fileops import atomic_write, diff_stats, unified_diff
from realcost_agent.tools.paths import PathError, display, resolve_in_root


class WriteFileParams(ToolParams):
    path: str
    content: str


class WriteFile(Tool):
    name = "write_file"
    description = (
        "Create or overwrite a file with exactly `content` (missing parent directories are "
        "created). For changes to an existing file prefer edit, which sends less text."
    )
    Params = WriteFileParams
    mutating = True

    async def run(self, params: WriteFileParams, ctx: ToolContext) -> ToolResult:
        return await asyncio.to_thread(self._run, params, ctx)

    def _run(self, params: WriteFileParams, ctx: ToolContext) -> ToolResult:
        root = Path(os.path.realpath(ctx.root))
        if params.path.endswith(("/", os.sep)):
            return ToolResult(f"{params.path!r} names a directory; give a file path",
                              is_error=True)
        try:
            path = resolve_in_root(root, params.path)
        except PathError as e:
            return ToolResult(str(e), is_error=True)
        rel = display(root, path)
        if path.is_dir():
            return ToolResult(f"{rel} is a directory", is_error=True)
        if path == root:
            return ToolResult("path is the project root", is_error=True)
        # A parent component that is an existing file would make mkdir fail obscurely.
        for parent in path.parents:
            if parent == root:
                break
            if parent.exists() and not parent.is_dir():
                return ToolResult(f"{display(root, parent)} is a file, not a directory",
                                  is_error=True)
        old: str | None = None
        old_bytes: bytes | None = None
        editor = ctx.files.read(path) if ctx.files is not None and path.exists() else None
        if path.exists():
            try:
                old_bytes = (editor.encode("utf-8", "surrogateescape") if editor is not None
                             else path.read_bytes())
            except OSError as e:
                return ToolResult(f"cannot read {rel}: {e.strerror}", is_error=True)
            old = old_bytes.decode("utf-8", "replace")
        # Lone surrogates (possible in JSON strings) have no UTF-8 form.
        data = params.content.encode("utf-8", "replace")
        if old_bytes == data:
            return ToolResult(f"{rel} already has this content; nothing written",
                              metadata={"diff": "", "files_changed": []})
        try:
            if ctx.files is None or not ctx.files.write(path, data.decode("utf-8")):
                atomic_write(path, data)
        except OSError as e:
            return ToolResult(f"cannot write {rel}: {e.strerror or e}", is_error=True)
        d = _description(rel, old, data.decode("utf-8"))
        nlines = params.content.count("\n") + (not params.content.endswith("\n")
                                               and bool(params.content))
        verb = "Created" if old is None else f"Overwrote (+{d.added} -{d.removed} lines)"
        return ToolResult(f"{verb} {rel}: {nlines} lines, {len(data)} bytes",
                          metadata={"diff": d.preview, "files_changed": [rel]}, description=d)

    def describe(self, params: ToolParams, root: Path) -> Description:
        assert isinstance(params, WriteFileParams)
        root = Path(os.path.realpath(root))
        try:
            path = resolve_in_root(root, params.path)
            rel = display(root, path)
            old = path.read_bytes().decode("utf-8", "replace") if path.is_file() else None
        except (PathError, OSError):
            return Description(params.path, (params.path,))
        return _description(rel, old, params.content.encode("utf-8", "replace").decode("utf-8"))


def _description(rel: str, old: str | None, new: str) -> Description:
    diff = unified_diff(rel, old, new)
    added, removed = diff_stats(diff)
    summary = f"{rel} (new) +{added}" if old is None else f"{rel} +{added} -{removed}"
    return Description(summary, (rel,), diff, added, removed)
