"""Skills and custom commands: discovery, front matter, the prompt list, confinement, trust."""
from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest

from realcost_agent.agent import extensions as ext
from realcost_agent.agent.commands_md import (
    CommandError, expand_invocation, headless_prompt, load_commands, project_command_items,
)
from realcost_agent.agent.config import load_settings
from realcost_agent.agent.skills import (
    MAX_DESC_CHARS, MAX_LISTED, MAX_NAMES_ONLY, SkillError, load_skills, project_skill_items, scan,
)
from realcost_agent.tools.base import ToolContext
from realcost_agent.tools.skill import SkillParams, SkillTool
from realcost_agent.tui.commands import completions


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def skill_md(name: str, description: str, body: str = "Do the thing.\n") -> str:
    return f"---\nname: {name}\ndescription: {description}\n---\n{body}"


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    (tmp_path / "home").mkdir()
    return {"HOME": str(tmp_path / "home"), "AGENT_CONFIG_HOME": str(tmp_path / "cfg"),
            "AGENT_DATA_HOME": str(tmp_path / "data")}


@pytest.fixture
def root(tmp_path: Path) -> Path:
    (tmp_path / "proj").mkdir()
    return tmp_path / "proj"


def settings_for(root: Path, env: dict[str, str], trust: bool | None = None):
    return load_settings(root, env=env, warnings=[], trust=trust)


# -- front matter ---------------------------------------------------------------------------------
def test_front_matter_split_and_errors() -> None:
    meta, body = ext.split_front_matter("---\nname: a\ndescription: >\n  folded\n  text\n---\nbody\n")
    assert meta == {"name": "a", "description": "folded text"} and body == "body\n"
    assert ext.split_front_matter("no front matter") == ({}, "no front matter")
    with pytest.raises(ext.FrontMatterError, match="never closed"):
        ext.split_front_matter("---\nname: a\n")
    with pytest.raises(ext.FrontMatterError, match="invalid YAML"):
        ext.split_front_matter("---\nname: [unclosed\n---\n")
    # Unquoted colons (common in skills written for other tools): flat lines read verbatim.
    assert ext.split_front_matter("---\nname: a\ndescription: Use when: sums fail\n---\nb")[0] == {
        "name": "a", "description": "Use when: sums fail"}
    with pytest.raises(ext.FrontMatterError, match="mapping"):
        ext.split_front_matter("---\n- a list\n---\n")


def test_malformed_skills_warn_and_good_ones_load(root: Path, env: dict[str, str]) -> None:
    user = Path(env["HOME"]) / ".agents" / "skills"
    write(user / "good" / "SKILL.md", skill_md("good", "Use for good things."))
    write(user / "broken" / "SKILL.md", "---\nname: broken\ndescription: [oops\n---\n")
    write(user / "nodesc" / "SKILL.md", "---\nname: nodesc\n---\nbody")
    write(user / "Bad_Name" / "SKILL.md", skill_md("Bad_Name", "x"))
    write(user / "renamed" / "SKILL.md", skill_md("other-name", "Named apart from its folder."))
    (user / "assets").mkdir()  # no SKILL.md: not a skill, not a warning
    problems: list[str] = []
    catalog = load_skills(root, settings_for(root, env), env, problems)
    assert catalog.names() == ["good", "other-name"]
    text = "\n".join(problems)
    assert "broken/SKILL.md ignored: invalid YAML" in text
    assert "nodesc/SKILL.md ignored: it has no `description`" in text
    assert "Bad_Name/SKILL.md ignored: name 'Bad_Name'" in text
    assert "differs from its folder" in text and "assets" not in text


def test_prompt_section_caps_descriptions_and_the_list(root: Path, env: dict[str, str]) -> None:
    user = Path(env["HOME"]) / ".agents" / "skills"
    total = MAX_LISTED + MAX_NAMES_ONLY + 5
    for i in range(total):
        write(user / f"s{i:03d}" / "SKILL.md", skill_md(f"s{i:03d}", "word " * 100))
    catalog = load_skills(root, settings_for(root, env), env)
    section = catalog.prompt_section()
    lines = [line for line in section.splitlines() if line.startswith("- s")]
    assert len(lines) == MAX_LISTED
    assert all(len(line.split(": ", 1)[1]) <= MAX_DESC_CHARS for line in lines)
    also = section.splitlines()[-1]
    assert also.startswith(f"- also (skill() describes them): s{MAX_LISTED:03d}, ")
    assert also.endswith(f"s{MAX_LISTED + MAX_NAMES_ONLY - 1:03d} and 5 more")
    assert len(catalog.listing().splitlines()) == total


def test_no_skills_no_section(root: Path, env: dict[str, str]) -> None:
    assert load_skills(root, settings_for(root, env), env).prompt_section() == ""


def test_skill_tool_body_files_and_confinement(root: Path, env: dict[str, str], tmp_path: Path) -> None:
    folder = Path(env["HOME"]) / ".agents" / "skills" / "pdf"
    write(folder / "SKILL.md", skill_md("pdf", "PDF work.", "Read references/forms.md first.\n"))
    write(folder / "references" / "forms.md", "Fill the form field by field.\n")
    write(tmp_path / "secret.txt", "TOP-SECRET-OUTSIDE\n")
    os.symlink(tmp_path / "secret.txt", folder / "leak.md")
    catalog = load_skills(root, settings_for(root, env), env)
    tool = SkillTool(catalog)
    ctx = ToolContext(root=root)

    def call(**kw):
        return asyncio.run(tool.run(SkillParams(**kw), ctx))

    body = call(name="pdf")
    assert not body.is_error and "Read references/forms.md first." in body.output
    assert "description:" not in body.output and "- references/forms.md" in body.output
    assert "leak.md" not in body.output  # a link out of the folder is not offered
    assert call(name="pdf", file="references/forms.md").output == "Fill the form field by field.\n"
    for bad in ("../../../secret.txt", "leak.md", str(tmp_path / "secret.txt"), "~/x"):
        result = call(name="pdf", file=bad)
        assert result.is_error and "TOP-SECRET" not in result.output, bad
    missing = call(name="nope")
    assert missing.is_error and "available: pdf" in missing.output
    assert "pdf: PDF work." in call().output
    with pytest.raises(SkillError):
        catalog.file("pdf", "references/none.md")


def test_user_skill_wins_over_a_project_one(root: Path, env: dict[str, str]) -> None:
    write(Path(env["HOME"]) / ".agents" / "skills" / "deploy" / "SKILL.md", skill_md("deploy", "Mine."))
    write(root / ".agents" / "skills" / "deploy" / "SKILL.md", skill_md("deploy", "The repo's."))
    problems: list[str] = []
    catalog = load_skills(root, settings_for(root, env, trust=True), env, problems)
    assert catalog.skills["deploy"].description == "Mine."
    assert any("same name 'deploy'" in p for p in problems)


# -- trust ----------------------------------------------------------------------------------------
def test_project_skills_and_commands_join_the_trust_request(root: Path, env: dict[str, str]) -> None:
    write(root / ".claude" / "skills" / "lint" / "SKILL.md", skill_md("lint", "Lint the code."))
    write(root / ".agents" / "commands" / "review.md", "---\ndescription: Review a file\n---\nReview $ARGUMENTS\n")
    # Beside a setting whose value is a list (rules): the items are looked up all the same.
    write(root / ".agent" / "config.toml", '[[rules]]\ntool = "run_command"\npattern = "ls"\naction = "allow"\n')
    warnings: list[str] = []
    settings = load_settings(root, env=env, warnings=warnings)
    request = settings.project_trust.request
    assert [i.key for i in request.items] == ["rules", "skill lint", "command /review"]
    assert settings.project_trust.status == "untrusted" and not settings.project_trust.applied
    assert "skill lint = 'Lint the code. [sha256:" in warnings[-1]
    assert load_skills(root, settings, env).names() == []
    assert load_commands(root, settings, env) == {}
    trusted = load_settings(root, env=env, warnings=[], trust=True)
    assert load_skills(root, trusted, env).names() == ["lint"]
    assert list(load_commands(root, trusted, env)) == ["review"]


def test_a_changed_skill_needs_trust_again(root: Path, env: dict[str, str]) -> None:
    from realcost_agent.agent.trust import TrustStore

    skill = write(root / ".agents" / "skills" / "lint" / "SKILL.md", skill_md("lint", "Lint."))
    settings = load_settings(root, env=env, warnings=[])
    TrustStore.default(env).record(settings.project_trust.request, "trusted")
    assert load_settings(root, env=env, warnings=[]).project_trust.status == "trusted"
    write(skill.parent / "scripts" / "run.sh", "echo changed\n")  # a file beside SKILL.md counts
    again = load_settings(root, env=env, warnings=[])
    assert again.project_trust.status == "changed"
    assert load_skills(root, again, env).names() == []


def test_project_skill_folder_linked_outside_is_refused(root: Path, env: dict[str, str], tmp_path: Path) -> None:
    write(tmp_path / "elsewhere" / "evil" / "SKILL.md", skill_md("evil", "From outside."))
    (root / ".agents" / "skills").mkdir(parents=True)
    os.symlink(tmp_path / "elsewhere" / "evil", root / ".agents" / "skills" / "evil")
    problems: list[str] = []
    assert scan(root, env, problems, scopes=("project",)) == []
    assert "outside the project" in problems[0]
    assert project_skill_items(root, env) == []


# -- custom commands ------------------------------------------------------------------------------
def test_command_expansion(root: Path, env: dict[str, str]) -> None:
    cmds = Path(env["HOME"]) / ".agents" / "commands"
    write(cmds / "fix.md", "---\ndescription: Fix an issue\nargument-hint: <issue> <file>\n---\n"
                           "Fix issue $1 in $2. All: $ARGUMENTS\n")
    write(cmds / "plain.md", "Explain the build.\n")
    write(cmds / "model.md", "I would shadow /model\n")
    write(cmds / "empty.md", "---\ndescription: nothing\n---\n")
    problems: list[str] = []
    commands = load_commands(root, settings_for(root, env), env, problems)
    assert sorted(commands) == ["fix", "plain"]
    assert any("/model is a built-in command" in p for p in problems)
    assert any("empty.md ignored: it has no prompt" in p for p in problems)
    assert commands["fix"].argument_hint == "<issue> <file>"
    assert expand_invocation('/fix 42 "src/a b.py"', commands) == (
        'Fix issue 42 in src/a b.py. All: 42 "src/a b.py"')
    assert expand_invocation("/plain also tests", commands) == "Explain the build.\n\nalso tests"
    assert expand_invocation("/usr/bin/env is broken", commands) is None
    assert expand_invocation("/unknown x", commands) is None


def test_headless_prompt_rules(root: Path, env: dict[str, str]) -> None:
    write(Path(env["HOME"]) / ".agents" / "commands" / "plain.md", "Explain the build.\n")
    write(root / ".agents" / "commands" / "theirs.md", "Do their thing\n")
    write(root / ".claude" / "commands" / "claude-cmd.md", "From Claude Code\n")
    settings = settings_for(root, env)
    assert headless_prompt("/plain", root, settings, env) == "Explain the build."
    assert headless_prompt("//plain text", root, settings, env) == "/plain text"
    assert headless_prompt("/etc/hosts looks wrong", root, settings, env) == "/etc/hosts looks wrong"
    with pytest.raises(CommandError, match="unknown command /nope .*custom commands: /plain"):
        headless_prompt("/nope", root, settings, env)
    with pytest.raises(CommandError, match="not trusted"):
        headless_prompt("/theirs", root, settings, env)
    with pytest.raises(CommandError, match="command of the TUI"):
        headless_prompt("/model x", root, settings, env)
    assert [i.key for i in project_command_items(root, env)] == ["command /theirs", "command /claude-cmd"]
    assert "claude-cmd" in load_commands(root, settings_for(root, env, trust=True), env)


def test_tui_completion_lists_custom_commands_after_builtins() -> None:
    custom = (("review", "<file>", "Review a file"), ("mood", "", "Set the mood"))
    items = completions("/m", custom=custom)
    assert [v for v, _ in items] == ["/model ", "/mood"]
    assert ("/review ", "<file>  Review a file") in completions("/re", custom=custom)
