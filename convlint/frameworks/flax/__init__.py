"""Flax linen: ``nn.Conv`` / ``nn.ConvTranspose`` / ``nn.ConvLocal`` with input features taken from
the input (channels last), the other layers (:mod:`.layers`), pooling, activations and lifted
transforms (:mod:`.functions`). Every public callable of ``flax.linen`` is modelled,
shape-preserving or unknown with a reason (:data:`REGISTRY`).

Modules are dataclasses: constructor arguments fill the annotated fields; ``setup`` runs before
first use; ``@nn.compact`` layers are built and applied in one statement. A script's entry points
— ``Model().init(key, x)``, ``.init_with_output``, ``.apply(variables, x, method=…, mutable=…)``,
``.tabulate``, ``jax.eval_shape(model.init, key, x)`` — call the module on the given inputs."""

from __future__ import annotations

from convlint.arith.core import ConvArithmeticError
from convlint.arith.flax import flax_conv, flax_conv_transpose, kernel_tuple
from convlint.frameworks import shapes as C
from convlint.frameworks.base import FwClass, Layer, Signature, VariableBox, as_tuple, framework_base, is_int, known, window_out
from convlint.frameworks.flax import functions as F
from convlint.frameworks.flax import layers as L
from convlint.frameworks.jax.registry import Registry
from convlint.interpret.events import ChannelEvent, ConfigEvent, RankEvent
from convlint.interpret.symbolic import Sym, has_symbolic, is_size
from convlint.interpret import builtins as pyb
from convlint.interpret.tensor import CHANNELS_LAST, Tensor
from convlint.frameworks.jax import arrays as A
from convlint.interpret.values import MISSING, BoundMethod, FunctionVal, Instance, Unknown

FRAMEWORK = "flax"
CATALOGUE: dict = {}
REGISTRY = Registry(CATALOGUE)
MODULES = {"flax", "flax.linen", "flax.nnx"}
ALIASES = {"flax.linen.linear": "flax.linen", "flax.linen.module": "flax.linen"}

CONV_SIG = Signature.of("features", "kernel_size", ("strides", 1), ("padding", "SAME"), ("input_dilation", 1), ("kernel_dilation", 1), ("feature_group_count", 1), ("use_bias", True))
CONVT_SIG = Signature.of("features", "kernel_size", ("strides", None), ("padding", "SAME"), ("kernel_dilation", None), ("use_bias", True))


def _conv_build(op, transpose):
    sig = CONVT_SIG if transpose else CONV_SIG

    def build(interp, args, kwargs, node):
        p = sig.bind(args, kwargs)
        layer = L.make_layer(interp, op, p, node, _conv_apply, kwargs, transpose=transpose, call=node, sig=sig)
        ks = p["kernel_size"]
        if known(ks) and not has_symbolic(ks) and not _placeholder_none(interp, ks):
            try:
                k = kernel_tuple(as_tuple(ks))
                if any(v < 1 for v in k):
                    raise ConvArithmeticError(f"kernel_size={ks!r}: every kernel size must be at least 1", constraint="kernel_size ≥ 1", argument="kernel_size")
            except ConvArithmeticError as e:
                interp.trace.record(ConfigEvent(layer.site, op.rsplit(".", 1)[-1], e, layer=layer))
        return layer

    return build


def _placeholder_none(interp, value) -> bool:
    """``value`` holds a ``None`` that is not a fact: one that reached the layer on a path that
    is not certain — a model run with its own defaults (``patch_size: Optional[int] = None``, a
    placeholder its real callers replace) or a branch taken on an unknown condition. Then the
    layer's sizes are unknown rather than rejected (as for a torch conv)."""
    holds = value is None or (isinstance(value, (tuple, list)) and any(v is None for v in value))
    return holds and not C.on_certain_path(interp)


def _conv_apply(interp, layer: Layer, args, kwargs, node):
    x = args[0] if args else kwargs.get("inputs", Unknown("no input"))
    if not isinstance(x, Tensor):
        return Tensor(None)
    p = layer.params
    label = layer.name or layer.op.rsplit(".", 1)[-1]
    transpose = layer.extra["transpose"]
    if x.shape is None and x.entry and isinstance(p["kernel_size"], (tuple, list)) and p["kernel_size"]:
        # a model input of unknown rank (a module run on its own): one batch dim, the kernel's
        # spatial dims, the features last
        x = C.promote_entry(x, len(p["kernel_size"]), channels_last=True)
    keys = ["kernel_size", "strides", "padding", "kernel_dilation"] + ([] if transpose else ["input_dilation"])
    if x.shape is None or not known(*(p[k] for k in keys)) or any(has_symbolic(p[k]) or _placeholder_none(interp, p[k]) for k in keys):
        rank = len(p["kernel_size"]) if isinstance(p["kernel_size"], (tuple, list)) else None
        shape = None
        if x.shape is None and is_int(p["features"]):
            # the input's rank is not known: the features are still the last dim
            out = C.record(interp, op=layer.op, layer=layer, site=layer.site, call_node=node, x=x, out_shape=None)
            out = out.derive((p["features"],))
            out.exact_rank = False
            return out
        if x.shape is not None:
            shape = tuple(x.shape[:-1]) + (p["features"] if is_size(p["features"]) else Unknown("features"),)
            shape = tuple(shape[:1]) + tuple(Unknown("flax conv") for _ in shape[1:-1]) + shape[-1:]
        return C.record(interp, op=layer.op, layer=layer, site=layer.site, call_node=node, x=x, out_shape=shape)
    try:
        k = kernel_tuple(as_tuple(p["kernel_size"]))
    except ConvArithmeticError:
        return C.record(interp, op=layer.op, layer=layer, site=layer.site, call_node=node, x=x, out_shape=None)
    rank = len(k)
    n = len(x.shape)
    if n < rank + 1 and not x.exact_rank:
        # a lower bound on the rank (an operand of unknown shape met it): the spatial dims are
        # not all known, the features still are
        feats = p["features"] if is_size(p["features"]) else Unknown("features")
        out = C.record(interp, op=layer.op, layer=layer, site=layer.site, call_node=node, x=x, out_shape=None)
        out = out.derive(tuple(Unknown("flax conv") for _ in range(rank)) + (feats,))
        out.exact_rank = False
        return out
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
        interp.trace.record(ConfigEvent(layer.site, label, e, layer=layer))
        return C.record(interp, op=layer.op, layer=layer, site=layer.site, call_node=node, x=x, out_shape=None)
    # (lax reads a conv's padding string in any case: ``'valid'`` is ``'VALID'``; a transposed
    # conv special-cases the upper-case words only)
    word = pad.upper() if isinstance(pad, str) and not transpose else pad
    if isinstance(pad, str) and word not in ("VALID", "CIRCULAR", "REFLECT", "CAUSAL") and not all(is_int(s) for s in sizes):
        # SAME-like padding: the pads depend on the size, the output is ceil(i / s) (or i·s transposed)
        strides = [w.stride for w in windows] if not transpose else [w.input_dilation for w in windows]
        spatial = tuple(window_out(w, s) if is_int(s) else (s * st if transpose else ((s + (st - 1)) // st)) if isinstance(s, Sym) else Unknown("size")
                        for w, s, st in zip(windows, sizes, strides))
        windows_used = ()
    else:
        spatial = tuple(window_out(w, i) for w, i in zip(windows, sizes))
        windows_used = windows
    raw = spatial
    spatial = tuple(max(o, 0) if is_int(o) else o for o in spatial)  # jax gives a zero-size array
    feats = p["features"] if is_size(p["features"]) else Unknown("features")
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


def _sequential(interp, args, kwargs, node):
    """``nn.Sequential(layers)``: a layer that calls each in turn (a tuple result is passed on as
    positional arguments, a dict as keywords — as flax does), with the entry points of a module."""
    layers = args[0] if args else kwargs.get("layers", [])
    items = interp.iterate(layers)
    items = list(items) if items is not None else None

    def apply(i, layer, a, k, n):
        if items is None:
            return Unknown("Sequential of unknown layers")
        if not items:
            return Unknown("empty Sequential")
        out = i.call(items[0], list(a), k, n)
        for item in items[1:]:
            if isinstance(out, tuple):
                out = i.call(item, list(out), {}, n)
            elif isinstance(out, dict) and all(isinstance(key, str) for key in out):
                out = i.call(item, [], dict(out), n)
            else:
                out = i.call(item, [out], {}, n)
        return out

    return L.make_layer(interp, "flax.linen.Sequential", {"layers": items if items is not None else Unknown("layers")}, node, apply, kwargs)


def _register():
    R = REGISTRY
    ns = "flax.linen"
    R.model(f"{ns}.Conv", _conv_build(f"{ns}.Conv", False), CONV_SIG, "conv", "layer")
    R.model(f"{ns}.ConvLocal", _conv_build(f"{ns}.ConvLocal", False), CONV_SIG, "conv", "layer")
    R.model(f"{ns}.ConvTranspose", _conv_build(f"{ns}.ConvTranspose", True), CONVT_SIG, "conv", "layer")
    R.model(f"{ns}.Dense", L.dense, L.DENSE_SIG, kind="layer")
    R.model(f"{ns}.DenseGeneral", L.dense_general, L.DENSE_GENERAL_SIG, kind="layer")
    R.model(f"{ns}.Einsum", L.einsum_layer, L.EINSUM_SIG, kind="layer")
    R.model(f"{ns}.Embed", L.embed, L.EMBED_SIG, kind="layer")
    R.model(f"{ns}.GroupNorm", L.group_norm, L.GROUPNORM_SIG, kind="layer")
    for name in ("BatchNorm", "LayerNorm", "RMSNorm", "InstanceNorm", "Dropout", "PReLU"):
        R.preserve(f"{ns}.{name}", L.preserving(f"{ns}.{name}"), kind="layer")
    for name in ("SpectralNorm", "WeightNorm"):
        R.model(f"{ns}.{name}", L.wrapper(f"{ns}.{name}"), L.WRAP_SIG, kind="layer")
    R.model(f"{ns}.BatchApply", L.batch_apply)
    R.model(f"{ns}.MultiHeadDotProductAttention", L.attention(f"{ns}.MultiHeadDotProductAttention"), L.MHA_SIG, kind="layer")
    R.model(f"{ns}.MultiHeadAttention", L.attention(f"{ns}.MultiHeadAttention"), L.MHA_SIG, kind="layer")
    R.model(f"{ns}.SelfAttention", L.attention(f"{ns}.SelfAttention", self_attention=True), L.MHA_SIG, kind="layer")
    for name, kind in (("LSTMCell", "lstm"), ("OptimizedLSTMCell", "lstm"), ("GRUCell", "gru"), ("MGUCell", "gru"), ("SimpleCell", "gru"),
                       ("ConvLSTMCell", "convlstm")):
        R.model(f"{ns}.{name}", L.cell(f"{ns}.{name}", kind), kind="layer")
    R.model(f"{ns}.RNN", L.rnn, L.RNN_SIG, kind="layer")
    R.model(f"{ns}.Bidirectional", L.bidirectional, kind="layer")
    R.model(f"{ns}.Sequential", _sequential, kind="layer")
    R.unknowns(ns, "Fp8DirectDotGeneralOp Fp8DotGeneral Fp8DotGeneralOp Fp8Einsum NANOOFp8DotGeneralOp",
               "fp8 dot-general operators (quantisation internals) are not modelled")
    R.unknown(f"{ns}.RNNCellBase", "the base class of recurrent cells: a subclass defines its own shapes")
    CATALOGUE[f"{ns}.Module"] = FwClass(f"{ns}.Module", "flax")
    R.status[f"{ns}.Module"] = "modelled"
    F.register(R)
    from convlint.frameworks.flax import nnx

    nnx.register(CATALOGUE, R.status)


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
        init = _user_init(cls)
        if init is not None:  # ``__init__`` written in the class body or set on it (diffusers' decorator)
            interp.call_function(init, [inst, *args], kwargs, node)
            return inst
        dataclass_init(interp, inst, args, kwargs, node)
        return inst

    def class_attr_missing(self, interp, cls, name):
        """``Model.__init__`` of a flax module class: the ``__init__`` the dataclass transform made."""
        if name == "__init__" and cls.framework == "flax":
            return pyb.Builtin("__init__", lambda i, a, k, n: dataclass_init(i, a[0], a[1:], k, n) if a and isinstance(a[0], Instance) else Unknown("__init__"))
        return MISSING

    def attr_missing(self, interp, inst, name):
        if name == "param":
            return pyb.Builtin("param", _param)
        if name == "variable":
            return pyb.Builtin("variable", _variable)
        if name in ("make_rng", "sow", "is_initializing", "perturb", "is_mutable_collection", "has_variable", "has_rng"):
            return pyb.Builtin(name, lambda i, a, k, n: Unknown(f"flax {name}"))
        if name in ENTRY_POINTS:
            return L.entry_points(lambda i, a, k, n: i.call(inst, list(a), k, n), lambda m: _method(interp, inst, m))[name]
        if name == "bind":
            return pyb.Builtin("bind", lambda i, a, k, n: inst)
        if name == "unbind":
            return pyb.Builtin("unbind", lambda i, a, k, n: (inst, Unknown("flax variables")))
        if name == "clone":
            return pyb.Builtin("clone", lambda i, a, k, n: _clone(inst, k))
        if name in ("variables", "scope"):
            return Unknown(f"flax {name}")
        return MISSING

    def prepare(self, interp, inst) -> None:
        if inst.setup_done:
            return
        inst.setup_done = True
        setup, _ = inst.cls.lookup("setup")
        if isinstance(setup, FunctionVal):
            interp.call_function(setup, [inst], {}, None)


ENTRY_POINTS = ("init", "init_with_output", "apply", "tabulate", "lazy_init")


def _method(interp, inst, m):
    """The callable behind ``method=``: a method name, or a function taking the module first."""
    if isinstance(m, str):
        return interp.getattr(inst, m)
    if isinstance(m, FunctionVal):
        return BoundMethod(m, inst)
    return m


def _clone(inst, overrides):
    new = Instance(inst.cls, dict(inst.attrs))
    new.attrs.update({k: v for k, v in overrides.items() if k not in ("*", "**", "parent")})
    return new


def _param(interp, args, kwargs, node):
    """``self.param(name, init_fn, *init_args)``: an initializer given a shape makes an array of it."""
    init_args = list(args[2:])
    shape = init_args[0] if init_args else kwargs.get("shape")
    s = A.shape_arg(shape) if isinstance(shape, (tuple, list)) else None
    return A.new(s, "jax") if s is not None else Unknown("flax parameter")


def _variable(interp, args, kwargs, node):
    """``self.variable(col, name, init_fn, *init_args, unbox=True, **init_kwargs)``: a box whose
    ``.value`` is ``init_fn(*init_args)`` (no random key, unlike ``param``): the value it holds in
    every later ``apply`` of a consistent program has that shape too."""
    init_fn = args[2] if len(args) > 2 else kwargs.get("init_fn")
    init_kwargs = {k: v for k, v in kwargs.items() if k not in ("col", "name", "init_fn", "unbox")}
    if init_fn is None or isinstance(init_fn, Unknown):
        return VariableBox(Unknown("a flax variable without an initializer"))
    return VariableBox(interp.call(init_fn, list(args[3:]), init_kwargs, node))


def _user_init(cls):
    """The ``__init__`` a flax module class runs: one in its own body (or set on it later), else —
    the dataclass transform gives every flax subclass its own — the generated one (None)."""
    init = cls.attrs.get("__init__")
    return init if isinstance(init, FunctionVal) else None


def dataclass_init(interp, inst, args, kwargs, node):
    """The dataclass ``__init__`` of a flax module: fields from positional and keyword arguments,
    then defaults; then ``__post_init__``."""
    cls = inst.cls
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
    return None


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
