"""CVL006: a strided window that never reads the input's last rows, in every framework."""

from convlint.interpret.events import Issue
from convlint.rules import Invalid, Rule, WARNING

RULE = Rule(
    code="CVL006",
    name="lossy-downsampling",
    severity=WARNING,
    summary="A strided conv or pool never reads the last rows or columns of its input.",
    what="""
For the known input size, reports a strided conv or pool whose last window ends before the end of the
real (unpadded) input, so trailing rows or columns are silently dropped — e.g. `MaxPool2d(2)` on a size of
63, or a 3×3 stride-2 conv without padding on an even size. It reads the canonical windows every
framework's arguments translate to, so torch layers and functions, `lax.conv_general_dilated` and flax
`nn.Conv`/`nn.max_pool` are checked alike.
""",
    why="""
The dropped rows are lost information, and the decoder that mirrors this step cannot restore the original
size without an `output_padding` or a pad: the usual root cause of an off-by-one in the output.
""",
    example="""
import torch.nn as nn

class Down(nn.Module):  # convlint: input=(1, 3, 63, 63)
    def __init__(self):
        super().__init__()
        self.pool = nn.MaxPool2d(2)

    def forward(self, x):
        return self.pool(x)
""",
    fix="Use an input size the strides divide, pad the input first, or use `ceil_mode=True` for a pool.",
    valid=(
        'import flax.linen as nn\n\n\nclass Encoder(nn.Module):  # convlint: input=(1, 64, 64, 3)\n    @nn.compact\n    def __call__(self, x):\n        return nn.Conv(16, kernel_size=(3, 3), strides=(2, 2), padding="SAME")(x)\n',
        'import jax.numpy as jnp\nfrom jax import lax\n\nx = jnp.ones((1, 3, 64, 64))\nw = jnp.ones((16, 3, 3, 3))\ny = lax.conv_general_dilated(x, w, window_strides=(2, 2), padding="SAME")\n',"import torch.nn as nn\n\nclass Down(nn.Module):  # convlint: input=(1, 3, 64, 64)\n    def __init__(self):\n        super().__init__()\n        self.pool = nn.MaxPool2d(2)\n\n    def forward(self, x):\n        return self.pool(x)\n",),
    invalid=(
        Invalid(
            'import flax.linen as nn\n\n\nclass Encoder(nn.Module):  # convlint: input=(1, 64, 64, 3)\n    @nn.compact\n    def __call__(self, x):\n        return nn.Conv(16, kernel_size=(3, 3), strides=(2, 2), padding="VALID")(x)\n',
            line=7,
            message='Conv never reads the last 1 of 64 (spatial dim 0, stride 2, output 31)',
        ),
        Invalid(
            'import jax.numpy as jnp\nfrom jax import lax\n\nx = jnp.ones((1, 3, 64, 64))\nw = jnp.ones((16, 3, 3, 3))\ny = lax.conv_general_dilated(x, w, window_strides=(2, 2), padding="VALID")\n',
            line=6,
            message='conv_general_dilated never reads the last 1 of 64',
        ),
        Invalid(
            'import torch.nn as nn\n\nclass Down(nn.Module):  # convlint: input=(1, 3, 63, 63)\n    def __init__(self):\n        super().__init__()\n        self.pool = nn.MaxPool2d(2)\n\n    def forward(self, x):\n        return self.pool(x)\n',
            line=6,
            message='pool never reads the last 1 of 63 (spatial dim 0, stride 2, output 31)',
        ),
    ),
)


def check(run) -> list:
    out = []
    for ev in run.trace.events:
        if ev.family not in ("conv", "pool") or ev.transposed or ev.ceil_mode or not ev.windows or len(ev.windows) != len(ev.spatial_in):
            continue
        lost_dims = []
        for axis_i, (w, i) in enumerate(zip(ev.windows, ev.spatial_in)):
            if not isinstance(i, int) or w.stride == 1 or w.effective_kernel < w.stride or w.input_dilation != 1:
                # a window narrower than its stride decimates on purpose: rows between windows are
                # skipped everywhere, the tail is not special
                continue
            # the conv's own padding, and the rows an explicit pad right before added, are no data
            # (timm's BlurPool2d: F.pad by 1, then a 3×3 window with stride 2)
            tail = ev.pad_tail[axis_i] if axis_i < len(ev.pad_tail) and isinstance(ev.pad_tail[axis_i], int) else 0
            lost = w.dropped(i) - w.pad_hi - tail
            if lost > 0 and w.padded_input(i) >= w.effective_kernel:
                lost_dims.append((axis_i, i, lost, w))
        if not lost_dims:
            continue
        parts = [f"the last {lost} of {i} (spatial dim {axis_i}, stride {w.stride}, output {w.output_size(i)})" for axis_i, i, lost, w in lost_dims]
        out.append(Issue("CVL006", ev.site, f"{ev.label} never reads " + "; ".join(parts) + ": the input's trailing rows are dropped", key=tuple(ev.spatial_in)))
    return out
