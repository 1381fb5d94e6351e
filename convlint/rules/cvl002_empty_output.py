"""CVL002: a conv or pool whose output size is below 1 for the input it gets."""

from convlint.interpret.events import Issue
from convlint.rules import ERROR, Invalid, Rule

RULE = Rule(
    code="CVL002",
    name="empty-output",
    severity=ERROR,
    summary="For the known input, a conv or pool yields a spatial size below 1.",
    what="""
Pushes the declared input through the model and reports the first layer whose window is larger than its
padded input. torch raises at that layer; jax silently returns an array with a zero-size dimension.
""",
    why="""
A stack of strided layers that is one step too deep for the input size, or a kernel larger than a small
feature map, fails only when data of that size arrives — or, in JAX, quietly produces empty arrays.
""",
    example="""
import torch.nn as nn

class Encoder(nn.Module):  # convlint: input=(1, 3, 8, 8)
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Conv2d(3, 8, 4, 2, 1), nn.Conv2d(8, 16, 4, 2, 1), nn.Conv2d(16, 32, 4, 2, 1), nn.Conv2d(32, 64, 4))

    def forward(self, x):
        return self.net(x)
""",
    fix="Remove a downsampling step, pad the input, or use a smaller kernel for the last layer.",
    valid=("import torch.nn as nn\n\nclass E(nn.Module):  # convlint: input=(1, 3, 8, 8)\n    def __init__(self):\n        super().__init__()\n        self.net = nn.Sequential(nn.Conv2d(3, 8, 4, 2, 1), nn.Conv2d(8, 16, 4, 2, 1))\n\n    def forward(self, x):\n        return self.net(x)\n",),
    invalid=(
        Invalid(
            'import torch.nn as nn\n\nclass E(nn.Module):  # convlint: input=(1, 3, 8, 8)\n    def __init__(self):\n        super().__init__()\n        self.net = nn.Sequential(nn.Conv2d(3, 8, 4, 2, 1), nn.Conv2d(8, 16, 4, 2, 1), nn.Conv2d(16, 32, 4, 2, 1), nn.Conv2d(32, 64, 4))\n\n    def forward(self, x):\n        return self.net(x)\n',
            line=6,
            message='net.3 gives output size -2 (input (1, 32, 1, 1) from net.2): the padded input 1 is smaller than the dilated kernel 4',
        ),
    ),
)


def check(run) -> list:
    """The findings of this rule, and a model that accepts no input size because of CVL002's kind of
    constraint (:func:`convlint.interpret.sizing.no_size_issues`)."""
    from convlint.interpret.sizing import no_size_issues

    return _check(run) + no_size_issues(run, "CVL002")


def _check(run) -> list:
    from convlint.interpret.symbolic import Sym, always_below_one
    from convlint.interpret.tensor import fmt_shape

    out = []
    for ev in run.trace.events:
        if ev.family not in ("conv", "pool") or not ev.spatial_out:
            continue
        raw = ev.spatial_out
        if any(isinstance(o, int) and o < 1 for o in raw):
            where = f" (input {fmt_shape(ev.input)} from {ev.input_label})" if ev.input_label else f" (input {fmt_shape(ev.input)})"
            if ev.transposed:
                why = "the transposed convolution's output is too small"
            elif ev.windows and len(ev.windows) == len(ev.spatial_in) and all(isinstance(i, int) for i in ev.spatial_in):
                padded = _show(tuple(w.padded_input(i) for w, i in zip(ev.windows, ev.spatial_in)))
                extent = _show(tuple(w.effective_kernel for w in ev.windows))
                what = "dilated kernel" if ev.family == "conv" else "window"
                why = f"the padded input {padded} is smaller than the {what} {extent}"
            else:
                why = "the window is larger than the padded input"
            msg = f"{ev.label} gives output size {_show(raw)}{where}: {why}"
            if ev.framework in ("jax", "flax"):
                msg += " (jax returns a zero-size array instead of raising)"
            out.append(Issue("CVL002", ev.site, msg, key=("empty", tuple(ev.spatial_in))))
        elif any(isinstance(o, Sym) and always_below_one(o) for o in raw):
            out.append(Issue("CVL002", ev.site, f"{ev.label} yields an empty output for every input size", key=("sym",)))
    return out


def _show(sizes) -> str:
    sizes = tuple(sizes)
    if sizes and all(s == sizes[0] for s in sizes):
        return str(sizes[0])
    return "×".join(str(s) for s in sizes)
