"""Flax linen: ``nn.Conv`` / ``nn.ConvTranspose`` / ``nn.ConvLocal`` with input features taken from
the input (channels last), ``nn.Dense``, ``nn.avg_pool`` / ``nn.max_pool``, norms and activations.
Modules are dataclasses: constructor arguments fill the annotated fields; ``setup`` runs before
first use; ``@nn.compact`` layers are built and applied in one statement."""

from __future__ import annotations

from convlint.arith.core import ConvArithmeticError, Window
from convlint.arith.flax import flax_conv, flax_conv_transpose, kernel_tuple
from convlint.arith.lax import padtype_to_pads
from convlint.frameworks import shapes as C
from convlint.frameworks.base import FwClass, Layer, Op, Signature, as_tuple, framework_base, is_int, known, window_out
from convlint.interpret.events import ChannelEvent, ConfigEvent, RankEvent
from convlint.interpret.symbolic import Sym
from convlint.interpret import builtins as pyb
from convlint.interpret.tensor import CHANNELS_LAST, Tensor
from convlint.interpret.values import MISSING, FunctionVal, Instance, Unknown

FRAMEWORK = "flax"
CATALOGUE: dict = {}
MODULES = {"flax", "flax.linen", "flax.nnx"}
ALIASES = {"flax.linen.linear": "flax.linen", "flax.linen.module": "flax.linen"}

CONV_SIG = Signature.of("features", "kernel_size", ("strides", 1), ("padding", "SAME"), ("input_dilation", 1), ("kernel_dilation", 1), ("feature_group_count", 1), ("use_bias", True))
CONVT_SIG = Signature.of("features", "kernel_size", ("strides", None), ("padding", "SAME"), ("kernel_dilation", None), ("use_bias", True))


def _reg(name, fn, kind="function", sig=None, family=None):
    CATALOGUE[name] = Op(name, fn, kind, sig, family)


def _conv_build(op, transpose):
    sig = CONVT_SIG if transpose else CONV_SIG

    def build(interp, args, kwargs, node):
        p = sig.bind(args, kwargs)
        layer = Layer(op, p, interp.site(node), FRAMEWORK, _conv_apply, extra={"transpose": transpose, "call": node, "sig": sig})
        ks = p["kernel_size"]
        if known(ks):
            try:
                k = kernel_tuple(as_tuple(ks))
                if any(v < 1 for v in k):
                    raise ConvArithmeticError(f"kernel_size={ks!r}: every kernel size must be at least 1", constraint="kernel_size ≥ 1", argument="kernel_size")
            except ConvArithmeticError as e:
                interp.trace.record(ConfigEvent(layer.site, op.rsplit(".", 1)[-1], e))
        return layer

    return build


def _conv_apply(interp, layer: Layer, args, kwargs, node):
    x = args[0] if args else kwargs.get("inputs", Unknown("no input"))
    if not isinstance(x, Tensor):
        return Tensor(None)
    p = layer.params
    label = layer.name or layer.op.rsplit(".", 1)[-1]
    transpose = layer.extra["transpose"]
    keys = ["kernel_size", "strides", "padding", "kernel_dilation"] + ([] if transpose else ["input_dilation"])
    if x.shape is None or not known(*(p[k] for k in keys)):
        rank = len(p["kernel_size"]) if isinstance(p["kernel_size"], (tuple, list)) else None
        shape = None
        if x.shape is not None:
            shape = tuple(x.shape[:-1]) + (p["features"] if is_int(p["features"]) else Unknown("features"),)
            shape = tuple(shape[:1]) + tuple(Unknown("flax conv") for _ in shape[1:-1]) + shape[-1:]
        return C.record(interp, op=layer.op, layer=layer, site=layer.site, call_node=node, x=x, out_shape=shape)
    try:
        k = kernel_tuple(as_tuple(p["kernel_size"]))
    except ConvArithmeticError:
        return C.record(interp, op=layer.op, layer=layer, site=layer.site, call_node=node, x=x, out_shape=None)
    rank = len(k)
    n = len(x.shape)
    if n < rank + 1:
        interp.trace.record(RankEvent(layer.site, label, (), n, x.shape, f"a {rank}-d kernel"))
        return C.record(interp, op=layer.op, layer=layer, site=layer.site, call_node=node, x=x, out_shape=None)
    axes = list(range(n - 1 - rank, n - 1))
    sizes = tuple(x.shape[a] for a in axes)
    conc = tuple(s if is_int(s) else 1 for s in sizes)
    pad = as_tuple(p["padding"])
    try:
        if transpose:
            windows = flax_conv_transpose(conc, k, as_tuple(p["strides"]), pad, as_tuple(p["kernel_dilation"]))
        else:
            windows = flax_conv(conc, k, as_tuple(p["strides"]), pad, as_tuple(p["input_dilation"]), as_tuple(p["kernel_dilation"]))
    except ConvArithmeticError as e:
        interp.trace.record(ConfigEvent(layer.site, label, e))
        return C.record(interp, op=layer.op, layer=layer, site=layer.site, call_node=node, x=x, out_shape=None)
    if isinstance(pad, str) and pad not in ("VALID", "CIRCULAR", "REFLECT", "CAUSAL") and not all(is_int(s) for s in sizes):
        # SAME-like padding: the pads depend on the size, the output is ceil(i / s) (or i·s transposed)
        strides = [w.stride for w in windows] if not transpose else [w.input_dilation for w in windows]
        spatial = tuple((s * st if transpose else ((s + (st - 1)) // st)) if isinstance(s, Sym) else Unknown("size") for s, st in zip(sizes, strides))
        windows_used = ()
    else:
        spatial = tuple(window_out(w, i) for w, i in zip(windows, sizes))
        windows_used = windows
    raw = spatial
    spatial = tuple(max(o, 0) if is_int(o) else o for o in spatial)  # jax gives a zero-size array
    feats = p["features"] if is_int(p["features"]) else Unknown("features")
    if not transpose:
        groups = p.get("feature_group_count", 1)
        c = x.shape[-1]
        if is_int(c) and is_int(groups) and groups > 1:
            interp.trace.record(ChannelEvent(layer.site, label, None, c, x.shape, n - 1, C.last_layer(x), "input features", groups=groups))
    out_shape = tuple(x.shape[: n - 1 - rank]) + spatial + (feats,)
    kind = None
    if windows_used:
        if transpose and any(w.input_dilation > 1 for w in windows_used):
            kind = "up"
        elif not transpose and any(w.stride > 1 for w in windows_used):
            kind = "down"
        elif not transpose and any(w.input_dilation > 1 for w in windows_used):
            kind = "up"
    return C.record(interp, op=layer.op, layer=layer, site=layer.site, call_node=node, x=x, out_shape=out_shape, windows=windows_used,
                    params=p, kind=kind, axes=axes, adjoint=(("transpose" if transpose else "conv"), windows_used, layer),
                    transposed=transpose, spatial_out=raw)


def _pool(op, kind):
    sig = Signature.of("inputs", "window_shape", ("strides", None), ("padding", "VALID"))

    def fn(interp, args, kwargs, node):
        p = sig.bind(args, kwargs)
        x = p["inputs"]
        site = interp.site(node)
        if not isinstance(x, Tensor):
            return Tensor(None)
        ws = as_tuple(p["window_shape"])
        if x.shape is None or not known(ws, p["strides"], p["padding"]) or not isinstance(ws, tuple):
            return C.record(interp, op=op, layer=None, site=site, call_node=node, x=x, out_shape=None)
        rank = len(ws)
        n = len(x.shape)
        axes = list(range(n - 1 - rank, n - 1))
        strides = as_tuple(p["strides"]) if p["strides"] is not None else (1,) * rank
        sizes = tuple(x.shape[a] for a in axes)
        pad = as_tuple(p["padding"])
        if isinstance(pad, str):
            if pad.upper() == "VALID":
                pairs = [(0, 0)] * rank
            elif all(is_int(s) for s in sizes):
                pairs = padtype_to_pads(sizes, ws, strides, pad)
            else:
                pairs = None
        else:
            pairs = [tuple(q) for q in pad]
        if pairs is None:
            spatial = tuple(((s + (st - 1)) // st) if isinstance(s, Sym) else Unknown("pool") for s, st in zip(sizes, strides))
            windows = ()
        else:
            windows = tuple(Window(k, s, 1, 1, lo, hi) for k, s, (lo, hi) in zip(ws, strides, pairs))
            spatial = tuple(window_out(w, i) for w, i in zip(windows, sizes))
        raw = spatial
        spatial = tuple(max(o, 0) if is_int(o) else o for o in spatial)  # jax gives a zero-size array
        kindv = "down" if any(s > 1 for s in strides) else None
        return C.record(interp, op=op, layer=None, site=site, call_node=node, x=x, out_shape=tuple(x.shape[: n - 1 - rank]) + spatial + (x.shape[-1],),
                        windows=windows, kind=kindv, axes=axes, adjoint=("pool", windows, None), spatial_out=raw)

    return fn


def _dense_build(interp, args, kwargs, node):
    p = Signature.of("features", ("use_bias", True)).bind(args, kwargs)
    return Layer("flax.linen.Dense", p, interp.site(node), FRAMEWORK, _dense_apply)


def _dense_apply(interp, layer, args, kwargs, node):
    x = args[0] if args else kwargs.get("inputs", Unknown("input"))
    if not isinstance(x, Tensor):
        return Tensor(None)
    f = layer.params["features"]
    out = None if x.shape is None else tuple(x.shape[:-1]) + (f if is_int(f) else Unknown("features"),)
    return C.record(interp, op=layer.op, layer=layer, site=layer.site, call_node=node, x=x, out_shape=out)


def _preserve_build(op):
    def build(interp, args, kwargs, node):
        return Layer(op, {}, interp.site(node), FRAMEWORK, lambda i, l, a, k, n: a[0] if a and isinstance(a[0], (Tensor, Unknown)) else Tensor(None))

    return build


def _preserve_fn(interp, args, kwargs, node):
    x = args[0] if args else Unknown("input")
    return x if isinstance(x, (Tensor, Unknown)) else Unknown("scalar")


def _sequential(interp, args, kwargs, node):
    from convlint.frameworks.base import Container

    layers = args[0] if args else kwargs.get("layers", [])
    items = interp.iterate(layers)
    return Container("sequential", list(items) if items is not None else [Unknown("layers")], interp.site(node))


def _register():
    _reg("flax.linen.Conv", _conv_build("flax.linen.Conv", False), "layer", CONV_SIG, "conv")
    _reg("flax.linen.ConvLocal", _conv_build("flax.linen.ConvLocal", False), "layer", CONV_SIG, "conv")
    _reg("flax.linen.ConvTranspose", _conv_build("flax.linen.ConvTranspose", True), "layer", CONVT_SIG, "conv")
    _reg("flax.linen.Dense", _dense_build, "layer")
    _reg("flax.linen.avg_pool", _pool("flax.linen.avg_pool", "avg"), family="pool")
    _reg("flax.linen.max_pool", _pool("flax.linen.max_pool", "max"), family="pool")
    _reg("flax.linen.min_pool", _pool("flax.linen.min_pool", "min"), family="pool")
    for name in ("BatchNorm", "LayerNorm", "GroupNorm", "RMSNorm", "Dropout", "InstanceNorm"):
        _reg(f"flax.linen.{name}", _preserve_build(f"flax.linen.{name}"), "layer")
    for name in ("relu", "gelu", "silu", "swish", "sigmoid", "tanh", "elu", "leaky_relu", "softplus", "softmax", "log_softmax", "normalize"):
        _reg(f"flax.linen.{name}", _preserve_fn)
    CATALOGUE["flax.linen.Module"] = FwClass("flax.linen.Module", "flax")
    _reg("flax.linen.Sequential", _sequential, "container")
    CATALOGUE["flax.linen.compact"] = Op("flax.linen.compact", lambda i, a, k, n: a[0] if a else Unknown("decorator"))


_register()


# ---------------------------------------------------------------------------------------- model classes

class FlaxModules:
    """``flax.linen.Module`` subclasses: dataclasses whose annotated fields are the constructor's
    arguments; ``setup`` runs before first use; ``model(x)`` runs ``__call__`` (``@nn.compact``
    layers are built and applied in the same statement)."""

    input_layout = CHANNELS_LAST

    def call(self, interp, inst, args, kwargs, node):
        self.prepare(interp, inst)
        fn, _ = inst.cls.lookup("__call__")
        if isinstance(fn, FunctionVal):
            return interp.call_function(fn, [inst, *args], kwargs, node)
        layer = inst.attrs.get("__layer__")
        if isinstance(layer, Layer):  # a subclass of a flax layer that keeps its ``__call__``
            return layer.apply(interp, layer, args, kwargs, node)
        return Unknown(f"{inst.cls.name} has no __call__")

    def instantiate(self, interp, cls, args, kwargs, node):
        inst = Instance(cls)
        base = framework_base(cls)
        if base is not None and base.kind == "layer":
            # ``class StdConv(nn.Conv)``: the base layer's fields come first, then the subclass's
            own = {f[0] for f in cls.fields}
            layer = base.fn(interp, list(args), {k: v for k, v in kwargs.items() if k not in own}, node if node is not None else cls.node)
            if isinstance(layer, Layer):
                inst.attrs["__layer__"] = layer
                inst.attrs.update(layer.params)
            args = []
        fields = [f for f in cls.fields if f[0] not in ("parent", "name")]
        args = list(args)
        for fname, default in fields:
            if args:
                inst.attrs[fname] = args.pop(0)
            elif fname in kwargs:
                inst.attrs[fname] = kwargs[fname]
            elif default is not MISSING:
                inst.attrs[fname] = default
            else:
                inst.attrs[fname] = Unknown(f"field {fname!r} not given")
        post, _ = cls.lookup("__post_init__")
        if isinstance(post, FunctionVal):
            interp.call_function(post, [inst], {}, node)
        return inst

    def attr_missing(self, interp, inst, name):
        if name in ("param", "variable", "make_rng", "sow", "is_initializing", "perturb"):
            return pyb.Builtin(name, lambda i, a, k, n: Unknown(f"flax {name}"))
        return MISSING

    def prepare(self, interp, inst) -> None:
        if inst.setup_done:
            return
        inst.setup_done = True
        setup, _ = inst.cls.lookup("setup")
        if isinstance(setup, FunctionVal):
            interp.call_function(setup, [inst], {}, None)


SEMANTICS = FlaxModules()


def upsampling_fix(event, din, want):
    """Explicit ``(low, high)`` padding pairs that make a flax ``ConvTranspose`` map ``din`` to ``want``."""
    layer = event.layer
    if not isinstance(layer, Layer) or layer.op != "flax.linen.ConvTranspose":
        return None
    pad = layer.params.get("padding")
    if isinstance(pad, str) or not event.windows:
        return None
    return C.pairs_fix(layer.extra.get("call"), event.windows, din, want, pad, 3, "ConvTranspose")
