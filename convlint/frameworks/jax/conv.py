"""``jax.lax`` convolutions with dimension numbers, and ``lax.reduce_window`` (pooling). jax
returns zero-size dimensions where torch raises; the raw sizes go on the LayerEvent, where CVL002
reports them as empty output."""

from __future__ import annotations

from convlint.arith.core import ConvArithmeticError
from convlint.arith.lax import dimension_numbers, lax_conv_general_dilated, lax_conv_transpose, lax_reduce_window
from convlint.frameworks import shapes as C
from convlint.frameworks.base import Signature, as_tuple, is_int, known, window_out
from convlint.interpret.events import ChannelEvent, ConfigEvent
from convlint.interpret.symbolic import Sym
from convlint.interpret.tensor import Tensor
from convlint.interpret.values import Unknown


class DimNumbers:
    """The value of ``lax.conv_dimension_numbers(...)``: layouts kept for later resolution."""

    def __init__(self, spec):
        self.spec = spec


def _dn_value(dn):
    if isinstance(dn, DimNumbers):
        return dn.spec
    return dn


def lax_conv_op(op, transpose):
    if transpose:
        sig = Signature.of("lhs", "rhs", "strides", "padding", ("rhs_dilation", None), ("dimension_numbers", None), ("transpose_kernel", False), ("precision", None), ("preferred_element_type", None), ("use_consistent_padding", False))
    elif op.endswith("conv_general_dilated"):
        sig = Signature.of("lhs", "rhs", "window_strides", "padding", ("lhs_dilation", None), ("rhs_dilation", None), ("dimension_numbers", None), ("feature_group_count", 1), ("batch_group_count", 1), ("precision", None), ("preferred_element_type", None))
    elif op.endswith("conv_with_general_padding"):
        sig = Signature.of("lhs", "rhs", "window_strides", "padding", "lhs_dilation", "rhs_dilation", ("precision", None), ("preferred_element_type", None))
    else:
        sig = Signature.of("lhs", "rhs", "window_strides", "padding", ("precision", None), ("preferred_element_type", None))

    def fn(interp, args, kwargs, node):
        p = sig.bind(args, kwargs)
        lhs, rhs = p["lhs"], p["rhs"]
        site = interp.site(node)
        name = op.rsplit(".", 1)[-1]
        if isinstance(rhs, Tensor) and rhs.shape is not None and (not isinstance(lhs, Tensor) or lhs.shape is None or not lhs.exact_rank):
            # the input's shape is not known: the output still has the kernel's rank and features
            return C.record(interp, op=op, layer=None, site=site, call_node=node, x=lhs if isinstance(lhs, Tensor) else Tensor(None),
                            out_shape=_features_only(rhs, p, transpose))
        if not isinstance(lhs, Tensor) or lhs.shape is None or not isinstance(rhs, Tensor) or rhs.shape is None:
            return C.record(interp, op=op, layer=None, site=site, call_node=node, x=lhs if isinstance(lhs, Tensor) else Tensor(None), out_shape=None)
        rank = len(lhs.shape)
        dn_spec = _dn_value(p.get("dimension_numbers"))
        if dn_spec is None and transpose:
            dn_spec = {3: ("NHC", "HIO", "NHC"), 4: ("NHWC", "HWIO", "NHWC"), 5: ("NHWDC", "HWDIO", "NHWDC")}.get(rank)
        if not known(dn_spec) or len(rhs.shape) != rank:
            return C.record(interp, op=op, layer=None, site=site, call_node=node, x=lhs, out_shape=tuple(Unknown("lax conv") for _ in lhs.shape))
        try:
            dn = dimension_numbers(rank, as_tuple(dn_spec))
        except ConvArithmeticError as e:
            interp.trace.record(ConfigEvent(site, name, e))
            return C.record(interp, op=op, layer=None, site=site, call_node=node, x=lhs, out_shape=None)
        lhs_sp = tuple(lhs.shape[i] for i in dn.lhs_spec[2:])
        rhs_sp = tuple(rhs.shape[i] for i in dn.rhs_spec[2:])
        lhs_feat = lhs.shape[dn.lhs_spec[1]]
        rhs_in = rhs.shape[dn.rhs_spec[1]]
        rhs_out = rhs.shape[dn.rhs_spec[0]]
        groups = p.get("feature_group_count", 1)
        if transpose and p.get("transpose_kernel") is True:
            rhs_in, rhs_out = rhs_out, rhs_in
        if is_int(lhs_feat) and is_int(rhs_in) and is_int(groups) and groups >= 1:
            interp.trace.record(ChannelEvent(site, name, rhs_in * groups, lhs_feat, lhs.shape, dn.lhs_spec[1], C.last_layer(lhs), "input features (lhs)", groups=groups if groups != 1 else None))
        cfg = {k: as_tuple(p[k]) for k in p if k not in ("lhs", "rhs", "precision", "preferred_element_type", "dimension_numbers")}
        raw = None
        if not known(*cfg.values()) or not all(is_int(k) for k in rhs_sp):
            spatial = tuple(Unknown("unresolved lax arguments") for _ in lhs_sp)
            windows = ()
        else:
            try:
                conc = tuple(s if is_int(s) else 1 for s in lhs_sp)
                if transpose:
                    windows = lax_conv_transpose(conc, rhs_sp, cfg["strides"], cfg["padding"], cfg.get("rhs_dilation"), use_consistent_padding=bool(cfg.get("use_consistent_padding")))
                elif "lhs_dilation" in cfg:
                    windows = lax_conv_general_dilated(conc, rhs_sp, cfg["window_strides"], cfg["padding"], cfg.get("lhs_dilation"), cfg.get("rhs_dilation"))
                else:
                    windows = lax_conv_general_dilated(conc, rhs_sp, cfg["window_strides"], cfg["padding"])
                if isinstance(cfg.get("padding"), str) and not all(is_int(s) for s in lhs_sp) and not (transpose and cfg["padding"] in ("SAME", "VALID")):
                    # SAME padding depends on the input size: only its output size is simple (a
                    # transposed conv's 'SAME'/'VALID' padding depends on the kernel and stride only)
                    windows = windows if cfg["padding"] == "VALID" else None
            except ConvArithmeticError as e:
                interp.trace.record(ConfigEvent(site, name, e))
                return C.record(interp, op=op, layer=None, site=site, call_node=node, x=lhs, out_shape=None)
            if windows is None:
                spatial = tuple(_same_size(s, st) for s, st in zip(lhs_sp, _strides(cfg, transpose, len(lhs_sp))))
                windows = ()
            else:
                raw = tuple(window_out(w, i) for w, i in zip(windows, lhs_sp))
                spatial = tuple(max(o, 0) if is_int(o) else o for o in raw)  # jax gives a zero-size array
        out_trans = (lhs.shape[dn.lhs_spec[0]], rhs_out, *spatial)
        out = [None] * rank
        for pos, val in zip(dn.out_spec, out_trans):
            out[pos] = val
        lhs_axes = list(dn.lhs_spec[2:])
        kind = None
        if windows:
            if transpose or any(w.input_dilation > 1 for w in windows):
                kind = "up"
            elif any(w.stride > 1 for w in windows):
                kind = "down"
        cfg_event = dict(cfg, rhs_shape=tuple(rhs.shape), dimension_numbers=as_tuple(dn_spec), feature_group_count=p.get("feature_group_count", 1))
        res = C.record(interp, op=op, layer=None, site=site, call_node=node, x=lhs, out_shape=tuple(out), windows=windows, params=cfg_event,
                       kind=kind, axes=lhs_axes, adjoint=(("transpose" if kind == "up" else "conv"), windows, None),
                       transposed=kind == "up", spatial_out=raw)
        return res

    return fn


def _features_only(rhs, p, transpose):
    rank = len(rhs.shape)
    spec = _dn_value(p.get("dimension_numbers"))
    if spec is None and transpose:
        spec = {3: ("NHC", "HIO", "NHC"), 4: ("NHWC", "HWIO", "NHWC"), 5: ("NHWDC", "HWDIO", "NHWDC")}.get(rank)
    if not known(spec):
        return None
    try:
        dn = dimension_numbers(rank, as_tuple(spec))
    except ConvArithmeticError:
        return None
    out = [Unknown("input of unknown shape")] * rank
    feat = rhs.shape[dn.rhs_spec[1] if transpose and p.get("transpose_kernel") is True else dn.rhs_spec[0]]
    out[dn.out_spec[1]] = feat
    return tuple(out)


def _strides(cfg, transpose, n):
    s = cfg.get("strides") if transpose else cfg.get("window_strides")
    if s is None:
        return (1,) * n
    return tuple(s)


def _same_size(i, s):
    if is_int(i):
        return -(-i // s)
    if isinstance(i, Sym):
        return (i + (s - 1)) // s
    return Unknown("size")


def _conv_dimension_numbers(interp, args, kwargs, node):
    p = Signature.of("lhs_shape", "rhs_shape", "dimension_numbers").bind(args, kwargs)
    return DimNumbers(p["dimension_numbers"])


def upsampling_fix(event, din, want):
    """Explicit padding pairs that make a ``lax`` transposed conv map ``din`` to ``want``."""
    if event.op not in ("jax.lax.conv_general_dilated", "jax.lax.conv_transpose") or event.call_site is None:
        return None
    pad = event.params.get("padding")
    if isinstance(pad, str) or (event.op == "jax.lax.conv_transpose" and event.params.get("use_consistent_padding")):
        return None
    return C.pairs_fix(event.call_site.node, event.windows, din, want, [], 3, event.op)  # lax: a list of pairs


# ---------------------------------------------------------------------------------- reduce_window

REDUCE_WINDOW_SIG = Signature.of("operand", "init_value", "computation", "window_dimensions", ("window_strides", None), ("padding", "VALID"),
                                 ("base_dilation", None), ("window_dilation", None))


def reduce_window(interp, args, kwargs, node):
    """``lax.reduce_window``: a pooling (family ``pool``) whose windows come from the arithmetic
    core; the axes whose window, stride and dilation are all 1 are untouched."""
    op = "jax.lax.reduce_window"
    p = REDUCE_WINDOW_SIG.bind(args, kwargs)
    x = p["operand"]
    site = interp.site(node)
    if not isinstance(x, Tensor):
        return Unknown("reduce_window of a non-array (or a tree of arrays)")
    dims = as_tuple(p["window_dimensions"])
    cfg = {k: as_tuple(p[k]) for k in ("window_strides", "padding", "base_dilation", "window_dilation")}
    if x.shape is None or not x.exact_rank:
        n = len(dims) if isinstance(dims, tuple) else None
        return C.record(interp, op=op, layer=None, site=site, call_node=node, x=x,
                        out_shape=None if n is None else tuple(Unknown("reduce_window of an input of unknown shape") for _ in range(n)))
    rank = len(x.shape)
    if not known(dims, *cfg.values()) or not isinstance(dims, tuple):
        return C.record(interp, op=op, layer=None, site=site, call_node=node, x=x, out_shape=tuple(Unknown("unresolved reduce_window arguments") for _ in x.shape))
    sizes = tuple(x.shape)
    conc = tuple(d if is_int(d) else 1 for d in sizes)
    try:
        windows = lax_reduce_window(conc, dims, cfg["window_strides"], cfg["padding"], cfg["base_dilation"], cfg["window_dilation"])
    except ConvArithmeticError as e:
        interp.trace.record(ConfigEvent(site, "reduce_window", e))
        return C.record(interp, op=op, layer=None, site=site, call_node=node, x=x, out_shape=None)
    if len(windows) != rank:
        return C.record(interp, op=op, layer=None, site=site, call_node=node, x=x, out_shape=None)
    axes = [a for a, w in enumerate(windows) if (w.kernel, w.stride, w.dilation, w.input_dilation, w.pad_lo, w.pad_hi) != (1, 1, 1, 1, 0, 0)]
    symbolic_same = isinstance(cfg["padding"], str) and cfg["padding"].upper() != "VALID" and not all(is_int(d) for d in sizes)
    raw = []
    for a in range(rank):
        w, d = windows[a], sizes[a]
        if a not in axes:
            raw.append(d)
        elif symbolic_same:
            raw.append(_same_size(d, w.stride) if w.input_dilation == 1 else Unknown("size"))
        else:
            raw.append(window_out(w, d))
    out = tuple(max(o, 0) if is_int(o) else o for o in raw)  # jax gives a zero-size array
    used = () if symbolic_same else tuple(windows[a] for a in axes)
    kind = "down" if used and any(w.stride > 1 for w in used) else None
    params = dict(cfg, window_dimensions=dims)
    return C.record(interp, op=op, layer=None, site=site, call_node=node, x=x, out_shape=out, windows=used, params=params, kind=kind,
                    axes=axes, adjoint=("pool", used, None), spatial_out=tuple(raw[a] for a in axes))
