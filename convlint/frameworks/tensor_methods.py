"""Attributes and methods of tensors and arrays (torch ``Tensor``, ``jax.Array``), as a table.

``ATTRIBUTES`` maps an attribute name to ``fn(tensor) -> value``; ``METHODS`` maps a method name to
``fn(interp, tensor, args, kwargs, node) -> value``. Methods that keep the shape are listed in
:data:`SAME_SHAPE`. A method that is in none of them gives an unknown that names it.
"""

from __future__ import annotations

from convlint.frameworks import array_methods
from convlint.frameworks import shapes as C
from convlint.frameworks.base import CPU, is_int
from convlint.interpret import builtins as pyb
from convlint.interpret.ops import BinOp
from convlint.interpret.symbolic import is_size
from convlint.interpret.tensor import Tensor
from convlint.interpret.values import MISSING, Unknown

__all__ = ["ATTRIBUTES", "METHODS", "SAME_SHAPE", "tensor_attr"]


def tensor_attr(interp, t: Tensor, name: str):
    """``t.name``: an attribute value, or a bound method."""
    if t.framework in ("jax", "flax"):  # jax arrays: numpy semantics (x.size, x.repeat, x.at[...])
        v = array_methods.attr(interp, t, name)
        if v is not MISSING:
            return v
    attr = ATTRIBUTES.get(name)
    if attr is not None:
        return attr(t)
    method = METHODS.get(name)
    if method is None and name in SAME_SHAPE:
        method = _same
    if method is None:
        return pyb.Builtin(f"Tensor.{name}", lambda i, a, k, n: Unknown(f"Tensor.{name}"))
    return pyb.Builtin(f"Tensor.{name}", lambda i, a, k, n: method(i, t, a, k, n))


# ------------------------------------------------------------------------------------ attributes

def _transposed(t: Tensor):
    return t.derive(tuple(reversed(t.shape))) if t.shape is not None else t


ATTRIBUTES = {
    "shape": lambda t: tuple(t.shape) if t.shape is not None else Unknown("shape of unknown rank"),
    "ndim": lambda t: len(t.shape) if t.shape is not None else Unknown("rank"),
    "T": _transposed,
    "mT": _transposed,
    "real": lambda t: t,
    "imag": lambda t: t,
    "data": lambda t: t,
    "grad": lambda t: t,
    "dtype": lambda t: Unknown("dtype"),
    "device": lambda t: CPU,
    # convlint follows the CPU path (docs/architecture.md)
    "is_cuda": lambda t: False,
    "is_mps": lambda t: False,
    "is_sparse": lambda t: False,
    "is_quantized": lambda t: False,
    "is_complex": lambda t: False,
}


# ------------------------------------------------------------------------------------ methods

def _same(i, t, a, k, n):
    return t


def _dim_of(t: Tensor, d):
    if t.shape is None or not is_int(d):
        return Unknown("dim")
    n = len(t.shape)
    if not -n <= d < n:
        return Unknown("dim out of range")
    return t.shape[d]


def _size(i, t, a, k, n):
    if not a and "dim" not in k:
        return tuple(t.shape) if t.shape is not None else Unknown("size")
    return _dim_of(t, a[0] if a else k["dim"])


def _view(i, t, a, k, n):
    if "*" in k or (len(a) == 1 and isinstance(a[0], Unknown)):
        return t.derive(None)  # the target's rank is not known
    shape = a[0] if len(a) == 1 and isinstance(a[0], (tuple, list)) else tuple(a)
    if "shape" in k:
        shape = k["shape"]
    s = C.as_shape(shape)
    return C.reshape(t, s, "reshape") if s is not None else t.derive(None)


def _flatten(i, t, a, k, n):
    s = a[0] if a else k.get("start_dim", 0)
    e = a[1] if len(a) > 1 else k.get("end_dim", -1)
    return C.flatten(t, s, e, "flatten") if is_int(s) and is_int(e) else t.derive(None)


def _permute(i, t, a, k, n):
    order = a[0] if len(a) == 1 and isinstance(a[0], (tuple, list)) else a
    if t.shape is None or not all(is_int(o) for o in order) or len(order) != len(t.shape):
        return t.derive(None)
    return t.derive(tuple(t.shape[o] for o in order), layout=None)


def _transpose(i, t, a, k, n):
    if t.shape is None:
        return t
    if t.framework in ("jax", "flax") and len(a) == len(t.shape) and len(a) != 2 and all(is_int(x) for x in a):
        return t.derive(tuple(t.shape[o] for o in a), layout=None)  # jax: x.transpose(0, 3, 1, 2)
    if len(a) == 2 and all(is_int(x) for x in a):
        s = list(t.shape)
        try:
            s[a[0]], s[a[1]] = s[a[1]], s[a[0]]
        except IndexError:
            return t.derive(None)
        return t.derive(tuple(s), layout=None)
    if len(a) == 1 and isinstance(a[0], (tuple, list)) and all(is_int(x) for x in a[0]) and len(a[0]) == len(t.shape):
        return t.derive(tuple(t.shape[o] for o in a[0]), layout=None)
    return t.derive(None)


def _swapaxes(i, t, a, k, n):
    if t.shape is None:
        return t
    if len(a) == 2 and all(is_int(x) for x in a):
        s = list(t.shape)
        try:
            s[a[0]], s[a[1]] = s[a[1]], s[a[0]]
        except IndexError:
            return t.derive(None)
        return t.derive(tuple(s), layout=None)
    return t.derive(None)


def _unsqueeze(i, t, a, k, n):
    d = a[0] if a else k.get("dim")
    if t.shape is None or not is_int(d):
        return t.derive(None)
    s = list(t.shape)
    d = d if d >= 0 else len(s) + 1 + d
    s.insert(d, 1)
    return t.derive(tuple(s))


def _squeeze(i, t, a, k, n):
    if t.shape is None:
        return t
    if a and is_int(a[0]):
        d = a[0]
        if t.shape[d] == 1:
            s = list(t.shape)
            s.pop(d)
            return t.derive(tuple(s))
        return t if is_int(t.shape[d]) else t.derive(None)
    if all(is_int(x) for x in t.shape):
        return t.derive(tuple(x for x in t.shape if x != 1))
    return t.derive(None)


def _chunk(i, t, a, k, n):
    from convlint.frameworks.torch import chunk

    return chunk(i, [t, *a], k, n)


def _reduce(i, t, a, k, n):
    return C.reduce(t, a[0] if a else k.get("dim", k.get("axis")), k.get("keepdim", k.get("keepdims", False)))


def _arith(op: BinOp):
    def fn(i, t, a, k, n):
        other = a[0] if a else k.get("other", Unknown("operand"))
        return i.fw.tensor_binop(i, op, t, other, i.site(n) if n is not None else None)

    return fn


def _unbind(i, t, a, k, n):
    d = a[0] if a else k.get("dim", 0)
    if t.shape is None or not is_int(d) or not -len(t.shape) <= d < len(t.shape):
        return Unknown("unbind")
    d %= len(t.shape)
    size = t.shape[d]
    if not is_int(size) or size > 64:
        return Unknown("unbind")
    return tuple(t.derive(tuple(t.shape[:d]) + tuple(t.shape[d + 1 :])) for _ in range(size))


def _matmul(i, t, a, k, n):
    return C.matmul(t, a[0]) if a else Unknown("matmul")


def _split(i, t, a, k, n):
    return C.split_sizes(t, a[0] if a else k.get("split_size"), a[1] if len(a) > 1 else k.get("dim", 0))


def _narrow(i, t, a, k, n):
    if len(a) == 3 and all(is_int(v) for v in a) and t.shape is not None and -len(t.shape) <= a[0] < len(t.shape):
        d = a[0] % len(t.shape)
        return C.repair(t.derive(tuple(t.shape[:d]) + (a[2],) + tuple(t.shape[d + 1 :])))
    return Tensor(None)


def _repeat(i, t, a, k, n):
    reps = a[0] if len(a) == 1 and isinstance(a[0], (tuple, list)) else a
    if t.shape is None or not reps or not all(is_int(v) for v in reps) or len(reps) < len(t.shape):
        return Tensor(None)
    shape = (1,) * (len(reps) - len(t.shape)) + tuple(t.shape)
    return t.derive(tuple(d * r if is_size(d) else Unknown("repeat") for d, r in zip(shape, reps)))


def _repeat_interleave(i, t, a, k, n):
    r = a[0] if a else k.get("repeats")
    d = a[1] if len(a) > 1 else k.get("dim")
    if t.shape is None or not is_int(r) or not is_int(d) or not -len(t.shape) <= d < len(t.shape):
        return Tensor(None)
    d %= len(t.shape)
    size = t.shape[d]
    return t.derive(tuple(t.shape[:d]) + ((size * r) if is_size(size) else Unknown("repeat"),) + tuple(t.shape[d + 1 :]))


def _unflatten(i, t, a, k, n):
    d = a[0] if a else k.get("dim")
    sizes = a[1] if len(a) > 1 else k.get("sizes")
    if t.shape is None or not is_int(d) or not isinstance(sizes, (tuple, list)):
        return Tensor(None)
    d %= len(t.shape)
    return C.reshape(t, tuple(t.shape[:d]) + tuple(sizes) + tuple(t.shape[d + 1 :]), "unflatten")


def _as(i, t, a, k, n):
    return t.derive(a[0].shape) if a and isinstance(a[0], Tensor) else t.derive(None)


def _new(i, t, a, k, n):
    shape = a[0] if a and isinstance(a[0], (tuple, list)) else k.get("size")
    s = C.as_shape(shape)
    return Tensor(s, t.layout, framework=t.framework) if s is not None else Tensor(None)


def _numel(i, t, a, k, n):
    return C.numel(t.shape) if t.shape is not None else Unknown("numel")


METHODS = {
    "size": _size,
    "dim": lambda i, t, a, k, n: len(t.shape) if t.shape is not None else Unknown("dim"),
    "view": _view,
    "reshape": _view,
    "flatten": _flatten,
    "permute": _permute,
    "transpose": _transpose,
    "swapaxes": _swapaxes,
    "unsqueeze": _unsqueeze,
    "squeeze": _squeeze,
    "chunk": _chunk,
    "unbind": _unbind,
    "matmul": _matmul,
    "bmm": _matmul,
    "mm": _matmul,
    "split": _split,
    "narrow": _narrow,
    "repeat": _repeat,
    "tile": _repeat,
    "repeat_interleave": _repeat_interleave,
    "unflatten": _unflatten,
    "view_as": _as,
    "expand_as": _as,
    "reshape_as": _as,
    "new_zeros": _new,
    "new_ones": _new,
    "new_empty": _new,
    "new_full": _new,
    "numel": _numel,
}
for _name in ("mean", "sum", "amax", "amin", "max", "min", "std", "var", "norm", "prod", "logsumexp"):
    METHODS[_name] = _reduce
for _name, _op in (("add", BinOp.ADD), ("sub", BinOp.SUB), ("mul", BinOp.MUL), ("div", BinOp.DIV)):
    METHODS[_name] = METHODS[_name + "_"] = _arith(_op)
for _name in ("maximum", "minimum", "pow", "where"):
    METHODS[_name] = _arith(BinOp.ADD)

SAME_SHAPE = frozenset(
    (
        "to", "float", "double", "half", "bfloat16", "int", "long", "bool", "cuda", "cpu", "contiguous", "clone", "detach",
        "detach_", "requires_grad_", "relu", "relu_", "sigmoid", "sigmoid_", "tanh", "tanh_", "exp", "exp_", "log", "abs",
        "sqrt", "rsqrt", "neg", "clamp", "clamp_", "clip", "sin", "cos", "softmax", "log_softmax", "type_as", "masked_fill",
        "masked_fill_", "roll", "flip", "zero_", "fill_", "normal_", "uniform_", "square", "sign", "round", "floor", "ceil",
        "nan_to_num", "copy_", "pin_memory", "gelu", "silu", "leaky_relu", "cumsum", "cumprod", "erf", "reciprocal", "type",
        "astype", "block_until_ready", "mul_scalar", "softplus", "lerp", "float32", "div_scalar",
    )
)
