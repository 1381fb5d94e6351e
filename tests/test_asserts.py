"""Asserts are facts: a shape assert decided false is CVL011 at its line (torch raises
AssertionError there), one left undecided narrows the values it names where that is certain."""

from __future__ import annotations

import textwrap

import pytest

from convlint.analysis import Project, analyze_file
from convlint.rules import get_rule


def _analyse(tmp_path, source: str):
    path = tmp_path / "model.py"
    path.write_text(textwrap.dedent(source))
    return analyze_file(Project(tmp_path), str(path), path.read_text())


def _codes(result):
    return sorted((f.code, f.line) for f in result.findings if f.severity in ("error", "warning"))


def _run_torch(source: str, cls: str, shape, init=None):
    """Execute the example in torch: the oracle for what convlint says."""
    torch = pytest.importorskip("torch")
    ns: dict = {}
    exec(compile(textwrap.dedent(source), "example.py", "exec"), ns)  # noqa: S102 - our own example
    return ns[cls](**(init or {}))(torch.randn(*shape))


@pytest.mark.parametrize("i", range(len(get_rule("CVL011").invalid)))
def test_every_invalid_torch_example_raises_assertion_error_in_torch(i):
    ex = get_rule("CVL011").invalid[i]
    if "flax" in ex.source:
        pytest.importorskip("flax")
        import jax  # noqa: PLC0415

        ns: dict = {"jax": jax}
        with pytest.raises(AssertionError):
            exec(compile(ex.source.replace("init(None,", "init(jax.random.PRNGKey(0),"), "example.py", "exec"), ns)  # noqa: S102
        return
    cls = "Block" if "class Block" in ex.source else "Head"
    shape, init = ((1, 8, 32, 32), None) if cls == "Block" else ((2, 48, 7, 7), {"in_ch": 64})
    with pytest.raises(AssertionError):
        _run_torch(ex.source, cls, shape, init)


def test_every_valid_torch_example_runs_in_torch():
    for src in get_rule("CVL011").valid:
        if "class Block" in src:
            _run_torch(src, "Block", (1, 8, 32, 32))
        elif "class Head" in src:
            _run_torch(src, "Head", (2, 48, 7, 7), {"in_ch": 48})
        elif "class Down" in src:
            _run_torch(src, "Down", (2, 3, 64, 64))


def test_a_failing_assert_no_longer_hides_the_rest_of_the_model(tmp_path):
    # before: the path ended silently at the assert; now the assert is the finding
    res = _analyse(tmp_path, """
        import torch.nn as nn


        class Net(nn.Module):  # convlint: input=(1, 3, 32, 32)
            def __init__(self):
                super().__init__()
                self.down = nn.Conv2d(3, 16, 3, stride=2, padding=1)

            def forward(self, x):
                x = self.down(x)
                assert x.shape[-2:] == (32, 32), "the stem keeps the size"
                return x
    """)
    (f,) = [f for f in res.findings if f.code == "CVL011"]
    assert f.line == 12
    assert "x.shape[-2:] is (16, 16) (from down)" in f.message


def test_an_assert_that_holds_or_is_undecided_is_not_reported(tmp_path):
    res = _analyse(tmp_path, """
        import torch.nn as nn


        class Net(nn.Module):  # convlint: input=(B, 3, H, W)
            def __init__(self):
                super().__init__()
                self.conv = nn.Conv2d(3, 16, 3, padding=1)

            def forward(self, x):
                assert x.ndim == 4
                assert x.shape[2] == x.shape[3]
                assert x.shape[-1] % 8 == 0
                x = self.conv(x)
                assert x.shape[1] == 16
                return x
    """)
    assert _codes(res) == []


def test_a_non_shape_assert_decided_false_still_ends_the_path_silently(tmp_path):
    res = _analyse(tmp_path, """
        import torch.nn as nn


        class Net(nn.Module):  # convlint: input=(1, 3, 8, 8) init(mode="b")
            def __init__(self, mode):
                super().__init__()
                assert mode in ("a",)
                self.conv = nn.Conv2d(3, 16, 3)

            def forward(self, x):
                return self.conv(x)
    """)
    assert [f for f in res.findings if f.code == "CVL011"] == []


def test_an_undecided_channel_assert_narrows_the_unknown_dim(tmp_path, monkeypatch):
    # the channel count comes from the environment: unknown to convlint; the assert pins it to
    # 48, and the conv built for 32 channels is then a certain mismatch (torch agrees: it raises)
    src = """
        import os

        import torch.nn as nn


        class Net(nn.Module):  # convlint: input=(1, 3, 32, 32)
            def __init__(self):
                super().__init__()
                self.c = int(os.environ["CHANNELS"])
                self.conv = nn.Conv2d(32, 8, 1)

            def forward(self, x):
                x = x.reshape(1, self.c, 8, -1)
                assert x.shape[1] == 48
                return self.conv(x)
    """
    res = _analyse(tmp_path, src)
    assert ("CVL003", 11) in _codes(res)
    assert "gets 48" in next(f.message for f in res.findings if f.code == "CVL003")
    monkeypatch.setenv("CHANNELS", "48")
    with pytest.raises(RuntimeError, match="expected input.*to have 32 channels, but got 48"):
        _run_torch(src, "Net", (1, 3, 32, 32))
    # without the assert, the channel count stays unknown: nothing is reported
    res = _analyse(tmp_path, src.replace("assert x.shape[1] == 48", "pass"))
    assert ("CVL003", 11) not in _codes(res)


def test_an_undecided_rank_assert_gives_the_rank_but_no_sizes(tmp_path):
    res = _analyse(tmp_path, """
        import os

        import torch.nn as nn


        class Net(nn.Module):  # convlint: input=(1, 3, 32, 32)
            def __init__(self):
                super().__init__()
                self.dims = [int(d) for d in os.environ["DIMS"].split(",")]
                self.conv = nn.Conv2d(3, 8, 3)

            def forward(self, x):
                y = x.reshape(self.dims)
                assert y.ndim == 3
                return self.conv(y)
    """)
    (run,) = [r for r in res.runs if r.entry.name == "Net"]
    (ev,) = run.trace.events
    assert ev.input is not None and len(ev.input) == 3  # a 3-d input: the conv treats it unbatched
    assert _codes(res) == []


def test_an_assert_on_the_shape_after_the_batch_gives_a_model_run_on_its_own_its_input(tmp_path):
    # karras_unet's ``assert x.shape[1:] == (self.channels, self.image_size, self.image_size)``:
    # the model's first layer is a functional conv behind a pad of the channel dim, which tells
    # nothing about the input's rank; the assert gives it all but the batch
    pytest.importorskip("torch")
    from tests.oracle import compared, runtime_trace, same_shape, write
    from convlint.commands.shapes import collect
    from convlint.config import Config

    path = write(tmp_path, """
        import torch
        import torch.nn as nn
        import torch.nn.functional as F


        class OnesConv(nn.Module):
            def __init__(self, dim_in, dim_out):
                super().__init__()
                self.weight = nn.Parameter(torch.randn(dim_out, dim_in + 1, 3, 3))

            def forward(self, x):
                x = F.pad(x, (0, 0, 0, 0, 1, 0), value=1.)
                return F.conv2d(x, self.weight, padding=1)


        class Net(nn.Module):
            def __init__(self, image_size, channels=4, dim=16):
                super().__init__()
                self.channels, self.image_size = channels, image_size
                self.inp = OnesConv(channels, dim)
                self.down = nn.Conv2d(dim, dim, 3, stride=2, padding=1)

            def forward(self, x):
                assert x.shape[1:] == (self.channels, self.image_size, self.image_size)
                return self.down(self.inp(x))
    """)
    models, _runs = collect([str(path)], config=Config.default(tmp_path), every=True)
    (net,) = [m for m in models if m["name"] == "Net"]
    assert net["input"] == ["B", 4, "image_size", "image_size"]
    rt = runtime_trace(path, "Net", (2, 4, 16, 16), init={"image_size": 16})
    ran = [(e.op, list(e.input), list(e.output)) for e in rt.events if compared(e.op)]
    followed = [(layer["op"], layer["input"], layer["output"]) for layer in net["layers"] if compared(layer["op"])]
    assert [r[0] for r in ran] == [f[0] for f in followed] and len(ran) >= 2
    names: dict = {}
    for r, f in zip(ran, followed):
        assert same_shape(f[1], r[1], names) and same_shape(f[2], r[2], names), (f, r)


def test_an_assert_on_the_trailing_dims_narrows_a_tensor_of_known_rank(tmp_path, monkeypatch):
    pytest.importorskip("torch")
    from tests.oracle import runtime_trace, static_model, write

    path = write(tmp_path, """
        import os

        import torch.nn as nn
        import torch.nn.functional as F


        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.size = (int(os.environ["CONVLINT_TEST_H"]), int(os.environ["CONVLINT_TEST_W"]))
                self.conv = nn.Conv2d(3, 8, 3, stride=2)

            def forward(self, x):
                h = F.interpolate(x, size=self.size)
                assert h.shape[2:] == (32, 32)
                return self.conv(h)
    """)
    monkeypatch.setenv("CONVLINT_TEST_H", "32")
    monkeypatch.setenv("CONVLINT_TEST_W", "32")
    static = static_model(path, "Net", (1, 3, 20, 20))
    # the interpolation's output is not known where it is made; after the assert, the conv's is
    conv = [layer for layer in static["layers"] if layer["op"] == "torch.nn.Conv2d"]
    rt = [e for e in runtime_trace(path, "Net", (1, 3, 20, 20)).events if e.op == "torch.nn.Conv2d"]
    assert [(c["input"], c["output"]) for c in conv] == [(list(e.input), list(e.output)) for e in rt] == [([1, 3, 32, 32], [1, 8, 15, 15])]
