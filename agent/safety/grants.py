""""Approve for the session", scoped the way people expect.

Approving `pytest -q` for the session used to approve the whole run_command tool, so a later
`git push origin master` ran unasked. A grant is now:

  run_command   a command prefix: the first word, plus the subcommand for tools that have them
                (`pytest …`, `npm test …`, `git status …`, `python -m pytest …`). A later line
                is covered only when EVERY simple command in it (chains, pipes, substitutions,
                `bash -c` scripts included) starts with a granted prefix, word for word.
  other tools   the tool itself (`edit`, `apply_patch`, `write_file`), for paths that are not
                protected.

Never granted (only "approve once" is offered): destructive commands, lines that cannot be
parsed, lines that run through a wrapper or a shell (`sudo`, `env`, `xargs`, `bash -c`, `eval`),
lines of several commands, and edits that touch a protected path. A grant only feeds
`approved_for_session` into the policy; the policy still decides (destructive commands and
protected paths are asked whatever was granted).
"""
from __future__ import annotations

import fnmatch
import posixpath
from dataclasses import field
from typing import Any, Iterable, Mapping

from realcost_agent.agent.policy import COMMAND_TOOLS
from realcost_agent.agent.safety.commands import classify, simple_commands
from realcost_agent.agent.safety.shell import ShellSyntaxError, lex
from realcost_agent.agent.safety.wrappers import ASSIGNMENT, SHELLS, WRAPPERS
from realcost_agent.records import record

# Tools whose second word picks what they do: the grant keeps it (`git status`, not `git`).
SUBCOMMAND_TOOLS = frozenset({
    "git", "npm", "pnpm", "yarn", "bun", "npx", "cargo", "go", "docker", "podman", "kubectl",
    "pip", "pip3", "uv", "poetry", "pdm", "hatch", "make", "gradle", "mvn", "dotnet", "deno",
    "rustup", "conda", "brew", "apt", "apt-get", "gh", "terraform", "helm", "bundle", "rake",
    "mix", "composer", "swift", "tox", "nox", "just", "twine",
})
INTERPRETERS = frozenset({"python", "python3", "py", "node", "ruby", "perl", "php", "deno", "bun"})
# Runs whatever follows: never a grantable prefix.
RUNNERS = frozenset({"eval", "exec", "source", ".", "xargs", "parallel", "ssh", "sudo", "doas",
                     "su", "env", "command", "builtin", "nohup", "setsid", "time", "watch",
                     # send data off the machine: asked each time
                     "curl", "wget", "scp", "sftp", "rsync", "nc", "ncat", "telnet", "ftp"})
# Reach outside the machine: each push or publish is asked, never granted for the session.
NEVER_GRANTED = frozenset({
    ("git", "push"), ("npm", "publish"), ("pnpm", "publish"), ("yarn", "publish"),
    ("cargo", "publish"), ("docker", "push"), ("podman", "push"), ("poetry", "publish"),
    ("uv", "publish"), ("twine", "upload"), ("gh", "release"), ("gh", "pr"), ("terraform", "apply"),
    ("terraform", "destroy"), ("kubectl", "apply"), ("kubectl", "delete"), ("helm", "install"),
})
# Edits here are never granted for the session (config, hooks, CI, secrets, instructions).
PROTECTED_GLOBS = (".agent", ".agent/*", ".git", ".git/*", ".env", ".env*", "*/.env*",
                   ".github/*", ".gitlab-ci.yml", ".pre-commit-config.yaml", ".gitattributes",
                   "AGENTS.md", "*/AGENTS.md", ".vscode/*", ".idea/*", ".envrc", "Makefile",
                   "pyproject.toml", "setup.py", "setup.cfg", "package.json", "conftest.py",
                   "*/conftest.py")


@record(frozen=True)
class Grant:
    tool: str
    prefix: tuple[str, ...] = ()  # run_command: the command words; (): the whole tool

    def describe(self) -> str:
        """Shown in the approval dialog: don't ask again for …"""
        if self.prefix:
            return f"`{' '.join(self.prefix)} …`"
        if self.tool.startswith("mcp__"):  # an MCP server's tool, whatever its arguments
            return f"{self.tool} (any arguments)"
        return f"{self.tool} (outside protected paths)"


def is_protected(path: str) -> bool:
    norm = posixpath.normpath(path.replace("\\", "/"))
    norm = norm[2:] if norm.startswith("./") else norm
    return any(fnmatch.fnmatchcase(norm, g) for g in PROTECTED_GLOBS) or norm.startswith("../")


def _words(segment: list[str]) -> list[str]:
    i = 0
    while i < len(segment) and ASSIGNMENT.match(segment[i]):
        i += 1
    return segment[i:]


def command_prefix(words: list[str]) -> tuple[str, ...] | None:
    """The grantable prefix of one simple command's words; None when it cannot be granted."""
    if not words:
        return None
    head = words[0]
    name = posixpath.basename(head)
    if name in RUNNERS or name in WRAPPERS or name in SHELLS or "$" in head or "`" in head:
        return None
    if name in INTERPRETERS or name.startswith("python3."):
        if len(words) >= 3 and words[1] == "-m" and _plain(words[2]):
            return (head, "-m", words[2])
        if len(words) >= 2 and (_plain(words[1]) or words[1] == "--test"):
            return (head, words[1])  # one script (or node's test runner)
        return None  # `python -c ...`, `node -e ...`: what runs is not a name
    if name in SUBCOMMAND_TOOLS and len(words) >= 2 and _plain(words[1]):
        prefix = (head, words[1])
        return None if (name, words[1]) in NEVER_GRANTED else prefix
    return (head,)


def _plain(word: str) -> bool:
    return bool(word) and not word.startswith("-") and all(c.isalnum() or c in "-_:." for c in word)


def grant_for(tool_name: str, args: Any, *, destructive: bool = False,
              paths: Iterable[str] = ()) -> Grant | None:
    """What "approve for the session" on this call would grant; None: only approve once."""
    if destructive:
        return None
    if tool_name in COMMAND_TOOLS:
        command = _as_mapping(args).get("command")
        if not isinstance(command, str) or classify(command).destructive:
            return None
        try:
            lexed = lex(command)
        except ShellSyntaxError:
            return None
        segments = [w for w in (_words(s) for s in lexed.segments) if w]
        # One plain command: a grant from a chain would cover every part of it.
        if len(segments) != 1 or lexed.subs or lexed.heredocs:
            return None
        prefix = command_prefix(segments[0])
        return Grant(tool_name, prefix) if prefix else None
    if any(is_protected(p) for p in paths):
        return None
    return Grant(tool_name)


@record
class Grants:
    """The grants of one session."""

    granted: set[Grant] = field(default_factory=set)

    def add(self, grant: Grant) -> None:
        self.granted.add(grant)

    def covers(self, tool_name: str, args: Any, *, paths: Iterable[str] = ()) -> bool:
        if tool_name not in COMMAND_TOOLS:
            return Grant(tool_name) in self.granted and not any(is_protected(p) for p in paths)
        prefixes = [g.prefix for g in self.granted if g.tool == tool_name and g.prefix]
        command = _as_mapping(args).get("command")
        # A redirection writes where the grant never said (the lexer drops it from the words).
        if not prefixes or not isinstance(command, str) or ">" in command:
            return False
        try:
            lexed = lex(command)
            commands = simple_commands(command)
        except ShellSyntaxError:
            return False
        # `PATH=... pytest` / `LD_PRELOAD=... pytest` change what the granted command runs.
        if not commands or any(s and ASSIGNMENT.match(s[0]) for s in lexed.segments):
            return False
        for cmd in commands:
            words = tuple(cmd.text.split())
            if not any(words[:len(p)] == p for p in prefixes):
                return False
        return True


def _as_mapping(args: Any) -> Mapping[str, Any]:
    if hasattr(args, "model_dump"):
        args = args.model_dump()
    return args if isinstance(args, Mapping) else {}
