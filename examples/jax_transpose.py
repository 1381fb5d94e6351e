"""A strided, dilated convolution in plain JAX and the transposed convolution meant to undo it.

Direct: 64×64 → 20×20 with a 5×5 kernel, stride 3, kernel dilation 2 and padding 2.
Transpose: lhs_dilation 3 brings 20×20 back to 64×64.

Planted bug (CVL007, a warning): the transpose uses kernel dilation 1 (and padding 5) where the
direct conv used 2. The shape comes out right, but the operation is not the transpose (the
gradient) of the direct conv. The adjoint uses rhs_dilation (2, 2) and padding (6, 8):
`convlint solve --in 64 --out 20 -k 5 -s 3 -d 2` prints it.
"""

import jax.numpy as jnp
from jax import lax

batch, channels, features = 32, 256, 64
images = jnp.ones((batch, channels, 64, 64))
kernel = jnp.ones((features, channels, 5, 5))  # OIHW

down = lax.conv_general_dilated(
    images,
    kernel,
    window_strides=(3, 3),
    padding=[(2, 2), (2, 2)],
    lhs_dilation=(1, 1),
    rhs_dilation=(2, 2),
    dimension_numbers=("NCHW", "OIHW", "NCHW"),
)  # (32, 64, 20, 20)

back_kernel = jnp.ones((channels, features, 5, 5))  # OIHW: features -> channels
up = lax.conv_general_dilated(
    down,
    back_kernel,
    window_strides=(1, 1),
    padding=[(5, 5), (5, 5)],
    lhs_dilation=(3, 3),
    rhs_dilation=(1, 1),
    dimension_numbers=("NCHW", "OIHW", "NCHW"),
)  # (32, 256, 64, 64)

print(down.shape, up.shape)
