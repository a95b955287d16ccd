"""Checkpoints: byte-exact restore of the working tree, and the user's git state left alone."""
from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path

import pytest

from agent.checkpoints import REF_PREFIX, CheckpointError, Checkpoints, prune_sessions


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


def state(root: Path) -> dict[str, tuple]:
    """Everything on disk under root except .git: kind, content or link target, permissions."""
    out = {}
    for dirpath, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if not (Path(dirpath) == root and d == ".git")]
        for name in dirs + files:
            p = Path(dirpath) / name
            rel = p.relative_to(root).as_posix()
            st = os.lstat(p)
            if stat.S_ISLNK(st.st_mode):
                out[rel] = ("link", os.readlink(p))
            elif stat.S_ISDIR(st.st_mode):
                if not p.is_symlink():
                    out[rel] = ("dir",)
            else:
                out[rel] = ("file", p.read_bytes(), stat.S_IMODE(st.st_mode))
    return out


def git_state(root: Path) -> dict[str, object]:
    gitdir = root / ".git"
    return {
        "head": git(root, "rev-parse", "HEAD", check=False),
        "branch": git(root, "symbolic-ref", "HEAD", check=False),
        "staged": git(root, "diff", "--cached"),
        "stash": git(root, "stash", "list"),
        "branches": git(root, "for-each-ref", "refs/heads", "refs/tags", "refs/stash"),
        "index": (gitdir / "index").read_bytes() if (gitdir / "index").exists() else None,
    }


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A dirty repository: every kind of state a user's tree can be in."""
    root = tmp_path / "proj"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    put(root, ".gitignore", "*.log\nbuild/\nsecret.env\n")
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
    git(root, "stash", "list")
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
    put(root, "build/out.bin", b"\x00\x01ignored build output")
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


def test_snapshot_leaves_git_state_alone(repo, data_dir):
    before = git_state(repo)
    status = git(repo, "status", "--porcelain")
    cps = Checkpoints(repo, "s1", data_dir=data_dir)
    cps.snapshot("first")
    cps.snapshot("second")
    assert git_state(repo) == before
    assert git(repo, "status", "--porcelain") == status
    assert git(repo, "branch", "--list") == "* main\n"
    assert not (data_dir / "checkpoints").exists()  # a real repo needs no shadow
    assert git(repo, "for-each-ref", "--format=%(refname)", REF_PREFIX).split() == [REF_PREFIX + "s1"]


def test_restore_after_agent_edits_is_byte_exact(repo, data_dir):
    cps = Checkpoints(repo, "s1", data_dir=data_dir)
    before, before_git = state(repo), git_state(repo)
    cp = cps.snapshot("before the agent")
    simulate_agent(repo)
    assert state(repo) != before
    report = cps.restore(cp)
    assert state(repo) == before
    assert git_state(repo) == before_git
    assert set(report.deleted) >= {"created.py", "newdir/deep/file.txt", "staged.txt.link"}
    assert set(report.created) >= {"untracked.txt", "sub/nested.txt"}
    assert set(report.restored) >= {"tracked.txt", "run.sh", "private.txt", "link", "crlf.txt"}
    assert report.skipped == []


def test_restore_after_reset_hard_and_clean(repo, data_dir):
    cps = Checkpoints(repo, "s1", data_dir=data_dir)
    before, before_git = state(repo), git_state(repo)
    cp = cps.snapshot("before destruction")
    simulate_agent(repo)
    git(repo, "reset", "-q", "--hard")
    git(repo, "clean", "-q", "-fd")
    assert "staged line" not in git(repo, "diff", "--cached")  # the agent lost the staged change
    index_after_agent = (repo / ".git" / "index").read_bytes()
    cps.restore(cp)
    assert state(repo) == before  # ignored app.log, build/, secret.env survived untouched
    assert (repo / ".git" / "index").read_bytes() == index_after_agent  # restore left the index
    after = git_state(repo)
    assert (after["head"], after["branch"], after["stash"], after["branches"]) == (
        before_git["head"], before_git["branch"], before_git["stash"], before_git["branches"])
    cps.restore(cp, index=True, backup=False)  # opt-in: put the staged change back too
    assert git(repo, "diff", "--cached") == before_git["staged"]
    assert state(repo) == before


def test_gitignore_edits_cannot_hide_litter_or_expose_ignored_files(repo, data_dir):
    cps = Checkpoints(repo, "s1", data_dir=data_dir)
    before = state(repo)
    cp = cps.snapshot("x")
    put(repo, ".gitignore", "*.tmp\n")  # un-ignores secret.env and app.log, ignores litter
    put(repo, "litter.tmp", "agent junk\n")
    put(repo, "sub/.gitignore", "junk.txt\n")  # a new ignore file hiding more junk
    put(repo, "sub/junk.txt", "more junk\n")
    cps.restore(cp)
    assert state(repo) == before


def test_symlink_planted_in_place_of_a_directory_is_not_followed(repo, tmp_path, data_dir):
    outside = tmp_path / "outside"
    outside.mkdir()
    put(outside, "keep.txt", "outside\n")
    cps = Checkpoints(repo, "s1", data_dir=data_dir)
    before = state(repo)
    cp = cps.snapshot("x")
    (repo / "sub" / "nested.txt").unlink()
    (repo / "sub").rmdir()
    os.symlink(outside, repo / "sub")
    cps.restore(cp)
    assert state(repo) == before
    assert state(outside) == {"keep.txt": ("file", b"outside\n", 0o644 & ~_umask())}


def test_ignored_symlink_in_place_of_a_directory_is_not_written_through(repo, tmp_path, data_dir):
    put(repo, ".gitignore", "vendor\n")
    put(repo, "vendor/lib.txt", "force-added\n")
    git(repo, "add", "-f", ".gitignore", "vendor/lib.txt")
    outside = tmp_path / "outside"
    outside.mkdir()
    cps = Checkpoints(repo, "s1", data_dir=data_dir)
    cp = cps.snapshot("x")
    (repo / "vendor" / "lib.txt").unlink()
    (repo / "vendor").rmdir()
    os.symlink(outside, repo / "vendor")  # ignored by name, so not deleted on restore
    report = cps.restore(cp, backup=False)
    assert report.skipped == ["vendor/lib.txt"]
    assert list(outside.iterdir()) == []


def test_index_entries_under_a_planted_symlink_are_not_deleted_through_it(repo, tmp_path, data_dir):
    (repo / "sub" / "nested.txt").unlink()  # deleted by the user, still in the index
    put(repo, ".gitignore", "sub\n")  # so a symlink named sub is ignored, hence never removed
    outside = tmp_path / "outside"
    outside.mkdir()
    put(outside, "nested.txt", "not the project's\n")
    cps = Checkpoints(repo, "s1", data_dir=data_dir)
    cp = cps.snapshot("x")
    (repo / "sub").rmdir()
    os.symlink(outside, repo / "sub")  # git still lists sub/nested.txt from the index
    agent_cp = cps.snapshot("agent state")  # must not save the outside file as sub/nested.txt
    assert "sub/nested.txt" not in git(repo, "ls-tree", "-r", "--name-only", agent_cp.sha)
    cps.restore(cp, backup=False)
    assert (outside / "nested.txt").read_text() == "not the project's\n"
    assert (repo / "sub").is_symlink()  # ignored by name: restore leaves ignored entries alone


def test_list_and_chain(repo, data_dir):
    cps = Checkpoints(repo, "session/with spaces", data_dir=data_dir)
    assert cps.list() == []
    a = cps.snapshot("first")
    put(repo, "x.txt", "x")
    b = cps.snapshot("second")
    listed = cps.list()
    assert [(c.id, c.label, c.sha) for c in listed] == [(1, "first", a.sha), (2, "second", b.sha)]
    assert cps.get(2) == listed[1] and cps.get(a.sha[:8]) == listed[0]
    assert git(repo, "rev-parse", b.sha + "^1").strip() == a.sha
    with pytest.raises(CheckpointError):
        cps.get(99)
    cps.restore(a, backup=False)
    assert not (repo / "x.txt").exists()


def test_backup_makes_restore_undoable(repo, data_dir):
    cps = Checkpoints(repo, "s1", data_dir=data_dir)
    cp = cps.snapshot("x")
    simulate_agent(repo)
    agent_state = state(repo)
    report = cps.restore(cp)
    cps.restore(report.backup, backup=False)
    assert state(repo) == agent_state


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


def test_large_files_are_not_saved_and_left_alone(repo, data_dir):
    cps = Checkpoints(repo, "s1", data_dir=data_dir, max_file_bytes=100)
    put(repo, "big.bin", b"x" * 1000)
    cp = cps.snapshot("x")
    put(repo, "big.bin", b"y" * 1000)
    report = cps.restore(cp, backup=False)
    assert (repo / "big.bin").read_bytes() == b"y" * 1000
    (repo / "big.bin").unlink()
    report = cps.restore(cp, backup=False)
    assert report.skipped == ["big.bin"]


def test_subdirectory_root_only_covers_itself(repo, data_dir):
    root = repo / "sub"
    cps = Checkpoints(root, "s1", data_dir=data_dir)
    cp = cps.snapshot("x")
    put(root, "agent.txt", "new\n")
    put(repo, "outside-root.txt", "the user's, not ours\n")
    put(root, "nested.txt", "changed\n")
    cps.restore(cp, backup=False)
    assert state(root) == {"nested.txt": ("file", b"nested\n", 0o644 & ~_umask())}
    assert (repo / "outside-root.txt").exists()


def test_root_ignored_by_the_enclosing_repo_gets_a_shadow(repo, data_dir):
    root = repo / "build" / "proj"  # build/ is ignored in the fixture
    put(root, "a.txt", "a\n")
    cps = Checkpoints(root, "s1", data_dir=data_dir)
    assert cps.shadow is not None
    cp = cps.snapshot("x")
    put(root, "a.txt", "changed\n")
    cps.restore(cp, backup=False)
    assert (root / "a.txt").read_text() == "a\n"


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
    assert state(root) == {"a.txt": ("file", b"a\n", 0o644 & ~_umask())}
    assert git(root, "rev-parse", "-q", "--verify", "HEAD", check=False) == ""


def test_non_git_directory_uses_a_private_shadow_repo(tmp_path, data_dir):
    root = tmp_path / "plain"
    root.mkdir()
    put(root, "a.txt", "a\n")
    put(root, "bin/tool", "#!/bin/sh\n", 0o755)
    put(root, "node_modules/dep/index.js", "dependency\n")  # excluded by default in shadows
    os.symlink("a.txt", root / "alias")
    before = state(root)
    cps = Checkpoints(root, "s1", data_dir=data_dir)
    cp = cps.snapshot("x")
    assert cps.shadow is not None and data_dir in cps.shadow.parents
    assert not (root / ".git").exists()
    put(root, "a.txt", "changed\n")
    put(root, "agent.txt", "new\n")
    (root / "bin" / "tool").unlink()
    put(root, "node_modules/dep/index.js", "reinstalled\n")
    report = cps.restore(cp)
    after = state(root)
    assert after.pop("node_modules/dep/index.js")[1] == b"reinstalled\n"  # excluded: untouched
    before.pop("node_modules/dep/index.js")
    assert after == before
    assert report.deleted == ["agent.txt"] and report.created == ["bin/tool"]
    # A second Checkpoints object (a new session) reuses the same shadow.
    assert Checkpoints(root, "s2", data_dir=data_dir).shadow == cps.shadow


def test_drop_and_prune(repo, data_dir):
    for sid in ("a", "b", "c"):
        Checkpoints(repo, sid, data_dir=data_dir).snapshot(sid)
    Checkpoints(repo, "a", data_dir=data_dir).drop()
    refs = git(repo, "for-each-ref", "--format=%(refname)", REF_PREFIX).split()
    assert refs == [REF_PREFIX + "b", REF_PREFIX + "c"]
    deleted = prune_sessions(repo, keep=1, data_dir=data_dir)
    assert len(deleted) == 1
    assert len(git(repo, "for-each-ref", REF_PREFIX).split("\n")) == 2  # one line + ""


def test_git_environment_redirects_are_ignored(repo, tmp_path, data_dir):
    decoy = tmp_path / "decoy"
    decoy.mkdir()
    git(decoy, "init", "-q")
    env = {**os.environ, "GIT_DIR": str(decoy / ".git"), "GIT_INDEX_FILE": str(decoy / "idx")}
    cps = Checkpoints(repo, "s1", data_dir=data_dir, env=env)
    cps.snapshot("x")
    assert git(repo, "for-each-ref", REF_PREFIX) != ""
    assert git(decoy, "for-each-ref", REF_PREFIX) == ""


def _umask() -> int:
    from tools.fileops import _umask as umask

    return umask()
