"""The repo_map tool: schema, focus, budget, and what it reports."""
from __future__ import annotations

import asyncio
import json

import pytest
from pydantic import ValidationError

from realcost_agent.tools.repomap import estimate_tokens
from realcost_agent.tools.base import ToolContext
from realcost_agent.tools.repomap import RepoMap as Builder
from realcost_agent.tools.repo_map import RepoMap, RepoMapParams


@pytest.fixture(autouse=True)
def _data_home(tmp_path, monkeypatch):
    # The tool's cache goes under the agent's data dir: keep it in the test's temp dir.
    monkeypatch.setenv("AGENT_DATA_HOME", str(tmp_path / "data"))


def _run(root, ctx=None, **params):
    return asyncio.run(RepoMap().run(RepoMapParams(**params), ctx or ToolContext(root=root)))


def test_schema_is_small_and_read_only():
    schema = RepoMap.schema()
    assert schema["function"]["name"] == "repo_map"
    assert not RepoMap.mutating
    assert len(RepoMap.description.split()) <= 40
    assert set(schema["function"]["parameters"]["properties"]) == {"focus", "budget_tokens"}
    assert "anyOf" not in json.dumps(schema)


def test_focus_puts_its_file_first(repo):
    result = _run(repo, focus="ParseConfig")
    assert not result.is_error
    assert result.output.splitlines()[0] == "server/config.go"
    assert result.metadata["files"] == 16


def test_budget_is_respected(repo):
    result = _run(repo, budget_tokens=256)
    assert estimate_tokens(result.output) <= 256
    assert result.metadata["estimated_tokens"] <= 256


def test_budget_limits_are_validated():
    with pytest.raises(ValidationError):
        RepoMapParams(budget_tokens=10)
    with pytest.raises(ValidationError):
        RepoMapParams(budget_tokens=100_000)
    with pytest.raises(ValidationError):
        RepoMapParams(query="x")


def test_repeated_calls_reuse_the_sessions_map(repo):
    ctx = ToolContext(root=repo, repo_map=Builder(repo))
    first = _run(repo, ctx)
    assert first.metadata["parsed"] == first.metadata["files"]
    result = _run(repo, ctx, focus="Engine")
    assert result.metadata["parsed"] == 0


def test_session_task_and_touched_files_steer_the_map(repo):
    plain = _run(repo, budget_tokens=256)
    steered = _run(repo, ToolContext(root=repo, task="ParseConfig is wrong", touched=("server/config.go",)),
                   budget_tokens=256)
    assert steered.output.splitlines()[0] == "server/config.go"
    assert plain.output != steered.output


def test_no_sources_is_not_an_error(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    result = _run(empty)
    assert not result.is_error and "No source files" in result.output
