"""Project instructions: AGENTS.md (or configured names) at the root and in subdirectories.

Precedence, nearest wins:
- the root's file applies to every path in the project;
- a subdirectory's file applies to the paths under that directory, on top of its ancestors';
- where they disagree, the file nearest to the path wins.

`instructions_for(found, path)` returns the chain that applies to `path`, root first and nearest
LAST, so text read in order ends with the instruction that takes precedence. When several names
are configured and one directory holds more than one, they keep the configured order.
`winning_instructions` is the last of that chain.
"""
from __future__ import annotations

import os
import posixpath
from pathlib import Path
from typing import Sequence

MAX_INSTRUCTIONS_CHARS = 12_000  # per file
MAX_INSTRUCTIONS_TOTAL = 48_000  # all files together: a repo with 1,000 AGENTS.md stays cheap
DEFAULT_NAMES = ("AGENTS.md",)

Instruction = tuple[str, str]  # (root-relative POSIX path, text)


def bad_name(name: object) -> str | None:
    """Why an `instruction_files` entry is refused, or None. Entries are file names (matched in
    every directory) or root-relative paths; nothing may point outside the project."""
    if not isinstance(name, str) or not name.strip():
        return "it is empty"
    if "\x00" in name:
        return "it contains a NUL byte"
    if name.startswith("~") or os.path.isabs(name) or name.startswith("/"):
        return "it is not a path inside the project"
    if ".." in name.replace("\\", "/").split("/"):
        return "it contains `..`"
    return None


def confined(root: Path, rel: str) -> Path:
    """The real path of a project file, with the file tools' confinement (tools/paths.py):
    no escaping symlink, nothing inside .git/. Raises tools.paths.PathError."""
    from realcost_agent.tools.paths import PathError, resolve_in_root

    why = bad_name(rel)
    if why:
        raise PathError(f"{rel!r}: {why}")
    return resolve_in_root(root, rel)


def read_confined(root: Path, rel: str, problems: list[str] | None = None) -> str | None:
    """A project file's text, capped; None (and a line in `problems`) when it may not be read."""
    from realcost_agent.tools.paths import PathError

    try:
        path = confined(root, rel)
    except PathError as exc:
        if problems is not None:
            problems.append(f"instruction file {rel!r} not read: {exc}")
        return None
    if not path.is_file():
        return None
    return _read(path)


def find_instructions(root: str | os.PathLike[str],
                      names: Sequence[str] = DEFAULT_NAMES,
                      problems: list[str] | None = None) -> list[Instruction]:
    """Every instruction file in the project (ignored files left out), shallowest first, then
    by directory, then by the order of `names`. Texts are stripped and capped. Entries and files
    that would leave the project are skipped, with a line for each in `problems`."""
    from realcost_agent.tools.filesets import project_files

    problems = [] if problems is None else problems
    root = Path(os.path.realpath(root))
    wanted: dict[str, int] = {}
    for i, name in enumerate(dict.fromkeys(names)):
        why = bad_name(name)
        if why:
            problems.append(f"instruction_files entry {name!r} refused: {why}")
        else:
            wanted[name.replace("\\", "/").strip("/")] = i
    if not wanted:
        return []
    files, _ = project_files(root)
    # project_files drops symlinks that leave the root; entries given as paths are matched whole.
    matches = {rel for rel in files if posixpath.basename(rel) in wanted or rel in wanted}
    # The root's own files (and path entries) count even when untracked-and-ignored or when git
    # lists nothing; they pass the same confinement below.
    matches.update(name for name in wanted if os.path.lexists(root / name))
    ordered = sorted(matches, key=lambda rel: (_depth(rel), posixpath.dirname(rel),
                                               wanted.get(rel, wanted.get(posixpath.basename(rel), 0))))
    found: list[Instruction] = []
    total = 0
    for rel in ordered:
        text = read_confined(root, rel, problems)
        if text is None:
            continue
        if total + len(text) > MAX_INSTRUCTIONS_TOTAL:
            problems.append(f"instruction file {rel} left out: the instruction files together "
                            f"are over {MAX_INSTRUCTIONS_TOTAL:,} characters")
            continue
        total += len(text)
        found.append((rel, text))
    return found


def instructions_for(found: Sequence[Instruction], path: str) -> list[Instruction]:
    """The instruction files that apply to `path` (root-relative), root first, nearest last."""
    target = _norm(path)
    chain = [(rel, text) for rel, text in found if _applies(posixpath.dirname(rel), target)]
    # `found` is sorted shallowest first, so the chain already runs root -> nearest.
    return chain


def winning_instructions(found: Sequence[Instruction], path: str) -> Instruction | None:
    """The instruction file that takes precedence for `path`: the nearest one, or None."""
    chain = instructions_for(found, path)
    return chain[-1] if chain else None


def scope_of(rel: str) -> str:
    """Human-readable scope of an instruction file: "the whole project" or "files under d/"."""
    directory = posixpath.dirname(rel)
    return "the whole project" if not directory else f"files under {directory}/"


def _applies(directory: str, target: str) -> bool:
    return directory == "" or target == directory or target.startswith(directory + "/")


def _norm(path: str) -> str:
    p = posixpath.normpath(path.replace("\\", "/")).lstrip("/")
    return "" if p == "." else p


def _depth(rel: str) -> int:
    return rel.count("/")


def _read(path: Path) -> str | None:
    try:
        with open(path, "rb") as fh:  # never more than the cap: a 2 GB "AGENTS.md" is refused cheaply
            data = fh.read(MAX_INSTRUCTIONS_CHARS * 4 + 4)
    except OSError:
        return None
    text = data.decode("utf-8", errors="replace")
    if len(text) > MAX_INSTRUCTIONS_CHARS:
        text = text[:MAX_INSTRUCTIONS_CHARS] + "\n[... truncated]"
    return text.strip()
