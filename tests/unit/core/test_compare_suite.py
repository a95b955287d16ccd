"""The suite page's arithmetic (cli/compare_suite.py): per task and in aggregate over repeats,
from each run's own compare.json; task discovery and the task repositories."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from realcost_agent.cli.compare import UsageError
from realcost_agent.cli.compare_suite import find_tasks, make_repo, render_markdown, summarize, wilson
from realcost_agent.tools.gitsafe import run_git


def result(model: str, passed: bool, followups: int, api: float) -> dict:
    return {"model": model, "check_passed": passed, "followups": followups, "input_tokens": 100,
            "output_tokens": 10, "api_cost": api, "unpriced_calls": 0, "error": None}


def run(task: str, repeat: int, results: list[dict], minutes: float = 5.0) -> dict:
    groups = [{"key": r["model"], "debug": {"minutes": r["followups"] * minutes},
               "real_total_known": r["api_cost"] + r["followups"] * minutes / 60 * 35} for r in results]
    return {"task": task, "repeat": repeat, "dir": f"/x/{task}/{repeat}",
            "run": {"run_id": f"r{repeat}", "results": results}, "report": {"groups": groups}}


def test_summary_over_tasks_and_repeats(tmp_path: Path) -> None:
    tasks = [tmp_path / "a", tmp_path / "b"]
    runs = [run("a", 1, [result("cheap", False, 2, 0.001), result("dear", True, 0, 0.02)]),
            run("a", 2, [result("cheap", True, 1, 0.001), result("dear", True, 0, 0.02)]),
            run("b", 1, [result("cheap", True, 0, 0.001), result("dear", True, 0, 0.02)]),
            run("b", 2, [result("cheap", False, 2, 0.001),
                         {**result("dear", False, 0, 0.0), "error": "no key"}])]
    page = summarize(tmp_path, tasks, runs, 2, None)
    cheap, dear = page["aggregate"]["cheap"], page["aggregate"]["dear"]
    assert (cheap["runs"], cheap["passed"], cheap["first_try"], cheap["followups"]) == (4, 2, 1, 5)
    assert cheap["success_ci95"] == pytest.approx(list(wilson(2, 4)))
    assert cheap["real_total"] == pytest.approx(4 * 0.001 + 5 * 5 / 60 * 35)
    assert dear["runs"] == 3 and dear["passed"] == 3  # the run that could not start is not counted
    assert page["ranking"] == ["dear", "cheap"]
    per_a = page["tasks"][0]["results"]
    assert page["tasks"][0]["task"] == "a" and per_a["cheap"]["runs"] == 2 and per_a["cheap"]["passed"] == 1
    md = render_markdown(page)
    assert "| dear | 3 | 3/3 = 100% (44%–100%) | 3/3 |" in md
    assert "## a" in md and "## b" in md
    json.dumps(page)  # JSON-able as written


def test_task_discovery_and_repositories(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="not a directory"):
        find_tasks(tmp_path / "none")
    (tmp_path / "empty").mkdir()
    with pytest.raises(UsageError, match="no task directories"):
        find_tasks(tmp_path / "empty")
    task = tmp_path / "suite" / "t1"
    task.mkdir(parents=True)
    (task / "task.toml").write_text('prompt = "x"\n')
    (task / "a.py").write_text("x = 1\n")
    (tmp_path / "suite" / "notes").mkdir()  # no task.toml: not a task
    assert find_tasks(tmp_path / "suite") == [task]
    repo = make_repo(task, tmp_path / "out" / "t1")
    assert sorted(p.name for p in repo.iterdir() if p.name != ".git") == ["a.py"]
    assert run_git(repo, "status", "--porcelain").stdout == ""
    assert run_git(repo, "log", "--oneline").stdout.count("\n") == 1
