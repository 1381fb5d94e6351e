"""Checking a file checks what reaches it: ``convlint check parts.py`` (a pre-commit hook passes only
the staged files) analyses the project's files that import parts.py, directly or through others,
and reports what they find in parts.py."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap

import pytest
from pathlib import Path

from convlint.source.importers import importers, imports_of

ROOT = Path(__file__).resolve().parents[1]


def convlint(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("FORCE_COLOR", "CONVLINT_DEBUG")}
    return subprocess.run([sys.executable, "-m", "convlint", *args], cwd=cwd, env={**env, "NO_COLOR": "1"}, capture_output=True, text=True, timeout=300)


def unet_repo(tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    shutil.copytree(ROOT / "examples" / "unet", repo)
    (repo / "pyproject.toml").write_text("[tool.convlint]\ncache = false\n")
    subprocess.run(["git", "init", "-q"], cwd=repo, check=True)
    return repo


def test_staging_only_parts_reports_the_bug_the_unet_runs_into(tmp_path):
    repo = unet_repo(tmp_path)
    # the hook's command line: only the staged file, with the excludes applied to it
    r = convlint(repo, "check", "--force-exclude", "--format", "json", "parts.py")
    assert r.returncode == 1, r.stderr
    found = json.loads(r.stdout)
    assert {(f["path"], f["code"], f["line"]) for f in found} == {("parts.py", "CVL006", 30), ("parts.py", "CVL004", 42), ("parts.py", "CVL005", 47)}
    assert all(f["message"].endswith("(entry: model.py::UNet)") for f in found)
    # model.py's own bug (its head) is not in a file that was given: not reported
    assert not any(f["path"] == "model.py" for f in found)


def test_a_planted_bug_in_parts_only_a_smoke_test_reaches(tmp_path):
    repo = unet_repo(tmp_path)
    model = (repo / "model.py").read_text().replace("  # convlint: input=(4, 3, 100, 100) init(n_channels=3, n_classes=2)", "")
    (repo / "model.py").write_text(model.replace("nn.Conv2d(width // 2,", "nn.Conv2d(width,"))
    # a 96×96 input joins at every level; the planted bug: Down pools with a 3×3 window, stride 2
    (repo / "parts.py").write_text((repo / "parts.py").read_text().replace("nn.MaxPool2d(2)", "nn.MaxPool2d(3, stride=2)"))
    (repo / "tests").mkdir()
    (repo / "tests" / "test_unet.py").write_text(textwrap.dedent("""
        import torch

        from model import UNet


        def test_forward():
            y = UNet(n_channels=3, n_classes=2)(torch.randn(1, 3, 96, 96))
            assert y.shape == (1, 2, 96, 96)
    """))
    r = convlint(repo, "check", "--format", "json", "parts.py")
    found = json.loads(r.stdout)
    assert r.returncode == 1, r.stderr
    assert {f["code"] for f in found} >= {"CVL005"}
    assert all(f["path"] == "parts.py" for f in found)
    assert any(f["message"].endswith("(entry: tests/test_unet.py::test_forward)") for f in found)
    # the oracle: torch fails at that cat
    torch = __import__("pytest").importorskip("torch")
    sys.path.insert(0, str(repo))
    try:
        import model as unet_model  # noqa: PLC0415

        with __import__("pytest").raises(RuntimeError, match="Sizes of tensors must match"):
            unet_model.UNet(3, 2)(torch.randn(1, 3, 96, 96))
    finally:
        sys.path.remove(str(repo))
        for m in ("model", "parts"):
            sys.modules.pop(m, None)


def test_checking_the_whole_project_is_unchanged(tmp_path):
    repo = unet_repo(tmp_path)
    r = convlint(repo, "check", "--format", "json", ".")
    found = json.loads(r.stdout)
    assert sorted((f["path"], f["line"]) for f in found) == [("model.py", 26), ("parts.py", 30), ("parts.py", 42), ("parts.py", 47)]


def test_imports_are_read_without_parsing():
    text = textwrap.dedent("""
        import torch, a.b as ab
        from . import sibling
        from ..pkg.mod import (
            Up,
            Down as D,
        )
        from x import *  # noqa
        def f():
            from lazy import thing
    """)
    assert imports_of(text) == [
        (0, "torch", None), (0, "a.b", None), (1, "", "sibling"), (2, "pkg.mod", "Up"), (2, "pkg.mod", "Down"), (0, "x", "*"), (0, "lazy", "thing"),
    ]


def test_importers_are_transitive_and_resolved_like_the_interpreter(tmp_path):
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text("")
    (tmp_path / "pkg" / "parts.py").write_text("import torch\n")
    (tmp_path / "pkg" / "model.py").write_text("from .parts import Up\n")
    (tmp_path / "pkg" / "other.py").write_text("from pkg import model\n")
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_model.py").write_text("from pkg.model import Net\n")
    (tmp_path / "unrelated.py").write_text("import parts\n")  # no parts.py next to it or at the root
    (tmp_path / "cycle_a.py").write_text("import cycle_b\nfrom pkg import parts\n")
    (tmp_path / "cycle_b.py").write_text("import cycle_a\n")
    files = sorted(tmp_path.rglob("*.py"))
    got = importers([tmp_path / "pkg" / "parts.py"], files, tmp_path)
    # nearest first: the direct importers, then those that import them
    assert [p.relative_to(tmp_path).as_posix() for p in got] == ["cycle_a.py", "pkg/model.py", "cycle_b.py", "pkg/other.py", "tests/test_model.py"]


def test_a_package_reexport_is_followed_to_the_module_that_defines_the_name(tmp_path):
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text("from .unet import UNet\nfrom .vae import VAE\n")
    (tmp_path / "pkg" / "unet.py").write_text("from .parts import Up\n")
    (tmp_path / "pkg" / "parts.py").write_text("Up = 1\n")
    (tmp_path / "pkg" / "vae.py").write_text("VAE = 1\n")
    (tmp_path / "test_unet.py").write_text("from pkg import UNet\n")
    (tmp_path / "test_vae.py").write_text("from pkg import VAE\n")
    files = sorted(tmp_path.rglob("*.py"))
    assert [p.name for p in importers([tmp_path / "pkg" / "parts.py"], files, tmp_path)] == ["unet.py", "__init__.py", "test_unet.py"]


def test_a_depthwise_block_run_with_symbolic_sizes_is_not_a_rejected_configuration(tmp_path):
    """groups=in_channels with in_channels symbolic (a model class run on its own, reached from a
    staged file) is a positive size the arithmetic cannot check, not a CVL001 (was a false alarm
    on timm's conv2d_same.py when separable_conv.py imports it)."""
    (tmp_path / "pyproject.toml").write_text("[tool.convlint]\ncache = false\n")
    (tmp_path / "conv.py").write_text("import torch.nn as nn\n\n\ndef make(cin, cout, k, **kw):\n    return nn.Conv2d(cin, cout, k, **kw)\n")
    (tmp_path / "sep.py").write_text(textwrap.dedent("""
        import torch.nn as nn
        from conv import make


        class SepConv(nn.Module):
            def __init__(self, in_channels, out_channels):
                super().__init__()
                self.dw = make(in_channels, in_channels, 3, padding=1, groups=in_channels)
                self.pw = nn.Conv2d(in_channels, out_channels, 1)

            def forward(self, x):
                return self.pw(self.dw(x))
    """))
    r = convlint(tmp_path, "check", "--format", "json", "conv.py")
    assert r.returncode == 0 and json.loads(r.stdout) == [], r.stdout + r.stderr
    torch = __import__("pytest").importorskip("torch")
    sys.path.insert(0, str(tmp_path))
    try:
        import sep  # noqa: PLC0415

        assert tuple(sep.SepConv(8, 16)(torch.randn(1, 8, 10, 10)).shape) == (1, 16, 10, 10)
    finally:
        sys.path.remove(str(tmp_path))
        for m in ("sep", "conv"):
            sys.modules.pop(m, None)


def test_the_import_scan_reads_regular_files_only(tmp_path):
    # a link to /dev/zero named *.py beside the file checked: the reverse-import scan read it
    # until memory ran out (caught by the pre-commit test over the hostile repository)
    from convlint.source.importers import importers

    (tmp_path / "parts.py").write_text("import torch\n")
    (tmp_path / "model.py").write_text("from parts import *\n")
    os.symlink("/dev/zero", tmp_path / "zero.py")
    files = [tmp_path / "parts.py", tmp_path / "model.py", tmp_path / "zero.py"]
    assert importers([tmp_path / "parts.py"], files, tmp_path) == [tmp_path / "model.py"]


def _ranking_repo(tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    (repo / "pkg" / "blocks").mkdir(parents=True)
    (repo / "tests").mkdir()
    (repo / "pyproject.toml").write_text("[tool.convlint]\ncache = false\n")
    (repo / "pkg" / "__init__.py").write_text("")
    (repo / "pkg" / "blocks" / "__init__.py").write_text("")
    (repo / "pkg" / "blocks" / "parts.py").write_text("import torch.nn as nn\n\n\nclass Down(nn.Module):\n    def __init__(self, c):\n        super().__init__()\n        self.conv = nn.Conv2d(c, c, 3)\n\n    def forward(self, x):\n        return self.conv(x)\n")
    (repo / "pkg" / "blocks" / "unet.py").write_text("from .parts import Down\n\nclass UNet(Down):\n    pass\n")
    (repo / "pkg" / "vae.py").write_text("from pkg.blocks.parts import Down\n\nVAE = Down\n")
    (repo / "declared.py").write_text("from pkg.blocks.parts import Down\n\nDown(3)  # convlint: input=(1, 3, 8, 8)\n")
    (repo / "train.py").write_text("import torch\nfrom pkg.vae import Down\n\nif __name__ == '__main__':\n    Down(3)(torch.randn(1, 3, 8, 8))\n")
    (repo / "tests" / "test_unet.py").write_text("import torch\nfrom pkg.blocks.unet import UNet\n\ndef test_unet():\n    UNet(3)(torch.randn(1, 3, 8, 8))\n")
    (repo / "tests" / "test_parts.py").write_text("import torch\nfrom pkg.blocks.parts import Down\n\ndef test_down():\n    Down(3)(torch.randn(1, 3, 8, 8))\n")
    return repo


def test_importers_are_ranked_by_what_their_entries_add(tmp_path):
    from convlint.source.importers import KINDS, ranked_importers

    repo = _ranking_repo(tmp_path)
    files = sorted(repo.rglob("*.py"))
    ranked = ranked_importers([repo / "pkg" / "blocks" / "parts.py"], files, repo)
    got = [(i.path.relative_to(repo).as_posix(), KINDS[i.kind], i.hops) for i in ranked]
    assert got == [
        ("declared.py", "declares a model", 1),
        ("tests/test_parts.py", "test", 1),  # named after the checked file
        ("tests/test_unet.py", "test", 2),
        ("train.py", "script", 1),
        ("pkg/blocks/unet.py", "module", 1),  # the same folder as parts.py
        ("pkg/vae.py", "module", 1),
    ]
    # unet.py names no conv-family layer: the prefilter drops it (it is never analysed)
    assert [i.admitted for i in ranked] == [True, True, True, True, False, False]


def test_max_importers_bounds_the_files_analysed_and_says_so(tmp_path):
    repo = _ranking_repo(tmp_path)
    r = convlint(repo, "check", "--format", "json", "pkg/blocks/parts.py")
    assert r.returncode == 0, r.stdout + r.stderr
    # 6 importers, 4 admitted by the prefilter, 2 analysed by default
    assert "6 files import pkg/blocks/parts.py (directly or through others); the 2 most relevant of those that may run its code were analysed" in r.stderr
    with open(repo / "pyproject.toml", "a") as f:
        f.write("max-importers = 4\n")
    r = convlint(repo, "check", "--format", "json", "pkg/blocks/parts.py")
    assert r.returncode == 0 and "may run its code" not in r.stderr, r.stderr  # all 4 admitted analysed
    (repo / "pyproject.toml").write_text("[tool.convlint]\ncache = false\n")
    with open(repo / "pyproject.toml", "a") as f:
        f.write("max-importers = 1\n")
    r = convlint(repo, "check", "--format", "json", "pkg/blocks/parts.py")
    assert "6 files import pkg/blocks/parts.py (directly or through others); the 1 most relevant of those that may run its code were analysed" in r.stderr
    (repo / "pyproject.toml").write_text("[tool.convlint]\ncache = false\nmax-importers = 0\n")
    r = convlint(repo, "check", "--format", "json", "pkg/blocks/parts.py")
    assert r.returncode == 0 and "import" not in r.stderr, r.stderr
    (repo / "pyproject.toml").write_text("[tool.convlint]\nmax-importers = -1\n")
    r = convlint(repo, "check", "pkg/blocks/parts.py")
    assert r.returncode == 2 and "max-importers" in r.stderr and "non-negative integer" in r.stderr


def test_a_second_scan_reads_only_the_files_that_changed(tmp_path, monkeypatch):
    import convlint.source.files as files_mod
    from convlint.source.importers import ScanState, ranked_importers

    repo = _ranking_repo(tmp_path)
    files = sorted(repo.rglob("*.py"))
    target = [repo / "pkg" / "blocks" / "parts.py"]
    reads = []
    real = files_mod.read_regular
    monkeypatch.setattr(files_mod, "read_regular", lambda p, *a, **k: reads.append(os.path.basename(p)) or real(p, *a, **k))
    cold = ranked_importers(target, files, repo)
    assert len(reads) == len(files)
    state = ScanState(repo)
    assert ranked_importers(target, files, repo, state) == cold
    # kept as JSON between runs (the cache authenticates it): the same answer, nothing re-read
    state = ScanState.from_json(repo, json.loads(json.dumps(state.to_json())))
    reads.clear()
    assert ranked_importers(target, files, repo, state) == cold and reads == []
    # a file edited (a new importer) is read again; the graph follows it
    (repo / "pkg" / "vae.py").write_text("from pkg.blocks.parts import Down\nimport torch\n\nDown(3)(torch.randn(1, 3, 8, 8))  # convlint: input=(1, 3, 8, 8)\n")
    os.utime(repo / "pkg" / "vae.py", ns=(1, 1))  # a different mtime even on a coarse clock
    reads.clear()
    warm = ranked_importers(target, files, repo, state)
    assert reads == ["vae.py"]
    assert warm == ranked_importers(target, files, repo) and warm[0].path.name == "vae.py"
    assert state.changed
    # an edit that keeps what a file imports (and its kind, and the prefilter's verdict) is read
    # again and changes nothing the state must store
    state = ScanState.from_json(repo, json.loads(json.dumps(state.to_json())))
    (repo / "pkg" / "vae.py").write_text("from pkg.blocks.parts import Down\nimport torch\n\nDown(3)(torch.randn(1, 3, 16, 16))  # convlint: input=(1, 3, 16, 16)\n")
    os.utime(repo / "pkg" / "vae.py", ns=(2, 2))
    reads.clear()
    assert ranked_importers(target, files, repo, state) == warm and reads == ["vae.py"]
    assert not state.changed and state.restamped == 1 and not state.worth_storing


def test_a_scan_that_read_nothing_new_keeps_its_graph_and_one_with_a_file_gone_rebuilds_it(tmp_path, monkeypatch):
    import convlint.source.importers as importers_mod
    from convlint.source.importers import ScanState, ranked_importers

    repo = _ranking_repo(tmp_path)
    files = sorted(repo.rglob("*.py"))
    target = [repo / "pkg" / "blocks" / "parts.py"]
    state = ScanState(repo)
    cold = ranked_importers(target, files, repo, state)
    stored = json.loads(json.dumps(state.to_json()))
    hashed = []
    real = importers_mod.hashlib.sha256
    monkeypatch.setattr(importers_mod.hashlib, "sha256", lambda data=b"": hashed.append(1) or real(data))
    state = ScanState.from_json(repo, stored)
    assert ranked_importers(target, files, repo, state) == cold and hashed == [] and not state.changed
    # a file gone: the graph is built again without it
    (repo / "tests" / "test_parts.py").unlink()
    files = sorted(repo.rglob("*.py"))
    state = ScanState.from_json(repo, stored)
    warm = ranked_importers(target, files, repo, state)
    assert hashed and state.changed and warm == ranked_importers(target, files, repo)
    assert all(i.path.name != "test_parts.py" for i in warm)


@pytest.mark.parametrize("bad", [
    {"paths": ["../outside.py"], "imports": [], "files": [[0, 1, 2, [], 3, True]], "graph_key": None, "reverse": None},
    {"paths": ["a.py"], "imports": [[0, "x", 5]], "files": [[0, 1, 2, [0], 3, True]], "graph_key": None, "reverse": None},
    {"paths": ["a.py"], "imports": [[0, "x", None]], "files": [[0, 1, 2, [1], 3, True]], "graph_key": None, "reverse": None},
    {"paths": ["a.py"], "imports": [[0, "x", None]], "files": [[0, 1, 2, [-1], 3, True]], "graph_key": None, "reverse": None},
    {"paths": ["a.py"], "imports": [[0, "x", None]], "files": [[0, 1, 2, ["0"], 3, True]], "graph_key": None, "reverse": None},
    {"paths": ["a.py"], "imports": [[0, "x", None]], "files": [[0, 1, 2, 0, 3, True]], "graph_key": None, "reverse": None},
    {"paths": ["a.py"], "imports": {}, "files": [], "graph_key": None, "reverse": None},
    {"paths": ["a.py"], "files": [[0, 1, 2, [[0, "x", None]], 3, True]], "graph_key": None, "reverse": None},  # the format before
    {"paths": ["a.py"], "imports": [], "files": [[0, 1, 2, [], 9, True]], "graph_key": None, "reverse": None},
    {"paths": ["/etc/passwd"], "imports": [], "files": [[0, 1, 2, [], 3, True]], "graph_key": None, "reverse": None},
    {"paths": ["a.py"], "imports": [], "files": [[1, 1, 2, [], 3, True]], "graph_key": None, "reverse": None},
    {"paths": ["a.py"], "imports": [], "files": [[-1, 1, 2, [], 3, True]], "graph_key": None, "reverse": None},
    {"paths": ["a.py"], "imports": [], "files": [], "graph_key": "k", "reverse": [[0, [1]]]},
    {"paths": ["a.py"], "imports": [], "files": [], "graph_key": "k", "reverse": [[0, [-1]]]},
    {"paths": ["a.py"], "imports": [], "files": [], "graph_key": "k", "reverse": [[0, ["a.py"]]]},
    {"paths": [], "imports": [], "files": {}, "graph_key": None, "reverse": None},
    {"paths": [], "imports": [], "files": [], "graph_key": 5, "reverse": []},
    "not a table",
])
def test_a_malformed_scan_state_is_dropped_whole(tmp_path, bad):
    from convlint.source.importers import ScanState

    assert ScanState.from_json(tmp_path, bad) is None


def test_the_hook_answers_from_the_cache_and_sees_an_edited_importer(tmp_path):
    repo = _ranking_repo(tmp_path)
    (repo / "pyproject.toml").write_text("[tool.convlint]\n")
    first = convlint(repo, "check", "--format", "json", "pkg/blocks/parts.py")
    assert first.returncode == 0 and json.loads(first.stdout) == [], first.stdout + first.stderr
    # an importer changes: its smoke test now feeds Down(3) four channels — a bug the check of
    # parts.py must see although parts.py itself did not change
    (repo / "tests" / "test_parts.py").write_text("import torch\nfrom pkg.blocks.parts import Down\n\ndef test_down():\n    Down(3)(torch.randn(1, 4, 8, 8))\n")
    second = convlint(repo, "check", "--format", "json", "pkg/blocks/parts.py")
    found = [(f["path"], f["code"]) for f in json.loads(second.stdout)]
    assert ("pkg/blocks/parts.py", "CVL003") in found, second.stdout + second.stderr


def test_declarations_and_library_modules_are_taken_in_turn(tmp_path):
    """A library module that composes the checked blocks (run with its defaults) finds what no test
    names: both sorts get their share of ``max-importers``; among modules, the one the project
    imports most (its main model) first."""
    from convlint.source.importers import ranked_importers

    block = "import torch.nn as nn\n\n\nclass Down(nn.Module):\n    def __init__(self, c):\n        super().__init__()\n        self.conv = nn.Conv2d(c, c, 3)\n"
    (tmp_path / "parts.py").write_text(block)
    for name in ("aaa_model", "main_model"):
        (tmp_path / f"{name}.py").write_text(f"import torch.nn as nn\nfrom parts import Down\n\n\nclass Model(nn.Module):\n    def __init__(self):\n        super().__init__()\n        self.down = Down(3)\n        self.head = nn.Conv2d(3, 1, 1)\n")
    for i in range(3):
        (tmp_path / f"test_{i}.py").write_text("import torch\nfrom main_model import Model\n\n\ndef test_model():\n    Model().down(torch.randn(1, 3, 8, 8))\n")
    (tmp_path / "test_parts.py").write_text("import torch\nfrom parts import Down\n\n\ndef test_down():\n    Down(3)(torch.randn(1, 3, 8, 8))\n")
    files = sorted(tmp_path.rglob("*.py"))
    got = [i.path.name for i in ranked_importers([tmp_path / "parts.py"], files, tmp_path)]
    assert got[:4] == ["test_parts.py", "main_model.py", "test_0.py", "aaa_model.py"]


def test_the_command_line_max_importers_overrides_the_setting(tmp_path):
    repo = _ranking_repo(tmp_path)
    r = convlint(repo, "check", "--max-importers", "1", "pkg/blocks/parts.py")
    assert "the 1 most relevant of those that may run its code were analysed" in r.stderr, r.stderr
    r = convlint(repo, "check", "--max-importers", "0", "pkg/blocks/parts.py")
    assert r.returncode == 0 and "import" not in r.stderr, r.stderr
    r = convlint(repo, "check", "--max-importers", "-2", "pkg/blocks/parts.py")
    assert r.returncode == 2 and "--max-importers" in r.stderr and "Traceback" not in r.stderr


def test_the_stored_scan_names_each_import_once(tmp_path):
    from convlint.source.importers import ScanState, ranked_importers

    repo = _ranking_repo(tmp_path)
    files = sorted(repo.rglob("*.py"))
    state = ScanState(repo)
    ranked = ranked_importers([repo / "pkg" / "blocks" / "parts.py"], files, repo, state)
    stored = json.loads(json.dumps(state.to_json()))
    table = [tuple(e) for e in stored["imports"]]
    assert len(table) == len(set(table)) and (0, "torch", None) in table
    uses = sum(len(f[3]) for f in stored["files"])
    assert uses > len(table)  # `import torch` and the import of Down are shared by several files
    again = ScanState.from_json(repo, stored)
    assert again.files == state.files and ranked_importers([repo / "pkg" / "blocks" / "parts.py"], files, repo, again) == ranked


def test_a_hook_runs_the_prefilter_only_on_the_importers_it_takes(tmp_path, monkeypatch):
    """``chosen_importers`` takes what ``ranked_importers`` ranks first among the admitted files,
    at every limit, and computes the prefilter's verdict only as far as its choice needs; the
    verdicts it computed are kept in the scan state (a file never asked about stays unknown)."""
    import convlint.source.prefilter as prefilter_mod
    from convlint.source.importers import ScanState, chosen_importers, ranked_importers

    repo = _ranking_repo(tmp_path)
    files = sorted(repo.rglob("*.py"))
    target = [repo / "pkg" / "blocks" / "parts.py"]
    ranked = ranked_importers(target, files, repo)
    admitted = [i for i in ranked if i.admitted]
    asked = []
    real = prefilter_mod.may_contain_conv
    monkeypatch.setattr(prefilter_mod, "may_contain_conv", lambda data: asked.append(data) or real(data))
    for limit in range(len(ranked) + 1):
        asked.clear()
        chosen, count, more = chosen_importers(target, files, repo, limit=limit)
        assert chosen == admitted[:limit] and count == len(ranked) and more == (len(admitted) > limit)
        if limit == 1:
            assert 0 < len(asked) < len(ranked)  # the scripts are admitted without it, the rest only as reached
    # a declared model's file comes first, whatever the prefilter says of it; the given files never
    unet = repo / "pkg" / "blocks" / "unet.py"
    chosen, _count, more = chosen_importers(target, files, repo, limit=2, first=[unet], skip=[repo / "declared.py"])
    assert [i.path for i in chosen] == [unet, admitted[1].path] and not chosen[0].admitted and more
    # the verdicts asked for are stored, the others stay unknown through a JSON round trip
    state = ScanState(repo)
    chosen_importers(target, files, repo, state, limit=1)
    known = {os.path.basename(f): v[3] for f, v in ScanState.from_json(repo, json.loads(json.dumps(state.to_json()))).files.items()}
    assert known["declared.py"] is True and known["train.py"] is True and None in known.values()
