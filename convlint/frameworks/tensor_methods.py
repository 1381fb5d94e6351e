"""Attributes and methods of tensors and arrays (torch ``Tensor``, ``jax.Array``), as a table.

``ATTRIBUTES`` maps an attribute name to ``fn(tensor) -> value``; ``METHODS`` maps a method name to
``fn(interp, tensor, args, kwargs, node) -> value``. A torch method that is also a ``torch``
function (``x.sum(1)`` / ``torch.sum(x, 1)``) uses that function's shape function from
:mod:`convlint.frameworks.torch.functions`; methods that keep the shape are listed in
:data:`SAME_SHAPE`; :data:`UNMODELLED_METHODS` says why the rest are not followed. jax arrays keep
numpy's conventions (``axis=``, ``x.transpose(0, 3, 1, 2)``, ``x.max(axis)`` without indices):
:data:`JAX_METHODS` overrides those.
"""

from __future__ import annotations

from convlint.frameworks import array_methods
from convlint.frameworks import shapes as C
from convlint.frameworks.base import CPU, is_int
from convlint.frameworks.torch import functions as TF
from convlint.frameworks.torch.common import as_dims
from convlint.interpret import builtins as pyb
from convlint.interpret.ops import BinOp
from convlint.interpret.symbolic import is_size
from convlint.interpret.tensor import Tensor
from convlint.interpret.values import MISSING, Unknown

__all__ = ["ATTRIBUTES", "METHODS", "JAX_METHODS", "SAME_SHAPE", "UNMODELLED_METHODS", "tensor_attr", "method_kind"]

JAX = ("jax", "flax")


def method_kind(name: str) -> str | None:
    """How ``Tensor.name`` is handled: "modelled", "preserving", "unmodelled", or None."""
    if name in METHODS or name in ATTRIBUTES:
        return "modelled"
    if name in SAME_SHAPE:
        return "preserving"
    if name in TF.FUNCTIONS and name not in NOT_METHOD_FORMS:
        return "modelled"
    if name in UNMODELLED_METHODS:
        return "unmodelled"
    return None


def _method(name: str, t: Tensor):
    if t.framework in JAX and name in JAX_METHODS:
        return JAX_METHODS[name]
    m = METHODS.get(name)
    if m is not None:
        return m
    if name in SAME_SHAPE:
        return _same if name.endswith("_") else _copy  # in place: the tensor itself; else a new tensor
    f = TF.FUNCTIONS.get(name)
    if f is not None and name not in NOT_METHOD_FORMS:
        return lambda i, t, a, k, n, f=f: f(i, [t, *a], _aliases(k), n)
    return None


def tensor_attr(interp, t: Tensor, name: str):
    """``t.name``: an attribute value, or a bound method."""
    if t.framework in ("jax", "flax"):  # jax arrays: numpy semantics (x.size, x.repeat, x.at[...])
        v = array_methods.attr(interp, t, name)
        if v is not MISSING:
            return v
    if name.endswith("_") and not name.endswith("__") and t.values is not None:
        t.values = None  # an in-place method (``t.add_(1)``): the elements are no longer known
    if name in ("item", "tolist") and t.values is not None and t.shape is not None and len(t.shape) <= 1:
        return pyb.Builtin(f"Tensor.{name}", lambda i, a, k, n: _elements(t, name))
    attr = ATTRIBUTES.get(name)
    if attr is not None:
        return attr(t)
    method = _method(name, t)
    if method is None:
        why = UNMODELLED_METHODS.get(name)
        return pyb.Builtin(f"Tensor.{name}", lambda i, a, k, n: Unknown(f"Tensor.{name}" + (f": {why}" if why else "")))
    return pyb.Builtin(f"Tensor.{name}", lambda i, a, k, n: method(i, t, a, _aliases(k), n))


def _elements(t: Tensor, name: str):
    """``item()`` / ``tolist()`` of a small constant tensor whose elements are known."""
    if len(t.shape) == 0 or name == "item":
        return t.values[0] if len(t.values) == 1 else Unknown(f"Tensor.{name} of a tensor with more than one element")
    return list(t.values)


def _aliases(kwargs: dict) -> dict:
    """torch accepts numpy's ``axis=``/``keepdims=`` for ``dim=``/``keepdim=``."""
    if "axis" in kwargs and "dim" not in kwargs or "keepdims" in kwargs and "keepdim" not in kwargs:
        kwargs = dict(kwargs)
        if "axis" in kwargs and "dim" not in kwargs:
            kwargs["dim"] = kwargs.pop("axis")
        if "keepdims" in kwargs and "keepdim" not in kwargs:
            kwargs["keepdim"] = kwargs.pop("keepdims")
    return kwargs


# ------------------------------------------------------------------------------------ attributes

def _reversed(t: Tensor):
    if t.shape is None or not t.exact_rank:
        return t.derive(None) if t.shape is None else TF._unknown_like(t)
    return t.derive(tuple(reversed(t.shape)), layout=None)


def _matrix_transpose(t: Tensor):
    return TF.swap_dims(t, -2, -1)


def _shape(t: Tensor):
    if t.shape is None:
        return Unknown("shape of unknown rank")
    if not t.exact_rank:
        return Unknown("shape of a tensor whose rank is only a lower bound")
    return tuple(t.shape)


def _ndim(t: Tensor):
    return len(t.shape) if t.shape is not None and t.exact_rank else Unknown("rank")


ATTRIBUTES = {
    "shape": _shape,
    "ndim": _ndim,
    "T": _reversed,
    "H": _reversed,
    "mT": _matrix_transpose,
    "mH": _matrix_transpose,
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


def _copy(i, t, a, k, n):
    return t.same()


def _dim_of(t: Tensor, d):
    if t.shape is None or not is_int(d):
        return Unknown("dim")
    n = len(t.shape)
    if not -n <= d < n or (d >= 0 and not t.exact_rank):
        return Unknown("dim out of range" if -n <= d < n or t.exact_rank else "dim of a tensor whose rank is only a lower bound")
    return t.shape[d]


def _size(i, t, a, k, n):
    if not a and "dim" not in k:
        return _shape(t)
    return _dim_of(t, a[0] if a else k["dim"])


def _varargs(a, k, key):
    """``x.view(2, 3)``, ``x.view((2, 3))``, ``x.view(size=(2, 3))``."""
    if key in k:
        return k[key]
    if "*" in k or (len(a) == 1 and isinstance(a[0], Unknown)):
        return None
    return a[0] if len(a) == 1 and isinstance(a[0], (tuple, list)) else tuple(a)


def _view(i, t, a, k, n):
    if len(a) == 1 and not isinstance(a[0], (tuple, list)) and not is_size(a[0]) and not isinstance(a[0], Unknown) and "size" not in k:
        return t  # view(dtype)
    shape = _varargs(a, k, "size" if "size" in k else "shape")
    if shape is None:
        return TF._unknown_like(t)
    return TF.reshape_to(i, n, t, shape, "view")


def _reshape(i, t, a, k, n):
    shape = _varargs(a, k, "shape")
    if shape is None:
        return TF._unknown_like(t)
    return TF.reshape_to(i, n, t, shape, "reshape")


def _expand(i, t, a, k, n):
    sizes = _varargs(a, k, "size")
    return TF.expand_to(i, n, t, sizes) if sizes is not None else TF._unknown_like(t)


def _permute(i, t, a, k, n):
    order = _varargs(a, k, "dims")
    return TF.permute_dims(i, n, t, order) if order is not None else TF._unknown_like(t)


def _repeat(i, t, a, k, n):
    reps = _varargs(a, k, "repeats")
    return TF.repeat_dims(t, reps) if reps is not None else TF._unknown_like(t)


def _tile(i, t, a, k, n):
    reps = _varargs(a, k, "dims")
    return TF.repeat_dims(t, reps, tile=True) if reps is not None else TF._unknown_like(t)


def _sum_to_size(i, t, a, k, n):
    sizes = as_dims(_varargs(a, k, "size"))
    return t.derive(sizes) if sizes is not None else TF._unknown_like(t)


def _resize(i, t, a, k, n):
    sizes = as_dims(_varargs(a, k, "size"))
    if sizes is None:
        return TF._unknown_like(t)
    out = t.derive(tuple(d if is_size(d) else Unknown("size") for d in sizes))
    out.exact_rank = True
    return out


def _as(i, t, a, k, n):
    other = a[0] if a else k.get("other", k.get("tensor"))
    if isinstance(other, Tensor):
        out = t.derive(other.shape)
        out.exact_rank = other.exact_rank
        return out
    return TF._unknown_like(t)


def _view_as(i, t, a, k, n):
    other = a[0] if a else k.get("other")
    if isinstance(other, Tensor) and other.shape is not None and other.exact_rank:
        return TF.reshape_to(i, n, t, tuple(other.shape), "view_as")
    return _as(i, t, a, k, n)


def _new(i, t, a, k, n):
    if "size" in k:
        shape = k["size"]
    elif a and isinstance(a[0], (tuple, list)):
        shape = a[0]
    elif a and all(is_size(x) for x in a):
        shape = tuple(a)  # new_zeros(2, 3)
    else:
        shape = None
    s = as_dims(shape) if shape is not None else None
    return Tensor(tuple(d if is_size(d) else Unknown("size") for d in s), t.layout, framework=t.framework) if s is not None else Tensor(None, t.layout, framework=t.framework)


def _new_tensor(i, t, a, k, n):
    data = a[0] if a else k.get("data", Unknown("data"))
    shape = TF.data_shape(data)
    return Tensor(shape, t.layout, framework=t.framework) if shape is not None else Tensor(None, t.layout, framework=t.framework)


def _legacy_new(i, t, a, k, n):
    """``x.new(2, 3)`` (sizes) or ``x.new(data)``."""
    if a and all(is_int(v) for v in a):
        return Tensor(tuple(a), t.layout, framework=t.framework)
    if not a:
        return Tensor((0,), t.layout, framework=t.framework)
    return _new_tensor(i, t, a, k, n)


def _numel(i, t, a, k, n):
    return TF._numel(t)


def _unfold(i, t, a, k, n):
    from convlint.frameworks.base import Signature

    p = Signature.of("dimension", "size", "step").bind(a, k)
    return TF.unfold_dim(t, p["dimension"], p["size"], p["step"])


def _set(i, t, a, k, n):
    src = a[0] if a else k.get("source")
    if isinstance(src, Tensor):
        return t.derive(src.shape)
    if src is None and "size" in k:
        return _resize(i, t, [], {"size": k["size"]}, n)
    return Tensor((0,), t.layout, framework=t.framework) if not a and not k else TF._unknown_like(t)


def _type(i, t, a, k, n):
    return t if a or k else Unknown("Tensor.type(): the type's name")


def _inplace(name):
    """``x.add_(y)``: ``y`` must broadcast to ``x`` (a merge is recorded) without growing it; the
    result is ``x``."""
    f = TF.FUNCTIONS[name]

    def m(i, t, a, k, n):
        r = f(i, [t, *a], k, n)
        if isinstance(r, Tensor) and r.shape is not None and t.shape is not None and t.exact_rank and r.exact_rank:
            grown = len(r.shape) > len(t.shape) or any(C.mismatch(x, y) for x, y in zip(t.shape, r.shape[len(r.shape) - len(t.shape):]))
            if grown:
                from convlint.frameworks.torch.common import reject

                reject(i, i.site(n) if n is not None else None, f"Tensor.{name}_",
                       f"the in-place result would have the broadcast shape {tuple(r.shape)}, not the tensor's {tuple(t.shape)}",
                       "an in-place operand broadcasts to the tensor's shape", "other")
        return t

    return m


def _arith(op: BinOp):
    def fn(i, t, a, k, n):
        other = a[0] if a else k.get("other", Unknown("operand"))
        return i.fw.tensor_binop(i, op, t, other, i.site(n) if n is not None else None)

    return fn


def _inplace_view(name, method=None):
    """``x.unsqueeze_(0)``, ``x.t_()``, ``x.resize_(2, 3)``: the tensor itself takes the result's shape."""
    def m(i, t, a, k, n):
        f = method or (lambda i2, t2, a2, k2, n2: TF.FUNCTIONS[name](i2, [t2, *a2], k2, n2))
        r = f(i, t, a, k, n)
        if isinstance(r, Tensor) and r is not t:
            t.shape, t.exact_rank = r.shape, r.exact_rank
            t.history = r.history
            return t
        return r

    return m


METHODS = {
    "size": _size,
    "dim": lambda i, t, a, k, n: _ndim(t),
    "ndimension": lambda i, t, a, k, n: _ndim(t),
    "numel": _numel,
    "nelement": _numel,
    "view": _view,
    "reshape": _reshape,
    "expand": _expand,
    "permute": _permute,
    "repeat": _repeat,
    "tile": _tile,
    "unfold": _unfold,
    "sum_to_size": _sum_to_size,
    "resize": _resize,
    "resize_": _inplace_view("resize_", _resize),
    "resize_as": _as,
    "resize_as_": _inplace_view("resize_as_", _as),
    "view_as": _view_as,
    "expand_as": _as,
    "reshape_as": _view_as,
    "new_zeros": _new,
    "new_ones": _new,
    "new_empty": _new,
    "new_full": _new,
    "new_empty_strided": _new,
    "new_tensor": _new_tensor,
    "new": _legacy_new,
    "set_": _inplace_view("set_", _set),
    "type": _type,
    "as_strided_": _inplace_view("as_strided"),
    "transpose_": _inplace_view("transpose"),
    "swapaxes_": _inplace_view("swapaxes"),
    "swapdims_": _inplace_view("swapdims"),
    "t_": _inplace_view("t"),
    "squeeze_": _inplace_view("squeeze"),
    "unsqueeze_": _inplace_view("unsqueeze"),
}
for _name, _op in (("add", BinOp.ADD), ("sub", BinOp.SUB), ("mul", BinOp.MUL), ("div", BinOp.DIV)):
    METHODS[_name] = _arith(_op)
for _name in TF.BINARY:
    METHODS[_name + "_"] = _inplace(_name)
for _name in ("clamp_", "clip_", "clamp_min_", "clamp_max_", "lerp_", "addcmul_", "addcdiv_"):
    METHODS[_name] = _inplace(_name[:-1])
for _name in ("float_power_", "arctan2_", "atan2_", "true_divide_", "floor_divide_", "fmod_", "remainder_", "multiply_", "divide_", "subtract_"):
    METHODS.setdefault(_name, _inplace(_name[:-1]))

# functions whose torch.* form does not match the method's arguments (handled above or not a method)
NOT_METHOD_FORMS = frozenset(("reshape", "tile", "expand_copy", "broadcast_to_", "embedding", "cat", "stack", "meshgrid", "einsum"))

SAME_SHAPE = frozenset(
    set(TF.SAME_SHAPE)
    | {
        "to", "float", "double", "half", "bfloat16", "int", "long", "short", "char", "byte", "bool", "cfloat", "cdouble", "chalf",
        "cuda", "cpu", "xpu", "ipu", "mtia", "contiguous", "detach", "detach_", "requires_grad_", "pin_memory", "share_memory_",
        "type_as", "copy_", "fill_", "zero_", "normal_", "uniform_", "bernoulli_", "cauchy_", "exponential_", "geometric_", "log_normal_",
        "random_", "fill_diagonal_", "apply_", "map_", "map2_", "as_subclass", "to_sparse", "to_sparse_coo", "to_sparse_csr",
        "to_sparse_csc", "to_sparse_bsr", "to_sparse_bsc", "to_mkldnn", "coalesce", "astype", "block_until_ready", "mul_scalar",
        "div_scalar", "float32", "cumsum_", "cumprod_", "polygamma_", "mvlgamma_", "masked_fill_", "masked_scatter_", "index_fill_",
        "index_copy_", "index_add_", "index_reduce_", "index_put_", "scatter_", "scatter_add_", "scatter_reduce_", "put_", "renorm_",
        "tril_", "triu_", "nan_to_num_", "relu_", "sigmoid_", "logit_", "polygamma",
    }
)

UNMODELLED_METHODS = {}
for _name in ("item", "tolist", "numpy"):
    UNMODELLED_METHODS[_name] = "a Python value or array read from the data"
for _name in ("backward", "register_hook", "register_post_accumulate_grad_hook", "retain_grad", "record_stream", "module_load", "reinforce"):
    UNMODELLED_METHODS[_name] = "autograd, stream or loading machinery: not a tensor result"
for _name in ("element_size", "stride", "storage_offset", "data_ptr", "const_data_ptr", "is_contiguous", "is_pinned", "is_set_to", "is_shared",
              "is_coalesced", "get_device", "dim_order", "is_complex", "is_conj", "is_distributed", "is_floating_point", "is_inference",
              "is_neg", "is_nonzero", "is_signed", "is_same_size", "equal", "allclose", "qscheme", "dense_dim", "sparse_dim"):
    UNMODELLED_METHODS[_name] = "a property of the memory, dtype or data (not a shape)"
for _name in ("storage", "untyped_storage", "storage_type"):
    UNMODELLED_METHODS[_name] = "a storage: untyped memory, not a shaped tensor"
for _name in ("q_per_channel_axis", "q_per_channel_scales", "q_per_channel_zero_points", "q_scale", "q_zero_point"):
    UNMODELLED_METHODS[_name] = "quantization parameters"
for _name in ("indices", "values", "crow_indices", "col_indices", "ccol_indices", "row_indices", "sparse_mask", "sparse_resize_",
              "sparse_resize_and_clear_", "resize_as_sparse_", "smm", "sspaddmm", "to_padded_tensor"):
    UNMODELLED_METHODS[_name] = "sparse or nested tensors: their layout is not followed"
UNMODELLED_METHODS["stft"] = "the number of frames and frequencies depends on n_fft, hop_length, center and onesided: not modelled"
UNMODELLED_METHODS["istft"] = "the signal length depends on n_fft, hop_length, center and length: not modelled"
UNMODELLED_METHODS["slice_inverse"] = "an internal view-replay op of torch.compile"
UNMODELLED_METHODS["index"] = "first-class-dimension indexing (functorch.dim): use x[...]"
UNMODELLED_METHODS["histogram"] = "returns (hist, bin_edges) shaped by bins"
for _name in ("eig", "symeig", "lstsq", "solve"):
    UNMODELLED_METHODS[_name] = "removed in torch 2 (calling it raises)"
for _name in ("lobpcg",):
    UNMODELLED_METHODS[_name] = "an iterative eigensolver"


# ------------------------------------------------------------------------------------ jax arrays

def _jax_reduce(i, t, a, k, n):
    return C.reduce(t, a[0] if a else k.get("axis", k.get("dim")), k.get("keepdims", k.get("keepdim", False)))


def _jax_transpose(i, t, a, k, n):
    if t.shape is None:
        return t
    axes = a[0] if len(a) == 1 and isinstance(a[0], (tuple, list)) else a
    if not axes:
        return t.derive(tuple(reversed(t.shape)), layout=None)
    if len(axes) == len(t.shape) and all(is_int(x) for x in axes):
        return t.derive(tuple(t.shape[o] for o in axes), layout=None)
    return t.derive(None)


def _jax_squeeze(i, t, a, k, n):
    return TF.squeeze_dims(t, a[0] if a else k.get("axis"))


def _jax_reshape(i, t, a, k, n):
    k = {key: v for key, v in k.items() if key != "order"}
    return _reshape(i, t, a, k, n)


JAX_METHODS = {
    "transpose": _jax_transpose,
    "squeeze": _jax_squeeze,
    "reshape": _jax_reshape,
    "astype": _same,
}
for _name in ("mean", "sum", "amax", "amin", "max", "min", "std", "var", "prod", "argmax", "argmin", "any", "all"):
    JAX_METHODS[_name] = _jax_reduce
