"""An upsampling step undone by the stride right after it: ``Upsample(scale_factor=2)`` then a conv
with ``stride=2``. Each side of the pairing looks like a mirror, so CVL004's pairing says nothing;
the finding is on the strided conv when the model's output differs from its input (or, in a U-Net,
when the skip connection collides: CVL005 blames the stride). torch is the oracle: the planted
model breaks, and the edit the finding names (``stride=1`` on its line) makes it right again."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from convlint.analysis import Project, analyze_file
from tests.oracle import import_file

torch = pytest.importorskip("torch")

GENERATOR = """\
    import torch
    import torch.nn as nn


    class Generator(nn.Module):  # convlint: input=(1, 3, 32, 32)
        def __init__(self):
            super().__init__()
            layers = [nn.Conv2d(3, 16, 3, padding=1)]
            ch = 16
            for _ in range(2):
                layers += [nn.Conv2d(ch, ch * 2, 3, stride=2, padding=1), nn.InstanceNorm2d(ch * 2), nn.ReLU()]
                ch *= 2
            for _ in range(2):
                layers += [
                    nn.Upsample(scale_factor=2),
                    nn.Conv2d(ch, ch // 2, 3, stride=STRIDE, padding=1),
                    nn.InstanceNorm2d(ch // 2),
                    nn.ReLU(),
                ]
                ch //= 2
            layers += [nn.Conv2d(ch, 3, 3, padding=1), nn.Tanh()]
            self.model = nn.Sequential(*layers)

        def forward(self, x):
            return self.model(x)
"""

# the same with an attention-like block at the bottom: its tokens (another rank) and a reshape of
# the same rank lie on the path, and the steps are read around them
GENERATOR_MIXED = GENERATOR.replace(
    """            layers += [nn.Conv2d(ch, 3, 3, padding=1), nn.Tanh()]""",
    """            layers += [nn.Conv2d(ch, 3, 3, padding=1), nn.Tanh()]
            self.mix = Mix(64)""",
).replace(
    """            return self.model(x)""",
    """            x = self.model[:7](x)
            return self.model[7:](self.mix(x))""",
).replace(
    """    class Generator(nn.Module):""",
    """    class Mix(nn.Module):
        def __init__(self, ch):
            super().__init__()
            self.proj = nn.Linear(ch, ch)

        def forward(self, x):
            b, c, h, w = x.shape
            t = self.proj(x.flatten(2).transpose(1, 2)).transpose(1, 2)
            return t.reshape(b, c, h * w, 1).reshape(b, c, h, w)


    class Generator(nn.Module):""",
)

SCRIPT = """\
    import torch
    from gen import Generator

    out = Generator()(torch.randn(1, 3, 32, 32))
"""

UNET = """\
    import torch
    import torch.nn as nn


    class Up(nn.Module):
        def __init__(self, cin, cout, stride=1):
            super().__init__()
            self.up = nn.Upsample(scale_factor=2)
            self.conv = nn.Conv2d(cin, cout, 3, stride=STRIDE, padding=1)

        def forward(self, x):
            return self.conv(self.up(x))


    class UNet(nn.Module):  # convlint: input=(1, 3, 32, 32)
        def __init__(self):
            super().__init__()
            self.inc = nn.Conv2d(3, 8, 3, padding=1)
            self.down = nn.Conv2d(8, 16, 3, stride=2, padding=1)
            self.up = Up(16, 8)
            self.out = nn.Conv2d(16, 3, 1)

        def forward(self, x):
            x0 = self.inc(x)
            y = self.up(self.down(x0))
            return self.out(torch.cat([y, x0], dim=1))
"""


# the same U-Net with an attention block in the decoder: its tokens are the flattened spatial dims,
# reshaped back — a stretch the blame reads through, since the size comes back
UNET_ATTENTION = UNET.replace(
    """            y = self.up(self.down(x0))""",
    """            y = self.attn(self.up(self.down(x0)))""",
).replace(
    """            self.out = nn.Conv2d(16, 3, 1)""",
    """            self.out = nn.Conv2d(16, 3, 1)
            self.attn = Attention(8)""",
).replace(
    """    class UNet(nn.Module):""",
    """    class Attention(nn.Module):
        def __init__(self, ch):
            super().__init__()
            self.qkv = nn.Linear(ch, ch)

        def forward(self, x):
            b, c, h, w = x.shape
            t = x.flatten(2).transpose(1, 2)
            t = self.qkv(t)
            return t.transpose(1, 2).reshape(b, c, h, w)


    class UNet(nn.Module):""",
)


# the same U-Net with twenty layers at the bottom: the skip's fork lies far back in the history
UNET_DEEP = UNET.replace(
    """            y = self.up(self.down(x0))""",
    """            y = self.up(self.mid(self.down(x0)))""",
).replace(
    """            self.out = nn.Conv2d(16, 3, 1)""",
    """            self.out = nn.Conv2d(16, 3, 1)
            self.mid = nn.Sequential(*[nn.Conv2d(16, 16, 3, padding=1) for _ in range(20)])""",
)


def _write(tmp_path: Path, name: str, source: str, stride: int) -> tuple[Path, str]:
    src = textwrap.dedent(source).replace("STRIDE", str(stride))
    path = tmp_path / f"{name}.py"
    path.write_text(src)
    return path, src


def _errors(tmp_path: Path, path: Path, src: str):
    found = analyze_file(Project(str(tmp_path)), str(path), src).findings
    return [f for f in found if f.severity in ("error", "warning")]


def _line(src: str, needle: str) -> int:
    return next(i for i, ln in enumerate(src.splitlines(), 1) if needle in ln)


@pytest.mark.parametrize("source", [GENERATOR, GENERATOR_MIXED], ids=["plain", "mixed"])
def test_a_generator_whose_upsampling_blocks_stride_is_reported_on_the_strided_conv(tmp_path, source):
    path, src = _write(tmp_path, "gen", source, 1)
    assert tuple(import_file(path).Generator()(torch.zeros(1, 3, 32, 32)).shape) == (1, 3, 32, 32)
    assert _errors(tmp_path, path, src) == []  # the right model: nothing
    path, src = _write(tmp_path, "gen", source, 2)
    assert tuple(import_file(path).Generator()(torch.zeros(1, 3, 32, 32)).shape) == (1, 3, 8, 8)
    found = _errors(tmp_path, path, src)
    assert [(f.code, f.line) for f in found] == [("CVL004", _line(src, "nn.Conv2d(ch, ch // 2, 3, stride=2"))], found
    assert "strides by 2 right after the Upsample" in found[0].message and "returns 8×8 for 32×32" in found[0].message


def test_script_code_applying_the_generator_is_checked_the_same(tmp_path):
    gen, gen_src = _write(tmp_path, "gen", GENERATOR, 2)
    path, src = _write(tmp_path, "run", SCRIPT, 2)
    found = analyze_file(Project(str(tmp_path)), str(path), src).findings
    assert [(f.code, Path(f.path).name, f.line) for f in found if f.severity == "error"] == [
        ("CVL004", "gen.py", _line(gen_src, "nn.Conv2d(ch, ch // 2, 3, stride=2"))
    ]


@pytest.mark.parametrize("source", [UNET, UNET_ATTENTION, UNET_DEEP], ids=["plain", "attention", "deep"])
def test_a_unet_whose_decoder_strides_after_upsampling_blames_the_stride_not_the_merge(tmp_path, source):
    path, src = _write(tmp_path, "unet", source, 1)
    assert tuple(import_file(path).UNet()(torch.zeros(1, 3, 32, 32)).shape) == (1, 3, 32, 32)
    assert _errors(tmp_path, path, src) == []
    path, src = _write(tmp_path, "unet", source, 2)
    with pytest.raises(RuntimeError):
        import_file(path).UNet()(torch.zeros(1, 3, 32, 32))
    found = _errors(tmp_path, path, src)
    assert [(f.code, f.line) for f in found] == [("CVL005", _line(src, "self.conv = nn.Conv2d(cin, cout, 3, stride=2"))], found
    assert "strides by 2" in found[0].message


def test_an_output_dataclass_is_read_as_the_model_output(tmp_path):
    """``return Out(sample=…)`` (diffusers' ``DecoderOutput``): the output is its first field."""
    src = textwrap.dedent("""\
        from dataclasses import dataclass

        import torch
        import torch.nn as nn


        @dataclass
        class Out:
            sample: torch.Tensor


        class AE(nn.Module):  # convlint: input=(1, 1, 28, 28)
            def __init__(self):
                super().__init__()
                self.down = nn.Conv2d(1, 8, 3, stride=2, padding=1)
                self.up = nn.ConvTranspose2d(8, 1, 3, stride=2, padding=1)

            def forward(self, x):
                return Out(sample=self.up(self.down(x)))
    """)
    path = tmp_path / "ae.py"
    path.write_text(src)
    assert tuple(import_file(path).AE()(torch.zeros(1, 1, 28, 28)).sample.shape) == (1, 1, 27, 27)
    found = _errors(tmp_path, path, src)
    assert [(f.code, f.line) for f in found] == [("CVL004", _line(src, "self.up = nn.ConvTranspose2d"))], found
