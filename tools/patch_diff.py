"""Git-style unified diffs of applied changes (for metadata["diff"], never sent to the model).

difflib.unified_diff re-derives the change from whole files with its autojunk heuristic, which
in files full of repeated lines ("}", "return x") pins hunks to the wrong copies. We already know
which line ranges each chunk edited, so opcodes are built from those regions and difflib only
aligns lines inside each (small) region.
"""
from __future__ import annotations

import difflib

from realcost_agent.tools.fileops import diff_stats
from realcost_agent.tools.patch_apply import FileChange

Opcode = tuple[str, int, int, int, int]
CONTEXT = 3


def _split_keep(text: str) -> list[str]:
    # str.splitlines would also split on \x0c, \u2028, ...; only '\n' ends a line here.
    parts = text.split("\n")
    return [p + "\n" for p in parts[:-1]] + ([parts[-1]] if parts[-1] else [])


Region = tuple[int, int, int, int]


def _opcodes(a: list[str], b: list[str], regions: list[Region] | None) -> list[Opcode]:
    if regions is not None:
        codes: list[Opcode] = []
        ia = ib = 0
        for o1, o2, n1, n2 in regions:
            codes.append(("equal", ia, o1, ib, n1))
            sm = difflib.SequenceMatcher(None, a[o1:o2], b[n1:n2], autojunk=False)
            codes += [
                (t, i1 + o1, i2 + o1, j1 + n1, j2 + n1) for t, i1, i2, j1, j2 in sm.get_opcodes()
            ]
            ia, ib = o2, n2
        codes.append(("equal", ia, len(a), ib, len(b)))
        merged: list[Opcode] = []
        for c in codes:
            if c[1] == c[2] and c[3] == c[4]:
                continue
            if merged and merged[-1][0] == c[0] == "equal":
                merged[-1] = ("equal", merged[-1][1], c[2], merged[-1][3], c[4])
            else:
                merged.append(c)
        # Outside the regions only the old last line's terminator can change (a line appended
        # after an unterminated last line); if anything else differs, trust a full comparison.
        if all(t != "equal" or a[i1:i2] == b[j1:j2] for t, i1, i2, j1, j2 in merged):
            return merged
    return difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes()


def _groups(codes: list[Opcode], n: int = CONTEXT) -> list[list[Opcode]]:
    """Split opcodes into hunks with n lines of context (equal runs longer than 2n split)."""
    groups: list[list[Opcode]] = []
    group: list[Opcode] = []
    for idx, (tag, i1, i2, j1, j2) in enumerate(codes):
        if tag == "equal":
            if idx == 0:
                i1, j1 = max(i1, i2 - n), max(j1, j2 - n)
            if idx == len(codes) - 1:
                i2, j2 = min(i2, i1 + n), min(j2, j1 + n)
            elif i2 - i1 > 2 * n:
                if group:
                    group.append((tag, i1, i1 + n, j1, j1 + n))
                    groups.append(group)
                group = []
                i1, j1 = i2 - n, j2 - n
        group.append((tag, i1, i2, j1, j2))
    if any(c[0] != "equal" for c in group):
        groups.append(group)
    return groups


def _range(start: int, stop: int) -> str:
    length = stop - start
    if length == 1:
        return str(start + 1)
    return f"{start if length == 0 else start + 1},{length}"


def _line(prefix: str, text: str) -> str:
    if text.endswith("\n"):
        return prefix + text
    return prefix + text + "\n\\ No newline at end of file\n"


def file_diff(c: FileChange) -> tuple[str, int, int]:
    """Git-style unified diff of one change, with its added and removed line counts."""
    a = _split_keep((c.old or b"").decode("utf-8", "replace"))
    b = _split_keep((c.new or b"").decode("utf-8", "replace"))
    out = [f"diff --git a/{c.rel} b/{c.target_rel}\n"]
    if c.kind == "A":
        out.append("new file mode 100644\n")
    elif c.kind == "D":
        out.append("deleted file mode 100644\n")
    elif c.kind == "R":
        out += [f"rename from {c.rel}\n", f"rename to {c.target_rel}\n"]
    groups = _groups(_opcodes(a, b, c.regions))
    if groups:
        out.append(f"--- {'a/' + c.rel if c.old is not None else '/dev/null'}\n")
        out.append(f"+++ {'b/' + c.target_rel if c.new is not None else '/dev/null'}\n")
    for group in groups:
        first, last = group[0], group[-1]
        out.append(f"@@ -{_range(first[1], last[2])} +{_range(first[3], last[4])} @@\n")
        for tag, i1, i2, j1, j2 in group:
            if tag == "equal":
                out += [_line(" ", s) for s in a[i1:i2]]
                continue
            out += [_line("-", s) for s in a[i1:i2]]
            out += [_line("+", s) for s in b[j1:j2]]
    text = "".join(out)
    return (text, *diff_stats(text))  # the one count of a diff (tools.fileops)
