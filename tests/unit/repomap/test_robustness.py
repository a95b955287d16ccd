"""Inputs that must never break the map: broken syntax, empty, binary, non-UTF-8, minified, huge."""
from __future__ import annotations

import os
from pathlib import Path

from realcost_agent.tools.repomap import RepoMap
from realcost_agent.tools.repomap.tags import extract, is_minified


def _map(root: Path, cache: Path, **kw) -> tuple[str, RepoMap]:
    rm = RepoMap(root, cache_dir=cache, **kw)
    return rm.build(budget_tokens=4096), rm


def test_syntax_error_keeps_what_parsed():
    src = b"def good(a):\n    return a\n\ndef broken(:\n    pass\n\nclass After:\n    pass\n"
    names = {d.name for d in extract(src, "python").defs}
    assert "good" in names and "After" in names


def test_empty_and_whitespace_files(tmp_path):
    root = tmp_path / "r"
    root.mkdir()
    (root / "empty.py").write_bytes(b"")
    (root / "blank.go").write_bytes(b"\n\n   \n")
    (root / "ok.py").write_text("def ok():\n    pass\n")
    text, rm = _map(root, tmp_path / "c")
    assert "ok.py" in text and "def ok()" in text
    assert rm.stats.files == 3


def test_binary_file_with_source_extension_is_skipped(tmp_path):
    root = tmp_path / "r"
    root.mkdir()
    (root / "blob.py").write_bytes(b"def x():\x00\x01\x02 pass\n" * 10)
    (root / "ok.py").write_text("def ok():\n    pass\n")
    text, _ = _map(root, tmp_path / "c")
    assert "blob.py" not in text and "def ok()" in text


def test_non_utf8_source_still_yields_definitions(tmp_path):
    root = tmp_path / "r"
    root.mkdir()
    (root / "latin.py").write_bytes("# caf\xe9\ndef caf\xe9_name(x='\xe9'):\n    pass\n"
                                    "def plain():\n    pass\n".encode("latin-1"))
    text, _ = _map(root, tmp_path / "c")
    assert "def plain()" in text
    text.encode("utf-8")  # whatever was undecodable became U+FFFD, not an exception


def test_minified_code_yields_nothing():
    src = b"var a=function(){return 1};" * 400
    assert is_minified(src)
    assert extract(src, "javascript").defs == ()


def test_files_over_the_size_limit_are_left_out(tmp_path):
    root = tmp_path / "r"
    root.mkdir()
    (root / "big.py").write_text("def big():\n    pass\n" + "# pad\n" * 500)
    (root / "small.py").write_text("def small():\n    pass\n")
    text, rm = _map(root, tmp_path / "c", max_file_bytes=1000)
    assert "small.py" in text and "big.py" not in text
    assert rm.stats.files == 1


def test_symlinks_are_not_followed(tmp_path):
    outside = tmp_path / "outside.py"
    outside.write_text("def secret():\n    pass\n")
    root = tmp_path / "r"
    root.mkdir()
    (root / "ok.py").write_text("def ok():\n    pass\n")
    os.symlink(outside, root / "link.py")
    os.symlink(tmp_path, root / "loop")
    text, _ = _map(root, tmp_path / "c")
    assert "secret" not in text and "def ok()" in text


def test_unsupported_files_and_dependency_dirs_are_ignored(tmp_path):
    root = tmp_path / "r"
    for rel in ("node_modules/lib/index.js", "venv/lib/x.py", "notes.txt", "app/main.py"):
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text("def f():\n    pass\n")
    venv = root / "myenv"
    venv.mkdir()
    (venv / "pyvenv.cfg").write_text("home = /usr\n")
    (venv / "lib.py").write_text("def g():\n    pass\n")
    text, rm = _map(root, tmp_path / "c")
    assert text.splitlines()[0] == "app/main.py"
    assert rm.stats.files == 1


def test_corrupt_cache_is_rebuilt(tmp_path):
    root = tmp_path / "r"
    root.mkdir()
    (root / "a.py").write_text("def a():\n    pass\n")
    cache = tmp_path / "c"
    first, _ = _map(root, cache)
    (cache / "tags.pickle").write_bytes(b"not a pickle")
    again, rm = _map(root, cache)
    assert again == first and rm.stats.parsed == 1


def test_empty_repository_gives_an_empty_map(tmp_path):
    root = tmp_path / "r"
    root.mkdir()
    text, rm = _map(root, tmp_path / "c")
    assert text == "" and rm.stats.files == 0
