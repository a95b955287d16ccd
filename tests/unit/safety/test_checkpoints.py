"""Checkpoints: byte-exact restore of the project's files from a shadow repository in the data
dir, gitignored files included, and the user's git state (and .git itself) left alone."""
from __future__ import annotations

import os
import stat
import subprocess
import threading
from pathlib import Path

import pytest

from realcost_agent.agent.checkpoints import (
    REF_PREFIX,
    SKIP_DIRS,
    CheckpointError,
    Checkpoints,
    latest_session,
    legacy_refs,
    prune_sessions,
)
from realcost_agent.agent.config import Settings
from treestate import assert_same_tree, tree_digest, tree_state


def git(root: Path, *args: str, check: bool = True) -> str:
    r = subprocess.run(["git", "-c", "user.email=t@t", "-c", "user.name=t", *args], cwd=root,
                       capture_output=True, check=check)
    return r.stdout.decode("utf-8", "replace")


def put(root: Path, rel: str, data: bytes | str, mode: int | None = None) -> Path:
    p = root / rel
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_bytes(data.encode() if isinstance(data, str) else data)
    if mode is not None:
        os.chmod(p, mode)
    return p


def git_state(root: Path) -> dict[str, object]:
    gitdir = root / ".git"
    return {
        "head": git(root, "rev-parse", "HEAD", check=False),
        "branch": git(root, "symbolic-ref", "HEAD", check=False),
        "staged": git(root, "diff", "--cached"),
        "stash": git(root, "stash", "list"),
        "refs": git(root, "for-each-ref"),
        "index": (gitdir / "index").read_bytes() if (gitdir / "index").exists() else None,
    }


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A dirty repository: every kind of state a user's tree can be in."""
    root = tmp_path / "proj"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    put(root, ".gitignore", "*.log\nbuild/\nsecret.env\n.env\n")
    put(root, ".gitattributes", "* text=auto\n")  # a filter must not change restored bytes
    put(root, "tracked.txt", "one\ntwo\n")
    put(root, "staged.txt", "base\n")
    put(root, "deleted.txt", "gone soon\n")
    put(root, "run.sh", "#!/bin/sh\necho hi\n", 0o755)
    put(root, "crlf.txt", b"a\r\nb\r\n")
    put(root, "sub/nested.txt", "nested\n")
    os.symlink("tracked.txt", root / "link")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "init")
    put(root, "tracked.txt", "one\ntwo\nthree (unstaged)\n")
    put(root, "staged.txt", "base\nstaged line\n")
    git(root, "add", "staged.txt")
    put(root, "staged.txt", "base\nstaged line\nunstaged on top\n")
    (root / "deleted.txt").unlink()
    put(root, "untracked.txt", "new and untracked\n")
    put(root, "private.txt", "only me\n", 0o600)
    put(root, "ünï cödé.txt", "unicode name\n")
    put(root, "new\nline.txt", "newline in the name\n")
    put(root, 'quo"te\\back\tslash.txt', "quoting in the name\n")
    put(root, "app.log", "ignored log\n")
    put(root, "secret.env", "TOKEN=x\n")
    put(root, ".env", "API_KEY=sk-test-123\n", 0o600)
    put(root, "build/out.bin", b"\x00\x01ignored build output")
    (root / "empty-dir").mkdir()
    os.symlink("../outside-target", root / "dangling")
    return root


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


def simulate_agent(root: Path) -> None:
    put(root, "tracked.txt", "rewritten by the agent\n")
    put(root, "created.py", "print('agent')\n")
    put(root, "newdir/deep/file.txt", "agent dir\n")
    (root / "untracked.txt").unlink()
    (root / "sub" / "nested.txt").unlink()
    (root / "sub").rmdir()
    os.chmod(root / "run.sh", 0o644)
    os.chmod(root / "private.txt", 0o644)
    (root / "link").unlink()
    put(root, "link", "now a regular file\n")
    put(root, "crlf.txt", b"a\nb\n")
    os.symlink("created.py", root / "staged.txt.link")
    (root / ".env").unlink()  # gitignored, still restored
    put(root, "build/out.bin", b"rebuilt")
    (root / "empty-dir").rmdir()
    (root / "agent-empty").mkdir()


def test_snapshot_never_touches_the_projects_git(repo, data_dir):
    before, digest = git_state(repo), tree_digest(repo / ".git")
    status = git(repo, "status", "--porcelain")
    digest = tree_digest(repo / ".git")  # after status refreshed the index's stat data
    cps = Checkpoints(repo, "s1", data_dir=data_dir)
    cps.snapshot("first")
    put(repo, "tracked.txt", "changed\n")
    cps.snapshot("second")
    assert tree_digest(repo / ".git") == digest  # not a byte of .git changed
    assert git_state(repo) == before | {"index": (repo / ".git" / "index").read_bytes()}
    assert git(repo, "for-each-ref", REF_PREFIX) == ""  # nothing private in the user's repo
    assert status  # (the fixture is dirty)
    assert data_dir in cps.shadow.parents and (cps.shadow / "HEAD").is_file()
    # It holds copies of .env: other users of the machine cannot even list it.
    assert stat.S_IMODE(os.stat(data_dir / "checkpoints").st_mode) == 0o700
    assert cps.repo.refs(REF_PREFIX) == [REF_PREFIX + "s1"]


def test_restore_after_agent_edits_is_byte_exact_including_ignored_files(repo, data_dir):
    cps = Checkpoints(repo, "s1", data_dir=data_dir)
    before, before_git = tree_state(repo), git_state(repo)
    cp = cps.snapshot("before the agent")
    simulate_agent(repo)
    assert tree_state(repo) != before
    report = cps.restore(cp)
    assert_same_tree(before, tree_state(repo))
    assert git_state(repo) == before_git
    assert set(report.deleted) >= {"created.py", "newdir/deep/file.txt", "staged.txt.link"}
    assert set(report.created) >= {"untracked.txt", "sub/nested.txt", ".env"}
    assert set(report.restored) >= {"tracked.txt", "run.sh", "private.txt", "link", "crlf.txt",
                                    "build/out.bin"}
    assert report.skipped == [] and report.not_saved == []


def test_restore_after_reset_hard_and_clean_fdx_and_the_staged_state(repo, data_dir):
    cps = Checkpoints(repo, "s1", data_dir=data_dir)
    before, before_git = tree_state(repo), git_state(repo)
    cp = cps.snapshot("before destruction")
    simulate_agent(repo)
    git(repo, "reset", "-q", "--hard")
    git(repo, "clean", "-q", "-fdx")  # ignored files too
    git(repo, "gc", "-q", "--prune=now")  # and the staged blob is gone from .git
    assert "staged line" not in git(repo, "diff", "--cached")
    index_after_agent = (repo / ".git" / "index").read_bytes()
    cps.restore(cp)
    assert_same_tree(before, tree_state(repo))
    assert (repo / ".git" / "index").read_bytes() == index_after_agent  # restore left the index
    report = cps.restore(cp, index=True, backup=False)  # opt-in: put the staged change back too
    assert report.index_restored, report.index_note
    assert git(repo, "diff", "--cached") == before_git["staged"]
    assert git(repo, "fsck", "--no-dangling", check=False) == ""
    assert_same_tree(before, tree_state(repo))


def test_staged_state_is_not_restorable_outside_a_repository(tmp_path, data_dir):
    root = tmp_path / "plain"
    put(root, "a.txt", "a\n")
    cps = Checkpoints(root, "s1", data_dir=data_dir)
    report = cps.restore(cps.snapshot("x"), index=True, backup=False)
    assert not report.index_restored
    assert "not the top of a git repository" in report.index_note


def test_gitignore_edits_do_not_change_what_is_restored(repo, data_dir):
    cps = Checkpoints(repo, "s1", data_dir=data_dir)
    before = tree_state(repo)
    cp = cps.snapshot("x")
    put(repo, ".gitignore", "*\n")  # ignores everything, including the litter below
    put(repo, "litter.tmp", "agent junk\n")
    put(repo, "sub/.gitignore", "*\n")
    put(repo, "sub/junk.txt", "more junk\n")
    cps.restore(cp)
    assert_same_tree(before, tree_state(repo))


@pytest.mark.parametrize("victim", ["sub", "build"])
def test_symlink_planted_in_place_of_a_directory_is_not_followed(repo, tmp_path, data_dir, victim):
    outside = tmp_path / "outside"
    put(outside, "keep.txt", "outside\n")
    put(outside, "nested.txt", "not the project's\n")
    cps = Checkpoints(repo, "s1", data_dir=data_dir)
    before, outside_before = tree_state(repo), tree_state(outside)
    cp = cps.snapshot("x")
    for p in sorted((repo / victim).rglob("*"), reverse=True):
        p.unlink() if p.is_file() else p.rmdir()
    (repo / victim).rmdir()
    os.symlink(outside, repo / victim)
    agent_cp = cps.snapshot("agent state")  # records the link, never what it points at
    assert cps._tree(agent_cp.sha)[victim][0] == "120000"
    assert not any(p.startswith(victim + "/") for p in cps._tree(agent_cp.sha))
    cps.restore(cp)
    assert_same_tree(before, tree_state(repo))
    assert_same_tree(outside_before, tree_state(outside))


def test_directories_their_modes_and_unreadable_ones_are_restored(repo, data_dir):
    put(repo, "ro/file.txt", "in a read-only dir\n")
    os.chmod(repo / "ro", 0o555)
    os.chmod(repo / "sub", 0o700)
    cps = Checkpoints(repo, "s1", data_dir=data_dir)
    before = tree_state(repo)
    cp = cps.snapshot("x")
    os.chmod(repo / "sub", 0o000)  # the agent locks a directory
    os.chmod(repo / "ro", 0o755)
    put(repo, "ro/extra.txt", "agent\n")
    put(repo, "locked/junk.txt", "agent\n")
    os.chmod(repo / "locked", 0o000)  # and one of its own
    cps.restore(cp)
    assert_same_tree(before, tree_state(repo))
    os.chmod(repo / "ro", 0o755)  # let pytest clean up


def test_list_chain_and_get(repo, data_dir):
    cps = Checkpoints(repo, "session/with spaces", data_dir=data_dir)
    assert cps.list() == []
    a = cps.snapshot("first")
    put(repo, "x.txt", "x")
    b = cps.snapshot("second")
    listed = cps.list()
    assert [(c.id, c.label, c.sha) for c in listed] == [(1, "first", a.sha), (2, "second", b.sha)]
    assert cps.get(2) == listed[1] and cps.get(a.sha[:8]) == listed[0]
    assert cps._run("rev-parse", b.sha + "^1").decode().strip() == a.sha
    with pytest.raises(CheckpointError):
        cps.get(99)
    cps.restore(a, backup=False)
    assert not (repo / "x.txt").exists()


def test_unchanged_tree_reuses_the_checkpoint_within_a_turn(repo, data_dir):
    cps = Checkpoints(repo, "s1", data_dir=data_dir)
    a = cps.snapshot("t1: before run_command", turn="t1")
    again = cps.snapshot("t1: before run_command", turn="t1")
    assert (again.id, again.sha, again.created) == (a.id, a.sha, False)
    put(repo, "x.txt", "x")
    b = cps.snapshot("t1: before run_command", turn="t1")
    c = cps.snapshot("t2: before edit", turn="t2")  # a new turn always gets its own marker
    assert (b.id, b.created, c.id, c.created) == (2, True, 3, True)
    assert cps._tree(b.sha) == cps._tree(c.sha)


def test_undo_target_is_the_start_of_the_last_turn_and_steps_back(repo, data_dir):
    cps = Checkpoints(repo, "s1", data_dir=data_dir)
    start = tree_state(repo)
    t1 = cps.snapshot("t1: before write_file", turn="t1")
    put(repo, "one.txt", "turn 1\n")
    after_t1 = tree_state(repo)
    t2 = cps.snapshot("t2: before run_command", turn="t2")
    put(repo, "two.txt", "turn 2\n")
    cps.snapshot("t2: before run_command", turn="t2")
    put(repo, "three.txt", "turn 2 again\n")
    assert cps.undo_target() == t2
    cps.restore(cps.undo_target())
    assert_same_tree(after_t1, tree_state(repo))
    assert cps.undo_target() == t1  # a second undo goes one turn further back
    cps.restore(cps.undo_target())
    assert_same_tree(start, tree_state(repo))
    assert cps.undo_target() is None
    put(repo, "user.txt", "the user works on\n")  # after a change, undo is about that again
    assert cps.undo_target() is not None


def test_backup_makes_restore_undoable(repo, data_dir):
    cps = Checkpoints(repo, "s1", data_dir=data_dir)
    cp = cps.snapshot("x")
    simulate_agent(repo)
    agent_state = tree_state(repo)
    report = cps.restore(cp)
    cps.restore(report.backup, backup=False)
    assert_same_tree(agent_state, tree_state(repo))


def test_stat_cache_sees_same_size_same_mtime_rewrites(repo, data_dir):
    cps = Checkpoints(repo, "s1", data_dir=data_dir)
    p = repo / "tracked.txt"
    old = os.stat(p).st_mtime_ns - 3600 * 10**9
    os.utime(p, ns=(old, old))  # old enough to be cached
    first = cps.snapshot("a")
    original = p.read_bytes()
    p.write_bytes(original.upper())  # same size
    os.utime(p, ns=(old, old))  # and the same mtime: only ctime tells
    cps.snapshot("b")
    cps.restore(first, backup=False)
    assert p.read_bytes() == original


def test_stat_cache_survives_a_new_session_and_a_lost_shadow(repo, data_dir):
    for p in repo.rglob("*"):  # old enough to be cached (recent writes are re-hashed)
        if p.is_file() and not p.is_symlink() and ".git" not in p.parts:
            os.utime(p, ns=(10**9, 10**9))
    Checkpoints(repo, "s1", data_dir=data_dir).snapshot("a")
    cps = Checkpoints(repo, "s2", data_dir=data_dir)
    assert cps._cache  # loaded from the shadow: the first snapshot of a new session is cheap
    import shutil

    shutil.rmtree(cps.shadow)  # the objects the cache names are gone
    cp = cps.snapshot("b")
    put(repo, "tracked.txt", "changed\n")
    cps.restore(cp, backup=False)
    assert (repo / "tracked.txt").read_text() == "one\ntwo\nthree (unstaged)\n"
    # Only the objects gone (HEAD still there), under a cache a new session loads from disk.
    again = Checkpoints(repo, "s3", data_dir=data_dir)
    assert again._cache
    for d in (again.shadow / "objects").iterdir():
        if len(d.name) == 2 or d.name == "pack":
            shutil.rmtree(d)
    cp = again.snapshot("c")
    (repo / "tracked.txt").unlink()
    again.restore(cp, backup=False)
    assert (repo / "tracked.txt").read_text() == "one\ntwo\nthree (unstaged)\n"


def test_per_file_and_total_caps_leave_files_alone_and_say_so(repo, data_dir):
    cps = Checkpoints(repo, "s1", data_dir=data_dir, max_file_bytes=1000, max_total_bytes=3000)
    put(repo, "big.bin", b"x" * 5000)
    put(repo, "mid1.bin", b"1" * 900)
    put(repo, "mid2.bin", b"2" * 950)
    put(repo, "mid3.bin", b"3" * 990)
    cp = cps.snapshot("x")
    unsaved = cps._meta(cp.sha)["unsaved"]
    assert "per-file cap" in unsaved["big.bin"]
    assert list(k for k in unsaved if k != "big.bin") == ["mid3.bin"]  # the largest goes first
    put(repo, "big.bin", b"y" * 5000)
    (repo / "mid3.bin").unlink()
    report = cps.restore(cp, backup=False)
    assert (repo / "big.bin").read_bytes() == b"y" * 5000  # not saved: not overwritten
    assert report.skipped == ["mid3.bin"]
    assert any(n.startswith("big.bin (larger than") for n in report.not_saved)


def test_skipped_directories_are_recorded_left_alone_and_reported(tmp_path, data_dir):
    root = tmp_path / "plain"
    put(root, "a.txt", "a\n")
    put(root, "node_modules/dep/index.js", "dependency\n")
    put(root, "pkg/.venv/lib/x.py", "venv\n")
    cps = Checkpoints(root, "s1", data_dir=data_dir)
    cp = cps.snapshot("x")
    assert cps._meta(cp.sha)["skipped_dirs"] == ["node_modules", "pkg/.venv"]
    assert not any("node_modules" in p for p in cps._tree(cp.sha))
    put(root, "node_modules/dep/index.js", "reinstalled\n")
    put(root, "a.txt", "changed\n")
    report = cps.restore(cp)
    assert (root / "node_modules/dep/index.js").read_text() == "reinstalled\n"
    assert (root / "a.txt").read_text() == "a\n"
    assert "node_modules/ (directory not saved by default)" in report.not_saved
    assert "pkg/.venv/ (directory not saved by default)" in report.not_saved
    put(root, "web/node_modules/x.js", "installed by the agent\n")
    git(root / "web", "init", "-q")
    report = cps.restore(cp)
    assert "web/node_modules/ (directory not saved by default; appeared since)" in report.not_saved
    assert "web/.git (a nested git repository; appeared since)" in report.not_saved
    assert (root / "web" / "node_modules" / "x.js").exists()  # never covered: never removed


def test_restore_skips_what_the_checkpoint_skipped_not_what_the_restorer_would(tmp_path, data_dir):
    root = tmp_path / "plain"
    put(root, "node_modules/x.js", "saved: the session did not skip node_modules\n")
    put(root, "vendor/y.txt", "skipped by the session\n")
    cp = Checkpoints(root, "s1", data_dir=data_dir, skip_dirs=["vendor"]).snapshot("x")
    put(root, "node_modules/x.js", "changed\n")
    put(root, "node_modules/new.js", "new\n")
    put(root, "vendor/y.txt", "changed\n")
    cli = Checkpoints(root, "s1", data_dir=data_dir)  # `agent undo`: default skip_dirs
    cli.restore(cli.get(cp.id))
    assert (root / "node_modules/x.js").read_text().startswith("saved")
    assert not (root / "node_modules/new.js").exists()
    assert (root / "vendor/y.txt").read_text() == "changed\n"


def test_skip_dirs_default_matches_the_setting():
    assert tuple(Settings().checkpoint_skip_dirs) == SKIP_DIRS


def test_checkpoint_caps_come_from_the_user_config_and_are_checked(tmp_path):
    from realcost_agent.agent.config import ConfigError, load_settings

    env = {"AGENT_CONFIG_HOME": str(tmp_path / "cfg")}
    put(tmp_path, "cfg/config.toml", "checkpoint_max_file_mb = 5\ncheckpoint_max_total_mb = 50\n"
                                     "checkpoint_skip_dirs = [\"target\", \"node_modules\"]\n")
    (tmp_path / "proj").mkdir()
    s = load_settings(tmp_path / "proj", env=env)
    assert (s.checkpoint_max_file_mb, s.checkpoint_max_total_mb, s.checkpoint_skip_dirs) == (
        5.0, 50.0, ["target", "node_modules"])
    put(tmp_path, "cfg/config.toml", "checkpoint_max_total_mb = 0\n")
    with pytest.raises(ConfigError, match="checkpoint_max_total_mb must be positive"):
        load_settings(tmp_path / "proj", env=env)


def test_subdirectory_root_only_covers_itself(repo, data_dir):
    root = repo / "sub"
    cps = Checkpoints(root, "s1", data_dir=data_dir)
    cp = cps.snapshot("x")
    put(root, "agent.txt", "new\n")
    put(repo, "outside-root.txt", "the user's, not ours\n")
    put(root, "nested.txt", "changed\n")
    cps.restore(cp, backup=False)
    assert sorted(p.name for p in root.iterdir()) == ["nested.txt"]
    assert (root / "nested.txt").read_text() == "nested\n"
    assert (repo / "outside-root.txt").exists()


def test_repository_without_commits(tmp_path, data_dir):
    root = tmp_path / "fresh"
    root.mkdir()
    git(root, "init", "-q")
    put(root, "a.txt", "a\n")
    cps = Checkpoints(root, "s1", data_dir=data_dir)
    cp = cps.snapshot("x")
    (root / "a.txt").unlink()
    put(root, "b.txt", "b\n")
    cps.restore(cp)
    assert sorted(p.name for p in root.iterdir()) == [".git", "a.txt"]
    assert git(root, "rev-parse", "-q", "--verify", "HEAD", check=False) == ""


def test_non_git_directory_and_shadow_shared_by_sessions(tmp_path, data_dir):
    root = tmp_path / "plain"
    put(root, "a.txt", "a\n")
    put(root, "bin/tool", "#!/bin/sh\n", 0o755)
    os.symlink("a.txt", root / "alias")
    before = tree_state(root)
    cps = Checkpoints(root, "s1", data_dir=data_dir)
    cp = cps.snapshot("x")
    assert not (root / ".git").exists()
    put(root, "a.txt", "changed\n")
    put(root, "agent.txt", "new\n")
    (root / "bin" / "tool").unlink()
    report = cps.restore(cp)
    assert_same_tree(before, tree_state(root))
    assert report.deleted == ["agent.txt"] and report.created == ["bin/tool"]
    assert Checkpoints(root, "s2", data_dir=data_dir).shadow == cps.shadow
    other = tmp_path / "other"
    other.mkdir()
    assert Checkpoints(other, "s1", data_dir=data_dir).shadow != cps.shadow


def test_data_dir_inside_the_project_is_never_saved_or_restored(tmp_path):
    root = tmp_path / "proj"
    put(root, "a.txt", "a\n")
    cps = Checkpoints(root, "s1", data_dir=root / ".data")
    cp = cps.snapshot("x")
    assert not any(p.startswith(".data") for p in cps._tree(cp.sha))
    cps.snapshot("y")
    cps.restore(cp)
    assert (cps.shadow / "HEAD").exists() and len(cps.list()) == 3


def test_drop_prune_and_latest_session(repo, data_dir):
    for sid in ("a", "b", "c"):
        cps = Checkpoints(repo, sid, data_dir=data_dir)
        cps.snapshot(sid)
    assert latest_session(repo, data_dir=data_dir) == "c"  # same second: the ref's mtime tells
    Checkpoints(repo, "b", data_dir=data_dir).snapshot("again")
    assert latest_session(repo, data_dir=data_dir) == "b"
    Checkpoints(repo, "a", data_dir=data_dir).drop()
    assert sorted(cps.repo.refs(REF_PREFIX)) == [REF_PREFIX + "b", REF_PREFIX + "c"]
    assert len(prune_sessions(repo, keep=1, data_dir=data_dir)) == 1
    assert len(cps.repo.refs(REF_PREFIX)) == 1
    assert latest_session(repo / "sub", data_dir=data_dir) is None  # another project
    assert len(list((data_dir / "checkpoints").glob("*.git"))) == 1  # looking created nothing


def test_legacy_refs_in_the_projects_git_are_detected_and_left(repo, data_dir):
    assert not legacy_refs(repo)
    head = git(repo, "rev-parse", "HEAD").strip()
    git(repo, "update-ref", REF_PREFIX + "old-session", head)
    assert legacy_refs(repo)
    Checkpoints(repo, "new", data_dir=data_dir).snapshot("x")
    assert git(repo, "for-each-ref", "--format=%(refname)", REF_PREFIX).split() == [
        REF_PREFIX + "old-session"]


def test_concurrent_sessions_do_not_corrupt_the_shadow(repo, data_dir):
    errors: list[BaseException] = []

    def session(sid: str) -> None:
        try:
            cps = Checkpoints(repo, sid, data_dir=data_dir)
            for n in range(6):
                put(repo, f"{sid}-{n}.txt", f"{sid} {n}\n")
                cps.snapshot(f"{sid} {n}", turn=f"t{n}")
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=session, args=(f"s{i}",)) for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert errors == []
    cps = Checkpoints(repo, "s0", data_dir=data_dir)
    assert [c.id for c in cps.list()] == [1, 2, 3, 4, 5, 6]
    fsck = subprocess.run(["git", "--git-dir", str(cps.shadow), "fsck", "--strict"],
                          capture_output=True, text=True)
    assert fsck.returncode == 0, fsck.stderr
    assert len(cps.repo.refs(REF_PREFIX)) == 3


def test_concurrent_processes_share_the_shadow_safely(repo, data_dir):
    import sys

    code = (
        "import sys\nfrom pathlib import Path\nfrom realcost_agent.agent.checkpoints import Checkpoints\n"
        "root, data, sid = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]\n"
        "cps = Checkpoints(root, sid, data_dir=data)\n"
        "for n in range(5):\n"
        "    (root / f'{sid}-{n}.txt').write_text(sid)\n"
        "    cps.snapshot(f'{sid} {n}', turn=f't{n}')\n"
    )
    procs = [subprocess.Popen([sys.executable, "-c", code, str(repo), str(data_dir), f"p{i}"],
                              stderr=subprocess.PIPE, text=True) for i in range(3)]
    for p in procs:
        _, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
    for i in range(3):
        assert [c.id for c in Checkpoints(repo, f"p{i}", data_dir=data_dir).list()] == [1, 2, 3, 4, 5]
    shadow = Checkpoints(repo, "x", data_dir=data_dir).shadow
    fsck = subprocess.run(["git", "--git-dir", str(shadow), "fsck", "--strict"],
                          capture_output=True, text=True)
    assert fsck.returncode == 0, fsck.stderr


def test_one_checkpoints_object_shared_by_threads_keeps_a_straight_chain(repo, data_dir):
    cps = Checkpoints(repo, "s1", data_dir=data_dir)
    errors: list[BaseException] = []

    def work(tag: str) -> None:
        try:
            for n in range(5):
                put(repo, f"{tag}{n}.txt", tag)
                cps.snapshot(f"{tag}{n}", turn=f"{tag}{n}")
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(t,)) for t in "xy"]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert errors == []
    assert [c.id for c in cps.list()] == list(range(1, 11))  # no lost or forked update


def test_git_environment_and_config_redirects_are_ignored(repo, tmp_path, data_dir):
    decoy = tmp_path / "decoy"
    decoy.mkdir()
    git(decoy, "init", "-q")
    marker = tmp_path / "ran"
    env = {**os.environ, "GIT_DIR": str(decoy / ".git"), "GIT_INDEX_FILE": str(decoy / "idx"),
           "GIT_OBJECT_DIRECTORY": str(decoy / ".git" / "objects"),
           "GIT_CONFIG_COUNT": "1", "GIT_CONFIG_KEY_0": "core.fsmonitor",
           "GIT_CONFIG_VALUE_0": f"touch {marker}; false"}
    decoy_before = tree_digest(decoy)
    cps = Checkpoints(repo, "s1", data_dir=data_dir, env=env)
    cps.restore(cps.snapshot("x"))
    assert cps.repo.refs(REF_PREFIX) == [REF_PREFIX + "s1"]
    assert tree_digest(decoy) == decoy_before
    assert not marker.exists()


def test_hostile_git_config_hooks_filters_and_global_config_never_run(repo, tmp_path, data_dir):
    marker = tmp_path / "ran"
    evil = put(tmp_path, "evil.sh", f"#!/bin/sh\necho \"$0 $*\" >> {marker}\ncat\n", 0o755)
    with open(repo / ".git" / "config", "a") as f:
        f.write(f"[core]\n\tfsmonitor = {evil}\n\thooksPath = {tmp_path}\n"
                f"\tpager = {evil}\n\tsshCommand = {evil}\n"
                f"[filter \"evil\"]\n\tclean = {evil}\n\tsmudge = {evil}\n\tprocess = {evil}\n"
                f"\trequired = true\n[diff]\n\texternal = {evil}\n[gc]\n\tauto = 1\n")
    put(repo, ".gitattributes", "* filter=evil diff=evil\n")
    for hook in ("reference-transaction", "post-index-change", "post-checkout", "pre-commit"):
        put(repo, f".git/hooks/{hook}", evil.read_text(), 0o755)
        put(tmp_path, hook, evil.read_text(), 0o755)
    home = tmp_path / "home"  # a hostile global config, in both places git would look
    put(home, ".gitconfig", f"[core]\n\tfsmonitor = {evil}\n\thooksPath = {tmp_path}\n")
    put(home, ".config/git/config", f"[core]\n\tfsmonitor = {evil}\n")
    put(home, ".config/git/attributes", "* filter=evil\n")
    env = {**os.environ, "HOME": str(home), "XDG_CONFIG_HOME": str(home / ".config")}
    git_before = tree_digest(repo / ".git")
    cps = Checkpoints(repo, "s1", data_dir=data_dir, env=env)
    before = tree_state(repo)
    cp = cps.snapshot("x")
    simulate_agent(repo)
    cps.restore(cp)
    cps.restore(cp, index=True, backup=False)
    assert not marker.exists(), marker.read_text()
    assert_same_tree(before, tree_state(repo))  # bytes as on disk: no clean/smudge filter
    assert tree_digest(repo / ".git") != git_before  # (only the explicit index restore wrote)
    config = (cps.shadow / "config").read_text()
    assert "hooksPath = /dev/null" in config and "fsmonitor = false" in config


def test_many_new_files_go_into_one_pack_and_restore_exactly(tmp_path, data_dir):
    root = tmp_path / "plain"
    for n in range(300):
        put(root, f"d{n % 9}/f{n}.txt", f"file {n}\n" * (n % 5) + ("\x00\xff" if n % 7 == 0 else ""))
    put(root, "unreadable-later.txt", "x\n")
    before = tree_state(root)
    cps = Checkpoints(root, "s1", data_dir=data_dir)
    cp = cps.snapshot("x")
    assert list((cps.shadow / "objects" / "pack").glob("*.pack"))  # fast-import wrote a pack
    for p in sorted(root.rglob("*"), reverse=True):
        p.unlink() if p.is_file() else p.rmdir()
    cps.restore(cp, backup=False)
    assert_same_tree(before, tree_state(root))
    fsck = subprocess.run(["git", "--git-dir", str(cps.shadow), "fsck", "--strict"],
                          capture_output=True, text=True)
    assert fsck.returncode == 0, fsck.stderr


def test_fifos_and_files_swapped_for_fifos_or_links_never_block_or_get_followed(tmp_path, data_dir):
    from realcost_agent.agent.shadow_git import read_regular

    root = tmp_path / "plain"
    put(root, "a.txt", "a\n")
    os.mkfifo(root / "pipe")
    cps = Checkpoints(root, "s1", data_dir=data_dir)
    cp = cps.snapshot("x")  # a fifo is neither read (it would block) nor saved
    assert sorted(cps._tree(cp.sha)) == ["a.txt"]
    assert read_regular(str(root / "pipe")) is None  # (as if swapped in after the listing)
    os.symlink("/etc/hostname", root / "link")
    assert read_regular(str(root / "link")) is None
    cps.restore(cp, backup=False)
    assert stat.S_ISFIFO(os.lstat(root / "pipe").st_mode)  # not ours: left alone
    assert not os.path.lexists(root / "link")


def test_a_flood_of_files_past_the_limit_does_not_stop_the_undo(tmp_path, data_dir):
    root = tmp_path / "plain"
    put(root, "a.txt", "a\n")
    before = tree_state(root)
    cps = Checkpoints(root, "s1", data_dir=data_dir, max_files=20)
    cp = cps.snapshot("x", turn="t1")
    for n in range(60):
        put(root, f"flood/{n}.txt", "")
    (root / "a.txt").unlink()
    with pytest.raises(CheckpointError, match="more than 20 files"):
        cps.snapshot("y", turn="t1")
    assert cps.undo_target() == cp
    report = cps.restore(cp)
    assert report.backup is None and "could not be saved" in report.backup_note
    assert_same_tree(before, tree_state(root))


def test_trees_are_written_exactly_as_git_writes_them(repo, data_dir):
    """The shadow builds trees itself (a process fewer per checkpoint): same bytes as git's
    write-tree, including names that sort differently as directories (a, a.b, a/, a-b, a0)."""
    for rel in ("a.b", "a/b", "a-b", "a0", "a/c/d", "A", "b/", "é/x", "z\x01"):
        if not rel.endswith("/"):
            put(repo, rel, rel)
    os.symlink("a", repo / "a.link")
    cps = Checkpoints(repo, "s1", data_dir=data_dir)
    scan = cps._scan()
    files, _ = cps._hash(scan.files)
    entries = {rel: (m, sha) for rel, (m, sha, _) in files.items()}
    ours = cps.repo.write_tree(entries)
    index = str(data_dir / "idx")
    info = b"".join(f"{m} blob {sha}\t".encode() + os.fsencode(rel) + b"\0"
                    for rel, (m, sha) in entries.items())
    cps._run("update-index", "-z", "--index-info", input=info, index=index)
    assert cps._run("write-tree", index=index).decode().strip() == ours
    assert cps.repo.write_tree({}) == "4b825dc642cb6eb9a060e54bf8d69288fbee4904"  # the empty tree
    fsck = subprocess.run(["git", "--git-dir", str(cps.shadow), "fsck", "--strict"],
                          capture_output=True, text=True)
    assert fsck.returncode == 0, fsck.stderr


def test_linked_worktree_keeps_its_own_staged_state(repo, tmp_path, data_dir):
    wt = tmp_path / "wt"
    git(repo, "worktree", "add", "-q", "-b", "side", str(wt))
    put(wt, "tracked.txt", "staged in the worktree\n")
    git(wt, "add", "tracked.txt")
    staged = git(wt, "diff", "--cached")
    cps = Checkpoints(wt, "s1", data_dir=data_dir)
    cp = cps.snapshot("x")
    assert cps._meta(cp.sha)["index"], cps._meta(cp.sha)["index_note"]
    git(wt, "reset", "-q", "--hard")
    report = cps.restore(cp, index=True)
    assert report.index_restored and git(wt, "diff", "--cached") == staged
    assert (wt / "tracked.txt").read_text() == "staged in the worktree\n"
    assert "staged line" in git(repo, "diff", "--cached")  # the main worktree's index untouched


def test_unreadable_file_is_left_alone_not_deleted(tmp_path, data_dir, monkeypatch):
    root = tmp_path / "plain"
    p = put(root, "locked.txt", "secret\n", 0o000)
    cps = Checkpoints(root, "s1", data_dir=data_dir)
    if os.geteuid() == 0:  # root reads anything: make hashing fail as it would for a user
        real = Checkpoints._hash_objects
        monkeypatch.setattr(Checkpoints, "_hash_objects", lambda self, todo: [
            None if t[0] == "locked.txt" else sha for t, sha in zip(todo, real(self, todo))])
    cp = cps.snapshot("x")
    assert cps._meta(cp.sha)["unsaved"] == {"locked.txt": "could not be read"}
    report = cps.restore(cp, backup=False)
    assert p.exists() and "locked.txt (could not be read)" in report.not_saved


def test_symlinked_directory_at_snapshot_time_is_saved_as_a_link(tmp_path, data_dir):
    outside = tmp_path / "outside"
    put(outside, "big.txt", "not ours\n")
    root = tmp_path / "plain"
    put(root, "a.txt", "a\n")
    os.symlink(outside, root / "vendor")
    cps = Checkpoints(root, "s1", data_dir=data_dir)
    cp = cps.snapshot("x")
    assert sorted(cps._tree(cp.sha)) == ["a.txt", "vendor"]
    (root / "vendor").unlink()
    (root / "vendor").mkdir()
    put(root, "vendor/planted.txt", "agent\n")
    cps.restore(cp, backup=False)
    assert os.readlink(root / "vendor") == str(outside)
    assert sorted(p.name for p in outside.iterdir()) == ["big.txt"]


def _umask() -> int:
    from realcost_agent.tools.fileops import _umask as umask

    return umask()


def test_file_mode_defaults_follow_the_umask(tmp_path, data_dir):
    root = tmp_path / "plain"
    p = put(root, "a.txt", "a\n")
    cps = Checkpoints(root, "s1", data_dir=data_dir)
    cp = cps.snapshot("x")
    p.unlink()
    cps.restore(cp, backup=False)
    assert stat.S_IMODE(os.stat(p).st_mode) == 0o666 & ~_umask()
