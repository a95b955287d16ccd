"""The base of every tool's parameter model (pydantic), apart from tools/base.py so that importing
the tool contract does not import pydantic: only using a tool does (issue 19: launch speed).
`from realcost_agent.tools.base import ToolParams` still works and gives this class."""
from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class ToolParams(BaseModel):
    """Base for tool parameter models: unknown fields are rejected so typos reach the model."""

    model_config = ConfigDict(extra="forbid")
