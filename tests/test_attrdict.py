"""``self.__dict__ = self``: a dict whose keys are its attributes (hifi-gan's and BigVGAN's
``AttrDict``), the configuration of a model built from it. Expectations are torch's."""

from __future__ import annotations

import textwrap

import pytest

from convlint.analysis import Project, analyze_file

SOURCE = '''\
import torch
from torch import nn


class AttrDict(dict):
    def __init__(self, *args, **kwargs):
        super(AttrDict, self).__init__(*args, **kwargs)
        self.__dict__ = self


class Plain:
    def __init__(self, table):
        self.before = 1
        self.__dict__ = table


class Upsampler(nn.Module):
    def __init__(self, h):
        super().__init__()
        self.ups = nn.ModuleList()
        ch = h.channels
        for u, k in zip(h.upsample_rates, h.kernel_sizes):
            self.ups.append(nn.ConvTranspose1d(ch, ch // 2, k, u, padding=(k - u) // 2))
            ch //= 2
        self.post = nn.Conv1d(ch, 1, 7, padding=3)

    def forward(self, x):
        for up in self.ups:
            x = up(x)
        return self.post(x)


def build(kind):
    table = {"channels": 32, "upsample_rates": [4, 2], "kernel_sizes": [8, 4]}
    h = AttrDict(table) if kind == "attrdict" else Plain(dict(table))
    h.channels = h.channels * 2  # an attribute set later is a key too
    return Upsampler(h)
'''


@pytest.mark.parametrize("kind", ["attrdict", "plain"])
def test_a_model_built_from_an_attribute_dict_has_torchs_shapes(tmp_path, kind):
    torch = pytest.importorskip("torch")
    ns: dict = {}
    exec(compile(SOURCE, "example.py", "exec"), ns)  # noqa: S102 - our own example
    shape = tuple(ns["build"](kind)(torch.randn(1, 64, 10)).shape)
    (tmp_path / "vocoder.py").write_text(SOURCE)
    test = tmp_path / "test_vocoder.py"
    test.write_text(textwrap.dedent(f'''\
        import torch
        from vocoder import build


        def test_vocoder():
            y = build({kind!r})(torch.randn(1, 64, 10))
            assert y.shape == (999,)
        '''))
    found = [f.message for f in analyze_file(Project(tmp_path), str(test), test.read_text()).findings if f.code == "CVL011"]
    assert len(found) == 1 and f"y.shape is ({', '.join(map(str, shape))})" in found[0], found
