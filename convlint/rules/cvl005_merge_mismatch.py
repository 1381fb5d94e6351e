"""CVL005: tensors joined by cat/stack/concatenate or combined elementwise that differ where they must agree."""

from convlint.interpret.events import Issue, MergeEvent
from convlint.rules import ERROR, Invalid, Rule

RULE = Rule(
    code="CVL005",
    name="merge-mismatch",
    severity=ERROR,
    summary="Tensors joined by cat, stack or add differ outside the joined dimension.",
    what="""
Checks every `torch.cat`, `torch.stack`, `jnp.concatenate`, `jnp.stack` and elementwise `+`/`-`/`*`
between tensors (residual and skip connections): all dimensions except the joined one must agree (or
broadcast). The message gives the chain of sizes of both branches. When an upsampling layer that feeds
the merge is the cause, CVL004 reports it at that layer instead.

With symbolic sizes (a model run without a declared input), a mismatch is one for every size. Two
sizes of one input size that always differ, but broadcast where one of them is 1, count as a
mismatch when that happens for finitely many sizes only — a residual branch that removes rows
joins its shortcut only where it has shrunk to a single row; the message names those sizes.

When the branches' histories name the one layer at fault, the finding is on that layer (the line
to edit), and the merge is given as a related location: a stride-1 convolution (or a pad and the
convolution after it) that adds or removes rows in a residual branch; or the one strided layer
the other branch has no counterpart for, when the other branch has layers of its own (equal
strides are paired by how they are written: `strides=self.strides` on both sides). A strided
branch against an identity shortcut stays at the merge: the shortcut may lack its projection —
unless the branch is an encoder-decoder (a U-Net's skip connection): a downsampling step and the
upsampling that restores its input's size pair off first, and a stride left over (a decoder conv
that strides right after it upsampled) is the layer at fault.
""",
    why="""
U-Net skips and residual additions are the classic place where an odd input size or an unpadded
convolution makes two branches differ by a row — a run-time error on the first batch of that size.
""",
    example="""
import torch
import torch.nn as nn

class Block(nn.Module):  # convlint: input=(1, 8, 32, 32)
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(8, 8, 3)

    def forward(self, x):
        return x + self.conv(x)
""",
    fix="Pad the convolution (`padding=1` for a 3×3 kernel), remove the stride the other branch does not take, or crop/pad one branch to the other's size before joining.",
    valid=("import torch.nn as nn\n\nclass Block(nn.Module):  # convlint: input=(1, 8, 32, 32)\n    def __init__(self):\n        super().__init__()\n        self.conv = nn.Conv2d(8, 8, 3, padding=1)\n\n    def forward(self, x):\n        return x + self.conv(x)\n",),
    invalid=(
        Invalid(
            'import torch.nn as nn\n\nclass Block(nn.Module):  # convlint: input=(1, 8, 32, 32)\n    def __init__(self):\n        super().__init__()\n        self.conv = nn.Conv2d(8, 8, 3)\n\n    def forward(self, x):\n        return x + self.conv(x)\n',
            line=6,
            message="conv removes 2 rows in dim 2 (32 → 30), which the other branch of the merge at line 9 does not; padding=1 keeps the size: '+' joins tensors that differ in dim 2: 32 (from input: 32) and 30 (from conv: 32 → 30)",
        ),
        Invalid(
            # a second stride in the main branch: the projection strides once
            'import torch.nn as nn\n\nclass Down(nn.Module):  # convlint: input=(1, 8, 32, 32)\n    def __init__(self, stride=2):\n        super().__init__()\n        self.conv1 = nn.Conv2d(8, 16, 3, stride=stride, padding=1)\n        self.conv2 = nn.Conv2d(16, 16, 3, stride=2, padding=1)\n        self.proj = nn.Conv2d(8, 16, 1, stride=stride)\n\n    def forward(self, x):\n        return self.proj(x) + self.conv2(self.conv1(x))\n',
            line=7,
            message="conv2 strides by 2 in dim 2 (16 → 8), one stride more than the other branch of the merge at line 11 takes",
        ),
        Invalid(
            # a strided branch against an identity shortcut: the projection may be what is missing
            'import torch.nn as nn\n\nclass Down(nn.Module):  # convlint: input=(1, 8, 32, 32)\n    def __init__(self):\n        super().__init__()\n        self.conv = nn.Conv2d(8, 8, 3, stride=2, padding=1)\n\n    def forward(self, x):\n        return x + self.conv(x)\n',
            line=9,
            message="'+' joins tensors that differ in dim 2: 32 (from input: 32) and 16 (from conv: 32 → 16)",
        ),
        Invalid(
            # no input declared: the block runs on (B, 8, H, W), and the residual broadcasts only
            # where the conv's output is a single row (H = 3)
            'import torch.nn as nn\n\nclass Block(nn.Module):\n    def __init__(self):\n        super().__init__()\n        self.conv = nn.Conv2d(8, 8, 5, padding=1)\n\n    def forward(self, x):\n        return x + self.conv(x)\n',
            line=6,
            message="for every input size but H = 3, where broadcasting spreads a single row of one",
        ),
    ),
)


def mismatched_axis(ev: MergeEvent):
    """``(axis, i, j)``: the first dimension where operands ``i`` and ``j`` of the merge certainly
    differ and may not (for every value of a symbolic size), or None."""
    from convlint.frameworks.shapes import broadcast_mismatch, mismatch

    ops = ev.operands
    if ev.broadcast:
        a, b = ops[0].shape, ops[1].shape
        n = max(len(a), len(b))
        a = (1,) * (n - len(a)) + tuple(a)
        b = (1,) * (n - len(b)) + tuple(b)
        for axis, (x, y) in enumerate(zip(a, b)):
            if (isinstance(x, int) and x == 1) or (isinstance(y, int) and y == 1):
                continue
            if broadcast_mismatch(x, y) or degenerate_broadcast(x, y) is not None:
                return (axis, 0, 1)
        return None
    if not all(op.exact_rank for op in ops):
        return None  # the dims are counted from the front, and a rank is only a lower bound
    n = len(ops[0].shape)
    if any(len(op.shape) != n for op in ops):
        return None  # a join of different ranks is the op's own error (its catalogue reports it), not a size mismatch
    for j in range(1, len(ops)):
        for axis in range(n):
            if axis == ev.joined:
                continue
            if mismatch(ops[0].shape[axis], ops[j].shape[axis]):
                return (axis, 0, j)
    return None


def degenerate_broadcast(x, y):
    """For two sizes of one symbolic input size that differ for all but finitely many of its values
    (a residual branch that removes rows from its input, or strides once more than its shortcut),
    the values where they broadcast all the same — where they are equal, or one of them is 1 (a
    branch shrunk to a single row) — when those are finitely many: a
    :class:`~convlint.interpret.sizes.SizeSet`, else None. Such a merge breaks for every size but
    a few degenerate ones; a size that is 1 for a whole range of sizes (a pooled gate, ``H // H``)
    is no such case."""
    from convlint.interpret import sizes as S
    from convlint.interpret.symbolic import Sym

    if not (isinstance(x, Sym) and isinstance(y, Sym)) or x == y:
        return None
    names = x.variables() | y.variables()
    if len(names) != 1:
        return None
    name = next(iter(names))
    try:
        ones = S.solve(name, [S.broadcasts(x, y)])
    except Exception:  # a size the solver cannot decide: not this case
        return None
    return ones if ones.finite else None


def _model_allows(run, few) -> str:
    """``H ∈ {9, 10}``: the sizes of ``few`` (where a merge broadcasts) the whole model accepts, as
    far as the size solver tells (its set alone when the solver cannot); "" for none."""
    from convlint.interpret.sizing import model_sizes

    try:
        v = model_sizes(run).vars.get(few.name)
    except Exception:  # the solver's answer only narrows the list
        v = None
    values = [n for n in few.below_min if v is None or v.sizes is None or n in v.sizes]
    if not values:
        return ""
    return f"{few.name} = {values[0]}" if len(values) == 1 else f"{few.name} ∈ {{{', '.join(map(str, values))}}}"


def unrepaired_cause(ev: MergeEvent):
    """The upsampling step feeding the merge whose size mismatch was not repaired before it, or None."""
    for op in ev.operands:
        for step in op.pending:
            if step.mismatch is not None:
                return step
    return None


def check(run) -> list:
    """The findings of this rule, and a model that accepts no input size because of CVL005's kind of
    constraint (:func:`convlint.interpret.sizing.no_size_issues`)."""
    from convlint.interpret.sizing import no_size_issues

    found = _check(run)
    # a merge reported already (at itself, or at the layer blamed for it) is not reported again
    # as the merge no input size gets through
    merges = {id(site.node) for i in found for site in (i.site, *(s for _m, s in i.related)) if site is not None}
    return found + [_blamed_no_size(run, issue) or issue for issue in no_size_issues(run, "CVL005")
                    if issue.site is None or id(issue.site.node) not in merges]


def across_runs(issues: list) -> list:
    """One finding per root cause: a merge that one run blames on a layer (the finding on the
    layer, the merge its related location) is not reported again at the merge by a run whose
    branches did not tell the layer (another model building the same block)."""
    blamed = {id(site.node) for i in issues for _m, site in i.related if site is not None}
    if not blamed:
        return issues
    return [i for i in issues if i.related or i.site is None or id(i.site.node) not in blamed]


def _blamed_no_size(run, issue):
    """A merge no input size gets through (its operands differ for every size the layers before it
    allow, agreeing only where broadcasting a size of 1 would join them) blamed, like a mismatch,
    on the one layer whose size change makes its operands differ (:func:`culprit`); None when no
    single layer does."""
    for ev in run.trace.of(MergeEvent):
        if ev.site is None or issue.site is None or ev.site.node is not issue.site.node or len(ev.operands) != 2:
            continue
        a, b = ev.operands
        if a.shape is None or b.shape is None or (not ev.broadcast and len(a.shape) != len(b.shape)):
            continue
        n = max(len(a.shape), len(b.shape))
        for axis in range(n):
            ai, bi = axis - (n - len(a.shape)), axis - (n - len(b.shape))
            if ai < 0 or bi < 0 or axis == ev.joined or a.shape[ai] == b.shape[bi]:
                continue
            blamed = culprit(run, ev, a, b, ai, bi)
            if blamed is not None:
                return _blame(ev, blamed, issue.message, axis)
    return None


def _check(run) -> list:
    from convlint.interpret.tensor import fmt_dim

    out = []
    for ev in run.trace.of(MergeEvent):
        hit = mismatched_axis(ev)
        if hit is None:
            continue
        axis, i, j = hit
        a, b = ev.operands[i], ev.operands[j]
        n = max(len(a.shape), len(b.shape))
        ai, bi = axis - (n - len(a.shape)), axis - (n - len(b.shape))
        msg = (
            f"{ev.op} joins tensors that differ in dim {axis}: {fmt_dim(a.shape[ai])} (from {a.label}: {a.trail(ai)}) "
            f"and {fmt_dim(b.shape[bi])} (from {b.label}: {b.trail(bi)})"
        )
        few = degenerate_broadcast(a.shape[ai], b.shape[bi]) if ev.broadcast else None
        if few is not None:
            works = _model_allows(run, few)
            msg += (f" for every input size but {works}, where broadcasting spreads a single row of one"
                    if works else " for every input size")
        if ev.joined is not None:
            msg += f"; only dim {ev.joined} may differ"
        cause = unrepaired_cause(ev)
        if cause is None:
            blamed = culprit(run, ev, a, b, ai, bi)
            if blamed is not None:
                out.append(_blame(ev, blamed, msg, axis))
                continue
        if cause is not None:
            from convlint.rules.cvl004_decoder_mismatch import stride_at_fault

            fault = stride_at_fault(cause)
            cev = fault[0] if fault is not None else cause.event
            pos = cev.site.module.parsed.position(cev.site.node) if cev.site.module is not None and cev.site.node is not None else None
            where = f" (line {pos[0]})" if pos else ""
            if fault is not None:
                msg += f"; the downsampling {cev.label}{where} strides by another factor than its upsampling (CVL004)"
            else:
                msg += f"; the upsampling {cev.label}{where} does not restore its encoder's size (CVL004)"
        out.append(Issue("CVL005", ev.site, msg, key=(axis,)))
    return out


# ----------------------------------------------------------------------------- the root cause

def culprit(run, ev: MergeEvent, a, b, ai: int, bi: int):
    """The one layer whose size change makes the operands ``a`` and ``b`` of ``ev`` differ along
    their dims ``ai``/``bi``, when their histories say so without doubt, else None:
    ``(LayerEvent, kind, change, size before, size after, after a pad)`` (see :func:`_steps`).

    Both branches are followed from the last tensor they share (their fork). Each layer that
    changes the size is a *step*: a resampling (a stride, a transposed conv's upsampling, a resize)
    or an offset (a stride-1 window that adds or removes rows, an explicit pad; a pad right before
    a conv counts with that conv). The blame falls on:

    - the only offset step that changes the size when the branches' resampling steps pair up
      (same strides): a residual conv whose padding does not keep its input's size;
    - the one resampling step without which both branches have the same strides, when no offset
      step changes the size and the other branch has a layer of its own (a projection): a second
      stride in the main branch. When several could be it, the one whose stride is written unlike
      the other branch's (``(2, 2)`` against ``self.strides`` on both sides) is, if only one is.

    An identity shortcut against a strided branch is not blamed on the stride: the missing
    projection may be the bug. Steps an encoder-decoder pairs up (a downsampling and the upsampling
    that restores its input's size) leave a branch first (:func:`_unmirrored`): a U-Net's skip
    connection against a decoder step that strides right after it upsampled blames that stride. Anything unknown (a step that is not a recorded layer, a size that
    is neither certainly equal nor certainly different, a reshape) gives None.
    """
    ha, hb = a.history, b.history
    if not ha or not hb:
        return None
    in_b = {id(shape): k for k, (_label, shape) in enumerate(hb)}
    fork_a = next((k for k in range(len(ha) - 1, -1, -1) if id(ha[k][1]) in in_b), None)
    if fork_a is None:
        return None
    fork_b = in_b[id(ha[fork_a][1])]
    events = run.trace.makers()
    sa = _steps(ha, fork_a, ai, events)
    sb = _steps(hb, fork_b, bi, events)
    if sa is None or sb is None:
        return None
    offsets = [st for st in (*sa, *sb) if st[1] == "offset" and st[2] != 0]
    ra, mirrored_a = _unmirrored([st for st in sa if st[1] == "resample"])
    rb, mirrored_b = _unmirrored([st for st in sb if st[1] == "resample"])
    if len(offsets) == 1 and sorted(st[2] for st in ra) == sorted(st[2] for st in rb):
        return offsets[0]
    if offsets:
        return None
    extra = _unpaired(ra, rb)
    if extra is None:
        return None
    step, in_b_branch = extra
    other = ha[fork_a + 1:] if in_b_branch else hb[fork_b + 1:]
    encoder_decoder = mirrored_b if in_b_branch else mirrored_a
    if not encoder_decoder and not any(events.get(id(shape)) is not None for _label, shape in other):
        return None  # an identity shortcut: the stride may be right and the projection missing
    return step


def _unmirrored(steps: list) -> tuple[list, bool]:
    """The resampling steps of a branch without those an encoder-decoder pairs up — a step that
    brings the size back to what it was before the latest unpaired downsampling step cancels that
    one — and whether any did: a U-Net's skip connection meets such a branch by design (its
    identity path is no missing projection). The steps as they are when a size is not an int."""
    if not all(isinstance(st[3], int) and isinstance(st[4], int) for st in steps):
        return steps, False
    rest: list = []
    downs: list = []
    for st in steps:
        x, y = st[3], st[4]
        if y > x and downs and y == downs[-1][3]:
            rest.remove(downs.pop())
            continue
        rest.append(st)
        if y < x:
            downs.append(st)
    return rest, len(rest) < len(steps)


def _steps(history, fork: int, axis: int, events):
    """``[(LayerEvent, kind, change, size before, size after, after a pad)]`` for the layers after
    ``fork`` that change dim ``axis``: kind "resample" (change: the stride, or the upsampling factor
    as a negative number) or "offset" (change: rows added or removed); None when the branch cannot
    be read for certain. A stretch of reshapes and transposes (an attention block's ``(B, H·W, C)``
    tokens and heads) that comes back with the size it left with is no step; one that does not is
    not read."""
    from convlint.frameworks.shapes import mismatch

    prev = history[fork][1]
    if prev is None or not 0 <= axis < len(prev):
        return None
    out: list = []
    pad = None  # an explicit pad's step, waiting for the conv after it
    away = False  # in a stretch of reshapes (an attention block's tokens), waiting for the size to come back
    for _label, shape in history[fork + 1:]:
        if shape is None:
            return None
        if len(shape) != len(prev):
            away, pad = True, None
            continue
        e = events.get(id(shape))
        x, y = prev[axis], shape[axis]
        try:
            d = y - x
        except TypeError:
            return None
        unchanged = isinstance(d, int) and d == 0
        if away or e is None:
            if unchanged:  # back to the size it left with (or a reshape that kept it)
                away, prev = False, shape
                continue
            if e is None:  # a reshape or a transpose: not a step, unless the size never comes back
                away, pad = True, None
                continue
            return None  # a layer applied to what no layer explains
        prev = shape
        if unchanged:
            continue
        if not mismatch(x, y) and not _resamples(e, axis):
            return None  # neither certainly equal nor certainly different
        if axis not in tuple(e.spatial_axes) or not e.windows:
            stride = _param_stride(e, axis)
            if stride is not None and stride > 1:
                # (a conv whose padding depends on the size — flax's "SAME" — records no
                # windows for symbolic sizes; its stride is its own)
                out.append((e, "resample", stride, x, y, False))
                pad = None
                continue
            if isinstance(d, int) and "pad" in e.op.lower():
                pad = (e, d, x)  # counted with the conv it feeds
                out.append((e, "offset", d, x, y, False))
                continue
            if e.family == "resize" or "Upsampl" in e.op:
                out.append((e, "resample", 0, x, y, False))
                pad = None
                continue
            return None
        w = e.windows[tuple(e.spatial_axes).index(axis)]
        if e.transposed or w.input_dilation != 1:
            out.append((e, "resample", -w.stride, x, y, False))
        elif w.stride != 1:
            out.append((e, "resample", w.stride, x, y, False))
        elif isinstance(d, int):
            if pad is not None and out and out[-1][0] is pad[0]:
                out[-1] = (e, "offset", pad[1] + d, pad[2], y, True)  # the pad and its conv: one step, the conv's
            else:
                out.append((e, "offset", d, x, y, False))
        else:
            return None
        pad = None
    return None if away else out


def _resamples(e, axis: int) -> bool:
    """The layer of event ``e`` strides or dilates its input along ``axis``: a resampling step even
    where a symbolic size is the same before and after for its smallest values (``(H + 3)//4`` and
    ``(H + 7)//8`` agree for H ≤ 4)."""
    if axis not in tuple(e.spatial_axes):
        return False
    if not e.windows:
        stride = _param_stride(e, axis)
        return stride is not None and stride > 1
    w = e.windows[tuple(e.spatial_axes).index(axis)]
    return w.stride != 1 or w.input_dilation != 1 or bool(e.transposed)


def _param_stride(e, axis: int):
    """The stride along ``axis`` of a (not transposed) conv or pool layer, from its arguments
    (``strides=(2, 2)``, ``stride=2``), or None when they do not say it."""
    layer = e.layer
    params = getattr(layer, "params", None)
    if e.transposed or not isinstance(params, dict) or axis not in tuple(e.spatial_axes):
        return None
    value = params.get("strides", params.get("stride"))
    i = tuple(e.spatial_axes).index(axis)
    if value is None and "strides" in params:
        return 1
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, (tuple, list)) and len(value) == len(tuple(e.spatial_axes)) and all(isinstance(v, int) and not isinstance(v, bool) for v in value):
        return value[i]
    return None


def _unpaired(ra: list, rb: list):
    """``(step, in_b)``: the one resampling step of the branch that has one more than the other,
    without which both have the same strides; None when there is no such step or several could
    be it (then the one whose stride is written unlike any of the other branch's, when the others
    are written like one of them: ``strides=(2, 2)`` against ``strides=self.strides``)."""
    if len(ra) == len(rb) + 1:
        long, short, in_b = ra, rb, False
    elif len(rb) == len(ra) + 1:
        long, short, in_b = rb, ra, True
    else:
        return None
    goal = sorted(st[2] for st in short)
    candidates = [st for st in long if sorted(o[2] for o in long if o is not st) == goal]
    if len(candidates) > 1:
        def written_alike(st) -> bool:
            return any(_same_stride_source(st[0], o[0]) for o in short)

        unlike = [st for st in candidates if not written_alike(st)]
        if len(unlike) != 1 or not all(written_alike(st) for st in candidates if st is not unlike[0]):
            return None
        candidates = unlike
    return (candidates[0], in_b) if len(candidates) == 1 else None


def _stride_origin(e):
    """The expression the layer's stride was written with, or None."""
    layer = e.layer
    origins = getattr(layer, "extra", {}).get("origins") if layer is not None else None
    if not origins:
        return None
    for name in ("stride", "strides", "window_strides"):
        o = origins.get(name)
        if o is not None and getattr(o, "site", None) is not None and o.site.node is not None:
            return o.site.node
    return None


def _same_stride_source(e1, e2) -> bool:
    n1, n2 = _stride_origin(e1), _stride_origin(e2)
    return n1 is not None and n2 is not None and n1.deep_equals(n2)


def _blame(ev: MergeEvent, step, merge_msg: str, axis: int):
    from convlint.interpret.events import Issue
    from convlint.interpret.tensor import fmt_dim

    e, kind, change, x, y, after_pad = step
    sizes = f"{fmt_dim(x)} → {fmt_dim(y)}"
    hint = ""
    if kind == "offset":
        what = f"{'adds' if change > 0 else 'removes'} {abs(change)} row{'s' if abs(change) != 1 else ''} in dim {axis} ({sizes})"
        arguments = ("padding",)
        w = e.windows[tuple(e.spatial_axes).index(axis)] if e.windows and axis in tuple(e.spatial_axes) else None
        total = w.pad_lo + w.pad_hi - change if w is not None else -1
        if not after_pad and w is not None and w.pad_lo == w.pad_hi and total >= 0 and total % 2 == 0 and e.framework == "torch":
            hint = f"; padding={total // 2} keeps the size"
    elif change > 0:
        what = f"strides by {change} in dim {axis} ({sizes})"
        arguments = ("strides",) if "strides" in getattr(e.layer, "params", {}) else ("stride",)
    else:
        what = f"upsamples dim {axis} ({sizes})"
        arguments = ()
    pos = ev.site.module.parsed.position(ev.site.node) if ev.site.module is not None and ev.site.node is not None else None
    where = f" at line {pos[0]}" if pos is not None else ""
    if kind == "resample" and change > 0:
        msg = f"{e.label} {what}, one stride more than the other branch of the merge{where} takes: {merge_msg}"
    else:
        msg = f"{e.label} {what}, which the other branch of the merge{where} does not{hint}: {merge_msg}"
    return Issue("CVL005", e.site, msg, key=(axis, "blamed"), layer=e.layer, arguments=arguments,
                 related=((f"the tensors meet at this {ev.op}", ev.site),))
