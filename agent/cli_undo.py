"""`agent undo`: restore the working tree to the last checkpoint of a session of this project.

    agent undo                 the last checkpoint of the last session here
    agent undo --list          the session's checkpoints
    agent undo --session ID --checkpoint N
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="agent undo", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-C", "--cd", metavar="DIR", help="project directory (default: current)")
    parser.add_argument("--session", metavar="ID", help="session id (default: the last one here)")
    parser.add_argument("--checkpoint", type=int, metavar="N", help="checkpoint number (default: last)")
    parser.add_argument("--list", action="store_true", help="list the checkpoints and exit")
    args = parser.parse_args(argv)

    from agent.checkpoints import CheckpointError, Checkpoints
    from agent.journal import latest_session_id
    from agent.paths import data_dir
    from agent.policy import scrubbed_env

    root = (Path(args.cd).expanduser() if args.cd else Path.cwd()).resolve()
    session_id = args.session or latest_session_id(root)
    if session_id is None:
        print(f"agent undo: no session in {root}: nothing to undo", file=sys.stderr)
        return 2
    try:
        cps = Checkpoints(root, session_id, data_dir=data_dir(), env=scrubbed_env(os.environ))
        points = cps.list()
    except (CheckpointError, OSError) as exc:
        print(f"agent undo: {exc}", file=sys.stderr)
        return 2
    if args.list:
        for p in points:
            print(f"{p.id:>3}  {p.label}  ({p.files} files)")
        return 0
    target = cps.undo_target(args.checkpoint)
    if target is None:
        print(f"agent undo: session {session_id} has no checkpoint to restore", file=sys.stderr)
        return 2
    try:
        report = cps.restore(target)
    except (CheckpointError, OSError) as exc:
        print(f"agent undo: restore failed: {exc}", file=sys.stderr)
        return 1
    print(f"restored checkpoint {target.id} ({target.label}) of session {session_id}: "
          f"{len(report.restored)} restored, {len(report.created)} recreated, "
          f"{len(report.deleted)} removed"
          + (f"; {len(report.skipped)} skipped: {', '.join(report.skipped[:5])}" if report.skipped else ""))
    if report.backup is not None:
        print(f"the state before this undo is checkpoint {report.backup.id}: "
              f"`agent undo --checkpoint {report.backup.id}` brings it back")
    return 0
