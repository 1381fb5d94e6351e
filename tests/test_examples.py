"""The bundled examples: ``convlint check examples/`` reports exactly the planted bugs listed in
examples/README.md, ``--fix`` repairs the fixable one and touches nothing else, and the planted
bugs are real (the frameworks fail, or return the wrong size, when the code runs)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.oracle import import_file

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"

# (path, code, line): every finding of `convlint check examples/`, nothing more
PLANTED = {
    ("examples/autoencoder.py", "CVL004", 24),
    ("examples/discriminator.py", "CVL001", 13),
    ("examples/jax_transpose.py", "CVL007", 30),
    ("examples/unet/model.py", "CVL003", 26),
    ("examples/unet/parts.py", "CVL006", 30),
    ("examples/unet/parts.py", "CVL004", 42),
    ("examples/unet/parts.py", "CVL005", 47),
}


def convlint(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "NO_COLOR": "1"}
    env.pop("FORCE_COLOR", None)
    return subprocess.run([sys.executable, "-m", "convlint", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


def findings(cwd: Path, *paths: str) -> tuple[int, list[dict]]:
    r = convlint(cwd, "check", *paths, "--format", "json", "--no-cache")
    assert r.returncode in (0, 1), r.stderr
    return r.returncode, json.loads(r.stdout)


def test_check_examples_reports_exactly_the_planted_bugs() -> None:
    status, found = findings(ROOT, "examples/")
    assert status == 1
    assert {(f["path"], f["code"], f["line"]) for f in found} == PLANTED
    assert len(found) == len(PLANTED)
    fixable = {(f["path"], f["code"]) for f in found if f["fix"] and f["fix"]["edits"]}
    assert fixable == {("examples/autoencoder.py", "CVL004")}


def test_examples_readme_lists_every_planted_finding() -> None:
    readme = (EXAMPLES / "README.md").read_text()
    for path, code, line in PLANTED:
        name = Path(path).name
        assert name in readme
        assert f"{code} at line {line}" in readme or f"{code} at `{name}:{line}`" in readme, (path, code, line)


def test_flax_example_is_clean() -> None:
    status, found = findings(ROOT, "examples/flax_autoencoder.py")
    assert (status, found) == (0, [])


def test_fix_repairs_the_autoencoder_and_changes_nothing_else(tmp_path: Path) -> None:
    work = tmp_path / "examples"
    shutil.copytree(EXAMPLES, work)
    before = {p.relative_to(work): p.read_bytes() for p in work.rglob("*") if p.is_file()}

    r = convlint(tmp_path, "check", "examples/", "--fix", "--no-cache")
    assert r.returncode == 1, r.stdout + r.stderr  # the other planted bugs remain
    assert "(1 fixed, 6 remaining)" in r.stdout

    after = {p.relative_to(work): p.read_bytes() for p in work.rglob("*") if p.is_file() and "__pycache__" not in p.parts and ".convlint_cache" not in p.parts}
    changed = {p for p in before if before[p] != after.get(p)}
    assert changed == {Path("autoencoder.py")}
    old, new = before[Path("autoencoder.py")].decode(), after[Path("autoencoder.py")].decode()
    diff = [(a, b) for a, b in zip(old.splitlines(), new.splitlines()) if a != b]
    assert diff == [
        (
            "            nn.ConvTranspose2d(16, 1, kernel_size=3, stride=2, padding=1),  # 14 -> 27, not 28",
            "            nn.ConvTranspose2d(16, 1, kernel_size=3, stride=2, padding=1, output_padding=1),  # 14 -> 27, not 28",
        )
    ]
    status, found = findings(tmp_path, "examples/")
    assert {(f["path"], f["code"], f["line"]) for f in found} == PLANTED - {("examples/autoencoder.py", "CVL004", 24)}

    torch = pytest.importorskip("torch")
    model = _load(work / "autoencoder.py").ConvAutoEncoder()
    assert tuple(model(torch.rand(16, 1, 28, 28)).shape) == (16, 1, 28, 28)


# ----------------------------------------------------------------------------- the bugs are real


def _load(path: Path):
    try:
        return import_file(path)
    finally:
        sys.modules.pop("parts", None)  # the U-Net's blocks, imported by the example


def test_planted_torch_bugs_fail_at_run_time() -> None:
    torch = pytest.importorskip("torch")
    ae = _load(EXAMPLES / "autoencoder.py").ConvAutoEncoder()
    assert tuple(ae(torch.rand(16, 1, 28, 28)).shape) == (16, 1, 27, 27)

    with pytest.raises(ValueError, match="padding='same' is not supported for strided convolutions"):
        _load(EXAMPLES / "discriminator.py").Discriminator()

    unet = _load(EXAMPLES / "unet" / "model.py").UNet(n_channels=3, n_classes=2)
    with pytest.raises(RuntimeError, match="Expected size 25 but got size 24"):
        unet(torch.zeros(1, 3, 100, 100))
    with pytest.raises(RuntimeError, match="expected input.* to have 32 channels, but got 64"):
        unet(torch.zeros(1, 3, 96, 96))


def test_jax_examples_shapes() -> None:
    pytest.importorskip("flax")
    jax = pytest.importorskip("jax")
    import jax.numpy as jnp

    flax_ae = _load(EXAMPLES / "flax_autoencoder.py").AutoEncoder()
    x = jax.ShapeDtypeStruct((8, 64, 64, 3), jnp.float32)
    variables = jax.eval_shape(flax_ae.init, jax.random.PRNGKey(0), x)
    assert jax.eval_shape(flax_ae.apply, variables, x).shape == (8, 64, 64, 3)

    src = (EXAMPLES / "jax_transpose.py").read_text()
    assert "rhs_dilation=(1, 1)" in src  # the planted CVL007: shapes are right, the operation is not
    from jax import lax

    down = jax.ShapeDtypeStruct((32, 64, 20, 20), jnp.float32)
    w = jax.ShapeDtypeStruct((256, 64, 5, 5), jnp.float32)
    dn = ("NCHW", "OIHW", "NCHW")
    as_planted = jax.eval_shape(lambda a, b: lax.conv_general_dilated(a, b, (1, 1), [(5, 5), (5, 5)], (3, 3), (1, 1), dn), down, w)
    adjoint = jax.eval_shape(lambda a, b: lax.conv_general_dilated(a, b, (1, 1), [(6, 8), (6, 8)], (3, 3), (2, 2), dn), down, w)
    assert as_planted.shape == adjoint.shape == (32, 256, 64, 64)
