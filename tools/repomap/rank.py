"""Reference-graph ranking: personalized PageRank over files, then a score per definition.

Files are nodes; a file that references an identifier gets an edge to each file defining it.
The graph depends only on the tags, so it is built once per set of files and reused across
tasks; the task only changes the personalization (which files PageRank teleports to) and the
per-identifier boosts. Everything iterates in sorted order and sums in a fixed order, so the
same inputs give bit-identical floats in every process (no set or hash order leaks in).
"""
from __future__ import annotations

import math
from operator import itemgetter, mul, sub
from typing import Mapping, NamedTuple, Sequence

from realcost_agent.records import record
from realcost_agent.tools.repomap.languages import language_of
from realcost_agent.tools.repomap.queries import CONTAINER_KINDS

DAMPING = 0.85
MAX_ITER = 100
TOLERANCE = 1e-8
# An identifier defined in more files than this says nothing about which one a reference means
# (`__init__`, `get`, `handle`); its edges would only add noise and time.
MAX_DEFINERS = 30
# Share of a file's own rank given to each of its definitions, so unreferenced definitions in
# relevant files still rank (below referenced ones).
OWN_SHARE = 0.01
# A definition the task names this clearly (see mentions.py) gets its file's whole rank.
STRONG_BOOST = 3.0
# Languages where a plain name (`f()`, a type) can only mean a top-level definition: methods
# are reached through a receiver (`self.f()`, `x.f()`, `T::f()`). Not Java/C/C++, where code in
# a class calls its methods by plain name.
PLAIN_MEANS_TOP_LEVEL = frozenset({"python", "javascript", "typescript", "tsx", "go", "rust"})
OUT_BASELINE = 1.0
UNIFORM_MIX = 0.1
VENDOR_DIRS = frozenset({"vendor", "vendors", "third_party", "thirdparty", "external", "extern"})
VENDORED_SHARE = 0.1
# Path-only entries (files whose definitions are not shown) rank at this share of the file.
FILE_SHARE = 0.02


class Entry(NamedTuple):
    # Negated so plain tuple order is the ranking order (best first, then path, line, name).
    neg_score: float
    path: str
    line: int  # 0 for a path-only entry
    name: str

    @property
    def score(self) -> float:
        return -self.neg_score


@record
class Graph:
    files: list[str]
    # per destination file: (source indices, weights normalized by each source's out-weight)
    incoming: list[tuple[tuple[int, ...], tuple[float, ...]]]
    leak: list[float]  # share of each file's rank that teleports (1.0: no out-edges)
    inv_totals: list[float]  # 1 / each file's total out-weight
    definers: dict[str, list[int]]  # identifier -> files defining it (indices, ascending)
    # One row per definition (containers excluded), in file then tag order; a definition
    # receives sum(rank[r] * inv_totals[r] * w) over its (sources, weights).
    def_file: list[int]
    def_line: list[int]
    def_name: list[str]
    def_inputs: list[tuple[tuple[int, ...], tuple[float, ...]]]
    def_damp: list[float]  # VENDORED_SHARE for vendored files, else 1.0
    by_name: dict[str, list[int]]  # identifier -> its definition rows
    bare_files: list[int]  # files with no definitions (shown as a path only)


def ident_weight(name: str) -> float:
    # A one-letter name (`e`, `n`) is more likely a parameter than the definition it matches;
    # private names matter less to someone reading the map, and dunders are protocol noise.
    if len(name) < 2:
        return 0.0
    return 0.1 if name.startswith("_") else 1.0


def build_graph(tags: Mapping[str, tuple[tuple, tuple]]) -> Graph:
    """`tags`: relpath -> (defs, refs) as in tags.FileTags. Paths are processed sorted."""
    files = sorted(tags)
    definers: dict[str, list[int]] = {}  # any definition
    top_definers: dict[str, list[int]] = {}  # top-level definitions only
    for i, path in enumerate(files):
        for d in tags[path][0]:
            if d[1] in CONTAINER_KINDS:
                continue
            for table in (definers, top_definers) if d[5] == 0 else (definers,):
                owners = table.get(d[0])
                if owners is None:
                    table[d[0]] = [i]
                elif owners[-1] != i:
                    owners.append(i)
    out: list[dict[int, float]] = []
    # (definer, identifier) -> ([referencing files], [raw weights]), sources ascending
    inputs: dict[tuple[int, str], tuple[list[int], list[float]]] = {}
    weights: dict[str, float] = {}

    def link(r: int, row: dict[int, float], name: str, count: int, owners: list[int]) -> None:
        w = weights.get(name)
        if w is None:
            w = weights[name] = ident_weight(name)
        # sqrt: ten calls to a helper are not ten times the dependency.
        w *= math.sqrt(count) / len(owners)
        if w == 0.0:
            return
        for d in owners:
            if d != r:
                row[d] = row.get(d, 0.0) + w
                pair = inputs.get((d, name))
                if pair is None:
                    inputs[(d, name)] = ([r], [w])
                else:
                    pair[0].append(r)
                    pair[1].append(w)

    for r, path in enumerate(files):
        row: dict[int, float] = {}
        out.append(row)
        plain_table = top_definers if language_of(path) in PLAIN_MEANS_TOP_LEVEL else definers
        for name, plain, member in tags[path][1]:
            if plain:
                owners = plain_table.get(name)
                if owners is not None and len(owners) <= MAX_DEFINERS:
                    link(r, row, name, plain, owners)
            if member:
                owners = definers.get(name)
                if owners is not None and len(owners) <= MAX_DEFINERS:
                    link(r, row, name, member, owners)
    # Each file also has OUT_BASELINE of weight that leads nowhere (its rank teleports), so a
    # file with one weak reference does not hand its whole rank to that one target.
    totals = []
    incoming_lists: list[list[tuple[int, float]]] = [[] for _ in files]
    for r, row in enumerate(out):
        keys = sorted(row)
        total = sum(row[k] for k in keys) + OUT_BASELINE
        totals.append(total)
        for d in keys:
            incoming_lists[d].append((r, row[d] / total))
    incoming = [(tuple(s for s, _ in lst), tuple(w for _, w in lst)) for lst in incoming_lists]
    inv_totals = [1.0 / t for t in totals]
    leak = [OUT_BASELINE * x for x in inv_totals]
    graph = Graph(files, incoming, leak, inv_totals, definers, [], [], [], [], [], {}, [])
    _add_definition_rows(graph, tags, inputs)
    return graph


def _add_definition_rows(graph: Graph, tags: Mapping[str, tuple[tuple, tuple]],
                         inputs: Mapping[tuple[int, str], tuple[list[int], list[float]]]) -> None:
    """One row per definition, so scoring them is a few flat passes per build."""
    empty: tuple[tuple[int, ...], tuple[float, ...]] = ((), ())
    for i, path in enumerate(graph.files):
        # Vendored copies of other projects are rarely what a task is about.
        damp = VENDORED_SHARE if not VENDOR_DIRS.isdisjoint(path.split("/")[:-1]) else 1.0
        has_def = False
        for d in tags[path][0]:
            if d[1] in CONTAINER_KINDS:
                continue
            has_def = True
            graph.by_name.setdefault(d[0], []).append(len(graph.def_file))
            graph.def_file.append(i)
            graph.def_line.append(d[2])
            graph.def_name.append(d[0])
            pair = inputs.get((i, d[0]))
            graph.def_inputs.append((tuple(pair[0]), tuple(pair[1])) if pair else empty)
            graph.def_damp.append(damp)
        if not has_def:
            graph.bare_files.append(i)


def pagerank(graph: Graph, personalization: Sequence[float]) -> list[float]:
    """Power iteration; `personalization` sums to 1. Leaked mass teleports like the rest."""
    n = len(graph.files)
    p = list(personalization)
    getters = [itemgetter(*srcs) if len(srcs) > 1 else None for srcs, _ in graph.incoming]
    rank = p[:]
    for _ in range(MAX_ITER):
        lost = DAMPING * sum(map(mul, rank, graph.leak))
        base = 1.0 - DAMPING + lost
        new = [0.0] * n
        for v in range(n):
            srcs, ws = graph.incoming[v]
            if not srcs:
                flow = 0.0
            elif len(srcs) == 1:
                flow = rank[srcs[0]] * ws[0]
            else:
                flow = sum(map(mul, getters[v](rank), ws))
            new[v] = base * p[v] + DAMPING * flow
        delta = sum(map(abs, map(sub, new, rank)))
        rank = new
        if delta < TOLERANCE:
            break
    return rank


def rank_entries(
    graph: Graph,
    personalization: Mapping[str, float],
    boosts: Mapping[str, float],
    pinned: Sequence[str] = (),
) -> list[Entry]:
    """All definitions and path-only entries, best first (score desc, path, line, name).
    Entries are plain tuples in Entry's field order.

    `personalization`: relpath -> weight (any scale; empty means uniform). `boosts`: identifier
    -> multiplier for definitions the task names. `pinned`: files the task names or the agent
    touched; their path-only entry ranks with the file's full rank so they always show."""
    files = graph.files
    n = len(files)
    total = sum(personalization.get(f, 0.0) for f in files)
    if total > 0:
        # A little uniform teleport keeps the repository's overall structure ordering the
        # files the task does not reach (otherwise they all tie at zero).
        p = [(1.0 - UNIFORM_MIX) * personalization.get(f, 0.0) / total + UNIFORM_MIX / n
             for f in files]
    else:
        p = [1.0 / n] * n if n else []
    rank = pagerank(graph, p) if n else []
    scaled = list(map(mul, rank, graph.inv_totals))
    get = scaled.__getitem__
    received = [sum(map(mul, map(get, srcs), ws)) for srcs, ws in graph.def_inputs]
    neg = [-(recv + OWN_SHARE * rank[f]) * damp
           for recv, f, damp in zip(received, graph.def_file, graph.def_damp)]
    for name in sorted(boosts):
        boost = boosts[name]
        # A definition the task names clearly gets its file's whole rank, not a sliver.
        own = 1.0 if boost >= STRONG_BOOST else OWN_SHARE
        for k in graph.by_name.get(name, ()):
            f = graph.def_file[k]
            neg[k] = -(received[k] + own * rank[f]) * boost * graph.def_damp[k]
    paths = [files[f] for f in graph.def_file]
    entries = list(zip(neg, paths, graph.def_line, graph.def_name))
    pinned_set = frozenset(pinned)
    for i in graph.bare_files:
        if files[i] not in pinned_set:
            damp = VENDORED_SHARE if not VENDOR_DIRS.isdisjoint(files[i].split("/")[:-1]) else 1.0
            entries.append((-rank[i] * FILE_SHARE * damp, files[i], 0, ""))
    index = {path: i for i, path in enumerate(files)}
    for path in sorted(pinned_set):
        if path in index:
            entries.append((-rank[index[path]], path, 0, ""))
    entries.sort()
    return entries
