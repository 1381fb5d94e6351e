"""A number whose value is not known (two paths gave different numbers) still broadcasts as a
number: a tensor combined with it keeps its shape; combined with something that may be a tensor,
it does not. Expectations are torch's, on both paths."""

from __future__ import annotations

import textwrap

import pytest

from convlint.analysis import Project, analyze_file

LAYER_NORM = '''\
import os
import torch
from torch import nn


class LayerNorm(nn.Module):  # lucidrains' DALLE2/imagen LayerNorm
    def __init__(self, dim, eps=1e-5, fp16_eps=1e-3):
        super().__init__()
        self.eps = eps
        self.fp16_eps = fp16_eps
        self.g = nn.Parameter(torch.ones(dim))

    def forward(self, x):
        eps = self.eps if x.dtype == torch.float32 else self.fp16_eps
        var = torch.var(x, dim=-1, unbiased=False, keepdim=True)
        mean = torch.mean(x, dim=-1, keepdim=True)
        return (x - mean) * (var + eps).rsqrt() * self.g


def scaled(x, flag):
    scale = (1.0 if flag else 0.5) * 2 - 1  # a number on both paths
    return x * scale


def either(x, flag):
    other = 2.0 if flag else torch.ones(5)  # a number on one path, a tensor on the other
    return x * other
'''

CASES = {
    # expression, {path: torch's shape}; None where the paths disagree (nothing may be claimed)
    "LayerNorm(32)(torch.randn(2, 16, 32))": True,
    "scaled(torch.randn(3, 1), FLAG)": True,
    "either(torch.randn(3, 1), FLAG)": False,
}


def _torch(expr: str, flag: bool):
    torch = pytest.importorskip("torch")
    ns: dict = {}
    exec(compile(LAYER_NORM + f"\nFLAG = {flag}\nout = {expr}\n", "example.py", "exec"), ns)  # noqa: S102 - our own example
    return tuple(ns["out"].shape)


@pytest.mark.parametrize("expr", sorted(CASES))
def test_a_number_not_known_broadcasts_as_a_number(tmp_path, expr):
    shapes = {_torch(expr, True), _torch(expr, False)}
    assert (len(shapes) == 1) == CASES[expr]
    (tmp_path / "norms.py").write_text(LAYER_NORM)
    test = tmp_path / "test_norms.py"
    test.write_text(textwrap.dedent(f'''\
        import os
        import torch
        from norms import LayerNorm, either, scaled

        FLAG = os.environ.get("FLAG") == "1"  # not known


        def test_norm():
            out = {expr}
            assert out.shape == (999,)
        '''))
    found = [f.message for f in analyze_file(Project(tmp_path), str(test), test.read_text()).findings if f.code == "CVL011"]
    if CASES[expr]:
        (shape,) = shapes
        assert len(found) == 1 and f"out.shape is ({', '.join(map(str, shape))})" in found[0], found
    else:  # the paths give different shapes: convlint claims neither
        assert found == [], found


def test_an_unknown_number_has_no_truth_value_as_any_unknown():
    # the interpreter decides truth with ``truth()``; Python's ``bool()`` of an unknown is a bug
    from convlint.interpret.values import Unknown, UnknownNumber

    for u in (Unknown("x"), UnknownNumber("x")):
        with pytest.raises(TypeError):
            bool(u)
