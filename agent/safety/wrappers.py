"""Command wrappers (sudo, env, timeout, xargs, ...) and shells: what command they really run.

Each wrapper function takes the wrapper's arguments and returns the wrapped argv, a command string
that the wrapper hands to a shell (env -S, su -c, flock -c, watch), or None when it runs nothing
(`command -v rm` only looks the name up).
"""
from __future__ import annotations

import re
from typing import Callable

ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\[[^]]*\])?\+?=")
SHELLS = {"sh", "bash", "zsh", "dash", "ksh", "ash", "mksh", "fish"}


def _skip_opts(args: list[str], short_arg: str = "", long_arg: tuple[str, ...] = ()) -> int:
    """Index of the first non-option word (GNU style: clusters, --x=y, -- ends options)."""
    i = 0
    while i < len(args):
        a = args[i]
        if a == "--":
            return i + 1
        if a.startswith("--"):
            i += 2 if a in long_arg else 1
        elif a.startswith("-") and len(a) > 1:
            for k, ch in enumerate(a[1:], 1):
                if ch in short_arg:
                    i += 1 if k < len(a) - 1 else 2  # value glued on, or the next word
                    break
            else:
                i += 1
        else:
            return i
    return i


def _after(short_arg: str = "", long_arg: tuple[str, ...] = ()) -> Callable:
    return lambda args: args[_skip_opts(args, short_arg, long_arg):]


def _env(args: list[str]) -> list[str] | str | None:
    i = 0
    while i < len(args):
        a = args[i]
        if a == "--":
            return args[i + 1:]
        if a in ("-S", "--split-string"):  # the value is itself a command line
            return " ".join(args[i + 1:])
        if a.startswith(("-S", "--split-string=")):
            head = a.split("=", 1)[1] if a.startswith("--") else a[2:]
            return " ".join([head, *args[i + 1:]])
        if a in ("-u", "-C", "--unset", "--chdir"):
            i += 2
        elif a.startswith("-") or ASSIGNMENT.match(a):
            i += 1
        else:
            break
    return args[i:]


def _command_builtin(args: list[str]) -> list[str] | None:
    i = _skip_opts(args)
    if any(a.startswith("-") and ("v" in a or "V" in a) for a in args[:i]):
        return None  # command -v only looks the name up
    return args[i:]


def _timeout(args: list[str]) -> list[str]:
    return args[_skip_opts(args, "sk", ("--signal", "--kill-after")) + 1:]  # + the duration


def _flock(args: list[str]) -> list[str] | str:
    rest = args[_skip_opts(args, "wE", ("--timeout", "--conflict-exit-code")) + 1:]  # + lockfile
    if rest[:1] in (["-c"], ["--command"]):
        return " ".join(rest[1:2])
    return rest


def _su(args: list[str]) -> str | None:
    for i, a in enumerate(args):
        if a in ("-c", "--command") and i + 1 < len(args):
            return args[i + 1]
        if a.startswith("--command="):
            return a.split("=", 1)[1]
        if a.startswith("-") and not a.startswith("--") and "c" in a[1:]:
            # getopt spellings: `-lc CMD` (the value is the next word), `-cCMD` (joined)
            flags, _, joined = a[1:].partition("c")
            if joined:
                return joined
            if i + 1 < len(args):
                return args[i + 1]
    return None


WRAPPERS: dict[str, Callable[[list[str]], list[str] | str | None]] = {
    "sudo": _after("ugCDhprtTUR", ("--user", "--group", "--close-from", "--chdir", "--host",
                                    "--prompt", "--role", "--type", "--command-timeout",
                                    "--other-user", "--chroot")),
    "doas": _after("uC"),
    "pkexec": _after("", ("--user",)),
    "env": _env,
    "nohup": _after(),
    "command": _command_builtin,
    "builtin": _after(),
    "exec": _after("a"),
    "time": _after("fo", ("--format", "--output")),
    "nice": _after("n", ("--adjustment",)),
    "ionice": _after("cnp", ("--class", "--classdata", "--pid")),
    "timeout": _timeout,
    "stdbuf": _after("ioe", ("--input", "--output", "--error")),
    "setsid": _after(),
    "unbuffer": _after(),
    "busybox": _after(),
    "xargs": _after("adEILnPs", ("--arg-file", "--delimiter", "--eof", "--max-lines",
                                  "--max-args", "--max-procs", "--max-chars",
                                  "--process-slot-var")),
    "flock": _flock,
    "watch": lambda args: " ".join(args[_skip_opts(args, "n", ("--interval",)):]),
    "su": _su,
}


def shell_script(args: list[str]) -> str | None:
    """The command string of `bash -c STRING` (also -lc, -ec, -o pipefail -c ...), else None."""
    has_c, i = False, 0
    while i < len(args):
        a = args[i]
        if a == "--":
            i += 1
            break
        if a in ("-o", "+o", "-O", "+O", "--rcfile", "--init-file"):
            i += 2
        elif a.startswith("--"):
            i += 1
        elif a[:1] in "-+" and len(a) > 1:
            has_c = has_c or "c" in a[1:]
            i += 1
        else:
            break
    return args[i] if has_c and i < len(args) else None
