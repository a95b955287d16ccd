"""Checkpoints: snapshots of the project's working tree that never touch the user's git state.

A snapshot is a git commit built without the user's index, HEAD, branches or stash: every file
git would consider (tracked in the index, or untracked and not ignored) is hashed byte-exact
(`hash-object --no-filters`: no CRLF or LFS filter rewrites it), the entries go into a temporary
index file (GIT_INDEX_FILE), `write-tree` + `commit-tree` make the commit, and it is kept alive by
a private ref, refs/agent/checkpoints/<session>, which `git branch`, `git stash list` and the
user's history never show. The commit's parents are the previous checkpoint and (when the project
is a git repo) a commit of the user's index as a tree, named in the message's metadata, so
`restore(..., index=True)` can put back staged changes that a `git reset --hard` threw away.

Outside a git repository a private bare repository under the agent's data dir is used with the
project as its work tree (`--git-dir=<shadow> --work-tree=<root>`), so checkpoints work anywhere.

Restore makes the files git considers exactly what they were: content, executable bit, other
permission bits (recorded in the commit message when not the umask default), symlinks; files
created since are deleted, deleted ones recreated. Ignored files are never saved, deleted or
written; nor are empty directories, nested repositories, or files larger than `max_file_bytes`
(recorded as unsaved and left alone on restore). Known gap: a .gitignore created after the
snapshot that ignores itself is itself ignored, so it survives a restore (pytest's own
.pytest_cache/.gitignore is the common, harmless case).
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import stat
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping

from tools.fileops import _umask, atomic_write

REF_PREFIX = "refs/agent/checkpoints/"
_META = "agent-checkpoint: "
# Variables that would point git at another repository or index than the one we choose.
_GIT_REDIRECTS = {"GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_OBJECT_DIRECTORY",
                  "GIT_ALTERNATE_OBJECT_DIRECTORIES", "GIT_COMMON_DIR", "GIT_NAMESPACE",
                  "GIT_PREFIX", "GIT_QUARANTINE_PATH"}
_SHADOW_EXCLUDES = "node_modules/\n.venv/\nvenv/\n__pycache__/\n*.pyc\n.tox/\n.mypy_cache/\n.pytest_cache/\n"
_RACY_NS = 2_000_000_000  # files changed this recently are re-hashed next time, not cached


BACKUP_LABEL = "before restoring checkpoint"


class CheckpointError(RuntimeError):
    pass


@dataclass(frozen=True)
class Checkpoint:
    id: int
    sha: str
    label: str
    time: float
    files: int = 0


@dataclass
class RestoreReport:
    restored: list[str] = field(default_factory=list)  # existed, but differed: rewritten
    deleted: list[str] = field(default_factory=list)   # not in the checkpoint: removed
    created: list[str] = field(default_factory=list)   # missing: recreated
    skipped: list[str] = field(default_factory=list)   # could not be restored (see message)
    index_restored: bool = False
    backup: Checkpoint | None = None  # the state just before restoring, itself restorable


class Checkpoints:
    def __init__(self, root: Path, session_id: str, *, data_dir: Path | None = None,
                 env: Mapping[str, str] | None = None, max_files: int = 100_000,
                 max_file_bytes: int = 100 * 1024 * 1024) -> None:
        if shutil.which("git") is None:
            raise CheckpointError("checkpoints need git, which is not installed")
        self.root = Path(os.path.realpath(root))
        self.max_files = max_files
        self.max_file_bytes = max_file_bytes
        base = dict(os.environ if env is None else env)
        self._env = {k: v for k, v in base.items() if k not in _GIT_REDIRECTS}
        self._env.update(GIT_OPTIONAL_LOCKS="0", GIT_TERMINAL_PROMPT="0", LC_ALL="C",
                         GIT_AUTHOR_NAME="agent", GIT_AUTHOR_EMAIL="agent@localhost",
                         GIT_COMMITTER_NAME="agent", GIT_COMMITTER_EMAIL="agent@localhost")
        # User hooks (reference-transaction), signing and fsmonitor have no business here.
        self._git = ["git", "-c", "core.hooksPath=/dev/null", "-c", "commit.gpgSign=false",
                     "-c", "core.fsmonitor=false"]
        self.ref = REF_PREFIX + (re.sub(r"[^A-Za-z0-9_-]+", "-", session_id).strip("-") or "session")
        self._cache: dict[str, tuple[tuple[int, ...], str]] = {}
        # A root the enclosing repo ignores would snapshot as empty: it gets a shadow too.
        in_repo = (self._run("rev-parse", "--is-inside-work-tree", check=False).strip() == b"true"
                   and not self._run("check-ignore", ".", check=False).strip())
        self.shadow = None if in_repo else self._init_shadow(data_dir)
        if self.shadow is not None:
            self._git += ["--git-dir", str(self.shadow), "--work-tree", str(self.root)]

    def _init_shadow(self, data_dir: Path | None) -> Path:
        if data_dir is None:
            from agent.paths import data_dir as default_data_dir

            data_dir = default_data_dir(self._env)
        digest = hashlib.sha1(str(self.root).encode("utf-8", "surrogateescape")).hexdigest()[:16]
        shadow = Path(data_dir) / "checkpoints" / f"{self.root.name or 'root'}-{digest}.git"
        if not (shadow / "HEAD").exists():
            shadow.parent.mkdir(parents=True, exist_ok=True)
            self._run("init", "-q", "--bare", str(shadow), git=["git"])
            (shadow / "info").mkdir(exist_ok=True)
            (shadow / "info" / "exclude").write_text(_SHADOW_EXCLUDES)
        return shadow

    # -- git plumbing --------------------------------------------------------------------------
    def _run(self, *args: str, input: bytes | None = None, index: str | None = None,
             git: list[str] | None = None, check: bool = True) -> bytes:
        env = self._env if index is None else {**self._env, "GIT_INDEX_FILE": index}
        r = subprocess.run([*(git or self._git), *args], cwd=self.root, env=env, input=input,
                           capture_output=True)
        if check and r.returncode != 0:
            msg = r.stderr.decode("utf-8", "replace").strip()
            raise CheckpointError(f"git {args[0]} failed: {msg}")
        return r.stdout

    def _head(self) -> str | None:
        out = self._run("rev-parse", "-q", "--verify", self.ref + "^{commit}", check=False)
        return out.decode().strip() or None

    # -- what git would consider -----------------------------------------------------------------
    def _listing(self) -> list[str]:
        out = self._run("ls-files", "-z", "--cached", "--others", "--exclude-standard")
        # "dir/" entries are nested repositories: not ours to save or delete.
        return sorted({os.fsdecode(p) for p in out.split(b"\0") if p and not p.endswith(b"/")})

    def _hash(self, paths: list[str]) -> tuple[dict[str, tuple[str, str, int]], list[str]]:
        """{path: (git mode, blob sha, permission bits)} for files and symlinks that exist, and
        the paths too large to save. Unchanged files come from the stat cache."""
        now = time.time_ns()
        found: dict[str, tuple[str, str, int]] = {}
        todo: list[tuple[str, str, int, tuple[int, ...], str]] = []  # path, mode, perm, key, source
        large: list[str] = []
        checked: dict[str, bool] = {}
        with tempfile.TemporaryDirectory(prefix="agent-ckpt-") as tmp:
            for n, rel in enumerate(paths):
                if not self._parent_ok(rel, checked):
                    continue  # an index entry under a directory now replaced by a symlink
                try:
                    st = os.lstat(self.root / rel)
                except OSError:
                    continue  # deleted (still in the index) or unreadable: not in the snapshot
                if stat.S_ISLNK(st.st_mode):
                    mode = "120000"
                elif stat.S_ISREG(st.st_mode):
                    mode = "100755" if st.st_mode & stat.S_IXUSR else "100644"
                    if st.st_size > self.max_file_bytes:
                        large.append(rel)
                        continue
                else:
                    continue  # a submodule's directory, a fifo, ...
                perm = stat.S_IMODE(st.st_mode)
                key = (st.st_mtime_ns, st.st_ctime_ns, st.st_size, st.st_ino, st.st_mode)
                cached = self._cache.get(rel)
                if cached and cached[0] == key:
                    found[rel] = (mode, cached[1], perm)
                    continue
                source = str(self.root / rel)
                if mode == "120000":  # hash the link text, not the file it points to
                    source = os.path.join(tmp, str(n))
                    with open(source, "wb") as f:
                        f.write(os.fsencode(os.readlink(self.root / rel)))
                todo.append((rel, mode, perm, key, source))
            for (rel, mode, perm, key, _), sha in zip(todo, self._hash_objects(todo), strict=True):
                if sha is not None:
                    found[rel] = (mode, sha, perm)
                    if now - key[0] > _RACY_NS:  # a later same-tick write would look unchanged
                        self._cache[rel] = (key, sha)
        return found, large

    def _hash_objects(self, todo: list[tuple]) -> list[str | None]:
        if not todo:
            return []
        lines = b"".join(_c_quote(os.fsencode(t[4])) + b"\n" for t in todo)
        try:
            return self._run("hash-object", "-w", "--no-filters", "--stdin-paths",
                             input=lines).decode().split()
        except CheckpointError:
            # A file vanished between listing and hashing (a build running alongside):
            # hash one by one and leave out what is gone.
            out: list[str | None] = []
            for t in todo:
                r = self._run("hash-object", "-w", "--no-filters", "--", t[4], check=False)
                out.append(r.decode().strip() or None)
            return out

    # -- public API ----------------------------------------------------------------------------
    def snapshot(self, label: str) -> Checkpoint:
        paths = self._listing()
        if len(paths) > self.max_files:
            raise CheckpointError(f"{len(paths)} files is more than the checkpoint limit "
                                  f"({self.max_files}); is the project root right?")
        files, large = self._hash(paths)
        default = {m: p & ~_umask() for m, p in (("100644", 0o666), ("100755", 0o777))}
        modes = {rel: oct(perm) for rel, (mode, _, perm) in files.items()
                 if mode != "120000" and perm != default[mode]}
        with tempfile.TemporaryDirectory(prefix="agent-ckpt-") as tmp:
            index = os.path.join(tmp, "index")
            info = b"".join(f"{m} blob {sha}\t".encode() + os.fsencode(rel) + b"\0"
                            for rel, (m, sha, _) in files.items())
            self._run("update-index", "-z", "--index-info", input=info, index=index)
            tree = self._run("write-tree", index=index).decode().strip()
            index_commit = self._index_commit(tmp)
        prev = self._head()
        seq = 1 + (self._meta(prev).get("seq", 0) if prev else 0)
        meta = {"seq": seq, "time": time.time(), "files": len(files), "modes": modes,
                "unsaved": large, "index": index_commit}
        message = f"{label.strip() or 'checkpoint'}\n\n{_META}{json.dumps(meta)}\n"
        # Parents keep the previous checkpoint and the index's tree from being collected.
        parents = [a for p in (prev, index_commit) if p for a in ("-p", p)]
        sha = self._run("commit-tree", tree, *parents, "-F", "-",
                        input=message.encode()).decode().strip()
        self._run("update-ref", "-m", "agent checkpoint", self.ref, sha, prev or "")
        return Checkpoint(seq, sha, label, meta["time"], len(files))

    def list(self) -> list[Checkpoint]:
        if self._head() is None:
            return []
        # Every ancestor: checkpoints carry metadata, the index commits among them do not.
        out = self._run("log", "-z", "--format=%H%n%B", self.ref)
        result = []
        for record in out.decode("utf-8", "replace").split("\0"):
            if not record.strip():
                continue
            sha, _, body = record.strip("\n").partition("\n")
            meta = _parse_meta(body)
            if "seq" not in meta:
                continue
            result.append(Checkpoint(meta.get("seq", 0), sha, body.split("\n", 1)[0],
                                     meta.get("time", 0.0), meta.get("files", 0)))
        return sorted(result, key=lambda c: c.id)

    def get(self, ident: int | str) -> Checkpoint:
        for cp in self.list():
            if cp.id == ident or (isinstance(ident, str) and len(ident) >= 4
                                  and cp.sha.startswith(ident)):
                return cp
        raise CheckpointError(f"no checkpoint {ident!r} in this session")

    def undo_target(self, checkpoint_id: int | None = None) -> Checkpoint | None:
        """What an undo restores: checkpoint `checkpoint_id` (a pre-restore backup included), or
        else the latest checkpoint taken before the agent's changes; None when there is none."""
        points = self.list()
        if checkpoint_id is not None:
            return next((p for p in points if p.id == checkpoint_id), None)
        turn_points = [p for p in points if not p.label.startswith(BACKUP_LABEL)]
        return turn_points[-1] if turn_points else None

    def drop(self) -> None:
        """Forget this session's checkpoints (git gc can then reclaim their objects)."""
        if self._head() is not None:
            self._run("update-ref", "-d", self.ref)

    def restore(self, checkpoint: Checkpoint, *, index: bool = False,
                backup: bool = True) -> RestoreReport:
        report = RestoreReport()
        if backup:
            report.backup = self.snapshot(f"{BACKUP_LABEL} {checkpoint.id}")
        meta = self._meta(checkpoint.sha)
        unsaved = set(meta.get("unsaved", []))
        target = self._tree(checkpoint.sha)
        # .gitignore files first: which files count as "not ignored" must be judged by the
        # snapshot's rules, or an agent's `*` in .gitignore would hide its own litter.
        ignores = {p: e for p, e in target.items() if os.path.basename(p) == ".gitignore"}
        for rel in self._listing():
            if os.path.basename(rel) == ".gitignore" and rel not in target:
                self._delete(rel, report)
        self._write(ignores, meta, report)
        current = self._listing()
        for rel in current:
            if rel not in target and rel not in unsaved:
                self._delete(rel, report)
        self._prune_dirs(report.deleted, target)
        self._write({p: e for p, e in target.items() if p not in ignores}, meta, report)
        report.skipped += sorted(p for p in unsaved if not os.path.lexists(self.root / p))
        index_commit = meta.get("index")
        if index and self.shadow is None and index_commit:
            self._run("read-tree", index_commit + "^{tree}")
            report.index_restored = True
        return report

    # -- restore helpers -------------------------------------------------------------------------
    def _tree(self, sha: str) -> dict[str, tuple[str, str]]:
        out = self._run("ls-tree", "-r", "-z", "--full-tree", sha)
        entries = {}
        for line in out.split(b"\0"):
            if line:
                head, _, path = line.partition(b"\t")
                mode, _, blob = head.decode().split(" ")
                entries[os.fsdecode(path)] = (mode, blob)
        return entries

    def _delete(self, rel: str, report: RestoreReport) -> None:
        path = self.root / rel
        if not self._parent_ok(rel, {}):
            return  # under a symlinked directory: the file is not really in the project
        try:
            if path.is_symlink() or path.is_file():
                path.unlink()
                report.deleted.append(rel)
        except OSError:
            report.skipped.append(rel)

    def _prune_dirs(self, deleted: list[str], target: Mapping[str, object]) -> None:
        keep = {str(Path(p).parent) for p in target}
        keep |= {str(parent) for p in keep for parent in Path(p).parents}
        for rel in sorted(deleted, key=lambda p: -p.count("/")):
            for parent in Path(rel).parents:
                if str(parent) in (".", "") or str(parent) in keep:
                    break
                try:
                    os.rmdir(self.root / parent)  # only succeeds when empty
                except OSError:
                    break

    def _write(self, entries: Mapping[str, tuple[str, str]], meta: dict,
               report: RestoreReport) -> None:
        have, _ = self._hash([p for p in entries if os.path.lexists(self.root / p)])
        modes = meta.get("modes", {})
        checked: dict[str, bool] = {}
        todo = {}
        for rel, (mode, blob) in entries.items():
            now = have.get(rel)
            # Perms not recorded were the umask default when the snapshot was taken.
            default = (0o777 if mode == "100755" else 0o666) & ~_umask()
            want_perm = int(modes[rel], 8) if rel in modes else default
            if now and now[:2] == (mode, blob):
                if mode != "120000" and now[2] != want_perm:
                    os.chmod(self.root / rel, want_perm)
                    report.restored.append(rel)
                continue
            if not self._parent_ok(rel, checked):
                report.skipped.append(rel)
                continue
            todo[rel] = (mode, blob, want_perm, os.path.lexists(self.root / rel))
        blobs = self._blobs([t[1] for t in todo.values()])
        for rel, (mode, blob, want_perm, existed) in todo.items():
            path = self.root / rel
            try:
                if path.is_dir() and not path.is_symlink():
                    path.rmdir()  # an empty leftover directory where the file belongs
                if mode == "120000":
                    if os.path.lexists(path):
                        path.unlink()
                    path.parent.mkdir(parents=True, exist_ok=True)
                    os.symlink(os.fsdecode(blobs[blob]), path)
                else:
                    if path.is_symlink():
                        path.unlink()  # atomic_write would keep a symlink's target's mode
                    atomic_write(path, blobs[blob])
                    os.chmod(path, want_perm)
            except OSError:
                report.skipped.append(rel)
                continue
            (report.restored if existed else report.created).append(rel)

    def _parent_ok(self, rel: str, checked: dict[str, bool]) -> bool:
        """Every parent of rel is a real directory inside the root, or missing (and can be made
        one): never read, write or delete through a symlink the agent may have planted."""
        parent = os.path.dirname(rel)
        if not parent:
            return True
        if parent not in checked:
            try:
                st = os.lstat(self.root / parent)
                ok = stat.S_ISDIR(st.st_mode)
            except FileNotFoundError:
                ok = True
            except OSError:
                ok = False
            checked[parent] = ok and self._parent_ok(parent, checked)
        return checked[parent]

    def _blobs(self, shas: list[str]) -> dict[str, bytes]:
        if not shas:
            return {}
        out = self._run("cat-file", "--batch", input="".join(s + "\n" for s in shas).encode())
        blobs, pos = {}, 0
        for _ in shas:
            nl = out.index(b"\n", pos)
            sha, _, size = out[pos:nl].decode().split(" ")
            start = nl + 1
            blobs[sha] = out[start:start + int(size)]
            pos = start + int(size) + 1
        return blobs

    def _index_commit(self, tmp: str) -> str | None:
        """The user's index as a commit (read from a copy: the real index is never written)."""
        if self.shadow is not None:
            return None
        real = self.root / self._run("rev-parse", "--git-path", "index").decode().strip()
        copy = os.path.join(tmp, "user-index")
        if real.exists():
            shutil.copyfile(real, copy)
        tree = self._run("write-tree", index=copy, check=False).decode().strip()
        if not tree:  # unmerged entries (a conflict in progress) cannot be written as a tree
            return None
        return self._run("commit-tree", tree, "-m", "index").decode().strip()

    def _meta(self, sha: str) -> dict:
        return _parse_meta(self._run("log", "-1", "--format=%B", sha).decode("utf-8", "replace"))


def prune_sessions(root: Path, keep: int = 20, **kwargs) -> list[str]:
    """Delete all but the `keep` most recent sessions' checkpoint refs; returns the deleted refs."""
    cps = Checkpoints(root, "prune", **kwargs)
    out = cps._run("for-each-ref", "--sort=-committerdate", "--format=%(refname)", REF_PREFIX)
    refs = out.decode().split()[keep:]
    for ref in refs:
        cps._run("update-ref", "-d", ref)
    return refs


def _parse_meta(body: str) -> dict:
    for line in body.splitlines():
        if line.startswith(_META):
            try:
                return json.loads(line[len(_META):])
            except ValueError:
                return {}
    return {}


def _c_quote(raw: bytes) -> bytes:
    """git's C-style quoting, which --stdin-paths undoes: lets paths contain newlines."""
    if not any(b < 0x20 or b in (0x22, 0x5C, 0x7F) for b in raw):
        return raw
    body = b"".join(b"\\%03o" % b if b < 0x20 or b in (0x22, 0x5C, 0x7F) else bytes([b])
                    for b in raw)
    return b'"' + body + b'"'
