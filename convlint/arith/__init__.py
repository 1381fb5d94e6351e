"""The convolution arithmetic core: pure Python, standard library only.

Every convolution reduces per spatial dimension to a canonical :class:`Window` whose output size is
``o = floor(((i − 1)·δ + 1 + lo + hi − d·(k − 1) − 1) / s) + 1``. Front-ends translate each
framework's own arguments into windows, with that framework's rules; solvers answer the inverse
questions. Every rejected configuration or impossible request raises :class:`ConvArithmeticError`.

>>> from convlint.arith import torch_conv
>>> torch_conv(5, stride=3, padding=2, dilation=2, rank=1).output((64,))
(20,)
"""

from convlint.arith.core import ConvArithmeticError, ErrorKind, Window, output_size, output_sizes
from convlint.arith.flax import flax_conv, flax_conv_transpose
from convlint.arith.lax import (
    DimensionNumbers,
    dimension_numbers,
    lax_conv,
    lax_conv_general_dilated,
    lax_conv_transpose,
    lax_conv_with_general_padding,
    lax_output,
    padtype_to_pads,
)
from convlint.arith.pytorch import (
    TorchConv,
    check_output_padding,
    output_padding_for_size,
    torch_conv,
    torch_conv_transpose,
    transpose_size_range,
)
from convlint.arith.request import Answer, Solved, TorchCall, sizes_request, solve_request
from convlint.arith.solve import (
    ConvTransposeSolution,
    PaddingSolution,
    TorchTransposeArgs,
    TransposeSolution,
    direct_min_output,
    padding_only_outputs,
    solve_conv_transpose,
    solve_padding,
    solve_torch_transpose,
    solve_transpose,
    transpose_output_range,
)

__all__ = [
    "Answer",
    "ConvArithmeticError",
    "ErrorKind",
    "ConvTransposeSolution",
    "Solved",
    "TorchCall",
    "direct_min_output",
    "padding_only_outputs",
    "sizes_request",
    "solve_conv_transpose",
    "solve_request",
    "transpose_output_range",
    "DimensionNumbers",
    "PaddingSolution",
    "TorchConv",
    "TorchTransposeArgs",
    "TransposeSolution",
    "Window",
    "check_output_padding",
    "dimension_numbers",
    "flax_conv",
    "flax_conv_transpose",
    "lax_conv",
    "lax_conv_general_dilated",
    "lax_conv_transpose",
    "lax_conv_with_general_padding",
    "lax_output",
    "output_padding_for_size",
    "output_size",
    "output_sizes",
    "padtype_to_pads",
    "solve_padding",
    "solve_torch_transpose",
    "solve_transpose",
    "torch_conv",
    "torch_conv_transpose",
    "transpose_size_range",
]
