"""``module.training``: ``train()``/``eval()`` set it on a module and its submodules; a module
nobody set is in training mode in a script or a test (as torch builds it), and in eval mode in a
model convlint runs for its shapes. Every expectation is torch's own: the test runs the code."""

from __future__ import annotations

import textwrap

import pytest

from convlint.analysis import Project, analyze_file

MODULE = '''\
import torch
from torch import nn


class Loss(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.proj = nn.Linear(dim, dim)

    def forward(self, x):
        if self.training:
            return x, torch.tensor(0.) + self.proj(x) * 2.0
        return x, torch.tensor(0.)


class Outer(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.inner = Loss(dim)

    def forward(self, x):
        return self.inner(x)
'''

# how the test builds the module, and sets its mode
CASES = {
    "fresh": "Loss(4)",
    "train": "Loss(4).train()",
    "eval": "Loss(4).eval()",
    "train_then_eval": "Loss(4).train().eval()",
    "train_false": "Loss(4).train(False)",
    "train_mode_true": "Loss(4).eval().train(mode=True)",
    "outer_eval": "Outer(4).eval()",  # a submodule follows its parent's mode
    "outer_train": "Outer(4).eval().train()",
}


def _torch_shape(build: str) -> tuple:
    torch = pytest.importorskip("torch")
    ns: dict = {}
    exec(compile(MODULE + f"\nm = {build}\nout = m(torch.randn(1, 8, 4))[1]\n", "example.py", "exec"), ns)  # noqa: S102 - our own example
    return tuple(ns["out"].shape)


def _cvl011(tmp_path, build: str, expected) -> list:
    (tmp_path / "losses.py").write_text(MODULE)
    test = tmp_path / "test_losses.py"
    test.write_text(textwrap.dedent(f'''\
        import torch
        from losses import Loss, Outer


        def test_loss():
            m = {build}
            _, loss = m(torch.randn(1, 8, 4))
            assert loss.shape == {expected!r}
        '''))
    result = analyze_file(Project(tmp_path), str(test), test.read_text())
    return [f.message for f in result.findings if f.code == "CVL011"]


@pytest.mark.parametrize("case", sorted(CASES))
def test_the_mode_is_torchs(tmp_path, case):
    build = CASES[case]
    shape = _torch_shape(build)
    assert _cvl011(tmp_path, build, shape) == []  # torch's own shape: the assert holds
    wrong = _cvl011(tmp_path, build, (999,))
    assert len(wrong) == 1 and f"loss.shape is ({', '.join(map(str, shape))})" in wrong[0]


def test_a_declared_model_is_followed_in_eval_mode(tmp_path):
    # the path inference takes: the Linear of the training path is never applied
    source = MODULE.replace("class Loss(nn.Module):", "class Loss(nn.Module):  # convlint: input=(1, 8, 4)", 1)
    source = source.replace("def __init__(self, dim):\n        super().__init__()\n        self.proj", "def __init__(self, dim=4):\n        super().__init__()\n        self.proj", 1)
    (tmp_path / "losses.py").write_text(source)
    result = analyze_file(Project(tmp_path), str(tmp_path / "losses.py"), source)
    runs = [r for r in result.runs if r.entry.name == "Loss"]
    assert len(runs) == 1 and not any(e.op.endswith("Linear") for e in runs[0].trace.events)
    assert tuple(runs[0].output[1].shape) == ()
