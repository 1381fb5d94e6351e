"""CVL001: a configuration the framework rejects, as the arithmetic core judges it."""

from convlint.interpret.events import ConfigEvent, Issue
from convlint.rules import ERROR, Invalid, Rule

RULE = Rule(
    code="CVL001",
    name="invalid-conv-config",
    severity=ERROR,
    summary="The framework itself would reject these convolution (or pooling, normalisation) arguments.",
    what="""
Resolves the arguments of every conv-family call — through imports, aliases, constants, loops and helper
functions — and asks the arithmetic core whether the framework accepts them: `output_padding` not smaller
than `stride` or `dilation`, `padding='same'` with a stride above 1, a string padding on a
`ConvTranspose`, channels not divisible by `groups`, a non-positive kernel, stride or dilation, negative
padding, argument lengths that disagree with the spatial rank, `lax` string padding with input dilation,
pooling padding above half the kernel, and the like.

A `None` that reaches a conv's `in_channels`, `out_channels`, `kernel_size`, `groups` (torch cannot build
the layer), `stride`, `padding` or `dilation` (its forward raises a `TypeError`) is reported too when it is
a fact: written at the call, or passed on a declared path (a declared model, or script code that builds
one) — a helper's `padding=None` default that its caller forgot to replace. A class run only with its own
defaults may hold placeholders its real caller replaces: there a `None` is unresolved (CVL008).
""",
    why="""
These errors surface only when the layer first runs — often deep in a training script, sometimes only on
CPU: torch's meta device accepts an `output_padding` that CPU and CUDA reject.
""",
    example="""
import torch.nn as nn

up = nn.ConvTranspose2d(64, 32, kernel_size=3, stride=2, padding=1, output_padding=2)
""",
    fix="""
Use an `output_padding` below `max(stride, dilation)`; `convlint solve --in 32 --out 64 -k 3 -s 2` prints
the padding and output_padding that reach a given size.
""",
    valid=(
        "import torch.nn as nn\n\nup = nn.ConvTranspose2d(64, 32, kernel_size=3, stride=2, padding=1, output_padding=1)\n",
        "from torch import nn\n\nK = 3\nconv = nn.Conv2d(16, 32, K, padding=K // 2)\n",
    ),
    invalid=(
        Invalid(
            'import torch.nn as nn\n\nup = nn.ConvTranspose2d(64, 32, kernel_size=3, stride=2, padding=1, output_padding=2)\n',
            line=3,
            message='output_padding=2 must be smaller than stride=2',
        ),
        Invalid(
            "from torch import nn\n\nconv = nn.Conv2d(16, 32, 3, stride=2, padding='same')\n",
            line=3,
            message="padding='same' is not supported for strided convolutions",
        ),
        Invalid(
            "from torch import nn\n\nconv = nn.Conv2d(16, 32, 3, stride=2, padding=None)\n",
            line=3,
            message="padding=None reaches the layer: torch builds the layer, but its forward raises a TypeError",
        ),
        Invalid(
            'import torch.nn as nn\n\ndef block(cin, cout, groups=3):\n    return nn.Conv2d(16, 32, 3, groups=groups)\n',
            line=4,
            message='in_channels=16 is not divisible by groups=3',
        ),
    ),
)


def check(run) -> list:
    out = []
    for ev in run.trace.of(ConfigEvent):
        err = ev.error
        msg = f"{ev.label}: {err.message}" + (f"; {err.fix}" if err.fix else "") + ev.context
        arg = getattr(err, "argument", None)
        out.append(Issue("CVL001", ev.site, msg, key=(err.constraint,), layer=ev.layer, arguments=(arg,) if arg else ()))
    return out
