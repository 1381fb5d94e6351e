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
