"""The result cache's dependencies, by statement: an edit of an imported module that the analysis
never read keeps its entry; an edit of what it read — or one that changes which statement a name
means, or a module that appears where an import found none — runs it again. A warm run always
reports what a cold one does."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from convlint.config import load_config
from convlint.pipeline import run_check

PARTS = '''\
from torch import nn


class Down(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, 2, stride=2)

    def forward(self, x):
        return self.conv(x)


class Up(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, 9)

    def forward(self, x):
        return self.conv(x)


class Other(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 3, 5)

    def forward(self, x):
        return self.conv(x)
'''

MODEL = '''\
from torch import nn

from parts import Down, Up


class Model(nn.Module):  # convlint: input=(1, 3, 15, 15)
    def __init__(self):
        super().__init__()
        self.down = Down(3, 16)
        self.up = Up(16, 3)

    def forward(self, x):
        return self.up(self.down(x))
'''


@pytest.fixture
def repo(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    root = tmp_path / "repo"
    root.mkdir()
    (root / "pyproject.toml").write_text("")
    (root / "parts.py").write_text(PARTS)
    (root / "model.py").write_text(MODEL)
    return root


def _check(root: Path, use_cache: bool = True):
    res = run_check(["model.py"], load_config(cwd=root), use_cache=use_cache, jobs=1, cwd=root)
    assert not res.errors
    return [f.to_json() for f in res.findings], res


def _warm_equals_cold(root: Path):
    """The warm run's findings (they must be the cold run's) and whether the entry was used."""
    warm, res = _check(root)
    cold, _ = _check(root, use_cache=False)
    assert warm == cold
    return warm, res.cache_hits == 1 and res.files_analyzed == 0


def _edit(root: Path, old: str, new: str) -> None:
    p = root / "parts.py"
    text = p.read_text()
    assert old in text
    p.write_text(text.replace(old, new, 1))


def test_the_fixture_reports_in_the_imported_module_and_is_cached(repo):
    first, res = _check(repo)
    assert {(f["code"], f["path"], f["line"]) for f in first} == {("CVL006", "parts.py", 7), ("CVL002", "parts.py", 16)}
    assert res.files_analyzed == 1
    again, hit = _warm_equals_cold(repo)
    assert hit and again == first


@pytest.mark.parametrize(
    "edit",
    [
        lambda t: t.replace("nn.Conv2d(3, 3, 5)", "nn.Conv2d(3, 3, 7)"),  # a block the model does not use
        lambda t: t + "# a comment at the end\n",
        lambda t: t.replace("    def __init__(self):\n", "    def __init__(self):  # a comment in it\n"),
    ],
    ids=["unused-block", "trailing-comment", "comment-in-unused-block"],
)
def test_an_edit_the_analysis_never_read_keeps_the_entry(repo, edit):
    before, _ = _check(repo)
    p = repo / "parts.py"
    p.write_text(edit(p.read_text()))
    assert p.read_text() != PARTS
    after, hit = _warm_equals_cold(repo)
    assert hit and after == before


@pytest.mark.parametrize(
    "old, new",
    [
        ("nn.Conv2d(cin, cout, 9)", "nn.Conv2d(cin, cout, 3)"),  # a block the model uses: CVL002 goes
        ("\n\nclass Down", "\n\n\nclass Down"),  # the lines of what it reported move
        ("        return self.conv(x)\n\n\nclass Other", "        return self.conv(x)\n\n\nUp = Down\n\n\nclass Other"),  # Up means another class
    ],
    ids=["used-block", "lines-move", "name-rebound"],
)
def test_an_edit_of_what_the_analysis_read_runs_it_again(repo, old, new):
    before, _ = _check(repo)
    _edit(repo, old, new)
    after, hit = _warm_equals_cold(repo)
    assert not hit and after != before


def test_a_comment_inside_a_used_block_runs_the_analysis_again(repo):
    _check(repo)
    _edit(repo, "self.conv = nn.Conv2d(cin, cout, 9)", "self.conv = nn.Conv2d(cin, cout, 9)  # why 9?")
    _, hit = _warm_equals_cold(repo)
    assert not hit  # the statement's text is what was read; comments in it included


def test_a_module_that_appears_where_an_import_found_none_runs_the_analysis_again(repo):
    (repo / "model.py").write_text(MODEL.replace("from parts import Down, Up", "from blocks import Down, Up"))
    before, res = _check(repo)
    assert before == [] and res.files_analyzed == 1  # blocks.py is not there: nothing is followed
    (repo / "blocks.py").write_text(PARTS)
    after, hit = _warm_equals_cold(repo)
    assert not hit and {f["path"] for f in after} == {"blocks.py"}


EDITS = [
    ("nn.Conv2d(cin, cout, 2, stride=2)", "nn.Conv2d(cin, cout, 3, stride=2, padding=1)"),
    ("nn.Conv2d(cin, cout, 9)", "nn.Conv2d(cin, cout, 3)"),
    ("nn.Conv2d(3, 3, 5)", "nn.Conv2d(3, 3, 1)"),
    ("\n\nclass Up", "\n\n# a comment between blocks\nclass Up"),
    ("\n\nclass Other", "\n\n\nclass Other"),
    ("\n\nclass Down", "\n\n\nclass Down"),
    ("from torch import nn\n", "from torch import nn\nDown = None\n"),
    ("    def forward(self, x):\n        return self.conv(x)\n\n\nclass Other", "    def forward(self, x):\n        return self.conv(x)[:, :, 1:]\n\n\nclass Other"),
]


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.sampled_from(range(len(EDITS))), min_size=1, max_size=4))
def test_a_warm_run_reports_what_a_cold_run_does_after_any_edits(repo, picks):
    (repo / "parts.py").write_text(PARTS)
    _check(repo)
    for k in picks:
        old, new = EDITS[k]
        text = (repo / "parts.py").read_text()
        if old in text:
            (repo / "parts.py").write_text(text.replace(old, new, 1))
        _warm_equals_cold(repo)  # asserts warm == cold


def test_an_imported_module_that_did_not_parse_runs_the_analysis_again_once_fixed(repo):
    (repo / "parts.py").write_text(PARTS.replace("class Up(nn.Module):", "class Up(nn.Module)"))  # a syntax error
    before, res = _check(repo)
    assert before == [] and res.files_analyzed == 1  # parts.py cannot be read: nothing is followed
    again, hit = _warm_equals_cold(repo)
    assert hit and again == []
    (repo / "parts.py").write_text(PARTS)
    after, hit = _warm_equals_cold(repo)
    assert not hit and {f["path"] for f in after} == {"parts.py"}
