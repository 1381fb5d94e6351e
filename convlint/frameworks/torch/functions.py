"""Tensor functions: the ``torch.*`` functions that compute on tensors, shared with the ``Tensor``
methods of the same name (:mod:`convlint.frameworks.tensor_methods` calls them with the tensor as
the first argument).

:data:`FUNCTIONS` maps a name to ``fn(interp, args, kwargs, node)`` (the ``torch.name`` calling
convention: the tensor first); :data:`SAME_SHAPE` lists the functions whose result has their
input's shape (elementwise math, activations, in-place fills…). Every function keeps the facts it
can: a dim it cannot compute is unknown, the others stay (see ``Tensor.exact_rank``).
"""

from __future__ import annotations

import math

from convlint.arith.core import Window
from convlint.frameworks import shapes as C
from convlint.frameworks.base import Signature, is_int
from convlint.frameworks.torch.common import (
    FRAMEWORK, add, as_dims, axis, channel_check, elementwise, mul, new_tensor, reject,
    sizes_from_args, tensor_arg, unknown_dims,
)
from convlint.interpret.events import SizeEvent
from convlint.interpret.symbolic import Sym, exact_div, is_size
from convlint.interpret.tensor import CHANNELS_FIRST, Tensor
from convlint.interpret.values import Unknown

FUNCTIONS: dict = {}
SAME_SHAPE: set = set()


def fn(*names):
    def deco(f):
        for n in names:
            FUNCTIONS[n] = f
        return f

    return deco


def _tensor(v) -> bool:
    return isinstance(v, Tensor)


def _unknown_like(x, why="unknown result"):
    """A result of unknown shape (a tensor, so that its methods still apply)."""
    if isinstance(x, Tensor):
        out = x.derive(None)
        out.exact_rank = True
        return out
    return Tensor(None, CHANNELS_FIRST, framework=FRAMEWORK)


def _exact(t: Tensor) -> Tensor:
    t.exact_rank = True
    return t


def _named(items, fields):
    return C.NamedResult(tuple(items), fields)


def _numel(x: Tensor):
    if x.shape is None or not x.exact_rank:
        return Unknown("element count")
    return C.numel(x.shape)


def _dim_list(v):
    """``dim`` as a tuple of ints, None for "all dims", or Unknown."""
    if v is None or (isinstance(v, (tuple, list)) and len(v) == 0):
        return None
    if is_int(v):
        return (v,)
    if isinstance(v, (tuple, list)) and all(is_int(d) for d in v):
        return tuple(v)
    return Unknown("dim")


# ===================================================================================== elementwise

UNARY = (
    "abs", "absolute", "acos", "arccos", "acosh", "arccosh", "asin", "arcsin", "asinh", "arcsinh", "atan", "arctan", "atanh", "arctanh",
    "angle", "bitwise_not", "ceil", "conj", "conj_physical", "cos", "cosh", "deg2rad", "digamma", "erf", "erfc", "erfinv", "exp", "exp2",
    "expm1", "fix", "floor", "frac", "i0", "isfinite", "isinf", "isnan", "isneginf", "isposinf", "isreal", "lgamma", "log", "log10",
    "log1p", "log2", "logical_not", "logit", "nan_to_num", "neg", "negative", "positive", "rad2deg", "reciprocal", "relu", "round",
    "rsqrt", "sgn", "sigmoid", "sign", "signbit", "sin", "sinc", "sinh", "sqrt", "square", "tan", "tanh", "trunc", "selu", "celu",
    "rrelu", "hardshrink", "threshold", "mvlgamma", "clone", "detach", "resolve_conj", "resolve_neg", "fill", "zero_", "bernoulli",
    "poisson", "softmax", "log_softmax", "logcumsumexp", "cumsum", "cumprod", "roll", "flip", "fliplr", "flipud", "tril", "triu",
    "dropout", "feature_dropout", "alpha_dropout", "feature_alpha_dropout", "masked_fill", "masked_scatter", "index_fill", "index_copy",
    "index_add", "index_reduce", "index_put", "scatter", "scatter_add", "scatter_reduce", "put", "diagonal_scatter", "select_scatter",
    "slice_scatter", "as_strided_scatter", "renorm", "prelu", "matrix_exp", "matrix_power", "inverse", "cholesky", "cholesky_inverse",
    "embedding_renorm_", "real", "imag", "dequantize", "int_repr", "relu_", "to_dense",
)
for _n in UNARY:
    SAME_SHAPE.add(_n)
    if not _n.endswith("_"):
        SAME_SHAPE.add(_n + "_")


@fn("polygamma")
def _polygamma(interp, args, kwargs, node):
    """``torch.polygamma(n, input)``: the tensor is the second argument."""
    x = args[1] if len(args) > 1 else kwargs.get("input", Unknown("input"))
    return x if isinstance(x, (Tensor, Unknown)) else new_tensor(())


def _binary(label, *names):
    sig = Signature.of("input", "other", *(n for n in names))

    def f(interp, args, kwargs, node):
        p = sig.bind(args, kwargs)
        return elementwise(interp, node, label, p["input"], p["other"])

    return f


BINARY = (
    "add", "sub", "subtract", "mul", "multiply", "div", "divide", "true_divide", "floor_divide", "remainder", "fmod", "pow",
    "float_power", "atan2", "arctan2", "hypot", "copysign", "nextafter", "ldexp", "xlogy", "heaviside", "igamma", "igammac", "gcd",
    "lcm", "logaddexp", "logaddexp2", "fmax", "fmin", "maximum", "minimum", "eq", "ne", "not_equal", "lt", "less", "le", "less_equal",
    "gt", "greater", "ge", "greater_equal", "bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_left_shift", "bitwise_right_shift",
    "logical_and", "logical_or", "logical_xor", "isclose", "rsub", "complex", "polar", "binomial",
)
for _n in BINARY:
    FUNCTIONS[_n] = _binary(f"torch.{_n}")


def _ternary(label, first, *rest, defaults=()):
    sig = Signature.of(first, *rest, *defaults)
    names = [n[0] if isinstance(n, tuple) else n for n in (first, *rest)]

    def f(interp, args, kwargs, node):
        p = sig.bind(args, kwargs)
        return elementwise(interp, node, label, *(p[n] for n in names))

    return f


FUNCTIONS["lerp"] = _ternary("torch.lerp", "input", "end", "weight")
FUNCTIONS["addcmul"] = _ternary("torch.addcmul", "input", "tensor1", "tensor2", defaults=(("value", 1),))
FUNCTIONS["addcdiv"] = _ternary("torch.addcdiv", "input", "tensor1", "tensor2", defaults=(("value", 1),))
for _n in ("clamp", "clip"):
    FUNCTIONS[_n] = _ternary(f"torch.{_n}", "input", ("min", None), ("max", None))
FUNCTIONS["clamp_min"] = _ternary("torch.clamp_min", "input", "min")
FUNCTIONS["clamp_max"] = _ternary("torch.clamp_max", "input", "max")
for _n in ("clamp_", "clip_", "clamp_min_", "clamp_max_"):
    SAME_SHAPE.add(_n)


@fn("where")
def _where(interp, args, kwargs, node):
    p = Signature.of("condition", ("input", None), ("other", None)).bind(args, kwargs)
    if p["input"] is None and p["other"] is None and len(args) <= 1:
        return _nonzero_tuple(p["condition"])  # torch.where(cond): the indices of the true elements
    return elementwise(interp, node, "torch.where", p["condition"], p["input"], p["other"])


@fn("frexp")
def _frexp(interp, args, kwargs, node):
    x = tensor_arg(args, kwargs)
    return _named((x, x.derive(x.shape) if _tensor(x) else x), ("mantissa", "exponent"))


@fn("native_dropout")
def _native_dropout(interp, args, kwargs, node):
    x = tensor_arg(args, kwargs)
    return (x, x.derive(x.shape) if _tensor(x) else x)


@fn("dist")
def _dist(interp, args, kwargs, node):
    p = Signature.of("input", "other", ("p", 2)).bind(args, kwargs)
    elementwise(interp, node, "torch.dist", p["input"], p["other"])
    return new_tensor(())


# ===================================================================================== reductions

def reduce_dims(x, dims, keepdim):
    """``x`` reduced over ``dims`` (None: every dim)."""
    if not _tensor(x):
        return Unknown("reduction of an unknown") if isinstance(x, Unknown) else new_tensor(())
    dims = _dim_list(dims)
    if keepdim not in (True, False):
        return _unknown_like(x)
    if dims is None:
        if not keepdim:
            return Tensor((), x.layout, framework=x.framework)
        if x.shape is None:
            return _unknown_like(x)
        return x.derive(tuple(1 for _ in x.shape))
    if isinstance(dims, Unknown) or x.shape is None:
        return _unknown_like(x)
    n = len(x.shape)
    if n == 0 and all(d in (0, -1) for d in dims):
        return x  # a 0-d tensor reduced over "dim 0"
    axes = [axis(x, d) for d in dims]
    if any(a is None for a in axes):
        k = n if keepdim else n - len(dims)
        return x.derive(unknown_dims(max(k, 0), "reduced dims not placed"))
    axes = set(axes)
    if keepdim:
        return x.derive(tuple(1 if i in axes else d for i, d in enumerate(x.shape)))
    return x.derive(tuple(d for i, d in enumerate(x.shape) if i not in axes))


_DIM_SIG = Signature.of("input", ("dim", None), ("keepdim", False))


@fn("sum", "mean", "nansum", "nanmean", "amax", "amin", "all", "any", "argmax", "argmin", "logsumexp", "prod")
def _reduction(interp, args, kwargs, node):
    p = _DIM_SIG.bind(args, kwargs)
    return reduce_dims(p["input"], p["dim"], p["keepdim"])


@fn("count_nonzero")
def _count_nonzero(interp, args, kwargs, node):
    p = Signature.of("input", ("dim", None)).bind(args, kwargs)
    return reduce_dims(p["input"], p["dim"], False)


def _pair_reduction(fields):
    """``max``/``min``/``median``/``nanmedian``: the whole tensor (0-d), a ``(values, indices)`` pair
    along ``dim``, or (max/min with a tensor) the elementwise maximum."""

    def f(interp, args, kwargs, node):
        p = Signature.of("input", ("dim", None), ("keepdim", False)).bind(args, kwargs)
        x, d = p["input"], p["dim"]
        if _tensor(d) or "other" in kwargs:
            return elementwise(interp, node, "torch.maximum", x, kwargs.get("other", d))
        if d is None:
            return reduce_dims(x, None, False)
        out = reduce_dims(x, d, p["keepdim"])
        return _named((out, out.derive(out.shape) if _tensor(out) else out), fields)

    return f


FUNCTIONS["max"] = FUNCTIONS["min"] = FUNCTIONS["median"] = FUNCTIONS["nanmedian"] = _pair_reduction(("values", "indices"))


@fn("mode")
def _mode(interp, args, kwargs, node):
    p = Signature.of("input", ("dim", -1), ("keepdim", False)).bind(args, kwargs)
    out = reduce_dims(p["input"], p["dim"], p["keepdim"])
    return _named((out, out.derive(out.shape) if _tensor(out) else out), ("values", "indices"))


@fn("kthvalue")
def _kthvalue(interp, args, kwargs, node):
    p = Signature.of("input", "k", ("dim", -1), ("keepdim", False)).bind(args, kwargs)
    out = reduce_dims(p["input"], p["dim"], p["keepdim"])
    return _named((out, out.derive(out.shape) if _tensor(out) else out), ("values", "indices"))


def _std_args(args, kwargs):
    """``std``/``var``: ``(input, dim, unbiased, keepdim)``, ``(input, unbiased)``, or ``dim=``,
    ``correction=``, ``keepdim=`` keywords."""
    x = tensor_arg(args, kwargs)
    rest = list(args[1:])
    if rest and isinstance(rest[0], bool):
        return x, None, kwargs.get("keepdim", False)  # std(unbiased): every element
    dim = rest[0] if rest else kwargs.get("dim")
    keep = rest[2] if len(rest) > 2 else kwargs.get("keepdim", False)
    return x, dim, keep


@fn("std", "var")
def _std(interp, args, kwargs, node):
    x, dim, keep = _std_args(args, kwargs)
    return reduce_dims(x, dim, keep)


@fn("std_mean", "var_mean")
def _std_mean(interp, args, kwargs, node):
    x, dim, keep = _std_args(args, kwargs)
    out = reduce_dims(x, dim, keep)
    return (out, out.derive(out.shape) if _tensor(out) else out)


@fn("aminmax")
def _aminmax(interp, args, kwargs, node):
    x = tensor_arg(args, kwargs)
    out = reduce_dims(x, kwargs.get("dim"), kwargs.get("keepdim", False))
    return _named((out, out.derive(out.shape) if _tensor(out) else out), ("min", "max"))


@fn("norm")
def _norm(interp, args, kwargs, node):
    p = Signature.of("input", ("p", "fro"), ("dim", None), ("keepdim", False), ("dtype", None)).bind(args, kwargs)
    return reduce_dims(p["input"], p["dim"], p["keepdim"])


@fn("frobenius_norm")
def _frobenius(interp, args, kwargs, node):
    p = Signature.of("input", ("dim", (-2, -1)), ("keepdim", False)).bind(args, kwargs)
    return reduce_dims(p["input"], p["dim"], p["keepdim"])


@fn("nuclear_norm")
def _nuclear(interp, args, kwargs, node):
    x = tensor_arg(args, kwargs)
    rest = list(args[1:])
    dim = rest[0] if rest and not isinstance(rest[0], bool) else kwargs.get("dim", (-2, -1))
    keep = kwargs.get("keepdim", rest[-1] if rest and isinstance(rest[-1], bool) else False)
    return reduce_dims(x, dim, keep)


@fn("quantile", "nanquantile")
def _quantile(interp, args, kwargs, node):
    p = Signature.of("input", "q", ("dim", None), ("keepdim", False)).bind(args, kwargs)
    out = reduce_dims(p["input"], p["dim"], p["keepdim"])
    q = p["q"]
    if _tensor(q):
        if q.shape is None or not _tensor(out) or out.shape is None:
            return _unknown_like(out)
        if len(q.shape) == 1:
            return out.derive((q.shape[0],) + tuple(out.shape))
    return out


@fn("hash_tensor")
def _hash_tensor(interp, args, kwargs, node):
    p = Signature.of("input", ("dim", None), ("keepdim", False)).bind(args, kwargs)
    return reduce_dims(p["input"], p["dim"], p["keepdim"])


@fn("trace")
def _trace(interp, args, kwargs, node):
    return new_tensor(())


@fn("det", "logdet")
def _det(interp, args, kwargs, node):
    return _batch_of(tensor_arg(args, kwargs), 2)


@fn("slogdet")
def _slogdet(interp, args, kwargs, node):
    out = _batch_of(tensor_arg(args, kwargs), 2)
    return _named((out, out.derive(out.shape) if _tensor(out) else out), ("sign", "logabsdet"))


def _batch_of(x, k):
    """The batch dims of ``x`` before its last ``k`` dims."""
    if not _tensor(x):
        return Unknown("batch dims")
    if x.shape is None or len(x.shape) < k:
        return _unknown_like(x)
    return x.derive(tuple(x.shape[: len(x.shape) - k]))


# ----------------------------------------------------------------------------- cumulative, sorting, selection

@fn("cummax", "cummin")
def _cummax(interp, args, kwargs, node):
    x = tensor_arg(args, kwargs)
    return _named((x, x.derive(x.shape) if _tensor(x) else x), ("values", "indices"))


@fn("sort")
def _sort(interp, args, kwargs, node):
    x = tensor_arg(args, kwargs)
    return _named((x, x.derive(x.shape) if _tensor(x) else x), ("values", "indices"))


@fn("argsort", "msort")
def _argsort(interp, args, kwargs, node):
    return tensor_arg(args, kwargs)


def _replace_dim(x, d, size, why):
    """``x`` with dim ``d`` replaced by ``size``; unknown dims where ``d`` cannot be placed."""
    if not _tensor(x):
        return Unknown(why)
    if x.shape is None:
        return _unknown_like(x)
    a = axis(x, d)
    if a is None:
        return x.derive(unknown_dims(len(x.shape), why))
    return x.derive(tuple(x.shape[:a]) + (size if is_size(size) else Unknown(why),) + tuple(x.shape[a + 1 :]))


@fn("topk")
def _topk(interp, args, kwargs, node):
    p = Signature.of("input", "k", ("dim", -1), ("largest", True), ("sorted", True)).bind(args, kwargs)
    x, k = p["input"], p["k"]
    if _tensor(x) and x.shape is not None:
        a = axis(x, p["dim"])
        if a is not None and is_int(k) and is_int(x.shape[a]) and k > x.shape[a]:
            reject(interp, interp.site(node), "torch.topk", f"k={k} is larger than dim {p['dim']} of size {x.shape[a]}", "k <= the dim's size", "k")
    out = _replace_dim(x, p["dim"], k, "topk")
    if _tensor(x) and x.shape == ():
        out = x
    return _named((out, out.derive(out.shape) if _tensor(out) else out), ("values", "indices"))


@fn("index_select")
def _index_select(interp, args, kwargs, node):
    p = Signature.of("input", "dim", "index").bind(args, kwargs)
    idx = p["index"]
    size = Unknown("index length")
    if _tensor(idx) and idx.shape is not None and idx.exact_rank and len(idx.shape) <= 1:
        size = idx.shape[0] if idx.shape else 1
    return _replace_dim(p["input"], p["dim"], size, "index length")


@fn("gather")
def _gather(interp, args, kwargs, node):
    p = Signature.of("input", "dim", "index").bind(args, kwargs)
    idx = p["index"]
    return idx.derive(idx.shape) if _tensor(idx) else _unknown_like(p["input"])


@fn("take")
def _take(interp, args, kwargs, node):
    p = Signature.of("input", "index").bind(args, kwargs)
    idx = p["index"]
    return idx.derive(idx.shape) if _tensor(idx) else _unknown_like(p["input"])


@fn("take_along_dim")
def _take_along_dim(interp, args, kwargs, node):
    p = Signature.of("input", "indices", ("dim", None)).bind(args, kwargs)
    x, idx, d = p["input"], p["indices"], p["dim"]
    if not (_tensor(x) and _tensor(idx)) or x.shape is None or idx.shape is None:
        return _unknown_like(x)
    if d is None:
        return new_tensor((_numel(idx),))
    a = axis(x, d)
    if a is None or len(x.shape) != len(idx.shape) or not x.exact_rank or not idx.exact_rank:
        return _unknown_like(x)
    xs = tuple(1 if i == a else d for i, d in enumerate(x.shape))
    out = list(C.broadcast_shapes(xs, tuple(idx.shape)))  # the other dims broadcast
    out[a] = idx.shape[a]
    return x.derive(tuple(out))


@fn("masked_select")
def _masked_select(interp, args, kwargs, node):
    return new_tensor((Unknown("number of selected elements"),))


def _nonzero_tuple(x):
    if not _tensor(x) or x.shape is None or not x.exact_rank:
        return Unknown("nonzero as a tuple: rank unknown")
    return tuple(new_tensor((Unknown("number of nonzero elements"),)) for _ in x.shape)


@fn("nonzero")
def _nonzero(interp, args, kwargs, node):
    p = Signature.of("input", ("as_tuple", False)).bind(args, kwargs)
    x = p["input"]
    if p["as_tuple"] is True:
        return _nonzero_tuple(x)
    n = len(x.shape) if _tensor(x) and x.shape is not None and x.exact_rank else Unknown("rank")
    return new_tensor((Unknown("number of nonzero elements"), n))


@fn("argwhere")
def _argwhere(interp, args, kwargs, node):
    return _nonzero(interp, args[:1], {}, node)


@fn("nonzero_static")
def _nonzero_static(interp, args, kwargs, node):
    p = Signature.of("input", "size", ("fill_value", -1)).bind(args, kwargs)
    x = p["input"]
    n = len(x.shape) if _tensor(x) and x.shape is not None and x.exact_rank else Unknown("rank")
    return new_tensor((p["size"] if is_size(p["size"]) else Unknown("size"), n))


@fn("unique", "unique_consecutive")
def _unique(interp, args, kwargs, node):
    x = tensor_arg(args, kwargs)
    inverse = kwargs.get("return_inverse", False)
    counts = kwargs.get("return_counts", False)
    dim = kwargs.get("dim")
    if dim is None:
        out = new_tensor((Unknown("number of unique elements"),))
    else:
        out = _replace_dim(x, dim, Unknown("number of unique slices"), "unique")
    extra = []
    if inverse is True:
        if dim is None:
            extra.append(x.derive(x.shape) if _tensor(x) else Unknown("inverse"))
        else:
            extra.append(_inverse_along(x, dim))
    if counts is True:
        extra.append(new_tensor((Unknown("number of unique elements"),)))
    if inverse not in (True, False) or counts not in (True, False):
        return Unknown("unique: unknown flags")
    return (out, *extra) if extra else out


def _inverse_along(x, d):
    if not _tensor(x) or x.shape is None:
        return Unknown("inverse")
    a = axis(x, d)
    return new_tensor((x.shape[a],)) if a is not None else new_tensor((Unknown("inverse"),))


@fn("searchsorted")
def _searchsorted(interp, args, kwargs, node):
    p = Signature.of("sorted_sequence", "input").bind(args, kwargs)
    v = p["input"]
    return v.derive(v.shape) if _tensor(v) else new_tensor(()) if isinstance(v, (int, float)) else Unknown("searchsorted")


@fn("bucketize")
def _bucketize(interp, args, kwargs, node):
    x = tensor_arg(args, kwargs)
    return x.derive(x.shape) if _tensor(x) else new_tensor(()) if isinstance(x, (int, float)) else Unknown("bucketize")


@fn("unravel_index")
def _unravel_index(interp, args, kwargs, node):
    p = Signature.of("indices", "shape").bind(args, kwargs)
    idx, shape = p["indices"], p["shape"]
    dims = as_dims(shape)
    if dims is None:
        return Unknown("unravel_index: unknown shape")
    return tuple((idx.derive(idx.shape) if _tensor(idx) else new_tensor(())) for _ in dims)


@fn("histc")
def _histc(interp, args, kwargs, node):
    p = Signature.of("input", ("bins", 100), ("min", 0), ("max", 0)).bind(args, kwargs)
    return new_tensor((p["bins"] if is_size(p["bins"]) else Unknown("bins"),))


@fn("bincount")
def _bincount(interp, args, kwargs, node):
    return new_tensor((Unknown("the largest value + 1"),))


@fn("histogram")
def _histogram(interp, args, kwargs, node):
    p = Signature.of("input", ("bins", 100)).bind(args, kwargs)
    b = p["bins"]
    if is_int(b):
        return _named((new_tensor((b,)), new_tensor((b + 1,))), ("hist", "bin_edges"))
    if _tensor(b) and b.shape is not None and len(b.shape) == 1:
        n = b.shape[0]
        return _named((new_tensor((n - 1 if is_size(n) else Unknown("bins"),)), b.derive(b.shape)), ("hist", "bin_edges"))
    return _named((new_tensor((Unknown("bins"),)), new_tensor((Unknown("bins"),))), ("hist", "bin_edges"))


@fn("diff")
def _diff(interp, args, kwargs, node):
    p = Signature.of("input", ("n", 1), ("dim", -1), ("prepend", None), ("append", None)).bind(args, kwargs)
    x, n, d = p["input"], p["n"], p["dim"]
    if not _tensor(x) or x.shape is None:
        return _unknown_like(x)
    a = axis(x, d)
    if a is None or not is_int(n):
        return _replace_dim(x, d, Unknown("diff"), "diff")
    size = x.shape[a]
    for extra in (p["prepend"], p["append"]):
        if _tensor(extra):
            ea = axis(extra, d) if extra.shape is not None and len(extra.shape) == len(x.shape) else None
            size = add(size, extra.shape[ea]) if ea is not None else Unknown("diff")
        elif extra is not None:
            size = add(size, 1)  # a scalar is broadcast to one slice
    size = size - n if is_size(size) else size
    if is_int(size):
        size = max(size, 0)
    elif isinstance(size, Sym):
        size = Unknown("diff of a symbolic size")  # torch gives max(size - n, 0)
    return x.derive(tuple(x.shape[:a]) + (size,) + tuple(x.shape[a + 1 :]))


@fn("trapz", "trapezoid")
def _trapz(interp, args, kwargs, node):
    x = tensor_arg(args, kwargs, "y")
    d = kwargs.get("dim", -1)
    return reduce_dims(x, d, False)


@fn("cumulative_trapezoid")
def _cum_trapz(interp, args, kwargs, node):
    x = tensor_arg(args, kwargs, "y")
    d = kwargs.get("dim", -1)
    if not _tensor(x) or x.shape is None:
        return _unknown_like(x)
    a = axis(x, d)
    size = x.shape[a] if a is not None else Unknown("")
    return _replace_dim(x, d, size - 1 if is_size(size) else Unknown("cumulative_trapezoid"), "cumulative_trapezoid")


# ===================================================================================== shape manipulation

def reshape_to(interp, node, x, shape, label="reshape"):
    """``reshape``/``view`` to ``shape`` (one ``-1`` at most); the result's rank is ``len(shape)``."""
    dims = as_dims(shape)
    if not _tensor(x):
        x = Tensor(None, CHANNELS_FIRST, framework=FRAMEWORK)
    if dims is None:
        return _unknown_like(x)
    total = _numel(x)
    known = [d for d in dims if not (is_int(d) and d == -1)]
    rest = C.numel(known) if all(is_size(d) for d in known) else Unknown("sizes")
    out = list(dims)
    if sum(1 for d in dims if is_int(d) and d == -1) == 1:
        i = next(j for j, d in enumerate(dims) if is_int(d) and d == -1)
        if is_int(total) and is_int(rest) and rest > 0:
            if total % rest:
                reject(interp, interp.site(node), f"torch.{label}", f"shape {tuple(dims)} is invalid for an input of {total} elements (shape {tuple(x.shape)})",
                       "the new shape holds the input's element count", "shape")
                out[i] = Unknown("inferred dim")
            else:
                out[i] = total // rest
        elif isinstance(total, Sym) and is_int(rest) and rest > 0:
            q = total // rest
            if rest > 1 and len(total.variables()) == 1:
                interp.trace.record(SizeEvent(interp.site(node), f"torch.{label} to {tuple(dims)}", total, rest))
                out[i] = q  # the size is valid only where rest divides total: then q is exact
            else:
                out[i] = q if isinstance(q, Sym) and q.op != "floordiv" else Unknown("inferred dim")
        elif isinstance(total, Sym) and isinstance(rest, Sym) and (q := exact_div(total, rest)) is not None:
            out[i] = q  # (B·C·H·W) / (B·C) = H·W: a product divided again
        else:
            out[i] = Unknown("inferred dim")
    elif is_int(total) and is_int(rest) and total != rest:
        reject(interp, interp.site(node), f"torch.{label}", f"shape {tuple(dims)} is invalid for an input of {total} elements (shape {tuple(x.shape)})",
               "the new shape holds the input's element count", "shape")
    res = x.derive(tuple(d if is_size(d) else Unknown("reshape") for d in out), label=label)
    return _exact(res)


@fn("reshape", "view_copy")
def _reshape(interp, args, kwargs, node):
    p = Signature.of("input", "shape").bind(args, kwargs)
    if "size" in kwargs:
        p["shape"] = kwargs["size"]
    return reshape_to(interp, node, p["input"], p["shape"])


def flatten_dims(x, s, e, label="flatten"):
    if not _tensor(x) or not is_int(s) or not is_int(e):
        return _unknown_like(x)
    if x.shape is None:
        if s == 0 and e == -1:
            return _exact(x.derive((Unknown("element count"),), label=label))
        return _unknown_like(x)
    n = len(x.shape)
    if n == 0:
        return x.derive((1,), label=label) if s in (0, -1) and e in (0, -1) else _unknown_like(x)
    if x.exact_rank:
        if not (-n <= s < n and -n <= e < n):
            return _unknown_like(x)
        si, ei = s % n, e % n
        if si > ei:
            return _unknown_like(x)
        return x.derive(tuple(x.shape[:si]) + (C.numel(x.shape[si : ei + 1]),) + tuple(x.shape[ei + 1 :]), label=label)
    # the rank is a lower bound: only what is counted from the end can be placed
    if s < 0 and e < 0 and -n <= s <= e:
        si, ei = n + s, n + e
        return x.derive(tuple(x.shape[:si]) + (C.numel(x.shape[si : ei + 1]),) + tuple(x.shape[ei + 1 :]), label=label)
    if s >= 0 and -n <= e < 0:
        tail = tuple(x.shape[n + e + 1 :])
        return _exact(x.derive(unknown_dims(s, "leading dim") + (Unknown("flattened dims"),) + tail, label=label))
    return _unknown_like(x)


@fn("flatten")
def _flatten(interp, args, kwargs, node):
    p = Signature.of("input", ("start_dim", 0), ("end_dim", -1)).bind(args, kwargs)
    return flatten_dims(p["input"], p["start_dim"], p["end_dim"])


@fn("ravel")
def _ravel(interp, args, kwargs, node):
    return flatten_dims(tensor_arg(args, kwargs), 0, -1, "ravel")


def unflatten_dim(interp, node, x, d, sizes, label="unflatten"):
    sizes = as_dims(sizes)
    if not _tensor(x) or sizes is None:
        return _unknown_like(x)
    if x.shape is None:
        return _unknown_like(x)
    a = axis(x, d)
    if a is None:
        return x.derive(unknown_dims(len(x.shape) - 1 + len(sizes), "unflatten"))
    size = x.shape[a]
    out = list(sizes)
    if sum(1 for v in out if is_int(v) and v == -1) == 1:
        i = next(j for j, v in enumerate(out) if is_int(v) and v == -1)
        rest = C.numel([v for j, v in enumerate(out) if j != i])
        if is_int(size) and is_int(rest) and rest > 0 and size % rest == 0:
            out[i] = size // rest
        elif isinstance(size, Sym) and is_int(rest) and rest > 0:
            q = size // rest
            out[i] = q if isinstance(q, Sym) and q.op != "floordiv" else Unknown("unflatten")
        else:
            out[i] = Unknown("unflatten")
    elif is_int(size) and all(is_int(v) for v in out) and C.numel(out) != size:
        reject(interp, interp.site(node), f"torch.{label}", f"sizes {tuple(out)} do not multiply to the size {size} of dim {d}", "sizes multiply to the dim's size", "sizes")
    out = [v if is_size(v) else Unknown("unflatten") for v in out]
    return x.derive(tuple(x.shape[:a]) + tuple(out) + tuple(x.shape[a + 1 :]), label=label)


@fn("unflatten")
def _unflatten(interp, args, kwargs, node):
    p = Signature.of("input", "dim", "sizes").bind(args, kwargs)
    return unflatten_dim(interp, node, p["input"], p["dim"], p["sizes"])


def squeeze_dims(x, dims):
    if not _tensor(x):
        return Unknown("squeeze")
    if x.shape is None:
        return _unknown_like(x)
    n = len(x.shape)
    if dims is None:
        if x.exact_rank and all(is_int(d) for d in x.shape):
            return x.derive(tuple(d for d in x.shape if d != 1))
        return _unknown_like(x)
    dims = (dims,) if is_int(dims) else tuple(dims) if isinstance(dims, (tuple, list)) and all(is_int(d) for d in dims) else None
    if dims is None:
        return _unknown_like(x)
    if n == 0:
        return x
    axes = [axis(x, d) for d in dims]
    if any(a is None for a in axes):
        return _unknown_like(x)
    drop = set()
    for a in axes:
        if is_int(x.shape[a]):
            if x.shape[a] == 1:
                drop.add(a)
        else:
            return _unknown_like(x)  # may or may not be 1
    return x.derive(tuple(d for i, d in enumerate(x.shape) if i not in drop))


@fn("squeeze", "squeeze_copy")
def _squeeze(interp, args, kwargs, node):
    p = Signature.of("input", ("dim", None)).bind(args, kwargs)
    return squeeze_dims(p["input"], p["dim"])


@fn("unsqueeze", "unsqueeze_copy")
def _unsqueeze(interp, args, kwargs, node):
    p = Signature.of("input", "dim").bind(args, kwargs)
    x = p["input"]
    if not _tensor(x) or x.shape is None:
        return _unknown_like(x)
    a = axis(x, p["dim"], extra=1)
    if a is None:
        return x.derive(unknown_dims(len(x.shape) + 1, "unsqueeze"))
    s = list(x.shape)
    s.insert(a, 1)
    return x.derive(tuple(s))


def permute_dims(interp, node, x, order):
    order = tuple(order) if isinstance(order, (tuple, list)) else None
    if not _tensor(x) or order is None or not all(is_int(o) for o in order):
        return _unknown_like(x) if order is None else _exact(x.derive(unknown_dims(len(order), "permute")))
    if x.shape is None or not x.exact_rank:
        return _exact(x.derive(unknown_dims(len(order), "permute of an unknown shape")))
    n = len(x.shape)
    if len(order) != n:
        from convlint.frameworks.torch.common import rank_check

        rank_check(interp, interp.site(node), "permute", x, (len(order),), what=f"{len(order)} dims in permute{order}")
        return _unknown_like(x)
    if not all(-n <= o < n for o in order) or len({o % n for o in order}) != n:
        return _unknown_like(x)
    return x.derive(tuple(x.shape[o % n] for o in order), layout=None)


@fn("permute", "permute_copy")
def _permute(interp, args, kwargs, node):
    p = Signature.of("input", "dims").bind(args, kwargs)
    return permute_dims(interp, node, p["input"], p["dims"])


def swap_dims(x, d0, d1):
    if not _tensor(x) or x.shape is None:
        return _unknown_like(x)
    a, b = axis(x, d0), axis(x, d1)
    if a is None or b is None:
        return x.derive(unknown_dims(len(x.shape), "transpose"), layout=None)
    s = list(x.shape)
    s[a], s[b] = s[b], s[a]
    return x.derive(tuple(s), layout=None)


@fn("transpose", "swapaxes", "swapdims", "transpose_copy")
def _transpose(interp, args, kwargs, node):
    x = tensor_arg(args, kwargs)
    rest = list(args[1:])
    d0 = rest[0] if rest else kwargs.get("dim0", kwargs.get("axis0"))
    d1 = rest[1] if len(rest) > 1 else kwargs.get("dim1", kwargs.get("axis1"))
    return swap_dims(x, d0, d1)


@fn("t", "t_copy")
def _t(interp, args, kwargs, node):
    x = tensor_arg(args, kwargs)
    if not _tensor(x) or x.shape is None:
        return _unknown_like(x)
    if len(x.shape) < 2 and x.exact_rank:
        return x
    if x.exact_rank and len(x.shape) > 2:
        from convlint.frameworks.torch.common import rank_check

        rank_check(interp, interp.site(node), "t", x, (0, 1, 2))
        return _unknown_like(x)
    return swap_dims(x, 0, 1) if x.exact_rank else _unknown_like(x)


@fn("adjoint")
def _adjoint(interp, args, kwargs, node):
    return swap_dims(tensor_arg(args, kwargs), -2, -1)


@fn("movedim", "moveaxis")
def _movedim(interp, args, kwargs, node):
    p = Signature.of("input", "source", "destination").bind(args, kwargs)
    x, src, dst = p["input"], p["source"], p["destination"]
    src = (src,) if is_int(src) else tuple(src) if isinstance(src, (tuple, list)) else None
    dst = (dst,) if is_int(dst) else tuple(dst) if isinstance(dst, (tuple, list)) else None
    if not _tensor(x) or x.shape is None or src is None or dst is None or len(src) != len(dst) or not x.exact_rank:
        return _unknown_like(x) if not _tensor(x) or x.shape is None else x.derive(unknown_dims(len(x.shape), "movedim"))
    n = len(x.shape)
    if not all(is_int(v) and -n <= v < n for v in (*src, *dst)):
        return _unknown_like(x)
    src = [v % n for v in src]
    dst = [v % n for v in dst]
    order = [None] * n
    for s, d in zip(src, dst):
        order[d] = s
    rest = iter(i for i in range(n) if i not in src)
    order = [o if o is not None else next(rest) for o in order]
    return x.derive(tuple(x.shape[o] for o in order), layout=None)


@fn("narrow", "narrow_copy")
def _narrow(interp, args, kwargs, node):
    p = Signature.of("input", "dim", "start", "length").bind(args, kwargs)
    return C.repair(_replace_dim(p["input"], p["dim"], p["length"], "narrow"))


@fn("select", "select_copy")
def _select(interp, args, kwargs, node):
    p = Signature.of("input", "dim", "index").bind(args, kwargs)
    x = p["input"]
    if not _tensor(x) or x.shape is None:
        return _unknown_like(x)
    a = axis(x, p["dim"])
    if a is None:
        return x.derive(unknown_dims(max(len(x.shape) - 1, 0), "select"))
    return x.derive(tuple(x.shape[:a]) + tuple(x.shape[a + 1 :]))


@fn("slice_copy")
def _slice_copy(interp, args, kwargs, node):
    p = Signature.of("input", ("dim", 0), ("start", None), ("end", None), ("step", 1)).bind(args, kwargs)
    x = p["input"]
    if not _tensor(x) or x.shape is None:
        return _unknown_like(x)
    a = axis(x, p["dim"])
    size = x.shape[a] if a is not None else Unknown("")
    st, en, sp = p["start"], p["end"], p["step"]
    if is_int(size) and all(v is None or is_int(v) for v in (st, en, sp)):
        return C.repair(_replace_dim(x, p["dim"], len(range(size)[slice(st, en, sp)]), "slice"))
    return _replace_dim(x, p["dim"], Unknown("slice"), "slice")


# ----------------------------------------------------------------------------- splitting

def _parts(x, d, sizes, why):
    """One tensor per size along dim ``d``."""
    a = axis(x, d)
    if a is None:
        return tuple(x.derive(unknown_dims(len(x.shape), why)) for _ in sizes)
    parts = tuple(x.derive(tuple(x.shape[:a]) + (s if is_size(s) else Unknown(why),) + tuple(x.shape[a + 1 :])) for s in sizes)
    if x.values is not None and len(x.shape) == 1 and all(is_int(s) for s in sizes) and sum(sizes) == len(x.values):
        at = 0
        for part, s in zip(parts, sizes):  # a split of a constant vector: its elements, in order
            part.values = x.values[at : at + s]
            at += s
    return parts


def chunk_parts(x, k, d):
    """``torch.chunk``: chunks of ``ceil(size / k)``; fewer than ``k`` when the size is small."""
    if not _tensor(x) or x.shape is None or not is_int(k) or k < 1:
        return Unknown("chunk")
    a = axis(x, d)
    size = x.shape[a] if a is not None else Unknown("dim")
    if is_int(size):
        if size == 0:
            return (x,) * k
        cs = -(-size // k)
        sizes = [cs] * (size // cs) + ([size % cs] if size % cs else [])
        return _parts(x, d, sizes, "chunk")
    if isinstance(size, Sym) and k >= 1:
        q = size // k
        if isinstance(q, Sym) and q.op != "floordiv":
            return _parts(x, d, [q] * k, "chunk")  # a multiple of k: k equal chunks
    # the number of chunks depends on the size (fewer than k when it is small): not known
    return Unknown("chunk of a dim of unknown size")


@fn("chunk", "unsafe_chunk")
def _chunk(interp, args, kwargs, node):
    p = Signature.of("input", "chunks", ("dim", 0)).bind(args, kwargs)
    return chunk_parts(p["input"], p["chunks"], p["dim"])


def split_parts(x, sizes, d):
    if not _tensor(x) or x.shape is None:
        return Unknown("split")
    a = axis(x, d)
    size = x.shape[a] if a is not None else Unknown("dim")
    if isinstance(sizes, (tuple, list)):
        if all(is_int(v) for v in sizes) and is_int(size) and sum(sizes) != size:
            return Unknown("split sizes do not add up to the dim")
        return _parts(x, d, list(sizes), "split")
    if is_int(sizes) and sizes > 0:
        if is_int(size):
            parts = [sizes] * (size // sizes) + ([size % sizes] if size % sizes else [])
            return _parts(x, d, parts or [0], "split")
    return Unknown("split of an unknown size")


@fn("split", "unsafe_split", "split_copy")
def _split(interp, args, kwargs, node):
    p = Signature.of("tensor", "split_size_or_sections", ("dim", 0)).bind(args, kwargs)
    if "split_size" in kwargs:
        p["split_size_or_sections"] = kwargs["split_size"]
    if "input" in kwargs:
        p["tensor"] = kwargs["input"]
    return split_parts(p["tensor"], p["split_size_or_sections"], p["dim"])


@fn("split_with_sizes", "unsafe_split_with_sizes", "split_with_sizes_copy")
def _split_with_sizes(interp, args, kwargs, node):
    p = Signature.of("input", "split_sizes", ("dim", 0)).bind(args, kwargs)
    return split_parts(p["input"], p["split_sizes"], p["dim"])


def tensor_split_parts(x, spec, d, even=False):
    if not _tensor(x) or x.shape is None:
        return Unknown("tensor_split")
    a = axis(x, d)
    size = x.shape[a] if a is not None else Unknown("dim")
    if is_int(spec):
        if spec < 1:
            return Unknown("tensor_split")
        if is_int(size):
            if even and size % spec:
                return Unknown("uneven split")
            q, r = divmod(size, spec)
            return _parts(x, d, [q + 1] * r + [q] * (spec - r), "tensor_split")
        return _parts(x, d, [Unknown("tensor_split of an unknown size")] * spec, "tensor_split")
    if isinstance(spec, (tuple, list)) and all(is_int(v) for v in spec):
        bounds = [0, *spec, size]
        sizes = []
        for lo, hi in zip(bounds, bounds[1:]):
            if is_int(hi) and is_int(size):
                lo_c = min(max(lo if lo >= 0 else size + lo, 0), size)
                hi_c = min(max(hi if hi >= 0 else size + hi, 0), size)
                sizes.append(max(hi_c - lo_c, 0))
            else:
                sizes.append(Unknown("tensor_split"))
        return _parts(x, d, sizes, "tensor_split")
    return Unknown("tensor_split")


@fn("tensor_split")
def _tensor_split(interp, args, kwargs, node):
    x = tensor_arg(args, kwargs)
    spec = args[1] if len(args) > 1 else kwargs.get("sections", kwargs.get("indices", kwargs.get("tensor_indices_or_sections")))
    d = args[2] if len(args) > 2 else kwargs.get("dim", 0)
    return tensor_split_parts(x, spec, d)


def _dir_split(default_dim):
    def f(interp, args, kwargs, node):
        x = tensor_arg(args, kwargs)
        spec = args[1] if len(args) > 1 else kwargs.get("sections", kwargs.get("indices"))
        d = default_dim
        if default_dim == 1 and _tensor(x) and x.shape is not None and x.exact_rank and len(x.shape) == 1:
            d = 0  # hsplit of a 1-d tensor
        return tensor_split_parts(x, spec, d, even=True)

    return f


FUNCTIONS["hsplit"] = _dir_split(1)
FUNCTIONS["vsplit"] = _dir_split(0)
FUNCTIONS["dsplit"] = _dir_split(2)


def unbind_parts(x, d):
    if not _tensor(x) or x.shape is None:
        return Unknown("unbind")
    a = axis(x, d)
    if a is None or not is_int(x.shape[a]) or x.shape[a] > 256:
        return Unknown("unbind along a dim of unknown size")
    return tuple(x.derive(tuple(x.shape[:a]) + tuple(x.shape[a + 1 :])) for _ in range(x.shape[a]))


@fn("unbind", "unbind_copy")
def _unbind(interp, args, kwargs, node):
    p = Signature.of("input", ("dim", 0)).bind(args, kwargs)
    return unbind_parts(p["input"], p["dim"])


# ----------------------------------------------------------------------------- joining

def concat(interp, node, items, dim, stack, label):
    """``torch.cat``/``torch.stack``; a tensor of unknown shape keeps what the others know."""
    if items is None or not items:
        return Tensor(None, CHANNELS_FIRST, framework=FRAMEWORK)
    ts = [t for t in items if _tensor(t)]
    if len(ts) != len(items):
        known = [t for t in ts if t.shape is not None]
        if not known:
            return Tensor(None, CHANNELS_FIRST, framework=FRAMEWORK)
        ts = known + [Tensor(None) for _ in range(len(items) - len(known))]
    site = interp.site(node) if node is not None else None
    known = [t for t in ts if t.shape is not None]
    if not known:
        return ts[0].derive(None)
    if len(known) < len(ts) or not all(t.exact_rank for t in known) or not is_int(dim):
        # some operand's shape is unknown: the joined dim is unknown, the others are the known ones'
        ref = known[0]
        n = len(ref.shape)
        if any(len(t.shape) != n for t in known) or not is_int(dim):
            return ref.derive(None) if is_int(dim) else _unknown_like(ref)
        a = axis(ref, dim, extra=1 if stack else 0)
        if a is None:
            return ref.derive(unknown_dims(n + (1 if stack else 0), label))
        if len(known) > 1:
            C.concat(interp, known, dim, site, label, stack=stack)  # records the merge of the known ones
        if stack:
            out = list(ref.shape)
            out.insert(a, len(items))
        else:
            out = list(ref.shape)
            out[a] = Unknown("concatenated size")
        return ref.derive(tuple(out), label=label)
    out = C.concat(interp, known, dim, site, label, stack=stack)
    return out


def _tensor_list(interp, v):
    items = interp.iterate(v)
    return list(items) if items is not None else None


def _cat(stack, label):
    def f(interp, args, kwargs, node):
        tensors = args[0] if args else kwargs.get("tensors")
        dim = args[1] if len(args) > 1 else kwargs.get("dim", kwargs.get("axis", 0))
        items = _tensor_list(interp, tensors)
        out = concat(interp, node, items, dim, stack, label)
        from convlint.frameworks.torch.common import event

        event(interp, interp.site(node), node, label, items[0] if items else None, out)
        return out

    return f


FUNCTIONS["cat"] = FUNCTIONS["concat"] = FUNCTIONS["concatenate"] = _cat(False, "torch.cat")
FUNCTIONS["stack"] = _cat(True, "torch.stack")


def atleast(x, k):
    if not _tensor(x):
        return new_tensor((1,) * k) if isinstance(x, (int, float)) else Unknown("atleast")
    if x.shape is None:
        return _unknown_like(x)
    n = len(x.shape)
    if n >= k or not x.exact_rank:
        return x
    if k == 1:
        return x.derive((1,))
    if k == 2:
        return x.derive((1, 1) if n == 0 else (1,) + tuple(x.shape))
    return x.derive((1, 1, 1) if n == 0 else (1,) + tuple(x.shape) + (1,) if n == 1 else tuple(x.shape) + (1,))


def _atleast(k):
    def f(interp, args, kwargs, node):
        items = list(args)
        if len(items) == 1 and isinstance(items[0], (tuple, list)):
            return tuple(atleast(t, k) for t in items[0])
        if len(items) == 1:
            return atleast(items[0], k)
        return tuple(atleast(t, k) for t in items)

    return f


FUNCTIONS["atleast_1d"] = _atleast(1)
FUNCTIONS["atleast_2d"] = _atleast(2)
FUNCTIONS["atleast_3d"] = _atleast(3)


def _stack_like(kind):
    def f(interp, args, kwargs, node):
        tensors = args[0] if args else kwargs.get("tensors")
        items = _tensor_list(interp, tensors)
        if items is None:
            return Tensor(None, CHANNELS_FIRST, framework=FRAMEWORK)
        if kind == "h":
            one_d = all(_tensor(t) and t.shape is not None and t.exact_rank and len(t.shape) == 1 for t in items)
            items = [atleast(t, 1) for t in items]
            return concat(interp, node, items, 0 if one_d else 1, False, "torch.hstack")
        if kind == "v":
            return concat(interp, node, [atleast(t, 2) for t in items], 0, False, "torch.vstack")
        if kind == "d":
            return concat(interp, node, [atleast(t, 3) for t in items], 2, False, "torch.dstack")
        cols = []
        for t in items:  # column_stack: 0-d and 1-d tensors become columns
            if _tensor(t) and t.shape is not None and t.exact_rank and len(t.shape) <= 1:
                cols.append(t.derive((t.shape[0] if t.shape else 1, 1)))
            else:
                cols.append(t)
        return concat(interp, node, cols, 1, False, "torch.column_stack")

    return f


FUNCTIONS["hstack"] = _stack_like("h")
FUNCTIONS["vstack"] = FUNCTIONS["row_stack"] = _stack_like("v")
FUNCTIONS["dstack"] = _stack_like("d")
FUNCTIONS["column_stack"] = _stack_like("c")


# ----------------------------------------------------------------------------- broadcasting, expanding, repeating

def broadcast_shape(shapes):
    """The broadcast of known shapes (None if some is unknown); see :func:`shapes.broadcast_shapes`."""
    return C.broadcast_shapes(*shapes)


def expand_to(interp, node, x, sizes, label="expand"):
    sizes = as_dims(sizes)
    if not _tensor(x) or sizes is None:
        return _unknown_like(x)
    k = len(sizes)
    out = []
    for i, s in enumerate(sizes):
        j = i - k  # counted from the end
        have = x.shape[j] if x.shape is not None and -len(x.shape) <= j else None
        if is_int(s) and s == -1:
            out.append(have if have is not None else Unknown("expanded from an unknown dim"))
        else:
            if have is not None and is_int(have) and is_int(s) and have != 1 and have != s:
                reject(interp, interp.site(node), f"torch.{label}", f"the expanded size {s} must match the existing size {have} at dim {i}",
                       "an expanded dim is 1 or keeps its size", "size")
            out.append(s)
    if x.shape is not None and x.exact_rank and len(x.shape) > k:
        return _unknown_like(x)
    return _exact(x.derive(tuple(out)))


@fn("broadcast_to", "expand_copy")
def _broadcast_to(interp, args, kwargs, node):
    p = Signature.of("input", "size").bind(args, kwargs)
    if "shape" in kwargs:
        p["size"] = kwargs["shape"]
    return expand_to(interp, node, p["input"], p["size"])


@fn("broadcast_tensors")
def _broadcast_tensors(interp, args, kwargs, node):
    items = list(args[0]) if len(args) == 1 and isinstance(args[0], (tuple, list)) else list(args)
    if not items:
        return ()
    out = items[0] if _tensor(items[0]) else Unknown("operand")
    for t in items[1:]:
        out = elementwise(interp, node, "torch.broadcast_tensors", out, t)
    return tuple((out.derive(out.shape) if _tensor(out) else out) for _ in items)


@fn("broadcast_shapes")
def _broadcast_shapes(interp, args, kwargs, node):
    shapes = [as_dims(a) for a in args]
    if any(s is None for s in shapes):
        return Unknown("broadcast_shapes")
    out = broadcast_shape(shapes)
    return tuple(out) if all(is_size(d) for d in out) else Unknown("broadcast_shapes")


def repeat_dims(x, reps, tile=False):
    reps = tuple(reps) if isinstance(reps, (tuple, list)) else None
    if not _tensor(x) or reps is None:
        return _unknown_like(x)
    if x.shape is None:
        return _exact(x.derive(unknown_dims(len(reps), "repeat"))) if not tile else _unknown_like(x)
    n = len(x.shape)
    if tile and len(reps) < n:
        if not x.exact_rank:
            k = len(reps)
            tail = tuple(mul(d, r) if is_int(r) else Unknown("tile") for d, r in zip(x.shape[n - k:], reps))
            return x.derive(tuple(x.shape[: n - k]) + tail)
        reps = (1,) * (n - len(reps)) + reps
    if len(reps) < n:
        return _unknown_like(x)  # torch raises: fewer repeats than dims
    m = len(reps)
    if not x.exact_rank:
        tail = tuple(mul(d, r) if is_int(r) else Unknown("repeat") for d, r in zip(x.shape, reps[m - n :]))
        out = x.derive(unknown_dims(m - n, "repeat of an unknown dim") + tail)
        return _exact(out) if not tile else out
    shape = (1,) * (m - n) + tuple(x.shape)
    return x.derive(tuple(mul(d, r) if is_int(r) else Unknown("repeat") for d, r in zip(shape, reps)))


@fn("tile")
def _tile(interp, args, kwargs, node):
    p = Signature.of("input", "dims").bind(args, kwargs)
    return repeat_dims(p["input"], p["dims"], tile=True)


@fn("repeat_interleave")
def _repeat_interleave(interp, args, kwargs, node):
    p = Signature.of("input", ("repeats", None), ("dim", None), ("output_size", None)).bind(args, kwargs)
    x, r, d = p["input"], p["repeats"], p["dim"]
    if p["repeats"] is None and len(args) == 1 and "repeats" not in kwargs:
        return new_tensor((Unknown("sum of repeats"),))  # torch.repeat_interleave(repeats)
    if not _tensor(x):
        return Unknown("repeat_interleave")
    if d is None:
        total = _numel(x)
        if is_int(r):
            return new_tensor((mul(total, r),))
        return new_tensor((p["output_size"] if is_size(p["output_size"]) else Unknown("sum of repeats"),))
    if x.shape is None:
        return _unknown_like(x)
    a = axis(x, d)
    if a is None:
        return x.derive(unknown_dims(len(x.shape), "repeat_interleave"))
    if is_int(r):
        size = mul(x.shape[a], r)
    elif _tensor(r) and r.shape in ((), (1,)):
        size = Unknown("repeats from a tensor")
    else:
        size = p["output_size"] if is_size(p["output_size"]) else Unknown("sum of repeats")
    return x.derive(tuple(x.shape[:a]) + (size,) + tuple(x.shape[a + 1 :]))


@fn("rot90")
def _rot90(interp, args, kwargs, node):
    p = Signature.of("input", ("k", 1), ("dims", (0, 1))).bind(args, kwargs)
    x, k, dims = p["input"], p["k"], p["dims"]
    if not is_int(k) or not isinstance(dims, (tuple, list)) or len(dims) != 2:
        return _unknown_like(x)
    return swap_dims(x, dims[0], dims[1]) if k % 2 else x


# ----------------------------------------------------------------------------- diagonals and triangles

def _diag_len(m, n, off):
    if is_int(m) and is_int(n) and is_int(off):
        return max(min(m, n - off) if off >= 0 else min(m + off, n), 0)
    return Unknown("diagonal length")


@fn("diag")
def _diag(interp, args, kwargs, node):
    p = Signature.of("input", ("diagonal", 0)).bind(args, kwargs)
    x, off = p["input"], p["diagonal"]
    if not _tensor(x) or x.shape is None or not x.exact_rank or not is_int(off):
        return _unknown_like(x)
    if len(x.shape) == 1:
        side = add(x.shape[0], abs(off))
        return x.derive((side, side))
    if len(x.shape) == 2:
        return x.derive((_diag_len(x.shape[0], x.shape[1], off),))
    return _unknown_like(x)


@fn("diagonal", "diagonal_copy")
def _diagonal(interp, args, kwargs, node):
    p = Signature.of("input", ("offset", 0), ("dim1", 0), ("dim2", 1)).bind(args, kwargs)
    x = p["input"]
    if not _tensor(x) or x.shape is None:
        return _unknown_like(x)
    a, b = axis(x, p["dim1"]), axis(x, p["dim2"])
    if a is None or b is None or a == b:
        return x.derive(unknown_dims(max(len(x.shape) - 1, 0), "diagonal"))
    rest = tuple(d for i, d in enumerate(x.shape) if i not in (a, b))
    return x.derive(rest + (_diag_len(x.shape[a], x.shape[b], p["offset"]),))


@fn("diag_embed")
def _diag_embed(interp, args, kwargs, node):
    p = Signature.of("input", ("offset", 0), ("dim1", -2), ("dim2", -1)).bind(args, kwargs)
    x, off = p["input"], p["offset"]
    if not _tensor(x) or x.shape is None or not x.shape or not is_int(off):
        return _unknown_like(x)
    side = add(x.shape[-1], abs(off))
    n = len(x.shape) + 1
    d1, d2 = p["dim1"], p["dim2"]
    if not (is_int(d1) and is_int(d2)) or not x.exact_rank and (d1 >= 0 or d2 >= 0):
        return x.derive(unknown_dims(n, "diag_embed"))
    a, b = d1 % n, d2 % n
    rest = list(x.shape[:-1])
    out = []
    for i in range(n):
        out.append(side if i in (a, b) else rest.pop(0))
    return x.derive(tuple(out))


@fn("diagflat")
def _diagflat(interp, args, kwargs, node):
    p = Signature.of("input", ("offset", 0)).bind(args, kwargs)
    x = p["input"]
    side = add(_numel(x), abs(p["offset"])) if _tensor(x) and is_int(p["offset"]) else Unknown("diagflat")
    return new_tensor((side, side))


def _tri_count(row, col, off, lower):
    if not all(is_int(v) for v in (row, col, off)):
        return Unknown("triangle size")
    if lower:
        return sum(max(0, min(col, i + off + 1)) for i in range(row))
    return sum(max(0, col - max(0, i + off)) for i in range(row))


@fn("tril_indices")
def _tril_indices(interp, args, kwargs, node):
    p = Signature.of("row", "col", ("offset", 0)).bind(args, kwargs)
    return new_tensor((2, _tri_count(p["row"], p["col"], p["offset"], True)), fresh=True)


@fn("triu_indices")
def _triu_indices(interp, args, kwargs, node):
    p = Signature.of("row", "col", ("offset", 0)).bind(args, kwargs)
    return new_tensor((2, _tri_count(p["row"], p["col"], p["offset"], False)), fresh=True)


# ----------------------------------------------------------------------------- grids and products of sets

def _len1(t):
    if _tensor(t) and t.shape is not None and t.exact_rank:
        return t.shape[0] if len(t.shape) == 1 else 1 if len(t.shape) == 0 else Unknown("not 1-d")
    return Unknown("length")


@fn("meshgrid")
def _meshgrid(interp, args, kwargs, node):
    items = list(args[0]) if len(args) == 1 and isinstance(args[0], (tuple, list)) else list(args)
    lens = [_len1(t) for t in items]
    if kwargs.get("indexing", "ij") == "xy" and len(lens) >= 2:
        lens[0], lens[1] = lens[1], lens[0]
    elif kwargs.get("indexing", "ij") not in ("ij", "xy"):
        return Unknown("meshgrid indexing")
    return tuple(new_tensor(tuple(lens)) for _ in items)


@fn("cartesian_prod")
def _cartesian_prod(interp, args, kwargs, node):
    items = list(args)
    if len(items) == 1:
        return new_tensor((_len1(items[0]),))
    total = 1
    for t in items:
        total = mul(total, _len1(t))
    return new_tensor((total, len(items)))


@fn("combinations")
def _combinations(interp, args, kwargs, node):
    p = Signature.of("input", ("r", 2), ("with_replacement", False)).bind(args, kwargs)
    n, r = _len1(p["input"]), p["r"]
    if not is_int(n) or not is_int(r) or p["with_replacement"] not in (True, False):
        return new_tensor((Unknown("combinations"), r if is_int(r) else Unknown("r")))
    if r == 0:
        return new_tensor((0,))
    count = math.comb(n + r - 1, r) if p["with_replacement"] else math.comb(n, r)
    return new_tensor((count, r))


@fn("block_diag")
def _block_diag(interp, args, kwargs, node):
    rows, cols = 0, 0
    for t in args:
        if not _tensor(t) or t.shape is None or not t.exact_rank or len(t.shape) > 2:
            return new_tensor((Unknown("block_diag"), Unknown("block_diag")))
        r, c = (1, 1) if len(t.shape) == 0 else (1, t.shape[0]) if len(t.shape) == 1 else t.shape
        rows, cols = add(rows, r), add(cols, c)
    return new_tensor((rows, cols))


@fn("kron")
def _kron(interp, args, kwargs, node):
    p = Signature.of("input", "other").bind(args, kwargs)
    a, b = p["input"], p["other"]
    if not (_tensor(a) and _tensor(b)) or a.shape is None or b.shape is None:
        return _unknown_like(a)
    n = max(len(a.shape), len(b.shape))
    sa = (1,) * (n - len(a.shape)) + tuple(a.shape)
    sb = (1,) * (n - len(b.shape)) + tuple(b.shape)
    out = a.derive(tuple(mul(x, y) for x, y in zip(sa, sb)))
    out.exact_rank = a.exact_rank and b.exact_rank
    return out


# ===================================================================================== products

def _inner_check(interp, node, label, a, b, ka, kb):
    """The inner dims of a product must agree (``a``'s dim ``ka`` and ``b``'s dim ``kb``)."""
    x, y = a.shape[ka], b.shape[kb]
    if is_int(x) and is_int(y) and x != y:
        channel_check(interp, label, interp.site(node) if node is not None else None, x, y, b, kb % len(b.shape),
                      what=f"rows in its second operand (the first operand's last dim, shape {tuple(a.shape)})")


def matmul(interp, node, a, b, label="matmul"):
    """``torch.matmul``: the shape is :func:`shapes.matmul`'s; the inner dims are checked."""
    if not (_tensor(a) and _tensor(b)):
        return _unknown_like(a if _tensor(a) else b)
    if a.shape and b.shape and a.exact_rank and b.exact_rank:
        _inner_check(interp, node, label, a, b, -1, -1 if len(b.shape) == 1 else -2)
    return C.matmul(a, b)


@fn("matmul")
def _matmul(interp, args, kwargs, node):
    p = Signature.of("input", "other").bind(args, kwargs)
    return matmul(interp, node, p["input"], p["other"])


def _strict_product(label, ra, rb):
    """``mm``/``bmm``/``mv``: exact ranks, no broadcasting."""
    def f(interp, args, kwargs, node):
        x = tensor_arg(args, kwargs)
        y = args[1] if len(args) > 1 else kwargs.get("mat2", kwargs.get("vec", Unknown("operand")))
        x, y = _fixed_rank(x, ra), _fixed_rank(y, rb)  # the op fixes its operands' ranks
        if _tensor(x) and _tensor(y) and x.shape is not None and y.shape is not None and x.exact_rank and y.exact_rank:
            if len(x.shape) != ra or len(y.shape) != rb:
                from convlint.frameworks.torch.common import rank_check

                rank_check(interp, interp.site(node), label, x if len(x.shape) != ra else y, (ra if len(x.shape) != ra else rb,))
                return _unknown_like(x)
        return matmul(interp, node, x, y, label)

    return f


def _fixed_rank(t, r):
    """An operand whose rank the op fixes: a lower bound or an unknown shape becomes rank ``r``."""
    if not _tensor(t) or t.exact_rank and t.shape is not None:
        return t
    known = tuple(t.shape) if t.shape is not None else ()
    if len(known) > r:
        return t
    out = t.derive(unknown_dims(r - len(known), "leading dim") + known)
    out.exact_rank = True
    return out


FUNCTIONS["mm"] = _strict_product("mm", 2, 2)
FUNCTIONS["bmm"] = _strict_product("bmm", 3, 3)
FUNCTIONS["mv"] = _strict_product("mv", 2, 1)


def _add_product(label, ra, rb):
    """``addmm(input, m1, m2)`` & co: the product, the input broadcast to it."""
    def f(interp, args, kwargs, node):
        a = args[1] if len(args) > 1 else kwargs.get("mat1", kwargs.get("batch1", kwargs.get("mat", kwargs.get("vec1"))))
        b = args[2] if len(args) > 2 else kwargs.get("mat2", kwargs.get("batch2", kwargs.get("vec", kwargs.get("vec2"))))
        if label == "addr":
            if _tensor(a) and _tensor(b) and a.shape is not None and b.shape is not None and len(a.shape) == 1 and len(b.shape) == 1:
                return new_tensor((a.shape[0], b.shape[0]))
            return new_tensor((Unknown("addr"), Unknown("addr")))
        out = matmul(interp, node, a, b, label)
        if label == "addbmm" and _tensor(out) and out.shape is not None and len(out.shape) == 3:
            out = out.derive(tuple(out.shape[1:]))
        return out

    return f


FUNCTIONS["addmm"] = _add_product("addmm", 2, 2)
FUNCTIONS["baddbmm"] = _add_product("baddbmm", 3, 3)
FUNCTIONS["addbmm"] = _add_product("addbmm", 3, 3)
FUNCTIONS["addmv"] = _add_product("addmv", 2, 1)
FUNCTIONS["addr"] = _add_product("addr", 1, 1)
for _n in ("addmm_", "baddbmm_", "addbmm_", "addmv_", "addr_", "addcmul_", "addcdiv_", "lerp_"):
    SAME_SHAPE.add(_n)  # in place: the result is ``self``


@fn("chain_matmul")
def _chain_matmul(interp, args, kwargs, node):
    items = list(args[0]) if len(args) == 1 and isinstance(args[0], (tuple, list)) else list(args)
    if not items:
        return Unknown("chain_matmul")
    items = [_fixed_rank(t, 2) for t in items]  # matrices only
    out = items[0]
    for t in items[1:]:
        out = matmul(interp, node, out, t, "chain_matmul")
    return out


@fn("outer", "ger")
def _outer(interp, args, kwargs, node):
    p = Signature.of("input", "vec2").bind(args, kwargs)
    return new_tensor((_len1(p["input"]), _len1(p["vec2"])))


@fn("dot", "vdot")
def _dot(interp, args, kwargs, node):
    return new_tensor(())


@fn("inner")
def _inner(interp, args, kwargs, node):
    p = Signature.of("input", "other").bind(args, kwargs)
    a, b = p["input"], p["other"]
    if not (_tensor(a) and _tensor(b)) or a.shape is None or b.shape is None:
        return _unknown_like(a)
    if (a.shape == () and a.exact_rank) or (b.shape == () and b.exact_rank):
        return elementwise(interp, node, "torch.inner", a, b)
    if not a.shape or not b.shape:
        return _unknown_like(a)
    if not b.exact_rank:
        out = a.derive(tuple(b.shape[:-1]))  # b's leading dims are not all known: only its last ones are placed
    else:
        out = a.derive(tuple(a.shape[:-1]) + tuple(b.shape[:-1]))
    out.exact_rank = a.exact_rank and b.exact_rank
    return out


@fn("tensordot")
def _tensordot(interp, args, kwargs, node):
    p = Signature.of("a", "b", ("dims", 2)).bind(args, kwargs)
    a, b, dims = p["a"], p["b"], p["dims"]
    if not (_tensor(a) and _tensor(b)) or a.shape is None or b.shape is None or not (a.exact_rank and b.exact_rank):
        return _unknown_like(a)
    na, nb = len(a.shape), len(b.shape)
    if is_int(dims):
        da, db = list(range(na - dims, na)), list(range(dims))
    elif isinstance(dims, (tuple, list)) and len(dims) == 2:
        da, db = dims
        da = [da] if is_int(da) else list(da) if isinstance(da, (tuple, list)) else None
        db = [db] if is_int(db) else list(db) if isinstance(db, (tuple, list)) else None
        if da is None or db is None or not all(is_int(v) for v in (*da, *db)):
            return _unknown_like(a)
        da, db = [v % na for v in da], [v % nb for v in db]
    else:
        return _unknown_like(a)
    return a.derive(tuple(d for i, d in enumerate(a.shape) if i not in da) + tuple(d for i, d in enumerate(b.shape) if i not in db))


def einsum_shape(interp, node, eq, ops):
    """``einsum`` with ``...`` and implicit outputs: each letter's size, ellipsis dims broadcast."""
    if not isinstance(eq, str) or not all(_tensor(t) for t in ops):
        return Tensor(None, CHANNELS_FIRST, framework=FRAMEWORK)
    eq = eq.replace(" ", "")
    lhs, arrow, out = eq.partition("->")
    terms = lhs.split(",")
    if len(terms) != len(ops):
        return Tensor(None, CHANNELS_FIRST, framework=FRAMEWORK)
    sizes: dict = {}
    ell = []
    counts: dict = {}
    for term, t in zip(terms, ops):
        letters = term.replace("...", "")
        for ch in letters:
            counts[ch] = counts.get(ch, 0) + 1
        # a term without ``...`` fixes its operand's rank (einsum refuses any other): a rank known
        # only as a lower bound is that rank when the two agree
        if t.shape is None or (not t.exact_rank and ("..." in term or len(term) != len(t.shape))):
            for ch in letters:
                sizes.setdefault(ch, Unknown("einsum"))
            if "..." in term:
                ell.append(None)
            continue
        if "..." in term:
            pre, post = term.split("...")
            k = len(t.shape) - len(pre) - len(post)
            if k < 0:
                return Tensor(None, CHANNELS_FIRST, framework=FRAMEWORK)
            dims = dict(zip(pre, t.shape[: len(pre)]))
            dims.update(zip(post, t.shape[len(t.shape) - len(post):]))
            ell.append(tuple(t.shape[len(pre) : len(pre) + k]))
        else:
            if len(term) != len(t.shape):
                return Tensor(None, CHANNELS_FIRST, framework=FRAMEWORK)
            dims = dict(zip(term, t.shape))
        for ch, d in dims.items():
            cur = sizes.get(ch)
            if cur is None or isinstance(cur, Unknown) or (is_int(cur) and cur == 1):
                sizes[ch] = d
    if not arrow:
        out = ("..." if ell else "") + "".join(sorted(ch for ch, c in counts.items() if c == 1))
    ell_shape = broadcast_shape([e for e in ell if e is not None]) if ell and all(e is not None for e in ell) else None
    shape = []
    pre, _, post = out.partition("...")
    for ch in pre:
        shape.append(sizes.get(ch, Unknown("einsum")))
    if "..." in out:
        if ell_shape is None:
            return Tensor(None, CHANNELS_FIRST, framework=FRAMEWORK)
        shape.extend(ell_shape)
    for ch in post:
        shape.append(sizes.get(ch, Unknown("einsum")))
    base = max(ops, key=lambda t: len(t.downs)) if ops else None
    return base.derive(tuple(shape)) if base is not None else new_tensor(tuple(shape))


@fn("einsum")
def _einsum(interp, args, kwargs, node):
    if not args or not isinstance(args[0], str):
        return Unknown("einsum")
    ops = list(args[1:])
    if len(ops) == 1 and isinstance(ops[0], (list, tuple)):
        ops = list(ops[0])
    out = einsum_shape(interp, node, args[0], ops)
    return _exact(out) if _tensor(out) else out


@fn("cross")
def _cross(interp, args, kwargs, node):
    p = Signature.of("input", "other", ("dim", None)).bind(args, kwargs)
    return elementwise(interp, node, "torch.cross", p["input"], p["other"])


@fn("cdist")
def _cdist(interp, args, kwargs, node):
    p = Signature.of("x1", "x2", ("p", 2.0)).bind(args, kwargs)
    a, b = p["x1"], p["x2"]
    if not (_tensor(a) and _tensor(b)) or a.shape is None or b.shape is None or len(a.shape) < 2 or len(b.shape) < 2:
        return _unknown_like(a)
    if a.exact_rank and b.exact_rank:
        _inner_check(interp, node, "cdist", a, b, -1, -1)
    batch = broadcast_shape([tuple(a.shape[:-2]), tuple(b.shape[:-2])])
    out = a.derive(tuple(batch) + (a.shape[-2], b.shape[-2]))
    out.exact_rank = a.exact_rank and b.exact_rank
    return out


@fn("pdist")
def _pdist(interp, args, kwargs, node):
    x = tensor_arg(args, kwargs)
    if _tensor(x) and x.shape is not None and len(x.shape) == 2 and is_int(x.shape[0]):
        n = x.shape[0]
        return new_tensor((n * (n - 1) // 2,))
    return new_tensor((Unknown("pairs"),))


@fn("cosine_similarity")
def _cosine_similarity(interp, args, kwargs, node):
    p = Signature.of("x1", "x2", ("dim", 1), ("eps", 1e-8)).bind(args, kwargs)
    out = elementwise(interp, node, "cosine_similarity", p["x1"], p["x2"])
    return reduce_dims(out, p["dim"], False)


@fn("pairwise_distance")
def _pairwise_distance(interp, args, kwargs, node):
    p = Signature.of("x1", "x2", ("p", 2.0), ("eps", 1e-6), ("keepdim", False)).bind(args, kwargs)
    out = elementwise(interp, node, "pairwise_distance", p["x1"], p["x2"])
    if _tensor(out) and out.shape == ():
        return out
    return reduce_dims(out, -1, p["keepdim"])


# ===================================================================================== linear algebra

def _mat(x):
    """(batch, m, n) of a matrix argument, or None."""
    if not _tensor(x) or x.shape is None or len(x.shape) < 2:
        return None
    return tuple(x.shape[:-2]), x.shape[-2], x.shape[-1]


def _min(a, b):
    return min(a, b) if is_int(a) and is_int(b) else a if C.dims_equal(a, b) else Unknown("min of sizes")


@fn("pinverse")
def _pinverse(interp, args, kwargs, node):
    x = tensor_arg(args, kwargs)
    m = _mat(x)
    return x.derive(m[0] + (m[2], m[1])) if m else _unknown_like(x)


@fn("qr")
def _qr(interp, args, kwargs, node):
    p = Signature.of("input", ("some", True)).bind(args, kwargs)
    x = p["input"]
    m = _mat(x)
    if not m or p["some"] not in (True, False):
        return _named((_unknown_like(x), _unknown_like(x)), ("Q", "R"))
    b, rows, cols = m
    k = _min(rows, cols) if p["some"] else rows
    return _named((x.derive(b + (rows, k)), x.derive(b + (k, cols))), ("Q", "R"))


@fn("svd")
def _svd(interp, args, kwargs, node):
    p = Signature.of("input", ("some", True), ("compute_uv", True)).bind(args, kwargs)
    x = p["input"]
    m = _mat(x)
    if not m or p["some"] not in (True, False):
        return _named((_unknown_like(x),) * 3, ("U", "S", "V"))
    b, rows, cols = m
    k = _min(rows, cols)
    if p["some"]:
        return _named((x.derive(b + (rows, k)), x.derive(b + (k,)), x.derive(b + (cols, k))), ("U", "S", "V"))
    return _named((x.derive(b + (rows, rows)), x.derive(b + (k,)), x.derive(b + (cols, cols))), ("U", "S", "V"))


@fn("svd_lowrank", "pca_lowrank")
def _lowrank(interp, args, kwargs, node):
    p = Signature.of("A", ("q", 6)).bind(args, kwargs)
    x, q = p["A"], p["q"]
    m = _mat(x)
    if not m or not is_int(q):
        return (_unknown_like(x),) * 3
    b, rows, cols = m
    return (x.derive(b + (rows, q)), x.derive(b + (q,)), x.derive(b + (cols, q)))


@fn("lu")
def _lu(interp, args, kwargs, node):
    p = Signature.of("A", ("pivot", True), ("get_infos", False)).bind(args, kwargs)
    x = p["A"]
    m = _mat(x)
    piv = x.derive(m[0] + (_min(m[1], m[2]),)) if m else _unknown_like(x)
    out = (x, piv) if _tensor(x) else (Unknown("lu"), Unknown("lu"))
    if p["get_infos"] is True:
        return out + ((x.derive(m[0]) if m else _unknown_like(x)),)
    return out


@fn("lu_solve", "cholesky_solve")
def _lu_solve(interp, args, kwargs, node):
    b = tensor_arg(args, kwargs)
    return b.derive(b.shape) if _tensor(b) else Unknown("solve")


@fn("lu_unpack")
def _lu_unpack(interp, args, kwargs, node):
    x = tensor_arg(args, kwargs, "LU_data")
    m = _mat(x)
    if not m:
        return _named((_unknown_like(x),) * 3, ("P", "L", "U"))
    b, rows, cols = m
    k = _min(rows, cols)
    return _named((x.derive(b + (rows, rows)), x.derive(b + (rows, k)), x.derive(b + (k, cols))), ("P", "L", "U"))


@fn("triangular_solve")
def _triangular_solve(interp, args, kwargs, node):
    p = Signature.of("input", "A").bind(args, kwargs)
    b, a = p["input"], p["A"]
    mb, ma = _mat(b), _mat(a)
    if not mb or not ma:
        return _named((_unknown_like(b), _unknown_like(a)), ("solution", "cloned_coefficient"))
    batch = broadcast_shape([mb[0], ma[0]])
    return _named((b.derive(tuple(batch) + mb[1:]), a.derive(tuple(batch) + ma[1:])), ("solution", "cloned_coefficient"))


@fn("geqrf")
def _geqrf(interp, args, kwargs, node):
    x = tensor_arg(args, kwargs)
    m = _mat(x)
    if not m:
        return _named((_unknown_like(x), _unknown_like(x)), ("a", "tau"))
    return _named((x, x.derive(m[0] + (_min(m[1], m[2]),))), ("a", "tau"))


@fn("orgqr")
def _orgqr(interp, args, kwargs, node):
    return tensor_arg(args, kwargs)


@fn("ormqr")
def _ormqr(interp, args, kwargs, node):
    p = Signature.of("input", "input2", "input3").bind(args, kwargs)
    c = p["input3"]
    return c.derive(c.shape) if _tensor(c) else Unknown("ormqr")


@fn("corrcoef", "cov")
def _cov(interp, args, kwargs, node):
    x = tensor_arg(args, kwargs)
    if not _tensor(x) or x.shape is None or not x.exact_rank:
        return _unknown_like(x)
    if len(x.shape) <= 1:
        return new_tensor(())
    if len(x.shape) == 2:
        rows = x.shape[0]
        if is_int(rows):
            return new_tensor(()) if rows == 1 else x.derive((rows, rows))  # one variable: a 0-d result
        return _unknown_like(x)
    return _unknown_like(x)


@fn("vander")
def _vander(interp, args, kwargs, node):
    p = Signature.of("x", ("N", None), ("increasing", False)).bind(args, kwargs)
    n = _len1(p["x"])
    return new_tensor((n, p["N"] if p["N"] is not None and is_size(p["N"]) else n if p["N"] is None else Unknown("N")))


@fn("view_as_real", "view_as_real_copy")
def _view_as_real(interp, args, kwargs, node):
    x = tensor_arg(args, kwargs)
    if not _tensor(x) or x.shape is None:
        return _unknown_like(x)
    return x.derive(tuple(x.shape) + (2,))


@fn("view_as_complex", "view_as_complex_copy")
def _view_as_complex(interp, args, kwargs, node):
    x = tensor_arg(args, kwargs)
    if not _tensor(x) or x.shape is None or not x.shape:
        return _unknown_like(x)
    return x.derive(tuple(x.shape[:-1]))


@fn("as_strided", "as_strided_copy")
def _as_strided(interp, args, kwargs, node):
    p = Signature.of("input", "size", "stride", ("storage_offset", None)).bind(args, kwargs)
    dims = as_dims(p["size"])
    x = p["input"]
    if dims is None:
        return _unknown_like(x)
    return _exact((x if _tensor(x) else new_tensor(None)).derive(tuple(d if is_size(d) else Unknown("size") for d in dims)))


@fn("alias_copy", "detach_copy")
def _alias_copy(interp, args, kwargs, node):
    x = tensor_arg(args, kwargs)
    return x.derive(x.shape) if _tensor(x) else x


@fn("unfold_copy")
def _unfold_copy(interp, args, kwargs, node):
    p = Signature.of("input", "dimension", "size", "step").bind(args, kwargs)
    return unfold_dim(p["input"], p["dimension"], p["size"], p["step"])


def unfold_dim(x, d, size, step):
    """``Tensor.unfold(dimension, size, step)``: windows along one dim, the window appended last."""
    if not _tensor(x) or x.shape is None:
        return _unknown_like(x)
    a = axis(x, d)
    if a is None or not is_int(size) or not is_int(step) or size < 0 or step < 1:
        return x.derive(unknown_dims(len(x.shape) + (0 if not x.shape else 1), "unfold"))
    if not x.shape:
        return x.derive((size,))
    n = x.shape[a]
    count = Window(size, step).output_size(n) if is_size(n) and size > 0 else Unknown("unfold")
    if is_int(count) and count < 0:
        count = Unknown("window larger than the dim")
    return x.derive(tuple(x.shape[:a]) + (count,) + tuple(x.shape[a + 1 :]) + (size,))


# ===================================================================================== creation

def data_shape(v, depth: int = 0):
    """The shape of nested lists/tuples of numbers (``torch.tensor([[1, 2], [3, 4]])``), or None."""
    if isinstance(v, (bool, int, float, complex, Sym)):
        return ()
    if _tensor(v):
        return tuple(v.shape) if v.shape is not None and v.exact_rank else None
    if isinstance(v, (list, tuple)) and depth < 8:
        if not v:
            return (0,)
        shapes = [data_shape(x, depth + 1) for x in v]
        if any(s is None for s in shapes) or any(s != shapes[0] for s in shapes):
            return None
        return (len(v),) + shapes[0]
    return None


def _from_data(interp, args, kwargs, node):
    data = args[0] if args else kwargs.get("data", Unknown("data"))
    if _tensor(data):
        return data.derive(data.shape)
    shape = data_shape(data)
    return new_tensor(shape, fresh=True) if shape is not None else Tensor(None, CHANNELS_FIRST, framework=FRAMEWORK)


for _n in ("tensor", "as_tensor", "asarray"):
    FUNCTIONS[_n] = _from_data


def _sized(interp, args, kwargs, node, skip=0):
    if "*" in kwargs:
        return Tensor(None, CHANNELS_FIRST, framework=FRAMEWORK)
    rest = [a for a in args[skip:] if not isinstance(a, str)]
    dims = sizes_from_args(rest, kwargs)
    if dims is None:
        return Tensor(None, CHANNELS_FIRST, framework=FRAMEWORK)
    return new_tensor(tuple(d if is_size(d) else Unknown("size") for d in dims), fresh=True)


for _n in ("zeros", "ones", "empty", "rand", "randn"):
    FUNCTIONS[_n] = _sized


@fn("full")
def _full(interp, args, kwargs, node):
    p = Signature.of("size", ("fill_value", None)).bind(args, kwargs)
    return _sized(interp, [p["size"]], {}, node)


@fn("empty_strided", "empty_permuted")
def _empty_strided(interp, args, kwargs, node):
    p = Signature.of("size", "stride").bind(args, kwargs)
    return _sized(interp, [p["size"]], {}, node)


@fn("randint")
def _randint(interp, args, kwargs, node):
    """``randint(high, size)`` or ``randint(low, high, size)``: the size is the sequence."""
    if "size" in kwargs:
        return _sized(interp, [kwargs["size"]], {}, node)
    seqs = [a for a in args if isinstance(a, (tuple, list))]
    return _sized(interp, [seqs[-1]], {}, node) if seqs else Tensor(None, CHANNELS_FIRST, framework=FRAMEWORK)


@fn("randperm")
def _randperm(interp, args, kwargs, node):
    n = tensor_arg(args, kwargs, "n")
    return new_tensor((n if is_size(n) else Unknown("n"),), fresh=True)


@fn("eye")
def _eye(interp, args, kwargs, node):
    p = Signature.of("n", ("m", None)).bind(args, kwargs)
    n, m = p["n"], p["m"]
    m = n if m is None else m
    return new_tensor((n if is_size(n) else Unknown("n"), m if is_size(m) else Unknown("m")), fresh=True)


def _num(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


@fn("arange")
def _arange(interp, args, kwargs, node):
    vals = [a for a in args if not isinstance(a, str)]
    for k in ("start", "end", "step"):
        if k in kwargs:
            vals = vals + [kwargs[k]] if k != "start" else [kwargs[k]] + vals
    if len(vals) == 1 and is_size(vals[0]):
        out = new_tensor((vals[0],), fresh=True)
        if is_int(vals[0]) and vals[0] <= MAX_VALUES and kwargs.get("dtype") is None:
            out.values = tuple(range(vals[0]))  # int64 elements: exact
        return out
    if len(vals) in (1, 2, 3) and all(_num(v) for v in vals):
        start, end, step = (0, vals[0], 1) if len(vals) == 1 else (vals[0], vals[1], vals[2] if len(vals) == 3 else 1)
        if step == 0:
            return Tensor(None, CHANNELS_FIRST, framework=FRAMEWORK)
        out = new_tensor((max(math.ceil((end - start) / step), 0),), fresh=True)
        if all(is_int(v) for v in (start, end, step)) and kwargs.get("dtype") is None and out.shape[0] <= MAX_VALUES:
            out.values = tuple(range(start, end, step))  # int64 elements: exact
        return out
    if len(vals) == 2 and isinstance(vals[1], Sym) and is_int(vals[0]):
        return new_tensor((vals[1] - vals[0],), fresh=True)
    return new_tensor((Unknown("arange length"),), fresh=True)


@fn("range")
def _range(interp, args, kwargs, node):
    vals = [a for a in args if _num(a)]
    if len(vals) in (2, 3) and len(vals) == len([a for a in args if not isinstance(a, str)]):
        start, end, step = vals[0], vals[1], vals[2] if len(vals) == 3 else 1
        if step:
            return new_tensor((max(math.floor((end - start) / step) + 1, 0),), fresh=True)
    return new_tensor((Unknown("range length"),), fresh=True)


@fn("logspace")
def _logspace(interp, args, kwargs, node):
    p = Signature.of("start", "end", "steps").bind(args, kwargs)
    n = p["steps"]
    return new_tensor((n if is_size(n) else Unknown("steps"),), fresh=True)


@fn("linspace")
def _linspace(interp, args, kwargs, node):
    p = Signature.of("start", "end", "steps").bind(args, kwargs)
    n = p["steps"]
    out = new_tensor((n if is_size(n) else Unknown("steps"),), fresh=True)
    start, end = p["start"], p["end"]
    if is_int(n) and 0 < n <= MAX_VALUES and _num(start) and _num(end) and kwargs.get("dtype") is None:
        # float32 elements; known exactly: the first (start) and last (end), and all of them when
        # start == end (the inner ones depend on float32 rounding in torch's kernel)
        s, e = float32(start), float32(end)
        if s == e:
            out.values = (s,) * n
        else:
            out.values = (s,) + (Unknown("an inner element of linspace"),) * (n - 2) + ((e,) if n > 1 else ())
    return out


MAX_VALUES = 4096  # elements a constant tensor keeps


def float32(x) -> float:
    """``x`` rounded to float32, as ``tensor.item()`` of a float32 tensor returns it."""
    import struct

    return struct.unpack("f", struct.pack("f", float(x)))[0]


@fn("scalar_tensor")
def _scalar_tensor(interp, args, kwargs, node):
    return new_tensor((), fresh=True)


def _window(interp, args, kwargs, node):
    n = tensor_arg(args, kwargs, "window_length")
    return new_tensor((n if is_size(n) else Unknown("window_length"),), fresh=True)


for _n in ("bartlett_window", "blackman_window", "hamming_window", "hann_window", "kaiser_window"):
    FUNCTIONS[_n] = _window


def _like(interp, args, kwargs, node):
    x = tensor_arg(args, kwargs)
    if _tensor(x):
        return Tensor(x.shape, x.layout, history=x.history, downs=x.downs, framework=x.framework, exact_rank=x.exact_rank)
    return Tensor(None, CHANNELS_FIRST, framework=FRAMEWORK)


for _n in ("zeros_like", "ones_like", "empty_like", "rand_like", "randn_like", "full_like", "randint_like"):
    FUNCTIONS[_n] = _like


@fn("normal")
def _normal(interp, args, kwargs, node):
    p = Signature.of("mean", ("std", 1.0), ("size", None)).bind(args, kwargs)
    if p["size"] is not None:
        return _sized(interp, [p["size"]], {}, node)
    return elementwise(interp, node, "torch.normal", p["mean"], p["std"])


@fn("multinomial")
def _multinomial(interp, args, kwargs, node):
    p = Signature.of("input", "num_samples").bind(args, kwargs)
    return _replace_dim(p["input"], -1, p["num_samples"], "num_samples")


@fn("resize_as_")
def _resize_as(interp, args, kwargs, node):
    p = Signature.of("input", "the_template").bind(args, kwargs)
    t = p["the_template"]
    return t.derive(t.shape) if _tensor(t) else _unknown_like(p["input"])


@fn("constant_pad_nd")
def _constant_pad_nd(interp, args, kwargs, node):
    p = Signature.of("input", "pad", ("value", 0)).bind(args, kwargs)
    x = p["input"]
    return C.pad_last_dims(interp, x, p["pad"], "pad") if _tensor(x) else _unknown_like(x)


# ===================================================================================== neural-network kernels in ``torch``

@fn("embedding")
def _embedding(interp, args, kwargs, node):
    """``torch.embedding(weight, indices)`` (the weight first, unlike ``F.embedding``)."""
    p = Signature.of("weight", "indices").bind(args, kwargs)
    w, idx = p["weight"], p["indices"]
    d = w.shape[-1] if _tensor(w) and w.shape is not None and len(w.shape) == 2 else Unknown("embedding_dim")
    if not _tensor(idx) or idx.shape is None:
        out = new_tensor((d,))
        out.exact_rank = False
        return out
    return idx.derive(tuple(idx.shape) + (d,))


@fn("bilinear")
def _bilinear(interp, args, kwargs, node):
    p = Signature.of("input1", "input2", "weight", ("bias", None)).bind(args, kwargs)
    a, w = p["input1"], p["weight"]
    out_f = w.shape[0] if _tensor(w) and w.shape is not None and len(w.shape) == 3 else Unknown("out_features")
    if not _tensor(a) or a.shape is None:
        out = new_tensor((out_f,))
        out.exact_rank = False
        return out
    return a.derive(tuple(a.shape[:-1]) + (out_f,))


def _cell(kind):
    """``torch.lstm_cell(input, (h, c), w_ih, w_hh, …)`` → ``(h', c')``; the GRU/RNN cells → ``h'``."""
    def f(interp, args, kwargs, node):
        hx = args[1] if len(args) > 1 else kwargs.get("hx", Unknown("hx"))
        if kind == "lstm":
            if isinstance(hx, (tuple, list)) and len(hx) == 2:
                return tuple(h.derive(h.shape) if _tensor(h) else h for h in hx)
            return Unknown("lstm_cell state")
        return hx.derive(hx.shape) if _tensor(hx) else Unknown("cell state")

    return f


FUNCTIONS["lstm_cell"] = _cell("lstm")
for _n in ("gru_cell", "rnn_tanh_cell", "rnn_relu_cell"):
    FUNCTIONS[_n] = _cell("gru")


def _rnn_kernel(kind):
    """``torch.lstm(input, hx, params, has_biases, num_layers, dropout, train, bidirectional,
    batch_first)``: the output's last dim is ``D·hidden`` (hidden from the states)."""
    def f(interp, args, kwargs, node):
        sig = Signature.of("input", "hx", "params", "has_biases", "num_layers", "dropout", "train", "bidirectional", "batch_first")
        p = sig.bind(args, kwargs)
        x, hx = p["input"], p["hx"]
        if not _tensor(x) or _tensor(p["params"]):
            return Unknown("packed-sequence form")
        states = list(hx) if isinstance(hx, (tuple, list)) else [hx]
        h0 = states[0] if states else None
        bi = p["bidirectional"]
        hid = h0.shape[-1] if _tensor(h0) and h0.shape else Unknown("hidden")
        last = mul(hid, 2 if bi is True else 1) if bi in (True, False) else Unknown("directions")
        out = x.derive(tuple(x.shape[:-1]) + (last,)) if x.shape is not None else _unknown_like(x)
        rest = tuple(s.derive(s.shape) if _tensor(s) else s for s in states)
        return (out, *rest)

    return f


FUNCTIONS["lstm"] = _rnn_kernel("lstm")
for _n in ("gru", "rnn_tanh", "rnn_relu"):
    FUNCTIONS[_n] = _rnn_kernel(_n)


# ===================================================================================== values that are not tensors

@fn("numel")
def _numel_fn(interp, args, kwargs, node):
    x = tensor_arg(args, kwargs)
    return _numel(x) if _tensor(x) else Unknown("numel")


@fn("is_tensor")
def _is_tensor(interp, args, kwargs, node):
    x = tensor_arg(args, kwargs, "obj")
    if _tensor(x):
        return True
    if isinstance(x, (bool, int, float, str, tuple, list, dict, type(None))):
        return False
    return Unknown("is_tensor")


@fn("is_same_size")
def _is_same_size(interp, args, kwargs, node):
    p = Signature.of("input", "other").bind(args, kwargs)
    a, b = p["input"], p["other"]
    if _tensor(a) and _tensor(b) and a.shape is not None and b.shape is not None and a.exact_rank and b.exact_rank:
        if len(a.shape) != len(b.shape) or any(C.mismatch(x, y) for x, y in zip(a.shape, b.shape)):
            return False
        if all(C.dims_equal(x, y) for x, y in zip(a.shape, b.shape)):
            return True
    return Unknown("is_same_size")
