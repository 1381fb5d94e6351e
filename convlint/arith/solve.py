"""Solvers: the padding that maps one size to another, and the transpose that undoes a conv.

All answers are exact and checked against the canonical formula before they are returned; an
impossible request raises :class:`~convlint.arith.core.ConvArithmeticError` naming the constraint.
Zero padding is a valid answer.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from convlint.arith.core import ConvArithmeticError, Window, require_non_negative, require_positive


@dataclass(frozen=True)
class PaddingSolution:
    """Padding ``(lo, hi)`` for one spatial dimension."""

    lo: int
    hi: int

    @property
    def symmetric(self) -> bool:
        return self.lo == self.hi

    @property
    def total(self) -> int:
        return self.lo + self.hi


def _check_size(name: str, value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConvArithmeticError(f"{name}={value!r} is not an integer", constraint=f"{name} is an integer", argument=name)
    if value < 1:
        raise ConvArithmeticError(f"{name}={value} must be at least 1", constraint=f"{name} ≥ 1", argument=name)


def solve_padding(i: int, o: int, kernel: int, stride: int = 1, dilation: int = 1, input_dilation: int = 1) -> PaddingSolution:
    """The padding that takes input size ``i`` to output size ``o``.

    Symmetric when some total padding in the feasible range is even, else the minimal asymmetric
    pair with the odd extra on the high side (where torch's ``'same'`` and lax's ``'SAME'`` put it).
    """
    _check_size("input", i)
    _check_size("output", o)
    require_positive((kernel,), "kernel_size")
    require_positive((stride,), "stride")
    require_positive((dilation,), "dilation")
    require_positive((input_dilation,), "input_dilation")
    dilated = (i - 1) * input_dilation + 1
    eff = dilation * (kernel - 1) + 1
    # o = floor((dilated + t - eff) / s) + 1  ⇔  (o-1)s ≤ dilated + t - eff ≤ (o-1)s + s - 1
    t_min = (o - 1) * stride + eff - dilated
    t_max = t_min + stride - 1
    if t_max < 0:
        raise ConvArithmeticError(
            f"no padding takes {i} to {o} with kernel {kernel}, stride {stride}, dilation {dilation}"
            + (f", input dilation {input_dilation}" if input_dilation != 1 else "")
            + f": even zero padding gives {Window(kernel, stride, dilation, input_dilation).output_size(i)}",
            constraint="output ≤ size reached with zero padding",
            argument="output",
        )
    lo_t = max(t_min, 0)
    even = lo_t if lo_t % 2 == 0 else lo_t + 1
    t = even if even <= t_max else lo_t
    sol = PaddingSolution(t // 2, t - t // 2)
    assert_maps(i, o, Window(kernel, stride, dilation, input_dilation, sol.lo, sol.hi))
    return sol


def assert_maps(i: int, o: int, window: Window) -> None:
    """Internal consistency check (never an ``assert`` statement): raise if ``window`` does not map i to o."""
    got = window.output_size(i)
    if got != o:
        raise ConvArithmeticError(f"internal error: {window} maps {i} to {got}, not {o}", constraint="solver consistency")


@dataclass(frozen=True)
class TransposeSolution:
    """The transpose of a direct conv ``i → o`` (kernel k, stride s, dilation d, padding (lo, hi)).

    ``canonical`` is the transposed conv in canonical form (``lhs_dilation = s``, ``rhs_dilation =
    d``, padding ``(d(k−1) − lo, d(k−1) − hi + r)`` with ``r`` the rows the direct conv drops), which
    maps ``o`` back to ``i`` and is the gradient of the direct conv. ``torch_padding`` /
    ``torch_output_padding`` are ``ConvTranspose`` arguments: with ``torch_exact`` True they compute
    exactly the canonical window (always so for a symmetric direct padding); with ``torch_exact``
    False they only restore the shape; both are None when no ``ConvTranspose`` (symmetric padding,
    ``0 ≤ output_padding < max(stride, dilation)``) maps ``o`` back to ``i``.
    """

    i: int
    o: int
    kernel: int
    stride: int
    dilation: int
    direct: PaddingSolution
    canonical: Window
    torch_padding: int | None
    torch_output_padding: int | None
    torch_exact: bool

    @property
    def lax_padding(self) -> tuple[int, int]:
        """Explicit pair for ``conv_general_dilated`` (and ``lax.conv_transpose`` / flax ``ConvTranspose``
        with explicit pairs, which they read as the transposed conv's own padding)."""
        return (self.canonical.pad_lo, self.canonical.pad_hi)

    @property
    def consistent_padding(self) -> tuple[int, int]:
        """The pair for ``lax.conv_transpose(..., use_consistent_padding=True)`` (torch-like reading)."""
        eff = self.dilation * (self.kernel - 1)
        return (eff - self.canonical.pad_lo, eff - self.canonical.pad_hi)


def solve_transpose(i: int, kernel: int, stride: int = 1, padding: int | tuple[int, int] = 0, dilation: int = 1) -> TransposeSolution:
    """The transposed conv that undoes the direct conv of input size ``i`` (it maps ``o`` back to ``i``)."""
    _check_size("input", i)
    require_positive((kernel,), "kernel_size")
    require_positive((stride,), "stride")
    require_positive((dilation,), "dilation")
    lo, hi = (padding, padding) if isinstance(padding, int) else tuple(padding)
    require_non_negative((lo, hi), "padding")
    direct = Window(kernel, stride, dilation, 1, lo, hi)
    o = direct.output_size(i)
    if o < 1:
        raise ConvArithmeticError(
            f"the direct conv has no output for input {i} (kernel {kernel}, dilation {dilation}, padding ({lo}, {hi}))",
            constraint="direct output ≥ 1",
            argument="input",
        )
    r = direct.dropped(i)
    eff = dilation * (kernel - 1)
    canonical = Window(kernel, 1, dilation, stride, eff - lo, eff - hi + r)
    assert_maps(o, i, canonical)
    # torch ConvTranspose: lo_t = eff - p, hi_t = lo_t + op  ⇒  p = lo, op = r + lo - hi.
    p: int | None = lo
    op: int | None = r + lo - hi
    exact = True
    if op < 0 or not (op < stride or op < dilation):
        # not expressible exactly: the torch arguments that at least restore the shape, if any
        exact = False
        try:
            args = solve_torch_transpose(o, i, kernel, stride, dilation)
            p, op = args.padding, args.output_padding
        except ConvArithmeticError:
            p = op = None
    return TransposeSolution(i, o, kernel, stride, dilation, PaddingSolution(lo, hi), canonical, p, op, exact)


@dataclass(frozen=True)
class TorchTransposeArgs:
    padding: int
    output_padding: int


def solve_torch_transpose(i: int, o: int, kernel: int, stride: int = 1, dilation: int = 1) -> TorchTransposeArgs:
    """``ConvTranspose`` padding and output_padding that take ``i`` to ``o`` (smallest padding first).

    ``o = (i−1)·s − 2p + d(k−1) + output_padding + 1`` with ``p ≥ 0`` and
    ``0 ≤ output_padding < max(s, d)``.
    """
    _check_size("input", i)
    _check_size("output", o)
    require_positive((kernel,), "kernel_size")
    require_positive((stride,), "stride")
    require_positive((dilation,), "dilation")
    base = (i - 1) * stride + dilation * (kernel - 1) + 1  # output with p = 0, op = 0
    limit = max(stride, dilation)
    diff = base - o  # = 2p - op
    if diff < 0:
        op = -diff
        if op >= limit:
            raise ConvArithmeticError(
                f"a ConvTranspose with kernel {kernel}, stride {stride}, dilation {dilation} takes {i} to at most "
                f"{base + limit - 1}, not {o}",
                constraint="output_padding < max(stride, dilation)",
                argument="output",
                fix="raise the stride or the kernel size",
            )
        return TorchTransposeArgs(0, op)
    p = (diff + 1) // 2
    op = 2 * p - diff
    if op >= limit:  # only when limit == 1 and diff odd
        raise ConvArithmeticError(
            f"with stride {stride} and dilation {dilation} output_padding must be 0, and no symmetric padding "
            f"takes {i} to {o} (2·padding would have to be {diff})",
            constraint="output_padding < max(stride, dilation)",
            argument="output",
            fix="use an even kernel size, or pad asymmetrically with lax/flax",
        )
    return TorchTransposeArgs(p, op)


def transpose_output_sizes(
    input_sizes: Sequence[int], kernel: Sequence[int], stride: Sequence[int], padding: Sequence[int], output_padding: Sequence[int], dilation: Sequence[int]
) -> tuple[int, ...]:
    """torch ConvTranspose output: ``(i−1)·s − 2p + d(k−1) + output_padding + 1`` per dimension."""
    return tuple((i - 1) * s - 2 * p + d * (k - 1) + op + 1 for i, k, s, p, op, d in zip(input_sizes, kernel, stride, padding, output_padding, dilation))
