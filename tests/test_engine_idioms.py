"""The shape engine on the idioms public model code uses, checked against real torch / jax.

Each model below is analysed statically (``convlint shapes`` JSON) and then run for real — torch on
the meta device with forward hooks, flax under ``jax.eval_shape`` — and the per-layer shapes must
agree layer by layer, in execution order. Models with a planted bug must be reported on the right
line; correct models must give no finding.
"""

from __future__ import annotations

import importlib.util
import json
import sys
import textwrap
from pathlib import Path

import pytest

from convlint.analysis import Project, analyze_file
from convlint.commands.shapes import collect
from tests.oracle import import_file

torch = pytest.importorskip("torch")
nn = torch.nn

LEAF_OPS = (
    "Conv1d", "Conv2d", "Conv3d", "ConvTranspose1d", "ConvTranspose2d", "ConvTranspose3d", "MaxPool1d", "MaxPool2d",
    "MaxPool3d", "AvgPool1d", "AvgPool2d", "AvgPool3d", "AdaptiveAvgPool2d", "AdaptiveMaxPool2d", "Upsample", "Linear",
    "BatchNorm2d", "GroupNorm", "ZeroPad2d",
)


def _write(tmp_path: Path, source: str, name: str = "model.py") -> Path:
    p = tmp_path / name
    p.write_text(textwrap.dedent(source))
    return p


def _static(path: Path, model: str):
    models, _runs = collect([str(path)])
    for m in models:
        if m["name"] == model:
            return m
    raise AssertionError(f"{model} not among {[m['name'] for m in models]}")


_import = import_file  # the fixture file as a module, run for real


def _runtime_torch(path: Path, model: str, shape, init=None):
    mod = _import(path)
    net = getattr(mod, model)(**(init or {}))
    events = []

    def hook(m, inp, out):
        events.append((type(m).__name__, tuple(inp[0].shape), tuple(out.shape)))

    for m in net.modules():
        if type(m).__name__ in LEAF_OPS:
            m.register_forward_hook(hook)
    net = net.to("meta")
    with torch.no_grad():
        out = net(torch.empty(*shape, device="meta"))
    if isinstance(out, (tuple, list)):
        out = out[0]
    return events, tuple(out.shape)


def _compare(static, events, out_shape):
    layers = [
        (layer["op"].rsplit(".", 1)[-1], tuple(layer["input"]), tuple(layer["output"]))
        for layer in static["layers"]
        if layer["op"].startswith("torch.nn.") and layer["op"].rsplit(".", 1)[-1] in LEAF_OPS
    ]
    assert layers == events
    assert tuple(static["output"]) == out_shape


def _codes(path: Path):
    """Findings of the default selection (CVL008 is off by default)."""
    from convlint.rules import default_selection

    res = analyze_file(Project(path.parent), str(path), path.read_text())
    return [(f.code, f.line) for f in res.findings if f.code in default_selection()]


VAE = '''
import torch
from torch import nn


class VAE(nn.Module):  # convlint: input=(2, 3, 64, 64) init(in_channels=3, latent_dim=8)
    def __init__(self, in_channels, latent_dim, hidden_dims=None):
        super().__init__()
        modules = []
        if hidden_dims is None:
            hidden_dims = [8, 16, 32, 64]
        for h_dim in hidden_dims:
            modules.append(nn.Sequential(nn.Conv2d(in_channels, h_dim, kernel_size=3, stride=2, padding=1), nn.BatchNorm2d(h_dim), nn.LeakyReLU()))
            in_channels = h_dim
        self.encoder = nn.Sequential(*modules)
        self.fc_mu = nn.Linear(hidden_dims[-1] * 16, latent_dim)
        self.decoder_input = nn.Linear(latent_dim, hidden_dims[-1] * 16)
        hidden_dims.reverse()
        modules = []
        for i in range(len(hidden_dims) - 1):
            modules.append(nn.Sequential(nn.ConvTranspose2d(hidden_dims[i], hidden_dims[i + 1], kernel_size=3, stride=2, padding=1, output_padding=1), nn.LeakyReLU()))
        self.decoder = nn.Sequential(*modules)
        self.final = nn.Sequential(nn.ConvTranspose2d(hidden_dims[-1], hidden_dims[-1], 3, stride=2, padding=1, output_padding=1), nn.Conv2d(hidden_dims[-1], 3, 3, padding=1), nn.Tanh())
        self.last = hidden_dims[0]

    def forward(self, x):
        h = torch.flatten(self.encoder(x), start_dim=1)
        z = self.fc_mu(h)
        d = self.decoder_input(z).view(-1, self.last, 4, 4)
        return self.final(self.decoder(d))
'''


def test_vae_with_hidden_dims_defaulted_and_reversed_matches_torch(tmp_path):
    p = _write(tmp_path, VAE)
    events, out = _runtime_torch(p, "VAE", (2, 3, 64, 64), {"in_channels": 3, "latent_dim": 8})
    _compare(_static(p, "VAE"), events, out)
    assert _codes(p) == []


UNET = '''
import torch
import torch.nn as nn
import torch.nn.functional as F


class DoubleConv(nn.Module):
    def __init__(self, in_channels, out_channels, mid_channels=None):
        super().__init__()
        if not mid_channels:
            mid_channels = out_channels
        self.double_conv = nn.Sequential(
            nn.Conv2d(in_channels, mid_channels, kernel_size=3, padding=1, bias=False),
            nn.BatchNorm2d(mid_channels),
            nn.ReLU(inplace=True),
            nn.Conv2d(mid_channels, out_channels, kernel_size=3, padding=1, bias=False),
            nn.BatchNorm2d(out_channels),
            nn.ReLU(inplace=True),
        )

    def forward(self, x):
        return self.double_conv(x)


class Down(nn.Module):
    def __init__(self, in_channels, out_channels):
        super().__init__()
        self.maxpool_conv = nn.Sequential(nn.MaxPool2d(2), DoubleConv(in_channels, out_channels))

    def forward(self, x):
        return self.maxpool_conv(x)


class Up(nn.Module):
    def __init__(self, in_channels, out_channels, bilinear=True):
        super().__init__()
        if bilinear:
            self.up = nn.Upsample(scale_factor=2, mode="bilinear", align_corners=True)
            self.conv = DoubleConv(in_channels, out_channels, in_channels // 2)
        else:
            self.up = nn.ConvTranspose2d(in_channels, in_channels // 2, kernel_size=2, stride=2)
            self.conv = DoubleConv(in_channels, out_channels)

    def forward(self, x1, x2):
        x1 = self.up(x1)
        diffY = x2.size()[2] - x1.size()[2]
        diffX = x2.size()[3] - x1.size()[3]
        x1 = F.pad(x1, [diffX // 2, diffX - diffX // 2, diffY // 2, diffY - diffY // 2])
        x = torch.cat([x2, x1], dim=1)
        return self.conv(x)


class UNet(nn.Module):  # convlint: input=(1, 3, 75, 75) output=(1, 2, 75, 75) init(n_channels=3, n_classes=2, bilinear=BILINEAR)
    def __init__(self, n_channels, n_classes, bilinear=False):
        super().__init__()
        factor = 2 if bilinear else 1
        self.inc = DoubleConv(n_channels, 8)
        self.down1 = Down(8, 16)
        self.down2 = Down(16, 32)
        self.down3 = Down(32, 64 // factor)
        self.up1 = Up(64, 32 // factor, bilinear)
        self.up2 = Up(32, 16 // factor, bilinear)
        self.up3 = Up(16, 8, bilinear)
        self.outc = nn.Conv2d(8, n_classes, kernel_size=1)

    def forward(self, x):
        x1 = self.inc(x)
        x2 = self.down1(x1)
        x3 = self.down2(x2)
        x4 = self.down3(x3)
        x = self.up1(x4, x3)
        x = self.up2(x, x2)
        x = self.up3(x, x1)
        return self.outc(x)
'''


@pytest.mark.parametrize("bilinear", [True, False])
def test_unet_with_fpad_skip_fixing_matches_torch_on_odd_input(tmp_path, bilinear):
    p = _write(tmp_path, UNET.replace("BILINEAR", str(bilinear)))
    events, out = _runtime_torch(p, "UNet", (1, 3, 75, 75), {"n_channels": 3, "n_classes": 2, "bilinear": bilinear})
    _compare(_static(p, "UNet"), events, out)
    # the padding repairs every decoder step: only the pools' dropped rows remain (a warning)
    assert {c for c, _ in _codes(p)} <= {"CVL006"}


def test_unet_without_skip_padding_reports_the_upsampling_layer(tmp_path):
    src = UNET.replace("BILINEAR", "False").replace(
        "        x1 = F.pad(x1, [diffX // 2, diffX - diffX // 2, diffY // 2, diffY - diffY // 2])\n", ""
    )
    p = _write(tmp_path, src)
    codes = _codes(p)
    up_line = next(i for i, line in enumerate(src.splitlines(), 1) if "nn.ConvTranspose2d(in_channels" in line)
    cat_line = next(i for i, line in enumerate(src.splitlines(), 1) if "torch.cat([x2, x1]" in line)
    assert ("CVL004", up_line) in codes  # the layer that must change
    assert ("CVL005", cat_line) in codes  # where the tensors collide


ASYM = '''
import torch.nn as nn
import torch.nn.functional as F


class Stem(nn.Module):  # convlint: input=(1, 3, 32, 32)
    def __init__(self):
        super().__init__()
        self.pad = nn.ZeroPad2d((0, 1, 0, 1))
        self.conv = nn.Conv2d(3, 8, 3, stride=2)
        self.conv2 = nn.Conv2d(8, 8, 3, padding=1)
        self.pool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(8, 10)

    def forward(self, x):
        x = self.conv(self.pad(x))
        x = F.pad(x, (0, 1, 0, 1))
        x = self.conv2(F.interpolate(x, scale_factor=2))
        return self.fc(self.pool(x).flatten(1))
'''


def test_asymmetric_padding_interpolate_and_adaptive_pool_match_torch(tmp_path):
    p = _write(tmp_path, ASYM)
    events, out = _runtime_torch(p, "Stem", (1, 3, 32, 32))
    _compare(_static(p, "Stem"), events, out)
    assert _codes(p) == []


REGISTRY = '''
from collections import OrderedDict
from functools import partial

import torch.nn as nn


class Basic(nn.Module):
    expansion = 1

    def __init__(self, cin, cout, stride=1):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout * self.expansion, 3, stride, 1)

    def forward(self, x):
        return self.conv(x)


class Wide(Basic):
    expansion = 2


BLOCKS = {"basic": Basic, "wide": Wide}
Conv3x3 = partial(nn.Conv2d, kernel_size=3, padding=1)


class Net(nn.Module):  # convlint: input=(1, 3, 16, 16) init(kind="wide", widths=[4, 8])
    def __init__(self, kind="basic", widths=(4, 8)):
        super().__init__()
        block = BLOCKS[kind]
        layers = []
        cin = 3
        for i, w in enumerate(widths):
            layers.append(block(cin, w, stride=2 if i else 1))
            cin = w * block.expansion
        self.body = nn.Sequential(*layers)
        self.head = nn.Sequential(OrderedDict([("conv", Conv3x3(cin, 4)), ("pool", nn.MaxPool2d(2, ceil_mode=True))]))
        self.blocks = nn.ModuleList([nn.Conv2d(4, 4, 1) for _ in range(2)])

    def forward(self, x):
        x = self.head(self.body(x))
        for b in self.blocks:
            x = b(x)
        return x
'''


def test_registry_partial_ordereddict_and_modulelist_match_torch(tmp_path):
    p = _write(tmp_path, REGISTRY)
    events, out = _runtime_torch(p, "Net", (1, 3, 16, 16), {"kind": "wide", "widths": [4, 8]})
    _compare(_static(p, "Net"), events, out)
    assert _codes(p) == []


DIFFUSION = '''
from functools import partial

import torch
from torch import nn


class Block(nn.Module):
    def __init__(self, dim, dim_out, groups=4):
        super().__init__()
        self.proj = nn.Conv2d(dim, dim_out, 3, padding=1)
        self.norm = nn.GroupNorm(groups, dim_out)

    def forward(self, x):
        return self.norm(self.proj(x))


def Downsample(dim, dim_out):
    return nn.Conv2d(dim, dim_out, 4, 2, 1)


def Upsample(dim, dim_out):
    return nn.Sequential(nn.Upsample(scale_factor=2, mode="nearest"), nn.Conv2d(dim, dim_out, 3, padding=1))


class Unet(nn.Module):  # convlint: input=(2, 3, 32, 32) init(dim=8, dim_mults=(1, 2, 4))
    def __init__(self, dim, dim_mults=(1, 2, 4, 8), channels=3):
        super().__init__()
        self.init_conv = nn.Conv2d(channels, dim, 7, padding=3)
        dims = [dim, *map(lambda m: dim * m, dim_mults)]
        in_out = list(zip(dims[:-1], dims[1:]))
        block = partial(Block, groups=4)
        self.downs = nn.ModuleList([])
        self.ups = nn.ModuleList([])
        n = len(in_out)
        for ind, (dim_in, dim_out) in enumerate(in_out):
            is_last = ind >= (n - 1)
            self.downs.append(nn.ModuleList([block(dim_in, dim_in), Downsample(dim_in, dim_out) if not is_last else nn.Conv2d(dim_in, dim_out, 3, padding=1)]))
        mid = dims[-1]
        self.mid = block(mid, mid)
        for ind, (dim_in, dim_out) in enumerate(reversed(in_out)):
            is_last = ind == (n - 1)
            self.ups.append(nn.ModuleList([block(dim_out + dim_in, dim_out), Upsample(dim_out, dim_in) if not is_last else nn.Conv2d(dim_out, dim_in, 3, padding=1)]))
        self.final = nn.Conv2d(dim, channels, 1)

    def forward(self, x):
        x = self.init_conv(x)
        h = []
        for blk, down in self.downs:
            x = blk(x)
            h.append(x)
            x = down(x)
        x = self.mid(x)
        for blk, up in self.ups:
            x = torch.cat((x, h.pop()), dim=1)
            x = blk(x)
            x = up(x)
        return self.final(x)
'''


def test_diffusion_unet_with_map_zip_partial_and_skip_stack_matches_torch(tmp_path):
    p = _write(tmp_path, DIFFUSION)
    events, out = _runtime_torch(p, "Unet", (2, 3, 32, 32), {"dim": 8, "dim_mults": (1, 2, 4)})
    _compare(_static(p, "Unet"), events, out)
    assert _codes(p) == []


def test_diffusion_unet_on_a_size_the_strides_do_not_divide_reports_the_skip(tmp_path):
    p = _write(tmp_path, DIFFUSION.replace("input=(2, 3, 32, 32)", "input=(2, 3, 30, 30)"))
    with pytest.raises(RuntimeError):
        _runtime_torch(p, "Unet", (2, 3, 30, 30), {"dim": 8, "dim_mults": (1, 2, 4)})
    codes = {c for c, _ in _codes(p)}
    assert "CVL004" in codes or "CVL005" in codes


ONE_AND_THREE_D = '''
import torch.nn as nn


class Audio(nn.Module):  # convlint: input=(2, 1, 100)
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Conv1d(1, 4, 5, stride=2, padding=2), nn.ReLU(), nn.ConvTranspose1d(4, 1, 5, stride=2, padding=2, output_padding=1))

    def forward(self, x):
        return self.net(x)


class Volume(nn.Module):  # convlint: input=(1, 2, 9, 16, 16)
    def __init__(self):
        super().__init__()
        self.down = nn.Conv3d(2, 4, 3, stride=(1, 2, 2), padding=1)
        self.pool = nn.MaxPool3d((1, 2, 2))

    def forward(self, x):
        return self.pool(self.down(x))
'''


@pytest.mark.parametrize("model,shape", [("Audio", (2, 1, 100)), ("Volume", (1, 2, 9, 16, 16))])
def test_one_and_three_dimensional_models_match_torch(tmp_path, model, shape):
    p = _write(tmp_path, ONE_AND_THREE_D)
    events, out = _runtime_torch(p, model, shape)
    _compare(_static(p, model), events, out)


def test_symbolic_input_stays_symbolic_and_is_reported_for_every_size_but_degenerate_ones(tmp_path):
    src = '''
import torch.nn as nn


class Net(nn.Module):  # convlint: input=(B, 3, H, W)
    def __init__(self):
        super().__init__()
        self.a = nn.Conv2d(3, 8, 3)
        self.b = nn.Conv2d(8, 3, 3, padding=1)

    def forward(self, x):
        return x + self.b(self.a(x))
'''
    p = _write(tmp_path, src)
    m = _static(p, "Net")
    assert m["input"] == ["B", 3, "H", "W"]
    assert m["layers"][0]["output"] == ["B", 8, "H - 2", "W - 2"]
    # H - 2 differs from H for every size, but at H = 3 it is 1 and broadcasts: torch runs the
    # model on 3×3 inputs only, where the residual is a single pixel — a mismatch for every size
    # but that one, which the finding names; `shapes --sizes` states the same
    torch = pytest.importorskip("torch")
    ns: dict = {}
    exec(compile(src, "net.py", "exec"), ns)  # noqa: S102 - our own example
    works = []
    for size in range(1, 20):
        try:
            ns["Net"]()(torch.zeros(1, 3, size, size))
        except RuntimeError:
            continue
        works.append(size)
    assert works == [3]
    res = analyze_file(Project(p.parent), str(p), p.read_text())
    (f,) = [f for f in res.findings if f.code == "CVL005"]
    assert f.line == 8 and "for every input size but H = 3, where broadcasting spreads a single row" in f.message
    from convlint.commands.shapes import collect

    _models, runs = collect([f"{p}::Net"], sizes=True)
    assert _models[0]["sizes"]["H"]["text"] == "H = 3"


def test_values_from_the_command_line_stay_unknown_and_give_no_finding(tmp_path):
    src = '''
import argparse
import torch.nn as nn

args = argparse.ArgumentParser().parse_args()


class Net(nn.Module):  # convlint: input=(1, 3, 32, 32)
    def __init__(self):
        super().__init__()
        self.a = nn.Conv2d(3, args.width, args.kernel, stride=2)
        self.b = nn.ConvTranspose2d(args.width, 3, 3, stride=2)

    def forward(self, x):
        return self.b(self.a(x))
'''
    p = _write(tmp_path, src)
    m = _static(p, "Net")
    assert m["layers"][0]["output"] == [1, None, None, None]
    assert _codes(p) == []


def test_a_budget_bound_gives_unknowns_not_a_hang(tmp_path):
    src = '''
import torch.nn as nn


def forever(n):
    while True:
        n = n + 1
    return n


class Net(nn.Module):  # convlint: input=(1, 3, 8, 8)
    def __init__(self):
        super().__init__()
        self.a = nn.Conv2d(3, forever(1), 3)

    def forward(self, x):
        return self.a(x)
'''
    p = _write(tmp_path, src)
    res = analyze_file(Project(p.parent), str(p), p.read_text())
    assert [f.code for f in res.findings if f.code != "CVL008"] == []


FLAX = '''
import flax.linen as nn
import jax.numpy as jnp


class Down(nn.Module):
    features: int

    @nn.compact
    def __call__(self, x):
        x = nn.Conv(self.features, kernel_size=(3, 3), strides=(2, 2), padding="SAME")(x)
        return nn.relu(x)


class AE(nn.Module):  # convlint: input=(2, 32, 32, 3) output=(2, 32, 32, 3)
    widths: tuple = (8, 16)

    def setup(self):
        self.downs = [Down(w) for w in self.widths]
        self.up1 = nn.ConvTranspose(8, kernel_size=(3, 3), strides=(2, 2), padding="SAME")
        self.up2 = nn.ConvTranspose(3, kernel_size=(3, 3), strides=(2, 2), padding="SAME")

    def __call__(self, x):
        skip = x
        for d in self.downs:
            x = d(x)
        x = nn.avg_pool(x, (1, 1))
        x = self.up2(self.up1(x))
        return jnp.concatenate([x, skip], axis=-1)[..., :3]
'''


def test_flax_setup_and_compact_modules_match_jax_eval_shape(tmp_path):
    jax = pytest.importorskip("jax")
    pytest.importorskip("flax")
    p = _write(tmp_path, FLAX)
    mod = _import(p)
    model = mod.AE()
    x = jax.ShapeDtypeStruct((2, 32, 32, 3), jax.numpy.float32)
    variables = jax.eval_shape(lambda: model.init(jax.random.PRNGKey(0), jax.numpy.zeros((2, 32, 32, 3))))
    out = jax.eval_shape(model.apply, variables, x)
    static = _static(p, "AE")
    assert tuple(static["output"]) == tuple(out.shape)
    convs = [tuple(layer["output"]) for layer in static["layers"] if layer["op"] in ("flax.linen.Conv", "flax.linen.ConvTranspose")]
    assert convs == [(2, 16, 16, 8), (2, 8, 8, 16), (2, 16, 16, 8), (2, 32, 32, 3)]
    assert _codes(p) == []


def test_shapes_json_follows_the_design_contract(tmp_path):
    p = _write(tmp_path, ASYM)
    from convlint.cli import main

    import contextlib
    import io

    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        rc = main(["shapes", str(p), "--format", "json"])
    assert rc == 0
    data = json.loads(buf.getvalue())
    (model,) = data["models"]
    assert set(model) >= {"path", "name", "line", "input", "output", "layers"}
    assert model["name"] == "Stem" and model["line"] == 6
    first = model["layers"][0]
    assert set(first) == {"path", "line", "column", "op", "name", "input", "output"}
    assert first["op"] == "torch.nn.ZeroPad2d" and first["line"] == 9 and first["name"] == "pad"


SUBCLASS = """
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.utils import spectral_norm


class StdConv2d(nn.Conv2d):
    def forward(self, x):
        return F.conv2d(x, self.weight, self.bias, self.stride, self.padding, self.dilation, self.groups)


class SameConv(nn.Conv2d):
    def __init__(self, cin, cout, k, stride=1):
        super().__init__(cin, cout, k, stride, 0)

    def forward(self, x):
        return super().forward(F.pad(x, (0, 1, 0, 1)))


class Net(nn.Module):  # convlint: input=(1, 3, 32, 32)
    def __init__(self):
        super().__init__()
        self.a = StdConv2d(3, 8, 3, padding=1)
        self.b = SameConv(8, 16, 3, stride=2)
        self.c = spectral_norm(nn.Conv2d(16, 16, 3, padding=1))
        self.d = nn.Conv2d(16, 4, 1)

    def forward(self, x):
        return self.d(self.c(self.b(self.a(x))))
"""


def test_subclassed_framework_layers_and_spectral_norm_match_torch(tmp_path):
    p = _write(tmp_path, SUBCLASS)
    mod = _import(p)
    net = mod.Net()
    events = []
    for m in net.modules():
        if isinstance(m, nn.Conv2d):  # the subclasses too
            m.register_forward_hook(lambda m, i, o: events.append(("Conv2d", tuple(i[0].shape), tuple(o.shape))))
    with torch.no_grad():
        out = tuple(net(torch.zeros(1, 3, 32, 32)).shape)
    static = _static(p, "Net")
    # StdConv2d's forward calls F.conv2d: a functional call, which forward hooks see as the module
    layers = [(layer["op"].rsplit(".", 1)[-1].replace("conv2d", "Conv2d"), tuple(layer["input"]), tuple(layer["output"]))
              for layer in static["layers"] if layer["op"].rsplit(".", 1)[-1] in ("Conv2d", "conv2d")]
    # a hook on SameConv sees the module's input (before its F.pad): compare what each layer makes
    assert [(op, o) for op, _i, o in layers] == [(op, o) for op, _i, o in events]
    assert tuple(static["output"]) == out
    assert _codes(p) == []


def _findings(path: Path):
    return analyze_file(Project(path.parent), str(path), path.read_text()).findings


def test_a_fix_is_offered_only_where_it_is_certain(tmp_path):
    single = _write(tmp_path, """
import torch.nn as nn


class AE(nn.Module):  # convlint: input=(1, 1, 28, 28)
    def __init__(self):
        super().__init__()
        self.down = nn.Conv2d(1, 8, 3, stride=2, padding=1)
        self.up = nn.ConvTranspose2d(8, 1, 3, stride=2, padding=1)

    def forward(self, x):
        return self.up(self.down(x))
""", "single.py")
    (f,) = [f for f in _findings(single) if f.code == "CVL004"]
    assert f.fix is not None and f.fix.replacement == "output_padding=1"
    # one call site builds every decoder layer in a loop: an edit there would change them all
    loop = _write(tmp_path, """
import torch.nn as nn


class AE(nn.Module):  # convlint: input=(1, 1, 27, 27)
    def __init__(self, widths=(4, 8)):
        super().__init__()
        self.downs = nn.Sequential(*[nn.Conv2d(a, b, 3, stride=2, padding=1) for a, b in zip((1, 4), widths)])
        self.ups = nn.Sequential(*[nn.ConvTranspose2d(b, a, 3, stride=2, padding=1, output_padding=1) for a, b in zip((4, 1), (8, 4))])

    def forward(self, x):
        return self.ups(self.downs(x))
""", "loop.py")
    found = [f for f in _findings(loop) if f.code == "CVL004"]
    assert found and all(f.fix is None for f in found)
    # a variable argument of a helper: the value comes from the caller, whose literal the fix edits
    # (the helper, which other callers rely on, is left alone)
    var = _write(tmp_path, """
import torch.nn as nn


def up(cin, cout, op):
    return nn.ConvTranspose2d(cin, cout, 3, stride=2, padding=1, output_padding=op)


class AE(nn.Module):  # convlint: input=(1, 1, 28, 28)
    def __init__(self):
        super().__init__()
        self.down = nn.Conv2d(1, 8, 3, stride=2, padding=1)
        self.up = up(8, 1, 0)

    def forward(self, x):
        return self.up(self.down(x))
""", "var.py")
    (f,) = [f for f in _findings(var) if f.code == "CVL004"]
    text = var.read_text()
    assert f.line == text.splitlines().index("        self.up = up(8, 1, 0)") + 1
    assert f.fix is not None and f.fix.apply(text) == text.replace("up(8, 1, 0)", "up(8, 1, 1)")


def test_a_decoder_fix_assumes_the_layers_before_it_are_fixed(tmp_path):
    p = _write(tmp_path, """
import torch.nn as nn


class AE(nn.Module):  # convlint: input=(1, 1, 28, 28)
    def __init__(self):
        super().__init__()
        self.enc = nn.Sequential(nn.Conv2d(1, 16, 3, 2, 1), nn.Conv2d(16, 32, 3, 2, 1))
        self.d1 = nn.ConvTranspose2d(32, 16, 3, 2, 1)
        self.d2 = nn.ConvTranspose2d(16, 1, 3, 2, 1)

    def forward(self, x):
        return self.d2(self.d1(self.enc(x)))
""")
    fixes = {f.line: f.fix.replacement for f in _findings(p) if f.code == "CVL004"}
    assert fixes == {9: "output_padding=1", 10: "output_padding=1"}
    # and applying both really restores the size
    fixed = p.read_text().replace("nn.ConvTranspose2d(32, 16, 3, 2, 1)", "nn.ConvTranspose2d(32, 16, 3, 2, 1, output_padding=1)")
    fixed = fixed.replace("nn.ConvTranspose2d(16, 1, 3, 2, 1)", "nn.ConvTranspose2d(16, 1, 3, 2, 1, output_padding=1)")
    p.write_text(fixed)
    _events, out = _runtime_torch(p, "AE", (1, 1, 28, 28))
    assert out == (1, 1, 28, 28)


def test_lax_transposed_padding_pairs_get_a_fix_that_jax_confirms(tmp_path):
    jax = pytest.importorskip("jax")
    p = _write(tmp_path, """
import jax.numpy as jnp
from jax import lax

x = jnp.ones((1, 1, 64, 64))
w = jnp.ones((1, 1, 5, 5))
y = lax.conv_general_dilated(x, w, (3, 3), [(2, 2), (2, 2)], (1, 1), (2, 2))
z = lax.conv_general_dilated(jnp.ones((1, 1, 20, 20)), w, (1, 1), [(6, 7), (6, 7)], (3, 3), (2, 2))
""")
    (f,) = [f for f in _findings(p) if f.code == "CVL004"]
    assert f.line == 8 and f.fix is not None
    pairs = eval(f.fix.replacement.split("=", 1)[1])  # noqa: S307 - our own output, a literal
    out = jax.eval_shape(
        lambda a, b: jax.lax.conv_general_dilated(a, b, (1, 1), pairs, (3, 3), (2, 2)),
        jax.ShapeDtypeStruct((1, 1, 20, 20), jax.numpy.float32),
        jax.ShapeDtypeStruct((1, 1, 5, 5), jax.numpy.float32),
    )
    assert out.shape == (1, 1, 64, 64)


def test_a_partner_in_another_file_is_named_with_its_path(tmp_path):
    (tmp_path / "parts.py").write_text(textwrap.dedent("""
import torch.nn as nn


class Up(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.up = nn.ConvTranspose2d(c, c, 2, stride=2)

    def forward(self, x):
        return self.up(x)
"""))
    model = _write(tmp_path, """
import torch.nn as nn
from parts import Up


class Net(nn.Module):  # convlint: input=(1, 4, 15, 15)
    def __init__(self):
        super().__init__()
        self.down = nn.MaxPool2d(2)
        self.up = Up(4)

    def forward(self, x):
        return self.up(self.down(x))
""")
    (f,) = [f for f in _findings(model) if f.code == "CVL004"]
    assert f.path.endswith("parts.py")
    assert "model.py:9)" in f.message


def test_a_none_placeholder_default_is_unresolved_not_invalid(tmp_path):
    p = _write(tmp_path, """
import torch.nn as nn


class PatchEmbed(nn.Module):
    def __init__(self, in_channels=3, dim=64, patch_size=None):
        super().__init__()
        self.proj = nn.Conv2d(in_channels, dim, kernel_size=patch_size, stride=patch_size)

    def forward(self, x):
        return self.proj(x)
""")
    codes = [(f.code, f.line) for f in _findings(p)]
    assert ("CVL008", 8) in codes and not any(c == "CVL001" for c, _ in codes)


FLAX_VARIABLE = '''
import flax.linen as nn
import jax.numpy as jnp


class RunningNorm(nn.Module):
    """A hand-written batch norm (flaxmodels' style): running statistics in ``self.variable``."""

    use_running_average: bool = True

    @nn.compact
    def __call__(self, x):
        shape = (x.shape[-1],)
        ra_mean = self.variable("batch_stats", "mean", lambda s: jnp.zeros(s, jnp.float32), shape)
        ra_var = self.variable("batch_stats", "var", lambda s: jnp.ones(s, jnp.float32), shape)
        if self.use_running_average:
            mean, var = ra_mean.value, ra_var.value
        else:
            mean = jnp.mean(x, axis=(0, 1, 2))
            var = jnp.var(x, axis=(0, 1, 2))
            ra_mean.value = mean
        scale = self.param("scale", nn.initializers.ones, shape)
        return (x - mean.reshape((1, 1, 1, -1))) * jnp.reciprocal(jnp.sqrt(var + 1e-5)) * scale


class Net(nn.Module):  # convlint: input=(2, 16, 16, 3)
    @nn.compact
    def __call__(self, x):
        x = nn.Conv(8, (3, 3), strides=(2, 2))(x)
        x = RunningNorm()(x)
        return nn.Conv(4, (3, 3), padding="VALID")(x)
'''


def test_flax_variables_hold_what_their_initializer_makes(tmp_path):
    jax = pytest.importorskip("jax")
    pytest.importorskip("flax")
    p = _write(tmp_path, FLAX_VARIABLE)
    mod = _import(p)
    model = mod.Net()
    x = jax.ShapeDtypeStruct((2, 16, 16, 3), jax.numpy.float32)
    variables = jax.eval_shape(lambda: model.init(jax.random.PRNGKey(0), jax.numpy.zeros((2, 16, 16, 3))))
    out = jax.eval_shape(model.apply, variables, x)
    static = _static(p, "Net")
    assert tuple(static["output"]) == tuple(out.shape)
    assert static["coverage"]["resolved"] == static["coverage"]["total"] == 2
    assert _codes(p) == []


NNX = '''
import jax.numpy as jnp
from flax import nnx


class Block(nnx.Module):
    def __init__(self, cin, cout, *, rngs):
        self.conv = nnx.Conv(cin, cout, kernel_size=(3, 3), strides=2, padding="SAME", rngs=rngs)
        self.norm = nnx.GroupNorm(cout, num_groups=4, rngs=rngs)

    def __call__(self, x):
        return nnx.relu(self.norm(self.conv(x)))


class AE(nnx.Module):  # convlint: input=(2, 16, 16, 3)
    def __init__(self, rngs: nnx.Rngs):
        self.down = nnx.Sequential(Block(3, 8, rngs=rngs), Block(8, 16, rngs=rngs))
        self.mid = nnx.Conv(16, 16, 3, rngs=rngs)  # an int kernel size is a 1-d kernel: applied to (B, L, C)
        self.up1 = nnx.ConvTranspose(16, 8, (3, 3), strides=(2, 2), padding="SAME", rngs=rngs)
        self.bn = nnx.BatchNorm(8, rngs=rngs)
        self.up2 = nnx.ConvTranspose(8, 3, (3, 3), strides=(2, 2), padding="SAME", rngs=rngs)
        self.head = nnx.Linear(3, 5, rngs=rngs)

    def __call__(self, x):
        h = self.down(x)
        h = self.mid(h.reshape(2, 16, 16)).reshape(2, 4, 4, 16)
        return self.head(self.up2(self.bn(self.up1(h), use_running_average=True)))
'''


def test_flax_nnx_modules_match_jax(tmp_path):
    pytest.importorskip("flax")
    from flax import nnx
    import jax.numpy as jnp

    p = _write(tmp_path, NNX)
    mod = _import(p)
    model = mod.AE(rngs=nnx.Rngs(0))
    out = model(jnp.ones((2, 16, 16, 3)))
    static = _static(p, "AE")
    assert tuple(static["output"]) == tuple(out.shape)
    assert static["coverage"]["resolved"] == static["coverage"]["total"] == 5
    assert _codes(p) == []


def test_flax_nnx_feature_mismatch_is_reported_where_jax_fails(tmp_path):
    pytest.importorskip("flax")
    from flax import nnx
    import jax.numpy as jnp

    src = NNX.replace("self.up2 = nnx.ConvTranspose(8, 3,", "self.up2 = nnx.ConvTranspose(16, 3,")
    p = _write(tmp_path, src)
    mod = _import(p)
    with pytest.raises(Exception):
        mod.AE(rngs=nnx.Rngs(0))(jnp.ones((2, 16, 16, 3)))
    line = next(i for i, text in enumerate(src.splitlines(), 1) if "self.up2 = " in text)
    res = analyze_file(Project(p.parent), str(p), p.read_text())
    assert [(f.code, f.line) for f in res.findings if f.severity == "error"] == [("CVL003", line)]


DCGAN_SCRIPT = '''
import argparse

import torch
import torch.nn as nn

parser = argparse.ArgumentParser()
parser.add_argument("--nz", type=int, default=16)
parser.add_argument("--ngf", type=int, default=8)
parser.add_argument("--ndf", type=int, default=8)
opt = parser.parse_args([])
nz, ngf, ndf, nc = opt.nz, opt.ngf, opt.ndf, 3


class Generator(nn.Module):
    def __init__(self):
        super().__init__()
        self.main = nn.Sequential(
            nn.ConvTranspose2d(nz, ngf * 4, 4, 1, 0, bias=False), nn.ReLU(True),
            nn.ConvTranspose2d(ngf * 4, ngf * 2, 4, 2, 1, bias=False), nn.ReLU(True),
            nn.ConvTranspose2d(ngf * 2, ngf, 4, 2, 1, bias=False), nn.ReLU(True),
            nn.ConvTranspose2d(ngf, nc, 4, 2, 1, bias=False), nn.Tanh(),
        )

    def forward(self, z):
        return self.main(z)


class Discriminator(nn.Module):
    def __init__(self):
        super().__init__()
        self.main = nn.Sequential(
            nn.Conv2d(nc, ndf, 4, 2, 1, bias=False), nn.LeakyReLU(0.2, True),
            nn.Conv2d(ndf, ndf * 2, 4, 2, 1, bias=False), nn.LeakyReLU(0.2, True),
            nn.Conv2d(ndf * 2, ndf * 4, 4, 2, 1, bias=False), nn.LeakyReLU(0.2, True),
            nn.Conv2d(ndf * 4, 1, 4, 1, 0, bias=False), nn.Sigmoid(),
        )

    def forward(self, x):
        return self.main(x).view(-1, 1).squeeze(1)


netG, netD = Generator(), Discriminator()
images = torch.randn(4, nc, 32, 32)
for epoch in range(2):
    for batch in torch.utils.data.DataLoader(images, batch_size=2):  # batches of unknown shape
        real = batch
    out_real = netD(real)
    noise = torch.randn(real.size(0), nz, 1, 1)
    fake = netG(noise)
    out_fake = netD(fake.detach())
    out_g = netD(fake)
'''


def test_a_generator_fed_noise_is_no_mirror_of_the_discriminator_before_it(tmp_path):
    # the DCGAN training script: D(real), then G(noise), then D(fake) — a false CVL004 paired the
    # generator's upsampling with the discriminator's downsampling by trace order
    p = _write(tmp_path, DCGAN_SCRIPT)
    real = {}
    exec(compile(p.read_text(), str(p), "exec", dont_inherit=True), real)
    assert tuple(real["fake"].shape) == (2, 3, 32, 32) and tuple(real["out_g"].shape) == (2,)
    res = analyze_file(Project(p.parent), str(p), p.read_text())
    assert [f.code for f in res.findings if f.severity in ("error", "warning")] == []


def test_a_function_under_an_unmodelled_jax_transform_is_not_the_function_as_written(tmp_path):
    # flax's own tests: ``@nnx.vmap`` / ``@nnx.scan`` change what a function returns; following the
    # undecorated body gave false CVL011/CVL003 findings
    pytest.importorskip("flax")
    src = """
        import jax.numpy as jnp
        from flax import nnx


        def test_scan_over_layers():
            @nnx.split_rngs(splits=5)
            @nnx.vmap(in_axes=0, out_axes=0, axis_size=5)
            def create(rngs: nnx.Rngs):
                return nnx.Linear(3, 3, rngs=rngs)

            model = create(nnx.Rngs(0))

            @nnx.scan(in_axes=(nnx.Carry, 0, None), length=5)
            def forward(_, block, x):
                return None, block(x)

            _, y = forward(None, model, jnp.ones((1, 3)))
            assert y.shape == (5, 1, 3)


        test_scan_over_layers()
    """
    p = _write(tmp_path, src, name="transforms_test.py")
    real = {}
    exec(compile(p.read_text(), str(p), "exec", dont_inherit=True), real)  # it passes for real
    res = analyze_file(Project(p.parent), str(p), p.read_text())
    assert [f.code for f in res.findings if f.severity in ("error", "warning")] == []


UNDECLARED_BLOCKS = '''
import torch
import torch.nn as nn
import torch.nn.functional as F


class Upsample2x(nn.Upsample):  # a layer subclass: its base's defaults are no model
    def forward(self, x):
        return super().forward(x.float()).type_as(x)


class UpBlock(nn.Module):  # fed its skip concatenated: the first conv takes 2 * in_channels
    def __init__(self, in_channels: int, out_channels: int):
        super().__init__()
        self.conv = nn.Conv1d(2 * in_channels, out_channels, 3, padding=1)

    def forward(self, x, skip=None):
        if skip is not None:
            x = torch.cat([x, skip], dim=1)
        return self.conv(x)


class PatchEmbed(nn.Module):  # a symbolic kernel size is a size, not a rejected configuration
    def __init__(self, in_channels: int, embed_dim: int, patch_size: int):
        super().__init__()
        self.proj = nn.Conv2d(in_channels, embed_dim, kernel_size=patch_size, stride=patch_size)

    def forward(self, x):
        return self.proj(x).flatten(2).transpose(1, 2)


class Pool(nn.Module):  # a Linear first takes any rank
    def __init__(self, hidden: int = 16, window: int = 5):
        super().__init__()
        self.embed = nn.Linear(hidden, hidden)
        self.window = window

    def forward(self, h):
        b, n, _ = h.shape
        h = self.embed(h).unsqueeze(2).expand(-1, -1, self.window, -1)
        return h.reshape(b * n, self.window, -1)


class Blur(nn.Module):  # a symbolic group count
    def __init__(self, in_channels: int):
        super().__init__()
        self.in_channels = in_channels
        self.register_buffer("kernel", torch.ones(3, 3) / 9)

    def forward(self, x):
        k = self.kernel[None, None].expand(self.in_channels, 1, -1, -1)
        return F.conv2d(x, k, padding=1, groups=self.in_channels)
'''


def test_blocks_run_on_their_own_report_nothing_their_real_use_does_not(tmp_path):
    # each false alarm once seen on diffusers' models with nothing declared
    p = _write(tmp_path, UNDECLARED_BLOCKS)
    mod = {}
    exec(compile(p.read_text(), str(p), "exec", dont_inherit=True), mod)
    assert mod["Upsample2x"](scale_factor=2)(torch.randn(1, 2, 4, 4)).shape == (1, 2, 8, 8)
    assert mod["UpBlock"](4, 8)(torch.randn(1, 4, 10), torch.randn(1, 4, 10)).shape == (1, 8, 10)
    assert mod["PatchEmbed"](3, 8, 4)(torch.randn(1, 3, 16, 16)).shape == (1, 16, 8)
    assert mod["Pool"]()(torch.randn(2, 3, 16)).shape == (6, 5, 16)
    assert mod["Blur"](4)(torch.randn(1, 4, 8, 8)).shape == (1, 4, 8, 8)
    res = analyze_file(Project(p.parent), str(p), p.read_text())
    assert [(f.code, f.line) for f in res.findings if f.severity in ("error", "warning")] == []


def test_a_function_wrapped_with_functools_in_an_imported_module(tmp_path):
    # an imported module's functions are parsed lazily: functools.wraps on one of them once failed
    # the whole file (nothing was checked, "All checks passed!")
    _write(tmp_path, """
        import functools

        import torch.nn as nn


        def _norm(groups, channels):
            return nn.GroupNorm(groups, channels)


        @functools.wraps(_norm)
        def make_norm(groups, channels):
            return _norm(groups, channels)
    """, name="helpers.py")
    p = _write(tmp_path, """
        import torch.nn as nn

        from helpers import make_norm


        class Embed(nn.Module):  # convlint: input=(1, 4, 8, 8)
            def __init__(self, channels=4, groups=32):
                super().__init__()
                self.norm = make_norm(groups, channels)

            def forward(self, x):
                return self.norm(x)
    """)
    res = analyze_file(Project(p.parent), str(p), p.read_text())
    assert [f.code for f in res.findings if f.severity == "error"] == ["CVL001"]
    with pytest.raises(ValueError):
        nn.GroupNorm(32, 4)  # torch rejects it too


def test_an_engine_failure_on_an_entry_is_said_not_read_as_clean(tmp_path, monkeypatch):
    # an internal error while following an entry once left the file with no finding at all
    from convlint.interpret import statements

    p = _write(tmp_path, """
        import torch.nn as nn


        class AE(nn.Module):  # convlint: input=(1, 1, 8, 8)
            def __init__(self):
                super().__init__()
                self.conv = nn.Conv2d(1, 4, 3)

            def forward(self, x):
                return self.conv(x)
    """)

    def broken(self, node, scope):
        raise TypeError("a planted engine bug")

    monkeypatch.setattr(statements.StatementEvaluator, "_stmt_ClassDef", broken)
    res = analyze_file(Project(p.parent), str(p), p.read_text())
    said = [f for f in res.findings if f.code == "CVL008" and "internal error" in f.message]
    assert said and "a planted engine bug" in said[0].message and said[0].line == 2


def _sizes_torch_runs(src: str, name: str, channels: int, sizes) -> list[int]:
    """The square input sizes at which torch runs ``name(channels)`` of ``src`` (on CPU)."""
    ns: dict = {}
    exec(compile(src, "block.py", "exec"), ns)  # noqa: S102 - our own example
    works = []
    for size in sizes:
        try:
            ns[name](channels)(torch.zeros(1, channels, size, size))
        except RuntimeError:
            continue
        works.append(size)
    return works


_NORM_FIRST = '''
import torch
import torch.nn as nn


def nonlinearity(x):
    return x * torch.sigmoid(x)


class ResnetBlock(nn.Module):
    def __init__(self, in_channels, out_channels=None):
        super().__init__()
        out_channels = in_channels if out_channels is None else out_channels
        self.norm1 = nn.GroupNorm(4, in_channels)
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, padding=1)
        self.act = nn.SiLU()
        self.drop = nn.Dropout(0.1)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, padding=PADDING)
        if in_channels != out_channels:
            self.nin_shortcut = nn.Conv2d(in_channels, out_channels, 1)

    def forward(self, x):
        h = self.norm1(x)
        h = nonlinearity(h)
        h = self.conv1(h)
        h = self.drop(self.act(h).clone())
        h = self.conv2(h)
        if x.shape[1] != h.shape[1]:
            x = self.nin_shortcut(x)
        return x + h
'''


@pytest.mark.parametrize("padding", [0, 1])
def test_a_block_that_normalises_its_input_first_is_checked_on_its_own(tmp_path, padding):
    """A model run on its own takes an input of unknown rank; a norm and ``x * sigmoid(x)`` keep
    its shape, so the conv that meets their result fixes the input's shape too, and the residual
    ``x + h`` is compared. torch decides: the block runs at every size with padding=1 and at none
    but a single-row one with padding=0."""
    from convlint.commands.shapes import _list_json

    src = _NORM_FIRST.replace("PADDING", str(padding))
    p = _write(tmp_path, src)
    works = _sizes_torch_runs(src, "ResnetBlock", 8, range(1, 12))

    _models, runs = collect([str(p)], every=True)
    (m,) = [_list_json(r) for r in runs if r.entry.name == "ResnetBlock"]
    assert m["status"] == "symbolic" and m["coverage"]["resolved"] == m["coverage"]["total"] == 2  # conv1, conv2
    res = analyze_file(Project(p.parent), str(p), p.read_text())
    found = [f for f in res.findings if f.code == "CVL005"]
    if padding == 1:
        assert works == list(range(1, 12)) and found == []
    else:
        assert works == [3]
        (f,) = found
        assert f.line == src.splitlines().index("        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, padding=0)") + 1
        assert "for every input size but H = 3" in f.message


_UPSAMPLE_FIRST = '''
import torch.nn as nn
import torch.nn.functional as F


class Up(nn.Module):
    def __init__(self, ch):
        super().__init__()
        self.conv = nn.Conv2d(ch, ch, 3, padding=PADDING)

    def forward(self, x):
        x = F.interpolate(x, scale_factor=2.0, mode="nearest")
        h = self.conv(F.silu(x))
        return x + h
'''


@pytest.mark.parametrize("padding", [0, 1])
def test_a_block_that_resamples_its_input_first_is_run_again_at_the_rank_its_conv_takes(tmp_path, padding):
    """``interpolate(x, scale_factor=2.0)`` of an input of unknown rank keeps its rank, not its
    sizes: the conv that meets the result tells the rank (4), and the block is run again on a
    4-d input of symbolic size. torch decides what breaks: padding=1 runs at every size, padding=0
    at none."""
    from convlint.commands.shapes import _list_json

    src = _UPSAMPLE_FIRST.replace("PADDING", str(padding))
    p = _write(tmp_path, src)
    works = _sizes_torch_runs(src, "Up", 4, range(1, 10))
    _models, runs = collect([str(p)], every=True)
    (run,) = [r for r in runs if r.entry.name == "Up"]
    m = _list_json(run)
    assert m["coverage"]["resolved"] == m["coverage"]["total"] == 2  # the interpolate and the conv
    assert tuple(map(str, run.input.shape)) == ("B", "ch", "H", "W")
    res = analyze_file(Project(p.parent), str(p), p.read_text())
    found = [f for f in res.findings if f.code == "CVL005"]
    if padding == 1:
        assert works == list(range(1, 10)) and found == []
    else:
        assert works == []
        (f,) = found
        assert f.line == src.splitlines().index("        self.conv = nn.Conv2d(ch, ch, 3, padding=0)") + 1


_ATTENTION_ON_ITS_OWN = '''
import torch
import torch.nn as nn
import torch.nn.functional as F
from einops import rearrange


class RMSNorm(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.scale = dim ** 0.5
        self.g = nn.Parameter(torch.ones(1, dim, 1, 1))

    def forward(self, x):
        return F.normalize(x, dim=1) * self.g * self.scale


class LinearAttention(nn.Module):
    def __init__(self, dim, heads=4, dim_head=8):
        super().__init__()
        self.heads = heads
        hidden = heads * dim_head
        self.norm = RMSNorm(dim)
        self.to_qkv = nn.Conv2d(dim, hidden * 3, 1, bias=False)
        self.to_out = nn.Conv2d(hidden, dim, 1)

    def forward(self, x, scale_shift):
        b, c, h, w = x.shape
        x = self.norm(x)
        qkv = self.to_qkv(x).chunk(3, dim=1)
        q, k, v = map(lambda t: rearrange(t, "b (h c) x y -> b h c (x y)", h=self.heads), qkv)
        context = torch.einsum("b h d n, b h e n -> b h d e", k, v)
        out = torch.einsum("b h d e, b h d n -> b h e n", context, q)
        out = rearrange(out, "b h c (x y) -> b (h c) x y", h=self.heads, x=h, y=w)
        out = self.to_out(out) * (scale_shift + 1)  # an operand of unknown shape: the rank is a lower bound
        B, C, H, W = out.shape
        return out, (B, C, H, W), out.shape[-2:]
'''


def test_an_attention_block_on_its_own_is_followed_through_its_shape_unpacking(tmp_path):
    """``b, c, h, w = x.shape`` before any layer fixes the input's rank (the block is run again on
    a 4-d input of symbolic size), ``dim ** 0.5`` is a number, einsum and einops patterns fix a
    rank known only as a lower bound, and a shape unpacked or indexed from the end after an
    operand of unknown shape keeps its sizes. torch runs the block for real: every conv-family
    layer's shapes, and the unpacked sizes, agree at the sizes chosen."""
    pytest.importorskip("einops")
    from convlint.commands.shapes import _list_json

    p = _write(tmp_path, _ATTENTION_ON_ITS_OWN)
    _models, runs = collect([str(p)], every=True)
    (run,) = [r for r in runs if r.entry.name == "LinearAttention"]
    assert _list_json(run)["coverage"] == {"resolved": 2, "total": 2}
    env = {"B": 2, "dim": 6, "H": 5, "W": 7}

    def at(dims):
        return tuple(d.evaluate(env) if hasattr(d, "evaluate") else d for d in dims)

    static = [(ev.op.rsplit(".", 1)[-1], at(ev.input), at(ev.output)) for ev in run.trace.events if ev.op == "torch.nn.Conv2d"]
    mod = _import(p)
    net = mod.LinearAttention(env["dim"])
    events = []
    for m in net.modules():
        if isinstance(m, nn.Conv2d):
            m.register_forward_hook(lambda m, i, o: events.append(("Conv2d", tuple(i[0].shape), tuple(o.shape))))
    out, unpacked, tail = net(torch.zeros(env["B"], env["dim"], env["H"], env["W"]), torch.zeros(env["dim"], 1, 1))
    assert static == events
    (t, sizes, last_two) = run.output
    assert not t.exact_rank and at(t.shape) == tuple(out.shape)  # dims counted from the end stay right
    assert at(sizes) == unpacked and at(last_two) == tuple(tail)


def test_only_an_unpacking_of_the_shape_itself_fixes_the_rank(tmp_path):
    """``B, C = x.shape[:2]`` takes two dims of a shape of any rank: it says nothing of the rank
    (an input of unknown rank is not run again as a 2-d one), while ``b, c, h, w = x.shape`` does.
    torch runs both blocks on a 4-d input."""
    src = '''
import torch.nn as nn


class Head(nn.Module):
    def __init__(self, ch):
        super().__init__()
        self.conv = nn.Conv2d(ch, ch, 3, padding=1)

    def forward(self, x):
        B, C = x.shape[:2]
        return self.conv(x).reshape(B, C, -1)


class Body(nn.Module):
    def __init__(self, ch):
        super().__init__()
        self.conv = nn.Conv2d(ch, ch, 3, padding=1)

    def forward(self, x):
        b, c, h, w = x.shape
        return self.conv(x).reshape(b, c, h * w)
'''
    p = _write(tmp_path, src)
    mod = _import(p)
    for name in ("Head", "Body"):
        assert tuple(getattr(mod, name)(3)(torch.zeros(2, 3, 5, 7)).shape) == (2, 3, 35)
    res = analyze_file(Project(p.parent), str(p), p.read_text())
    assert [f for f in res.findings if f.severity in ("error", "warning")] == []
    _models, runs = collect([str(p)], every=True)
    got = {r.entry.name: r for r in runs}
    assert tuple(map(str, got["Head"].input.shape)) == ("B", "ch", "H", "W")  # promoted by the conv
    assert tuple(map(str, got["Body"].input.shape)) == ("B", "ch", "H", "W")  # run again at rank 4
    assert str(got["Body"].output.shape[1]) == "ch"  # c, h, w known in the second run


SHAPE_READ_FIRST = """\
    import torch
    import torch.nn as nn
    from einops import rearrange


    class StoredShape(nn.Module):
        def __init__(self, dim=32, heads=4):
            super().__init__()
            self.heads = heads
            self.to_q = nn.Conv2d(dim, dim, 1)
            self.to_out = nn.Conv2d(dim, dim, 3, stride=2, padding=1)

        def forward(self, x):
            shape = x.shape  # read before any layer fixes the input's rank
            b, n, _, y = shape
            q = rearrange(self.to_q(x), 'b (h d) x y -> (b h) (x y) d', h=self.heads)
            return self.to_out(rearrange(q, '(b h) (x y) d -> b (h d) x y', h=self.heads, y=y))


    class StarredDisplay(nn.Module):
        def __init__(self, dim=32, heads=4):
            super().__init__()
            self.heads = heads
            self.to_q = nn.Conv2d(dim, dim, 1)
            self.to_out = nn.Conv2d(dim, dim, 3, stride=2, padding=1)

        def forward(self, x):
            b, n, x_, y, h = *x.shape, self.heads
            q = rearrange(self.to_q(x), 'b (h d) x y -> (b h) (x y) d', h=h)
            return self.to_out(rearrange(q, '(b h) (x y) d -> b (h d) x y', h=h, y=y))
"""


@pytest.mark.parametrize("model", ["StoredShape", "StarredDisplay"])
def test_a_shape_read_before_the_rank_is_known_is_unpacked_as_python_does(tmp_path, model):
    # run on its own (nothing declared): the input's rank is learnt where its shape is unpacked
    # into four names (directly, or through a starred display), and the sizes are then followed
    # through einops' products; torch gives the same sizes at 20x18
    path = _write(tmp_path, SHAPE_READ_FIRST)
    static = _static(Path(f"{path}::{model}"), model)
    assert static["coverage"]["resolved"] == static["coverage"]["total"] == 2
    env = {"B": 2, "H": 20, "W": 18}
    layers = [(layer["op"].rsplit(".", 1)[-1], tuple(eval(str(d), env) if isinstance(d, str) else d for d in layer["input"]),  # noqa: S307
               tuple(eval(str(d), env) if isinstance(d, str) else d for d in layer["output"])) for layer in static["layers"]]  # noqa: S307
    events, out = _runtime_torch(path, model, (2, 32, 20, 18))
    assert [x for x in layers if x[0] in LEAF_OPS] == events
    assert tuple(eval(str(d), env) if isinstance(d, str) else d for d in static["output"]) == out  # noqa: S307
