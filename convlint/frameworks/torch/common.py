"""What every part of the torch catalogue shares: the tables, registration, and small helpers.

The catalogue is three tables with one invariant — every public callable of ``torch.nn``,
``torch.nn.functional``, ``torch`` and ``Tensor`` is in exactly one of them (the test
``tests/test_catalogue_torch.py`` enumerates the installed packages and checks it):

- :data:`CATALOGUE` entries with a shape function (registered with :func:`reg`);
- :data:`PRESERVING`: entries whose result has their input's shape (activations, elementwise
  math, dropout, in-place ops…), registered with :func:`preserving`;
- :data:`UNMODELLED`: qualified name → why convlint does not follow it (a sparse, quantized or
  distributed API, a value that is not a tensor, a size read from data). Calling one gives an
  unknown that says so — or a tensor of unknown shape, when the result is a tensor.

Shape functions never decide a finding: they compute shapes with :mod:`convlint.arith` and
record events (:mod:`convlint.interpret.events`).
"""

from __future__ import annotations

from convlint.arith.core import ConvArithmeticError
from convlint.frameworks import shapes as C
from convlint.frameworks.base import SHAPE_PRESERVING, Layer, Op, Signature, is_int
from convlint.interpret.events import ChannelEvent, ConfigEvent, LayerEvent, RankEvent
from convlint.interpret.symbolic import Sym, is_size
from convlint.interpret.tensor import CHANNELS_FIRST, Tensor, fmt_shape
from convlint.interpret.values import Unknown

FRAMEWORK = "torch"
CATALOGUE: dict = {}
PRESERVING: set = set()
UNMODELLED: dict = {}


def reg(name: str, fn, kind: str = "function", sig: Signature | None = None, family: str | None = None) -> None:
    if kind == "layer":
        fn = _with_module_methods(fn)
    CATALOGUE[name] = Op(name, fn, kind, sig, family)


# ``nn.Module`` methods that return the module itself: ``nn.Conv2d(…).to(device).eval()``
SELF_METHODS = ("eval", "train", "to", "cuda", "cpu", "xpu", "float", "double", "half", "bfloat16", "requires_grad_", "apply", "type",
                "share_memory", "to_empty")


def training_default(interp) -> bool:
    """``module.training`` before any ``train()``/``eval()``: code that runs as a script or a test
    runs its modules as torch builds them, in training mode; a model convlint runs for its shapes
    (declared, or with its defaults) is followed in eval mode, the path inference takes."""
    return bool(getattr(interp, "script_entry", False))


def _with_module_methods(build):
    def wrapped(interp, args, kwargs, node):
        layer = build(interp, args, kwargs, node)
        if isinstance(layer, Layer):
            attrs = layer.extra.setdefault("attrs", {})
            if "training" not in attrs:
                attrs["training"] = training_default(interp)
            layer.extra["methods"] = module_method  # made when first read: a model builds thousands of layers
        return layer

    return wrapped


def module_method(layer: Layer, name: str):
    """``layer.eval`` / ``layer.train`` / ``layer.to`` …: the ``nn.Module`` methods of a torch layer
    (:data:`SELF_METHODS` return the layer itself); None for any other name."""
    if name in ("train", "eval"):
        from convlint.frameworks import training_method

        return training_method(layer, name)
    if name in SELF_METHODS:
        from convlint.interpret import builtins as pyb

        return pyb.Builtin(f"Module.{name}", lambda i, a, k, n: layer)
    return None


def preserving(name: str, kind: str = "function") -> None:
    """Register ``name`` as shape-preserving: a function returns its first tensor argument's shape,
    a module class builds a layer that does."""
    PRESERVING.add(name)
    if kind == "layer":
        reg(name, preserve_build(name), "layer")
    else:
        reg(name, preserve_fn)


def unmodelled(name: str, reason: str, result: str = "unknown") -> None:
    """``name`` is not followed: ``reason`` says why. ``result`` is ``"tensor"`` when the call gives
    a tensor (of unknown shape: later reshapes still tell what they can), ``"layer"`` for a module
    class (a layer whose application is unknown), else ``"unknown"``."""
    UNMODELLED[name] = reason
    if result == "layer":
        def build(interp, args, kwargs, node, name=name, reason=reason):
            return Layer(name, {}, interp.site(node), FRAMEWORK, lambda i, l, a, k, n: Unknown(f"{name.rsplit('.', 1)[-1]}: {reason}"))

        reg(name, build, "layer")
    elif result == "tensor":
        reg(name, lambda i, a, k, n: Tensor(None, CHANNELS_FIRST, framework=FRAMEWORK))
    else:
        reg(name, lambda i, a, k, n, name=name, reason=reason: Unknown(f"{name}: {reason}"))


# ---------------------------------------------------------------------------------------- arguments

def tensor_arg(args, kwargs, name: str = "input"):
    if args:
        return args[0]
    return kwargs.get(name, Unknown("no input"))


def new_tensor(shape, *, exact_rank: bool = True, fresh: bool = False) -> Tensor:
    t = Tensor(shape, CHANNELS_FIRST, fresh=fresh, framework=FRAMEWORK)
    t.exact_rank = exact_rank
    return t


def unknown_dims(n: int, why: str) -> tuple:
    return tuple(Unknown(why) for _ in range(n))


def axis(x: Tensor, d, *, extra: int = 0):
    """``d`` as an index into ``x.shape`` (``extra`` more dims allowed, for ``unsqueeze``), or None
    when it cannot be placed: unknown shape, unknown ``d``, out of range — or a dim counted from the
    front of a tensor whose rank is only a lower bound (:attr:`Tensor.exact_rank`)."""
    if x.shape is None or not is_int(d):
        return None
    n = len(x.shape) + extra
    if not -n <= d < n:
        return None
    if d >= 0 and not x.exact_rank:
        return None
    return d % n if n else None


def as_dims(v):
    """A shape argument: a sequence of sizes (unknown entries allowed), an int, or None."""
    if isinstance(v, (tuple, list)) and all(is_size(d) or isinstance(d, Unknown) for d in v):
        return tuple(v)
    if is_size(v):
        return (v,)
    return None


def sizes_from_args(args, kwargs, key: str = "size"):
    """``f(2, 3)``, ``f((2, 3))``, ``f([2, 3])``, ``f(size=(2, 3))``: the sizes, or None."""
    if key in kwargs:
        return as_dims(kwargs[key])
    if "*" in kwargs:
        return None
    if len(args) == 1 and isinstance(args[0], (tuple, list)):
        return as_dims(args[0])
    if len(args) == 1 and isinstance(args[0], Unknown):
        return None  # one unknown argument may be the whole shape (``torch.empty(tuple(sizes))``): rank unknown
    return as_dims(tuple(args)) if args else ()


def mul(a, b):
    if is_size(a) and is_size(b):
        if isinstance(a, Sym) and isinstance(b, Sym):
            return Unknown("product of symbolic sizes")
        return a * b
    return Unknown("product of sizes")


def add(a, b):
    return a + b if is_size(a) and is_size(b) else Unknown("sum of sizes")


# ---------------------------------------------------------------------------------------- events

def rejected(interp, site, op: str, err: ConvArithmeticError, context: str = "", layer=None) -> None:
    """The framework rejects this configuration (CVL001 decides how to report it)."""
    interp.trace.record(ConfigEvent(site, op.rsplit(".", 1)[-1], err, context, layer=layer))


def reject(interp, site, op: str, message: str, constraint: str, argument: str | None = None, layer=None) -> None:
    rejected(interp, site, op, ConvArithmeticError(message, constraint=constraint, argument=argument), layer=layer)


def channel_check(interp, label, site, expected, got, x: Tensor, axis_: int, what: str = "input channels",
                  layer=None, argument: str | None = None) -> bool:
    """Record that a layer built for ``expected`` channels receives ``got`` (sizes or symbolic sizes);
    True if they differ for every value. ``argument`` names the ``layer``'s parameter holding ``expected``."""
    if is_size(expected) and is_size(got):
        interp.trace.record(ChannelEvent(site, label, expected, got, x.shape, axis_, C.last_layer(x), what, layer=layer, argument=argument))
        return C.mismatch(expected, got)
    return False


def last_dim_check(interp, label, site, expected, x, what: str) -> None:
    """A layer built for ``expected`` features in the last dim of ``x``."""
    if isinstance(x, Tensor) and x.shape:
        channel_check(interp, label, site, expected, x.shape[-1], x, len(x.shape) - 1, what)


def rank_check(interp, site, label, x, accepted: tuple, what: str = "") -> bool:
    """Record the rank ``x`` arrives with, for a layer accepting ``accepted`` ranks; True if it is
    not one of them. Nothing is recorded when the rank is only a lower bound."""
    if not isinstance(x, Tensor) or x.shape is None or not x.exact_rank:
        return False
    interp.trace.record(RankEvent(site, label, tuple(accepted), len(x.shape), x.shape, what))
    return len(x.shape) not in accepted


def event(interp, site, node, op: str, x, out, layer=None) -> None:
    """A row of ``convlint shapes`` for a layer that is not conv-family."""
    interp.trace.events.append(
        LayerEvent(site=site, call_site=interp.site(node) if node is not None else site, op=op, input=x.shape if isinstance(x, Tensor) else None,
                   output=out.shape if isinstance(out, Tensor) else None, layer=layer, name=layer.name if layer is not None else None)
    )


def label_of(layer: Layer) -> str:
    return layer.name or layer.op.rsplit(".", 1)[-1]


def fmt(shape) -> str:
    return fmt_shape(shape)


def clamped(sizes) -> tuple:
    """Output sizes for what follows: an empty one (< 1, reported by CVL002) becomes unknown."""
    return tuple(Unknown("empty output") if is_int(o) and o < 1 else o for o in sizes)


def promote(x, rank: int, channels=None):
    """A model input whose rank is not declared: the first rank-aware layer fixes it
    (:func:`shapes.promote_entry`)."""
    return C.promote_entry(x, rank, channels)


# ---------------------------------------------------------------------------------------- elementwise

def combine(interp, site, label: str, t: Tensor, other) -> Tensor:
    """``t`` combined elementwise (with broadcasting) with ``other``: a tensor, a number, or unknown."""
    if other is None or isinstance(other, (bool, int, float, complex, Sym, str)):
        return t
    if not isinstance(other, Tensor):
        return C.broadcast_unknown(t, other)  # an operand of unknown value keeps every dim it cannot change
    return C.broadcast_pair(interp, t, other, site, label)


def elementwise(interp, node, label: str, *operands):
    """The broadcast of tensors and scalars (``torch.maximum``, ``torch.where``, ``addcmul``)."""
    tensors = [o for o in operands if isinstance(o, Tensor)]
    if not tensors:
        if any(isinstance(o, Unknown) for o in operands):
            return Unknown(f"{label} of unknown operands")
        return new_tensor(())  # numbers only: a 0-d tensor
    site = interp.site(node) if node is not None else None
    first = operands.index(tensors[0])
    out = tensors[0]
    for i, o in enumerate(operands):
        if i != first:
            out = combine(interp, site, label, out, o)
    return out


def preserve_fn(interp, args, kwargs, node):
    x = tensor_arg(args, kwargs)
    if isinstance(x, Tensor):
        return x.same()  # a new tensor of the same shape (an in-place change of it must not reach ``x``)
    if isinstance(x, Unknown):
        return x
    if isinstance(x, (bool, int, float)):
        return new_tensor(())
    return Tensor(None, CHANNELS_FIRST, framework=FRAMEWORK)


def preserve_build(op):
    def build(interp, args, kwargs, node):
        return Layer(op, {}, interp.site(node), FRAMEWORK, preserve_apply)

    return build


def preserve_apply(interp, layer, args, kwargs, node):
    x = tensor_arg(args, kwargs)
    if isinstance(x, Tensor):
        return x.same()
    return x if isinstance(x, Unknown) else Tensor(None, CHANNELS_FIRST, framework=FRAMEWORK)


SHAPE_PRESERVING.add(preserve_apply)  # one layer may stand for several of them (base.Layer.join_with)


# ``dir(nn.Module())`` of torch 2.13 (tests/test_catalogue_torch.py checks it against the installed
# torch): after its own attributes, its class and a user ``__getattr__``, an instance of a plain
# ``nn.Module`` subclass has exactly these (``hasattr(block, "skip_conv")`` is False otherwise).
MODULE_ATTRIBUTES = frozenset("""
    T_destination __annotations__ __call__ __class__ __delattr__ __dict__ __dir__ __doc__ __eq__
    __format__ __ge__ __getattr__ __getattribute__ __getstate__ __gt__ __hash__ __init__
    __init_subclass__ __le__ __lt__ __module__ __ne__ __new__ __reduce__ __reduce_ex__ __repr__
    __setattr__ __setstate__ __sizeof__ __str__ __subclasshook__ __weakref__ _apply
    _backward_hooks _backward_pre_hooks _buffers _call_impl _compiled_call_impl _forward_hooks
    _forward_hooks_always_called _forward_hooks_with_kwargs _forward_pre_hooks
    _forward_pre_hooks_with_kwargs _get_backward_hooks _get_backward_pre_hooks _get_name
    _is_full_backward_hook _load_from_state_dict _load_state_dict_post_hooks
    _load_state_dict_pre_hooks _maybe_warn_non_full_backward_hook _modules _named_members
    _non_persistent_buffers_set _parameters _register_load_state_dict_pre_hook
    _register_state_dict_hook _replicate_for_data_parallel _save_to_state_dict _slow_forward
    _state_dict_hooks _state_dict_pre_hooks _version _wrapped_call_impl add_module apply
    bfloat16 buffers call_super_init children compile cpu cuda double dump_patches eval
    extra_repr float forward get_buffer get_extra_state get_parameter get_submodule half ipu
    load_state_dict modules mtia named_buffers named_children named_modules named_parameters
    parameters register_backward_hook register_buffer register_forward_hook
    register_forward_pre_hook register_full_backward_hook register_full_backward_pre_hook
    register_load_state_dict_post_hook register_load_state_dict_pre_hook register_module
    register_parameter register_state_dict_post_hook register_state_dict_pre_hook requires_grad_
    set_extra_state set_submodule share_memory state_dict to to_empty train training type xpu
    zero_grad
""".split())
