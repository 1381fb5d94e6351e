"""A name bound to one shape-preserving callable on one path and to another on the other path
(``get_act(config)`` returning ``nn.ELU()`` or ``nn.ReLU()``, ``F.relu if … else F.silu``) is one
value that applies either: what follows it keeps its shapes. The oracle is the framework itself,
run once per path the static analysis could not decide (the choice is read from the environment,
which convlint never reads)."""

from __future__ import annotations

import pytest

from tests.oracle import assert_matches_runtime, static_model, write

ACTIVATIONS_BY_CONFIG = """
    import os

    import torch
    import torch.nn as nn
    import torch.nn.functional as F


    def get_act(name):
        if name == "elu":
            return nn.ELU()
        elif name == "relu":
            return nn.ReLU(inplace=True)
        elif name == "lrelu":
            return nn.LeakyReLU(negative_slope=0.2)
        elif name == "swish":
            return nn.SiLU()
        else:
            raise NotImplementedError("activation function does not exist!")


    class Block(nn.Module):
        def __init__(self, ch=8):
            super().__init__()
            name = os.environ.get("CONVLINT_TEST_ACT", "elu")
            self.act = get_act(name)
            self.fn = F.relu if name == "relu" else (F.gelu if name == "elu" else torch.tanh)
            self.conv = nn.Conv2d(ch, 2 * ch, 3, stride=2, padding=1)
            self.dropout = nn.Dropout(0.1) if name == "lrelu" else nn.Identity()
            self.conv2 = nn.Conv2d(2 * ch, ch, 3, padding=1)

        def forward(self, x):
            h = self.conv(self.act(x))
            h = self.dropout(self.fn(h))
            return self.conv2(h)
"""


@pytest.mark.parametrize("act", ["elu", "relu", "lrelu", "swish"])
def test_an_activation_chosen_by_an_unknown_value_keeps_the_shapes_torch_gives_on_every_path(tmp_path, monkeypatch, act):
    pytest.importorskip("torch")
    path = write(tmp_path, ACTIVATIONS_BY_CONFIG)
    monkeypatch.setenv("CONVLINT_TEST_ACT", act)  # the runtime takes this path; the static run cannot know it
    static = assert_matches_runtime(path, "Block", (2, 8, 33, 33), min_layers=2)
    assert static["output"] == [2, 8, 17, 17]
    assert static["coverage"]["resolved"] == static["coverage"]["total"] == 2


def test_isinstance_against_one_of_the_joined_layers_is_undecided(tmp_path):
    # the joined activation may be a ReLU or an ELU: the branch on its class is not taken for
    # certain either way (a wrong "False" would give 8 output channels, wrong for relu)
    path = write(tmp_path, """
        import os

        import torch.nn as nn


        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.act = nn.ReLU() if os.environ.get("ACT") == "relu" else nn.ELU()
                self.pre = nn.Conv2d(8, 8, 3, padding=1)
                self.proj = nn.Conv2d(8, 4, 1) if isinstance(self.act, nn.ReLU) else nn.Conv2d(8, 8, 1)

            def forward(self, x):
                return self.proj(self.pre(self.act(x)))
    """)
    static = static_model(path, "Net", (1, 8, 16, 16))
    assert static["layers"][0]["output"] == [1, 8, 16, 16]  # the joined activation is followed
    assert static["output"] is None or static["output"][1] not in (4, 8)


def test_a_preserving_callable_joined_with_one_that_changes_the_shape_stays_unknown(tmp_path):
    path = write(tmp_path, """
        import os

        import torch
        import torch.nn as nn
        import torch.nn.functional as F


        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.fn = F.relu if os.environ.get("FLAT") else F.max_pool2d
                self.conv = nn.Conv2d(8, 8, 3)

            def forward(self, x):
                return self.conv(self.fn(x, 2) if self.fn is F.max_pool2d else self.fn(x))
    """)
    static = static_model(path, "Net", (1, 8, 16, 16))
    assert static["coverage"]["resolved"] < static["coverage"]["total"]


def test_the_name_of_a_joined_function_is_unknown(tmp_path):
    path = write(tmp_path, """
        import os

        import torch.nn as nn
        import torch.nn.functional as F


        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.fn = F.relu if os.environ.get("ACT") else F.silu
                self.pre = nn.Conv2d(8, 8, 3, padding=1)
                self.conv = nn.Conv2d(8, 4 if self.fn.__name__ == "relu" else 8, 1)

            def forward(self, x):
                return self.conv(self.pre(self.fn(x)))
    """)
    static = static_model(path, "Net", (1, 8, 16, 16))
    assert static["layers"][0]["output"] == [1, 8, 16, 16]  # the joined function is followed
    assert static["output"] is None or static["output"][1] not in (4, 8)


@pytest.mark.parametrize("act", ["relu", "gelu"])
def test_a_flax_activation_chosen_by_an_unknown_value_matches_eval_shape(tmp_path, monkeypatch, act):
    pytest.importorskip("flax")
    path = write(tmp_path, """
        import os

        import flax.linen as nn


        class Block(nn.Module):
            features: int = 16

            @nn.compact
            def __call__(self, x):
                act = nn.relu if os.environ.get("CONVLINT_TEST_ACT") == "relu" else nn.gelu
                x = nn.Conv(self.features, (3, 3), strides=(2, 2), padding="SAME")(x)
                return nn.Conv(self.features, (3, 3), padding="VALID")(act(x))
    """)
    monkeypatch.setenv("CONVLINT_TEST_ACT", act)
    static = assert_matches_runtime(path, "Block", (1, 33, 33, 3), framework="flax", min_layers=2)
    assert static["output"] == [1, 15, 15, 16]


def test_weight_norm_or_spectral_norm_chosen_by_an_argument_wraps_the_layer_either_way(tmp_path):
    # hifi-gan / BigVGAN discriminators: ``norm_f = weight_norm if use_spectral_norm == False else
    # spectral_norm``; both return the module they are given
    pytest.importorskip("torch")
    path = write(tmp_path, """
        import os

        import torch.nn as nn
        from torch.nn.utils import spectral_norm, weight_norm


        class Disc(nn.Module):
            def __init__(self):
                super().__init__()
                norm_f = spectral_norm if os.environ.get("CONVLINT_TEST_SN") else weight_norm
                self.convs = nn.ModuleList([norm_f(nn.Conv1d(1, 16, 15, 1, padding=7)), norm_f(nn.Conv1d(16, 64, 41, 4, padding=20))])

            def forward(self, x):
                for conv in self.convs:
                    x = conv(x)
                return x
    """)
    static = assert_matches_runtime(path, "Disc", (1, 1, 100), min_layers=2)
    assert static["output"] == [1, 64, 25]


def test_is_against_one_of_the_joined_functions_is_undecided(tmp_path):
    path = write(tmp_path, """
        import os

        import torch.nn as nn
        import torch.nn.functional as F


        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.fn = F.relu if os.environ.get("ACT") else F.silu
                self.pre = nn.Conv2d(8, 8, 3, padding=1)
                self.conv = nn.Conv2d(8, 4, 1) if self.fn is F.relu else nn.Conv2d(8, 8, 1)

            def forward(self, x):
                return self.conv(self.pre(self.fn(x)))
    """)
    static = static_model(path, "Net", (1, 8, 16, 16))
    assert static["layers"][0]["output"] == [1, 8, 16, 16]
    assert static["output"] is None or static["output"][1] not in (4, 8)
