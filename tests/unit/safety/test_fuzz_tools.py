"""Fuzzing the file tools through the registry, the way model calls reach them.

Generated arguments and paths (../, absolute, through symlinks that point out of the tree,
dangling symlinks, ~, unicode, NUL, lone surrogates, very long names, .git/...) go through
parse_call + execute for every file tool. Properties: every call ends in a ToolResult or a
ToolCallError (never an exception, never an internal error), and not a byte changes outside the
project root or inside its .git directory.
"""
from __future__ import annotations

import asyncio
import json
import os
import stat
import subprocess
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from realcost_agent.tools.base import ToolContext, ToolResult
from realcost_agent.tools.registry import ToolCallError, default_registry

EXAMPLES = int(os.environ.get("TOOL_FUZZ_EXAMPLES", 150))
HOME_PROBE = f"agent-fuzz-probe-{os.getpid()}.txt"


def _snapshot(top: Path, skip: Path | None = None) -> dict[str, tuple]:
    """Every entry under top (symlinks not followed), minus `skip`'s subtree except its .git."""
    out: dict[str, tuple] = {}
    for dirpath, dirs, files in os.walk(top):
        here = Path(dirpath)
        if skip is not None and here == skip:
            dirs[:] = [d for d in dirs if d == ".git"]
            files = []
        for name in dirs + files:
            p = here / name
            st_ = os.lstat(p)
            if stat.S_ISLNK(st_.st_mode):
                out[str(p)] = ("link", os.readlink(p))
            elif stat.S_ISDIR(st_.st_mode):
                out[str(p)] = ("dir", stat.S_IMODE(st_.st_mode))
            else:
                out[str(p)] = ("file", p.read_bytes(), stat.S_IMODE(st_.st_mode))
    return out


class World:
    """A project with hostile symlinks and a sibling directory that must stay untouched."""

    def __init__(self) -> None:
        self.tmp = Path(os.path.realpath(tempfile.mkdtemp(prefix="agent-fuzz-")))
        self.root = self.tmp / "proj"
        self.outside = self.tmp / "outside"
        (self.outside / "sub").mkdir(parents=True)
        (self.outside / "secret.txt").write_text("outside secret\nhello\n")
        (self.outside / "sub" / "x.txt").write_text("x\n")
        (self.root / "dir").mkdir(parents=True)
        subprocess.run(["git", "init", "-q", str(self.root)], check=True)
        (self.root / "a.txt").write_text("hello\nworld\nhello again\n")
        (self.root / "dir" / "b.py").write_text("def f():\n    return 1\n")
        (self.root / "ünï.txt").write_text("unicode hello\n")
        os.symlink("../outside", self.root / "link_out")
        os.symlink("../outside/secret.txt", self.root / "link_file")
        os.symlink("../outside/new.txt", self.root / "dangling")
        os.symlink(str(self.outside), self.root / "abs_link")
        os.symlink("dir", self.root / "inner_link")  # a harmless in-tree link
        self.registry = default_registry()
        self.ctx = ToolContext(root=self.root, output_dir=self.tmp / "outputs")
        self.baseline = self.state()

    def state(self) -> dict[str, tuple]:
        return _snapshot(self.tmp, skip=self.root)


# Its module-scoped fixture is set up once: `--dist loadgroup` keeps these tests on one worker.
pytestmark = pytest.mark.xdist_group("fuzz")


@pytest.fixture(scope="module")
def world():
    w = World()
    yield w
    subprocess.run(["rm", "-rf", str(w.tmp)], check=False)


def _paths(world_outside: str) -> st.SearchStrategy[str]:
    fixed = st.sampled_from([
        "a.txt", "dir/b.py", "dir", ".", "", " ", "/", "..", "../outside/secret.txt",
        "../outside/new.txt", "../../etc/passwd", "link_out/secret.txt", "link_out/new.txt",
        "link_out/sub/x.txt", "link_out", "link_file", "dangling", "abs_link/secret.txt",
        "inner_link/b.py", "dir/../../outside/secret.txt", ".git/config", ".git/x", ".git",
        "./.git/HEAD", "dir/../.git/hooks/pre-commit", f"~/{HOME_PROBE}",
        f"{world_outside}/secret.txt", f"{world_outside}/made.txt", "ünï.txt", "new\nline.txt",
        "a" * 300, "d/" * 200 + "f.txt", "x" * 255, "nul\x00byte", "lone\ud800surrogate",
        "dir/", "a.txt/", "a.txt/child", "-rf", "*", "**/*.py",
    ])
    token = st.sampled_from(list("ab./_-~ \\\x00é\u2028") + ["..", ".git", "link_out", "dangling"])
    pieces = st.lists(token, max_size=12).map("".join)
    return st.one_of(fixed, pieces, st.text(max_size=30),
                     st.builds(lambda a, b: f"{a}/{b}", fixed, pieces))


@st.composite
def calls(draw, world_outside: str):
    path = _paths(world_outside)
    text = st.one_of(st.sampled_from(["hello", "hello\n", "world", "", "\x00", "def f():"]),
                     st.text(max_size=60))
    tool = draw(st.sampled_from(["read_file", "write_file", "edit", "apply_patch", "list_files",
                                 "search"]))
    if tool == "read_file":
        args = {"path": draw(path), "start_line": draw(st.one_of(st.none(), st.integers(-2, 10**9))),
                "end_line": draw(st.one_of(st.none(), st.integers(-2, 10**9)))}
    elif tool == "write_file":
        args = {"path": draw(path), "content": draw(text)}
    elif tool == "edit":
        args = {"path": draw(path), "old_string": draw(text), "new_string": draw(text),
                "replace_all": draw(st.booleans())}
    elif tool == "apply_patch":
        p1, p2 = draw(path), draw(path)
        kind = draw(st.sampled_from(["add", "update", "delete", "move", "raw"]))
        body = {
            "add": f"*** Add File: {p1}\n+{draw(text)}\n",
            "update": f"*** Update File: {p1}\n@@\n-hello\n+{draw(text)}\n",
            "delete": f"*** Delete File: {p1}\n",
            "move": f"*** Update File: {p1}\n*** Move to: {p2}\n@@\n-hello\n+bye\n",
            "raw": draw(text),
        }[kind]
        args = {"patch": f"*** Begin Patch\n{body}*** End Patch"}
    elif tool == "list_files":
        args = {"path": draw(path), "pattern": draw(st.one_of(st.none(), path)),
                "max_entries": draw(st.integers(-1, 6000))}
    else:
        args = {"pattern": draw(st.one_of(text, st.sampled_from(["(", "[", "*", "hello", "\\"]))),
                "path": draw(path), "glob": draw(st.one_of(st.none(), path)),
                "case_insensitive": draw(st.booleans()), "max_results": draw(st.integers(0, 3000))}
    args = {k: v for k, v in args.items() if v is not None}
    if draw(st.integers(0, 15)) == 0:
        args[draw(st.sampled_from(["extra", "path", "content"]))] = draw(
            st.one_of(st.integers(), st.none(), st.lists(st.integers(), max_size=2)))
    as_json = draw(st.booleans())
    return tool, (json.dumps(args) if as_json else args)


def _check_call(world: World, tool_name: str, arguments) -> None:
    try:
        tool, params = world.registry.parse_call(tool_name, arguments)
    except ToolCallError:
        return  # a message for the model: a valid outcome
    result = asyncio.run(world.registry.execute(tool, params, world.ctx))
    assert isinstance(result, ToolResult)
    assert not result.metadata.get("internal_error"), (tool_name, arguments, result.output)
    assert isinstance(result.output, str)
    json.dumps({"output": result.output})  # must be sendable back to the model


def test_file_tools_never_crash_or_escape(world):
    outside = str(world.outside)

    @settings(max_examples=EXAMPLES * 6, deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(calls(outside))
    def run(call):
        _check_call(world, *call)
        assert world.state() == world.baseline, call
        assert not (Path.home() / HOME_PROBE).exists()

    run()


def test_world_detects_escapes(world):
    """The oracle itself can fail: a write through the outward symlink is caught."""
    target = world.outside / "sub" / "x.txt"
    original = target.read_bytes()
    try:
        target.write_bytes(b"changed")
        assert world.state() != world.baseline
    finally:
        target.write_bytes(original)
    git_file = world.root / ".git" / "description"
    original = git_file.read_bytes()
    try:
        git_file.write_bytes(b"changed")
        assert world.state() != world.baseline
    finally:
        git_file.write_bytes(original)
    assert world.state() == world.baseline


@pytest.mark.parametrize("tool,args", [
    ("write_file", {"path": "link_out/new.txt", "content": "x"}),
    ("write_file", {"path": "dangling", "content": "x"}),
    ("write_file", {"path": "abs_link/secret.txt", "content": "x"}),
    ("edit", {"path": "link_file", "old_string": "hello", "new_string": "bye"}),
    ("write_file", {"path": ".git/hooks/post-checkout", "content": "#!/bin/sh\n"}),
    ("apply_patch", {"patch": "*** Begin Patch\n*** Delete File: link_out/secret.txt\n*** End Patch"}),
    ("apply_patch", {"patch": "*** Begin Patch\n*** Update File: a.txt\n*** Move to: ../outside/m.txt\n@@\n-hello\n+bye\n*** End Patch"}),
    ("read_file", {"path": "link_file"}),
])
def test_known_escapes_are_refused(world, tool, args):
    t, params = world.registry.parse_call(tool, args)
    result = asyncio.run(world.registry.execute(t, params, world.ctx))
    assert result.is_error, result.output
    assert world.state() == world.baseline
