"""JAX: ``jax.lax`` convolutions with dimension numbers, ``jax.numpy`` array makers and joins,
``jax.image.resize``, ``jax.ShapeDtypeStruct``. jax returns zero-size dimensions where torch
raises; convlint reports those as empty output (CVL002)."""

from __future__ import annotations

from convlint.arith.core import ConvArithmeticError
from convlint.arith.lax import dimension_numbers, lax_conv_general_dilated, lax_conv_transpose
from convlint.frameworks import shapes as C
from convlint.frameworks.base import Op, Signature, as_tuple, is_int, known, window_out
from convlint.interpret.events import ChannelEvent, ConfigEvent
from convlint.interpret.tensor import CHANNELS_LAST, Tensor
from convlint.interpret.values import Unknown

FRAMEWORK = "jax"
CATALOGUE: dict = {}
MODULES = {"jax", "jax.lax", "jax.numpy", "jax.image", "jax.random", "jax.nn"}
ALIASES = {"jax.experimental.numpy": "jax.numpy"}


def _reg(name, fn, kind="function", sig=None, family=None):
    CATALOGUE[name] = Op(name, fn, kind, sig, family)


class DimNumbers:
    """The value of ``lax.conv_dimension_numbers(...)``: layouts kept for later resolution."""

    def __init__(self, spec):
        self.spec = spec


def _dn_value(dn):
    if isinstance(dn, DimNumbers):
        return dn.spec
    return dn


def lax_conv_op(op, transpose):
    if transpose:
        sig = Signature.of("lhs", "rhs", "strides", "padding", ("rhs_dilation", None), ("dimension_numbers", None), ("transpose_kernel", False), ("precision", None), ("preferred_element_type", None), ("use_consistent_padding", False))
    elif op.endswith("conv_general_dilated"):
        sig = Signature.of("lhs", "rhs", "window_strides", "padding", ("lhs_dilation", None), ("rhs_dilation", None), ("dimension_numbers", None), ("feature_group_count", 1), ("batch_group_count", 1), ("precision", None), ("preferred_element_type", None))
    elif op.endswith("conv_with_general_padding"):
        sig = Signature.of("lhs", "rhs", "window_strides", "padding", "lhs_dilation", "rhs_dilation", ("precision", None), ("preferred_element_type", None))
    else:
        sig = Signature.of("lhs", "rhs", "window_strides", "padding", ("precision", None), ("preferred_element_type", None))

    def fn(interp, args, kwargs, node):
        p = sig.bind(args, kwargs)
        lhs, rhs = p["lhs"], p["rhs"]
        site = interp.site(node)
        name = op.rsplit(".", 1)[-1]
        if not isinstance(lhs, Tensor) or lhs.shape is None or not isinstance(rhs, Tensor) or rhs.shape is None:
            return C.record(interp, op=op, layer=None, site=site, call_node=node, x=lhs if isinstance(lhs, Tensor) else Tensor(None), out_shape=None)
        rank = len(lhs.shape)
        dn_spec = _dn_value(p.get("dimension_numbers"))
        if dn_spec is None and transpose:
            dn_spec = {3: ("NHC", "HIO", "NHC"), 4: ("NHWC", "HWIO", "NHWC"), 5: ("NHWDC", "HWDIO", "NHWDC")}.get(rank)
        if not known(dn_spec) or len(rhs.shape) != rank:
            return C.record(interp, op=op, layer=None, site=site, call_node=node, x=lhs, out_shape=tuple(Unknown("lax conv") for _ in lhs.shape))
        try:
            dn = dimension_numbers(rank, as_tuple(dn_spec))
        except ConvArithmeticError as e:
            interp.trace.record(ConfigEvent(site, name, e))
            return C.record(interp, op=op, layer=None, site=site, call_node=node, x=lhs, out_shape=None)
        lhs_sp = tuple(lhs.shape[i] for i in dn.lhs_spec[2:])
        rhs_sp = tuple(rhs.shape[i] for i in dn.rhs_spec[2:])
        lhs_feat = lhs.shape[dn.lhs_spec[1]]
        rhs_in = rhs.shape[dn.rhs_spec[1]]
        rhs_out = rhs.shape[dn.rhs_spec[0]]
        groups = p.get("feature_group_count", 1)
        if transpose and p.get("transpose_kernel") is True:
            rhs_in, rhs_out = rhs_out, rhs_in
        if is_int(lhs_feat) and is_int(rhs_in) and is_int(groups) and groups >= 1:
            interp.trace.record(ChannelEvent(site, name, rhs_in * groups, lhs_feat, lhs.shape, dn.lhs_spec[1], C.last_layer(lhs), "input features (lhs)", groups=groups if groups != 1 else None))
        cfg = {k: as_tuple(p[k]) for k in p if k not in ("lhs", "rhs", "precision", "preferred_element_type", "dimension_numbers")}
        raw = None
        if not known(*cfg.values()) or not all(is_int(k) for k in rhs_sp):
            spatial = tuple(Unknown("unresolved lax arguments") for _ in lhs_sp)
            windows = ()
        else:
            try:
                conc = tuple(s if is_int(s) else 1 for s in lhs_sp)
                if transpose:
                    windows = lax_conv_transpose(conc, rhs_sp, cfg["strides"], cfg["padding"], cfg.get("rhs_dilation"), use_consistent_padding=bool(cfg.get("use_consistent_padding")))
                elif "lhs_dilation" in cfg:
                    windows = lax_conv_general_dilated(conc, rhs_sp, cfg["window_strides"], cfg["padding"], cfg.get("lhs_dilation"), cfg.get("rhs_dilation"))
                else:
                    windows = lax_conv_general_dilated(conc, rhs_sp, cfg["window_strides"], cfg["padding"])
                if isinstance(cfg.get("padding"), str) and not all(is_int(s) for s in lhs_sp):
                    # SAME padding depends on the input size: only its output size is simple
                    windows = windows if cfg["padding"] == "VALID" else None
            except ConvArithmeticError as e:
                interp.trace.record(ConfigEvent(site, name, e))
                return C.record(interp, op=op, layer=None, site=site, call_node=node, x=lhs, out_shape=None)
            if windows is None:
                spatial = tuple(_same_size(s, st) for s, st in zip(lhs_sp, _strides(cfg, transpose, len(lhs_sp))))
                windows = ()
            else:
                raw = tuple(window_out(w, i) for w, i in zip(windows, lhs_sp))
                spatial = tuple(max(o, 0) if is_int(o) else o for o in raw)  # jax gives a zero-size array
        out_trans = (lhs.shape[dn.lhs_spec[0]], rhs_out, *spatial)
        out = [None] * rank
        for pos, val in zip(dn.out_spec, out_trans):
            out[pos] = val
        lhs_axes = list(dn.lhs_spec[2:])
        kind = None
        if windows:
            if transpose or any(w.input_dilation > 1 for w in windows):
                kind = "up"
            elif any(w.stride > 1 for w in windows):
                kind = "down"
        cfg_event = dict(cfg, rhs_shape=tuple(rhs.shape), dimension_numbers=as_tuple(dn_spec), feature_group_count=p.get("feature_group_count", 1))
        res = C.record(interp, op=op, layer=None, site=site, call_node=node, x=lhs, out_shape=tuple(out), windows=windows, params=cfg_event,
                       kind=kind, axes=lhs_axes, adjoint=(("transpose" if kind == "up" else "conv"), windows, None),
                       transposed=kind == "up", spatial_out=raw)
        return res

    return fn


def _strides(cfg, transpose, n):
    s = cfg.get("strides") if transpose else cfg.get("window_strides")
    if s is None:
        return (1,) * n
    return tuple(s)


def _same_size(i, s):
    from convlint.interpret.symbolic import Sym

    if is_int(i):
        return -(-i // s)
    if isinstance(i, Sym):
        return (i + (s - 1)) // s
    return Unknown("size")


def _conv_dimension_numbers(interp, args, kwargs, node):
    p = Signature.of("lhs_shape", "rhs_shape", "dimension_numbers").bind(args, kwargs)
    return DimNumbers(p["dimension_numbers"])


def _array_maker(interp, args, kwargs, node):
    shape = args[0] if args else kwargs.get("shape")
    s = C.as_shape(shape)
    if s is None:
        return Tensor(None, framework="jax")
    return Tensor(tuple(s), CHANNELS_LAST, fresh=True, framework="jax")


def _random_maker(interp, args, kwargs, node):
    shape = args[1] if len(args) > 1 else kwargs.get("shape")
    s = C.as_shape(shape)
    if s is None:
        return Tensor(None, framework="jax")
    return Tensor(tuple(s), CHANNELS_LAST, fresh=True, framework="jax")


def _concatenate(stack):
    def fn(interp, args, kwargs, node):
        arrays = args[0] if args else kwargs.get("arrays")
        axis = args[1] if len(args) > 1 else kwargs.get("axis", 0)
        items = interp.iterate(arrays)
        if items is None:
            return Tensor(None)
        label = "jnp.stack" if stack else "jnp.concatenate"
        return C.concat(interp, items, axis, interp.site(node), label, stack=stack)

    return fn


def _resize(interp, args, kwargs, node):
    p = Signature.of("image", "shape", "method", ("antialias", True), ("precision", None)).bind(args, kwargs)
    x = p["image"]
    shape = C.as_shape(p["shape"])
    site = interp.site(node)
    if not isinstance(x, Tensor):
        return Tensor(None)
    if shape is None:
        return C.repair(x.derive(None if x.shape is None else tuple(Unknown("resize") for _ in x.shape)))
    kind = None
    axes = []
    if x.shape is not None and len(x.shape) == len(shape):
        axes = [i for i, (a, b) in enumerate(zip(x.shape, shape)) if not (is_int(a) and is_int(b) and a == b)]
        ints = [(x.shape[i], shape[i]) for i in axes if is_int(x.shape[i]) and is_int(shape[i])]
        if ints and all(b > a for a, b in ints):
            kind = "up"
        elif ints and all(b < a for a, b in ints):
            kind = "down"
    out = C.record(interp, op="jax.image.resize", layer=None, site=site, call_node=node, x=x, out_shape=tuple(shape), kind=kind, axes=axes, adjoint=("resample", (), None))
    return out


def _shape_dtype_struct(interp, args, kwargs, node):
    shape = args[0] if args else kwargs.get("shape")
    s = C.as_shape(shape)
    return Tensor(tuple(s) if s is not None else None, CHANNELS_LAST, fresh=True, framework="jax")


def _preserve(interp, args, kwargs, node):
    x = args[0] if args else Unknown("no input")
    return x if isinstance(x, (Tensor, Unknown)) else Unknown("scalar")


def _reshape(interp, args, kwargs, node):
    x = args[0] if args else None
    shape = args[1] if len(args) > 1 else kwargs.get("newshape", kwargs.get("shape"))
    if not isinstance(x, Tensor) or C.as_shape(shape) is None:
        return Tensor(None)
    return C.reshape(x, C.as_shape(shape), "reshape")


def _transpose(interp, args, kwargs, node):
    x = args[0] if args else None
    axes = args[1] if len(args) > 1 else kwargs.get("axes")
    if not isinstance(x, Tensor) or x.shape is None:
        return Tensor(None)
    if axes is None:
        return x.derive(tuple(reversed(x.shape)), layout=None)
    if isinstance(axes, (tuple, list)) and all(is_int(a) for a in axes) and len(axes) == len(x.shape):
        return x.derive(tuple(x.shape[a] for a in axes), layout=None)
    return x.derive(None)


def _reduce(interp, args, kwargs, node):
    x = args[0] if args else None
    if not isinstance(x, Tensor):
        return Unknown("reduction")
    return C.reduce(x, args[1] if len(args) > 1 else kwargs.get("axis"), kwargs.get("keepdims", False))


def _jnp_pad(interp, args, kwargs, node):
    x = args[0] if args else None
    pw = args[1] if len(args) > 1 else kwargs.get("pad_width")
    if not isinstance(x, Tensor) or x.shape is None:
        return Tensor(None)
    n = len(x.shape)
    if is_int(pw):
        pairs = [(pw, pw)] * n
    elif isinstance(pw, (tuple, list)) and len(pw) == n and all(isinstance(p, (tuple, list)) and len(p) == 2 for p in pw):
        pairs = [tuple(p) for p in pw]
    elif isinstance(pw, (tuple, list)) and len(pw) == 2 and all(is_int(p) for p in pw):
        pairs = [tuple(pw)] * n
    else:
        return C.repair(x.derive(tuple(Unknown("pad") for _ in x.shape)))
    shape = tuple(d + lo + hi if (is_int(d) or hasattr(d, "evaluate")) and is_int(lo) and is_int(hi) else Unknown("pad") for d, (lo, hi) in zip(x.shape, pairs))
    return C.repair(x.derive(shape, label="pad", before_pad=x.before_pad or x.shape))


def _expand_dims(interp, args, kwargs, node):
    x = args[0] if args else None
    axis = args[1] if len(args) > 1 else kwargs.get("axis")
    if not isinstance(x, Tensor) or x.shape is None or not is_int(axis):
        return Tensor(None)
    s = list(x.shape)
    s.insert(axis if axis >= 0 else len(s) + 1 + axis, 1)
    return x.derive(tuple(s))


def _register():
    for name in ("conv_general_dilated", "conv", "conv_with_general_padding"):
        _reg(f"jax.lax.{name}", lax_conv_op(f"jax.lax.{name}", False), family="conv")
    _reg("jax.lax.conv_transpose", lax_conv_op("jax.lax.conv_transpose", True), family="conv")
    _reg("jax.lax.conv_dimension_numbers", _conv_dimension_numbers)
    for name in ("ones", "zeros", "empty", "full"):
        _reg(f"jax.numpy.{name}", _array_maker)
    for name in ("normal", "uniform", "bernoulli", "truncated_normal"):
        _reg(f"jax.random.{name}", _random_maker)
    _reg("jax.numpy.concatenate", _concatenate(False))
    _reg("jax.numpy.concat", _concatenate(False))
    _reg("jax.numpy.stack", _concatenate(True))
    _reg("jax.numpy.reshape", _reshape)
    _reg("jax.numpy.einsum", C.einsum)
    for name in ("mean", "sum", "max", "min", "prod", "std", "var", "amax", "amin"):
        _reg(f"jax.numpy.{name}", _reduce)
    _reg("jax.numpy.pad", _jnp_pad)
    _reg("jax.numpy.expand_dims", _expand_dims)
    _reg("jax.image.resize", _resize, family="resize")
    _reg("jax.ShapeDtypeStruct", _shape_dtype_struct)
    for name in ("relu", "gelu", "silu", "swish", "sigmoid", "tanh", "elu", "leaky_relu", "softplus", "softmax", "log_softmax", "normalize", "standardize"):
        _reg(f"jax.nn.{name}", _preserve)
    for name in ("tanh", "exp", "log", "abs", "sqrt", "clip", "maximum", "minimum", "square"):
        _reg(f"jax.numpy.{name}", _preserve)
    _reg("jax.eval_shape", lambda i, a, k, n: i.call(a[0], list(a[1:]), k, n) if a else Unknown("eval_shape"))
    _reg("jax.jit", lambda i, a, k, n: a[0] if a else Unknown("jit"))
    _reg("jax.numpy.transpose", _transpose)
    _reg("jax.random.PRNGKey", lambda i, a, k, n: Unknown("PRNG key"))
    _reg("jax.random.key", lambda i, a, k, n: Unknown("PRNG key"))
    _reg("jax.random.split", lambda i, a, k, n: Unknown("PRNG keys"))


_register()


SEMANTICS = None  # plain JAX has no model classes (flax has)


def upsampling_fix(event, din, want):
    """Explicit padding pairs that make a ``lax`` transposed conv map ``din`` to ``want``."""
    if event.op not in ("jax.lax.conv_general_dilated", "jax.lax.conv_transpose") or event.call_site is None:
        return None
    pad = event.params.get("padding")
    if isinstance(pad, str) or (event.op == "jax.lax.conv_transpose" and event.params.get("use_consistent_padding")):
        return None
    return C.pairs_fix(event.call_site.node, event.windows, din, want, [], 3, event.op)  # lax: a list of pairs
