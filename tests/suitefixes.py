"""The correct fix of each task in examples/suite (kept out of examples/ so the suite stays
"before"): one edit each, as the scripted models send it to the `edit` tool."""
from __future__ import annotations

import shutil
from pathlib import Path

from fakeserver import FakeToolCall, FakeTurn

SUITE = Path(__file__).resolve().parents[1] / "examples" / "suite"

FIXES: dict[str, tuple[str, str, str]] = {  # task -> (path, old_string, new_string)
    "js-capitalize": ("capitalize.js", "word.slice(0)", "word.slice(1)"),
    "js-sum": ("sum.js", "i < numbers.length - 1", "i < numbers.length"),
    "py-add": ("calc.py", "return a - b", "return a + b"),
    "py-slugify": ("slug.py", "return title.strip().lower()",
                   'return "-".join(title.strip().lower().split())'),
    "sh-count-lines": ("count_lines.sh", "wc -w", "wc -l"),
    "sh-greet": ("greet.sh", 'name="${2:-}"', 'name="${1:-}"'),
}
TOOLS = {"js": "node", "py": "python3", "sh": "bash"}  # task name prefix -> the check's program


def tool_for(task: str) -> str:
    return TOOLS[task.split("-", 1)[0]]


def missing_tools() -> list[str]:
    return sorted({t for t in TOOLS.values() if shutil.which(t) is None})


# Three scripted models of different quality, priced per million tokens (user config).
PRICES = {"gpt-oss-20b": {"input": 0.05, "output": 0.2},
          "gpt-oss-120b": {"input": 0.15, "output": 0.6},
          "o4-mini": {"input": 1.1, "output": 4.4}}
CONFIG = ('sandbox = "off"\ncheckpoints = false\nhourly_rate = 35.0\n\n'
          + "".join(f'[prices."{m}"]\ninput = {p["input"]}\noutput = {p["output"]}\n\n'
                    for m, p in PRICES.items()))
MODELS = "gpt-oss-20b,gpt-oss-120b,o4-mini"


def turn(content: str = "", calls=(), p: int = 1000, c: int = 50) -> FakeTurn:
    return FakeTurn(content=content, tool_calls=list(calls), prompt_tokens=p, completion_tokens=c)


def fix(task: str) -> FakeToolCall:
    path, old, new = FIXES[task]
    return FakeToolCall("edit", {"path": path, "old_string": old, "new_string": new})


def script_suite(server, tasks: list[str]) -> None:
    """Per task, in the order the suite runs them (sorted), each model's turns: gpt-oss-20b
    cheap and usually wrong (right on the first task only), gpt-oss-120b right after one
    follow-up, o4-mini dear and right the first time."""
    for i, task in enumerate(tasks):
        if i == 0:
            server.add(turn(calls=[fix(task)], p=1000, c=50), turn("Done.", p=1000, c=50),
                       model="gpt-oss-20b")
        else:  # says done without fixing, and again after the follow-up
            server.add(turn("Done.", p=1000, c=50), turn("Fixed now.", p=1000, c=50),
                       model="gpt-oss-20b")
        server.add(turn("Done.", p=1000, c=80), turn(calls=[fix(task)], p=1000, c=80),
                   turn("Fixed.", p=1000, c=80), model="gpt-oss-120b")
        server.add(turn(calls=[fix(task)], p=1000, c=300), turn("Fixed.", p=1000, c=300),
                   model="o4-mini")
