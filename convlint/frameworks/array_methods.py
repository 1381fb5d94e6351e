"""Attributes and methods of jax arrays where they differ from torch tensors' (or are missing from
:mod:`convlint.frameworks.tensor_methods`): ``x.size`` is the element count, ``x.repeat`` is
``jnp.repeat``, ``x.cumsum()`` flattens, ``x.at[idx].set(v)`` keeps ``x``'s shape,
``x.reshape(2, -1)`` / ``x.reshape((2, -1))``, reductions with ``axis=``/``keepdims=``, ``x.T``,
``x.astype``, ``x.take``, ``x.swapaxes``, ``x.ravel``, ``x.squeeze(axis)``, ``x.dot``, …

:func:`attr` is consulted first for arrays of the ``jax`` and ``flax`` frameworks
(``tensor_methods.tensor_attr``); it returns ``MISSING`` for what it leaves to the shared table.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

from convlint.frameworks.base import is_int
from convlint.frameworks.jax import arrays as A
from convlint.frameworks.jax import numpy as N
from convlint.interpret import builtins as pyb
from convlint.interpret.tensor import Tensor
from convlint.interpret.values import MISSING, Unknown

__all__ = ["attr", "AtRef", "ATTRIBUTES", "METHODS"]

FRAMEWORKS = ("jax", "flax")


def attr(interp, t: Tensor, name: str):
    """``t.name`` for a jax array, or MISSING (the shared tensor table answers)."""
    if isinstance(t, AtRef):
        m = AT_METHODS.get(name)
        return pyb.Builtin(f"at.{name}", lambda i, a, k, n: m(i, t, a, k, n)) if m is not None else Unknown(f"x.at[...].{name}")
    a = ATTRIBUTES.get(name)
    if a is not None:
        return a(t)
    m = METHODS.get(name)
    if m is not None:
        return pyb.Builtin(f"Array.{name}", lambda i, a_, k, n: m(i, t, a_, k, n))
    return MISSING


@dataclass(eq=False)
class AtRef(Tensor):
    """``x.at`` (and ``x.at[idx]``): indexing it follows the index; ``.set``/``.add``/… give an
    array of ``x``'s shape, ``.get()`` the indexed one. ``base`` is ``x``."""

    base: Tensor | None = None


def _fields(t: Tensor) -> dict:
    return {f.name: getattr(t, f.name) for f in fields(Tensor)}


def _at(t: Tensor):
    return AtRef(**_fields(t), base=t)


def _at_update(i, t, a, k, n):
    return t.base if t.base is not None else Unknown("at")


def _at_get(i, t, a, k, n):
    return Tensor(**_fields(t))


AT_METHODS = {name: _at_update for name in ("set", "add", "multiply", "mul", "divide", "power", "min", "max", "apply")}
AT_METHODS["get"] = _at_get


ATTRIBUTES = {
    "size": lambda t: A.flattened_size(t) if t.shape is not None else Unknown("size"),
    "at": _at,
    "T": lambda t: N.transpose_to(t, None),
    "mT": lambda t: N.swap(t, -1, -2),
    "nbytes": lambda t: Unknown("nbytes"),
    "itemsize": lambda t: Unknown("itemsize"),
    "sharding": lambda t: Unknown("sharding"),
    "weak_type": lambda t: Unknown("weak_type"),
}


def _reduce(i, t, a, k, n):
    axis = a[0] if a else k.get("axis")
    keep = k.get("keepdims", False)
    return A.reduce(t, axis, keep)


def _cum(i, t, a, k, n):
    return A.along(t, a[0] if a else k.get("axis"), lambda d: d)


def _reshape(i, t, a, k, n):
    shape = a[0] if len(a) == 1 and isinstance(a[0], (tuple, list)) else (tuple(a) if a else k.get("shape"))
    if "*" in k:
        return t.derive(None)
    s = A.shape_arg(shape)
    return N.reshape_to(t, s) if s is not None else t.derive(None)


def _transpose(i, t, a, k, n):
    axes = a[0] if len(a) == 1 and isinstance(a[0], (tuple, list)) else (tuple(a) if a else k.get("axes"))
    return N.transpose_to(t, axes)


def _repeat(i, t, a, k, n):
    r = a[0] if a else k.get("repeats")
    axis = a[1] if len(a) > 1 else k.get("axis")
    if is_int(r):
        return A.along(t, axis, lambda d: A.mul(d, r))
    return A.along(t, axis, lambda d: Unknown("repeats"))


def _squeeze(i, t, a, k, n):
    return N.squeeze_axes(t, a[0] if a else k.get("axis"))


def _take(i, t, a, k, n):
    idx = A.as_array(a[0] if a else k.get("indices"))
    return N.take_along(t, idx, a[1] if len(a) > 1 else k.get("axis"))


def _swapaxes(i, t, a, k, n):
    if len(a) != 2:
        return t.derive(None)
    return N.swap(t, a[0], a[1])


def _ravel(i, t, a, k, n):
    return t.derive((A.flattened_size(t),)) if t.shape is not None else t.derive(None)


def _sort(i, t, a, k, n):
    return A.along(t, a[0] if a else k.get("axis", -1), lambda d: d)


def _dot(i, t, a, k, n):
    b = A.as_array(a[0]) if a else None
    if b is None or t.shape is None or b.shape is None:
        return t.derive(None)
    if len(b.shape) == 1:
        return t.derive(tuple(t.shape[:-1]))
    return t.derive(tuple(t.shape[:-1]) + tuple(b.shape[:-2]) + (b.shape[-1],))


def _clip(i, t, a, k, n):
    return A.elementwise(i, [t, *a[:2], k.get("min"), k.get("max")], n, "clip")


def _expand_dims(i, t, a, k, n):
    return N.expand(t, a[0] if a else k.get("axis"))


def _item(i, t, a, k, n):
    return Unknown("a value read from an array")


METHODS = {
    "reshape": _reshape,
    "transpose": _transpose,
    "repeat": _repeat,
    "squeeze": _squeeze,
    "take": _take,
    "swapaxes": _swapaxes,
    "ravel": _ravel,
    "flatten": _ravel,
    "cumsum": _cum,
    "cumprod": _cum,
    "sort": _sort,
    "argsort": _sort,
    "dot": _dot,
    "clip": _clip,
    "item": _item,
    "tolist": _item,
    "expand_dims": _expand_dims,
    "astype": lambda i, t, a, k, n: t,
    "block_until_ready": lambda i, t, a, k, n: t,
    "copy": lambda i, t, a, k, n: t,
    "conj": lambda i, t, a, k, n: t,
    "round": lambda i, t, a, k, n: t,
}
for _name in ("sum", "mean", "max", "min", "prod", "std", "var", "all", "any", "argmax", "argmin", "ptp"):
    METHODS[_name] = _reduce
