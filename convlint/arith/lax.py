"""JAX's convolution arithmetic: ``lax.conv_general_dilated``, ``lax.conv``,
``lax.conv_with_general_padding`` and ``lax.conv_transpose``, with dimension numbers.

jax does not raise when the window is larger than the padded input: it returns a zero-size
dimension. :func:`lax_output` reproduces that (sizes clamp at 0); callers treat 0 as empty output.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from convlint.arith.core import ConvArithmeticError, Window, expand, require_ints, require_positive, show


@dataclass(frozen=True)
class DimensionNumbers:
    """Permutations as ``lax.ConvDimensionNumbers``: ``lhs_spec = (batch, feature, *spatial)``,
    ``rhs_spec = (out_feature, in_feature, *spatial)``, ``out_spec = (batch, feature, *spatial)``."""

    lhs_spec: tuple[int, ...]
    rhs_spec: tuple[int, ...]
    out_spec: tuple[int, ...]
    lhs_layout: str | None = None
    rhs_layout: str | None = None
    out_layout: str | None = None


def _spec_from_string(layout: str, first: str, second: str, what: str) -> tuple[int, ...]:
    if len(set(layout)) != len(layout):
        raise ConvArithmeticError(f"{what} layout {layout!r} repeats a letter", constraint="layout letters are distinct", argument="dimension_numbers")
    if first not in layout or second not in layout:
        raise ConvArithmeticError(
            f"{what} layout {layout!r} lacks {first!r} or {second!r}", constraint=f"{what} layout names {first} and {second}", argument="dimension_numbers"
        )
    spatial = [i for i, c in enumerate(layout) if c not in (first, second)]
    return (layout.index(first), layout.index(second), *spatial)


def dimension_numbers(rank: int, spec=None) -> DimensionNumbers:
    """Resolve ``dimension_numbers`` for operands of ``rank`` dimensions (2 + spatial).

    ``spec`` is None (NCHW/OIHW/NCHW, lax's default), a tuple of three layout strings such as
    ``('NHWC', 'HWIO', 'NHWC')``, or a tuple of three permutation tuples (a ``ConvDimensionNumbers``).
    The spatial dimensions are matched in the order of the rhs layout, as lax does.
    """
    if spec is None:
        ident = tuple(range(rank))
        return DimensionNumbers(ident, ident, ident, "NC" + "S" * (rank - 2), "OI" + "S" * (rank - 2), "NC" + "S" * (rank - 2))
    if not isinstance(spec, (tuple, list)) or len(spec) != 3:
        raise ConvArithmeticError(f"dimension_numbers={spec!r} is not three layouts", constraint="three layouts", argument="dimension_numbers")
    if all(isinstance(x, str) for x in spec):
        lhs, rhs, out = spec
        for layout in spec:
            if len(layout) != rank:
                raise ConvArithmeticError(
                    f"layout {layout!r} has {len(layout)} letters for arrays of rank {rank}",
                    constraint="layout length equals the array rank",
                    argument="dimension_numbers",
                )
        lhs_spec = _spec_from_string(lhs, "N", "C", "lhs")
        rhs_spec = _spec_from_string(rhs, "O", "I", "rhs")
        out_spec = _spec_from_string(out, "N", "C", "out")
        # lax orders the spatial dims of lhs/out by the rhs spatial letters
        rhs_spatial_letters = [rhs[i] for i in rhs_spec[2:]]
        for name, layout in (("lhs", lhs), ("out", out)):
            letters = [c for c in layout if c not in "NC"]
            if sorted(letters) != sorted(rhs_spatial_letters):
                raise ConvArithmeticError(
                    f"{name} layout {layout!r} and rhs layout {rhs!r} name different spatial dimensions",
                    constraint="layouts share spatial letters",
                    argument="dimension_numbers",
                )
        lhs_spec = (lhs_spec[0], lhs_spec[1], *(lhs.index(c) for c in rhs_spatial_letters))
        out_spec = (out_spec[0], out_spec[1], *(out.index(c) for c in rhs_spatial_letters))
        return DimensionNumbers(lhs_spec, rhs_spec, out_spec, lhs, rhs, out)
    if all(isinstance(x, (tuple, list)) for x in spec):
        perms = tuple(tuple(x) for x in spec)
        for p in perms:
            require_ints(p, "dimension_numbers")
            if sorted(p) != list(range(rank)):
                raise ConvArithmeticError(f"dimension_numbers {p!r} is not a permutation of range({rank})", constraint="permutation", argument="dimension_numbers")
        return DimensionNumbers(*perms)
    raise ConvArithmeticError(f"dimension_numbers={spec!r} mixes strings and tuples", constraint="three layouts", argument="dimension_numbers")


def padtype_to_pads(in_sizes: Sequence[int], window_sizes: Sequence[int], strides: Sequence[int], padding: str) -> list[tuple[int, int]]:
    """lax's ``'SAME'`` / ``'SAME_LOWER'`` / ``'VALID'``: SAME puts an odd extra pad on the high side,
    SAME_LOWER on the low side; both aim at ``ceil(i / s)`` outputs."""
    mode = padding.upper()
    if mode == "VALID":
        return [(0, 0)] * len(in_sizes)
    if mode not in ("SAME", "SAME_LOWER"):
        raise ConvArithmeticError(
            f"padding={padding!r} is not 'VALID', 'SAME' or 'SAME_LOWER'", constraint="known padding string", argument="padding"
        )
    pads = []
    for i, w, s in zip(in_sizes, window_sizes, strides):
        out = -(-i // s)
        total = max((out - 1) * s + w - i, 0)
        small, big = total // 2, total - total // 2
        pads.append((small, big) if mode == "SAME" else (big, small))
    return pads


def _explicit_pairs(padding, rank: int, name: str = "padding") -> tuple[tuple[int, int], ...]:
    if not isinstance(padding, (tuple, list)) or len(padding) != rank:
        raise ConvArithmeticError(
            f"{name}={padding!r} must be a string or {rank} (low, high) pairs",
            constraint="one (low, high) pair per spatial dimension",
            argument=name,
        )
    pairs = []
    for pair in padding:
        if not isinstance(pair, (tuple, list)) or len(pair) != 2:
            raise ConvArithmeticError(
                f"{name}={padding!r}: {pair!r} is not a (low, high) pair", constraint="(low, high) pairs", argument=name
            )
        require_ints(pair, name)
        pairs.append((pair[0], pair[1]))
    return tuple(pairs)


def _vector(value, rank: int, name: str, default: int = 1) -> tuple[int, ...]:
    if value is None:
        return (default,) * rank
    if isinstance(value, int) and not isinstance(value, bool):
        raise ConvArithmeticError(
            f"{name}={value!r}: lax takes a sequence of {rank} ints, not an int", constraint=f"{name} is a sequence", argument=name
        )
    return expand(value, rank, name, allow_single_in_list=False)


def lax_conv_general_dilated(
    input_sizes: Sequence[int],
    kernel_sizes: Sequence[int],
    window_strides=None,
    padding="VALID",
    lhs_dilation=None,
    rhs_dilation=None,
) -> tuple[Window, ...]:
    """``lax.conv_general_dilated`` on spatial input sizes and kernel sizes (in rhs spatial order)."""
    rank = len(kernel_sizes)
    k = tuple(kernel_sizes)
    require_positive(k, "kernel size")
    s = _vector(window_strides, rank, "window_strides")
    require_positive(s, "window_strides")
    lhs_d = _vector(lhs_dilation, rank, "lhs_dilation")
    require_positive(lhs_d, "lhs_dilation")
    rhs_d = _vector(rhs_dilation, rank, "rhs_dilation")
    require_positive(rhs_d, "rhs_dilation")
    if isinstance(padding, str):
        if any(v != 1 for v in lhs_d):
            raise ConvArithmeticError(
                f"padding={padding!r} with lhs_dilation={show(lhs_d)}: string padding is not implemented with input dilation",
                constraint="string padding needs lhs_dilation 1",
                argument="padding",
                fix="give explicit (low, high) pairs, or use lax.conv_transpose",
            )
        eff = [dd * (kk - 1) + 1 for kk, dd in zip(k, rhs_d)]
        pairs = tuple(padtype_to_pads(input_sizes, eff, s, padding))
    else:
        pairs = _explicit_pairs(padding, rank)
    return tuple(
        Window(kernel=kk, stride=ss, dilation=dd, input_dilation=ld, pad_lo=lo, pad_hi=hi)
        for kk, ss, dd, ld, (lo, hi) in zip(k, s, rhs_d, lhs_d, pairs)
    )


def lax_conv(input_sizes, kernel_sizes, window_strides, padding) -> tuple[Window, ...]:
    """``lax.conv(lhs, rhs, window_strides, padding)``: NCHW/OIHW, no dilation."""
    return lax_conv_general_dilated(input_sizes, kernel_sizes, window_strides, padding)


def lax_conv_with_general_padding(input_sizes, kernel_sizes, window_strides, padding, lhs_dilation, rhs_dilation) -> tuple[Window, ...]:
    """``lax.conv_with_general_padding``: NCHW/OIHW with dilations."""
    return lax_conv_general_dilated(input_sizes, kernel_sizes, window_strides, padding, lhs_dilation, rhs_dilation)


def conv_transpose_padding(k: int, s: int, padding) -> tuple[int, int]:
    """lax's padding of the fractionally strided conv behind ``conv_transpose`` (``k`` is the dilated kernel)."""
    if padding == "SAME":
        pad_len = k + s - 2
        pad_a = k - 1 if s > k - 1 else math.ceil(pad_len / 2)
    elif padding == "VALID":
        pad_len = k + s - 2 + max(k - s, 0)
        pad_a = k - 1
    elif isinstance(padding, tuple):
        pads = tuple(k - p - 1 for p in padding)
        pad_a = pads[0]
        pad_len = sum(pads)
    else:
        raise ConvArithmeticError(f"padding={padding!r} is not 'SAME', 'VALID' or pairs", constraint="known padding", argument="padding")
    return pad_a, pad_len - pad_a


def lax_conv_transpose(
    input_sizes: Sequence[int],
    kernel_sizes: Sequence[int],
    strides,
    padding,
    rhs_dilation=None,
    *,
    use_consistent_padding: bool = False,
) -> tuple[Window, ...]:
    """``lax.conv_transpose``: a conv with ``lhs_dilation = strides`` and stride 1.

    ``'SAME'``/``'VALID'`` name the padding of the forward conv (SAME gives ``i·s``). Explicit
    pairs are, by default, the padding of the transposed conv itself — *not* torch's
    ``padding``, which removes size. With ``use_consistent_padding=True`` (newer jax) pairs are
    read like torch: each side gets ``d(k−1) − p``.
    """
    rank = len(kernel_sizes)
    k = tuple(kernel_sizes)
    require_positive(k, "kernel size")
    s = _vector(strides, rank, "strides")
    require_positive(s, "strides")
    rhs_d = _vector(rhs_dilation, rank, "rhs_dilation")
    require_positive(rhs_d, "rhs_dilation")
    eff = [dd * (kk - 1) + 1 for kk, dd in zip(k, rhs_d)]
    if use_consistent_padding and isinstance(padding, str) and padding not in ("SAME", "VALID"):
        raise ConvArithmeticError(
            f"padding={padding!r} with use_consistent_padding=True: only 'SAME', 'VALID' or (low, high) pairs",
            constraint="padding is 'SAME', 'VALID' or pairs",
            argument="padding",
            fix="write 'SAME' or 'VALID' in upper case",
        )
    if use_consistent_padding and not isinstance(padding, str) and isinstance(padding, (tuple, list)):
        # jax reads each pair with isinstance(pair, tuple): a list pair is "an invalid padding mode"
        for pair in padding:
            if not isinstance(pair, tuple):
                raise ConvArithmeticError(
                    f"padding={padding!r} with use_consistent_padding=True: {pair!r} must be a tuple",
                    constraint="(low, high) pairs are tuples",
                    argument="padding",
                )
    if isinstance(padding, str) and padding not in ("SAME", "VALID"):
        # lax only special-cases the exact strings; any other string reaches conv_general_dilated,
        # which rejects string padding together with input dilation (the strides).
        if any(v != 1 for v in s):
            raise ConvArithmeticError(
                f"padding={padding!r}: lax.conv_transpose special-cases only 'SAME' and 'VALID' (upper case)",
                constraint="padding is 'SAME', 'VALID' or pairs",
                argument="padding",
                fix="write 'SAME' or 'VALID' in upper case",
            )
        pairs = padtype_to_pads(input_sizes, eff, s, padding)
    elif isinstance(padding, str):
        pairs = [conv_transpose_padding(e, ss, padding) for e, ss in zip(eff, s)]
    elif use_consistent_padding:
        pairs = [conv_transpose_padding(e, ss, m) for e, ss, m in zip(eff, s, _explicit_pairs(padding, rank))]
    else:
        pairs = list(_explicit_pairs(padding, rank))
    return tuple(
        Window(kernel=kk, stride=1, dilation=dd, input_dilation=ss, pad_lo=lo, pad_hi=hi)
        for kk, ss, dd, (lo, hi) in zip(k, s, rhs_d, pairs)
    )


def lax_output(input_sizes: Sequence[int], windows: Sequence[Window]) -> tuple[int, ...]:
    """Output sizes as jax computes them: clamped at 0 (a zero-size array, no error).

    Raises only where jax raises: negative padding larger than the (dilated) input.
    """
    out = []
    for i, w in zip(input_sizes, windows):
        padded = w.padded_input(i)
        if padded < 0:
            raise ConvArithmeticError(
                f"negative padding ({w.pad_lo}, {w.pad_hi}) is larger than the input size {i}",
                constraint="negative padding smaller than the input",
                argument="padding",
            )
        out.append(max(w.output_size(i), 0))
    return tuple(out)


def lax_reduce_window(
    input_sizes: Sequence[int],
    window_dimensions: Sequence[int],
    window_strides=None,
    padding="VALID",
    base_dilation=None,
    window_dilation=None,
) -> tuple[Window, ...]:
    """``lax.reduce_window`` (pooling) over every dimension of the operand: one window per
    dimension (size-1 windows on batch and feature dims are the identity).

    A string padding is resolved as lax resolves it: ``padtype_to_pads`` of the undilated operand
    sizes with the dilated window. Sizes clamp at 0 like the convolutions (:func:`lax_output`).
    """
    rank = len(window_dimensions)
    w = tuple(window_dimensions)
    require_positive(w, "window_dimensions")
    s = _vector(window_strides, rank, "window_strides")
    require_positive(s, "window_strides")
    bd = _vector(base_dilation, rank, "base_dilation")
    require_positive(bd, "base_dilation")
    wd = _vector(window_dilation, rank, "window_dilation")
    require_positive(wd, "window_dilation")
    if len(input_sizes) != rank:
        raise ConvArithmeticError(
            f"window_dimensions has {rank} values for an operand of rank {len(input_sizes)}",
            constraint="one window dimension per operand dimension",
            argument="window_dimensions",
        )
    if isinstance(padding, str):
        eff = [dd * (kk - 1) + 1 for kk, dd in zip(w, wd)]
        pairs = tuple(padtype_to_pads(input_sizes, eff, s, padding))
    else:
        pairs = _explicit_pairs(padding, rank)
    return tuple(
        Window(kernel=kk, stride=ss, dilation=dd, input_dilation=bb, pad_lo=lo, pad_hi=hi)
        for kk, ss, dd, bb, (lo, hi) in zip(w, s, wd, bd, pairs)
    )
