"""convlint.confirm.layers: single layers built in the real frameworks."""

from __future__ import annotations

import subprocess
import sys

import pytest

from convlint.confirm.layers import LayerOutcome, missing_frameworks


def test_importing_the_module_imports_no_framework():
    code = (
        "import sys, convlint.confirm.layers\n"
        "heavy = [m for m in sys.modules if m.split('.')[0] in ('torch', 'jax', 'flax')]\n"
        "sys.exit(1 if heavy else 0)\n"
    )
    assert subprocess.run([sys.executable, "-c", code], timeout=60).returncode == 0


def test_missing_frameworks_reports_without_importing():
    assert missing_frameworks("surely_not_a_module_xyz") == ["surely_not_a_module_xyz"]


def test_outcome_flags():
    assert LayerOutcome((1, 0, 3)).empty and LayerOutcome((1, 0, 3)).ok
    assert not LayerOutcome(None, "ValueError: no").ok


@pytest.fixture(scope="module")
def layers():
    pytest.importorskip("torch")
    pytest.importorskip("jax")
    pytest.importorskip("flax")
    from convlint.confirm import layers

    return layers


def test_torch_modules_functions_and_pools(layers):
    assert layers.torch_layer("torch.nn.Conv2d", dict(in_channels=3, out_channels=8, kernel_size=3, padding=1), (2, 3, 9, 9)).shape == (2, 8, 9, 9)
    assert layers.torch_layer("nn.Conv1d", dict(kernel_size=3), (1, 4, 9)).shape == (1, 4, 7)  # channels from the input
    assert layers.torch_layer("F.conv_transpose1d", dict(weight=(4, 2, 3), stride=2, groups=2, bias=True), (1, 4, 5)).shape == (1, 4, 11)
    assert layers.torch_layer_checked("torch.nn.MaxPool2d", dict(kernel_size=3, stride=2, ceil_mode=True), (1, 2, 8, 8)).shape == (1, 2, 4, 4)
    assert layers.torch_layer_checked("torch.nn.AvgPool1d", dict(kernel_size=2), (1, 2, 9)).shape == (1, 2, 4)
    assert layers.torch_layer_checked("torch.nn.Upsample", dict(scale_factor=2), (1, 2, 8, 8)).shape == (1, 2, 16, 16)
    assert layers.torch_layer_checked("torch.nn.functional.interpolate", dict(size=(3, 5)), (1, 2, 8, 8)).shape == (1, 2, 3, 5)
    assert layers.torch_layer_checked("torch.nn.Conv2d", dict(in_channels=2, out_channels=2, kernel_size=3), (2, 9, 9)).shape == (2, 7, 7)


def test_torch_errors_are_strings_with_the_type(layers):
    got = layers.torch_layer("torch.nn.Conv1d", dict(in_channels=1, out_channels=1, kernel_size=5), (1, 1, 3))
    assert got.shape is None and got.error.startswith("RuntimeError: ") and "Kernel size" in got.error
    got = layers.torch_layer("torch.nn.Conv2d", dict(in_channels=3, out_channels=4, kernel_size=3, groups=2), (1, 3, 8, 8))
    assert got.error.startswith("ValueError: ")
    assert layers.torch_layer("torch.nn.NoSuchConv", {}, (1, 1, 3)).error.startswith("AttributeError: ")


def test_checked_keeps_the_cpu_only_rules(layers):
    # meta does not check the weight's out-channels against groups; CPU does
    kw = dict(weight=(3, 1, 1), groups=2)
    assert layers.torch_layer("torch.nn.functional.conv1d", kw, (1, 2, 5)).ok
    assert not layers.torch_layer_checked("torch.nn.functional.conv1d", kw, (1, 2, 5)).ok
    kw = dict(in_channels=1, out_channels=1, kernel_size=3, stride=2, padding=1, output_size=[10])
    assert layers.torch_layer_checked("torch.nn.ConvTranspose1d", kw, (1, 1, 5)).shape == (1, 1, 10)


def test_lax_and_flax(layers):
    got = layers.lax_layer("jax.lax.conv_general_dilated", dict(window_strides=(3, 3), padding=((1, 1), (3, 3)), rhs_dilation=(2, 2)), (1, 1, 64, 48), (1, 1, 5, 5))
    assert got.shape == (1, 1, 20, 16)
    got = layers.lax_layer("lax.conv", dict(window_strides=(1,), padding="VALID"), (1, 1, 3), (1, 1, 5))
    assert got.ok and got.empty
    got = layers.lax_layer("jax.lax.conv_general_dilated", dict(window_strides=(1,), padding="SAME", lhs_dilation=(2,)), (1, 1, 8), (1, 1, 3))
    assert got.error.startswith("ValueError: ")
    assert layers.flax_layer("flax.linen.Conv", dict(features=4, kernel_size=(3, 3), strides=2), (1, 9, 9, 1)).shape == (1, 5, 5, 4)
    assert layers.flax_layer("nn.ConvTranspose", dict(features=4, kernel_size=(3,), strides=2, padding="CIRCULAR"), (1, 9, 1)).shape == (1, 18, 4)
    assert layers.flax_layer("flax.linen.ConvLocal", dict(features=2, kernel_size=(3,), padding="VALID"), (1, 9, 1)).shape == (1, 7, 2)
    # flax freezes list attributes into tuples, so JSON-style pairs work
    assert layers.flax_layer("flax.linen.Conv", dict(kernel_size=(3,), padding=[[1, 2]]), (1, 9, 1)).shape == (1, 10, 1)
    assert layers.flax_layer("flax.linen.Conv", dict(kernel_size=(3,), padding="bogus"), (1, 9, 1)).error.startswith("RuntimeError: ")
