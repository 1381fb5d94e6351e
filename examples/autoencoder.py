"""A small convolutional autoencoder for 28×28 grey images (MNIST-sized).

Planted bug (CVL004, fixable): the last transposed conv lacks ``output_padding=1``, so the
decoder returns 27×27 images instead of 28×28. ``convlint check --fix`` adds it.
"""

import torch
from torch import nn


# convlint: input=(16, 1, 28, 28)
class ConvAutoEncoder(nn.Module):
    def __init__(self, latent_channels: int = 32):
        super().__init__()
        self.encoder = nn.Sequential(
            nn.Conv2d(1, 16, kernel_size=3, stride=2, padding=1),  # 28 -> 14
            nn.ReLU(),
            nn.Conv2d(16, latent_channels, kernel_size=3, stride=2, padding=1),  # 14 -> 7
            nn.ReLU(),
        )
        self.decoder = nn.Sequential(
            nn.ConvTranspose2d(latent_channels, 16, kernel_size=3, stride=2, padding=1, output_padding=1),  # 7 -> 14
            nn.ReLU(),
            nn.ConvTranspose2d(16, 1, kernel_size=3, stride=2, padding=1),  # 14 -> 27, not 28
            nn.Sigmoid(),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decoder(self.encoder(x))


if __name__ == "__main__":
    model = ConvAutoEncoder()
    batch = torch.rand(16, 1, 28, 28)
    print(model(batch).shape)
