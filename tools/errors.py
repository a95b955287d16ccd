"""Errors the core raises for a tool to catch, in a module light enough to import anywhere (the
tools themselves load pydantic; the trust gate reads skills before any tool is needed)."""
from __future__ import annotations


class SkillError(ValueError):
    """A skill or file that cannot be given: the message says why (it goes to the model)."""
