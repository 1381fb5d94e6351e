from convlint.rules import ERROR, Rule

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
    invalid=("import torch.nn as nn\n\nclass E(nn.Module):  # convlint: input=(1, 3, 8, 8)\n    def __init__(self):\n        super().__init__()\n        self.net = nn.Sequential(nn.Conv2d(3, 8, 4, 2, 1), nn.Conv2d(8, 16, 4, 2, 1), nn.Conv2d(16, 32, 4, 2, 1), nn.Conv2d(32, 64, 4))\n\n    def forward(self, x):\n        return self.net(x)\n",),
)
