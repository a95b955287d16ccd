"""Git commands that write `.git/`, which the sandbox keeps read-only.

In the sandbox `git commit` fails (".git/index.lock: Read-only file system"), which is the point:
a sandboxed command must not plant hooks or fsmonitor in `.git/config`. The git commands a coding
task needs (commit, checkout, switch, merge, rebase, stash, add, reset, tag, branch...) are
therefore asked (denied headless unless an allow rule names them) and, once approved, run OUTSIDE
the sandbox, but only in this narrow form:

  - the whole line is `git <subcommand> args...` commands joined by `&&`, nothing else: no
    variables, substitutions, redirections, pipes, globs or other programs;
  - no global options before the subcommand (-c, -C, --git-dir, --exec-path, --config-env...);
  - no option that names a program (rebase --exec, merge --strategy, --upload-pack...).

The words are then re-quoted one by one (tools.gitsafe.shell_line) so bash expands nothing, and
the hardened config of tools/gitsafe.py is prepended: no hooks, filters, fsmonitor or drivers.
Anything else runs in the sandbox as usual (and fails there if it writes .git).
"""
from __future__ import annotations

import shlex

from realcost_agent.records import record

# Subcommands that write .git and may run outside the sandbox once approved.
OUTSIDE = frozenset({
    "add", "commit", "checkout", "switch", "merge", "rebase", "stash", "reset", "restore",
    "tag", "branch", "rm", "mv", "cherry-pick", "revert", "apply", "am", "notes",
})
# Options that run a program, redirect git elsewhere or read another repository's config.
_BAD_OPTIONS = ("--exec", "--strategy", "--upload-pack", "--receive-pack", "--git-dir",
                "--work-tree", "--exec-path", "--config-env", "--template", "--separate-git-dir",
                "--namespace", "--super-prefix", "--recurse-submodules")
# Subcommands whose short `-s NAME` picks a merge strategy: a `git-merge-NAME` program.
_STRATEGY = frozenset({"merge", "rebase", "cherry-pick", "revert"})
# `~` is special only at the start of a word (HEAD~1 is plain text): checked per word.
_SHELL_CHARS = set("$`;|&<>(){}*?[]!\\\n\r#")


@record(frozen=True)
class GitPlan:
    argvs: tuple[tuple[str, ...], ...]  # each: the words after `git`

    def describe(self) -> str:
        return " && git ".join(" ".join(a[:1]) for a in self.argvs)


def git_write_plan(command: object) -> GitPlan | None:
    """The plan for a command line that is only git commands writing .git, else None."""
    if not isinstance(command, str) or "git" not in command:
        return None
    try:
        lexer = shlex.shlex(command, posix=True, punctuation_chars=";&|<>()")
        lexer.whitespace_split = True
        lexer.commenters = ""
        tokens = list(lexer)
    except ValueError:
        return None
    segments: list[list[str]] = [[]]
    for tok in tokens:
        if tok == "&&":
            segments.append([])
        elif tok and set(tok) <= set(";&|<>()"):
            return None  # any other operator: not a plain git line
        else:
            segments[-1].append(tok)
    if any(not s for s in segments) or any(w.startswith("~") for s in segments for w in s):
        return None
    # Characters the shell would treat specially are refused even quoted: what runs must be
    # exactly what the words say, and unquoting rules differ between shlex and bash.
    if any(c in _SHELL_CHARS for c in command.replace("&&", "")):
        if not _only_quoted_text(command):
            return None
    argvs = []
    for words in segments:
        if words[0] != "git" or len(words) < 2 or words[1] not in OUTSIDE:
            return None
        sub, args = words[1], words[2:]
        if _reads_only(sub, args):
            return None  # works in the sandbox as it is
        if not _args_ok(sub, args):
            return None
        argvs.append(tuple(words[1:]))
    return GitPlan(tuple(argvs))


_LISTING = ("-l", "--list", "-a", "--all", "-r", "--remotes", "-v", "-vv", "--verbose",
            "--show-current", "--contains", "--merged", "--no-merged", "--points-at", "-n",
            "--sort", "--format", "--column", "--no-column", "--color", "--no-color")


def _reads_only(sub: str, args: list[str]) -> bool:
    """Forms of these subcommands that only read (`git branch`, `git stash list`...)."""
    if sub in ("branch", "tag"):
        return all(a.split("=", 1)[0] in _LISTING for a in args[:1])
    if sub in ("stash", "notes"):
        return bool(args) and args[0] in ("list", "show")
    if sub == "restore":  # the working tree only, unless the index is restored too
        return not any(a in ("--staged", "-S") or (a.startswith("-") and not a.startswith("--")
                                                    and "S" in a) for a in args)
    return False


def _args_ok(sub: str, args: list[str]) -> bool:
    for a in args:
        if a == "--":
            return True  # paths follow
        low = a.lower()
        if low.startswith("--"):
            name = low.split("=", 1)[0]
            # git accepts any unambiguous prefix (`--exe=CMD`): refuse those too.
            if any(b.startswith(name) or name.startswith(b) for b in _BAD_OPTIONS
                   if len(name) >= 4):
                return False
        elif a.startswith("-") and len(a) > 1:
            if sub in _STRATEGY and a.startswith("-s"):
                return False
            if sub == "rebase" and "x" in a:  # -x CMD, also inside a cluster like -ix
                return False
    return True


def _only_quoted_text(command: str) -> bool:
    """True when every special character sits inside single or double quotes (a commit
    message like "fix: handle (empty) input!"), and no `$` or backquote appears at all."""
    if "$" in command or "`" in command or "\\" in command or "\n" in command or "\r" in command:
        return False
    quote = ""
    i = 0
    while i < len(command):
        c = command[i]
        if quote:
            if c == quote:
                quote = ""
        elif c in "'\"":
            quote = c
        elif c == "&" and command[i:i + 2] == "&&":
            i += 2
            continue
        elif c in _SHELL_CHARS:
            return False
        i += 1
    return not quote


def shell_words(plan: GitPlan) -> list[str]:
    return [" ".join(shlex.quote(w) for w in ("git", *a)) for a in plan.argvs]
