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

MAX_INSTRUCTIONS_CHARS = 12_000
DEFAULT_NAMES = ("AGENTS.md",)

Instruction = tuple[str, str]  # (root-relative POSIX path, text)


def find_instructions(root: str | os.PathLike[str],
                      names: Sequence[str] = DEFAULT_NAMES) -> list[Instruction]:
    """Every instruction file in the project (ignored files left out), shallowest first, then
    by directory, then by the order of `names`. Texts are stripped and capped."""
    from tools.filesets import project_files

    root = Path(os.path.realpath(root))
    wanted = {name: i for i, name in enumerate(dict.fromkeys(names))}
    if not wanted:
        return []
    files, _ = project_files(root)
    listed = set(files)
    # The root's own files count even when untracked-and-ignored or when git lists nothing.
    listed.update(name for name in wanted if (root / name).is_file())
    matches = [rel for rel in listed if posixpath.basename(rel) in wanted]
    matches.sort(key=lambda rel: (_depth(rel), posixpath.dirname(rel),
                                  wanted[posixpath.basename(rel)]))
    found: list[Instruction] = []
    for rel in matches:
        text = _read(root / rel)
        if text is not None:
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
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    if len(text) > MAX_INSTRUCTIONS_CHARS:
        text = text[:MAX_INSTRUCTIONS_CHARS] + "\n[... truncated]"
    return text.strip()
