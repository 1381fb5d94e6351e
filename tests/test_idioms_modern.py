"""Idioms of modern model code (diffusion U-Nets, timm, big_vision), each against the real framework:
convlint's per-layer shapes must equal the ones torch (meta device) or flax (``jax.eval_shape``)
computes, layer by layer."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.oracle import assert_matches_runtime, static_model, write

FIXTURES = Path(__file__).parent / "fixtures" / "models"


def test_a_sequential_subclass_with_its_own_forward_follows_its_layers():
    pytest.importorskip("torch")
    static = assert_matches_runtime(FIXTURES / "timestep_sequential.py", "Net", (2, 3, 32, 32), min_layers=10)
    assert [layer["name"] for layer in static["layers"]][:3] == ["emb", "inp.0", "blocks.0.0.in_layers.0"]


def test_layer_attributes_setattr_getattr_device_and_training_branches_follow_the_cpu_eval_path():
    pytest.importorskip("torch")
    assert_matches_runtime(FIXTURES / "layer_attributes.py", "SamePadConv", (1, 3, 33, 33), init={"cin": 3, "cout": 8, "k": 3, "stride": 2}, min_layers=3)


def test_a_subclass_of_a_flax_layer_is_that_layer():
    pytest.importorskip("flax")
    assert_matches_runtime(FIXTURES / "flax_stdconv.py", "Stem", (1, 64, 64, 3), framework="flax", min_layers=9)


def test_sequential_and_modulelist_subclasses_built_through_super_init(tmp_path):
    pytest.importorskip("torch")
    path = write(tmp_path, """
        from collections import OrderedDict

        import torch.nn as nn
        from torch.utils.checkpoint import checkpoint


        class ConvBnAct(nn.Sequential):
            def __init__(self, cin, cout, stride=1):
                super().__init__(OrderedDict([
                    ("conv", nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False)),
                    ("bn", nn.BatchNorm2d(cout)),
                    ("act", nn.ReLU(inplace=True)),
                ]))


        class Stage(nn.ModuleList):
            def __init__(self, cin, cout, depth):
                super().__init__([ConvBnAct(cin if i == 0 else cout, cout, 2 if i == 0 else 1) for i in range(depth)])

            def forward(self, x):
                for block in self:
                    x = checkpoint(block, x, use_reentrant=False)
                return x


        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.stem = ConvBnAct(3, 16)
                self.stages = nn.Sequential(Stage(16, 32, 2), Stage(32, 64, 2))
                self.head = nn.Linear(64, 10)
                for m in self.modules():
                    if isinstance(m, nn.Conv2d):
                        nn.init.kaiming_normal_(m.weight)

            def forward(self, x):
                x = self.stages(self.stem(x))
                return self.head(x.mean((2, 3)))
    """)
    assert_matches_runtime(path, "Net", (2, 3, 32, 32), min_layers=6)


def test_a_namespace_package_is_followed(tmp_path):
    pytest.importorskip("torch")
    write(tmp_path, """
        import torch.nn as nn


        def double_conv(cin, cout):
            return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1), nn.ReLU(), nn.Conv2d(cout, cout, 3, padding=1))
    """, "models/blocks/conv.py")
    path = write(tmp_path, """
        import torch.nn as nn
        from models.blocks import conv
        from models.blocks.conv import double_conv


        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.a = double_conv(3, 8)
                self.b = conv.double_conv(8, 8)

            def forward(self, x):
                return self.b(self.a(x))
    """, "models/net.py")
    static = static_model(path, "Net", (1, 3, 16, 16), root=tmp_path)
    assert static["output"] == [1, 8, 16, 16]
    assert {layer["path"].rsplit("/", 3)[-3:][0] for layer in static["layers"]} == {"models"}
