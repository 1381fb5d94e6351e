"""Layers that are neither convolutions nor pools: linear and bilinear maps, embeddings, flatten
and unflatten, padding, activations (GLU halves its dim), dropout, distances, containers and the
module wrappers convlint sees through."""

from __future__ import annotations

from convlint.frameworks import shapes as C
from convlint.frameworks.base import SHAPE_PRESERVING, Container, FwClass, Layer, Op, Signature, is_int
from convlint.frameworks.torch.common import (
    CATALOGUE, FRAMEWORK, PRESERVING, axis, channel_check, elementwise, event, label_of, last_dim_check, new_tensor,
    preserving, rank_check, reg, reject, tensor_arg, unmodelled,
)
from convlint.frameworks.torch.functions import flatten_dims, reduce_dims, unflatten_dim
from convlint.interpret.symbolic import is_size
from convlint.interpret.tensor import CHANNELS_FIRST, Tensor
from convlint.interpret.values import Unknown


def _with_last(x, size, why):
    """``x`` with its last dim replaced; on a tensor of unknown shape, the last dim is still known."""
    size = size if is_size(size) else Unknown(why)
    if not isinstance(x, Tensor) or x.shape is None:
        out = new_tensor((size,))
        out.exact_rank = False
        if isinstance(x, Tensor):
            out.history, out.downs = x.history, x.downs
        return out
    return x.derive(tuple(x.shape[:-1]) + (size,))


# ---------------------------------------------------------------------------------------- linear

def _linear_build(op, lazy):
    sig = Signature.of("out_features", ("bias", True), ("device", None), ("dtype", None)) if lazy else Signature.of("in_features", "out_features", ("bias", True), ("device", None), ("dtype", None))

    def build(interp, args, kwargs, node):
        p = sig.bind(args, kwargs)
        if lazy:
            p["in_features"] = Unknown("lazy")
        layer = Layer(op, p, interp.site(node), FRAMEWORK, _linear_apply)
        i, o = p["in_features"], p["out_features"]
        layer.extra["weight"] = new_tensor((o if is_size(o) else Unknown("out_features"), i if is_size(i) else Unknown("in_features")))
        return layer

    return build


def _linear_apply(interp, layer, args, kwargs, node):
    x = tensor_arg(args, kwargs)
    label = label_of(layer)
    of = layer.params.get("out_features")
    if isinstance(x, Tensor) and x.shape is None and x.entry and is_int(layer.params.get("in_features")):
        # a model input of unknown rank: a Linear takes any rank, so only its last dim is known
        x = Tensor((layer.params["in_features"],), CHANNELS_FIRST, framework=FRAMEWORK, exact_rank=False)
    if not isinstance(x, Tensor) or x.shape is None:
        xin = x if isinstance(x, Tensor) else Tensor(None, CHANNELS_FIRST, framework=FRAMEWORK)
        out = C.record(interp, op=layer.op, layer=layer, site=layer.site, call_node=node, x=xin, out_shape=(of if is_size(of) else Unknown("out_features"),))
        out.exact_rank = False  # the input's shape is unknown: the last dim is still the layer's
        return out
    if not x.shape:
        rank_check(interp, layer.site, label, x, (1, 2, 3, 4, 5, 6))
        return C.record(interp, op=layer.op, layer=layer, site=layer.site, call_node=node, x=x, out_shape=None)
    channel_check(interp, label, layer.site, layer.params.get("in_features"), x.shape[-1], x, len(x.shape) - 1, what="input features", layer=layer, argument="in_features")
    return C.record(interp, op=layer.op, layer=layer, site=layer.site, call_node=node, x=x, out_shape=tuple(x.shape[:-1]) + (of if is_size(of) else Unknown("out_features"),))


def _f_linear(interp, args, kwargs, node):
    p = Signature.of("input", "weight", ("bias", None)).bind(args, kwargs)
    x, w = p["input"], p["weight"]
    if isinstance(w, Tensor) and w.shape is not None and w.exact_rank and len(w.shape) == 2:
        if isinstance(x, Tensor) and x.shape:
            channel_check(interp, "linear", interp.site(node), w.shape[1], x.shape[-1], x, len(x.shape) - 1, what="input features")
        return _with_last(x, w.shape[0], "out_features")
    if isinstance(w, Tensor) and w.shape is not None and w.exact_rank and len(w.shape) == 1:
        return reduce_dims(x, -1, False) if isinstance(x, Tensor) and x.shape else Tensor(None, CHANNELS_FIRST, framework=FRAMEWORK)
    return _with_last(x, Unknown("out_features"), "out_features")


def _bilinear_build(interp, args, kwargs, node):
    p = Signature.of("in1_features", "in2_features", "out_features", ("bias", True), ("device", None), ("dtype", None)).bind(args, kwargs)
    return Layer("torch.nn.Bilinear", p, interp.site(node), FRAMEWORK, _bilinear_apply)


def _bilinear_apply(interp, layer, args, kwargs, node):
    p = Signature.of("input1", "input2").bind(args, kwargs)
    a, b = p["input1"], p["input2"]
    label = label_of(layer)
    last_dim_check(interp, label, layer.site, layer.params["in1_features"], a, "features in input1")
    last_dim_check(interp, label, layer.site, layer.params["in2_features"], b, "features in input2")
    x = a if isinstance(a, Tensor) and a.shape is not None else b
    out = _with_last(x, layer.params["out_features"], "out_features")
    event(interp, layer.site, node, layer.op, a, out, layer)
    return out


# ---------------------------------------------------------------------------------------- embeddings

EMB_SIG = Signature.of("num_embeddings", "embedding_dim", ("padding_idx", None), ("max_norm", None), ("norm_type", 2.0), ("scale_grad_by_freq", False), ("sparse", False), ("_weight", None), ("_freeze", False), ("device", None), ("dtype", None))
BAG_SIG = Signature.of("num_embeddings", "embedding_dim", ("max_norm", None), ("norm_type", 2.0), ("scale_grad_by_freq", False), ("mode", "mean"), ("sparse", False), ("_weight", None), ("include_last_offset", False), ("padding_idx", None), ("device", None), ("dtype", None))


def _embedding_build(op, sig):
    def build(interp, args, kwargs, node):
        p = sig.bind(args, kwargs)
        layer = Layer(op, p, interp.site(node), FRAMEWORK, _embedding_apply if op.endswith("Embedding") else _bag_apply)
        n, d = p["num_embeddings"], p["embedding_dim"]
        layer.extra["weight"] = new_tensor((n if is_size(n) else Unknown("num_embeddings"), d if is_size(d) else Unknown("embedding_dim")))
        return layer

    return build


def _embedding_apply(interp, layer, args, kwargs, node):
    x = tensor_arg(args, kwargs)
    d = layer.params["embedding_dim"]
    if not isinstance(x, Tensor) or x.shape is None:
        out = _with_last(x, d, "embedding_dim")
    else:
        out = x.derive(tuple(x.shape) + ((d if is_size(d) else Unknown("embedding_dim")),), label=layer.name or "Embedding")
    event(interp, layer.site, node, layer.op, x, out, layer)
    return out


def embedding_bag(x, offsets, d, include_last_offset):
    """``(B, N)`` indices → ``(B, D)``; 1-d indices with ``offsets`` of B (B+1 with the last offset)."""
    d = d if is_size(d) else Unknown("embedding_dim")
    if isinstance(x, Tensor) and x.shape is not None and x.exact_rank and len(x.shape) == 2:
        return new_tensor((x.shape[0], d))
    if isinstance(offsets, Tensor) and offsets.shape is not None and offsets.exact_rank and len(offsets.shape) == 1:
        b = offsets.shape[0]
        if include_last_offset is True:
            b = b - 1 if is_size(b) else Unknown("bags")
        return new_tensor((b if is_size(b) else Unknown("bags"), d))
    return new_tensor((Unknown("bags"), d))


def _bag_apply(interp, layer, args, kwargs, node):
    p = Signature.of("input", ("offsets", None), ("per_sample_weights", None)).bind(args, kwargs)
    out = embedding_bag(p["input"], p["offsets"], layer.params["embedding_dim"], layer.params["include_last_offset"])
    event(interp, layer.site, node, layer.op, p["input"], out, layer)
    return out


def _f_embedding(interp, args, kwargs, node):
    p = Signature.of("input", "weight").bind(args, kwargs)
    x, w = p["input"], p["weight"]
    d = w.shape[-1] if isinstance(w, Tensor) and w.shape is not None and len(w.shape) == 2 else Unknown("embedding_dim")
    if not isinstance(x, Tensor) or x.shape is None:
        return _with_last(x, d, "embedding_dim")
    return x.derive(tuple(x.shape) + (d,))


def _f_embedding_bag(interp, args, kwargs, node):
    p = Signature.of("input", "weight", ("offsets", None), ("max_norm", None), ("norm_type", 2), ("scale_grad_by_freq", False), ("mode", "mean"),
                     ("sparse", False), ("per_sample_weights", None), ("include_last_offset", False), ("padding_idx", None)).bind(args, kwargs)
    w = p["weight"]
    d = w.shape[-1] if isinstance(w, Tensor) and w.shape is not None and len(w.shape) == 2 else Unknown("embedding_dim")
    return embedding_bag(p["input"], p["offsets"], d, p["include_last_offset"])


def _one_hot(interp, args, kwargs, node):
    p = Signature.of("tensor", ("num_classes", -1)).bind(args, kwargs)
    x, n = p["tensor"], p["num_classes"]
    n = n if is_size(n) and not (is_int(n) and n < 0) else Unknown("the largest class + 1")
    if not isinstance(x, Tensor) or x.shape is None:
        return _with_last(x, n, "num_classes")
    return x.derive(tuple(x.shape) + (n,))


# ---------------------------------------------------------------------------------------- flatten, unflatten, identity

def _flatten_build(interp, args, kwargs, node):
    p = Signature.of(("start_dim", 1), ("end_dim", -1)).bind(args, kwargs)
    return Layer("torch.nn.Flatten", p, interp.site(node), FRAMEWORK, _flatten_apply)


def _flatten_apply(interp, layer, args, kwargs, node):
    x = tensor_arg(args, kwargs)
    if not isinstance(x, Tensor):
        x = Tensor(None, CHANNELS_FIRST, framework=FRAMEWORK)
    out = flatten_dims(x, layer.params["start_dim"], layer.params["end_dim"], layer.name or "Flatten")
    event(interp, layer.site, node, layer.op, x, out, layer)
    return out


def _unflatten_build(interp, args, kwargs, node):
    p = Signature.of("dim", "unflattened_size").bind(args, kwargs)
    return Layer("torch.nn.Unflatten", p, interp.site(node), FRAMEWORK, _unflatten_apply)


def _unflatten_apply(interp, layer, args, kwargs, node):
    x = tensor_arg(args, kwargs)
    if not isinstance(x, Tensor):
        x = Tensor(None, CHANNELS_FIRST, framework=FRAMEWORK)
    out = unflatten_dim(interp, node, x, layer.params["dim"], layer.params["unflattened_size"], "Unflatten")
    event(interp, layer.site, node, layer.op, x, out, layer)
    return out


def _wrapped_module(interp, args, kwargs, node):
    return args[0] if args else Unknown("wrapped module")


def _identity_apply(interp, layer, args, kwargs, node):
    return args[0] if args else kwargs.get("input", Unknown("input"))


SHAPE_PRESERVING.add(_identity_apply)


def _identity_build(interp, args, kwargs, node):
    return Layer("torch.nn.Identity", {}, interp.site(node), FRAMEWORK, _identity_apply)


# ---------------------------------------------------------------------------------------- padding

PAD_CHECKS = {"Reflection": "reflect", "Replication": "replicate", "Circular": "circular"}


def pad_apply(interp, site, node, op, x, pads, mode, label, layer=None, rank=None):
    if not isinstance(x, Tensor):
        return Unknown("pad of an unknown") if isinstance(x, Unknown) else Tensor(None, CHANNELS_FIRST, framework=FRAMEWORK)
    if isinstance(pads, (tuple, list)) and all(is_int(v) for v in pads) and x.shape is not None:
        if len(pads) % 2:
            reject(interp, site, op, f"padding {tuple(pads)} has an odd length: pairs are needed", "padding length is even", "pad")
        elif mode != "constant" and rank_check(interp, site, label, x, (len(pads) // 2 + 1, len(pads) // 2 + 2),
                                                what=f"{len(pads)} padding values for mode={mode!r}"):
            pass  # non-constant modes pad 1-3 spatial dims of a batched or unbatched input
        elif mode in ("reflect", "circular", "replicate"):
            n = len(x.shape)
            for j in range(len(pads) // 2):
                a = n - 1 - j
                if a < 0:
                    break
                size, lo, hi = x.shape[a], pads[2 * j], pads[2 * j + 1]
                if not is_int(size):
                    continue
                if mode == "reflect" and (lo >= size or hi >= size):
                    reject(interp, site, op, f"reflect padding ({lo}, {hi}) must be smaller than the dim's size {size}", "reflect padding < input size", "padding")
                    break
                if mode == "circular" and (lo > size or hi > size):
                    reject(interp, site, op, f"circular padding ({lo}, {hi}) must be at most the dim's size {size}", "circular padding ≤ input size", "padding")
                    break
    out = C.pad_last_dims(interp, x, pads, label)
    if isinstance(out, Tensor) and out.shape is not None:
        # a negative pad crops; torch raises below 0 (and at 0 for a 1-d reflect or replicate pad)
        least = 1 if mode in ("reflect", "replicate") and isinstance(pads, (tuple, list)) and len(pads) == 2 else 0
        if any(is_int(d) and d < least for d in out.shape) and x.exact_rank:
            reject(interp, site, op, f"padding {tuple(pads)} leaves the input {tuple(x.shape)} with an output {tuple(out.shape)}",
                   "the padded size is not negative" if least == 0 else "the padded size is at least 1", "pad")
        if any(is_int(d) and d < least for d in out.shape):
            out = out.derive(tuple(Unknown("negative size") if is_int(d) and d < least else d for d in out.shape))
    interp.trace.events.append(C.LayerEvent(site=site, call_site=interp.site(node) if node is not None else site, op=op, input=x.shape,
                                            output=out.shape if isinstance(out, Tensor) else None, layer=layer,
                                            name=layer.name if layer is not None else None))
    return out


def _pad_layer(op, rank, kind):
    mode = PAD_CHECKS.get(kind, "constant")

    def apply(interp, layer, args, kwargs, node):
        # a model input of unknown rank takes the rank the layer pads (batched, as a conv fixes it)
        x = C.promote_entry(tensor_arg(args, kwargs), rank)
        return pad_apply(interp, layer.site, node, op, x, layer.params["padding"], mode, label_of(layer), layer, rank)

    def build(interp, args, kwargs, node):
        sig = Signature.of("padding", "value") if kind == "Constant" else Signature.of("padding")
        p = sig.bind(args, kwargs)
        pad = p["padding"]
        if is_int(pad):
            pad = (pad,) * (2 * rank)
        return Layer(op, {"padding": pad, "value": p.get("value", 0)}, interp.site(node), FRAMEWORK, apply)

    return build


def _fpad(interp, args, kwargs, node):
    p = Signature.of("input", "pad", ("mode", "constant"), ("value", None)).bind(args, kwargs)
    mode = p["mode"] if isinstance(p["mode"], str) else "constant"
    return pad_apply(interp, interp.site(node), node, "torch.nn.functional.pad", p["input"], p["pad"], mode, "pad")


# ---------------------------------------------------------------------------------------- activations

def glu(interp, site, x, d, op="glu"):
    """GLU halves ``dim``: ``(…, 2n, …) → (…, n, …)``; torch needs an even size."""
    if not isinstance(x, Tensor):
        return x if isinstance(x, Unknown) else Tensor(None, CHANNELS_FIRST, framework=FRAMEWORK)
    if x.shape is None:
        return x.derive(None)
    a = axis(x, d)
    if a is None:
        return x.derive(tuple(Unknown("glu: dim not placed") for _ in x.shape))
    size = x.shape[a]
    if is_int(size):
        if size % 2:
            reject(interp, site, op, f"GLU halves dim {d}, but its size {size} is odd", "the halved dim has an even size", "dim")
            half = Unknown("odd size")
        else:
            half = size // 2
    elif is_size(size):
        half = size // 2
    else:
        half = Unknown("half of an unknown size")
    return x.derive(tuple(x.shape[:a]) + (half,) + tuple(x.shape[a + 1 :]))


def _glu_build(interp, args, kwargs, node):
    p = Signature.of(("dim", -1)).bind(args, kwargs)
    return Layer("torch.nn.GLU", p, interp.site(node), FRAMEWORK, _glu_apply)


def _glu_apply(interp, layer, args, kwargs, node):
    x = tensor_arg(args, kwargs)
    out = glu(interp, layer.site, x, layer.params["dim"], label_of(layer))
    event(interp, layer.site, node, layer.op, x, out, layer)
    return out


def _f_glu(interp, args, kwargs, node):
    p = Signature.of("input", ("dim", -1)).bind(args, kwargs)
    return glu(interp, interp.site(node), p["input"], p["dim"])


def _prelu_build(interp, args, kwargs, node):
    p = Signature.of(("num_parameters", 1), ("init", 0.25), ("device", None), ("dtype", None)).bind(args, kwargs)
    return Layer("torch.nn.PReLU", p, interp.site(node), FRAMEWORK, _prelu_apply)


def _prelu_apply(interp, layer, args, kwargs, node):
    x = tensor_arg(args, kwargs)
    n = layer.params["num_parameters"]
    if isinstance(x, Tensor) and is_int(n) and n > 1 and x.shape is not None:
        a = axis(x, 1) if x.shape and len(x.shape) >= 2 else axis(x, 0)
        if a is not None:
            channel_check(interp, label_of(layer), layer.site, n, x.shape[a], x, a, what="channels (num_parameters)")
    return x if isinstance(x, (Tensor, Unknown)) else Tensor(None, CHANNELS_FIRST, framework=FRAMEWORK)


def _softmax2d_build(interp, args, kwargs, node):
    def apply_(i, l, a, k, n):
        x = tensor_arg(a, k)
        rank_check(i, l.site, label_of(l), x, (3, 4))
        return x if isinstance(x, (Tensor, Unknown)) else Tensor(None, CHANNELS_FIRST, framework=FRAMEWORK)

    return Layer("torch.nn.Softmax2d", {}, interp.site(node), FRAMEWORK, apply_)


# ---------------------------------------------------------------------------------------- distances

def _distance_build(op, kind):
    sig = Signature.of(("dim", 1), ("eps", 1e-8)) if kind == "cos" else Signature.of(("p", 2.0), ("eps", 1e-6), ("keepdim", False))

    def build(interp, args, kwargs, node):
        p = sig.bind(args, kwargs)

        def apply_(i, l, a, k, n):
            q = Signature.of("x1", "x2").bind(a, k)
            out = elementwise(i, n, op, q["x1"], q["x2"])
            if kind == "cos":
                return reduce_dims(out, l.params["dim"], False)
            if isinstance(out, Tensor) and out.shape == ():
                return out
            return reduce_dims(out, -1, l.params["keepdim"])

        return Layer(op, p, interp.site(node), FRAMEWORK, apply_)

    return build


# ---------------------------------------------------------------------------------------- containers and wrappers

def _sequential(interp, args, kwargs, node):
    if len(args) == 1 and isinstance(args[0], dict):
        items = dict(args[0])
    else:
        items = list(args)
    return Container("sequential", items, interp.site(node))


def _modulelist(interp, args, kwargs, node):
    src = args[0] if args else kwargs.get("modules", kwargs.get("values", []))
    items = interp.iterate(src) if src is not None else []
    return Container("modulelist", list(items) if items is not None else [Unknown("modules")], interp.site(node))


def _moduledict(interp, args, kwargs, node):
    src = args[0] if args else kwargs.get("modules", kwargs.get("parameters", {}))
    if src is None:
        src = {}
    if isinstance(src, dict):
        return Container("moduledict", dict(src), interp.site(node))
    items = interp.iterate(src)
    d = {}
    for it in items or []:
        if isinstance(it, (tuple, list)) and len(it) == 2 and isinstance(it[0], str):
            d[it[0]] = it[1]
    return Container("moduledict", d, interp.site(node))


ACTIVATIONS = (
    "ReLU", "ReLU6", "LeakyReLU", "RReLU", "ELU", "SELU", "CELU", "GELU", "SiLU", "Mish", "Sigmoid", "Tanh", "Hardtanh",
    "Hardswish", "Hardsigmoid", "Hardshrink", "Softplus", "Softshrink", "Softsign", "Tanhshrink", "Threshold", "LogSigmoid",
    "Softmax", "Softmin", "LogSoftmax", "Dropout", "Dropout1d", "Dropout2d", "Dropout3d", "AlphaDropout", "FeatureAlphaDropout",
)
F_PRESERVING = (
    "relu", "relu_", "relu6", "leaky_relu", "leaky_relu_", "rrelu", "rrelu_", "elu", "elu_", "selu", "selu_", "celu", "celu_",
    "gelu", "silu", "mish", "sigmoid", "tanh", "hardtanh", "hardtanh_", "hardswish", "hardsigmoid", "hardshrink", "softplus",
    "softshrink", "softsign", "tanhshrink", "threshold", "threshold_", "logsigmoid", "softmax", "softmin", "log_softmax",
    "gumbel_softmax", "dropout", "dropout1d", "dropout2d", "dropout3d", "alpha_dropout", "feature_alpha_dropout", "prelu",
)


def register():
    F = "torch.nn.functional"
    reg("torch.nn.Linear", _linear_build("torch.nn.Linear", False), "layer", Signature.of("in_features", "out_features", ("bias", True), ("device", None), ("dtype", None)))
    reg("torch.nn.LazyLinear", _linear_build("torch.nn.LazyLinear", True), "layer")
    reg(f"{F}.linear", _f_linear)
    reg("torch.nn.Bilinear", _bilinear_build, "layer")
    reg("torch.nn.Embedding", _embedding_build("torch.nn.Embedding", EMB_SIG), "layer")
    reg("torch.nn.EmbeddingBag", _embedding_build("torch.nn.EmbeddingBag", BAG_SIG), "layer")
    reg(f"{F}.embedding", _f_embedding)
    reg(f"{F}.embedding_bag", _f_embedding_bag)
    reg(f"{F}.one_hot", _one_hot)
    reg("torch.nn.Flatten", _flatten_build, "layer")
    reg("torch.nn.Unflatten", _unflatten_build, "layer")
    PRESERVING.add("torch.nn.Identity")
    reg("torch.nn.Identity", _identity_build, "layer")
    for r in (1, 2, 3):
        for kind in ("Zero", "Constant", "Reflection", "Replication", "Circular"):
            q = f"torch.nn.{kind}Pad{r}d"
            reg(q, _pad_layer(q, r, kind), "layer")
    reg(f"{F}.pad", _fpad)
    reg("torch.nn.GLU", _glu_build, "layer")
    reg(f"{F}.glu", _f_glu)
    for name in ACTIVATIONS:
        preserving(f"torch.nn.{name}", "layer")
    PRESERVING.add("torch.nn.PReLU")
    reg("torch.nn.PReLU", _prelu_build, "layer")
    PRESERVING.add("torch.nn.Softmax2d")
    reg("torch.nn.Softmax2d", _softmax2d_build, "layer")
    for name in F_PRESERVING:
        preserving(f"{F}.{name}")
    reg("torch.nn.CosineSimilarity", _distance_build("torch.nn.CosineSimilarity", "cos"), "layer")
    reg("torch.nn.PairwiseDistance", _distance_build("torch.nn.PairwiseDistance", "pair"), "layer")
    reg("torch.nn.Sequential", _sequential, "container")
    reg("torch.nn.ModuleList", _modulelist, "container")
    reg("torch.nn.ModuleDict", _moduledict, "container")
    reg("torch.nn.ParameterList", _modulelist, "container")
    reg("torch.nn.ParameterDict", _moduledict, "container")
    CATALOGUE["torch.nn.Module"] = FwClass("torch.nn.Module", "torch")
    # a custom autograd function (gradient checkpointing): no module; ``F.apply(*args)`` runs its
    # ``forward(ctx, *args)`` (frameworks.autograd_apply)
    CATALOGUE["torch.autograd.Function"] = FwClass("torch.autograd.Function", None)
    # a parameter or buffer is its tensor
    for name in ("torch.nn.Parameter", "torch.nn.Buffer"):
        reg(name, lambda i, a, k, n: (a[0] if a else k.get("data", Unknown("data"))) if (a or "data" in k) else new_tensor((0,)))
    unmodelled("torch.nn.UninitializedParameter", "a lazy module's parameter before its first call: no shape yet", "tensor")
    unmodelled("torch.nn.UninitializedBuffer", "a lazy module's buffer before its first call: no shape yet", "tensor")
    unmodelled("torch.nn.Container", "deprecated base class (use nn.Module); it has no forward", "layer")
    unmodelled("torch.nn.factory_kwargs", "returns a dict of device/dtype keyword arguments, not a tensor")
    unmodelled("torch.nn.RNNCellBase", "abstract base of the RNN cells: it has no forward", "layer")
    # wrappers that return the module they are given (one shape function: ``weight_norm if … else
    # spectral_norm`` is one value, base.Op.join_with)
    for name in ("torch.nn.utils.spectral_norm", "torch.nn.utils.weight_norm", "torch.nn.utils.parametrizations.spectral_norm",
                 "torch.nn.utils.parametrizations.weight_norm", "torch.nn.utils.parametrizations.orthogonal"):
        reg(name, _wrapped_module)
    # the CPU, single-process, eval-mode path: what convlint follows (docs/architecture.md)
    reg("torch.nn.parallel.data_parallel", _data_parallel)
    for name in ("torch.nn.DataParallel", "torch.nn.parallel.DataParallel", "torch.nn.parallel.DistributedDataParallel"):
        reg(name, lambda i, a, k, n: a[0] if a else k.get("module", Unknown("wrapped module")))
    reg("torch.utils.checkpoint.checkpoint", _checkpoint)
    reg("torch.utils.checkpoint.checkpoint_sequential", lambda i, a, k, n: i.call(a[0], [a[2]] if len(a) > 2 else [k.get("input", Unknown("input"))], {}, n) if a else Unknown("checkpoint"))
    for name in ("torch.cuda.is_available", "torch.jit.is_scripting", "torch.jit.is_tracing", "torch.distributed.is_initialized", "torch.distributed.is_available"):
        reg(name, lambda i, a, k, n: False)
    reg("torch.cuda.device_count", lambda i, a, k, n: 0)
    for name in ("torch.jit.script", "torch.jit.unused", "torch.jit.ignore", "torch.jit.export", "torch.compile"):
        reg(name, lambda i, a, k, n: a[0] if a else Op("decorator", lambda i2, a2, k2, n2: a2[0] if a2 else None))


def _data_parallel(interp, args, kwargs, node):
    """``nn.parallel.data_parallel(module, inputs, device_ids)``: on one device, ``module(inputs)``."""
    p = Signature.of("module", "inputs", ("device_ids", None), ("output_device", None), ("dim", 0), ("module_kwargs", None)).bind(args, kwargs)
    inputs = p["inputs"]
    return interp.call(p["module"], list(inputs) if isinstance(inputs, tuple) else [inputs], {}, node)


def _checkpoint(interp, args, kwargs, node):
    """``torch.utils.checkpoint.checkpoint(fn, *args, use_reentrant=...)``: ``fn(*args)``."""
    if not args:
        return Unknown("checkpoint")
    kw = {k: v for k, v in kwargs.items() if k not in ("use_reentrant", "preserve_rng_state", "context_fn", "determinism_check", "debug")}
    return interp.call(args[0], list(args[1:]), kw, node)
