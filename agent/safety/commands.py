"""Destructive command recognition for run_command.

`classify(command)` says whether a bash command line would destroy work that checkpoints or git
cannot bring back cheaply, or that lives outside the project (a remote, a disk):

  rm -r / -R / --recursive in any spelling, rm over a generated list (find -exec rm, xargs rm),
  find -delete, rsync --delete*, git reset --hard, git checkout -f / -- <paths> / . / <file>,
  git switch -f, git restore (worktree), git clean (anything but -n), git push --force / --delete
  / +ref / :ref / --mirror, git branch -D, git stash drop|clear, git reflog expire|delete,
  dd of=, mkfs*, mke2fs, mkswap, wipefs, shred, truncate to zero or smaller,
  chmod/chown/chgrp -R on / or a system directory.

Deliberately NOT destructive: plain `rm file` (single files are edit-level; checkpoints restore
them), `> file` redirection and `mv` (far too common to ask about), `git restore --staged`
(only unstages), dry runs (`git clean -n`, `git push -n`), and text that merely mentions such a
command (`echo "rm -rf /"`, `grep -r rm .`).

Seen through: sudo/doas/env/nohup/command/exec/time/nice/ionice/timeout/stdbuf/setsid/xargs/
flock/watch/busybox wrappers, VAR=x prefixes, absolute paths (/bin/rm), quoting and escapes
(\\rm, "rm"), every chaining operator and newline, bash/sh -c '...', eval, su -c, heredocs fed to
a shell, $(...), backticks and process substitution. A line that cannot be tokenized is treated
as destructive. Not seen through (documented limits): variables and substitutions in command
position (`$CMD -rf x`), git aliases, scripts run from files or piped into a shell, ssh remote
commands, and interpreters (`python -c "shutil.rmtree(...)"`).
"""
from __future__ import annotations

import os
import re
from typing import Callable

from realcost_agent.agent.safety.shell import ShellSyntaxError, lex
from realcost_agent.agent.safety.wrappers import ASSIGNMENT, SHELLS, WRAPPERS, shell_script
from realcost_agent.records import record

MAX_DEPTH = 8  # nested bash -c / $( ) levels; deeper nesting is itself suspicious


@record(frozen=True)
class Verdict:
    destructive: bool
    reason: str = ""
    matched: str = ""  # the simple command that matched, as words joined by spaces


SAFE = Verdict(False)
_KEYWORDS = {"if", "then", "else", "elif", "fi", "do", "done", "while", "until", "!", "{", "}",
             "[[", "]]", "coproc"}
_NOT_COMMANDS = {"for", "case", "select", "function", "in", "esac"}
_SYSTEM_DIRS = {"/", "/*", "~", "$HOME", "${HOME}", "/etc", "/usr", "/bin", "/sbin", "/lib",
                "/lib64", "/var", "/home", "/root", "/boot", "/opt", "/srv", "/sys", "/dev"}


def classify(command: str) -> Verdict:
    try:
        return _text(command, 0) or SAFE
    except ShellSyntaxError as exc:
        return Verdict(True, f"could not parse the command ({exc}); treated as destructive",
                       command[:200])


@record(frozen=True)
class SimpleCommand:
    text: str  # as written, VAR=x prefixes dropped: "sudo timeout 5 git push"
    core: str  # with wrappers peeled off: "git push"


def simple_commands(command: str) -> list[SimpleCommand]:
    """Every simple command the line runs, nested shells and substitutions included, for
    matching allow/deny rules. Raises ShellSyntaxError."""
    out: list[SimpleCommand] = []
    _collect(command, 0, out)
    return out


def _collect(text: str, depth: int, out: list[SimpleCommand]) -> None:
    if depth > MAX_DEPTH:
        raise ShellSyntaxError("nested too deeply")
    lexed = lex(text)
    for words in lexed.segments:
        words = _function_body(_strip_prefix(words))
        if not words:
            continue
        core = words
        while core and _name(core[0]) in WRAPPERS:
            inner = WRAPPERS[_name(core[0])](core[1:])
            if isinstance(inner, str):
                _collect(inner, depth + 1, out)
            if not isinstance(inner, list):
                break
            core = _strip_prefix(inner)
        out.append(SimpleCommand(" ".join(words), " ".join(core)))
        if core and _name(core[0]) in SHELLS and (script := shell_script(core[1:])) is not None:
            _collect(script, depth + 1, out)
    for sub in lexed.subs:
        _collect(sub, depth + 1, out)


def _text(text: str, depth: int) -> Verdict | None:
    if depth > MAX_DEPTH:
        raise ShellSyntaxError("nested too deeply")
    lexed = lex(text)
    for index, words in enumerate(lexed.segments):
        stdin = "\n".join(lexed.heredocs.get(index, [])) or None
        if verdict := _command(words, depth, None, stdin):
            return verdict
    for sub in lexed.subs:
        if verdict := _text(sub, depth + 1):
            return verdict
    return None


def _strip_prefix(words: list[str]) -> list[str]:
    i = 0
    while i < len(words) and (words[i] in _KEYWORDS or ASSIGNMENT.match(words[i])):
        i += 1
    return words[i:]


def _function_body(words: list[str]) -> list[str]:
    """`function f { rm -rf x; }` lexes as one segment; what runs starts after the brace."""
    if words[:1] == ["function"]:
        return _strip_prefix(words[words.index("{") + 1:]) if "{" in words else []
    return words


def _name(word: str) -> str:
    return os.path.basename(word) if "/" in word else word


def _command(words: list[str], depth: int, via: str | None, stdin: str | None) -> Verdict | None:
    words = _function_body(_strip_prefix(words))
    if not words or words[0] in _NOT_COMMANDS:
        return None
    name, args = _name(words[0]), words[1:]
    shown = " ".join(words)[:200]
    if name in WRAPPERS:
        inner = WRAPPERS[name](args)
        if isinstance(inner, str):  # the wrapper runs a command string through a shell
            return _text(inner, depth + 1)
        if inner is None:
            return None
        return _command(inner, depth, "xargs" if name == "xargs" else via, stdin)
    if name in SHELLS:
        script = shell_script(args)
        if script is None:
            script = stdin if not [a for a in args if not a.startswith(("-", "+"))] else None
        return _text(script, depth + 1) if script else None
    if name == "eval":
        return _text(" ".join(args), depth + 1)
    if name == "find":
        return _find(args, depth, shown)
    check = _CHECKS.get(name) or (_mkfs if name.startswith("mkfs") else None)
    reason = check(args, via) if check else None
    return Verdict(True, reason, shown) if reason else None


# -- the checks: return a reason when destructive ----------------------------------------------
def _short_flags(args: list[str]) -> str:
    """All single-letter options given before `--`, concatenated."""
    out = []
    for a in args:
        if a == "--":
            break
        if a.startswith("-") and not a.startswith("--") and len(a) > 1:
            out.append(a[1:])
    return "".join(out)


def _long(args: list[str], name: str, min_prefix: int = 3) -> bool:
    """A GNU long option given in full or as an unambiguous prefix (--rec for --recursive)."""
    for a in args:
        if a == "--":
            return False
        if a.startswith("--"):
            opt = a[2:].split("=", 1)[0]
            if len(opt) >= min_prefix and name.startswith(opt):
                return True
    return False


def _rm(args: list[str], via: str | None) -> str | None:
    flags = _short_flags(args)
    if "r" in flags or "R" in flags or _long(args, "recursive", 1):
        return "rm -r deletes whole directory trees"
    if _long(args, "no-preserve-root", 2):
        return "rm --no-preserve-root"
    if via in ("xargs", "find"):
        return f"rm over a file list generated by {via}"
    return None


def _find(args: list[str], depth: int, shown: str) -> Verdict | None:
    if "-delete" in args:
        return Verdict(True, "find -delete deletes every match", shown)
    for i, a in enumerate(args):
        if a in ("-exec", "-execdir", "-ok", "-okdir"):
            end = next((j for j in range(i + 1, len(args)) if args[j] in (";", "+")), len(args))
            if verdict := _command(args[i + 1:end], depth, "find", None):
                return verdict
    return None


def _git(args: list[str], via: str | None) -> str | None:
    i = 0
    while i < len(args) and args[i].startswith("-"):
        i += 2 if args[i] in ("-C", "-c", "--git-dir", "--work-tree", "--namespace",
                              "--super-prefix", "--config-env") else 1
    if i >= len(args):
        return None
    sub, rest = args[i], args[i + 1:]
    check = _GIT.get(sub)
    return check(rest) if check else None


def _git_checkout(rest: list[str]) -> str | None:
    flags = _short_flags(rest)
    if "f" in flags or _long(rest, "force"):
        return "git checkout --force throws away local changes"
    if "--" in rest and rest.index("--") < len(rest) - 1:
        return "git checkout -- <paths> discards changes to those files"
    if "b" in flags or "B" in flags or _long(rest, "orphan"):
        return None
    positional = [a for a in rest if not a.startswith("-")]
    if len(positional) >= 2:
        return "git checkout <commit> <paths> overwrites those files"
    if positional and _looks_like_path(positional[0]):
        return f"git checkout {positional[0]} discards changes to files"
    return None


def _looks_like_path(p: str) -> bool:
    if p in (".", "..", "*", ":/") or p.startswith(("./", "../", ":/", "/")) or p.endswith("/"):
        return True
    if any(ch in p for ch in "*?["):
        return True
    # main.py is a file; release-1.2 and v2.0.1 are more likely branches or tags.
    return bool(re.search(r"[^/.]\.[A-Za-z][A-Za-z0-9]{0,7}$", p)) and not re.search(r"\d\.\d", p)


def _git_restore(rest: list[str]) -> str | None:
    flags = _short_flags(rest)
    staged = "S" in flags or _long(rest, "staged")
    worktree = "W" in flags or _long(rest, "worktree")
    if staged and not worktree:
        return None  # only unstages; the files on disk stay as they are
    return "git restore discards changes in the working tree"


def _git_clean(rest: list[str]) -> str | None:
    if "n" in _short_flags(rest) or _long(rest, "dry-run"):
        return None
    # Flagged with or without -f: clean.requireForce may be off in the user's config.
    return "git clean deletes untracked files"


def _git_push(rest: list[str]) -> str | None:
    flags = _short_flags(rest)
    if "n" in flags or _long(rest, "dry-run"):
        return None
    if "f" in flags or any(_long(rest, o) for o in ("force", "force-with-lease", "mirror")):
        return "git push --force rewrites the remote's history"
    if "d" in flags or _long(rest, "delete") or _long(rest, "prune"):
        return "git push --delete removes remote branches"
    refspecs = [a for a in rest if not a.startswith("-")][1:]
    if any(r.startswith("+") for r in refspecs):
        return "git push +ref force-updates the remote"
    if any(r.startswith(":") for r in refspecs):
        return "git push :ref deletes a remote branch"
    return None


def _git_branch(rest: list[str]) -> str | None:
    flags = _short_flags(rest)
    deleting = "d" in flags or _long(rest, "delete")
    if "D" in flags or (deleting and ("f" in flags or _long(rest, "force"))):
        return "git branch -D deletes a branch even if it is not merged"
    return None


_GIT: dict[str, Callable[[list[str]], str | None]] = {
    "reset": lambda r: "git reset --hard discards uncommitted changes" if _long(r, "hard") else None,
    "checkout": _git_checkout,
    "switch": lambda r: ("git switch --force/--discard-changes throws away local changes"
                         if "f" in _short_flags(r) or _long(r, "force") or _long(r, "discard-changes")
                         else None),
    "restore": _git_restore,
    "clean": _git_clean,
    "push": _git_push,
    "branch": _git_branch,
    "stash": lambda r: f"git stash {r[0]} deletes stashed changes" if r[:1] in (["drop"], ["clear"]) else None,
    "reflog": lambda r: f"git reflog {r[0]} removes undo history" if r[:1] in (["expire"], ["delete"]) else None,
}


def _dd(args: list[str], via: str | None) -> str | None:
    return "dd of= overwrites its output" if any(a.startswith("of=") for a in args) else None


def _mkfs(args: list[str], via: str | None) -> str:
    return "formats or wipes a filesystem"


def _truncate(args: list[str], via: str | None) -> str | None:
    sizes = []
    for i, a in enumerate(args):
        if a in ("-s", "--size") and i + 1 < len(args):
            sizes.append(args[i + 1])
        elif a.startswith("--size="):
            sizes.append(a.split("=", 1)[1])
        elif a.startswith("-s") and len(a) > 2:
            sizes.append(a[2:])
    for size in sizes:
        if re.fullmatch(r"0+[KMGTPEZY]?i?B?", size) or size.startswith(("-", "<", "/")):
            return "truncate empties or shrinks files"
    return None


def _recursive_owner(args: list[str], via: str | None) -> str | None:
    if "R" not in _short_flags(args) and not _long(args, "recursive"):
        return None
    targets = [a.rstrip("/") or "/" for a in args if not a.startswith("-")]
    hit = next((t for t in targets if t in _SYSTEM_DIRS or t == "~"), None)
    return f"recursive permission/owner change on {hit}" if hit else None


def _rsync(args: list[str], via: str | None) -> str | None:
    deleting = any(a.startswith("--del") for a in args)
    return "rsync --delete removes files at the destination" if deleting else None


_CHECKS: dict[str, Callable[[list[str], str | None], str | None]] = {
    "rm": _rm,
    "git": _git,
    "dd": _dd,
    "mke2fs": _mkfs,
    "mkswap": _mkfs,
    "wipefs": _mkfs,
    "shred": lambda args, via: "shred destroys file contents",
    "truncate": _truncate,
    "chmod": _recursive_owner,
    "chown": _recursive_owner,
    "chgrp": _recursive_owner,
    "rsync": _rsync,
}
