"""Checkpoints: snapshots of the project's files, kept where the model cannot reach them.

Each snapshot is a commit in the project's shadow repository (agent/shadow_git.py: a bare repo
in the agent's data directory, keyed by the project's real path), on the session's ref
refs/agent/checkpoints/<session>. Nothing is ever written to the project's own .git, so a
command that deletes refs, resets, cleans or removes .git cannot take the checkpoints with it,
and the user's HEAD, index, branches and stash are never touched.

What is saved (agent/checkpoint_scan.py): every regular file and symlink under the project root,
gitignored ones included (.env, build inputs), byte-exact (read here, no filters; blobs as git
would hash them), with permission bits and every directory (empty ones too) and its mode. Left
out, and named as not saved in the restore report: any `.git` entry; directories named in
`skip_dirs` (node_modules, .venv, ... by default); files over `max_file_bytes`; the largest
files once the snapshot would pass `max_total_bytes`; anything unreadable. What was left out is
also left alone on restore: never deleted, never written. Unchanged files are not read again: a
stat cache (mtime, ctime, size, inode, mode) persisted in the shadow names their blobs.

When: agent/checkpoint_policy.py (before a turn's first file edit, before every command that is
not provably read-only). An unchanged tree reuses the turn's last checkpoint.

The user's index is stored too, as a commit in the shadow (a parent of the checkpoint), so
`restore(..., index=True)` can put back staged changes that a `git reset --hard` threw away,
even when the staged blobs were since garbage-collected from the project's .git.

Restore (agent/checkpoint_restore.py) makes the tree exactly what it was: content, executable
and other permission bits, symlinks, directories and their modes; files created since are
deleted, deleted ones recreated, and it never reads, writes or deletes through a symlink planted
in place of a directory. It first saves the current state as a backup checkpoint, so an undo can
itself be undone. `undo_target()` is the first checkpoint of the last turn; right after an undo,
the turn before it.
"""
from __future__ import annotations

import json
import os
import re
import stat
import tempfile
import time
from dataclasses import field
from pathlib import Path
from typing import Iterable, Mapping

from realcost_agent.agent.checkpoint_scan import Scan, ScanError, TooManyFiles, scan_tree
from realcost_agent.agent.shadow_git import ShadowError, ShadowRepo, read_blobs
from realcost_agent.records import record
from realcost_agent.tools.fileops import _umask

REF_PREFIX = "refs/agent/checkpoints/"
BACKUP_LABEL = "before restoring checkpoint"
SKIP_DIRS = ("node_modules", ".venv", "venv", ".tox", ".nox", "__pycache__", ".mypy_cache",
             ".pytest_cache", ".ruff_cache", ".gradle", ".next")
MAX_FILE_BYTES = 20 * 1024 * 1024
MAX_TOTAL_BYTES = 1024 * 1024 * 1024
_META = "agent-checkpoint: "
_RACY_NS = 2_000_000_000  # files changed this recently are re-hashed next time, not cached
_BULK = 200  # new blobs from which one fast-import pack beats loose objects
_CACHE_FILE = "agent-stat-cache.json"
# What besides the blobs makes two snapshots the same (time, turn and seq do not).
_STATE_KEYS = ("modes", "dirs", "unsaved", "skipped_dirs", "unreadable_dirs", "nested_git",
               "index")


class CheckpointError(RuntimeError):
    pass


class CheckpointLimitError(CheckpointError):
    """More files than max_files: the root is probably wrong (a home directory)."""


@record(frozen=True)
class Checkpoint:
    id: int
    sha: str
    label: str
    time: float
    files: int = 0
    turn: str = ""
    # False when nothing changed since the previous checkpoint of the same turn, which is reused.
    created: bool = field(default=True, compare=False)


@record
class RestoreReport:
    restored: list[str] = field(default_factory=list)  # existed, but differed: rewritten
    deleted: list[str] = field(default_factory=list)   # not in the checkpoint: removed
    created: list[str] = field(default_factory=list)   # missing: recreated
    skipped: list[str] = field(default_factory=list)   # could not be restored
    not_saved: list[str] = field(default_factory=list)  # what the checkpoint did not cover, why
    index_restored: bool = False
    index_note: str = ""  # why the staged state was not restored, when asked to
    backup: Checkpoint | None = None  # the state just before restoring, itself restorable
    backup_note: str = ""  # why there is no backup, when one was asked for


class Checkpoints:
    def __init__(self, root: Path, session_id: str, *, data_dir: Path | None = None,
                 env: Mapping[str, str] | None = None, max_files: int = 100_000,
                 max_file_bytes: int = MAX_FILE_BYTES, max_total_bytes: int = MAX_TOTAL_BYTES,
                 skip_dirs: Iterable[str] = SKIP_DIRS) -> None:
        env = dict(os.environ if env is None else env)
        if data_dir is None:
            from realcost_agent.tools.paths import data_dir as default_data_dir

            data_dir = default_data_dir(env)
        self.root = Path(os.path.realpath(root))
        if not self.root.is_dir():
            raise CheckpointError(f"{self.root} is not a directory")
        self.max_files, self.max_file_bytes, self.max_total_bytes = max_files, max_file_bytes, max_total_bytes
        self.skip_dirs = frozenset(skip_dirs)
        try:
            self.repo = ShadowRepo(self.root, Path(data_dir), env)
            self.repo.ensure()
        except (ShadowError, OSError) as exc:
            raise CheckpointError(str(exc)) from None
        self.shadow = self.repo.path
        self.ref = REF_PREFIX + ref_name(session_id)
        # The data dir itself, when it lies inside the project (never saved or restored).
        data_real = os.path.realpath(data_dir)
        self._data_rel = (os.path.relpath(data_real, self.root)
                          if data_real.startswith(str(self.root) + os.sep) else None)
        self._cache: dict[str, tuple[tuple[int, ...], str]] = self._load_cache()
        self._cache_dirty = False
        self._verified = False  # whether the cached blobs were checked against the shadow
        self._last: tuple[Checkpoint, str, object] | None = None  # checkpoint, tree, state

    # -- git plumbing --------------------------------------------------------------------------
    def _run(self, *args: str, **kwargs) -> bytes:
        try:
            return self.repo.run(*args, **kwargs)
        except ShadowError as exc:
            raise CheckpointError(str(exc)) from None

    def _head(self) -> str | None:
        # Read as a file (no process): the shadow is ours, its refs loose or packed by gc.
        try:
            sha = (self.shadow / self.ref).read_text().strip()
            if len(sha) == 40:
                return sha
        except OSError:
            pass
        out = self._run("rev-parse", "-q", "--verify", self.ref + "^{commit}", check=False)
        return out.decode().strip() or None

    def _load_cache(self) -> dict[str, tuple[tuple[int, ...], str]]:
        try:
            raw = json.loads((self.shadow / _CACHE_FILE).read_text())
            return {k: (tuple(v[0]), v[1]) for k, v in raw.items()}
        except (OSError, ValueError, TypeError, IndexError, AttributeError):
            return {}

    def _save_cache(self, paths: Iterable[str]) -> None:
        if not self._cache_dirty:
            return
        self._cache_dirty = False
        keep = {p: [list(self._cache[p][0]), self._cache[p][1]] for p in paths if p in self._cache}
        tmp = self.shadow / (_CACHE_FILE + ".tmp")
        try:
            tmp.write_text(json.dumps(keep))
            os.replace(tmp, self.shadow / _CACHE_FILE)
        except OSError:
            pass  # only an optimization

    # -- what is on disk -----------------------------------------------------------------------
    def _scan(self, *, limit: bool = True, skip: Iterable[str] | None = None) -> Scan:
        """The tree as it is; a restore looks without the file limit (a flood of files the
        agent made must not stop its own removal) and skips what the checkpoint skipped."""
        skip_dirs = self.skip_dirs if skip is None else frozenset(skip)
        try:
            return scan_tree(self.root, skip_dirs, exclude=self._data_rel,
                             max_files=self.max_files if limit else 1 << 62)
        except TooManyFiles as exc:
            raise CheckpointLimitError(str(exc)) from None
        except ScanError as exc:
            raise CheckpointError(str(exc)) from None

    def _hash(self, files: Mapping[str, os.stat_result], *, budget: bool = True
              ) -> tuple[dict[str, tuple[str, str, int]], dict[str, str]]:
        """{path: (git mode, blob sha, permission bits)} and {path: why it was not saved}.
        Unchanged files come from the stat cache; the largest go first when over budget."""
        now = time.time_ns()
        found: dict[str, tuple[str, str, int]] = {}
        unsaved: dict[str, str] = {}
        todo: list[tuple[str, str, int, tuple[int, ...], str]] = []  # path, mode, perm, key, source
        total = 0
        with tempfile.TemporaryDirectory(prefix="agent-ckpt-") as tmp:
            items = files.items()
            if budget and sum(st.st_size for st in files.values()) > self.max_total_bytes:
                items = sorted(items, key=lambda kv: (kv[1].st_size, kv[0]))  # largest dropped
            for n, (rel, st) in enumerate(items):
                if stat.S_ISLNK(st.st_mode):
                    mode = "120000"
                else:
                    mode = "100755" if st.st_mode & stat.S_IXUSR else "100644"
                    if budget and st.st_size > self.max_file_bytes:
                        unsaved[rel] = f"larger than the {_mb(self.max_file_bytes)} per-file cap"
                        continue
                    if budget and total + st.st_size > self.max_total_bytes:
                        unsaved[rel] = f"over the {_mb(self.max_total_bytes)} checkpoint cap"
                        continue
                total += st.st_size
                perm = stat.S_IMODE(st.st_mode)
                key = (st.st_mtime_ns, st.st_ctime_ns, st.st_size, st.st_ino, st.st_mode)
                cached = self._cache.get(rel)
                if cached and cached[0] == key:
                    found[rel] = (mode, cached[1], perm)
                    continue
                source = str(self.root / rel)
                if mode == "120000":  # hash the link text, not the file it points to
                    source = os.path.join(tmp, str(n))
                    try:
                        target = os.readlink(self.root / rel)
                    except OSError:
                        continue
                    with open(source, "wb") as f:
                        f.write(os.fsencode(target))
                todo.append((rel, mode, perm, key, source))
            for (rel, mode, perm, key, _), sha in zip(todo, self._hash_objects(todo), strict=True):
                if sha is None:
                    unsaved[rel] = "could not be read"
                    continue
                found[rel] = (mode, sha, perm)
                if now - key[0] > _RACY_NS:  # a later same-tick write would look unchanged
                    self._cache[rel] = (key, sha)
                    self._cache_dirty = True
        return found, unsaved

    def _hash_objects(self, todo: list[tuple]) -> list[str | None]:
        sources = [t[4] for t in todo]
        try:
            if len(todo) >= _BULK:
                try:
                    return self.repo.store_blobs(sources, bulk=True)
                except ShadowError:
                    pass  # loose objects still work
            return self.repo.store_blobs(sources)
        except (ShadowError, OSError) as exc:
            raise CheckpointError(f"cannot store the snapshot: {exc}") from None

    # -- public API ----------------------------------------------------------------------------
    def snapshot(self, label: str, *, turn: str = "", restored: int | None = None) -> Checkpoint:
        """Save the project's files. Within one turn, an unchanged tree reuses the previous
        checkpoint (returned with created=False)."""
        with self._locked():
            try:
                return self._snapshot(label, turn, restored)
            except CheckpointLimitError:
                raise  # nothing a fresh start would change
            except CheckpointError:
                if not self._cache and (self.shadow / "HEAD").exists():
                    raise
                # The shadow was deleted, or the cache names objects it lost: hash afresh.
                self._start_afresh()
                return self._snapshot(label, turn, restored)

    def _start_afresh(self) -> None:
        """Forget every cached hash and re-create the shadow repository."""
        self._cache.clear()
        self._last = None
        self.repo._index_cache = None
        try:
            self.repo.ensure()
        except (ShadowError, OSError) as exc:
            raise CheckpointError(str(exc)) from None

    def _snapshot(self, label: str, turn: str, restored: int | None) -> Checkpoint:
        if not (self.shadow / "HEAD").exists():  # the shadow went away: start it afresh
            self._start_afresh()
        scan = self._scan()
        files, unsaved = self._hash(scan.files)
        if not self._verified:
            # Blobs named by a cache loaded from disk must really be in the shadow (trees are
            # written here, which, unlike git's write-tree, does not look): once per object.
            self._verified = True
            try:
                missing = set(self.repo._missing({sha for _, sha, _ in files.values()}))
            except ShadowError as exc:
                raise CheckpointError(str(exc)) from None
            if missing:
                self._cache.clear()
                files, unsaved = self._hash(scan.files)
        umask = _umask()
        default = {"100644": 0o666 & ~umask, "100755": 0o777 & ~umask}
        modes = {rel: oct(perm) for rel, (mode, _, perm) in files.items()
                 if mode != "120000" and perm != default[mode]}
        prev = self._head()
        last = self._last if self._last and self._last[0].sha == prev else None
        with tempfile.TemporaryDirectory(prefix="agent-ckpt-") as tmp:
            index_commit, index_note = self.repo.import_index(tmp)
            meta = {"seq": 0, "time": time.time(), "turn": turn, "files": len(files),
                    "modes": modes, "dirs": {d: oct(p) for d, p in scan.dirs.items()},
                    "unsaved": unsaved, "skipped_dirs": sorted(scan.skipped),
                    "unreadable_dirs": sorted(scan.unreadable),
                    "nested_git": sorted(scan.nested_git), "skip_names": sorted(self.skip_dirs),
                    "index": index_commit,
                    "index_note": index_note}
            state = (files, {k: meta[k] for k in _STATE_KEYS})
            if last is not None and last[2] == state:
                cp, tree = last[0], last[1]
                if turn and cp.turn == turn and restored is None:  # nothing new in this turn
                    return Checkpoint(cp.id, cp.sha, cp.label, cp.time, cp.files, cp.turn,
                                      created=False)
            else:
                try:
                    tree = self.repo.write_tree({r: (m, sha) for r, (m, sha, _) in files.items()})
                except OSError as exc:
                    raise CheckpointError(f"cannot write the snapshot: {exc}") from None
        if restored is not None:
            meta["restored"] = restored
        if last is not None:
            meta["seq"] = last[0].id + 1
        else:
            meta["seq"] = 1 + (self._meta(prev).get("seq", 0) if prev else 0)
        message = f"{label.strip() or 'checkpoint'}\n\n{_META}{json.dumps(meta)}\n"
        # Parents keep the previous checkpoint and the index's tree from being collected.
        parents = [a for p in (prev, index_commit) if p for a in ("-p", p)]
        sha = self._run("commit-tree", tree, *parents, "-F", "-",
                        input=message.encode()).decode().strip()
        self._run("update-ref", "-m", "agent checkpoint", self.ref, sha, prev or "")
        self._save_cache(scan.files)
        cp = Checkpoint(meta["seq"], sha, label, meta["time"], len(files), turn)
        self._last = (cp, tree, state)
        return cp

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
                                     meta.get("time", 0.0), meta.get("files", 0),
                                     meta.get("turn", "")))
        return sorted(result, key=lambda c: c.id)

    def get(self, ident: int | str) -> Checkpoint:
        for cp in self.list():
            if cp.id == ident or (isinstance(ident, str) and len(ident) >= 4
                                  and cp.sha.startswith(ident)):
                return cp
        raise CheckpointError(f"no checkpoint {ident!r} in this session")

    def undo_target(self, checkpoint_id: int | None = None) -> Checkpoint | None:
        """What an undo restores: checkpoint `checkpoint_id` (a pre-restore backup included), or
        else the first checkpoint of the agent's last turn, i.e. the tree before that turn.
        Right after an undo (nothing changed since), the turn before it: undo steps back."""
        points = self.list()
        if checkpoint_id is not None:
            return next((p for p in points if p.id == checkpoint_id), None)
        limit = None
        if points and points[-1].label.startswith(BACKUP_LABEL):
            last_restored = self._meta(points[-1].sha).get("restored")
            undone = next((p for p in points if p.id == last_restored), None)
            if undone is not None and not self._changed_since(undone):
                limit = undone.id  # still exactly as that undo left it
        turn_points = [p for p in points if not p.label.startswith(BACKUP_LABEL)
                       and (limit is None or p.id < limit)]
        if not turn_points:
            return None
        first = turn_points[-1]
        for p in reversed(turn_points):
            if p.turn != first.turn or not p.turn:
                break
            first = p
        return first

    def _changed_since(self, cp: Checkpoint) -> bool:
        try:
            scan = self._scan()
        except CheckpointError:
            return True  # too many files to look at: certainly not as the undo left it
        files, _ = self._hash(scan.files)
        return {rel: e[:2] for rel, e in files.items()} != self._tree(cp.sha)

    def drop(self) -> None:
        """Forget this session's checkpoints (git gc can then reclaim their objects)."""
        with self._locked():
            if self._head() is not None:
                self._run("update-ref", "-d", self.ref)
            self._last = None

    def _locked(self):  # noqa: ANN202
        try:
            return self.repo.lock()
        except ShadowError as exc:
            raise CheckpointError(str(exc)) from None

    # -- restore --------------------------------------------------------------------------------
    def restore(self, checkpoint: Checkpoint, *, index: bool = False,
                backup: bool = True) -> RestoreReport:
        from realcost_agent.agent.checkpoint_restore import restore_tree

        with self._locked():
            report = RestoreReport()
            if backup:
                try:
                    report.backup = self.snapshot(f"{BACKUP_LABEL} {checkpoint.id}",
                                                  restored=checkpoint.id)
                except CheckpointError as exc:  # (a flood of files): undo matters more
                    report.backup_note = f"the state before this undo could not be saved: {exc}"
            meta = self._meta(checkpoint.sha)
            restore_tree(self, self._tree(checkpoint.sha), meta, report)
            if index:
                commit = meta.get("index")
                if not commit:
                    report.index_note = meta.get("index_note") or "no staged state was saved"
                else:
                    with tempfile.TemporaryDirectory(prefix="agent-ckpt-") as tmp:
                        try:
                            report.index_note = self.repo.export_index(commit, tmp)
                        except (ShadowError, OSError) as exc:
                            report.index_note = f"the index could not be written: {exc}"
                    report.index_restored = not report.index_note
            return report

    def _tree(self, sha: str) -> dict[str, tuple[str, str]]:
        out = self._run("ls-tree", "-r", "-z", "--full-tree", sha)
        entries = {}
        for line in out.split(b"\0"):
            if line:
                head, _, path = line.partition(b"\t")
                mode, _, blob = head.decode().split(" ")
                entries[os.fsdecode(path)] = (mode, blob)
        return entries

    def _blobs(self, shas: list[str]) -> dict[str, bytes]:
        try:
            return read_blobs(self.repo, shas)
        except ShadowError as exc:
            raise CheckpointError(str(exc)) from None

    def _meta(self, sha: str) -> dict:
        return _parse_meta(self._run("log", "-1", "--format=%B", sha).decode("utf-8", "replace"))


def ref_name(session_id: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]+", "-", session_id).strip("-") or "session"


def latest_session(root: Path, *, data_dir: Path | None = None,
                   env: Mapping[str, str] | None = None) -> str | None:
    """The session of this project whose checkpoints changed last (from the data dir)."""
    from realcost_agent.tools.paths import data_dir as default_data_dir
    from realcost_agent.agent.shadow_git import shadow_path

    data_dir = Path(data_dir) if data_dir is not None else default_data_dir(env)
    if not (shadow_path(root, data_dir) / "HEAD").exists():
        return None  # (never create a shadow just to look)
    cps = Checkpoints(root, "latest", data_dir=data_dir, env=env)
    refs = cps.repo.refs(REF_PREFIX)  # by commit date: whole seconds, so ties are possible

    def changed(ref: str) -> int:  # a loose ref's mtime breaks them
        try:
            return os.stat(cps.shadow / ref).st_mtime_ns
        except OSError:
            return 0

    refs.sort(key=changed, reverse=True)  # stable: packed refs keep the commit-date order
    return refs[0][len(REF_PREFIX):] if refs else None


def prune_sessions(root: Path, keep: int = 20, **kwargs) -> list[str]:
    """Delete all but the `keep` most recent sessions' checkpoint refs (then let git pack and
    collect what is unreachable); returns the deleted refs."""
    cps = Checkpoints(root, "prune", **kwargs)
    with cps._locked():
        refs = cps.repo.refs(REF_PREFIX)[keep:]
        for ref in refs:
            cps._run("update-ref", "-d", ref)
        cps._run("-c", "gc.auto=6700", "gc", "--auto", "--quiet", check=False)
    return refs


def legacy_refs(root: Path) -> bool:
    """Whether the project's .git holds checkpoints of an older version (read as files)."""
    from realcost_agent.agent.shadow_git import project_gitdir

    gitdir = project_gitdir(Path(os.path.realpath(root)))
    if gitdir is None:
        return False
    if (gitdir / "refs" / "agent" / "checkpoints").is_dir():
        return True
    try:
        return REF_PREFIX.encode() in (gitdir / "packed-refs").read_bytes()
    except OSError:
        return False


def _mb(n: int) -> str:
    return f"{n / (1024 * 1024):.3g} MB" if n >= 1024 * 1024 else f"{n:,} bytes"


def _parse_meta(body: str) -> dict:
    for line in body.splitlines():
        if line.startswith(_META):
            try:
                return json.loads(line[len(_META):])
            except ValueError:
                return {}
    return {}

