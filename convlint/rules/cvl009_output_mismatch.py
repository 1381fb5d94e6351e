"""CVL009: the model's output differs from its declared ``output=``."""

from convlint.interpret.events import Issue
from convlint.interpret.tensor import Tensor, fmt_shape
from convlint.interpret.values import Instance, Site
from convlint.rules import ERROR, Invalid, Rule

RULE = Rule(
    code="CVL009",
    name="output-mismatch",
    severity=ERROR,
    summary="The model's output differs from its declared `output=`.",
    what="""
Compares the shape the model returns for its declared input with the `output=(…)` of its declaration
(pragma or `[[tool.convlint.model]]`). Symbolic names must match as expressions of the input's names. For
a model returning a tuple or list, the first tensor is compared.

The finding is on the layer where the actual and declared sizes part, with the declaration as a related
location: an upsampling step whose mismatch reaches the output (the root cause CVL004 names, when there is
one); else the layer after the last point where the size equalled the declared one (the input counts); else,
when it never did, the layer that produced the final size. When no layer can be named (a rank that differs),
the finding is on the model's `class`/`def` line.
""",
    why="""
The declared output is the contract with the loss function or the next stage; an autoencoder that returns
62×62 for a 64×64 input fails only when the loss is computed.
""",
    example="""
import torch.nn as nn

class AE(nn.Module):  # convlint: input=(1, 1, 64, 64) output=(1, 1, 64, 64)
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Conv2d(1, 4, 3), nn.ConvTranspose2d(4, 1, 3, padding=1))

    def forward(self, x):
        return self.net(x)
""",
    fix="Fix the layer the finding is on (see the accompanying CVL004 when there is one), or correct the declaration.",
    valid=("import torch.nn as nn\n\nclass AE(nn.Module):  # convlint: input=(1, 1, 64, 64) output=(1, 1, 64, 64)\n    def __init__(self):\n        super().__init__()\n        self.net = nn.Sequential(nn.Conv2d(1, 4, 3), nn.ConvTranspose2d(4, 1, 3))\n\n    def forward(self, x):\n        return self.net(x)\n",),
    invalid=(
        Invalid(
            'import torch.nn as nn\n\nclass AE(nn.Module):  # convlint: input=(1, 1, 64, 64) output=(1, 1, 64, 64)\n    def __init__(self):\n        super().__init__()\n        self.net = nn.Sequential(nn.Conv2d(1, 4, 3), nn.ConvTranspose2d(4, 1, 3, padding=1))\n\n    def forward(self, x):\n        return self.net(x)\n',
            line=6,
            message="AE returns (1, 1, 62, 62), but its declared output is (1, 1, 64, 64) (dim 2: 64 → 62); the sizes part at Conv2d 'net.0': 64 → 62",
        ),
    ),
)


def first_tensor(v):
    """The first tensor of a model's output: the output itself, the first of a tuple, list or dict
    that holds one, or the first field of an output dataclass (diffusers' ``DecoderOutput(sample=…)``,
    a flax ``struct.dataclass``) — its fields in order, or a dict subclass' items."""
    if isinstance(v, Tensor):
        return v
    if isinstance(v, Instance):
        t = first_tensor(v.data) if v.data else None
        if t is None and v.cls.fields:
            t = first_tensor([v.attrs.get(name) for name, _default in v.cls.fields])
        return t
    if isinstance(v, (tuple, list)):
        for x in v:
            t = first_tensor(x)
            if t is not None:
                return t
    if isinstance(v, dict):
        for x in v.values():
            t = first_tensor(x)
            if t is not None:
                return t
    return None


def _parting(run, out, axis, want):
    """The layer event where dim ``axis`` of the output leaves the declared size ``want`` for good
    (None when no single layer can be named).

    An upsampling step whose mismatch reaches the output is the root cause CVL004 names (the first
    step wrong on its own); otherwise the layer after the last point where the size equalled the
    declared one (the model's input counts), or — when it never did — the layer that produced the
    final size.
    """
    from convlint.frameworks.shapes import mismatch
    from convlint.rules.cvl004_decoder_mismatch import _roots

    order = {id(s): n for n, s in enumerate(run.trace.ups)}
    steps = sorted((s for s in out.pending if s.mismatch is not None and not s.repaired), key=lambda s: order.get(id(s), 0))
    if steps:
        return _roots(steps)[0][0].event
    events = run.trace.makers()
    n = len(out.shape)
    seq = [(events.get(id(shape)), shape[axis]) for _label, shape in out.history if shape is not None and len(shape) == n]
    if not seq:
        return None
    x = getattr(run.input, "shape", None)
    last_equal = None
    if x is not None and len(x) == n and not mismatch(x[axis], want):
        last_equal = -1
    for j, (_ev, d) in enumerate(seq):
        if not mismatch(d, want):
            last_equal = j
    if last_equal is not None:
        j = last_equal + 1
    else:  # never the declared size: the last layer that changed it
        j = len(seq) - 1
        while j > 0 and not mismatch(seq[j][1], seq[j - 1][1]):
            j -= 1
    if not 0 <= j < len(seq):
        return None
    return seq[j][0]


def check(run) -> list:
    """The findings of this rule, and a model that accepts no input size because of CVL009's kind of
    constraint (:func:`convlint.interpret.sizing.no_size_issues`)."""
    from convlint.interpret.sizing import no_size_issues

    return _check(run) + no_size_issues(run, "CVL009")


def _check(run) -> list:
    from convlint.frameworks.shapes import mismatch, trail
    from convlint.interpret.symbolic import Sym

    declared = run.entry.output
    if declared is None:
        return []
    out = first_tensor(run.output)
    if out is None or out.shape is None:
        return []
    want = tuple(d if isinstance(d, int) else Sym.var(d) for d in declared)
    node = run.entry.node.name if hasattr(run.entry.node, "name") else run.entry.node
    site = Site(run.module, node)
    if len(out.shape) != len(want):
        return [Issue("CVL009", site, f"{run.entry.name} returns a {len(out.shape)}-d {fmt_shape(out.shape)}, but its declared output is {fmt_shape(want)}", key=("rank",))]
    bad = [i for i, (g, w) in enumerate(zip(out.shape, want)) if mismatch(g, w)]
    if not bad:
        return []
    i = bad[0]
    msg = f"{run.entry.name} returns {fmt_shape(out.shape)}, but its declared output is {fmt_shape(want)} (dim {i}: {trail(out, i)})"
    ev = _parting(run, out, i, want[i])
    if ev is None or ev.site is None or ev.site.node is None:
        return [Issue("CVL009", site, msg, key=("dims",))]
    where = f"{ev.op.rsplit('.', 1)[-1]} '{ev.label}'" if ev.name else ev.op.rsplit(".", 1)[-1]
    sizes = ""
    if ev.input is not None and ev.output is not None and len(ev.input) == len(ev.output) == len(out.shape):
        sizes = f": {ev.input[i]} → {ev.output[i]}"
    msg += f"; the sizes part at {where}{sizes}"
    return [Issue("CVL009", ev.site, msg, key=("dims",), related=((f"{run.entry.name} declares output={fmt_shape(want)}", site),))]
