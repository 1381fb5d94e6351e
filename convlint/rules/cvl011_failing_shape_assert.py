"""CVL011: a shape ``assert`` fails for the known shapes."""

from convlint.interpret.events import AssertEvent, Issue
from convlint.rules import ERROR, Invalid, Rule

_SKIP = '''import torch
from torch import nn


class Block(nn.Module):  # convlint: input=(1, 8, 32, 32)
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(8, 8, 3, padding=1)
        self.skip = nn.Conv2d(8, 8, 1, stride={stride})

    def forward(self, x):
        h = self.conv(x)
        s = self.skip(x)
        assert h.shape == s.shape
        return h + s
'''

_LAST_DIM = '''import flax.linen as nn
import jax.numpy as jnp


class Encoder(nn.Module):
    @nn.compact
    def __call__(self, x):
        x = nn.Conv(64, (3, 3), strides=2)(x)
        assert x.shape[-1] == {features}
        return x


params = Encoder().init(None, jnp.ones((1, 32, 32, 3)))
'''

_ATTRIBUTE = '''import torch.nn as nn


class Head(nn.Module):  # convlint: input=(2, 48, 7, 7) init(in_ch={in_ch})
    def __init__(self, in_ch):
        super().__init__()
        self.in_ch = in_ch
        self.proj = nn.Conv2d(in_ch, 10, 1)

    def forward(self, x):
        assert x.shape[1] == self.in_ch, "wrong channel count"
        return self.proj(x)
'''

_SYMBOLIC = '''import torch.nn as nn


class Down(nn.Module):  # convlint: input=(B, 3, H, W)
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, stride=2, padding=1)

    def forward(self, x):
        assert x.ndim == 4 and x.shape[-1] % 8 == 0
        return self.conv(x)
'''

RULE = Rule(
    code="CVL011",
    name="failing-shape-assert",
    severity=ERROR,
    summary="A shape `assert` fails for the known shapes.",
    what="""
Evaluates every `assert` that reads a tensor's shape (`.shape`, `.ndim`, `.size()`, `.dim()`) on the
shapes convlint computed for the model's input, and reports one that is false: `assert h.shape ==
skip.shape` where the two branches give different sizes, `assert x.shape[-1] == 64` after a layer that
gives 32 features, `assert x.shape[1] == self.in_ch` with the channels of the previous layer. The
message shows the values that decide it and the layers that made them.

An assert convlint cannot decide (a symbolic size, `H % 8 == 0`) is not reported; it is taken as a
fact where that is certain: `assert x.shape[1] == 64` gives an unknown channel count the value 64 for
the code after it.
""",
    why="""
A shape assert is the author's own statement of what the model needs; when it is false, the model
raises `AssertionError` on its first batch. The code after it never runs, so convlint cannot check
it either: without this finding the rest of the model would silently go unchecked.
""",
    example=_SKIP.format(stride=2),
    fix="""
Fix the layer that made the shape wrong (the message names it: here the 1×1 `skip` conv needs
`stride=1` to keep 32×32), or correct the assert when it states the wrong expectation.
""",
    valid=(
        _SKIP.format(stride=1),
        _LAST_DIM.format(features=64),
        _ATTRIBUTE.format(in_ch=48),
        _SYMBOLIC,
    ),
    invalid=(
        Invalid(_SKIP.format(stride=2), line=14, message="assert h.shape == s.shape fails: h.shape is (1, 8, 32, 32) (from conv), s.shape is (1, 8, 16, 16) (from skip)"),
        Invalid(_LAST_DIM.format(features=128), line=9, message="assert x.shape[-1] == 128 fails: x.shape[-1] is 64"),
        Invalid(_ATTRIBUTE.format(in_ch=64), line=11, message="assert x.shape[1] == self.in_ch fails: x.shape[1] is 48, self.in_ch is 64"),
    ),
)


def check(run) -> list:
    out = []
    for ev in run.trace.of(AssertEvent):
        shown = ", ".join(f"{expr} is {value}" for expr, value in ev.values)
        message = f"assert {ev.test} fails: {shown}" if shown else f"assert {ev.test} fails for the known shapes"
        out.append(Issue("CVL011", ev.site, message + "; the code after it never runs", key=(ev.test, ev.values)))
    return out
