"""Flax linen's convolution arithmetic: ``nn.Conv``, ``nn.ConvLocal`` and ``nn.ConvTranspose``.

Flax wraps lax: ``Conv`` calls ``conv_general_dilated`` and ``ConvTranspose`` calls
``conv_transpose``. Its own twists: an int padding ``p`` means ``[(p, p)] * rank``;
``'CIRCULAR'``/``'REFLECT'`` (and ``'CAUSAL'`` in 1-d) pad the input with ``jnp.pad`` and then
run ``'VALID'``; an int padding on ``ConvTranspose`` is padding of the transposed conv, so a
larger ``p`` gives a *larger* output — the opposite of torch's ``ConvTranspose(padding=p)``.
"""

from __future__ import annotations

from collections.abc import Sequence

from convlint.arith import lax as _lax
from convlint.arith.core import ConvArithmeticError, Window, expand, require_ints, require_positive


def kernel_tuple(kernel_size) -> tuple[int, ...]:
    """Flax reads an int kernel_size as a 1-d kernel ``(k,)``."""
    if isinstance(kernel_size, int) and not isinstance(kernel_size, bool):
        return (kernel_size,)
    if isinstance(kernel_size, (tuple, list)):
        require_ints(kernel_size, "kernel_size")
        return tuple(kernel_size)
    raise ConvArithmeticError(f"kernel_size={kernel_size!r} is not an int or a tuple", constraint="kernel_size is a tuple", argument="kernel_size")


def _checked_kernel(kernel_size, input_sizes) -> tuple[int, ...]:
    """The kernel tuple, whose rank must be the input's spatial rank."""
    k = kernel_tuple(kernel_size)
    if len(input_sizes) != len(k):
        raise ConvArithmeticError(
            f"kernel_size={k!r} is {len(k)}-d but the input has {len(input_sizes)} spatial dimensions",
            constraint="kernel rank equals the input's spatial rank",
            argument="kernel_size",
        )
    require_positive(k, "kernel_size")
    return k


def _broadcast(value, rank: int, name: str) -> tuple[int, ...]:
    if value is None:
        return (1,) * rank
    return expand(value, rank, name, allow_single_in_list=False)


def canonicalize_padding(padding, rank: int):
    """Flax's ``canonicalize_padding``: a string, or ``rank`` (low, high) pairs."""
    if isinstance(padding, str):
        return padding
    if isinstance(padding, int) and not isinstance(padding, bool):
        return [(padding, padding)] * rank
    if isinstance(padding, (tuple, list)) and len(padding) == rank:
        pairs = []
        for p in padding:
            if isinstance(p, int) and not isinstance(p, bool):
                pairs.append((p, p))
            elif isinstance(p, (tuple, list)) and len(p) == 2:
                require_ints(p, "padding")
                pairs.append((p[0], p[1]))
            else:
                break
        if len(pairs) == rank:
            return pairs
    raise ConvArithmeticError(
        f"padding={padding!r}: flax takes a string, an int, or {rank} ints or (low, high) pairs",
        constraint="padding is str, int or per-dimension pairs",
        argument="padding",
    )


def flax_conv(
    input_sizes: Sequence[int],
    kernel_size,
    strides=1,
    padding="SAME",
    input_dilation=1,
    kernel_dilation=1,
) -> tuple[Window, ...]:
    """``flax.linen.Conv`` (and ``ConvLocal``) on NHWC inputs: spatial sizes in, windows out."""
    k = _checked_kernel(kernel_size, input_sizes)
    rank = len(k)
    s = _broadcast(strides, rank, "strides")
    ld = _broadcast(input_dilation, rank, "input_dilation")
    kd = _broadcast(kernel_dilation, rank, "kernel_dilation")
    require_positive(s, "strides")
    require_positive(ld, "input_dilation")
    require_positive(kd, "kernel_dilation")
    pad = canonicalize_padding(padding, rank)
    pre: list[tuple[int, int]] = [(0, 0)] * rank
    if pad in ("CIRCULAR", "REFLECT"):
        eff = [(kk - 1) * dd + 1 for kk, dd in zip(k, kd)]
        pre = [((e - 1) // 2, e // 2) for e in eff]
        pad = "VALID"
    elif pad == "CAUSAL":
        if rank != 1:
            raise ConvArithmeticError(
                "padding='CAUSAL' is only implemented for 1-d convolutions", constraint="CAUSAL is 1-d", argument="padding"
            )
        pre = [(kd[0] * (k[0] - 1), 0)]
        pad = "VALID"
    padded_in = [i + lo + hi for i, (lo, hi) in zip(input_sizes, pre)]
    windows = _lax.lax_conv_general_dilated(padded_in, k, s, pad, ld, kd)
    return tuple(
        Window(w.kernel, w.stride, w.dilation, w.input_dilation, w.pad_lo, w.pad_hi, lo, hi) for w, (lo, hi) in zip(windows, pre)
    )


def flax_conv_transpose(
    input_sizes: Sequence[int],
    kernel_size,
    strides=1,
    padding="SAME",
    kernel_dilation=1,
) -> tuple[Window, ...]:
    """``flax.linen.ConvTranspose``: ``lax.conv_transpose`` with flax's padding forms.

    ``'CIRCULAR'`` wraps the result to exactly ``i·s``, the size ``'SAME'`` gives: the windows
    returned for it are those of ``'SAME'`` (the same shape, not the same values).
    """
    k = _checked_kernel(kernel_size, input_sizes)
    rank = len(k)
    s = _broadcast(strides, rank, "strides")
    kd = _broadcast(kernel_dilation, rank, "kernel_dilation")
    pad = canonicalize_padding(padding, rank)
    if pad == "CIRCULAR":
        pad = "SAME"
    return _lax.lax_conv_transpose(input_sizes, k, s, pad, kd)
