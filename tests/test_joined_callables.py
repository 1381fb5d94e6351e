"""A name bound to one shape-preserving callable on one path and to another on the other path
(``get_act(config)`` returning ``nn.ELU()`` or ``nn.ReLU()``, ``F.relu if … else F.silu``) is one
value that applies either: what follows it keeps its shapes. The oracle is the framework itself,
run once per path the static analysis could not decide (the choice is read from the environment,
which convlint never reads)."""

from __future__ import annotations

import pytest

from tests.oracle import assert_matches_runtime, compared, runtime_trace, static_model, write

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


UNDECIDED_TEST = """
    import os

    import torch.nn as nn
    import torch.nn.functional as F


    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.act = {choice}
            self.pre = nn.Conv2d(8, 8, 3, padding=1)
            self.proj = nn.Conv2d(8, 4, 1) if {test} else nn.Conv2d(8, 8, 1)

        def forward(self, x):
            return self.proj(self.pre(self.act(x)))
"""


@pytest.mark.parametrize("choice, test", [
    ('nn.ReLU() if os.environ.get("ACT") == "relu" else nn.ELU()', "isinstance(self.act, nn.ReLU)"),
    ('F.relu if os.environ.get("ACT") else F.silu', 'self.act.__name__ == "relu"'),
    ('F.relu if os.environ.get("ACT") else F.silu', "self.act is F.relu"),
])
def test_what_tells_the_joined_values_apart_is_undecided(tmp_path, choice, test):
    # the joined activation may be either: a branch on its class, its name or its identity is not
    # taken for certain either way (a wrong "False" would give 8 output channels, wrong for relu)
    path = write(tmp_path, UNDECIDED_TEST.replace("{choice}", choice).replace("{test}", test))
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


DROP_PATH_OR_DOWNSAMPLE = """
    import os

    import torch.nn as nn


    class DropPath(nn.Module):
        def __init__(self, p):
            super().__init__()
            self.p = p

        def forward(self, x):
            if self.p == 0. or not self.training:
                return x
            mask = x.new_empty((x.shape[0],) + (1,) * (x.ndim - 1)).bernoulli_(1 - self.p)
            return x * mask / (1 - self.p)


    class SiLU(nn.Module):
        def forward(self, x):
            return x * x.sigmoid()


    class GELU(nn.Module):
        def forward(self, x):
            return nn.functional.gelu(x)


    class Block(nn.Module):
        def __init__(self, ch=8):
            super().__init__()
            rate = float(os.environ.get("CONVLINT_TEST_DPR", "0.1"))
            self.drop_path = DropPath(rate) if rate > 0. else nn.Identity()
            act = SiLU if os.environ.get("CONVLINT_TEST_ACT") == "silu" else GELU
            self.act = act()
            self.conv = nn.Conv2d(ch, ch, 3, padding=1)
            self.shortcut = None
            if os.environ.get("CONVLINT_TEST_SHORTCUT"):
                self.shortcut = nn.Conv2d(ch, ch, 1)

        def forward(self, x):
            h = self.conv(self.act(x))
            if self.shortcut is not None:
                x = self.shortcut(x)
            return self.conv(x + self.drop_path(h))
"""


@pytest.mark.parametrize("dpr, act, shortcut", [("0.1", "silu", "1"), ("0.0", "gelu", ""), ("0.2", "gelu", "1"), ("0", "silu", "")])
def test_a_module_or_none_chosen_by_unknown_values_is_called_as_each_and_joined(tmp_path, monkeypatch, dpr, act, shortcut):
    # timm's ``DropPath(dpr[i]) if dpr[i] > 0. else nn.Identity()``, a user class chosen by a
    # flag, and ``self.shortcut = None`` set to a conv on one path, tested ``is not None``
    pytest.importorskip("torch")
    path = write(tmp_path, DROP_PATH_OR_DOWNSAMPLE)
    for name, value in (("CONVLINT_TEST_DPR", dpr), ("CONVLINT_TEST_ACT", act), ("CONVLINT_TEST_SHORTCUT", shortcut)):
        monkeypatch.setenv(name, value)
    static = static_model(path, "Block", (2, 8, 16, 16))
    assert static["output"] == [2, 8, 16, 16]
    assert static["coverage"]["resolved"] == static["coverage"]["total"]
    # the static run follows every path; the one the environment picks is among them, layer by
    # layer (the shortcut conv is on some paths only)
    rt = runtime_trace(path, "Block", (2, 8, 16, 16))
    ran = [(e.op, list(e.input), list(e.output)) for e in rt.events if compared(e.op)]
    followed = [(layer["op"], layer["input"], layer["output"]) for layer in static["layers"] if compared(layer["op"])]
    assert len(ran) >= 2 and all(ran.count(e) <= followed.count(e) for e in ran), (ran, followed)
    assert list(rt.output_shapes[0]) == static["output"]


def test_options_whose_results_differ_join_to_unknown_sizes_not_to_one_of_them(tmp_path):
    path = write(tmp_path, """
        import os

        import torch.nn as nn


        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.down = nn.Conv2d(8, 8, 3, stride=2, padding=1) if os.environ.get("DOWN") else nn.Conv2d(8, 8, 3, padding=1)
                self.head = nn.Conv2d(8, 4, 1)

            def forward(self, x):
                return self.head(self.down(x))
    """)
    static = static_model(path, "Net", (1, 8, 16, 16))
    assert static["output"][:2] == [1, 4]
    assert all(not isinstance(d, int) for d in static["output"][2:])  # 8 or 16: neither is certain


def test_an_option_whose_call_raises_leaves_the_others(tmp_path, monkeypatch):
    pytest.importorskip("torch")
    path = write(tmp_path, """
        import os

        import torch.nn as nn


        class NotReady(nn.Module):
            def forward(self, x):
                raise NotImplementedError


        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.proj = NotReady() if os.environ.get("CONVLINT_TEST_EXPERIMENTAL") else nn.Conv2d(8, 16, 3, stride=2)
                self.head = nn.Conv2d(16, 4, 1)

            def forward(self, x):
                return self.head(self.proj(x))
    """)
    monkeypatch.delenv("CONVLINT_TEST_EXPERIMENTAL", raising=False)
    static = assert_matches_runtime(path, "Net", (1, 8, 17, 17), min_layers=2)
    assert static["output"] == [1, 4, 8, 8]


def test_reading_weight_on_a_pool_layer_is_unknown_not_an_engine_error(tmp_path):
    # a pool layer has a rank and a config tuple, as a conv has a rank and a config object: its
    # ``weight`` (torch has none) must not be computed as a conv's (seen through timm's MaxxVit)
    path = write(tmp_path, """
        import torch.nn as nn


        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.pool = nn.MaxPool2d(2)
                self.conv = nn.Conv2d(4, 8, 3, padding=1)
                for m in (self.pool, self.conv):
                    w = getattr(m, "weight", None)
                    if w is not None and w.ndim == 4:
                        nn.init.zeros_(w)

            def forward(self, x):
                return self.conv(self.pool(x))
    """)
    static = static_model(path, "Net", (1, 4, 16, 16))
    assert static.get("incomplete") is None
    assert static["output"] == [1, 8, 8, 8]


FLAX_CLIP_LIKE = """
    from typing import Optional, Sequence, Union

    import flax.linen as nn


    class ResNetTower(nn.Module):
        features: int

        @nn.compact
        def __call__(self, x):
            return nn.Conv(self.features, (3, 3), strides=(2, 2))(x)


    class PatchTower(nn.Module):
        features: int
        patch_size: Optional[int] = None

        @nn.compact
        def __call__(self, x):
            return nn.Conv(self.features, kernel_size=(self.patch_size, self.patch_size), strides=(self.patch_size, self.patch_size))(x)


    {pragma}
    class Clip(nn.Module):
        features: int = 64
        vision_num_layers: Union[int, Sequence[int]] = 12
        patch_size: Optional[int] = None

        def setup(self):
            if isinstance(self.vision_num_layers, (tuple, list)):
                self.visual = ResNetTower(self.features)
            else:
                self.visual = PatchTower(self.features, patch_size=self.patch_size)

        def __call__(self, x):
            return self.visual(x)
"""


def _flax_findings(tmp_path, source):
    from convlint.analysis import Project, analyze_file

    path = write(tmp_path, source)
    res = analyze_file(Project(tmp_path), str(path), path.read_text())
    return [(f.code, f.line) for f in res.findings if f.code == "CVL001"]


def test_a_none_default_reaching_a_flax_conv_is_a_placeholder_in_a_model_run_on_its_own(tmp_path):
    # scenic's CLIP: ``vision_patch_size: Optional[int] = None`` is what its callers replace; run
    # with its defaults (both towers followed: the isinstance test is undecided on a run of its
    # own) it is not a rejected configuration
    assert _flax_findings(tmp_path, FLAX_CLIP_LIKE.replace("{pragma}", "")) == []


def test_a_none_default_reaching_a_flax_conv_of_a_declared_model_is_a_fact(tmp_path):
    source = FLAX_CLIP_LIKE.replace("{pragma}", "# convlint: input=(1, 32, 32, 3)")
    # (the declared input decides the isinstance test: the patch tower runs, with patch_size None)
    assert _flax_findings(tmp_path, source) == [("CVL001", 21)]  # the nn.Conv line of PatchTower
