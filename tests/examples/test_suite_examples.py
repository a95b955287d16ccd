"""examples/suite: six tasks in three languages; each check fails as shipped and passes after the
correct fix (tests/suitefixes.py). A task whose language's toolchain is missing skips, saying so."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from realcost_agent.cli.compare import load_task_file
from suitefixes import FIXES, SUITE, tool_for


def test_the_suite_has_six_tasks_in_three_languages_with_checks() -> None:
    tasks = sorted(p.parent.name for p in SUITE.glob("*/task.toml"))
    assert tasks == sorted(FIXES)
    assert len({name.split("-", 1)[0] for name in tasks}) == 3
    for name in tasks:
        spec = load_task_file(SUITE / name / "task.toml")
        assert spec["prompt"].strip() and spec["check"].strip()


@pytest.mark.parametrize("name", sorted(FIXES))
def test_check_fails_before_and_passes_after_the_fix(name: str, tmp_path: Path) -> None:
    tool = tool_for(name)
    if shutil.which(tool) is None:
        hint = " (.ci/run installs nodejs: apt-get install -y nodejs)" if tool == "node" else ""
        pytest.skip(f"{tool} is not installed, needed for the {name} check{hint}")
    work = tmp_path / name
    shutil.copytree(SUITE / name, work)
    check = load_task_file(work / "task.toml")["check"]

    def run() -> subprocess.CompletedProcess:
        return subprocess.run(["bash", "-c", check], cwd=work, capture_output=True, text=True,
                              timeout=60)

    before = run()
    assert before.returncode != 0, before.stdout
    path, old, new = FIXES[name]
    text = (work / path).read_text()
    assert text.count(old) == 1
    (work / path).write_text(text.replace(old, new))
    after = run()
    assert after.returncode == 0, after.stdout + after.stderr
