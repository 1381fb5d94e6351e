"""Flax modules run on their own: a dataclass field that holds a size (``features: int``) is a
symbolic size, the input's rank is fixed by the first conv, module-level ``partial``s of a model
class are models too, and ``x.shape != y.shape`` between symbolic shapes is decided when a pair of
sizes always differs. jax is the oracle: ``jax.eval_shape`` runs the same modules."""

from __future__ import annotations

import pytest

from convlint.analysis import Project, analyze_file

BLOCKS = '''\
from functools import partial
from typing import Sequence

import flax.linen as nn


class Unit(nn.Module):
    features: int
    strides: Sequence[int] = (1, 1)

    @nn.compact
    def __call__(self, x):
        residual = x
        if x.shape[-1] != self.features * 4 or self.strides != (1, 1):
            residual = nn.Conv(self.features * 4, (1, 1), self.strides, name="proj")(residual)
        y = nn.Conv(self.features, (1, 1))(x)
        y = nn.relu(y)
        y = nn.Conv(
            self.features,
            (3, 3),
            strides=SECOND,
            padding="SAME",
        )(y)
        y = nn.Conv(self.features * 4, (1, 1))(y)
        return nn.relu(residual + y)


class Net(nn.Module):
    stage_sizes: Sequence[int]
    block: nn.Module
    width: int = 8

    @nn.compact
    def __call__(self, x):
        x = nn.Conv(self.width, (3, 3), (2, 2), padding="SAME")(x)
        for i, n in enumerate(self.stage_sizes):
            for j in range(n):
                x = self.block(self.width * 2**i, strides=(2, 2) if i > 0 and j == 0 else (1, 1))(x)
        return x


Net2 = partial(Net, stage_sizes=[1, 1], block=Unit)
Net3 = partial(Net, stage_sizes=[1, 1, 1], block=Unit)
'''

CONV_LINE = 18  # the second conv's call, over several lines
STRIDES_LINE = 21  # its ``strides=SECOND,``


def _source(second: str) -> str:
    return BLOCKS.replace("SECOND", second)


def _jax_runs(source: str, size: int) -> bool:
    jax = pytest.importorskip("jax")
    pytest.importorskip("flax")
    ns: dict = {}
    exec(compile(source, "blocks.py", "exec"), ns)  # noqa: S102 - our own example
    model = ns["Net2"]()
    x = jax.ShapeDtypeStruct((1, size, size, 3), jax.numpy.float32)
    try:
        jax.eval_shape(lambda x: model.init_with_output(jax.random.PRNGKey(0), x)[0], x)
    except (TypeError, ValueError):
        return False
    return True


def _analyse(tmp_path, source):
    path = tmp_path / "blocks.py"
    path.write_text(source)
    return analyze_file(Project(tmp_path), str(path), source)


def test_the_blocks_run_on_their_own_with_every_layer_resolved(tmp_path):
    source = _source("self.strides")
    assert _jax_runs(source, 32) and _jax_runs(source, 37)
    result = _analyse(tmp_path, source)
    assert [f for f in result.findings if f.severity in ("error", "warning")] == []
    runs = {r.entry.name: r for r in result.runs}
    # Net3 gives the same classes as Net2 (other numbers only): the first such partial is run
    assert {"Unit", "Net2"} <= set(runs) and "Net3" not in runs
    for name in ("Unit", "Net2"):
        convs = [e for e in runs[name].trace.events if e.op == "flax.linen.Conv"]
        assert convs and all(e.output is not None and all(not hasattr(d, "reason") for d in e.output) for e in convs), name
    first = [e for e in runs["Unit"].trace.events if e.op == "flax.linen.Conv"][0]
    assert [str(d) for d in first.input] == ["B", "H", "W", "C"]


def test_a_second_stride_in_the_block_is_reported_on_the_conv_to_edit(tmp_path):
    source = _source("(2, 2)")
    assert not _jax_runs(source, 32)  # the residual and the block's output differ
    found = [f for f in _analyse(tmp_path, source).findings if f.code == "CVL005"]
    assert len(found) == 1, found
    # the conv's call, which spans the ``strides=`` line
    assert found[0].line == CONV_LINE and found[0].end_line >= STRIDES_LINE
    assert "strides by 2 in dim 1" in found[0].message and "one stride more than the other branch of the merge at line 25" in found[0].message


def test_partials_are_listed_at_their_line_with_what_they_leave_open(tmp_path):
    from convlint.commands.shapes import _list_json, collect

    path = tmp_path / "blocks.py"
    path.write_text(_source("self.strides"))
    _models, runs = collect([str(path)], every=True)
    rows = {r["name"]: r for r in map(_list_json, runs)}
    assert rows["Net2"]["line"] == 42 and "Net3" not in rows
    assert rows["Net2"]["status"] == "defaults" and rows["Net2"]["needs"] == []
    assert rows["Unit"]["status"] == "symbolic" and rows["Unit"]["symbolic"] == ["features"]
    assert rows["Net"]["status"] == "needs-arguments" and rows["Net"]["needs"] == ["stage_sizes", "block"]


def test_a_block_used_by_a_model_convlint_cannot_build_is_still_checked_on_its_own(tmp_path):
    # ``Stage`` needs ``block_size`` and ``first_stride`` (no sizes: not made up); the units it
    # applies get unknowns, so ``Unit`` run on its own is what finds the second stride
    source = _source("(2, 2)").split("\n\nclass Net(")[0] + '''


class Stage(nn.Module):
    block_size: int
    nout: int
    first_stride: Sequence[int]

    @nn.compact
    def __call__(self, x):
        x = Unit(self.nout, strides=self.first_stride)(x)
        for _ in range(1, self.block_size):
            x = Unit(self.nout)(x)
        return x
'''
    found = [f for f in _analyse(tmp_path, source).findings if f.code == "CVL005"]
    assert [f.line for f in found] == [CONV_LINE]


SHAPE_TEST = '''\
import flax.linen as nn


class Down(nn.Module):
    @nn.compact
    def __call__(self, x):
        x = nn.Conv(16, (3, 3))(x)
        y = nn.Conv(32, (3, 3), (2, 2))(x)
        residual = x
        if residual.shape != y.shape:  # 16 features against 32: they differ, whatever H is
            residual = nn.Conv(32, (1, 1), (2, 2), name="proj")(residual)
        return residual + y
'''


def test_shapes_that_differ_in_a_known_size_compare_unequal(tmp_path):
    jax = pytest.importorskip("jax")
    pytest.importorskip("flax")
    ns: dict = {}
    exec(compile(SHAPE_TEST, "down.py", "exec"), ns)  # noqa: S102 - our own example
    x = jax.ShapeDtypeStruct((1, 9, 9, 3), jax.numpy.float32)
    out = jax.eval_shape(lambda x: ns["Down"]().init_with_output(jax.random.PRNGKey(0), x)[0], x)
    assert out.shape == (1, 5, 5, 32)
    result = _analyse(tmp_path, SHAPE_TEST)
    (run,) = [r for r in result.runs if r.entry.name == "Down"]
    assert [str(d) for d in run.output.shape] == ["B", "(H + 1)//2", "(W + 1)//2", "32"]
    assert [e.name for e in run.trace.events if e.op == "flax.linen.Conv"][-1] == "proj"


PADDED = '''\
import flax.linen as nn


class Stem(nn.Module):
    @nn.compact
    def __call__(self, x):
        x = nn.Conv(8, (3, 3), (2, 2), padding=PADDING)(x)
        return nn.Conv(8, (5, 5), (3, 3), padding=PADDING)(x)
'''


@pytest.mark.parametrize("padding", ["'valid'", "'VALID'", "'same'", "'SAME'", "((1, 2), (0, 1))"])
def test_a_symbolic_run_gives_jax_s_sizes_for_every_padding_spelling(tmp_path, padding):
    jax = pytest.importorskip("jax")
    pytest.importorskip("flax")
    source = PADDED.replace("PADDING", padding)
    ns: dict = {}
    exec(compile(source, "stem.py", "exec"), ns)  # noqa: S102 - our own example
    result = _analyse(tmp_path, source)
    (run,) = [r for r in result.runs if r.entry.name == "Stem"]
    h, w = run.output.shape[1], run.output.shape[2]
    for size in (9, 10, 16, 23, 40):
        x = jax.ShapeDtypeStruct((1, size, size + 1, 3), jax.numpy.float32)
        out = jax.eval_shape(lambda x: ns["Stem"]().init_with_output(jax.random.PRNGKey(0), x)[0], x)
        assert (h.evaluate({"H": size}), w.evaluate({"W": size + 1})) == out.shape[1:3], (padding, size)
