"""Encoder/decoder models whose decoder is not a step-by-step mirror of the encoder.

Correct ones: torch runs each and it restores its input; ``convlint check`` is silent and
``--fix`` changes nothing. Buggy variants (one planted bug each): one finding, on the line to edit,
and after ``--fix`` torch runs the model and it restores its input again.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

TUTORIAL = """\
    import torch
    from torch import nn


    class TutorialAE(nn.Module):  # convlint: input=(4, 1, 28, 28)
        def __init__(self):
            super().__init__()
            self.encoder = nn.Sequential(
                nn.Conv2d(1, 16, 3, stride=3, padding=1),  # 28 -> 10
                nn.ReLU(True),
                nn.MaxPool2d(2, stride=2),  # 10 -> 5
                nn.Conv2d(16, 8, 3, stride=2, padding=1),  # 5 -> 3
                nn.ReLU(True),
                nn.MaxPool2d(2, stride=1),  # 3 -> 2
            )
            self.decoder = nn.Sequential(
                nn.ConvTranspose2d(8, 16, 3, stride=2),  # 2 -> 5
                nn.ReLU(True),
                nn.ConvTranspose2d(16, 8, 5, stride=3, padding=1),  # 5 -> 15
                nn.ReLU(True),
                nn.ConvTranspose2d(8, 1, 2, stride=2, padding=1),  # 15 -> 28
                nn.Tanh(),
            )

        def forward(self, x):
            return self.decoder(self.encoder(x))
"""

SIGNAL_1D = """\
    import torch
    from torch import nn


    class Signal1dAE(nn.Module):  # convlint: input=(2, 4, 64)
        def __init__(self, ch=4, width=32):
            super().__init__()
            self.down = nn.Sequential(
                nn.Conv1d(ch, width, 5, stride=2, padding=2),  # 64 -> 32
                nn.GELU(),
                nn.Conv1d(width, width, 5, stride=2, padding=2),  # 32 -> 16
                nn.GELU(),
                nn.Conv1d(width, width, 5, stride=2, padding=2),  # 16 -> 8
            )
            self.up = nn.Sequential(
                nn.ConvTranspose1d(width, width, 4, stride=4),  # 8 -> 32
                nn.GELU(),
                nn.ConvTranspose1d(width, ch, 4, stride=2, padding=1),  # 32 -> 64
            )

        def forward(self, x):
            return self.up(self.down(x))
"""

IMAGE_X4 = """\
    import torch
    from torch import nn


    class ImageAE(nn.Module):  # convlint: input=(2, 3, 32, 32)
        def __init__(self):
            super().__init__()
            self.enc1 = nn.Conv2d(3, 32, 3, stride=2, padding=1)  # 32 -> 16
            self.enc2 = nn.Conv2d(32, 64, 3, stride=2, padding=1)  # 16 -> 8
            self.enc3 = nn.Conv2d(64, 128, 3, stride=2, padding=1)  # 8 -> 4
            self.dec1 = nn.ConvTranspose2d(128, 32, 4, stride=4)  # 4 -> 16
            self.dec2 = nn.ConvTranspose2d(32, 3, 4, stride=2, padding=1)  # 16 -> 32

        def forward(self, x):
            h = torch.relu(self.enc3(torch.relu(self.enc2(torch.relu(self.enc1(x))))))
            return self.dec2(torch.relu(self.dec1(h)))
"""

CHAIN_250 = """\
    import torch
    from torch import nn


    class Chain1d(nn.Module):  # convlint: input=(1, 2, 250)
        def __init__(self):
            super().__init__()
            self.d1 = nn.Conv1d(2, 16, 3, stride=2, padding=1)  # 250 -> 125
            self.d2 = nn.Conv1d(16, 32, 3, stride=2, padding=1)  # 125 -> 63
            self.u1 = nn.ConvTranspose1d(32, 16, 3, stride=2, padding=1)  # 63 -> 125
            self.u2 = nn.ConvTranspose1d(16, 2, 3, stride=2, padding=1, output_padding=1)  # 125 -> 250

        def forward(self, x):
            return self.u2(torch.tanh(self.u1(torch.tanh(self.d2(torch.tanh(self.d1(x)))))))
"""

# the same with a BatchNorm after each ConvTranspose1d: it passes its input's shape on as its own
# output, and must not hide the step before it
SIGNAL_1D_NORM = """\
    import torch
    from torch import nn


    class Signal1dNormAE(nn.Module):  # convlint: input=(2, 4, 64)
        def __init__(self, ch=4, width=32):
            super().__init__()
            self.down = nn.Sequential(
                nn.Conv1d(ch, width, 5, stride=2, padding=2),  # 64 -> 32
                nn.GELU(),
                nn.Conv1d(width, width, 5, stride=2, padding=2),  # 32 -> 16
                nn.GELU(),
                nn.Conv1d(width, width, 5, stride=2, padding=2),  # 16 -> 8
            )
            self.up = nn.Sequential(
                nn.ConvTranspose1d(width, width, 4, stride=4),  # 8 -> 32
                nn.BatchNorm1d(width),
                nn.GELU(),
                nn.ConvTranspose1d(width, ch, 4, stride=2, padding=1),  # 32 -> 64
                nn.BatchNorm1d(ch),
            )

        def forward(self, x):
            return self.up(self.down(x))
"""

# name, source, class, input shape
MODELS = [
    ("tutorial", TUTORIAL, "TutorialAE", (4, 1, 28, 28)),
    ("signal1d", SIGNAL_1D, "Signal1dAE", (2, 4, 64)),
    ("signal1d_norm", SIGNAL_1D_NORM, "Signal1dNormAE", (2, 4, 64)),
    ("image_x4", IMAGE_X4, "ImageAE", (2, 3, 32, 32)),
    ("chain250", CHAIN_250, "Chain1d", (1, 2, 250)),
]

# name, the line as written correctly, the planted bug on that line, the finding's start (proof it names the step)
BUGS = [
    ("tutorial", "nn.ConvTranspose2d(8, 1, 2, stride=2, padding=1),  # 15 -> 28", "nn.ConvTranspose2d(8, 1, 2, stride=2),  # 15 -> 28",
     "ConvTranspose2d 'decoder.4' gives 30×30 from 15×15"),
    ("signal1d", "nn.ConvTranspose1d(width, ch, 4, stride=2, padding=1),  # 32 -> 64", "nn.ConvTranspose1d(width, ch, 4, stride=2),  # 32 -> 64",
     "ConvTranspose1d 'up.2' gives 66 from 32"),
    ("signal1d_norm", "nn.ConvTranspose1d(width, ch, 4, stride=2, padding=1),  # 32 -> 64", "nn.ConvTranspose1d(width, ch, 4, stride=2),  # 32 -> 64",
     "ConvTranspose1d 'up.3' gives 66 from 32"),
    ("signal1d_norm", "nn.ConvTranspose1d(width, width, 4, stride=4),  # 8 -> 32", "nn.ConvTranspose1d(width, width, 4, stride=4, padding=1),  # 8 -> 32",
     "ConvTranspose1d 'up.0' gives 30 from 8"),
    ("image_x4", "nn.ConvTranspose2d(128, 32, 4, stride=4)  # 4 -> 16", "nn.ConvTranspose2d(128, 32, 4, stride=4, padding=1)  # 4 -> 16",
     "ConvTranspose2d 'dec1' gives 14×14 from 4×4"),
    # the first upsampling step is off by one (250 -> 125 -> 63 -> 126 -> 252): one finding, the later step inherits it
    ("chain250", "self.u1 = nn.ConvTranspose1d(32, 16, 3, stride=2, padding=1)  # 63 -> 125",
     "self.u1 = nn.ConvTranspose1d(32, 16, 3, stride=2, padding=1, output_padding=1)  # 63 -> 125",
     "ConvTranspose1d 'u1' gives 126, but the Conv1d 'd2' (line 9) it mirrors took 125"),
]


def convlint(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "NO_COLOR": "1"}
    env.pop("FORCE_COLOR", None)
    return subprocess.run([sys.executable, "-m", "convlint", *args, "--no-cache"], cwd=cwd, env=env, capture_output=True, text=True)


def _write(tmp_path: Path, name: str, source: str) -> Path:
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'demo'\n")
    path = tmp_path / f"{name}.py"
    path.write_text(textwrap.dedent(source))
    return path


def _output_shape(path: Path, cls: str, shape) -> tuple:
    spec = importlib.util.spec_from_file_location(f"nm_{path.stem}_{abs(hash(path.read_text()))}", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    with torch.no_grad():
        return tuple(getattr(mod, cls)()(torch.zeros(shape)).shape)


@pytest.mark.parametrize("name,source,cls,shape", MODELS, ids=[m[0] for m in MODELS])
def test_a_correct_decoder_that_is_not_a_mirror_is_silent_and_fix_changes_nothing(tmp_path, name, source, cls, shape):
    path = _write(tmp_path, name, source)
    assert _output_shape(path, cls, shape) == shape  # torch: the model restores its input
    r = convlint(tmp_path, "check", path.name)
    assert r.returncode == 0 and "All checks passed!" in r.stdout, r.stdout
    before = path.read_text()
    r = convlint(tmp_path, "check", path.name, "--fix")
    assert r.returncode == 0, r.stdout
    assert path.read_text() == before


@pytest.mark.parametrize("name,right,wrong,message", BUGS, ids=[b[0] for b in BUGS])
def test_a_buggy_variant_gets_one_finding_on_its_line_and_fix_restores_the_model(tmp_path, name, right, wrong, message):
    _name, source, cls, shape = next(m for m in MODELS if m[0] == name)
    assert right in source
    path = _write(tmp_path, name, source.replace(right, wrong))
    assert _output_shape(path, cls, shape) != shape  # torch: the planted bug breaks the round trip
    line = next(i for i, ln in enumerate(path.read_text().splitlines(), 1) if wrong in ln)
    found = json.loads(convlint(tmp_path, "check", path.name, "--format", "json").stdout)
    assert [(f["code"], f["line"]) for f in found] == [("CVL004", line)], found
    assert found[0]["message"].startswith(message), found[0]["message"]
    assert found[0]["fix"] is not None
    r = convlint(tmp_path, "check", path.name, "--fix")
    assert r.returncode == 0, r.stdout + r.stderr
    assert _output_shape(path, cls, shape) == shape  # torch: the fixed model restores its input
    assert "All checks passed!" in convlint(tmp_path, "check", path.name).stdout
