"""Pooling: max/avg/LP pools, adaptive pools, fractional max pools and max unpooling, as module
classes and functions. Window sizes come from :mod:`convlint.arith.pytorch`."""

from __future__ import annotations

from convlint.arith.core import ConvArithmeticError, Window
from convlint.arith.pytorch import pool_output_size, torch_conv_transpose, torch_pool
from convlint.frameworks import shapes as C
from convlint.frameworks.base import Layer, Signature, is_int, known, window_out
from convlint.frameworks.torch.common import (
    FRAMEWORK, clamped, promote, rank_check, reg, reject, rejected, tensor_arg, unmodelled,
)
from convlint.interpret.symbolic import Sym, has_symbolic, is_size
from convlint.interpret.tensor import CHANNELS_FIRST, Tensor
from convlint.interpret.values import Unknown

MAX_SIG = Signature.of("kernel_size", ("stride", None), ("padding", 0), ("dilation", 1), ("return_indices", False), ("ceil_mode", False))
AVG_SIG = Signature.of("kernel_size", ("stride", None), ("padding", 0), ("ceil_mode", False), ("count_include_pad", True), ("divisor_override", None))
F_MAX_SIG = Signature.of("input", "kernel_size", ("stride", None), ("padding", 0), ("dilation", 1), ("ceil_mode", False), ("return_indices", False))
F_AVG_SIG = Signature.of("input", "kernel_size", ("stride", None), ("padding", 0), ("ceil_mode", False), ("count_include_pad", True), ("divisor_override", None))


def _with_indices(out):
    """``(values, indices)``: the indices have the values' shape."""
    return (out, out.derive(out.shape)) if isinstance(out, Tensor) else (out, out)


def make_pool_layer(op, rank, kind):
    sig = MAX_SIG if kind == "max" else AVG_SIG

    def build(interp, args, kwargs, node):
        p = sig.bind(args, kwargs)
        site = interp.site(node)
        layer = Layer(op, p, site, FRAMEWORK, _pool_apply, extra={"rank": rank, "kind": kind, "call": node, "sig": sig})
        layer.config = _pool_config(interp, layer.op, p, site, rank, kind, layer)
        return layer

    return build


def _pool_config(interp, op, p, site, rank, kind, layer=None):
    keys = ["kernel_size", "stride", "padding", "ceil_mode"] + (["dilation"] if kind == "max" else [])
    if not known(*(p[k] for k in keys)):
        return None
    if any(has_symbolic(p[k]) for k in keys):
        # ``kernel_size=H // out_h`` in a model run with symbolic sizes: a size the arithmetic
        # cannot check, not a rejected configuration (as for a conv); the output is not known
        return None
    try:
        return torch_pool(p["kernel_size"], p["stride"], p["padding"], p.get("dilation", 1), rank=rank, kind="max" if kind == "max" else "avg")
    except ConvArithmeticError as e:
        rejected(interp, site, op, e, layer=layer)
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
    x = tensor_arg(args, kwargs)
    rank = layer.extra["rank"]
    if not isinstance(x, Tensor):
        x = Tensor(None, CHANNELS_FIRST, framework=FRAMEWORK)
    x = promote(x, rank)
    out = pool_on(interp, layer.op, layer, layer.site, node, x, layer.config, layer.params.get("ceil_mode"), rank, layer.name)
    return _with_indices(out) if layer.params.get("return_indices") is True else out


def pool_on(interp, op, layer, site, node, x, cfg, ceil_mode, rank, name=None):
    label = name or op.rsplit(".", 1)[-1]
    if x.shape is not None and rank_check(interp, site, label, x, (rank + 1, rank + 2)):
        return C.record(interp, op=op, layer=layer, site=site, call_node=node, x=x, out_shape=None)
    if x.shape is None or cfg is None or len(x.shape) < (rank + 1 if x.exact_rank else rank):
        if x.shape is None:
            shape = None
        elif len(x.shape) < rank:  # a lower-bound rank short of the spatial dims
            shape = tuple(Unknown("pool") for _ in range(rank))
        else:
            shape = tuple(x.shape[: len(x.shape) - rank]) + tuple(Unknown("pool") for _ in range(rank))
        return C.record(interp, op=op, layer=layer, site=site, call_node=node, x=x, out_shape=shape)
    n = len(x.shape)
    axes = list(range(n - rank, n))
    sizes = tuple(x.shape[a] for a in axes)
    raw = _pool_out(cfg, ceil_mode, sizes)
    windows = _pool_windows(cfg)
    kind = "down" if any(s > 1 for s in cfg[1]) else None
    return C.record(interp, op=op, layer=layer, site=site, call_node=node, x=x, out_shape=tuple(x.shape[: n - rank]) + clamped(raw),
                    windows=windows, kind=kind, axes=axes, adjoint=("pool", windows, layer), ceil_mode=bool(ceil_mode), spatial_out=raw)


def make_fpool(op, rank, kind, indices=False):
    """``F.max_pool2d`` / ``F.avg_pool2d`` / ``F.max_pool2d_with_indices`` (always a pair)."""
    sig = F_MAX_SIG if kind == "max" else F_AVG_SIG

    def fn(interp, args, kwargs, node):
        p = sig.bind(args, kwargs)
        x = p["input"]
        site = interp.site(node)
        if not isinstance(x, Tensor):
            x = Tensor(None, CHANNELS_FIRST, framework=FRAMEWORK)
        x = promote(x, rank)
        cfg = _pool_config(interp, op, p, site, rank, kind)
        out = pool_on(interp, op, None, site, node, x, cfg, p["ceil_mode"], rank)
        if indices or p.get("return_indices") is True:
            return _with_indices(out)
        return out

    return fn


# ---------------------------------------------------------------------------------------- LP pooling

def make_lp_pool(op, rank, functional):
    """``nn.LPPool{1,2,3}d`` / ``F.lp_pool*``: an average pool (no padding) of ``x ** p``."""
    sig = Signature.of(*(("input",) if functional else ()), "norm_type", "kernel_size", ("stride", None), ("ceil_mode", False))

    def apply_(interp, p, site, node, x, layer):
        if not isinstance(x, Tensor):
            x = Tensor(None, CHANNELS_FIRST, framework=FRAMEWORK)
        x = promote(x, rank)
        cfg = _pool_config(interp, op, dict(p, padding=0), site, rank, "avg")
        return pool_on(interp, op, layer, site, node, x, cfg, p["ceil_mode"], rank, layer.name if layer else None)

    if functional:
        def fn(interp, args, kwargs, node):
            p = sig.bind(args, kwargs)
            return apply_(interp, p, interp.site(node), node, p["input"], None)

        return fn

    def build(interp, args, kwargs, node):
        p = sig.bind(args, kwargs)
        return Layer(op, p, interp.site(node), FRAMEWORK, lambda i, l, a, k, n: apply_(i, l.params, l.site, n, tensor_arg(a, k), l), extra={"rank": rank})

    return build


# ---------------------------------------------------------------------------------------- adaptive pooling

def make_adaptive(op, rank, functional, indices=None):
    """Adaptive pools; ``indices`` True: always a pair (``adaptive_max_pool2d_with_indices``,
    ``torch.adaptive_max_pool1d``), None: as ``return_indices`` says."""
    is_max = "max" in op.rsplit(".", 1)[-1].lower()
    extra = (("return_indices", False),) if is_max else ()
    sig = Signature.of("input", "output_size", *extra) if functional else Signature.of("output_size", *extra)

    def apply_(interp, x, p, site, node, layer):
        out = _adaptive(interp, x, p["output_size"], site, node, layer)
        if indices or (indices is None and p.get("return_indices") is True):
            return _with_indices(out)
        return out

    def _adaptive(interp, x, out_size, site, node, layer):
        if not isinstance(x, Tensor):
            x = Tensor(None, CHANNELS_FIRST, framework=FRAMEWORK)
        x = promote(x, rank)
        sizes = (out_size,) * rank if is_int(out_size) or out_size is None else tuple(out_size) if isinstance(out_size, (tuple, list)) else None
        if sizes is not None and len(sizes) != rank:
            sizes = None
        if rank == 1 and sizes is not None and None in sizes:
            reject(interp, site, op, "a 1-d adaptive pool needs an output size (None keeps a size only in 2-d and 3-d)", "output_size is an int", "output_size")
            sizes = (Unknown("output_size"),)
        if x.shape is None or (not x.exact_rank and len(x.shape) < rank):
            if sizes is not None and all(is_size(s) for s in sizes):
                # the spatial sizes are the layer's own: kept even when the input's shape is not known
                out = C.record(interp, op=op, layer=layer, site=site, call_node=node, x=x, out_shape=tuple(sizes))
                out.exact_rank = False
                return C.repair(out)
            return C.record(interp, op=op, layer=layer, site=site, call_node=node, x=x, out_shape=None)
        n = len(x.shape)
        label = (layer.name if layer is not None else None) or op.rsplit(".", 1)[-1]
        if rank_check(interp, site, label, x, (rank + 1, rank + 2)):
            return C.record(interp, op=op, layer=layer, site=site, call_node=node, x=x, out_shape=None)
        if sizes is None:
            return C.record(interp, op=op, layer=layer, site=site, call_node=node, x=x, out_shape=tuple(x.shape[: n - rank]) + tuple(Unknown("adaptive") for _ in range(rank)))
        spatial = tuple(x.shape[n - rank + j] if s is None else (s if is_size(s) else Unknown("adaptive")) for j, s in enumerate(sizes))
        out = C.record(interp, op=op, layer=layer, site=site, call_node=node, x=x, out_shape=tuple(x.shape[: n - rank]) + spatial)
        return C.repair(out)

    if functional:
        def fn(interp, args, kwargs, node):
            p = sig.bind(args, kwargs)
            return apply_(interp, p["input"], p, interp.site(node), node, None)

        return fn

    def build(interp, args, kwargs, node):
        p = sig.bind(args, kwargs)
        return Layer(op, p, interp.site(node), FRAMEWORK, lambda i, l, a, k, n: apply_(i, tensor_arg(a, k), l.params, l.site, n, l), extra={"rank": rank})

    return build


# ---------------------------------------------------------------------------------------- fractional max pooling

def make_fractional(op, rank, functional, indices=None):
    """``nn.FractionalMaxPool{2,3}d`` / ``F.fractional_max_pool*``: the output size is given, or
    ``int(input * output_ratio)``; torch needs ``output + kernel − 1 ≤ input``."""
    sig = Signature.of(*(("input",) if functional else ()), "kernel_size", ("output_size", None), ("output_ratio", None), ("return_indices", False), ("_random_samples", None))

    def apply_(interp, x, p, site, node, layer):
        out = _fractional(interp, x, p, site, node, layer)
        if indices or (indices is None and p.get("return_indices") is True):
            return _with_indices(out)
        return out

    def _fractional(interp, x, p, site, node, layer):
        if not isinstance(x, Tensor):
            x = Tensor(None, CHANNELS_FIRST, framework=FRAMEWORK)
        label = (layer.name if layer is not None else None) or op.rsplit(".", 1)[-1]
        size, ratio, kernel = p["output_size"], p["output_ratio"], p["kernel_size"]
        if x.shape is None or len(x.shape) < rank:
            return C.record(interp, op=op, layer=layer, site=site, call_node=node, x=x, out_shape=None)
        if rank_check(interp, site, label, x, (rank + 1, rank + 2)):
            return C.record(interp, op=op, layer=layer, site=site, call_node=node, x=x, out_shape=None)
        n = len(x.shape)
        spatial_in = x.shape[n - rank:]
        ks = (kernel,) * rank if is_int(kernel) else tuple(kernel) if isinstance(kernel, (tuple, list)) else None
        out = None
        if size is not None and is_int(size) or isinstance(size, (tuple, list)):
            out = (size,) * rank if is_int(size) else tuple(size)
        elif ratio is not None and isinstance(ratio, (int, float, tuple, list)) and not isinstance(ratio, bool):
            rs = (ratio,) * rank if isinstance(ratio, (int, float)) else tuple(ratio)
            if len(rs) == rank and all(isinstance(r, (int, float)) and not isinstance(r, bool) for r in rs):
                if any(not 0 < r < 1 for r in rs):
                    reject(interp, site, op, f"output_ratio={ratio!r} must be between 0 and 1", "0 < output_ratio < 1", "output_ratio")
                out = tuple(int(i * r) if is_int(i) else Unknown("fractional size") for i, r in zip(spatial_in, rs))
        if out is None or len(out) != rank:
            return C.record(interp, op=op, layer=layer, site=site, call_node=node, x=x, out_shape=tuple(x.shape[: n - rank]) + tuple(Unknown("fractional") for _ in range(rank)))
        out = tuple(o if is_size(o) else Unknown("fractional size") for o in out)
        if ks is not None and len(ks) == rank:
            for o, k, i in zip(out, ks, spatial_in):
                if is_int(o) and is_int(k) and is_int(i) and o + k - 1 > i:
                    reject(interp, site, op, f"output size {o} with kernel {k} needs an input of at least {o + k - 1}, but gets {i}",
                           "output_size + kernel_size - 1 <= input size", "kernel_size")
                    break
        res = C.record(interp, op=op, layer=layer, site=site, call_node=node, x=x, out_shape=tuple(x.shape[: n - rank]) + out, axes=list(range(n - rank, n)))
        return C.repair(res)

    if functional:
        def fn(interp, args, kwargs, node):
            p = sig.bind(args, kwargs)
            return apply_(interp, p["input"], p, interp.site(node), node, None)

        return fn

    def build(interp, args, kwargs, node):
        p = sig.bind(args, kwargs)
        return Layer(op, p, interp.site(node), FRAMEWORK, lambda i, l, a, k, n: apply_(i, tensor_arg(a, k), l.params, l.site, n, l), extra={"rank": rank})

    return build


# ---------------------------------------------------------------------------------------- max unpooling

def make_unpool(op, rank, functional):
    """``nn.MaxUnpool{1,2,3}d`` / ``F.max_unpool*``: the size a max pool came from — the transposed
    window ``(i − 1)·s − 2p + k`` — or ``output_size``."""
    if functional:
        sig = Signature.of("input", "indices", "kernel_size", ("stride", None), ("padding", 0), ("output_size", None))
    else:
        sig = Signature.of("kernel_size", ("stride", None), ("padding", 0))

    def apply_(interp, x, p, output_size, site, node, layer):
        if not isinstance(x, Tensor):
            x = Tensor(None, CHANNELS_FIRST, framework=FRAMEWORK)
        if x.shape is None or len(x.shape) < rank:
            return C.record(interp, op=op, layer=layer, site=site, call_node=node, x=x, out_shape=None)
        n = len(x.shape)
        axes = list(range(n - rank, n))
        if output_size is not None:
            want = tuple(output_size)[-rank:] if isinstance(output_size, (tuple, list)) else None
            spatial = tuple(s if is_size(s) else Unknown("output_size") for s in want) if want is not None and len(want) == rank else tuple(Unknown("output_size") for _ in axes)
            return C.repair(C.record(interp, op=op, layer=layer, site=site, call_node=node, x=x, out_shape=tuple(x.shape[: n - rank]) + spatial))
        conv = None
        if known(p["kernel_size"], p["stride"], p["padding"]):
            stride = p["stride"] if p["stride"] is not None else p["kernel_size"]
            try:
                conv = torch_conv_transpose(p["kernel_size"], stride, p["padding"], 0, 1, rank=rank)
            except ConvArithmeticError as e:
                rejected(interp, site, op, e)
        if conv is None:
            return C.record(interp, op=op, layer=layer, site=site, call_node=node, x=x, out_shape=tuple(x.shape[: n - rank]) + tuple(Unknown("unpool") for _ in axes))
        spatial = tuple(window_out(w, x.shape[a]) for w, a in zip(conv.windows, axes))
        return C.record(interp, op=op, layer=layer, site=site, call_node=node, x=x, out_shape=tuple(x.shape[: n - rank]) + clamped(spatial),
                        kind="up" if any(s > 1 for s in conv.stride) else None, axes=axes, adjoint=("resample", (), layer))

    if functional:
        def fn(interp, args, kwargs, node):
            p = sig.bind(args, kwargs)
            return apply_(interp, p["input"], p, p["output_size"], interp.site(node), node, None)

        return fn

    def build(interp, args, kwargs, node):
        p = sig.bind(args, kwargs)

        def call(i, l, a, k, n):
            q = Signature.of("input", "indices", ("output_size", None)).bind(a, k)
            return apply_(i, q["input"], l.params, q["output_size"], l.site, n, l)

        return Layer(op, p, interp.site(node), FRAMEWORK, call, extra={"rank": rank})

    return build


def register():
    F = "torch.nn.functional"
    for r in (1, 2, 3):
        for kind, cls in (("max", "MaxPool"), ("avg", "AvgPool")):
            reg(f"torch.nn.{cls}{r}d", make_pool_layer(f"torch.nn.{cls}{r}d", r, kind), "layer", MAX_SIG if kind == "max" else AVG_SIG, family="pool")
            reg(f"{F}.{kind}_pool{r}d", make_fpool(f"{F}.{kind}_pool{r}d", r, kind), family="pool")
            reg(f"{F}.adaptive_{kind}_pool{r}d", make_adaptive(f"{F}.adaptive_{kind}_pool{r}d", r, True), family="pool")
            reg(f"torch.nn.Adaptive{cls}{r}d", make_adaptive(f"torch.nn.Adaptive{cls}{r}d", r, False), "layer", family="pool")
        reg(f"{F}.max_pool{r}d_with_indices", make_fpool(f"{F}.max_pool{r}d_with_indices", r, "max", indices=True), family="pool")
        reg(f"{F}.adaptive_max_pool{r}d_with_indices", make_adaptive(f"{F}.adaptive_max_pool{r}d_with_indices", r, True, indices=True), family="pool")
        reg(f"torch.nn.LPPool{r}d", make_lp_pool(f"torch.nn.LPPool{r}d", r, False), "layer", family="pool")
        reg(f"{F}.lp_pool{r}d", make_lp_pool(f"{F}.lp_pool{r}d", r, True), family="pool")
        reg(f"torch.nn.MaxUnpool{r}d", make_unpool(f"torch.nn.MaxUnpool{r}d", r, False), "layer", family="resize")
        reg(f"{F}.max_unpool{r}d", make_unpool(f"{F}.max_unpool{r}d", r, True), family="resize")
    for r in (2, 3):
        reg(f"torch.nn.FractionalMaxPool{r}d", make_fractional(f"torch.nn.FractionalMaxPool{r}d", r, False), "layer", family="pool")
        reg(f"{F}.fractional_max_pool{r}d", make_fractional(f"{F}.fractional_max_pool{r}d", r, True), family="pool")
        reg(f"{F}.fractional_max_pool{r}d_with_indices", make_fractional(f"{F}.fractional_max_pool{r}d_with_indices", r, True, indices=True), family="pool")
    # the torch namespace's own pools (``torch.max_pool2d`` and ``torch.avg_pool1d`` resolve to F.*)
    reg("torch.adaptive_avg_pool1d", make_adaptive("torch.adaptive_avg_pool1d", 1, True), family="pool")
    reg("torch.adaptive_max_pool1d", make_adaptive("torch.adaptive_max_pool1d", 1, True, indices=True), family="pool")
    for name, why in (
        ("quantized_max_pool1d", "quantized tensors"), ("quantized_max_pool2d", "quantized tensors"), ("quantized_max_pool3d", "quantized tensors"),
        ("mkldnn_max_pool2d", "a oneDNN backend kernel on mkldnn tensors"), ("mkldnn_max_pool3d", "a oneDNN backend kernel on mkldnn tensors"),
        ("mkldnn_adaptive_avg_pool2d", "a oneDNN backend kernel on mkldnn tensors"),
    ):
        unmodelled(f"torch.{name}", why, "tensor")
