"""Units of containment: the hardened git argv/env, protected paths in decide_call, the git
commands that may run outside the sandbox, and the sandbox's mounts."""
from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from realcost_agent.tools.gitsafe import config_args, git_env, is_program_key, local_program_keys, run_git
from realcost_agent.agent.safety.gitcmd import git_write_plan
from realcost_agent.agent.safety.protected import ProtectedPaths, protected_paths, touched_paths
from realcost_agent.agent.safety.rules import decide_call, parse_rules
from realcost_agent.agent.safety.sandbox import bwrap_available, protected_mounts, unavailable_reason, wrap_command


def _repo(root: Path) -> Path:
    root.mkdir(exist_ok=True)
    subprocess.run(["git", "init", "-q"], cwd=root, check=True)
    return root


# ------------------------------------------------------------------------------- gitsafe

def test_static_overrides_and_env():
    args = config_args()
    assert args[0] == "--no-pager"
    pairs = {args[i + 1] for i, a in enumerate(args) if a == "-c"}
    for want in ("core.fsmonitor=false", "core.hooksPath=/dev/null", "core.pager=cat",
                 "credential.helper=", "diff.external="):
        assert want in pairs
    env = git_env({"GIT_DIR": "/x", "GIT_SSH_COMMAND": "evil", "GIT_CONFIG_COUNT": "1",
                   "GIT_CONFIG_KEY_0": "core.fsmonitor", "PATH": "/bin"})
    assert "GIT_DIR" not in env and "GIT_SSH_COMMAND" not in env
    assert "GIT_CONFIG_COUNT" not in env and "GIT_CONFIG_KEY_0" not in env
    assert env["GIT_CONFIG_NOSYSTEM"] == "1" and env["PATH"] == "/bin"
    assert "GIT_CONFIG_GLOBAL" not in env
    assert git_env({}, user_config=False)["GIT_CONFIG_GLOBAL"] == os.devnull


@pytest.mark.parametrize("key,program", [
    ("filter.lfs.clean", True), ("filter.x.process", True), ("diff.pdf.textconv", True),
    ("diff.x.command", True), ("merge.ours.driver", True), ("credential.https://h.helper", True),
    ("pager.log", True), ("core.sshCommand", True), ("core.fsmonitor", True),
    ("user.name", False), ("core.filemode", False), ("remote.origin.url", False),
])
def test_program_keys(key, program):
    assert is_program_key(key) is program


def test_local_program_keys_are_emptied_including_included_files(tmp_path):
    root = _repo(tmp_path / "r")
    inc = tmp_path / "inc.cfg"
    inc.write_text('[filter "inc"]\n\tsmudge = evil\n')
    with open(root / ".git" / "config", "a") as f:
        f.write('[filter "Evil"]\n\tclean = evil\n\trequired = true\n[include]\n\tpath = '
                f"{inc}\n")
    keys = local_program_keys(root)
    assert "filter.Evil.clean" in keys and "filter.inc.smudge" in keys
    args = config_args(root)
    assert "filter.Evil.clean=" in args and "filter.inc.smudge=" in args
    assert "filter.Evil.required=false" in args


def test_run_git_ignores_a_planted_fsmonitor(tmp_path):
    root = _repo(tmp_path / "r")
    sentinel = tmp_path / "ran"
    subprocess.run(["git", "config", "core.fsmonitor", f"touch {sentinel}; false"], cwd=root,
                   check=True)
    (root / "a").write_text("x")
    assert run_git(root, "status", "--porcelain").returncode == 0
    assert not sentinel.exists()
    subprocess.run(["git", "status"], cwd=root, capture_output=True)  # control: it does run
    assert sentinel.exists()


# ------------------------------------------------------------------------------ protected

@pytest.fixture
def prot(tmp_path) -> ProtectedPaths:
    root = tmp_path / "p"
    root.mkdir()
    env = {"AGENT_DATA_HOME": str(tmp_path / "data"), "AGENT_CONFIG_HOME": str(tmp_path / "cfg")}
    return protected_paths(root, ["AGENTS.md", "docs/AI.md"], env)


@pytest.mark.parametrize("path,hit", [
    (".agent/config.toml", True), ("AGENTS.md", True), ("x/y/AGENTS.md", True),
    ("Agents.md", True), ("docs/AI.md", True), ("other/AI.md", True), (".git/config", True),
    ("sub/.git/hooks/x", True), (".env", True), (".env.production", True), (".envrc", True),
    ("src/main.py", False), ("README.md", False), ("environment.py", False),
    ("agent/config.toml", False), ("docs/agents.txt", False),
])
def test_protected_names(prot, path, hit):
    assert (prot.check(path) is not None) is hit


def test_protected_outside_dirs_and_symlinks(prot, tmp_path):
    assert prot.check(str(tmp_path / "data" / "ledger.sqlite3")) is not None
    assert prot.check(str(tmp_path / "cfg" / "config.toml")) is not None
    (prot.root / ".agent").mkdir()
    (prot.root / "notes").symlink_to(prot.root / ".agent")
    assert prot.check("notes/config.toml") is not None
    assert prot.check("notes2/config.toml") is None


def test_a_project_inside_the_data_dir_is_not_protected_whole(tmp_path):
    root = tmp_path / "data" / "proj"
    root.mkdir(parents=True)
    p = protected_paths(root, ["AGENTS.md"], {"AGENT_DATA_HOME": str(tmp_path / "data"),
                                              "AGENT_CONFIG_HOME": str(tmp_path)})
    assert p.check("main.py") is None and p.check(".env") is not None


def test_touched_paths():
    patch = ("*** Begin Patch\n*** Add File: a.py\n+x\n*** Update File: b.py\n*** Move to: "
             ".agent/c\n@@\n-a\n+b\n*** Delete File: .env\n*** End Patch\n")
    assert touched_paths("apply_patch", {"patch": patch}) == ["a.py", "b.py", ".agent/c", ".env"]
    assert touched_paths("copy_file", {"source": "a", "destination": "AGENTS.md"}) == ["a", "AGENTS.md"]
    assert touched_paths("future", {"target_path": "x", "paths": ["y", 3]}) == ["x", "y"]


def _decide(prot, tool, args, *, rules=(), interactive=False, mode="full-auto", approved=True):
    return decide_call(mode, tool, True, args, parse_rules(list(rules)), interactive=interactive,
                       approved_for_session=approved, root=prot.root, protected=prot)


def test_decide_protected(prot):
    d = _decide(prot, "write_file", {"path": ".agent/config.toml", "content": ""}, interactive=True)
    assert d.action == "ask" and d.protected and "protected path .agent/config.toml" in d.reason
    d = _decide(prot, "write_file", {"path": ".agent/config.toml", "content": ""})
    assert d.action == "deny" and "protected path" in d.reason
    # A bare `*` does not name the path; a rule that spells it out does.
    star = [{"tool": "write_file", "pattern": "*", "action": "allow"}]
    assert _decide(prot, "write_file", {"path": ".env", "content": ""}, rules=star).action == "deny"
    named = [{"tool": "write_file", "pattern": ".env.example", "action": "allow"}]
    assert _decide(prot, "write_file", {"path": ".env.example", "content": ""}, rules=named).action == "allow"
    assert _decide(prot, "write_file", {"path": ".env", "content": ""}, rules=named).action == "deny"
    # A deny rule and read-only mode still win; ordinary files follow the mode.
    assert _decide(prot, "write_file", {"path": "a.py", "content": ""}).action == "allow"
    ro = _decide(prot, "write_file", {"path": ".env", "content": ""}, mode="read-only")
    assert ro.action == "deny" and "read-only" in ro.reason


# ------------------------------------------------------------------------- git outside

@pytest.mark.parametrize("command,plan", [
    ("git commit -m 'fix: (x)!'", True), ("git add -A && git commit -qm wip", True),
    ("git reset --hard HEAD~1", True), ("git checkout -b feat", True), ("git stash pop", True),
    ("git status", False), ("git diff", False), ("git branch", False), ("git stash list", False),
    ("git restore a.py", False), ("git log -p", False),
    ("git -c core.hooksPath=/x commit", False), ("git -C .. commit", False),
    ("git commit -m \"$(id)\"", False), ("git commit -m `id`", False), ("git commit; id", False),
    ("git commit | cat", False), ("git commit > ~/f", False), ("GIT_DIR=/x git commit", False),
    ("git rebase -x id HEAD", False), ("git rebase -ix id HEAD", False),
    ("git rebase --exec=id HEAD", False), ("git rebase --ex id HEAD", False),
    ("git merge -s evil x", False), ("git merge --strategy=evil x", False),
    ("git commit --template=/etc/x", False), ("git add ~/x", False),
    ("git config core.fsmonitor x", False), ("git push", False), ("git submodule update", False),
    ("sudo git commit", False), ("/usr/bin/git commit", False), ("git commit *", False),
    ("git commit\nid", False), ("git commit -m a\\;b", False),
])
def test_git_write_plan(command, plan):
    assert (git_write_plan(command) is not None) is plan


def test_git_outside_decisions(prot):
    args = {"command": "git commit -qm x"}
    ask = decide_call("full-auto", "run_command", True, args, [], interactive=True,
                      approved_for_session=True, root=prot.root, sandboxed=True)
    assert ask.action == "ask" and ask.git_outside
    deny = decide_call("full-auto", "run_command", True, args, [], interactive=False,
                       approved_for_session=True, root=prot.root, sandboxed=True)
    assert deny.action == "deny" and "writes .git" in deny.reason
    rule = parse_rules([{"tool": "run_command", "pattern": "git commit*", "action": "allow"}])
    allow = decide_call("full-auto", "run_command", True, args, rule, interactive=False,
                        approved_for_session=False, root=prot.root, sandboxed=True)
    assert allow.action == "allow" and allow.git_outside
    # Unsandboxed, nothing changes for git commands.
    off = decide_call("full-auto", "run_command", True, args, [], interactive=False,
                      approved_for_session=False, root=prot.root, sandboxed=False)
    assert off.action == "allow" and not off.git_outside


# ------------------------------------------------------------------------------- sandbox

def test_sandbox_command_line_protects_git_and_agent(tmp_path):
    root = _repo(tmp_path / "r")
    (root / "AGENTS.md").write_text("x")
    (root / ".env").write_text("A=1")
    (tmp_path / "data").mkdir()
    ro = protected_mounts(root)
    assert (root / ".agent").is_dir()  # created so a command cannot create a config there
    assert {str(root / n) for n in (".git", ".agent", "AGENTS.md", ".env")} <= set(ro)
    argv = wrap_command(["true"], root, network=False, readonly=ro, hide=[tmp_path / "data"],
                        env={"PATH": "/bin", "HOME": "/h"})
    assert argv.index("--bind") < argv.index("--ro-bind", argv.index("--bind"))
    assert ["--cap-drop", "ALL"] == argv[argv.index("--cap-drop"):argv.index("--cap-drop") + 2]
    assert "--clearenv" in argv and argv[argv.index("--clearenv") + 1] == "--setenv"
    assert ["--tmpfs", str(tmp_path / "data")] == argv[argv.index(str(tmp_path / "data")) - 1:
                                                      argv.index(str(tmp_path / "data")) + 1]


@pytest.mark.skipif(not bwrap_available(), reason=f"{unavailable_reason()}")
def test_sandbox_really_keeps_git_readonly_and_hides_the_environment(tmp_path):
    root = _repo(tmp_path / "r")
    script = ("git config core.fsmonitor evil; echo rc=$?; echo x > .agent/c; echo rc=$?; "
              "echo ok > file; env")
    argv = wrap_command(["/bin/bash", "-c", script], root, network=False,
                        readonly=protected_mounts(root), env={"PATH": os.environ["PATH"]})
    r = subprocess.run(argv, capture_output=True, text=True, timeout=30,
                       env={**os.environ, "SECRET_SHOULD_NOT_PASS": "zzz"})
    assert r.stdout.count("rc=0") == 0, r.stdout
    assert (root / "file").read_text() == "ok\n"
    assert "SECRET_SHOULD_NOT_PASS" not in r.stdout
    assert "fsmonitor" not in (root / ".git" / "config").read_text()


async def test_without_bwrap_one_warning_names_the_fix_and_commands_run_unsandboxed(tmp_path, monkeypatch):
    import realcost_agent.agent.safety.sandbox as sb
    from realcost_agent.agent import events as ev
    from realcost_agent.agent.config import ConfigError, Settings
    from realcost_agent.cli.doctor import sandbox_finding
    from realcost_agent.agent.session import Session
    from realcost_agent.providers.scripted import ScriptedProvider, text

    monkeypatch.setattr(sb, "find_bwrap", lambda: None)
    root = _repo(tmp_path / "r")
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "AGENT_DATA_HOME": str(tmp_path / "d"),
           "AGENT_CONFIG_HOME": str(tmp_path / "c")}
    s = Session(Settings(), root, env=env, provider_factory=lambda m: ScriptedProvider([[text("x")]]),
                journal=False)
    assert s.settings.sandbox == "auto" and not s.sandbox.sandboxed
    assert s.tool_runner.context("c").wrap_argv is None
    await s.start()
    warnings = []
    while not s._events.empty():
        e = s._events.get_nowait()
        if isinstance(e, ev.Warning):
            warnings.append(e.message)
    await s.close()
    assert len([w for w in warnings if "UNSANDBOXED" in w]) == 1
    assert "apt install bubblewrap" in next(w for w in warnings if "UNSANDBOXED" in w)
    finding = sandbox_finding("auto")
    assert finding.ok is False and "apt install bubblewrap" in finding.line()
    with pytest.raises(ConfigError, match="bubblewrap"):
        Session(Settings(sandbox="on"), root, env=env,
                provider_factory=lambda m: ScriptedProvider([]), journal=False)


@pytest.mark.skipif(not bwrap_available(), reason=f"{unavailable_reason()}")
def test_with_bwrap_the_default_session_is_sandboxed(tmp_path):
    from realcost_agent.agent.config import Settings
    from realcost_agent.agent.session import Session
    from realcost_agent.providers.scripted import ScriptedProvider

    root = _repo(tmp_path / "r")
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "AGENT_DATA_HOME": str(tmp_path / "d"),
           "AGENT_CONFIG_HOME": str(tmp_path / "c"), "OPENROUTER_API_KEY": "sk-or-v1-xxxxxxxxxxxxxxxxxxxx"}
    s = Session(Settings(), root, env=env, provider_factory=lambda m: ScriptedProvider([]),
                journal=False)
    assert s.sandbox.sandboxed
    argv = s.tool_runner.context("c").wrap_argv(["/bin/bash", "-c", "true"], root)
    assert argv[0].endswith("bwrap") and "--unshare-pid" in argv and "--clearenv" in argv
    assert "sk-or-v1-xxxxxxxxxxxxxxxxxxxx" not in " ".join(argv)
    assert ["--ro-bind", str(root / ".git"), str(root / ".git")] == argv[
        argv.index(str(root / ".git")) - 1:argv.index(str(root / ".git")) + 2]
