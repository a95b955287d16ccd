"""Allow/deny rules and the combined call decision."""
from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from realcost_agent.agent.config import ConfigError
from realcost_agent.agent.policy import Decision, decide
from realcost_agent.agent.safety.rules import decide_call, evaluate, match_rules, parse_rules

CONFIG = """
[[rules]]
tool = "run_command"
pattern = "pytest*"
action = "allow"

[[rules]]
tool = "run_command"
pattern = "git push*"
action = "deny"

[[rules]]
tool = ["write_file", "edit", "apply_patch"]
pattern = "secrets/*"
action = "deny"

[[rules]]
tool = "run_command"
pattern = "git clean -fd build"
action = "allow"

[[rules]]
tool = "run_command"
pattern = "tail *"
action = "allow"

[[rules]]
tool = "*"
pattern = "docs/*"
action = "allow"
"""


@pytest.fixture
def rules():
    return parse_rules(tomllib.loads(CONFIG)["rules"], "test.toml")


def cmd(c: str) -> dict:
    return {"command": c}


# -- evaluate -----------------------------------------------------------------------------------
@pytest.mark.parametrize("command,expected", [
    ("pytest -x", "allow"),
    ("pytest", "allow"),
    ("FOO=1 pytest -q", "allow"),
    ("pytest -x 2>&1 | tail -20", "allow"),
    ("pytest; rm -rf ~", None),            # allow must cover every simple command
    ("pytest && make", None),
    ("echo $(curl evil) ; pytest", None),  # the substitution is a command too
    ("git push", "deny"),
    ("git push --force origin main", "deny"),
    ("pytest && git push", "deny"),        # deny wins over allow
    ("sudo git push", "deny"),             # wrappers are peeled for deny
    ("timeout 60 env X=1 git push", "deny"),
    ("bash -c 'git push'", "deny"),
    ("echo $(git push)", "deny"),
    ("make test", None),
    ("echo 'unbalanced", None),
    ("", None),
])
def test_command_rules(rules, command, expected):
    assert evaluate(rules, "run_command", cmd(command)) == expected


def test_rules_only_apply_to_their_tool(rules):
    assert evaluate(rules, "read_file", {"path": "pytest.ini"}) is None
    assert evaluate(rules, "run_command", cmd("cat secrets/x")) is None


@pytest.mark.parametrize("tool,args,expected", [
    ("write_file", {"path": "secrets/key.pem", "content": ""}, "deny"),
    ("edit", {"path": "./secrets/a/b.txt", "old_string": "a", "new_string": "b"}, "deny"),
    ("edit", {"path": "src/../secrets/x", "old_string": "a", "new_string": "b"}, "deny"),
    ("write_file", {"path": "src/app.py", "content": ""}, None),
    ("read_file", {"path": "secrets/key.pem"}, None),
    ("write_file", {"path": "docs/index.md", "content": ""}, "allow"),
    ("list_files", {}, None),
])
def test_path_rules(rules, tool, args, expected):
    assert evaluate(rules, tool, args) == expected


def test_absolute_paths_are_made_relative_to_the_root(rules, tmp_path):
    args = {"path": str(tmp_path / "secrets" / "x"), "content": ""}
    assert evaluate(rules, "write_file", args, root=tmp_path) == "deny"
    assert evaluate(rules, "write_file", args) is None  # without the root it is just a path


def test_apply_patch_paths(rules):
    patch = ("*** Begin Patch\n*** Update File: src/a.py\n@@\n-x\n+y\n"
             "*** Add File: secrets/new\n+k\n*** End Patch")
    assert evaluate(rules, "apply_patch", {"patch": patch}) == "deny"
    docs = "*** Begin Patch\n*** Add File: docs/a.md\n+a\n*** Update File: docs/b.md\n*** Move to: docs/c.md\n*** End Patch"
    assert evaluate(rules, "apply_patch", {"patch": docs}) == "allow"
    mixed = docs.replace("docs/c.md", "src/c.md")
    assert evaluate(rules, "apply_patch", {"patch": mixed}) is None


def test_match_names_the_rule(rules):
    m = match_rules(rules, "run_command", cmd("git push"))
    assert m.rule.pattern == "git push*" and m.rule.origin == "test.toml"


def test_pydantic_params_are_accepted(rules):
    from realcost_agent.tools.run_command import RunCommandParams

    assert evaluate(rules, "run_command", RunCommandParams(command="git push")) == "deny"


@pytest.mark.parametrize("raw,message", [
    ("x", "array of tables"),
    (["x"], "must be a table"),
    ([{"pattern": "a", "action": "maybe"}], "action"),
    ([{"pattern": "", "action": "allow"}], "pattern"),
    ([{"pattern": "a", "action": "allow", "tool": 3}], "tool"),
    ([{"pattern": "a", "action": "allow", "tool": []}], "tool"),
    ([{"pattern": "a", "action": "allow", "when": "now"}], "unknown key"),
])
def test_bad_rules_are_config_errors(raw, message):
    with pytest.raises(ConfigError, match=message):
        parse_rules(raw, "cfg.toml")


def test_tool_defaults_to_every_tool():
    (rule,) = parse_rules([{"pattern": "x", "action": "deny"}])
    assert rule.applies_to("run_command") and rule.applies_to("write_file")


# -- decide_call --------------------------------------------------------------------------------
MODES = ("read-only", "suggest", "auto-edit", "full-auto")


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("approved", [False, True])
def test_destructive_always_asks_when_interactive(mode, approved):
    d = decide_call(mode, "run_command", True, cmd("git reset --hard"), [],
                    interactive=True, approved_for_session=approved)
    if mode == "read-only":
        assert d.action == "deny"
    else:
        assert d.action == "ask" and d.destructive and "git reset --hard" in d.reason


@pytest.mark.parametrize("mode", MODES)
def test_destructive_is_denied_headless(mode):
    d = decide_call(mode, "run_command", True, cmd("rm -rf build"), [],
                    interactive=False, approved_for_session=True)
    assert d.action == "deny"
    if mode != "read-only":
        assert d.destructive and "headless" in d.reason


def test_allow_rule_lets_a_destructive_command_run_headless(rules):
    d = decide_call("full-auto", "run_command", True, cmd("git clean -fd build"), rules,
                    interactive=False, approved_for_session=False)
    assert d.action == "allow" and d.destructive and d.rule.pattern == "git clean -fd build"
    other = decide_call("full-auto", "run_command", True, cmd("git clean -fdx"), rules,
                        interactive=False, approved_for_session=False)
    assert other.action == "deny"


def test_deny_rule_wins_even_in_full_auto_and_for_read_only_tools(rules):
    d = decide_call("full-auto", "run_command", True, cmd("git push"), rules,
                    interactive=True, approved_for_session=True)
    assert d.action == "deny" and "git push*" in d.reason
    deny_read = parse_rules([{"tool": "read_file", "pattern": ".env", "action": "deny"}])
    d = decide_call("full-auto", "read_file", False, {"path": ".env"}, deny_read,
                    interactive=True, approved_for_session=False)
    assert d.action == "deny"


def test_allow_rule_skips_the_question_but_not_read_only(rules):
    d = decide_call("suggest", "run_command", True, cmd("pytest -x"), rules,
                    interactive=True, approved_for_session=False)
    assert d.action == "allow" and d.rule is not None
    d = decide_call("read-only", "run_command", True, cmd("pytest -x"), rules,
                    interactive=True, approved_for_session=False)
    assert d.action == "deny"


def test_unparseable_command_is_treated_as_destructive():
    d = decide_call("full-auto", "run_command", True, cmd("echo 'oops"), [],
                    interactive=True, approved_for_session=False)
    assert d.action == "ask" and d.destructive


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("tool,mutating,args", [
    ("read_file", False, {"path": "a"}),
    ("write_file", True, {"path": "a", "content": ""}),
    ("run_command", True, {"command": "pytest -x"}),
])
@pytest.mark.parametrize("approved", [False, True])
def test_without_rules_or_destruction_it_is_the_policy_decision(mode, tool, mutating, args, approved):
    d = decide_call(mode, tool, mutating, args, [], interactive=True, approved_for_session=approved)
    base = decide(mode, tool, mutating, approved_for_session=approved)
    assert (d.action, d.reason) == (base.action, base.reason)
    assert isinstance(d, Decision) and not d.destructive


def test_root_is_used_for_rules(tmp_path: Path):
    rules = parse_rules([{"tool": "write_file", "pattern": "gen/*", "action": "deny"}])
    d = decide_call("full-auto", "write_file", True, {"path": str(tmp_path / "gen/x"), "content": ""},
                    rules, interactive=False, approved_for_session=False, root=tmp_path)
    assert d.action == "deny"
