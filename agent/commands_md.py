"""Custom commands: markdown prompt files run as `/NAME args` in the TUI or `agent -p "/NAME args"`.

    ~/.agents/commands/NAME.md, ~/.claude/commands/NAME.md   the user's own
    .agents/commands/NAME.md, .claude/commands/NAME.md       the project's (need trust, see
                                                             agent/extensions.py)

Optional front matter: `description` (shown in completion and the palette) and `argument-hint`.
The body is the prompt: `$ARGUMENTS` becomes everything after the name, `$1` ... `$9` the
shell-style words of it; a body with neither gets the arguments appended on a line of their own.
A command never shadows a built-in slash command (the TUI's /model, /help, ...): such a file is
skipped with a warning. A user's command wins over a project's of the same name.
"""
from __future__ import annotations

import os
import re
import shlex
from pathlib import Path
from typing import Any, Iterable, Mapping

from realcost_agent.agent import extensions as ext
from realcost_agent.records import record

NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
# A headless prompt is taken for a command only when it looks like one: `/name`, `/name args`.
INVOCATION_RE = re.compile(r"^/([A-Za-z0-9][A-Za-z0-9_.-]{0,63})(?:\s+(.*))?$", re.S)
MAX_PROMPT_CHARS = 32_000


@record(frozen=True)
class CustomCommand:
    name: str
    description: str
    argument_hint: str
    body: str
    scope: str   # "user" | "project"
    label: str   # ".agents/commands/review.md" or "~/.agents/commands/review.md"
    digest: str

    @property
    def trust_key(self) -> str:
        return f"command /{self.name}"

    @property
    def trust_value(self) -> str:
        return ext.item_value(self.description or self.body[:80], self.digest)

    def expand(self, arguments: str) -> str:
        """The prompt this command sends with `arguments`."""
        arguments = arguments.strip()
        if "$ARGUMENTS" not in self.body and not re.search(r"\$[1-9]", self.body):
            return self.body.rstrip() + (f"\n\n{arguments}" if arguments else "")
        try:
            words = shlex.split(arguments)
        except ValueError:  # an unbalanced quote: plain words rather than an error
            words = arguments.split()

        def positional(match: re.Match[str]) -> str:
            i = int(match.group(1)) - 1
            return words[i] if i < len(words) else ""

        text = re.sub(r"\$([1-9])(?![0-9])", positional, self.body.replace("$ARGUMENTS", "\0ARGS\0"))
        return text.replace("\0ARGS\0", arguments).strip()


class CommandError(ValueError):
    """A `/name` that names no command (or one that waits for trust); the message says so."""


# The front-ends' own slash commands and aliases: a custom command never takes one of these
# names. The TUI's command table must stay inside this set (tests/tui/test_custom_commands.py).
BUILTIN_NAMES = frozenset({"check", "cost", "debug", "done", "help", "model", "new", "plan", "quit",
                           "undo", "interrupt", "?", "exit", "m", "q"})


def builtin_names() -> frozenset[str]:
    return BUILTIN_NAMES


def _read_command(entry: os.DirEntry[str], place: ext.Place, root: Path,
                  problems: list[str]) -> CustomCommand | None:
    if not entry.name.endswith(".md"):
        return None
    label = f"{place.label}/{entry.name}"
    path = Path(entry.path)
    name = entry.name[:-3]
    if not NAME_RE.match(name):
        problems.append(f"command {label} ignored: its name must be letters, digits, `_`, `.` or `-`")
        return None
    if place.scope == "project" and not ext.inside(place.path, path):
        problems.append(f"command {label} refused: it is a link to {os.path.realpath(path)}, "
                        "outside the project's commands folder")
        return None
    try:
        if not path.is_file():
            return None
        text = ext.read_text(path)
        meta, body = ext.split_front_matter(text)
    except (ext.FrontMatterError, OSError) as exc:
        why = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        problems.append(f"command {label} ignored: {why}")
        return None
    description = meta.get("description", "")
    hint = meta.get("argument-hint", meta.get("argument_hint", ""))
    if not isinstance(description, str) or not isinstance(hint, (str, list)):
        problems.append(f"command {label} ignored: `description` and `argument-hint` must be text")
        return None
    hint = " ".join(str(h) for h in hint) if isinstance(hint, list) else hint
    if not body.strip():
        problems.append(f"command {label} ignored: it has no prompt after its front matter")
        return None
    digest = ext.fingerprint(place.path, [path])
    return CustomCommand(name, " ".join(description.split()), hint.strip(), body, place.scope,
                         label, digest)


def scan(root: Path, env: Mapping[str, str] | None, problems: list[str],
         scopes: tuple[str, ...] = ("user", "project")) -> list[CustomCommand]:
    return ext.collect(root, env, ext.PROJECT_COMMAND_DIRS, ext.USER_COMMAND_DIRS, problems, scopes,
                       _read_command)


def project_command_items(root: Path, env: Mapping[str, str] | None = None) -> list[Any]:
    from realcost_agent.agent.trust import TrustItem

    reserved = builtin_names()
    return [TrustItem(c.trust_key, c.trust_value, c.label, "a prompt you can run")
            for c in scan(root, env, [], scopes=("project",)) if c.name.lower() not in reserved]


def load_commands(root: Path, settings: Any, env: Mapping[str, str] | None = None,
                  problems: list[str] | None = None,
                  reserved: Iterable[str] | None = None) -> dict[str, CustomCommand]:
    """The commands this session may run, by name: the user's, and the project's that the user
    trusted exactly as they are now."""
    problems = [] if problems is None else problems
    reserved = builtin_names() if reserved is None else frozenset(reserved)
    trusted = ext.trusted_items(settings)
    chosen: dict[str, CustomCommand] = {}
    for command in scan(root, env, problems):
        if command.name.lower() in reserved:
            problems.append(f"command {command.label} ignored: /{command.name} is a built-in command")
            continue
        if command.scope == "project" and (command.trust_key, command.trust_value) not in trusted:
            continue  # load_settings already named it among the settings waiting for trust
        if command.name in chosen:
            problems.append(f"command {command.label} not loaded: {chosen[command.name].label} "
                            f"has the same name")
            continue
        chosen[command.name] = command
    return chosen


def expand_invocation(text: str, commands: Mapping[str, CustomCommand]) -> str | None:
    """The prompt for `/name args` when `name` is one of `commands`; None when `text` is not an
    invocation at all (a path such as `/usr/bin/env is wrong` is a prompt like any other)."""
    match = INVOCATION_RE.match(text.strip())
    if match is None:
        return None
    name, arguments = match.group(1), match.group(2) or ""
    command = commands.get(name) or next(
        (c for n, c in commands.items() if n.lower() == name.lower()), None)
    if command is None:
        return None
    prompt = command.expand(arguments)
    if len(prompt) > MAX_PROMPT_CHARS:
        raise CommandError(f"/{name} expands to over {MAX_PROMPT_CHARS:,} characters")
    return prompt


def headless_prompt(text: str, root: Path, settings: Any, env: Mapping[str, str] | None = None,
                    warnings: list[str] | None = None) -> str:
    """`agent -p` input: `/name args` runs a custom command; `//...` sends the text from the
    second slash; an unknown `/name` is an error (sending it to the model as a task would
    spend money on a typo); anything else is the prompt as given."""
    stripped = text.strip()
    if stripped.startswith("//"):
        return stripped[1:]
    match = INVOCATION_RE.match(stripped)
    if match is None:
        return text
    problems: list[str] = []
    commands = load_commands(root, settings, env, problems)
    if warnings is not None:
        warnings.extend(problems)
    prompt = expand_invocation(stripped, commands)
    if prompt is not None:
        return prompt
    name = match.group(1)
    why = [p for p in problems if f"/{name}.md " in p]  # its file was there, and refused
    if why:
        raise CommandError(f"/{name} cannot run: {'; '.join(why)}")
    waiting = [c for c in scan(root, env, [], scopes=("project",)) if c.name == name]
    if waiting:
        raise CommandError(f"/{name} is a project command ({waiting[0].label}) and this project "
                           "is not trusted for it: review it with `agent trust`, or pass --trust")
    if name.lower() in builtin_names():
        raise CommandError(f"/{name} is a command of the TUI, not a task (headless, use the "
                           "matching flag: --model, --check, ...)")
    known = ", ".join(f"/{n}" for n in sorted(commands)) or "none"
    raise CommandError(f"unknown command /{name} (custom commands: {known}); start the prompt "
                       "with // to send a line beginning with /")
