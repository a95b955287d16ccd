"""File extension -> language, and the grammar, parser and compiled queries for each language.

Grammars come from the official per-language wheels (tree-sitter-python, ...). Each is imported
on first use, so a Python-only repository never loads the C++ grammar. A grammar that fails to
load makes its files count as unsupported rather than breaking the map.
"""
from __future__ import annotations

import importlib
from functools import lru_cache

from realcost_agent.records import record
from realcost_agent.tools.repomap.queries import QUERIES

EXTENSIONS: dict[str, str] = {
    ".py": "python", ".pyi": "python",
    ".js": "javascript", ".mjs": "javascript", ".cjs": "javascript", ".jsx": "javascript",
    ".ts": "typescript", ".mts": "typescript", ".cts": "typescript", ".tsx": "tsx",
    ".go": "go",
    ".rs": "rust",
    ".java": "java",
    ".c": "c", ".h": "c",
    ".cc": "cpp", ".cpp": "cpp", ".cxx": "cpp", ".c++": "cpp", ".hh": "cpp", ".hpp": "cpp",
    ".hxx": "cpp", ".h++": "cpp", ".ipp": "cpp", ".inl": "cpp",
}

# language -> (module, function returning the grammar pointer)
_GRAMMARS: dict[str, tuple[str, str]] = {
    "python": ("tree_sitter_python", "language"),
    "javascript": ("tree_sitter_javascript", "language"),
    "typescript": ("tree_sitter_typescript", "language_typescript"),
    "tsx": ("tree_sitter_typescript", "language_tsx"),
    "go": ("tree_sitter_go", "language"),
    "rust": ("tree_sitter_rust", "language"),
    "java": ("tree_sitter_java", "language"),
    "c": ("tree_sitter_c", "language"),
    "cpp": ("tree_sitter_cpp", "language"),
}


def language_of(path: str) -> str | None:
    dot = path.rfind(".")
    if dot <= path.rfind("/"):
        return None
    return EXTENSIONS.get(path[dot:].lower())


@record(frozen=True)
class Grammar:
    name: str
    parser: object  # tree_sitter.Parser
    defs: object  # tree_sitter.Query
    refs: object  # tree_sitter.Query


@lru_cache(maxsize=None)
def grammar(lang: str) -> Grammar | None:
    """The loaded grammar for `lang`, or None when its package is missing or incompatible."""
    try:
        import tree_sitter as ts

        module, func = _GRAMMARS[lang]
        language = ts.Language(getattr(importlib.import_module(module), func)())
        defs_src, refs_src = QUERIES[lang]
        return Grammar(lang, ts.Parser(language), ts.Query(language, defs_src),
                       ts.Query(language, refs_src))
    except (ImportError, KeyError, AttributeError, ValueError, TypeError):
        return None
