"""What skills and custom commands share: where they live, their front matter, and trust.

Project skills (`.agents/skills/*/SKILL.md`, `.claude/skills/*/SKILL.md`) and project commands
(`.agents/commands/*.md`, `.claude/commands/*.md`) are text someone else wrote that goes to the model as instructions, so
they wait for workspace trust like the project's other trust-needing settings: each becomes a
TrustItem (`skill NAME`, `command /NAME`) in the project's trust request, its value carrying a
fingerprint of the files, so the trust dialog and `agent trust --show` list them and any change
to them (a `git pull`, the agent's own edit) makes the project untrusted again. At load time a
project skill or command is used only when the request the user trusted held that exact item.
The user's own (`~/.agents/skills`, `~/.claude/skills`, `~/.agents/commands`,
`~/.claude/commands`) need no trust.
"""
from __future__ import annotations

import hashlib
import re
import os
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping, TypeVar

from realcost_agent.records import record

T = TypeVar("T")

PROJECT_SKILL_DIRS = (".agents/skills", ".claude/skills")
USER_SKILL_DIRS = (".agents/skills", ".claude/skills")  # under the user's home
# .claude/commands too: people arriving from Claude Code bring theirs.
PROJECT_COMMAND_DIRS = (".agents/commands", ".claude/commands")
USER_COMMAND_DIRS = (".agents/commands", ".claude/commands")

MAX_ENTRIES = 200         # skill folders / command files read per directory
MAX_META_BYTES = 64_000   # SKILL.md / command file read for its front matter
MAX_HASH_FILES = 200      # files of one skill folder taken into its fingerprint
MAX_HASH_BYTES = 4 << 20  # bytes per file taken into a fingerprint
MAX_HASH_TOTAL = 16 << 20  # past this, files count by size and mtime (start-up stays fast)


class FrontMatterError(ValueError):
    """Front matter that cannot be read; the message says what is wrong."""


def split_front_matter(text: str) -> tuple[dict[str, Any], str]:
    """(the YAML front matter as a dict, the body). No front matter: ({}, text)."""
    if text.startswith("\ufeff"):
        text = text[1:]
    lines = text.split("\n")
    if not lines or lines[0].strip() != "---":
        return {}, text
    for end in range(1, len(lines)):
        if lines[end].strip() in ("---", "..."):
            break
    else:
        raise FrontMatterError("the front matter opened with --- is never closed")
    import yaml

    try:
        meta = yaml.safe_load("\n".join(lines[1:end])) or {}
    except yaml.YAMLError as exc:
        # Skills written for other tools often carry `description: Use when: ...` unquoted,
        # which strict YAML refuses; flat `key: value` lines are read as such.
        meta = _flat(lines[1:end])
        if meta is None:
            mark = getattr(exc, "problem_mark", None)
            where = f" (line {mark.line + 2})" if mark is not None else ""
            raise FrontMatterError(f"invalid YAML front matter{where}: "
                                   f"{getattr(exc, 'problem', None) or exc}") from None
    if not isinstance(meta, dict):
        raise FrontMatterError("the front matter is not a mapping of `key: value` lines")
    return {str(k): v for k, v in meta.items()}, "\n".join(lines[end + 1:]).lstrip("\n")


_FLAT = re.compile(r"^([A-Za-z][\w-]*):[ \t]+(\S.*)$")


def _flat(lines: list[str]) -> dict[str, Any] | None:
    """Front matter of single-line `key: value` entries only (values taken verbatim), or None."""
    meta: dict[str, Any] = {}
    for line in lines:
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        match = _FLAT.match(line.rstrip())
        if match is None or match.group(2)[0] in "[{\"'|>&*!%@`":
            return None  # meant as YAML (a list, a quote, a block) and broken: say so
        meta[match.group(1)] = match.group(2).strip()
    return meta


def read_text(path: Path, limit: int = MAX_META_BYTES) -> str:
    with open(path, "rb") as fh:
        data = fh.read(limit + 1)
    if len(data) > limit:
        raise FrontMatterError(f"the file is over {limit:,} bytes")
    return data.decode("utf-8", errors="replace")


def home(env: Mapping[str, str] | None) -> Path:
    env = os.environ if env is None else env
    return Path(env.get("HOME") or os.path.expanduser("~"))


def inside(base: Path, path: Path) -> bool:
    """Whether the real location of `path` is inside the real location of `base`."""
    try:
        Path(os.path.realpath(path)).relative_to(os.path.realpath(base))
    except ValueError:
        return False
    return True


@record(frozen=True)
class Place:
    """A directory that may hold skills or commands."""

    path: Path      # as found (e.g. <root>/.agents/skills)
    scope: str      # "project" | "user"
    label: str      # how messages name it: ".agents/skills" or "~/.agents/skills"


def places(root: Path, env: Mapping[str, str] | None, project_dirs: tuple[str, ...],
           user_dirs: tuple[str, ...], problems: list[str]) -> list[Place]:
    """The user's directories first (their names win over a project's), then the project's.
    A project directory whose real location leaves the project (a symlinked `.agents`) is
    refused with a line in `problems`."""
    out = [Place(home(env) / d, "user", f"~/{d}") for d in user_dirs]
    root = Path(os.path.realpath(root))
    for d in project_dirs:
        path = root / d
        if not os.path.lexists(path):
            continue
        if not inside(root, path) or Path(os.path.realpath(path)).relative_to(root).parts[:1] == (".git",):
            problems.append(f"{d} refused: it leads outside the project ({os.path.realpath(path)})")
            continue
        out.append(Place(path, "project", d))
    return [p for p in out if p.path.is_dir()]


def collect(root: Path, env: Mapping[str, str] | None, project_dirs: tuple[str, ...],
            user_dirs: tuple[str, ...], problems: list[str], scopes: tuple[str, ...],
            read: Callable[[os.DirEntry[str], Place, Path, list[str]], T | None]) -> list[T]:
    """Every entry of the `scopes`' places that `read(entry, place, root, problems)` accepts,
    user places first (skills and custom commands: agent/skills.py, agent/commands_md.py)."""
    root = Path(os.path.realpath(root))
    found: list[T] = []
    for place in places(root, env, project_dirs, user_dirs, problems):
        if place.scope in scopes:
            for entry in entries(place, problems):
                item = read(entry, place, root, problems)
                if item is not None:
                    found.append(item)
    return found


def entries(place: Place, problems: list[str]) -> Iterator[os.DirEntry[str]]:
    try:
        with os.scandir(place.path) as it:
            found = sorted(it, key=lambda e: e.name)
    except OSError as exc:
        problems.append(f"{place.label} not read: {exc.strerror or exc}")
        return
    if len(found) > MAX_ENTRIES:
        problems.append(f"{place.label}: only the first {MAX_ENTRIES} of {len(found)} entries are read")
    yield from found[:MAX_ENTRIES]


def fingerprint(base: Path, files: list[Path]) -> str:
    """sha256 over the files' relative names and bytes (symlinks by their target text)."""
    h = hashlib.sha256()
    budget = MAX_HASH_TOTAL
    for path in sorted(files)[:MAX_HASH_FILES]:
        h.update(os.fsencode(os.path.relpath(path, base)) + b"\0")
        try:
            if path.is_symlink():
                h.update(b"->" + os.fsencode(os.readlink(path)))
            elif budget <= 0:
                st = path.stat()
                h.update(f"{st.st_size}:{st.st_mtime_ns}".encode())
            else:
                with open(path, "rb") as fh:
                    data = fh.read(min(MAX_HASH_BYTES, budget))
                budget -= len(data)
                h.update(data)
        except OSError:
            h.update(b"?")
        h.update(b"\0")
    return h.hexdigest()


def tree_files(folder: Path) -> list[Path]:
    """Files under a folder, symlinks listed but never followed, at most MAX_HASH_FILES."""
    out: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = sorted(d for d in dirnames if d != ".git")
        for name in sorted(filenames) + [d for d in dirnames if os.path.islink(os.path.join(dirpath, d))]:
            out.append(Path(dirpath) / name)
            if len(out) >= MAX_HASH_FILES:
                return out
    return out


def item_value(description: str, digest: str) -> str:
    """What a trust item shows and is trusted for: the description and the files' fingerprint."""
    text = " ".join(description.split())
    text = text if len(text) <= 120 else text[:119] + "…"
    return f"{text} [sha256:{digest[:16]}]"


# -- trust ---------------------------------------------------------------------------------------
def project_trust_items(root: Path, env: Mapping[str, str] | None = None) -> list[Any]:
    """TrustItems for the project's skills and commands (agent.trust.build_request adds them)."""
    from realcost_agent.agent.commands_md import project_command_items
    from realcost_agent.agent.skills import project_skill_items

    return [*project_skill_items(root, env), *project_command_items(root, env)]


def trusted_items(settings: Any) -> frozenset[tuple[str, Any]]:
    """(key, value) of the items in the trust request the user trusted; empty when the project's
    trust-needing settings were not applied or the settings did not come from load_settings."""
    outcome = getattr(settings, "project_trust", None)
    if outcome is None or not outcome.applied:
        return frozenset()
    # Skill and command items carry text; other settings (rules: a list) are not looked up here.
    return frozenset((item.key, item.value) for item in outcome.request.items
                     if isinstance(item.value, str))
