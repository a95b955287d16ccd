"""End to end: the real `agent` TUI in a pseudo-terminal (pexpect), in a temp git repo, against the
fake OpenAI-compatible server over real HTTP: type a task, see the answer and the file change,
quit, and find the cost summary on the terminal."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pexpect
import pytest

from fakeserver import FakeToolCall, FakeTurn

AGENT = shutil.which("agent", path=str(Path(sys.executable).parent)) or "agent"
PATCH = (
    "*** Begin Patch\n*** Update File: calc.py\n@@ def add(a, b):\n-    return a - b\n"
    "+    return a + b\n*** End Patch"
)
READY_MARK = "Enter sends"  # in the input's placeholder: the app is painted and takes keys


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "proj"
    root.mkdir()
    (root / "calc.py").write_text("def add(a, b):\n    return a - b\n")
    for args in (["init", "-q", "-b", "main"], ["add", "."], ["commit", "-qm", "init"]):
        subprocess.run(["git", "-c", "user.email=t@t", "-c", "user.name=t", *args], cwd=root,
                       check=True, capture_output=True)
    return root


def spawn(repo: Path, url: str, **extra_env: str) -> pexpect.spawn:
    env = {k: v for k, v in os.environ.items()
           if not k.endswith(("_API_KEY", "_TOKEN")) and k != "NO_COLOR"}
    env.update({
        "TERM": "xterm-256color",
        "AGENT_CONFIG_HOME": str(repo.parent / "cfg"),
        "AGENT_DATA_HOME": str(repo.parent / "data"),
        "LITELLM_LOCAL_MODEL_COST_MAP": "True",
        "AGENT_MODEL": "gpt-oss-120b",  # pinned: routing (model = auto) would pick by task
    })
    env.update(extra_env)
    return pexpect.spawn(AGENT, ["--api-base", url, "--approval", "full-auto"], cwd=str(repo),
                         env=env, dimensions=(24, 80), encoding="utf-8", codec_errors="replace",
                         timeout=60)


def test_tui_task_answer_change_and_summary(repo: Path, fake_server) -> None:
    fake_server.add(FakeTurn(
        reasoning="add() subtracts; patch it.", reasoning_field="reasoning",
        tool_calls=[FakeToolCall("apply_patch", {"patch": PATCH}, id="call_patch")],
        prompt_tokens=1400, completion_tokens=60,
    ))
    fake_server.add(FakeTurn(content="Fixed it: ADDITION-RESTORED in calc.py.", prompt_tokens=1500,
                             completion_tokens=20))
    child = spawn(repo, fake_server.url)
    try:
        child.expect_exact(READY_MARK)
        child.send("fix the add function")
        child.send("\r")
        child.expect_exact("ADDITION-RESTORED")
        deadline = time.monotonic() + 20
        while "a + b" not in (repo / "calc.py").read_text() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert (repo / "calc.py").read_text() == "def add(a, b):\n    return a + b\n"
        child.expect_exact("changed calc.py")  # the turn's closing line
        child.send("/quit")
        child.send("\r")
        child.expect(pexpect.EOF, timeout=30)
    finally:
        child.close(force=True)
    assert child.exitstatus == 0
    out = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", child.before or "")
    # The exit summary is `agent report` of the session; a loopback server bills nothing.
    assert re.search(r"agent session \S+ · 1 task · 2 requests", out), out[-600:]
    assert "gpt-oss-120b: 1 task · API $0 (local) · debug 0 min" in out
    assert "total: API $0 (local)" in out and "$0.0000" not in out
    assert re.search(r"details: agent report --session \S+", out)
    user_prompt = fake_server.chat_bodies[0]["messages"][-1]["content"]
    assert user_prompt.startswith("fix the add function")


def test_tui_setup_panel_without_key_or_server(repo: Path) -> None:
    """No key and no --api-base: the app opens on the setup panel, never a traceback."""
    env = {k: v for k, v in os.environ.items() if not k.endswith(("_API_KEY", "_TOKEN"))}
    env.update({"TERM": "xterm-256color", "AGENT_CONFIG_HOME": str(repo.parent / "cfg"),
                "AGENT_DATA_HOME": str(repo.parent / "data")})
    child = pexpect.spawn(AGENT, [], cwd=str(repo), env=env, dimensions=(24, 80), encoding="utf-8",
                          codec_errors="replace", timeout=60)
    try:
        child.expect_exact("Setup needed")
        child.expect_exact("OPENROUTER_API_KEY")
        child.sendcontrol("q")
        child.expect(pexpect.EOF, timeout=30)
    finally:
        child.close(force=True)
    assert child.exitstatus == 0
    assert "Traceback" not in (child.before or "")


def _colors(raw: str) -> set[tuple[str, ...]]:
    """The foreground/background colors an ANSI stream sets."""
    found: set[tuple[str, ...]] = set()
    for code in re.findall(r"\x1b\[([0-9;]*)m", raw):
        parts = code.split(";")
        i = 0
        while i < len(parts):
            if parts[i] in ("38", "48") and i + 1 < len(parts):
                if parts[i + 1] == "5":
                    found.add(("5", parts[i + 2]))
                    i += 3
                    continue
                if parts[i + 1] == "2":
                    found.add(tuple(parts[i + 2:i + 5]))
                    i += 5
                    continue
            i += 1
    return found


def _grey(color: tuple[str, ...]) -> bool:
    if color[0] == "5":  # xterm-256: 0/7/8/15/16/231 and the 232-255 grey ramp
        n = int(color[1])
        return n in (0, 7, 8, 15, 16, 231) or n >= 232
    return len(set(color)) == 1


@pytest.mark.parametrize("no_color", [False, True])
def test_tui_respects_no_color(repo: Path, fake_server, no_color: bool) -> None:
    child = spawn(repo, fake_server.url, **({"NO_COLOR": "1"} if no_color else {}))
    raw = ""
    try:
        child.expect_exact(READY_MARK)
        raw = child.before + child.after
        child.expect_exact("ready")
        raw += child.before + child.after
        child.sendcontrol("q")
        child.expect(pexpect.EOF, timeout=30)
    finally:
        child.close(force=True)
    colors = _colors(raw)
    assert colors, "the app set no colors at all"
    hues = {c for c in colors if not _grey(c)}
    if no_color:
        assert not hues, f"NO_COLOR set but colors were used: {sorted(hues)[:5]}"
    else:
        assert hues  # the check can tell the difference
