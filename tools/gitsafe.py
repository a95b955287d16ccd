"""Git as the agent itself runs it: never a program the repository configured.

A cloned repository, or a command the model ran, can put programs into `.git/config` (or files
it includes): core.fsmonitor runs at every `git status`, hooks at commit and checkout, filters
(clean/smudge/process) when files are read or written, diff/textconv drivers when diffing,
credential helpers, pagers, editors, ssh commands. Every git call the agent makes goes through
this module, which turns them all off:

    argv = git_argv(root, "status", "--porcelain")      # ["git", "--no-pager", "-c", ...]
    env = git_env(os.environ)                            # GIT_CONFIG_NOSYSTEM=1, no GIT_DIR...
    proc = run_git(root, "rev-parse", "HEAD")            # both, with subprocess.run

Static overrides (`SAFE_CONFIG`) cover the fixed keys; repo-local keys with a per-name part
(`filter.<x>.clean`, `diff.<x>.textconv`, `credential.<url>.helper`, `pager.<cmd>`...) are found
by listing the local config (`git config --local --includes --name-only --list`: reading config
runs nothing) and emptied with `-c key=`. Command-line `-c` beats every config file, included
ones too. `diff_flags()` adds --no-ext-diff --no-textconv for commands that diff.

The user's global config is kept by default (user.name, core.excludesFile, safe.directory are
the user's own and harmless once the keys above are overridden); `user_config=False` drops it.
"""
from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Mapping, Sequence

# Fixed keys that name a program (or turn one on), each set to something inert.
SAFE_CONFIG: tuple[tuple[str, str], ...] = (
    ("core.fsmonitor", "false"),
    ("core.hooksPath", "/dev/null"),
    ("core.pager", "cat"),
    ("core.editor", "true"),
    ("sequence.editor", "true"),
    ("core.sshCommand", "ssh"),
    ("core.askPass", ""),
    ("core.gitProxy", ""),
    ("core.alternateRefsCommand", ""),
    ("credential.helper", ""),  # an empty value resets the helper list
    ("diff.external", ""),
    ("interactive.diffFilter", ""),
    ("gpg.program", "gpg"),
    ("gpg.ssh.program", "ssh-keygen"),
    ("gpg.x509.program", "gpgsm"),
    ("commit.gpgSign", "false"),
    ("tag.gpgSign", "false"),
    ("protocol.ext.allow", "never"),
    ("submodule.recurse", "false"),
    ("gc.auto", "0"),  # no background `git gc --auto` spawned by our calls
    ("maintenance.auto", "false"),
)
# Last component of a repo-local key that names a program to run.
_PROGRAM_LEAVES = frozenset({
    "clean", "smudge", "process", "textconv", "command", "driver", "helper", "cmd", "program",
    "editor", "pager", "sshcommand", "askpass", "fsmonitor", "hookspath", "uploadpack",
    "receivepack", "proxy", "gitproxy", "alternaterefscommand", "difffilter", "external",
    "packobjectshook", "vcs",
})
# Variables that would point git at another repository, or name programs, or inject config.
_ENV_DROP = frozenset({
    "GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_PREFIX", "GIT_NAMESPACE",
    "GIT_OBJECT_DIRECTORY", "GIT_ALTERNATE_OBJECT_DIRECTORIES", "GIT_COMMON_DIR",
    "GIT_CEILING_DIRECTORIES", "GIT_QUARANTINE_PATH", "GIT_EXTERNAL_DIFF", "GIT_SSH",
    "GIT_SSH_COMMAND", "GIT_ASKPASS", "SSH_ASKPASS", "GIT_EDITOR", "GIT_SEQUENCE_EDITOR",
    "GIT_PAGER", "GIT_EXEC_PATH", "GIT_CONFIG", "GIT_CONFIG_PARAMETERS", "GIT_CONFIG_COUNT",
    "GIT_PROXY_COMMAND", "GIT_TEMPLATE_DIR", "GIT_CONFIG_SYSTEM", "GIT_CONFIG_GLOBAL",
})


def git_binary() -> str | None:
    return shutil.which("git")


def git_env(base: Mapping[str, str] | None = None, *, user_config: bool = True) -> dict[str, str]:
    """`base` (default os.environ), scrubbed of secrets, without variables that redirect git
    or name programs, with no system config, inert editors and pagers, and no prompts."""
    from realcost_agent.tools.childenv import scrubbed_env

    # No API keys either: a program the user's own global config names (an lfs filter, a
    # credential helper) has no business with them.
    base = scrubbed_env(os.environ if base is None else base)
    env = {k: v for k, v in base.items()
           if k not in _ENV_DROP and not k.startswith(("GIT_CONFIG_KEY_", "GIT_CONFIG_VALUE_"))}
    env.update(GIT_CONFIG_NOSYSTEM="1", GIT_TERMINAL_PROMPT="0", GIT_PAGER="cat", PAGER="cat",
               GIT_EDITOR="true", GIT_SEQUENCE_EDITOR="true", GIT_OPTIONAL_LOCKS="0")
    if not user_config:
        env["GIT_CONFIG_GLOBAL"] = os.devnull
    return env


def _config_stamp(root: Path) -> tuple:
    """Cheap key for the local-config cache: the stat of .git/config (or of the .git file)."""
    out = []
    for p in (root / ".git" / "config", root / ".git"):
        try:
            st = os.stat(p)
            out.append((st.st_mtime_ns, st.st_size, st.st_ino))
        except OSError:
            out.append(None)
    return tuple(out)


_local_cache: dict[str, tuple[tuple, tuple[str, ...]]] = {}


def local_program_keys(root: Path | str, env: Mapping[str, str] | None = None) -> tuple[str, ...]:
    """Repo-local config keys (included files too) that name a program."""
    return tuple(k for k in local_config_keys(root, env) if is_program_key(k))


def local_config_keys(root: Path | str, env: Mapping[str, str] | None = None) -> tuple[str, ...]:
    """Every key set in the repository's own config (and files it includes), lower-cased
    section and name. Listing config runs no program."""
    root = Path(root)
    stamp = _config_stamp(root)
    hit = _local_cache.get(str(root))
    if hit is not None and hit[0] == stamp and (root / ".git").is_dir():
        return hit[1]
    git = git_binary()
    if git is None:
        return ()
    try:
        proc = subprocess.run(
            [git, "config", "--local", "--includes", "--name-only", "--list"], cwd=root,
            env=git_env(env), capture_output=True, text=True, timeout=10,
            stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired):
        return ()
    keys = tuple(sorted({_norm_key(k) for k in proc.stdout.split()}))
    _local_cache[str(root)] = (stamp, keys)
    return keys


def _norm_key(key: str) -> str:
    """Section and variable names are case-insensitive; a subsection (the middle) is not."""
    parts = key.split(".")
    if len(parts) >= 2:
        parts[0], parts[-1] = parts[0].lower(), parts[-1].lower()
    return ".".join(parts)


def is_program_key(key: str) -> bool:
    low = key.lower()
    if low.startswith(("pager.", "alias.")):
        return True
    return low.rsplit(".", 1)[-1] in _PROGRAM_LEAVES


def config_args(root: Path | str | None = None, env: Mapping[str, str] | None = None) -> list[str]:
    """The `--no-pager -c key=value ...` options every agent git call carries."""
    out = ["--no-pager"]
    pairs = list(SAFE_CONFIG)
    if root is not None:
        fixed = {k.lower() for k, _ in SAFE_CONFIG}
        for key in local_config_keys(root, env):
            low = key.lower()
            if low in fixed or low.startswith("alias."):
                continue
            if low.startswith("filter.") and low.endswith(".required"):
                pairs.append((key, "false"))  # the emptied filter must not fail every add
            elif is_program_key(key):
                pairs.append((key, "false" if low.startswith("pager.") else ""))
    for key, value in pairs:
        out += ["-c", f"{key}={value}"]
    return out


def diff_flags() -> list[str]:
    """For diff, log -p, show, grep: no external diff program, no textconv filter."""
    return ["--no-ext-diff", "--no-textconv"]


def git_argv(root: Path | str | None, *args: str, git: str | None = None,
             env: Mapping[str, str] | None = None) -> list[str]:
    return [git or git_binary() or "git", *config_args(root, env), *args]


def run_git(root: Path | str, *args: str, timeout: float = 30,
            env: Mapping[str, str] | None = None, user_config: bool = True,
            text: bool = True, check: bool = False) -> subprocess.CompletedProcess:
    """subprocess.run of a hardened git in `root` (stdin closed, output captured)."""
    return subprocess.run(git_argv(root, *args, env=env), cwd=root,
                          env=git_env(env, user_config=user_config), capture_output=True,
                          text=text, timeout=timeout, stdin=subprocess.DEVNULL, check=check)


def shell_line(root: Path | str, argvs: Sequence[Sequence[str]],
               env: Mapping[str, str] | None = None) -> str:
    """A bash line running each git argv (words after `git`) in turn with `&&`, every word
    quoted, so the shell expands nothing: for the asked git commands run outside the sandbox."""
    import shlex

    prefix = git_argv(root, env=env)
    return " && ".join(" ".join(shlex.quote(w) for w in [*prefix, *argv]) for argv in argvs)
