"""`record`: the project's dataclass decorator, cheap to apply at import time (issue 19).

Every value class of the agent (events, ops, settings, provider results, ...) is a dataclass, and
about 120 of them are created before the first model request. On CPython 3.11 `@dataclass`
compiles a separate function source for each generated method (`__init__`, `__repr__`,
`__eq__`, `__hash__`, `__setattr__`, `__delattr__`) and computes a docstring with
`inspect.signature`: about 1 ms per class here, 158 ms of the launch.

`record` makes the same classes for a fraction of that. It lets the standard library build the
dataclass itself (fields, defaults, `__match_args__`, `__dataclass_fields__`) with no methods,
compiles `__init__` alone (the one method that is hot and whose signature matters), and shares
one `__repr__`, `__eq__`, `__hash__` and frozen `__setattr__`/`__delattr__` per class as small
closures. The result is a real dataclass: `dataclasses.fields`, `replace`, `asdict`,
`is_dataclass`, pickling and `match` work unchanged, and tests/unit/test_records.py holds it to
the standard decorator's behaviour case by case.

Supported: `@record` and `@record(frozen=True)`; fields with a default, a default_factory,
`init`, `repr`, `compare` and `hash`; `__post_init__`; inheritance between records; methods the
class defines itself are kept (as `@dataclass` does). Anything else (`InitVar`, `KW_ONLY`, slots,
ordering) is refused with a TypeError at class creation: use `dataclasses.dataclass` there.

One difference is deliberate: `__dataclass_params__` is the standard library's own record of
that first, method-less pass (init/repr/eq/frozen False). What this decorator made is in
`__record__` (frozen or not). Mixing the two decorators in one hierarchy is refused for frozen
classes by the standard library and by `record` alike; the project uses `record` only (a test
checks).
"""
from __future__ import annotations

import dataclasses
import os
import reprlib
import sys
from dataclasses import MISSING, FrozenInstanceError
from types import CodeType
from typing import Any

__all__ = ["record"]

_FACTORY = object()  # stands for "no argument given" where the default comes from a factory
_set = object.__setattr__
_INITVAR = getattr(dataclasses, "_FIELD_INITVAR", None)  # how @dataclass marks an InitVar (3.8+)


def record(cls: type | None = None, /, *, frozen: bool = False):
    """Make `cls` a dataclass (see the module docstring); `frozen=True` as in `@dataclass`."""
    if cls is None:
        return lambda c: _make(c, frozen)
    return _make(cls, frozen)


def _make(cls: type, frozen: bool) -> type:
    own = cls.__dict__
    if "__slots__" in own:
        raise TypeError(f"{cls.__qualname__}: record does not support __slots__")
    if frozen and ("__setattr__" in own or "__delattr__" in own):
        raise TypeError(f"{cls.__qualname__}: a frozen record cannot define __setattr__ or __delattr__")
    for base in cls.__mro__[1:]:
        if "__dataclass_fields__" not in base.__dict__:
            continue
        kind = base.__dict__.get("__record__")
        if kind is None:
            raise TypeError(f"{cls.__qualname__}: a record cannot inherit from {base.__qualname__}, "
                            "a dataclass made by @dataclass")
        if kind["frozen"] != frozen:
            raise TypeError(f"{cls.__qualname__}: cannot inherit a {'non-' * frozen}frozen record "
                            f"from a {'non-' * (not frozen)}frozen one ({base.__qualname__})")
    explicit_doc = own.get("__doc__")
    if explicit_doc is None:
        cls.__doc__ = cls.__name__  # keeps @dataclass from calling inspect.signature
    dataclasses.dataclass(cls, init=False, repr=False, eq=False)
    fields = dataclasses.fields(cls)
    initvars = [f.name for f in cls.__dataclass_fields__.values()
                if getattr(f, "_field_type", None) is _INITVAR]
    if initvars:
        raise TypeError(f"{cls.__qualname__}: record does not support InitVar ({initvars})")
    if any(f.kw_only for f in fields):
        raise TypeError(f"{cls.__qualname__}: record does not support keyword-only fields")
    if explicit_doc is None:
        cls.__doc__ = f"{cls.__name__}({', '.join(f.name for f in fields)})"
    cls.__record__ = {"frozen": frozen}

    if "__init__" not in own:
        cls.__init__ = _init(cls, fields, frozen)
    if "__repr__" not in own:
        cls.__repr__ = _repr(cls, tuple(f.name for f in fields if f.repr))
    if "__eq__" not in own:
        cls.__eq__ = _eq(cls, _getter(tuple(f.name for f in fields if f.compare)))
    # The hash follows @dataclass's rule for eq=True, unsafe_hash=False: a frozen record hashes
    # its fields, a mutable one is unhashable, and a __hash__ the class wrote itself is kept.
    own_hash = own.get("__hash__", MISSING)
    explicit_hash = not (own_hash is MISSING or (own_hash is None and "__eq__" in own))
    if not explicit_hash:
        if frozen:
            cls.__hash__ = _hash(cls, _getter(tuple(
                f.name for f in fields if (f.compare if f.hash is None else f.hash))))
        else:
            cls.__hash__ = None
    if frozen:
        cls.__setattr__, cls.__delattr__ = _frozen(cls, frozenset(f.name for f in fields))
    return cls


def _init(cls: type, fields, frozen: bool):
    """Compile `__init__` (one small source per class), as @dataclass writes it."""
    names = {"_FACTORY": _FACTORY, "_set": _set}
    params, body = ["self"], []
    seen_default = False
    for i, f in enumerate(fields):
        has_default = f.default is not MISSING or f.default_factory is not MISSING
        if f.init:
            if has_default:
                seen_default = True
            elif seen_default:
                raise TypeError(f"non-default argument {f.name!r} follows default argument")
        if f.default_factory is not MISSING:
            names[f"_f{i}"] = f.default_factory
            if f.init:
                params.append(f"{f.name}=_FACTORY")
                value = f"_f{i}() if {f.name} is _FACTORY else {f.name}"
            else:
                value = f"_f{i}()"
        elif f.init:
            if f.default is not MISSING:
                names[f"_d{i}"] = f.default
                params.append(f"{f.name}=_d{i}")
            else:
                params.append(f.name)
            value = f.name
        else:
            continue  # init=False with a plain default: the class attribute holds it
        body.append(f"  _set(self, {f.name!r}, {value})" if frozen else f"  self.{f.name} = {value}")
    if hasattr(cls, "__post_init__"):
        body.append("  self.__post_init__()")
    source = f"def __init__({', '.join(params)}):\n" + ("\n".join(body) or "  pass")
    scope: dict = {}
    exec(_compiled(source), names, scope)  # noqa: S102 - field names only, as @dataclass does
    init = scope["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    init.__module__ = cls.__module__
    return init


# -- compiled __init__ sources, kept between runs --------------------------------------------------
# Compiling the ~120 `__init__` sources is most of what is left of the classes' cost (about
# 0.17 ms each). The code objects are kept between runs the way Python keeps bytecode: beside
# this module's own .pyc (same directory, same owner, same Python: the magic number is checked),
# keyed by the exact source, so a hit is what compile() would have returned. Written at exit
# when anything new was compiled, atomically; never when bytecode writing is off. A missing,
# stale or unreadable file only means compiling again.
_CODE: dict[str, Any] | None = None
_USED: set[str] = set()
_NEW = 0
_CAP = 2048


def _cache_file() -> str | None:
    try:
        import importlib.util

        pyc = importlib.util.cache_from_source(__file__)
    except (NotImplementedError, ValueError):
        return None
    return pyc[:-len(".pyc")] + ".init-cache" if pyc.endswith(".pyc") else None


def _load() -> dict[str, Any]:
    import marshal
    from importlib.util import MAGIC_NUMBER

    path = _cache_file()
    try:
        with open(path, "rb") as f:  # type: ignore[arg-type]
            data = f.read()
        if data[:len(MAGIC_NUMBER)] == MAGIC_NUMBER:
            table = marshal.loads(data[len(MAGIC_NUMBER):])
            if isinstance(table, dict):
                return table
    except (OSError, TypeError, ValueError, EOFError):
        pass
    return {}


def _save() -> None:
    import marshal
    from importlib.util import MAGIC_NUMBER

    path = _cache_file()
    if path is None or sys.dont_write_bytecode or not _CODE:
        return
    # The file is the union of what runs used, unless that grows past _CAP (classes made on
    # the fly, as tests do): then it starts again from what this run used.
    table = _CODE if len(_CODE) <= _CAP else {k: _CODE[k] for k in _USED}
    tmp = f"{path}.{os.getpid()}.tmp"
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(tmp, "wb") as f:
            f.write(MAGIC_NUMBER + marshal.dumps(table))
        os.replace(tmp, path)
    except (OSError, ValueError):
        try:
            os.unlink(tmp)
        except OSError:
            pass


def _compiled(source: str):
    global _CODE, _NEW
    if _CODE is None:
        _CODE = _load()
    _USED.add(source)
    code = _CODE.get(source)
    if code is None or not isinstance(code, CodeType):
        code = _CODE[source] = compile(source, "<record __init__>", "exec")
        _NEW += 1
        if _NEW == 1:
            import atexit

            atexit.register(_save)
    return code


def _getter(names: tuple[str, ...]):
    """self -> the tuple of those attributes (always a tuple, as @dataclass compares tuples)."""
    return lambda self: tuple([getattr(self, n) for n in names])


def _repr(cls: type, names: tuple[str, ...]):
    @reprlib.recursive_repr()
    def __repr__(self) -> str:
        inner = ", ".join([f"{n}={getattr(self, n)!r}" for n in names])
        return f"{self.__class__.__qualname__}({inner})"
    __repr__.__qualname__ = f"{cls.__qualname__}.__repr__"
    return __repr__


def _eq(cls: type, key):
    def __eq__(self, other):
        if other.__class__ is self.__class__:
            return key(self) == key(other)
        return NotImplemented
    __eq__.__qualname__ = f"{cls.__qualname__}.__eq__"
    return __eq__


def _hash(cls: type, key):
    def __hash__(self) -> int:
        return hash(key(self))
    __hash__.__qualname__ = f"{cls.__qualname__}.__hash__"
    return __hash__


def _frozen(cls: type, names: frozenset[str]):
    # As @dataclass: the record's own instances take no assignment at all; a plain subclass may
    # add attributes of its own but never reassign a field.
    def __setattr__(self, name: str, value) -> None:
        if type(self) is cls or name in names:
            raise FrozenInstanceError(f"cannot assign to field {name!r}")
        super(cls, self).__setattr__(name, value)

    def __delattr__(self, name: str) -> None:
        if type(self) is cls or name in names:
            raise FrozenInstanceError(f"cannot delete field {name!r}")
        super(cls, self).__delattr__(name)

    __setattr__.__qualname__ = f"{cls.__qualname__}.__setattr__"
    __delattr__.__qualname__ = f"{cls.__qualname__}.__delattr__"
    return __setattr__, __delattr__
