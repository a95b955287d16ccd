"""`agent compare` end to end: the real binary, three scripted models of different quality on the
fake server, each in its own worktree, in parallel. The page's tables must match what the server
did: follow-ups, tokens, costs, single-prompt success, real totals and the ranking."""
from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from realcost_agent.agent.report import REPORT_SCHEMA
from agentproc import PY, expected_cost, git, make_repo, run_agent
from fakeserver import FakeToolCall, FakeTurn

PRICES = {"gpt-oss-20b": {"input": 0.05, "output": 0.2},
          "gpt-oss-120b": {"input": 0.15, "output": 0.6},
          "o4-mini": {"input": 1.1, "output": 4.4}}
CONFIG = "".join(f'[prices."{m}"]\ninput = {p["input"]}\noutput = {p["output"]}\n\n'
                 for m, p in PRICES.items())
BUGGY = "def add(a, b):\n    return a - b\n"
TEST = "from calc import add\n\n\ndef test_add():\n    assert add(2, 3) == 5\n"
MINUTES = 5.0  # debug minutes per follow-up
RATE = 35.0


def fix(new: str) -> FakeToolCall:
    return FakeToolCall("edit", {"path": "calc.py", "old_string": "return a - b", "new_string": new})


def turn(content: str = "", calls=(), p: int = 1000, c: int = 50) -> FakeTurn:
    return FakeTurn(content=content, tool_calls=list(calls), prompt_tokens=p, completion_tokens=c)


SCRIPTS = {
    # Never fixes it: the first answer and both follow-ups fail the check.
    "gpt-oss-20b": [turn("Done.", p=800, c=40), turn("Fixed now.", p=900, c=60),
                    turn("Definitely fixed.", p=1000, c=70)],
    # Breaks it differently, then fixes it after one follow-up.
    "gpt-oss-120b": [turn(calls=[fix("return a * b")], p=1200, c=90), turn("Done.", p=1300, c=20),
                     turn(calls=[FakeToolCall("edit", {"path": "calc.py", "old_string": "return a * b",
                                                       "new_string": "return a + b"})], p=1500, c=80),
                     turn("Fixed for real.", p=1600, c=15)],
    # Right the first time.
    "o4-mini": [turn(calls=[fix("return a + b")], p=1100, c=600), turn("Fixed add().", p=1250, c=300)],
}
FOLLOWUPS = {"gpt-oss-20b": 2, "gpt-oss-120b": 1, "o4-mini": 0}
PASSED = {"gpt-oss-20b": False, "gpt-oss-120b": True, "o4-mini": True}


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    # Prices in the user's config: a project's own [prices] need trust (agent/trust.py).
    (tmp_path / "cfg").mkdir()
    (tmp_path / "cfg" / "config.toml").write_text(CONFIG)
    return make_repo(tmp_path / "proj", {"calc.py": BUGGY, "test_calc.py": TEST})


def test_compare_three_models_end_to_end(repo: Path, fake_server, tmp_path: Path) -> None:
    for model, turns in SCRIPTS.items():
        fake_server.add(*turns, model=model)
    task = tmp_path / "task.toml"
    task.write_text(
        'prompt = "add() in calc.py is wrong; make test_calc.py pass"\n'
        f'check = "{PY} -m pytest -q -p no:cacheprovider test_calc.py"\n'
        'models = ["gpt-oss-20b", "gpt-oss-120b", "o4-mini"]\n'
        f"max_followups = 2\ndebug_minutes_per_followup = {MINUTES}\n")
    proc = run_agent(repo, "compare", "--task-file", str(task), "--parallel",
                     "--api-base", fake_server.url)
    assert proc.returncode == 0, proc.stderr
    assert fake_server.remaining() == 0

    (run_dir,) = (repo / ".agent" / "compare").iterdir()
    data = json.loads((run_dir / "compare.json").read_text())
    run, report = data["run"], data["report"]
    jsonschema.validate(report, REPORT_SCHEMA)
    assert run["commit"] == git(repo, "rev-parse", "HEAD")
    by_model = {r["model"]: r for r in run["results"]}
    for model, turns in SCRIPTS.items():
        r = by_model[model]
        assert (r["followups"], r["check_passed"], r["checks"]) == (
            FOLLOWUPS[model], PASSED[model], FOLLOWUPS[model] + 1), model
        assert r["requests"] == len(turns) and r["error"] is None
        worktree = Path(r["worktree"])
        assert worktree.parent.parent == repo / ".agent" / "worktrees"
        fixed = (worktree / "calc.py").read_text()
        assert ("return a + b" in fixed) == PASSED[model]

    # The comparison's tables, from the ledger, equal what the server billed.
    groups = {g["key"]: g for g in report["groups"]}
    assert set(groups) == set(SCRIPTS)
    for model, turns in SCRIPTS.items():
        g = groups[model]
        api = sum(expected_cost(PRICES[model], t.prompt_tokens, t.completion_tokens) for t in turns)
        dev = FOLLOWUPS[model] * MINUTES / 60 * RATE
        assert g["tokens"]["input"] == sum(t.prompt_tokens for t in turns)
        assert g["tokens"]["output"] == sum(t.completion_tokens for t in turns)
        assert g["requests"] == len(turns) and g["followups"] == FOLLOWUPS[model]
        assert g["api_cost"] == pytest.approx(api, rel=1e-12)
        assert g["debug"]["minutes"] == pytest.approx(FOLLOWUPS[model] * MINUTES)
        assert g["real_total"] == pytest.approx(api + dev, rel=1e-12)
        assert g["single_prompt_success"]["count"] == (1 if model == "o4-mini" else 0)
    # The seed's finding, reproduced by the script: the pricey model is the cheapest for real.
    assert [g["key"] for g in report["groups"]] == ["o4-mini", "gpt-oss-120b", "gpt-oss-20b"]
    assert report["tiers"] == []  # pinned models never escalate

    md = (run_dir / "compare.md").read_text()
    for title in ("# Model comparison", "## Outcome", "## Results in brief", "## Token economics",
                  "## Real development cost"):
        assert title in md
    assert "| gpt-oss-20b | failed | 3 | 2 |" in md and "| o4-mini | passed | 1 | 0 |" in md
    assert "| o4-mini | $0.0065 | 0 min | $0.00 | $0.01 | 1 · best value |" in md
    assert "| gpt-oss-20b | $0.0002 | 10 min | $5.83 | $5.83 | 3 · worst value |" in md
    html = (run_dir / "compare.html").read_text()
    assert html.count("<svg") == 2 and "Outcome" in html
    # Events per model are kept beside the page; the main tree is untouched and clean.
    assert (run_dir / "o4-mini.events.jsonl").read_text().count('"check_finished"') == 1
    assert (repo / "calc.py").read_text() == BUGGY
    assert git(repo, "status", "--porcelain") == ""

    # The developer measured 2 minutes polishing o4-mini's result: the page is rebuilt with them.
    fix_task = by_model["o4-mini"]["task_id"]
    assert run_agent(repo, "task", "debug", str(fix_task), "2m").returncode == 0
    rebuilt = run_agent(repo, "compare", "--report", run["run_id"])
    assert rebuilt.returncode == 0, rebuilt.stderr
    again = json.loads((run_dir / "compare.json").read_text())["report"]
    o4 = next(g for g in again["groups"] if g["key"] == "o4-mini")
    assert o4["debug"]["minutes"] == pytest.approx(2) and o4["developer_cost"] == pytest.approx(2 / 60 * RATE)

    clean = run_agent(repo, "compare", "--clean")
    assert clean.returncode == 0 and "removed 3 worktree(s)" in clean.stdout
    assert git(repo, "worktree", "list").count("\n") == 0  # only the main tree is left
    assert not (repo / ".agent" / "worktrees").exists() and (run_dir / "compare.md").exists()


def test_compare_refuses_a_repo_without_commits_and_unknown_keys(tmp_path: Path, fake_server) -> None:
    bare = tmp_path / "bare"
    bare.mkdir()
    git(bare, "init", "-q")
    proc = run_agent(bare, "compare", "x", "--api-base", fake_server.url)
    assert proc.returncode == 2 and "no commit yet" in proc.stderr
    repo = make_repo(tmp_path / "proj", {"a.txt": "a\n"})
    bad = tmp_path / "bad.toml"
    bad.write_text('prompt = "x"\nmodel = "o4-mini"\n')
    proc = run_agent(repo, "compare", "--task-file", str(bad))
    assert proc.returncode == 2 and "unknown key `model`" in proc.stderr
    proc = run_agent(repo, "compare", "x", "--models", "gpt-oss-20b")  # no key, no api base
    assert proc.returncode == 2 and "OPENROUTER_API_KEY" in proc.stderr
    assert not (repo / ".agent").exists()


def test_compare_on_ray_gives_the_same_tables(repo: Path, fake_server, tmp_path: Path) -> None:
    """`--executor ray` (a local Ray): each model's cell clones the commit on its worker, its
    ledger rows come back into the run's ledger, and the page is built from them as usual."""
    pytest.importorskip("ray", reason="Ray is not installed (pip install 'realcost-agent[team]')")
    models = ("gpt-oss-120b", "o4-mini")
    for model in models:
        fake_server.add(*SCRIPTS[model], model=model)
    proc = run_agent(repo, "compare", "add() in calc.py is wrong; make test_calc.py pass",
                     "--models", ",".join(models), "--max-followups", "2",
                     "--check", f"{PY} -m pytest -q -p no:cacheprovider test_calc.py",
                     "--debug-minutes-per-followup", str(MINUTES), "--executor", "ray",
                     "--api-base", fake_server.url, timeout=300, RAY_AUTH_MODE="disabled",
                     AGENT_CELL_DIR=str(tmp_path / "cells"))
    assert proc.returncode == 0, proc.stderr
    assert fake_server.remaining() == 0
    (run_dir,) = (repo / ".agent" / "compare").iterdir()
    data = json.loads((run_dir / "compare.json").read_text())
    run, report = data["run"], data["report"]
    assert run["executor"] == "ray"
    by_model = {r["model"]: r for r in run["results"]}
    for model in models:
        r = by_model[model]
        assert r["error"] is None and r["attempts"] == 1 and r["task_id"]
        assert (r["followups"], r["check_passed"]) == (FOLLOWUPS[model], PASSED[model])
        assert r["worktree"].split(":", 1)[1].startswith(str(tmp_path / "cells"))
        assert "1 file changed" in r["diffstat"]
    groups = {g["key"]: g for g in report["groups"]}
    for model in models:
        turns = SCRIPTS[model]
        api = sum(expected_cost(PRICES[model], t.prompt_tokens, t.completion_tokens) for t in turns)
        assert groups[model]["api_cost"] == pytest.approx(api, rel=1e-12)
        assert groups[model]["followups"] == FOLLOWUPS[model]
    assert not (repo / ".agent" / "worktrees").exists()  # the worktrees were the workers'
    assert (repo / "calc.py").read_text() == BUGGY
