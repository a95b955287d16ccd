"""Definitions and references of one source file, extracted with tree-sitter queries.

The result is plain tuples of str/int so the on-disk cache can store it with marshal and a
cached file gives exactly what a fresh parse gives (determinism across runs).
"""
from __future__ import annotations

import re
from typing import NamedTuple

from realcost_agent.tools.repomap.languages import grammar
from realcost_agent.tools.repomap.queries import CONTAINER_KINDS
from realcost_agent.tools.repomap.stoplists import STOPLISTS

MAX_SIGNATURE_CHARS = 120
_FUNCTION_KINDS = frozenset({"function", "method"})
# Declarations whose keyword belongs in the signature when it starts the same line (Go's
# `type T struct`, `const X = 1`; JavaScript's `const f = () =>`).
_KEYWORD_PARENTS = frozenset({"type_declaration", "const_declaration", "var_declaration",
                              "lexical_declaration", "variable_declaration"})
_SPACE = re.compile(r"\s+")


class Def(NamedTuple):
    name: str
    kind: str  # function, method, class, struct, type, ... ("impl"/"namespace": container only)
    line: int  # 1-based first line of the definition
    end_line: int  # 1-based last line
    signature: str  # one trimmed line: the definition's head, up to its body
    depth: int  # enclosing definitions (containers included); 0 = top level


class FileTags(NamedTuple):
    defs: tuple[Def, ...]  # sorted by (line, name, kind)
    # (identifier, plain references, member references), sorted by identifier. Plain: `f()`,
    # types, bases, imports; member: `x.f()`, `T::f()`. Kept apart because in most languages
    # a plain name cannot mean a method (see rank.PLAIN_MEANS_TOP_LEVEL).
    refs: tuple[tuple[str, int, int], ...]


EMPTY = FileTags((), ())


def extract(source: bytes, lang: str) -> FileTags:
    """Tags of `source` in `lang`. Syntax errors still yield what parsed; never raises on input."""
    g = grammar(lang)
    if g is None or not source or is_minified(source):
        return EMPTY
    import tree_sitter as ts

    root = g.parser.parse(source).root_node
    found: list[tuple[int, int, str, str, object]] = []  # (start, -end, name, kind, node)
    for _, caps in ts.QueryCursor(g.defs).matches(root):
        for cap, nodes in caps.items():
            if not cap.startswith("name."):
                continue
            kind = cap[5:]
            whole = caps.get("def." + kind)
            if not whole:
                continue
            name_node, node = nodes[0], whole[0]
            name = _text(source, name_node)
            if kind in CONTAINER_KINDS:
                name = _SPACE.sub(" ", name)
            elif not name.isidentifier() and not name.replace("$", "_").isidentifier():
                continue
            found.append((node.start_byte, -node.end_byte, name, kind, node))
    defs: dict[tuple[int, str, str], Def] = {}
    stack: list[tuple[int, str]] = []  # enclosing definitions: (end byte, kind)
    for start, neg_end, name, kind, node in sorted(found, key=lambda f: f[:4]):
        while stack and stack[-1][0] <= start:
            stack.pop()
        if any(k in _FUNCTION_KINDS for _, k in stack):
            continue  # local helpers and closures: nothing outside their function can use them
        depth = len(stack)
        stack.append((-neg_end, kind))
        line = node.start_point[0] + 1
        key = (line, name, kind)
        if key not in defs:
            defs[key] = Def(name, kind, line, node.end_point[0] + 1, _signature(source, node),
                            depth)
    plain_stop, member_stop = STOPLISTS.get(lang, (frozenset(), frozenset()))
    counts: dict[str, list[int]] = {}
    for cap, nodes in ts.QueryCursor(g.refs).captures(root).items():
        member = cap == "ref.member"
        stop = member_stop if member else plain_stop
        for node in nodes:
            name = _text(source, node)
            if name not in stop:
                counts.setdefault(name, [0, 0])[member] += 1
    refs = tuple((name, c[0], c[1]) for name, c in sorted(counts.items()))
    return FileTags(tuple(defs[k] for k in sorted(defs)), refs)


def is_minified(source: bytes) -> bool:
    """Bundled or minified code (a few enormous lines): its "definitions" are noise."""
    if len(source) < 4096:
        return False
    return len(source) / (source.count(b"\n") + 1) > 300


def _text(source: bytes, node) -> str:
    return source[node.start_byte:node.end_byte].decode("utf-8", "replace")


def _signature(source: bytes, node) -> str:
    """The definition's head: from its start to its body (or the end of its first line),
    whitespace collapsed, so a multi-line parameter list still shows as one line."""
    start = node.start_byte
    parent = node.parent
    if parent is not None and parent.type in _KEYWORD_PARENTS \
            and parent.start_point[0] == node.start_point[0]:
        start = parent.start_byte  # keep the `type` / `const` keyword that starts the line
    body = node.child_by_field_name("body")
    if body is not None and body.start_byte > start:
        # End at the last token before the body that is not a comment (Python puts a comment
        # between `def f():` and the first statement before the body node).
        end = start
        for child in node.children:
            if child.start_byte >= body.start_byte:
                break
            if "comment" not in child.type:
                end = child.end_byte
    else:
        # `const f = (x) => ...`, `exports.f = function (x) {...}`: stop at the function's body.
        value = node.child_by_field_name("value") or node.child_by_field_name("right")
        inner = value.child_by_field_name("body") if value is not None else None
        if inner is not None:
            end = inner.start_byte
        else:
            end = source.find(b"\n", start, node.end_byte)
            end = node.end_byte if end < 0 else end
    end = min(end, start + 4 * MAX_SIGNATURE_CHARS)
    text = _SPACE.sub(" ", source[start:end].decode("utf-8", "replace")).strip()
    text = text.removesuffix("=>").rstrip("{:= ").rstrip()
    if len(text) > MAX_SIGNATURE_CHARS:
        text = text[:MAX_SIGNATURE_CHARS - 3].rstrip() + "..."
    return text
