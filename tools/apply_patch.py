"""The apply_patch tool: the Codex-style patch format gpt-oss and other OpenAI models know.

All or nothing: the whole patch is parsed and every file's new content computed and checked in
memory before a byte is written (see patch_parser, patch_match, patch_apply).
"""
from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import ClassVar

from pydantic import Field

from realcost_agent.tools.base import Description, Tool, ToolContext, ToolParams, ToolResult
from realcost_agent.tools.patch_apply import FileChange, PatchApplyError, commit, plan
from realcost_agent.tools.patch_diff import file_diff
from realcost_agent.tools.patch_parser import PatchSyntaxError, parse_patch

_NOTHING_CHANGED = "No file was changed."


class ApplyPatchParams(ToolParams):
    patch: str = Field(description="The full patch text, from *** Begin Patch to *** End Patch.")


class ApplyPatch(Tool):
    name: ClassVar[str] = "apply_patch"
    # Kept tight: this text is paid for on every request, but the model needs the skeleton.
    description: ClassVar[str] = (
        "Edit files with a patch; all-or-nothing. Paths relative to project root.\n"
        "*** Begin Patch\n"
        "*** Update File: path\n"
        "*** Move to: new_path (optional)\n"
        "@@ def enclosing_function():\n"
        " context line (3 before/after, copied exactly)\n"
        "-removed line\n"
        "+added line\n"
        "*** Add File: path\n"
        "+content line\n"
        "*** Delete File: path\n"
        "*** End Patch"
    )
    Params: ClassVar[type[ToolParams]] = ApplyPatchParams
    mutating: ClassVar[bool] = True

    async def run(self, params: ToolParams, ctx: ToolContext) -> ToolResult:
        assert isinstance(params, ApplyPatchParams)
        # File I/O and fsync can take a while on big patches; keep the event loop responsive.
        return await asyncio.to_thread(apply_patch_text, params.patch, Path(ctx.root))


    def describe(self, params: ToolParams, root: Path) -> Description:
        """The exact diff the patch would make, from the same plan that applies it."""
        assert isinstance(params, ApplyPatchParams)
        try:
            changes = plan(parse_patch(params.patch), Path(os.path.realpath(root)))
        except (PatchSyntaxError, PatchApplyError) as e:
            return Description(f"patch (will fail: {str(e).splitlines()[0][:80]})",
                               preview=params.patch)
        return _describe(changes)


def _describe(changes: list[FileChange]) -> Description:
    names, diffs, paths = [], [], []
    added = removed = 0
    for c in changes:
        paths += [c.rel, c.target_rel] if c.kind == "R" else [c.rel]
        if c.kind == "M" and c.new == c.old:
            continue
        diff, a, r = file_diff(c)
        diffs.append(diff)
        added, removed = added + a, removed + r
        names.append(f"{c.rel} -> {c.target_rel}" if c.kind == "R" else c.rel)
    summary = f"{', '.join(names) or 'no change'} +{added} -{removed}"
    return Description(summary, tuple(dict.fromkeys(paths)), "".join(diffs), added, removed)


def apply_patch_text(text: str, root: Path) -> ToolResult:
    """Parse, verify and commit `text` under `root`; always returns a ToolResult."""
    try:
        changes = plan(parse_patch(text), Path(os.path.realpath(root)))
        commit(changes)
    except PatchSyntaxError as e:
        return _error(f"apply_patch: invalid patch: {e}", True)
    except PatchApplyError as e:
        return _error(f"apply_patch: {e}", e.unchanged)
    return _success(changes)


def _error(message: str, unchanged: bool) -> ToolResult:
    tail = _NOTHING_CHANGED if unchanged else "Some files may have been changed."
    return ToolResult(f"{message}\n{tail}", is_error=True, metadata={"files_changed": []})


def _success(changes: list[FileChange]) -> ToolResult:
    lines, diffs, files = [], [], []
    for c in changes:
        if c.kind == "M" and c.new == c.old:
            lines.append(f"M {c.rel} (no change)")
            continue
        diff, added, removed = file_diff(c)
        diffs.append(diff)
        name = f"{c.rel} -> {c.target_rel}" if c.kind == "R" else c.rel
        counts = " ".join(
            s for s in (f"+{added}" if added else "", f"-{removed}" if removed else "") if s
        )
        lines.append(f"{c.kind} {name}" + (f" ({counts})" if counts else ""))
        lines += [f"  note: {n}" for n in c.notes]
        files += [c.rel, c.target_rel] if c.kind == "R" else [c.rel]
    n = len(diffs)
    header = f"Applied patch to {n} file{'s' if n != 1 else ''}:"
    d = _describe(changes)
    return ToolResult(
        "\n".join([header, *lines]), metadata={"diff": "".join(diffs), "files_changed": files},
        description=Description(d.summary, tuple(files), d.preview, d.added, d.removed),
    )
