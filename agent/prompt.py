"""The system prompt: who the agent is, the repo it stands in, and the project's instructions.

Kept short on purpose: it is paid for on every request (the issue's budget is < 2,000 tokens for
system prompt plus all tool schemas).
"""
from __future__ import annotations

import subprocess
from collections import Counter
from pathlib import Path

from realcost_agent.records import record
from realcost_agent.tools.gitsafe import run_git

_LANGS = {
    ".py": "Python", ".js": "JavaScript", ".mjs": "JavaScript", ".cjs": "JavaScript",
    ".jsx": "JavaScript", ".ts": "TypeScript", ".tsx": "TypeScript", ".go": "Go", ".rs": "Rust",
    ".java": "Java", ".kt": "Kotlin", ".c": "C", ".h": "C/C++", ".cc": "C++", ".cpp": "C++",
    ".hpp": "C++", ".cs": "C#", ".rb": "Ruby", ".php": "PHP", ".swift": "Swift",
    ".scala": "Scala", ".sh": "Shell", ".html": "HTML", ".css": "CSS", ".vue": "Vue",
    ".svelte": "Svelte", ".lua": "Lua", ".ex": "Elixir", ".exs": "Elixir", ".hs": "Haskell",
    ".ml": "OCaml", ".zig": "Zig", ".dart": "Dart", ".r": "R", ".jl": "Julia", ".sql": "SQL",
}

BASE = """You are a coding agent working in the user's repository through tools. \
Work autonomously: inspect the code (repo_map, list_files, search, read_file), make focused changes \
(apply_patch for edits; edit for one exact replacement; write_file for new files), run commands \
(run_command) to build and test, and iterate until the task is done. \
Keep changes minimal and never break working code; match the project's style. \
Read a file before editing it. Paths are relative to the repository root. \
Verify your work with the project's tests when they exist. \
When finished, reply with a short summary of what you changed and how you verified it; \
reply without a tool call only when you are done or need the user."""


@record(frozen=True)
class RepoInfo:
    root: Path
    is_git: bool
    branch: str | None
    status: str  # short summary: "clean" or "3 modified, 1 untracked"
    languages: tuple[str, ...]
    file_count: int


def _git(root: Path, *args: str) -> str | None:
    try:
        # Hardened: a planted core.fsmonitor or filter must not run at the agent's start.
        proc = run_git(root, *args, timeout=5)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return proc.stdout if proc.returncode == 0 else None


def repo_info(root: Path) -> RepoInfo:
    # The two git processes run at once (the listing in a thread): on the way to the first
    # request, one process's wall time instead of two.
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(1, thread_name_prefix="agent-repo-info") as pool:
        listing = pool.submit(_git, root, "ls-files", "--cached", "--others", "--exclude-standard")
        status = _git(root, "status", "--porcelain=v1", "-b", "--untracked-files=normal")
        listed = listing.result() or ""
    if status is None:
        files = [p for p in root.rglob("*") if p.is_file() and ".git" not in p.parts][:20_000]
        names = [p.name for p in files]
        return RepoInfo(root, False, None, "not a git repository", _languages(names), len(files))
    lines = status.splitlines()
    branch = None
    if lines and lines[0].startswith("## "):
        branch = lines.pop(0)[3:].split("...")[0]
        if branch.startswith("No commits yet on "):
            branch = branch[len("No commits yet on "):]
    counts: Counter[str] = Counter()
    for line in lines:
        code = line[:2]
        if code == "??":
            counts["untracked"] += 1
        elif "D" in code:
            counts["deleted"] += 1
        elif "A" in code:
            counts["added"] += 1
        else:
            counts["modified"] += 1
    summary = ", ".join(f"{n} {k}" for k, n in sorted(counts.items())) or "clean"
    names = listed.splitlines()
    return RepoInfo(root, True, branch, summary, _languages(names), len(names))


def _languages(names: list[str]) -> tuple[str, ...]:
    counts: Counter[str] = Counter()
    for name in names:
        dot = name.rfind(".")
        if dot > 0:
            lang = _LANGS.get(name[dot:].lower())
            if lang:
                counts[lang] += 1
    return tuple(lang for lang, _ in counts.most_common(5))


def load_instructions(root: Path, names: list[str],
                      problems: list[str] | None = None) -> list[tuple[str, str]]:
    """The project's instruction files (AGENTS.md by default): the root's and every
    subdirectory's, shallowest first; the nearest one wins for the files under it. Confined to
    the project like the file tools; what was refused is described in `problems`."""
    from realcost_agent.agent.instructions import find_instructions

    return [(rel, text) for rel, text in find_instructions(root, names, problems)]


def system_prompt(info: RepoInfo, instructions: list[tuple[str, str]]) -> str:
    from realcost_agent.agent.instructions import scope_of

    parts = [BASE, "", f"Repository root: {info.root}"]
    if info.is_git:
        parts.append(f"Git: branch {info.branch or '(detached)'}, working tree {info.status}")
    else:
        parts.append("Not a git repository.")
    if info.languages:
        parts.append(f"Files: {info.file_count}; languages: {', '.join(info.languages)}")
    for name, text in instructions:
        if "/" in name:
            parts += ["", f"Instructions from {name} for {scope_of(name)} (they take precedence "
                      "over the root's there):", text]
        else:
            parts += ["", f"Project instructions from {name} (follow them):", text]
    return "\n".join(parts)
