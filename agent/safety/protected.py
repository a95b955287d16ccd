"""Protected paths: files whose change would change what the agent is allowed to do next time.

    .agent/            the project's agent config (approval mode, rules, checks, sandbox...)
    AGENTS.md          instruction files anywhere (and the names in `instruction_files`): they
                       go into the system prompt and carry the `## Check` command
    .git/              hooks, fsmonitor, filters: programs git runs later
    .env*              secrets and direnv's .envrc (a program the shell runs)
    the agent's own config and data directories (user config, ledger, journals, checkpoints)

A write to one of them by any tool (edit, write_file, apply_patch, any later writer: decided from
the paths in the call's arguments, see `touched_paths`) is always asked in the TUI, even in
full-auto and for a tool approved for the session, and denied headless, unless an allow rule
*names* the path: its pattern matches the path and spells out the protected part (`.env.example`,
`.agent/notes/*`); a bare `*` does not count. Commands are not judged here: the sandbox keeps
`.git/` and `.agent/` read-only for them (agent/safety/sandbox.py).
"""
from __future__ import annotations

import fnmatch
import os
from dataclasses import field
from pathlib import Path
from typing import Any, Iterable, Mapping

from realcost_agent.records import record
from realcost_agent.tools.patch_parser import patch_paths

# Argument names that hold a path a tool writes (any future writer using them is covered).
_PATH_KEYS = ("path", "paths", "file", "files", "file_path", "filename", "target", "dest",
              "destination", "new_path", "old_path", "source", "src", "to", "from")
_DIRS = (".agent", ".git")


@record(frozen=True)
class Hit:
    path: str  # as shown: project-relative, or absolute outside the project
    part: str  # the protected part, e.g. ".agent" or "AGENTS.md" or a directory
    why: str

    def describe(self) -> str:
        return f"protected path {self.path} ({self.why})"


@record(frozen=True)
class ProtectedPaths:
    root: Path
    instruction_names: tuple[str, ...] = ("AGENTS.md",)
    # Absolute directories (the agent's data and config dirs) and files that are protected.
    outside: tuple[tuple[Path, str], ...] = field(default_factory=tuple)

    def check(self, path: str) -> Hit | None:
        """The protected part `path` (project-relative or absolute) falls in, or None."""
        if not isinstance(path, str) or not path.strip() or "\x00" in path:
            return None
        root = Path(os.path.realpath(self.root))
        raw = Path(os.path.expanduser(path)) if path.startswith("~") else Path(path)
        lexical = Path(os.path.normpath(raw if raw.is_absolute() else root / raw))
        real = Path(os.path.realpath(lexical))
        # Both spellings count: a symlink `notes -> .agent` writes .agent/ through its real
        # path, and a link that points out of `.git/` is still written by name.
        for candidate in (real, lexical):
            hit = self._check_abs(root, candidate)
            if hit is not None:
                return hit
        return None

    def _check_abs(self, root: Path, p: Path) -> Hit | None:
        for base, why in self.outside:
            try:
                p.relative_to(base)
            except ValueError:
                continue
            return Hit(str(p), str(base), why)
        try:
            rel = p.relative_to(root)
        except ValueError:
            return None
        shown = rel.as_posix()
        names = {n.casefold() for n in self.instruction_names} | {"agents.md"}
        rel_names = {n.replace(os.sep, "/").strip("/").casefold() for n in self.instruction_names}
        for part in rel.parts[:-1]:
            if part.casefold() in _DIRS:
                return Hit(shown, part, _WHY[part.casefold()])
        name = rel.name.casefold() if rel.parts else ""
        if name in _DIRS:
            return Hit(shown, rel.name, _WHY[name])
        if name.startswith(".env"):
            return Hit(shown, rel.name, "environment and secrets file")
        if name in names or shown.casefold() in rel_names:
            return Hit(shown, rel.name, "instruction file: it goes into the system prompt")
        return None

    def hits(self, paths: Iterable[str]) -> list[Hit]:
        out = []
        for p in paths:
            hit = self.check(p)
            if hit is not None and hit not in out:
                out.append(hit)
        return out


_WHY = {".agent": "the project's agent config", ".git": "git's config and hooks"}


def protected_paths(root: Path | str, instruction_files: Iterable[str] = ("AGENTS.md",),
                    env: Mapping[str, str] | None = None) -> ProtectedPaths:
    """The protected set for a project: its own files plus the agent's config and data dirs."""
    from realcost_agent.agent.config import user_config_path
    from realcost_agent.tools.paths import data_dir

    outside: list[tuple[Path, str]] = []
    for base, why in ((data_dir(env), "the agent's data directory"),
                      (user_config_path(env).parent, "the agent's user config directory")):
        base = Path(os.path.realpath(base))
        real_root = Path(os.path.realpath(root))
        if real_root == base or base in real_root.parents:
            continue  # a project inside the data dir: its own files are judged by name only
        outside.append((base, why))
    names = tuple(dict.fromkeys(["AGENTS.md", *(os.path.basename(n) for n in instruction_files),
                                 *instruction_files]))
    return ProtectedPaths(Path(os.path.realpath(root)), names, tuple(outside))


def touched_paths(tool_name: str, args: Any) -> list[str]:
    """Every path a (non-command) tool call names in its arguments: the patch's file headers
    for apply_patch, else the string (or list of strings) values of path-like arguments."""
    if hasattr(args, "model_dump"):
        args = args.model_dump()
    if not isinstance(args, Mapping):
        return []
    out: list[str] = []
    patch = args.get("patch")
    if isinstance(patch, str):
        out += patch_paths(patch)  # the patch parser's own reading of its headers
    for key, value in args.items():
        if key.lower() not in _PATH_KEYS and not key.lower().endswith(("_path", "_paths", "_file")):
            continue
        values = value if isinstance(value, (list, tuple)) else [value]
        out += [v for v in values if isinstance(v, str)]
    return out


def rule_names(pattern: str, hit: Hit) -> bool:
    """An allow rule covers a protected path only when it matches it AND spells out the
    protected part: `.agent/*` names .agent/config.toml, `*` does not."""
    subject = hit.path
    return (fnmatch.fnmatchcase(subject, pattern)
            and hit.part.casefold() in pattern.casefold())
