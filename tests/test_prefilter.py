"""The prefilter: a strict byte regex that decides which files are parsed at all."""

from __future__ import annotations


import pytest

from convlint.source.prefilter import may_contain_conv


@pytest.mark.parametrize(
    "src",
    [
        "self.conv = nn.Conv2d(3, 8, 3)",
        "layer = torch.nn.Conv1d(1, 1, 1)",
        "nn.Conv3d(1, 1, 1)",
        "nn.ConvTranspose2d(8, 3, 4, stride=2)",
        "nn.LazyConv2d(8, 3)",
        "nn.LazyConvTranspose3d(8, 3)",
        "y = F.conv2d(x, w)",
        "y = F.conv_transpose1d(x, w)",
        "y = lax.conv_general_dilated(x, w, (1, 1), 'SAME')",
        "y = lax.conv_with_general_padding(x, w, (1, 1), [(0, 0)], None, None)",
        "y = lax.conv_transpose(x, w, (2, 2), 'SAME')",
        "y = lax.conv(x, w, (1, 1), 'SAME')",
        "x = nn.Conv(features=32, kernel_size=(3, 3))(x)",
        "from flax.linen import Conv\nx = Conv(4, (3, 3))(x)",
        "x = nn.ConvTranspose(4, (3, 3))(x)",
        "x = nn.ConvLocal(4, (3, 3))(x)",
        "self.pool = nn.MaxPool2d(2)",
        "self.pool = nn.AdaptiveAvgPool2d(1)",
        "x = F.max_pool2d(x, 2)",
        "x = nn.avg_pool(x, (2, 2))",
        "self.up = nn.Upsample(scale_factor=2)",
        "x = F.interpolate(x, scale_factor=2)",
        "self.inc = DoubleConv(n_channels, 64)",
        "self.b = ConvBlock(3, 8)",
        "self.b = BasicConv2d(3, 8, kernel_size=1)",
        "# convlint: input=(1, 3, 64, 64)\nclass M: pass",
        "class M:  #convlint: input=(B, 3, H, W)",
        "from jaxtyping import Float\n",
    ],
)
def test_conv_family_sources_pass(src):
    assert may_contain_conv(src.encode())


@pytest.mark.parametrize(
    "src",
    [
        "def convert(x):\n    return x.convert('RGB')\n",
        "CONVERSION = 1\nconversion = 2\n",
        "# Convolution is discussed elsewhere\n",
        "x = torch.relu(nn.Linear(3, 4)(x))\n",
        "self.convolve = 1\nreconv = 2\n",
        "my_conv2d_helper = 1\n",  # a longer identifier is not the API name
        "x = obj.Conversation()\n",
        "import numpy as np\nnp.convolve(a, b)\n",
        "",
    ],
)
def test_files_without_conv_names_fail(src):
    assert not may_contain_conv(src.encode())


# --------------------------------------------------------------------------- the fast path
# ``may_contain_conv`` looks for literals with ``bytes.find`` and runs the pattern only in windows
# around them; its answer must be exactly the pattern's over the whole file.

from pathlib import Path  # noqa: E402

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from convlint.source.prefilter import CONV_PATTERN  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def _reference(data: bytes) -> bool:
    return CONV_PATTERN.search(data) is not None


def _corpus() -> list[Path]:
    files = sorted((ROOT / "examples").rglob("*.py")) + sorted((ROOT / "tests" / "fixtures").rglob("*.py"))
    files += sorted((ROOT / "tests").glob("*.py")) + sorted((ROOT / "convlint").rglob("*.py"))
    return files


def test_fast_path_admits_exactly_what_the_pattern_admits_on_bundled_sources():
    files = _corpus()
    assert len(files) > 50
    admitted = 0
    for f in files:
        data = f.read_bytes()
        assert may_contain_conv(data) == _reference(data), f
        admitted += _reference(data)
        # every line alone too: many small texts, most of them near a window's edge
        for line in data.splitlines(keepends=True):
            assert may_contain_conv(line) == _reference(line), (f, line)
    assert 0 < admitted < len(files)


# fragments that build texts near every alternative's edges: word boundaries, look-behinds,
# runs of whitespace that some alternatives allow without bound
_FRAGMENTS = [
    "Conv", "conv", "Conv2d", "conv2d", "ConvTranspose", "convert", "Double", "Basic", "Lazy", "LazyConv2d",
    "LPPool1d", "MaxPool2d", "AvgPool3d", "AdaptiveMaxPool2d", "_pool", "max", "avg", "min", "pool", ".pool(",
    "image", ".resize(", "scale_and_translate(", "Upsample", "Upsampling", "NearestUpsampl", "interpolate",
    "reduce", "_window", "jaxtyping", "#", "convlint", ":", "randn(", "rand(", "ones(", "zeros(", "empty(",
    "(", ")", "1", "x", "X", "_", ".", "lax", ".init(", ".init_with_output(", "eval_shape(", "e", "val_shape(",
    " ", "\t", "\n", " " * 70, "\t" * 70, "\n" * 3, "a" * 70, "_general_dilated", "_transpose", "3d", "Local",
    # the occurrences no match holds its literal in: prose and other names around the real ones
    "convolution", "Convolution", "onv", "onve", "lint", "l", "random", "rand", "n(", "pooling", "spool", "P", "ool",
    "bool", "tool", "p", "C", "c", "2", "4", "T", "lax.", "s.0.", "image", "_with_output", "init", "((", "self.conv.w",
    "Pool", "pool(", "_p", "maxp", ".p",
]


@settings(max_examples=1500, deadline=None)
@given(st.lists(st.sampled_from(_FRAGMENTS), max_size=14))
def test_fast_path_agrees_with_the_pattern_on_generated_text(parts):
    data = "".join(parts).encode()
    assert may_contain_conv(data) == _reference(data)


@pytest.mark.parametrize(
    "src",
    [
        "#" + " " * 200 + "convlint" + "\t" * 200 + ":",
        "x = torch.ones(" + " " * 100 + "\n" * 50 + "1)",
        "x = torch.zeros((" + " " * 300 + "3, 4))",
        "a" * 100 + "Conv" + "b" * 100,
        "y" * 63 + "Conv2d",
        "Conv" + " " * 200,
    ],
)
def test_fast_path_long_runs_and_window_edges(src):
    data = src.encode()
    assert may_contain_conv(data) == _reference(data)
