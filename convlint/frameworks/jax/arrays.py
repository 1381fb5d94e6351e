"""Array shape functions shared by ``jax.numpy``, ``jax.lax``, ``jax.nn``, flax and the array
methods: scalars and nested lists as arrays, axes, elementwise broadcasting of any number of
operands, reductions, joins, splits, makers.

Partial knowledge is kept per dimension: a dim that is an :class:`Unknown` stays in its place; a
shape of unknown rank (``None``) stays unknown; an operand of unknown shape makes the rank a lower
bound (:attr:`Tensor.exact_rank` False), which keeps the dims counted from the end. Nothing here
decides a finding: merges record :class:`MergeEvent` through :mod:`convlint.frameworks.shapes`.
"""

from __future__ import annotations

from convlint.frameworks import shapes as C
from convlint.frameworks.base import is_int
from convlint.interpret.lattice import is_known
from convlint.interpret.symbolic import Sym, is_size
from convlint.interpret.tensor import CHANNELS_LAST, Tensor
from convlint.interpret.values import Unknown

FW = "jax"


def new(shape, fw: str = FW) -> Tensor:
    """A fresh array (made from a literal shape): not on a model's data path."""
    return Tensor(None if shape is None else tuple(shape), CHANNELS_LAST, fresh=True, framework=fw)


def dim(v):
    """A size argument: an int or a symbolic size stays, anything else is an unknown size."""
    if is_int(v) or isinstance(v, Sym):
        return v
    return Unknown("size") if not isinstance(v, Unknown) else v


def shape_arg(v):
    """A shape argument (an int, or a tuple/list of sizes) → a tuple of dims, or None when even
    its length is unknown."""
    if is_int(v) or isinstance(v, Sym):
        return (v,)
    if isinstance(v, (tuple, list)):
        return tuple(dim(d) for d in v)
    if isinstance(v, Tensor) and v.shape is not None and len(v.shape) == 1 and is_int(v.shape[0]):
        return tuple(Unknown("shape from an array's values") for _ in range(v.shape[0]))
    return None


def nested_shape(v, depth=0):
    """The shape of a nested list/tuple of scalars or arrays (``jnp.array([[1, 2], [3, 4]])``),
    None when not known."""
    if isinstance(v, Tensor):
        return v.shape
    if isinstance(v, (bool, int, float, complex)) or isinstance(v, Sym):
        return ()
    if isinstance(v, (list, tuple)) and depth < 8:
        if not v:
            return (0,)
        subs = [nested_shape(x, depth + 1) for x in v]
        if any(s is None for s in subs):
            return None
        first = subs[0]
        if all(len(s) == len(first) for s in subs):
            out = []
            for i in range(len(first)):
                col = [s[i] for s in subs]
                out.append(col[0] if all(C.dims_equal(col[0], c) for c in col) else Unknown("ragged"))
            return (len(v), *out)
        return None
    return None


def as_array(v, fw: str = FW) -> Tensor | None:
    """An array argument as a :class:`Tensor`: a tensor stays; a Python number is 0-d; a nested
    list has its nesting's shape; None when not known."""
    if isinstance(v, Tensor):
        return v
    s = nested_shape(v)
    if s is None:
        return None
    ts = [x for x in _flat(v) if isinstance(x, Tensor)]
    if ts:
        base = max(ts, key=lambda t: len(t.downs))
        return base.derive(tuple(s))
    return new(s, fw)


def _flat(v, depth=0):
    if isinstance(v, (list, tuple)) and depth < 8:
        for x in v:
            yield from _flat(x, depth + 1)
    else:
        yield v


def unknown_like(x: Tensor | None, why: str):
    """The result of an op whose rank is not known."""
    return x.derive(None) if isinstance(x, Tensor) else Tensor(None, framework=FW)


def norm_axis(axis, n):
    """A (possibly negative) axis of a rank-``n`` shape → 0..n-1, or None when out of range / unknown."""
    if not is_int(axis) or n is None:
        return None
    if -n <= axis < n:
        return axis % n
    return None


def axes_tuple(axis):
    """``axis`` as a tuple of ints, or None when not known."""
    if is_int(axis):
        return (axis,)
    if isinstance(axis, (tuple, list)) and all(is_int(a) for a in axis):
        return tuple(axis)
    return None


def front_ok(x: Tensor, axes) -> bool:
    """Axes that count from the front address the right dims only when the rank is exact."""
    return x.exact_rank or all(a < 0 for a in axes)


def with_dims(x: Tensor, shape, label=None) -> Tensor:
    """``x`` with a new shape, keeping an inexact rank inexact."""
    out = x.derive(None if shape is None else tuple(shape), label=label)
    out.exact_rank = x.exact_rank
    return out


def all_unknown(x: Tensor, n: int, why: str) -> Tensor:
    out = x.derive(tuple(Unknown(why) for _ in range(n)))
    out.exact_rank = x.exact_rank
    return out


# ---------------------------------------------------------------------------------- elementwise

def elementwise(interp, values, node, label: str):
    """Elementwise with numpy broadcasting over any number of operands (``jnp.add``,
    ``jnp.where``, ``lax.clamp``); Python scalars broadcast; an operand of unknown shape keeps
    the dims it cannot change. Pairs of arrays record a merge."""
    site = interp.site(node) if node is not None else None
    arrays = []
    scalars = unknown = False
    for v in values:
        if v is None:
            continue
        if isinstance(v, (bool, int, float, complex)) or isinstance(v, Sym):
            scalars = True
            continue
        t = as_array(v)
        if t is None:
            unknown = True
            continue
        arrays.append(t)
    if not arrays:
        return new(()) if scalars and not unknown else Unknown(f"{label} of unknown operands")
    tensors = arrays
    out = tensors[0]
    for t in tensors[1:]:
        out = broadcast_pair(interp, out, t, site, label)
    if unknown:
        out = C.broadcast_unknown(out)
    return out


def broadcast_pair(interp, a: Tensor, b: Tensor, site, label: str) -> Tensor:
    if a.shape is not None and b.shape is not None:
        if a.shape == () and a.fresh:  # a Python scalar made an array
            return b
        if b.shape == () and b.fresh:
            return a
    return C.broadcast_pair(interp, a, b, site, label)


def broadcast_shapes(shapes):
    """numpy broadcasting of shapes without recording anything (``jnp.broadcast_shapes``)."""
    if any(s is None for s in shapes):
        return None
    n = max((len(s) for s in shapes), default=0)
    out = []
    for i in range(n):
        col = [s[len(s) - n + i] for s in shapes if len(s) - n + i >= 0]
        big = [d for d in col if not (is_int(d) and d == 1)]
        if not big:
            out.append(1)
        elif all(C.dims_equal(big[0], d) for d in big):
            out.append(big[0])
        else:
            known_dims = [d for d in big if not isinstance(d, Unknown)]
            out.append(known_dims[0] if known_dims and all(C.dims_equal(known_dims[0], d) for d in known_dims) else Unknown("broadcast"))
    return tuple(out)


# ---------------------------------------------------------------------------------- reductions

def reduce(x, axis, keepdims=False, label=None):
    """A reduction over ``axis`` (None: all, int, tuple): the axes go, or stay as 1 with
    ``keepdims``. A whole-array reduction is a 0-d array."""
    x = as_array(x) if not isinstance(x, Tensor) else x
    if x is None:
        return Unknown("reduction of an unknown value")
    if keepdims not in (True, False):
        return x.derive(None) if axis is not None or x.shape is None else all_unknown(x, len(x.shape), "keepdims")
    if axis is None:
        if not keepdims:
            return Tensor((), x.layout, framework=x.framework or FW)
        if x.shape is None or not x.exact_rank:
            return x.derive(None)
        return x.derive(tuple(1 for _ in x.shape), label=label)
    axes = axes_tuple(axis)
    if x.shape is None:
        return x.derive(None)
    n = len(x.shape)
    if axes is None:
        return x.derive(None)
    if not front_ok(x, axes):
        return all_unknown(x, n if keepdims else n - len(set(axes)), "reduced axis")
    idx = {norm_axis(a, n) for a in axes}
    if None in idx:
        return x.derive(None)
    if keepdims:
        return with_dims(x, tuple(1 if i in idx else d for i, d in enumerate(x.shape)), label)
    return with_dims(x, tuple(d for i, d in enumerate(x.shape) if i not in idx), label)


def flattened_size(x: Tensor):
    return C.numel(x.shape) if x.shape is not None and x.exact_rank else Unknown("size of the flattened array")


def along(x: Tensor, axis, fn, label=None):
    """Replace the size of one axis: ``fn(size) -> new size``; axis None flattens first."""
    if x.shape is None:
        return x.derive(None)
    if axis is None:
        return x.derive((fn(flattened_size(x)),), label=label)
    if not is_int(axis):
        return all_unknown(x, len(x.shape), "axis")
    n = len(x.shape)
    if not front_ok(x, (axis,)):
        return all_unknown(x, n, "axis")
    a = norm_axis(axis, n)
    if a is None:
        return x.derive(None)
    s = list(x.shape)
    s[a] = fn(s[a])
    return with_dims(x, s, label)


def size_expr(v):
    """An int or symbolic size, or an unknown."""
    return v if is_size(v) else Unknown("size")


def add(a, b):
    return a + b if is_size(a) and is_size(b) else Unknown("size")


def mul(a, b):
    if is_int(a) and is_int(b):
        return a * b
    if is_size(a) and is_int(b) or is_int(a) and is_size(b):
        return a * b
    return Unknown("size")


def known_ints(*vals) -> bool:
    return all(is_int(v) for v in vals)


def known_value(v) -> bool:
    return is_known(v)
