import subprocess

from realcost_agent.agent.prompt import load_instructions, repo_info, system_prompt


def _git(cwd, *args):
    subprocess.run(["git", "-c", "user.email=t@t", "-c", "user.name=t", *args], cwd=cwd, check=True,
                   capture_output=True)


def test_repo_info_summarizes_git_status_and_languages(tmp_path):
    _git(tmp_path, "init", "-q", "-b", "main")
    (tmp_path / "a.py").write_text("x = 1\n")
    (tmp_path / "b.py").write_text("y = 2\n")
    (tmp_path / "c.js").write_text("let z\n")
    _git(tmp_path, "add", "a.py", "c.js")
    _git(tmp_path, "commit", "-qm", "init")
    (tmp_path / "a.py").write_text("x = 2\n")
    info = repo_info(tmp_path)
    assert info.is_git and info.branch == "main"
    assert info.status == "1 modified, 1 untracked"
    assert info.languages[0] == "Python"
    assert "JavaScript" in info.languages


def test_system_prompt_includes_agents_md(tmp_path):
    (tmp_path / "AGENTS.md").write_text("Always run `make check` before finishing.\n")
    info = repo_info(tmp_path)
    instructions = load_instructions(tmp_path, ["AGENTS.md", "MISSING.md"])
    prompt = system_prompt(info, instructions)
    assert [name for name, _ in instructions] == ["AGENTS.md"]
    assert "Always run `make check` before finishing." in prompt
    assert str(tmp_path) in prompt
    assert "Not a git repository." in prompt
