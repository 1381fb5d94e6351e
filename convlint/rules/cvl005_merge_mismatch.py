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
    fix="Pad the convolution (`padding=1` for a 3×3 kernel), or crop/pad one branch to the other's size before joining.",
    valid=("import torch.nn as nn\n\nclass Block(nn.Module):  # convlint: input=(1, 8, 32, 32)\n    def __init__(self):\n        super().__init__()\n        self.conv = nn.Conv2d(8, 8, 3, padding=1)\n\n    def forward(self, x):\n        return x + self.conv(x)\n",),
    invalid=(
        Invalid(
            'import torch.nn as nn\n\nclass Block(nn.Module):  # convlint: input=(1, 8, 32, 32)\n    def __init__(self):\n        super().__init__()\n        self.conv = nn.Conv2d(8, 8, 3)\n\n    def forward(self, x):\n        return x + self.conv(x)\n',
            line=9,
            message="'+' joins tensors that differ in dim 2: 32 (from input: 32) and 30 (from conv: 32 → 30)",
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
            if broadcast_mismatch(x, y):
                return (axis, 0, 1)
        return None
    if not all(op.exact_rank for op in ops):
        return None  # the dims are counted from the front, and a rank is only a lower bound
    n = len(ops[0].shape)
    for j in range(1, len(ops)):
        for axis in range(n):
            if axis == ev.joined:
                continue
            if mismatch(ops[0].shape[axis], ops[j].shape[axis]):
                return (axis, 0, j)
    return None


def unrepaired_cause(ev: MergeEvent):
    """The upsampling step feeding the merge whose size mismatch was never repaired, or None."""
    for op in ev.operands:
        for step in op.pending:
            if step.mismatch is not None and not step.repaired:
                return step
    return None


def check(run) -> list:
    """The findings of this rule, and a model that accepts no input size because of CVL005's kind of
    constraint (:func:`convlint.interpret.sizing.no_size_issues`)."""
    from convlint.interpret.sizing import no_size_issues

    return _check(run) + no_size_issues(run, "CVL005")


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
        if ev.joined is not None:
            msg += f"; only dim {ev.joined} may differ"
        cause = unrepaired_cause(ev)
        if cause is not None:
            cev = cause.event
            pos = cev.site.module.parsed.position(cev.site.node) if cev.site.module is not None and cev.site.node is not None else None
            msg += f"; the upsampling {cev.label}" + (f" (line {pos[0]})" if pos else "") + " does not restore its encoder's size (CVL004)"
        out.append(Issue("CVL005", ev.site, msg, key=(axis,)))
    return out
