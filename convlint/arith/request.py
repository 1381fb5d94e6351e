"""``convlint solve``'s whole arithmetic: a size request answered in one of two readings.

A request names an input size ``i`` and an output size ``o`` per spatial dimension, with a kernel
``k``, stride ``s``, kernel dilation ``d`` (and optionally an input dilation ``δ`` or a fixed
padding). It is answered in one of two *readings*, the same one for every dimension:

- **direct**: a convolution with non-negative padding ``(lo, hi)`` takes ``i`` to ``o``. It exists
  iff ``o`` is at least what zero padding gives (:func:`~convlint.arith.solve.direct_min_output`);
  any larger ``o`` is reached, with a padding as large as needed. The *mirror* is its exact
  transpose (its gradient), ``o → i``.
- **transpose**: a transposed convolution (torch's ``ConvTranspose`` read per side: padding
  ``[0, d(k−1)]`` per side, ``0 ≤ output_padding < max(s, d)``) takes ``i`` to ``o``. It exists iff
  ``o`` lies in :func:`~convlint.arith.solve.transpose_output_range`. The mirror is the direct
  conv ``o → i`` whose gradient it is, when that conv needs no negative padding.

``reading="auto"`` tries the transposed reading first for an upsampling request (every ``o ≥ i``,
one larger) and the direct reading first otherwise, and falls back to the other. No reading crops:
a direct conv never has negative padding and a transposed conv never a padding beyond ``d(k−1)``,
so a request below both minimums is impossible, and the error names both constraints. A padding
so large that outputs read nothing but zeros is answered, and reported in ``padding_only``.

Everything is exact and checked against the canonical window before it is returned.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from convlint.arith.core import ConvArithmeticError, Window
from convlint.arith.pytorch import check_output_padding, torch_conv, torch_conv_transpose
from convlint.arith.solve import (
    direct_min_output,
    padding_only_outputs,
    solve_conv_transpose,
    solve_padding,
    solve_transpose,
)

__all__ = ["Answer", "Solved", "TorchCall", "solve_request", "sizes_request"]

Pairs = tuple[tuple[int, int], ...]


@dataclass(frozen=True)
class TorchCall:
    """torch arguments of one conv: ``padding`` (per dimension), ``output_padding`` for a
    ``ConvTranspose``, and ``pre_pad``, the argument of an ``F.pad`` that runs first (last dimension
    first, as ``F.pad`` lists it) when the conv cannot pad as asymmetrically as needed. ``exact``:
    a ``ConvTranspose`` computes exactly the canonical window (False: only the same size)."""

    padding: tuple[int, ...]
    output_padding: tuple[int, ...] | None = None
    pre_pad: tuple[int, ...] | None = None
    exact: bool | None = None


@dataclass(frozen=True)
class Solved:
    """One convolution of an answer, every spatial dimension.

    ``kind``: ``"direct"`` (a conv; ``windows`` are its own), ``"transposed"`` (a transposed conv:
    ``windows`` are canonical, ``input_dilation`` = the stride; lax reads their pads as
    ``lax.conv_transpose`` / flax ``ConvTranspose`` pairs) or ``"gradient"`` (the transpose of an
    input-dilated conv: a strided, input-dilated ``conv_general_dilated``, lax only).
    ``role``: ``"answer"`` (takes the request's input to its output) or ``"mirror"``.
    ``torch``: None where torch has no such layer. ``padding_only``: per dimension, the outputs at
    the low and high end that read only zero padding. ``consistent_padding``: for a transposed conv,
    the pairs of ``lax.conv_transpose(..., use_consistent_padding=True)``.
    """

    kind: str
    role: str
    input: tuple[int, ...]
    output: tuple[int, ...]
    windows: tuple[Window, ...]
    torch: TorchCall | None = None
    consistent_padding: Pairs | None = None
    padding_only: tuple[tuple[int, int], ...] = ()

    @property
    def kernel(self) -> tuple[int, ...]:
        return tuple(w.kernel for w in self.windows)

    @property
    def padding(self) -> Pairs:
        return tuple((w.pad_lo, w.pad_hi) for w in self.windows)

    @property
    def wasteful(self) -> bool:
        """Some output reads only zero padding."""
        return any(a or b for a, b in self.padding_only)

    def warnings(self) -> list[str]:
        """One line per dimension whose padding makes outputs that read only zeros."""
        out = []
        rank = len(self.windows)
        for j, ((a, b), w, o) in enumerate(zip(self.padding_only, self.windows, self.output)):
            if not (a or b):
                continue
            where = f" in dimension {j + 1}" if rank > 1 else ""
            sides = "low and high paddings reach" if a and b else ("low padding reaches" if a else "high padding reaches")
            out.append(
                f"padding larger than the kernel{where}: {a + b} of {o} outputs read only zero padding "
                f"(the {sides} past the dilated kernel's extent {w.effective_kernel})"
            )
        return out


@dataclass(frozen=True)
class Answer:
    """``reading``: ``"direct"``, ``"transpose"`` or ``"sizes"`` (the output sizes of given
    arguments); ``direct`` / ``transpose``: the two convolutions (either may be None: no such
    mirror, or no transposed conv for these arguments); ``notes``: why one is missing, and the like."""

    reading: str
    direct: Solved | None
    transpose: Solved | None
    notes: tuple[str, ...] = ()

    @property
    def answer(self) -> Solved | None:
        return self.direct if self.reading in ("direct", "sizes") else self.transpose


def _show(sizes) -> str:
    sizes = tuple(sizes)
    return str(sizes[0]) if len(sizes) == 1 else "×".join(map(str, sizes))


def _show_pads(pads) -> str:
    return ",".join(str(lo) if lo == hi else f"{lo}:{hi}" for lo, hi in pads)


def _torch_direct(pads: Pairs, input_dilation: Sequence[int], rank: int) -> TorchCall | None:
    if any(v != 1 for v in input_dilation) or rank > 3:
        return None
    if all(lo == hi for lo, hi in pads):
        return TorchCall(tuple(lo for lo, _ in pads))
    return TorchCall((0,) * rank, pre_pad=tuple(v for lo, hi in reversed(pads) for v in (lo, hi)))


def _direct(role, i, o, k, s, d, delta, pads) -> Solved:
    windows = tuple(Window(kk, ss, dd, dl, lo, hi) for kk, ss, dd, dl, (lo, hi) in zip(k, s, d, delta, pads))
    got = tuple(w.output_size(n) for w, n in zip(windows, i))
    if got != tuple(o):
        raise ConvArithmeticError(f"internal error: the direct conv maps {_show(i)} to {_show(got)}", constraint="solver consistency")
    return Solved("direct", role, tuple(i), tuple(o), windows, _torch_direct(pads, delta, len(i)), None,
                  tuple(padding_only_outputs(w, n) for w, n in zip(windows, i)))


def _transposed(role, i, o, windows, torch: TorchCall | None) -> Solved:
    got = tuple(w.output_size(n) for w, n in zip(windows, i))
    if got != tuple(o):
        raise ConvArithmeticError(f"internal error: the transposed conv maps {_show(i)} to {_show(got)}", constraint="solver consistency")
    consistent = tuple((w.dilation * (w.kernel - 1) - w.pad_lo, w.dilation * (w.kernel - 1) - w.pad_hi) for w in windows)
    return Solved("transposed", role, tuple(i), tuple(o), tuple(windows), torch if len(i) <= 3 else None, consistent,
                  tuple(padding_only_outputs(w, n) for w, n in zip(windows, i)))


def _dim(j: int, rank: int) -> str:
    return f" in dimension {j + 1}" if rank > 1 else ""


# ------------------------------------------------------------------------------------ the readings


def _direct_reading(i, o, k, s, d, delta, padding) -> Answer:
    rank = len(i)
    if padding is not None:
        got = tuple(Window(kk, ss, dd, dl, lo, hi).output_size(n) for kk, ss, dd, dl, (lo, hi), n in zip(k, s, d, delta, padding, i))
        if got != tuple(o):
            raise ConvArithmeticError(
                f"padding {_show_pads(padding)} takes {_show(i)} to {_show(got)}, not {_show(o)}",
                constraint="the given padding reaches the requested size",
                argument="padding",
            )
        pads = tuple(padding)
    else:
        sols = []
        for j, (n, m, kk, ss, dd, dl) in enumerate(zip(i, o, k, s, d, delta)):
            lowest = direct_min_output(n, kk, ss, dd, dl)
            if m < lowest:
                raise ConvArithmeticError(
                    f"even zero padding gives {lowest}{_dim(j, rank)} (a smaller output needs negative padding, a crop)",
                    constraint="output ≥ size reached with zero padding",
                    argument="output",
                )
            sols.append(solve_padding(n, m, kk, ss, dd, dl))
        pads = tuple((sol.lo, sol.hi) for sol in sols)
    direct = _direct("answer", i, o, k, s, d, delta, pads)
    if all(v == 1 for v in delta):
        ts = [solve_transpose(n, kk, ss, pp, dd) for n, kk, ss, pp, dd in zip(i, k, s, pads, d)]
        torch = None
        if all(t.torch_padding is not None for t in ts):
            torch = TorchCall(tuple(t.torch_padding for t in ts), tuple(t.torch_output_padding for t in ts), exact=all(t.torch_exact for t in ts))
        mirror = _transposed("mirror", o, i, tuple(t.canonical for t in ts), torch)
    else:
        # the gradient of an input-dilated conv: a strided conv (stride δ) over the s-dilated cotangent
        windows = []
        for n, kk, ss, dd, dl, (lo, hi) in zip(i, k, s, d, delta, pads):
            w = Window(kk, ss, dd, dl, lo, hi)
            e = dd * (kk - 1)
            windows.append(Window(kk, dl, dd, ss, e - lo, e - hi + w.dropped(n)))
        got = tuple(w.output_size(m) for w, m in zip(windows, o))
        if got != tuple(i):
            raise ConvArithmeticError(f"internal error: the gradient maps {_show(o)} to {_show(got)}", constraint="solver consistency")
        mirror = Solved("gradient", "mirror", tuple(o), tuple(i), tuple(windows), None, None,
                        tuple(padding_only_outputs(w, m) for w, m in zip(windows, o)))
    return Answer("direct", direct, mirror)


def _transpose_reading(i, o, k, s, d, padding) -> Answer:
    rank = len(i)
    sols = []
    for j, (n, m, kk, ss, dd) in enumerate(zip(i, o, k, s, d)):
        try:
            sols.append(solve_conv_transpose(n, m, kk, ss, dd, None if padding is None else padding[j]))
        except ConvArithmeticError as exc:
            raise ConvArithmeticError(exc.message + _dim(j, rank), constraint=exc.constraint, argument=exc.argument, fix=exc.fix) from None
    torch = None
    if all(t.torch_padding is not None for t in sols):
        torch = TorchCall(tuple(t.torch_padding for t in sols), tuple(t.torch_output_padding for t in sols), exact=all(t.torch_exact for t in sols))
    answer = _transposed("answer", i, o, tuple(t.canonical for t in sols), torch)
    notes = []
    if all(t.adjoint is not None for t in sols):
        pads = tuple((t.adjoint.lo, t.adjoint.hi) for t in sols)
        mirror = _direct("mirror", o, i, k, s, d, (1,) * rank, pads)
    else:
        mirror = None
        zero = tuple(direct_min_output(m, kk, ss, dd) for m, kk, ss, dd in zip(o, k, s, d))
        crop = tuple(t.adjoint_crop if t.adjoint is None else (t.adjoint.lo, t.adjoint.hi) for t in sols)
        notes.append(
            f"no direct conv takes {_show(o)} back to {_show(i)}: even zero padding gives {_show(zero)}; the exact mirror "
            f"of this transposed conv would need padding {_show_pads(crop)} (negative: a crop)"
        )
    return Answer("transpose", mirror, answer, tuple(notes))


def _check_request(i, o, k, s, d, delta, padding):
    rank = len(i)
    for name, v in (("output", o), ("kernel", k), ("stride", s), ("dilation", d), ("input dilation", delta)):
        if v is not None and len(v) != rank:
            raise ConvArithmeticError(f"{name} has {len(v)} values for {rank} dimensions", constraint="one value per dimension", argument=name)
    for name, vals, low in (("input", i, 1), ("output", o or (), 1), ("kernel", k, 1), ("stride", s, 1), ("dilation", d, 1), ("input dilation", delta, 1)):
        for v in vals:
            if isinstance(v, bool) or not isinstance(v, int) or v < low:
                raise ConvArithmeticError(f"{name} {v!r} must be an integer ≥ {low}", constraint=f"{name} ≥ {low}", argument=name)
    if padding is not None:
        if len(padding) != rank:
            raise ConvArithmeticError(f"padding has {len(padding)} values for {rank} dimensions", constraint="one value per dimension", argument="padding")
        for lo, hi in padding:
            if lo < 0 or hi < 0:
                raise ConvArithmeticError(f"padding {_show_pads(padding)} is negative", constraint="padding ≥ 0", argument="padding")


def solve_request(
    input: Sequence[int],
    output: Sequence[int],
    kernel: Sequence[int],
    stride: Sequence[int] | None = None,
    dilation: Sequence[int] | None = None,
    input_dilation: Sequence[int] | None = None,
    padding: Sequence[tuple[int, int]] | None = None,
    reading: str = "auto",
) -> Answer:
    """The convolution that takes ``input`` to ``output`` (one size per spatial dimension), and its mirror.

    ``reading`` is ``"auto"``, ``"direct"`` or ``"transpose"`` (see the module docstring). With
    ``padding`` (one ``(lo, hi)`` per dimension) that padding is kept: the direct conv must reach
    ``output`` with it, and a transposed conv (torch's padding, per side) gets an output_padding.
    An input dilation other than 1 describes a direct conv: only the direct reading applies.
    Raises :class:`ConvArithmeticError` when no reading allowed takes ``input`` to ``output``; with
    two readings tried, its message and constraint name both.

    >>> a = solve_request((33,), (40,), (4,), dilation=(2,))
    >>> a.reading, a.transpose.torch.padding, a.transpose.torch.output_padding, a.direct
    ('transpose', (0,), (1,), None)
    """
    i = tuple(input)
    rank = len(i)
    o = tuple(output)
    k = tuple(kernel)
    s = tuple(stride) if stride is not None else (1,) * rank
    d = tuple(dilation) if dilation is not None else (1,) * rank
    delta = tuple(input_dilation) if input_dilation is not None else (1,) * rank
    pads = tuple(tuple(p) for p in padding) if padding is not None else None
    _check_request(i, o, k, s, d, delta, pads)
    if reading not in ("auto", "direct", "transpose"):
        raise ConvArithmeticError(f"reading {reading!r} is not 'auto', 'direct' or 'transpose'", constraint="known reading", argument="reading")
    dilated = any(v != 1 for v in delta)
    if reading == "transpose" and dilated:
        raise ConvArithmeticError(
            "an input dilation describes a direct conv: there is no transposed reading of it",
            constraint="transposed reading has input dilation 1",
            argument="input_dilation",
        )
    upsampling = all(m >= n for n, m in zip(i, o)) and any(m > n for n, m in zip(i, o))
    if reading == "auto":
        order = ["direct"] if dilated else (["transpose", "direct"] if upsampling else ["direct", "transpose"])
    else:
        order = [reading]
    errors: dict[str, ConvArithmeticError] = {}
    for r in order:
        try:
            answer = _direct_reading(i, o, k, s, d, delta, pads) if r == "direct" else _transpose_reading(i, o, k, s, d, pads)
        except ConvArithmeticError as exc:
            if exc.constraint == "solver consistency":
                raise
            errors[r] = exc
            continue
        if errors:  # the first reading tried failed: say why
            (first, exc), = errors.items()
            head = "no transposed conv" if first == "transpose" else "no direct conv"
            answer = Answer(answer.reading, answer.direct, answer.transpose, (f"{head} takes {_show(i)} to {_show(o)}: {exc.message}", *answer.notes))
        return answer
    if len(errors) == 1:
        (exc,) = errors.values()
        head = "no transposed conv" if "transpose" in errors else "no direct conv"
        if dilated and reading == "auto":
            exc.message = exc.message + "; an input dilation describes a direct conv, so there is no transposed reading"
        raise ConvArithmeticError(
            f"{head} takes {_show(i)} to {_show(o)}: {exc.message}", constraint=exc.constraint, argument=exc.argument, fix=exc.fix
        )
    de, te = errors["direct"], errors["transpose"]
    params = f"kernel {_show(k)}, stride {_show(s)}, dilation {_show(d)}"
    raise ConvArithmeticError(
        f"no conv with {params} takes {_show(i)} to {_show(o)}: for a direct conv, {de.message}; {te.message}",
        constraint=f"{de.constraint}; {te.constraint}",
        argument="output",
        fix="change the stride, kernel size or dilation",
    )


def sizes_request(
    input: Sequence[int],
    kernel: Sequence[int],
    padding: Sequence[tuple[int, int]],
    stride: Sequence[int] | None = None,
    dilation: Sequence[int] | None = None,
    input_dilation: Sequence[int] | None = None,
    output_padding: Sequence[int] | None = None,
) -> Answer:
    """The output sizes of a direct conv with these arguments, and of the transposed conv with the
    same arguments (torch's padding per side, ``output_padding``) applied to the same input.

    Raises where the frameworks reject the direct conv (no output, or torch's own checks);
    ``transpose`` is None, with a note, when the transposed conv has no output or there is an
    input dilation.
    """
    i = tuple(input)
    rank = len(i)
    k = tuple(kernel)
    s = tuple(stride) if stride is not None else (1,) * rank
    d = tuple(dilation) if dilation is not None else (1,) * rank
    delta = tuple(input_dilation) if input_dilation is not None else (1,) * rank
    pads = tuple(tuple(p) for p in padding)
    _check_request(i, None, k, s, d, delta, pads)
    windows = tuple(Window(kk, ss, dd, dl, lo, hi) for kk, ss, dd, dl, (lo, hi) in zip(k, s, d, delta, pads))
    out = tuple(w.output_size(n) for w, n in zip(windows, i))
    if any(m < 1 for m in out):
        raise ConvArithmeticError(
            f"the direct conv has no output for input {_show(i)}: the padded input is smaller than the dilated "
            f"kernel (output would be {_show(out)})",
            constraint="output size ≥ 1",
        )
    no_delta = all(v == 1 for v in delta)
    if no_delta and all(lo == hi for lo, hi in pads) and rank <= 3:
        torch_conv(k, s, tuple(lo for lo, _ in pads), d, rank=rank).output(i)  # torch's own checks
    direct = _direct("answer", i, out, k, s, d, delta, pads)
    if not no_delta:
        return Answer("sizes", direct, None, ("no transposed conv for an input-dilated direct conv without --out",))
    op = tuple(output_padding) if output_padding is not None else (0,) * rank
    if len(op) != rank:
        raise ConvArithmeticError(f"output_padding has {len(op)} values for {rank} dimensions", constraint="one value per dimension", argument="output_padding")
    check_output_padding(op, s, d)
    eff = tuple(dd * (kk - 1) for kk, dd in zip(k, d))
    t_windows = tuple(Window(kk, 1, dd, ss, e - lo, e - hi + q) for kk, ss, dd, e, (lo, hi), q in zip(k, s, d, eff, pads, op))
    t_out = tuple(w.output_size(n) for w, n in zip(t_windows, i))
    if any(m < 1 for m in t_out):
        return Answer("sizes", direct, None, (
            f"the transposed conv with the same arguments has no output for input {_show(i)} "
            f"(it would be {_show(t_out)}): its padding exceeds the dilated kernel",
        ))
    torch = None
    if all(lo == hi for lo, hi in pads) and rank <= 3:
        p = tuple(lo for lo, _ in pads)
        torch_conv_transpose(k, s, p, op, d, rank=rank).output(i)
        torch = TorchCall(p, op, exact=True)
    return Answer("sizes", direct, _transposed("answer", i, t_out, t_windows, torch))
