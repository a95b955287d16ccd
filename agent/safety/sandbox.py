"""The bubblewrap sandbox for run_command and checks (on by default where it can run,
`sandbox = "auto"`): the project is writable except `.git/`, `.agent/` and the root's
instruction and .env files; the rest of the filesystem is read-only, the agent's own data and
config directories are hidden, /tmp is private, there is no network unless allowed, and the
command sees only the scrubbed environment (--clearenv) and its own pid namespace with a fresh
/proc (the agent's /proc/<pid>/environ, with its keys, does not exist in there).

    argv = wrap_command(["/bin/bash", "-c", command], root, network=False)

Mount order matters to bwrap (later mounts win): the read-only root first, then /dev, /proc and a
fresh /tmp, then the writable binds, so a project that itself lives under /tmp stays visible and
writable. --unshare-pid makes bwrap the namespace's init: when it dies (the caller killing its
process group on timeout or interrupt), every process the command left behind dies with it,
including ones that escaped with setsid. --new-session keeps a sandboxed program from pushing
keystrokes into the agent's terminal (TIOCSTI).
"""
from __future__ import annotations

import functools
import os
import shutil
import subprocess
from pathlib import Path
from typing import Iterable, Mapping, Sequence


def find_bwrap() -> str | None:
    return shutil.which("bwrap")


@functools.lru_cache(maxsize=None)
def _probe(bwrap: str) -> str | None:
    """None when bwrap can create its namespaces here, else why not (e.g. no user namespaces
    inside a container)."""
    try:
        r = subprocess.run([bwrap, "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc",
                            "--unshare-net", "--unshare-pid", "--unshare-ipc", "--cap-drop", "ALL",
                            "--die-with-parent", "--", "true"],
                           # a loaded machine is slow, not sandbox-less
                           capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return str(exc)
    return None if r.returncode == 0 else (r.stderr.strip() or f"exit code {r.returncode}")


def bwrap_available() -> bool:
    bwrap = find_bwrap()
    return bwrap is not None and _probe(bwrap) is None


def harden_process() -> None:
    """Make this process non-dumpable: its /proc/<pid>/environ (the API keys) and memory are
    then unreadable to other processes of the same user, e.g. an unsandboxed command reading
    /proc/$PPID/environ. Children get the normal flag back at exec. Linux only; best effort."""
    import ctypes
    import sys

    if not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(4, 0, 0, 0, 0)  # PR_SET_DUMPABLE, 0
    except (OSError, AttributeError):
        pass


def fix_hint(reason: str | None = None) -> str:
    """How to make the sandbox work here, for `agent doctor`."""
    reason = unavailable_reason() if reason is None else reason
    if reason is None:
        return ""
    if "not installed" in reason:
        return ("install bubblewrap: `apt install bubblewrap` (Debian/Ubuntu), `dnf install "
                "bubblewrap` (Fedora), `pacman -S bubblewrap` (Arch)")
    return ("allow unprivileged user namespaces: `sysctl -w kernel.unprivileged_userns_clone=1` "
            "or, on Ubuntu 24.04+, `sysctl -w kernel.apparmor_restrict_unprivileged_userns=0`; "
            "inside a container, run it with user namespaces allowed (e.g. docker "
            "--security-opt seccomp=unconfined)")


def unavailable_reason() -> str | None:
    """Why the sandbox cannot be used, for a warning; None when it can."""
    bwrap = find_bwrap()
    if bwrap is None:
        return "bubblewrap (bwrap) is not installed"
    problem = _probe(bwrap)
    return f"bwrap cannot run here: {problem}" if problem else None


def wrap_command(argv: Sequence[str], root: Path | str, *, network: bool,
                 cwd: Path | str | None = None, writable: Iterable[Path | str] = (),
                 bwrap: str = "bwrap", readonly: Iterable[Path | str] = (),
                 hide: Iterable[Path | str] = (),
                 env: Mapping[str, str] | None = None) -> list[str]:
    """The bwrap command line that runs `argv` in `cwd` (default: `root`) with only `root` (and
    `writable`, e.g. a cache directory) writable. bwrap's --chdir decides the directory: the
    cwd given to the bwrap process itself does not carry into the sandbox.

    `readonly`: paths inside the project bound read-only over the writable project (.git,
    .agent, instruction files; see protected_mounts). `hide`: directories replaced by an empty
    tmpfs (the agent's own data and config). `env`: the whole environment inside (--clearenv,
    then --setenv each), so nothing the bwrap process inherited leaks through."""
    real_root = os.path.realpath(root)
    out = [bwrap, "--die-with-parent", "--new-session", "--unshare-pid", "--unshare-ipc",
           # Run as root (containers, CI), bwrap would keep every capability: a command could
           # then simply unmount the read-only .git. Without them, mounts stay as set here.
           "--cap-drop", "ALL",
           "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "--tmpfs", "/tmp"]
    for path in _tools_under_tmp(env):  # read-only again over the fresh /tmp
        out += ["--ro-bind", path, path]
    for path in (real_root, *(os.path.realpath(p) for p in writable)):
        out += ["--bind", path, path]
    for path in readonly:
        real = os.path.realpath(path)
        if os.path.lexists(real):
            out += ["--ro-bind", real, real]
    for path in hide:
        real = os.path.realpath(path)
        if _contains(real, real_root) or not os.path.lexists(real):
            continue
        if os.path.isdir(real):
            out += ["--tmpfs", real]
        else:  # a socket or file: covered by an empty device
            out += ["--ro-bind", "/dev/null", real]
    if not network:
        out.append("--unshare-net")
    if env is not None:
        out.append("--clearenv")
        for key, value in env.items():
            if key and "=" not in key and "\0" not in key and "\0" not in value:
                out += ["--setenv", key, value]
    out += ["--chdir", os.path.realpath(cwd) if cwd is not None else real_root, "--", *argv]
    return out


def _tools_under_tmp(env: Mapping[str, str] | None) -> list[str]:
    """Programs the command is meant to find that live under /tmp (a virtualenv or checkout
    there, as in a CI job): the private /tmp would hide them, so their directories (a `bin`
    directory's parent, the whole environment) are bound back, read-only. Nothing else of the
    host's /tmp is."""
    import sys

    found: set[str] = set()
    path_var = (env if env is not None else os.environ).get("PATH", "")
    for entry in path_var.split(os.pathsep):
        if not entry:
            continue
        real = os.path.realpath(entry)
        if _contains("/tmp", real) and real != "/tmp" and os.path.isdir(real):
            found.add(os.path.dirname(real) if os.path.basename(real) == "bin" else real)
    for prefix in (sys.prefix, sys.base_prefix):  # the agent's own interpreter
        real = os.path.realpath(prefix)
        if _contains("/tmp", real) and real != "/tmp" and os.path.isdir(real):
            found.add(real)
    # Outermost first, so a nested one is not bound twice.
    kept: list[str] = []
    for path in sorted(found, key=len):
        if not any(_contains(k, path) for k in kept):
            kept.append(path)
    return kept


def _contains(parent: str, child: str) -> bool:
    return child == parent or child.startswith(parent.rstrip("/") + "/")


# Host sockets that would let a sandboxed command ask something outside to run a program for it
# (the user's systemd and D-Bus session, the system bus, systemd's private socket when run as
# root, container engines). A filesystem socket ignores --unshare-net, so they are hidden.
HOST_SOCKETS = ("/run/dbus", "/run/systemd/private", "/run/systemd/notify", "/run/docker.sock",
                "/var/run/docker.sock", "/run/podman", "/run/containerd", "/run/crio",
                "/var/run/libvirt", "/run/snapd.socket", "/run/snapd-snap.socket")


def host_hidden(env: Mapping[str, str]) -> list[str]:
    """What to hide for a command: the host sockets above and the user's runtime directory
    (its systemd --user, D-Bus session, ssh/gpg agents, Wayland)."""
    out = list(HOST_SOCKETS)
    runtime = env.get("XDG_RUNTIME_DIR")
    if runtime:
        out.append(runtime)
    out.append(f"/run/user/{os.getuid()}")
    return out


def protected_mounts(root: Path | str, instruction_files: Iterable[str] = ("AGENTS.md",),
                     *, create_agent_dir: bool = True) -> list[str]:
    """What stays read-only inside the writable project: `.git` (a directory, or a worktree's
    `.git` file, so it cannot be pointed elsewhere), `.agent/` (created empty when missing, so
    a command cannot create a config there either), and the root's instruction and .env files.
    The gitdir a worktree's .git file names lies outside the project or inside .git: read-only
    either way."""
    real_root = Path(os.path.realpath(root))
    agent_dir = real_root / ".agent"
    if create_agent_dir and not os.path.lexists(agent_dir):
        try:
            agent_dir.mkdir()
        except OSError:
            pass
    out = [str(real_root / ".git"), str(agent_dir)]
    names = dict.fromkeys(["AGENTS.md", *instruction_files])
    try:
        entries = sorted(os.listdir(real_root))
    except OSError:
        entries = []
    for name in entries:
        if name.startswith(".env") or name in names or name.casefold() == "agents.md":
            out.append(str(real_root / name))
    for name in names:
        if "/" in name:
            out.append(str(real_root / name))
    # Only what is really inside the project: a symlinked .git pointing elsewhere is bound at
    # its target, which is read-only already (the whole filesystem is).
    return [p for p in out if os.path.lexists(p)
            and _contains(str(real_root), os.path.realpath(p))]
