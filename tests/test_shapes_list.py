"""`convlint shapes --list`: the models found, how each is analysed (declared, a script or test
entry, its defaults, symbolic sizes) and what a constructor needs when convlint cannot build it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

MODELS = '''
import torch.nn as nn


class Declared(nn.Module):  # convlint: input=(1, 3, 16, 16)
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3)

    def forward(self, x):
        return self.conv(x)


class Defaults(nn.Module):
    def __init__(self, width=8):
        super().__init__()
        self.conv = nn.Conv2d(3, width, 3)

    def forward(self, x):
        return self.conv(x)


class Symbolic(nn.Module):
    def __init__(self, in_channels, out_channels, kernel_size=3):
        super().__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, kernel_size)

    def forward(self, x):
        return self.conv(x)


class NeedsConfig(nn.Module):
    def __init__(self, cfg, dim, act):
        super().__init__()
        self.conv = nn.Conv2d(cfg.in_ch, dim, 3)

    def forward(self, x):
        return act(self.conv(x))


def helper(x):
    return x
'''


def shapes(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("FORCE_COLOR", "CONVLINT_DEBUG")}
    return subprocess.run([sys.executable, "-m", "convlint", "shapes", *args], cwd=cwd, env={**env, "NO_COLOR": "1"}, capture_output=True, text=True, timeout=300)


def test_list_json_says_how_each_model_is_analysed_and_what_it_needs(tmp_path):
    (tmp_path / "models.py").write_text(MODELS)
    r = shapes(tmp_path, "--list", "--format", "json", "models.py")
    assert r.returncode == 0, r.stderr
    got = {m["name"]: m for m in json.loads(r.stdout)["models"]}
    assert set(got) == {"Declared", "Defaults", "Symbolic", "NeedsConfig"}
    assert got["Declared"]["status"] == "declared" and got["Declared"]["input"] == [1, 3, 16, 16]
    assert got["Defaults"]["status"] == "defaults" and got["Defaults"]["needs"] == []
    assert got["Symbolic"]["status"] == "symbolic" and got["Symbolic"]["symbolic"] == ["in_channels", "out_channels"]
    assert got["NeedsConfig"]["status"] == "needs-arguments"
    assert got["NeedsConfig"]["needs"] == ["cfg", "act"] and got["NeedsConfig"]["symbolic"] == ["dim"]
    assert {m["kind"] for m in got.values()} == {"class"}
    assert got["NeedsConfig"]["line"] == 32 and got["NeedsConfig"]["path"] == "models.py"
    assert got["Declared"]["coverage"] == {"resolved": 1, "total": 1}


def test_list_text_names_what_a_constructor_needs_and_lists_test_entries(tmp_path):
    (tmp_path / "models.py").write_text(MODELS)
    (tmp_path / "test_models.py").write_text(textwrap.dedent('''
        import torch
        from models import NeedsConfig


        class Cfg:
            in_ch = 3


        def test_forward():
            NeedsConfig(Cfg(), 8, torch.relu)(torch.randn(1, 3, 16, 16))
    '''))
    r = shapes(tmp_path, "--list", ".")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert any("NeedsConfig" in l and "needs-arguments" in l and "needs cfg, act (sizes symbolic: dim)" in l for l in lines)
    assert any("test_models.py:10 test_forward" in l and "test" in l and "entry" in l for l in lines)
    assert "1 model(s) need constructor arguments" in r.stdout


def test_list_of_a_folder_without_models(tmp_path):
    (tmp_path / "util.py").write_text("def f(x):\n    return x\n")
    r = shapes(tmp_path, "--list", ".")
    assert r.returncode == 0 and r.stdout == "No models found.\n"
    r = shapes(tmp_path, "--list", "--format", "json", ".")
    assert json.loads(r.stdout) == {"models": []}


UNDECLARED_TIMESTEPS = '''
import torch
import torch.nn as nn


def timestep_embedding(t, dim):
    freqs = torch.exp(torch.arange(dim // 2) * -0.1)
    args = t[:, None].float() * freqs[None]
    return torch.cat([torch.cos(args), torch.sin(args)], dim=-1)


class TinyUNet(nn.Module):  # convlint: input=(1, 3, 32, 32)
    def __init__(self, ch=16):
        super().__init__()
        self.ch = ch
        self.inp = nn.Conv2d(3, ch, 3, padding=1)
        self.emb = nn.Linear(ch, ch)
        self.down = nn.Conv2d(ch, ch, 3, stride=2, padding=1)

    def forward(self, x, timesteps, y=None):
        emb = self.emb(timestep_embedding(timesteps, self.ch))
        while len(emb.shape) < len(x.shape):
            emb = emb[..., None]
        return self.down(self.inp(x) + emb)
'''


def test_a_forward_parameter_given_no_shape_is_named_where_the_coverage_is_incomplete(tmp_path):
    # guided-diffusion's UNetModel declared with its image alone: the time embedding's rank is
    # unknown, every layer after the first is lost at a while loop — the user is told which
    # parameter to declare (``y`` has a default: not listed)
    (tmp_path / "unet.py").write_text(UNDECLARED_TIMESTEPS)
    r = shapes(tmp_path, "--format", "json", "unet.py")
    assert r.returncode == 0, r.stderr
    (model,) = json.loads(r.stdout)["models"]
    assert model["undeclared"] == ["timesteps"]
    assert model["coverage"]["resolved"] < model["coverage"]["total"]
    text = shapes(tmp_path, "unet.py").stdout
    assert "not declared: timesteps (no shape given" in text
    # declared, it is followed: every layer resolved, nothing said
    (tmp_path / "unet.py").write_text(UNDECLARED_TIMESTEPS.replace("input=(1, 3, 32, 32)", "input x=(1, 3, 32, 32) timesteps=(1,)"))
    r = shapes(tmp_path, "--format", "json", "unet.py")
    (model,) = json.loads(r.stdout)["models"]
    assert "undeclared" not in model
    assert model["coverage"]["resolved"] == model["coverage"]["total"] == 2
    assert "not declared" not in shapes(tmp_path, "unet.py").stdout


def test_list_names_the_forward_parameters_a_model_run_on_its_own_is_not_given(tmp_path):
    (tmp_path / "unet.py").write_text(UNDECLARED_TIMESTEPS.replace("  # convlint: input=(1, 3, 32, 32)", ""))
    r = shapes(tmp_path, "--list", "--format", "json", "unet.py")
    assert r.returncode == 0, r.stderr
    (model,) = json.loads(r.stdout)["models"]
    assert model["status"] == "defaults" and model["undeclared"] == ["timesteps"]
    # run on its own, every layer is still followed here: the text adds nothing to a full coverage
    assert model["coverage"] == {"resolved": 2, "total": 2}
    assert "not declared" not in shapes(tmp_path, "--list", "unet.py").stdout


UNDECLARED_ONLY = '''
import torch.nn as nn


class Encoder(nn.Module):
    def __init__(self, in_channels, width=8):
        super().__init__()
        self.conv = nn.Conv2d(in_channels, width, 3, stride=2, padding=1)

    def forward(self, x):
        return self.conv(x)


class Head(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(8, 2, 1)

    def forward(self, x):
        return self.conv(x)
'''


def test_shapes_of_an_undeclared_model_by_name_and_the_hint_when_nothing_is_declared(tmp_path):
    (tmp_path / "enc.py").write_text(UNDECLARED_ONLY)
    r = shapes(tmp_path, "enc.py")
    assert r.returncode == 0
    assert r.stdout.splitlines() == [
        "No models found: declare one with `# convlint: input=(…)` on its class line, or pass --input FILE::NAME=SHAPE.",
        "convlint ran 2 model classes on their own, with symbolic sizes: `convlint shapes enc.py::Encoder` shows Encoder "
        "(and 1 more: `convlint shapes --list enc.py`).",
    ]
    # the hint's command works: the class run on its own, said to be so
    r = shapes(tmp_path, "enc.py::Encoder")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0] == "enc.py:5 Encoder: (B, in_channels, H, W) → (B, 8, (H + 1)//2, (W + 1)//2)"
    assert lines[1].startswith("  (not declared: run on its own")
    assert "nn.Conv2d" in lines[3] and "Head" not in r.stdout
    doc = json.loads(shapes(tmp_path, "enc.py::Head", "--format", "json").stdout)
    assert [(m["name"], m["input"], m["output"]) for m in doc["models"]] == [("Head", ["B", 8, "H", "W"], ["B", 2, "H", "W"])]
    # a declared model is shown as declared, and alone
    (tmp_path / "enc.py").write_text(UNDECLARED_ONLY.replace("class Head(nn.Module):", "class Head(nn.Module):  # convlint: input=(1, 8, 4, 4)"))
    r = shapes(tmp_path, "enc.py")
    assert r.stdout.splitlines()[0] == "enc.py:14 Head: (1, 8, 4, 4) → (1, 2, 4, 4)" and "not declared" not in r.stdout
