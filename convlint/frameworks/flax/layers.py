"""flax.linen layers other than the convolutions: Dense, DenseGeneral, Einsum, Embed, the norms
(GroupNorm's group check), Dropout, PReLU, attention, recurrent cells and RNN/Bidirectional,
SpectralNorm/WeightNorm wrappers, and the entry points every flax layer has (``init``,
``apply``, ``init_with_output``, ``tabulate``)."""

from __future__ import annotations

from convlint.arith.core import ConvArithmeticError
from convlint.frameworks import shapes as C
from convlint.frameworks.base import Layer, Signature, is_int
from convlint.frameworks.jax import arrays as A
from convlint.frameworks.jax import numpy as N
from convlint.interpret import builtins as pyb
from convlint.interpret.events import ChannelEvent, ConfigEvent
from convlint.interpret.tensor import Tensor
from convlint.interpret.values import Unknown

FW = "flax"


def make_layer(interp, op, params, node, apply, kwargs, **extra) -> Layer:
    """A flax layer with its ``name=`` and the entry points of a module (``init``/``apply``)."""
    name = kwargs.get("name")
    layer = Layer(op, params, interp.site(node), FW, apply, name=name if isinstance(name, str) else None, extra=dict(extra))
    attrs = dict(extra.get("attrs", {}))
    attrs.update(entry_points(lambda i, a, k, n: layer.apply(i, layer, a, k, n), lambda m: _layer_method(layer, m)))
    layer.extra["attrs"] = attrs
    return layer


def _layer_method(layer, method):
    if isinstance(method, str):
        fn = layer.extra.get("attrs", {}).get(method)
        return fn if fn is not None else Unknown(f"{layer.op}.{method}")
    return Unknown("method of a flax layer")


ENTRY_KW = ("rngs", "method", "mutable", "capture_intermediates")


def entry_points(call, resolve_method) -> dict:
    """``init``/``init_with_output``/``apply``/``tabulate``/``bind`` of a flax module: they run the
    module (``__call__``, or ``method=``) on the given inputs. ``call(i, args, kwargs, node)`` runs
    ``__call__``; ``resolve_method(m)`` gives the callable for a ``method=`` string or function."""

    def run(i, args, kwargs, node):
        method = kwargs.get("method")
        kw = {k: v for k, v in kwargs.items() if k not in ENTRY_KW}
        if method is None:
            return call(i, list(args), kw, node)
        fn = resolve_method(method)
        return i.call(fn, list(args), kw, node)

    def init(i, a, k, n):
        run(i, a[1:], k, n)
        return Unknown("flax variables")

    def init_with_output(i, a, k, n):
        return (run(i, a[1:], k, n), Unknown("flax variables"))

    def apply(i, a, k, n):
        out = run(i, a[1:], k, n)
        mutable = k.get("mutable", False)
        if mutable is False and k.get("capture_intermediates", False) is False:
            return out
        if isinstance(mutable, Unknown):
            return Unknown("apply with an unknown mutable=")
        return (out, Unknown("flax state"))

    def tabulate(i, a, k, n):
        run(i, a[1:], k, n)
        return Unknown("flax table")

    return {
        "init": pyb.Builtin("init", init),
        "init_with_output": pyb.Builtin("init_with_output", init_with_output),
        "apply": pyb.Builtin("apply", apply),
        "tabulate": pyb.Builtin("tabulate", tabulate),
        "lazy_init": pyb.Builtin("lazy_init", init),
    }


def _input(args, kwargs, name="inputs"):
    x = args[0] if args else kwargs.get(name, kwargs.get("x", Unknown("no input")))
    t = A.as_array(x)
    return t


def _record(interp, layer, node, x, out):
    if not isinstance(x, Tensor):
        return out
    return C.record(interp, op=layer.op, layer=layer, site=layer.site, call_node=node, x=x, out_shape=out.shape if isinstance(out, Tensor) else None)


# ---------------------------------------------------------------------------------- linear

DENSE_SIG = Signature.of("features", ("use_bias", True))


def dense(interp, args, kwargs, node):
    p = DENSE_SIG.bind(args, kwargs)
    return make_layer(interp, "flax.linen.Dense", p, node, _dense_apply, kwargs)


def _dense_apply(interp, layer, args, kwargs, node):
    x = _input(args, kwargs)
    if x is None:
        return Tensor(None)
    f = layer.params["features"]
    out = None if x.shape is None else tuple(x.shape[:-1]) + (f if is_int(f) else Unknown("features"),)
    res = C.record(interp, op=layer.op, layer=layer, site=layer.site, call_node=node, x=x, out_shape=out)
    res.exact_rank = x.exact_rank
    if x.shape is None and is_int(f):
        res = res.derive((f,))
        res.exact_rank = False  # the rank is not known; the features are the last dim
    return res


DENSE_GENERAL_SIG = Signature.of("features", ("axis", -1), ("batch_dims", ()), ("use_bias", True))


def dense_general(interp, args, kwargs, node):
    p = DENSE_GENERAL_SIG.bind(args, kwargs)
    return make_layer(interp, "flax.linen.DenseGeneral", p, node, _dense_general_apply, kwargs)


def _dense_general_apply(interp, layer, args, kwargs, node):
    x = _input(args, kwargs)
    if x is None:
        return Tensor(None)
    feats = layer.params["features"]
    feats = (feats,) if is_int(feats) else tuple(feats) if isinstance(feats, (tuple, list)) else None
    axes = A.axes_tuple(layer.params["axis"])
    if x.shape is None or feats is None or axes is None or not A.front_ok(x, axes):
        out = None
    else:
        r = len(x.shape)
        idx = {A.norm_axis(a, r) for a in axes}
        out = None if None in idx else tuple(d for j, d in enumerate(x.shape) if j not in idx) + tuple(A.dim(f) for f in feats)
    res = C.record(interp, op=layer.op, layer=layer, site=layer.site, call_node=node, x=x, out_shape=out)
    res.exact_rank = x.exact_rank
    return res


EINSUM_SIG = Signature.of("shape", ("einsum_str", None), ("use_bias", True))


def einsum_layer(interp, args, kwargs, node):
    p = EINSUM_SIG.bind(args, kwargs)
    return make_layer(interp, "flax.linen.Einsum", p, node, _einsum_apply, kwargs)


def _einsum_apply(interp, layer, args, kwargs, node):
    x = _input(args, kwargs)
    eq = kwargs.get("einsum_str", layer.params["einsum_str"]) if len(args) < 2 else args[1]
    shape = A.shape_arg(layer.params["shape"])
    if x is None or shape is None or not isinstance(eq, str):
        return Tensor(None)
    out = N.einsum_shape([eq, x, Tensor(shape, framework="jax")], {})
    return _record(interp, layer, node, x, out) if isinstance(out, Tensor) else out


EMBED_SIG = Signature.of("num_embeddings", "features")


def embed(interp, args, kwargs, node):
    p = EMBED_SIG.bind(args, kwargs)

    def attend(i, a, k, n):
        q = _input(a, k, "query")
        if q is None or q.shape is None:
            return Tensor(None)
        return A.with_dims(q, tuple(q.shape[:-1]) + (A.dim(p["num_embeddings"]),))

    return make_layer(interp, "flax.linen.Embed", p, node, _embed_apply, kwargs, attrs={"attend": pyb.Builtin("attend", attend), **p})


def _embed_apply(interp, layer, args, kwargs, node):
    x = _input(args, kwargs)
    if x is None:
        return Tensor(None)
    out = None if x.shape is None else tuple(x.shape) + (A.dim(layer.params["features"]),)
    res = C.record(interp, op=layer.op, layer=layer, site=layer.site, call_node=node, x=x, out_shape=out)
    res.exact_rank = x.exact_rank
    return res


# ---------------------------------------------------------------------------------- shape-preserving layers

def preserving(op):
    def build(interp, args, kwargs, node):
        return make_layer(interp, op, dict(kwargs), node, _same_apply, kwargs)

    return build


def _same_apply(interp, layer, args, kwargs, node):
    x = _input(args, kwargs)
    return x if x is not None else (args[0] if args and isinstance(args[0], Unknown) else Tensor(None))


GROUPNORM_SIG = Signature.of(("num_groups", 32), ("group_size", None), ("epsilon", 1e-6))


def group_norm(interp, args, kwargs, node):
    p = GROUPNORM_SIG.bind(args, kwargs)
    layer = make_layer(interp, "flax.linen.GroupNorm", p, node, _group_norm_apply, kwargs)
    g, s = p["num_groups"], p["group_size"]
    if (g is None) == (s is None) and not isinstance(g, Unknown) and not isinstance(s, Unknown):
        interp.trace.record(ConfigEvent(layer.site, layer.name or "GroupNorm", ConvArithmeticError(
            f"GroupNorm(num_groups={g!r}, group_size={s!r}): exactly one of num_groups and group_size must be given",
            constraint="exactly one of num_groups and group_size", argument="num_groups")))
    return layer


def _group_norm_apply(interp, layer, args, kwargs, node):
    x = _input(args, kwargs)
    if x is None:
        return Tensor(None)
    if x.shape:
        c = x.shape[-1]
        g, s = layer.params["num_groups"], layer.params["group_size"]
        label = layer.name or "GroupNorm"
        if is_int(c) and is_int(g) and g > 1 and s is None:
            interp.trace.record(ChannelEvent(layer.site, label, None, c, x.shape, len(x.shape) - 1, C.last_layer(x), "features", groups=g))
        elif is_int(c) and is_int(s) and s >= 1 and g is None and c % s:
            interp.trace.record(ConfigEvent(layer.site, label, ConvArithmeticError(
                f"GroupNorm(group_size={s}): {c} features are not divisible by the group size",
                constraint="features divisible by group_size", argument="group_size"), context=f" (input {x.shape})"))
    return x


# ---------------------------------------------------------------------------------- wrappers

WRAP_SIG = Signature.of("layer_instance")


def wrapper(op):
    """``SpectralNorm(layer)`` / ``WeightNorm(layer)``: applying them applies the wrapped layer."""
    def build(interp, args, kwargs, node):
        p = WRAP_SIG.bind(args, kwargs)
        inner = p["layer_instance"]

        def apply(i, layer, a, k, n):
            k = {key: v for key, v in k.items() if key != "update_stats"}
            return i.call(inner, list(a), k, n)

        return make_layer(interp, op, p, node, apply, kwargs)

    return build


def batch_apply(interp, args, kwargs, node):
    """``BatchApply(f, num_dims=2)(x)``: ``f`` on the first ``num_dims`` dims merged, then split back."""
    p = Signature.of("f", ("num_dims", 2)).bind(args, kwargs)

    def call(i, a, k, n):
        nd = p["num_dims"]
        xs = [A.as_array(v) for v in a]
        if not xs or any(x is None or x.shape is None for x in xs) or not is_int(nd):
            return Unknown("BatchApply")
        lead = tuple(xs[0].shape[:nd])
        merged = [x.derive((A.flattened_size(x.derive(tuple(x.shape[:nd]))),) + tuple(x.shape[nd:])) for x in xs]
        out = i.call(p["f"], merged, k, n)
        if isinstance(out, Tensor) and out.shape is not None and out.shape:
            return out.derive(lead + tuple(out.shape[1:]))
        return Unknown("BatchApply result")

    return pyb.Builtin("BatchApply", call)


# ---------------------------------------------------------------------------------- attention

MHA_SIG = Signature.of("num_heads", ("dtype", None), ("param_dtype", None), ("qkv_features", None), ("out_features", None))


def attention(op, self_attention=False):
    def build(interp, args, kwargs, node):
        p = MHA_SIG.bind(args, kwargs)
        return make_layer(interp, op, p, node, _attention_apply, kwargs, self_attention=self_attention)

    return build


def _attention_apply(interp, layer, args, kwargs, node):
    q = _input(args, kwargs, "inputs_q")
    if q is None:
        return Tensor(None)
    kv = None
    if not layer.extra.get("self_attention"):
        kv_val = args[1] if len(args) > 1 else kwargs.get("inputs_k", kwargs.get("inputs_kv"))
        kv = A.as_array(kv_val) if kv_val is not None else None
    p = layer.params
    heads = p["num_heads"]
    qkv = p["qkv_features"] if p["qkv_features"] is not None else (q.shape[-1] if q.shape else Unknown("features"))
    label = layer.name or layer.op.rsplit(".", 1)[-1]
    if is_int(qkv) and is_int(heads) and heads > 1 and q.shape is not None:
        interp.trace.record(ChannelEvent(layer.site, label, None, qkv, q.shape, len(q.shape) - 1, C.last_layer(q), "attention features (split into heads)", groups=heads))
    if q.shape is None:
        return _record(interp, layer, node, q, q.derive(None))
    if kv is not None and kv.shape is not None and q.exact_rank and kv.exact_rank and len(kv.shape) != len(q.shape):
        return _record(interp, layer, node, q, q.derive(None))
    out_f = p["out_features"] if p["out_features"] is not None else q.shape[-1]
    out = A.with_dims(q, tuple(q.shape[:-1]) + (A.dim(out_f),))
    res = _record(interp, layer, node, q, out)
    res.exact_rank = q.exact_rank
    return res


# ---------------------------------------------------------------------------------- recurrent

CELL_SIG = Signature.of("features")


def cell(op, kind):
    """``LSTMCell``/``OptimizedLSTMCell`` carry ``(c, h)``; ``GRUCell``/``MGUCell``/``SimpleCell``
    carry ``h``; ``ConvLSTMCell`` is an LSTM of convolutions (SAME, stride 1 keeps the size)."""
    def build(interp, args, kwargs, node):
        if kind == "convlstm":
            p = Signature.of("features", "kernel_size", ("strides", None), ("padding", "SAME")).bind(args, kwargs)
        else:
            p = CELL_SIG.bind(args, kwargs)

        def carry_for(shape):
            h = A.new(None if shape is None else tuple(shape[:-1]) + (_cell_features(p, shape),))
            return (h, h) if kind in ("lstm", "convlstm") else h

        def initialize_carry(i, a, k, n):
            q = Signature.of("rng", "input_shape").bind(a, k)
            s = A.shape_arg(q["input_shape"])
            return carry_for(s)

        layer = make_layer(interp, op, p, node, _cell_apply, kwargs, kind=kind,
                           attrs={"initialize_carry": pyb.Builtin("initialize_carry", initialize_carry), "num_feature_axes": 3 if kind == "convlstm" else 1, **p})
        return layer

    return build


def _cell_features(p, shape):
    if "kernel_size" in p:
        ok = p["padding"] == "SAME" and (p["strides"] is None or all(s == 1 for s in (p["strides"] if isinstance(p["strides"], (tuple, list)) else ())))
        return A.dim(p["features"]) if ok else Unknown("ConvLSTM features")
    return A.dim(p["features"])


def _cell_apply(interp, layer, args, kwargs, node):
    x = args[1] if len(args) > 1 else kwargs.get("inputs")
    x = A.as_array(x)
    kind = layer.extra["kind"]
    if x is None or x.shape is None:
        h = Tensor(None, framework="jax")
    else:
        h = A.with_dims(x, tuple(x.shape[:-1]) + (_cell_features(layer.params, x.shape),))
        C.record(interp, op=layer.op, layer=layer, site=layer.site, call_node=node, x=x, out_shape=h.shape)
    carry = (h, h) if kind in ("lstm", "convlstm") else h
    return (carry, h)


RNN_SIG = Signature.of("cell", ("time_major", False), ("return_carry", False), ("reverse", False), ("keep_order", False))


def rnn(interp, args, kwargs, node):
    p = RNN_SIG.bind(args, kwargs)
    return make_layer(interp, "flax.linen.RNN", p, node, _rnn_apply, kwargs)


def _rnn_apply(interp, layer, args, kwargs, node):
    x = _input(args, kwargs)
    p = layer.params
    time_major = kwargs.get("time_major", p["time_major"])
    ret_carry = kwargs.get("return_carry", p["return_carry"])
    cell_ = p["cell"]
    if x is None or x.shape is None or time_major not in (True, False) or ret_carry not in (True, False):
        return Unknown("RNN")
    t_axis = 0 if time_major else (len(x.shape) - 2)
    if len(x.shape) < 2 or not x.exact_rank:
        return Unknown("RNN input rank")
    step = x.derive(tuple(d for j, d in enumerate(x.shape) if j != t_axis))
    init = kwargs.get("initial_carry")
    if init is None:
        ic = interp.getattr(cell_, "initialize_carry")
        init = interp.call(ic, [Unknown("key"), tuple(step.shape)], {}, node)
    res = interp.call(cell_, [init, step], {}, node)
    if not isinstance(res, tuple) or len(res) != 2:
        return Unknown("RNN cell result")
    carry, y = res
    if isinstance(y, Tensor) and y.shape is not None:
        s = list(y.shape)
        s.insert(t_axis, x.shape[t_axis])
        y = y.derive(tuple(s))
    else:
        y = Unknown("RNN outputs")
    return (carry, y) if ret_carry else y


def bidirectional(interp, args, kwargs, node):
    p = Signature.of("forward_rnn", "backward_rnn", ("merge_fn", None), ("time_major", False), ("return_carry", False)).bind(args, kwargs)

    def apply(i, layer, a, k, n):
        f = i.call(p["forward_rnn"], list(a), dict(k, return_carry=False), n)
        b = i.call(p["backward_rnn"], list(a), dict(k, return_carry=False), n)
        if p["merge_fn"] is not None:
            out = i.call(p["merge_fn"], [f, b], {}, n)
        elif isinstance(f, Tensor) and isinstance(b, Tensor):
            out = N.concat(i, [f, b], -1, n, "Bidirectional")
        else:
            out = Unknown("Bidirectional")
        return (Unknown("carries"), out) if p["return_carry"] is True else out

    return make_layer(interp, "flax.linen.Bidirectional", p, node, apply, kwargs)
