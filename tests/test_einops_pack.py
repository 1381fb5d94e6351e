"""``einops.pack`` joins tensors of different ranks (the ``*`` part flattened): convlint's view of
the join against einops' own, run on real tensors."""

from __future__ import annotations

import textwrap

import pytest

from convlint.analysis import Project, analyze_file

SHAPES_OK = [(2, 4, 512), (2, 0, 512), (2, 7, 512), (2, 512)]  # vit-pytorch's register, action, extra tokens
SHAPES_BAD = [(2, 4, 512), (2, 512), (2, 7, 256)]


def _source(shapes) -> str:
    made = ", ".join(f"torch.randn{s}" for s in shapes)
    return textwrap.dedent(f'''\
        import torch
        from einops import pack


        def test_pack():
            packed, ps = pack(({made},), 'b * d')
            assert packed.shape == (999,)
        ''')


def _findings(tmp_path, shapes):
    test = tmp_path / "test_pack.py"
    test.write_text(_source(shapes))
    return analyze_file(Project(tmp_path), str(test), test.read_text()).findings


def _einops(shapes):
    torch = pytest.importorskip("torch")
    einops = pytest.importorskip("einops")
    try:
        return tuple(einops.pack(tuple(torch.randn(*s) for s in shapes), "b * d")[0].shape)
    except Exception as exc:  # einops' own refusal
        return exc


def test_tensors_of_different_ranks_pack_as_einops_packs_them(tmp_path):
    shape = _einops(SHAPES_OK)
    assert shape == (2, 12, 512)
    found = [f for f in _findings(tmp_path, SHAPES_OK) if f.severity == "error"]
    assert [f.code for f in found] == ["CVL011"] and f"packed.shape is {shape}" in found[0].message, found


def test_a_packed_dim_that_differs_is_a_merge_mismatch(tmp_path):
    assert isinstance(_einops(SHAPES_BAD), Exception)
    found = [f for f in _findings(tmp_path, SHAPES_BAD) if f.code == "CVL005"]
    assert len(found) == 1 and found[0].line == 6, [f.message for f in found]
    assert "dim 2: 512" in found[0].message and "256" in found[0].message
