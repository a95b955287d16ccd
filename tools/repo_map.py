"""repo_map: the ranked outline of the repository (agent.repomap), centred on a focus.

The session owns one RepoMap (ctx.repo_map), so repeated calls only stat files; the tag cache on
disk makes the first call in a new process fast too. The map is ranked by the model's focus and
by the session's task and touched files.
"""
from __future__ import annotations

import asyncio
from pydantic import Field

from realcost_agent.tools.base import Tool, ToolContext, ToolParams, ToolResult

DEFAULT_BUDGET = 2048
MAX_BUDGET = 8192
MIN_BUDGET = 256


class RepoMapParams(ToolParams):
    focus: str | None = Field(None, description="path, symbol or words to centre on")
    budget_tokens: int | None = Field(None, ge=MIN_BUDGET, le=MAX_BUDGET)


class RepoMap(Tool):
    name = "repo_map"
    description = (
        "Outline of the repository: the most relevant files with their key definitions "
        "(signatures, line numbers), ranked by how code references them. Use focus to centre "
        "it on a path, symbol or topic."
    )
    Params = RepoMapParams
    mutating = False

    def __init__(self, default_budget: int = DEFAULT_BUDGET):
        self.default_budget = default_budget

    async def run(self, params: RepoMapParams, ctx: ToolContext) -> ToolResult:
        return await asyncio.to_thread(self._run, params, ctx)

    def _run(self, params: RepoMapParams, ctx: ToolContext) -> ToolResult:
        budget = params.budget_tokens or self.default_budget
        if ctx.repo_map is not None:
            rm = ctx.repo_map
        else:
            from realcost_agent.tools.repomap import RepoMap as Builder

            rm = Builder(ctx.root)
        focus = (params.focus or "").strip() or None
        text = rm.build(task=ctx.task, touched=ctx.touched, budget_tokens=budget, focus=focus)
        stats = rm.stats
        meta = {"files": stats.files, "parsed": stats.parsed, "cached": stats.cached,
                "entries": stats.entries, "estimated_tokens": stats.tokens}
        if not text:
            return ToolResult("No source files in a supported language (Python, JavaScript, "
                              "TypeScript, Go, Rust, Java, C, C++) were found.", metadata=meta)
        return ToolResult(text.rstrip("\n"), metadata=meta)
