"""CVL003: a layer applied to a channel (feature) count or a rank it was not built for."""

from convlint.interpret.events import ChannelEvent, Issue, RankEvent
from convlint.rules import ERROR, Invalid, Rule

RULE = Rule(
    code="CVL003",
    name="channel-mismatch",
    severity=ERROR,
    summary="A layer gets a channel or feature count it was not built for.",
    what="""
Follows channel counts along the forward path and compares them with what each layer was built for: a
conv's `in_channels` (times `groups`), `BatchNorm`/`GroupNorm`/`InstanceNorm` feature counts, a `Linear`'s
`in_features` after a flatten, `LayerNorm`'s normalized shape, the features of a `lax` kernel. It also
reports an input of the wrong rank for a layer. Works without a declared input when the channels are
known from the model's own code.
""",
    why="""
Channel bookkeeping breaks whenever a block is edited, a skip connection is concatenated, or a list of
widths is reversed for the decoder; the error appears only at the first forward pass.
""",
    example="""
import torch
import torch.nn as nn

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.a = nn.Conv2d(3, 16, 3, padding=1)
        self.b = nn.Conv2d(32, 32, 3, padding=1)

    def forward(self, x):
        return self.b(self.a(x))
""",
    fix="Build the layer with the channel count it receives (`nn.Conv2d(16, 32, …)`), or concatenate what it expects.",
    valid=("import torch.nn as nn\n\nclass Net(nn.Module):\n    def __init__(self):\n        super().__init__()\n        self.a = nn.Conv2d(3, 16, 3, padding=1)\n        self.b = nn.Conv2d(16, 32, 3, padding=1)\n\n    def forward(self, x):\n        return self.b(self.a(x))\n",),
    invalid=(
        Invalid(
            'import torch.nn as nn\n\nclass Net(nn.Module):\n    def __init__(self):\n        super().__init__()\n        self.a = nn.Conv2d(3, 16, 3, padding=1)\n        self.b = nn.Conv2d(32, 32, 3, padding=1)\n\n    def forward(self, x):\n        return self.b(self.a(x))\n',
            line=7,
            message='b expects 32 input channels, but gets 16 (from a',
        ),
    ),
)


def _variables(*sizes) -> set:
    from convlint.interpret.symbolic import Sym

    return set().union(*(s.variables() for s in sizes if isinstance(s, Sym)))


def check(run) -> list:
    from convlint.frameworks.shapes import mismatch
    from convlint.interpret.tensor import fmt_shape

    out = []
    for ev in run.trace.checks:
        if isinstance(ev, ChannelEvent):
            if isinstance(ev.groups, int) and ev.groups > 1 and isinstance(ev.got, int) and ev.got % ev.groups:
                out.append(Issue("CVL003", ev.site, f"{ev.label}: {ev.got} {ev.what} are not divisible by {ev.groups} groups (input shape {fmt_shape(ev.input)})", key=("groups", ev.got)))
            elif mismatch(ev.expected, ev.got):
                src = f" (from {ev.source}, shape {fmt_shape(ev.input)})" if ev.source else f" (input shape {fmt_shape(ev.input)})"
                every = " for every value of " + ", ".join(sorted(_variables(ev.expected, ev.got))) if _variables(ev.expected, ev.got) else ""
                out.append(Issue("CVL003", ev.site, f"{ev.label} expects {ev.expected} {ev.what}, but gets {ev.got}{every}{src}", key=(str(ev.expected), str(ev.got)),
                                 layer=ev.layer, arguments=(ev.argument,) if ev.argument else ()))
        elif isinstance(ev, RankEvent) and ev.got not in ev.accepted:
            if ev.what:
                msg = f"{ev.label} has {ev.what} but gets a {ev.got}-d input {fmt_shape(ev.input)}"
            else:
                ranks = " (or unbatched ".join(f"{r}-d" for r in ev.accepted[:2]) + (")" if len(ev.accepted) > 1 else "")
                msg = f"{ev.label} expects a {ranks} input, but gets {ev.got}-d {fmt_shape(ev.input)}"
            out.append(Issue("CVL003", ev.site, msg, key=("rank",)))
    return out
