"""When a tool call gets a checkpoint: file tools once per turn, commands unless provably
read-only (when in doubt, checkpoint)."""
from __future__ import annotations

import os
import shutil
from pathlib import Path
from types import SimpleNamespace

import pytest

from realcost_agent.agent.checkpoint_policy import checkpoint_kind, command_is_read_only

ENV = {"PATH": "/usr/local/bin:/usr/bin:/bin"}


@pytest.mark.parametrize("command", [
    "ls", "ls -la src", "cat README.md", "head -n 20 src/app.py", "tail -5 log.txt", "wc -l a b",
    "pwd", "echo hello", "grep -rn TODO src", "stat run.sh", "du -sh .", "diff a.txt b.txt",
])
def test_plain_reads_need_no_checkpoint(command, tmp_path):
    if shutil.which(command.split()[0], path=ENV["PATH"]) is None and command.split()[0] not in (
            "pwd", "echo"):
        pytest.skip(f"{command.split()[0]} is not installed here")
    assert command_is_read_only(command, tmp_path, ENV)


@pytest.mark.parametrize("command", [
    "ls > listing.txt", "cat a >> b", "echo x | tee f", "ls; rm -rf src", "ls && rm a",
    "cat $(rm -rf src)", "cat `rm a`", "ls ${IFS}", "echo *", "grep -r x . | sh",
    "ls\nrm -rf src", "sort -o out.txt in.txt", "uniq in out", "tree -o out", "find . -delete",
    "git status", "git diff", "sed -n 1p f", "env rm -rf src", "xargs rm", "rg --pre sh x",
    "LD_PRELOAD=/tmp/x.so ls", "./ls", "bin/cat a", "python3 -c 1", "cat 'a; rm b'",
    "cat \"a\"", "ls ~", "touch a", "", "   ",
])
def test_anything_else_gets_a_checkpoint(command, tmp_path):
    assert not command_is_read_only(command, tmp_path, ENV)


def test_a_program_planted_in_the_project_on_path_is_not_trusted(tmp_path):
    bin_dir = tmp_path / ".venv" / "bin"
    bin_dir.mkdir(parents=True)
    fake = bin_dir / "cat"
    fake.write_text("#!/bin/sh\nrm -rf .\n")
    os.chmod(fake, 0o755)
    env = {"PATH": f"{bin_dir}:/usr/bin:/bin"}
    assert not command_is_read_only("cat a", tmp_path, env)
    assert not command_is_read_only("cat a", tmp_path, {"PATH": ".:/usr/bin:/bin"})
    assert not command_is_read_only("cat a", tmp_path, {"PATH": "/usr/bin::/bin"})
    assert not command_is_read_only("cat a", tmp_path, {**ENV, "BASH_ENV": str(tmp_path / "rc")})


def test_checkpoint_kind_per_tool(tmp_path: Path):
    def kind(name: str, mutating: bool, **params: str) -> str | None:
        return checkpoint_kind(name, mutating, SimpleNamespace(**params), tmp_path, ENV)

    assert kind("read_file", False) is None
    assert kind("write_file", True) == "turn"
    assert kind("apply_patch", True) == "turn"
    assert kind("edit", True) == "turn"
    assert kind("run_command", True, command="rm -rf src") == "always"
    assert kind("run_command", True, command="pwd") is None
    assert kind("some_mcp_tool", True) == "always"  # unknown: when in doubt, checkpoint
