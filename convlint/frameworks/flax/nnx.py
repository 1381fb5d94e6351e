"""``flax.nnx``: eager modules. An ``nnx.Module`` subclass is a plain Python class (``__init__``
builds its layers with their input sizes, ``__call__`` applies them, as torch does), and its layers
take their input feature count when built (``nnx.Conv(in_features, out_features, kernel_size,
rngs=rngs)``). Sizes follow flax's arithmetic: each layer is the ``flax.linen`` layer of the same
kind (channels last) plus a check that the input's features are the ``in_features`` it was built
for — jax's ``conv_general_dilated`` rejects any other count.
"""

from __future__ import annotations

from convlint.frameworks.base import FwClass, Layer, Signature, is_int
from convlint.frameworks.flax import layers as L
from convlint.interpret import builtins as pyb
from convlint.interpret.events import ChannelEvent
from convlint.interpret.tensor import CHANNELS_LAST, Tensor
from convlint.interpret.values import MISSING, FunctionVal, Unknown

NS = "flax.nnx"
FRAMEWORK = "nnx"

CONV_SIG = Signature.of("in_features", "out_features", "kernel_size", ("strides", 1), ("padding", "SAME"), ("input_dilation", 1),
                        ("kernel_dilation", 1), ("feature_group_count", 1), ("use_bias", True))
CONVT_SIG = Signature.of("in_features", "out_features", "kernel_size", ("strides", None), ("padding", "SAME"), ("kernel_dilation", None),
                         ("use_bias", True))
LINEAR_SIG = Signature.of("in_features", "out_features", ("use_bias", True))
NORM_SIG = Signature.of("num_features")
GROUPNORM_SIG = Signature.of("num_features", ("num_groups", 32), ("group_size", None), ("epsilon", 1e-6))
EMBED_SIG = Signature.of("num_embeddings", "features")


def _check_features(interp, layer: Layer, x, expected, what: str = "input features", argument: str = "in_features") -> None:
    """``x``'s last dim must be the feature count the layer was built for."""
    if not isinstance(x, Tensor) or x.shape is None or not x.shape or not is_int(expected):
        return
    got = x.shape[-1]
    if is_int(got) and got != expected:
        from convlint.frameworks import shapes as C

        interp.trace.record(ChannelEvent(layer.site, layer.name or layer.op.rsplit(".", 1)[-1], expected, got, x.shape, len(x.shape) - 1,
                                         C.last_layer(x), what, layer=layer, argument=argument))


def _conv(op: str, transpose: bool):
    from convlint.frameworks.flax import _conv_apply, _conv_build

    linen = _conv_build(op, transpose)
    sig = CONVT_SIG if transpose else CONV_SIG

    def build(interp, args, kwargs, node):
        p = sig.bind(args, kwargs)
        ks = p["kernel_size"]
        ks = (ks,) if is_int(ks) else tuple(ks) if isinstance(ks, (list, tuple)) else ks  # an int is a 1-d kernel
        lin = {k: v for k, v in p.items() if k not in ("in_features", "out_features", "kernel_size")}
        layer = linen(interp, [p["out_features"], ks], lin, node)
        if isinstance(layer, Layer):
            layer.params["in_features"] = p["in_features"]
            layer.params["out_features"] = p["out_features"]
        return layer

    def apply(interp, layer, args, kwargs, node):
        x = args[0] if args else kwargs.get("inputs")
        groups = layer.params.get("feature_group_count", 1)
        if not transpose or groups == 1:
            _check_features(interp, layer, x, layer.params.get("in_features"))
        return _conv_apply(interp, layer, args, kwargs, node)

    def make(interp, args, kwargs, node):
        layer = build(interp, args, kwargs, node)
        if isinstance(layer, Layer):
            layer.apply = apply
        return layer

    return make


def _linear(interp, args, kwargs, node):
    p = LINEAR_SIG.bind(args, kwargs)
    layer = L.dense(interp, [p["out_features"]], {"use_bias": p["use_bias"]}, node)
    layer.op = f"{NS}.Linear"
    layer.params["in_features"] = p["in_features"]
    dense_apply = layer.apply

    def apply(i, lyr, a, k, n):
        _check_features(i, lyr, a[0] if a else k.get("inputs"), lyr.params.get("in_features"))
        return dense_apply(i, lyr, a, k, n)

    layer.apply = apply
    return layer


def _norm(name: str):
    def build(interp, args, kwargs, node):
        p = NORM_SIG.bind(args[:1], kwargs)
        layer = L.preserving(f"{NS}.{name}")(interp, [], {}, node)
        layer.params["num_features"] = p["num_features"]

        def apply(i, lyr, a, k, n):
            x = a[0] if a else k.get("x")
            _check_features(i, lyr, x, lyr.params.get("num_features"), "features", "num_features")
            return x if isinstance(x, Tensor) else Tensor(None)

        layer.apply = apply
        return layer

    return build


def _group_norm(interp, args, kwargs, node):
    p = GROUPNORM_SIG.bind(args, kwargs)
    layer = L.group_norm(interp, [], {"num_groups": p["num_groups"], "group_size": p["group_size"]}, node)
    layer.op = f"{NS}.GroupNorm"
    layer.params["num_features"] = p["num_features"]
    linen_apply = layer.apply

    def apply(i, lyr, a, k, n):
        _check_features(i, lyr, a[0] if a else k.get("x"), lyr.params.get("num_features"), "features", "num_features")
        return linen_apply(i, lyr, a, k, n)

    layer.apply = apply
    return layer


def _dropout(interp, args, kwargs, node):
    layer = L.preserving(f"{NS}.Dropout")(interp, [], {}, node)
    return layer


def _embed(interp, args, kwargs, node):
    p = EMBED_SIG.bind(args, kwargs)
    layer = L.embed(interp, [p["num_embeddings"], p["features"]], {}, node)
    layer.op = f"{NS}.Embed"
    return layer


def _sequential(interp, args, kwargs, node):
    """``nnx.Sequential(*layers)``: each layer (or callable) in turn."""
    items = list(args)

    def apply(i, layer, a, k, n):
        if not items:
            return Unknown("empty Sequential")
        out = i.call(items[0], list(a), k, n)
        for item in items[1:]:
            out = i.call(item, [out], {}, n)
        return out

    return L.make_layer(interp, f"{NS}.Sequential", {"layers": items}, node, apply, {})


# functions nnx re-exports from jax / flax.linen (activations, pooling)
SHARED_FUNCTIONS = (
    "relu", "relu6", "gelu", "silu", "swish", "sigmoid", "tanh", "elu", "celu", "selu", "leaky_relu", "softplus", "soft_sign",
    "log_sigmoid", "hard_sigmoid", "hard_silu", "hard_swish", "hard_tanh", "glu", "softmax", "log_softmax", "one_hot",
    "standardize", "logsumexp", "avg_pool", "max_pool", "min_pool", "pool",
)


def _keep_target(interp, args, kwargs, node):
    """``@nnx.jit`` / ``@nnx.jit(static_argnums=...)``: the function itself."""
    if len(args) == 1 and not kwargs:
        return args[0]
    return pyb.Builtin("decorator", lambda i, a, k, n: a[0] if len(a) == 1 else Unknown("decorator"))


class NnxModules:
    """``nnx.Module`` subclasses: plain classes — ``__init__`` runs as written, ``model(x)`` runs
    ``__call__``; model inputs are channels last."""

    input_layout = CHANNELS_LAST

    def call(self, interp, inst, args, kwargs, node):
        fn, _ = inst.cls.lookup("__call__")
        if isinstance(fn, FunctionVal):
            return interp.call_function(fn, [inst, *args], kwargs, node)
        return Unknown(f"{inst.cls.name} has no __call__")

    def instantiate(self, interp, cls, args, kwargs, node):
        return MISSING

    def attr_missing(self, interp, inst, name):
        if name in ("eval", "train", "set_attributes"):
            return pyb.Builtin(name, lambda i, a, k, n: None)  # mode switches: the model is unchanged in shape
        return MISSING

    def prepare(self, interp, inst) -> None:
        return None

    def has_attribute(self, inst, name: str):
        return None


SEMANTICS = NnxModules()


def register(catalogue: dict, status: dict) -> None:
    def put(name, fn, kind="function", family=None, sig=None):
        from convlint.frameworks.base import Op

        catalogue[f"{NS}.{name}"] = Op(f"{NS}.{name}", fn, kind, sig, family)
        status[f"{NS}.{name}"] = "modelled"

    put("Conv", _conv(f"{NS}.Conv", False), "layer", "conv", CONV_SIG)
    put("ConvTranspose", _conv(f"{NS}.ConvTranspose", True), "layer", "conv", CONVT_SIG)
    put("Linear", _linear, "layer", None, LINEAR_SIG)
    for name in ("BatchNorm", "LayerNorm", "RMSNorm"):
        put(name, _norm(name), "layer", None, NORM_SIG)
    put("GroupNorm", _group_norm, "layer", None, GROUPNORM_SIG)
    put("Dropout", _dropout, "layer")
    put("Embed", _embed, "layer", None, EMBED_SIG)
    put("Sequential", _sequential, "layer")
    put("Rngs", lambda i, a, k, n: Unknown("nnx.Rngs: random streams (no shape)"))
    # transforms that leave what a function computes unchanged (vmap, scan, … are not followed:
    # a function they decorate is unknown)
    for name in ("jit", "remat", "checkpoint", "named_call"):
        put(name, _keep_target)
    for name in SHARED_FUNCTIONS:
        linen = catalogue.get(f"flax.linen.{name}")
        if linen is not None:
            catalogue[f"{NS}.{name}"] = linen
            status[f"{NS}.{name}"] = "modelled"
    catalogue[f"{NS}.Module"] = FwClass(f"{NS}.Module", FRAMEWORK)
    status[f"{NS}.Module"] = "modelled"
