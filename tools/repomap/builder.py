"""RepoMap: list files, refresh their tags (parsing only what changed), rank, render to budget.

    rm = RepoMap(root)
    text = rm.build(task="fix QuerySet.filter", touched=["django/db/models/query.py"],
                    budget_tokens=2048)
    rm.stats.parsed, rm.stats.cached

Deterministic: the same files and the same arguments give the same bytes in any process,
whatever the cache held (a cached entry equals a fresh parse, and ranking sorts everything).
"""
from __future__ import annotations

import contextlib
import gc
import os
import threading
import time
from dataclasses import field
from pathlib import Path
from typing import Iterable, Mapping

from realcost_agent.records import record
from realcost_agent.tools.repomap.cache import CacheEntry, TagCache, default_cache_dir
from realcost_agent.tools.repomap.files import MAX_FILE_BYTES, source_files
from realcost_agent.tools.repomap.languages import language_of
from realcost_agent.tools.repomap.mentions import Index, find_mentions
from realcost_agent.tools.repomap.rank import Graph, build_graph, rank_entries
from realcost_agent.tools.repomap.render import fit
from realcost_agent.tools.repomap.tags import EMPTY, FileTags, extract, is_minified

BINARY_SNIFF_BYTES = 8192
MIN_BUDGET = 64

# Map size per model profile (estimated tokens). The 20b model has the least attention to
# spare, so it gets the smallest map; configurable per call.
PROFILE_BUDGETS = {"gpt-oss-20b": 1024, "gpt-oss-120b": 4096, "o4-mini": 2048}
DEFAULT_BUDGET = 2048


# A map never takes more than this share of the model's real context window (a local server
# with 4,096 tokens must keep room for the task and the answer; issue 18).
WINDOW_SHARE = 1 / 16


def budget_for(profile: str | None, override: int | None = None, window: int | None = None) -> int:
    if override is not None:
        return max(MIN_BUDGET, int(override))
    budget = PROFILE_BUDGETS.get(profile or "", DEFAULT_BUDGET)
    if window:
        budget = min(budget, max(MIN_BUDGET, int(window * WINDOW_SHARE)))
    return budget


@record
class BuildStats:
    files: int = 0  # source files in the map's scope
    parsed: int = 0  # files read and parsed by this build
    cached: int = 0  # files whose tags came from the cache
    removed: int = 0  # cache entries dropped because their file is gone
    graph_reused: bool = False
    entries: int = 0  # ranked entries shown
    tokens: int = 0  # ESTIMATED tokens of the map (see render.estimate_tokens)
    seconds: float = 0.0
    # seconds per phase: load, list, parse, save, graph, rank, render (for bench/, not logic)
    phases: dict[str, float] = field(default_factory=dict)


@contextlib.contextmanager
def _no_gc():
    """Pause the cyclic GC for the build: it allocates ~10^5 acyclic tuples, and the collector
    walking them (plus the ~10^6 objects of the loaded cache) cost a third of a warm build."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


class _Clock:
    def __init__(self, phases: dict[str, float]):
        self.phases = phases
        self.last = time.perf_counter()

    def __call__(self, phase: str) -> None:
        now = time.perf_counter()
        self.phases[phase] = self.phases.get(phase, 0.0) + now - self.last
        self.last = now


class RepoMap:
    def __init__(self, root: str | os.PathLike[str], *, cache_dir: str | os.PathLike[str] | None = None,
                 max_file_bytes: int = MAX_FILE_BYTES, env: Mapping[str, str] | None = None):
        self.root = Path(os.path.realpath(root))
        directory = Path(cache_dir) if cache_dir is not None else default_cache_dir(self.root, env)
        self.cache = TagCache(directory, self.root)
        self.max_file_bytes = max_file_bytes
        self.stats = BuildStats()
        self._entries: dict[str, CacheEntry] | None = None
        self._dirs: dict = {}
        self._graph: Graph | None = None
        self._graph_key: tuple | None = None
        self._index: Index | None = None
        self._lock = threading.Lock()

    def build(self, task: str = "", touched: Iterable[str] = (), budget_tokens: int = DEFAULT_BUDGET,
              focus: str | None = None) -> str:
        """The map for this task, at most `budget_tokens` estimated tokens."""
        with self._lock, _no_gc():
            self.stats = stats = BuildStats()
            clock = _Clock(stats.phases)
            tags = self._refresh(clock)
            graph, index = self._graph_for(tags)
            clock("graph")
            mentions = find_mentions(index, task, [self._rel(p) for p in touched], focus)
            ranked = rank_entries(graph, mentions.personalization, mentions.boosts,
                                  mentions.pinned)
            clock("rank")
            text, tokens, used = fit(ranked, tags, max(MIN_BUDGET, int(budget_tokens)))
            clock("render")
            stats.entries, stats.tokens = used, tokens
            stats.seconds = sum(stats.phases.values())
            return text

    def tags(self) -> dict[str, tuple[tuple, tuple]]:
        """relpath -> (defs, refs) for every source file, refreshed from disk."""
        with self._lock:
            return self._refresh(_Clock({}))

    # -- internals ---------------------------------------------------------------------------
    def _rel(self, path: str | os.PathLike[str]) -> str:
        p = Path(path)
        if p.is_absolute():
            try:
                return Path(os.path.realpath(p)).relative_to(self.root).as_posix()
            except ValueError:
                return p.as_posix()
        return p.as_posix()

    def _refresh(self, clock: _Clock) -> dict[str, tuple[tuple, tuple]]:
        if self._entries is None:
            self._entries, self._dirs = self.cache.load()
            clock("load")
        before = dict(self._dirs)
        files = source_files(self.root, self.max_file_bytes, self._dirs)
        clock("list")
        entries = self._entries
        dirty = before != self._dirs
        for rel in [r for r in entries if r not in files]:
            del entries[rel]
            self.stats.removed += 1
            dirty = True
        for rel, (size, mtime) in files.items():
            entry = entries.get(rel)
            if entry is not None and entry[0] == size and entry[1] == mtime:
                self.stats.cached += 1
                continue
            tags = self._parse(rel)
            # Plain tuples, so a fresh entry is identical to one loaded from the cache.
            entries[rel] = (size, mtime, None, None) if tags is None else \
                (size, mtime, tuple(tuple(d) for d in tags.defs), tags.refs)
            self.stats.parsed += 1
            dirty = True
        clock("parse")
        if dirty:
            self.cache.save(entries, self._dirs)
            clock("save")
        self.stats.files = len(files)
        # Skipped files (binary, minified) are cached as such, and left out of the map.
        return {rel: (entries[rel][2], entries[rel][3]) for rel in files
                if entries[rel][2] is not None}

    def _parse(self, rel: str) -> FileTags | None:
        """The file's tags, or None for a file the map should not show (binary, minified)."""
        lang = language_of(rel)
        try:
            with open(self.root / rel, "rb") as f:
                source = f.read(self.max_file_bytes + 1)
        except OSError:
            return EMPTY
        if lang is None or len(source) > self.max_file_bytes \
                or b"\0" in source[:BINARY_SNIFF_BYTES] or is_minified(source):
            return None
        return extract(source, lang)

    def _graph_for(self, tags: dict[str, tuple[tuple, tuple]]) -> tuple[Graph, Index]:
        # The graph depends only on the tags: reuse it while no file changed.
        key = tuple((rel, self._entries[rel][0], self._entries[rel][1]) for rel in tags)
        if self._graph is None or self._index is None or key != self._graph_key:
            self._graph = build_graph(tags)
            files = self._graph.files
            definers = {name: [files[i] for i in owners]
                        for name, owners in sorted(self._graph.definers.items())}
            self._index = Index(files, definers)
            self._graph_key = key
        else:
            self.stats.graph_reused = True
        return self._graph, self._index
