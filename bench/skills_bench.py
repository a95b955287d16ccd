"""What listing skills costs: prompt tokens added per skill, and the system prompt with 0/10/50.

    .venv/bin/python bench/skills_bench.py

Skills are written to a temporary home with descriptions shaped like real ones (what + when,
60-200 characters; one long one to show the cap). The system prompt is built as the session
builds it (agent/prompt.py + agent/skills.py), and the `skill` tool's schema, sent with every
request once a skill exists, is counted too. Tokens are o200k_base (bench/tokenizer.py).
"""
from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

DESCRIPTIONS = [
    "Extract text and tables from PDF files, fill forms, merge documents. Use when working with PDF files.",
    "Write and run database migrations with Alembic. Use when the schema changes.",
    "Review a pull request for bugs, missing tests and style. Use when asked to review changes.",
    "Release checklist: bump the version, update CHANGELOG.md, tag. Use when preparing a release.",
    "Profile slow Python code with cProfile and py-spy and suggest fixes. Use when something is slow.",
    "Write Playwright end-to-end tests for the web UI. Use when a user flow needs a browser test.",
    "Debug failing GitHub Actions workflows from their logs. Use when CI is red.",
    "Create Dockerfiles and compose files that build small images. Use for containerizing a service.",
    "Translate user-facing strings with the project's i18n catalogs. Use when adding UI text.",
    "Security review: injection, secrets in code, unsafe deserialization, path traversal, SSRF and "
    "authorization gaps in web handlers, with fixes and tests for each finding. Use before a release "
    "or when touching authentication, file uploads or anything that parses untrusted input.",
]


def build_prompt(n: int, tmp: Path) -> tuple[str, list[dict]]:
    from realcost_agent.agent.prompt import repo_info, system_prompt
    from realcost_agent.agent.skills import load_skills

    home = tmp / f"home{n}"
    for i in range(n):
        name = f"skill-{i:02d}"
        folder = home / ".agents" / "skills" / name
        folder.mkdir(parents=True)
        desc = DESCRIPTIONS[i % len(DESCRIPTIONS)]
        (folder / "SKILL.md").write_text(f"---\nname: {name}\ndescription: {desc}\n---\nBody.\n")
    root = tmp / "proj"
    root.mkdir(exist_ok=True)
    catalog = load_skills(root, None, {"HOME": str(home)})
    section = catalog.prompt_section()
    prompt = system_prompt(repo_info(root), []) + ("\n\n" + section if section else "")
    tools = []
    if len(catalog):
        from realcost_agent.tools.skill import SkillTool

        tools.append(SkillTool.schema())
    return prompt, tools


def main() -> int:
    from tokenizer import count_tokens

    from realcost_agent.agent.skills import MAX_LISTED

    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        rows = {}
        for n in (0, 1, 10, 20, 50):
            prompt, tools = build_prompt(n, tmp)
            p, method = count_tokens(prompt)
            t = count_tokens(json.dumps(tools))[0] if tools else 0
            rows[n] = (p, t, method)
    base = rows[0][0]
    print(f"tokens: {rows[0][2]}")
    print(f"{'skills':>6} {'system prompt':>14} {'+ vs none':>10} {'skill tool schema':>18} {'total added':>12}")
    for n, (p, t, _) in rows.items():
        print(f"{n:>6} {p:>14,} {p - base:>10,} {t:>18,} {p - base + t:>12,}")
    per_skill = (rows[10][0] - rows[1][0]) / 9
    fixed = rows[1][0] - base - per_skill + rows[1][1]
    print(f"per skill listed: {per_skill:.1f} tokens (descriptions {min(map(len, DESCRIPTIONS))}-"
          f"{max(map(len, DESCRIPTIONS))} chars, shown up to 160); fixed once any skill exists: "
          f"{fixed:.0f} tokens (the header line and the skill tool's schema); past the "
          f"{MAX_LISTED} described, {(rows[50][0] - rows[20][0]) / 30:.1f} tokens per skill named only")
    return 0


if __name__ == "__main__":
    sys.exit(main())
