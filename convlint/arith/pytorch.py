"""PyTorch's convolution arithmetic: ``nn.Conv{1,2,3}d``, ``nn.ConvTranspose{1,2,3}d`` and ``F.conv*``.

Each front-end validates the arguments the way torch does (constructor and CPU forward) and
returns one canonical :class:`~convlint.arith.core.Window` per spatial dimension.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from convlint.arith.core import (
    ConvArithmeticError,
    ErrorKind,
    Window,
    expand,
    require_ints,
    require_non_negative,
    require_positive,
    show,
)

PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


@dataclass(frozen=True)
class TorchConv:
    """A validated torch convolution: its windows and what its forward needs to know."""

    windows: tuple[Window, ...]
    transposed: bool = False
    padding_mode: str = "zeros"
    padding: tuple[int, ...] = ()  # the symmetric per-dim padding applied by padding_mode ≠ zeros
    kernel_size: tuple[int, ...] = ()
    stride: tuple[int, ...] = ()
    dilation: tuple[int, ...] = ()
    output_padding: tuple[int, ...] = ()
    torch_padding: tuple[int, ...] = ()  # the padding argument as torch reads it (after 'valid'/'same')

    @property
    def rank(self) -> int:
        return len(self.windows)

    def output(self, input_sizes: Sequence[int]) -> tuple[int, ...]:
        """The output spatial sizes for ``input_sizes``, or :class:`ConvArithmeticError` where torch raises."""
        sizes = tuple(input_sizes)
        if len(sizes) != self.rank:
            raise ConvArithmeticError(
                f"a {self.rank}-d convolution got {len(sizes)} spatial dimensions",
                constraint="input rank matches the convolution",
            )
        if self.padding_mode == "reflect":
            for i, p in zip(sizes, self.padding):
                if p >= i:
                    raise ConvArithmeticError(
                        f"padding_mode='reflect' needs padding < input size, but padding {p} ≥ {i}",
                        constraint="reflect padding < input size",
                        argument="padding",
                    )
        if self.padding_mode == "circular":
            for i, p in zip(sizes, self.padding):
                if p > i:
                    raise ConvArithmeticError(
                        f"padding_mode='circular' needs padding ≤ input size, but padding {p} > {i}",
                        constraint="circular padding ≤ input size",
                        argument="padding",
                    )
        out = tuple(w.output_size(i) for w, i in zip(self.windows, sizes))
        if any(o < 1 for o in out):
            if self.transposed:
                msg = f"input {show(sizes)} gives output {show(out)}: the transposed convolution's output is too small"
            else:
                padded = tuple(w.padded_input(i) for w, i in zip(self.windows, sizes))
                msg = (
                    f"input {show(sizes)} padded to {show(padded)} is smaller than the dilated kernel "
                    f"{show(tuple(w.effective_kernel for w in self.windows))}: output would be {show(out)}"
                )
            raise ConvArithmeticError(msg, constraint="output size ≥ 1", kind=ErrorKind.EMPTY)
        return out


def _check_channels(in_channels, out_channels, groups) -> None:
    if groups is None:
        return
    if isinstance(groups, bool) or not isinstance(groups, int) or groups < 1:
        raise ConvArithmeticError(f"groups={groups!r} must be a positive integer", constraint="groups ≥ 1", argument="groups")
    if isinstance(in_channels, int) and in_channels % groups:
        raise ConvArithmeticError(
            f"in_channels={in_channels} is not divisible by groups={groups}",
            constraint="in_channels divisible by groups",
            argument="groups",
        )
    if isinstance(out_channels, int) and out_channels % groups:
        raise ConvArithmeticError(
            f"out_channels={out_channels} is not divisible by groups={groups}",
            constraint="out_channels divisible by groups",
            argument="groups",
        )


def _basic(kernel_size, stride, dilation, rank):
    k = expand(kernel_size, rank, "kernel_size")
    s = expand(stride, rank, "stride")
    d = expand(dilation, rank, "dilation")
    require_positive(k, "kernel_size")
    require_positive(s, "stride")
    require_positive(d, "dilation")
    return k, s, d


def same_padding(kernel: int, dilation: int) -> tuple[int, int]:
    """torch's ``padding='same'``: total ``d·(k−1)``, the odd extra on the high side."""
    total = dilation * (kernel - 1)
    return total // 2, total - total // 2


def torch_conv(
    kernel_size,
    stride=1,
    padding=0,
    dilation=1,
    *,
    rank: int,
    groups=1,
    in_channels=None,
    out_channels=None,
    padding_mode: str = "zeros",
) -> TorchConv:
    """``nn.Conv{rank}d`` / ``F.conv{rank}d``: validate and translate to canonical windows."""
    k, s, d = _basic(kernel_size, stride, dilation, rank)
    _check_channels(in_channels, out_channels, groups)
    if padding_mode not in PADDING_MODES:
        raise ConvArithmeticError(
            f"padding_mode={padding_mode!r} is not one of {', '.join(map(repr, PADDING_MODES))}",
            constraint="known padding_mode",
            argument="padding_mode",
        )
    if isinstance(padding, str):
        if padding not in ("same", "valid"):
            raise ConvArithmeticError(
                f"padding={padding!r} is not 'same' or 'valid'", constraint="padding string is 'same' or 'valid'", argument="padding"
            )
        if padding == "same":
            if any(v != 1 for v in s):
                raise ConvArithmeticError(
                    f"padding='same' is not supported for strided convolutions (stride={show(s)})",
                    constraint="padding='same' needs stride 1",
                    argument="padding",
                    fix="use stride=1, or an explicit padding: `convlint solve` gives it",
                )
            pads = tuple(same_padding(kk, dd) for kk, dd in zip(k, d))
        else:
            pads = ((0, 0),) * rank
        torch_padding = tuple(lo for lo, _ in pads)
    else:
        p = expand(padding, rank, "padding")
        if padding_mode == "zeros":
            require_non_negative(p, "padding")
        else:
            # the other modes pad with F.pad first, where a negative amount crops (torch accepts it)
            require_ints(p, "padding")
        pads = tuple((v, v) for v in p)
        torch_padding = p
    windows = tuple(
        Window(kernel=kk, stride=ss, dilation=dd, pad_lo=lo, pad_hi=hi) for kk, ss, dd, (lo, hi) in zip(k, s, d, pads)
    )
    return TorchConv(
        windows=windows,
        padding_mode=padding_mode,
        padding=tuple(max(lo, hi) for lo, hi in pads),
        kernel_size=k,
        stride=s,
        dilation=d,
        torch_padding=torch_padding,
    )


def torch_conv_transpose(
    kernel_size,
    stride=1,
    padding=0,
    output_padding=0,
    dilation=1,
    *,
    rank: int,
    groups=1,
    in_channels=None,
    out_channels=None,
    padding_mode: str = "zeros",
) -> TorchConv:
    """``nn.ConvTranspose{rank}d`` / ``F.conv_transpose{rank}d`` in canonical form.

    ``δ = stride, s = 1, lo = d(k−1) − p, hi = lo + output_padding``. torch's constructor accepts
    ``padding='same'`` but every forward rejects a string padding: that is rejected here.
    """
    k, s, d = _basic(kernel_size, stride, dilation, rank)
    _check_channels(in_channels, out_channels, groups)
    if padding_mode != "zeros":
        raise ConvArithmeticError(
            f"padding_mode={padding_mode!r}: only 'zeros' is supported for ConvTranspose",
            constraint="ConvTranspose padding_mode is 'zeros'",
            argument="padding_mode",
        )
    if isinstance(padding, str):
        raise ConvArithmeticError(
            f"padding={padding!r}: ConvTranspose takes no string padding (the constructor accepts it, forward fails)",
            constraint="ConvTranspose padding is an int or tuple",
            argument="padding",
            fix="give the padding of the convolution this layer undoes; `convlint solve` computes it",
        )
    p = expand(padding, rank, "padding")
    require_non_negative(p, "padding")
    op = expand(output_padding, rank, "output_padding")
    require_non_negative(op, "output_padding")
    check_output_padding(op, s, d)
    windows = tuple(
        Window(kernel=kk, stride=1, dilation=dd, input_dilation=ss, pad_lo=dd * (kk - 1) - pp, pad_hi=dd * (kk - 1) - pp + oo)
        for kk, ss, dd, pp, oo in zip(k, s, d, p, op)
    )
    return TorchConv(
        windows=windows,
        transposed=True,
        kernel_size=k,
        stride=s,
        dilation=d,
        output_padding=op,
        torch_padding=p,
    )


def check_output_padding(output_padding: Sequence[int], stride: Sequence[int], dilation: Sequence[int]) -> None:
    """torch (CPU) requires each output_padding < stride or < dilation.

    torch's meta device does not enforce this; CPU and CUDA do.
    """
    for op, s, d in zip(output_padding, stride, dilation):
        if not (op < s or op < d):
            raise ConvArithmeticError(
                f"output_padding={show(output_padding)} must be smaller than stride={show(stride)} or "
                f"dilation={show(dilation)}",
                constraint="output_padding < max(stride, dilation)",
                argument="output_padding",
                fix=f"output_padding must be below {max(s, d)}; to reach a larger output, change padding or kernel_size",
            )


def transpose_size_range(
    input_sizes: Sequence[int], kernel_size, stride=1, padding=0, dilation=1, *, rank: int
) -> list[tuple[int, int]]:
    """The ``output_size=`` values ``ConvTranspose.forward`` accepts, per dimension: ``(min, max)``.

    torch allows ``min ≤ size ≤ min + stride − 1`` with ``min = (i−1)·s − 2p + d(k−1) + 1``.
    """
    k, s, d = _basic(kernel_size, stride, dilation, rank)
    p = expand(padding, rank, "padding")
    out = []
    for i, kk, ss, dd, pp in zip(input_sizes, k, s, d, p):
        lo = (i - 1) * ss - 2 * pp + dd * (kk - 1) + 1
        out.append((lo, lo + ss - 1))
    return out


def output_padding_for_size(
    input_sizes: Sequence[int], output_size: Sequence[int], kernel_size, stride=1, padding=0, dilation=1, *, rank: int
) -> tuple[int, ...]:
    """The output_padding that ``ConvTranspose.forward(x, output_size=...)`` would use.

    ``output_size`` may carry the batch and channel dimensions too (torch strips them).
    Raises where torch raises: a size outside the accepted range.
    """
    sizes = tuple(output_size)
    if len(sizes) in (rank + 1, rank + 2) and len(sizes) != rank:
        sizes = sizes[len(sizes) - rank :]
    if len(sizes) != rank:
        raise ConvArithmeticError(
            f"output_size={show(output_size)} must have {rank} or {rank + 2} elements",
            constraint="output_size length",
            argument="output_size",
        )
    ranges = transpose_size_range(input_sizes, kernel_size, stride, padding, dilation, rank=rank)
    for size, (lo, hi) in zip(sizes, ranges):
        if size < lo or size > hi:
            raise ConvArithmeticError(
                f"output_size={show(sizes)} is outside the sizes this layer can produce for input "
                f"{show(tuple(input_sizes))}: from {show(tuple(r[0] for r in ranges))} to {show(tuple(r[1] for r in ranges))}",
                constraint="min ≤ output_size ≤ min + stride − 1",
                argument="output_size",
            )
    return tuple(size - lo for size, (lo, _) in zip(sizes, ranges))


def pool_output_size(i: int, kernel: int, stride: int, padding: int = 0, dilation: int = 1, ceil_mode: bool = False) -> int:
    """torch's pooling output size (max/avg pool), including ``ceil_mode``'s last-window rule."""
    span = i + 2 * padding - dilation * (kernel - 1) - 1 + (stride - 1 if ceil_mode else 0)
    out = span // stride + 1
    if ceil_mode and (out - 1) * stride >= i + padding:
        out -= 1
    return out


def torch_pool(kernel_size, stride=None, padding=0, dilation=1, *, rank: int, kind: str = "max") -> tuple[tuple[int, ...], ...]:
    """Validate ``nn.MaxPool{rank}d`` / ``nn.AvgPool{rank}d`` arguments; returns ``(k, s, p, d)`` tuples.

    Max pooling needs ``padding ≤ (d(k−1)+1) // 2``, average pooling ``padding ≤ k // 2``;
    ``stride=None`` means the kernel size.
    """
    k = expand(kernel_size, rank, "kernel_size")
    s = k if stride is None or (isinstance(stride, (tuple, list)) and len(stride) == 0) else expand(stride, rank, "stride")
    p = expand(padding, rank, "padding")
    d = expand(dilation, rank, "dilation")
    require_positive(k, "kernel_size")
    require_positive(s, "stride")
    require_positive(d, "dilation")
    require_non_negative(p, "padding")
    for kk, pp, dd in zip(k, p, d):
        limit = (dd * (kk - 1) + 1) // 2 if kind == "max" else kk // 2
        if pp > limit:
            raise ConvArithmeticError(
                f"padding={show(p)} must be at most half of the {'effective ' if kind == 'max' else ''}kernel size "
                f"({limit} for kernel_size={show(k)}{f', dilation={show(d)}' if kind == 'max' and dd != 1 else ''})",
                constraint="pool padding ≤ half the kernel",
                argument="padding",
            )
    return k, s, p, d
