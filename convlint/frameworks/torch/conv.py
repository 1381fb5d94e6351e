"""Convolutions: ``nn.Conv{1,2,3}d``, ``nn.ConvTranspose{1,2,3}d``, their lazy forms and
``F.conv*`` / ``F.conv_transpose*``. Sizes come from :mod:`convlint.arith.pytorch`; this module only
translates arguments, checks channels and records what happened.
"""

from __future__ import annotations

from convlint.arith.core import ConvArithmeticError, ErrorKind
from convlint.arith.pytorch import output_padding_for_size, torch_conv, torch_conv_transpose
from convlint.arith.solve import solve_torch_transpose
from convlint.frameworks import shapes as C
from convlint.frameworks.base import Layer, Signature, is_int, known, window_out
from convlint.frameworks.torch.common import (
    FRAMEWORK, channel_check, clamped, fmt, promote, reg, rejected, tensor_arg, unmodelled,
)
from convlint.interpret.events import FixSpec, RankEvent, UnresolvedEvent
from convlint.interpret.lattice import first_unknown
from convlint.interpret.symbolic import Sym, has_symbolic, is_size
from convlint.interpret.tensor import CHANNELS_FIRST, Tensor
from convlint.interpret.values import Unknown

CONV_SIG = Signature.of("in_channels", "out_channels", "kernel_size", ("stride", 1), ("padding", 0), ("dilation", 1), ("groups", 1), ("bias", True), ("padding_mode", "zeros"), ("device", None), ("dtype", None))
CONVT_SIG = Signature.of("in_channels", "out_channels", "kernel_size", ("stride", 1), ("padding", 0), ("output_padding", 0), ("groups", 1), ("bias", True), ("dilation", 1), ("padding_mode", "zeros"), ("device", None), ("dtype", None))
LAZY_CONV_SIG = Signature.of("out_channels", "kernel_size", ("stride", 1), ("padding", 0), ("dilation", 1), ("groups", 1), ("bias", True), ("padding_mode", "zeros"), ("device", None), ("dtype", None))
LAZY_CONVT_SIG = Signature.of("out_channels", "kernel_size", ("stride", 1), ("padding", 0), ("output_padding", 0), ("groups", 1), ("bias", True), ("dilation", 1), ("padding_mode", "zeros"), ("device", None), ("dtype", None))


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
    symbolic = [k for k in keys if k != "groups" and has_symbolic(p[k])]
    if symbolic:
        # ``kernel_size=patch_size`` of a model run with symbolic sizes: a size the arithmetic
        # cannot check, not a rejected configuration; the output sizes are not known
        layer.extra["unresolved"] = symbolic
        return None
    nones = [k for k in _NONE_FATAL if p.get(k, 0) is None]
    decided = C.on_certain_path(interp)
    facts = [k for k in nones if decided or _written_none(layer, k)]
    if facts:
        # a None that reaches the layer on a declared path (or is written at the call) is what
        # torch gets: it cannot build the layer, or its forward raises a TypeError. Not on a
        # branch taken on an unknown condition: an unknown config's ``if block_type == ...``
        # chain combines defaults of cases no real config combines
        if report:
            k = facts[0]
            when = "cannot build the layer" if k in _NONE_AT_BUILD else "builds the layer, but its forward raises a TypeError"
            rejected(interp, layer.site, layer.op, ConvArithmeticError(
                f"{k}=None reaches the layer: torch {when}", constraint=f"{k} is not None", argument=k,
                fix=f"pass {k} ({'an int' if k in ('in_channels', 'out_channels', 'groups') else 'an int or a tuple of ints'})"), layer=layer)
            layer.extra["invalid"] = True
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
    # a symbolic group count (``groups=in_channels`` of a model run with symbolic sizes) is a
    # positive size the arithmetic cannot check: not a rejected configuration
    groups = None if isinstance(p["groups"], Sym) else p["groups"]
    try:
        if layer.extra["transposed"]:
            return torch_conv_transpose(
                p["kernel_size"], p["stride"], p["padding"], p["output_padding"] if output_padding is None else output_padding, p["dilation"],
                rank=rank, groups=groups, in_channels=in_ch, out_channels=out_ch, padding_mode=p["padding_mode"],
            )
        return torch_conv(
            p["kernel_size"], p["stride"], p["padding"], p["dilation"],
            rank=rank, groups=groups, in_channels=in_ch, out_channels=out_ch, padding_mode=p["padding_mode"],
        )
    except ConvArithmeticError as e:
        if report:
            rejected(interp, layer.site, layer.op, e, layer=layer)
            layer.extra["invalid"] = True
        return None


_NONE_AT_BUILD = ("in_channels", "out_channels", "kernel_size", "groups")  # torch 2.x: TypeError in __init__
_NONE_FATAL = (*_NONE_AT_BUILD, "stride", "padding", "dilation")  # these three: TypeError at the first forward


def _written_none(layer: Layer, name: str) -> bool:
    """Whether the call that builds ``layer`` writes ``None`` for ``name`` itself."""
    import libcst as cst

    call, sig = layer.extra.get("call"), layer.extra.get("sig")
    if not isinstance(call, cst.Call) or sig is None:
        return False
    expr = None
    for i, a in enumerate(call.args):
        if a.star:
            break
        if a.keyword is not None:
            if a.keyword.value == name:
                expr = a.value
        elif sig.index(name) == i:
            expr = a.value
    return isinstance(expr, cst.Name) and expr.value == "None"


def _conv_apply(interp, layer: Layer, args, kwargs, node):
    x = tensor_arg(args, kwargs)
    rank = layer.extra["rank"]
    transposed = layer.extra["transposed"]
    conv = layer.config
    label = layer.name or layer.op.rsplit(".", 1)[-1]
    out_ch = layer.params.get("out_channels")
    out_ch = out_ch if is_size(out_ch) else Unknown("out_channels")
    if isinstance(x, Tensor):
        x = promote(x, rank, layer.params.get("in_channels"))
    if not isinstance(x, Tensor) or x.shape is None or (not x.exact_rank and len(x.shape) < rank + 1):
        # an input of unknown shape: the layer still fixes its channels, counted from the end
        # (the input may be batched or not) — and its spatial sizes when those are known
        cause = C.unknown_of(x)
        spatial = tuple(Unknown("input of unknown shape", cause=cause) for _ in range(rank))
        raw = None
        if isinstance(x, Tensor) and x.shape is not None and len(x.shape) == rank and conv is not None:
            raw = tuple(window_out(w, i) for w, i in zip(conv.windows, x.shape))
            spatial = clamped(raw)
        shape = (out_ch, *spatial)
        xin = x if isinstance(x, Tensor) else Tensor(None, CHANNELS_FIRST, framework=FRAMEWORK, lost=cause)
        out = C.record(interp, op=layer.op, layer=layer, site=layer.site, call_node=node, x=xin, out_shape=shape,
                       windows=conv.windows if raw is not None else (), axes=range(rank) if raw is not None else (), spatial_out=raw)
        out.exact_rank = False
        out.layout = CHANNELS_FIRST
        return out
    n = len(x.shape)
    if n not in (rank + 1, rank + 2) and x.exact_rank:
        interp.trace.record(RankEvent(layer.site, label, (rank + 2, rank + 1), n, x.shape))
        return C.record(interp, op=layer.op, layer=layer, site=layer.site, call_node=node, x=x, out_shape=None)
    ch_axis = n - rank - 1
    channel_check(interp, label, layer.site, layer.params.get("in_channels"), x.shape[ch_axis], x, ch_axis, layer=layer, argument="in_channels")
    spatial_axes = list(range(n - rank, n))
    sizes = tuple(x.shape[a] for a in spatial_axes)
    output_size = kwargs.get("output_size", args[1] if len(args) > 1 else None)
    if transposed and output_size is not None and conv is not None:
        if known(output_size) and all(is_int(s) for s in sizes) and isinstance(output_size, (tuple, list)):
            want = tuple(output_size)[-rank:]  # torch accepts the full shape too: its last ``rank`` entries
            try:
                op = output_padding_for_size(sizes, want, conv.kernel_size, conv.stride, conv.torch_padding, conv.dilation, rank=rank)
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
        spatial = clamped(raw)
        if all(is_int(i) for i in sizes):
            try:
                conv.output(sizes)
            except ConvArithmeticError as e:
                if e.kind is not ErrorKind.EMPTY:
                    src = C.last_layer(x)
                    rejected(interp, layer.site, layer.op, e, f" (input {fmt(x.shape)} from {src})" if src else "", layer=layer)
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
            x = Tensor(None, CHANNELS_FIRST, framework=FRAMEWORK)
        x = promote(x, rank)
        kshape = w.shape if isinstance(w, Tensor) else None
        groups = p["groups"] if is_int(p["groups"]) else None
        out_ch = Unknown("channels")
        if kshape is not None and len(kshape) == rank + 2:
            if transposed:
                out_ch = kshape[1] * groups if is_int(kshape[1]) and groups is not None else Unknown("channels")
            else:
                out_ch = kshape[0] if is_size(kshape[0]) else Unknown("channels")

        def unknown_spatial():
            if x.shape is None or (not x.exact_rank and len(x.shape) < rank + 1):
                out = C.record(interp, op=op, layer=None, site=site, call_node=node, x=x,
                               out_shape=(out_ch, *(Unknown("conv") for _ in range(rank))))
                out.exact_rank = False
                return out
            n = len(x.shape)
            return C.record(interp, op=op, layer=None, site=site, call_node=node, x=x,
                            out_shape=tuple(x.shape[: n - rank - 1]) + (out_ch,) + tuple(Unknown("conv") for _ in range(rank)))

        if kshape is None or len(kshape) != rank + 2 or not all(is_int(k) for k in kshape[2:]):
            return unknown_spatial()
        kernel = tuple(kshape[2:])
        keys = ("stride", "padding", "dilation", "groups") + (("output_padding",) if transposed else ())
        if not known(*(p[k] for k in keys)) or any(has_symbolic(p[k]) for k in keys if k != "groups"):
            return unknown_spatial()
        groups = None if isinstance(p["groups"], Sym) else p["groups"]  # a symbolic group count is a positive size
        try:
            if transposed:
                conv = torch_conv_transpose(kernel, p["stride"], p["padding"], p["output_padding"], p["dilation"], rank=rank, groups=groups)
            else:
                conv = torch_conv(kernel, p["stride"], p["padding"], p["dilation"], rank=rank, groups=groups)
        except ConvArithmeticError as e:
            rejected(interp, site, op, e)
            return C.record(interp, op=op, layer=None, site=site, call_node=node, x=x, out_shape=None)
        if x.shape is None or (not x.exact_rank and len(x.shape) < rank + 1):
            return unknown_spatial()
        n = len(x.shape)
        if n not in (rank + 1, rank + 2) and x.exact_rank:
            interp.trace.record(RankEvent(site, op.rsplit(".", 1)[-1], (rank + 2, rank + 1), n, x.shape))
            return C.record(interp, op=op, layer=None, site=site, call_node=node, x=x, out_shape=None)
        ch_axis = n - rank - 1
        g = p["groups"] if is_int(p["groups"]) else None
        if transposed:
            exp_in = kshape[0]
        else:
            exp_in = kshape[1] * g if is_int(kshape[1]) and g is not None else Unknown("channels")
        channel_check(interp, op.rsplit(".", 1)[-1], site, exp_in, x.shape[ch_axis], x, ch_axis)
        axes = list(range(n - rank, n))
        sizes = tuple(x.shape[a] for a in axes)
        raw = tuple(window_out(wd, i) for wd, i in zip(conv.windows, sizes))
        spatial = clamped(raw)
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


# ---------------------------------------------------------------------------------------- fixes

def arg_text(vals) -> str:
    """A per-dimension argument as source: ``2`` for ``(2, 2)``, ``(2, 3)`` otherwise."""
    return str(vals[0]) if all(v == vals[0] for v in vals) else "(" + ", ".join(map(str, vals)) + ")"


def stride_fix(layer, strides) -> FixSpec | None:
    """``stride=<strides>`` on the call that built a torch conv or pool layer (None when the call
    or its signature is not known)."""
    sig = layer.extra.get("sig") if isinstance(layer, Layer) else None
    if sig is None or layer.extra.get("call") is None or sig.index("stride") is None:
        return None
    value = arg_text(strides)
    return FixSpec(message=f"set stride={value}", call=layer.extra["call"], set_args={"stride": value}, positional_index={"stride": sig.index("stride")})


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
    set_args = {}
    if tuple(pads) != tuple(conv.torch_padding):
        set_args["padding"] = arg_text(pads)
    if tuple(ops) != tuple(conv.output_padding):
        set_args["output_padding"] = arg_text(ops)
    if not set_args:
        return None
    sig = layer.extra["sig"]
    return FixSpec(
        message="set " + ", ".join(f"{k}={v}" for k, v in set_args.items()),
        call=node,
        set_args=set_args,
        positional_index={k: sig.index(k) for k in set_args},
    )


def upsampling_fix(event, din, want) -> FixSpec | None:
    """The certain repair of a torch ``ConvTranspose`` that misses ``want`` from input ``din``."""
    return transpose_fix(event.layer, din, want) if isinstance(event.layer, Layer) else None


def register():
    for r in (1, 2, 3):
        reg(f"torch.nn.Conv{r}d", make_conv_layer(f"torch.nn.Conv{r}d", r, False, False), "layer", CONV_SIG, "conv")
        reg(f"torch.nn.ConvTranspose{r}d", make_conv_layer(f"torch.nn.ConvTranspose{r}d", r, True, False), "layer", CONVT_SIG, "conv")
        reg(f"torch.nn.LazyConv{r}d", make_conv_layer(f"torch.nn.LazyConv{r}d", r, False, True), "layer", LAZY_CONV_SIG, "conv")
        reg(f"torch.nn.LazyConvTranspose{r}d", make_conv_layer(f"torch.nn.LazyConvTranspose{r}d", r, True, True), "layer", LAZY_CONVT_SIG, "conv")
        reg(f"torch.nn.functional.conv{r}d", make_fconv(f"torch.nn.functional.conv{r}d", r, False), family="conv")
        reg(f"torch.nn.functional.conv_transpose{r}d", make_fconv(f"torch.nn.functional.conv_transpose{r}d", r, True), family="conv")
    unmodelled("torch.nn.functional.conv_tbc", "time-batch-channel convolution kernel with explicit padding only; not used by model code", "tensor")
    for name, why in (
        ("convolution", "the dispatcher behind F.conv*/conv_transpose* (transposed flag and output_padding as arguments)"),
        ("cudnn_convolution", "a cuDNN backend kernel"), ("cudnn_convolution_add_relu", "a cuDNN backend kernel"),
        ("cudnn_convolution_relu", "a cuDNN backend kernel"), ("cudnn_convolution_transpose", "a cuDNN backend kernel"),
        ("miopen_convolution", "a MIOpen (ROCm) backend kernel"), ("miopen_convolution_add_relu", "a MIOpen (ROCm) backend kernel"),
        ("miopen_convolution_relu", "a MIOpen (ROCm) backend kernel"), ("miopen_convolution_transpose", "a MIOpen (ROCm) backend kernel"),
        ("miopen_depthwise_convolution", "a MIOpen (ROCm) backend kernel"), ("mkldnn_convolution", "a oneDNN backend kernel"),
    ):
        unmodelled(f"torch.{name}", why, "tensor")
