"""A flax.linen autoencoder for 64×64 RGB images (channels last). No planted bug: convlint
follows 'SAME' padding, strides and ConvTranspose through it and reports nothing."""

import flax.linen as nn
import jax
import jax.numpy as jnp


class Encoder(nn.Module):
    latent: int = 64

    @nn.compact
    def __call__(self, x):
        x = nn.relu(nn.Conv(32, kernel_size=(4, 4), strides=(2, 2), padding="SAME")(x))  # 64 -> 32
        x = nn.relu(nn.Conv(64, kernel_size=(4, 4), strides=(2, 2), padding="SAME")(x))  # 32 -> 16
        return nn.Conv(self.latent, kernel_size=(3, 3), padding="SAME")(x)


class Decoder(nn.Module):
    channels: int = 3

    @nn.compact
    def __call__(self, z):
        z = nn.relu(nn.ConvTranspose(64, kernel_size=(4, 4), strides=(2, 2), padding="SAME")(z))  # 16 -> 32
        z = nn.relu(nn.ConvTranspose(32, kernel_size=(4, 4), strides=(2, 2), padding="SAME")(z))  # 32 -> 64
        return nn.sigmoid(nn.Conv(self.channels, kernel_size=(3, 3), padding="SAME")(z))


# convlint: input=(8, 64, 64, 3) output=(8, 64, 64, 3)
class AutoEncoder(nn.Module):
    def setup(self):
        self.encoder = Encoder()
        self.decoder = Decoder()

    def __call__(self, x):
        return self.decoder(self.encoder(x))


if __name__ == "__main__":
    images = jnp.zeros((8, 64, 64, 3))
    params = AutoEncoder().init(jax.random.PRNGKey(0), images)
    print(AutoEncoder().apply(params, images).shape)
