"""`agent undo`: restore the project's files to a checkpoint of a session of this project.

    agent undo                 the state before the last session's last turn
    agent undo --list          the session's checkpoints
    agent undo --session ID --checkpoint N
    agent undo --index         also put back what was staged (git add) at that checkpoint

Checkpoints live in the agent's data directory (one shadow repository per project), so this
works even after the project's .git was reset, cleaned, stripped of refs or deleted.
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
    parser.add_argument("--checkpoint", type=int, metavar="N", help="checkpoint number (default: "
                        "the first of the last turn)")
    parser.add_argument("--list", action="store_true", help="list the checkpoints and exit")
    parser.add_argument("--index", action="store_true", help="also restore the staged state")
    args = parser.parse_args(argv)

    from realcost_agent.agent.checkpoints import CheckpointError, Checkpoints, latest_session, legacy_refs
    from realcost_agent.tools.paths import data_dir
    from realcost_agent.tools.childenv import scrubbed_env

    root = (Path(args.cd).expanduser() if args.cd else Path.cwd()).resolve()
    env = scrubbed_env(os.environ)
    try:
        session_id = args.session or latest_session(root, data_dir=data_dir(), env=env)
        if session_id is None:
            print(f"agent undo: no checkpoints for {root} in {data_dir()}: nothing to undo",
                  file=sys.stderr)
            if legacy_refs(root):
                print("agent undo: this project's .git holds checkpoints of an older version "
                      "(refs/agent/checkpoints/); restore one with git if you need it",
                      file=sys.stderr)
            return 2
        cps = Checkpoints(root, session_id, data_dir=data_dir(), env=env)
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
        report = cps.restore(target, index=args.index)
    except (CheckpointError, OSError) as exc:
        print(f"agent undo: restore failed: {exc}", file=sys.stderr)
        return 1
    print(f"restored checkpoint {target.id} ({target.label}) of session {session_id}: "
          f"{len(report.restored)} restored, {len(report.created)} recreated, "
          f"{len(report.deleted)} removed"
          + (f"; {len(report.skipped)} skipped: {', '.join(report.skipped[:5])}" if report.skipped else ""))
    if report.not_saved:
        shown = ", ".join(report.not_saved[:5])
        more = f" and {len(report.not_saved) - 5} more" if len(report.not_saved) > 5 else ""
        print(f"not in the checkpoint, left as they are: {shown}{more}")
    if args.index:
        print("staged state restored" if report.index_restored
              else f"staged state not restored: {report.index_note}")
    if report.backup_note:
        print(report.backup_note)
    if report.backup is not None:
        print(f"the state before this undo is checkpoint {report.backup.id}: "
              f"`agent undo --checkpoint {report.backup.id}` brings it back")
    return 0
