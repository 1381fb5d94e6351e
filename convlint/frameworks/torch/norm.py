"""Normalisation: batch, instance, group, layer and RMS norms and local response norm. They keep
the shape; what they check is the feature count they were built for (CVL003) and their own
configuration (GroupNorm's groups, CVL001)."""

from __future__ import annotations

from convlint.frameworks import shapes as C
from convlint.frameworks.base import Layer, Signature, is_int
from convlint.frameworks.torch.common import (
    FRAMEWORK, PRESERVING, axis, channel_check, label_of, preserve_fn, rank_check, reg, reject, tensor_arg, unmodelled,
)
from convlint.interpret.tensor import Tensor
from convlint.interpret.values import Unknown

BN_SIG = Signature.of("num_features", ("eps", 1e-5), ("momentum", 0.1), ("affine", True), ("track_running_stats", True), ("device", None), ("dtype", None))
IN_SIG = Signature.of("num_features", ("eps", 1e-5), ("momentum", 0.1), ("affine", False), ("track_running_stats", False), ("device", None), ("dtype", None))
LAZY_SIG = Signature.of(("eps", 1e-5), ("momentum", 0.1), ("affine", True), ("track_running_stats", True), ("device", None), ("dtype", None))
GN_SIG = Signature.of("num_groups", "num_channels", ("eps", 1e-5), ("affine", True), ("device", None), ("dtype", None))
LN_SIG = Signature.of("normalized_shape", ("eps", 1e-5), ("elementwise_affine", True), ("bias", True), ("device", None), ("dtype", None))
RMS_SIG = Signature.of("normalized_shape", ("eps", None), ("elementwise_affine", True), ("device", None), ("dtype", None))


def _as_shape(ns):
    return (ns,) if is_int(ns) else tuple(ns) if isinstance(ns, (tuple, list)) else None


def _check_last(interp, label, site, ns, x, what="features in the normalized dims"):
    """The last ``len(ns)`` dims of ``x`` must be ``ns`` (LayerNorm, RMSNorm)."""
    ns = _as_shape(ns)
    if ns is None or not isinstance(x, Tensor) or x.shape is None:
        return
    if len(ns) > len(x.shape):
        if x.exact_rank:
            rank_check(interp, site, label, x, tuple(range(len(ns), len(ns) + 4)), what=f"normalized_shape={ns}")
        return
    for e, g in zip(ns, x.shape[len(x.shape) - len(ns):]):
        if channel_check(interp, label, site, e, g, x, len(x.shape) - 1, what=what):
            break


def _batch_norm_build(op, rank, instance=False, lazy=False):
    """``rank`` spatial dims: BatchNorm1d takes (N, C) or (N, C, L); 2d (N, C, H, W); 3d (N, C, D, H, W).
    Instance norms take the batched or unbatched form."""
    sig = LAZY_SIG if lazy else IN_SIG if instance else BN_SIG

    def build(interp, args, kwargs, node):
        p = sig.bind(args, kwargs)
        if lazy:
            p["num_features"] = Unknown("lazy module infers num_features")
        return Layer(op, p, interp.site(node), FRAMEWORK, apply_, extra={"rank": rank})

    def apply_(interp, layer, args, kwargs, node):
        x = tensor_arg(args, kwargs)
        if not isinstance(x, Tensor) or x.shape is None:
            return x if isinstance(x, (Tensor, Unknown)) else Tensor(None, framework=FRAMEWORK)
        label = label_of(layer)
        p = layer.params
        if instance:
            accepted = (rank + 2, rank + 1)
        elif rank == 0:
            accepted = tuple(range(2, 9))  # SyncBatchNorm: (N, C, *)
        else:
            accepted = (2, 3) if rank == 1 else (rank + 2,)
        if rank_check(interp, layer.site, label, x, accepted):
            return x
        n = len(x.shape)
        if instance:
            ch = n - rank - 1 if n >= rank + 1 else None  # counted from the end: batched or not
            check = p.get("affine") is True or p.get("track_running_stats") is True
        else:
            ch = axis(x, 1)
            if ch is None and not x.exact_rank and rank > 1 and n >= rank + 1:
                ch = n - rank - 1  # (N, C, *spatial): the channels are counted from the end too
            check = p.get("affine") is not False or p.get("track_running_stats") is not False
        if ch is not None and check:
            channel_check(interp, label, layer.site, p.get("num_features"), x.shape[ch], x, ch, layer=layer, argument="num_features")
        if instance and p.get("track_running_stats") is False and x.exact_rank and n in accepted:
            # statistics of each instance (also in eval mode): one spatial element is not enough
            spatial = x.shape[n - rank:]
            if all(is_int(d) for d in spatial) and all(d == 1 for d in spatial):
                reject(interp, layer.site, layer.op, f"needs more than one spatial element per channel, but gets input {tuple(x.shape)}",
                       "more than one spatial element", None)
        return C.record(interp, op=layer.op, layer=layer, site=layer.site, call_node=node, x=x, out_shape=x.shape)

    return build


def _group_norm_build(interp, args, kwargs, node):
    p = GN_SIG.bind(args, kwargs)
    g, c = p["num_groups"], p["num_channels"]
    layer = Layer("torch.nn.GroupNorm", p, interp.site(node), FRAMEWORK, _group_norm_apply)
    if is_int(g) and is_int(c) and g > 0 and c % g:
        reject(interp, interp.site(node), "torch.nn.GroupNorm", f"num_channels={c} is not divisible by num_groups={g}", "num_channels divisible by num_groups", "num_groups",
               layer=layer)
    return layer


def _group_norm_apply(interp, layer, args, kwargs, node):
    x = tensor_arg(args, kwargs)
    if not isinstance(x, Tensor) or x.shape is None:
        return x if isinstance(x, (Tensor, Unknown)) else Tensor(None, framework=FRAMEWORK)
    label = label_of(layer)
    if rank_check(interp, layer.site, label, x, (2, 3, 4, 5, 6, 7, 8)):
        return x
    ch = axis(x, 1)
    if ch is not None:
        channel_check(interp, label, layer.site, layer.params.get("num_channels"), x.shape[ch], x, ch, layer=layer, argument="num_channels")
    return C.record(interp, op=layer.op, layer=layer, site=layer.site, call_node=node, x=x, out_shape=x.shape)


def _last_norm_build(op, sig):
    def build(interp, args, kwargs, node):
        p = sig.bind(args, kwargs)
        return Layer(op, p, interp.site(node), FRAMEWORK, apply_)

    def apply_(interp, layer, args, kwargs, node):
        x = tensor_arg(args, kwargs)
        if not isinstance(x, Tensor):
            return x if isinstance(x, Unknown) else Tensor(None, framework=FRAMEWORK)
        if x.shape is not None and x.shape:
            _check_last(interp, label_of(layer), layer.site, layer.params.get("normalized_shape"), x)
        return C.record(interp, op=layer.op, layer=layer, site=layer.site, call_node=node, x=x, out_shape=x.shape)

    return build


def _lrn_build(op, min_rank):
    def build(interp, args, kwargs, node):
        p = Signature.of("size", ("alpha", 1e-4), ("beta", 0.75), ("k", 1.0)).bind(args, kwargs)
        return Layer(op, p, interp.site(node), FRAMEWORK, apply_)

    def apply_(interp, layer, args, kwargs, node):
        x = tensor_arg(args, kwargs)
        if isinstance(x, Tensor) and x.shape is not None:
            accepted = (4,) if min_rank == 4 else tuple(range(3, 9))
            rank_check(interp, layer.site, label_of(layer), x, accepted)
        return x if isinstance(x, (Tensor, Unknown)) else Tensor(None, framework=FRAMEWORK)

    return build


# ---------------------------------------------------------------------------------------- functions

def _f_layer_norm(op, sig):
    def fn(interp, args, kwargs, node):
        p = sig.bind(args, kwargs)
        x = p["input"]
        _check_last(interp, op.rsplit(".", 1)[-1], interp.site(node), p["normalized_shape"], x)
        return preserve_fn(interp, [x], {}, node)

    return fn


def _f_group_norm(op):
    sig = Signature.of("input", "num_groups", ("weight", None), ("bias", None), ("eps", 1e-5))

    def fn(interp, args, kwargs, node):
        p = sig.bind(args, kwargs)
        x, g = p["input"], p["num_groups"]
        if isinstance(x, Tensor):
            ch = axis(x, 1)
            if ch is not None and is_int(g) and g > 0 and is_int(x.shape[ch]) and x.shape[ch] % g:
                reject(interp, interp.site(node), op, f"{x.shape[ch]} channels are not divisible by num_groups={g}", "channels divisible by num_groups", "num_groups")
        return preserve_fn(interp, [x], {}, node)

    return fn


def _f_batch_norm(interp, args, kwargs, node):
    p = Signature.of("input", "running_mean", "running_var", ("weight", None), ("bias", None), ("training", False), ("momentum", 0.1), ("eps", 1e-5)).bind(args, kwargs)
    x, rm = p["input"], p["running_mean"]
    if isinstance(x, Tensor) and isinstance(rm, Tensor) and rm.shape is not None and len(rm.shape) == 1:
        ch = axis(x, 1)
        if ch is not None:
            channel_check(interp, "batch_norm", interp.site(node), rm.shape[0], x.shape[ch], x, ch, what="channels (running_mean's size)")
    return preserve_fn(interp, [x], {}, node)


def _preserve(name, fn=None):
    PRESERVING.add(name)
    reg(name, fn or preserve_fn)


def register():
    F = "torch.nn.functional"
    for r in (1, 2, 3):
        for name, inst, lazy in (("BatchNorm", False, False), ("InstanceNorm", True, False), ("LazyBatchNorm", False, True), ("LazyInstanceNorm", True, True)):
            q = f"torch.nn.{name}{r}d"
            PRESERVING.add(q)
            reg(q, _batch_norm_build(q, r, inst, lazy), "layer", LAZY_SIG if lazy else IN_SIG if inst else BN_SIG)
    PRESERVING.update({"torch.nn.SyncBatchNorm", "torch.nn.GroupNorm", "torch.nn.LayerNorm", "torch.nn.RMSNorm", "torch.nn.LocalResponseNorm", "torch.nn.CrossMapLRN2d"})
    reg("torch.nn.SyncBatchNorm", _batch_norm_build("torch.nn.SyncBatchNorm", 0), "layer", BN_SIG)
    reg("torch.nn.GroupNorm", _group_norm_build, "layer", GN_SIG)
    reg("torch.nn.LayerNorm", _last_norm_build("torch.nn.LayerNorm", LN_SIG), "layer", LN_SIG)
    reg("torch.nn.RMSNorm", _last_norm_build("torch.nn.RMSNorm", RMS_SIG), "layer")
    reg("torch.nn.LocalResponseNorm", _lrn_build("torch.nn.LocalResponseNorm", 3), "layer")
    reg("torch.nn.CrossMapLRN2d", _lrn_build("torch.nn.CrossMapLRN2d", 4), "layer")
    _preserve(f"{F}.layer_norm", _f_layer_norm(f"{F}.layer_norm", Signature.of("input", "normalized_shape", ("weight", None), ("bias", None), ("eps", 1e-5))))
    _preserve(f"{F}.rms_norm", _f_layer_norm(f"{F}.rms_norm", Signature.of("input", "normalized_shape", ("weight", None), ("eps", None))))
    _preserve(f"{F}.group_norm", _f_group_norm(f"{F}.group_norm"))
    _preserve(f"{F}.batch_norm", _f_batch_norm)
    for name in (f"{F}.instance_norm", f"{F}.local_response_norm", f"{F}.normalize", "torch.batch_norm", "torch.instance_norm",
                 "torch.group_norm", "torch.layer_norm", "torch.rms_norm", "torch.norm_except_dim"):
        _preserve(name)
    for name, why in (
        ("native_batch_norm", "the kernel behind batch_norm: returns (output, saved mean, saved inverse std)"),
        ("native_layer_norm", "the kernel behind layer_norm: returns (output, mean, rstd)"),
        ("native_group_norm", "the kernel behind group_norm: returns (output, mean, rstd)"),
        ("cudnn_batch_norm", "a cuDNN backend kernel"), ("miopen_batch_norm", "a MIOpen (ROCm) backend kernel"),
        ("batch_norm_backward_elemt", "a SyncBatchNorm backward kernel"), ("batch_norm_backward_reduce", "a SyncBatchNorm backward kernel"),
        ("batch_norm_elemt", "a SyncBatchNorm kernel (distributed statistics)"), ("batch_norm_gather_stats", "a SyncBatchNorm kernel (distributed statistics)"),
        ("batch_norm_gather_stats_with_counts", "a SyncBatchNorm kernel (distributed statistics)"), ("batch_norm_stats", "a SyncBatchNorm kernel (distributed statistics)"),
        ("batch_norm_update_stats", "a SyncBatchNorm kernel (distributed statistics)"), ("quantized_batch_norm", "quantized tensors"),
    ):
        unmodelled(f"torch.{name}", why)
