"""When to take a checkpoint before a tool call.

File tools (write_file, edit, apply_patch) change only what they name: one checkpoint before the
first change of a turn is enough, since undo returns to the start of the turn anyway. A command
can change anything, so every run_command gets one unless it is provably read-only; so does any
other mutating tool (when in doubt, checkpoint). A snapshot of an unchanged tree is reused, so
the cost of "in doubt" is one scan of the tree with cached hashes.

"Provably read-only" is deliberately narrow: one simple command, no shell syntax at all (no
redirection, pipes, substitutions, globs, quotes, variables or `;`/`&&`), a program from a short
list of ones that cannot write files, found on PATH outside the project (a planted `./ls` or
`.venv/bin/cat` does not count), and no BASH_ENV/ENV that could run a file first.
"""
from __future__ import annotations

import os
import re
import shutil
from pathlib import Path
from typing import Any, Mapping

FILE_TOOLS = frozenset({"write_file", "edit", "apply_patch"})
# Programs with no option that writes a file or runs another program. Not here on purpose:
# sort/uniq/tree/xxd (write output files), find (-delete, -exec), git (config runs programs),
# env/xargs/nice/timeout (run commands), sed/awk/perl (scripts), rg (--pre runs a program).
READ_ONLY_PROGRAMS = frozenset({
    "ls", "cat", "head", "tail", "wc", "pwd", "echo", "grep", "egrep", "fgrep", "stat", "du",
    "df", "true", "uname", "whoami", "id", "basename", "dirname", "realpath", "readlink", "nl",
    "md5sum", "sha1sum", "sha256sum", "cmp", "diff", "which",
})
_SIMPLE = re.compile(r"[A-Za-z0-9_./:@%+,=\- ]+")
_BUILTINS = frozenset({"pwd", "echo", "true"})


def command_is_read_only(command: str, root: Path, env: Mapping[str, str]) -> bool:
    if env.get("BASH_ENV") or env.get("ENV"):
        return False
    argv = command.split()
    if not argv or not _SIMPLE.fullmatch(command):
        return False
    program = argv[0]
    if program not in READ_ONLY_PROGRAMS or "=" in program:
        return False
    if program in _BUILTINS:
        return True  # bash runs its builtin whatever PATH holds
    path = env.get("PATH", os.defpath)
    if any(not os.path.isabs(p) for p in path.split(os.pathsep)):
        return False  # "." or "bin" would be looked up in the project, where the command runs
    found = shutil.which(program, path=path)
    if found is None:
        return False
    real = os.path.realpath(found)
    root_real = os.path.realpath(root)
    return not (real == root_real or real.startswith(root_real + os.sep))


def checkpoint_kind(tool_name: str, mutating: bool, params: Any, root: Path,
                    env: Mapping[str, str]) -> str | None:
    """None: no checkpoint; "turn": before the turn's first change; "always": before this call."""
    if not mutating:
        return None
    if tool_name in FILE_TOOLS:
        return "turn"
    if tool_name == "run_command":
        command = getattr(params, "command", None)
        if isinstance(command, str) and command_is_read_only(command, root, env):
            return None
    return "always"
