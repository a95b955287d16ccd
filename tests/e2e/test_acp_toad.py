"""Smoke test: Toad (`batrachian-toad` on PyPI, a Textual ACP client no one here wrote) launches
the real `agent acp` in a pseudo-terminal against the fake model server, sends a prompt and
shows the answer. Toad is installed into a temp venv once per run; the test skips, saying why,
where it cannot be installed (it needs Python >= 3.14) or run."""
from __future__ import annotations

import glob
import os
import re
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest

pexpect = pytest.importorskip("pexpect")

from agentproc import AGENT, agent_env, make_repo  # noqa: E402
from fakeserver import FakeTurn  # noqa: E402

TOAD_MIN = (3, 14)


def _python_for_toad() -> str | None:
    """A Python Toad supports: python3.14+ on PATH or under pyenv."""
    names = [f"python3.{minor}" for minor in range(TOAD_MIN[1], 20)]
    found = [shutil.which(n) for n in names]
    found += sorted(glob.glob(os.path.expanduser("~/.pyenv/versions/3.1[4-9]*/bin/python3")))
    for candidate in filter(None, found):
        try:
            out = subprocess.run([candidate, "-c", "import sys; print(*sys.version_info[:2])"],
                                 capture_output=True, text=True, timeout=30).stdout.split()
        except (OSError, subprocess.SubprocessError):
            continue
        if len(out) == 2 and tuple(map(int, out)) >= TOAD_MIN:
            return candidate
    return None


@pytest.fixture(scope="session")
def toad(tmp_path_factory) -> str:
    python = _python_for_toad()
    if python is None:
        pytest.skip("batrachian-toad needs Python >= 3.14 and none is installed here "
                    "(every release on PyPI requires it)")
    venv = tmp_path_factory.mktemp("toad") / "venv"
    try:
        subprocess.run([python, "-m", "venv", str(venv)], check=True, capture_output=True, timeout=120)
        proc = subprocess.run([str(venv / "bin" / "pip"), "install", "--quiet", "batrachian-toad"],
                              capture_output=True, text=True, timeout=900)
    except (OSError, subprocess.SubprocessError) as exc:
        pytest.skip(f"cannot create a venv for Toad: {exc}")
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ["?"])[-1]
        pytest.skip(f"batrachian-toad does not install here: {last}")
    return str(venv / "bin" / "toad")


def test_toad_runs_agent_acp(toad: str, tmp_path: Path, fake_server) -> None:
    repo = make_repo(tmp_path / "proj", {"calc.py": "def add(a, b):\n    return a + b\n"})
    fake_server.add(FakeTurn(content="Hello from the agent: TOAD-SMOKE-OK"))
    command = shlex.join([AGENT, "acp", "--api-base", fake_server.url, "--approval", "full-auto"])
    env = agent_env(repo, TERM="xterm-256color", HOME=str(tmp_path / "home"))
    env.pop("NO_COLOR", None)
    child = pexpect.spawn(toad, ["acp", command, str(repo)], cwd=str(repo), env=env,
                          dimensions=(40, 120), encoding="utf-8", codec_errors="replace", timeout=90)
    try:
        child.expect("commands")  # the prompt's placeholder: "/ commands", Toad is ready
        child.send("say hello")
        child.send("\r")
        child.expect("TOAD-SMOKE-OK")
        child.sendcontrol("q")
        child.expect(pexpect.EOF, timeout=30)
    except pexpect.exceptions.ExceptionPexpect:
        screen = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", child.before or "")[-2000:]
        pytest.fail(f"Toad did not show the agent's answer; last screen text:\n{screen}")
    finally:
        child.close(force=True)
    assert fake_server.chat_bodies[-1]["messages"][-1]["content"].startswith("say hello")
