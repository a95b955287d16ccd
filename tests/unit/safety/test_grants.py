"""Session grants: the prefix a command grants, and what it then covers."""
from __future__ import annotations

import pytest

from realcost_agent.agent.safety.grants import Grant, Grants, grant_for


@pytest.mark.parametrize("command, shown", [
    ("pytest -q tests/", "`pytest …`"),
    ("npm test -- --watch", "`npm test …`"),
    ("git status --short", "`git status …`"),
    ("git diff HEAD~1", "`git diff …`"),
    ("python -m pytest -x", "`python -m pytest …`"),
    ("python3 manage.py test", "`python3 manage.py …`"),
    ("node --test tests/", "`node --test …`"),
    ("cargo test --all", "`cargo test …`"),
    ("make", "`make …`"),
    ("X=1 ruff check .", "`ruff …`"),
])
def test_the_prefix_a_command_grants(command: str, shown: str) -> None:
    grant = grant_for("run_command", {"command": command})
    assert grant is not None and grant.describe() == shown


@pytest.mark.parametrize("later", ["pytest", "pytest -k add tests/test_calc.py",
                                   "pytest -x && pytest -q"])
def test_a_granted_prefix_covers_the_same_command_with_other_arguments(later: str) -> None:
    grants = Grants({grant_for("run_command", {"command": "pytest -q"})})  # type: ignore[arg-type]
    assert grants.covers("run_command", {"command": later})


def test_edit_grants_are_per_tool_and_describe_themselves() -> None:
    grant = grant_for("edit", {"path": "src/a.py"}, paths=("src/a.py",))
    assert grant == Grant("edit") and grant.describe() == "edit (outside protected paths)"
    assert Grants({Grant("edit")}).covers("edit", {}, paths=("src/b.py",))
    assert not Grants({Grant("edit")}).covers("write_file", {}, paths=("src/b.py",))
