"""Runtime confirmation: ask torch and jax themselves what the shapes are.

:mod:`convlint.confirm.layers` builds single layers (no user code runs); :mod:`convlint.confirm.trace`
imports and runs a user's whole model on meta tensors or under ``jax.eval_shape`` and records every
conv-family layer it applies (``--confirm=model``, and the oracle of the static engine's tests).
Neither imports torch, jax or flax at module import time: they are imported lazily, inside the
functions that need them.
"""
