"""One edit, one count: the TUI card, the headless text line, the JSONL event and the compare
report show the same +/- for the same change (one diff-stat function, tools.fileops.diff_stats).

Before, the edit tools counted with a line splitter that also split on \\x0c (a removed line
after it was counted twice) and multi-file diffs counted the next file's ---/+++ headers;
compare's report asked git. The cases below made the surfaces disagree."""
from __future__ import annotations

import io
import json
import re
import subprocess
from pathlib import Path

import pytest
from pilot_helpers import answered, make_app, ready, screen_text, type_and_send

from realcost_agent.agent import events as ev
from realcost_agent.agent.worktrees import diffstat
from realcost_agent.cli.headless import _TextPrinter
from realcost_agent.providers.scripted import text, tool_call, usage

GIT = ["git", "-c", "user.name=t", "-c", "user.email=t@example.invalid", "-c", "commit.gpgsign=false"]

SQL = "select 1;\n-- old note\nselect 2;\n"
PATCH = (
    "*** Begin Patch\n*** Update File: q.sql\n@@\n select 1;\n--- old note\n select 2;\n"
    "*** Update File: calc.py\n@@\n def add(a, b):\n-    return a - b\n+    return a + b\n"
    "*** Add File: notes.txt\n+one\n+two\n*** End Patch"
)
CASES = {
    # an edit whose new text holds a form feed right before a "-"
    "edit": ("edit", {"path": "calc.py", "old_string": "    return a - b\n",
                      "new_string": "    return a + b\x0c-0\n"}, 1, 1),
    # one patch over three files, one removed line starting with "--"
    "apply_patch": ("apply_patch", {"patch": PATCH}, 3, 2),
}


@pytest.mark.parametrize("case", list(CASES))
async def test_every_surface_shows_the_same_counts(repo: Path, case: str) -> None:
    tool, args, added, removed = CASES[case]
    (repo / "q.sql").write_text(SQL)
    subprocess.run([*GIT, "add", "-A"], cwd=repo, check=True)
    subprocess.run([*GIT, "commit", "-qm", "base"], cwd=repo, check=True)
    commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=repo, check=True,
                            capture_output=True, text=True).stdout.strip()

    app, _ = make_app(repo, [[tool_call(tool, args, id="call_x"), usage(100, 10)], [text("Done.")]])
    async with app.run_test(size=(120, 32)) as pilot:
        await ready(pilot)
        await type_and_send(pilot, "make the change")
        await answered(pilot)
        card = app.conversation.cards["call_x"]
        event = card.finished
        shown = screen_text(app)
    assert event is not None and not event.is_error, event
    mark = f"+{added} -{removed}"
    # The event, as the tool counted its change.
    assert (event.added, event.removed) == (added, removed)
    # The JSONL line.
    wire = json.loads(json.dumps(ev.to_dict(event)))
    assert (wire["added"], wire["removed"]) == (added, removed)
    # The TUI card.
    assert f"✓ {mark}" in shown
    # The headless text line.
    err = io.StringIO()
    _TextPrinter(err)(event)
    assert err.getvalue().startswith(f"  ✓ {mark}")
    # The compare report's column (the worktree against its commit).
    stat = diffstat(repo, commit)
    counts = {kind: int(n) for n, kind in re.findall(r"(\d+) (insertion|deletion)", stat)}
    assert (counts.get("insertion", 0), counts.get("deletion", 0)) == (added, removed), stat
