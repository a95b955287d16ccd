"""What the task points at: files it names, identifiers it names, files the agent touched.

The result steers the ranking: `personalization` (relpath -> weight) is where PageRank
teleports, `boosts` (identifier -> multiplier) lifts the definitions the task names, and
`pinned` files always show. A name defined in many files spreads its weight thin, so a task
that says "get" or "save" does not flood the map.
"""
from __future__ import annotations

import math
import posixpath
import re
from dataclasses import dataclass, field
from typing import Iterable, Mapping, Sequence

_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# Short words only count when they look like a name: `Q`, F(), "DB", not "a" or "to".
_SHORT_PROSE = frozenset({"I", "A", "OK", "IT", "IS", "AN", "OR", "IN", "ON", "TO", "IF"})
_PATHISH = re.compile(r"[\w.\-/\\]+")
_TRAIL = ".,:;!?)]}'\"`"

EXACT_BOOST = 10.0
FOLDED_BOOST = 4.0  # case/underscore-insensitive match ("paginator", "repo_map" -> RepoMap)
PROSE_BOOST = 2.0  # a plain English word that matches an identifier
PROSE_SHARE = 0.25
_CODE_MARKS = frozenset(".(`'\"[:<")
FOCUS_WEIGHT = 3.0  # the model's explicit focus outweighs incidental words in the task
MAX_PINNED_PER_MENTION = 3
MAX_PATH_TOKENS = 200  # a pasted log must not turn into a scan of the file list per token


@dataclass
class Mentions:
    personalization: dict[str, float] = field(default_factory=dict)
    boosts: dict[str, float] = field(default_factory=dict)
    pinned: list[str] = field(default_factory=list)

    def add(self, paths: Sequence[str], weight: float) -> None:
        """Spread `weight` over `paths` (in the given, sorted order)."""
        for p in paths:
            self.personalization[p] = self.personalization.get(p, 0.0) + weight / len(paths)

    def boost(self, name: str, factor: float) -> None:
        self.boosts[name] = max(self.boosts.get(name, 1.0), factor)

    def pin(self, paths: Sequence[str]) -> None:
        for p in paths:
            if p not in self.pinned:
                self.pinned.append(p)


class Index:
    """Lookups over one set of files and definitions, built once per graph."""

    def __init__(self, files: Sequence[str], definers: Mapping[str, Sequence[str]]):
        self.files = list(files)
        self.file_set = frozenset(files)
        self.definers = definers
        self.by_base: dict[str, list[str]] = {}
        self.by_stem: dict[str, list[str]] = {}
        for f in self.files:
            base = posixpath.basename(f)
            self.by_base.setdefault(base, []).append(f)
            self.by_stem.setdefault(fold(base.rsplit(".", 1)[0]), []).append(f)
        self.folded: dict[str, list[str]] = {}
        for name in sorted(definers):
            self.folded.setdefault(fold(name), []).append(name)

    def paths_for(self, token: str) -> list[str]:
        """Files a path-like token names: exact, a basename, a path suffix, or (with a slash) a
        directory. Only tokens with a slash scan the file list; prose is full of dots."""
        token = token.replace("\\", "/").strip(_TRAIL)
        while token.startswith("./"):
            token = token[2:]
        slash = "/" in token
        token = token.strip("/")
        if not token:
            return []
        if token in self.file_set:
            return [token]
        if not slash:
            return list(self.by_base.get(token, ()))
        found = [f for f in self.files if f.endswith("/" + token)]
        if found:
            return found
        prefix = token + "/"  # a directory: everything under it
        return [f for f in self.files if f.startswith(prefix) or ("/" + prefix) in f]


def find_mentions(index: Index, task: str = "", touched: Iterable[str] = (),
                  focus: str | None = None) -> Mentions:
    m = Mentions()
    for path in sorted(set(touched)):
        found = index.paths_for(path)
        if found and len(found) <= MAX_PINNED_PER_MENTION:
            m.add(found, 1.0)
            m.pin(found)
    _scan(index, task, 1.0, m)
    if focus:
        _scan(index, focus, FOCUS_WEIGHT, m)
    return m


def _scan(index: Index, text: str, weight: float, m: Mentions) -> None:
    seen_paths: set[str] = set()
    tokens = [t for t in sorted(set(_PATHISH.findall(text)))
              if "/" in t or "\\" in t or "." in t.strip(_TRAIL)]
    for token in tokens[:MAX_PATH_TOKENS]:
        found = index.paths_for(token)
        if found:
            seen_paths.update(found)
            m.add(found, weight)
            if len(found) <= MAX_PINNED_PER_MENTION:
                m.pin(found)
    for word, code in _words(text):
        # A word written as code (`filter()`, QuerySet.filter, snake_case) names a symbol; a
        # prose word that happens to match one ("an empty list") only hints at it.
        w, top = (weight, EXACT_BOOST) if code else (weight * PROSE_SHARE, PROSE_BOOST)
        owners = index.definers.get(word)
        if owners:
            m.add(owners, w)
            m.boost(word, 1.0 + (top - 1.0) / math.sqrt(len(owners)))
        elif len(word) >= 4:
            for name in index.folded.get(fold(word), ()):
                owners = index.definers[name]
                m.add(owners, w / 2)
                m.boost(name, 1.0 + (min(top, FOLDED_BOOST) - 1.0) / math.sqrt(len(owners)))
        stems = index.by_stem.get(fold(word))
        if stems and not seen_paths.intersection(stems):
            if code and len(stems) <= MAX_PINNED_PER_MENTION:
                m.add(stems, w)  # `repo_map` written as code names repo_map.py
                m.pin(stems)
            else:
                m.add(stems, w * 0.3)


def fold(name: str) -> str:
    """Case- and underscore-insensitive key: repo_map, RepoMap and REPOMAP meet."""
    return name.replace("_", "").lower()


def _words(text: str) -> list[tuple[str, bool]]:
    """Distinct identifier-like words, sorted, each with whether it is written as code."""
    code: dict[str, bool] = {}
    for match in _WORD.finditer(text):
        word = match.group()
        before = text[match.start() - 1] if match.start() else " "
        after = text[match.end()] if match.end() < len(text) else " "
        looks = ("_" in word.strip("_") or any(c.isupper() for c in word[1:])
                 or any(c.isdigit() for c in word) or before in _CODE_MARKS
                 or after in _CODE_MARKS)
        if len(word) < 3 and not (before in _CODE_MARKS or after in _CODE_MARKS
                                  or (word.isupper() and word not in _SHORT_PROSE)):
            continue
        code[word] = code.get(word, False) or looks or len(word) < 3
    return sorted(code.items())
