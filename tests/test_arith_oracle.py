"""Differential tests: convlint's arithmetic against the real frameworks as oracles.

Every size convlint computes must equal what torch (meta device; tiny CPU tensors for
accept/reject, since meta does not enforce output_padding) and ``jax.eval_shape`` give, every
configuration a framework rejects convlint must reject (and vice versa), and every solver answer,
built in the frameworks, must really map ``i`` to ``o``.

Fast by default (a few hundred derandomised examples in total). ``CONVLINT_SWEEP=1`` runs
thousands of random configurations per test and prints how many were compared.
"""

from __future__ import annotations

import collections
import inspect
import os
import sys

import pytest

pytest.importorskip("torch")
pytest.importorskip("jax")
pytest.importorskip("flax")

from hypothesis import HealthCheck, assume, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from convlint.arith import (  # noqa: E402
    ConvArithmeticError,
    Window,
    dimension_numbers,
    flax_conv,
    flax_conv_transpose,
    lax_conv,
    lax_conv_general_dilated,
    lax_conv_transpose,
    lax_conv_with_general_padding,
    lax_output,
    output_padding_for_size,
    padding_only_outputs,
    solve_conv_transpose,
    solve_padding,
    solve_torch_transpose,
    solve_transpose,
    torch_conv,
    torch_conv_transpose,
    transpose_size_range,
)
from convlint.confirm.layers import flax_layer, lax_layer, torch_layer_checked  # noqa: E402

SWEEP = os.environ.get("CONVLINT_SWEEP") == "1"
COUNTS: collections.Counter = collections.Counter()


def examples(n: int, sweep: int = 3000):
    """Few derandomised examples normally; many random ones under CONVLINT_SWEEP=1."""
    return settings(
        max_examples=sweep if SWEEP else n,
        deadline=None,
        derandomize=not SWEEP,
        database=None,
        suppress_health_check=list(HealthCheck),
    )


@pytest.fixture(scope="module", autouse=True)
def _sweep_report():
    yield
    if COUNTS:
        total = sum(n for name, n in COUNTS.items() if "(" not in name)  # "(…)" counters are subsets
        lines = [f"  {name}: {n}" for name, n in sorted(COUNTS.items())]
        sys.stderr.write(f"\nconvlint oracle: {total} configurations compared\n" + "\n".join(lines) + "\n")


def count(name: str) -> None:
    COUNTS[name] += 1


def arith(fn, *args, **kwargs):
    """(result, None) or (None, error) for a convlint computation."""
    try:
        return fn(*args, **kwargs), None
    except ConvArithmeticError as exc:
        return None, exc


def agree(ours, our_error, outcome, what) -> None:
    """convlint and a framework outcome agree on accept/reject and on the spatial sizes.

    A zero-size output is a failure convlint reports as ``output size ≥ 1``: torch's transposed
    convs return one for some shapes and devices (and raise for others), jax always does.
    """
    if outcome.error is None and outcome.shape is not None and 0 in outcome.shape and our_error is not None:
        assert our_error.constraint == "output size ≥ 1", f"{what}: framework gives the empty {outcome.shape}, convlint says {our_error}"
        return
    if outcome.error is not None:
        assert our_error is not None, f"{what}: framework rejects ({outcome.error}) but convlint computes {ours}"
    else:
        assert our_error is None, f"{what}: framework gives {outcome.shape} but convlint rejects: {our_error}"
        assert ours == outcome.shape, f"{what}: convlint {ours} ≠ framework {outcome.shape}"


# --------------------------------------------------------------------------------------- strategies

MAX_SIZE = {1: 64, 2: 64, 3: 20}  # 3-d CPU runs (accept/reject) must stay cheap
MAX_TRANSPOSED_SIZE = {1: 64, 2: 40, 3: 10}

ranks = st.integers(1, 3)


def per_dim(rank, elements):
    return st.lists(elements, min_size=rank, max_size=rank).map(tuple)


def int_or_tuple(rank, elements):
    """An int or a per-dimension tuple, as torch accepts."""
    return st.one_of(elements, per_dim(rank, elements))


@st.composite
def torch_conv_cases(draw):
    rank = draw(ranks)
    sizes = draw(per_dim(rank, st.integers(1, MAX_SIZE[rank])))
    kernel = draw(int_or_tuple(rank, st.integers(1, 7)))
    stride = draw(int_or_tuple(rank, st.integers(1, 4)))
    dilation = draw(int_or_tuple(rank, st.integers(1, 3)))
    padding = draw(st.one_of(st.sampled_from(["same", "valid"]), int_or_tuple(rank, st.integers(-1, 6))))
    groups = draw(st.sampled_from([1, 1, 1, 2, 3]))
    in_ch = draw(st.integers(1, 4))
    out_ch = draw(st.integers(1, 4))
    mode = draw(st.sampled_from(["zeros", "zeros", "reflect", "replicate", "circular"]))
    functional = draw(st.booleans())
    return rank, sizes, kernel, stride, dilation, padding, groups, in_ch, out_ch, mode, functional


@st.composite
def torch_transpose_cases(draw):
    rank = draw(ranks)
    sizes = draw(per_dim(rank, st.integers(1, MAX_TRANSPOSED_SIZE[rank])))
    kernel = draw(int_or_tuple(rank, st.integers(1, 7)))
    stride = draw(int_or_tuple(rank, st.integers(1, 4)))
    dilation = draw(int_or_tuple(rank, st.integers(1, 3)))
    padding = draw(st.one_of(st.just("same"), int_or_tuple(rank, st.integers(-1, 8))))
    output_padding = draw(int_or_tuple(rank, st.integers(0, 4)))
    groups = draw(st.sampled_from([1, 1, 1, 2, 3]))
    in_ch = draw(st.integers(1, 4))
    out_ch = draw(st.integers(1, 4))
    mode = draw(st.sampled_from(["zeros"] * 8 + ["reflect"]))
    functional = draw(st.booleans())
    output_size_offset = draw(st.one_of(st.none(), per_dim(rank, st.integers(-2, 4))))
    return rank, sizes, kernel, stride, dilation, padding, output_padding, groups, in_ch, out_ch, mode, functional, output_size_offset


def _tup(value, rank):
    return (value,) * rank if isinstance(value, int) else tuple(value)


# -------------------------------------------------------------------------------------------- torch


@examples(250)
@given(torch_conv_cases())
def test_torch_conv_sizes_and_rejections_match_torch(case):
    rank, sizes, kernel, stride, dilation, padding, groups, in_ch, out_ch, mode, functional = case
    if functional:
        assume(mode == "zeros")
        ours, err = arith(lambda: torch_conv(kernel, stride, padding, dilation, rank=rank, groups=groups, in_channels=in_ch, out_channels=out_ch).output(sizes))
        # F.conv: the weight carries out_channels and in_channels // groups; groups must divide both
        assume(in_ch % groups == 0)
        weight = (out_ch, in_ch // groups, *_tup(kernel, rank))
        kw = dict(weight=weight, stride=stride, padding=padding, dilation=dilation, groups=groups)
        outcome = torch_layer_checked(f"torch.nn.functional.conv{rank}d", kw, (2, in_ch, *sizes))
    else:
        ours, err = arith(
            lambda: torch_conv(
                kernel, stride, padding, dilation, rank=rank, groups=groups, in_channels=in_ch, out_channels=out_ch, padding_mode=mode
            ).output(sizes)
        )
        kw = dict(
            in_channels=in_ch, out_channels=out_ch, kernel_size=kernel, stride=stride, padding=padding, dilation=dilation,
            groups=groups, padding_mode=mode,
        )
        outcome = torch_layer_checked(f"torch.nn.Conv{rank}d", kw, (2, in_ch, *sizes))
    spatial = outcome.shape[2:] if outcome.ok else None
    agree(ours, err, type(outcome)(spatial, outcome.error), f"Conv{rank}d {kw} on {sizes}")
    count("torch conv")


@examples(250)
@given(torch_transpose_cases())
def test_torch_conv_transpose_sizes_and_rejections_match_torch(case):
    rank, sizes, kernel, stride, dilation, padding, output_padding, groups, in_ch, out_ch, mode, functional, offset = case
    requested = None
    if offset is not None and not functional and not isinstance(padding, str):
        # forward(x, output_size=...): convlint picks the output_padding torch would
        ranges, rerr = arith(transpose_size_range, sizes, kernel, stride, padding, dilation, rank=rank)
        if rerr is None:
            requested = tuple(lo + off for (lo, _), off in zip(ranges, offset))
    if functional:
        assume(mode == "zeros" and in_ch % groups == 0 and not isinstance(padding, str))
        ours, err = arith(
            lambda: torch_conv_transpose(
                kernel, stride, padding, output_padding, dilation, rank=rank, groups=groups, in_channels=in_ch, out_channels=out_ch * groups
            ).output(sizes)
        )
        weight = (in_ch, out_ch, *_tup(kernel, rank))
        kw = dict(weight=weight, stride=stride, padding=padding, output_padding=output_padding, dilation=dilation, groups=groups)
        outcome = torch_layer_checked(f"torch.nn.functional.conv_transpose{rank}d", kw, (2, in_ch, *sizes))
    else:
        def ours_fn():
            # with forward(output_size=...), torch ignores the constructor's output_padding
            layer = torch_conv_transpose(
                kernel, stride, padding, 0 if requested is not None else output_padding, dilation, rank=rank, groups=groups,
                in_channels=in_ch, out_channels=out_ch, padding_mode=mode,
            )
            if requested is not None:
                op = output_padding_for_size(sizes, requested, kernel, stride, padding, dilation, rank=rank)
                layer = torch_conv_transpose(kernel, stride, padding, op, dilation, rank=rank)
            return layer.output(sizes)

        ours, err = arith(ours_fn)
        kw = dict(
            in_channels=in_ch, out_channels=out_ch, kernel_size=kernel, stride=stride, padding=padding,
            output_padding=output_padding, dilation=dilation, groups=groups, padding_mode=mode,
        )
        if requested is not None:
            kw["output_size"] = list(requested)
        outcome = torch_layer_checked(f"torch.nn.ConvTranspose{rank}d", kw, (2, in_ch, *sizes))
    spatial = outcome.shape[2:] if outcome.ok else None
    agree(ours, err, type(outcome)(spatial, outcome.error), f"ConvTranspose{rank}d {kw} on {sizes}")
    count("torch conv_transpose")


# -------------------------------------------------------------------------------------------- lax

LAYOUTS = {
    1: [None, ("NCH", "OIH", "NCH"), ("NHC", "HIO", "NHC"), ("NCH", "IOH", "NCH")],
    2: [
        None,
        ("NCHW", "OIHW", "NCHW"),
        ("NHWC", "HWIO", "NHWC"),
        ("NCHW", "IOHW", "NCHW"),
        ("NHWC", "OIHW", "NCHW"),
        ("NCHW", "OIWH", "NCHW"),
    ],
    3: [None, ("NCDHW", "OIDHW", "NCDHW"), ("NDHWC", "DHWIO", "NDHWC"), ("NCDHW", "IODHW", "NCDHW")],
}
TRANSPOSE_DEFAULT = {1: ("NHC", "HIO", "NHC"), 2: ("NHWC", "HWIO", "NHWC"), 3: ("NHWDC", "HWDIO", "NHWDC")}


def operand_shapes(rank, sizes, kernel, spec):
    """lhs/rhs shapes (batch 1, one feature) with spatial sizes in rhs-spatial order, and the dn."""
    dn = dimension_numbers(rank + 2, spec)
    lhs = [1] * (rank + 2)
    rhs = [1] * (rank + 2)
    for j in range(rank):
        lhs[dn.lhs_spec[2 + j]] = sizes[j]
        rhs[dn.rhs_spec[2 + j]] = kernel[j]
    return tuple(lhs), tuple(rhs), dn


def out_spatial(outcome, dn, rank):
    if not outcome.ok:
        return outcome
    return type(outcome)(tuple(outcome.shape[dn.out_spec[2 + j]] for j in range(rank)), None)


def lax_padding(rank):
    pair = st.tuples(st.integers(-4, 6), st.integers(-4, 6))
    return st.one_of(
        st.sampled_from(["SAME", "SAME_LOWER", "VALID", "same"]),
        per_dim(rank, pair),
    )


def optional_vector(rank, elements):
    return st.one_of(st.none(), per_dim(rank, elements))


@examples(250)
@given(
    ranks.flatmap(
        lambda r: st.tuples(
            st.just(r),
            per_dim(r, st.integers(1, 64)),
            per_dim(r, st.integers(1, 7)),
            optional_vector(r, st.integers(1, 4)),
            lax_padding(r),
            optional_vector(r, st.integers(1, 3)),
            optional_vector(r, st.integers(1, 3)),
            st.sampled_from(LAYOUTS[r]),
            st.sampled_from(["conv_general_dilated"] * 4 + ["conv", "conv_with_general_padding"]),
        )
    )
)
def test_lax_convolutions_match_eval_shape(case):
    rank, sizes, kernel, strides, padding, lhs_d, rhs_d, spec, op = case
    if op == "conv":
        spec, lhs_d, rhs_d = None, None, None
        strides = strides or (1,) * rank
        kw = dict(window_strides=strides, padding=padding)
        windows, err = arith(lax_conv, sizes, kernel, strides, padding)
    elif op == "conv_with_general_padding":
        spec = None
        strides, lhs_d, rhs_d = strides or (1,) * rank, lhs_d or (1,) * rank, rhs_d or (1,) * rank
        kw = dict(window_strides=strides, padding=padding, lhs_dilation=lhs_d, rhs_dilation=rhs_d)
        windows, err = arith(lax_conv_with_general_padding, sizes, kernel, strides, padding, lhs_d, rhs_d)
    else:
        strides = strides or (1,) * rank
        kw = dict(window_strides=strides, padding=padding, lhs_dilation=lhs_d, rhs_dilation=rhs_d, dimension_numbers=spec)
        windows, err = arith(lax_conv_general_dilated, sizes, kernel, strides, padding, lhs_d, rhs_d)
    ours = None
    if err is None:
        ours, err = arith(lax_output, sizes, windows)
    lhs, rhs, dn = operand_shapes(rank, sizes, kernel, spec)
    outcome = out_spatial(lax_layer(f"jax.lax.{op}", kw, lhs, rhs), dn, rank)
    agree(ours, err, outcome, f"lax.{op} {kw} lhs={lhs} rhs={rhs}")
    if ours is not None:
        # a zero-size dimension from jax is exactly a raw convlint output below 1
        raw = tuple(w.output_size(i) for w, i in zip(windows, sizes))
        assert [r < 1 for r in raw] == [o == 0 for o in ours]
    count(f"lax.{op}")


HAS_CONSISTENT = "use_consistent_padding" in inspect.signature(__import__("jax").lax.conv_transpose).parameters


@examples(200)
@given(
    ranks.flatmap(
        lambda r: st.tuples(
            st.just(r),
            per_dim(r, st.integers(1, 40)),
            per_dim(r, st.integers(1, 7)),
            per_dim(r, st.integers(1, 4)),
            st.one_of(st.sampled_from(["SAME", "VALID", "same", "SAME_LOWER"]), per_dim(r, st.tuples(st.integers(-4, 8), st.integers(-4, 8)))),
            optional_vector(r, st.integers(1, 3)),
            st.sampled_from(LAYOUTS[r]),
            st.booleans() if HAS_CONSISTENT else st.just(False),
            st.booleans(),
        )
    )
)
def test_lax_conv_transpose_matches_eval_shape(case):
    rank, sizes, kernel, strides, padding, rhs_d, spec, consistent, transpose_kernel = case
    kw = dict(strides=strides, padding=padding, rhs_dilation=rhs_d, dimension_numbers=spec, transpose_kernel=transpose_kernel)
    extra = {}
    if consistent:
        kw["use_consistent_padding"] = True
        extra["use_consistent_padding"] = True
    windows, err = arith(lax_conv_transpose, sizes, kernel, strides, padding, rhs_d, **extra)
    ours = None
    if err is None:
        ours, err = arith(lax_output, sizes, windows)
    lhs, rhs, dn = operand_shapes(rank, sizes, kernel, spec or TRANSPOSE_DEFAULT[rank])
    outcome = out_spatial(lax_layer("jax.lax.conv_transpose", kw, lhs, rhs), dn, rank)
    agree(ours, err, outcome, f"lax.conv_transpose {kw} lhs={lhs} rhs={rhs}")
    count("lax.conv_transpose")


# ------------------------------------------------------------------------------------------- flax


def flax_padding(rank):
    pair = st.tuples(st.integers(-3, 6), st.integers(-3, 6))
    return st.one_of(
        st.sampled_from(["SAME", "VALID", "CIRCULAR", "REFLECT", "CAUSAL", "same"]),
        st.integers(0, 6),
        per_dim(rank, st.one_of(st.integers(0, 5), pair)),
    )


@examples(150)
@given(
    ranks.flatmap(
        lambda r: st.tuples(
            st.just(r),
            per_dim(r, st.integers(1, 40)),
            st.integers(1, 7) if r == 1 else per_dim(r, st.integers(1, 7)),
            st.one_of(st.none(), st.integers(1, 4), per_dim(r, st.integers(1, 4))),
            flax_padding(r),
            st.one_of(st.just(1), per_dim(r, st.integers(1, 3))),
            st.one_of(st.just(1), per_dim(r, st.integers(1, 3))),
            st.sampled_from(["Conv", "Conv", "Conv", "ConvLocal"]),
        )
    )
)
def test_flax_conv_matches_eval_shape(case):
    rank, sizes, kernel, strides, padding, input_dilation, kernel_dilation, op = case
    windows, err = arith(flax_conv, sizes, kernel, strides, padding, input_dilation, kernel_dilation)
    ours = None
    if err is None:
        ours, err = arith(lax_output, sizes, windows)
    kw = dict(features=2, kernel_size=kernel, strides=strides, padding=padding, input_dilation=input_dilation, kernel_dilation=kernel_dilation)
    outcome = flax_layer(f"flax.linen.{op}", kw, (1, *sizes, 1))
    if op == "ConvLocal" and ours is not None and 0 in ours:
        assume(False)  # an empty ConvLocal has an empty kernel; nothing to compare
    spatial = type(outcome)(outcome.shape[1:-1], None) if outcome.ok else outcome
    agree(ours, err, spatial, f"flax {op} {kw} on {sizes}")
    count(f"flax.{op}")


@examples(120)
@given(
    ranks.flatmap(
        lambda r: st.tuples(
            st.just(r),
            per_dim(r, st.integers(1, 30)),
            st.integers(1, 7) if r == 1 else per_dim(r, st.integers(1, 7)),
            st.one_of(st.none(), st.integers(1, 4), per_dim(r, st.integers(1, 4))),
            st.one_of(st.sampled_from(["SAME", "VALID", "CIRCULAR"]), st.integers(0, 6), per_dim(r, st.tuples(st.integers(-3, 6), st.integers(-3, 6)))),
            st.one_of(st.just(1), per_dim(r, st.integers(1, 3))),
        )
    )
)
def test_flax_conv_transpose_matches_eval_shape(case):
    rank, sizes, kernel, strides, padding, kernel_dilation = case
    windows, err = arith(flax_conv_transpose, sizes, kernel, strides, padding, kernel_dilation)
    ours = None
    if err is None:
        ours, err = arith(lax_output, sizes, windows)
    kw = dict(features=2, kernel_size=kernel, strides=strides, padding=padding, kernel_dilation=kernel_dilation)
    outcome = flax_layer("flax.linen.ConvTranspose", kw, (1, *sizes, 1))
    spatial = type(outcome)(outcome.shape[1:-1], None) if outcome.ok else outcome
    agree(ours, err, spatial, f"flax ConvTranspose {kw} on {sizes}")
    count("flax.ConvTranspose")


# ----------------------------------------------------------------------------------------- solvers


@examples(150)
@given(
    i=st.integers(1, 64),
    o=st.integers(1, 64),
    k=st.integers(1, 7),
    s=st.integers(1, 4),
    d=st.integers(1, 3),
    delta=st.sampled_from([1, 1, 1, 2, 3]),
)
def test_solve_padding_answers_work_in_every_framework(i, o, k, s, d, delta):
    sol, err = arith(solve_padding, i, o, k, s, d, delta)
    if err is not None:
        # honest refusal: no non-negative padding up to a generous bound reaches o
        bound = s * o + d * k + 2
        reached = {Window(k, s, d, delta, lo, hi).output_size(i) for lo in range(bound) for hi in range(bound)}
        assert o not in reached, f"solve_padding refused {i}→{o} but a padding reaches it"
        count("solver refusals")
        return
    assert sol.lo >= 0 and sol.hi >= 0 and sol.hi - sol.lo in (0, 1)
    pads = ((sol.lo, sol.hi),)
    got = lax_layer("jax.lax.conv_general_dilated", dict(window_strides=(s,), padding=pads, lhs_dilation=(delta,), rhs_dilation=(d,)), (1, 1, i), (1, 1, k))
    assert got.shape == (1, 1, o), (got, sol)
    got = flax_layer("flax.linen.Conv", dict(features=1, kernel_size=(k,), strides=s, padding=pads, input_dilation=delta, kernel_dilation=d), (1, i, 1))
    assert got.shape == (1, o, 1), (got, sol)
    if delta == 1:
        if sol.symmetric:
            got = torch_layer_checked("torch.nn.Conv1d", dict(kernel_size=k, stride=s, padding=sol.lo, dilation=d), (1, 1, i))
        else:  # F.pad(x, (lo, hi)) then padding=0
            got = torch_layer_checked("torch.nn.Conv1d", dict(kernel_size=k, stride=s, padding=0, dilation=d), (1, 1, i + sol.lo + sol.hi))
        assert got.shape == (1, 1, o), (got, sol)
    count("solve_padding")


@examples(150)
@given(
    i=st.integers(1, 64),
    k=st.integers(1, 7),
    s=st.integers(1, 4),
    d=st.integers(1, 3),
    lo=st.integers(0, 6),
    extra=st.sampled_from([0, 0, 1, -1, 2]),
)
def test_solve_transpose_restores_the_input_size_in_every_framework(i, k, s, d, lo, extra):
    hi = max(lo + extra, 0)
    sol, err = arith(solve_transpose, i, k, s, (lo, hi), d)
    direct = Window(k, s, d, 1, lo, hi).output_size(i)
    if err is not None:
        assert direct < 1
        return
    o = sol.o
    assert o == direct
    # the canonical window, as conv_general_dilated
    got = lax_layer(
        "jax.lax.conv_general_dilated",
        dict(window_strides=(1,), padding=(sol.lax_padding,), lhs_dilation=(s,), rhs_dilation=(d,)), (1, 1, o), (1, 1, k),
    )
    assert got.shape == (1, 1, i), (got, sol)
    # lax.conv_transpose reads explicit pairs as the transposed conv's own padding
    spec = ("NCH", "OIH", "NCH")
    got = lax_layer("jax.lax.conv_transpose", dict(strides=(s,), padding=(sol.lax_padding,), rhs_dilation=(d,), dimension_numbers=spec), (1, 1, o), (1, 1, k))
    assert got.shape == (1, 1, i), (got, sol)
    if HAS_CONSISTENT:
        got = lax_layer(
            "jax.lax.conv_transpose",
            dict(strides=(s,), padding=(sol.consistent_padding,), rhs_dilation=(d,), dimension_numbers=spec, use_consistent_padding=True),
            (1, 1, o), (1, 1, k),
        )
        assert got.shape == (1, 1, i), (got, sol)
    got = flax_layer("flax.linen.ConvTranspose", dict(features=1, kernel_size=(k,), strides=s, padding=(sol.lax_padding,), kernel_dilation=d), (1, o, 1))
    assert got.shape == (1, i, 1), (got, sol)
    if sol.torch_padding is not None:
        got = torch_layer_checked(
            "torch.nn.ConvTranspose1d",
            dict(kernel_size=k, stride=s, padding=sol.torch_padding, output_padding=sol.torch_output_padding, dilation=d),
            (1, 1, o),
        )
        assert got.shape == (1, 1, i), (got, sol)
    else:
        # torch cannot: no symmetric padding with a legal output_padding restores i
        _, terr = arith(solve_torch_transpose, o, i, k, s, d)
        assert terr is not None
    count("solve_transpose")


@examples(100)
@given(i=st.integers(1, 40), o=st.integers(1, 160), k=st.integers(1, 7), s=st.integers(1, 4), d=st.integers(1, 3))
def test_solve_torch_transpose_answers_work_in_torch(i, o, k, s, d):
    args, err = arith(solve_torch_transpose, i, o, k, s, d)
    if err is not None:
        limit = max(s, d)
        reachable = {
            (i - 1) * s - 2 * p + d * (k - 1) + op + 1 for p in range(0, d * k + s * i + 2) for op in range(limit)
        }
        assert o not in reachable
        count("solver refusals")
        return
    got = torch_layer_checked(
        "torch.nn.ConvTranspose1d", dict(kernel_size=k, stride=s, padding=args.padding, output_padding=args.output_padding, dilation=d), (1, 1, i)
    )
    assert got.ok and got.shape == (1, 1, o), (got, args)
    count("solve_torch_transpose")


# ------------------------------------------------------------------------------ the gradient, exactly


@examples(20, sweep=400)
@given(rank=st.integers(1, 2), data=st.data())
def test_solve_transpose_canonical_window_is_the_gradient(rank, data):
    """The gradient of the direct conv (torch autograd, and jax.vjp) equals the canonical transpose
    window applied to the cotangent with a spatially flipped, in/out-swapped kernel — exactly
    (small integer data in float64). And torch's ConvTranspose with solve_transpose's arguments
    is that same gradient whenever solve_transpose says it is exact.

    The canonical window is applied by hand in torch (zero insertion, F.pad — negative crops — and
    a conv): XLA:CPU convolutions with negative low padding read out of bounds in f32
    (openxla/xla#48713), so jax computes values here only when every padding is non-negative.
    """
    import jax
    import numpy as np
    import torch
    import torch.nn.functional as F
    from jax import lax

    i = data.draw(per_dim(rank, st.integers(1, 24)))
    k = data.draw(per_dim(rank, st.integers(1, 5)))
    s = data.draw(per_dim(rank, st.integers(1, 3)))
    d = data.draw(per_dim(rank, st.integers(1, 3)))
    pads = data.draw(per_dim(rank, st.tuples(st.integers(0, 4), st.integers(0, 4))))
    sols = []
    for j in range(rank):
        sol, err = arith(solve_transpose, i[j], k[j], s[j], pads[j], d[j])
        assume(err is None)
        sols.append(sol)
    rng = np.random.default_rng(sum(i) * 131 + sum(k) * 7 + sum(s))
    cin, cout = 2, 3
    x = torch.tensor(rng.integers(-3, 4, size=(1, cin, *i)), dtype=torch.float64, requires_grad=True)
    w = torch.tensor(rng.integers(-3, 4, size=(cout, cin, *k)), dtype=torch.float64)
    conv = getattr(F, f"conv{rank}d")
    torch_pad = [v for lo, hi in reversed(pads) for v in (lo, hi)]
    y = conv(F.pad(x, torch_pad), w, stride=s, dilation=d)
    assert tuple(y.shape[2:]) == tuple(sol.o for sol in sols)
    cot = torch.tensor(rng.integers(-3, 4, size=tuple(y.shape)), dtype=torch.float64)
    (grad,) = torch.autograd.grad(y, x, cot)

    # the canonical window by hand: dilate the cotangent by s, pad (lo, hi) (negative crops), conv
    dilated = torch.zeros((1, cout, *((o - 1) * ss + 1 for o, ss in zip(y.shape[2:], s))), dtype=torch.float64)
    dilated[(slice(None), slice(None), *(slice(None, None, ss) for ss in s))] = cot
    # pad first, then crop (F.pad would crop first and fail on a crop larger than the input)
    grow = [max(v, 0) for sol in reversed(sols) for v in sol.lax_padding]
    padded = F.pad(dilated, grow)
    crop = tuple(slice(max(-lo, 0), padded.shape[2 + j] - max(-hi, 0)) for j, (lo, hi) in enumerate(sol.lax_padding for sol in sols))
    flipped = torch.flip(w, dims=tuple(range(2, 2 + rank))).transpose(0, 1)
    ours = conv(padded[(slice(None), slice(None), *crop)], flipped, dilation=d)
    assert ours.shape == grad.shape == x.shape
    assert torch.equal(ours, grad)

    # jax agrees: vjp of the direct conv has the input's shape, and (1-d, pads ≥ 0) the same values.
    # Compiling some 2-d vjps aborts the process in XLA:CPU 0.10.2 (a CHECK failure in its
    # algebraic simplifier: "Window dimensions do not match RHS shape"), so for 2-d only the shape
    # is asked of jax; torch autograd above is the value oracle for every case.
    xj = np.asarray(x.detach().numpy(), dtype=np.float32)
    wj = np.asarray(w.numpy(), dtype=np.float32)
    cj = np.asarray(cot.numpy(), dtype=np.float32)

    def grad_of_direct(inp, c):
        return jax.vjp(lambda v: lax.conv_general_dilated(v, wj, s, pads, rhs_dilation=d), inp)[1](c)[0]

    assert jax.eval_shape(grad_of_direct, xj, cj).shape == xj.shape
    if rank == 1 and all(p >= 0 for sol in sols for p in sol.lax_padding):
        gj = grad_of_direct(xj, cj)
        tj = lax.conv_general_dilated(
            cj, np.asarray(flipped.numpy(), dtype=np.float32), (1,) * rank,
            [sol.lax_padding for sol in sols], lhs_dilation=s, rhs_dilation=d,
        )
        np.testing.assert_array_equal(np.asarray(tj), grad.numpy().astype(np.float32))
        np.testing.assert_array_equal(np.asarray(gj), grad.numpy().astype(np.float32))
        count("gradient (jax values)")

    if all(sol.torch_exact for sol in sols):
        conv_t = getattr(F, f"conv_transpose{rank}d")
        out = conv_t(
            cot, w, stride=s, padding=tuple(sol.torch_padding for sol in sols),
            output_padding=tuple(sol.torch_output_padding for sol in sols), dilation=d,
        )
        assert torch.equal(out, grad)
        count("gradient (torch ConvTranspose exact)")
    count("gradient")


# ------------------------------------------------------------- transposed conv i → o, padding-only outputs


@examples(120)
@given(i=st.integers(1, 30), o=st.integers(1, 100), k=st.integers(1, 6), s=st.integers(1, 4), d=st.integers(1, 3))
def test_solve_conv_transpose_answers_iff_torch_or_lax_reaches_and_builds(i, o, k, s, d):
    """A transposed conv i → o exists iff torch's ConvTranspose (CPU rules, padding per side in
    [0, d(k−1)]) reaches o; the answer builds in torch (when it offers torch arguments), lax and
    flax, and its adjoint direct conv takes o back to i."""
    e = d * (k - 1)
    full = {
        op: torch_layer_checked("torch.nn.ConvTranspose1d", dict(kernel_size=k, stride=s, output_padding=op, dilation=d), (1, 1, i))
        for op in range(max(s, d))
    }
    reach = {r.shape[-1] - t for r in full.values() if r.ok for t in range(2 * e + 1)} - {v for v in range(-200, 1)}
    sol, err = arith(solve_conv_transpose, i, o, k, s, d)
    assert (err is None) == (o in reach), (i, o, k, s, d, err)
    if err is not None:
        count("solver refusals")
        return
    assert 0 <= sol.canonical.pad_lo <= e  # no crop
    spec = ("NCH", "OIH", "NCH")
    got = lax_layer("jax.lax.conv_transpose", dict(strides=(s,), padding=(sol.lax_padding,), rhs_dilation=(d,), dimension_numbers=spec), (1, 1, i), (1, 1, k))
    assert got.shape == (1, 1, o), (got, sol)
    got = flax_layer("flax.linen.ConvTranspose", dict(features=1, kernel_size=(k,), strides=s, padding=(sol.lax_padding,), kernel_dilation=d), (1, i, 1))
    assert got.shape == (1, o, 1), (got, sol)
    if sol.torch_padding is not None:
        got = torch_layer_checked(
            "torch.nn.ConvTranspose1d",
            dict(kernel_size=k, stride=s, padding=sol.torch_padding, output_padding=sol.torch_output_padding, dilation=d), (1, 1, i),
        )
        assert got.ok and got.shape == (1, 1, o), (got, sol)
        if sol.torch_exact:
            assert torch_conv_transpose(k, s, sol.torch_padding, sol.torch_output_padding, d, rank=1).windows[0] == sol.canonical
    if sol.adjoint is not None:
        lo, hi = sol.adjoint.lo, sol.adjoint.hi
        assert lo >= 0 and hi >= 0
        got = torch_layer_checked("torch.nn.Conv1d", dict(kernel_size=k, stride=s, dilation=d), (1, 1, o + lo + hi))
        assert got.shape == (1, 1, i), (got, sol)
        assert solve_transpose(o, k, s, (lo, hi), d).canonical.output_size(i) == o
        count("solve_conv_transpose (with a mirror)")
    else:
        # no direct conv with non-negative padding takes o back to i
        assert Window(k, s, d).output_size(o) > i
    count("solve_conv_transpose")


@examples(150)
@given(i=st.integers(1, 20), k=st.integers(1, 5), s=st.integers(1, 4), d=st.integers(1, 3), lo=st.integers(0, 14), hi=st.integers(0, 14))
def test_padding_only_outputs_are_the_outputs_torch_computes_from_padding_alone(i, k, s, d, lo, hi):
    """With all-ones weights and input and no bias, an output is 0 exactly when it read only padding."""
    import torch
    import torch.nn.functional as F

    w = Window(k, s, d, 1, lo, hi)
    if w.output_size(i) < 1:
        assert padding_only_outputs(w, i) == (0, 0)
        return
    y = F.conv1d(F.pad(torch.ones(1, 1, i), (lo, hi)), torch.ones(1, 1, k), stride=s, dilation=d)[0, 0]
    vals = y.tolist()
    n = len(vals)
    leading = next((j for j, v in enumerate(vals) if v != 0), n)
    trailing = 0 if leading == n else next(t for t, v in enumerate(reversed(vals)) if v != 0)
    assert padding_only_outputs(w, i) == (leading, trailing), vals
    count("padding_only_outputs")
