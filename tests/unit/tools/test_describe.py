"""Each tool describes its own call (summary, paths, the exact diff, line counts); the core
carries that one description on the events, and nothing downstream re-derives it."""
from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from realcost_agent.agent.describe import outcome
from realcost_agent.tools.apply_patch import ApplyPatch, ApplyPatchParams
from realcost_agent.tools.base import Description, ToolContext, ToolResult
from realcost_agent.tools.edit import Edit, EditParams
from realcost_agent.tools.run_command import RunCommand
from realcost_agent.tools.write_file import WriteFile, WriteFileParams

SQL = "select 1;\n-- a comment the model deletes\nselect 2;\n"


def _run(tool, params, root: Path) -> ToolResult:
    return asyncio.run(tool.run(params, ToolContext(root=root)))


def test_deleting_a_line_that_starts_with_dashes_counts_one_removed(tmp_path: Path) -> None:
    # The old TUI counter skipped "---..." lines as headers and showed "+0 -0" here.
    (tmp_path / "q.sql").write_text(SQL)
    params = EditParams(path="q.sql", old_string="-- a comment the model deletes\n", new_string="")
    before = Edit().describe(params, tmp_path)
    assert (before.added, before.removed) == (0, 1)
    assert before.summary == "q.sql +0 -1" and before.paths == ("q.sql",)
    assert "\n--- a comment the model deletes\n" in before.preview
    result = _run(Edit(), params, tmp_path)
    assert not result.is_error and "(+0 -1 lines)" in result.output
    assert result.description == before  # what was asked is what was done
    assert (tmp_path / "q.sql").read_text() == "select 1;\nselect 2;\n"


def test_describe_never_writes(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("keep\nold\n")
    Edit().describe(EditParams(path="a.txt", old_string="old", new_string="new"), tmp_path)
    WriteFile().describe(WriteFileParams(path="a.txt", content="x\n"), tmp_path)
    WriteFile().describe(WriteFileParams(path="b.txt", content="x\n"), tmp_path)
    patch = "*** Begin Patch\n*** Update File: a.txt\n@@\n keep\n-old\n+new\n*** End Patch"
    d = ApplyPatch().describe(ApplyPatchParams(patch=patch), tmp_path)
    assert (d.added, d.removed, d.paths) == (1, 1, ("a.txt",))
    assert (tmp_path / "a.txt").read_text() == "keep\nold\n" and not (tmp_path / "b.txt").exists()


def test_write_file_describes_new_and_overwritten_files(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("keep\nold\n")
    over = WriteFile().describe(WriteFileParams(path="a.txt", content="keep\nnew\n"), tmp_path)
    assert (over.summary, over.added, over.removed) == ("a.txt +1 -1", 1, 1)
    new = WriteFile().describe(WriteFileParams(path="b.txt", content="x\ny\n"), tmp_path)
    assert (new.summary, new.added, new.removed) == ("b.txt (new) +2", 2, 0)
    outside = WriteFile().describe(WriteFileParams(path="../secret", content="x"), tmp_path)
    assert outside.preview == "" and outside.added is None  # nothing read outside the root


def test_patch_that_will_not_apply_says_so(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("keep\n")
    patch = "*** Begin Patch\n*** Update File: a.txt\n@@\n-missing\n+new\n*** End Patch"
    d = ApplyPatch().describe(ApplyPatchParams(patch=patch), tmp_path)
    assert d.summary.startswith("patch (will fail:") and d.added is None and d.preview == patch


def test_patch_result_describes_every_file(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("one\ntwo\n")
    patch = ("*** Begin Patch\n*** Update File: a.txt\n@@\n one\n-two\n*** Add File: b.txt\n+b\n"
             "*** End Patch")
    result = _run(ApplyPatch(), ApplyPatchParams(patch=patch), tmp_path)
    d = result.description
    assert d is not None and (d.added, d.removed) == (1, 1)
    assert d.summary == "a.txt, b.txt +1 -1" and d.paths == ("a.txt", "b.txt")


@pytest.mark.parametrize("meta, summary", [({"exit_code": 1}, "pytest -q · exit 1"),
                                           ({"exit_code": 0}, "pytest -q · exit 0")])
def test_outcome_of_a_command(meta, summary) -> None:
    call = RunCommand().describe(RunCommand.Params(command="pytest -q"), Path("."))
    assert call.summary == "pytest -q" and call.preview == "pytest -q"
    done = outcome(call, ToolResult("...", metadata=meta))
    assert done.summary == summary and done.added is None


def test_outcome_of_an_error_is_its_first_line() -> None:
    done = outcome(Description("a.txt", ("a.txt",)), ToolResult("no such file\nmore", is_error=True))
    assert done.summary == "no such file" and done.paths == ("a.txt",)
