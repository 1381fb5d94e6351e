"""Unit tests of the arithmetic core: the seed's worked examples, the seed helpers' failures, the
frameworks' traps, and clear errors. Expected sizes come from the frameworks (torch meta / CPU,
``jax.eval_shape``) unless the seed states them."""

from __future__ import annotations

import math

import pytest

from convlint.arith import (
    ConvArithmeticError,
    Window,
    flax_conv,
    flax_conv_transpose,
    lax_conv_general_dilated,
    lax_conv_transpose,
    lax_output,
    output_padding_for_size,
    solve_padding,
    solve_torch_transpose,
    solve_transpose,
    torch_conv,
    torch_conv_transpose,
)


def _layers():
    pytest.importorskip("torch")
    pytest.importorskip("jax")
    pytest.importorskip("flax")
    from convlint.confirm import layers

    return layers


# ------------------------------------------------------------------ the seed's helpers, verbatim


def seed_padding_fun(input_dim, output_dim, stride, kernel_size, dilation):
    pad = math.ceil(0.5 * (stride * (output_dim - 1) - input_dim + dilation * (kernel_size - 1) + 1))
    err_msg = "kernel, stride, dilation and input/output sizes do not match"
    if pad >= 0:
        r = (input_dim + 2 * pad - dilation * (kernel_size - 1) - 1) % stride
        assert output_dim == math.floor((input_dim + 2 * pad - dilation * (kernel_size - 1) - 1) / stride) + 1, err_msg
        return pad, r
    else:
        raise ValueError(err_msg)


def seed_padding2(input_dim, output_dim, stride, kernel_size, dilation, inp_dilation):
    pad = 0.5 * (stride * (output_dim - 1) - input_dim - (input_dim - 1) * (inp_dilation - 1) + dilation * (kernel_size - 1) + 1)
    err_msg = f"Incompatible values: kernel:{kernel_size}, stride:{stride}, input:{input_dim}, output:{output_dim} are incompatible"
    print(f"pad: {pad}")
    if pad > 0:
        r = math.ceil(pad % 1)
        pad = math.floor(pad)
        assert output_dim == math.floor(
            (input_dim + (input_dim - 1) * (inp_dilation - 1) + 2 * pad + r - dilation * (kernel_size - 1) - 1) / stride
        ) + 1, err_msg
    else:
        raise ValueError(err_msg)
    return pad, r


# ------------------------------------------------------------------------ the seed's worked examples


def test_seed_direct_6_to_4_kernel_3_valid():
    assert torch_conv(3, rank=2).output((6, 6)) == (4, 4)
    windows = lax_conv_general_dilated((6, 6), (3, 3), (1, 1), "VALID", (1, 1), (1, 1))
    assert lax_output((6, 6), windows) == (4, 4)


def test_seed_transpose_4_to_6_with_padding_2():
    assert torch_conv_transpose(3, 1, 0, 0, rank=2).output((4, 4)) == (6, 6)
    windows = lax_conv_general_dilated((4, 4), (3, 3), (1, 1), [(2, 2), (2, 2)], (1, 1), (1, 1))
    assert lax_output((4, 4), windows) == (6, 6)


def test_seed_direct_64_to_20_kernel_5_stride_3_dilation_2_padding_2():
    assert torch_conv(5, stride=3, padding=2, dilation=2, rank=2).output((64, 64)) == (20, 20)
    windows = lax_conv_general_dilated((64, 64), (5, 5), (3, 3), [(2, 2), (2, 2)], (1, 1), (2, 2))
    assert lax_output((64, 64), windows) == (20, 20)


def test_seed_20_to_64_with_lhs_dilation_3_is_shape_correct_but_not_the_adjoint():
    windows = lax_conv_general_dilated((20, 20), (5, 5), (1, 1), [(5, 5), (5, 5)], (3, 3), (1, 1))
    assert lax_output((20, 20), windows) == (64, 64)
    # the transpose (gradient) of the 64→20 conv keeps the kernel dilation 2
    sol = solve_transpose(64, 5, 3, 2, 2)
    assert sol.o == 20
    assert sol.canonical.dilation == 2 and sol.canonical.input_dilation == 3
    assert sol.canonical.output_size(20) == 64
    assert sol.canonical != windows[0]


def test_seed_examples_agree_with_the_frameworks():
    layers = _layers()
    assert layers.torch_layer("torch.nn.Conv2d", dict(in_channels=1, out_channels=1, kernel_size=5, stride=3, padding=2, dilation=2), (1, 1, 64, 64)).shape == (1, 1, 20, 20)
    assert layers.torch_layer("torch.nn.ConvTranspose2d", dict(in_channels=1, out_channels=1, kernel_size=3), (1, 1, 4, 4)).shape == (1, 1, 6, 6)
    got = layers.lax_layer(
        "jax.lax.conv_general_dilated",
        dict(window_strides=(1, 1), padding=[(5, 5), (5, 5)], lhs_dilation=(3, 3), rhs_dilation=(1, 1), dimension_numbers=("NCHW", "IOHW", "NCHW")),
        (1, 2, 20, 20),
        (2, 3, 5, 5),
    )
    assert got.shape == (1, 3, 64, 64)


# ------------------------------------------------------------------ where the seed's helpers fail


def test_seed_padding2_rejects_valid_zero_padding_but_solve_padding_returns_it(capsys):
    with pytest.raises(ValueError):
        seed_padding2(6, 4, 1, 3, 1, 1)
    assert "pad: 0.0" in capsys.readouterr().out  # and it prints debug output
    sol = solve_padding(6, 4, 3)
    assert (sol.lo, sol.hi) == (0, 0)
    assert torch_conv(3, padding=0, rank=1).output((6,)) == (4,)


def test_seed_padding_fun_asserts_on_an_odd_total_where_an_asymmetric_answer_exists():
    with pytest.raises(AssertionError):
        seed_padding_fun(5, 5, 1, 2, 1)
    sol = solve_padding(5, 5, 2)
    assert (sol.lo, sol.hi) == (0, 1)
    layers = _layers()
    got = layers.lax_layer("jax.lax.conv_general_dilated", dict(window_strides=(1,), padding=[(0, 1)]), (1, 1, 5), (1, 1, 2))
    assert got.shape == (1, 1, 5)


def test_seed_padding_fun_agrees_where_it_works():
    pad, _ = seed_padding_fun(64, 20, 3, 5, 2)
    assert torch_conv(5, 3, pad, 2, rank=1).output((64,)) == (20,)
    sol = solve_padding(64, 20, 5, 3, 2)
    assert Window(5, 3, 2, 1, sol.lo, sol.hi).output_size(64) == 20


# ------------------------------------------------------------------------------ errors and messages


def test_impossible_padding_names_the_constraint():
    with pytest.raises(ConvArithmeticError) as info:
        solve_padding(10, 4, 3)  # zero padding already gives 8: padding only adds
    assert "output" in info.value.constraint
    assert "10" in str(info.value) and "4" in str(info.value) and "8" in str(info.value)


def test_output_padding_rule_names_the_constraint():
    with pytest.raises(ConvArithmeticError) as info:
        torch_conv_transpose(3, stride=2, output_padding=2, rank=2)
    assert info.value.constraint == "output_padding < max(stride, dilation)"
    assert info.value.argument == "output_padding"
    assert "output_padding" in str(info.value)


def test_same_padding_with_stride_is_rejected_like_torch():
    with pytest.raises(ConvArithmeticError) as info:
        torch_conv(3, stride=2, padding="same", rank=2)
    assert "stride" in info.value.constraint
    layers = _layers()
    got = layers.torch_layer("torch.nn.Conv2d", dict(in_channels=1, out_channels=1, kernel_size=3, stride=2, padding="same"), (1, 1, 8, 8))
    assert got.error is not None and got.error.startswith("ValueError:")


def test_groups_must_divide_the_channels():
    with pytest.raises(ConvArithmeticError) as info:
        torch_conv(3, rank=2, groups=2, in_channels=3, out_channels=4)
    assert info.value.constraint == "in_channels divisible by groups"
    with pytest.raises(ConvArithmeticError) as info:
        torch_conv_transpose(3, rank=2, groups=2, in_channels=4, out_channels=3)
    assert info.value.constraint == "out_channels divisible by groups"


def test_window_larger_than_input_is_an_error_for_torch_and_zero_for_jax():
    with pytest.raises(ConvArithmeticError) as info:
        torch_conv(5, rank=1).output((3,))
    assert info.value.constraint == "output size ≥ 1"
    windows = lax_conv_general_dilated((3,), (5,), (1,), "VALID")
    assert lax_output((3,), windows) == (0,)
    layers = _layers()
    assert layers.lax_layer("jax.lax.conv_general_dilated", dict(window_strides=(1,), padding="VALID"), (1, 1, 3), (1, 1, 5)).shape == (1, 1, 0)
    assert layers.torch_layer("torch.nn.Conv1d", dict(in_channels=1, out_channels=1, kernel_size=5), (1, 1, 3)).error.startswith("RuntimeError:")


def test_negative_padding_larger_than_input_raises_in_jax_and_convlint():
    windows = lax_conv_general_dilated((3,), (1,), (1,), [(-2, -2)])
    with pytest.raises(ConvArithmeticError):
        lax_output((3,), windows)
    layers = _layers()
    assert not layers.lax_layer("jax.lax.conv_general_dilated", dict(window_strides=(1,), padding=[(-2, -2)]), (1, 1, 3), (1, 1, 1)).ok


# --------------------------------------------------------------------------------- framework traps


def test_conv_transpose_padding_same_is_accepted_by_the_constructor_but_not_by_forward():
    layers = _layers()
    import torch

    torch.nn.ConvTranspose2d(1, 1, 3, padding="same")  # the constructor says nothing
    got = layers.torch_layer("torch.nn.ConvTranspose2d", dict(in_channels=1, out_channels=1, kernel_size=3, padding="same"), (1, 1, 8, 8))
    assert not got.ok
    with pytest.raises(ConvArithmeticError) as info:
        torch_conv_transpose(3, padding="same", rank=2)
    assert info.value.argument == "padding"


def test_meta_device_accepts_an_output_padding_that_cpu_rejects():
    layers = _layers()
    kw = dict(in_channels=1, out_channels=1, kernel_size=3, stride=2, output_padding=2)
    assert layers.torch_layer("torch.nn.ConvTranspose1d", kw, (1, 1, 5), device="meta").ok
    assert not layers.torch_layer("torch.nn.ConvTranspose1d", kw, (1, 1, 5), device="cpu").ok
    assert not layers.torch_layer_checked("torch.nn.ConvTranspose1d", kw, (1, 1, 5)).ok
    with pytest.raises(ConvArithmeticError):
        torch_conv_transpose(3, stride=2, output_padding=2, rank=1)


def test_flax_conv_transpose_int_padding_moves_the_size_the_opposite_way_from_torch():
    """A classic porting bug: torch's padding=p removes size, flax's padding=p adds it."""
    layers = _layers()
    flax_sizes = [lax_output((8,), flax_conv_transpose((8,), 3, 2, p)) for p in (0, 1, 2)]
    torch_sizes = [torch_conv_transpose(3, 2, p, rank=1).output((8,)) for p in (0, 1, 2)]
    assert flax_sizes[0] < flax_sizes[1] < flax_sizes[2]
    assert torch_sizes[0] > torch_sizes[1] > torch_sizes[2]
    for p, ours in zip((0, 1, 2), flax_sizes):
        assert layers.flax_layer("flax.linen.ConvTranspose", dict(features=1, kernel_size=(3,), strides=2, padding=p), (1, 8, 1)).shape == (1, *ours, 1)
    for p, ours in zip((0, 1, 2), torch_sizes):
        got = layers.torch_layer("torch.nn.ConvTranspose1d", dict(in_channels=1, out_channels=1, kernel_size=3, stride=2, padding=p), (1, 1, 8))
        assert got.shape == (1, 1, *ours)


def test_lax_conv_transpose_reads_pairs_unlike_torch_and_consistent_padding_like_torch():
    layers = _layers()
    spec = ("NCH", "OIH", "NCH")
    default = lax_output((8,), lax_conv_transpose((8,), (3,), (2,), [(2, 2)]))
    consistent = lax_output((8,), lax_conv_transpose((8,), (3,), (2,), [(2, 2)], use_consistent_padding=True))
    torch_size = torch_conv_transpose(3, 2, 2, rank=1).output((8,))
    assert consistent == torch_size != default
    got = layers.lax_layer("jax.lax.conv_transpose", dict(strides=(2,), padding=[(2, 2)], dimension_numbers=spec), (1, 1, 8), (1, 1, 3))
    assert got.shape[2:] == default
    got = layers.lax_layer(
        "jax.lax.conv_transpose", dict(strides=(2,), padding=((2, 2),), dimension_numbers=spec, use_consistent_padding=True), (1, 1, 8), (1, 1, 3)
    )
    assert got.shape[2:] == consistent


def test_flax_circular_and_causal_padding():
    layers = _layers()
    for padding in ("CIRCULAR", "REFLECT"):
        ours = lax_output((9, 7), flax_conv((9, 7), (4, 3), 2, padding))
        got = layers.flax_layer("flax.linen.Conv", dict(features=1, kernel_size=(4, 3), strides=2, padding=padding), (1, 9, 7, 1))
        assert got.shape == (1, *ours, 1)
    assert lax_output((10,), flax_conv((10,), 3, 1, "CAUSAL", 1, 2)) == (10,)
    with pytest.raises(ConvArithmeticError):
        flax_conv((10, 10), (3, 3), 1, "CAUSAL")


def test_output_size_forward_accepts_exactly_torch_range():
    layers = _layers()
    # (5-1)*2 - 2*1 + 2 + 1 = 9 .. 10
    for size in (8, 9, 10, 11):
        kw = dict(in_channels=1, out_channels=1, kernel_size=3, stride=2, padding=1, output_size=[size])
        got = layers.torch_layer_checked("torch.nn.ConvTranspose1d", kw, (1, 1, 5))
        try:
            op = output_padding_for_size((5,), (size,), 3, 2, 1, rank=1)
        except ConvArithmeticError:
            assert not got.ok
        else:
            assert got.shape == (1, 1, size)
            assert torch_conv_transpose(3, 2, 1, op, rank=1).output((5,)) == (size,)


# ------------------------------------------------------------- regressions for fixed core bugs


def test_solve_transpose_never_returns_an_illegal_torch_output_padding():
    """Regression: with padding (0, 1) the fallback returned output_padding=-1, which torch rejects."""
    sol = solve_transpose(5, 2, 1, (0, 1))
    assert sol.canonical.output_size(sol.o) == 5
    # no symmetric ConvTranspose takes 5 back to 5 with a 2-kernel and stride 1
    assert sol.torch_padding is None and sol.torch_output_padding is None and not sol.torch_exact
    with pytest.raises(ConvArithmeticError):
        solve_torch_transpose(sol.o, 5, 2, 1)


def test_solve_transpose_is_exact_for_asymmetric_padding_when_torch_can_express_it():
    """Regression: an asymmetric direct padding (lo, lo+1) with dropped rows was marked inexact."""
    sol = solve_transpose(7, 3, 2, (0, 1))
    assert (sol.o, sol.torch_padding, sol.torch_output_padding, sol.torch_exact) == (3, 0, 0, True)
    t = torch_conv_transpose(3, 2, sol.torch_padding, sol.torch_output_padding, rank=1)
    assert t.windows[0] == sol.canonical
    layers = _layers()
    got = layers.torch_layer_checked("torch.nn.ConvTranspose1d", dict(in_channels=1, out_channels=1, kernel_size=3, stride=2), (1, 1, 3))
    assert got.shape == (1, 1, 7)


def test_consistent_padding_rejects_what_jax_rejects():
    """Regression: use_consistent_padding=True accepts only 'SAME'/'VALID' and tuple pairs in jax."""
    layers = _layers()
    spec = ("NCH", "OIH", "NCH")
    with pytest.raises(ConvArithmeticError):
        lax_conv_transpose((4,), (3,), (1,), "same", use_consistent_padding=True)
    assert not layers.lax_layer(
        "jax.lax.conv_transpose", dict(strides=(1,), padding="same", dimension_numbers=spec, use_consistent_padding=True), (1, 1, 4), (1, 1, 3)
    ).ok
    with pytest.raises(ConvArithmeticError):
        lax_conv_transpose((4,), (3,), (2,), [[1, 1]], use_consistent_padding=True)
    assert not layers.lax_layer(
        "jax.lax.conv_transpose", dict(strides=(2,), padding=[[1, 1]], dimension_numbers=spec, use_consistent_padding=True), (1, 1, 4), (1, 1, 3)
    ).ok
    # without the flag, lowercase strides-1 'same' is plain SAME, as jax does
    assert lax_output((4,), lax_conv_transpose((4,), (3,), (1,), "same")) == (4,)


def test_negative_padding_crops_with_non_zero_padding_modes_as_in_torch():
    """Regression: torch pads reflect/replicate/circular with F.pad, where a negative amount crops;
    only padding_mode='zeros' rejects negative padding."""
    layers = _layers()
    for mode in ("reflect", "replicate", "circular"):
        ours = torch_conv(1, padding=(0, -1), rank=2, padding_mode=mode).output((1, 3))
        got = layers.torch_layer_checked(
            "torch.nn.Conv2d", dict(in_channels=1, out_channels=1, kernel_size=1, padding=(0, -1), padding_mode=mode), (1, 1, 1, 3)
        )
        assert got.shape == (1, 1, *ours) == (1, 1, 1, 1)
    with pytest.raises(ConvArithmeticError):
        torch_conv(1, padding=(0, -1), rank=2)
    assert not layers.torch_layer_checked("torch.nn.Conv2d", dict(in_channels=1, out_channels=1, kernel_size=1, padding=(0, -1)), (1, 1, 1, 3)).ok
