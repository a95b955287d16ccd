"""The correct fix of each task in examples/suite (kept out of examples/ so the suite stays
"before"): one edit each, as the scripted models send it to the `edit` tool."""
from __future__ import annotations

import shutil
from pathlib import Path

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
