"""The set of files the read-only tools see, shared by list_files, search and read_file hints.

Inside a git work tree this is what `git ls-files --cached --others --exclude-standard` shows
(tracked plus untracked, minus ignored); elsewhere a walk that honours .gitignore files. Both
list_files and search (with either engine) use this one list, so they always agree.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
from functools import lru_cache
from pathlib import Path
from typing import Callable

BINARY_SNIFF_BYTES = 8192
# A runaway root (a home directory, /) must not hang a tool call or flood memory.
MAX_FILES = 200_000
_VCS_DIRS = {".git", ".hg", ".svn"}


def is_binary(path: Path | str) -> bool:
    """NUL byte in the first 8 KB, like git and ripgrep. Unreadable files count as binary
    so that callers skip them rather than fail on them."""
    try:
        with open(path, "rb") as f:
            return b"\0" in f.read(BINARY_SNIFF_BYTES)
    except OSError:
        return True


def rel_posix(root: Path, path: Path) -> str:
    rel = Path(os.path.relpath(path, root)).as_posix()
    return "" if rel == "." else rel


def project_files(root: Path, sub: str = "") -> tuple[list[str], bool]:
    """Sorted root-relative POSIX paths of regular files under `sub` ("" = whole root), and
    whether the list was cut at MAX_FILES. Symlinks whose target leaves the root (or points
    into .git) are dropped, so reading a listed file never escapes confinement."""
    root = Path(os.path.realpath(root))
    names = _git_files(root, sub)
    if names is None:
        names = _walk_files(root, sub)
    truncated = len(names) > MAX_FILES
    out = [n for n in sorted(set(names[:MAX_FILES])) if _is_safe_file(root, n)]
    return out, truncated


def _git_files(root: Path, sub: str) -> list[str] | None:
    git = shutil.which("git")
    if not git:
        return None
    from realcost_agent.tools.gitsafe import git_argv, git_env

    # Hardened (no fsmonitor, hooks or filters from .git/config); no GIT_DIR redirects.
    env = git_env()
    cmd = git_argv(root, "-c", "core.quotepath=off", "ls-files", "-z", "--cached", "--others",
                   "--exclude-standard", git=git)
    if sub:
        # literal: a directory called `a[1]` must not be read as a glob pathspec
        cmd += ["--", f":(literal){sub}"]
    try:
        r = subprocess.run(cmd, cwd=root, env=env, capture_output=True, timeout=60,
                           stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired):
        return None
    if r.returncode != 0:
        return None
    return [os.fsdecode(n) for n in r.stdout.split(b"\0") if n]


def _is_safe_file(root: Path, rel: str) -> bool:
    p = root / rel
    try:
        if p.is_symlink():
            real = Path(os.path.realpath(p))
            inner = real.relative_to(root)
            if inner.parts and inner.parts[0] == ".git":
                return False
        return p.is_file()
    except (OSError, ValueError):
        return False


# ---------------------------------------------------------------- gitignore-aware walk

class _Rule:
    __slots__ = ("regex", "negate", "dir_only")

    def __init__(self, regex: re.Pattern[str], negate: bool, dir_only: bool):
        self.regex, self.negate, self.dir_only = regex, negate, dir_only


def _parse_gitignore(text: str) -> list[_Rule]:
    rules = []
    for raw in text.splitlines():
        line = raw.rstrip()
        if not line or line.startswith("#"):
            continue
        negate = line.startswith("!")
        if negate:
            line = line[1:]
        if line.startswith("\\"):
            line = line[1:]
        dir_only = line.endswith("/")
        line = line.rstrip("/")
        if not line:
            continue
        # A slash anywhere but the end anchors the pattern to the .gitignore's directory.
        anchored = "/" in line
        line = line.lstrip("/")
        body = glob_regex(line)
        if not anchored:
            body = "(?:.*/)?" + body
        rules.append(_Rule(re.compile(body + r"\Z", re.S), negate, dir_only))
    return rules


def _walk_files(root: Path, sub: str) -> list[str]:
    rules: dict[str, list[_Rule]] = {}

    def rules_for(rel_dir: str) -> list[_Rule]:
        if rel_dir not in rules:
            try:
                text = (root / rel_dir / ".gitignore").read_text("utf-8", "replace")
            except OSError:
                text = ""
            rules[rel_dir] = _parse_gitignore(text)
        return rules[rel_dir]

    def ignored(rel: str, is_dir: bool) -> bool:
        parts = rel.split("/")
        verdict = False
        # Deeper .gitignore files are consulted later, so their rules win, as in git.
        for depth in range(len(parts)):
            base = "/".join(parts[:depth])
            tail = "/".join(parts[depth:])
            for rule in rules_for(base):
                if rule.dir_only and not is_dir:
                    continue
                if rule.regex.match(tail):
                    verdict = not rule.negate
        return verdict

    out: list[str] = []
    start = root / sub if sub else root
    for dirpath, dirnames, filenames in os.walk(start):
        rel_dir = rel_posix(root, Path(dirpath))
        prefix = rel_dir + "/" if rel_dir else ""
        dirnames[:] = sorted(
            d for d in dirnames
            if d not in _VCS_DIRS and not ignored(prefix + d, True)
        )
        for f in filenames:
            if not ignored(prefix + f, False):
                out.append(prefix + f)
        if len(out) > MAX_FILES:
            break
    return out


# ---------------------------------------------------------------- globs

def glob_regex(pat: str) -> str:
    """Translate a gitignore-style glob: `*` and `?` stop at `/`, `**` crosses directories."""
    out, i, n = [], 0, len(pat)
    while i < n:
        c = pat[i]
        if c == "*":
            if pat.startswith("**", i):
                i += 2
                if i < n and pat[i] == "/":
                    out.append("(?:.*/)?")
                    i += 1
                else:
                    out.append(".*")
                continue
            out.append("[^/]*")
        elif c == "?":
            out.append("[^/]")
        elif c == "[":
            j = pat.find("]", i + 2)
            if j == -1:
                out.append(re.escape(c))
            else:
                body = pat[i + 1:j]
                neg = body[:1] in ("!", "^")
                body = "".join(ch if ch == "-" else re.escape(ch) for ch in body[neg:])
                out.append("[" + ("^" if neg else "") + body + "]")
                i = j + 1
                continue
        elif c == "\\" and i + 1 < n:
            out.append(re.escape(pat[i + 1]))
            i += 2
            continue
        else:
            out.append(re.escape(c))
        i += 1
    return "".join(out)


def expand_braces(pat: str) -> list[str]:
    """`*.{ts,tsx}` -> [`*.ts`, `*.tsx`]; models write this often and fnmatch lacks it."""
    m = re.search(r"\{([^{}]*,[^{}]*)\}", pat)
    if not m:
        return [pat]
    out = []
    for alt in m.group(1).split(","):
        out.extend(expand_braces(pat[:m.start()] + alt + pat[m.end():]))
    return out


@lru_cache(maxsize=64)
def compile_glob(pattern: str) -> Callable[[str], bool]:
    """Matcher for a user glob. A pattern without `/` matches the file name at any depth;
    one with `/` matches the whole relative path."""
    matchers: list[tuple[bool, re.Pattern[str]]] = []
    for p in expand_braces(pattern.strip()):
        p = p.removeprefix("./").lstrip("/")
        if not p:
            continue
        matchers.append(("/" in p, re.compile(glob_regex(p) + r"\Z", re.S)))

    def match(rel: str) -> bool:
        name = rel.rsplit("/", 1)[-1]
        return any(rx.match(rel if full else name) for full, rx in matchers)

    return match


def filter_glob(files: list[str], pattern: str | None, base: str = "") -> list[str]:
    """Keep files matching `pattern`, tried against the path relative to `base` (the
    directory the caller listed or searched) and relative to the root."""
    if not pattern:
        return files
    match = compile_glob(pattern)
    prefix = base + "/" if base else ""
    return [f for f in files if match(f) or (prefix and f.startswith(prefix)
                                             and match(f[len(prefix):]))]
