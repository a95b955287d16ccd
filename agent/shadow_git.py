"""The shadow repository that holds a project's checkpoints, out of the model's reach.

One bare git repository per project, <data dir>/checkpoints/<name>-<hash of the real path>.git,
shared by every session of that project (each session has its own ref in it). It is outside the
project, so a command the model runs (sandboxed: everything outside the project is read-only)
cannot delete it, and nothing in the project's own .git can affect it.

git runs here with no configuration but the shadow's own: GIT_CONFIG_NOSYSTEM=1,
GIT_CONFIG_GLOBAL=/dev/null, every inherited GIT_* variable dropped, hooks, fsmonitor, filters,
attributes and excludes files off, from the shadow's directory and never with a work tree. The
checkpoint code reads and writes the project's files itself (blobs are hashed with
`hash-object --no-filters` from absolute paths), so no .gitattributes filter, hook, fsmonitor or
setting of the project's .git/config can run or change a byte. Conceptually the project is the
shadow's work tree (`--git-dir=<shadow> --work-tree=<root>`); in practice git never needs it.

The user's .git is only ever read as files: the index (copied, then listed here through
GIT_INDEX_FILE) and, for staged blobs the shadow lacks, its object store (read through
GIT_ALTERNATE_OBJECT_DIRECTORIES). It is written only by an explicit `restore(index=True)`.

Concurrent sessions take an exclusive lock (flock on <name>-<hash>.lock) around every snapshot,
restore and prune, so two sessions never race on the same refs or stat cache.
"""
from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import stat
import subprocess
import threading
import time
import zlib
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, Mapping

CONFIG = (
    "[core]\n\trepositoryformatversion = 0\n\tbare = true\n\tfilemode = true\n"
    "\thooksPath = /dev/null\n\tfsmonitor = false\n\tuntrackedCache = false\n"
    "\texcludesFile = /dev/null\n\tattributesFile = /dev/null\n\tautocrlf = false\n"
    "\tlogAllRefUpdates = false\n[gc]\n\tauto = 0\n[commit]\n\tgpgSign = false\n"
)
# The same again on every command line, which outranks any config file.
_FLAGS = ("core.hooksPath=/dev/null", "core.fsmonitor=false", "core.excludesFile=/dev/null",
          "core.attributesFile=/dev/null", "commit.gpgSign=false", "core.autocrlf=false")
LOCK_TIMEOUT = 300.0


class ShadowError(RuntimeError):
    pass


def shadow_path(root: Path, data_dir: Path) -> Path:
    real = os.path.realpath(root)
    digest = hashlib.sha256(os.fsencode(real)).hexdigest()[:16]
    name = "".join(c if c.isalnum() or c in "-_." else "-" for c in os.path.basename(real)) or "root"
    return Path(data_dir) / "checkpoints" / f"{name[:40]}-{digest}.git"


def git_env(base: Mapping[str, str]) -> dict[str, str]:
    """The hardened git environment every git run of the agent uses (tools/gitsafe.py: no secrets,
    no system or global config, inert editors and pagers), minus every other GIT_* variable (the
    shadow repository names its own git dir and work tree) and with a fixed identity and locale."""
    from realcost_agent.tools.gitsafe import git_env as hardened

    env = hardened(base, user_config=False)
    ours = {"GIT_CONFIG_NOSYSTEM", "GIT_CONFIG_GLOBAL", "GIT_TERMINAL_PROMPT", "GIT_PAGER",
            "GIT_EDITOR", "GIT_SEQUENCE_EDITOR", "GIT_OPTIONAL_LOCKS"}
    env = {k: v for k, v in env.items() if not k.startswith("GIT_") or k in ours}
    env.update(LC_ALL="C", GIT_AUTHOR_NAME="agent", GIT_AUTHOR_EMAIL="agent@localhost",
               GIT_COMMITTER_NAME="agent", GIT_COMMITTER_EMAIL="agent@localhost")
    return env


class ShadowRepo:
    def __init__(self, root: Path, data_dir: Path, env: Mapping[str, str] | None = None) -> None:
        if shutil.which("git") is None:
            raise ShadowError("checkpoints need git, which is not installed")
        self.root = Path(os.path.realpath(root))
        self.path = shadow_path(self.root, data_dir)
        self.lock_path = self.path.with_suffix(".lock")
        self.env = git_env(os.environ if env is None else env)
        self._git = ["git", "--git-dir", str(self.path)]
        for flag in _FLAGS:
            self._git += ["-c", flag]
        self._depth = 0
        self._thread_lock = threading.RLock()
        self._lock_fd: int | None = None
        self._index_cache: tuple[tuple[int, ...], str | None, str] | None = None

    # -- setup, locking, running git ----------------------------------------------------------
    def ensure(self) -> None:
        """Create the shadow if missing (idempotent, safe to race: init re-initializes)."""
        if (self.path / "HEAD").exists() and (self.path / "objects").is_dir():
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # Checkpoints hold copies of .env and other secrets: for the user's eyes only.
        os.chmod(self.path.parent, 0o700)
        with self.lock():
            if (self.path / "HEAD").exists() and (self.path / "objects").is_dir():
                return
            r = subprocess.run(["git", "init", "-q", "--bare", "--template=", str(self.path)],
                               cwd=self.path.parent, env=self.env, capture_output=True)
            if r.returncode != 0:
                raise ShadowError(f"cannot create {self.path}: "
                                  f"{r.stderr.decode('utf-8', 'replace').strip()}")
            tmp = self.path / "config.agent-tmp"
            tmp.write_text(CONFIG)
            os.replace(tmp, self.path / "config")
            (self.path / "agent-project").write_bytes(os.fsencode(self.root) + b"\n")

    @contextmanager
    def lock(self) -> Iterator[None]:
        """Exclusive across processes and threads; re-entrant within one thread."""
        with self._thread_lock:  # threads sharing this object; flock below for the rest
            with self._flock():
                yield

    @contextmanager
    def _flock(self) -> Iterator[None]:
        if self._depth:
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
            return
        self.lock_path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        deadline = time.monotonic() + LOCK_TIMEOUT
        try:
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        raise ShadowError(f"{self.lock_path} is held by another session") from None
                    time.sleep(0.02)
            self._depth = 1
            try:
                yield
            finally:
                self._depth = 0
                fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)

    def run(self, *args: str, input: bytes | None = None, index: str | None = None,
            env: Mapping[str, str] | None = None, check: bool = True) -> bytes:
        full = dict(self.env)
        if index is not None:
            full["GIT_INDEX_FILE"] = index
        full.update(env or {})
        # cwd "/": with --git-dir given, git needs no cwd (and the shadow may just have gone).
        r = subprocess.run([*self._git, *args], cwd="/", env=full, input=input,
                           capture_output=True)
        if check and r.returncode != 0:
            raise ShadowError(f"git {args[0]} failed: {r.stderr.decode('utf-8', 'replace').strip()}")
        return r.stdout

    def store_blobs(self, sources: list[str], *, bulk: bool = False) -> list[str | None]:
        """Store files as blobs (bytes as on disk: no filters), reading them here, never through
        git: a file swapped for a fifo or a symlink since it was listed is refused, not waited on
        or followed. A few go in as loose objects (no process at all); many (bulk) through one
        `git fast-import` pack, since thousands of loose objects cost a file each. None for a
        file that could not be read."""
        if not bulk:
            shas: list[str | None] = []
            for source in sources:
                data = read_regular(source)
                if data is None:
                    shas.append(None)
                    continue
                sha = hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()
                if not (self.path / "objects" / sha[:2] / sha[2:]).exists():
                    write_loose_blob(self.path / "objects", sha, data)
                shas.append(sha)
            return shas
        proc = subprocess.Popen([*self._git, "fast-import", "--quiet", "--done"], cwd="/",
                                env=self.env, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE)
        assert proc.stdin is not None and proc.stderr is not None
        shas = []
        try:
            for source in sources:
                data = read_regular(source)
                if data is None:
                    shas.append(None)
                    continue
                shas.append(hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest())
                proc.stdin.write(b"blob\ndata %d\n" % len(data) + data + b"\n")
            proc.stdin.write(b"done\n")
            proc.stdin.close()
        except BrokenPipeError:
            pass
        err = proc.stderr.read()
        if proc.wait() != 0:
            raise ShadowError(f"git fast-import failed: {err.decode('utf-8', 'replace').strip()}")
        return shas

    def write_tree(self, files: Mapping[str, tuple[str, str]]) -> str:
        """The tree of {path: (mode, blob sha)}, written here as git's write-tree would (one
        process fewer per checkpoint); unchanged subtrees are already there and not rewritten."""
        top: dict = {}
        for rel, entry in files.items():
            *dirs, name = rel.split("/")
            node = top
            for d in dirs:
                node = node.setdefault(d, {})
            node[name] = entry
        return self._write_tree(top)

    def _write_tree(self, node: dict) -> str:
        entries = []
        for name, value in node.items():
            raw = os.fsencode(name)
            if isinstance(value, dict):  # git orders a directory as if its name ended in /
                entries.append((raw + b"/", b"40000 " + raw, self._write_tree(value)))
            else:
                entries.append((raw, value[0].encode() + b" " + raw, value[1]))
        entries.sort(key=lambda e: e[0])
        body = b"".join(head + b"\0" + bytes.fromhex(sha) for _, head, sha in entries)
        return write_object(self.path / "objects", b"tree", body)

    def refs(self, prefix: str) -> list[str]:
        """Ref names under prefix, most recently committed first."""
        out = self.run("for-each-ref", "--sort=-committerdate", "--format=%(refname)", prefix,
                       check=False)
        return out.decode("utf-8", "replace").split()

    # -- the user's index ------------------------------------------------------------------------
    def import_index(self, tmp: str) -> tuple[str | None, str]:
        """(a commit of the user's staged tree stored in the shadow, or None; why not)."""
        gitdir = project_gitdir(self.root)
        if gitdir is None:
            return None, "the project is not the top of a git repository"
        real = gitdir / "index"
        try:
            st = os.stat(real)
            key: tuple[int, ...] = (st.st_mtime_ns, st.st_ctime_ns, st.st_size, st.st_ino)
        except FileNotFoundError:
            key = ()
        if self._index_cache and self._index_cache[0] == key:
            return self._index_cache[1], self._index_cache[2]
        result = self._import_index(gitdir, real, key, tmp)
        self._index_cache = (key, *result)
        return result

    def _import_index(self, gitdir: Path, real: Path, key: tuple, tmp: str) -> tuple[str | None, str]:
        copy = os.path.join(tmp, "user-index")
        if key:
            shutil.copyfile(real, copy)
        try:
            listing = self.run("ls-files", "-s", "-z", index=copy)
        except ShadowError:  # a split index, a newer index version, a torn file
            return None, "the project's index could not be read"
        shas: set[str] = set()
        for rec in listing.split(b"\0"):
            if not rec:
                continue
            mode, sha, stage = rec.split(b"\t", 1)[0].decode().split(" ")
            if stage != "0":
                return None, "a merge conflict is in progress"
            if len(sha) != 40:
                return None, "the project's repository uses another hash"
            if mode != "160000":
                shas.add(sha)
        missing = self._missing(shas)
        if missing:
            alternates = {"GIT_ALTERNATE_OBJECT_DIRECTORIES": str(objects_dir(gitdir))}
            blobs = read_blobs(self, missing, env=alternates)
            if len(blobs) != len(missing):
                return None, "staged content is missing from the project's .git"
            for n, (sha, data) in enumerate(blobs.items()):
                path = os.path.join(tmp, f"staged-{n}")
                with open(path, "wb") as f:
                    f.write(data)
                got = self.run("hash-object", "-w", "--no-filters", "--", path).decode().strip()
                if got != sha:
                    return None, "the project's objects do not match its index"
        tree = self.run("write-tree", index=copy, check=False).decode().strip()
        if not tree:
            return None, "the project's index could not be written as a tree"
        commit = self.run("commit-tree", tree, "-m", "index").decode().strip()
        return commit, ""

    def _missing(self, shas: set[str]) -> list[str]:
        if not shas:
            return []
        out = self.run("cat-file", "--batch-check", input="".join(s + "\n" for s in shas).encode())
        return [line.split()[0] for line in out.decode().splitlines() if line.endswith(" missing")]

    def export_index(self, commit: str, tmp: str) -> str:
        """Write the user's index from a stored index commit; '' on success, else why not."""
        gitdir = project_gitdir(self.root)
        if gitdir is None:
            return "the project is no longer a git repository"
        if (gitdir / "index.lock").exists():
            return "another git command holds the project's index.lock"
        built = os.path.join(tmp, "restored-index")
        self.run("read-tree", commit + "^{tree}", index=built)
        listing = self.run("ls-files", "-s", "-z", index=built)
        shas = {rec.split(b" ")[1].decode() for rec in listing.split(b"\0")
                if rec and not rec.startswith(b"160000")}
        objects = objects_dir(gitdir)
        absent = self._missing_in(shas, objects)
        for sha, data in read_blobs(self, absent).items():
            write_loose_blob(objects, sha, data)  # the staged content the user's .git lost
        tmp_index = gitdir / "index.agent-tmp"
        shutil.copyfile(built, tmp_index)
        os.replace(tmp_index, gitdir / "index")
        return ""

    def _missing_in(self, shas: set[str], objects: Path) -> list[str]:
        """Which of shas the project's object store lacks (read through GIT_OBJECT_DIRECTORY)."""
        if not shas:
            return []
        out = self.run("cat-file", "--batch-check", env={"GIT_OBJECT_DIRECTORY": str(objects)},
                       input="".join(s + "\n" for s in shas).encode())
        return [line.split()[0] for line in out.decode().splitlines() if line.endswith(" missing")]


def read_blobs(repo: ShadowRepo, shas: list[str], env: Mapping[str, str] | None = None) -> dict[str, bytes]:
    if not shas:
        return {}
    out = repo.run("cat-file", "--batch", env=env, input="".join(s + "\n" for s in shas).encode())
    blobs, pos = {}, 0
    for _ in shas:
        nl = out.index(b"\n", pos)
        head = out[pos:nl].decode().split(" ")
        pos = nl + 1
        if len(head) != 3:  # "<sha> missing"
            continue
        size = int(head[2])
        blobs[head[0]] = out[pos:pos + size]
        pos += size + 1
    return blobs


def project_gitdir(root: Path) -> Path | None:
    """The project's git directory when root is the top of a work tree (read as files only)."""
    dot = root / ".git"
    if dot.is_symlink():
        return None
    if dot.is_dir():
        return dot
    if dot.is_file():
        try:
            line = dot.read_text(errors="replace").strip()
        except OSError:
            return None
        if line.startswith("gitdir:"):
            target = (root / line[len("gitdir:"):].strip()).resolve()
            return target if target.is_dir() else None
    return None


def objects_dir(gitdir: Path) -> Path:
    common = gitdir / "commondir"
    if common.is_file():
        return (gitdir / common.read_text().strip()).resolve() / "objects"
    return gitdir / "objects"


def read_regular(path: str) -> bytes | None:
    """A regular file's bytes; None for anything else (a fifo would block, a symlink would lead
    elsewhere) or when unreadable."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
        chunks = []
        while chunk := os.read(fd, 1 << 20):
            chunks.append(chunk)
        return b"".join(chunks)
    except OSError:
        return None
    finally:
        os.close(fd)


def write_loose_blob(objects: Path, sha: str, data: bytes) -> None:
    if write_object(objects, b"blob", data) != sha:
        raise ShadowError(f"blob {sha} does not match its content")


def write_object(objects: Path, kind: bytes, body: bytes) -> str:
    """A loose object (zlib, read-only, renamed into place); its sha. Kept if present."""
    raw = kind + b" %d\0" % len(body) + body
    sha = hashlib.sha1(raw).hexdigest()
    target = objects / sha[:2] / sha[2:]
    if target.exists():
        return sha
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f"{target.name}.{os.getpid()}.{threading.get_ident()}.agent-tmp")
    tmp.write_bytes(zlib.compress(raw, 1))
    os.chmod(tmp, 0o444)
    os.replace(tmp, target)
    return sha
