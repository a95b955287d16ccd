"""What the task points at: files it names, identifiers it names, files the agent touched.

The result steers the ranking: `personalization` (relpath -> weight) is where PageRank
teleports, `boosts` (identifier -> multiplier) lifts the definitions the task names, and
`pinned` files always show. A name defined in many files spreads its weight thin, so a task
that says "get" or "save" does not flood the map.

Tasks are mostly plain English, so prose counts too, more weakly than code: a word that is a
file's stem ("the compaction split point" -> agent/compaction.py) names that file, and two or
three consecutive words that spell an identifier ("split point" -> split_point, "thumbnail
preview" -> ThumbnailPreview) name that definition. A trailing plural is dropped when the word
itself matches nothing ("previews" -> preview).
"""
from __future__ import annotations

import math
import posixpath
import re
from dataclasses import field
from typing import Iterable, Mapping, Sequence

from realcost_agent.records import record

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
# Prose naming a file by its stem ("compaction", "video timeline"): half an explicit path, and
# only for a stem at most MAX_PINNED_PER_MENTION files share that is not a generic name.
PROSE_STEM_SHARE = 0.5
# Consecutive prose words spelling an identifier ("split point"): a bit under code (a folded
# code mention boosts FOLDED_BOOST with half its weight), still a strong boost (rank.py) when
# one file defines it.
WINDOW_BOOST = 3.5
WINDOW_SHARE = 0.4
MAX_WINDOW = 3
MIN_WINDOW_CHARS = 6
# Words that never join a window nor name a file: English function words.
_FUNCTION_WORDS = frozenset("""
a an the this that these those it its is are was were be been being am do does did done
to of in on at by for from with without into onto over under up down out off about as and or
nor not no but if then else when while so than too very all any each every some both few more
most other such only own same can could should would will shall may might must we you they
he she i me my our your their them us also just still yet again there here where which who
what why how now""".split())
# Words every task uses, too vague to name a file by themselves ("update user" may still
# spell update_user).
_COMMON = _FUNCTION_WORDS | frozenset("""
new old fix fixed fixes add added adds remove removed make makes made use used uses using run
runs change changes changed update updates updated implement support supports handle handles
break breaks broken existing wrong bug bugs issue issues error errors fail fails failing
failed work works working file files code function functions method methods class classes
value values type types name names item items thing things way case cases part show shows
get gets set sets let please need needs want""".split())
# File stems too generic for a prose word to mean one file.
_GENERIC_STEMS = frozenset("""
init main index utils util helpers helper common base core lib mod module modules package
types constants consts misc setup conftest app test tests spec specs defaults""".split())


@record
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
        # Stems a prose word (or words: video-timeline.js, ThumbnailPreview.tsx) can name.
        stems: dict[str, list[str]] = {}
        for f in self.files:
            stem = posixpath.basename(f).rsplit(".", 1)[0]
            key = _prose_key(stem)
            if key:
                stems.setdefault(key, []).append(f)
        # A stem too many files share stays as a key naming none, so "fields" (five fields.py)
        # does not fall back to its singular (the one field.py).
        self.prose_stems = {k: v if len(v) <= MAX_PINNED_PER_MENTION else []
                            for k, v in stems.items()}

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
    stem_keys: set[str] = set()
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
        if code:
            stems = index.by_stem.get(fold(word))
            if stems and not seen_paths.intersection(stems):
                if len(stems) <= MAX_PINNED_PER_MENTION:
                    m.add(stems, w)  # `repo_map` written as code names repo_map.py
                    m.pin(stems)
                else:
                    m.add(stems, w * 0.3)
        elif word.lower() not in _COMMON:
            key = _lookup(index.prose_stems, fold(word))
            if key:
                stem_keys.add(key)
    for window in _windows(text):
        # "split point" -> split_point / splitPoint; "thumbnail preview" -> ThumbnailPreview.
        joined = fold("".join(window))
        key = _lookup(index.folded, joined)
        if key:
            for name in index.folded[key]:
                if name.startswith("__") and name.endswith("__"):
                    continue  # "get item" is not a request to change __getitem__
                owners = index.definers[name]
                m.add(owners, weight * WINDOW_SHARE)
                m.boost(name, 1.0 + (WINDOW_BOOST - 1.0) / math.sqrt(len(owners)))
        key = _lookup(index.prose_stems, joined)
        if key:
            stem_keys.add(key)
    for key in sorted(stem_keys):
        stems = index.prose_stems[key]
        if stems and not seen_paths.intersection(stems):
            m.add(stems, weight * PROSE_STEM_SHARE)
            m.pin(stems)


def fold(name: str) -> str:
    """Case- and underscore-insensitive key: repo_map, RepoMap and REPOMAP meet."""
    return name.replace("_", "").lower()


def _prose_key(stem: str) -> str:
    """The key prose words meet a file stem under ("" when prose should not name it): case,
    "_" and "-" folded; dotted (foo.test), test-like and generic stems excluded."""
    low = stem.lower()
    key = low.replace("_", "").replace("-", "")
    if (not key.isalnum() or len(key) < 3 or key in _GENERIC_STEMS or key in _COMMON
            or low.startswith("test") or low.endswith(("_test", "-test", "_spec", "-spec"))):
        return ""
    return key


def _singulars(key: str) -> tuple[str, ...]:
    """Conservative plural forms to drop: previews -> preview, entries -> entry,
    boxes -> box; never "ss", "us" or "is" (class, status, analysis)."""
    if len(key) < 5 or not key.endswith("s") or key.endswith(("ss", "us", "is")):
        return ()
    if key.endswith("ies"):
        return (key[:-3] + "y",)
    if key.endswith(("ses", "xes", "zes", "ches", "shes")):
        return (key[:-2], key[:-1])
    return (key[:-1],)


def _lookup(table: Mapping[str, object], key: str) -> str:
    """`key` if `table` has it, else its first singular form that it has, else ""."""
    if key in table:
        return key
    for alt in _singulars(key):
        if alt in table:
            return alt
    return ""


_RUN_GAP = re.compile(r"[ \t]+|[ \t]*-[ \t]*")


def _windows(text: str) -> list[tuple[str, ...]]:
    """Distinct runs of 2..MAX_WINDOW consecutive prose words (lowercased, sorted) that could
    spell one identifier: only spaces or a hyphen between them, no function word among them."""
    found: set[tuple[str, ...]] = set()
    run: list[str] = []
    end = -1
    for match in _WORD.finditer(text):
        word = match.group().lower()
        if end < 0 or not _RUN_GAP.fullmatch(text, end, match.start()):
            run = []
        end = match.end()
        if len(word) < 2 or word in _FUNCTION_WORDS:
            run = []
            continue
        run.append(word)
        for n in range(2, min(MAX_WINDOW, len(run)) + 1):
            window = tuple(run[-n:])
            if sum(map(len, window)) >= MIN_WINDOW_CHARS:
                found.add(window)
    return sorted(found)


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
