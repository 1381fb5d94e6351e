"""Findings on the line to change: a layer built in a shared helper from values its caller passed
is reported at the call that passed them, with the helper's line as a related location (a
``note:`` in text, ``relatedLocations`` in SARIF, ``related`` in JSON); a fix edits the caller's
argument (or adds a keyword to the call whose ``**kwargs`` reach the layer), and torch runs the
fixed model with the intended shapes.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.oracle import import_file

REPO = Path(__file__).resolve().parents[1]
SCHEMAS = (REPO.parent / "shared" / "sarif" / "sarif-schema-2.1.0.json", Path("/work/shared/sarif/sarif-schema-2.1.0.json"))


def convlint(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "NO_COLOR": "1"}
    env.pop("FORCE_COLOR", None)
    return subprocess.run([sys.executable, "-m", "convlint", *args, "--no-cache"], cwd=cwd, env=env, capture_output=True, text=True)


def project(tmp_path: Path, files: dict) -> Path:
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'demo'\n")
    for name, text in files.items():
        (tmp_path / name).write_text(textwrap.dedent(text))
    return tmp_path


def findings(root: Path, *paths: str) -> list:
    r = convlint(root, "check", *paths, "--format", "json")
    assert r.returncode in (0, 1), r.stderr
    return json.loads(r.stdout)


def load(path: Path, name: str):
    return getattr(import_file(path), name)


def line_of(text: str, needle: str) -> int:
    return next(i for i, ln in enumerate(textwrap.dedent(text).splitlines(), 1) if needle in ln)


WN = """\
    import torch.nn as nn
    from torch.nn.utils import weight_norm


    def WNConv1d(*args, **kwargs):
        return weight_norm(nn.Conv1d(*args, **kwargs))


    def Normalize(in_channels):
        return nn.GroupNorm(num_groups=32, num_channels=in_channels, eps=1e-6, affine=True)


    class Encoder(nn.Module):  # convlint: input=(1, 1, 64)
        def __init__(self):
            super().__init__()
            self.a = WNConv1d(1, 64, 7, padding=3)
            self.b = WNConv1d(32, 64, 3, padding=1)
            self.n = Normalize(96)

        def forward(self, x):
            return self.n(self.b(self.a(x)))
"""


def test_a_channel_count_passed_to_a_helper_is_reported_at_the_call_with_the_helper_as_related(tmp_path):
    root = project(tmp_path, {"enc.py": WN})
    got = findings(root, "enc.py")
    assert [(f["code"], f["line"]) for f in got] == [("CVL003", line_of(WN, "self.b =")), ("CVL003", line_of(WN, "self.n ="))]
    b, n = got
    assert "b expects 32 input channels, but gets 64" in b["message"]
    assert [(r["path"], r["line"]) for r in b["related"]] == [("enc.py", line_of(WN, "nn.Conv1d(*args"))]
    assert "inside WNConv1d()" in b["related"][0]["message"]
    assert "n expects 96 input channels, but gets 64" in n["message"]
    assert [r["line"] for r in n["related"]] == [line_of(WN, "nn.GroupNorm(")]
    # the text output shows the helper's line as a note
    text = convlint(root, "check", "enc.py").stdout
    assert f"= note: the Conv1d is built from this call's arguments inside WNConv1d() at enc.py:{line_of(WN, 'nn.Conv1d(*args')}:" in text


def test_the_related_location_is_in_sarif_and_validates(tmp_path):
    root = project(tmp_path, {"enc.py": WN})
    r = convlint(root, "check", "enc.py", "--format", "sarif")
    doc = json.loads(r.stdout)
    results = doc["runs"][0]["results"]
    assert len(results) == 2
    for res in results:
        (rel,) = res["relatedLocations"]
        assert rel["physicalLocation"]["artifactLocation"]["uri"] == "enc.py"
        assert rel["message"]["text"].startswith("the ")
    schema = next((p for p in SCHEMAS if p.is_file()), None)
    if schema is None:
        pytest.skip("SARIF schema not found")
    jsonschema = pytest.importorskip("jsonschema")
    errors = list(jsonschema.Draft7Validator(json.loads(schema.read_text())).iter_errors(doc))
    assert not errors, errors[:3]


def test_noqa_on_the_reported_line_suppresses_it(tmp_path):
    src = WN.replace("self.b = WNConv1d(32, 64, 3, padding=1)", "self.b = WNConv1d(32, 64, 3, padding=1)  # noqa: CVL003")
    root = project(tmp_path, {"enc.py": src})
    assert [f["line"] for f in findings(root, "enc.py")] == [line_of(src, "self.n =")]


def test_a_value_written_in_the_helper_stays_on_the_helper_line(tmp_path):
    src = """\
        import torch.nn as nn


        def conv3x3(cin, cout, stride=1):
            return nn.Conv2d(16, cout, 3, stride, padding=1)


        class Net(nn.Module):  # convlint: input=(1, 3, 32, 32)
            def __init__(self):
                super().__init__()
                self.a = conv3x3(3, 16)

            def forward(self, x):
                return self.a(x)
    """
    root = project(tmp_path, {"net.py": src})
    (f,) = findings(root, "net.py")
    assert (f["code"], f["line"], f["related"]) == ("CVL003", line_of(src, "nn.Conv2d(16"), [])


def test_a_bad_config_passed_through_a_helper_is_cvl001_at_the_call(tmp_path):
    src = """\
        import torch.nn as nn


        def conv3x3(cin, cout, stride=1, groups=1):
            return nn.Conv2d(cin, cout, 3, stride, padding=1, groups=groups)


        class Net(nn.Module):  # convlint: input=(1, 30, 32, 32)
            def __init__(self):
                super().__init__()
                self.a = conv3x3(30, 30)
                self.b = conv3x3(30, 30, groups=4)

            def forward(self, x):
                return self.b(self.a(x))
    """
    root = project(tmp_path, {"net.py": src})
    (f,) = findings(root, "net.py")
    assert (f["code"], f["line"]) == ("CVL001", line_of(src, "groups=4)"))
    assert "groups" in f["message"] and f["related"][0]["line"] == line_of(src, "nn.Conv2d(cin")
    import torch

    with pytest.raises(Exception):  # torch agrees: the call that passes groups=4 builds a layer torch rejects
        torch.nn.Conv2d(30, 30, 3, 1, padding=1, groups=4)


def test_a_helper_in_another_file_reports_at_the_callers_file(tmp_path):
    blocks = """\
        import torch.nn as nn


        def Normalize(ch):
            return nn.GroupNorm(8, ch)
    """
    model = """\
        import torch.nn as nn
        from blocks import Normalize


        class Net(nn.Module):  # convlint: input=(1, 3, 16, 16)
            def __init__(self):
                super().__init__()
                self.conv = nn.Conv2d(3, 32, 3, padding=1)
                self.norm = Normalize(64)

            def forward(self, x):
                return self.norm(self.conv(x))
    """
    root = project(tmp_path, {"blocks.py": blocks, "model.py": model})
    (f,) = findings(root, "model.py")
    assert (f["path"], f["line"]) == ("model.py", line_of(model, "Normalize(64)"))
    assert [(r["path"], r["line"]) for r in f["related"]] == [("blocks.py", line_of(blocks, "nn.GroupNorm"))]


AE = """\
    import torch
    import torch.nn as nn


    def up(cin, cout, *, padding=1, output_padding=0):
        return nn.ConvTranspose2d(cin, cout, 3, stride=2, padding=padding, output_padding=output_padding)


    def up_any(*a, **k):
        return nn.ConvTranspose2d(*a, **k)


    class AE(nn.Module):  # convlint: input=(1, 1, 28, 28)
        def __init__(self):
            super().__init__()
            self.down = nn.Conv2d(1, 8, 3, stride=2, padding=1)
            self.down2 = nn.Conv2d(8, 8, 3, stride=2, padding=1)
            self.up = up(8, 8, output_padding=0)
            self.up2 = up_any(8, 1, 3, stride=2, padding=1)

        def forward(self, x):
            return self.up2(self.up(self.down2(self.down(x))))
"""


def test_a_decoder_fix_through_helpers_edits_the_callers_and_torch_runs_the_fixed_model(tmp_path):
    import torch

    root = project(tmp_path, {"ae.py": AE})
    with torch.no_grad():
        assert load(root / "ae.py", "AE")()(torch.zeros(1, 1, 28, 28)).shape == (1, 1, 25, 25)  # the bug, as torch sees it
    got = findings(root, "ae.py")
    assert [(f["code"], f["line"]) for f in got] == [("CVL004", line_of(AE, "self.up = ")), ("CVL004", line_of(AE, "self.up2 = "))]
    assert all(f["fix"] is not None and f["related"] for f in got)
    r = convlint(root, "check", "ae.py", "--fix")
    assert r.returncode == 0, r.stdout + r.stderr
    fixed = (root / "ae.py").read_text()
    assert "self.up = up(8, 8, output_padding=1)" in fixed
    assert "self.up2 = up_any(8, 1, 3, stride=2, padding=1, output_padding=1)" in fixed
    assert "return nn.ConvTranspose2d(cin, cout, 3, stride=2, padding=padding, output_padding=output_padding)" in fixed  # the helper is untouched
    with torch.no_grad():
        assert load(root / "ae.py", "AE")()(torch.zeros(1, 1, 28, 28)).shape == (1, 1, 28, 28)


def test_a_helper_call_in_a_loop_gets_no_fix_at_the_shared_line(tmp_path):
    src = """\
        import torch.nn as nn


        def up(cin, cout, output_padding=0):
            return nn.ConvTranspose2d(cin, cout, 3, stride=2, padding=1, output_padding=output_padding)


        class AE(nn.Module):  # convlint: input=(1, 4, 28, 28)
            def __init__(self):
                super().__init__()
                self.down = nn.Sequential(nn.Conv2d(4, 4, 3, stride=2, padding=1), nn.Conv2d(4, 4, 3, stride=2, padding=1))
                self.up = nn.Sequential(*[up(4, 4, 0) for _ in range(2)])

            def forward(self, x):
                return self.up(self.down(x))
    """
    root = project(tmp_path, {"ae.py": src})
    got = findings(root, "ae.py")
    assert [(f["code"], f["line"]) for f in got] == [("CVL004", line_of(src, "up(4, 4, 0)"))]
    assert got[0]["fix"] is None  # the one literal builds both layers: a shared line gets no fix


def test_a_parameter_the_block_uses_several_times_is_its_own_wiring(tmp_path):
    # the classic ResnetBlock bug: the second norm is given in_channels instead of out_channels;
    # the caller's 32 is right (the first norm and conv use it): the line to change is in the block
    src = """\
        import torch.nn as nn


        def Normalize(ch):
            return nn.GroupNorm(8, ch)


        class ResBlock(nn.Module):
            def __init__(self, in_channels, out_channels):
                super().__init__()
                self.norm1 = Normalize(in_channels)
                self.conv1 = nn.Conv2d(in_channels, out_channels, 3, padding=1)
                self.norm2 = Normalize(in_channels)

            def forward(self, x):
                return self.norm2(self.conv1(self.norm1(x)))


        class Net(nn.Module):  # convlint: input=(1, 32, 8, 8)
            def __init__(self):
                super().__init__()
                self.block = ResBlock(32, 64)

            def forward(self, x):
                return self.block(x)
    """
    root = project(tmp_path, {"net.py": src})
    (f,) = findings(root, "net.py")
    assert (f["code"], f["line"]) == ("CVL003", line_of(src, "self.norm2 = "))
    assert [r["line"] for r in f["related"]] == [line_of(src, "nn.GroupNorm(8, ch)")]


def test_in_channels_fix_through_a_helper_makes_the_model_run(tmp_path):
    import torch

    src = """\
        import torch
        import torch.nn as nn
        from torch.nn.utils import weight_norm


        def WNConv1d(*args, **kwargs):
            return weight_norm(nn.Conv1d(*args, **kwargs))


        class Enc(nn.Module):  # convlint: input=(1, 1, 64)
            def __init__(self):
                super().__init__()
                self.a = WNConv1d(1, 64, 7, padding=3)
                self.b = WNConv1d(32, 64, 3, padding=1)

            def forward(self, x):
                return self.b(self.a(x))
    """
    root = project(tmp_path, {"enc.py": src})
    (f,) = findings(root, "enc.py")
    assert (f["code"], f["line"], f["fix"]["replacement"]) == ("CVL003", line_of(src, "self.b = "), "in_channels=64")
    with pytest.raises(RuntimeError):
        load(root / "enc.py", "Enc")()(torch.zeros(1, 1, 64))
    assert convlint(root, "check", "enc.py", "--fix").returncode == 0
    assert "self.b = WNConv1d(64, 64, 3, padding=1)" in (root / "enc.py").read_text()
    with torch.no_grad():
        assert tuple(load(root / "enc.py", "Enc")()(torch.zeros(1, 1, 64)).shape) == (1, 64, 64)


def test_no_in_channels_fix_for_a_grouped_conv(tmp_path):
    # a grouped conv: its in_channels is tied to groups, so setting it alone is not certain
    src = """\
        import torch.nn as nn


        class Net(nn.Module):  # convlint: input=(1, 3, 16, 16)
            def __init__(self):
                super().__init__()
                self.a = nn.Conv2d(3, 16, 3, padding=1)
                self.b = nn.Conv2d(8, 8, 3, padding=1, groups=8)

            def forward(self, x):
                return self.b(self.a(x))
    """
    root = project(tmp_path, {"net.py": src})
    got = findings(root, "net.py")
    assert [(f["code"], f["line"]) for f in got] == [("CVL003", line_of(src, "self.b = "))]
    assert got[0]["fix"] is None  # groups=8: in_channels=16 alone is not certain


_UP = """\
    import torch.nn as nn


    class Up(nn.Module):
        def __init__(self, in_channels, out_channels):
            super().__init__()
            self.up = nn.ConvTranspose2d(in_channels, in_channels // 2, kernel_size=2, stride=2)
            self.conv = nn.Conv2d(in_channels // 2, out_channels, 3, padding=1)

        def forward(self, x):
            return self.conv(self.up(x))


    class Net(nn.Module):  # convlint: input=(1, 64, 8, 8)
        def __init__(self):
            super().__init__()
            self.up1 = Up(64, 64)
            self.up2 = Up(UP2_IN, 16)

        def forward(self, x):
            return self.up2(self.up1(x))
"""


def test_a_block_right_in_its_other_uses_points_at_the_call_that_gave_the_wrong_value(tmp_path):
    # Up uses in_channels twice (its own wiring), but up1 shows its code is right: the value at
    # fault is up2's 32, where 64 was meant. The real model raises; with 64 at that call it runs.
    import torch

    from tests.oracle import import_file

    bad = textwrap.dedent(_UP).replace("UP2_IN", "32")
    root = project(tmp_path, {"net.py": bad})
    (f,) = findings(root, "net.py")
    assert (f["code"], f["line"]) == ("CVL003", line_of(bad, "self.up2 = "))
    assert f["fix"] is None  # the value feeds two layers of the block: no one-keyword repair
    assert [r["line"] for r in f["related"]] == [line_of(bad, "self.up = nn.ConvTranspose2d")]
    with pytest.raises(RuntimeError):
        import_file(root / "net.py").Net()(torch.zeros(1, 64, 8, 8))
    good = tmp_path / "good"
    good.mkdir()
    (good / "net_good.py").write_text(textwrap.dedent(_UP).replace("UP2_IN", "64"))
    import_file(good / "net_good.py").Net()(torch.zeros(1, 64, 8, 8))


def test_a_block_used_once_keeps_the_finding_on_its_own_wiring(tmp_path):
    src = textwrap.dedent(_UP).replace("UP2_IN", "32").replace("self.up1 = Up(64, 64)", "self.up1 = nn.Identity()")
    root = project(tmp_path, {"net.py": src})
    (f,) = findings(root, "net.py")
    assert (f["code"], f["line"]) == ("CVL003", line_of(src, "self.up = nn.ConvTranspose2d"))
