"""Repository map: a ranked, token-budgeted outline of the repository's definitions.

tree-sitter extracts definitions and references per file (tags.py, queries.py); a reference
graph ranked by personalized PageRank orders files and definitions by relevance to the task
(rank.py, mentions.py); the top entries are rendered as an outline that fits a token budget
(render.py). Parse results are cached on disk by (path, size, mtime) (cache.py).
"""
from __future__ import annotations

from realcost_agent.tools.repomap.builder import (DEFAULT_BUDGET, PROFILE_BUDGETS, BuildStats, RepoMap,
                                   budget_for)
from realcost_agent.tools.repomap.render import estimate_tokens

__all__ = ["RepoMap", "BuildStats", "budget_for", "estimate_tokens", "PROFILE_BUDGETS",
           "DEFAULT_BUDGET"]
