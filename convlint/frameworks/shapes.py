"""Shape functions shared by the frameworks: recording a layer, merges, broadcasting, reshapes,
padding, reductions, einsum/einops.

:func:`record` is how every framework reports a layer application: it appends the
:class:`~convlint.interpret.events.LayerEvent` and keeps the pairing bookkeeping — a downsampling
step pushes the sizes it received on the tensor's stack, an upsampling step pops the step it
mirrors. Merges record a :class:`~convlint.interpret.events.MergeEvent`; whether that is a finding
is for :mod:`convlint.rules` to say.
"""

from __future__ import annotations

from convlint.frameworks.base import Layer, is_int
from convlint.interpret.symbolic import Sym, always_differ, is_size
from convlint.interpret.tensor import PairStep, Tensor, fmt_dim
from convlint.interpret.events import LayerEvent, MergeEvent, Operand
from convlint.interpret.values import Unknown


def dims_equal(a, b) -> bool:
    if is_int(a) and is_int(b):
        return a == b
    if isinstance(a, Sym) and isinstance(b, Sym):
        return a == b
    return False


def mismatch(a, b) -> bool:
    """Certainly different sizes (for every value of a symbolic size)."""
    if isinstance(a, Unknown) or isinstance(b, Unknown):
        return False
    if is_size(a) and is_size(b):
        return always_differ(a, b)
    return False


def broadcast_mismatch(a, b) -> bool:
    """Sizes that cannot broadcast together for any value: certainly different, and neither can
    be 1 (a symbolic size that is 1 for some value broadcasts there)."""
    if not mismatch(a, b):
        return False
    return all(not isinstance(d, Sym) or always_differ(d, 1) for d in (a, b))


def trail(t: Tensor, axis: int) -> str:
    """``28 → 14 → 7 → 13`` for one dimension along the tensor's history."""
    sizes = []
    for _label, shape in t.history:
        if shape is not None and -len(shape) <= axis < len(shape):
            d = fmt_dim(shape[axis])
            if not sizes or sizes[-1] != d:
                sizes.append(d)
    if t.shape is not None and -len(t.shape) <= axis < len(t.shape):
        d = fmt_dim(t.shape[axis])
        if not sizes or sizes[-1] != d:
            sizes.append(d)
    return " → ".join(sizes[-8:])


def last_layer(t: Tensor) -> str | None:
    return t.history[-1][0] if t.history else None


def record(interp, *, op, layer, site, call_node, x, out_shape, windows=(), params=None, kind=None, axes=(), label=None, adjoint=None,
           transposed=False, ceil_mode=False, spatial_out=None, framework=None):
    """Append a layer event and return the output tensor, with pairing bookkeeping.

    ``kind`` is "down" for a spatial downsampling (stride > 1), "up" for an upsampling; ``axes``
    are the spatial axes it acts on; ``adjoint`` describes a conv for CVL007
    (``("conv", windows)`` / ``("transpose", windows)``). ``spatial_out`` are the raw output sizes
    along ``axes`` when they differ from ``out_shape`` (an empty output, clamped for what follows).
    """
    from convlint.frameworks import family_of

    in_shape = x.shape if isinstance(x, Tensor) else None
    axes = tuple(axes)
    spatial_in = tuple(in_shape[a] for a in axes) if in_shape is not None and axes and all(-len(in_shape) <= a < len(in_shape) for a in axes) else ()
    if spatial_out is None:
        spatial_out = tuple(out_shape[a] for a in axes) if out_shape is not None and axes and all(-len(out_shape) <= a < len(out_shape) for a in axes) else ()
    ev = LayerEvent(
        site=site,
        call_site=interp.site(call_node) if call_node is not None else site,
        op=op,
        input=in_shape,
        output=out_shape,
        layer=layer,
        params=params or {},
        windows=tuple(windows),
        name=layer.name if isinstance(layer, Layer) else None,
        family=family_of(op),
        framework=framework or (layer.framework if isinstance(layer, Layer) else (x.framework if isinstance(x, Tensor) else None)),
        transposed=transposed,
        ceil_mode=bool(ceil_mode),
        spatial_axes=axes,
        spatial_in=spatial_in,
        spatial_out=tuple(spatial_out),
        pad_tail=tuple(x.pad_tail[a] for a in axes) if isinstance(x, Tensor) and x.pad_tail is not None and in_shape is not None and len(x.pad_tail) == len(in_shape) and spatial_in else (),
        input_label=last_layer(x) if isinstance(x, Tensor) else None,
        input_lost=x.lost if isinstance(x, Tensor) else (x if isinstance(x, Unknown) else None),
    )
    interp.trace.events.append(ev)
    if not isinstance(x, Tensor):
        return Tensor(out_shape, history=((label or op, out_shape),))
    out = x.derive(out_shape, label=label or (layer.name if isinstance(layer, Layer) and layer.name else op.rsplit(".", 1)[-1]))
    if out_shape is None:
        return out
    if kind == "down" and in_shape is not None:
        # a pad right before a strided layer (``F.pad(x, (0, 1, 0, 1))``) belongs to the step:
        # the size to restore is the one before padding
        restore = x.before_pad if x.before_pad is not None and len(x.before_pad) == len(in_shape) else in_shape
        step = PairStep(ev, tuple(restore[a] for a in axes), tuple(axes), extra={"adjoint": adjoint, "out": tuple(out_shape[a] for a in axes)})
        out.downs = x.downs + (step,)
        interp.trace.downs.append(step)
    elif kind == "up" and in_shape is not None:
        partner = None
        downs = x.downs
        if downs:
            partner = downs[-1]
            out.downs = downs[:-1]
        elif x.fresh:
            # script code on literal-shaped arrays (the seed's JAX example): pair in trace order
            # with a step whose output is this step's input (a generator fed noise after a
            # discriminator ran is no mirror of it)
            given = tuple(in_shape[a] for a in axes)
            for cand in reversed(interp.trace.downs):
                if not cand.extra.get("paired") and len(cand.axes) == len(axes) and cand.extra.get("out") == given:
                    partner = cand
                    break
        step = PairStep(ev, tuple(out_shape[a] for a in axes), tuple(axes), extra={"adjoint": adjoint, "in": tuple(in_shape[a] for a in axes), "by_order": not downs})
        if partner is not None:
            partner.extra["paired"] = True
            step.partner = partner
            want = partner.sizes
            got = step.sizes
            if len(want) == len(got) and any(mismatch(g, w) for g, w in zip(got, want)):
                step.mismatch = (got, want)
                out.pending = x.pending + (step,)
            interp.trace.ups.append(step)
    return out


def on_certain_path(interp) -> bool:
    """What runs now is what Python runs: a declared model (or script code), outside any branch
    taken on an unknown condition. A model run with its own defaults may hold placeholders its real
    callers replace; a branch on an unknown config combines defaults no real config combines."""
    return getattr(interp, "declared", False) and not getattr(interp, "undecided", 0)


def promote_entry(x, rank: int, channels=None, channels_last: bool = False):
    """A model input whose rank is not declared (a model convlint runs on its own): the first
    rank-aware layer fixes it — a symbolic batch ``B``, the layer's own input channel count (else
    a symbolic ``C``) and symbolic spatial sizes, so that everything that holds for every size is
    checked."""
    if not (isinstance(x, Tensor) and x.shape is None and x.entry):
        if isinstance(x, Tensor) and (x.shape is None or not x.exact_rank) and x.rank_of is not None:
            # the input's rank is the layer's: the model is run again with it
            x.rank_of.note_rank(rank + 2, rank, channels if is_size(channels) else None, channels_last)
        return x
    names = ("H", "W") if rank == 2 else ("L",) if rank == 1 else ("D", "H", "W") if rank == 3 else tuple(f"S{i}" for i in range(rank))
    ch = x.entry_channels if is_size(x.entry_channels) else channels if is_size(channels) else Sym.var("C")
    spatial = tuple(Sym.var(n) for n in names)
    shape = (Sym.var("B"), *spatial, ch) if channels_last else (Sym.var("B"), ch, *spatial)
    # the input itself takes the shape: every later use of it (a residual's shortcut, the
    # comparison of a model's output with its input) sees the same sizes — and so do the
    # tensors shape-preserving ops made of it (``h = norm(x)`` promoted by a conv: ``x + conv(h)``)
    x.settle(shape)
    return x


def repair(t: Tensor) -> Tensor:
    """The tensor was padded, cropped or resized to a chosen size: pending mismatches are handled."""
    for step in t.pending:
        step.repaired = True
    t.pending = ()
    return t


def operand(t: Tensor) -> Operand:
    """A tensor as a merge sees it (for the merge's event): its mismatched steps not repaired by
    then — a pad further on (after a later merge) repairs what reaches it, not this collision."""
    pending = tuple(s for s in t.pending if not s.repaired)
    return Operand(t.shape, last_layer(t) or "input", lambda axis, t=t: trail(t, axis), pending, t.exact_rank, t.history)


def broadcast(interp, a: Tensor | None, b: Tensor | None, site, op_label: str):
    """numpy/torch broadcasting of two shapes; records the merge (CVL005 decides on it)."""
    if a is None or b is None or a.shape is None or b.shape is None:
        interp.trace.size_losses.append((site, f"{op_label} of a tensor of unknown rank"))
        return None
    sa, sb = a.shape, b.shape
    n = max(len(sa), len(sb))
    # an operand whose rank is a lower bound has unknown dims in front, not 1s
    sa = (1 if a.exact_rank else Unknown("dim beyond a lower-bound rank"),) * (n - len(sa)) + tuple(sa)
    sb = (1 if b.exact_rank else Unknown("dim beyond a lower-bound rank"),) * (n - len(sb)) + tuple(sb)
    out = []
    for x, y in zip(sa, sb):
        if x == 1 and is_int(x):
            out.append(y)
        elif y == 1 and is_int(y):
            out.append(x)
        elif dims_equal(x, y):
            out.append(x)
        elif broadcast_mismatch(x, y):
            out.append(Unknown("broadcast mismatch"))
        elif (is_int(x) and x > 1) or (is_int(y) and y > 1):
            out.append(x if is_int(x) and x > 1 else y)  # the other is 1 or the same size
        elif isinstance(x, Sym) and isinstance(y, Sym) and _broadcasts_to(x, y):
            out.append(x)
        elif isinstance(x, Sym) and isinstance(y, Sym) and _broadcasts_to(y, x):
            out.append(y)
        else:
            # either may be 1: unknown (keeping an operand's unknown, and its cause, when there is one)
            out.append(x if isinstance(x, Unknown) else y if isinstance(y, Unknown) else Unknown("broadcast"))
    interp.trace.record(MergeEvent(site, op_label, [operand(a), operand(b)], joined=None, broadcast=True))
    return tuple(out)


def _broadcasts_to(x: Sym, y: Sym) -> bool:
    """Whether broadcasting sizes ``x`` and ``y`` (of one variable) gives ``x`` wherever it is valid:
    no value makes ``x`` 1 while ``y`` is a real size of 2 or more (where ``y`` is 1 or equal to
    ``x`` the result is ``x``; anywhere else the merge raises)."""
    names = x.variables() | y.variables()
    if len(names) != 1:
        return False
    from convlint.interpret import sizes

    try:
        return sizes.solve(next(iter(names)), [sizes.equal(x, 1), sizes.at_least(y, 2)]).empty
    except ValueError:
        return False


def broadcast_pair(interp, a: Tensor, b: Tensor, site, label: str) -> Tensor:
    """Two tensors combined elementwise (``a + b``, ``torch.maximum``, ``jnp.where``): their
    broadcast, recorded as a merge; an operand of unknown rank keeps the dims the other's
    broadcasting cannot change. A model input of unknown rank and its twins (``x * sigmoid(x)``)
    make a twin."""
    if a.twin_of(b):
        return a.same()
    if a.shape is None or b.shape is None:
        known, other = (a, b) if a.shape is not None else (b, a)
        return broadcast_unknown(known, other)
    shape = broadcast(interp, a, b, site, label)
    base = a if len(a.downs) >= len(b.downs) else b
    out = base.derive(shape)
    out.pending = tuple(dict.fromkeys(a.pending + b.pending))
    out.fresh = a.fresh and b.fresh
    out.exact_rank = a.exact_rank and b.exact_rank
    return out


def broadcast_unknown(t: Tensor, other=None) -> Tensor:
    """``t`` combined elementwise with an operand of unknown shape or value: dims other than 1
    cannot change (broadcasting would fail); a 1 may grow; leading dims may be added."""
    if t.shape is None:
        return t.derive(None)
    cause = unknown_of(other)
    shape = tuple(Unknown("broadcast with an unknown operand", cause=cause) if is_int(d) and d == 1 else d for d in t.shape)
    out = t.derive(shape)
    out.exact_rank = False
    # ``F.normalize(x) * self.g`` of a model input of unknown rank: a rank-aware layer that meets
    # the result tells a rank the input may have (the model is run again with it)
    out.rank_of = (other.input_root() if isinstance(other, Tensor) else None) or t.rank_of
    return out


def unknown_of(v):
    """The unknown behind a value: itself, or why a tensor's rank is unknown."""
    if isinstance(v, Unknown):
        return v
    if isinstance(v, Tensor) and v.shape is None:
        return v.lost
    return None


def concat(interp, tensors, dim, site, op_label, stack=False):
    """torch.cat / torch.stack / jnp.concatenate / jnp.stack."""
    ts = [t for t in tensors if isinstance(t, Tensor)]
    if len(ts) != len(tensors) or not ts:
        return Tensor(None)
    if any(t.shape is None for t in ts) or not is_int(dim):
        if len(ts) > 1:
            interp.trace.size_losses.append((site, f"{op_label} of tensors of unknown rank"))
        return ts[0].derive(None)
    n = len(ts[0].shape)
    if any(len(t.shape) != n for t in ts):
        interp.trace.size_losses.append((site, f"{op_label} of tensors of different ranks"))
        return ts[0].derive(None)
    d = dim if dim >= 0 else (n + 1 if stack else n) + dim
    if not 0 <= d <= (n if stack else n - 1):
        return ts[0].derive(None)
    if len(ts) > 1:
        interp.trace.record(MergeEvent(site, op_label, [operand(t) for t in ts], joined=None if stack else d))
    shape = list(ts[0].shape)
    for i in range(n):
        if stack or i != d:
            vals = [t.shape[i] for t in ts]
            if any(mismatch(vals[0], v) for v in vals):
                shape[i] = Unknown("merge mismatch")
            elif not all(dims_equal(vals[0], v) for v in vals):
                shape[i] = next((v for v in vals if not isinstance(v, Unknown)), vals[0])
    if stack:
        shape.insert(d, len(ts))
    else:
        total = ts[0].shape[d]
        for t in ts[1:]:
            x = t.shape[d]
            total = total + x if is_size(total) and is_size(x) else Unknown("concatenated size")
        shape[d] = total
    base = max(ts, key=lambda t: len(t.downs))
    out = base.derive(tuple(shape), label=op_label)
    out.pending = tuple(s for t in ts for s in t.pending)
    out.fresh = all(t.fresh for t in ts)
    return out


def numel(shape):
    """The product of the sizes (a symbolic product when some are symbolic), else Unknown."""
    total = 1
    for d in shape:
        if is_int(d) or isinstance(d, Sym):
            total = total * d
        else:
            return Unknown("element count")
    return total


def reshape(x: Tensor, new_shape, label: str) -> Tensor:
    """view / reshape with at most one -1."""
    if x.shape is None:
        dims = tuple(d if (is_int(d) and d != -1) or isinstance(d, Sym) else Unknown("reshape") for d in new_shape)
        return x.derive(dims, label=label)
    dims = list(new_shape)
    if sum(1 for d in dims if is_int(d) and d == -1) == 1:
        idx = next(i for i, d in enumerate(dims) if is_int(d) and d == -1)
        total = numel(x.shape)
        rest = numel([d for i, d in enumerate(dims) if i != idx])
        if is_int(total) and is_int(rest) and rest > 0 and total % rest == 0:
            dims[idx] = total // rest
        else:
            dims[idx] = Unknown("inferred reshape dim")
    dims = tuple(d if is_size(d) else Unknown("reshape") for d in dims)
    return x.derive(dims, label=label)


def flatten(x: Tensor, start: int, end: int, label: str) -> Tensor:
    if x.shape is None:
        return x.derive(None, label=label)
    n = len(x.shape)
    s = start if start >= 0 else n + start
    e = end if end >= 0 else n + end
    if not (0 <= s <= e < n):
        return x.derive(None, label=label)
    middle = numel(x.shape[s : e + 1])
    return x.derive(tuple(x.shape[:s]) + (middle,) + tuple(x.shape[e + 1 :]), label=label)


def pad_last_dims(interp, x: Tensor, pads, label: str, site=None) -> Tensor:
    """F.pad semantics: pairs for the last dims, last dimension first; negative pads crop."""
    if x.shape is None or not isinstance(pads, (tuple, list)) or len(pads) % 2:
        return repair(x.derive(None if x.shape is None else tuple(Unknown("padded") for _ in x.shape), label=label))
    shape = list(x.shape)
    tail = list(x.pad_tail) if x.pad_tail is not None and len(x.pad_tail) == len(shape) else [0] * len(shape)
    for j in range(len(pads) // 2):
        axis = len(shape) - 1 - j
        if axis < 0:
            break
        lo, hi = pads[2 * j], pads[2 * j + 1]
        if is_size(lo) and is_size(hi) and is_size(shape[axis]):
            shape[axis] = shape[axis] + lo + hi
            tail[axis] = tail[axis] + hi if isinstance(hi, int) and hi > 0 and isinstance(tail[axis], int) else 0
        else:
            shape[axis] = Unknown("padding from an unknown amount")
            tail[axis] = 0
    out = x.derive(tuple(shape), label=label, before_pad=x.before_pad or x.shape, pad_tail=tuple(tail))
    return repair(out)


def as_shape(v):
    """A shape argument (tuple/list of sizes, or a torch.Size-like tuple) → tuple, or None."""
    if isinstance(v, (tuple, list)) and all(is_size(d) or isinstance(d, Unknown) for d in v):
        return tuple(v)
    if is_int(v):
        return (v,)
    return None


def einsum(interp, args, kwargs, node):
    """``torch.einsum`` / ``jnp.einsum`` with an explicit ``->`` and no ellipsis."""
    if not args or not isinstance(args[0], str):
        return Unknown("einsum")
    eq = args[0].replace(" ", "")
    ops = list(args[1:])
    if len(ops) == 1 and isinstance(ops[0], (list, tuple)):
        ops = list(ops[0])
    if "->" not in eq or "." in eq:
        return Unknown("einsum without an explicit output")
    lhs, out = eq.split("->")
    terms = lhs.split(",")
    if len(terms) != len(ops) or not all(isinstance(t, Tensor) and t.shape is not None for t in ops):
        return Tensor(None)
    sizes: dict = {}
    for term, t in zip(terms, ops):
        if len(term) != len(t.shape):
            return Tensor(None)
        for letter, d in zip(term, t.shape):
            if letter in sizes and not dims_equal(sizes[letter], d):
                if is_int(sizes[letter]) and sizes[letter] == 1:
                    sizes[letter] = d
                continue
            sizes.setdefault(letter, d)
    shape = tuple(sizes.get(letter, Unknown("einsum")) for letter in out)
    base = max(ops, key=lambda t: len(t.downs))
    return base.derive(shape)


def reduce(x: Tensor, dims, keep) -> object:
    """Reduction over ``dims`` (an int, a tuple, or None for all): ``mean``, ``sum``, ``amax``, …"""
    if dims is None:
        if keep is True:
            return x.derive(tuple(1 for _ in x.shape)) if x.shape is not None else x.derive(None)
        return Tensor((), x.layout, framework=x.framework)  # a 0-d tensor: broadcasting keeps the other shape
    if x.shape is None:
        return x.derive(None)
    axes = dims if isinstance(dims, (tuple, list)) else (dims,)
    if not all(is_int(a) for a in axes) or keep not in (True, False):
        return x.derive(None)
    n = len(x.shape)
    axes = {a if a >= 0 else n + a for a in axes}
    if keep:
        return x.derive(tuple(1 if i in axes else d for i, d in enumerate(x.shape)))
    return x.derive(tuple(d for i, d in enumerate(x.shape) if i not in axes))


def pairs_fix(call, windows, din, want, padding_value, index: int, message_op: str):
    """A FixSpec setting explicit (low, high) padding pairs so that stride-1 windows with input
    dilation map ``din`` to ``want``; the low sides are kept, the high sides absorb the difference."""
    from convlint.interpret.events import FixSpec

    if call is None or not windows or len(windows) != len(din) or len(want) != len(din):
        return None
    if not all(is_int(v) for v in (*din, *want)) or any(w.stride != 1 or w.pre_lo or w.pre_hi for w in windows):
        return None
    pairs = []
    for w, i, o in zip(windows, din, want):
        dilated = (i - 1) * w.input_dilation + 1
        total = o - dilated + w.effective_kernel - 1
        pairs.append((w.pad_lo, total - w.pad_lo))
    if all((w.pad_lo, w.pad_hi) == p for w, p in zip(windows, pairs)):
        return None
    inner = ", ".join(f"({lo}, {hi})" for lo, hi in pairs)
    src = f"[{inner}]" if isinstance(padding_value, list) else f"({inner}{',' if len(pairs) == 1 else ''})"
    return FixSpec(message=f"set padding={src}", call=call, set_args={"padding": src}, positional_index={"padding": index})


def broadcast_shapes(*shapes) -> tuple | None:
    """numpy broadcasting of known shapes (aligned from the end, missing dims 1), without events:
    a dim that is certainly different is unknown, and so is one that may be 1 on either side."""
    if any(s is None for s in shapes):
        return None
    n = max((len(s) for s in shapes), default=0)
    out = []
    for i in range(n):
        dim = 1
        for s in shapes:
            j = len(s) - n + i
            if j < 0:
                continue
            v = s[j]
            if is_int(dim) and dim == 1:
                dim = v
            elif (is_int(v) and v == 1) or dims_equal(dim, v):
                continue
            elif broadcast_mismatch(dim, v):
                dim = Unknown("broadcast mismatch")
            elif is_int(v) and v > 1:
                dim = v  # the other is 1 or the same size
            elif not (is_int(dim) and dim > 1):
                dim = Unknown("broadcast")  # either may be 1
        out.append(dim)
    return tuple(out)


def matmul(a, b):
    """``@`` / ``torch.matmul`` / ``jnp.matmul``: a 1-d operand is a vector, batch dims broadcast,
    the inner dims meet (checking them is the caller's: it records the event)."""
    if not (isinstance(a, Tensor) and isinstance(b, Tensor)):
        return Tensor(None)
    if a.shape is None or b.shape is None or (len(a.shape) <= 1 and not a.exact_rank) or (len(b.shape) <= 1 and not b.exact_rank):
        # with ``b`` a matrix (or a batch of them) the result ends with its columns, whatever ``a``
        # is; nothing is known from ``a`` alone (``b`` may be a vector)
        if b.shape is not None and b.exact_rank and len(b.shape) >= 2:
            out = b.derive((b.shape[-1],))
            out.exact_rank = False
            return out
        return (a if a.shape is None else b).derive(None)
    na, nb = len(a.shape), len(b.shape)
    if na == 0 or nb == 0:
        return a.derive(None)
    if na == 1 and nb == 1:
        return Tensor((), a.layout, framework=a.framework)
    if na == 1:
        return b.derive(tuple(b.shape[:-2]) + (b.shape[-1],))
    if nb == 1:
        return a.derive(tuple(a.shape[:-1]))
    batch = broadcast_shapes(tuple(a.shape[:-2]), tuple(b.shape[:-2]))
    if not (a.exact_rank and b.exact_rank):
        # a lower-bound rank: its batch dims beyond the known ones are unknown, not 1
        k = min(len(a.shape) if not a.exact_rank else len(b.shape), len(b.shape) if not b.exact_rank else len(a.shape)) - 2
        batch = batch[len(batch) - max(k, 0):] if k > 0 else ()
    out = (a if len(a.downs) >= len(b.downs) else b).derive(tuple(batch) + (a.shape[-2], b.shape[-1]))
    out.exact_rank = a.exact_rank and b.exact_rank
    return out


def split_sizes(x: Tensor, sizes, dim):
    """``torch.split`` / ``Tensor.split``: a tuple of tensors when the sizes are known."""
    if x.shape is None or not is_int(dim):
        return Unknown("split")
    n = len(x.shape)
    d = dim if dim >= 0 else n + dim
    if not 0 <= d < n or not is_int(x.shape[d]):
        return Unknown("split")
    total = x.shape[d]
    if is_int(sizes) and sizes > 0:
        parts = [sizes] * (total // sizes) + ([total % sizes] if total % sizes else [])
    elif isinstance(sizes, (tuple, list)) and all(is_int(v) for v in sizes) and sum(sizes) == total:
        parts = list(sizes)
    else:
        return Unknown("split")
    return tuple(x.derive(tuple(x.shape[:d]) + (p,) + tuple(x.shape[d + 1 :])) for p in parts)


def einops_shape(pattern: str, x: Tensor, axes: dict, mode: str = "rearrange"):
    """``einops.rearrange`` / ``repeat`` / ``reduce`` for patterns of names, groups ``( )`` and 1s."""
    if not isinstance(pattern, str) or "->" not in pattern or "..." in pattern:
        return Tensor(None)
    lhs, rhs = pattern.split("->")

    def parse(side):
        out, group = [], None
        for tok in side.replace("(", " ( ").replace(")", " ) ").split():
            if tok == "(":
                group = []
            elif tok == ")":
                out.append(tuple(group or ()))
                group = None
            elif group is not None:
                group.append(tok)
            else:
                out.append((tok,))
        return out

    left, right = parse(lhs), parse(rhs)
    if x.shape is None or len(left) != len(x.shape):
        return Tensor(None)
    sizes = {k: v for k, v in axes.items() if is_size(v)}
    for names, d in zip(left, x.shape):
        unknown = [nm for nm in names if nm not in sizes and nm != "1"]
        known = 1
        for nm in names:
            if nm in sizes:
                known = known * sizes[nm] if is_int(known) or isinstance(known, Sym) else known
        if len(unknown) == 1 and is_size(d) and is_int(known) and known > 0:
            sizes[unknown[0]] = d // known if known != 1 else d
        elif len(unknown) > 1:
            for nm in unknown:
                sizes.setdefault(nm, Unknown("einops axis"))
    shape = []
    for names in right:
        total = 1
        for nm in names:
            v = 1 if nm == "1" else sizes.get(nm, Unknown("einops axis"))
            total = total * v if is_size(total) and is_size(v) else Unknown("einops axis")
        shape.append(total)
    return x.derive(tuple(shape))


class NamedResult(tuple):
    """A tuple of results whose items also have names (torch's ``torch.return_types``:
    ``x.max(dim=1).values``, ``torch.topk(x, 3).indices``)."""

    fields: tuple = ()

    def __new__(cls, items, fields):
        obj = super().__new__(cls, items)
        obj.fields = tuple(fields)
        return obj

    def attr(self, name: str):
        return self[self.fields.index(name)] if name in self.fields else Unknown(f"result field {name}")
