"""The exact set of valid input sizes, against brute force and against real torch models.

- Unit tests: the wording of :class:`SizeSet` and the JSON contract.
- Property (no framework): for random constraints built from random quasi-linear expressions, the
  computed set equals the brute-force set ``{n : every constraint holds}`` on a long range.
- Property (torch as the oracle): random small 1-D and 2-D encoder/decoder models as op lists
  (convs with stride/padding/kernel/dilation, max/avg pools, transposed convs with
  output_padding, nearest ×2 upsampling, reshapes that fold the length into channels, and skip
  merges that cat an earlier activation with a later one). For each, the Sym sizes and the
  constraints are built by applying convlint.arith's size arithmetic to ``Sym`` values (the small
  driver below), and the same op list is built as a torch model; the computed set must equal the
  ``n`` in 1..256 for which the torch model runs (CPU, batch 1, tiny channels).

Derandomised and a few dozen examples by default; ``CONVLINT_SWEEP=1`` runs hundreds more.
"""

from __future__ import annotations

import os
import sys

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from convlint.arith.core import Window
from convlint.arith.pytorch import torch_conv, torch_conv_transpose, torch_pool
from convlint.interpret.sizes import SizeSet, at_least, broadcasts, divisible, equal, valid_sizes, window_output
from convlint.interpret.symbolic import Sym

SWEEP = os.environ.get("CONVLINT_SWEEP") == "1"
H = Sym.var("H")
COUNTS: dict = {}


def examples(n: int, sweep: int = 400):
    return settings(max_examples=sweep if SWEEP else n, deadline=None, derandomize=not SWEEP, database=None,
                    suppress_health_check=list(HealthCheck))


def count(name: str, k: int = 1) -> None:
    COUNTS[name] = COUNTS.get(name, 0) + k


@pytest.fixture(scope="module", autouse=True)
def _report():
    try:  # tiny tensors: one intra-op thread is ~30× faster than a pool fighting over 2 cores
        import torch

        threads = torch.get_num_threads()
        torch.set_num_threads(1)
    except ImportError:
        torch = None
    yield
    if torch is not None:
        torch.set_num_threads(threads)
    if COUNTS:
        sys.stderr.write("\nconvlint sizes: " + ", ".join(f"{k}: {v}" for k, v in sorted(COUNTS.items())) + "\n")


# ------------------------------------------------------------------------------------------ wording


def members(s: SizeSet, top: int = 300) -> list[int]:
    return [n for n in range(1, top) if n in s]


def test_contract_example_divisible_by_8():
    s = valid_sizes("H", [at_least(H // 8, provenance="down3"), divisible(H, 8, provenance="reshape")])
    assert s.to_json() == {"text": "H ≥ 8, H ≡ 0 (mod 8)", "min": 8, "period": 8, "residues": [0], "below_min": []}
    assert s.words == "H divisible by 8, at least 8"
    assert s.nearest(100) == [96, 104] and s.nearest(3) == [8] and s.nearest(100, 2) == [88, 96, 104, 112]
    assert 350 not in s and 320 in s
    (bad,) = s.violated(350)
    assert bad.provenance == "reshape"
    report = {r.provenance: r for r in s.reports}
    assert report["reshape"].allowed.text == "H ≥ 8, H ≡ 0 (mod 8)" and report["reshape"].excluded_residues == (1, 2, 3, 4, 5, 6, 7)
    assert report["down3"].allowed.text == "H ≥ 8" and report["down3"].excluded_below == tuple(range(1, 8))


@pytest.mark.parametrize(
    "constraints, text, words",
    [
        ([at_least(H)], "H ≥ 1", "any H"),
        ([at_least(H - 4)], "H ≥ 5", "any H ≥ 5"),
        ([equal(H % 4, 1)], "H ≡ 1 (mod 4)", "H leaving remainder 1 when divided by 4"),
        ([equal(H % 4 % 2, 1)], "H ≡ 1 (mod 2)", "H leaving remainder 1 when divided by 2"),
        ([at_least(H // 16), divisible(H, 16)], "H ≥ 16, H ≡ 0 (mod 16)", "H divisible by 16, at least 16"),
        ([equal((H + 3) // 8, 1), divisible(H, 4)], "H ∈ {8, 12}", "H one of 8, 12"),
        ([equal(H // 2, 4), divisible(H, 2)], "H = 8", "H = 8 only"),
        ([equal(H, H + 1)], "no size", "no size works"),
        ([at_least(H - 7), divisible(H, 4)], "H ≥ 8, H ≡ 0 (mod 4)", "H divisible by 4, at least 8"),
        ([equal(H % 8 % 3, 0)], "H ≥ 3, H ≡ 0, 3 or 6 (mod 8)", "H leaving remainder 0, 3 or 6 when divided by 8, at least 3"),
        ([at_least(H - 10 * (H % 2))], "H ∈ {2, 4, 6, 8} or H ≥ 10", "H 2, 4, 6 or 8, or any H ≥ 10"),
    ],
)
def test_wording(constraints, text, words):
    s = valid_sizes("H", constraints)
    assert s.text == text
    if words:
        assert s.words == words
    assert members(s) == [n for n in range(1, 300) if all(c.holds(n) for c in constraints)]


def test_finitely_many_small_sizes_below_a_periodic_set():
    """Even sizes need a multiple of 6; odd ones a multiple of 3 from 31 on: from 30 on, every
    multiple of 3 (brute force checks the numbers; the point is the wording)."""
    cs = [at_least(H - 30 * (H % 2)), divisible(H - (H % 2) * 3, 3)]
    s = valid_sizes("H", cs)
    assert members(s, 400) == [n for n in range(1, 400) if all(c.holds(n) for c in cs)]
    assert s.text == "H ∈ {6, 12, 18, 24} or H ≥ 30, H ≡ 0 (mod 3)"
    assert s.below_min == (6, 12, 18, 24) and s.min == 30 and s.period == 3


def test_another_variable_is_refused():
    with pytest.raises(ValueError):
        valid_sizes("H", [equal(H, Sym.var("W"))])


# --------------------------------------------------------------------- property: brute force, no torch

small = st.integers(-6, 6)


@st.composite
def expressions(draw, depth: int = 4):
    if depth == 0 or draw(st.integers(0, 2)) == 0:
        return H if draw(st.integers(0, 2)) else draw(small)
    a = draw(expressions(depth - 1))
    kind = draw(st.sampled_from(["add", "sub", "mul", "floordiv", "floordiv", "mod"]))
    if kind in ("add", "sub"):
        b = draw(expressions(depth - 1))
        return a + b if kind == "add" else a - b
    if kind == "mul":
        return a * draw(st.integers(-3, 3))
    m = draw(st.sampled_from([2, 2, 3, 4, 8]))
    return a // m if kind == "floordiv" else a % m


@st.composite
def constraints(draw):
    kind = draw(st.sampled_from(["at_least", "equal", "divisible", "broadcast"]))
    if kind == "broadcast":
        return broadcasts(draw(expressions()), draw(expressions()), provenance=kind)
    if kind == "at_least":
        return at_least(draw(expressions()), draw(st.integers(-3, 12)), provenance=kind)
    if kind == "equal":
        return equal(draw(expressions()), draw(expressions()), provenance=kind)
    return divisible(draw(expressions()), draw(st.sampled_from([2, 3, 4, 8])), provenance=kind)


@examples(100, sweep=3000)
@given(st.lists(constraints(), min_size=1, max_size=4))
def test_the_computed_set_is_the_brute_force_set(cs):
    s = valid_sizes("H", cs)
    top = 1000 + (s.min or 0) * 2 + 4 * (s.period or 1)
    truth = [n for n in range(1, top) if all(c.holds(n, "H") for c in cs)]
    assert members(s, top) == truth, (s.to_json(), [str(c) for c in cs])
    # reports: each constraint alone
    for r in s.reports:
        assert members(r.allowed, 400) == [n for n in range(1, 400) if r.constraint.holds(n, "H")]
    if s.residues:
        assert all((s.min + k * s.period) in s for k in range(5))
    if not s.empty:
        assert all(n < s.min for n in s.below_min)
        for n in (1, 50, 257):
            if n not in s:
                near = s.nearest(n)
                assert near and all(m in s and m != n for m in near)
                below = [m for m in range(1, n) if m in s]
                assert (below[-1] in near) if below else True
    count("brute-force sets")


def test_equal_constraints_share_a_solution_but_keep_their_own_provenance():
    from convlint.interpret.sizes import solve

    a = solve("H", [at_least(H // 8, provenance="the first model"), divisible(H, 4, provenance="a reshape")])
    b = solve("H", [at_least(H // 8, provenance="the second model"), divisible(H, 4, provenance="another reshape")])
    assert (a.min, a.period, a.residues, a.below_min) == (b.min, b.period, b.residues, b.below_min) == (8, 4, (0,), ())
    assert [c.provenance for c in b.constraints] == ["the second model", "another reshape"]


# ---------------------------------------------------------------------- the model driver (Sym side)


def conv_op(draw, rank):
    k = tuple(draw(st.integers(1, 5)) for _ in range(rank))
    s = tuple(draw(st.integers(1, 3)) for _ in range(rank))
    d = tuple(draw(st.sampled_from([1, 1, 2])) for _ in range(rank))
    p = tuple(draw(st.integers(0, 2)) for _ in range(rank))
    return ("conv", k, s, p, d)


def pool_op(draw, rank):
    kind = draw(st.sampled_from(["max", "avg"]))
    k = tuple(draw(st.integers(1, 4)) for _ in range(rank))
    s = tuple(draw(st.integers(1, 3)) for _ in range(rank))
    p = tuple(draw(st.integers(0, kk // 2)) for kk in k)
    return ("pool", kind, k, s, p)


def convt_op(draw, rank):
    k = tuple(draw(st.integers(1, 4)) for _ in range(rank))
    s = tuple(draw(st.integers(1, 3)) for _ in range(rank))
    d = tuple(draw(st.sampled_from([1, 1, 2])) for _ in range(rank))
    p = tuple(draw(st.integers(0, 2)) for _ in range(rank))
    op = tuple(draw(st.integers(0, max(ss, dd) - 1)) for ss, dd in zip(s, d))
    return ("convT", k, s, p, op, d)


@st.composite
def random_model(draw, rank: int = 1):
    """Any sequence of ops, each cat joining an earlier activation (often impossible: a finite
    set, or no size at all — as informative as the periodic ones)."""
    ops = []
    for idx in range(draw(st.integers(1, 6))):
        kind = draw(st.sampled_from(["conv", "conv", "pool", "convT", "up", "fold", "cat"] if rank == 1 else ["conv", "conv", "pool", "convT", "up", "cat"]))
        if kind == "conv":
            ops.append(conv_op(draw, rank))
        elif kind == "pool":
            ops.append(pool_op(draw, rank))
        elif kind == "convT":
            ops.append(convt_op(draw, rank))
        elif kind == "up":
            ops.append(("up",))
        elif kind == "fold":
            ops.append(("fold", draw(st.sampled_from([2, 2, 3, 4]))))
        else:
            ops.append(("cat", draw(st.integers(0, idx))))
    return ops


@st.composite
def unet(draw, rank: int = 1):
    """An encoder/decoder with skips: each level goes down (strided conv or pool) and comes back
    up (transposed conv, or nearest ×2 then a conv), and the decoder cats the encoder's activation."""
    depth = draw(st.integers(1, 4))
    ops, skips = [], []
    for _ in range(depth):
        if draw(st.booleans()):
            k = draw(st.sampled_from([3, 3, 1]))
            ops.append(("conv", (k,) * rank, (1,) * rank, ((k - 1) // 2 if draw(st.booleans()) else 0,) * rank, (1,) * rank))
        skips.append(len(ops))  # the activation after ops[:len(ops)]
        down = draw(st.sampled_from(["pool2", "conv_s2_k3", "conv_s2_k4", "conv_s2_k2", "pool3"]))
        ops.append({
            "pool2": ("pool", "max", (2,) * rank, (2,) * rank, (0,) * rank),
            "pool3": ("pool", "avg", (3,) * rank, (2,) * rank, (1,) * rank),
            "conv_s2_k3": ("conv", (3,) * rank, (2,) * rank, (1,) * rank, (1,) * rank),
            "conv_s2_k4": ("conv", (4,) * rank, (2,) * rank, (1,) * rank, (1,) * rank),
            "conv_s2_k2": ("conv", (2,) * rank, (2,) * rank, (0,) * rank, (1,) * rank),
        }[down])
    if draw(st.booleans()):
        ops.append(("conv", (3,) * rank, (1,) * rank, (draw(st.integers(0, 1)),) * rank, (1,) * rank))
    for level in reversed(range(depth)):
        up = draw(st.sampled_from(["convT2", "convT3", "convT4", "up"]))
        ops.append({
            "convT2": ("convT", (2,) * rank, (2,) * rank, (0,) * rank, (0,) * rank, (1,) * rank),
            "convT3": ("convT", (3,) * rank, (2,) * rank, (1,) * rank, (draw(st.integers(0, 1)),) * rank, (1,) * rank),
            "convT4": ("convT", (4,) * rank, (2,) * rank, (1,) * rank, (0,) * rank, (1,) * rank),
            "up": ("up",),
        }[up])
        ops.append(("cat", skips[level]))
    if rank == 1 and draw(st.integers(0, 3)) == 0:
        ops.append(("fold", draw(st.sampled_from([2, 4, 8]))))
    return ops


def sym_sizes(ops, rank: int):
    """Apply convlint.arith's size arithmetic to Sym sizes: ``(constraints, output sizes)``.

    Every spatial dimension of the input is ``H`` (a square input in 2-D)."""
    x = (H,) * rank
    acts = [x]
    cs = []
    for idx, op in enumerate(ops):
        label = f"op{idx}:{op[0]}"
        if op[0] == "conv":
            _, k, s, p, d = op
            x = tuple(window_output(w, n) for w, n in zip(torch_conv(k, s, p, d, rank=rank).windows, x))
            cs += [at_least(v, provenance=label) for v in x]
        elif op[0] == "pool":
            _, kind, k, s, p = op
            kk, ss, pp, dd = torch_pool(k, s, p, rank=rank, kind=kind)
            x = tuple(window_output(Window(a, b, e, 1, c, c), n) for a, b, c, e, n in zip(kk, ss, pp, dd, x))
            cs += [at_least(v, provenance=label) for v in x]
        elif op[0] == "convT":
            _, k, s, p, opad, d = op
            x = tuple(window_output(w, n) for w, n in zip(torch_conv_transpose(k, s, p, opad, d, rank=rank).windows, x))
            cs += [at_least(v, provenance=label) for v in x]
        elif op[0] == "up":
            x = tuple(n * 2 for n in x)
        elif op[0] == "fold":
            f = op[1]
            cs += [divisible(n, f, provenance=label) for n in x]
            x = tuple(n // f for n in x)
        elif op[0] == "cat":
            other = acts[op[1]]
            cs += [equal(a, b, provenance=label) for a, b in zip(other, x)]
        acts.append(x)
    return cs, x


# ---------------------------------------------------------------------------- the same model in torch


def torch_model(ops, rank: int):
    import torch
    from torch import nn

    conv = getattr(nn, f"Conv{rank}d")
    convt = getattr(nn, f"ConvTranspose{rank}d")
    pools = {"max": getattr(nn, f"MaxPool{rank}d"), "avg": getattr(nn, f"AvgPool{rank}d")}
    layers, chans = [], [1]
    c = 1
    for op in ops:
        if op[0] == "conv":
            _, k, s, p, d = op
            layers.append(conv(c, 2, k, stride=s, padding=p, dilation=d))
            c = 2
        elif op[0] == "pool":
            _, kind, k, s, p = op
            layers.append(pools[kind](k, stride=s, padding=p))
        elif op[0] == "convT":
            _, k, s, p, opad, d = op
            layers.append(convt(c, 2, k, stride=s, padding=p, output_padding=opad, dilation=d))
            c = 2
        elif op[0] == "up":
            layers.append(nn.Upsample(scale_factor=2, mode="nearest"))
        elif op[0] == "fold":
            f = op[1]
            layers.append(("fold", f))
            c = c * f
        elif op[0] == "cat":
            layers.append(("cat", op[1]))
            c = c + chans[op[1]]
        chans.append(c)

    def run(n: int) -> bool:
        x = torch.zeros((1, 1) + (n,) * rank)
        acts = [x]
        try:
            with torch.no_grad():
                for layer in layers:
                    if isinstance(layer, tuple) and layer[0] == "fold":
                        f = layer[1]
                        x = x.reshape(1, x.shape[1] * f, x.shape[2] // f)  # raises unless f divides the length
                    elif isinstance(layer, tuple):
                        x = torch.cat([acts[layer[1]], x], dim=1)
                    else:
                        x = layer(x)
                    if 0 in x.shape:
                        return False
                    acts.append(x)
        except RuntimeError:
            return False
        return True

    return run


def check_against_torch(ops, rank: int, top: int = 256):
    cs, _ = sym_sizes(ops, rank)
    s = valid_sizes("H", cs)
    run = torch_model(ops, rank)
    runs = [n for n in range(1, top + 1) if run(n)]
    assert members(s, top + 1) == runs, (ops, s.to_json())
    for n in (1, 7, 100, 255):
        if n not in s and not s.empty:
            assert s.violated(n)
    count(f"{rank}-d models")
    count(f"{rank}-d sizes run in torch", top)
    count("periodic" if s.residues and s.period > 1 else ("finite or empty" if s.finite else "from a minimum on"))
    return s


@examples(40, sweep=1000)
@given(st.one_of(unet(1), random_model(1)))
def test_valid_sizes_are_the_sizes_a_1d_torch_model_runs(ops):
    pytest.importorskip("torch")
    check_against_torch(ops, 1)


@examples(10, sweep=200)
@given(st.one_of(unet(2), random_model(2)))
def test_valid_sizes_are_the_sizes_a_2d_torch_model_runs(ops):
    pytest.importorskip("torch")
    check_against_torch(ops, 2, top=256 if SWEEP else 128)  # n×n inputs: 1..128 by default, 1..256 in the sweep


def test_a_unet_that_needs_a_multiple_of_8():
    """Three max-pool levels, nearest upsampling and cats: 320 works, 350 does not, and the
    layer that says so is a merge."""
    pytest.importorskip("torch")
    ops = []
    skips = []
    for _ in range(3):
        ops.append(("conv", (3,), (1,), (1,), (1,)))
        skips.append(len(ops))
        ops.append(("pool", "max", (2,), (2,), (0,)))
    for level in reversed(range(3)):
        ops.append(("up",))
        ops.append(("cat", skips[level]))
    s = check_against_torch(ops, 1)
    assert s.text == "H ≥ 8, H ≡ 0 (mod 8)"
    assert 320 in s and 350 not in s and s.nearest(350) == [344, 352]
    assert {str(c.provenance).split(":")[1] for c in s.violated(350)} == {"cat"}
