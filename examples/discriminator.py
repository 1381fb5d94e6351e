"""A DCGAN discriminator for 64×64 RGB images, ported from a Keras model.

Planted bug (CVL001): Keras accepts ``padding="same"`` with ``strides=2``; torch rejects
``padding='same'`` for strided convolutions, so building the model fails
(``ValueError``). Use ``padding=1`` with the 4×4 kernel (64 -> 32).
"""

from torch import nn


def block(in_channels: int, out_channels: int, padding="same") -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, kernel_size=4, stride=2, padding=padding, bias=False),
        nn.BatchNorm2d(out_channels),
        nn.LeakyReLU(0.2, inplace=True),
    )


class Discriminator(nn.Module):  # convlint: input=(16, 3, 64, 64) output=(16, 1, 1, 1)
    def __init__(self, width: int = 64):
        super().__init__()
        self.features = nn.Sequential(
            block(3, width),  # 64 -> 32
            block(width, width * 2, padding=1),  # 32 -> 16
            block(width * 2, width * 4, padding=1),  # 16 -> 8
            block(width * 4, width * 8, padding=1),  # 8 -> 4
        )
        self.classifier = nn.Conv2d(width * 8, 1, kernel_size=4)  # 4 -> 1

    def forward(self, x):
        return self.classifier(self.features(x))
