"""CVL009: the model's output differs from its declared ``output=``."""

from convlint.interpret.events import Issue
from convlint.interpret.tensor import Tensor, fmt_shape
from convlint.interpret.values import Site
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
    fix="Fix the layer the chain of sizes points at (see the accompanying CVL004 when there is one), or correct the declaration.",
    valid=("import torch.nn as nn\n\nclass AE(nn.Module):  # convlint: input=(1, 1, 64, 64) output=(1, 1, 64, 64)\n    def __init__(self):\n        super().__init__()\n        self.net = nn.Sequential(nn.Conv2d(1, 4, 3), nn.ConvTranspose2d(4, 1, 3))\n\n    def forward(self, x):\n        return self.net(x)\n",),
    invalid=(
        Invalid(
            'import torch.nn as nn\n\nclass AE(nn.Module):  # convlint: input=(1, 1, 64, 64) output=(1, 1, 64, 64)\n    def __init__(self):\n        super().__init__()\n        self.net = nn.Sequential(nn.Conv2d(1, 4, 3), nn.ConvTranspose2d(4, 1, 3, padding=1))\n\n    def forward(self, x):\n        return self.net(x)\n',
            line=3,
            message='AE returns (1, 1, 62, 62), but its declared output is (1, 1, 64, 64)',
        ),
    ),
)


def first_tensor(v):
    if isinstance(v, Tensor):
        return v
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
    return [Issue("CVL009", site, f"{run.entry.name} returns {fmt_shape(out.shape)}, but its declared output is {fmt_shape(want)} (dim {i}: {trail(out, i)})", key=("dims",))]
