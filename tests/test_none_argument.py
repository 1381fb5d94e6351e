"""A concrete ``None`` reaching a torch conv argument on a declared path is CVL001 (torch raises),
not an unresolved value; a ``None`` default in a class run only with its own defaults stays a
placeholder (CVL008). What torch does with each ``None`` is asked of torch itself."""

from __future__ import annotations

import importlib.util
import textwrap

import pytest

from convlint.analysis import Project, analyze_file

torch = pytest.importorskip("torch")
nn = torch.nn

# (argument, constructor keyword arguments, torch raises when building (else at the first forward))
CASES = [
    ("padding", dict(in_channels=3, out_channels=4, kernel_size=3, stride=2, padding=None)),
    ("stride", dict(in_channels=3, out_channels=4, kernel_size=3, stride=None)),
    ("dilation", dict(in_channels=3, out_channels=4, kernel_size=3, dilation=None)),
    ("kernel_size", dict(in_channels=3, out_channels=4, kernel_size=None)),
    ("groups", dict(in_channels=3, out_channels=4, kernel_size=3, groups=None)),
    ("in_channels", dict(in_channels=None, out_channels=4, kernel_size=3)),
    ("out_channels", dict(in_channels=3, out_channels=None, kernel_size=3)),
]


def _torch_fails(cls, kwargs, x) -> str:
    try:
        m = cls(**kwargs)
    except TypeError:
        return "build"
    try:
        m(x)
    except TypeError:
        return "forward"
    return "runs"


def _findings(tmp_path, src):
    src = textwrap.dedent(src)
    path = tmp_path / "m.py"
    path.write_text(src)
    return src, analyze_file(Project(str(tmp_path)), str(path), src).findings


@pytest.mark.parametrize("cls", ["Conv2d", "ConvTranspose2d"])
@pytest.mark.parametrize("arg,kwargs", CASES, ids=[c[0] for c in CASES])
def test_a_none_torch_rejects_is_cvl001_on_a_declared_model(tmp_path, cls, arg, kwargs):
    when = _torch_fails(getattr(nn, cls), kwargs, torch.zeros(1, 3, 8, 8))
    assert when in ("build", "forward")  # torch rejects every one of these Nones
    call = ", ".join(f"{k}={v}" for k, v in kwargs.items())
    src, found = _findings(tmp_path, f"""\
        import torch.nn as nn


        class M(nn.Module):  # convlint: input=(1, 3, 8, 8)
            def __init__(self):
                super().__init__()
                self.c = nn.{cls}({call})

            def forward(self, x):
                return self.c(x)
    """)
    errors = [f for f in found if f.severity == "error"]
    assert [(f.code, f.line) for f in errors] == [("CVL001", 7)]
    assert f"{arg}=None reaches the layer" in errors[0].message
    assert ("cannot build the layer" if when == "build" else "its forward raises a TypeError") in errors[0].message


VAE = """\
    import torch
    import torch.nn as nn


    class Downsample2D(nn.Module):
        def __init__(self, channels, out_channels=None, padding=1):
            super().__init__()
            out_channels = out_channels or channels
            self.conv = nn.Conv2d(channels, out_channels, 3, stride=2, padding=padding)

        def forward(self, x):
            return self.conv(x)


    class DownEncoderBlock2D(nn.Module):
        def __init__(self, in_channels, out_channels, add_downsample=True, downsample_padding=None):
            super().__init__()
            self.resnet = nn.Conv2d(in_channels, out_channels, 3, padding=1)
            self.down = Downsample2D(out_channels, padding=downsample_padding) if add_downsample else nn.Identity()

        def forward(self, x):
            return self.down(torch.relu(self.resnet(x)))


    class Encoder(nn.Module):  # convlint: input=(1, 3, 32, 32)
        def __init__(self, widths=(16, 32)):
            super().__init__()
            chans = (3, *widths)
            self.blocks = nn.Sequential(*[DownEncoderBlock2D(chans[i], chans[i + 1]) for i in range(len(widths))])

        def forward(self, x):
            return self.blocks(x)
"""


def test_the_vae_encoder_that_forgot_downsample_padding(tmp_path):
    src, found = _findings(tmp_path, VAE)
    spec = importlib.util.spec_from_file_location("vae_none", tmp_path / "m.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    enc = mod.Encoder()  # torch builds it...
    with pytest.raises(TypeError):
        enc(torch.zeros(1, 3, 32, 32))  # ...and its forward raises
    errors = [f for f in found if f.severity == "error"]
    line = next(i for i, ln in enumerate(src.splitlines(), 1) if "Downsample2D(out_channels, padding=downsample_padding)" in ln)
    assert [(f.code, f.line) for f in errors] == [("CVL001", line)]
    assert "padding=None reaches the layer" in errors[0].message
    # the block run on its own, with its own defaults: the None is a placeholder, not an error
    block_only = VAE.split("class Encoder")[0]
    _src, found = _findings(tmp_path, block_only)
    assert not [f for f in found if f.severity == "error"]


def test_a_pool_stride_of_none_is_its_default(tmp_path):
    m = nn.MaxPool2d(2, stride=None)
    assert tuple(m(torch.zeros(1, 3, 8, 8)).shape) == (1, 3, 4, 4)
    _src, found = _findings(tmp_path, """\
        import torch.nn as nn


        class M(nn.Module):  # convlint: input=(1, 3, 8, 8) output=(1, 3, 4, 4)
            def __init__(self):
                super().__init__()
                self.p = nn.MaxPool2d(2, stride=None)

            def forward(self, x):
                return self.p(x)
    """)
    assert not [f for f in found if f.severity in ("error", "warning")]


CONFIG_DRIVEN = """\
    import sys
    import torch.nn as nn


    class SpatialNorm(nn.Module):
        def __init__(self, f_channels, zq_channels):
            super().__init__()
            self.conv = nn.Conv2d(zq_channels, f_channels, 1)


    class Resnet(nn.Module):
        def __init__(self, channels, temb_channels=None, shift="default"):
            super().__init__()
            self.norm = SpatialNorm(channels, temb_channels) if shift == "spatial" else nn.GroupNorm(8, channels)
            self.conv = nn.Conv2d(channels, channels, 3, padding=1)


    def get_block(block_type, channels, temb_channels, shift):
        if block_type == "DownBlock":
            return Resnet(channels, temb_channels, shift)
        elif block_type == "DownEncoderBlock":
            return Resnet(channels, None, shift)  # an encoder block has no time embedding
        raise ValueError(block_type)


    class Net(nn.Module):
        def __init__(self, block_type, shift, temb_channels=16):
            super().__init__()
            self.block = get_block(block_type, 32, temb_channels, shift)


    config = sys.argv  # a configuration the analysis cannot read
    net = Net(config[1], config[2])
    """


def test_a_none_on_a_path_an_unknown_config_chooses_is_no_fact(tmp_path):
    # ``DownEncoderBlock`` with ``shift == "spatial"`` would hand SpatialNorm a None — but the
    # block type and the shift come from a configuration the analysis cannot read, and no real one
    # combines them (torch builds every combination a config of this model uses)
    src, found = _findings(tmp_path, CONFIG_DRIVEN)
    assert not [f for f in found if f.code == "CVL001"], found
    spec = importlib.util.spec_from_file_location("_config_driven", tmp_path / "m.py")
    mod = importlib.util.module_from_spec(spec)
    import sys

    argv = sys.argv
    sys.argv = ["x", "DownBlock", "spatial"]
    try:
        spec.loader.exec_module(mod)  # the combination used: torch builds it
    finally:
        sys.argv = argv
    with pytest.raises(TypeError):
        mod.Net("DownEncoderBlock", "spatial")  # the one never used


def test_the_same_none_on_the_path_the_script_takes_is_cvl001(tmp_path):
    src, found = _findings(tmp_path, CONFIG_DRIVEN.replace('Net(config[1], config[2])', 'Net("DownEncoderBlock", "spatial")'))
    # at the call that passes the None (the line to edit), with the conv's line as related
    cvl001 = [f for f in found if f.code == "CVL001"]
    assert [(f.code, f.line) for f in cvl001] == [("CVL001", 22)], found
    assert [r.line for r in cvl001[0].related] == [8]
