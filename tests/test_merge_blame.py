"""CVL005 on the layer at fault: a residual branch whose one layer changes the size.

The oracle is torch: every generated block is built and run on a tiny CPU tensor. When convlint
puts the finding on a layer, the edit its message names for that layer (the padding that keeps the
size, or no stride) must make the real block run; when the shortcut is an identity and the branch
strides, the finding stays at the merge.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st

from convlint.analysis import Project, analyze_file
from convlint.config import Config
from tests.oracle import import_file

torch = pytest.importorskip("torch")


def _source(convs: list[tuple[int, int, int]], proj_stride: int | None, size: int) -> str:
    lines = [
        "import torch.nn as nn",
        "",
        "",
        f"class Block(nn.Module):  # convlint: input=(1, 4, {size}, {size})",
        "    def __init__(self):",
        "        super().__init__()",
    ]
    for i, (k, s, p) in enumerate(convs):
        lines.append(f"        self.conv{i} = nn.Conv2d(4, 4, {k}, stride={s}, padding={p})")
    if proj_stride is not None:
        lines.append(f"        self.proj = nn.Conv2d(4, 4, 1, stride={proj_stride})")
    lines += ["", "    def forward(self, x):", "        y = x"]
    lines += [f"        y = self.conv{i}(y)" for i in range(len(convs))]
    lines.append("        return (self.proj(x) if hasattr(self, 'proj') else x) + y" if proj_stride is not None else "        return x + y")
    return "\n".join(lines) + "\n"


def _runs(tmp_path: Path, src: str, size: int, name: str) -> bool:
    path = tmp_path / f"{name}.py"
    path.write_text(src)
    mod = import_file(path)
    try:
        mod.Block()(torch.zeros(1, 4, size, size))
    except RuntimeError:
        return False
    return True


def _findings(tmp_path: Path, src: str):
    path = tmp_path / "block.py"
    path.write_text(src)
    project = Project(tmp_path, config=Config.default(tmp_path))
    return [f for f in analyze_file(project, str(path), src).findings if f.code == "CVL005"]


def _conv_line(src: str, i: int) -> int:
    return next(n for n, line in enumerate(src.splitlines(), 1) if f"self.conv{i} = " in line)


_CONV = st.tuples(st.sampled_from([1, 3, 5]), st.just(1), st.integers(0, 3))


@settings(max_examples=30, deadline=None, database=None)
@given(
    convs=st.lists(st.sampled_from([(3, 1, 1), (1, 1, 0), (5, 1, 2), (3, 2, 1)]), min_size=1, max_size=3),
    bad=st.data(),
    proj=st.sampled_from([None, 1, 2]),
    size=st.sampled_from([8, 12, 16]),
)
def test_a_blamed_layer_is_one_edit_from_a_block_that_runs(tmp_path_factory, convs, bad, proj, size):
    tmp_path = tmp_path_factory.mktemp("blame")
    convs = list(convs)
    i = bad.draw(st.integers(0, len(convs) - 1))
    convs[i] = bad.draw(_CONV.filter(lambda c: c != convs[i]) | st.just((convs[i][0], 2, convs[i][2])))
    src = _source(convs, proj, size)
    if _runs(tmp_path, src, size, "bad_block"):
        return  # the edit kept the block working (or it broadcasts): nothing to report
    found = _findings(tmp_path, src)
    for f in found:
        lines = {_conv_line(src, j): j for j in range(len(convs))}
        if f.line not in lines:
            continue  # at the merge: nothing blamed
        j = lines[f.line]
        k, s, p = convs[j]
        fixed = list(convs)
        if "strides by" in f.message:
            fixed[j] = (k, 1, p)
        else:
            assert "keeps the size" in f.message, f.message
            fixed[j] = (k, s, int(f.message.split("padding=")[1].split(" ")[0]))
        assert _runs(tmp_path, _source(fixed, proj, size), size, "fixed_block"), (src, f.message)


def test_a_stride_1_conv_that_changes_the_size_is_blamed(tmp_path):
    src = _source([(3, 1, 1), (3, 1, 2)], None, 16)
    assert not _runs(tmp_path, src, 16, "m1")
    (f,) = _findings(tmp_path, src)
    assert f.line == _conv_line(src, 1)
    assert f.message.startswith("conv1 adds 2 rows in dim 2 (16 → 18), which the other branch of the merge at line 14 does not; padding=1 keeps the size")
    assert [r.line for r in f.related] == [14]


def test_the_extra_stride_is_blamed_when_the_projection_strides_once(tmp_path):
    src = _source([(3, 2, 1), (3, 2, 1)], 2, 16)
    assert not _runs(tmp_path, src, 16, "m2")
    (f,) = _findings(tmp_path, src)
    # both convs stride by 2 in the same way: which one is extra cannot be told
    assert f.line == 15
    src = src.replace("self.conv1 = nn.Conv2d(4, 4, 3, stride=2,", "self.conv1 = nn.Conv2d(4, 4, 3, stride=(2, 2),")
    src = src.replace("self.proj = nn.Conv2d(4, 4, 1, stride=2)", "self.proj = nn.Conv2d(4, 4, 1, stride=2)")
    (f,) = _findings(tmp_path, src)
    assert f.line == _conv_line(src, 1) and "one stride more than the other branch" in f.message


def test_a_strided_branch_against_an_identity_shortcut_stays_at_the_merge(tmp_path):
    src = _source([(3, 2, 1)], None, 16)
    assert not _runs(tmp_path, src, 16, "m3")
    (f,) = _findings(tmp_path, src)
    assert f.line == 12  # the '+': the shortcut may lack its projection


def test_a_pad_and_its_conv_are_one_step(tmp_path):
    src = (
        "import torch.nn as nn\n\n\nclass Block(nn.Module):  # convlint: input=(1, 4, 16, 16)\n"
        "    def __init__(self):\n        super().__init__()\n        self.block = nn.Sequential(\n"
        "            nn.ReflectionPad2d(1),\n            nn.Conv2d(4, 4, 5),\n            nn.ReLU(),\n"
        "            nn.ReflectionPad2d(1),\n            nn.Conv2d(4, 4, 3),\n        )\n\n"
        "    def forward(self, x):\n        return x + self.block(x)\n"
    )
    assert not _runs(tmp_path, src, 16, "m4")
    (f,) = _findings(tmp_path, src)
    assert f.line == 9 and f.message.startswith("block.1 removes 2 rows in dim 2 (16 → 14)")
