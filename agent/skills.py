"""Skills: folders with a SKILL.md (Agent Skills format) the model loads when a task needs them.

    ~/.agents/skills/NAME/SKILL.md, ~/.claude/skills/NAME/SKILL.md    the user's own
    .agents/skills/NAME/SKILL.md, .claude/skills/NAME/SKILL.md        the project's (need trust)

SKILL.md starts with YAML front matter: `name` (lowercase letters, digits and hyphens, at most
64 characters; the folder's name when absent) and `description` (what it does and when to use
it). The system prompt lists each skill's name and description, capped (MAX_LISTED skills,
MAX_DESC_CHARS each), and the read-only `skill` tool (tools/skill.py) returns a skill's body and
the files beside it on demand. A tool rather than read_file: the user's skills live outside the
project, where read_file may not go, and one door lets every read be confined to the skill's own
folder (no `..`, no symlink out of it) whichever scope the skill comes from.

A user's skill wins over a project's of the same name: a repository cannot replace it.
"""
from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any, Mapping

from realcost_agent.agent import extensions as ext
from realcost_agent.records import record
from realcost_agent.tools.errors import SkillError  # raised here, caught by the tool

NAME_RE = re.compile(r"^[a-z0-9](?:[a-z0-9]|-(?!-))*$")
MAX_NAME = 64
MAX_DESCRIPTION = 1024   # the format's own limit
MAX_DESC_CHARS = 160     # what the prompt shows of a description (it is paid on every request)
# Skills listed with their description: 20 keeps the system prompt and every tool schema within
# the 2,000-token budget (bench/skills_bench.py); more are named only, then counted.
MAX_LISTED = 20
MAX_NAMES_ONLY = 40
MAX_BODY_CHARS = 40_000  # a SKILL.md body or one of its files, as returned to the model
MAX_FILES_SHOWN = 50


@record(frozen=True)
class Skill:
    name: str
    description: str
    folder: Path   # real path of the skill's folder
    scope: str     # "user" | "project"
    label: str     # ".agents/skills/pdf" or "~/.agents/skills/pdf", for messages
    digest: str    # fingerprint of the folder's files (what trust is given for)

    @property
    def trust_key(self) -> str:
        return f"skill {self.name}"

    @property
    def trust_value(self) -> str:
        return ext.item_value(self.description, self.digest)


def _read_skill(entry: os.DirEntry[str], place: ext.Place, root: Path,
                problems: list[str]) -> Skill | None:
    label = f"{place.label}/{entry.name}"
    folder = Path(entry.path)
    try:
        if not entry.is_dir():  # follows a symlink: a user may link a skill from elsewhere
            return None
    except OSError:
        return None
    if place.scope == "project" and not ext.inside(root, folder):
        problems.append(f"skill {label} refused: it is a link to {os.path.realpath(folder)}, "
                        "outside the project")
        return None
    real = Path(os.path.realpath(folder))
    skill_md = folder / "SKILL.md"
    if not os.path.lexists(skill_md):
        return None  # a folder of shared files, not a skill
    if not ext.inside(real, skill_md):
        problems.append(f"skill {label} refused: its SKILL.md leads outside the skill's folder")
        return None
    try:
        meta, _ = ext.split_front_matter(ext.read_text(skill_md))
    except (ext.FrontMatterError, OSError) as exc:
        problems.append(f"skill {label}/SKILL.md ignored: {_why(exc)}")
        return None
    name = meta.get("name", entry.name)
    description = meta.get("description")
    if not isinstance(name, str) or not NAME_RE.match(name) or len(name) > MAX_NAME:
        problems.append(f"skill {label}/SKILL.md ignored: name {name!r} is not 1-{MAX_NAME} "
                        "lowercase letters, digits and single hyphens")
        return None
    if not isinstance(description, str) or not description.strip():
        problems.append(f"skill {label}/SKILL.md ignored: it has no `description` (the model "
                        "reads it to know when to use the skill)")
        return None
    description = " ".join(description.split())
    if len(description) > MAX_DESCRIPTION:
        problems.append(f"skill {label}: description over {MAX_DESCRIPTION} characters, cut")
        description = description[:MAX_DESCRIPTION]
    if name != entry.name:
        problems.append(f"skill {label}: its name {name!r} differs from its folder's; "
                        f"it is listed as {name!r}")
    # What trust is given for: only a project's skills need it (the user's are read as they are).
    digest = ext.fingerprint(folder, ext.tree_files(folder)) if place.scope == "project" else ""
    return Skill(name, description, real, place.scope, label, digest)


def _why(exc: Exception) -> str:
    return exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)


def scan(root: Path, env: Mapping[str, str] | None, problems: list[str],
         scopes: tuple[str, ...] = ("user", "project")) -> list[Skill]:
    """Every well-formed skill, user ones first; malformed ones are described in `problems`."""
    return ext.collect(root, env, ext.PROJECT_SKILL_DIRS, ext.USER_SKILL_DIRS, problems, scopes,
                       _read_skill)


def project_skill_items(root: Path, env: Mapping[str, str] | None = None) -> list[Any]:
    """The trust items for the project's skills (see agent/extensions.py)."""
    from realcost_agent.agent.trust import TrustItem

    seen: set[str] = set()
    items = []
    for skill in scan(root, env, [], scopes=("project",)):
        if skill.name not in seen:
            seen.add(skill.name)
            items.append(TrustItem(skill.trust_key, skill.trust_value, f"{skill.label}/SKILL.md",
                                   "instructions the model may load"))
    return items


class SkillCatalog:
    def __init__(self, skills: list[Skill]) -> None:
        self.skills = {s.name: s for s in sorted(skills, key=lambda s: s.name)}

    def __len__(self) -> int:
        return len(self.skills)

    def names(self) -> list[str]:
        return list(self.skills)

    def prompt_section(self) -> str:
        """The system prompt's list of skills; '' when there are none. The first MAX_LISTED
        with their descriptions, then up to MAX_NAMES_ONLY more by name (a few tokens each)."""
        if not self.skills:
            return ""
        lines = ["Skills: when a task matches one, call skill(name) first and follow it; "
                 "skill(name, file) reads its files."]
        listed = list(self.skills.values())
        for skill in listed[:MAX_LISTED]:
            lines.append(f"- {skill.name}: {_cut(skill.description, MAX_DESC_CHARS)}")
        rest = listed[MAX_LISTED:]
        if rest:
            names = ", ".join(s.name for s in rest[:MAX_NAMES_ONLY])
            more = f" and {len(rest) - MAX_NAMES_ONLY} more" if len(rest) > MAX_NAMES_ONLY else ""
            lines.append(f"- also (skill() describes them): {names}{more}")
        return "\n".join(lines)

    def listing(self) -> str:
        if not self.skills:
            return "no skills are available"
        return "\n".join(f"{s.name}: {s.description}" for s in self.skills.values())

    def _get(self, name: str) -> Skill:
        skill = self.skills.get(name.strip())
        if skill is None:
            known = ", ".join(self.skills) or "none"
            raise SkillError(f"no skill named {name!r}; available: {known}")
        return skill

    def body(self, name: str) -> str:
        """The skill's instructions (SKILL.md without its front matter) and its other files."""
        skill = self._get(name)
        text = self._read(skill, "SKILL.md")
        try:
            _, body = ext.split_front_matter(text)
        except ext.FrontMatterError as exc:
            raise SkillError(f"skill {name}: {exc}") from None
        files = [p for p in _files(skill.folder) if p != "SKILL.md"]
        out = [f"# Skill {skill.name} ({skill.label})", body.strip()]
        if files:
            shown = files[:MAX_FILES_SHOWN]
            more = f" (+{len(files) - len(shown)} more)" if len(files) > len(shown) else ""
            out += ["", f"Files in this skill (read one with skill(name={skill.name!r}, file=...)):"
                    f"{more}", *(f"- {p}" for p in shown)]
        return "\n".join(out)

    def file(self, name: str, rel: str) -> str:
        return self._read(self._get(name), rel)

    def _read(self, skill: Skill, rel: str) -> str:
        """A file of the skill, confined to its folder: `..`, absolute paths and symlinks that
        leave the folder are refused."""
        from realcost_agent.tools.paths import PathError, resolve_in_root

        if rel.startswith(("/", "~")) or ".." in rel.replace("\\", "/").split("/"):
            raise SkillError(f"{rel!r}: give a path inside the skill's folder (no `..`, no "
                             "absolute path)")
        try:
            path = resolve_in_root(skill.folder, rel)
        except PathError as exc:
            raise SkillError(f"skill {skill.name}: {str(exc).replace('project root', 'skill folder')}") from None
        if not path.is_file():
            raise SkillError(f"skill {skill.name} has no file {rel!r}")
        try:
            with open(path, "rb") as fh:
                data = fh.read(MAX_BODY_CHARS * 4)
        except OSError as exc:
            raise SkillError(f"skill {skill.name}: {rel} cannot be read ({_why(exc)})") from None
        if b"\0" in data[:8192]:
            raise SkillError(f"skill {skill.name}: {rel} is a binary file")
        text = data.decode("utf-8", errors="replace")
        if len(text) > MAX_BODY_CHARS:
            text = text[:MAX_BODY_CHARS] + f"\n[... truncated at {MAX_BODY_CHARS:,} characters]"
        return text


def _files(folder: Path) -> list[str]:
    return [os.path.relpath(p, folder) for p in ext.tree_files(folder)
            if not p.is_symlink() or ext.inside(folder, p)]


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def load_skills(root: Path, settings: Any, env: Mapping[str, str] | None = None,
                problems: list[str] | None = None) -> SkillCatalog:
    """The skills this session may use: the user's, and the project's that the user trusted
    exactly as they are now. Name clashes: the first found wins (the user's), with a warning."""
    problems = [] if problems is None else problems
    trusted = ext.trusted_items(settings)
    chosen: dict[str, Skill] = {}
    for skill in scan(root, env, problems):
        if skill.scope == "project" and (skill.trust_key, skill.trust_value) not in trusted:
            if getattr(getattr(settings, "project_trust", None), "applied", False):
                # Trusted, but this skill is new or changed since: it waits for the next review.
                problems.append(f"skill {skill.label} not loaded: it changed after the project "
                                "was trusted; restart to review it")
            continue
        if skill.name in chosen:
            problems.append(f"skill {skill.label} not loaded: {chosen[skill.name].label} has "
                            f"the same name {skill.name!r}")
            continue
        chosen[skill.name] = skill
    return SkillCatalog(list(chosen.values()))


def attach_skills(session: Any, problems: list[str]) -> str:
    """The session's one call: load its skills, register the `skill` tool when there are any
    (a project without skills pays nothing for its schema), and return the system prompt's
    section for them ('' when none, else it starts with a blank line)."""
    catalog = load_skills(session.root, session.settings, session.env, problems)
    session.skills = catalog
    if not len(catalog):
        return ""
    if "skill" not in session.registry:
        from realcost_agent.tools.skill import SkillTool

        session.registry.register(SkillTool(catalog))
    return "\n\n" + catalog.prompt_section()
