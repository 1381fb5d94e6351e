"""CVL009 is reported on the layer where the model's actual and declared output sizes part, with the
declaration as a related location; torch confirms the output shape of each model."""

from __future__ import annotations

import importlib.util
import sys
import textwrap

import pytest

from convlint.analysis import Project, analyze_file

torch = pytest.importorskip("torch")


def _check(tmp_path, src: str):
    src = textwrap.dedent(src)
    path = tmp_path / "m.py"
    path.write_text(src)
    found = analyze_file(Project(str(tmp_path)), str(path), src).findings
    spec = importlib.util.spec_from_file_location(f"parting_{abs(hash(str(path)))}", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return src, [f for f in found if f.severity in ("error", "warning")], mod


def _line(src: str, needle: str) -> int:
    return next(i for i, ln in enumerate(src.splitlines(), 1) if needle in ln)


def test_the_size_leaves_the_declared_one_at_a_pool_after_the_decoder_restored_it(tmp_path):
    src, found, mod = _check(tmp_path, """\
        import torch.nn as nn


        class Net(nn.Module):  # convlint: input=(1, 3, 32, 32) output=(1, 3, 32, 32)
            def __init__(self):
                super().__init__()
                self.down = nn.Conv2d(3, 8, 3, stride=2, padding=1)
                self.up = nn.ConvTranspose2d(8, 3, 4, stride=2, padding=1)
                self.smooth = nn.Conv2d(3, 3, 3)

            def forward(self, x):
                return self.smooth(self.up(self.down(x)))
    """)
    with torch.no_grad():
        assert tuple(mod.Net()(torch.zeros(1, 3, 32, 32)).shape) == (1, 3, 30, 30)
    assert [(f.code, f.line) for f in found] == [("CVL009", _line(src, "self.smooth = "))]
    (f,) = found
    assert "the sizes part at Conv2d 'smooth': 32 → 30" in f.message
    assert [(r.line, r.message) for r in f.related] == [(_line(src, "class Net"), "Net declares output=(1, 3, 32, 32)")]


def test_a_size_never_equal_to_the_declared_one_points_at_the_layer_that_made_it(tmp_path):
    src, found, mod = _check(tmp_path, """\
        import torch
        import torch.nn as nn


        class Classifier(nn.Module):  # convlint: input=(2, 1, 28, 28) output=(2, 10)
            def __init__(self):
                super().__init__()
                self.conv = nn.Conv2d(1, 4, 3, padding=1)
                self.head = nn.Linear(4 * 28 * 28, 100)

            def forward(self, x):
                return self.head(torch.flatten(self.conv(x), 1))
    """)
    with torch.no_grad():
        assert tuple(mod.Classifier()(torch.zeros(2, 1, 28, 28)).shape) == (2, 100)
    assert [(f.code, f.line) for f in found] == [("CVL009", _line(src, "self.head = "))]


def test_an_upsampling_root_cause_is_the_layer_cvl004_names(tmp_path):
    src, found, mod = _check(tmp_path, """\
        import torch.nn as nn


        class AE(nn.Module):  # convlint: input=(1, 1, 28, 28) output=(1, 1, 28, 28)
            def __init__(self):
                super().__init__()
                self.enc = nn.Sequential(nn.Conv2d(1, 8, 3, stride=2, padding=1), nn.Conv2d(8, 8, 3, stride=2, padding=1))
                self.up1 = nn.ConvTranspose2d(8, 8, 3, stride=2, padding=1)
                self.up2 = nn.ConvTranspose2d(8, 1, 3, stride=2, padding=1, output_padding=1)

            def forward(self, x):
                return self.up2(self.up1(self.enc(x)))
    """)
    with torch.no_grad():
        assert tuple(mod.AE()(torch.zeros(1, 1, 28, 28)).shape) == (1, 1, 26, 26)
    assert sorted((f.code, f.line) for f in found) == [("CVL004", _line(src, "self.up1 = ")), ("CVL009", _line(src, "self.up1 = "))]


def test_a_shape_preserving_layer_after_the_one_that_changed_the_size_is_not_blamed(tmp_path):
    """A BatchNorm passes its input's shape on as its own output: the size parts at the
    ConvTranspose before it, not at the BatchNorm."""
    src, found, mod = _check(tmp_path, """\
        import torch.nn as nn


        class AE(nn.Module):  # convlint: input=(1, 1, 64, 64) output=(1, 1, 64, 64)
            def __init__(self):
                super().__init__()
                self.net = nn.Sequential(
                    nn.Conv2d(1, 4, 3, padding=1),
                    nn.ConvTranspose2d(4, 1, 3),
                    nn.BatchNorm2d(1),
                    nn.ReLU(),
                )

            def forward(self, x):
                return self.net(x)
    """)
    with torch.no_grad():
        assert tuple(mod.AE()(torch.zeros(1, 1, 64, 64)).shape) == (1, 1, 66, 66)
    assert [(f.code, f.line) for f in found] == [("CVL009", _line(src, "nn.ConvTranspose2d(4, 1, 3)"))]
    assert "64 → 66" in found[0].message
