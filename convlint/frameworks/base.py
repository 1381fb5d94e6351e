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
from convlint.interpret.lattice import is_known
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


@dataclass(eq=False)
class Op:
    """A catalogue entry: a framework callable and its shape function.

    ``kind`` is ``"layer"`` (calling it builds a :class:`Layer`), ``"function"`` (it computes on
    tensors) or ``"container"`` (``nn.Sequential``…). ``family`` tags the conv-family ops: ``"conv"``
    (direct and transposed convolutions), ``"pool"`` (pooling, adaptive pooling), ``"resize"``
    (upsampling, interpolation); None for everything else.
    """

    qualname: str
    fn: Callable  # fn(interp, args, kwargs, node) -> value
    kind: str = "function"
    signature: Signature | None = None
    family: str | None = None

    def __repr__(self):
        return f"<{self.qualname}>"


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


@dataclass(eq=False)
class Container:
    """``nn.Sequential`` / ``nn.ModuleList`` / ``nn.ModuleDict``."""

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
