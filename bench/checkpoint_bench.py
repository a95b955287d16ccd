"""Checkpoint cost (issue 10, item 7): a checkpoint is taken before every command that may write,
so its cost is paid on almost every tool call. Measured on a generated git project of ~2,000
files (plus gitignored build output and a skipped node_modules), in a temporary directory:

  cold         first checkpoint ever: every file hashed into a new shadow repo
  new session  first checkpoint of a second session (stat cache persisted in the shadow)
  same turn    nothing changed since the last checkpoint of this turn (reused, no commit)
  new turn     nothing changed, but a new turn (a commit on the same tree)
  one edit     one file changed
  ten edits    ten files changed
  restore      undo after 50 files were deleted and 10 rewritten

    .venv/bin/python bench/checkpoint_bench.py [--files 2000] [--runs 15]

Nothing is asserted; the figures are printed (median and p90 in milliseconds).
"""
from __future__ import annotations

import argparse
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from realcost_agent.agent.checkpoints import Checkpoints  # noqa: E402


def make_project(root: Path, files: int) -> list[Path]:
    rng = random.Random(7)
    paths = []
    for n in range(files):
        d = root / "src" / f"pkg{n % 40}" / f"mod{n % 7}"
        d.mkdir(parents=True, exist_ok=True)
        p = d / f"file{n}.py"
        p.write_bytes(("x = %d\n" % n).encode() * rng.randint(20, 600))  # 0.1-5 KB
        paths.append(p)
    (root / ".gitignore").write_text("build/\n.env\nnode_modules/\n")
    (root / ".env").write_text("SECRET=1\n")
    for n in range(100):
        b = root / "build" / f"obj{n}.o"
        b.parent.mkdir(parents=True, exist_ok=True)
        b.write_bytes(os.urandom(2048))
    for n in range(500):
        m = root / "node_modules" / f"dep{n % 50}" / f"i{n}.js"
        m.parent.mkdir(parents=True, exist_ok=True)
        m.write_text("module.exports = 1\n")
    env = {**os.environ, "GIT_AUTHOR_NAME": "b", "GIT_AUTHOR_EMAIL": "b@b",
           "GIT_COMMITTER_NAME": "b", "GIT_COMMITTER_EMAIL": "b@b"}
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "init"]):
        subprocess.run(["git", *args], cwd=root, env=env, check=True, capture_output=True)
    old = time.time_ns() - 3600 * 10**9  # an hour old, like a real checkout: cacheable
    for p in root.rglob("*"):
        if p.is_file() and ".git" not in p.parts:
            os.utime(p, ns=(old, old))
    return paths


_CPU: list[float] = []  # CPU ms (this process + git children) of the last ms() call


def ms(f) -> float:  # noqa: ANN001
    """Wall ms; the CPU time (ours + the git processes') goes to _CPU, which a loaded shared
    machine inflates far less than wall time."""
    r0, c0 = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    f()
    wall = (time.perf_counter() - t0) * 1000
    r1, c1 = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    _CPU.append(1000 * sum(b.ru_utime - a.ru_utime + b.ru_stime - a.ru_stime
                           for a, b in ((r0, r1), (c0, c1))))
    return wall


def show(name: str, samples: list[float]) -> None:
    cpu = sorted(_CPU[-len(samples):])
    samples = sorted(samples)
    p90 = samples[min(len(samples) - 1, int(len(samples) * 0.9))]
    print(f"  {name:12} wall median {statistics.median(samples):8.1f} ms  p90 {p90:8.1f} ms   "
          f"cpu median {statistics.median(cpu):7.1f} ms   (n={len(samples)})")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--files", type=int, default=2000)
    ap.add_argument("--runs", type=int, default=15)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="ckpt-bench-") as tmp:
        root, data = Path(tmp) / "proj", Path(tmp) / "data"
        root.mkdir()
        paths = make_project(root, args.files)
        cps = Checkpoints(root, "s1", data_dir=data)
        print(f"checkpoint cost, {args.files} tracked files + 100 ignored build files + "
              f"500 in node_modules (skipped), git {subprocess.run(['git', '--version'], capture_output=True, text=True).stdout.split()[-1]}")
        show("cold", [ms(lambda: cps.snapshot("cold", turn="t0"))])
        show("new session", [ms(lambda: Checkpoints(root, "s2", data_dir=data).snapshot("x", turn="t0"))])
        cp = cps.snapshot("t1", turn="t1")
        print(f"  ({cp.files} files saved; node_modules skipped)")
        show("same turn", [ms(lambda: cps.snapshot("t1", turn="t1")) for _ in range(args.runs)])
        show("new turn", [ms(lambda i=i: cps.snapshot("t", turn=f"n{i}")) for i in range(args.runs)])
        rng = random.Random(1)

        def edit(k: int) -> None:
            for p in rng.sample([q for q in paths if q.exists()], k):
                p.write_bytes(p.read_bytes() + b"# edit\n")

        samples = []
        for i in range(args.runs):
            edit(1)
            samples.append(ms(lambda i=i: cps.snapshot("e", turn=f"e{i}")))
        show("one edit", samples)
        samples = []
        for i in range(args.runs):
            edit(10)
            samples.append(ms(lambda i=i: cps.snapshot("e", turn=f"f{i}")))
        show("ten edits", samples)
        samples = []
        for _ in range(max(3, args.runs // 3)):
            target = cps.snapshot("before damage", turn="r")
            for p in rng.sample([q for q in paths if q.exists()], 50):
                p.unlink()
            edit(10)
            samples.append(ms(lambda: cps.restore(target)))
        show("restore", samples)
        size = sum(f.stat().st_size for f in cps.shadow.rglob("*") if f.is_file())
        print(f"  shadow repo size {size / 1e6:.1f} MB ({len(cps.list())} checkpoints)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
