"""Issue 16's figures: the routing decisions on the shipped suite (examples/suite) after a suite
run with the three scripted models on the fake server (tests/suitefixes.py: gpt-oss-20b cheap
and usually wrong, gpt-oss-120b right after one follow-up, o4-mini dear and right first time).

It runs `agent compare --suite examples/suite --max-followups 1 --debug-minutes-per-followup 5`
in a temporary home, then `agent route` for each suite task's own prompt (in a fresh project
with the same check) at several hourly rates, and prints what `auto` picks and why.

    .venv/bin/python bench/route_suite_figures.py [--rates 35,1,0.01]
"""
from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import tomllib
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))

from agentproc import make_repo, run_agent  # noqa: E402
from fakeserver import FakeOpenAIServer  # noqa: E402
from suitefixes import CONFIG, FIXES, MODELS, SUITE, missing_tools, script_suite, tool_for  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rates", default="35,1,0.01")
    args = ap.parse_args()
    rates = [float(r) for r in args.rates.split(",")]
    missing = missing_tools()
    tasks = sorted(t for t in FIXES if tool_for(t) not in missing)
    if missing:
        print(f"skipping tasks needing {', '.join(missing)} (not installed)")
    with tempfile.TemporaryDirectory() as tmp, FakeOpenAIServer() as server:
        base = Path(tmp)
        (base / "cfg").mkdir()
        (base / "cfg" / "config.toml").write_text(CONFIG)
        suite = base / "suite"
        for t in tasks:
            shutil.copytree(SUITE / t, suite / t)
        work = base / "work"
        work.mkdir()
        script_suite(server, tasks)
        proc = run_agent(work, "compare", "--suite", str(suite), "--models", MODELS,
                         "--max-followups", "1", "--debug-minutes-per-followup", "5",
                         "--api-base", server.url, timeout=1800)
        if proc.returncode != 0:
            print(proc.stderr)
            return 1
        (out,) = (work / ".agent" / "compare").iterdir()
        print("## Suite aggregate (fake models, 1 run per task, 5 min per follow-up, $35/h)\n")
        print((out / "suite.md").read_text().split("## All tasks", 1)[1].split("##", 1)[0].strip())
        print("\n## Routing decisions for the suite's own prompts (fresh project, same check)\n")
        print("| Task | Kind | " + " | ".join(f"${r:g}/h" for r in rates) + " |")
        print("| --- | --- | " + " | ".join("---" for _ in rates) + " |")
        detail = []
        for t in tasks:
            spec = tomllib.loads((SUITE / t / "task.toml").read_text())
            project = make_repo(base / f"proj-{t}", {"README": "x\n"})  # shares base/data
            cells, kind = [], ""
            for rate in rates:
                r = run_agent(project, "route", spec["prompt"], "--check", spec["check"],
                              "--format", "json", "--api-base", server.url,
                              "--hourly-rate", str(rate))
                d = json.loads(r.stdout)
                kind = d["features"]["kind"]
                best = next((e for e in d["estimates"] if e["model"] == d["model"]), None)
                cells.append(f"{d['model']} ({d['basis']}"
                             + (f", ~${best['real_cost']:.4f})" if best else ")"))
                if t == tasks[0]:
                    detail.append(f"- ${rate:g}/h: {d['reason']}")
            print(f"| {t} | {kind} | " + " | ".join(cells) + " |")
        print(f"\nWhy, for {tasks[0]}:\n" + "\n".join(detail))
    return 0


if __name__ == "__main__":
    sys.exit(main())
