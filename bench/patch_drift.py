"""Indentation-drift benchmark for apply_patch and edit, built from real source files.

Each case takes a real file (installed packages' sources, the example projects, Makefiles),
makes a realistic edit (a line added inside a nested block, a changed condition, an else branch,
a new method, a nested if), keeps the correct result, then renders the model's patch (and the
edit tool's old/new strings) with one kind of indentation drift. Both go through the real tools
in a temp directory and each outcome is classified:
  correct  the file is byte-equal to the expected one
  wrong    the tool applied something else (the worst outcome: silently wrong code)
  refused  the tool refused (a miss; the model can retry)

Run: .venv/bin/python bench/patch_drift.py [--per-kind N] [--seed S] [--show-wrong]
"""
from __future__ import annotations

import argparse
import asyncio
import random
import re
import sysconfig
import tempfile
from collections import Counter, defaultdict
from pathlib import Path

from realcost_agent.tools.apply_patch import apply_patch_text
from realcost_agent.tools.base import ToolContext
from realcost_agent.tools.edit import Edit

REPO = Path(__file__).resolve().parent.parent
SITE = Path(sysconfig.get_paths()["purelib"])
PY_PACKAGES = ["textual", "rich", "httpx", "pydantic"]
KINDS = [
    "none", "halved", "doubled", "to_tabs", "to_spaces", "dedent", "dedent_halved",
    "offset", "mixed", "trailing",
]


def _ws(s: str) -> str:
    return s[: len(s) - len(s.lstrip())]


def _unit(lines: list[str]) -> tuple[str, int] | None:
    """The file's indent char and unit (most common positive step between lines)."""
    tabs = sum(1 for ln in lines if ln.startswith("\t"))
    spaces = sum(1 for ln in lines if ln.startswith(" ") and ln.strip())
    if tabs > spaces:
        return ("\t", 1) if tabs >= 3 else None
    steps: Counter[int] = Counter()
    prev = 0
    for ln in lines:
        if not ln.strip():
            continue
        w = len(_ws(ln))
        if "\t" in _ws(ln):
            return None
        if w > prev:
            steps[w - prev] += 1
        prev = w
    if not steps:
        return None
    step = steps.most_common(1)[0][0]
    return (" ", step) if step in (2, 4) else None


def load_sources() -> dict[str, list[tuple[str, list[str]]]]:
    """Pools of (name, lines) by language; sorted so the seed decides everything."""
    pools: dict[str, list[tuple[str, list[str]]]] = defaultdict(list)

    def add(lang: str, path: Path) -> None:
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            return
        if "\r" in text or not text.endswith("\n"):
            return
        lines = text[:-1].split("\n")
        if _unit(lines) and max(map(len, lines)) < 300:
            pools[lang].append((str(path), lines))

    for pkg in PY_PACKAGES:
        for p in sorted((SITE / pkg).rglob("*.py")):
            if 2_000 < p.stat().st_size < 120_000:
                add("py", p)
    js = sorted((REPO / "examples").rglob("*.js")) + sorted(SITE.rglob("emscripten/*.js"))
    for p in js:
        add("js", p)
    yamls = sorted(SITE.glob("mdit_py_plugins/*/port.yaml")) + sorted(SITE.glob("*/port.yaml"))
    yamls += sorted(SITE.glob("litellm/proxy/*.yaml"))
    for p in yamls:
        add("yaml", p)
    for p in [REPO / "Makefile", Path(sysconfig.get_makefile_filename())]:
        if p.is_file():
            add("make", p)
    return pools


# ---- edits: each returns (start, end, new_lines) replacing lines[start:end], or None ----

_OPENER = (":", "{", "(", "[", ",", "\\")
_PY_NEW = ["_ = None  # drift-bench", "self._bench_seen = True", "log.debug('drift bench')"]
_JS_NEW = ["void 0; // drift-bench", "console.debug(\"drift bench\");"]


def _next_nonblank(lines: list[str], i: int) -> int | None:
    j = i + 1
    while j < len(lines) and not lines[j].strip():
        j += 1
    return j if j < len(lines) else None


def _block_end(lines: list[str], i: int) -> int:
    """Index after the last line of the block opened by line i (indent-based)."""
    depth = len(_ws(lines[i]))
    j, last = i + 1, i
    while j < len(lines):
        if lines[j].strip():
            if len(_ws(lines[j])) <= depth:
                break
            last = j
        j += 1
    return last + 1


def _statement(lang: str, rng: random.Random) -> str:
    if lang == "py":
        return rng.choice(_PY_NEW)
    if lang == "js":
        return rng.choice(_JS_NEW)
    if lang == "yaml":
        return "drift_bench: true"
    return "@echo drift-bench"


def edit_add_line(lines, lang, unit, rng):
    cands = []
    for i, ln in enumerate(lines):
        if not ln.strip() or not _ws(ln) or ln.rstrip().endswith(_OPENER):
            continue
        j = _next_nonblank(lines, i)
        if j is None or _ws(lines[j]) != _ws(ln):
            continue
        if lang == "yaml" and (ln.lstrip().startswith("- ") or ":" not in ln):
            continue
        if lang == "make" and not ln.startswith("\t"):
            continue
        cands.append(i)
    if not cands:
        return None
    i = rng.choice(cands)
    return i + 1, i + 1, [_ws(lines[i]) + _statement(lang, rng)]


def edit_condition(lines, lang, unit, rng):
    pat = {"py": r"^(\s*)(if|elif|while) (.+):$", "js": r"^(\s*)(if|while) \((.+)\) \{$"}.get(lang)
    if pat is None:  # yaml/make: change a value in place
        cands = [i for i, ln in enumerate(lines) if _ws(ln) and ln.strip() and len(ln) < 120
                 and not ln.rstrip().endswith(_OPENER)]
        if not cands:
            return None
        i = rng.choice(cands)
        return i, i + 1, [lines[i].rstrip() + (" # changed" if lang == "yaml" else " --quiet")]
    cands = [(i, m) for i, ln in enumerate(lines) if _ws(ln) and (m := re.match(pat, ln))]
    if not cands:
        return None
    i, m = rng.choice(cands)
    ind, kw, cond = m.groups()
    new = f"{ind}{kw} ({cond}) and ready:" if lang == "py" else f"{ind}{kw} (({cond}) && ready) {{"
    return i, i + 1, [new]


def edit_else(lines, lang, unit, rng):
    step = "\t" if unit[0] == "\t" else " " * unit[1]
    cands = []
    for i, ln in enumerate(lines):
        s = ln.strip()
        if lang == "py" and re.match(r"if .+:$", s) and _ws(ln):
            end = _block_end(lines, i)
            j = _next_nonblank(lines, end - 1)
            if end > i + 1 and (j is None or not lines[j].strip().startswith(("elif", "else"))):
                cands.append((i, end))
        if lang == "js" and re.match(r"if \(.+\) \{$", s):
            end = _block_end(lines, i)
            if end < len(lines) and lines[end].strip() == "}" and _ws(lines[end]) == _ws(ln):
                cands.append((i, end))
    if not cands:
        return None
    i, end = rng.choice(cands)
    ind = _ws(lines[i])
    body = ind + step + _statement(lang, rng)
    if lang == "py":
        return end, end, [ind + "else:", body]
    return end, end + 1, [ind + "} else {", body, ind + "}"]


def edit_method(lines, lang, unit, rng):
    if lang != "py":
        return None
    step = " " * unit[1]
    cands = [i for i, ln in enumerate(lines)
             if re.match(r"\s+def \w+\(self", ln) and ln.rstrip().endswith(":")]
    if not cands:
        return None
    i = rng.choice(cands)
    end = _block_end(lines, i)
    ind = _ws(lines[i])
    new = ["", f"{ind}def _drift_bench(self):", f"{ind}{step}return None"]
    return end, end, new


def edit_nested(lines, lang, unit, rng):
    if lang not in ("py", "js"):
        return edit_add_line(lines, lang, unit, rng)
    step = " " * unit[1]
    r = edit_add_line(lines, lang, unit, rng)
    if r is None:
        return None
    at, _, [stmt] = r
    ind = _ws(stmt)
    if lang == "py":
        new = [f"{ind}if ready:", f"{ind}{step}{stmt.strip()}"]
    else:
        new = [f"{ind}if (ready) {{", f"{ind}{step}{stmt.strip()}", f"{ind}}}"]
    return at, at, new


EDITS = [edit_add_line, edit_condition, edit_else, edit_method, edit_nested]
POOL_FOR = {"halved": "space", "doubled": "space", "to_tabs": "space", "to_spaces": "tab",
            "dedent_halved": "space", "mixed": "space"}

# ---- drift ----


def drift_fn(kind: str, unit: tuple[str, int], lines_ws: list[str], rng: random.Random):
    """A function mapping a patch line's indentation to its drifted form."""
    char, n = unit
    base = min((len(w) for w in lines_ws), default=0)
    if kind == "halved":
        return lambda w: " " * (len(w) // 2)
    if kind == "doubled":
        return lambda w: " " * (len(w) * 2)
    if kind == "to_tabs":
        return lambda w: "\t" * (len(w) // n) + " " * (len(w) % n)
    if kind == "to_spaces":
        width = rng.choice([2, 4, 8])
        return lambda w: w.replace("\t", " " * width)
    if kind == "dedent":
        return lambda w: w[base:]
    if kind == "dedent_halved":
        return lambda w: " " * (len(w[base:]) // 2)
    if kind == "offset":
        extra = "\t" if char == "\t" else " " * rng.choice([1, 2, 3, 4, 8])
        return lambda w: extra + w
    return lambda w: w


def render(chunk: list[tuple[str, str]], kind: str, unit, rng: random.Random):
    """Drift the chunk's lines; returns new (op, text) lines."""
    ws = [_ws(t) for _, t in chunk if t.strip()]
    mixed_kinds = ["halved", "doubled", "dedent", "to_tabs", "offset"]
    inner = rng.choice(mixed_kinds) if kind == "mixed" else kind
    f = drift_fn(inner, unit, ws, rng)
    out = []
    for op, t in chunk:
        if not t.strip():
            out.append((op, t))
        elif kind == "mixed" and op == "+":
            out.append((op, t))
        elif kind == "trailing":
            out.append((op, t + (rng.choice(["  ", "\t", " "]) if op != "+" else "")))
        else:
            out.append((op, f(_ws(t)) + t.lstrip()))
    return out


def make_case(lines, lang, unit, rng, ctx: int):
    """(chunk lines, expected lines, edit name) for one random edit, or None if nothing fits."""
    for edit in rng.sample(EDITS, len(EDITS)):
        r = edit(lines, lang, unit, rng)
        if r is None:
            continue
        start, end, new = r
        a, b = max(start - ctx, 0), min(end + ctx, len(lines))
        old_block = [ln.strip() for ln in lines[a:b]]
        stripped = [ln.strip() for ln in lines]
        hits = sum(1 for i in range(len(lines) - len(old_block) + 1)
                   if stripped[i : i + len(old_block)] == old_block)
        if hits != 1 or not any(old_block):
            continue
        chunk = ([(" ", t) for t in lines[a:start]] + [("-", t) for t in lines[start:end]]
                 + [("+", t) for t in new] + [(" ", t) for t in lines[end:b]])
        return chunk, lines[:start] + new + lines[end:], edit.__name__.removeprefix("edit_")
    return None


def run_patch(text: str, chunk, name: str) -> tuple[bool, str, str]:
    body = "\n".join(op + t for op, t in chunk)
    patch = f"*** Begin Patch\n*** Update File: {name}\n@@\n{body}\n*** End Patch\n"
    with tempfile.TemporaryDirectory() as d:
        (Path(d) / name).write_text(text)
        r = apply_patch_text(patch, Path(d))
        return not r.is_error, (Path(d) / name).read_text(), r.output


def run_edit(text: str, chunk, name: str) -> tuple[bool, str, str]:
    old = "\n".join(t for op, t in chunk if op != "+")
    new = "\n".join(t for op, t in chunk if op != "-")
    with tempfile.TemporaryDirectory() as d:
        (Path(d) / name).write_text(text)
        params = Edit.Params(path=name, old_string=old, new_string=new)
        r = asyncio.run(Edit().run(params, ToolContext(root=Path(d))))
        return not r.is_error, (Path(d) / name).read_text(), r.output


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--per-kind", type=int, default=40, help="cases per drift kind and tool")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--show-wrong", action="store_true", help="print every wrong case")
    ap.add_argument("--show-refused", action="store_true", help="print every refused case")
    args = ap.parse_args()
    rng = random.Random(args.seed)
    pools = load_sources()
    by_style = {"space": [], "tab": [], "any": []}
    for lang, files in pools.items():
        for name, lines in files:
            style = "tab" if _unit(lines)[0] == "\t" else "space"
            entry = (lang, name, lines)
            by_style[style].append(entry)
            by_style["any"].append(entry)
    results: dict[tuple[str, str], Counter] = defaultdict(Counter)
    wrong: list[str] = []
    mix: Counter[str] = Counter()  # languages and edit kinds, to show what was measured
    for kind in KINDS:
        pool = by_style[POOL_FOR.get(kind, "any")]
        langs = sorted({e[0] for e in pool})
        made = 0
        while made < args.per_kind:
            # Weigh the languages so Python does not crowd out the rest: 60% py, rest split.
            lang = "py" if "py" in langs and rng.random() < 0.6 else rng.choice(langs)
            lang_files = [e for e in pool if e[0] == lang]
            _, name, lines = rng.choice(lang_files)
            unit = _unit(lines)
            case = make_case(lines, lang, unit, rng, rng.choice([2, 3, 3]))
            if case is None:
                continue
            chunk, expected, edit_name = case
            mix[f"{lang}"] += 1
            mix[edit_name] += 1
            drifted = render(chunk, kind, unit, rng)
            fname = Path(name).name
            text, want = "\n".join(lines) + "\n", "\n".join(expected) + "\n"
            for tool, runner in (("apply_patch", run_patch), ("edit", run_edit)):
                ok, got, msg = runner(text, drifted, fname)
                outcome = "refused" if not ok else ("correct" if got == want else "wrong")
                results[(tool, kind)][outcome] += 1
                if (outcome == "wrong" and args.show_wrong) or (
                    outcome == "refused" and args.show_refused
                ):
                    body = "\n".join(repr(op + t) for op, t in drifted)
                    wrong.append(f"--- {outcome} {tool} {kind} {name}\n{body}\n{msg}")
            made += 1
    for w in wrong:
        print(w)
    print("cases by language and edit: " + ", ".join(f"{k} {v}" for k, v in sorted(mix.items())))
    print(f"{'tool':<12}{'drift':<15}{'cases':>6}{'correct':>9}{'wrong':>7}{'refused':>9}")
    totals: dict[str, Counter] = defaultdict(Counter)
    for (tool, kind), c in results.items():
        n = sum(c.values())
        print(f"{tool:<12}{kind:<15}{n:>6}{c['correct']:>9}{c['wrong']:>7}{c['refused']:>9}")
        totals[tool].update(c)
        totals["all"].update(c)
    for tool, c in totals.items():
        n = sum(c.values())
        applied = (c["correct"] + c["wrong"]) / n * 100
        print(f"TOTAL {tool:<12} cases={n} correct={c['correct']} wrong={c['wrong']} "
              f"refused={c['refused']} applied={applied:.1f}%")


if __name__ == "__main__":
    main()
