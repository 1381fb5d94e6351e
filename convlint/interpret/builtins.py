"""Python builtins and methods of known values, for the interpreter.

Each builtin computes on known values and returns :class:`Unknown` as soon as an input is not
known well enough — it never guesses.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

import libcst as cst

from convlint.interpret.lattice import is_known
from convlint.interpret.ops import BinOp
from convlint.interpret.symbolic import Sym
from convlint.interpret.flow import raised
from convlint.interpret.values import DICT_BASES, MISSING, ClassVal, ExternalRef, FunctionVal, Instance, PartialSeq, PartialVal, Unknown, UnknownItems, UnknownNumber, mapping_of


class Builtin:
    __slots__ = ("name", "fn")

    def __init__(self, name, fn):
        self.name = name
        self.fn = fn  # fn(interp, args, kwargs, node)

    def __repr__(self):
        return f"<builtin {self.name}>"


class FieldSpec:
    """``dataclasses.field(default=…, default_factory=…)``."""

    __slots__ = ("default", "factory")

    def __init__(self, default, factory):
        self.default = default
        self.factory = factory


def _field(interp, args, kwargs, node):
    return FieldSpec(kwargs.get("default", MISSING), kwargs.get("default_factory"))


class LazyIter:
    """The known items of zip/map/enumerate/reversed results (iterable once or many times)."""

    __slots__ = ("items",)

    def __init__(self, items):
        self.items = list(items)


SUPER = Builtin("super", None)


def _known(interp, v):
    return is_known(v)


def _int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def _len(interp, args, kwargs, node):
    if len(args) != 1:
        return Unknown("len()")
    v = mapping_of(args[0])
    if isinstance(v, list) and any(type(x) is UnknownItems for x in v):
        return UnknownNumber("length of a list extended by unknown items")
    if isinstance(v, (list, tuple, dict, str, set)):
        return len(v)
    if isinstance(v, LazyIter):
        return len(v.items)
    items = interp.iterate(v)
    if items is not None:
        return len(items)
    return interp.fw.length(interp, v)


def _range(interp, args, kwargs, node):
    if not args or not all(_int(a) for a in args) or len(args) > 3:
        return Unknown("range of unknown bounds")
    try:
        return range(*args)
    except ValueError:
        return Unknown("range()")


def _items(interp, v):
    if isinstance(v, LazyIter):
        return v.items
    return interp.iterate(v)


def _zip(interp, args, kwargs, node):
    lists = [_items(interp, a) for a in args]
    if any(x is None for x in lists):
        return Unknown("zip of an unknown iterable")
    return LazyIter(zip(*lists))


def _enumerate(interp, args, kwargs, node):
    items = _items(interp, args[0]) if args else None
    start = args[1] if len(args) > 1 else kwargs.get("start", 0)
    if items is None or not _int(start):
        return Unknown("enumerate of an unknown iterable")
    return LazyIter(enumerate(items, start))


def _reversed(interp, args, kwargs, node):
    items = _items(interp, args[0]) if args else None
    if items is None:
        return Unknown("reversed of an unknown iterable")
    return LazyIter(reversed(items))


def _map(interp, args, kwargs, node):
    if len(args) < 2:
        return Unknown("map()")
    lists = [_items(interp, a) for a in args[1:]]
    if any(x is None for x in lists):
        return Unknown("map over an unknown iterable")
    return LazyIter(interp.call(args[0], list(t), {}, node) for t in zip(*lists))


def _filter(interp, args, kwargs, node):
    items = _items(interp, args[1]) if len(args) == 2 else None
    if items is None:
        return Unknown("filter()")
    out = []
    for x in items:
        t = interp.truth(x if args[0] is None else interp.call(args[0], [x], {}, node))
        if t is None:
            return Unknown("filter with unknown predicate")
        if t:
            out.append(x)
    return LazyIter(out)


def _list(interp, args, kwargs, node):
    if not args:
        return []
    if isinstance(args[0], PartialSeq):
        return args[0]
    items = _items(interp, args[0])
    return list(items) if items is not None else Unknown("list of an unknown iterable")


def _tuple(interp, args, kwargs, node):
    if not args:
        return ()
    if isinstance(args[0], PartialSeq):
        return args[0]
    items = _items(interp, args[0])
    return tuple(items) if items is not None else Unknown("tuple of an unknown iterable")


def _dict(interp, args, kwargs, node):
    out = {}
    if args:
        src = mapping_of(args[0])
        if isinstance(src, dict):
            out.update(src)
        else:
            items = _items(interp, src)
            if items is None:
                return Unknown("dict of an unknown iterable")
            for it in items:
                if isinstance(it, (tuple, list)) and len(it) == 2 and _known(interp, it[0]):
                    out[it[0]] = it[1]
                else:
                    return Unknown("dict()")
    out.update({k: v for k, v in kwargs.items() if k != "**"})
    return out


def _set(interp, args, kwargs, node):
    if not args:
        return set()
    items = _items(interp, args[0])
    if items is None or not all(_known(interp, x) for x in items):
        return Unknown("set()")
    try:
        return set(items)
    except TypeError:
        return Unknown("set()")


def _numeric(fn, name):
    def f(interp, args, kwargs, node):
        vals = args
        if len(args) == 1:
            items = _items(interp, args[0]) if not isinstance(args[0], (int, float)) else None
            if items is not None:
                vals = items
        if not vals or not all(isinstance(v, (int, float)) and not isinstance(v, bool) or isinstance(v, bool) for v in vals):
            if name in ("max", "min") and vals and all(isinstance(v, (int, Sym)) for v in vals):
                return Unknown(f"{name} of symbolic sizes")
            return Unknown(f"{name} of unknown values")
        if "key" in kwargs:
            return Unknown(f"{name} with key=")
        try:
            return fn(vals)
        except Exception:
            return Unknown(name)

    return f


def _sum(interp, args, kwargs, node):
    items = _items(interp, args[0]) if args else None
    if items is None:
        return Unknown("sum of an unknown iterable")
    start = args[1] if len(args) > 1 else kwargs.get("start", 0)
    total = start
    for x in items:
        total = interp.binop(BinOp.ADD, total, x, node)
    return total


def _conv(pytype, name):
    def f(interp, args, kwargs, node):
        if not args:
            return pytype()
        v = args[0]
        if isinstance(v, Sym) and pytype is int:
            return v
        if isinstance(v, (int, float, str, bool)) and not (pytype is str and False):
            try:
                return pytype(v) if len(args) == 1 else pytype(*args)
            except Exception:
                return Unknown(f"{name}()")
        return Unknown(f"{name} of an unknown value")

    return f


def _abs(interp, args, kwargs, node):
    v = args[0] if args else None
    return abs(v) if isinstance(v, (int, float)) else Unknown("abs()")


def _round(interp, args, kwargs, node):
    if args and isinstance(args[0], (int, float)) and all(_int(a) for a in args[1:]):
        return round(*args)
    return Unknown("round()")


def _divmod(interp, args, kwargs, node):
    if len(args) == 2 and all(isinstance(a, (int, float)) for a in args) and args[1] != 0:
        return divmod(*args)
    return Unknown("divmod()")


def _bool(interp, args, kwargs, node):
    if not args:
        return False
    t = interp.truth(args[0])
    return Unknown("bool of an unknown") if t is None else t


def _allany(fn):
    def f(interp, args, kwargs, node):
        items = _items(interp, args[0]) if args else None
        if items is None:
            return Unknown("all/any of unknown")
        truths = [interp.truth(x) for x in items]
        if any(t is None for t in truths):
            return Unknown("all/any of unknown")
        return fn(truths)

    return f


def _sorted(interp, args, kwargs, node):
    if not args:
        items = None
    elif isinstance(args[0], (set, frozenset)):  # its order does not matter here: strings too sort the same in every run
        items = list(args[0])
    else:
        items = _items(interp, args[0])
    if items is None or "key" in kwargs or not _known(interp, items):
        return Unknown("sorted()")
    try:
        return sorted(items, reverse=bool(kwargs.get("reverse", False)))
    except TypeError:
        return Unknown("sorted()")


def _isinstance(interp, args, kwargs, node):
    if len(args) != 2:
        return Unknown("isinstance()")
    obj, types = args
    types = types if isinstance(types, tuple) else (types,)
    pytypes = []
    for t in types:
        if isinstance(t, Builtin) and t.name in _ABCS:
            if isinstance(obj, Unknown):
                return Unknown("isinstance of an unknown")
            if isinstance(obj, (str, bytes, list, tuple, dict, set, range, LazyIter)):
                return True if t.name == "Iterable" or isinstance(obj, (str, bytes, list, tuple, range)) else False
            if isinstance(obj, (int, float, bool, type(None), Sym, ClassVal, FunctionVal, PartialVal, Builtin)):
                return False  # numbers, classes and functions are not collections
            if isinstance(obj, Instance):
                it, _ = obj.cls.lookup("__iter__")
                if it is not MISSING or "__container__" in obj.attrs:
                    return True
                builtin_base = any(isinstance(b, Builtin) for c in obj.cls.mro() for b in c.bases)
                return Unknown("isinstance of an instance against a collection type") if builtin_base else False
            return Unknown("isinstance against an abstract collection")
        if isinstance(t, Builtin) and t.name == "partial":
            if isinstance(obj, PartialVal):
                return True
            if isinstance(obj, Unknown):
                return Unknown("isinstance of an unknown")
            continue  # a class, a function, a framework callable or a plain value is no partial
        if isinstance(t, Builtin) and t.name == "type":
            if isinstance(obj, Unknown):
                return Unknown("isinstance of an unknown")
            if isinstance(obj, ClassVal) or interp.fw.is_class(obj):
                return True
            continue
        if isinstance(t, Builtin) and t.name in _FUNCTION_TYPES:
            if isinstance(obj, Unknown):
                return Unknown("isinstance of an unknown")
            if isinstance(obj, FunctionVal) or (t.name in ("BuiltinFunctionType", "BuiltinMethodType") and isinstance(obj, Builtin)):
                return True
            continue
        if isinstance(t, Builtin) and t.name in _PYTYPES:
            pytypes.append(_PYTYPES[t.name])
        else:
            r = interp.fw.isinstance_check(interp, obj, t)
            if r is True:
                return True
            if r is None:
                return Unknown("isinstance of a framework or user type")
    if pytypes:
        if isinstance(obj, Unknown):
            return Unknown("isinstance of an unknown")
        if isinstance(obj, (int, float, str, bool, list, tuple, dict, type(None), set)):
            return isinstance(obj, tuple(pytypes))
        if isinstance(obj, Sym):
            return int in pytypes
        return False if not isinstance(obj, Instance) else Unknown("isinstance")
    return False


def _getattr(interp, args, kwargs, node):
    if len(args) >= 2 and isinstance(args[1], str):
        v = interp.getattr(args[0], args[1], None)
        if isinstance(v, Unknown) and len(args) == 3 and not isinstance(args[0], Unknown):
            has = _hasattr(interp, args[:2], {}, node)
            return args[2] if has is False or raised(v) else v
        return v
    return Unknown("getattr with an unknown name")


def _hasattr(interp, args, kwargs, node):
    if len(args) == 2 and isinstance(args[1], str) and isinstance(args[0], Instance):
        inst, name = args
        if name in inst.attrs:
            return True
        v, _ = inst.cls.lookup(name)
        if v is not MISSING:
            return True
        fwv = interp.fw.getattr(interp, inst, name)
        if fwv is not MISSING:
            return True if not isinstance(fwv, Unknown) else Unknown("hasattr")  # a framework attribute
        if inst.cls.framework is not None:
            has = interp.fw.has_attribute(interp, inst, name)
            if has is True:
                return True
        getattr_fn, _ = inst.cls.lookup("__getattr__")
        if isinstance(getattr_fn, FunctionVal):
            got = interp.call(getattr_fn, [inst, name], {}, node)
            if raised(got):
                return False  # a running program's hasattr: the raise was the AttributeError it catches
            return True if not isinstance(got, Unknown) else Unknown("hasattr")
        if inst.cls.framework is not None:
            return interp.fw.has_attribute(interp, inst, name)
        if all(isinstance(b, ClassVal) or getattr(b, "name", None) in DICT_BASES for c in inst.cls.mro() for b in c.bases):
            return False  # every class it derives from is known: no such attribute
        return Unknown("hasattr")
    if len(args) == 2 and isinstance(args[1], str) and not isinstance(args[0], Unknown):
        v = interp.getattr(args[0], args[1], None)
        if not isinstance(v, Unknown):
            return True  # a framework module's catalogued function, a layer's parameter, ...
    return Unknown("hasattr")


def _setattr(interp, args, kwargs, node):
    if len(args) == 3 and isinstance(args[1], str):
        interp.setattr(args[0], args[1], args[2])
    return None


def _dir(interp, args, kwargs, node):
    if len(args) == 1:
        names = interp.fw.dir_of(args[0]) if hasattr(interp.fw, "dir_of") else None
        if names is not None:
            return names
    return Unknown("dir()")


def _print(interp, args, kwargs, node):
    return None


def _type(interp, args, kwargs, node):
    if len(args) == 1 and isinstance(args[0], Instance):
        return args[0].cls
    if len(args) == 1 and args[0] is DATACLASS_MISSING:
        return DATACLASS_MISSING_TYPE
    if len(args) == 1 and type(args[0]) in (bool, int, float, str, list, tuple, dict, set):
        return BUILTINS[type(args[0]).__name__]  # ``type(3) == int``
    if len(args) == 1 and (args[0] is None or interp.fw.is_framework_value(args[0]) and not hasattr(args[0], "shape")):
        # NoneType, or the type of a framework callable or dtype: none of the types a program can
        # compare it with by name here (it is only ever unequal to them); compared by identity
        return _OpaqueType(type(args[0]).__name__)
    return Unknown("type()")


def is_type_object(v) -> bool:
    """A type the interpreter represents (``int``, ``type(None)``, ``dataclasses._MISSING_TYPE``):
    two of them are equal only when they are the same."""
    return isinstance(v, (_OpaqueType, _DataclassMissingType, _DataclassMissing)) or (isinstance(v, Builtin) and v.name in _PYTYPES)


class _OpaqueType:
    """``type(x)`` of a value whose type is not one the program names (``type(None)``)."""

    __slots__ = ("of",)

    def __init__(self, of):
        self.of = of

    def __repr__(self):
        return f"<type of a {self.of}>"


def _iter(interp, args, kwargs, node):
    items = _items(interp, args[0]) if args else None
    if items is None:
        return Unknown("iter()")
    return _Iterator(items)


class _Iterator:
    __slots__ = ("items",)

    def __init__(self, items):
        self.items = list(items)


def _next(interp, args, kwargs, node):
    it = args[0] if args else None
    if isinstance(it, _Iterator) and it.items:
        return it.items.pop(0)
    return Unknown("next()")


def _partial(interp, args, kwargs, node):
    if not args:
        return Unknown("partial()")
    return PartialVal(args[0], list(args[1:]), dict(kwargs))


def _math1(fn, name, result_int=False):
    def f(interp, args, kwargs, node):
        if args and all(isinstance(a, (int, float)) and not isinstance(a, bool) for a in args):
            try:
                return fn(*args)
            except Exception:
                return Unknown(f"math.{name}")
        return Unknown(f"math.{name} of an unknown")

    return f


def _ordered_dict(interp, args, kwargs, node):
    return _dict(interp, args, kwargs, node)


def _namedtuple_like(interp, args, kwargs, node):
    return Unknown("namedtuple")


def _callable(interp, args, kwargs, node):
    if len(args) != 1:
        return Unknown("callable()")
    v = args[0]
    if isinstance(v, Unknown):
        return Unknown("callable of an unknown")
    if isinstance(v, (int, float, str, bool, bytes, type(None), tuple, list, dict, set, Sym)):
        return False
    if isinstance(v, (FunctionVal, ClassVal, PartialVal, Builtin)):
        return True
    if isinstance(v, Instance):
        return True if v.cls.framework else Unknown("callable of an instance")
    r = interp.fw.truth(v)
    return True if r is True else Unknown("callable()")


def _issubclass(interp, args, kwargs, node):
    if len(args) == 2 and isinstance(args[0], ClassVal) and isinstance(args[1], ClassVal):
        return args[1] in args[0].mro()
    return Unknown("issubclass()")


_ABCS = ("Iterable", "Sequence")
_FUNCTION_TYPES = ("FunctionType", "LambdaType", "MethodType", "BuiltinFunctionType", "BuiltinMethodType")
_PYTYPES = {"int": int, "float": float, "str": str, "bool": bool, "list": list, "tuple": tuple, "dict": dict, "set": set}

BUILTINS = {
    "len": Builtin("len", _len),
    "range": Builtin("range", _range),
    "zip": Builtin("zip", _zip),
    "enumerate": Builtin("enumerate", _enumerate),
    "reversed": Builtin("reversed", _reversed),
    "map": Builtin("map", _map),
    "filter": Builtin("filter", _filter),
    "list": Builtin("list", _list),
    "tuple": Builtin("tuple", _tuple),
    "dict": Builtin("dict", _dict),
    "set": Builtin("set", _set),
    "frozenset": Builtin("frozenset", _set),
    "max": Builtin("max", _numeric(max, "max")),
    "min": Builtin("min", _numeric(min, "min")),
    "sum": Builtin("sum", _sum),
    "int": Builtin("int", _conv(int, "int")),
    "float": Builtin("float", _conv(float, "float")),
    "str": Builtin("str", _conv(str, "str")),
    "abs": Builtin("abs", _abs),
    "round": Builtin("round", _round),
    "divmod": Builtin("divmod", _divmod),
    "bool": Builtin("bool", _bool),
    "all": Builtin("all", _allany(all)),
    "any": Builtin("any", _allany(any)),
    "sorted": Builtin("sorted", _sorted),
    "isinstance": Builtin("isinstance", _isinstance),
    "getattr": Builtin("getattr", _getattr),
    "hasattr": Builtin("hasattr", _hasattr),
    "setattr": Builtin("setattr", _setattr),
    "print": Builtin("print", _print),
    "dir": Builtin("dir", _dir),
    "type": Builtin("type", _type),
    "iter": Builtin("iter", _iter),
    "next": Builtin("next", _next),
    "super": SUPER,
    "callable": Builtin("callable", _callable),
    "issubclass": Builtin("issubclass", _issubclass),
    "repr": Builtin("repr", lambda i, a, k, n: Unknown("repr()")),
    "id": Builtin("id", lambda i, a, k, n: Unknown("id()")),
    "pow": Builtin("pow", _math1(pow, "pow")),
    "object": ClassVal(None, None, "object", []),
    "NotImplementedError": Builtin("NotImplementedError", lambda i, a, k, n: Unknown("exception")),
    "ValueError": Builtin("ValueError", lambda i, a, k, n: Unknown("exception")),
    "Exception": Builtin("Exception", lambda i, a, k, n: Unknown("exception")),
    "RuntimeError": Builtin("RuntimeError", lambda i, a, k, n: Unknown("exception")),
    "TypeError": Builtin("TypeError", lambda i, a, k, n: Unknown("exception")),
    "AssertionError": Builtin("AssertionError", lambda i, a, k, n: Unknown("exception")),
    "KeyError": Builtin("KeyError", lambda i, a, k, n: Unknown("exception")),
}

# Standard-library modules the interpreter understands, as catalogue entries.
STDLIB = {
    "functools.partial": Builtin("partial", _partial),
    "functools.reduce": Builtin("reduce", lambda i, a, k, n: _reduce(i, a, k, n)),
    "dataclasses.field": Builtin("field", _field),
    "itertools.repeat": Builtin("repeat", lambda i, a, k, n: LazyIter([a[0]] * a[1]) if len(a) == 2 and _int(a[1]) and 0 <= a[1] <= 4096 else Unknown("itertools.repeat")),
    "collections.abc.Iterable": Builtin("Iterable", lambda i, a, k, n: Unknown("Iterable()")),
    "typing.Iterable": Builtin("Iterable", lambda i, a, k, n: Unknown("Iterable()")),
    "collections.abc.Sequence": Builtin("Sequence", lambda i, a, k, n: Unknown("Sequence()")),
    "dataclasses.dataclass": Builtin("dataclass", lambda i, a, k, n: a[0] if a else Builtin("dataclass", lambda i2, a2, k2, n2: a2[0] if a2 else None)),
    "collections.OrderedDict": Builtin("OrderedDict", _ordered_dict),
    "collections.namedtuple": Builtin("namedtuple", _namedtuple_like),
    "typing.OrderedDict": Builtin("OrderedDict", _ordered_dict),
    "math.floor": Builtin("floor", _math1(math.floor, "floor")),
    "math.ceil": Builtin("ceil", _math1(math.ceil, "ceil")),
    "math.sqrt": Builtin("sqrt", _math1(math.sqrt, "sqrt")),
    "math.log2": Builtin("log2", _math1(math.log2, "log2")),
    "math.log": Builtin("log", _math1(math.log, "log")),
    "math.prod": Builtin("prod", lambda i, a, k, n: math.prod(a[0]) if a and isinstance(a[0], (list, tuple)) and all(isinstance(x, int) for x in a[0]) else Unknown("prod")),
    "math.gcd": Builtin("gcd", _math1(math.gcd, "gcd")),
    "math.pi": math.pi,
    "math.inf": math.inf,
    "math.isqrt": Builtin("isqrt", _math1(math.isqrt, "isqrt")),
    "operator.mul": Builtin("mul", _math1(lambda a, b: a * b, "mul")),
}
STDLIB_MODULES = {"functools", "collections", "collections.abc", "typing", "math", "operator", "dataclasses", "itertools", "re"}


def _reduce(interp, args, kwargs, node):
    if len(args) < 2:
        return Unknown("reduce()")
    items = _items(interp, args[1])
    if items is None:
        return Unknown("reduce over an unknown iterable")
    if len(args) > 2:
        acc = args[2]
    elif items:
        acc, items = items[0], items[1:]
    else:
        return Unknown("reduce of an empty sequence")
    for x in items:
        acc = interp.call(args[0], [acc, x], {}, node)
    return acc




# ---------------------------------------------------------------------- methods of known values

def _method(obj, name):
    return Builtin(f"{type(obj).__name__}.{name}", None)


_LIST_MUTATORS = {"append", "extend", "insert", "pop", "reverse", "remove", "clear", "sort"}


def attr_of(interp, obj, name: str):
    """An attribute of a known Python value (mostly bound methods)."""
    if isinstance(obj, list):
        return _list_method(obj, name)
    if isinstance(obj, dict):
        return _dict_method(obj, name)
    if isinstance(obj, tuple):
        if name in ("index", "count"):
            return Builtin(f"tuple.{name}", lambda i, a, k, n: _safe(getattr(obj, name), a))
        return Unknown(f"tuple.{name}")
    if isinstance(obj, str):
        if name in _STR_METHODS:
            def m(i, a, k, n):
                if not all(_plain_arg(x) for x in [*a, *k.values()]):
                    return Unknown(f"str.{name}")
                return _safe(getattr(obj, name), a, k)

            return Builtin(f"str.{name}", m)
        return Unknown(f"str.{name}")
    if isinstance(obj, (re.Pattern, re.Match)):
        if name in _RE_METHODS:
            def rm(i, a, k, n):
                if not all(_plain_arg(x) for x in [*a, *k.values()]):
                    return Unknown(f"re.{name}")
                return _pure(_safe(getattr(obj, name), a, k))

            return Builtin(f"re.{name}", rm)
        if name in ("pattern", "flags", "groups", "string", "pos", "endpos", "lastindex", "lastgroup"):
            return getattr(obj, name)
        return Unknown(f"re.{name}")
    if isinstance(obj, LazyIter):
        return Unknown("attribute of an iterator")
    if isinstance(obj, PartialVal) and name in ("func", "args", "keywords"):
        return {"func": obj.func, "args": tuple(obj.args), "keywords": dict(obj.kwargs)}[name]
    if isinstance(obj, (int, float)) and name in ("real", "imag"):
        return getattr(obj, name)
    if isinstance(obj, (SignatureVal, ParameterVal, InspectParameterType)):
        return _inspect_attr(obj, name)
    if isinstance(obj, FieldVal) and name in ("name", "default", "default_factory"):
        return getattr(obj, name)
    if isinstance(obj, ParserVal):
        return parser_attr(obj, name)
    return interp.fw.attr_other(interp, obj, name)


# str is immutable: its methods are pure functions of known arguments
_STR_METHODS = frozenset(n for n in dir(str) if not n.startswith("_") and n not in ("maketrans",))
_RE_METHODS = frozenset(("group", "groups", "groupdict", "start", "end", "span", "split", "match", "search", "fullmatch", "findall", "sub", "subn", "expand"))


def _plain_arg(x) -> bool:
    if isinstance(x, (str, int, float, bool, type(None), bytes, re.Pattern, re.RegexFlag)):
        return True
    if isinstance(x, (list, tuple)):
        return all(_plain_arg(y) for y in x)
    if isinstance(x, dict):
        return all(_plain_arg(k) and _plain_arg(v) for k, v in x.items())
    return False


def _pure(v):
    """A result of a pure standard-library call, as a value the interpreter can hold (iterators
    become lists; other objects stay, if plain or a regex match)."""
    if isinstance(v, Unknown):
        return v
    if isinstance(v, (str, int, float, bool, type(None), bytes, re.Pattern, re.Match)):
        return v
    if isinstance(v, (list, tuple)):
        return type(v)(_pure(x) for x in v)
    if isinstance(v, dict):
        return {k: _pure(x) for k, x in v.items()}
    try:
        return [_pure(x) for x in v]  # finditer and the like
    except TypeError:
        return Unknown("standard-library result")


def _re_function(name):
    fn = getattr(re, name)

    def f(interp, args, kwargs, node):
        if not all(_plain_arg(x) for x in [*args, *kwargs.values()]):
            return Unknown(f"re.{name} of unknown arguments")
        try:
            return _pure(fn(*args, **{k: v for k, v in kwargs.items() if k not in ("*", "**")}))
        except Exception:
            return Unknown(f"re.{name} failed")

    return Builtin(name, f)


def _safe(fn, args, kwargs=None):
    try:
        return fn(*args, **(kwargs or {}))
    except Exception:
        return Unknown("method call failed")


def _list_method(lst: list, name: str):
    if name == "append":
        return Builtin("list.append", lambda i, a, k, n: lst.append(a[0]) if a else None)
    if name == "extend":
        def ext(i, a, k, n):
            items = _items(i, a[0]) if a else None
            if items is None:
                lst.append(UnknownItems("extended by an unknown iterable"))
            else:
                lst.extend(items)

        return Builtin("list.extend", ext)
    if name == "insert":
        def ins(i, a, k, n):
            if len(a) == 2 and _int(a[0]):
                lst.insert(a[0], a[1])
            else:
                lst[:] = [Unknown("insert at an unknown index")]

        return Builtin("list.insert", ins)
    if name == "pop":
        def pop(i, a, k, n):
            if not lst:
                return Unknown("pop from an empty list")
            if not a:
                return lst.pop()
            if _int(a[0]) and -len(lst) <= a[0] < len(lst):
                return lst.pop(a[0])
            return Unknown("pop at an unknown index")

        return Builtin("list.pop", pop)
    if name == "reverse":
        return Builtin("list.reverse", lambda i, a, k, n: lst.reverse())
    if name == "copy":
        return Builtin("list.copy", lambda i, a, k, n: list(lst))
    if name in ("index", "count"):
        return Builtin(f"list.{name}", lambda i, a, k, n: _safe(getattr(lst, name), a) if _known(i, a) and _known(i, lst) else Unknown(f"list.{name}"))
    if name == "remove":
        def rem(i, a, k, n):
            if _known(i, a) and _known(i, lst):
                try:
                    lst.remove(a[0])
                except ValueError:
                    pass
            else:
                lst[:] = [Unknown("remove from a list of unknowns")]

        return Builtin("list.remove", rem)
    if name == "clear":
        return Builtin("list.clear", lambda i, a, k, n: lst.clear())
    if name == "sort":
        def srt(i, a, k, n):
            if "key" in k or not _known(i, lst):
                lst[:] = [Unknown("sorted with a key")] * len(lst)
                return None
            try:
                lst.sort(reverse=bool(k.get("reverse", False)))
            except TypeError:
                pass

        return Builtin("list.sort", srt)
    return Unknown(f"list.{name}")


def _dict_method(d: dict, name: str):
    if name == "get":
        def get(i, a, k, n):
            if not a or not _known(i, a[0]):
                return Unknown("dict.get of an unknown key")
            try:
                return d.get(a[0], a[1] if len(a) > 1 else None)
            except TypeError:
                return Unknown("dict.get")

        return Builtin("dict.get", get)
    if name in ("items", "keys", "values"):
        return Builtin(f"dict.{name}", lambda i, a, k, n: LazyIter(getattr(d, name)()))
    if name == "update":
        def upd(i, a, k, n):
            if a and isinstance(a[0], dict):
                d.update(a[0])
            d.update({kk: vv for kk, vv in k.items() if kk != "**"})

        return Builtin("dict.update", upd)
    if name == "pop":
        def pop(i, a, k, n):
            if a and _known(i, a[0]):
                try:
                    return d.pop(a[0], *a[1:2]) if len(a) > 1 or a[0] in d else Unknown("dict.pop of a missing key")
                except TypeError:
                    return Unknown("dict.pop")
            return Unknown("dict.pop")

        return Builtin("dict.pop", pop)
    if name == "setdefault":
        def sd(i, a, k, n):
            if a and _known(i, a[0]):
                try:
                    return d.setdefault(a[0], a[1] if len(a) > 1 else None)
                except TypeError:
                    return Unknown("dict.setdefault")
            return Unknown("dict.setdefault")

        return Builtin("dict.setdefault", sd)
    if name == "copy":
        return Builtin("dict.copy", lambda i, a, k, n: dict(d))
    return Unknown(f"dict.{name}")


def _copy(deep: bool):
    def copy_value(v, memo):
        if id(v) in memo:
            return memo[id(v)]
        if isinstance(v, list):
            out = memo[id(v)] = []
            out.extend(copy_value(x, memo) if deep else x for x in v)
            return out
        if isinstance(v, dict):
            out = memo[id(v)] = {}
            out.update({k: (copy_value(x, memo) if deep else x) for k, x in v.items()})
            return out
        if isinstance(v, tuple) and deep:
            return tuple(copy_value(x, memo) for x in v)
        if isinstance(v, set):
            return set(v)
        if isinstance(v, Instance):
            out = memo[id(v)] = Instance(v.cls, setup_done=v.setup_done, data=None if v.data is None else dict(v.data))
            out.attrs.update({k: (copy_value(x, memo) if deep else x) for k, x in v.attrs.items()})
            return out
        if hasattr(v, "params") and hasattr(v, "apply") and hasattr(v, "extra"):  # a framework Layer
            import dataclasses

            out = memo[id(v)] = dataclasses.replace(v, params=dict(v.params), extra=dict(v.extra), name=None)
            return out
        if hasattr(v, "items") and hasattr(v, "kind") and hasattr(v, "site") and not hasattr(v, "shape"):  # a Container
            import dataclasses

            out = memo[id(v)] = dataclasses.replace(v, items=copy_value(v.items, memo) if deep else (dict(v.items) if isinstance(v.items, dict) else list(v.items)), name=None)
            return out
        return v  # immutable or shared by design: numbers, strings, tensors, functions, classes, unknowns

    def f(interp, args, kwargs, node):
        if not args:
            return Unknown("copy()")
        return copy_value(args[0], {})

    return Builtin("deepcopy" if deep else "copy", f)


for _name in _FUNCTION_TYPES:
    STDLIB[f"types.{_name}"] = Builtin(_name, lambda i, a, k, n: Unknown("types constructor"))
STDLIB_MODULES.add("types")

# ``types.SimpleNamespace(in_ch=3, width=16)``: a config object whose attributes are its keywords
_NAMESPACE = ClassVal(None, None, "SimpleNamespace", [])


def _simple_namespace(interp, args, kwargs, node):
    if args or "*" in kwargs or "**" in kwargs:
        return Unknown("SimpleNamespace() of a mapping or unknown keywords")
    return Instance(_NAMESPACE, dict(kwargs))


STDLIB["types.SimpleNamespace"] = Builtin("SimpleNamespace", _simple_namespace)


# ``argparse``: a script's options as it runs with no command-line arguments — each option its
# default (``type`` applied to a string default, as argparse does); an option the command line must
# give (``required=True``, a positional) is unknown. The options form an ``argparse.Namespace``.
_ARGPARSE_NAMESPACE = ClassVal(None, None, "Namespace", [])


class ParserVal:
    __slots__ = ("options", "defaults", "unknown")

    def __init__(self):
        self.options: list = []  # (dest, value)
        self.defaults: dict = {}
        self.unknown = False  # an option whose name or default is not known


def _argparse_type(interp, fn, value):
    if value is None or not isinstance(value, str) or fn is None:
        return value
    if isinstance(fn, Builtin) and fn.name in ("int", "float", "str"):
        try:
            return {"int": int, "float": float, "str": str}[fn.name](value)
        except ValueError:
            return Unknown("an option's default its type rejects")
    return Unknown("an option's default converted by its type")


def _add_argument(parser: ParserVal):
    def add(interp, args, kwargs, node):
        names = [a for a in args if isinstance(a, str)]
        if len(names) != len(args) or not names or "**" in kwargs:
            parser.unknown = True
            return None
        dest = kwargs.get("dest")
        longs = [n for n in names if n.startswith("--")]
        if dest is None:
            first = longs[0] if longs else names[0]
            dest = first.lstrip(parser_prefix(first)).replace("-", "_")
        if not isinstance(dest, str):
            parser.unknown = True
            return None
        action = kwargs.get("action", "store")
        positional = not names[0].startswith("-")
        if kwargs.get("required") is True or (positional and kwargs.get("nargs") not in ("?", "*")):
            value = Unknown(f"the command-line option {names[0]} (required)")
        elif action == "store_true":
            value = kwargs.get("default", False)
        elif action == "store_false":
            value = kwargs.get("default", True)
        elif action in ("store", "store_const", "count", "append", "extend") or action is None:
            value = kwargs.get("default")
            if action == "store":
                value = _argparse_type(interp, kwargs.get("type"), value)
        else:
            value = Unknown(f"the command-line option {names[0]} (action {action!r})")
        parser.options.append((dest, value))
        return None

    return add


def parser_prefix(name: str) -> str:
    return "-" if name.startswith("-") else ""


def _parse_args(parser: ParserVal, known: bool):
    def parse(interp, args, kwargs, node):
        given = args[0] if args else kwargs.get("args")
        if parser.unknown or (given is not None and given != []):
            return Unknown("parse_args of command-line arguments not known")
        ns = Instance(_ARGPARSE_NAMESPACE, {})
        for dest, value in parser.options:
            ns.attrs.setdefault(dest, value)
        for k, v in parser.defaults.items():
            if k in ns.attrs and not isinstance(ns.attrs[k], Unknown) or k not in ns.attrs:
                ns.attrs[k] = v
        return (ns, []) if known else ns

    return parse


def parser_attr(parser: ParserVal, name: str):
    if name == "add_argument":
        return Builtin(name, _add_argument(parser))
    if name in ("add_argument_group", "add_mutually_exclusive_group"):
        return Builtin(name, lambda i, a, k, n: parser)
    if name == "set_defaults":
        def set_defaults(i, a, k, n):
            if "**" in k:
                parser.unknown = True
            parser.defaults.update({key: v for key, v in k.items() if key != "**"})

        return Builtin(name, set_defaults)
    if name in ("parse_args", "parse_known_args"):
        return Builtin(name, _parse_args(parser, name == "parse_known_args"))
    if name in ("print_help", "print_usage", "error", "exit"):
        return Builtin(name, lambda i, a, k, n: None)
    if name == "add_subparsers":
        parser.unknown = True
        return Builtin(name, lambda i, a, k, n: Unknown("subcommands"))
    return Unknown(f"ArgumentParser.{name}")


STDLIB["argparse.ArgumentParser"] = Builtin("ArgumentParser", lambda i, a, k, n: ParserVal())
STDLIB["argparse.Namespace"] = Builtin("Namespace", lambda i, a, k, n: Instance(_ARGPARSE_NAMESPACE, dict(k)) if not a and "**" not in k else Unknown("Namespace()"))
for _name in ("ArgumentDefaultsHelpFormatter", "RawTextHelpFormatter", "RawDescriptionHelpFormatter", "HelpFormatter", "SUPPRESS"):
    STDLIB[f"argparse.{_name}"] = ExternalRef(f"argparse.{_name}")
STDLIB_MODULES.add("argparse")


# ``ml_collections.ConfigDict``: a dict whose keys are also attributes; nested dicts become
# ConfigDicts too (the JAX research code's config object)
_CONFIG_DICT = ClassVal(None, None, "ConfigDict", [Builtin("dict", lambda i, a, k, n: None)], attrs={"__attribute_items__": True})
_FROZEN_CONFIG_DICT = ClassVal(None, None, "FrozenConfigDict", [_CONFIG_DICT], attrs={"__attribute_items__": True})


def _config_dict(cls):
    def convert(v, depth=0):
        if isinstance(v, dict) and depth < 16:
            if not all(isinstance(k, str) for k in v):
                return None
            items = {k: convert(x, depth + 1) for k, x in v.items()}
            if any(x is None and v[k] is not None for k, x in items.items()):
                return None
            return Instance(cls, data=items)
        if isinstance(v, Instance) and v.data is not None and v.cls.lookup("__attribute_items__")[0] is True:
            return Instance(cls, data={k: convert(x, depth + 1) for k, x in v.data.items()})
        return v

    def make(interp, args, kwargs, node):
        src = args[0] if args else kwargs.get("initial_dictionary", {})
        src = {} if src is None else mapping_of(src)
        if not isinstance(src, dict) or any(k not in ("initial_dictionary", "type_safe", "convert_dict", "allow_dotted_keys") for k in kwargs):
            return Unknown(f"{cls.name}() of an unknown mapping")
        out = convert(dict(src))
        return out if out is not None else Unknown(f"{cls.name}() with non-string keys")

    return Builtin(cls.name, make)


for _mod in ("ml_collections", "ml_collections.config_dict"):
    STDLIB[f"{_mod}.ConfigDict"] = _config_dict(_CONFIG_DICT)
    STDLIB[f"{_mod}.FrozenConfigDict"] = _config_dict(_FROZEN_CONFIG_DICT)
    STDLIB_MODULES.add(_mod)
STDLIB["copy.copy"] = _copy(False)
STDLIB["copy.deepcopy"] = _copy(True)
STDLIB_MODULES.add("copy")

# the regular-expression module: pure functions of known strings
for _name in ("split", "match", "search", "fullmatch", "findall", "finditer", "sub", "subn", "compile", "escape"):
    STDLIB[f"re.{_name}"] = _re_function(_name)
for _name in ("IGNORECASE", "I", "MULTILINE", "M", "DOTALL", "S", "VERBOSE", "X", "ASCII", "A"):
    STDLIB[f"re.{_name}"] = getattr(re, _name)
STDLIB["typing.cast"] = Builtin("cast", lambda i, a, k, n: a[1] if len(a) == 2 else Unknown("cast()"))

# Package availability checks (``importlib.util.find_spec("torch_npu") is not None``), on the path
# convlint follows: the model's framework is installed and runs on CPU, so an accelerator plug-in
# package is absent (as ``torch.cuda.is_available()`` is False). Any other package: unknown.
ACCELERATOR_PACKAGES = frozenset({
    "torch_npu", "torch_mlu", "torch_neuronx", "torch_xla", "torch_musa", "intel_extension_for_pytorch",
    "habana_frameworks", "torch_directml", "torch_sdaa", "apex", "xformers", "flash_attn", "triton", "deepspeed",
})
INSTALLED_PACKAGES = frozenset({"torch", "jax", "jaxlib", "flax", "numpy"})


def _find_spec(interp, args, kwargs, node):
    name = args[0] if args else kwargs.get("name")
    if isinstance(name, str):
        top = name.split(".", 1)[0]
        if top in ACCELERATOR_PACKAGES:
            return None
        if top in INSTALLED_PACKAGES and "." not in name:
            return ExternalRef("importlib.machinery.ModuleSpec")  # some spec: not None
    return Unknown(f"whether {name if isinstance(name, str) else 'a package'} is installed")


STDLIB["importlib.util.find_spec"] = Builtin("find_spec", _find_spec)


# ``inspect.signature`` of a function defined in the project: its parameters, in order, with the
# defaults the interpreter evaluated (``inspect.Parameter.empty`` where there is none).
class InspectEmpty:
    def __repr__(self):
        return "inspect.Parameter.empty"


INSPECT_EMPTY = InspectEmpty()
_PARAM_KINDS = ("POSITIONAL_ONLY", "POSITIONAL_OR_KEYWORD", "VAR_POSITIONAL", "KEYWORD_ONLY", "VAR_KEYWORD")


@dataclass(frozen=True)
class ParameterVal:
    name: str
    kind: str
    default: Any


class InspectParameterType:
    """``inspect.Parameter``: its ``empty`` marker and kind constants."""

    def __repr__(self):
        return "inspect.Parameter"


INSPECT_PARAMETER = InspectParameterType()


@dataclass(frozen=True)
class SignatureVal:
    parameters: tuple  # ParameterVal, in order


def _signature(interp, args, kwargs, node):
    fn = args[0] if args else kwargs.get("obj")
    drop_first = False
    if isinstance(fn, ClassVal):
        init, _ = fn.lookup("__init__")
        fn, drop_first = init, True
    elif type(fn).__name__ == "BoundMethod":
        fn, drop_first = fn.func, True
    if kwargs.get("follow_wrapped", True) is not True:
        return Unknown("inspect.signature(follow_wrapped=...)")
    for _ in range(32):  # ``__wrapped__`` chains, as inspect.unwrap follows them
        if not isinstance(fn, FunctionVal) or fn.wrapped is None:
            break
        fn = fn.wrapped
    if not isinstance(fn, FunctionVal) or not isinstance(fn.node, cst.FunctionDef):
        return Unknown("inspect.signature of a value outside the project")
    ps = fn.node.params
    out = []
    for kind, group in (("POSITIONAL_ONLY", ps.posonly_params), ("POSITIONAL_OR_KEYWORD", ps.params)):
        out += [ParameterVal(p.name.value, kind, fn.defaults.get(p.name.value, INSPECT_EMPTY)) for p in group]
    if isinstance(ps.star_arg, cst.Param):
        out.append(ParameterVal(ps.star_arg.name.value, "VAR_POSITIONAL", INSPECT_EMPTY))
    out += [ParameterVal(p.name.value, "KEYWORD_ONLY", fn.defaults.get(p.name.value, INSPECT_EMPTY)) for p in ps.kwonly_params]
    if ps.star_kwarg is not None:
        out.append(ParameterVal(ps.star_kwarg.name.value, "VAR_KEYWORD", INSPECT_EMPTY))
    return SignatureVal(tuple(out[1:] if drop_first and out else out))


def _inspect_attr(obj, name):
    if isinstance(obj, SignatureVal):
        if name == "parameters":
            return {p.name: p for p in obj.parameters}
        return Unknown(f"Signature.{name}")
    if isinstance(obj, ParameterVal):
        if name in ("name", "default", "kind"):
            return getattr(obj, name)
        if name == "annotation":
            return INSPECT_EMPTY
        return Unknown(f"Parameter.{name}")
    if name == "empty":
        return INSPECT_EMPTY
    if name in _PARAM_KINDS:
        return name
    return Unknown(f"inspect.Parameter.{name}")


STDLIB["inspect.signature"] = Builtin("signature", _signature)

# ``numbers``: the abstract number types, as the builtin types they stand for here
# (``isinstance(dim, numbers.Integral)``: an int, a bool or a symbolic size)
STDLIB["numbers.Integral"] = BUILTINS["int"]
STDLIB["numbers.Real"] = (BUILTINS["int"], BUILTINS["float"])
STDLIB["numbers.Number"] = (BUILTINS["int"], BUILTINS["float"])
STDLIB_MODULES.add("numbers")


# ``dataclasses.fields(obj)`` of a dataclass or flax module: name and default of each field, in
# order (``dataclasses.MISSING`` where there is no default)
class _DataclassMissing:
    def __repr__(self):
        return "dataclasses.MISSING"


class _DataclassMissingType:
    def __repr__(self):
        return "dataclasses._MISSING_TYPE"


DATACLASS_MISSING = _DataclassMissing()
DATACLASS_MISSING_TYPE = _DataclassMissingType()


@dataclass(frozen=True)
class FieldVal:
    name: str
    default: Any
    default_factory: Any = DATACLASS_MISSING


def _fields(interp, args, kwargs, node):
    obj = args[0] if len(args) == 1 else None
    cls = obj.cls if isinstance(obj, Instance) else obj if isinstance(obj, ClassVal) else None
    if cls is None or not (cls.framework == "flax" or cls.lookup("__dataclass__")[0] is True):
        return Unknown("dataclasses.fields of a value that is not a known dataclass")
    out = []
    for name, default in cls.fields:
        if isinstance(default, FieldSpec):
            out.append(FieldVal(name, DATACLASS_MISSING if default.default is MISSING else default.default,
                                DATACLASS_MISSING if default.factory is None else default.factory))
        else:
            out.append(FieldVal(name, DATACLASS_MISSING if default is MISSING else default))
    if cls.framework == "flax":  # flax adds its own keyword-only fields last
        names = {f.name for f in out}
        out += [FieldVal(n, d) for n, d in (("parent", Unknown("flax parent")), ("name", None)) if n not in names]
    return tuple(out)


STDLIB["dataclasses.fields"] = Builtin("fields", _fields)
STDLIB["dataclasses.MISSING"] = DATACLASS_MISSING
STDLIB["dataclasses._MISSING_TYPE"] = DATACLASS_MISSING_TYPE


# numpy on plain Python numbers (``np.prod(self.ratios)``, ``np.ceil(n / 2)``): the scalar results
# numpy gives, as Python numbers; anything on an array (or with ``axis=``/``dtype=``) is unknown.
def _np_reduce(name, fn):
    def f(interp, args, kwargs, node):
        if len(args) == 1 and not kwargs:
            items = args[0] if isinstance(args[0], (list, tuple)) else None
            if items is not None and all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in items):
                if items:
                    return fn(items)
                if name in ("prod", "sum"):
                    return float(fn(items))  # numpy's empty product/sum is a float64
        return Unknown(f"numpy.{name}")

    return Builtin(name, f)


def _np_scalar(name, fn, to_float=True):
    def f(interp, args, kwargs, node):
        if len(args) == 1 and not kwargs and isinstance(args[0], (int, float)) and not isinstance(args[0], bool):
            try:
                v = fn(args[0])
            except (ValueError, OverflowError, ZeroDivisionError):
                return Unknown(f"numpy.{name}")
            return float(v) if to_float else v
        return Unknown(f"numpy.{name}")

    return Builtin(name, f)


STDLIB["numpy.prod"] = _np_reduce("prod", math.prod)
STDLIB["numpy.sum"] = _np_reduce("sum", sum)
STDLIB["numpy.max"] = STDLIB["numpy.amax"] = _np_reduce("max", max)
STDLIB["numpy.min"] = STDLIB["numpy.amin"] = _np_reduce("min", min)
for _name, _fn in (("ceil", math.ceil), ("floor", math.floor), ("sqrt", math.sqrt), ("log", math.log), ("log2", math.log2),
                   ("exp", math.exp), ("trunc", math.trunc)):
    STDLIB[f"numpy.{_name}"] = _np_scalar(_name, _fn)
STDLIB["numpy.abs"] = _np_scalar("abs", abs, to_float=False)
def _int_in(bits):
    def conv(v):
        out = int(v)
        if not -(2 ** (bits - 1)) <= out < 2 ** (bits - 1):
            raise OverflowError(v)  # numpy would wrap or refuse: not followed
        return out

    return conv


for _name, _bits in (("int64", 64), ("intp", 64), ("int32", 32)):
    STDLIB[f"numpy.{_name}"] = _np_scalar(_name, _int_in(_bits), to_float=False)
STDLIB["numpy.float64"] = _np_scalar("float64", float)  # (float32 compares and computes by NEP 50's rules: not followed)
STDLIB["numpy.pi"] = math.pi
STDLIB["numpy.e"] = math.e
STDLIB["numpy.inf"] = math.inf
STDLIB["numpy.ndarray"] = ExternalRef("numpy.ndarray")  # the array type: isinstance checks are answered
STDLIB_MODULES.add("numpy")


def _wraps(interp, args, kwargs, node):
    """``functools.wraps(f)``: a decorator that marks its function as wrapping ``f``."""
    wrapped = args[0] if args else kwargs.get("wrapped")

    def decorate(i, a, k, n):
        if len(a) == 1 and isinstance(a[0], FunctionVal):
            import copy

            out = copy.copy(a[0])  # (a lazily parsed function keeps its loader)
            out.wrapped = wrapped
            return out
        return a[0] if len(a) == 1 else Unknown("functools.wraps(...)()")

    return Builtin(WRAPS_DECORATOR, decorate)


WRAPS_DECORATOR = "functools.wraps()"
STDLIB["functools.wraps"] = Builtin("wraps", _wraps)
STDLIB["inspect.Parameter"] = INSPECT_PARAMETER
STDLIB["inspect._empty"] = INSPECT_EMPTY
STDLIB["inspect.isclass"] = Builtin("isclass", lambda i, a, k, n: isinstance(a[0], ClassVal) or isinstance(a[0], Builtin) and a[0].name in _PYTYPES if a and not isinstance(a[0], Unknown) else Unknown("isclass"))
STDLIB["inspect.isfunction"] = Builtin("isfunction", lambda i, a, k, n: isinstance(a[0], FunctionVal) if a and not isinstance(a[0], Unknown) else Unknown("isfunction"))
STDLIB_MODULES.add("inspect")
STDLIB_MODULES.update({"importlib", "importlib.util"})


__all__ = ["BUILTINS", "STDLIB", "STDLIB_MODULES", "Builtin", "LazyIter", "SUPER", "attr_of", "FunctionVal"]
