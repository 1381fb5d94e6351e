"""Test functions are entries: a smoke test that builds a model (from a config object, a factory,
another file) and calls it on a literal-shaped tensor declares that model; findings are reported
in the files where the layers are, with the entry named in the message."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from convlint.config import Config
from convlint.interpret.entries import _parametrize_cases, is_test_file, pytest_entries
from convlint.pipeline import run_check

MODEL = '''
import torch
from torch import nn


class Net(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.conv1 = nn.Conv2d(cfg.in_ch, cfg.width, 3, padding=1)
        self.conv2 = nn.Conv2d(cfg.width * 2, cfg.width, 3, padding=1)

    def forward(self, x):
        return self.conv2(self.conv1(x))
'''

SMOKE = '''
from dataclasses import dataclass

import torch

from pkg.model import Net


@dataclass
class Cfg:
    in_ch: int = 3
    width: int = 16


def test_forward():
    model = Net(Cfg())
    y = model(torch.randn(1, 3, 32, 32))
    assert y.shape[1] == 16
'''


def _project(tmp_path: Path, smoke: str = SMOKE, model: str = MODEL, name: str = "test_model.py") -> Path:
    (tmp_path / "pyproject.toml").write_text("[tool.convlint]\ncache = false\n")
    (tmp_path / "pkg").mkdir(exist_ok=True)
    (tmp_path / "pkg" / "__init__.py").write_text("")
    (tmp_path / "pkg" / "model.py").write_text(textwrap.dedent(model))
    (tmp_path / "tests").mkdir(exist_ok=True)
    (tmp_path / "tests" / name).write_text(textwrap.dedent(smoke))
    return tmp_path


def _check(root: Path, *paths: str):
    return run_check(list(paths) or ["."], Config.default(str(root)), use_cache=False, cwd=root)


def test_a_smoke_test_declares_a_config_driven_model_and_its_finding_is_in_the_model_file(tmp_path):
    root = _project(tmp_path)
    res = _check(root)
    (f,) = [f for f in res.findings if f.code == "CVL003"]
    assert (f.path, f.line) == ("pkg/model.py", 10)
    assert "expects 32 input channels, but gets 16" in f.message
    assert f.message.endswith("(entry: tests/test_model.py::test_forward)")


def test_the_smoke_test_bug_is_real(tmp_path):
    """The oracle: running the smoke test's model in torch fails the way convlint says."""
    torch = pytest.importorskip("torch")
    root = _project(tmp_path)
    sys.path.insert(0, str(root))
    try:
        from pkg.model import Net  # noqa: PLC0415 - the fixture's own module

        cfg = type("Cfg", (), {"in_ch": 3, "width": 16})
        with pytest.raises(RuntimeError, match="expected input.*to have 32 channels, but got 16"):
            Net(cfg)(torch.randn(1, 3, 32, 32))
    finally:
        sys.path.remove(str(root))
        for m in [m for m in sys.modules if m == "pkg" or m.startswith("pkg.")]:
            del sys.modules[m]


def test_a_correct_model_in_a_smoke_test_is_clean(tmp_path):
    root = _project(tmp_path, model=MODEL.replace("cfg.width * 2, cfg.width", "cfg.width, cfg.width"))
    assert [f for f in _check(root).findings if f.severity in ("error", "warning")] == []


def test_a_simple_namespace_config_is_followed(tmp_path):
    smoke = '''
    from types import SimpleNamespace

    import torch

    from pkg.model import Net


    def test_forward():
        Net(SimpleNamespace(in_ch=3, width=8))(torch.randn(2, 3, 16, 16))
    '''
    root = _project(tmp_path, smoke=smoke)
    (f,) = [f for f in _check(root).findings if f.code == "CVL003"]
    assert "expects 16 input channels, but gets 8" in f.message and f.path == "pkg/model.py"


def test_a_fixture_argument_is_unknown_never_a_guess(tmp_path):
    smoke = '''
    import torch

    from pkg.model import Net


    def test_forward(cfg):
        Net(cfg)(torch.randn(1, 3, 32, 32))
    '''
    root = _project(tmp_path, smoke=smoke)
    assert [f for f in _check(root).findings if f.severity in ("error", "warning")] == []


def test_literal_parametrize_cases_are_followed_one_by_one(tmp_path):
    smoke = '''
    import pytest
    import torch
    from torch import nn


    @pytest.mark.parametrize("size", [32, 33])
    def test_pool(size):
        down = nn.Conv2d(3, 8, 3, stride=2, padding=1)
        up = nn.ConvTranspose2d(8, 3, 2, stride=2)
        x = torch.randn(1, 3, size, size)
        assert torch.cat([x, up(down(x))], dim=1).shape[1] == 6
    '''
    root = _project(tmp_path, smoke=smoke)
    res = _check(root)
    # 32 → 16 → 32 joins; 33 → 17 → 34 does not: the case with 33 is the one reported
    (f,) = [f for f in res.findings if f.code == "CVL005"]
    assert f.path == "tests/test_model.py" and f.line == 12
    assert "33" in f.message and "34" in f.message
    torch = pytest.importorskip("torch")
    down = torch.nn.Conv2d(3, 8, 3, stride=2, padding=1)
    up = torch.nn.ConvTranspose2d(8, 3, 2, stride=2)
    for size, ok in ((32, True), (33, False)):
        x = torch.randn(1, 3, size, size)
        y = up(down(x))
        assert (y.shape[-1] == size) is ok


def test_parametrize_cases_in_pytest_order():
    import libcst as cst

    fn = cst.parse_module(textwrap.dedent('''
    @pytest.mark.parametrize("x", [0, 1])
    @pytest.mark.parametrize("y, z", [(2, "a"), (3, "b")])
    def test_f(x, y, z):
        pass
    ''')).body[0]
    cases = _parametrize_cases(fn)
    assert [c for c, _ in cases] == ["2-a-0", "2-a-1", "3-b-0", "3-b-1"]  # what pytest names them
    assert cases[1][1] == {"x": 1, "y": 2, "z": "a"}
    unknown = cst.parse_module('@pytest.mark.parametrize("x", SIZES)\ndef test_f(x):\n    pass\n').body[0]
    assert _parametrize_cases(unknown) == [("", {})]


def test_only_files_pytest_collects_have_test_entries():
    import libcst as cst

    tree = cst.parse_module("import torch\n\ndef test_a():\n    torch.randn(1, 3, 8, 8)\n\ndef helper():\n    torch.randn(1, 3)\n\n"
                            "class TestNet:\n    def test_b(self):\n        torch.ones(1, 2)\n\n    def other(self):\n        pass\n\n"
                            "def test_nothing_to_run():\n    assert 1 + 1 == 2\n")
    assert [e.name for e in pytest_entries("tests/test_x.py", tree)] == ["test_a", "TestNet.test_b"]
    assert [e.name for e in pytest_entries("pkg/x_test.py", tree)] == ["test_a", "TestNet.test_b"]
    assert pytest_entries("pkg/model.py", tree) == [] and pytest_entries("pkg/testing.py", tree) == []
    assert is_test_file("a/b/test_unet.py") and not is_test_file("a/b/conftest.py")


def test_a_test_method_of_a_test_class_is_an_entry(tmp_path):
    smoke = '''
    import torch

    from pkg.model import Net


    class Cfg:
        in_ch = 3
        width = 4


    class TestNet:
        def test_forward(self):
            Net(Cfg())(torch.randn(1, 3, 8, 8))
    '''
    root = _project(tmp_path, smoke=smoke)
    (f,) = [f for f in _check(root).findings if f.code == "CVL003"]
    assert f.message.endswith("(entry: tests/test_model.py::TestNet.test_forward)")


def test_one_finding_when_the_model_file_and_the_smoke_test_see_the_same_problem(tmp_path):
    model = MODEL.replace("class Net(nn.Module):", "class Net(nn.Module):  # convlint: input=(1, 3, 32, 32) init(cfg=None)")
    model = model.replace("def __init__(self, cfg):\n        super().__init__()\n", "def __init__(self, cfg):\n        super().__init__()\n        cfg = cfg or Cfg()\n")
    model += "\n\nclass Cfg:\n    in_ch = 3\n    width = 16\n"
    root = _project(tmp_path, model=model)
    found = [f for f in _check(root).findings if f.code == "CVL003"]
    assert len(found) == 1 and found[0].path == "pkg/model.py"


def test_shapes_lists_a_test_entry_layer_by_layer(tmp_path):
    root = _project(tmp_path)
    out = subprocess.run([sys.executable, "-m", "convlint", "shapes", "tests/test_model.py", "--format", "json"], cwd=root, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    (m,) = json.loads(out.stdout)["models"]
    assert m["name"] == "test_forward"
    assert [(l["path"], l["line"], l["input"], l["output"]) for l in m["layers"]] == [
        ("pkg/model.py", 9, [1, 3, 32, 32], [1, 16, 32, 32]),
        ("pkg/model.py", 10, [1, 16, 32, 32], [1, 16, 32, 32]),
    ]


# a test that a wrong input is rejected: what fails inside ``pytest.raises`` is the test's point
GOOD_MODEL = MODEL.replace("cfg.width * 2, cfg.width", "cfg.width, cfg.width").replace(
    "    def forward(self, x):\n", "    def forward(self, x):\n        assert x.shape[2] == 32, 'the model takes 32x32 inputs'\n")

REJECTS = '''
import unittest
from types import SimpleNamespace

import pytest
import torch

from pkg.model import Net


def test_rejects_a_wrong_input():
    model = Net(SimpleNamespace(in_ch=3, width=8))
    assert model(torch.randn(1, 3, 32, 32)).shape == (1, 8, 32, 32)
    with pytest.raises(RuntimeError):
        y = model(torch.randn(1, 4, 32, 32))  # 4 channels into a 3-channel conv
    with pytest.raises(AssertionError, match="32x32"):
        model(torch.randn(1, 3, 16, 16))


class TestNet(unittest.TestCase):
    def test_rejects_a_wrong_size(self):
        model = Net(SimpleNamespace(in_ch=3, width=8))
        with self.assertRaises(AssertionError):
            model(torch.randn(1, 3, 16, 16))
'''


def test_what_fails_inside_pytest_raises_is_no_finding(tmp_path):
    root = _project(tmp_path, smoke=REJECTS, model=GOOD_MODEL)
    assert [(f.code, f.path, f.line) for f in _check(root).findings if f.severity in ("error", "warning")] == []


def test_the_same_failures_outside_pytest_raises_are_found(tmp_path):
    """The counterpart: without the context managers, both failures are reported."""
    smoke = REJECTS.replace("    with pytest.raises(RuntimeError):\n        y = ", "    y = ").replace(
        '    with pytest.raises(AssertionError, match="32x32"):\n        model(', "    model(")
    root = _project(tmp_path, smoke=smoke, model=GOOD_MODEL)
    codes = {f.code for f in _check(root).findings if f.severity in ("error", "warning")}
    assert {"CVL003", "CVL011"} <= codes


def test_the_tests_that_expect_failures_pass_under_pytest(tmp_path):
    """The oracle: pytest runs the fixture's tests for real, and they pass (each block raises)."""
    pytest.importorskip("torch")
    root = _project(tmp_path, smoke=REJECTS, model=GOOD_MODEL)
    out = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/test_model.py"], cwd=root,
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "2 passed" in out.stdout


def test_a_name_bound_in_a_block_meant_to_raise_is_unknown_after_it(tmp_path):
    """It raises somewhere inside: ``y`` may never have been bound there, and is not its value."""
    smoke = REJECTS.replace("    with pytest.raises(AssertionError, match=\"32x32\"):\n        model(torch.randn(1, 3, 16, 16))\n",
                            "    z = model(y)\n")
    root = _project(tmp_path, smoke=smoke, model=GOOD_MODEL)
    # (``model(y)`` with y the 4-channel input's output would be a CVL003 on conv1; y is unknown)
    assert [(f.code, f.line) for f in _check(root).findings if f.severity in ("error", "warning")] == []
