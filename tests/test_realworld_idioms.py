"""Idioms found in public model repositories (diffusers, timm, taming-transformers, PyTorch-GAN,
PyTorch-VAE, denoising-diffusion-pytorch), each cut down to a small model of the same shape.

Two kinds of check:

* a correct model, analysed the way ``convlint check`` does (no declared input: every module
  class runs with its defaults and an input of unknown size), must get no error or warning;
* a model with a declared input must get, layer by layer, the shapes real torch computes on the
  meta device (``convlint.confirm.trace``), and the same output shape.

Each test was first written against an engine that got it wrong (a false CVL001/002/003/005 on a
correct model, or a conv whose shapes were lost); the comment at the test names the repository
where it was seen.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from convlint.analysis import Project, analyze_file
from convlint.confirm.trace import trace_torch_model
from convlint.commands.shapes import collect
from tests.oracle import import_file

torch = pytest.importorskip("torch")

# ops both sides record for a module layer (the tracer also records functional calls)
COMPARED = (
    "Conv1d", "Conv2d", "Conv3d", "ConvTranspose1d", "ConvTranspose2d", "MaxPool2d", "AvgPool2d", "Upsample",
    "PixelShuffle", "Linear", "GroupNorm", "BatchNorm2d",
)


def _write(tmp_path: Path, source: str, name: str = "model.py") -> Path:
    p = tmp_path / name
    p.write_text(textwrap.dedent(source))
    return p


def _errors(path: Path):
    """(code, line) of every error or warning `convlint check` reports for the file."""
    res = analyze_file(Project(path.parent), str(path), path.read_text())
    return sorted((f.code, f.line) for f in res.findings if f.severity in ("error", "warning"))


def _static(path: Path, model: str, shape):
    spec = f"{path}::{model}=" + ",".join(str(d) for d in shape)
    models, _runs = collect([f"{path}::{model}"], [spec])
    (m,) = [m for m in models if m["name"] == model]
    layers = [
        (layer["name"], layer["input"] and tuple(layer["input"]), layer["output"] and tuple(layer["output"]))
        for layer in m["layers"]
        if layer["op"].startswith("torch.nn.") and layer["op"].rsplit(".", 1)[-1] in COMPARED and layer["name"]
    ]
    return layers, m["output"] and tuple(m["output"])


def _runtime(path: Path, model: str, shape):
    res = trace_torch_model(path, model, {}, [shape])
    assert res.ok, res.error
    layers = [
        (e.name, e.input, e.output)
        for e in res.events
        if e.op.startswith("torch.nn.") and e.op.rsplit(".", 1)[-1] in COMPARED and e.name
    ]
    return layers, res.output_shapes[0]


def _assert_matches_torch(path: Path, model: str, shape):
    static_layers, static_out = _static(path, model, shape)
    runtime_layers, runtime_out = _runtime(path, model, shape)
    assert static_layers == runtime_layers
    assert static_out == runtime_out


# ------------------------------------------------------------------------------------------------
# False alarms on correct models (no declared input)
# ------------------------------------------------------------------------------------------------

SNAKE = '''
import torch
import torch.nn as nn


class Snake1d(nn.Module):
    def __init__(self, channels):
        super().__init__()
        self.alpha = nn.Parameter(torch.ones(1, channels, 1))

    def forward(self, x):
        shape = x.shape
        x = x.reshape(shape[0], shape[1], -1)
        x = x + torch.sin(self.alpha * x).pow(2)
        return x.reshape(shape)


class ResidualUnit(nn.Module):
    def __init__(self, channels=16, dilation=3):
        super().__init__()
        self.snake = Snake1d(channels)
        self.conv = nn.Conv1d(channels, channels, kernel_size=7, dilation=dilation, padding=3 * dilation)

    def forward(self, x):
        return x + self.conv(self.snake(x))
'''


def test_reshape_back_to_own_shape_keeps_unknown_rank(tmp_path):
    p = _write(tmp_path, SNAKE)
    assert _errors(p) == []


def test_reshape_back_to_own_shape_with_declared_input_matches_torch(tmp_path):
    p = _write(tmp_path, SNAKE)
    _assert_matches_torch(p, "ResidualUnit", (2, 16, 50))


FOLD_FRAMES = '''
import torch.nn as nn


class FrameEncoder(nn.Module):
    def __init__(self, in_channels=4, channels=8):
        super().__init__()
        self.conv_in = nn.Conv2d(in_channels, channels, kernel_size=3, padding=1)

    def forward(self, sample):
        num_frames = sample.shape[2]
        sample = sample.permute(0, 2, 1, 3, 4).reshape((sample.shape[0] * num_frames, -1) + sample.shape[3:])
        return self.conv_in(sample)


class SizeRoundTrip(nn.Module):
    def __init__(self, channels=4):
        super().__init__()
        self.conv = nn.Conv2d(channels, channels, kernel_size=3, padding=1)

    def forward(self, x):
        return self.conv(x.flatten(1).view(x.size()))
'''


def test_shape_tuple_arithmetic_on_unknown_rank_input_is_not_a_rank_error(tmp_path):
    p = _write(tmp_path, FOLD_FRAMES)
    assert _errors(p) == []


def test_fold_frames_into_batch_matches_torch(tmp_path):
    p = _write(tmp_path, FOLD_FRAMES)
    _assert_matches_torch(p, "FrameEncoder", (2, 4, 3, 8, 8))


AUDIO_ENCODER = '''
import torch.nn as nn


class AudioEncoder(nn.Module):
    def __init__(self, channels=16, strides=(8, 8, 8)):
        super().__init__()
        layers = [nn.Conv1d(1, channels, kernel_size=7, padding=3)]
        for stride in strides:
            layers.append(nn.Conv1d(channels, channels, kernel_size=2 * stride, stride=stride, padding=stride // 2))
        layers.append(nn.Conv1d(channels, 8, kernel_size=3, padding=1))
        self.net = nn.Sequential(*layers)

    def forward(self, audio):
        return self.net(audio)
'''


def test_audio_encoder_works_for_long_inputs_at_run_time(tmp_path):
    p = _write(tmp_path, AUDIO_ENCODER)
    _layers, out = _runtime(p, "AudioEncoder", (1, 1, 2048))
    assert out == (1, 8, 4)


def test_large_total_stride_is_not_empty_for_every_size(tmp_path):
    p = _write(tmp_path, AUDIO_ENCODER)
    assert _errors(p) == []


POS_EMBED = '''
from itertools import repeat

import torch
import torch.nn as nn


def to_2tuple(x):
    return tuple(repeat(x, 2))


class PatchEmbedWithPos(nn.Module):
    def __init__(self, img_size=224, patch_size=16, dim=64):
        super().__init__()
        img_size = to_2tuple(img_size)
        self.proj = nn.Conv2d(3, dim, patch_size, stride=patch_size)
        grid = [s // patch_size for s in img_size]
        self.pos_embed = nn.Parameter(torch.zeros(1, dim, *grid))

    def forward(self, x):
        return self.proj(x) + self.pos_embed
'''


def test_star_unpacked_unknown_sizes_do_not_make_a_merge_error(tmp_path):
    p = _write(tmp_path, POS_EMBED)
    assert _errors(p) == []


ASSERT_GUARD = '''
import torch.nn as nn


class PatchEmbed(nn.Module):
    def __init__(self, in_channels=4, dim=64, patch_size=None):
        super().__init__()
        assert patch_size is not None, "patch_size is required"
        self.proj = nn.Conv2d(in_channels, dim, kernel_size=patch_size, stride=patch_size)

    def forward(self, x):
        return self.proj(x)
'''


def test_failing_assert_ends_the_default_run(tmp_path):
    p = _write(tmp_path, ASSERT_GUARD)
    assert _errors(p) == []


def test_raise_guard_ends_the_default_run(tmp_path):
    p = _write(tmp_path, ASSERT_GUARD.replace('assert patch_size is not None, "patch_size is required"', 'if patch_size is None:\n            raise ValueError("patch_size is required")'))
    assert _errors(p) == []


# ------------------------------------------------------------------------------------------------
# Shapes lost (declared input), checked against torch on the meta device
# ------------------------------------------------------------------------------------------------

UPSAMPLER = '''
import torch
import torch.nn as nn


class Upsampler(nn.Module):  # the ESRGAN / SRGAN generator tail
    def __init__(self, filters=8):
        super().__init__()
        self.conv1 = nn.Conv2d(filters, filters, 3, padding=1)
        self.conv2 = nn.Conv2d(filters, filters, 3, padding=1)
        self.up = nn.Sequential(nn.Conv2d(filters, filters * 4, 3, padding=1), nn.PixelShuffle(upscale_factor=2))
        self.out = nn.Conv2d(filters, 3, 3, padding=1)

    def forward(self, x):
        out1 = self.conv1(x)
        out = torch.add(out1, self.conv2(out1))
        return self.out(self.up(out))
'''


def test_torch_add_then_pixel_shuffle_matches_torch(tmp_path):
    p = _write(tmp_path, UPSAMPLER)
    _assert_matches_torch(p, "Upsampler", (1, 8, 16, 16))


def test_operator_add_then_pixel_shuffle_matches_torch(tmp_path):
    p = _write(tmp_path, UPSAMPLER.replace("torch.add(out1, self.conv2(out1))", "out1 + self.conv2(out1)"))
    _assert_matches_torch(p, "Upsampler", (1, 8, 16, 16))


ATTN = '''
import torch
import torch.nn as nn


class AttnBlock(nn.Module):  # taming-transformers / ldm diffusionmodules/model.py
    def __init__(self, in_channels=32):
        super().__init__()
        self.norm = nn.GroupNorm(8, in_channels)
        self.q = nn.Conv2d(in_channels, in_channels, kernel_size=1)
        self.k = nn.Conv2d(in_channels, in_channels, kernel_size=1)
        self.v = nn.Conv2d(in_channels, in_channels, kernel_size=1)
        self.proj_out = nn.Conv2d(in_channels, in_channels, kernel_size=1)

    def forward(self, x):
        h_ = self.norm(x)
        q, k, v = self.q(h_), self.k(h_), self.v(h_)
        b, c, h, w = q.shape
        q = q.reshape(b, c, h * w).permute(0, 2, 1)
        k = k.reshape(b, c, h * w)
        w_ = torch.bmm(q, k) * (int(c) ** (-0.5))
        w_ = torch.nn.functional.softmax(w_, dim=2)
        h_ = torch.bmm(v.reshape(b, c, h * w), w_.permute(0, 2, 1))
        h_ = h_.reshape(b, c, h, w)
        return x + self.proj_out(h_)
'''


def test_bmm_attention_block_matches_torch(tmp_path):
    p = _write(tmp_path, ATTN)
    _assert_matches_torch(p, "AttnBlock", (2, 32, 8, 8))


def test_matmul_attention_block_matches_torch(tmp_path):
    p = _write(tmp_path, ATTN.replace("torch.bmm(q, k)", "torch.matmul(q, k)").replace("torch.bmm(v.reshape(b, c, h * w), w_.permute(0, 2, 1))", "v.reshape(b, c, h * w) @ w_.permute(0, 2, 1)"))
    _assert_matches_torch(p, "AttnBlock", (2, 32, 8, 8))


NTUPLE = '''
import collections.abc
from itertools import repeat

import torch.nn as nn


def _ntuple(n):
    def parse(x):
        if isinstance(x, collections.abc.Iterable) and not isinstance(x, str):
            return tuple(x)
        return tuple(repeat(x, n))
    return parse


to_2tuple = _ntuple(2)


class PatchEmbed(nn.Module):  # timm/layers/helpers.py + patch_embed.py
    def __init__(self, patch_size=16, in_chans=3, embed_dim=32):
        super().__init__()
        patch_size = to_2tuple(patch_size)
        self.proj = nn.Conv2d(in_chans, embed_dim, kernel_size=patch_size, stride=patch_size)

    def forward(self, x):
        return self.proj(x)
'''


def test_timm_to_2tuple_matches_torch(tmp_path):
    p = _write(tmp_path, NTUPLE)
    _assert_matches_torch(p, "PatchEmbed", (2, 3, 64, 64))


def test_to_2tuple_with_list_tuple_check_and_multiplication_matches_torch(tmp_path):
    p = _write(tmp_path, NTUPLE.replace("isinstance(x, collections.abc.Iterable) and not isinstance(x, str)", "isinstance(x, (list, tuple))").replace("tuple(repeat(x, n))", "tuple([x] * n)"))
    _assert_matches_torch(p, "PatchEmbed", (2, 3, 64, 64))


TENSOR_OPS = '''
import torch
import torch.nn as nn
import torch.nn.functional as F


class Probe(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(CIN, 8, 1)

    def forward(self, x):
        y = x * 2.0
        return self.conv(EXPR)
'''


@pytest.mark.parametrize(
    "expr, cin",
    [
        pytest.param("x.chunk(2, dim=1)[0]", 4, id="chunk"),
        pytest.param("torch.cat([x, y], dim=1)", 16, id="cat"),
        pytest.param("F.interpolate(x, scale_factor=2, mode='nearest')", 8, id="interpolate"),
        pytest.param("x.permute(0, 1, 3, 2).contiguous()", 8, id="permute"),
        pytest.param("torch.stack([x, y], dim=1).sum(1)", 8, id="stack-sum"),
        pytest.param("torch.mul(x, y)", 8, id="torch.mul"),
        pytest.param("torch.sub(x, y)", 8, id="torch.sub"),
        pytest.param("torch.where(x > 0, x, y)", 8, id="torch.where"),
        pytest.param("torch.split(x, 4, dim=1)[1]", 4, id="torch.split"),
        pytest.param("x.narrow(1, 0, 4)", 4, id="narrow"),
        pytest.param("x.repeat(1, 2, 1, 1)", 16, id="repeat"),
        pytest.param("x.repeat_interleave(2, dim=1)", 16, id="repeat_interleave"),
        pytest.param("x.unflatten(1, (2, 4)).flatten(1, 2)", 8, id="unflatten"),
        pytest.param("F.pixel_unshuffle(x, 2)", 32, id="pixel_unshuffle"),
    ],
)
def test_tensor_op_before_a_conv_matches_torch(tmp_path, expr, cin):
    p = _write(tmp_path, TENSOR_OPS.replace("CIN", str(cin)).replace("EXPR", expr))
    _assert_matches_torch(p, "Probe", (2, 8, 16, 16))


FILM = '''
import torch.nn as nn
from einops import rearrange


class FiLMResBlock(nn.Module):  # denoising-diffusion-pytorch ResnetBlock
    def __init__(self, dim=32, time_dim=64):
        super().__init__()
        self.mlp = nn.Sequential(nn.SiLU(), nn.Linear(time_dim, dim * 2))
        self.conv1 = nn.Conv2d(dim, dim, 3, padding=1)
        self.conv2 = nn.Conv2d(dim, dim, 3, padding=1)

    def forward(self, x, t):
        t = rearrange(self.mlp(t), "b c -> b c 1 1")
        scale, shift = t.chunk(2, dim=1)
        h = self.conv1(x) * (scale + 1) + shift
        return self.conv2(h)
'''


def test_einops_film_block_keeps_shapes(tmp_path):
    # torch (einops 0.8, meta device) gives conv1 and conv2 (2, 32, 16, 16) -> (2, 32, 16, 16); the
    # expected values are written out so that the test does not need einops installed
    p = tmp_path / "model.py"
    p.write_text(textwrap.dedent(FILM))
    entry_spec = {"x": [2, 32, 16, 16], "t": [2, 64]}
    from convlint.analysis import analyze_file as analyze_models
    from convlint.interpret.declare import Entry
    from convlint.commands.shapes import _model_json

    text = p.read_text()
    entry = Entry("FiLMResBlock", "class", None, entry_spec, None, {}, "option", 1)
    res = analyze_models(Project(tmp_path), str(p), text, only="FiLMResBlock", extra_entries=[entry])
    (run,) = [r for r in res.runs if r.entry.name == "FiLMResBlock"]
    m = _model_json(run)
    convs = [(layer["name"], layer["input"], layer["output"]) for layer in m["layers"] if layer["op"] == "torch.nn.Conv2d"]
    assert convs == [("conv1", [2, 32, 16, 16], [2, 32, 16, 16]), ("conv2", [2, 32, 16, 16], [2, 32, 16, 16])]
    assert m["output"] == [2, 32, 16, 16]


COND_CONV = '''
import torch
import torch.nn as nn
import torch.nn.functional as F


class CondConv2d(nn.Module):  # timm/layers/cond_conv2d.py: one kernel per sample, batch folded into groups
    def __init__(self, in_channels=8, out_channels=8, groups=1, num_experts=4):
        super().__init__()
        self.groups = groups
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.kernel_size = (3, 3)
        self.weight = nn.Parameter(torch.randn(num_experts, out_channels * in_channels // groups * 9))

    def forward(self, x, routing_weights):
        B, C, H, W = x.shape
        weight = torch.matmul(routing_weights, self.weight)
        weight = weight.view((B * self.out_channels, self.in_channels // self.groups) + self.kernel_size)
        out = F.conv2d(x.reshape(1, B * C, H, W), weight, None, padding=1, groups=self.groups * B)
        return out.view(B, self.out_channels, H, W)
'''


def test_per_sample_kernels_run_in_torch(tmp_path):
    p = _write(tmp_path, COND_CONV)
    res = trace_torch_model(p, "CondConv2d", {}, {"x": (2, 8, 6, 6), "routing_weights": (2, 4)})
    assert res.ok, res.error
    assert res.output_shapes[0] == (2, 8, 6, 6)


def test_unknown_groups_is_not_a_config_error(tmp_path):
    p = _write(tmp_path, COND_CONV)
    assert _errors(p) == []


NORM_FACTORY = '''
import functools

import torch.nn as nn


def get_norm_layer(norm_layer):  # timm/layers/create_norm.py
    norm_kwargs = {}
    if isinstance(norm_layer, functools.partial):
        norm_kwargs.update(norm_layer.keywords)
        norm_layer = norm_layer.func
    if isinstance(norm_layer, str):
        norm_layer = {"batchnorm": nn.BatchNorm2d, "groupnorm": nn.GroupNorm}[norm_layer]
    if norm_kwargs:
        norm_layer = functools.partial(norm_layer, **norm_kwargs)
    return norm_layer


class Stem(nn.Module):
    def __init__(self, in_chans=3, width=16, norm_layer=nn.BatchNorm2d):
        super().__init__()
        norm_layer = get_norm_layer(norm_layer)
        self.conv1 = nn.Conv2d(in_chans, width, 7, stride=2, padding=3, bias=False)
        self.bn1 = norm_layer(width)
        self.conv2 = nn.Conv2d(width, width, 3, padding=1)

    def forward(self, x):
        return self.conv2(self.bn1(self.conv1(x)))
'''


def test_norm_factory_with_partial_check_matches_torch(tmp_path):
    p = _write(tmp_path, NORM_FACTORY)
    _assert_matches_torch(p, "Stem", (2, 3, 32, 32))


MEM_KV = '''
import torch
import torch.nn as nn


class MemoryFiLM(nn.Module):  # denoising-diffusion-pytorch LinearAttention: mk, mv = map(..., self.mem_kv)
    def __init__(self, dim=8):
        super().__init__()
        self.scale_shift = nn.Parameter(torch.randn(2, 1, dim, 1, 1))
        self.conv = nn.Conv2d(dim, dim, 1)

    def forward(self, x):
        scale, shift = self.scale_shift
        return self.conv(x * scale + shift)
'''


def test_unpacking_a_tensor_matches_torch(tmp_path):
    p = _write(tmp_path, MEM_KV)
    _assert_matches_torch(p, "MemoryFiLM", (2, 8, 4, 4))


def test_unbind_matches_torch(tmp_path):
    p = _write(tmp_path, MEM_KV.replace("scale, shift = self.scale_shift", "scale, shift = self.scale_shift.unbind(0)"))
    _assert_matches_torch(p, "MemoryFiLM", (2, 8, 4, 4))


def test_indexing_a_tensor_matches_torch(tmp_path):
    p = _write(tmp_path, MEM_KV.replace("scale, shift = self.scale_shift", "scale, shift = self.scale_shift[0], self.scale_shift[1]"))
    _assert_matches_torch(p, "MemoryFiLM", (2, 8, 4, 4))


CODEBOOK = '''
import torch
import torch.nn as nn


class Codebook(nn.Module):  # PyTorch-VAE vq_vae.py / taming quantize.py: one-hot codes times the codebook
    def __init__(self, num_codes=8, dim=16):
        super().__init__()
        self.embedding = nn.Embedding(num_codes, dim)
        self.proj = nn.Linear(dim, 4)

    def forward(self, x):
        one_hot = torch.zeros(x.shape[0], 8)
        return self.proj(torch.matmul(one_hot, self.embedding.weight))
'''


def test_embedding_weight_matches_torch(tmp_path):
    p = _write(tmp_path, CODEBOOK)
    _assert_matches_torch(p, "Codebook", (5, 16))


# ------------------------------------------------------------------------------------------------
# Idioms that work: keep them working
# ------------------------------------------------------------------------------------------------

STD_CONV = '''
import torch.nn as nn
import torch.nn.functional as F


class StdConv2d(nn.Conv2d):  # timm / BiT weight-standardised conv
    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, eps=1e-6):
        super().__init__(in_channels, out_channels, kernel_size, stride=stride, padding=padding, bias=False)
        self.eps = eps

    def forward(self, x):
        w = F.batch_norm(self.weight.reshape(1, self.out_channels, -1), None, None, training=True, momentum=0.0, eps=self.eps).reshape_as(self.weight)
        return F.conv2d(x, w, self.bias, self.stride, self.padding, self.dilation, self.groups)


class Stem(nn.Module):
    def __init__(self, in_chans=3, width=16):
        super().__init__()
        self.conv = StdConv2d(in_chans, width, kernel_size=7, stride=2, padding=3)
        self.pool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        self.conv2 = nn.Conv2d(width, width, 3, padding=1)

    def forward(self, x):
        return self.conv2(self.pool(self.conv(x)))
'''


def test_conv_subclass_with_functional_forward_keeps_shapes(tmp_path):
    p = _write(tmp_path, STD_CONV)
    models, _runs = collect([f"{p}::Stem"], [f"{p}::Stem=2,3,64,64"])
    (m,) = models
    assert [(layer["op"], layer["output"]) for layer in m["layers"]] == [
        ("torch.nn.functional.conv2d", [2, 16, 32, 32]),
        ("torch.nn.MaxPool2d", [2, 16, 16, 16]),
        ("torch.nn.Conv2d", [2, 16, 16, 16]),
    ]
    assert _errors(p) == []


# ------------------------------------------------------------------------------------------------
# The shapes command
# ------------------------------------------------------------------------------------------------


def test_init_option_is_accepted(tmp_path):
    p = _write(tmp_path, AUDIO_ENCODER)
    models, _runs = collect([f"{p}::AudioEncoder"], [f"{p}::AudioEncoder=1,1,4096"], [f"{p}::AudioEncoder:channels=4"])
    (m,) = models
    assert m["output"] == [1, 8, 8]
    assert m["layers"][0]["output"] == [1, 4, 4096]


_load = import_file  # the fixture file as a module, run for real


# timm inception_v4.py: a block whose default conv_block pads where its pool does not; the model
# builds it with a conv_block that does not pad. Run on its own, the block is broken; it is never
# run on its own.
INCEPTION_STEM = """\
    from functools import partial

    import torch
    import torch.nn as nn


    class ConvNormAct(nn.Module):
        def __init__(self, cin, cout, kernel_size=3, stride=1, padding=''):
            super().__init__()
            if isinstance(padding, str):
                padding = ((stride - 1) + (kernel_size - 1)) // 2
            self.conv = nn.Conv2d(cin, cout, kernel_size, stride, padding)
            self.bn = nn.BatchNorm2d(cout)

        def forward(self, x):
            return self.bn(self.conv(x))


    class Mixed3a(nn.Module):
        def __init__(self, conv_block=ConvNormAct):
            super().__init__()
            self.maxpool = nn.MaxPool2d(3, stride=2)
            self.conv = conv_block(64, 96, kernel_size=3, stride=2)

        def forward(self, x):
            return torch.cat((self.maxpool(x), self.conv(x)), 1)


    class Stem(nn.Module):
        def __init__(self, in_chans=3):
            super().__init__()
            conv_block = partial(ConvNormAct, padding=0)
            self.features = nn.Sequential(conv_block(in_chans, 64, kernel_size=3, stride=2), Mixed3a(conv_block))

        def forward(self, x):
            return self.features(x)
    """


def test_a_block_is_checked_where_it_is_used_not_with_defaults_its_model_overrides(tmp_path):
    p = _write(tmp_path, INCEPTION_STEM)
    mod = _load(p)
    assert tuple(mod.Stem()(torch.randn(1, 3, 75, 75)).shape) == (1, 160, 18, 18)
    with pytest.raises(RuntimeError):  # its own defaults do not fit: but no model uses them
        mod.Mixed3a()(torch.randn(1, 64, 37, 37))
    assert _errors(p) == []
    # without the model, the block's own defaults are all there is to check: reported
    alone = _write(tmp_path, INCEPTION_STEM[: INCEPTION_STEM.index("    class Stem")], "alone.py")
    assert [c for c, _ in _errors(alone)] == ["CVL005"]


# timm mobilenetv5.py: a pool whose window is the ratio of two feature sizes
RATIO_POOL = """\
    import torch.nn as nn
    import torch.nn.functional as F


    class Fuse(nn.Module):
        def __init__(self, channels=8, out_size=4):
            super().__init__()
            self.out_size = out_size
            self.pre = nn.Conv2d(channels, channels, 3, padding=1)
            self.proj = nn.Conv2d(channels, channels, 1)

        def forward(self, x):
            x = self.pre(x)
            h, w = x.shape[-2:]
            kh, kw = h // self.out_size, w // self.out_size
            return self.proj(F.avg_pool2d(x, kernel_size=(kh, kw), stride=(kh, kw)))
    """


def test_a_pool_window_from_the_input_size_is_a_size_not_a_rejected_configuration(tmp_path):
    p = _write(tmp_path, RATIO_POOL)
    assert tuple(_load(p).Fuse()(torch.randn(1, 8, 32, 16)).shape) == (1, 8, 4, 4)
    assert _errors(p) == []


# timm blur_pool.py: an explicit pad, then a strided window that leaves the pad's last row unread
BLUR_POOL = """\
    import torch
    import torch.nn as nn
    import torch.nn.functional as F


    class BlurPool(nn.Module):  # convlint: input=(2, 4, 14, 14)
        def __init__(self, channels=4, pad=(1, 1, 1, 1)):
            super().__init__()
            self.pad = list(pad)
            self.register_buffer("filt", torch.ones(channels, 1, 3, 3) / 9)

        def forward(self, x):
            x = F.pad(x, self.pad, mode="reflect")
            return F.conv2d(x, self.filt, stride=2, groups=x.shape[1])
    """


def test_rows_an_explicit_pad_added_are_no_data_a_strided_window_drops(tmp_path):
    p = _write(tmp_path, BLUR_POOL)
    assert tuple(_load(p).BlurPool()(torch.randn(2, 4, 14, 14)).shape) == (2, 4, 7, 7)
    assert _errors(p) == []
    # padded at the front only, the same window drops the input's own last row: lossy
    front = _write(tmp_path, BLUR_POOL.replace("pad=(1, 1, 1, 1)", "pad=(2, 0, 2, 0)"), "front.py")
    assert tuple(_load(front).BlurPool()(torch.randn(2, 4, 14, 14)).shape) == (2, 4, 7, 7)
    assert [c for c, _ in _errors(front)] == ["CVL006"]


# diffusers transformer_minimax_music3.py: a token prepended along dim 1, dropped with [:, 1:]
PREPENDED_TOKEN = """\
    import torch
    import torch.nn as nn


    class Music(nn.Module):
        def __init__(self, in_channels=8, inner=16):
            super().__init__()
            self.weight = nn.Parameter(torch.randn(2, 1))
            self.pre = nn.Conv1d(3 * in_channels, 3 * in_channels, 1)
            self.time_embed = nn.Linear(4, inner)
            self.proj_in = nn.Linear(3 * in_channels, inner)
            self.proj_out = nn.Linear(inner, in_channels)
            self.post = nn.Conv1d(in_channels, in_channels, 1)

        def forward(self, hidden_states, timestep, encoder_hidden_states):
            zeros = torch.zeros_like(hidden_states)
            hidden_states = torch.cat((hidden_states, zeros, encoder_hidden_states.transpose(1, 2)), dim=1)
            hidden_states = self.pre(hidden_states) + hidden_states
            h = self.proj_in(hidden_states.transpose(1, 2))
            angles = timestep.unsqueeze(-1) @ self.weight.T
            temb = self.time_embed(torch.cat((angles.cos(), angles.sin()), dim=-1))
            h = torch.cat((temb.unsqueeze(1), h), dim=1)
            h = self.proj_out(h[:, 1:])
            return self.post(h.transpose(1, 2))
    """


def test_slicing_from_the_front_of_a_tensor_of_unknown_rank_is_not_a_fact(tmp_path):
    p = _write(tmp_path, PREPENDED_TOKEN)
    assert tuple(_load(p).Music()(torch.randn(2, 8, 10), torch.rand(2), torch.randn(2, 10, 8)).shape) == (2, 8, 10)
    assert _errors(p) == []


def test_front_keys_on_a_lower_bound_rank_lose_the_dims_and_ellipsis_keys_keep_them():
    from convlint.frameworks import tensor_index
    from convlint.interpret.tensor import Tensor
    from convlint.interpret.values import Unknown

    # (…, 5, 2048): the rank is only a lower bound (dims are right counted from the end)
    t = Tensor((5, 2048), exact_rank=False)
    front = tensor_index(None, t, (slice(None), slice(1, None)))  # h[:, 1:]
    assert front.exact_rank is False and all(isinstance(d, Unknown) for d in front.shape)
    back = tensor_index(None, t, (Ellipsis, slice(1, None)))  # h[..., 1:]
    assert back.shape == (5, 2047)
    exact = tensor_index(None, Tensor((5, 2048)), (slice(None), slice(1, None)))
    assert exact.shape == (5, 2047)


# timm efficientvit_msra.py / levit.py: Sequential subclasses filled with add_module, and a
# Sequential whose submodules are set as attributes; a ModuleList subclass filled the same way
SEQUENTIAL_SUBCLASSES = """\
    import torch
    import torch.nn as nn


    class ConvNorm(nn.Sequential):
        def __init__(self, cin, cout, k=1, stride=1, pad=0):
            super().__init__()
            self.add_module("c", nn.Conv2d(cin, cout, k, stride, pad, bias=False))
            self.add_module("bn", nn.BatchNorm2d(cout))


    class PatchEmbedding(nn.Sequential):
        def __init__(self, in_chans=3, dim=32):
            super().__init__(nn.Identity())
            self.conv1 = ConvNorm(in_chans, dim // 2, 3, 2, 1)
            self.relu = nn.ReLU()
            self.conv2 = ConvNorm(dim // 2, dim, 3, 2, 1)
            self.conv1 = ConvNorm(in_chans, dim // 2, 3, 2, 1)  # set again: replaced in place


    class Stages(nn.ModuleList):
        def __init__(self, dim=32):
            super().__init__()
            for i in range(2):
                self.add_module(f"s{i}", ConvNorm(dim, dim, 3, 1, 1))


    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.patch_embed = PatchEmbedding()
            self.stages = Stages()
            self.head = nn.Conv2d(32, 10, 1)

        def forward(self, x):
            x = self.patch_embed(x)
            for stage in self.stages:
                x = stage(x)
            return self.head(x)
    """


def test_sequential_and_modulelist_subclasses_filled_after_init_match_torch(tmp_path):
    p = _write(tmp_path, SEQUENTIAL_SUBCLASSES)
    _assert_matches_torch(p, "Net", (1, 3, 30, 30))
    assert _errors(p) == []


# guided-diffusion nn.py: gradient checkpointing through a custom torch.autograd.Function
AUTOGRAD_FUNCTION = """\
    import torch as th
    import torch.nn as nn


    class CheckpointFunction(th.autograd.Function):
        @staticmethod
        def forward(ctx, run_function, length, *args):
            ctx.run_function = run_function
            ctx.input_tensors = list(args[:length])
            ctx.save_for_backward(*args)
            with th.no_grad():
                output_tensors = ctx.run_function(*ctx.input_tensors)
            return output_tensors

        @staticmethod
        def backward(ctx, *output_grads):
            raise NotImplementedError


    class Block(nn.Module):
        def __init__(self, channels=8):
            super().__init__()
            self.norm = nn.GroupNorm(4, channels)
            self.conv = nn.Conv2d(channels, channels, 3, padding=1)

        def forward(self, x, emb):
            return CheckpointFunction.apply(self._forward, 2, x, emb)

        def _forward(self, x, emb):
            return self.conv(self.norm(x)) + emb[:, :, None, None]


    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.inp = nn.Conv2d(3, 8, 3, padding=1)
            self.block = Block()
            self.down = nn.Conv2d(8, 16, 4, stride=2, padding=1)

        def forward(self, x, emb):
            return self.down(self.block(self.inp(x), emb))
    """


def test_a_custom_autograd_function_runs_its_forward_as_torch_does(tmp_path):
    p = _write(tmp_path, AUTOGRAD_FUNCTION)
    net = _load(p).Net()
    assert tuple(net(torch.randn(2, 3, 12, 12), torch.randn(2, 8)).shape) == (2, 16, 6, 6)
    spec = f"{p}::Net"
    models, _runs = collect([spec], [f"{spec}=2,3,12,12"])
    (m,) = [m for m in models if m["name"] == "Net"]
    assert m["output"] is not None and tuple(m["output"]) == (2, 16, 6, 6)
    assert [(layer["name"], tuple(layer["output"])) for layer in m["layers"] if layer["op"].endswith("Conv2d")] == [
        ("inp", (2, 8, 12, 12)), ("block.conv", (2, 8, 12, 12)), ("down", (2, 16, 6, 6))]


# guided-diffusion nn.py: checkpoint(func, inputs, params, flag) packs the inputs and the module's
# parameters (a sequence the analysis cannot list) into one *args
CHECKPOINT_HELPER = AUTOGRAD_FUNCTION.replace(
    "            return CheckpointFunction.apply(self._forward, 2, x, emb)",
    "            return checkpoint(self._forward, (x, emb), self.parameters(), True)",
) + """

    def checkpoint(func, inputs, params, flag):
        if flag:
            args = tuple(inputs) + tuple(params)
            return CheckpointFunction.apply(func, len(inputs), *args)
        return func(*inputs)
    """


def test_a_sequence_whose_tail_is_unknown_keeps_its_known_items(tmp_path):
    p = _write(tmp_path, CHECKPOINT_HELPER)
    assert tuple(_load(p).Net()(torch.randn(2, 3, 12, 12), torch.randn(2, 8)).shape) == (2, 16, 6, 6)
    spec = f"{p}::Net"
    models, _runs = collect([spec], [f"{spec}=2,3,12,12"])
    (m,) = [m for m in models if m["name"] == "Net"]
    assert tuple(m["output"]) == (2, 16, 6, 6)
    assert [layer["name"] for layer in m["layers"] if layer["op"].endswith("Conv2d")] == ["inp", "block.conv", "down"]
    assert _errors(p) == []


def test_partial_sequences_index_slice_and_spread_as_python_does():
    from convlint.interpret.values import PartialSeq

    known = (1, 2, 3)
    seq = PartialSeq(known)
    for key in (0, 2, slice(None, 2), slice(1, 3), slice(0, 0)):
        assert seq.item(key) == (known + (9, 9))[key]  # whatever the unknown rest is
    assert isinstance(seq.item(slice(1, None)), PartialSeq) and seq.item(slice(1, None)).prefix == (2, 3)
    for key in (3, -1, slice(None, 4), slice(None, -1), slice(None, None, 2)):
        assert seq.item(key) is None  # depends on the unknown rest


# NVlabs edm networks.py: blocks stored with ``self.enc[name] = block`` in a ModuleDict, iterated in
# forward; a ModuleList item replaced by index
MODULEDICT_ASSIGNED = """\
    import torch
    import torch.nn as nn


    class Net(nn.Module):
        def __init__(self, channels=(8, 16)):
            super().__init__()
            self.enc = nn.ModuleDict()
            cin = 3
            for level, cout in enumerate(channels):
                self.enc[f"{level}_conv"] = nn.Conv2d(cin, cout, 3, stride=2, padding=1)
                self.enc[f"{level}_act"] = nn.SiLU()
                cin = cout
            self.heads = nn.ModuleList([nn.Identity(), nn.Identity()])
            self.heads[1] = nn.Conv2d(cin, 4, 1)

        def forward(self, x):
            for block in self.enc.values():
                x = block(x)
            for head in self.heads:
                x = head(x)
            return x
    """


def test_modules_set_by_key_or_index_in_containers_match_torch(tmp_path):
    p = _write(tmp_path, MODULEDICT_ASSIGNED)
    _assert_matches_torch(p, "Net", (2, 3, 16, 16))
    assert _errors(p) == []
    # a key the analysis cannot know: what the container holds is unknown (said), never the
    # container as it was before
    unknown = _write(tmp_path, MODULEDICT_ASSIGNED.replace('self.heads[1] = nn.Conv2d(cin, 4, 1)',
                                                          'self.heads[len(str(torch.randn(1)))] = nn.Conv2d(cin, 4, 1)'), "unknown.py")
    models, _runs = collect([f"{unknown}::Net"], [f"{unknown}::Net=2,3,16,16"])
    (m,) = [m for m in models if m["name"] == "Net"]
    assert m["output"] is None or any(not isinstance(d, int) for d in m["output"])
