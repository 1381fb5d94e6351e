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
    fix="""
Build the layer with the channel count it receives (`nn.Conv2d(16, 32, …)`), or concatenate what it expects.
`--fix` sets a torch conv's `in_channels` to the count it gets when the call that builds it writes it as a
literal (in a helper's caller too) and re-analysis proves the whole model right with it.
""",
    valid=("import torch.nn as nn\n\nclass Net(nn.Module):\n    def __init__(self):\n        super().__init__()\n        self.a = nn.Conv2d(3, 16, 3, padding=1)\n        self.b = nn.Conv2d(16, 32, 3, padding=1)\n\n    def forward(self, x):\n        return self.b(self.a(x))\n",),
    invalid=(
        Invalid(
            'import torch.nn as nn\n\nclass Net(nn.Module):\n    def __init__(self):\n        super().__init__()\n        self.a = nn.Conv2d(3, 16, 3, padding=1)\n        self.b = nn.Conv2d(32, 32, 3, padding=1)\n\n    def forward(self, x):\n        return self.b(self.a(x))\n',
            line=7,
            message='b expects 32 input channels, but gets 16 (from a',
            fixed='import torch.nn as nn\n\nclass Net(nn.Module):\n    def __init__(self):\n        super().__init__()\n        self.a = nn.Conv2d(3, 16, 3, padding=1)\n        self.b = nn.Conv2d(16, 32, 3, padding=1)\n\n    def forward(self, x):\n        return self.b(self.a(x))\n',
        ),
    ),
)


def _variables(*sizes) -> set:
    from convlint.interpret.symbolic import Sym

    return set().union(*(s.variables() for s in sizes if isinstance(s, Sym)))


def _in_channels_fix(run, ev):
    """``in_channels=<what it gets>`` for a torch conv built by one call that is fed a known, wrong
    count (groups 1): the layer then takes what the model gives it. Offered only when re-analysis
    proves the whole model right with it (a later layer may have relied on the count)."""
    from convlint.frameworks.base import Layer
    from convlint.interpret.events import FixSpec

    layer = ev.layer
    if ev.argument != "in_channels" or not isinstance(layer, Layer) or layer.framework != "torch":
        return None
    if not (isinstance(ev.expected, int) and isinstance(ev.got, int) and ev.got > 0) or layer.params.get("groups", 1) != 1:
        return None
    call, sig = layer.extra.get("call"), layer.extra.get("sig")
    if call is None or sig is None or sig.index("in_channels") is None:
        return None
    if sum(1 for other in run.trace.layers if other.site.node is layer.site.node) > 1:
        from convlint.interpret.events import where_supplied

        where = where_supplied(layer, ("in_channels",))
        if where is None or sum(1 for o in run.trace.layers if (w := where_supplied(o, ("in_channels",))) is not None and w.node is where.node) > 1:
            return None
    return FixSpec(f"set in_channels={ev.got}", call, {"in_channels": str(ev.got)}, {"in_channels": sig.index("in_channels")})


def check(run) -> list:
    from convlint.frameworks.shapes import mismatch
    from convlint.interpret.tensor import fmt_shape

    out = []
    checks = [ev for ev in run.trace.checks if isinstance(ev, ChannelEvent)]
    for ev in run.trace.checks:
        if isinstance(ev, ChannelEvent):
            if isinstance(ev.groups, int) and ev.groups > 1 and isinstance(ev.got, int) and ev.got % ev.groups:
                out.append(Issue("CVL003", ev.site, f"{ev.label}: {ev.got} {ev.what} are not divisible by {ev.groups} groups (input shape {fmt_shape(ev.input)})", key=("groups", ev.got)))
            elif mismatch(ev.expected, ev.got):
                src = f" (from {ev.source}, shape {fmt_shape(ev.input)})" if ev.source else f" (input shape {fmt_shape(ev.input)})"
                every = " for every value of " + ", ".join(sorted(_variables(ev.expected, ev.got))) if _variables(ev.expected, ev.got) else ""
                fix = _in_channels_fix(run, ev)
                msg = f"{ev.label} expects {ev.expected} {ev.what}, but gets {ev.got}{every}{src}"
                out.append(Issue("CVL003", ev.site, msg, fix, key=(str(ev.expected), str(ev.got)),
                                 layer=ev.layer, arguments=(ev.argument,) if ev.argument else (),
                                 at_caller=_right_elsewhere(ev, checks)))
        elif isinstance(ev, RankEvent) and ev.got not in ev.accepted:
            if ev.what:
                msg = f"{ev.label} has {ev.what} but gets a {ev.got}-d input {fmt_shape(ev.input)}"
            else:
                ranks = " (or unbatched ".join(f"{r}-d" for r in ev.accepted[:2]) + (")" if len(ev.accepted) > 1 else "")
                msg = f"{ev.label} expects a {ranks} input, but gets {ev.got}-d {fmt_shape(ev.input)}"
            out.append(Issue("CVL003", ev.site, msg, key=("rank",)))
    return out


def _right_elsewhere(ev, checks) -> bool:
    """Is the code that built ``ev``'s layer right in another use: a layer built at the same line,
    along the same calls, but from another outermost call (``Up(512, ...)`` beside ``Up(256, ...)``
    where ``Up(512, ...)`` was meant), that gets the channels it expects? Then the value at fault
    came from that outermost call. Two layers of one block built by one helper from different
    parameters (``Normalize(in_channels)`` where ``Normalize(out_channels)`` was meant) are not
    other uses: their calls differ."""
    from convlint.frameworks.shapes import mismatch
    from convlint.interpret.events import where_supplied

    node = ev.site.node if ev.site is not None else None
    if node is None or ev.layer is None or not ev.argument:
        return False
    args = (ev.argument,)
    outer = where_supplied(ev.layer, args, via=True)
    if outer is None:
        return False
    inner = where_supplied(ev.layer, args)
    for other in checks:
        if other is ev or other.site is None or other.site.node is not node or other.argument != ev.argument or other.layer is None:
            continue
        if not (isinstance(other.expected, int) and isinstance(other.got, int)) or mismatch(other.expected, other.got):
            continue
        o_outer = where_supplied(other.layer, args, via=True)
        o_inner = where_supplied(other.layer, args)
        if o_outer is None or o_outer.node is outer.node:
            continue
        if (o_inner is None) != (inner is None) or (inner is not None and o_inner.node is not inner.node):
            continue
        return True
    return False
