"""Repo map figures on django, ours beside Aider's, measured in one run on this machine.

    .venv/bin/python bench/repomap_bench.py [--budget 4096] [--skip-aider]

django and aider-chat are installed from PyPI into a separate venv (bench/.cache/repomap-venv,
created on first run). django's package directory is copied outside any git repository, minus
__pycache__, and both maps are built over that copy at the same budget with no task:

  cold     empty cache, fresh process
  warm     cache from the cold build, nothing changed, fresh process
  edited   one file changed (a function appended to db/models/query.py), fresh process

Each figure is the build call alone, timed inside its own fresh process (interpreter start and
imports excluded for both). Aider's RepoMap is driven directly (get_ranked_tags_map) with a
stand-in model whose token_count is o200k_base, so it makes no network call. Map sizes are
counted exactly in o200k_base for both; ours also shows its own estimate. Nothing is asserted.

Goals (issue 7): cold >= 2x faster than Aider's; warm and one-file rebuild < 0.3 s.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT))

VENV = HERE / ".cache" / "repomap-venv"
PACKAGES = ["django==5.2.*", "aider-chat==0.86.2"]
WORK = Path(tempfile.gettempdir()) / "agent-repomap-bench"
EDITED = "db/models/query.py"
EDIT = "\n\ndef _bench_added_function(rows):\n    return [r for r in rows]\n"

AIDER_DRIVER = r'''
import json, os, sys, time
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
import tiktoken
from aider.repomap import RepoMap

root, budget, files_json, out = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
enc = tiktoken.get_encoding("o200k_base")


class Model:  # stand-in for aider.models.Model: token counting only, no metadata fetch
    def token_count(self, text):
        return len(enc.encode(text, disallowed_special=()))


class IO:
    def read_text(self, fname):
        try:
            with open(fname, encoding="utf-8") as f:
                return f.read()
        except (OSError, UnicodeError):
            return None

    def tool_output(self, *a, **k): pass
    def tool_warning(self, *a, **k): pass
    def tool_error(self, *a, **k): pass


fnames = json.load(open(files_json))
rm = RepoMap(map_tokens=budget, root=root, main_model=Model(), io=IO(), refresh="always")
t0 = time.perf_counter()
text = rm.get_ranked_tags_map([], fnames, budget, set(), set(), force_refresh=True)
seconds = time.perf_counter() - t0
json.dump({"seconds": seconds, "map": text or ""}, open(out, "w"))
'''

OURS_DRIVER = r'''
import json, sys, time
sys.path.insert(0, sys.argv[5])
from realcost_agent.tools.repomap import RepoMap

root, cache, budget, out = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
rm = RepoMap(root, cache_dir=cache)
t0 = time.perf_counter()
text = rm.build(budget_tokens=budget)
seconds = time.perf_counter() - t0
s = rm.stats
json.dump({"seconds": seconds, "map": text, "parsed": s.parsed, "cached": s.cached,
           "files": s.files, "estimate": s.tokens, "phases": s.phases}, open(out, "w"))
'''


def ensure_venv() -> str | None:
    """Create the bench venv with django and aider-chat; None when ready, else why not."""
    py = VENV / "bin" / "python"
    if py.exists() and _run([str(py), "-c", "import django, aider.repomap"]).returncode == 0:
        return None
    if not py.exists():
        r = _run([sys.executable, "-m", "venv", str(VENV)])
        if r.returncode != 0:
            return f"venv failed: {r.stderr.strip()[-500:]}"
    r = _run([str(py), "-m", "pip", "install", "-q", *PACKAGES], timeout=1800)
    if r.returncode != 0:
        # Without aider we can still measure ours if django made it.
        _run([str(py), "-m", "pip", "install", "-q", PACKAGES[0]], timeout=600)
        return f"pip install {' '.join(PACKAGES)} failed: {r.stderr.strip()[-800:]}"
    return None


def _run(cmd: list[str], timeout: float = 600, env: dict[str, str] | None = None):
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env,
                          stdin=subprocess.DEVNULL)


def django_copy() -> tuple[Path, str]:
    py = VENV / "bin" / "python"
    r = _run([str(py), "-c", "import django, os; print(os.path.dirname(django.__file__)); "
                             "print(django.get_version())"])
    if r.returncode != 0:
        raise SystemExit(f"django is not installed in {VENV}: {r.stderr.strip()}")
    src, version = r.stdout.split()
    dest = WORK / "django"
    shutil.rmtree(WORK, ignore_errors=True)
    shutil.copytree(src, dest, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    return dest, version


def all_files(root: Path) -> list[str]:
    return sorted(str(p) for p in root.rglob("*") if p.is_file())


def measure(driver: str, python: str, args: list[str], env: dict[str, str]) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "driver.py"
        script.write_text(driver)
        out = Path(tmp) / "out.json"
        r = _run([python, str(script), *args[:3], str(out), *args[3:]], timeout=1800, env=env)
        if r.returncode != 0:
            raise RuntimeError(r.stderr.strip()[-2000:])
        return json.loads(out.read_text())


def series(name: str, driver: str, python: str, root: Path, args: list[str],
           env: dict[str, str]) -> dict[str, dict]:
    """cold, warm, edited: each in a fresh process; the edit is undone afterwards."""
    target = root / EDITED
    original = target.read_bytes()
    results = {}
    try:
        for phase in ("cold", "warm", "edited"):
            if phase == "edited":
                time.sleep(0.01)  # a distinct mtime even on coarse clocks
                target.write_bytes(original + EDIT.encode())
            results[phase] = measure(driver, python, args, env)
            print(f"  {name:5} {phase:6} {results[phase]['seconds']:7.2f} s", file=sys.stderr)
    finally:
        target.write_bytes(original)
    return results


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--budget", type=int, default=4096)
    ap.add_argument("--skip-aider", action="store_true")
    args = ap.parse_args()

    from tokenizer import count_tokens, ensure_encoding

    problem = ensure_venv()
    root, version = django_copy()
    files = all_files(root)
    env = dict(os.environ)
    if ensure_encoding() is None:
        env["TIKTOKEN_CACHE_DIR"] = os.environ["TIKTOKEN_CACHE_DIR"]
    print(f"django {version}: {len(files)} files at {root}", file=sys.stderr)

    cache = WORK / "ours-cache"
    shutil.rmtree(cache, ignore_errors=True)
    ours = series("ours", OURS_DRIVER, sys.executable, root,
                  [str(root), str(cache), str(args.budget), str(ROOT)], env)

    aider: dict[str, dict] | None = None
    aider_why = problem
    if not args.skip_aider and problem is None:
        flist = WORK / "files.json"
        flist.write_text(json.dumps(files))
        shutil.rmtree(root / ".aider.tags.cache.v4", ignore_errors=True)
        shutil.rmtree(root / ".aider.tags.cache.v3", ignore_errors=True)
        try:
            aider = series("aider", AIDER_DRIVER, str(VENV / "bin" / "python"), root,
                           [str(root), str(args.budget), str(flist)], env)
        except RuntimeError as exc:
            aider_why = f"aider's RepoMap failed: {exc}"
    elif args.skip_aider:
        aider_why = "skipped (--skip-aider)"

    report(version, files, ours, aider, aider_why, args.budget, count_tokens)


def report(version, files, ours, aider, aider_why, budget, count_tokens) -> None:
    o_tokens, method = count_tokens(ours["cold"]["map"])
    print(f"\nRepo map on django {version}: {len(files)} files "
          f"({ours['cold']['files']} in languages we map), budget {budget} tokens, no task")
    head = f"{'':28}{'ours':>12}"
    if aider:
        head += f"{'aider 0.86.2':>15}{'aider/ours':>12}"
    print(head)

    def row(label: str, mine: float, theirs: float | None, unit: str = "s") -> None:
        line = f"{label:28}{mine:>10.2f} {unit}" if unit else f"{label:28}{mine:>12.0f}"
        if theirs is not None:
            line += (f"{theirs:>13.2f} {unit}" if unit else f"{theirs:>15.0f}")
            line += f"{theirs / mine:>11.1f}x" if mine else ""
        print(line)

    for phase, label in (("cold", "cold build"), ("warm", "warm rebuild (no change)"),
                         ("edited", "rebuild after 1 edited file")):
        row(label, ours[phase]["seconds"], aider[phase]["seconds"] if aider else None)
    a_tokens = count_tokens(aider["cold"]["map"])[0] if aider else None
    row(f"map tokens ({method})", o_tokens, a_tokens, unit="")
    print(f"{'map tokens (our estimate)':28}{ours['cold']['estimate']:>12}")
    print(f"{'files parsed cold/warm/edit':28}{'/'.join(str(ours[p]['parsed']) for p in ('cold', 'warm', 'edited')):>12}")
    for phase in ("cold", "warm", "edited"):
        parts = ", ".join(f"{k} {v * 1000:.0f}" for k, v in ours[phase]["phases"].items())
        print(f"  ours {phase} phases (ms): {parts}")
    same = ours["cold"]["map"] == ours["warm"]["map"]
    print(f"{'ours: cold map == warm map':28}{'yes' if same else 'NO':>12}", end="")
    if aider:
        a_same = aider["cold"]["map"] == aider["warm"]["map"]
        print(f"{'yes' if a_same else 'no':>15}  (aider cold == warm)")
    else:
        print(f"\naider: not measured: {aider_why}")
    if aider:
        print("\nGoals: cold >= 2x faster than Aider: "
              + ("met" if aider["cold"]["seconds"] >= 2 * ours["cold"]["seconds"] else "NOT met"))
    print("Goals: warm < 0.3 s: " + ("met" if ours["warm"]["seconds"] < 0.3 else "NOT met")
          + "; one edited file < 0.3 s: "
          + ("met" if ours["edited"]["seconds"] < 0.3 else "NOT met"))


if __name__ == "__main__":
    main()
