"""PyTorch: the catalogue of ``torch.nn`` / ``torch.nn.functional`` / ``torch`` callables and their
shape functions. Sizes come from :mod:`convlint.arith`; this module only translates arguments,
checks channels and records what happened.
"""

from __future__ import annotations

import math

from convlint.arith.core import ConvArithmeticError, ErrorKind, Window
from convlint.arith.pytorch import (
    output_padding_for_size,
    pool_output_size,
    torch_conv,
    torch_conv_transpose,
    torch_pool,
)
from convlint.arith.solve import solve_torch_transpose
from convlint.frameworks import shapes as C
from convlint.frameworks.base import Container, FwClass, Layer, Op, Signature, is_int, known, window_out
from convlint.interpret.symbolic import Sym, is_size
from convlint.interpret.events import ChannelEvent, ConfigEvent, FixSpec, LayerEvent, RankEvent, UnresolvedEvent
from convlint.interpret.lattice import first_unknown
from convlint.interpret.ops import BinOp
from convlint.interpret import builtins as pyb
from convlint.interpret.tensor import CHANNELS_FIRST, Tensor
from convlint.interpret.values import MISSING, FunctionVal, Unknown

FRAMEWORK = "torch"
CATALOGUE: dict = {}
MODULES = {
    "torch", "torch.nn", "torch.nn.functional", "torch.nn.modules", "torch.nn.init", "torch.nn.utils", "torch.nn.utils.parametrizations",
    "torch.nn.parallel", "torch.utils", "torch.utils.checkpoint", "torch.cuda", "torch.jit", "torch.backends", "torch.distributed",
}
ALIASES = {
    "torch.nn.modules.conv": "torch.nn",
    "torch.nn.modules.pooling": "torch.nn",
    "torch.nn.modules.linear": "torch.nn",
    "torch.nn.modules.activation": "torch.nn",
    "torch.nn.modules.batchnorm": "torch.nn",
    "torch.nn.modules.container": "torch.nn",
    "torch.nn.modules.module": "torch.nn",
}


def _reg(name: str, fn, kind="function", sig=None, family=None):
    CATALOGUE[name] = Op(name, fn, kind, sig, family)


def _tensor_arg(args, kwargs, name="input"):
    if args:
        return args[0]
    return kwargs.get(name, Unknown("no input"))


def _promote(x: Tensor, rank: int, channels=None) -> Tensor:
    """A model input whose rank is not declared: the first rank-aware layer fixes it."""
    return C.promote_entry(x, rank, channels)


# ---------------------------------------------------------------------------------------- convs

CONV_SIG = Signature.of("in_channels", "out_channels", "kernel_size", ("stride", 1), ("padding", 0), ("dilation", 1), ("groups", 1), ("bias", True), ("padding_mode", "zeros"), ("device", None), ("dtype", None))
CONVT_SIG = Signature.of("in_channels", "out_channels", "kernel_size", ("stride", 1), ("padding", 0), ("output_padding", 0), ("groups", 1), ("bias", True), ("dilation", 1), ("padding_mode", "zeros"), ("device", None), ("dtype", None))
LAZY_CONV_SIG = Signature.of("out_channels", "kernel_size", ("stride", 1), ("padding", 0), ("dilation", 1), ("groups", 1), ("bias", True), ("padding_mode", "zeros"), ("device", None), ("dtype", None))
LAZY_CONVT_SIG = Signature.of("out_channels", "kernel_size", ("stride", 1), ("padding", 0), ("output_padding", 0), ("groups", 1), ("bias", True), ("dilation", 1), ("padding_mode", "zeros"), ("device", None), ("dtype", None))


def rejected(interp, site, op, err: ConvArithmeticError, context: str = ""):
    """The framework rejects this configuration (CVL001 decides how to report it)."""
    interp.trace.record(ConfigEvent(site, op.rsplit(".", 1)[-1], err, context))


def make_conv_layer(op, rank, transposed, lazy):
    sig = (LAZY_CONVT_SIG if transposed else LAZY_CONV_SIG) if lazy else (CONVT_SIG if transposed else CONV_SIG)

    def build(interp, args, kwargs, node):
        p = sig.bind(args, kwargs)
        if lazy:
            p["in_channels"] = Unknown("lazy module infers in_channels")
        site = interp.site(node)
        layer = Layer(op, p, site, FRAMEWORK, _conv_apply, extra={"rank": rank, "transposed": transposed, "call": node, "sig": sig})
        layer.config = _conv_config(interp, layer, report=True)
        layer.extra["attrs"] = _conv_attrs(p, rank, transposed)
        interp.trace.layers.append(layer)
        unresolved = layer.extra.get("unresolved")
        if unresolved and not layer.extra.get("invalid"):
            interp.trace.record(UnresolvedEvent(site, op, tuple(_unresolved_reason(k, p[k]) for k in unresolved),
                                                causes=tuple(u for u in (first_unknown(p[k]) for k in unresolved) if u is not None), layer=layer))
        return layer

    return build


def _ntuple(v, rank):
    """torch's ``_pair``/``_triple``: an int becomes a tuple, a sequence a tuple; anything else stays."""
    if is_int(v):
        return (v,) * rank
    if isinstance(v, (tuple, list)):
        return tuple(v)
    return v


def _conv_attrs(p, rank, transposed) -> dict:
    """The attributes torch keeps on a conv module: sizes as tuples (``conv.kernel_size[0]``)."""
    attrs = {k: _ntuple(p[k], rank) for k in ("kernel_size", "stride", "dilation")}
    attrs["padding"] = p["padding"] if isinstance(p["padding"], str) else _ntuple(p["padding"], rank)
    if transposed:
        attrs["output_padding"] = _ntuple(p["output_padding"], rank)
    bias = p.get("bias")
    out = p.get("out_channels")
    if bias is False or bias is None:
        attrs["bias"] = None
    elif bias is True:
        attrs["bias"] = Tensor((out if is_size(out) else Unknown("out_channels"),), CHANNELS_FIRST, framework="torch")
    return attrs


def _unresolved_reason(name, value) -> str:
    u = first_unknown(value)
    return f"{name} ({u.reason})" if u is not None else name


def _conv_config(interp, layer: Layer, report: bool, output_padding=None):
    p = layer.params
    rank = layer.extra["rank"]
    keys = ["kernel_size", "stride", "padding", "dilation", "groups", "padding_mode"]
    if layer.extra["transposed"]:
        keys.append("output_padding")
    if not known(*(p[k] for k in keys)):
        layer.extra["unresolved"] = [k for k in keys if not known(p[k])]
        return None
    placeholders = [k for k in ("kernel_size", "stride", "padding", "dilation") if p[k] is None]
    if placeholders:
        # ``kernel_size=patch_size`` with ``patch_size=None`` by default: a value the real caller
        # provides (from a config), not a bug to report — unresolved, like any unknown
        for k in placeholders:
            p[k] = Unknown("None, a placeholder default")
        layer.extra["unresolved"] = placeholders
        return None
    in_ch = p.get("in_channels") if is_int(p.get("in_channels")) else None
    out_ch = p.get("out_channels") if is_int(p.get("out_channels")) else None
    try:
        if layer.extra["transposed"]:
            return torch_conv_transpose(
                p["kernel_size"], p["stride"], p["padding"], p["output_padding"] if output_padding is None else output_padding, p["dilation"],
                rank=rank, groups=p["groups"], in_channels=in_ch, out_channels=out_ch, padding_mode=p["padding_mode"],
            )
        return torch_conv(
            p["kernel_size"], p["stride"], p["padding"], p["dilation"],
            rank=rank, groups=p["groups"], in_channels=in_ch, out_channels=out_ch, padding_mode=p["padding_mode"],
        )
    except ConvArithmeticError as e:
        if report:
            rejected(interp, layer.site, layer.op, e)
            layer.extra["invalid"] = True
        return None


def _channel_check(interp, layer_label, site, expected, got, x: Tensor, axis: int, what="input channels") -> bool:
    """Record that a layer built for ``expected`` channels receives ``got``; True if they differ."""
    if is_size(expected) and is_size(got):
        interp.trace.record(ChannelEvent(site, layer_label, expected, got, x.shape, axis, C.last_layer(x), what))
        return C.mismatch(expected, got)
    return False


def _conv_apply(interp, layer: Layer, args, kwargs, node):
    x = _tensor_arg(args, kwargs)
    rank = layer.extra["rank"]
    transposed = layer.extra["transposed"]
    conv = layer.config
    label = layer.name or layer.op.rsplit(".", 1)[-1]
    out_ch = layer.params.get("out_channels")
    out_ch = out_ch if is_size(out_ch) else Unknown("out_channels")
    if isinstance(x, Tensor):
        x = _promote(x, rank, layer.params.get("in_channels"))
    if not isinstance(x, Tensor) or x.shape is None or (not x.exact_rank and len(x.shape) < rank + 1):
        # an input of unknown shape: the layer still fixes its channels (and the rank, up to a batch)
        cause = C.unknown_of(x)
        shape = (Unknown("batch", cause=cause), out_ch, *(Unknown("input of unknown shape", cause=cause) for _ in range(rank)))
        xin = x if isinstance(x, Tensor) else Tensor(None, CHANNELS_FIRST, framework=FRAMEWORK, lost=C.unknown_of(x))
        out = C.record(interp, op=layer.op, layer=layer, site=layer.site, call_node=node, x=xin, out_shape=shape)
        out.exact_rank = False
        out.layout = CHANNELS_FIRST
        return out
    n = len(x.shape)
    if n not in (rank + 1, rank + 2) and x.exact_rank:
        interp.trace.record(RankEvent(layer.site, label, (rank + 2, rank + 1), n, x.shape))
        return C.record(interp, op=layer.op, layer=layer, site=layer.site, call_node=node, x=x, out_shape=None)
    ch_axis = n - rank - 1
    _channel_check(interp, label, layer.site, layer.params.get("in_channels"), x.shape[ch_axis], x, ch_axis)
    spatial_axes = list(range(n - rank, n))
    sizes = tuple(x.shape[a] for a in spatial_axes)
    output_size = kwargs.get("output_size", args[1] if len(args) > 1 else None)
    if transposed and output_size is not None and conv is not None:
        if known(output_size) and all(is_int(s) for s in sizes) and isinstance(output_size, (tuple, list)):
            try:
                op = output_padding_for_size(sizes, output_size, conv.kernel_size, conv.stride, conv.torch_padding, conv.dilation, rank=rank)
                conv = torch_conv_transpose(conv.kernel_size, conv.stride, conv.torch_padding, op, conv.dilation, rank=rank)
            except ConvArithmeticError as e:
                rejected(interp, interp.site(node), layer.op, e)
                conv = None
        else:
            conv = None
            C.repair(x)
    raw = None
    if conv is None:
        spatial = tuple(Unknown("unresolved conv") for _ in sizes)
        windows = ()
    else:
        windows = conv.windows
        raw = tuple(window_out(w, i) for w, i in zip(windows, sizes))
        spatial = _clamped(raw)
        if all(is_int(i) for i in sizes):
            try:
                conv.output(sizes)
            except ConvArithmeticError as e:
                if e.kind is not ErrorKind.EMPTY:
                    src = C.last_layer(x)
                    rejected(interp, layer.site, layer.op, e, f" (input {_fmt(x.shape)} from {src})" if src else "")
                    spatial = tuple(Unknown("rejected") for _ in spatial)
    out_shape = tuple(x.shape[:ch_axis]) + (out_ch,) + spatial
    kind = None
    if conv is not None:
        if not transposed and any(s > 1 for s in conv.stride):
            kind = "down"
        elif transposed and any(s > 1 for s in conv.stride):
            kind = "up"
    return C.record(
        interp, op=layer.op, layer=layer, site=layer.site, call_node=node, x=x, out_shape=out_shape, windows=windows,
        params=layer.params, kind=kind, axes=spatial_axes, adjoint=(("transpose" if transposed else "conv"), windows, layer),
        transposed=transposed, spatial_out=raw,
    )


def _clamped(sizes) -> tuple:
    """Output sizes for what follows: an empty one (< 1, reported by CVL002) becomes unknown."""
    return tuple(Unknown("empty output") if is_int(o) and o < 1 else o for o in sizes)


def _fmt(shape) -> str:
    from convlint.interpret.tensor import fmt_shape

    return fmt_shape(shape)


# ---------------------------------------------------------------------------------------- functional convs

def make_fconv(op, rank, transposed):
    sig = (
        Signature.of("input", "weight", ("bias", None), ("stride", 1), ("padding", 0), ("output_padding", 0), ("groups", 1), ("dilation", 1))
        if transposed
        else Signature.of("input", "weight", ("bias", None), ("stride", 1), ("padding", 0), ("dilation", 1), ("groups", 1))
    )

    def fn(interp, args, kwargs, node):
        p = sig.bind(args, kwargs)
        x, w = p["input"], p["weight"]
        site = interp.site(node)
        if not isinstance(x, Tensor):
            return Tensor(None)
        x = _promote(x, rank)
        kshape = w.shape if isinstance(w, Tensor) else None
        if kshape is None or len(kshape) != rank + 2 or not all(is_int(k) for k in kshape[2:]):
            return C.record(interp, op=op, layer=None, site=site, call_node=node, x=x, out_shape=None if x.shape is None else tuple(Unknown("conv") for _ in x.shape))
        kernel = tuple(kshape[2:])
        keys = ("stride", "padding", "dilation", "groups") + (("output_padding",) if transposed else ())
        if not known(*(p[k] for k in keys)):
            return C.record(interp, op=op, layer=None, site=site, call_node=node, x=x, out_shape=None if x.shape is None else tuple(Unknown("conv") for _ in x.shape))
        try:
            if transposed:
                conv = torch_conv_transpose(kernel, p["stride"], p["padding"], p["output_padding"], p["dilation"], rank=rank, groups=p["groups"])
            else:
                conv = torch_conv(kernel, p["stride"], p["padding"], p["dilation"], rank=rank, groups=p["groups"])
        except ConvArithmeticError as e:
            rejected(interp, site, op, e)
            return C.record(interp, op=op, layer=None, site=site, call_node=node, x=x, out_shape=None)
        if x.shape is None:
            return C.record(interp, op=op, layer=None, site=site, call_node=node, x=x, out_shape=None)
        n = len(x.shape)
        ch_axis = n - rank - 1
        groups = p["groups"] if is_int(p["groups"]) else 1
        if transposed:
            exp_in, out_ch = kshape[0], kshape[1] * groups if is_int(kshape[1]) else Unknown("channels")
        else:
            exp_in, out_ch = (kshape[1] * groups if is_int(kshape[1]) else Unknown("channels")), kshape[0]
        _channel_check(interp, op.rsplit(".", 1)[-1], site, exp_in, x.shape[ch_axis], x, ch_axis)
        axes = list(range(n - rank, n))
        sizes = tuple(x.shape[a] for a in axes)
        raw = tuple(window_out(wd, i) for wd, i in zip(conv.windows, sizes))
        spatial = _clamped(raw)
        if all(is_int(i) for i in sizes):
            try:
                conv.output(sizes)
            except ConvArithmeticError as e:
                if e.kind is not ErrorKind.EMPTY:
                    rejected(interp, site, op, e)
                    spatial = tuple(Unknown("rejected") for _ in spatial)
        kind = ("up" if transposed else "down") if any(s > 1 for s in conv.stride) else None
        return C.record(interp, op=op, layer=None, site=site, call_node=node, x=x, out_shape=tuple(x.shape[:ch_axis]) + (out_ch,) + spatial,
                        windows=conv.windows, params=p, kind=kind, axes=axes, adjoint=(("transpose" if transposed else "conv"), conv.windows, None),
                        transposed=transposed, spatial_out=raw)

    return fn


# ---------------------------------------------------------------------------------------- pooling

def make_pool_layer(op, rank, kind):
    if kind == "max":
        sig = Signature.of("kernel_size", ("stride", None), ("padding", 0), ("dilation", 1), ("return_indices", False), ("ceil_mode", False))
    else:
        sig = Signature.of("kernel_size", ("stride", None), ("padding", 0), ("ceil_mode", False), ("count_include_pad", True), ("divisor_override", None))

    def build(interp, args, kwargs, node):
        p = sig.bind(args, kwargs)
        site = interp.site(node)
        layer = Layer(op, p, site, FRAMEWORK, _pool_apply, extra={"rank": rank, "kind": kind, "call": node, "sig": sig})
        layer.config = _pool_config(interp, layer, p, site)
        return layer

    return build


def _pool_config(interp, layer, p, site):
    keys = ["kernel_size", "stride", "padding", "ceil_mode"] + (["dilation"] if layer.extra["kind"] == "max" else [])
    if not known(*(p[k] for k in keys)):
        return None
    try:
        return torch_pool(p["kernel_size"], p["stride"], p["padding"], p.get("dilation", 1), rank=layer.extra["rank"], kind=layer.extra["kind"])
    except ConvArithmeticError as e:
        rejected(interp, site, layer.op, e)
        return None


def _pool_windows(cfg):
    k, s, p, d = cfg
    return tuple(Window(kk, ss, dd, 1, pp, pp) for kk, ss, pp, dd in zip(k, s, p, d))


def _pool_out(cfg, ceil_mode, i):
    k, s, p, d = cfg
    out = []
    for kk, ss, pp, dd, ii in zip(k, s, p, d, i):
        if is_int(ii):
            out.append(pool_output_size(ii, kk, ss, pp, dd, bool(ceil_mode)))
        elif isinstance(ii, Sym) and not ceil_mode:
            out.append(window_out(Window(kk, ss, dd, 1, pp, pp), ii))
        else:
            out.append(Unknown("pool size"))
    return tuple(out)


def _pool_apply(interp, layer: Layer, args, kwargs, node):
    x = _tensor_arg(args, kwargs)
    rank = layer.extra["rank"]
    if not isinstance(x, Tensor):
        return Tensor(None)
    x = _promote(x, rank)
    return pool_on(interp, layer.op, layer, layer.site, node, x, layer.config, layer.params.get("ceil_mode"), rank, layer.name)


def pool_on(interp, op, layer, site, node, x, cfg, ceil_mode, rank, name=None):
    if x.shape is None or cfg is None or len(x.shape) < rank + 1:
        return C.record(interp, op=op, layer=layer, site=site, call_node=node, x=x, out_shape=None if x.shape is None else tuple(x.shape[: len(x.shape) - rank]) + tuple(Unknown("pool") for _ in range(rank)))
    n = len(x.shape)
    axes = list(range(n - rank, n))
    sizes = tuple(x.shape[a] for a in axes)
    raw = _pool_out(cfg, ceil_mode, sizes)
    windows = _pool_windows(cfg)
    kind = "down" if any(s > 1 for s in cfg[1]) else None
    return C.record(interp, op=op, layer=layer, site=site, call_node=node, x=x, out_shape=tuple(x.shape[: n - rank]) + _clamped(raw),
                    windows=windows, kind=kind, axes=axes, adjoint=("pool", windows, layer), ceil_mode=bool(ceil_mode), spatial_out=raw)


def make_fpool(op, rank, kind):
    if kind == "max":
        sig = Signature.of("input", "kernel_size", ("stride", None), ("padding", 0), ("dilation", 1), ("ceil_mode", False), ("return_indices", False))
    else:
        sig = Signature.of("input", "kernel_size", ("stride", None), ("padding", 0), ("ceil_mode", False), ("count_include_pad", True), ("divisor_override", None))

    def fn(interp, args, kwargs, node):
        p = sig.bind(args, kwargs)
        x = p["input"]
        site = interp.site(node)
        if not isinstance(x, Tensor):
            return Tensor(None)
        x = _promote(x, rank)
        keys = ["kernel_size", "stride", "padding", "ceil_mode"] + (["dilation"] if kind == "max" else [])
        cfg = None
        if known(*(p[k] for k in keys)):
            try:
                cfg = torch_pool(p["kernel_size"], p["stride"], p["padding"], p.get("dilation", 1), rank=rank, kind=kind)
            except ConvArithmeticError as e:
                rejected(interp, site, op, e)
        out = pool_on(interp, op, None, site, node, x, cfg, p["ceil_mode"], rank)
        if p.get("return_indices") is True:
            return (out, out)
        return out

    return fn


def make_adaptive(op, rank, functional):
    extra = (("return_indices", False),) if "max" in op.lower() else ()  # only max pooling returns indices
    sig = Signature.of("input", "output_size", *extra) if functional else Signature.of("output_size", *extra)

    def apply_(interp, x, out_size, site, node, layer):
        if not isinstance(x, Tensor):
            return Tensor(None)
        x = _promote(x, rank)
        if x.shape is None:
            return C.record(interp, op=op, layer=layer, site=site, call_node=node, x=x, out_shape=None)
        sizes = (out_size,) * rank if is_int(out_size) or out_size is None else tuple(out_size) if isinstance(out_size, (tuple, list)) else None
        n = len(x.shape)
        if sizes is None or len(sizes) != rank:
            return C.record(interp, op=op, layer=layer, site=site, call_node=node, x=x, out_shape=tuple(x.shape[: n - rank]) + tuple(Unknown("adaptive") for _ in range(rank)))
        spatial = tuple(x.shape[n - rank + j] if s is None else (s if is_size(s) else Unknown("adaptive")) for j, s in enumerate(sizes))
        out = C.record(interp, op=op, layer=layer, site=site, call_node=node, x=x, out_shape=tuple(x.shape[: n - rank]) + spatial)
        return C.repair(out)

    if functional:
        def fn(interp, args, kwargs, node):
            p = sig.bind(args, kwargs)
            return apply_(interp, p["input"], p["output_size"], interp.site(node), node, None)

        return fn, None

    def build(interp, args, kwargs, node):
        p = sig.bind(args, kwargs)
        return Layer(op, p, interp.site(node), FRAMEWORK, lambda i, l, a, k, n: apply_(i, _tensor_arg(a, k), l.params["output_size"], l.site, n, l), extra={"rank": rank})

    return None, build


# ---------------------------------------------------------------------------------------- resampling

def _scaled(i, f):
    if is_int(i) and isinstance(f, (int, float)) and not isinstance(f, bool):
        return int(math.floor(float(i) * float(f)))
    if isinstance(i, Sym) and is_int(f):
        return i * f
    if isinstance(i, Sym) and isinstance(f, float) and f.is_integer():
        return i * int(f)
    return Unknown("scaled size")


def resample(interp, op, layer, site, node, x, size, scale, *, channels_last=False, label=None):
    if not isinstance(x, Tensor):
        return Tensor(None)
    if x.shape is None:
        return C.record(interp, op=op, layer=layer, site=site, call_node=node, x=x, out_shape=None)
    n = len(x.shape)
    rank = n - 2
    axes = list(range(1, n - 1)) if channels_last else list(range(2, n))
    if rank < 1:
        return C.record(interp, op=op, layer=layer, site=site, call_node=node, x=x, out_shape=None)
    if size is not None and scale is not None and not isinstance(size, Unknown) and not isinstance(scale, Unknown):
        rejected(interp, site, op, ConvArithmeticError("give either size or scale_factor, not both", constraint="size or scale_factor", argument="size"))
    shape = list(x.shape)
    kind = None
    if size is not None and not isinstance(size, Unknown):
        sizes = (size,) * rank if is_size(size) else tuple(size) if isinstance(size, (tuple, list)) else None
        if sizes is None or len(sizes) != rank:
            for a in axes:
                shape[a] = Unknown("resize target")
        else:
            for a, s in zip(axes, sizes):
                shape[a] = s if is_size(s) else Unknown("resize target")
        out = C.record(interp, op=op, layer=layer, site=site, call_node=node, x=x, out_shape=tuple(shape), label=label)
        return C.repair(out)
    if scale is None or isinstance(scale, Unknown) or isinstance(size, Unknown):
        for a in axes:
            shape[a] = Unknown("resize factor")
        return C.repair(C.record(interp, op=op, layer=layer, site=site, call_node=node, x=x, out_shape=tuple(shape), label=label))
    scales = (scale,) * rank if isinstance(scale, (int, float)) else tuple(scale) if isinstance(scale, (tuple, list)) else None
    if scales is None or len(scales) != rank:
        for a in axes:
            shape[a] = Unknown("resize factor")
        return C.record(interp, op=op, layer=layer, site=site, call_node=node, x=x, out_shape=tuple(shape), label=label)
    for a, f in zip(axes, scales):
        shape[a] = _scaled(shape[a], f)
    if all(isinstance(f, (int, float)) for f in scales):
        if any(f > 1 for f in scales):
            kind = "up"
        elif any(f < 1 for f in scales):
            kind = "down"
    return C.record(interp, op=op, layer=layer, site=site, call_node=node, x=x, out_shape=tuple(shape), kind=kind, axes=axes, label=label, adjoint=("resample", (), layer))


UPSAMPLE_SIG = Signature.of(("size", None), ("scale_factor", None), ("mode", "nearest"), ("align_corners", None), ("recompute_scale_factor", None))
INTERP_SIG = Signature.of("input", ("size", None), ("scale_factor", None), ("mode", "nearest"), ("align_corners", None), ("recompute_scale_factor", None), ("antialias", False))


def _upsample_build(op):
    def build(interp, args, kwargs, node):
        p = UPSAMPLE_SIG.bind(args, kwargs)
        return Layer(op, p, interp.site(node), FRAMEWORK, lambda i, l, a, k, n: resample(i, l.op, l, l.site, n, _tensor_arg(a, k), l.params["size"], l.params["scale_factor"], label=l.name), extra={})

    return build


def _interpolate(interp, args, kwargs, node):
    p = INTERP_SIG.bind(args, kwargs)
    return resample(interp, "torch.nn.functional.interpolate", None, interp.site(node), node, p["input"], p["size"], p["scale_factor"])


def _pixel_shuffle_build(op, inverse):
    def apply_(interp, layer, args, kwargs, node):
        x = _tensor_arg(args, kwargs)
        r = layer.params["upscale_factor" if not inverse else "downscale_factor"]
        if not isinstance(x, Tensor) or x.shape is None or len(x.shape) < 3 or not is_int(r):
            return C.record(interp, op=op, layer=layer, site=layer.site, call_node=node, x=x if isinstance(x, Tensor) else Tensor(None), out_shape=None)
        n = len(x.shape)
        c, h, w = x.shape[n - 3], x.shape[n - 2], x.shape[n - 1]
        if inverse:
            shape = tuple(x.shape[: n - 3]) + ((c * r * r) if is_size(c) else Unknown("c"), h // r if is_size(h) else h, w // r if is_size(w) else w)
        else:
            shape = tuple(x.shape[: n - 3]) + ((c // (r * r)) if is_size(c) else Unknown("c"), h * r if is_size(h) else h, w * r if is_size(w) else w)
        return C.record(interp, op=op, layer=layer, site=layer.site, call_node=node, x=x, out_shape=shape, kind="down" if inverse else "up", axes=[n - 2, n - 1], adjoint=("resample", (), layer))

    name = "downscale_factor" if inverse else "upscale_factor"

    def build(interp, args, kwargs, node):
        p = Signature.of(name).bind(args, kwargs)
        return Layer(op, p, interp.site(node), FRAMEWORK, apply_)

    return build


# ---------------------------------------------------------------------------------------- padding layers

def _pad_layer(op, rank):
    def build(interp, args, kwargs, node):
        p = Signature.of("padding", ("value", 0)).bind(args, kwargs)
        pad = p["padding"]
        if is_int(pad):
            pad = (pad,) * (2 * rank)
        return Layer(op, {"padding": pad}, interp.site(node), FRAMEWORK, lambda i, l, a, k, n: _pad_apply(i, l, a, k, n))

    return build


def _pad_apply(interp, layer, args, kwargs, node):
    x = _tensor_arg(args, kwargs)
    if not isinstance(x, Tensor):
        return Tensor(None)
    out = C.pad_last_dims(interp, x, layer.params["padding"], layer.name or layer.op.rsplit(".", 1)[-1])
    interp.trace.events.append(_event(layer.site, node, interp, layer.op, x.shape, out.shape, layer))
    return out


def _event(site, node, interp, op, inp, out, layer=None):
    return LayerEvent(site=site, call_site=interp.site(node) if node is not None else site, op=op, input=inp, output=out, layer=layer, name=layer.name if layer is not None else None)


def _fpad(interp, args, kwargs, node):
    p = Signature.of("input", "pad", ("mode", "constant"), ("value", None)).bind(args, kwargs)
    x = p["input"]
    if not isinstance(x, Tensor):
        return Tensor(None)
    out = C.pad_last_dims(interp, x, p["pad"], "pad")
    interp.trace.events.append(_event(interp.site(node), node, interp, "torch.nn.functional.pad", x.shape, out.shape))
    return out


# ---------------------------------------------------------------------------------------- linear, norms, flatten

def _linear_build(op, lazy):
    sig = Signature.of("out_features", ("bias", True)) if lazy else Signature.of("in_features", "out_features", ("bias", True))

    def build(interp, args, kwargs, node):
        p = sig.bind(args, kwargs)
        if lazy:
            p["in_features"] = Unknown("lazy")
        return Layer(op, p, interp.site(node), FRAMEWORK, _linear_apply)

    return build


def _linear_apply(interp, layer, args, kwargs, node):
    x = _tensor_arg(args, kwargs)
    if not isinstance(x, Tensor):
        return Tensor(None)
    label = layer.name or "Linear"
    if x.shape is None or not x.shape:
        if x.entry and is_int(layer.params.get("in_features")):
            x = Tensor((Unknown("batch"), layer.params["in_features"]), CHANNELS_FIRST, framework="torch")
        else:
            return C.record(interp, op=layer.op, layer=layer, site=layer.site, call_node=node, x=x, out_shape=None)
    _channel_check(interp, label, layer.site, layer.params.get("in_features"), x.shape[-1], x, len(x.shape) - 1, what="input features")
    of = layer.params.get("out_features")
    return C.record(interp, op=layer.op, layer=layer, site=layer.site, call_node=node, x=x, out_shape=tuple(x.shape[:-1]) + (of if is_size(of) else Unknown("out_features"),))


def _norm_build(op, param, axis_kind):
    def build(interp, args, kwargs, node):
        if op.endswith("GroupNorm"):
            p = Signature.of("num_groups", "num_channels", ("eps", 1e-5), ("affine", True)).bind(args, kwargs)
            g, c = p["num_groups"], p["num_channels"]
            if is_int(g) and is_int(c) and g > 0 and c % g:
                rejected(interp, interp.site(node), op, ConvArithmeticError(f"num_channels={c} is not divisible by num_groups={g}", constraint="num_channels divisible by num_groups", argument="num_groups"))
        elif op.endswith("LayerNorm"):
            p = Signature.of("normalized_shape", ("eps", 1e-5), ("elementwise_affine", True)).bind(args, kwargs)
        else:
            p = Signature.of("num_features", ("eps", 1e-5), ("momentum", 0.1), ("affine", not op.split(".")[-1].startswith("Instance")), ("track_running_stats", not op.split(".")[-1].startswith("Instance"))).bind(args, kwargs)
        return Layer(op, p, interp.site(node), FRAMEWORK, _norm_apply, extra={"param": param, "axis": axis_kind})

    return build


def _norm_apply(interp, layer, args, kwargs, node):
    x = _tensor_arg(args, kwargs)
    if not isinstance(x, Tensor):
        return Tensor(None) if not isinstance(x, Unknown) else x
    label = layer.name or layer.op.rsplit(".", 1)[-1]
    if x.shape is not None and x.shape:
        p = layer.params
        if layer.extra["axis"] == "last":
            ns = p.get("normalized_shape")
            ns = (ns,) if is_int(ns) else tuple(ns) if isinstance(ns, (tuple, list)) else None
            if ns is not None and len(ns) <= len(x.shape):
                for e, g in zip(ns, x.shape[len(x.shape) - len(ns):]):
                    if _channel_check(interp, label, layer.site, e, g, x, len(x.shape) - 1, what="features in the normalized dims"):
                        break
        elif len(x.shape) >= 2:
            check = True
            if layer.op.split(".")[-1].startswith("Instance") and p.get("affine") is not True and p.get("track_running_stats") is not True:
                check = False
            if check:
                _channel_check(interp, label, layer.site, p.get(layer.extra["param"]), x.shape[1], x, 1)
    return C.record(interp, op=layer.op, layer=layer, site=layer.site, call_node=node, x=x, out_shape=x.shape)


def _embedding_build(interp, args, kwargs, node):
    p = Signature.of("num_embeddings", "embedding_dim", ("padding_idx", None)).bind(args, kwargs)
    layer = Layer("torch.nn.Embedding", p, interp.site(node), FRAMEWORK, _embedding_apply)
    n, d = p["num_embeddings"], p["embedding_dim"]
    layer.extra["weight"] = Tensor((n if is_size(n) else Unknown("n"), d if is_size(d) else Unknown("d")), CHANNELS_FIRST, framework="torch")
    return layer


def _embedding_apply(interp, layer, args, kwargs, node):
    x = _tensor_arg(args, kwargs)
    if not isinstance(x, Tensor) or x.shape is None:
        return Tensor(None)
    d = layer.params["embedding_dim"]
    return x.derive(tuple(x.shape) + ((d if is_size(d) else Unknown("embedding_dim")),), label=layer.name or "Embedding")


def _flatten_build(interp, args, kwargs, node):
    p = Signature.of(("start_dim", 1), ("end_dim", -1)).bind(args, kwargs)
    return Layer("torch.nn.Flatten", p, interp.site(node), FRAMEWORK, _flatten_apply)


def _flatten_apply(interp, layer, args, kwargs, node):
    x = _tensor_arg(args, kwargs)
    if not isinstance(x, Tensor):
        return Tensor(None)
    s, e = layer.params["start_dim"], layer.params["end_dim"]
    out = C.flatten(x, s, e, layer.name or "Flatten") if is_int(s) and is_int(e) else x.derive(None)
    interp.trace.events.append(_event(layer.site, node, interp, layer.op, x.shape, out.shape, layer))
    return out


def _unflatten_build(interp, args, kwargs, node):
    p = Signature.of("dim", "unflattened_size").bind(args, kwargs)
    return Layer("torch.nn.Unflatten", p, interp.site(node), FRAMEWORK, _unflatten_apply)


def _unflatten_apply(interp, layer, args, kwargs, node):
    x = _tensor_arg(args, kwargs)
    if not isinstance(x, Tensor):
        return Tensor(None)
    d, sizes = layer.params["dim"], layer.params["unflattened_size"]
    if x.shape is None or not is_int(d) or not isinstance(sizes, (tuple, list)):
        return x.derive(None)
    n = len(x.shape)
    d = d if d >= 0 else n + d
    out = x.derive(tuple(x.shape[:d]) + tuple(sizes) + tuple(x.shape[d + 1 :]), label="Unflatten")
    interp.trace.events.append(_event(layer.site, node, interp, layer.op, x.shape, out.shape, layer))
    return out


def _preserve_build(op):
    def build(interp, args, kwargs, node):
        return Layer(op, {}, interp.site(node), FRAMEWORK, _preserve_apply)

    return build


def _preserve_apply(interp, layer, args, kwargs, node):
    x = _tensor_arg(args, kwargs)
    return x if isinstance(x, (Tensor, Unknown)) else Tensor(None)


def _preserve_fn(interp, args, kwargs, node):
    x = _tensor_arg(args, kwargs)
    return x if isinstance(x, (Tensor, Unknown)) else (Tensor(None) if not isinstance(x, (int, float)) else Unknown("scalar"))


# ---------------------------------------------------------------------------------------- containers

def _sequential(interp, args, kwargs, node):
    if len(args) == 1 and isinstance(args[0], dict):
        items = dict(args[0])
    else:
        items = list(args)
    return Container("sequential", items, interp.site(node))


def _modulelist(interp, args, kwargs, node):
    src = args[0] if args else kwargs.get("modules", [])
    items = interp.iterate(src) if src is not None else []
    return Container("modulelist", list(items) if items is not None else [Unknown("modules")], interp.site(node))


def _moduledict(interp, args, kwargs, node):
    src = args[0] if args else kwargs.get("modules", {})
    if isinstance(src, dict):
        return Container("moduledict", dict(src), interp.site(node))
    items = interp.iterate(src)
    d = {}
    for it in items or []:
        if isinstance(it, (tuple, list)) and len(it) == 2 and isinstance(it[0], str):
            d[it[0]] = it[1]
    return Container("moduledict", d, interp.site(node))


# ---------------------------------------------------------------------------------------- torch functions

def _cat(stack):
    def fn(interp, args, kwargs, node):
        tensors = args[0] if args else kwargs.get("tensors", kwargs.get("arrays"))
        dim = args[1] if len(args) > 1 else kwargs.get("dim", kwargs.get("axis", 0))
        items = interp.iterate(tensors)
        if items is None:
            return Tensor(None)
        site = interp.site(node)
        out = C.concat(interp, items, dim, site, "torch.stack" if stack else "torch.cat", stack=stack)
        interp.trace.events.append(_event(site, node, interp, "torch.stack" if stack else "torch.cat", items[0].shape if items and isinstance(items[0], Tensor) else None, out.shape))
        return out

    return fn


def _new_tensor(interp, args, kwargs, node):
    if "*" in kwargs:
        return Tensor(None, CHANNELS_FIRST, framework="torch")  # torch.zeros(1, c, *unknown)
    shape = kwargs.get("size")
    if shape is None:
        if len(args) == 1 and isinstance(args[0], (tuple, list)):
            shape = args[0]
        else:
            shape = tuple(a for a in args if not isinstance(a, str))
    s = C.as_shape(shape)
    if s is None:
        return Tensor(None, CHANNELS_FIRST, framework="torch")
    return Tensor(tuple(s), CHANNELS_FIRST, fresh=True, framework="torch")


def _like(interp, args, kwargs, node):
    x = _tensor_arg(args, kwargs)
    if isinstance(x, Tensor):
        return Tensor(x.shape, x.layout, history=x.history, downs=x.downs, framework=x.framework)
    return Tensor(None)


def _flatten_fn(interp, args, kwargs, node):
    p = Signature.of("input", ("start_dim", 0), ("end_dim", -1)).bind(args, kwargs)
    x = p["input"]
    if not isinstance(x, Tensor) or not is_int(p["start_dim"]) or not is_int(p["end_dim"]):
        return Tensor(None)
    return C.flatten(x, p["start_dim"], p["end_dim"], "flatten")


def _reshape_fn(interp, args, kwargs, node):
    x = _tensor_arg(args, kwargs)
    shape = args[1] if len(args) > 1 else kwargs.get("shape")
    if not isinstance(x, Tensor) or C.as_shape(shape) is None:
        return Tensor(None) if not isinstance(x, Tensor) else x.derive(None)
    return C.reshape(x, C.as_shape(shape), "reshape")


def chunk(interp, args, kwargs, node):
    p = Signature.of("input", "chunks", ("dim", 0)).bind(args, kwargs)
    x, k, d = p["input"], p["chunks"], p["dim"]
    if not isinstance(x, Tensor) or x.shape is None or not is_int(k) or not is_int(d):
        return Unknown("chunk")
    n = len(x.shape)
    d = d if d >= 0 else n + d
    size = x.shape[d]
    if is_int(size) and size % k == 0:
        part = x.derive(tuple(x.shape[:d]) + (size // k,) + tuple(x.shape[d + 1 :]))
        return tuple(part.derive(part.shape) for _ in range(k))
    return Unknown("uneven chunk")


def _arange(interp, args, kwargs, node):
    vals = [a for a in args if not isinstance(a, str)]
    if len(vals) == 1 and is_size(vals[0]):
        return Tensor((vals[0],), CHANNELS_FIRST, fresh=True, framework="torch")
    if len(vals) in (2, 3) and all(is_int(v) for v in vals):
        return Tensor((len(range(*vals)),), CHANNELS_FIRST, fresh=True, framework="torch")
    return Tensor(None, framework="torch")


def _binop_fn(opname):
    op = {"add": BinOp.ADD, "sub": BinOp.SUB, "mul": BinOp.MUL, "div": BinOp.DIV}[opname]

    def fn(interp, args, kwargs, node):
        a = args[0] if args else kwargs.get("input", Unknown("operand"))
        b = args[1] if len(args) > 1 else kwargs.get("other", Unknown("operand"))
        return interp.binop(op, a, b, node)

    return fn


def _where(interp, args, kwargs, node):
    if len(args) != 3:
        return Unknown("where")
    return interp.binop(BinOp.ADD, interp.binop(BinOp.ADD, args[0], args[1], node), args[2], node)


def _split(interp, args, kwargs, node):
    x = args[0] if args else kwargs.get("tensor")
    sizes = args[1] if len(args) > 1 else kwargs.get("split_size_or_sections")
    dim = args[2] if len(args) > 2 else kwargs.get("dim", 0)
    return C.split_sizes(x, sizes, dim) if isinstance(x, Tensor) else Unknown("split")


def _pixel_fn(inverse):
    def fn(interp, args, kwargs, node):
        x = args[0] if args else None
        r = args[1] if len(args) > 1 else kwargs.get("downscale_factor" if inverse else "upscale_factor")
        if not isinstance(x, Tensor) or x.shape is None or len(x.shape) < 3 or not is_int(r):
            return Tensor(None)
        n = len(x.shape)
        c, h, w = x.shape[n - 3 :]
        if inverse:
            new = (c * r * r if is_size(c) else c, h // r if is_size(h) else h, w // r if is_size(w) else w)
        else:
            new = (c // (r * r) if is_size(c) else c, h * r if is_size(h) else h, w * r if is_size(w) else w)
        return x.derive(tuple(x.shape[: n - 3]) + new)

    return fn


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


def _unknown_fn(reason):
    return lambda interp, args, kwargs, node: Unknown(reason)


def _register_all():
    for r in (1, 2, 3):
        _reg(f"torch.nn.Conv{r}d", make_conv_layer(f"torch.nn.Conv{r}d", r, False, False), "layer", CONV_SIG, "conv")
        _reg(f"torch.nn.ConvTranspose{r}d", make_conv_layer(f"torch.nn.ConvTranspose{r}d", r, True, False), "layer", CONVT_SIG, "conv")
        _reg(f"torch.nn.LazyConv{r}d", make_conv_layer(f"torch.nn.LazyConv{r}d", r, False, True), "layer", LAZY_CONV_SIG, "conv")
        _reg(f"torch.nn.LazyConvTranspose{r}d", make_conv_layer(f"torch.nn.LazyConvTranspose{r}d", r, True, True), "layer", LAZY_CONVT_SIG, "conv")
        _reg(f"torch.nn.functional.conv{r}d", make_fconv(f"torch.nn.functional.conv{r}d", r, False), family="conv")
        _reg(f"torch.nn.functional.conv_transpose{r}d", make_fconv(f"torch.nn.functional.conv_transpose{r}d", r, True), family="conv")
        for kind, cls in (("max", "MaxPool"), ("avg", "AvgPool")):
            _reg(f"torch.nn.{cls}{r}d", make_pool_layer(f"torch.nn.{cls}{r}d", r, kind), "layer", family="pool")
            _reg(f"torch.nn.functional.{kind}_pool{r}d", make_fpool(f"torch.nn.functional.{kind}_pool{r}d", r, kind), family="pool")
            fn, _ = make_adaptive(f"torch.nn.functional.adaptive_{kind}_pool{r}d", r, True)
            _reg(f"torch.nn.functional.adaptive_{kind}_pool{r}d", fn, family="pool")
            _, build = make_adaptive(f"torch.nn.Adaptive{cls}{r}d", r, False)
            _reg(f"torch.nn.Adaptive{cls}{r}d", build, "layer", family="pool")
        for pad in ("ZeroPad", "ConstantPad", "ReflectionPad", "ReplicationPad", "CircularPad"):
            _reg(f"torch.nn.{pad}{r}d", _pad_layer(f"torch.nn.{pad}{r}d", r), "layer")
        _reg(f"torch.nn.BatchNorm{r}d", _norm_build(f"torch.nn.BatchNorm{r}d", "num_features", "channel"), "layer")
        _reg(f"torch.nn.InstanceNorm{r}d", _norm_build(f"torch.nn.InstanceNorm{r}d", "num_features", "channel"), "layer")
        _reg(f"torch.nn.LazyBatchNorm{r}d", _preserve_build(f"torch.nn.LazyBatchNorm{r}d"), "layer")
    _reg("torch.nn.SyncBatchNorm", _norm_build("torch.nn.SyncBatchNorm", "num_features", "channel"), "layer")
    _reg("torch.nn.GroupNorm", _norm_build("torch.nn.GroupNorm", "num_channels", "channel"), "layer")
    _reg("torch.nn.LayerNorm", _norm_build("torch.nn.LayerNorm", "normalized_shape", "last"), "layer")
    _reg("torch.nn.Upsample", _upsample_build("torch.nn.Upsample"), "layer", family="resize")
    _reg("torch.nn.UpsamplingNearest2d", _upsample_build("torch.nn.UpsamplingNearest2d"), "layer", family="resize")
    _reg("torch.nn.UpsamplingBilinear2d", _upsample_build("torch.nn.UpsamplingBilinear2d"), "layer", family="resize")
    _reg("torch.nn.PixelShuffle", _pixel_shuffle_build("torch.nn.PixelShuffle", False), "layer", family="resize")
    _reg("torch.nn.PixelUnshuffle", _pixel_shuffle_build("torch.nn.PixelUnshuffle", True), "layer", family="resize")
    _reg("torch.nn.functional.interpolate", _interpolate, family="resize")
    _reg("torch.nn.functional.upsample", _interpolate, family="resize")
    _reg("torch.nn.functional.pad", _fpad)
    _reg("torch.nn.Linear", _linear_build("torch.nn.Linear", False), "layer")
    _reg("torch.nn.LazyLinear", _linear_build("torch.nn.LazyLinear", True), "layer")
    _reg("torch.nn.Flatten", _flatten_build, "layer")
    _reg("torch.nn.Embedding", _embedding_build, "layer")
    _reg("torch.nn.Unflatten", _unflatten_build, "layer")
    _reg("torch.nn.Sequential", _sequential, "container")
    _reg("torch.nn.ModuleList", _modulelist, "container")
    _reg("torch.nn.ModuleDict", _moduledict, "container")
    for name in PRESERVING_LAYERS:
        _reg(f"torch.nn.{name}", _preserve_build(f"torch.nn.{name}"), "layer")
    for name in PRESERVING_FUNCTIONS:
        _reg(name, _preserve_fn)
    _reg("torch.cat", _cat(False))
    _reg("torch.concat", _cat(False))
    _reg("torch.concatenate", _cat(False))
    _reg("torch.stack", _cat(True))
    _reg("torch.flatten", _flatten_fn)
    _reg("torch.reshape", _reshape_fn)
    _reg("torch.chunk", chunk)
    _reg("torch.arange", _arange)
    _reg("torch.einsum", C.einsum)
    for opname in ("add", "sub", "mul", "div"):
        _reg(f"torch.{opname}", _binop_fn(opname))
    _reg("torch.subtract", _binop_fn("sub"))
    _reg("torch.multiply", _binop_fn("mul"))
    _reg("torch.where", _where)
    _reg("torch.matmul", lambda i, a, k, n: C.matmul(a[0], a[1]) if len(a) == 2 else Unknown("matmul"))
    _reg("torch.bmm", lambda i, a, k, n: C.matmul(a[0], a[1]) if len(a) == 2 else Unknown("bmm"))
    _reg("torch.split", _split)
    _reg("torch.nn.functional.pixel_shuffle", _pixel_fn(False), family="resize")
    _reg("torch.nn.functional.pixel_unshuffle", _pixel_fn(True), family="resize")
    for name in ("zeros", "ones", "randn", "rand", "empty", "full"):
        _reg(f"torch.{name}", _new_tensor if name != "full" else (lambda i, a, k, n: _new_tensor(i, a[:1], {}, n)))
    for name in ("zeros_like", "ones_like", "randn_like", "rand_like", "empty_like"):
        _reg(f"torch.{name}", _like)
    _reg("torch.no_grad", _unknown_fn("context"))
    _reg("torch.tensor", _unknown_fn("tensor from data"))
    _reg("torch.nn.Parameter", lambda i, a, k, n: a[0] if a else Unknown("parameter"))
    # wrappers that return the module they are given
    for name in ("torch.nn.utils.spectral_norm", "torch.nn.utils.weight_norm", "torch.nn.utils.parametrizations.spectral_norm",
                 "torch.nn.utils.parametrizations.weight_norm", "torch.nn.utils.parametrizations.orthogonal"):
        _reg(name, lambda i, a, k, n: a[0] if a else Unknown("wrapped module"))
    # the CPU, single-process, eval-mode path: what convlint follows (docs/architecture.md)
    _reg("torch.nn.parallel.data_parallel", _data_parallel)
    for name in ("torch.nn.DataParallel", "torch.nn.parallel.DataParallel", "torch.nn.parallel.DistributedDataParallel"):
        _reg(name, lambda i, a, k, n: a[0] if a else k.get("module", Unknown("wrapped module")))
    _reg("torch.utils.checkpoint.checkpoint", _checkpoint)
    _reg("torch.utils.checkpoint.checkpoint_sequential", lambda i, a, k, n: i.call(a[0], [a[2]] if len(a) > 2 else [k.get("input", Unknown("input"))], {}, n) if a else Unknown("checkpoint"))
    for name in ("torch.cuda.is_available", "torch.jit.is_scripting", "torch.jit.is_tracing", "torch.distributed.is_initialized", "torch.distributed.is_available"):
        _reg(name, lambda i, a, k, n: False)
    _reg("torch.cuda.device_count", lambda i, a, k, n: 0)
    for name in ("torch.jit.script", "torch.jit.unused", "torch.jit.ignore", "torch.jit.export", "torch.compile"):
        _reg(name, lambda i, a, k, n: a[0] if a else Op("decorator", lambda i2, a2, k2, n2: a2[0] if a2 else None))
    CATALOGUE["torch.nn.Module"] = FwClass("torch.nn.Module", "torch")


PRESERVING_LAYERS = (
    "ReLU", "ReLU6", "LeakyReLU", "PReLU", "ELU", "SELU", "CELU", "GELU", "SiLU", "Mish", "Sigmoid", "Tanh", "Hardtanh",
    "Hardswish", "Hardsigmoid", "Softplus", "Softsign", "Tanhshrink", "Threshold", "GLU", "LogSigmoid", "Softmax", "LogSoftmax",
    "Softmax2d", "Dropout", "Dropout1d", "Dropout2d", "Dropout3d", "AlphaDropout", "FeatureAlphaDropout", "Identity",
    "LocalResponseNorm", "ChannelShuffle",
)
PRESERVING_FUNCTIONS = tuple(
    [f"torch.nn.functional.{n}" for n in (
        "relu", "relu6", "leaky_relu", "elu", "selu", "celu", "gelu", "silu", "mish", "sigmoid", "tanh", "hardtanh", "hardswish",
        "hardsigmoid", "softplus", "softmax", "log_softmax", "dropout", "dropout1d", "dropout2d", "dropout3d", "normalize",
        "batch_norm", "instance_norm", "group_norm", "layer_norm", "local_response_norm", "relu_",
    )]
    + [f"torch.{n}" for n in ("relu", "sigmoid", "tanh", "exp", "log", "abs", "sqrt", "clamp", "clip", "sin", "cos", "softmax", "dropout", "neg", "square")]
)

_register_all()


# ---------------------------------------------------------------------------------------- fixes

def transpose_fix(layer: Layer, in_size, want) -> FixSpec | None:
    """For a ConvTranspose whose output misses ``want``: the padding/output_padding that restores it."""
    if layer is None or layer.framework != FRAMEWORK or not layer.extra.get("transposed") or layer.config is None:
        return None
    conv = layer.config
    if not all(is_int(v) for v in (*in_size, *want)):
        return None
    pads, ops = [], []
    try:
        for i, o, k, s, d in zip(in_size, want, conv.kernel_size, conv.stride, conv.dilation):
            sol = solve_torch_transpose(i, o, k, s, d)
            pads.append(sol.padding)
            ops.append(sol.output_padding)
    except ConvArithmeticError:
        return None
    node = layer.extra.get("call")
    if node is None:
        return None

    def src(vals):
        return str(vals[0]) if all(v == vals[0] for v in vals) else "(" + ", ".join(map(str, vals)) + ")"

    set_args = {}
    if tuple(pads) != tuple(conv.torch_padding):
        set_args["padding"] = src(pads)
    if tuple(ops) != tuple(conv.output_padding):
        set_args["output_padding"] = src(ops)
    if not set_args:
        return None
    sig = layer.extra["sig"]
    return FixSpec(
        message="set " + ", ".join(f"{k}={v}" for k, v in set_args.items()),
        call=node,
        set_args=set_args,
        positional_index={k: sig.index(k) for k in set_args},
    )


# ---------------------------------------------------------------------------------------- model classes

class TorchModules:
    """``nn.Module`` subclasses: ``model(x)`` runs ``forward``; ``register_buffer``/``add_module``
    set attributes; a subclass of a framework layer without ``forward`` applies that layer."""

    input_layout = CHANNELS_FIRST

    def call(self, interp, inst, args, kwargs, node):
        fn, _ = inst.cls.lookup("forward")
        if fn is MISSING:
            fn, _ = inst.cls.lookup("__call__")
        if fn is MISSING:
            inner = inst.attrs.get("__layer__") or inst.attrs.get("__container__")
            if isinstance(inner, (Layer, Container)):
                return interp.call(inner, args, kwargs, node)
        if isinstance(fn, FunctionVal):
            return interp.call_function(fn, [inst, *args], kwargs, node)
        return Unknown(f"{inst.cls.name} has no forward")

    def instantiate(self, interp, cls, args, kwargs, node):
        return MISSING

    def attr_missing(self, interp, inst, name):
        if name in ("register_buffer", "add_module", "register_module", "register_parameter"):
            def register(i, args, kwargs, node):
                if len(args) >= 2 and isinstance(args[0], str):
                    inst.attrs[args[0]] = args[1]
                return None

            return pyb.Builtin(name, register)
        if name == "training":
            return False  # convlint follows the eval-mode path

        return pyb.Builtin(name, lambda i, a, k, n: Unknown(f"nn.Module.{name}"))

    def prepare(self, interp, inst) -> None:
        return None


SEMANTICS = TorchModules()


def upsampling_fix(event, din, want) -> FixSpec | None:
    """The certain repair of a torch ``ConvTranspose`` that misses ``want`` from input ``din``."""
    return transpose_fix(event.layer, din, want) if isinstance(event.layer, Layer) else None
