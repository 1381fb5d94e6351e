"""Framework values shared by every framework module: catalogue entries, layers, containers.

A framework module (``torch``, ``jax``, ``flax``, ``einops``) contributes a table ``CATALOGUE``
of qualified names → :class:`Op` (or :class:`FwClass`), and the shape functions behind them.
Each :class:`Op` is tagged once with its ``family`` (``conv``, ``pool``, ``resize``): every list
of "conv-family" callables (the CVL008 scan, ``--confirm``, the prefilter's test) derives from
these tags. The interpreter only ever talks to :class:`convlint.frameworks.Frameworks`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from convlint.arith.core import Window
from convlint.interpret.lattice import is_known, plain
from convlint.interpret.values import ClassVal, Instance
from convlint.interpret.symbolic import Sym
from convlint.interpret.values import Unknown

REQUIRED = object()


@dataclass(frozen=True)
class Signature:
    params: tuple  # ((name, default or REQUIRED), ...)

    @staticmethod
    def of(*params) -> Signature:
        out = []
        for p in params:
            if isinstance(p, tuple):
                out.append(p)
            else:
                out.append((p, REQUIRED))
        return Signature(tuple(out))

    def bind(self, args, kwargs) -> dict:
        """Map positional and keyword arguments to parameter names, defaults filled in.

        A missing required argument is an :class:`Unknown`; an unknown ``**kwargs`` makes every
        defaulted parameter unknown too (it might have been given).
        """
        out: dict = {}
        names = [p[0] for p in self.params]
        args = list(args)
        for (name, default), value in zip(self.params, args):
            out[name] = value
        for k, v in kwargs.items():
            if k in names:
                out[k] = v
        unknown_kw = "**" in kwargs
        for name, default in self.params:
            if name not in out:
                if unknown_kw:
                    out[name] = Unknown(f"{name} may come from **kwargs")
                else:
                    out[name] = Unknown(f"required argument {name!r} missing") if default is REQUIRED else default
        return out

    def index(self, name: str) -> int | None:
        for i, (n, _) in enumerate(self.params):
            if n == name:
                return i
        return None


@dataclass(eq=False)
class FwModule:
    """A framework or standard-library module as a value (``torch.nn``, ``jax.lax``, ``math``)."""

    qualname: str

    def __repr__(self):
        return f"<module {self.qualname}>"


FAMILIES = ("conv", "pool", "resize")

# Shape functions (a :class:`Layer`'s ``apply``) whose result has the shape of the tensor they are
# given, whatever the layer (an activation, dropout, identity): a name bound to one such layer on
# one path and to another on the other path (``act = nn.ReLU() if … else nn.ELU()``,
# ``get_act(config)`` returning one of several) gives a tensor of its input's shape either way, so
# one value stands for both (:meth:`Layer.join_with`). The torch catalogue adds its preserving
# layers' function and ``nn.Identity``'s (``torch.common``, ``torch.layers``).
SHAPE_PRESERVING: set = set()


def _alternatives(v) -> tuple:
    """The catalogue names a framework value may be: several for a join of them, else its own."""
    if isinstance(v, Layer):
        return v.extra.get("alternatives") or (v.op,)
    return v.alternatives or (v.qualname,)


@dataclass(eq=False)
class Op:
    """A catalogue entry: a framework callable and its shape function.

    ``kind`` is ``"layer"`` (calling it builds a :class:`Layer`), ``"function"`` (it computes on
    tensors) or ``"container"`` (``nn.Sequential``…). ``family`` tags the conv-family ops: ``"conv"``
    (direct and transposed convolutions), ``"pool"`` (pooling, adaptive pooling), ``"resize"``
    (upsampling, interpolation); None for everything else.
    """

    callable_value = True  # one of the values a OneOf may hold (interpret.values)

    qualname: str
    fn: Callable  # fn(interp, args, kwargs, node) -> value
    kind: str = "function"
    signature: Signature | None = None
    family: str | None = None
    # a join of catalogue functions that share one shape function (:meth:`join_with`): the names it
    # may be (its ``qualname`` then names none of them: its ``__name__`` is unknown)
    alternatives: tuple = ()

    def __repr__(self):
        return f"<{self.qualname}>"

    def join_with(self, other, site=None):
        """One value for a name that is ``self`` on one path and ``other`` on another, where one
        can stand for both: two catalogue functions with one shape function (``fn``, signature,
        family) compute the same result from the same arguments — ``F.relu`` or ``F.silu``,
        ``weight_norm`` or ``spectral_norm``. Only their names differ (its ``__name__`` is unknown,
        an ``is`` test against it undecided). Else None."""
        if not (isinstance(other, Op) and other.fn is self.fn and self.kind == other.kind == "function"
                and other.signature is self.signature and other.family == self.family):
            return None
        names = tuple(sorted(set(_alternatives(self)) | set(_alternatives(other))))
        if len(names) == 1:
            return self
        return Op(" | ".join(names), self.fn, "function", self.signature, self.family, alternatives=names)

    def stands_for_several(self) -> bool:
        """A join of several catalogue functions: ``is`` against one of them is undecided."""
        return bool(self.alternatives)


@dataclass(eq=False)
class FwClass:
    """A framework base class (``torch.nn.Module``, ``flax.linen.Module``)."""

    qualname: str
    framework: str


@dataclass(eq=False)
class VariableBox:
    """A framework variable read through ``.value`` (flax ``self.variable(...)``)."""

    value: Any


@dataclass(eq=False)
class Layer:
    """A framework layer built at ``site`` with resolved parameters."""

    callable_value = True  # one of the values a OneOf may hold (interpret.values)

    op: str
    params: dict
    site: Any
    framework: str
    apply: Callable  # apply(interp, layer, args, kwargs, node) -> value
    config: Any = None  # validated arithmetic (TorchConv, …) or None when unknown / invalid
    name: str | None = None
    extra: dict = field(default_factory=dict)

    def __repr__(self):
        return f"<layer {self.op}>"

    def join_with(self, other, site=None):
        """One layer for a name bound to ``self`` on one path and to ``other`` on another, where
        both apply a shape-preserving function (``get_act(config)`` returning ``nn.ReLU()`` or
        ``nn.ELU()``, ``nn.Dropout(p) if p else nn.Identity()``): applied, it gives a tensor of
        its input's shape, as either would (``self``'s function computes it). What may differ is
        not known on it — its parameters, its class (``isinstance`` against one of them is
        undecided) — only what both share (their ``training`` flag, the ``nn.Module`` methods).
        Else None."""
        if not (isinstance(other, Layer) and other.framework == self.framework and self.apply in SHAPE_PRESERVING
                and other.apply in SHAPE_PRESERVING):
            return None
        names = tuple(sorted(set(_alternatives(self)) | set(_alternatives(other))))
        params = {k: v for k, v in self.params.items() if k in other.params and _same(v, other.params[k])}
        attrs = {k: v for k, v in (self.extra.get("attrs") or {}).items()
                 if k in (other.extra.get("attrs") or {}) and _same(v, other.extra["attrs"][k])}
        extra = {"attrs": attrs, "joined": True}
        if self.extra.get("methods") is not None and self.extra.get("methods") is other.extra.get("methods"):
            extra["methods"] = self.extra["methods"]
        if len(names) > 1:
            extra["alternatives"] = names
        return Layer(names[0] if len(names) == 1 else " | ".join(names), params, self.site, self.framework, self.apply, extra=extra)

    def stands_for_several(self) -> bool:
        """A join of layers (:meth:`join_with`): ``is`` against one of them is undecided."""
        return bool(self.extra.get("joined"))


def _same(a, b) -> bool:
    """Plain values equal in type and value (a number, a string, a tuple of them)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, tuple):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    return plain(a) and a == b


@dataclass(eq=False)
class Container:
    """``nn.Sequential`` / ``nn.ModuleList`` / ``nn.ModuleDict``."""

    callable_value = True  # one of the values a OneOf may hold (interpret.values)

    kind: str  # "sequential" | "modulelist" | "moduledict"
    items: Any  # list, or dict for moduledict / OrderedDict-built Sequential
    site: Any
    name: str | None = None

    def values(self) -> list:
        return list(self.items.values()) if isinstance(self.items, dict) else list(self.items)


@dataclass(frozen=True)
class Device:
    """A tensor's device: convlint follows the CPU path, so ``x.device.type == "cuda"`` is False."""

    type: str = "cpu"
    index: Any = None

    def __repr__(self):
        return f"device(type={self.type!r})"


CPU = Device("cpu")


def is_int(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def known(*vals) -> bool:
    """No Unknown anywhere in the values (nested tuples, lists and dicts included)."""
    return all(is_known(v) for v in vals)


def as_tuple(v):
    """Lists to tuples, recursively: the frameworks accept both where convlint's arithmetic wants tuples."""
    if isinstance(v, (list, tuple)):
        return tuple(as_tuple(x) for x in v)
    return v


def window_out(w: Window, i):
    """A window's output size for an int or a symbolic size (the arithmetic core computes it); an
    unknown stays unknown."""
    if is_int(i) or isinstance(i, Sym):
        return w.output_size(i)
    return i if isinstance(i, Unknown) else Unknown("size")


def describe(v) -> str:
    if isinstance(v, Unknown):
        return "?"
    if isinstance(v, tuple) and v and all(x == v[0] for x in v):
        return str(v[0])
    return repr(v)


def framework_base(cls) -> Op | None:
    """The framework layer or container (``nn.Conv2d``, ``nn.Sequential``) a user class derives from, if any."""
    if not isinstance(cls, ClassVal):
        return None
    for c in cls.mro():
        for b in c.bases:
            if isinstance(b, Op) and b.kind in ("layer", "container"):
                return b
    return None


def container_of(v) -> Container | None:
    """``v`` as a container: an ``nn.Sequential``/``ModuleList``/``ModuleDict``, or an instance of a
    user subclass of one (``class TimestepEmbedSequential(nn.Sequential)``)."""
    if isinstance(v, Container):
        return v
    if isinstance(v, Instance):
        c = v.attrs.get("__container__")
        return c if isinstance(c, Container) else None
    return None
