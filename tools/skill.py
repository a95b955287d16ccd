"""skill: load a skill's instructions (or one of its files) on demand. Read-only.

Registered by the session only when at least one skill is available, so a project without skills
pays nothing for its schema. The catalog (agent/skills.py) confines every read to the skill's own
folder.
"""
from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from pydantic import Field

from realcost_agent.tools.base import Description, Tool, ToolContext, ToolParams, ToolResult
from realcost_agent.tools.errors import SkillError  # noqa: F401 - raised by agent.skills, caught here


class SkillParams(ToolParams):
    name: str = Field("", description="empty: list all")
    file: str | None = Field(None, description="path inside the skill")


class SkillTool(Tool):
    name = "skill"
    description = "Load a skill's instructions or one of its files."
    Params = SkillParams
    mutating = False

    def __init__(self, catalog: Any) -> None:
        self.catalog = catalog  # realcost_agent.agent.skills.SkillCatalog

    def describe(self, params: ToolParams, root: Path) -> Description:
        assert isinstance(params, SkillParams)
        if not params.name:
            return Description("list skills")
        return Description(f"skill {params.name}" + (f": {params.file}" if params.file else ""))

    async def run(self, params: ToolParams, ctx: ToolContext) -> ToolResult:
        assert isinstance(params, SkillParams)
        return await asyncio.to_thread(self._run, params)

    def _run(self, params: SkillParams) -> ToolResult:
        try:
            if not params.name:
                text = self.catalog.listing()
            elif params.file:
                text = self.catalog.file(params.name, params.file)
            else:
                text = self.catalog.body(params.name)
        except SkillError as exc:
            return ToolResult(str(exc), is_error=True)
        return ToolResult(text, metadata={"skill": params.name, "file": params.file or "SKILL.md"})
