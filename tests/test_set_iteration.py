"""Iterating a set: in CPython's order where every run has the same one (numbers), unknown where
hash randomisation changes it (strings); ``sorted`` of any set is known. Expectations are Python's."""

from __future__ import annotations

import textwrap

import pytest

from convlint.analysis import Project, analyze_file

# (expression giving a tuple of ints, whether convlint knows it)
CASES = [
    ("tuple(list({3, 1, 2}))", True),
    ("tuple({*(5, 128, 256)})", True),
    ("tuple(x + 1 for x in {40, 8, 16})", True),
    ("(len(list({*(5, 128, 256)})),)", True),  # vector-quantize-pytorch's unique(): a length
    ("tuple(len(s) for s in sorted({'bb', 'a', 'ccc'}))", True),
    ("tuple(len(s) for s in {'bb', 'a', 'ccc'})", False),  # strings: the order changes between runs
    ("tuple(a * b for a, b in frozenset({(1, 2), (0, 5), (3, 3)}))", True),
    ("tuple(len(s) for s in {('a', 1), ('bb', 2)})", False),
]


def _python(expr: str):
    return eval(expr)  # noqa: S307 - our own expressions


@pytest.mark.parametrize("expr, known", CASES)
def test_a_set_is_iterated_as_python_does_where_every_run_agrees(tmp_path, expr, known):
    test = tmp_path / "test_sets.py"
    test.write_text(textwrap.dedent(f'''\
        import torch


        def test_sets():
            dims = {expr}
            assert torch.zeros(*dims, 1).shape == (999,)
        '''))
    result = analyze_file(Project(tmp_path), str(test), test.read_text())
    said = [f.message for f in result.findings if f.code == "CVL011"]
    dims = _python(expr)
    truth = f"is ({', '.join(map(str, (*dims, 1)))})"
    # whatever convlint says is Python's answer; where every run agrees, it says it
    assert all(truth in m for m in said), said
    assert (len(said) == 1) == known, said
