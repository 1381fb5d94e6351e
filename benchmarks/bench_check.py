"""Speed of `convlint check`, as ratios measured in one run on this machine.

    python benchmarks/bench_check.py [--files N] [--conv-share 0.05] [--repeat 7]

It writes its own synthetic repository in a temporary directory — torchvision-like residual
blocks, U-Nets built from imported parts, DCGAN generators, flax models, and (most files) plain
utility modules without any convolution — and prints:

1. start-up: ``convlint check small.py`` against ``python -c "import libcst"`` (subprocesses,
   interleaved, median of several runs each); target: at most 3x;
2. prefilter: discovering + reading + prefiltering a repository where most files hold no
   convolution, against just listing (``os.walk``) and reading the same files; target: little
   more than 1x;
3. analysis: the whole check of files that do hold convolutions (no cache, serial) against a
   bare ``libcst.parse_module`` of the same files (in-process); target: at most 2.5x;
4. cache: a cached re-run of those files against the prefilter stage alone; target: little more;
5. confirm: ``check --confirm=layers`` (every resolved layer built in torch/jax) and, on a few
   files, ``--confirm=model`` (declared models run in a child process) against the static check
   of the same files; informative (skipped when torch or jax is not installed).

Only ratios are meant to be compared; absolute times depend on the machine. If the analysis
engine is missing or fails, the script says so and reports what it can.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


# --------------------------------------------------------------------------- synthetic sources


def resnet_module(i: int) -> str:
    w = 16 * (1 + i % 4)
    return textwrap.dedent(
        f'''\
        """Residual network blocks, in the style of torchvision.models.resnet (variant {i})."""
        from typing import Callable, Optional

        import torch
        import torch.nn as nn
        from torch import Tensor


        def conv3x3(in_planes: int, out_planes: int, stride: int = 1, groups: int = 1, dilation: int = 1) -> nn.Conv2d:
            """3x3 convolution with padding"""
            return nn.Conv2d(in_planes, out_planes, kernel_size=3, stride=stride, padding=dilation,
                             groups=groups, bias=False, dilation=dilation)


        def conv1x1(in_planes: int, out_planes: int, stride: int = 1) -> nn.Conv2d:
            """1x1 convolution"""
            return nn.Conv2d(in_planes, out_planes, kernel_size=1, stride=stride, bias=False)


        class BasicBlock(nn.Module):
            expansion: int = 1

            def __init__(self, inplanes: int, planes: int, stride: int = 1,
                         downsample: Optional[nn.Module] = None,
                         norm_layer: Optional[Callable[..., nn.Module]] = None) -> None:
                super().__init__()
                if norm_layer is None:
                    norm_layer = nn.BatchNorm2d
                self.conv1 = conv3x3(inplanes, planes, stride)
                self.bn1 = norm_layer(planes)
                self.relu = nn.ReLU(inplace=True)
                self.conv2 = conv3x3(planes, planes)
                self.bn2 = norm_layer(planes)
                self.downsample = downsample
                self.stride = stride

            def forward(self, x: Tensor) -> Tensor:
                identity = x
                out = self.relu(self.bn1(self.conv1(x)))
                out = self.bn2(self.conv2(out))
                if self.downsample is not None:
                    identity = self.downsample(x)
                out += identity
                return self.relu(out)


        # convlint: input=(2, 3, 64, 64)
        class SmallResNet{i}(nn.Module):
            def __init__(self, num_classes: int = 10) -> None:
                super().__init__()
                self.conv1 = nn.Conv2d(3, {w}, kernel_size=7, stride=2, padding=3, bias=False)
                self.bn1 = nn.BatchNorm2d({w})
                self.relu = nn.ReLU(inplace=True)
                self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
                self.layer1 = BasicBlock({w}, {w})
                self.layer2 = BasicBlock({w}, {2 * w}, stride=2,
                                         downsample=nn.Sequential(conv1x1({w}, {2 * w}, 2), nn.BatchNorm2d({2 * w})))
                self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
                self.fc = nn.Linear({2 * w}, num_classes)

            def forward(self, x: Tensor) -> Tensor:
                x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
                x = self.layer2(self.layer1(x))
                x = torch.flatten(self.avgpool(x), 1)
                return self.fc(x)
        '''
    )


def unet_module(i: int) -> str:
    c = 32 if i % 2 else 64
    return textwrap.dedent(
        f'''\
        """A U-Net (variant {i}), in the style of milesial/Pytorch-UNet."""
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
            def __init__(self, in_channels, out_channels):
                super().__init__()
                self.up = nn.ConvTranspose2d(in_channels, in_channels // 2, kernel_size=2, stride=2)
                self.conv = DoubleConv(in_channels, out_channels)

            def forward(self, x1, x2):
                x1 = self.up(x1)
                diffY = x2.size()[2] - x1.size()[2]
                diffX = x2.size()[3] - x1.size()[3]
                x1 = F.pad(x1, [diffX // 2, diffX - diffX // 2, diffY // 2, diffY - diffY // 2])
                return self.conv(torch.cat([x2, x1], dim=1))


        # convlint: input=(1, 3, 128, 128) init(n_channels=3, n_classes=2)
        class UNet{i}(nn.Module):
            def __init__(self, n_channels, n_classes):
                super().__init__()
                self.inc = DoubleConv(n_channels, {c})
                self.down1 = Down({c}, {2 * c})
                self.down2 = Down({2 * c}, {4 * c})
                self.up1 = Up({4 * c}, {2 * c})
                self.up2 = Up({2 * c}, {c})
                self.outc = nn.Conv2d({c}, n_classes, kernel_size=1)

            def forward(self, x):
                x1 = self.inc(x)
                x2 = self.down1(x1)
                x3 = self.down2(x2)
                x = self.up1(x3, x2)
                x = self.up2(x, x1)
                return self.outc(x)
        '''
    )


def dcgan_module(i: int) -> str:
    nz, ngf = 100, 32 + 8 * (i % 3)
    return textwrap.dedent(
        f'''\
        """DCGAN generator and discriminator (variant {i})."""
        import torch.nn as nn

        NZ = {nz}
        NGF = {ngf}


        # convlint: input=(8, 100, 1, 1)
        class Generator(nn.Module):
            def __init__(self, nc=3):
                super().__init__()
                self.main = nn.Sequential(
                    nn.ConvTranspose2d(NZ, NGF * 8, 4, 1, 0, bias=False),
                    nn.BatchNorm2d(NGF * 8),
                    nn.ReLU(True),
                    nn.ConvTranspose2d(NGF * 8, NGF * 4, 4, 2, 1, bias=False),
                    nn.BatchNorm2d(NGF * 4),
                    nn.ReLU(True),
                    nn.ConvTranspose2d(NGF * 4, NGF * 2, 4, 2, 1, bias=False),
                    nn.BatchNorm2d(NGF * 2),
                    nn.ReLU(True),
                    nn.ConvTranspose2d(NGF * 2, nc, 4, 2, 1, bias=False),
                    nn.Tanh(),
                )

            def forward(self, x):
                return self.main(x)


        # convlint: input=(8, 3, 32, 32)
        class Discriminator(nn.Module):
            def __init__(self, nc=3, ndf=64):
                super().__init__()
                self.main = nn.Sequential(
                    nn.Conv2d(nc, ndf, 4, 2, 1, bias=False),
                    nn.LeakyReLU(0.2, inplace=True),
                    nn.Conv2d(ndf, ndf * 2, 4, 2, 1, bias=False),
                    nn.BatchNorm2d(ndf * 2),
                    nn.LeakyReLU(0.2, inplace=True),
                    nn.Conv2d(ndf * 2, 1, 4, 1, 0, bias=False),
                    nn.Sigmoid(),
                )

            def forward(self, x):
                return self.main(x)
        '''
    )


def flax_module(i: int) -> str:
    return textwrap.dedent(
        f'''\
        """A small flax CNN (variant {i})."""
        import flax.linen as nn
        import jax.numpy as jnp


        class CNN(nn.Module):
            features: int = {16 * (1 + i % 3)}

            @nn.compact
            def __call__(self, x):
                x = nn.Conv(features=self.features, kernel_size=(3, 3), padding="SAME")(x)
                x = nn.relu(x)
                x = nn.avg_pool(x, window_shape=(2, 2), strides=(2, 2))
                x = nn.Conv(features=2 * self.features, kernel_size=(3, 3))(x)
                x = nn.relu(x)
                x = x.reshape((x.shape[0], -1))
                return nn.Dense(features=10)(x)


        def init(rng):
            return CNN().init(rng, jnp.ones((1, 28, 28, 1)))
        '''
    )


def utility_module(i: int) -> str:
    kind = i % 4
    if kind == 0:
        return textwrap.dedent(
            f'''\
            """Dataset helpers (module {i})."""
            import json
            import os
            from dataclasses import dataclass


            @dataclass
            class Sample:
                path: str
                label: int


            def convert_labels(raw):
                """Convert string labels to integer ids."""
                mapping = {{name: idx for idx, name in enumerate(sorted(set(raw)))}}
                return [mapping[r] for r in raw], mapping


            def load_index(root):
                samples = []
                for dirpath, _, files in os.walk(root):
                    for name in sorted(files):
                        if name.endswith((".png", ".jpg")):
                            samples.append(Sample(os.path.join(dirpath, name), len(samples) % 10))
                return samples


            def save_index(samples, path):
                with open(path, "w") as fh:
                    json.dump([s.__dict__ for s in samples], fh, indent=2)
            ''' * 3
        )
    if kind == 1:
        return textwrap.dedent(
            f'''\
            """Training metrics (module {i})."""
            import math

            import torch


            class AverageMeter:
                """Computes and stores the average and current value."""

                def __init__(self, name, fmt=":f"):
                    self.name = name
                    self.fmt = fmt
                    self.reset()

                def reset(self):
                    self.val = self.avg = self.sum = 0.0
                    self.count = 0

                def update(self, val, n=1):
                    self.val = val
                    self.sum += val * n
                    self.count += n
                    self.avg = self.sum / self.count


            def accuracy(output, target, topk=(1,)):
                with torch.no_grad():
                    maxk = max(topk)
                    batch_size = target.size(0)
                    _, pred = output.topk(maxk, 1, True, True)
                    pred = pred.t()
                    correct = pred.eq(target.view(1, -1).expand_as(pred))
                    return [correct[:k].reshape(-1).float().sum(0) * 100.0 / batch_size for k in topk]


            def cosine_lr(step, total, base=0.1):
                return 0.5 * base * (1 + math.cos(math.pi * step / total))
            ''' * 3
        )
    if kind == 2:
        return textwrap.dedent(
            f'''\
            """Command-line configuration (module {i})."""
            import argparse


            def build_parser():
                p = argparse.ArgumentParser(description="train a model")
                p.add_argument("--epochs", type=int, default=90)
                p.add_argument("--lr", type=float, default=0.1)
                p.add_argument("--batch-size", type=int, default=256)
                p.add_argument("--workers", type=int, default=4)
                p.add_argument("--resume", default="")
                p.add_argument("--conversion-mode", choices=["fp16", "bf16"], default="fp16")
                return p


            def parse(argv=None):
                args = build_parser().parse_args(argv)
                if args.batch_size <= 0:
                    raise SystemExit("batch size must be positive")
                return args
            ''' * 4
        )
    return textwrap.dedent(
        f'''\
        """Training loop (module {i})."""
        import time

        import torch
        import torch.nn as nn


        def train_one_epoch(model, loader, optimizer, device, log_every=50):
            model.train()
            criterion = nn.CrossEntropyLoss()
            start = time.time()
            for step, (images, target) in enumerate(loader):
                images, target = images.to(device), target.to(device)
                loss = criterion(model(images), target)
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                if step % log_every == 0:
                    print(f"step {{step}} loss {{loss.item():.3f}} {{time.time() - start:.1f}}s")


        @torch.no_grad()
        def evaluate(model, loader, device):
            model.eval()
            correct = total = 0
            for images, target in loader:
                pred = model(images.to(device)).argmax(1)
                correct += (pred == target.to(device)).sum().item()
                total += target.numel()
            return correct / max(total, 1)
        ''' * 3
    )


MODEL_MAKERS = (resnet_module, unet_module, dcgan_module, flax_module)


def write_repo(root: Path, n_files: int, conv_share: float) -> tuple[list[Path], list[Path]]:
    """Write the synthetic repository; returns (model files, utility files)."""
    n_models = max(1, round(n_files * conv_share))
    models, utils = [], []
    for i in range(n_files):
        pkg = root / f"pkg{i % 20:02d}"
        pkg.mkdir(parents=True, exist_ok=True)
        if i < n_models:
            p = pkg / f"model_{i:04d}.py"
            p.write_text(MODEL_MAKERS[i % len(MODEL_MAKERS)](i))
            models.append(p)
        else:
            p = pkg / f"util_{i:04d}.py"
            p.write_text(utility_module(i))
            utils.append(p)
    return models, utils


# --------------------------------------------------------------------------- timing


def best_of(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def subprocess_medians(cmds: dict[str, list[str]], cwd: Path, repeat: int) -> dict[str, float]:
    """Median wall time of each command, runs interleaved (a, b, a, b, ...)."""
    env = {**os.environ, "NO_COLOR": "1"}
    times: dict[str, list[float]] = {k: [] for k in cmds}
    for k, cmd in cmds.items():  # warm the OS caches once
        subprocess.run(cmd, cwd=cwd, env=env, capture_output=True)
    for _ in range(repeat):
        for k, cmd in cmds.items():
            t = time.perf_counter()
            subprocess.run(cmd, cwd=cwd, env=env, capture_output=True)
            times[k].append(time.perf_counter() - t)
    return {k: statistics.median(v) for k, v in times.items()}


def ratio_line(label: str, num: float, den: float, target: str) -> str:
    r = num / den if den > 0 else float("inf")
    return f"{label:<54} {r:6.2f}x   ({num * 1000:8.1f} ms / {den * 1000:8.1f} ms)  target: {target}"


# --------------------------------------------------------------------------- the measurements


def read_all(files: list[Path]) -> None:
    for p in files:
        with open(p, "rb") as fh:
            fh.read()


def walk_and_read(root: Path) -> None:
    """The floor: list the tree (os.walk) and read every .py file."""
    for dirpath, _, names in os.walk(root):
        for name in names:
            if name.endswith(".py"):
                with open(os.path.join(dirpath, name), "rb") as fh:
                    fh.read()


def prefilter_stage(root: Path) -> int:
    """Discovery + reading + prefilter, as run_check does before any analysis."""
    from convlint.config import Config
    from convlint.source.discover import discover
    from convlint.source.files import ReadError, read_source
    from convlint.source.prefilter import may_contain_conv

    cfg = Config.default(root)
    passed = 0
    for p in discover([root], root=root, cwd=root).files:
        src = read_source(p, cfg.max_file_size)
        if not isinstance(src, ReadError) and may_contain_conv(src.data):
            passed += 1
    return passed


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--files", type=int, default=2000, help="files in the synthetic repository (default 2000)")
    ap.add_argument("--conv-share", type=float, default=0.03, help="share of files that hold convolutions (default 0.03)")
    ap.add_argument("--model-files", type=int, default=40, help="files with convolutions for the analysis ratio (default 40)")
    ap.add_argument("--repeat", type=int, default=7, help="runs per start-up measurement (default 7)")
    args = ap.parse_args(argv)

    from convlint.config import Config
    from convlint.pipeline import run_check

    print(f"convlint benchmark — python {sys.version.split()[0]}, {os.cpu_count()} CPUs; ratios from one run")
    with tempfile.TemporaryDirectory(prefix="convlint-bench-") as tmp:
        tmpdir = Path(tmp)

        # 1. start-up
        small = tmpdir / "startup"
        small.mkdir()
        (small / "small.py").write_text(utility_module(2))
        (small / "small_model.py").write_text(dcgan_module(0))
        py = sys.executable
        m = subprocess_medians(
            {
                "libcst": [py, "-c", "import libcst"],
                "check": [py, "-m", "convlint", "check", "--no-cache", "small.py"],
                "check_model": [py, "-m", "convlint", "check", "--no-cache", "small_model.py"],
            },
            small,
            args.repeat,
        )
        print()
        print(ratio_line("start-up: check small.py / import libcst", m["check"], m["libcst"], "<= 3x"))
        print(ratio_line("  (a small model file / import libcst)", m["check_model"], m["libcst"], "informative"))

        # 2. prefilter on a repository that is mostly not convolutions
        repo = tmpdir / "repo"
        models, utils = write_repo(repo, args.files, args.conv_share)
        files = sorted(models + utils)
        lines = sum(p.read_bytes().count(b"\n") for p in files)
        read_t = best_of(lambda: walk_and_read(repo), 5)
        passed = prefilter_stage(repo)
        pre_t = best_of(lambda: prefilter_stage(repo), 5)
        print(
            f"\nsynthetic repository: {len(files)} files, {lines} lines, {len(models)} with convolutions; "
            f"prefilter passes {passed} ({passed / len(files):.1%})"
        )
        print(ratio_line("prefilter: discover+read+prefilter / walk+read", pre_t, read_t, "little more than 1x"))

        # 3. analysis of files with convolutions vs a bare parse
        mrepo = tmpdir / "models"
        mfiles, _ = write_repo(mrepo, args.model_files, 1.0)
        texts = [p.read_text() for p in mfiles]
        import libcst

        parse_t = best_of(lambda: [libcst.parse_module(t) for t in texts], 3)
        cfg = Config.default(mrepo)
        t = time.perf_counter()
        result = run_check([mrepo], cfg, use_cache=False, jobs=1, cwd=mrepo)
        check_t = time.perf_counter() - t
        print(f"\nfiles with convolutions: {len(mfiles)} files, {sum(t.count(chr(10)) for t in texts)} lines")
        if result.errors:
            print(f"analysis: not measured — the engine failed ({len(result.errors)} errors), first: {result.errors[0]}")
        else:
            check_t = min(check_t, best_of(lambda: run_check([mrepo], cfg, use_cache=False, jobs=1, cwd=mrepo), 2))
            print(ratio_line("analysis: check (no cache) / parse_module", check_t, parse_t, "<= 2.5x"))
            print(f"  ({len(result.findings)} findings on the synthetic models)")

            # 4. cached re-run vs the prefilter stage
            run_check([mrepo], cfg, use_cache=True, jobs=1, cwd=mrepo)  # fill the cache
            cached_t = best_of(lambda: run_check([mrepo], cfg, use_cache=True, jobs=1, cwd=mrepo), 3)
            pre_m = best_of(lambda: prefilter_stage(mrepo), 3)
            print(ratio_line("cache: cached re-run of the model files / prefilter", cached_t, pre_m, "informative"))
            big = run_check([repo], Config.default(repo), use_cache=True, jobs=1, cwd=repo)  # fill
            if not big.errors:
                cached_big = best_of(lambda: run_check([repo], Config.default(repo), use_cache=True, jobs=1, cwd=repo), 3)
                print(ratio_line("cache: cached re-run of the repository / prefilter", cached_big, pre_t, "little more than 1x"))
                print(ratio_line("  (the same / walk+read)", cached_big, read_t, "informative"))

            # 5. runtime confirmation vs the static check
            confirm_costs(mrepo, mfiles, cfg, check_t)
    return 0


def confirm_costs(mrepo: Path, mfiles: list[Path], cfg, check_t: float) -> None:
    """--confirm=layers and --confirm=model as ratios to the static check of the same files."""
    from dataclasses import replace

    from convlint.confirm.layers import missing_frameworks
    from convlint.pipeline import run_check

    missing = missing_frameworks("torch", "jax", "flax")
    if missing:
        print(f"\nconfirm: not measured ({', '.join(missing)} not installed)")
        return
    layers_cfg = replace(cfg, confirm="layers")
    t = time.perf_counter()
    first = run_check([mrepo], layers_cfg, use_cache=False, jobs=1, cwd=mrepo)
    cold = time.perf_counter() - t
    if first.errors:
        print(f"\nconfirm: not measured — {first.errors[0]}")
        return
    from convlint.confirm import layers

    def warm_run() -> None:  # frameworks imported, nothing built yet
        layers._CACHE.clear()
        run_check([mrepo], layers_cfg, use_cache=False, jobs=1, cwd=mrepo)

    warm = best_of(warm_run, 2)
    n = sum(1 for f in first.findings if f.code == "CVL010")
    print()
    print(ratio_line("confirm: check --confirm=layers / check (frameworks loaded)", warm, check_t, "informative"))
    print(ratio_line("  (first run, importing torch and jax)", cold, check_t, "informative"))
    # --confirm=model: one child process per file with declared models; measured on a few files
    few = mfiles[:4]
    static_few = best_of(lambda: run_check(few, cfg, use_cache=False, jobs=1, cwd=mrepo), 2)
    t = time.perf_counter()
    model = run_check(few, replace(cfg, confirm="model"), use_cache=False, jobs=1, cwd=mrepo)
    model_t = time.perf_counter() - t
    print(ratio_line(f"confirm: check --confirm=model / check ({len(few)} files)", model_t, static_few, "informative"))
    n += sum(1 for f in model.findings if f.code == "CVL010")
    print(f"  ({n} CVL010 findings; {len(model.warnings)} models not run: {model.warnings[0] if model.warnings else '-'})")


if __name__ == "__main__":
    sys.exit(main())
