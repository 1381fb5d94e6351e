"""convlint: a static linter for convolution shapes in PyTorch and JAX/Flax model code.

The public library API is the arithmetic core (``convlint.arith``), re-exported here.
Importing ``convlint`` never imports torch or jax.
"""

__version__ = "0.1.0"
