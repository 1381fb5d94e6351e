"""CVL004: pair each upsampling step with the downsampling step it mirrors, stack-wise along the
forward path; report the ones that do not restore the size (and were not padded or cropped after)."""

from convlint.interpret.events import Issue, MergeEvent
from convlint.interpret.symbolic import Sym, differ_example
from convlint.rules import ERROR, Invalid, Rule

RULE = Rule(
    code="CVL004",
    name="decoder-mismatch",
    severity=ERROR,
    summary="An upsampling step does not restore the size of the downsampling step it mirrors.",
    what="""
Walks the forward path: each strided conv or pool pushes the size it received; each upsampling step
(`ConvTranspose` with stride > 1, `Upsample`, `interpolate` by a factor, `lax.conv_transpose`, a
`conv_general_dilated` with `lhs_dilation`, flax `ConvTranspose`) pops the size it should restore. A
mismatch that is not repaired afterwards (by `F.pad`, a crop, or a resize to an explicit size) is reported
at the upsampling layer, with the chain of sizes and — for a torch `ConvTranspose` — the `padding` /
`output_padding` that restores the size.
""",
    why="""
An encoder/decoder pair that only works for even sizes, or a `ConvTranspose` that returns 62×62 instead of
64×64, breaks the skip connection or the loss at run time — often only for some input sizes.
""",
    example="""
import torch.nn as nn

class AE(nn.Module):  # convlint: input=(1, 1, 28, 28)
    def __init__(self):
        super().__init__()
        self.down = nn.Conv2d(1, 8, 3, stride=2, padding=1)
        self.up = nn.ConvTranspose2d(8, 1, 3, stride=2, padding=1)

    def forward(self, x):
        return self.up(self.down(x))
""",
    fix="""
Set the argument convlint prints (here `output_padding=1`: 28 → 14 → 27 becomes 28), or resize the
upsampled tensor to the skip's size before joining.
""",
    valid=("import torch.nn as nn\n\nclass AE(nn.Module):  # convlint: input=(1, 1, 28, 28)\n    def __init__(self):\n        super().__init__()\n        self.down = nn.Conv2d(1, 8, 3, stride=2, padding=1)\n        self.up = nn.ConvTranspose2d(8, 1, 3, stride=2, padding=1, output_padding=1)\n\n    def forward(self, x):\n        return self.up(self.down(x))\n",),
    invalid=(
        Invalid(
            'import torch.nn as nn\n\nclass AE(nn.Module):  # convlint: input=(1, 1, 28, 28)\n    def __init__(self):\n        super().__init__()\n        self.down = nn.Conv2d(1, 8, 3, stride=2, padding=1)\n        self.up = nn.ConvTranspose2d(8, 1, 3, stride=2, padding=1)\n\n    def forward(self, x):\n        return self.up(self.down(x))\n',
            line=7,
            message="gives 27×27, but the Conv2d 'down' (line 6) it mirrors took 28×28",
            fixed='import torch.nn as nn\n\nclass AE(nn.Module):  # convlint: input=(1, 1, 28, 28)\n    def __init__(self):\n        super().__init__()\n        self.down = nn.Conv2d(1, 8, 3, stride=2, padding=1)\n        self.up = nn.ConvTranspose2d(8, 1, 3, stride=2, padding=1, output_padding=1)\n\n    def forward(self, x):\n        return self.up(self.down(x))\n',
        ),
    ),
)


def _label(ev) -> str:
    op = ev.op.rsplit(".", 1)[-1]
    return f"{op} '{ev.name}'" if ev.name else op


def _line(site, here=None) -> str:
    """`` (line N)`` — or `` (path:N)`` when ``site`` is in another file than ``here``."""
    if site is None or site.node is None or site.module is None:
        return ""
    pos = site.module.parsed.position(site.node)
    if pos is None:
        return ""
    if here is not None and here.module is not None and here.module.parsed.path != site.module.parsed.path:
        return f" ({site.module.parsed.path}:{pos[0]})"
    return f" (line {pos[0]})"


def _fmt(sizes) -> str:
    if len(sizes) == 1:
        return str(sizes[0])
    return "×".join(str(s) for s in sizes)


def _sole_layer_of_its_site(run, layer) -> bool:
    """A fix edits the call that built the layer: certain only if that call built no other layer
    (a loop or a helper called twice builds several, which may need other arguments)."""
    node = layer.site.node
    return sum(1 for other in run.trace.layers if other.site.node is node) <= 1


def _collisions(run) -> dict:
    """Upsampling step -> the site of a merge it makes collide (CVL005 reports the merge)."""
    from convlint.rules.cvl005_merge_mismatch import mismatched_axis

    out: dict = {}
    for ev in run.trace.of(MergeEvent):
        if mismatched_axis(ev) is None:
            continue
        for op in ev.operands:
            for step in op.pending:
                if step.mismatch is not None and not step.repaired:
                    out.setdefault(id(step), ev.site)
    return out


def check(run) -> list:
    from convlint.frameworks import upsampling_fix
    from convlint.frameworks.base import Layer

    out = []
    collisions = _collisions(run)
    for step in run.trace.ups:
        if step.mismatch is None or step.repaired:
            continue
        got, want = step.mismatch
        ev = step.event
        partner = step.partner.event if step.partner is not None else None
        where = ""
        if partner is not None:
            where = f" the {_label(partner)}{_line(partner.site, ev.site)} it mirrors took {_fmt(want)}"
        example = ""
        if any(isinstance(v, Sym) for v in (*got, *want)):
            for g, w in zip(got, want):
                ex = differ_example(g, w)
                if ex is not None:
                    env = ", ".join(f"{k}={v}" for k, v in ex[2].items())
                    example = f" (for every input size; e.g. {env}: {ex[0]} instead of {ex[1]})"
                    break
        chain = ""
        if partner is not None and all(isinstance(v, int) for v in (*got, *want)):
            din = step.extra.get("in", ())
            chain = f": {_fmt(want)} → {_fmt(din)} → {_fmt(got)}" if din else ""
        merged = collisions.get(id(step))
        msg = f"{_label(ev)} gives {_fmt(got)}, but{where}{chain}{example}"
        if merged is not None:
            msg += f"; the tensors collide at the merge{_line(merged, ev.site)}"
        fix = None
        # the fix assumes what comes before is right: the layer should receive its partner's
        # output (an earlier bug may have changed what it receives now)
        din = step.partner.extra.get("out") if step.partner is not None else None
        if not din or not all(isinstance(v, int) for v in din):
            din = step.extra.get("in", ())
        if ev.layer is None or (isinstance(ev.layer, Layer) and _sole_layer_of_its_site(run, ev.layer)):
            fix = upsampling_fix(ev, din, want)
        if fix is not None:
            msg += f"; {fix.message} to restore {_fmt(want)}"
        out.append(Issue("CVL004", ev.site, msg, fix, key=(got, want)))
    return out
