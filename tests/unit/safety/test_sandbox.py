"""The bubblewrap sandbox: the command line, and (where bwrap runs) what it really confines."""
from __future__ import annotations

import os
import socket
import subprocess
from pathlib import Path

import pytest

from realcost_agent.agent.safety.sandbox import bwrap_available, unavailable_reason, wrap_command

needs_bwrap = pytest.mark.skipif(not bwrap_available(), reason=f"{unavailable_reason()}")


def _pairs(argv: list[str], flag: str) -> list[tuple[str, ...]]:
    width = {"--bind": 2, "--ro-bind": 2, "--dev": 1, "--proc": 1, "--tmpfs": 1, "--chdir": 1}[flag]
    return [tuple(argv[i + 1:i + 1 + width]) for i, a in enumerate(argv) if a == flag]


def test_command_line_shape(tmp_path):
    root = tmp_path / "proj"
    root.mkdir()
    env = {"PATH": "/usr/bin:/bin"}  # no tools under /tmp to bind back
    argv = wrap_command(["/bin/bash", "-c", "make"], root, network=False,
                        writable=[tmp_path / "cache"], bwrap="/usr/bin/bwrap", env=env)
    assert argv[0] == "/usr/bin/bwrap"
    assert argv[-4:] == ["--", "/bin/bash", "-c", "make"]
    assert {"--die-with-parent", "--new-session", "--unshare-pid", "--unshare-net"} <= set(argv)
    from realcost_agent.agent.safety.sandbox import _tools_under_tmp

    # The agent's own interpreter is bound back when it lives under /tmp (a CI checkout).
    assert _pairs(argv, "--ro-bind") == [("/", "/"), *((p, p) for p in _tools_under_tmp(env))]
    assert _pairs(argv, "--bind") == [(str(root), str(root)),
                                      (str(tmp_path / "cache"), str(tmp_path / "cache"))]
    assert _pairs(argv, "--tmpfs") == [("/tmp",)] and _pairs(argv, "--dev") == [("/dev",)]
    assert _pairs(argv, "--chdir") == [(str(root),)]
    # Later mounts win: the writable project must come after the read-only / and fresh /tmp.
    assert argv.index("--ro-bind") < argv.index("--tmpfs") < argv.index("--bind")


def test_network_flag_and_symlinked_root(tmp_path):
    real = tmp_path / "real"
    real.mkdir()
    (tmp_path / "alias").symlink_to(real)
    argv = wrap_command(["true"], tmp_path / "alias", network=True)
    assert "--unshare-net" not in argv
    assert _pairs(argv, "--bind") == [(str(real), str(real))]


@needs_bwrap
def test_cwd_is_honoured(tmp_path):
    (tmp_path / "sub").mkdir()
    r = _run(wrap_command(["pwd"], tmp_path, cwd=tmp_path / "sub", network=False))
    assert r.stdout.strip() == str(tmp_path / "sub")


def test_argv_after_separator_is_untouched(tmp_path):
    argv = wrap_command(["/bin/bash", "-c", "--bind / / ; echo '--'"], tmp_path, network=False)
    sep = argv.index("--")
    assert argv[sep + 1:] == ["/bin/bash", "-c", "--bind / / ; echo '--'"]


def _run(argv: list[str]) -> subprocess.CompletedProcess:
    return subprocess.run(argv, capture_output=True, text=True, timeout=30)


@needs_bwrap
def test_only_the_project_is_writable(tmp_path):
    root = tmp_path / "proj"
    root.mkdir()
    sibling = tmp_path / "sibling.txt"
    home_probe = Path.home() / f".agent-sandbox-probe-{os.getpid()}"
    script = (f"echo inside > inside.txt; echo out > {sibling}; echo home > {home_probe}; "
              "echo tmp > /tmp/probe; cat /tmp/probe")
    r = _run(wrap_command(["/bin/sh", "-c", script], root, network=False))
    assert (root / "inside.txt").read_text() == "inside\n"
    # tmp_path lies under /tmp, which is a private tmpfs inside: the write lands there, not here.
    assert not sibling.exists()
    assert not home_probe.exists()
    assert "tmp" in r.stdout  # /tmp itself is usable


@needs_bwrap
def test_network_is_cut_unless_allowed(tmp_path):
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(5)
    port = server.getsockname()[1]
    probe = ("import socket,sys\n"
             f"try: socket.create_connection(('127.0.0.1', {port}), timeout=5)\n"
             "except OSError: sys.exit(3)\n")
    try:
        cut = _run(wrap_command(["python3", "-c", probe], tmp_path, network=False))
        allowed = _run(wrap_command(["python3", "-c", probe], tmp_path, network=True))
    finally:
        server.close()
    assert cut.returncode == 3
    assert allowed.returncode == 0, allowed.stderr


def _alive_with(token: str) -> list[int]:
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            cmdline = Path(f"/proc/{entry}/cmdline").read_bytes()
            fields = Path(f"/proc/{entry}/stat").read_bytes().rsplit(b")", 1)[1].split()
        except OSError:
            continue
        if token.encode() in cmdline and fields[0] not in (b"Z", b"X"):
            pids.append(int(entry))
    return pids


@needs_bwrap
def test_leftover_background_processes_die_with_the_sandbox(tmp_path):
    token = f"299.{os.getpid()}{abs(hash(str(tmp_path))) % 10**6}"  # a unique sleep length
    script = (f"setsid sh -c 'echo started > started; exec sleep {token}' & "
              "while [ ! -f started ]; do sleep 0.05; done")
    try:
        r = _run(wrap_command(["/bin/sh", "-c", script], tmp_path, network=False))
        assert r.returncode == 0 and (tmp_path / "started").exists()
        for _ in range(200):  # the kernel kills the namespace at once; reaping may lag a little
            if not _alive_with(token):
                break
            subprocess.run(["sleep", "0.05"])
        assert _alive_with(token) == []
    finally:
        for pid in _alive_with(token):
            os.kill(pid, 9)


def test_tools_under_tmp_are_bound_back_read_only(tmp_path, monkeypatch) -> None:
    """A virtualenv under /tmp (a CI checkout) stays usable inside the private /tmp; nothing
    else of the host's /tmp is visible."""
    from realcost_agent.agent.safety.sandbox import _tools_under_tmp

    venv = Path("/tmp") / f"agent-venv-probe-{os.getpid()}"
    (venv / "bin").mkdir(parents=True, exist_ok=True)
    try:
        env = {"PATH": f"{venv / 'bin'}:/usr/bin:/tmp"}
        argv = wrap_command(["true"], tmp_path, network=False, env=env)
        bound = [argv[i + 1] for i, a in enumerate(argv) if a == "--ro-bind"]
        assert str(venv) in bound
        assert "/tmp" not in _tools_under_tmp(env)  # never the whole of /tmp
        assert argv.index("--tmpfs") < argv.index(str(venv))  # bound over the fresh /tmp
    finally:
        (venv / "bin").rmdir()
        venv.rmdir()
