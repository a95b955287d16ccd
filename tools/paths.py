"""Path confinement shared by every file tool.

A path is accepted only when its real location (symlinks resolved, including dangling ones and
targets that do not exist yet) lies inside the project root and outside `.git/`.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Mapping


NAME_MAX = 255  # bytes per path component (Linux, macOS)
PATH_MAX = 4095  # bytes for a whole path (Linux PATH_MAX 4096 includes the NUL)


class PathError(ValueError):
    """A path the model asked for that is not allowed; the message is meant for the model."""


def resolve_in_root(root: Path, path: str, *, allow_git: bool = False) -> Path:
    if not isinstance(path, str) or not path.strip():
        raise PathError("path is empty")
    if "\x00" in path:
        raise PathError("path contains a NUL byte")
    try:
        path.encode("utf-8")
    except UnicodeEncodeError:
        raise PathError("path is not valid text (it contains a lone surrogate)") from None
    root = Path(os.path.realpath(root))
    raw = Path(os.path.expanduser(path)) if path.startswith("~") else Path(path)
    candidate = raw if raw.is_absolute() else root / raw
    # realpath resolves every symlink that exists, even a dangling one's target, and keeps the
    # non-existent tail as written, so a file about to be created is judged by where it will land.
    real = Path(os.path.realpath(candidate))
    try:
        rel = real.relative_to(root)
    except ValueError:
        raise PathError(
            f"{path!r} is outside the project root {root}; use a path inside the project"
        ) from None
    if not allow_git and rel.parts and rel.parts[0] == ".git":
        raise PathError(f"{path!r} is inside .git/, which the agent may not touch")
    # Checked here, once: otherwise every tool's exists()/is_dir() raises ENAMETOOLONG.
    if any(len(os.fsencode(part)) > NAME_MAX for part in rel.parts):
        raise PathError(f"{_short(path)}: File name too long (a name over {NAME_MAX} bytes)")
    if len(os.fsencode(str(real))) > PATH_MAX:
        raise PathError(f"{_short(path)}: File name too long (the path is over {PATH_MAX} bytes)")
    return real


def _short(path: str) -> str:
    return repr(path) if len(path) <= 80 else repr(path[:60] + "...")


def display(root: Path, path: Path) -> str:
    """Repo-relative POSIX path for messages and metadata."""
    try:
        return Path(os.path.realpath(path)).relative_to(os.path.realpath(root)).as_posix()
    except ValueError:
        return str(path)


def data_dir(env: Mapping[str, str] | None = None) -> Path:
    """Where the agent keeps its own files (never inside the user's repository)."""
    env = os.environ if env is None else env
    if env.get("AGENT_DATA_HOME"):
        return Path(env["AGENT_DATA_HOME"])
    import platformdirs

    return Path(platformdirs.user_data_dir("agent"))
