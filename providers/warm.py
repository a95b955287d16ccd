"""The HTTP client, imported cheaper and off the critical path (issue 19: launch speed).

Two things, both about `httpx`, which is most of the import time before the first request:

* `without_httpx_cli()`: httpx's `__init__` imports its command-line client (`httpx._main`),
  which pulls in click, rich and pygments: about a third of httpx's import time, for a CLI this
  process never runs. Marking that one module missing while httpx loads makes httpx fall back to
  its own stub `main` (its documented behaviour when the CLI extras are absent); the mark is
  removed right after, so anything that later wants `httpx._main` imports it normally.
* `start_background_import()`: the headless front-end starts importing the provider (and
  building httpx's default TLS context) in a thread at launch, so the import runs while the main thread waits on its git processes, files
  and sockets (config, journal, repo map, git status). The first request then finds it loaded.
  Only this project's provider module and its third-party client are imported there: the
  project's module graph has no cycle (tests/unit/test_import_graph.py), so the two threads
  always take import locks in the same order. A failure is ignored: the main thread imports
  the module itself when it needs it and sees the real error then.
"""
from __future__ import annotations

import sys
import threading
from contextlib import contextmanager
from typing import Any, Iterator

PROVIDER_MODULE = "realcost_agent.providers.openai_compat"


@contextmanager
def without_httpx_cli() -> Iterator[None]:
    if "httpx" in sys.modules or "httpx._main" in sys.modules:
        yield  # already loaded (by litellm, a test, the TUI): nothing to save
        return
    sys.modules["httpx._main"] = None  # type: ignore[assignment] - "import fails": ImportError
    try:
        yield
    finally:
        if sys.modules.get("httpx._main", 0) is None:
            del sys.modules["httpx._main"]


_ssl_lock = threading.Lock()
_ssl_context: list = []  # the process's one default TLS context, once built


def _import_provider(tls: bool = True) -> None:
    try:
        __import__(PROVIDER_MODULE)
        import httpx

        # What the first request would import next, on the main thread: httpx loads httpcore
        # only when the first client is built, and httpcore's first lock loads anyio's asyncio
        # backend (anyio loads its parts lazily, on attribute access).
        import anyio
        import httpcore  # noqa: F401

        getattr(anyio, "Lock", None)
        __import__("anyio._backends._asyncio")

        # The TLS context the client would build first thing (httpx's own function, same
        # arguments as its default): loading the CA bundle releases the GIL, so it runs beside
        # the main thread instead of inside the first request.
        if tls:
            ssl_context()
    except Exception:  # noqa: BLE001 - the main thread's own import reports it
        pass


def ssl_context() -> Any:
    """The process's one default TLS context (httpx's own, same arguments as its default: the
    certifi bundle, hostname checks, certificates required), built on first use and shared by
    every HTTP client after (the provider, the local-server probe, usage lookups, doctor).
    Loading the CA bundle costs about 45 ms of CPU each time; an SSLContext is safe to share
    between clients and connections. Built ahead in the warm-up thread when there is one."""
    with _ssl_lock:
        if not _ssl_context:
            import httpx

            _ssl_context.append(httpx.create_ssl_context())
        return _ssl_context[0]


def start_background_import(*, tls: bool = True) -> threading.Thread | None:
    """Import the direct provider in a daemon thread, and build the TLS context when `tls`;
    None when it is already loaded."""
    if PROVIDER_MODULE in sys.modules:
        return None
    thread = threading.Thread(target=_import_provider, args=(tls,), name="agent-warm-import",
                              daemon=True)
    thread.start()
    return thread
