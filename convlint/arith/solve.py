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


# ------------------------------------------------------------------ a transposed conv that maps i to o


def direct_min_output(i: int, kernel: int, stride: int = 1, dilation: int = 1, input_dilation: int = 1) -> int:
    """The smallest output a direct conv (non-negative padding) gives for input ``i``: zero padding's.

    Padding only adds, so a direct conv takes ``i`` to ``o`` iff ``o ≥`` this (and ``o ≥ 1``). It may
    be below 1 (the kernel is larger than the input): then padding has to make up the difference.
    """
    return Window(kernel, stride, dilation, input_dilation).output_size(i)


def transpose_output_range(i: int, kernel: int, stride: int = 1, dilation: int = 1) -> tuple[int, int]:
    """The outputs a transposed conv gives for input ``i``: ``(lowest, highest)``, both inclusive.

    A transposed conv here is torch's ``ConvTranspose`` read per side: padding ``p_lo, p_hi`` in
    ``[0, d·(k−1)]`` and ``0 ≤ output_padding < max(s, d)``, i.e. the canonical window
    ``(δ = s, padding (d(k−1) − p_lo, d(k−1) − p_hi + output_padding))``, whose output is
    ``(i−1)·s + d(k−1) + 1 − p_lo − p_hi + output_padding``. A padding beyond ``d(k−1)`` would make
    the canonical padding negative: the layer would crop rows it computed (and ignore inputs), the
    transposed twin of a direct conv with negative padding, which no reading offers. Every value
    in the range is reached (lax/flax take asymmetric pairs; torch needs a symmetric padding).
    The lowest is at least 1.
    """
    e = dilation * (kernel - 1)
    lowest = max((i - 1) * stride + 1 - e, 1)
    highest = (i - 1) * stride + e + max(stride, dilation)
    return lowest, highest


@dataclass(frozen=True)
class ConvTransposeSolution:
    """A transposed conv that maps ``i`` to ``o`` (kernel k, stride s, dilation d).

    ``canonical`` is its canonical window (``input_dilation = s``, stride 1): the explicit pairs of
    ``lax.conv_transpose`` / flax ``ConvTranspose`` and, with ``lhs_dilation = s``, of
    ``conv_general_dilated``. ``torch_padding`` / ``torch_output_padding`` are ``ConvTranspose``
    arguments that compute exactly ``canonical`` when ``torch_exact``, that only give the same size
    when not, and None when no ``ConvTranspose`` takes ``i`` to ``o``. ``adjoint`` is the padding of
    the direct conv ``o → i`` whose gradient ``canonical`` is — None when that direct conv would
    need a negative padding (a crop); ``adjoint_crop`` is then the padding it would need.
    """

    i: int
    o: int
    kernel: int
    stride: int
    dilation: int
    canonical: Window
    torch_padding: int | None
    torch_output_padding: int | None
    torch_exact: bool
    adjoint: PaddingSolution | None
    adjoint_crop: tuple[int, int] | None = None

    @property
    def lax_padding(self) -> tuple[int, int]:
        return (self.canonical.pad_lo, self.canonical.pad_hi)

    @property
    def consistent_padding(self) -> tuple[int, int]:
        """The pair for ``lax.conv_transpose(..., use_consistent_padding=True)`` (torch-like reading)."""
        eff = self.dilation * (self.kernel - 1)
        return (eff - self.canonical.pad_lo, eff - self.canonical.pad_hi)


def _adjoint_padding(canonical: Window, i: int, o: int) -> tuple[PaddingSolution | None, tuple[int, int] | None]:
    """The direct conv ``o → i`` whose gradient is the transposed window ``canonical`` (``i → o``).

    Its padding is ``lo = d(k−1) − lo_t``, ``hi = d(k−1) − hi_t + r`` for any ``r`` in ``[0, s−1]``
    (rows the direct conv drops change nothing it computes): the symmetric choice when there is one,
    else the smallest ``hi ≥ 0``; None (and the least crop) when every choice is negative.
    """
    e = canonical.dilation * (canonical.kernel - 1)
    s = canonical.input_dilation
    lo = e - canonical.pad_lo
    his = [e - canonical.pad_hi + r for r in range(s)]
    if lo < 0 or his[-1] < 0:
        return None, (lo, his[-1])
    hi = lo if lo in his else next(h for h in his if h >= 0)
    sol = PaddingSolution(lo, hi)
    assert_maps(o, i, Window(canonical.kernel, s, canonical.dilation, 1, lo, hi))
    return sol, None


def solve_conv_transpose(
    i: int, o: int, kernel: int, stride: int = 1, dilation: int = 1, padding: int | tuple[int, int] | None = None
) -> ConvTransposeSolution:
    """A transposed conv that takes ``i`` to ``o``; with ``padding`` (torch's, per side) only the
    output_padding is solved for.

    Without ``padding``, ``o`` must lie in :func:`transpose_output_range`. Where the direct conv
    ``o → i`` exists (``o ≤ i·s + d(k−1)``) the answer is the gradient of the one
    :func:`solve_padding` picks, so the two mirror each other exactly; above that (only when
    ``d > s``) torch's ``output_padding ≥ s`` still reaches ``o``, and no direct conv mirrors it
    without cropping. Raises :class:`ConvArithmeticError` naming the constraint otherwise.
    """
    _check_size("input", i)
    _check_size("output", o)
    require_positive((kernel,), "kernel_size")
    require_positive((stride,), "stride")
    require_positive((dilation,), "dilation")
    e = dilation * (kernel - 1)
    limit = max(stride, dilation)
    base = (i - 1) * stride + e + 1  # p = 0, output_padding = 0
    if padding is not None:
        p_lo, p_hi = (padding, padding) if isinstance(padding, int) else tuple(padding)
        require_non_negative((p_lo, p_hi), "padding")
        op = o - (base - p_lo - p_hi)
        if not 0 <= op < limit:
            lowest = base - p_lo - p_hi
            span = f"{lowest}" if limit == 1 else f"{lowest} to {lowest + limit - 1}"
            raise ConvArithmeticError(
                f"with padding {_pad_text(p_lo, p_hi)} a transposed conv gives {span}, not {o}",
                constraint="0 ≤ output_padding < max(stride, dilation)",
                argument="output",
            )
        canonical = Window(kernel, 1, dilation, stride, e - p_lo, e - p_hi + op)
        assert_maps(i, o, canonical)
        adjoint, crop = _adjoint_padding(canonical, i, o)
        torch_ok = p_lo == p_hi
        return ConvTransposeSolution(
            i, o, kernel, stride, dilation, canonical, p_lo if torch_ok else None, op if torch_ok else None, torch_ok, adjoint, crop
        )
    lowest, highest = transpose_output_range(i, kernel, stride, dilation)
    if o < lowest:
        raise ConvArithmeticError(
            f"a transposed conv gives at least {lowest} (with its largest padding, d·(k−1) = {e}; more would crop)",
            constraint="transposed output ≥ (input − 1)·stride + 1 − dilation·(kernel − 1)",
            argument="output",
        )
    if o > highest:
        raise ConvArithmeticError(
            f"a transposed conv gives at most {highest} (output_padding < max(stride, dilation) = {limit})",
            constraint="output_padding < max(stride, dilation)",
            argument="output",
            fix="raise the stride or the kernel size",
        )
    if o <= i * stride + e:
        direct = solve_padding(o, i, kernel, stride, dilation)
        t = solve_transpose(o, kernel, stride, (direct.lo, direct.hi), dilation)
        return ConvTransposeSolution(
            i, o, kernel, stride, dilation, t.canonical, t.torch_padding, t.torch_output_padding, t.torch_exact, direct
        )
    op = o - base  # s ≤ op < d: torch's output_padding past the stride
    canonical = Window(kernel, 1, dilation, stride, e, e + op)
    assert_maps(i, o, canonical)
    adjoint, crop = _adjoint_padding(canonical, i, o)
    return ConvTransposeSolution(i, o, kernel, stride, dilation, canonical, 0, op, True, adjoint, crop)


def padding_only_outputs(window: Window, i: int) -> tuple[int, int]:
    """How many outputs, at the low and at the high end, read nothing but zero padding.

    Output ``j`` reads padded positions ``j·s + m·d`` (``m < k``); the input spans ``lo`` to
    ``lo + (i'−1)·δ`` (``i'`` with the pre-padding). An output none of whose taps falls in that span
    reads only padding (zeros, or the bias); the leading run of such outputs is the low count, the
    trailing run the high count (all of them are low when none reads the input). A padding of at
    least the dilated kernel's extent ``d(k−1) + 1`` on a side makes such outputs. (Zeros an input
    dilation inserts *inside* the span are not padding — a transposed conv with kernel < stride has
    those by design — nor is a window whose dilated taps straddle a span shorter than ``d`` between
    outputs that read it.)
    """
    n = window.output_size(i)
    if n < 1:
        return (0, 0)
    first = window.pad_lo
    last = window.pad_lo + (i + window.pre_lo + window.pre_hi - 1) * window.input_dilation
    s, d, k = window.stride, window.dilation, window.kernel

    def reads(j: int) -> bool:
        start = j * s
        m = max(0, -((start - first) // d))  # the first tap at or past `first`
        return m < k and start + m * d <= last

    low = next((j for j in range(n) if reads(j)), n)
    if low == n:
        return (n, 0)
    high = next(t for t in range(n) if reads(n - 1 - t))
    return (low, high)


def _pad_text(lo: int, hi: int) -> str:
    return str(lo) if lo == hi else f"({lo}, {hi})"
