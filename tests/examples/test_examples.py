"""The examples' checks fail on the examples as shipped and pass on the reference solutions kept
here (not in examples/, so the examples stay "before"). Their task and session files parse."""
from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from realcost_agent.cli.compare import load_task_file
from realcost_agent.cli.run import parse_script

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
SOLUTIONS = Path(__file__).resolve().parent


def node() -> str:
    found = shutil.which("node")
    # .ci/run installs nodejs; elsewhere the skip says what is missing and how to get it.
    if not found:
        pytest.skip("node (>= 18) is needed for the video-player example: apt-get install -y nodejs")
    return found


def copy(name: str, dest: Path) -> Path:
    target = dest / name
    shutil.copytree(EXAMPLES / name, target)
    return target


def overlay(solution: Path, target: Path) -> list[str]:
    changed = []
    for path in sorted(p for p in solution.rglob("*") if p.is_file()):
        rel = path.relative_to(solution)
        (target / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target / rel)
        changed.append(rel.as_posix())
    return changed


def run(argv: list[str], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=120,
                          stdin=subprocess.DEVNULL)


def check_argv(example: Path) -> list[str]:
    """The check command of the example's task.toml, as argv (its `python` is this one)."""
    argv = tomllib.loads((example / "task.toml").read_text())["check"].split()
    return [sys.executable if argv[0] == "python" else argv[0], *argv[1:]]


def test_video_player_check_fails_before_and_passes_with_the_reference(tmp_path: Path) -> None:
    ex = copy("video-player", tmp_path)
    argv = check_argv(ex)
    assert argv == ["node", "--test", "tests/"]
    argv[0] = node()
    before = run(argv, ex)
    assert before.returncode != 0
    assert "preview.js" in before.stdout + before.stderr  # the feature's module is missing
    # The player's own behaviour passes before the task: only the feature is missing.
    assert run([argv[0], "--test", "tests/player.test.js"], ex).returncode == 0
    changed = overlay(SOLUTIONS / "video_player_solution", ex)
    assert "src/preview.js" in changed and "src/player.js" in changed
    after = run(argv, ex)
    assert after.returncode == 0, after.stdout + after.stderr
    assert "# fail 0" in after.stdout


def test_video_player_check_catches_broken_existing_functionality(tmp_path: Path) -> None:
    """The seed's 20b broke working code: a preview that removes a control must fail."""
    ex = copy("video-player", tmp_path)
    overlay(SOLUTIONS / "video_player_solution", ex)
    html = (ex / "index.html").read_text()
    (ex / "index.html").write_text(html.replace('<button id="mute" type="button">Mute</button>', ""))
    broken = run([node(), "--test", "tests/"], ex)
    assert broken.returncode != 0 and "#mute is missing" in broken.stdout


def test_python_bug_check_fails_before_and_passes_with_the_reference(tmp_path: Path) -> None:
    ex = copy("python-bug", tmp_path)
    argv = check_argv(ex)
    assert argv[1:3] == ["-m", "pytest"]
    before = run(argv, ex)
    assert before.returncode == 1 and "3 failed, 3 passed" in before.stdout
    assert overlay(SOLUTIONS / "python_bug_solution", ex) == ["shop/cart.py"]
    after = run(argv, ex)
    assert after.returncode == 0 and "6 passed" in after.stdout, after.stdout


@pytest.mark.parametrize("name", ["video-player", "python-bug"])
def test_task_and_session_files_are_valid(name: str) -> None:
    ex = EXAMPLES / name
    task = load_task_file(ex / "task.toml")
    assert task["prompt"].strip() and task["check"] and len(task["models"]) == 3
    script = parse_script((ex / "session.toml").read_text(), f"{name}/session.toml")
    assert script.tasks and all(t.prompt.strip() for t in script.tasks)
    assert (ex / "README.md").is_file()


def test_the_video_task_is_the_seeds_prompt_and_routes_to_the_careful_tier() -> None:
    from realcost_agent.agent.routing import RoutingPolicy, Signals, route

    prompt = load_task_file(EXAMPLES / "video-player" / "task.toml")["prompt"]
    seed = (Path(__file__).resolve().parents[3] / "shared" / "seed" / "gpt-oss-initial-review.md")
    if seed.is_file():  # the seed sits beside the repository in the workspace, not in it
        quoted = next(line[2:].strip() for line in seed.read_text().splitlines()
                      if line.startswith("> Implement"))
        assert prompt.startswith(quoted)
    assert route(Signals(prompt, (), 6_000, 12), RoutingPolicy()).profile == "o4-mini"


def test_compare_script_is_executable_and_uses_the_task_file() -> None:
    script = EXAMPLES / "video-player" / "compare.sh"
    assert script.stat().st_mode & 0o111
    assert "agent compare --task-file task.toml" in script.read_text()
