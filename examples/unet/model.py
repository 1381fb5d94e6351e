"""A three-level U-Net for segmentation, built from the blocks in ``parts.py``.

Planted bugs:
- CVL005: the declared input is 100×100. The third max pool gets 25×25 and drops a row and a
  column (12×12); the transposed conv brings that back to 24×24, which ``torch.cat`` cannot join
  with the 25×25 skip connection (reported in ``parts.py``, where the cat is).
- CVL003: ``self.head`` is built for 32 input channels, but ``self.up3`` gives 64.
"""

import torch
from torch import nn

from parts import DoubleConv, Down, Up


class UNet(nn.Module):  # convlint: input=(4, 3, 100, 100) init(n_channels=3, n_classes=2)
    def __init__(self, n_channels: int, n_classes: int, width: int = 64):
        super().__init__()
        self.inc = DoubleConv(n_channels, width)
        self.down1 = Down(width, width * 2)
        self.down2 = Down(width * 2, width * 4)
        self.down3 = Down(width * 4, width * 8)
        self.up1 = Up(width * 8, width * 4)
        self.up2 = Up(width * 4, width * 2)
        self.up3 = Up(width * 2, width)
        self.head = nn.Conv2d(width // 2, n_classes, kernel_size=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x1 = self.inc(x)
        x2 = self.down1(x1)
        x3 = self.down2(x2)
        x4 = self.down3(x3)
        x = self.up1(x4, x3)
        x = self.up2(x, x2)
        x = self.up3(x, x1)
        return self.head(x)
