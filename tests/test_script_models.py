"""Training scripts: a model built from the script's options and applied only to batches of a
data loader (whose shape convlint cannot see) is run once more on an input of unknown size, and
the script's epoch loop is not unrolled epoch by epoch. The broken model really breaks: torch runs
both versions."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from convlint.analysis import Project, analyze_file
from convlint.interpret.values import Unknown

MODELS = '''\
import torch.nn as nn


class ResidualBlock(nn.Module):
    def __init__(self, features):
        super().__init__()
        self.block = nn.Sequential(
            nn.ReflectionPad2d(1),
            nn.Conv2d(features, features, KERNEL),
            nn.InstanceNorm2d(features),
            nn.ReLU(inplace=True),
            nn.ReflectionPad2d(1),
            nn.Conv2d(features, features, 3),
            nn.InstanceNorm2d(features),
        )

    def forward(self, x):
        return x + self.block(x)


class Generator(nn.Module):
    def __init__(self, input_shape, num_blocks):
        super().__init__()
        channels = input_shape[0]
        model = [nn.ReflectionPad2d(3), nn.Conv2d(channels, 64, 7), nn.ReLU(inplace=True)]
        for _ in range(2):
            model += [nn.Conv2d(64, 64, 3, stride=2, padding=1), nn.ReLU(inplace=True)]
        for _ in range(num_blocks):
            model += [ResidualBlock(64)]
        for _ in range(2):
            model += [nn.Upsample(scale_factor=2), nn.Conv2d(64, 64, 3, stride=1, padding=1), nn.ReLU(inplace=True)]
        model += [nn.ReflectionPad2d(3), nn.Conv2d(64, channels, 7), nn.Tanh()]
        self.model = nn.Sequential(*model)

    def forward(self, x):
        return self.model(x)
'''

SCRIPT = '''\
import argparse

import torch
from torch.utils.data import DataLoader

from models import *

parser = argparse.ArgumentParser()
parser.add_argument("--n_epochs", type=int, default=200)
parser.add_argument("--channels", type=int, default=3)
parser.add_argument("--img_size", type=int, default=64)
parser.add_argument("--n_blocks", type=int, default=9)
opt = parser.parse_args()

generator = Generator((opt.channels, opt.img_size, opt.img_size), opt.n_blocks)
dataloader = DataLoader(make_dataset(opt), batch_size=4)
optimizer = torch.optim.Adam(generator.parameters())

for epoch in range(opt.n_epochs):
    for i, batch in enumerate(dataloader):
        fake = generator(batch["A"])
        loss = fake.mean() * epoch
        loss.backward()
        optimizer.step()
'''

LINE_OF_KERNEL = 9  # the residual conv, in MODELS


def _repo(tmp_path: Path, kernel: int) -> Path:
    (tmp_path / "models.py").write_text(MODELS.replace("KERNEL", str(kernel)))
    (tmp_path / "train.py").write_text(SCRIPT)
    return tmp_path


def _torch_sizes(tmp_path: Path) -> list:
    """The image sizes (1 to 40, square) torch runs the script's model on, in training mode."""
    torch = pytest.importorskip("torch")
    ns: dict = {}
    exec(compile((tmp_path / "models.py").read_text(), "models.py", "exec"), ns)  # noqa: S102 - our own example
    model = ns["Generator"]((3, 64, 64), 9)
    ok = []
    for size in range(1, 41):
        try:
            with torch.no_grad():
                model(torch.zeros(1, 3, size, size))
        except (RuntimeError, ValueError):  # (InstanceNorm of a single pixel raises ValueError)
            continue
        ok.append(size)
    return ok


def _findings(tmp_path: Path, path: str = "train.py"):
    target = tmp_path / path
    return analyze_file(Project(tmp_path), str(target), target.read_text())


def test_a_model_applied_only_to_loader_batches_is_checked_at_the_line_to_edit(tmp_path):
    repo = _repo(tmp_path, kernel=5)  # padding 1 with a 5×5 kernel: the block removes 2 rows
    assert _torch_sizes(repo) == []  # no size works (the sizes above 40 fail as 40 does: by 2 rows)
    found = [f for f in _findings(repo).findings if f.code == "CVL005"]
    assert len(found) == 1, found
    f = found[0]
    assert Path(f.path).name == "models.py" and f.line == LINE_OF_KERNEL
    assert "removes 2 rows" in f.message and "which the other branch of the merge at line 18 does not" in f.message
    # the sizes where broadcasting would join the branches are named; torch rejects them too (a
    # single pixel is no instance to normalise)
    assert "for every input size but H ∈ {9, 10, 11, 12}, where broadcasting spreads a single row" in f.message


def test_the_same_script_with_a_working_model_is_clean_and_resolved(tmp_path):
    repo = _repo(tmp_path, kernel=3)
    assert _torch_sizes(repo) != []
    result = _findings(repo)
    assert [f for f in result.findings if f.code != "CVL008"] == []
    (script,) = [r for r in result.runs if r.entry.kind == "module" and r.part_of is None]
    # the model the script applied to loader batches, run again on its own: once, under the script's name
    (applied,) = [r for r in result.runs if r.part_of is script]
    assert script.trace.incomplete is None and applied.trace.incomplete is None
    assert applied.entry.name == "<module>" and applied.entry.kind == "module"
    convs = [e for e in applied.trace.events if getattr(e, "op", "").endswith("Conv2d")]
    # the model's conv layers applied to (B, C, H, W): every size symbolic, none lost
    assert len(convs) == 24 and all(e.input is not None and not any(isinstance(d, Unknown) for d in e.input) for e in convs)
    assert [str(d) for d in convs[0].input] == ["B", "C", "H + 6", "W + 6"]


def test_the_epoch_loop_is_not_unrolled_epoch_by_epoch(tmp_path):
    repo = _repo(tmp_path, kernel=3)
    counts = []
    for epochs in (3, 200, 400):  # (MAX_LOOP is 512: each is a range convlint could unroll)
        (tmp_path / "train.py").write_text(SCRIPT.replace("default=200", f"default={epochs}"))
        result = _findings(repo)
        (script,) = [r for r in result.runs if r.entry.kind == "module" and r.part_of is None]
        assert script.trace.incomplete is None  # no loop bound hit
        counts.append(len(script.trace.events))
    # two epochs, and one more for the rest however many there are
    assert counts[0] == counts[1] == counts[2] > 0


def test_a_script_loop_without_a_data_loader_is_still_followed_item_by_item(tmp_path):
    (tmp_path / "build.py").write_text(textwrap.dedent('''\
        import torch
        import torch.nn as nn

        layers = []
        for i in range(12):
            layers.append(nn.Conv2d(3 if i == 0 else 8, 8, 3, padding=1))
        model = nn.Sequential(*layers, nn.Conv2d(9, 8, 1))
        y = model(torch.randn(1, 3, 32, 32))
        '''))
    found = [f for f in _findings(tmp_path, "build.py").findings if f.code == "CVL003"]
    assert len(found) == 1 and found[0].line == 7 and "expects 9 input channels, but gets 8" in found[0].message


def test_a_model_applied_to_a_known_tensor_is_not_run_again(tmp_path):
    repo = _repo(tmp_path, kernel=3)
    script = SCRIPT + "\nsample = generator(torch.randn(1, 3, 64, 64))\n"
    (repo / "train.py").write_text(script)
    result = _findings(repo)
    assert not [r for r in result.runs if r.part_of is not None]
    (run,) = [r for r in result.runs if r.entry.kind == "module"]
    inputs = {tuple(map(str, e.input)) for e in run.trace.events if getattr(e, "op", "").endswith("Conv2d") and e.input is not None and e.name == "model.1"}
    assert inputs == {("1", "3", "70", "70")}  # (64 + 2·3), never a symbolic H


def test_the_hook_follows_the_training_script_into_the_models_file(tmp_path):
    repo = _repo(tmp_path, kernel=5)
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    proc = subprocess.run([sys.executable, "-m", "convlint", "check", "--no-cache", "--format", "json", "models.py"],
                          cwd=repo, capture_output=True, text=True)
    assert proc.returncode == 1, proc.stderr
    assert f'"line": {LINE_OF_KERNEL}' in proc.stdout and "train.py" in proc.stdout


# ----------------------------------------------------------------------- degenerate broadcasting

BLOCK = '''\
import torch.nn as nn


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(4, 4, KERNEL, padding=PADDING)

    def forward(self, x):
        return x + self.conv(x)
'''


@pytest.mark.parametrize("kernel,padding", [(5, 1), (7, 1), (5, 0), (4, 1), (6, 1), (3, 2)])
def test_a_residual_that_broadcasts_only_at_degenerate_sizes_is_a_mismatch(tmp_path, kernel, padding):
    torch = pytest.importorskip("torch")
    source = BLOCK.replace("KERNEL", str(kernel)).replace("PADDING", str(padding))
    ns: dict = {}
    exec(compile(source, "block.py", "exec"), ns)  # noqa: S102 - our own example
    block = ns["Block"]()
    works = []
    for size in range(1, 41):
        try:
            with torch.no_grad():
                block(torch.zeros(1, 4, size, size))
        except RuntimeError:
            continue
        works.append(size)
    path = tmp_path / "block.py"
    path.write_text(source)
    found = [f for f in analyze_file(Project(tmp_path), str(path), source).findings if f.code == "CVL005"]
    assert len(found) == 1 and found[0].line == 7, found
    if not works:
        assert "for every input size (entry" in found[0].message or found[0].message.endswith("for every input size")
    else:
        listed = f"H = {works[0]}" if len(works) == 1 else "H ∈ {" + ", ".join(map(str, works)) + "}"
        assert f"for every input size but {listed}, where broadcasting" in found[0].message


def test_a_script_without_a_main_guard_is_ranked_as_a_script(tmp_path):
    from convlint.source.importers import KINDS, ranked_importers

    repo = _repo(tmp_path, kernel=3)
    found = ranked_importers([repo / "models.py"], [repo / "models.py", repo / "train.py"], repo)
    assert [(i.path.name, KINDS[i.kind], i.admitted) for i in found] == [("train.py", "script", True)]


SWEEP = '''\
import torch
import torch.nn as nn
import torch.nn.functional as F


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.down = nn.Conv2d(3, 8, 3, stride=2, padding=1)
        self.up = nn.ConvTranspose2d(8, 8, 2, stride=2)
        self.head = nn.Conv2d(11, 3, 1)

    def forward(self, x):
        return self.head(torch.cat([x, self.up(self.down(x))], dim=1))


model = Net()
for size in (32, 64, 96, 45):
    y = model(torch.randn(1, 3, size, size))
'''


def test_a_loop_over_sizes_in_a_script_is_followed_size_by_size(tmp_path):
    # the models it applies are followed (known input, known output): every size is checked,
    # the fourth (odd: the transposed conv gives 46 for 45) too
    torch = pytest.importorskip("torch")
    ns: dict = {}
    with pytest.raises(RuntimeError):
        exec(compile(SWEEP, "sweep.py", "exec"), ns)  # noqa: S102 - our own example
    assert ns["size"] == 45  # the three sizes before it ran
    (tmp_path / "sweep.py").write_text(SWEEP)
    found = [f for f in _findings(tmp_path, "sweep.py").findings if f.code in ("CVL004", "CVL005")]
    assert found and all("45" in f.message or "46" in f.message for f in found), found


def test_a_sampling_loop_of_a_script_is_not_unrolled_sample_by_sample(tmp_path):
    repo = _repo(tmp_path, kernel=3)
    sampler = SCRIPT.split("dataloader = ")[0] + textwrap.dedent('''\
        images = []
        while len(images) < opt.n_epochs:
            fake = generator(load_batch())
            images.extend([fake] * 4)
        for step in range(opt.n_epochs):
            fake = generator(fake)
        ''')
    counts = []
    for n in (40, 400):
        (repo / "train.py").write_text(sampler.replace("default=200", f"default={n}"))
        (script,) = [r for r in _findings(repo).runs if r.entry.kind == "module" and r.part_of is None]
        assert script.trace.incomplete is None
        counts.append(len(script.trace.events))
    assert counts[0] == counts[1] > 0
