"""The on-disk tag cache: one pickle per repository root, keyed by relative path, plus the
directory listings of the last walk (files.DirCache).

An entry is valid while the file's (size, mtime_ns) is unchanged, so a warm build stats files
and reads none. One file (not a database) because loading it whole is the fast path: django's
~1,000 source files load in about 10 ms. Written atomically (temp file + rename) so a crash or
a concurrent agent never leaves a torn cache; a cache that fails to load is simply rebuilt.
"""
from __future__ import annotations

import hashlib
import os
import pickle
import sys
import tempfile
from pathlib import Path
from typing import Any

# Bump when tags.py or queries.py change what a file yields: old entries are then ignored.
FORMAT = 4
# Tags depend on the grammar versions too; a grammar upgrade must invalidate the cache.
_GRAMMAR_PKGS = ("tree_sitter", "tree_sitter_python", "tree_sitter_javascript",
                 "tree_sitter_typescript", "tree_sitter_go", "tree_sitter_rust",
                 "tree_sitter_java", "tree_sitter_c", "tree_sitter_cpp")

# relpath -> (size, mtime_ns, defs, refs); defs/refs as in tags.FileTags, as plain tuples.
CacheEntry = tuple[int, int, tuple, tuple]


def default_cache_dir(root: Path, env: Any = None) -> Path:
    from realcost_agent.tools.paths import data_dir

    digest = hashlib.sha256(str(root).encode("utf-8", "surrogateescape")).hexdigest()[:16]
    return data_dir(env) / "repomap" / digest


def _stamp(root: Path) -> tuple:
    """What the entries depend on besides the files. Grammar packages are identified by their
    installed directory's mtime (a reinstall or upgrade rewrites it); cheaper than reading
    package metadata, which costs ~30 ms in a fresh process."""
    import importlib.util

    installed = []
    for pkg in _GRAMMAR_PKGS:
        try:
            spec = importlib.util.find_spec(pkg)
            origin = spec.origin if spec else None
            installed.append((pkg, os.stat(os.path.dirname(origin)).st_mtime_ns)
                             if origin else (pkg, None))
        except (ImportError, ValueError, OSError):
            installed.append((pkg, None))
    return (FORMAT, sys.version_info[:2], str(root), tuple(installed))


class TagCache:
    def __init__(self, directory: Path, root: Path):
        self.path = Path(directory) / "tags.pickle"
        self.root = root
        self._stamp: tuple | None = None

    def stamp(self) -> tuple:
        if self._stamp is None:
            self._stamp = _stamp(self.root)
        return self._stamp

    def load(self) -> tuple[dict[str, CacheEntry], dict]:
        """(entries, directory listings); both empty when the cache is missing or stale."""
        try:
            with open(self.path, "rb") as f:
                data = pickle.load(f)
        except (OSError, EOFError, pickle.UnpicklingError, AttributeError, ImportError,
                IndexError, TypeError, ValueError, MemoryError):
            return {}, {}
        if not isinstance(data, dict) or data.get("stamp") != self.stamp():
            return {}, {}
        entries, dirs = data.get("entries"), data.get("dirs")
        if not isinstance(entries, dict) or not isinstance(dirs, dict):
            return {}, {}
        return entries, dirs

    def save(self, entries: dict[str, CacheEntry], dirs: dict) -> None:
        """Best effort: a read-only or full disk costs speed next time, never the map."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".tags-", suffix=".tmp")
            try:
                with os.fdopen(fd, "wb") as f:
                    pickle.dump({"stamp": self.stamp(), "entries": entries, "dirs": dirs}, f,
                                protocol=pickle.HIGHEST_PROTOCOL)
                os.replace(tmp, self.path)
            except BaseException:
                os.unlink(tmp)
                raise
        except OSError:
            pass
