"""Encoders and decoders in separate classes, joined by a wrapper through a quantizer, a bottleneck
or a latent reshape, are paired along the data flow as in one class (deliver 8 of issue 12): the
decoder's last step is reported where the output differs from the input, for a declared model and
for one only script code runs. The frameworks are the oracle."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

from convlint.analysis import Project, analyze_file

PAIRS = Path(__file__).parent / "fixtures" / "pairs"


def _findings(name: str, text: str | None = None):
    path = PAIRS / name
    text = path.read_text() if text is None else text
    return [f for f in analyze_file(Project(PAIRS), str(path), text).findings if f.severity in ("error", "warning")]


def _load(name: str):
    spec = importlib.util.spec_from_file_location(f"pairs_{Path(name).stem}", PAIRS / name)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _line(name: str, fragment: str) -> int:
    return next(i for i, l in enumerate((PAIRS / name).read_text().splitlines(), 1) if fragment in l)


def test_a_quantizer_between_separate_classes_run_by_a_main_block():
    line = _line("vq_script.py", "self.u2 = nn.ConvTranspose2d")
    (f,) = _findings("vq_script.py")
    assert (f.code, f.line) == ("CVL004", line)
    assert "gives 27×27" in f.message and "'enc.c1'" in f.message and "output differs from its input" in f.message
    torch = pytest.importorskip("torch")
    mod = _load("vq_script.py")
    assert tuple(mod.VQ()(torch.randn(1, 3, 28, 28)).shape) == (1, 3, 27, 27)
    # with the fix convlint offers, the model is right and nothing is reported
    fixed = (PAIRS / "vq_script.py").read_text().replace("nn.ConvTranspose2d(16, 3, 3, stride=2, padding=1)", "nn.ConvTranspose2d(16, 3, 3, stride=2, padding=1, output_padding=1)")
    assert _findings("vq_script.py", fixed) == []


def test_a_linear_bottleneck_between_separate_classes_declared():
    line = _line("vae_bottleneck.py", "self.u2 = nn.ConvTranspose2d")
    (f,) = _findings("vae_bottleneck.py")
    assert (f.code, f.line) == ("CVL004", line) and "28×28 → 14×14 → 27×27" in f.message
    torch = pytest.importorskip("torch")
    assert tuple(_load("vae_bottleneck.py").VAE()(torch.randn(1, 3, 28, 28)).shape) == (1, 3, 27, 27)


def test_a_flax_latent_reshape_between_separate_classes_run_by_init():
    line = _line("flax_latent_reshape.py", "nn.ConvTranspose(3, (3, 3)")
    (f,) = _findings("flax_latent_reshape.py")
    assert (f.code, f.line) == ("CVL004", line) and "gives 29×29" in f.message
    jax = pytest.importorskip("jax")
    pytest.importorskip("flax")
    mod = _load("flax_latent_reshape.py")
    out = jax.eval_shape(lambda: mod.AE().init_with_output(jax.random.PRNGKey(0), jax.numpy.ones((1, 28, 28, 3)))[0])
    assert out.shape == (1, 29, 29, 3)
    fixed = (PAIRS / "flax_latent_reshape.py").read_text().replace('padding="VALID"', 'padding="SAME"')
    mod2 = fixed.replace("params = AE()", "_ = AE()")
    assert _findings("flax_latent_reshape.py", mod2) == []
    ns: dict = {}
    exec(compile(mod2, "fixed.py", "exec"), ns)  # noqa: S102 - the fixture, fixed
    assert jax.eval_shape(lambda: ns["AE"]().init_with_output(jax.random.PRNGKey(0), jax.numpy.ones((1, 28, 28, 3)))[0]).shape == (1, 28, 28, 3)


def test_a_script_applying_a_model_that_is_not_an_autoencoder_is_not_compared():
    src = '''
import torch
from torch import nn


class Features(nn.Module):
    def __init__(self):
        super().__init__()
        self.c = nn.Conv2d(3, 16, 3, stride=2, padding=1)
        self.u = nn.ConvTranspose2d(16, 16, 3, stride=2, padding=1)
        self.head = nn.Conv2d(16, 8, 1)

    def forward(self, x):
        return self.head(self.u(self.c(x)))


y = Features()(torch.randn(1, 3, 28, 28))
'''
    # 3 channels in, 8 out: not an autoencoder, its output size is not compared with its input's
    # (as for a declared model)
    assert [f for f in _findings("vq_script.py", src) if f.code == "CVL004"] == []
    declared = src.replace("class Features(nn.Module):", "class Features(nn.Module):  # convlint: input=(1, 3, 28, 28)")
    assert [f for f in _findings("vq_script.py", declared.replace("y = Features()", "# y = Features()")) if f.code == "CVL004"] == []
    torch = pytest.importorskip("torch")
    ns: dict = {}
    exec(compile(src, "features.py", "exec"), ns)  # noqa: S102
    assert tuple(ns["y"].shape) == (1, 8, 27, 27)
