"""Which step of a mirrored pair a CVL004 blames, and which collisions it sees.

The downsampling step, when its stride, not the upsampling step's factor, is what breaks the pair.

A U-Net level (a strided conv down, an upsampling by a factor, a skip joined by ``torch.cat``) whose
two steps scale by different factors: the finding goes on the downsampling conv when giving it the
upsampling step's factor as its stride restores the size and giving the upsampling step the conv's
stride as its factor does not (``stride=3`` against a doubling: 32 → 11 → 22); otherwise on the
upsampling step, as before. torch is the oracle: the blamed side's repair runs, and the fix that
``--fix`` writes makes the model run.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st

from convlint.analysis import Project, analyze_file
from convlint.config import Config
from tests.oracle import import_file

torch = pytest.importorskip("torch")


def _source(size: int, kernel: int, stride: int, padding: int, up: str, factor: int, up_kernel: int = 0, up_pads=(0, 0)) -> str:
    if up == "interpolate":
        upsample = f"F.interpolate(d, scale_factor={float(factor)})"
        build = ""
    else:  # a ConvTranspose2d (by default its kernel is its stride: exactly ×factor)
        upsample = "self.up(d)"
        build = (f"        self.up = nn.ConvTranspose2d(16, 16, {up_kernel or factor}, stride={factor}, "
                 f"padding={up_pads[0]}, output_padding={up_pads[1]})\n")
    return (
        "import torch\n"
        "import torch.nn as nn\n"
        "import torch.nn.functional as F\n"
        "\n"
        "\n"
        f"class Level(nn.Module):  # convlint: input=(1, 3, {size}, {size})\n"
        "    def __init__(self):\n"
        "        super().__init__()\n"
        "        self.inc = nn.Conv2d(3, 16, 3, padding=1)\n"
        f"        self.down = nn.Conv2d(16, 16, {kernel}, stride={stride}, padding={padding})\n"
        f"{build}"
        "        self.out = nn.Conv2d(32, 3, 3, padding=1)\n"
        "\n"
        "    def forward(self, x):\n"
        "        h = self.inc(x)\n"
        "        d = self.down(h)\n"
        f"        u = {upsample}\n"
        "        return self.out(torch.cat([u, h], dim=1))\n"
    )


def _line(src: str, text: str) -> int:
    return next(n for n, line in enumerate(src.splitlines(), 1) if text in line)


def _runs(tmp_path: Path, src: str, size: int, name: str) -> bool:
    path = tmp_path / f"{name}.py"
    path.write_text(src)
    try:
        with torch.no_grad():
            import_file(path).Level()(torch.zeros(1, 3, size, size))
    except RuntimeError:
        return False
    return True


def _findings(tmp_path: Path, src: str, name: str = "level"):
    path = tmp_path / f"{name}.py"
    path.write_text(src)
    project = Project(tmp_path, config=Config.default(tmp_path))
    return path, analyze_file(project, str(path), src).findings


def test_a_stride_of_3_against_a_doubling_is_blamed_on_the_conv_and_fixed_there(tmp_path):
    src = _source(32, 3, 3, 1, "interpolate", 2)
    assert not _runs(tmp_path, src, 32, "m1")
    path, found = _findings(tmp_path, src)
    cvl004 = [f for f in found if f.code == "CVL004"]
    assert [f.line for f in cvl004] == [_line(src, "self.down = ")]
    (f,) = cvl004
    assert f.message.startswith("Conv2d 'down' strides by 3, but the interpolate (line 16) that mirrors it upsamples by 2: "
                                "32×32 → 11×11 → 22×22, where stride 2 gives 32×32 back"), f.message
    # the merge's CVL005 names the same culprit
    (merge,) = [f for f in found if f.code == "CVL005"]
    assert "the downsampling down (line 10) strides by another factor than its upsampling (CVL004)" in merge.message
    assert f.fix is not None and "stride=2" in f.fix.message
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'demo'\n")
    r = subprocess.run([sys.executable, "-m", "convlint", "check", "--no-cache", "--fix", path.name], cwd=tmp_path, capture_output=True, text=True)
    assert r.returncode == 0 and "0 remaining" in r.stdout, r.stdout + r.stderr  # the merge's CVL005 goes with it
    fixed = path.read_text()
    assert "nn.Conv2d(16, 16, 3, stride=2, padding=1)" in fixed
    assert _runs(tmp_path, fixed, 32, "m1_fixed")


def test_a_tripling_against_a_stride_of_2_stays_on_the_upsampling_step(tmp_path):
    src = _source(32, 3, 2, 1, "interpolate", 3)
    assert not _runs(tmp_path, src, 32, "m2")
    _path, found = _findings(tmp_path, src)
    assert [f.line for f in found if f.code == "CVL004"] == [_line(src, "u = F.interpolate")]


def test_a_transposed_conv_that_a_padding_repairs_with_the_conv_stride_stays_blamed(tmp_path):
    # 16 -> 8 -> 32 (kernel 4, stride 4): stride 4 on the conv would do, but so would stride 2 with
    # padding 1 on the ConvTranspose: which one is meant cannot be told, the upsampling step keeps it
    src = _source(16, 1, 2, 0, "transpose", 4, up_kernel=4)
    assert not _runs(tmp_path, src, 16, "m3")
    _path, found = _findings(tmp_path, src)
    assert [f.line for f in found if f.code == "CVL004"] == [_line(src, "self.up = ")]


def _up_repairs(size, kernel, stride, padding, up, up_kernel):
    """Every upsampling step with the conv's stride as its factor (a ConvTranspose: any padding and
    output_padding torch accepts)."""
    if up == "interpolate":
        yield _source(size, kernel, stride, padding, up, stride)
        return
    for p in range(0, up_kernel + 2 * stride):
        for op in range(0, stride):
            yield _source(size, kernel, stride, padding, up, stride, up_kernel, (p, op))


@settings(max_examples=40, deadline=None, database=None)
@given(
    size=st.sampled_from([16, 24, 30, 32, 33]),
    kernel=st.sampled_from([1, 2, 3, 4]),
    stride=st.integers(2, 4),
    padding=st.integers(0, 1),
    up=st.sampled_from(["interpolate", "transpose"]),
    factor=st.integers(2, 4),
    up_kernel=st.integers(1, 5),
)
def test_the_blamed_side_is_the_one_whose_repair_torch_accepts(tmp_path_factory, size, kernel, stride, padding, up, factor, up_kernel):
    tmp_path = tmp_path_factory.mktemp("side")
    if padding * 2 > kernel:
        return  # torch rejects padding above half the kernel: not this test's subject
    src = _source(size, kernel, stride, padding, up, factor, up_kernel)
    breaks = not _runs(tmp_path, src, size, "model")
    _path, found = _findings(tmp_path, src)
    cvl004 = [f for f in found if f.code == "CVL004"]
    if not breaks:
        assert cvl004 == [], (src, cvl004)
        return
    down_line = _line(src, "self.down = ")
    for f in cvl004:
        if f.line == down_line:
            # blamed on the conv: with the upsampling step's factor as its stride, torch runs it...
            assert _runs(tmp_path, _source(size, kernel, factor, padding, up, factor, up_kernel), size, "down_fixed"), (src, f.message)
            # ...and no upsampling step with the conv's stride as its factor does
            for n, other in enumerate(_up_repairs(size, kernel, stride, padding, up, up_kernel)):
                assert not _runs(tmp_path, other, size, f"up_fixed{n}"), (src, other, f.message)
        else:
            assert "strides by" not in f.message, (src, f.message)


PIX2PIX_LIKE = """\
import torch
import torch.nn as nn


class Gen(nn.Module):  # convlint: input=(1, 3, 16, 16)
    def __init__(self):
        super().__init__()
        self.d1 = nn.Conv2d(3, 8, 4, 2, 1)
        self.d2 = nn.Conv2d(8, 8, 4, 2, 1)
        self.u1 = nn.ConvTranspose2d(8, 8, 3, 2, 1)
        self.u2 = nn.ConvTranspose2d(16, 8, 4, 2, 1)
        self.final = nn.Sequential(nn.Upsample(scale_factor=2), nn.ZeroPad2d((1, 0, 1, 0)), nn.Conv2d(8, 3, 4, padding=1))

    def forward(self, x):
        a = self.d1(x)
        b = self.d2(a)
        c = torch.cat([self.u1(b), a], 1)
        return self.final(self.u2(c))
"""


def test_a_pad_after_a_collision_does_not_hide_it(tmp_path):
    # the ZeroPad2d of the last block repairs what reaches it; the ConvTranspose's collision at the
    # cat happened before and is still its fault (pix2pix's UNetUp with a kernel of 3)
    path = tmp_path / "gen.py"
    path.write_text(PIX2PIX_LIKE)
    with pytest.raises(RuntimeError, match="Sizes of tensors must match"):
        with torch.no_grad():
            import_file(path).Gen()(torch.zeros(1, 3, 16, 16))
    _path, found = _findings(tmp_path, PIX2PIX_LIKE, "gen")
    cvl004 = [f for f in found if f.code == "CVL004"]
    assert [f.line for f in cvl004] == [_line(PIX2PIX_LIKE, "self.u1 = ")], found
    assert "the tensors collide at the merge (line 17)" in cvl004[0].message
