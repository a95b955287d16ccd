"""`agent trust [PATH]`: review and trust a project's own settings (agent/trust.py).

    agent trust [PATH]           show what PATH's project asks for, then trust exactly that
    agent trust --show [PATH]    only show it, and whether it is trusted now
    agent trust --revoke [PATH]  forget the decision: its settings are ignored again
    agent trust --list           every remembered decision, and whether it still matches

Trust is remembered per real path with a digest of the settings; when they change (a pull, an
edit by the agent), the project is untrusted again until trusted anew.
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Mapping, Sequence, TextIO

EXIT_OK, EXIT_USAGE = 0, 2

_STATUS = {
    "none": "asks for nothing that needs trust",
    "trusted": "trusted",
    "untrusted": "not trusted",
    "changed": "NOT trusted: its settings changed since you trusted it",
    "denied": "not trusted (you chose not to)",
}


def request_for(root: Path, env: Mapping[str, str] | None = None):  # noqa: ANN201 - TrustRequest
    """What the project at `root` asks for, exactly as a run would see it."""
    from realcost_agent.agent.config import load_settings

    settings = load_settings(root, env=env, warnings=[], trust=False)
    return settings.project_trust.request


def _show(request, status: str, out: TextIO) -> None:  # noqa: ANN001
    out.write(f"{request.root}: {_STATUS.get(status, status)}\n")
    for item in request.items:
        out.write(f"  {item.line(200)}   [{item.source}]\n")


def main(argv: Sequence[str], *, env: Mapping[str, str] | None = None,
         out: TextIO | None = None, err: TextIO | None = None) -> int:
    from realcost_agent.agent.config import ConfigError
    from realcost_agent.agent.trust import TrustStore

    out = out or sys.stdout
    err = err or sys.stderr
    parser = argparse.ArgumentParser(prog="agent trust", description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog=__doc__.split("\n\n", 1)[1])
    what = parser.add_mutually_exclusive_group()
    what.add_argument("--revoke", action="store_true", help="forget the decision for PATH")
    what.add_argument("--list", action="store_true", help="list remembered decisions")
    what.add_argument("--show", action="store_true", help="show what PATH asks for; change nothing")
    parser.add_argument("path", nargs="?", default=".", help="project directory (default: current)")
    args = parser.parse_args(list(argv))
    store = TrustStore.default(env)
    if args.list:
        entries = store.load()
        if not entries:
            out.write(f"no trusted projects ({store.path})\n")
        for root, entry in sorted(entries.items()):
            state = entry.get("decision", "?")
            if not Path(root).is_dir():
                state += " · the directory is gone"
            else:
                try:
                    now = store.status(request_for(Path(root), env))
                except ConfigError as exc:
                    now = f"unreadable config: {exc}"
                if now in ("changed", "untrusted") and state.startswith("trusted"):
                    state += " · settings changed since: not applied"
            out.write(f"{root}: {state} ({entry.get('at', '')})\n")
        return EXIT_OK
    root = Path(args.path).expanduser()
    if not root.is_dir():
        err.write(f"agent trust: error: {root} is not a directory\n")
        return EXIT_USAGE
    root = Path(os.path.realpath(root))
    if args.revoke:
        removed = store.revoke(str(root))
        out.write(f"{root}: {'trust revoked' if removed else 'nothing was remembered'}; its "
                  "settings that need trust are ignored\n")
        return EXIT_OK
    try:
        request = request_for(root, env)
    except ConfigError as exc:
        err.write(f"agent trust: error: {exc}\n")
        return EXIT_USAGE
    status = store.status(request)
    _show(request, status, out)
    if args.show or request.empty:
        return EXIT_OK
    store.record(request, "trusted")
    out.write(f"trusted: these {len(request.items)} setting(s) now apply in {root}; any change to "
              "them makes the project untrusted again\n")
    return EXIT_OK
