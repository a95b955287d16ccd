"""`record` behaves as `@dataclass` does, case by case, and the project uses it everywhere.

Each shape below is built twice, once by the standard decorator and once by `record`, and the two
must agree on everything a caller can see: construction (positional, keyword, defaults, fresh
factory values, the errors for a missing or unknown argument), repr, equality, hashing,
frozenness, `fields`, `replace`, `asdict`, `match`, pickling and copying, `__post_init__`.
"""
from __future__ import annotations

import ast
import copy
import dataclasses
import inspect
import pickle
import sys
from dataclasses import FrozenInstanceError, dataclass, field
from pathlib import Path
from typing import ClassVar

import pytest

from realcost_agent.records import record

ROOT = Path(__file__).resolve().parents[2]


def _shapes(deco, frozen: bool):
    """name -> (class, example args, example kwargs), every class made by `deco`."""
    kw = {"frozen": True} if frozen else {}
    mod = sys.modules[__name__]

    def make(cls):
        cls.__module__ = mod.__name__
        made = deco(**kw)(cls) if kw else deco(cls)
        return made

    class Empty:
        pass

    class Plain:
        a: int
        b: str

    class Defaults:
        """A docstring of its own."""

        a: int
        b: str = "x"
        c: tuple[int, ...] = ()
        d: list[int] = field(default_factory=list)
        e: dict = field(default_factory=dict, repr=False)
        kind: ClassVar[str] = "defaults"

    class Flags:
        a: int
        b: int = field(default=0, compare=False)
        c: int = field(default=0, repr=False, compare=False)
        d: list = field(default_factory=list, compare=False, hash=False)
        e: int = field(default=0, hash=False)

    class NoInit:
        a: int
        b: list = field(default_factory=lambda: [1], init=False)
        c: str = field(default="c", init=False)

    class Post:
        a: int
        b: int = 0

        def __post_init__(self):
            if self.a < 0:
                raise ValueError("a must be >= 0")
            if not frozen:
                self.b = self.a * 2
            else:
                object.__setattr__(self, "b", self.a * 2)

    class Own:
        a: int

        def __repr__(self):
            return "Own!"

        def __eq__(self, other):
            return isinstance(other, type(self))

        def __hash__(self):
            return 7

    Base = make(type("Base", (), {"__annotations__": {"a": int, "b": str}, "b": "b",
                                  "kind": "base", "__module__": mod.__name__}))

    class Child(Base):
        c: float = 1.5
        d: list = field(default_factory=list)

    shapes = {
        "Empty": (make(Empty), (), {}),
        "Plain": (make(Plain), (1, "x"), {}),
        "Defaults": (make(Defaults), (1,), {"d": [1, 2]}),
        "Flags": (make(Flags), (1, 2, 3), {"e": 4}),
        "NoInit": (make(NoInit), (5,), {}),
        "Post": (make(Post), (3,), {}),
        "Own": (make(Own), (1,), {}),
        "Base": (Base, (1,), {"b": "y"}),
        "Child": (make(Child), (1, "z"), {"c": 2.5}),
    }
    for name, (cls, _, _) in shapes.items():
        cls.__qualname__ = name
    return shapes


def _pairs():
    for frozen in (False, True):
        std, ours = _shapes(dataclass, frozen), _shapes(record, frozen)
        for name in std:
            yield pytest.param(std[name], ours[name], frozen, id=f"{name}-{'frozen' if frozen else 'mutable'}")


def _outcome(fn):
    try:
        return ("ok", fn())
    except Exception as exc:  # noqa: BLE001 - the type and text are what is compared
        return ("raised", type(exc).__name__, str(exc))


@pytest.mark.parametrize("std, ours, frozen", list(_pairs()))
def test_record_agrees_with_dataclass(std, ours, frozen):
    (scls, args, kwargs), (ocls, _, _) = std, ours
    s, o = scls(*args, **kwargs), ocls(*args, **kwargs)
    assert dataclasses.is_dataclass(ocls) and dataclasses.is_dataclass(o)
    assert repr(o) == repr(s)
    assert [(f.name, f.default, f.init, f.repr, f.compare, f.hash) for f in dataclasses.fields(o)] \
        == [(f.name, f.default, f.init, f.repr, f.compare, f.hash) for f in dataclasses.fields(s)]
    assert dataclasses.asdict(o) == dataclasses.asdict(s)
    assert ocls.__match_args__ == scls.__match_args__
    assert [p.name for p in inspect.signature(ocls).parameters.values()] \
        == [p.name for p in inspect.signature(scls).parameters.values()]
    # Equality within each kind, and never across the two kinds or with another type.
    assert (o == ocls(*args, **kwargs)) == (s == scls(*args, **kwargs))
    assert (o == object()) is False and (s == object()) is False
    assert (o == s) is (type(o) is type(s))
    # Hashability and the hash itself.
    assert (ocls.__hash__ is None) == (scls.__hash__ is None)
    if scls.__hash__ is not None:
        assert _outcome(lambda: hash(o))[:2] == _outcome(lambda: hash(s))[:2]
        if _outcome(lambda: hash(s))[0] == "ok":
            assert hash(o) == hash(s) == hash(ocls(*args, **kwargs))
    # Frozen or not: assigning and deleting a field, and adding an attribute.
    name = dataclasses.fields(s)[0].name if dataclasses.fields(s) else "zz"
    for act in (lambda x: setattr(x, name, 99), lambda x: delattr(x, name),
                lambda x: setattr(x, "new_attr", 1)):
        so, oo = _outcome(lambda: act(scls(*args, **kwargs))), _outcome(lambda: act(ocls(*args, **kwargs)))
        assert oo[:2] == so[:2]
    # replace, copy, pickle: the same values back, and a fresh factory value per instance.
    if dataclasses.fields(s) and dataclasses.fields(s)[0].init:
        assert dataclasses.asdict(dataclasses.replace(o, **{name: 42})) \
            == dataclasses.asdict(dataclasses.replace(s, **{name: 42}))
    assert dataclasses.asdict(copy.deepcopy(o)) == dataclasses.asdict(s)
    for f in dataclasses.fields(o):
        if f.default_factory is not dataclasses.MISSING:
            assert getattr(ocls(*args), f.name) is not getattr(ocls(*args), f.name)
    # Wrong calls fail alike.
    assert _outcome(lambda: ocls(*args, unknown=1))[:2] == _outcome(lambda: scls(*args, unknown=1))[:2]
    if args:
        assert _outcome(lambda: ocls())[:2] == _outcome(lambda: scls())[:2]


@record(frozen=True)
class PickledFrozen:
    a: int
    b: tuple = ()


@record
class PickledMutable:
    a: int
    b: str = "b"


@pytest.mark.parametrize("value", [PickledFrozen(1, (2,)), PickledMutable(3)])
def test_a_record_survives_pickle_and_copy(value):
    for back in (pickle.loads(pickle.dumps(value)), copy.copy(value), copy.deepcopy(value)):
        assert back == value and back is not value and type(back) is type(value)
    if isinstance(value, PickledFrozen):
        assert hash(pickle.loads(pickle.dumps(value))) == hash(value)


@pytest.mark.parametrize("frozen", [False, True])
def test_post_init_runs_and_can_refuse(frozen):
    cls = _shapes(record, frozen)["Post"][0]
    assert cls(3).b == 6
    with pytest.raises(ValueError, match="a must be >= 0"):
        cls(-1)


def test_match_works_on_a_record():
    cls = _shapes(record, True)["Plain"][0]
    match cls(1, "x"):
        case cls(a, b):  # noqa: F841 - positional patterns use __match_args__
            assert (a, b) == (1, "x")
        case _:
            pytest.fail("no match")


def test_a_frozen_record_says_which_field_it_refused():
    cls = _shapes(record, True)["Plain"][0]
    with pytest.raises(FrozenInstanceError, match="cannot assign to field 'a'"):
        cls(1, "x").a = 2


def test_a_plain_subclass_of_a_frozen_record_may_add_attributes_but_not_set_fields():
    base = _shapes(record, True)["Plain"][0]

    class Sub(base):
        pass

    sub = Sub(1, "x")
    sub.extra = 1
    with pytest.raises(FrozenInstanceError):
        sub.a = 3


@pytest.mark.parametrize("frozen_base, frozen_child", [(True, False), (False, True)])
def test_frozenness_cannot_change_down_a_hierarchy(frozen_base, frozen_child):
    base = record(frozen=frozen_base)(type("B", (), {"__annotations__": {"a": int}}))
    with pytest.raises(TypeError, match="frozen"):
        record(frozen=frozen_child)(type("C", (base,), {"__annotations__": {"b": int}, "b": 0}))


def test_what_record_does_not_support_is_refused_at_class_creation():
    with pytest.raises(TypeError, match="follows default argument"):
        record(type("X", (), {"__annotations__": {"a": int, "b": int}, "a": 0}))
    with pytest.raises(TypeError, match="InitVar"):
        record(type("Y", (), {"__annotations__": {"a": dataclasses.InitVar[int]}}))
    with pytest.raises(TypeError, match="keyword-only"):
        record(type("Z", (), {"__annotations__": {"a": int}, "a": field(kw_only=True)}))
    with pytest.raises(TypeError, match="__slots__"):
        record(type("S", (), {"__annotations__": {"a": int}, "__slots__": ("a",)}))
    std = dataclass(type("D", (), {"__annotations__": {"a": int}}))
    with pytest.raises(TypeError, match="made by @dataclass"):
        record(type("E", (std,), {"__annotations__": {"b": int}}))


def test_repr_of_a_record_that_contains_itself_does_not_recurse():
    cls = record(type("Node", (), {"__annotations__": {"items": list}}))
    node = cls([])
    node.items.append(node)
    assert repr(node) == "Node(items=[...])"


def test_the_project_makes_its_dataclasses_with_record():
    """Mixing the two decorators in one hierarchy breaks frozenness, so the code uses one."""
    bad = []
    for pkg in ("agent", "tools", "providers", "tui", "cli", "realcost_agent"):
        for path in sorted((ROOT / pkg).rglob("*.py")):
            if path.name == "records.py":
                continue
            for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
                if isinstance(node, ast.ClassDef):
                    for deco in node.decorator_list:
                        target = deco.func if isinstance(deco, ast.Call) else deco
                        name = getattr(target, "id", None) or getattr(target, "attr", None)
                        if name == "dataclass":
                            bad.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name}")
    assert not bad, "use realcost_agent.records.record:\n" + "\n".join(bad)


@pytest.fixture
def init_cache(tmp_path, monkeypatch):
    """records' compiled-__init__ cache in a file of the test's own, starting empty."""
    import realcost_agent.records as records

    path = tmp_path / "records.init-cache"
    monkeypatch.setattr(records, "_cache_file", lambda: str(path))
    monkeypatch.setattr(records, "_CODE", None)
    monkeypatch.setattr(records, "_USED", set())
    monkeypatch.setattr(records, "_NEW", 0)
    monkeypatch.setattr(sys, "dont_write_bytecode", False)
    return records, path


def _shape(name="Cached"):
    return type(name, (), {"__annotations__": {"a": int, "b": str, "c": list},
                           "b": "b", "c": field(default_factory=list)})


def test_a_compiled_init_is_kept_between_runs_and_read_back(init_cache):
    records, path = init_cache
    first = record(frozen=True)(_shape())
    assert records._NEW == 1 and not path.exists()
    records._save()  # what the exit does
    from importlib.util import MAGIC_NUMBER

    assert path.read_bytes().startswith(MAGIC_NUMBER)
    records._CODE, records._NEW = None, 0  # a new run
    again = record(frozen=True)(_shape())
    assert records._NEW == 0  # nothing compiled: the code came from the file
    assert again(1) == again(1, "b", []) and repr(again(1)) == "Cached(a=1, b='b', c=[])"
    assert again(1).c is not again(1).c and first(2, "x") != again(2, "x")  # other classes


@pytest.mark.parametrize("content", [b"", b"garbage", b"\x00" * 64])
def test_a_damaged_or_foreign_cache_is_ignored(init_cache, content):
    records, path = init_cache
    path.write_bytes(content)
    cls = record(_shape("Damaged"))
    assert records._NEW == 1 and cls(1).a == 1
    records._save()
    records._CODE, records._NEW = None, 0
    record(_shape("Damaged"))
    assert records._NEW == 0  # rewritten whole on save


def test_no_cache_is_written_when_bytecode_writing_is_off(init_cache, monkeypatch):
    records, path = init_cache
    monkeypatch.setattr(sys, "dont_write_bytecode", True)
    record(_shape("Off"))
    records._save()
    assert not path.exists()
