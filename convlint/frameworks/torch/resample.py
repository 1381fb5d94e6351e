"""Resampling: ``nn.Upsample`` / ``F.interpolate`` in every mode, pixel (un)shuffle, channel
shuffle, ``nn.Unfold``/``nn.Fold`` (im2col), ``F.grid_sample`` and ``F.affine_grid``."""

from __future__ import annotations

import math

from convlint.arith.core import Window
from convlint.frameworks import shapes as C
from convlint.frameworks.base import Layer, Signature, is_int
from convlint.frameworks.torch.common import (
    FRAMEWORK, axis, channel_check, mul, new_tensor, rank_check, reg, reject, tensor_arg, unknown_dims, unmodelled,
)
from convlint.interpret.events import SizeEvent
from convlint.interpret.symbolic import Sym, is_size
from convlint.interpret.tensor import CHANNELS_FIRST, Tensor
from convlint.interpret.values import Unknown

# the ranks each interpolation mode accepts (torch raises NotImplementedError / ValueError otherwise)
MODE_RANKS = {
    "nearest": (3, 4, 5), "nearest-exact": (3, 4, 5), "area": (3, 4, 5), "linear": (3,), "bilinear": (4,),
    "bicubic": (4,), "trilinear": (5,), "lanczos": (4,),
}
INTERPOLATING = ("linear", "bilinear", "bicubic", "trilinear", "lanczos")


def scaled(i, f):
    """torch's ``floor(size * scale_factor)`` (in double precision, as the kernels compute it)."""
    if is_int(i) and isinstance(f, (int, float)) and not isinstance(f, bool):
        return int(math.floor(float(i) * float(f)))
    if isinstance(i, Sym) and is_int(f):
        return i * f
    if isinstance(i, Sym) and isinstance(f, float) and f.is_integer():
        return i * int(f)
    return Unknown("scaled size")


def _is_number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _fixed_rank(mode, size, scale) -> int | None:
    """The input rank a resampling's arguments fix: a mode of one rank (``bilinear``: 4), or one
    size or scale per spatial dim; None when they fit several."""
    accepted = MODE_RANKS.get(mode) if isinstance(mode, str) else None
    if accepted and len(accepted) == 1:
        return accepted[0]
    for v in (size, scale):
        if isinstance(v, (tuple, list)):
            return len(v) + 2
    return None


def _resample_unknown_rank(interp, op, layer, site, node, x, size, given_size, label):
    """A resampling of a tensor of unknown rank: explicit sizes are kept, the rank stays unknown."""
    sizes = (size,) if is_size(size) else tuple(size) if isinstance(size, (tuple, list)) else None
    if given_size and sizes is not None and all(is_size(s) for s in sizes) and not isinstance(size, int):
        out = C.record(interp, op=op, layer=layer, site=site, call_node=node, x=x, out_shape=sizes, label=label)
        out.exact_rank = False  # the spatial sizes are given: kept even though the input's rank is not known
        return C.repair(out)
    return C.record(interp, op=op, layer=layer, site=site, call_node=node, x=x, out_shape=None, label=label)


def resample(interp, op, layer, site, node, x, size, scale, *, mode="nearest", align_corners=None, recompute=None, antialias=False, label=None):
    """``F.interpolate`` and the layers built on it."""
    if not isinstance(x, Tensor):
        x = Tensor(None, CHANNELS_FIRST, framework=FRAMEWORK)
    name = label or op.rsplit(".", 1)[-1]
    given_size = size is not None and not isinstance(size, Unknown)
    given_scale = scale is not None and not isinstance(scale, Unknown)
    if given_size and given_scale:
        reject(interp, site, op, "give either size or scale_factor, not both", "size or scale_factor", "size")
    elif size is None and scale is None:
        reject(interp, site, op, "either size or scale_factor should be defined", "size or scale_factor", "size")
    if isinstance(mode, str):
        if mode not in MODE_RANKS:
            reject(interp, site, op, f"mode={mode!r} is not one of {', '.join(MODE_RANKS)}", "a known interpolation mode", "mode")
        elif align_corners is not None and not isinstance(align_corners, Unknown) and mode not in INTERPOLATING:
            reject(interp, site, op, f"align_corners can only be set with the interpolating modes (not mode={mode!r})",
                   "align_corners only with linear, bilinear, bicubic, trilinear", "align_corners")
        if recompute is True and given_size:
            reject(interp, site, op, "recompute_scale_factor is not meaningful with an explicit size", "recompute_scale_factor with scale_factor only", "recompute_scale_factor")
        if antialias is True and (mode not in ("bilinear", "bicubic", "lanczos") or (x.shape is not None and x.exact_rank and len(x.shape) != 4)):
            reject(interp, site, op, "antialias is restricted to bilinear, bicubic and lanczos modes on a 4-d input", "antialias with a 4-d bilinear/bicubic input", "antialias")
    if x.shape is not None and not x.exact_rank:
        # the rank is a lower bound: the mode or a per-dim size fixes it; else only the dims past the
        # first two known ones are certainly spatial
        full = _fixed_rank(mode, size if given_size else None, scale if given_scale else None)
        if full is not None and len(x.shape) <= full:
            x = x.derive(unknown_dims(full - len(x.shape), "leading dim") + tuple(x.shape))
            x.exact_rank = True
        else:
            return _resample_inexact(interp, op, layer, site, node, x, size if given_size else None, scale if given_scale else None, mode, label)
    if x.shape is None and x.entry:
        # a model input of unknown rank: a mode of one rank (``bilinear``) or one size or scale
        # per spatial dim fixes it, as a conv would
        full = _fixed_rank(mode, size if given_size else None, scale if given_scale else None)
        if full is not None:
            x = C.promote_entry(x, full - 2)
    if x.shape is None:
        root = x.input_root()  # the output has the rank of a model input of unknown rank
        out = _resample_unknown_rank(interp, op, layer, site, node, x, size, given_size, label)
        if root is not None and out.shape is None:
            out.rank_of = root
        return out
    n = len(x.shape)
    accepted = MODE_RANKS.get(mode, (3, 4, 5)) if isinstance(mode, str) else (3, 4, 5)
    if rank_check(interp, site, name, x, accepted, what=f"mode={mode!r}" if isinstance(mode, str) and len(accepted) == 1 else ""):
        return C.record(interp, op=op, layer=layer, site=site, call_node=node, x=x, out_shape=None, label=label)
    rank = n - 2
    if rank < 1:
        return C.record(interp, op=op, layer=layer, site=site, call_node=node, x=x, out_shape=None, label=label)
    axes = list(range(2, n))
    shape = list(x.shape)
    if given_size:
        sizes = (size,) * rank if is_size(size) else tuple(size) if isinstance(size, (tuple, list)) else None
        if sizes is not None and len(sizes) != rank and x.exact_rank:
            reject(interp, site, op, f"size={size!r} has {len(sizes)} values for an input with {rank} spatial dimensions", "one size per spatial dimension", "size")
            sizes = None
        for j, a in enumerate(axes):
            shape[a] = sizes[j] if sizes is not None and len(sizes) == rank and is_size(sizes[j]) else Unknown("resize target")
            if is_int(shape[a]) and shape[a] < 1 and mode != "area":
                reject(interp, site, op, f"size={size!r} asks for an empty output", "output size ≥ 1", "size")
        return C.repair(C.record(interp, op=op, layer=layer, site=site, call_node=node, x=x, out_shape=tuple(shape), label=label))
    if not given_scale or isinstance(size, Unknown):
        for a in axes:
            shape[a] = Unknown("resize factor")
        return C.repair(C.record(interp, op=op, layer=layer, site=site, call_node=node, x=x, out_shape=tuple(shape), label=label))
    scales = (scale,) * rank if _is_number(scale) else tuple(scale) if isinstance(scale, (tuple, list)) else None
    if scales is None or len(scales) != rank:
        if scales is not None and x.exact_rank:
            reject(interp, site, op, f"scale_factor={scale!r} has {len(scales)} values for an input with {rank} spatial dimensions", "one scale factor per spatial dimension", "scale_factor")
        for a in axes:
            shape[a] = Unknown("resize factor")
        return C.record(interp, op=op, layer=layer, site=site, call_node=node, x=x, out_shape=tuple(shape), label=label)
    for a, f in zip(axes, scales):
        shape[a] = scaled(shape[a], f)
        if is_int(shape[a]) and shape[a] < 1 and mode != "area":  # area pools to an empty output; the others raise
            reject(interp, site, op, f"scale_factor={f!r} gives an output size of {shape[a]} for an input size of {x.shape[a]}",
                   "output size ≥ 1", "scale_factor")
            shape[a] = Unknown("empty output")
    kind = None
    if all(_is_number(f) for f in scales):
        if any(f > 1 for f in scales):
            kind = "up"
        elif any(f < 1 for f in scales):
            kind = "down"
    return C.record(interp, op=op, layer=layer, site=site, call_node=node, x=x, out_shape=tuple(shape), kind=kind, axes=axes, label=label, adjoint=("resample", (), layer),
                    params={"scale_factor": scale})


def _resample_inexact(interp, op, layer, site, node, x, size, scale, mode, label):
    """An input whose rank is a lower bound and a scalar size or factor: the known dims past the
    first two are spatial (the real tensor has at least as many dims before them)."""
    shape = []
    for j, d in enumerate(x.shape):
        if j < 2:
            shape.append(Unknown("may be spatial"))
        elif size is not None:
            shape.append(size if is_size(size) else Unknown("resize target"))
        elif _is_number(scale):
            v = scaled(d, scale)
            shape.append(v if not (is_int(v) and v < 1) else Unknown("empty output"))
        else:
            shape.append(Unknown("resize factor"))
    out = C.record(interp, op=op, layer=layer, site=site, call_node=node, x=x, out_shape=tuple(shape), label=label)
    out.exact_rank = False
    return C.repair(out) if size is not None else out


UPSAMPLE_SIG = Signature.of(("size", None), ("scale_factor", None), ("mode", "nearest"), ("align_corners", None), ("recompute_scale_factor", None))
INTERP_SIG = Signature.of("input", ("size", None), ("scale_factor", None), ("mode", "nearest"), ("align_corners", None), ("recompute_scale_factor", None), ("antialias", False))


def _upsample_scale(v):
    """``nn.Upsample`` keeps ``float(scale_factor)`` (a falsy factor becomes None)."""
    if _is_number(v):
        return float(v) if v else None
    if isinstance(v, (tuple, list)) and all(_is_number(f) for f in v):
        return tuple(float(f) for f in v)
    return v


def _upsample_build(op, mode=None, align_corners=None):
    sig = UPSAMPLE_SIG if mode is None else Signature.of(("size", None), ("scale_factor", None))

    def build(interp, args, kwargs, node):
        p = sig.bind(args, kwargs)
        if mode is not None:
            p["mode"], p["align_corners"], p["recompute_scale_factor"] = mode, align_corners, None
        p["scale_factor"] = _upsample_scale(p["scale_factor"])
        return Layer(op, p, interp.site(node), FRAMEWORK, _upsample_apply)

    return build


def _upsample_apply(interp, layer, args, kwargs, node):
    p = layer.params
    return resample(interp, layer.op, layer, layer.site, node, tensor_arg(args, kwargs), p["size"], p["scale_factor"], mode=p["mode"],
                    align_corners=p["align_corners"], recompute=p["recompute_scale_factor"], label=layer.name)


def _interpolate(op, mode=None, align_corners=None):
    sig = INTERP_SIG if mode is None else Signature.of("input", ("size", None), ("scale_factor", None))

    def fn(interp, args, kwargs, node):
        p = sig.bind(args, kwargs)
        m = p["mode"] if mode is None else mode
        ac = p["align_corners"] if mode is None else align_corners
        return resample(interp, op, None, interp.site(node), node, p["input"], p["size"], p["scale_factor"], mode=m, align_corners=ac,
                        recompute=p.get("recompute_scale_factor"), antialias=p.get("antialias", False))

    return fn


# ---------------------------------------------------------------------------------------- pixel and channel shuffles

def pixel_shuffle(interp, op, layer, site, node, x, r, inverse):
    """``(*, C·r², H, W) → (*, C, H·r, W·r)``, or the inverse."""
    if not isinstance(x, Tensor):
        x = Tensor(None, CHANNELS_FIRST, framework=FRAMEWORK)
    if x.shape is None or len(x.shape) < 3 or not is_int(r):
        if x.shape is not None and x.exact_rank and len(x.shape) < 3:
            rank_check(interp, site, op.rsplit(".", 1)[-1], x, (3, 4, 5), what="at least 3 dims (C, H, W)")
        return C.record(interp, op=op, layer=layer, site=site, call_node=node, x=x, out_shape=None if x.shape is None else tuple(Unknown("shuffle") for _ in x.shape))
    n = len(x.shape)
    c, h, w = x.shape[n - 3 :]
    if inverse:
        for d in (h, w):
            if is_int(d) and r > 0 and d % r:
                reject(interp, site, op, f"pixel_unshuffle needs spatial sizes divisible by downscale_factor={r}, but gets {h}×{w}",
                       "H and W divisible by downscale_factor", "downscale_factor")
                break
        for d in (h, w):
            if isinstance(d, Sym) and r > 1:
                label = layer.name if layer is not None and getattr(layer, "name", None) else op.rsplit(".", 1)[-1]
                interp.trace.record(SizeEvent(site, f"{label} (downscale_factor {r})", d, r))
        new = (mul(c, r * r), h // r if is_size(h) else h, w // r if is_size(w) else w)
    else:
        if is_int(c) and r > 0 and c % (r * r):
            reject(interp, site, op, f"pixel_shuffle needs channels divisible by upscale_factor²={r * r}, but gets {c}",
                   "channels divisible by upscale_factor²", "upscale_factor")
        new = (c // (r * r) if is_size(c) else c, mul(h, r), mul(w, r))
    new = tuple(d if is_size(d) else Unknown("shuffle") for d in new)
    return C.record(interp, op=op, layer=layer, site=site, call_node=node, x=x, out_shape=tuple(x.shape[: n - 3]) + new,
                    kind="down" if inverse else "up", axes=[n - 2, n - 1], adjoint=("resample", (), layer))


def _pixel_build(op, inverse):
    name = "downscale_factor" if inverse else "upscale_factor"

    def build(interp, args, kwargs, node):
        p = Signature.of(name).bind(args, kwargs)
        return Layer(op, p, interp.site(node), FRAMEWORK, lambda i, l, a, k, n: pixel_shuffle(i, op, l, l.site, n, tensor_arg(a, k), l.params[name], inverse))

    return build


def _pixel_fn(op, inverse):
    sig = Signature.of("input", "downscale_factor" if inverse else "upscale_factor")

    def fn(interp, args, kwargs, node):
        p = sig.bind(args, kwargs)
        return pixel_shuffle(interp, op, None, interp.site(node), node, p["input"], p["downscale_factor" if inverse else "upscale_factor"], inverse)

    return fn


def channel_shuffle(interp, op, site, x, groups):
    """The shape is kept; torch needs channels (dim 1) divisible by ``groups``."""
    if not isinstance(x, Tensor):
        return x if isinstance(x, Unknown) else Tensor(None, CHANNELS_FIRST, framework=FRAMEWORK)
    a = axis(x, 1)
    if a is not None and is_int(groups) and groups > 0 and is_int(x.shape[a]) and x.shape[a] % groups:
        reject(interp, site, op, f"channel_shuffle needs channels divisible by groups={groups}, but gets {x.shape[a]}", "channels divisible by groups", "groups")
    return x


def _channel_shuffle_build(interp, args, kwargs, node):
    p = Signature.of("groups").bind(args, kwargs)
    return Layer("torch.nn.ChannelShuffle", p, interp.site(node), FRAMEWORK, lambda i, l, a, k, n: channel_shuffle(i, l.op, l.site, tensor_arg(a, k), l.params["groups"]))


def _channel_shuffle_fn(op):
    sig = Signature.of("input", "groups")

    def fn(interp, args, kwargs, node):
        p = sig.bind(args, kwargs)
        return channel_shuffle(interp, op, interp.site(node), p["input"], p["groups"])

    return fn


# ---------------------------------------------------------------------------------------- unfold / fold (im2col)

def _pair(v, what):
    if is_int(v):
        return (v, v)
    if isinstance(v, (tuple, list)) and len(v) == 2 and all(is_int(x) for x in v):
        return tuple(v)
    if isinstance(v, (tuple, list)) and len(v) == 1 and is_int(v[0]):
        return (v[0], v[0])
    return None


def _blocks(windows, sizes):
    """The number of sliding blocks: the product of the windows' output sizes."""
    outs = tuple(w.output_size(s) if is_size(s) else Unknown("blocks") for w, s in zip(windows, sizes))
    total = 1
    for o in outs:
        total = mul(total, o)
    return outs, total


def _windows(p):
    k, d, pad, s = (_pair(p[n], n) for n in ("kernel_size", "dilation", "padding", "stride"))
    if None in (k, d, pad, s):
        return None
    return tuple(Window(kk, ss, dd, 1, pp, pp) for kk, ss, dd, pp in zip(k, s, d, pad))


def unfold(interp, op, layer, site, node, x, p):
    """``(N, C, H, W) → (N, C·kh·kw, L)``, L the number of sliding blocks."""
    if not isinstance(x, Tensor):
        x = Tensor(None, CHANNELS_FIRST, framework=FRAMEWORK)
    label = (layer.name if layer is not None else None) or op.rsplit(".", 1)[-1]
    if x.shape is None or (not x.exact_rank and len(x.shape) < 3):
        out = C.record(interp, op=op, layer=layer, site=site, call_node=node, x=x, out_shape=None)
        return out
    if rank_check(interp, site, label, x, (4, 3)):
        return C.record(interp, op=op, layer=layer, site=site, call_node=node, x=x, out_shape=None)
    ws = _windows(p)
    n = len(x.shape)
    lead = tuple(x.shape[: n - 3])
    c = x.shape[n - 3]
    if ws is None:
        return C.record(interp, op=op, layer=layer, site=site, call_node=node, x=x, out_shape=lead + (Unknown("unfold"), Unknown("unfold")))
    outs, total = _blocks(ws, x.shape[n - 2 :])
    if any(is_int(o) and o < 1 for o in outs):
        reject(interp, site, op, f"the kernel does not fit the padded input {x.shape[n - 2]}×{x.shape[n - 1]}: no sliding block", "at least one sliding block", "kernel_size")
        total = Unknown("no sliding block")
    k = ws[0].kernel * ws[1].kernel
    return C.record(interp, op=op, layer=layer, site=site, call_node=node, x=x, out_shape=lead + (mul(c, k), total))


def fold(interp, op, layer, site, node, x, p):
    """``(N, C·kh·kw, L) → (N, C, *output_size)``; L must be the number of sliding blocks."""
    if not isinstance(x, Tensor):
        x = Tensor(None, CHANNELS_FIRST, framework=FRAMEWORK)
    label = (layer.name if layer is not None else None) or op.rsplit(".", 1)[-1]
    size = _pair(p["output_size"], "output_size")
    ws = _windows(p)
    if x.shape is None or (not x.exact_rank and len(x.shape) < 2):
        shape = (Unknown("channels"),) + (size if size is not None else (Unknown("fold"), Unknown("fold")))
        out = C.record(interp, op=op, layer=layer, site=site, call_node=node, x=x, out_shape=shape)
        out.exact_rank = False
        return out
    if rank_check(interp, site, label, x, (3, 2)):
        return C.record(interp, op=op, layer=layer, site=site, call_node=node, x=x, out_shape=None)
    n = len(x.shape)
    lead = tuple(x.shape[: n - 2])
    ck, blocks = x.shape[n - 2], x.shape[n - 1]
    c = Unknown("fold channels")
    if ws is not None:
        k = ws[0].kernel * ws[1].kernel
        if is_int(ck):
            if ck % k:
                reject(interp, site, op, f"expected dim {n - 2} ({ck}) to be divisible by the product of kernel_size ({k})", "channels divisible by the kernel's size", "kernel_size")
            else:
                c = ck // k
        elif isinstance(ck, Sym):
            c = ck // k
        if size is not None:
            _outs, total = _blocks(ws, size)
            if is_int(total) and total > 0:
                channel_check(interp, label, site, total, blocks, x, n - 1, what="sliding blocks")
    spatial = size if size is not None else (Unknown("output_size"), Unknown("output_size"))
    return C.record(interp, op=op, layer=layer, site=site, call_node=node, x=x, out_shape=lead + (c,) + tuple(spatial))


FOLD_SIG = Signature.of("output_size", "kernel_size", ("dilation", 1), ("padding", 0), ("stride", 1))
UNFOLD_SIG = Signature.of("kernel_size", ("dilation", 1), ("padding", 0), ("stride", 1))


def _im2col_build(op, fn, sig):
    def build(interp, args, kwargs, node):
        p = sig.bind(args, kwargs)
        return Layer(op, p, interp.site(node), FRAMEWORK, lambda i, l, a, k, n: fn(i, op, l, l.site, n, tensor_arg(a, k), l.params))

    return build


def _im2col_fn(op, fn, sig):
    full = Signature(Signature.of("input").params + sig.params)

    def f(interp, args, kwargs, node):
        p = full.bind(args, kwargs)
        return fn(interp, op, None, interp.site(node), node, p["input"], p)

    return f


# ---------------------------------------------------------------------------------------- sampling grids

def _grid_sample(interp, args, kwargs, node):
    """``(N, C, H, W)`` sampled at a grid ``(N, Ho, Wo, 2)`` gives ``(N, C, Ho, Wo)`` (5-d alike)."""
    p = Signature.of("input", "grid", ("mode", "bilinear"), ("padding_mode", "zeros"), ("align_corners", None)).bind(args, kwargs)
    x, g = p["input"], p["grid"]
    site = interp.site(node)
    xs = x.shape if isinstance(x, Tensor) and x.exact_rank else None
    gs = g.shape if isinstance(g, Tensor) and g.exact_rank else None
    n = len(xs) if xs is not None else len(gs) if gs is not None else None
    if n is None:
        return Tensor(None, CHANNELS_FIRST, framework=FRAMEWORK)
    if xs is not None and gs is not None:
        if len(xs) != len(gs) or len(xs) not in (4, 5):
            rank_check(interp, site, "grid_sample", x, (4, 5))
            return x.derive(None)
        if is_int(gs[-1]) and gs[-1] != len(xs) - 2:
            reject(interp, site, "torch.nn.functional.grid_sample", f"the grid's last dim must be {len(xs) - 2} for a {len(xs)}-d input, but is {gs[-1]}", "grid's last dim is the number of spatial dims", "grid")
    batch = xs[0] if xs is not None else gs[0]
    ch = xs[1] if xs is not None else Unknown("channels")
    spatial = tuple(gs[1:-1]) if gs is not None else tuple(Unknown("grid") for _ in range(n - 2))
    base = x if isinstance(x, Tensor) else g
    return C.repair(base.derive((batch, ch) + spatial, label="grid_sample"))


def _affine_grid(interp, args, kwargs, node):
    """``theta (N, 2, 3)`` and ``size (N, C, H, W)`` give ``(N, H, W, 2)`` (5-d: ``(N, D, H, W, 3)``)."""
    p = Signature.of("theta", "size", ("align_corners", None)).bind(args, kwargs)
    size = p["size"]
    if not isinstance(size, (tuple, list)) or len(size) not in (4, 5):
        return Tensor(None, CHANNELS_FIRST, framework=FRAMEWORK)
    dims = tuple(d if is_size(d) else Unknown("size") for d in size)
    return new_tensor((dims[0],) + dims[2:] + (len(size) - 2,))


def register():
    F = "torch.nn.functional"
    reg("torch.nn.Upsample", _upsample_build("torch.nn.Upsample"), "layer", UPSAMPLE_SIG, family="resize")
    reg("torch.nn.UpsamplingNearest2d", _upsample_build("torch.nn.UpsamplingNearest2d", "nearest"), "layer", family="resize")
    reg("torch.nn.UpsamplingBilinear2d", _upsample_build("torch.nn.UpsamplingBilinear2d", "bilinear", True), "layer", family="resize")
    reg(f"{F}.interpolate", _interpolate(f"{F}.interpolate"), family="resize")
    reg(f"{F}.upsample", _interpolate(f"{F}.upsample"), family="resize")
    reg(f"{F}.upsample_nearest", _interpolate(f"{F}.upsample_nearest", "nearest"), family="resize")
    reg(f"{F}.upsample_bilinear", _interpolate(f"{F}.upsample_bilinear", "bilinear", True), family="resize")
    reg("torch.nn.PixelShuffle", _pixel_build("torch.nn.PixelShuffle", False), "layer", family="resize")
    reg("torch.nn.PixelUnshuffle", _pixel_build("torch.nn.PixelUnshuffle", True), "layer", family="resize")
    for ns in (F, "torch"):
        reg(f"{ns}.pixel_shuffle", _pixel_fn(f"{ns}.pixel_shuffle", False), family="resize")
        reg(f"{ns}.pixel_unshuffle", _pixel_fn(f"{ns}.pixel_unshuffle", True), family="resize")
        reg(f"{ns}.channel_shuffle", _channel_shuffle_fn(f"{ns}.channel_shuffle"))
        reg(f"{ns}.native_channel_shuffle", _channel_shuffle_fn(f"{ns}.native_channel_shuffle"))
    reg("torch.nn.ChannelShuffle", _channel_shuffle_build, "layer")
    reg("torch.nn.Unfold", _im2col_build("torch.nn.Unfold", unfold, UNFOLD_SIG), "layer")
    reg("torch.nn.Fold", _im2col_build("torch.nn.Fold", fold, FOLD_SIG), "layer")
    reg(f"{F}.unfold", _im2col_fn(f"{F}.unfold", unfold, UNFOLD_SIG))
    reg(f"{F}.fold", _im2col_fn(f"{F}.fold", fold, FOLD_SIG))
    reg(f"{F}.grid_sample", _grid_sample)
    reg(f"{F}.affine_grid", _affine_grid)
    for name in ("grid_sampler", "grid_sampler_2d", "grid_sampler_3d", "cudnn_grid_sampler"):
        reg(f"torch.{name}", _grid_sample)
    for name in ("affine_grid_generator", "cudnn_affine_grid_generator"):
        unmodelled(f"torch.{name}", "the kernel behind F.affine_grid (sizes as separate arguments)", "tensor")
