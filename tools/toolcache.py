"""The built-in tools' names and schemas without importing the tools (issue 19: launch speed).

The first request needs only the tool schemas (JSON), but building them imports every tool
module and pydantic: most of the time before the first request once httpx is off the path. So
the schemas are cached on disk (the data dir's cache/), keyed by what they are made from: every
source file of this package (name, size, mtime), pydantic's version file and the Python version.
A key that does not match, or no cache, means building them the normal way and writing the cache.

`LazyToolRegistry` is a ToolRegistry whose names and schemas come from that cache; the tools
themselves load on first use, or ahead in a background thread (`load_in_background`), which
the session starts once its first request has left, so they load while the model thinks and
never compete with the request for the CPU. Loading them also re-checks the cache against the
live schemas and rewrites it if they differ: what the model is sent is what the tools validate.
"""
from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import sys
import threading
from pathlib import Path
from typing import Any, Callable

from realcost_agent.tools.base import Tool
from realcost_agent.tools.registry import ToolRegistry, resolve_tool_name

CACHE_FILE = "tool-schemas.json"
_PACKAGE = Path(__file__).resolve().parent


def cache_key() -> str:
    """What the schemas are made from: this package's sources, pydantic, Python."""
    h = hashlib.sha256(sys.version.encode())
    for dirpath, dirnames, filenames in os.walk(_PACKAGE):
        dirnames[:] = sorted(d for d in dirnames if d != "__pycache__")
        for name in sorted(filenames):
            if name.endswith(".py"):
                st = os.stat(os.path.join(dirpath, name))
                h.update(f"{dirpath}/{name}:{st.st_size}:{st.st_mtime_ns}\n".encode())
    spec = importlib.util.find_spec("pydantic")  # finds, does not import
    if spec is not None and spec.origin:
        version = Path(spec.origin).with_name("version.py")
        try:
            st = version.stat()
            h.update(f"{version}:{st.st_size}:{st.st_mtime_ns}".encode())
        except OSError:
            h.update(spec.origin.encode())
    return h.hexdigest()


def read_cache(cache_dir: Path, key: str) -> tuple[list[str], list[dict[str, Any]]] | None:
    try:
        data = json.loads((cache_dir / CACHE_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("key") != key:
        return None
    names, schemas = data.get("names"), data.get("schemas")
    if not (isinstance(names, list) and isinstance(schemas, list) and len(names) == len(schemas)):
        return None
    return names, schemas


def write_cache(cache_dir: Path, key: str, names: list[str], schemas: list[dict[str, Any]]) -> None:
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        tmp = cache_dir / f"{CACHE_FILE}.{os.getpid()}.tmp"
        tmp.write_text(json.dumps({"key": key, "names": names, "schemas": schemas}), encoding="utf-8")
        os.replace(tmp, cache_dir / CACHE_FILE)
    except OSError:
        pass  # a cache: without it the next start builds the schemas again


class LazyToolRegistry(ToolRegistry):
    def __init__(self, load: Callable[[], list[Tool]], cache_dir: Path) -> None:
        # No super().__init__: `_tools` is the property below.
        self.unknown_hint: Any = None  # as ToolRegistry: (name) -> str | None, set by MCP
        self._load = load
        self._cache_dir = Path(cache_dir)
        self._key = cache_key()
        self._loaded: dict[str, Tool] | None = None
        self._lock = threading.Lock()
        self._loader: threading.Thread | None = None
        cached = read_cache(self._cache_dir, self._key)
        self._names, self._schemas = cached if cached is not None else (None, None)

    @property
    def loaded(self) -> bool:
        return self._loaded is not None

    @property
    def _tools(self) -> dict[str, Tool]:  # type: ignore[override]
        if self._loaded is None:
            with self._lock:
                if self._loaded is None:
                    tools: dict[str, Tool] = {}
                    for tool in self._load():
                        if tool.name in tools:
                            raise ValueError(f"duplicate tool name {tool.name!r}")
                        tools[tool.name] = tool
                    live = [t.schema() for t in tools.values()]
                    if list(tools) != self._names or live != self._schemas:
                        write_cache(self._cache_dir, self._key, list(tools), live)
                    # Built-in tools' schemas do not change while the process runs: computed
                    # once here, not again on every request.
                    self._names, self._schemas = list(tools), live
                    self._loaded = tools
        return self._loaded

    def names(self) -> list[str]:
        return list(self._names) if self._loaded is None and self._names is not None else list(self._tools)

    def __contains__(self, name: object) -> bool:
        return name in (self._names if self._loaded is None and self._names is not None else self._tools)

    def resolve_name(self, raw: str) -> str | None:
        if self._loaded is None and self._names is not None:
            return resolve_tool_name(raw, self._names)
        return super().resolve_name(raw)

    def schemas(self) -> list[dict[str, Any]]:
        # The cached schemas until the tools load (the session starts that once its first
        # request has left: load_in_background), then the live ones, computed once at the load.
        if self._schemas is None or (self._loaded is not None and len(self._loaded) != len(self._schemas)):
            return super().schemas()  # loaded with no cache, or a tool registered since
        return json.loads(json.dumps(self._schemas))  # a copy: callers may adjust theirs

    def load_in_background(self) -> None:
        """Load the tools in a daemon thread (once); any use before it finishes waits for it."""
        if self._loaded is not None or self._loader is not None:
            return
        self._loader = threading.Thread(target=self._load_quietly, name="agent-tools-load",
                                        daemon=True)
        self._loader.start()

    def _load_quietly(self) -> None:
        try:
            self._tools
        except Exception:  # noqa: BLE001 - the first real use loads again and raises it there
            pass

