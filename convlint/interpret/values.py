"""Abstract values of the interpreter.

Known Python values are plain Python objects (ints, strings, tuples, lists, dicts — so
``append``/``reverse`` and aliasing behave as in Python); everything else is one of the classes
below. :class:`Unknown` spreads through every operation and never becomes a guess.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import libcst as cst


class Unknown:
    """A value the interpreter could not determine; ``reason`` says why, and ``site`` (set by the
    interpreter when the value first comes out of an expression) says where it was lost — the root
    cause that ``convlint shapes`` and CVL008 report."""

    __slots__ = ("reason", "site", "cause")

    def __init__(self, reason: str = "unknown", site=None, cause=None):
        self.reason = reason
        self.site = site
        self.cause = cause  # the unknown this one follows from (an unknown input, an unknown callee)

    def at(self, site) -> Unknown:
        """This unknown, located at ``site`` if it has no location yet."""
        return self if self.site is not None else type(self)(self.reason, site, self.cause)

    def root(self) -> Unknown:
        """The first unknown of the chain this one follows from: where the engine lost track."""
        u, seen = self, 0
        while isinstance(u.cause, Unknown) and seen < 64:
            u, seen = u.cause, seen + 1
        return u

    def __repr__(self) -> str:
        return f"Unknown({self.reason!r})"

    def __bool__(self):  # pragma: no cover - guarded by the interpreter
        raise TypeError("truth value of an Unknown")


class UnknownNumber(Unknown):
    """A number (an int, a float or a bool) whose value is not known — two paths gave different
    numbers (``eps = 1e-5 if x.dtype == torch.float32 else 1e-3``), or arithmetic on such a one.
    It is an :class:`Unknown` everywhere; a tensor combined with it keeps its shape, as with any
    number."""

    __slots__ = ()


class UnknownItems(Unknown):
    """Where a list was extended by items convlint cannot list (``todo += list(unknown)``,
    ``lst.extend(unknown)``): the list keeps its identity (aliases see the change), its known
    items stay, and its length is unknown from then on."""

    __slots__ = ()


class OneOf(Unknown):
    """One of a few values that may be called — a name two paths bound to different modules,
    functions or classes (``self.drop_path = DropPath(p) if p > 0 else nn.Identity()``), or to one
    of them and ``None``. It is an :class:`Unknown` everywhere (an attribute of it, a test of it,
    its use as data) except where it is called: calling it calls each option from the same state,
    as the two paths of a branch run, and joins what they give
    (:meth:`~convlint.interpret.calls.CallEvaluator.call`); ``None`` among them is a path that
    cannot go on (calling it raises). Made by :func:`~convlint.interpret.lattice.join`."""

    __slots__ = ("options",)

    def __init__(self, options, site=None, reason: str = "one of several values (differs between branches)"):
        super().__init__(reason, site)
        self.options = tuple(options)

    def at(self, site) -> OneOf:
        return self if self.site is not None else OneOf(self.options, site, self.reason)


def may_be_called(v) -> bool:
    """A value :class:`OneOf` may hold: ``None`` or one whose class says it may be called
    (``callable_value``: user functions, classes, instances, bound methods, partials, and the
    framework's layers, containers and catalogue callables)."""
    return v is None or getattr(type(v), "callable_value", False)


def numeric(v) -> bool:
    """A number, known or not (an :class:`UnknownNumber`)."""
    return type(v) in (int, float, bool) or type(v) is UnknownNumber


def is_unknown(v) -> bool:
    return isinstance(v, Unknown)


@dataclass(eq=False)
class Site:
    """Where something was built or called: a CST node in a module of the project."""

    module: Any  # ModuleInfo
    node: cst.CSTNode

    @property
    def path(self) -> str:
        return self.module.path


@dataclass(eq=False)
class Origin:
    """Where a value passed to a call was written: ``site`` is the argument's expression and
    ``call`` the call that passes it — the outermost call in the user's code when helpers pass the
    value on unchanged (``def WNConv1d(*a, **k): return weight_norm(nn.Conv1d(*a, **k))``)."""

    site: Site
    call: Site
    # for a parameter the function uses several times (its own wiring, so ``call`` is in the
    # function): where the caller wrote the value, for a finding about a layer whose code is right
    # in its other uses (:func:`convlint.interpret.events.where_supplied` with ``via``)
    via: Any = None


@dataclass(eq=False)
class Wiring:
    """A parameter's :class:`Origin` kept aside: the function uses it several times."""

    origin: Origin


@dataclass(eq=False)
class FunctionVal:
    callable_value = True  # one of the values a OneOf may hold
    node: cst.FunctionDef | cst.Lambda
    module: Any  # ModuleInfo
    closure: Any  # Scope the function was defined in
    defaults: dict[str, Any]
    name: str
    qualname: str
    owner: Any = None  # ClassVal for methods
    decorators: tuple[str, ...] = ()
    wrapped: Any = None  # ``functools.wraps(f)``: the function this one wraps (``__wrapped__``)

    def __repr__(self) -> str:
        return f"<function {self.qualname}>"


class LazyFunctionVal(FunctionVal):
    """A function of an imported module whose body was not parsed with its header (see
    :meth:`convlint.source.project.ParsedModule.statement`): ``node`` is the complete
    ``FunctionDef``, parsed on first use; until then only the header was needed."""

    def __init__(self, load, *args, **kwargs):
        self._load = load
        self.defaults_of = None  # with a skeleton whose parameters were left out too: full node -> defaults
        super().__init__(*args, **kwargs)

    @property
    def node(self):
        load = self.__dict__.get("_load")
        if load is not None:
            self._load = None
            self._node = load(self._node)
        return self._node

    @node.setter
    def node(self, value) -> None:
        self._node = value

    @property
    def defaults(self):
        of = self.__dict__.get("defaults_of")
        if of is not None:
            self.defaults_of = None
            self._defaults = of(self.node)
        return self._defaults

    @defaults.setter
    def defaults(self, value) -> None:
        self._defaults = value


@dataclass(eq=False)
class PartialSeq:
    """A tuple or list whose first items are known and the rest are not: ``tuple(inputs) +
    tuple(params)`` with ``params`` unknown, or the ``*args`` of a call given ``*unknown``.
    Indexing and slicing within the known items give them; its length, its other items and
    iterating it are unknown."""

    prefix: tuple

    def item(self, key):
        """``self[key]`` for an int or a slice, or None when it depends on the unknown items."""
        n = len(self.prefix)
        if isinstance(key, bool):
            return None
        if isinstance(key, int):
            return self.prefix[key] if 0 <= key < n else None
        if isinstance(key, slice) and key.step in (None, 1):
            start = 0 if key.start is None else key.start
            if not isinstance(start, int) or isinstance(start, bool) or start < 0:
                return None
            if key.stop is None:
                return PartialSeq(self.prefix[start:])
            if isinstance(key.stop, int) and not isinstance(key.stop, bool) and 0 <= key.stop <= n:
                return self.prefix[start:key.stop]
        return None


@dataclass(eq=False)
class MethodDescriptor:
    """A function in a class body under ``@property``, ``@staticmethod`` or ``@classmethod``:
    how attribute access binds it differs from a plain method."""

    kind: str  # "property" | "staticmethod" | "classmethod"
    func: FunctionVal


DICT_BASES = frozenset({"dict", "OrderedDict", "defaultdict", "UserDict"})


def dict_base(cls: "ClassVal") -> bool:
    """Whether a user class derives from ``dict`` (or ``OrderedDict``): its instances hold items."""
    for c in cls.mro():
        for b in c.bases:
            if not isinstance(b, ClassVal) and getattr(b, "name", None) in DICT_BASES:
                return True
    return False


def mapping_of(v):
    """The items of a dict-subclass instance whose class leaves item access to ``dict``; else ``v``."""
    if isinstance(v, Instance) and v.data is not None and v.cls.lookup("__getitem__")[0] is MISSING:
        return v.data
    return v


def unwrap(v):
    """The function behind a method descriptor (for lookups that do not bind)."""
    return v.func if isinstance(v, MethodDescriptor) else v


@dataclass(eq=False)
class ClassVal:
    callable_value = True  # one of the values a OneOf may hold
    node: cst.ClassDef | None
    module: Any
    name: str
    bases: list
    attrs: dict[str, Any] = field(default_factory=dict)
    framework: str | None = None  # "torch" / "flax" when it derives from nn.Module
    fields: list[tuple[str, Any]] = field(default_factory=list)  # flax dataclass fields (name, default or MISSING)

    def lookup(self, name: str):
        for cls in self.mro():
            if name in cls.attrs:
                return cls.attrs[name], cls
        return MISSING, None

    def mro(self) -> list[ClassVal]:
        out: list[ClassVal] = []
        stack = [self]
        while stack:
            c = stack.pop(0)
            if c in out:
                continue
            out.append(c)
            stack.extend(b for b in c.bases if isinstance(b, ClassVal))
        return out

    def __repr__(self) -> str:
        return f"<class {self.name}>"


@dataclass(eq=False)
class Instance:
    callable_value = True  # one of the values a OneOf may hold
    cls: ClassVal
    attrs: dict[str, Any] = field(default_factory=dict)
    setup_done: bool = False
    # an instance of a subclass of ``dict`` / ``OrderedDict``: its items (a real dict of values)
    data: dict | None = None

    def __repr__(self) -> str:
        return f"<{self.cls.name} instance>"


@dataclass(eq=False)
class BoundMethod:
    callable_value = True  # one of the values a OneOf may hold
    func: Any
    self_val: Any


@dataclass(eq=False)
class PartialVal:
    callable_value = True  # one of the values a OneOf may hold
    func: Any
    args: list
    kwargs: dict


@dataclass(eq=False)
class ExternalRef:
    """A name from an imported package that is not in the framework catalogue (e.g. ``torch.optim``)."""

    qualname: str


@dataclass(eq=False)
class SuperVal:
    cls: ClassVal
    self_val: Any


class _Missing:
    def __repr__(self):
        return "MISSING"


MISSING = _Missing()
