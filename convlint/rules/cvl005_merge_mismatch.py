from convlint.rules import ERROR, Rule

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
    invalid=("import torch.nn as nn\n\nclass Block(nn.Module):  # convlint: input=(1, 8, 32, 32)\n    def __init__(self):\n        super().__init__()\n        self.conv = nn.Conv2d(8, 8, 3)\n\n    def forward(self, x):\n        return x + self.conv(x)\n",),
)
