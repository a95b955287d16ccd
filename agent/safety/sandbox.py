"""Optional bubblewrap sandbox for run_command: the project is writable, the rest of the
filesystem read-only, /tmp private, and (unless allowed) no network.

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
from typing import Iterable, Sequence


def find_bwrap() -> str | None:
    return shutil.which("bwrap")


@functools.lru_cache(maxsize=None)
def _probe(bwrap: str) -> str | None:
    """None when bwrap can create its namespaces here, else why not (e.g. no user namespaces
    inside a container)."""
    try:
        r = subprocess.run([bwrap, "--ro-bind", "/", "/", "--dev", "/dev", "--unshare-net",
                            "--unshare-pid", "--die-with-parent", "--", "true"],
                           capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return str(exc)
    return None if r.returncode == 0 else (r.stderr.strip() or f"exit code {r.returncode}")


def bwrap_available() -> bool:
    bwrap = find_bwrap()
    return bwrap is not None and _probe(bwrap) is None


def unavailable_reason() -> str | None:
    """Why the sandbox cannot be used, for a warning; None when it can."""
    bwrap = find_bwrap()
    if bwrap is None:
        return "bubblewrap (bwrap) is not installed"
    problem = _probe(bwrap)
    return f"bwrap cannot run here: {problem}" if problem else None


def wrap_command(argv: Sequence[str], root: Path | str, *, network: bool,
                 cwd: Path | str | None = None, writable: Iterable[Path | str] = (),
                 bwrap: str = "bwrap") -> list[str]:
    """The bwrap command line that runs `argv` in `cwd` (default: `root`) with only `root` (and
    `writable`, e.g. a cache directory) writable. bwrap's --chdir decides the directory: the
    cwd given to the bwrap process itself does not carry into the sandbox."""
    real_root = os.path.realpath(root)
    out = [bwrap, "--die-with-parent", "--new-session", "--unshare-pid",
           "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "--tmpfs", "/tmp"]
    for path in (real_root, *(os.path.realpath(p) for p in writable)):
        out += ["--bind", path, path]
    if not network:
        out.append("--unshare-net")
    out += ["--chdir", os.path.realpath(cwd) if cwd is not None else real_root, "--", *argv]
    return out
