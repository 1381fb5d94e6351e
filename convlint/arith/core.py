"""The canonical form of a convolution along one spatial dimension, and its output size.

Every convolution of every framework reduces, per spatial dimension, to a :class:`Window`:
kernel ``k``, stride ``s``, kernel dilation ``d``, input dilation ``δ`` and padding ``(lo, hi)``
(negative padding crops). Its output size is::

    o = floor(((i − 1)·δ + 1 + lo + hi − d·(k − 1) − 1) / s) + 1

A few front-ends pad the input *before* dilating it (flax ``'CIRCULAR'``/``'REFLECT'``/``'CAUSAL'``
pad with ``jnp.pad`` first); ``pre_lo``/``pre_hi`` carry that padding, which is zero everywhere else.

This module is pure Python and imports nothing outside the standard library.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass


class ErrorKind(enum.Enum):
    """What a :class:`ConvArithmeticError` means."""

    INVALID = "invalid"  # the framework rejects this configuration (for any input, or for this input)
    EMPTY = "empty"  # the input is too small: an output size would be below 1
    IMPOSSIBLE = "impossible"  # a solver request has no answer


class ConvArithmeticError(ValueError):
    """A configuration a framework rejects, or a size request that cannot be met.

    ``kind`` says which (:class:`ErrorKind`); ``constraint`` names the rule that fails in a few
    words (``"output_padding < max(stride, dilation)"``); ``argument`` is the argument at fault
    when there is one; ``fix`` a suggested repair when one is known.
    """

    def __init__(self, message: str, *, constraint: str, argument: str | None = None, fix: str | None = None, kind: ErrorKind = ErrorKind.INVALID):
        super().__init__(message)
        self.message = message
        self.constraint = constraint
        self.argument = argument
        self.fix = fix
        self.kind = kind


@dataclass(frozen=True)
class Window:
    """One spatial dimension of a convolution in canonical form."""

    kernel: int
    stride: int = 1
    dilation: int = 1
    input_dilation: int = 1
    pad_lo: int = 0
    pad_hi: int = 0
    pre_lo: int = 0
    pre_hi: int = 0

    @property
    def effective_kernel(self) -> int:
        """The extent of the dilated kernel: ``d·(k − 1) + 1``."""
        return self.dilation * (self.kernel - 1) + 1

    def padded_input(self, i):
        """The size of the (pre-padded, dilated, padded) input the kernel slides over.

        ``i`` is an int, or any value with integer ``+``, ``-``, ``*`` and ``//`` (a symbolic
        size of the shape engine), which stands for a size of at least 1.
        """
        i = i + self.pre_lo + self.pre_hi
        dilated = (i - 1) * self.input_dilation + 1 if not isinstance(i, int) or i > 0 else 0
        return dilated + self.pad_lo + self.pad_hi

    def output_size(self, i):
        """The raw output size for input size ``i``; zero or negative means the window does not fit."""
        return (self.padded_input(i) - self.effective_kernel) // self.stride + 1

    def dropped(self, i: int) -> int:
        """How many trailing positions of the padded input no window reaches (lossy striding)."""
        span = self.padded_input(i) - self.effective_kernel
        return span % self.stride if span >= 0 else 0


def output_size(i: int, window: Window) -> int:
    """The canonical output size (may be below 1: callers decide what the framework does)."""
    return window.output_size(i)


def output_sizes(sizes: Sequence[int], windows: Sequence[Window]) -> tuple[int, ...]:
    """Apply :func:`output_size` per spatial dimension."""
    if len(sizes) != len(windows):
        raise ConvArithmeticError(
            f"{len(sizes)} spatial input sizes for a {len(windows)}-d convolution",
            constraint="input rank matches the convolution",
        )
    return tuple(w.output_size(i) for i, w in zip(sizes, windows))


def expand(value, rank: int, name: str, *, allow_single_in_list: bool = True) -> tuple:
    """An int (or a 1-element sequence) broadcast to ``rank`` values, or a sequence of length ``rank``.

    Raises :class:`ConvArithmeticError` naming ``name`` when the length disagrees with the rank.
    """
    if isinstance(value, bool):
        raise ConvArithmeticError(f"{name}={value!r} is not an integer", constraint=f"{name} is an integer", argument=name)
    if isinstance(value, int):
        return (value,) * rank
    if isinstance(value, (tuple, list)):
        vals = tuple(value)
        if allow_single_in_list and len(vals) == 1 and rank != 1:
            vals = vals * rank
        if len(vals) != rank:
            raise ConvArithmeticError(
                f"{name}={_show(value)} has {len(vals)} values for a {rank}-d convolution",
                constraint=f"{name} has one value per spatial dimension",
                argument=name,
            )
        return vals
    raise ConvArithmeticError(f"{name}={value!r} is not an int or a tuple of ints", constraint=f"{name} is an int or tuple", argument=name)


def require_ints(values: Sequence, name: str) -> None:
    for v in values:
        if isinstance(v, bool) or not isinstance(v, int):
            raise ConvArithmeticError(f"{name}={_show(values)} holds {v!r}, not an integer", constraint=f"{name} holds integers", argument=name)


def require_positive(values: Sequence[int], name: str) -> None:
    require_ints(values, name)
    if any(v < 1 for v in values):
        raise ConvArithmeticError(
            f"{name}={_show(values)}: every {name} must be at least 1",
            constraint=f"{name} ≥ 1",
            argument=name,
        )


def require_non_negative(values: Sequence[int], name: str) -> None:
    require_ints(values, name)
    if any(v < 0 for v in values):
        raise ConvArithmeticError(
            f"{name}={_show(values)}: negative {name} is not supported",
            constraint=f"{name} ≥ 0",
            argument=name,
        )


def _show(value) -> str:
    if isinstance(value, (tuple, list)) and len(value) == 1:
        return f"({value[0]},)"
    return repr(tuple(value)) if isinstance(value, list) else repr(value)


def show(values: Sequence[int]) -> str:
    """A compact form for messages: ``3`` when all equal, else ``(3, 5)``."""
    vals = tuple(values)
    if vals and all(v == vals[0] for v in vals):
        return str(vals[0])
    return repr(vals)
