"""``convlint check --fix`` and ``--diff`` with the real engine, and ``convlint.fix`` directly.

A fixed file must parse, check clean, run, and differ from the original only where the fixes
are; ``--fix`` twice changes nothing the second time; ``--diff`` writes nothing.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import libcst
import pytest

from convlint.findings import Finding, Fix
from convlint.fix import apply_fixes, fix_summary
from tests.oracle import import_file

# Two chained decoder bugs: the second conv's own fix depends on the first being fixed.
AUTOENCODER = '''\
"""An autoencoder for 28x28 images."""
import torch
from torch import nn


class AutoEncoder(nn.Module):  # convlint: input=(2, 1, 28, 28)
    def __init__(self):
        super().__init__()
        self.enc = nn.Sequential(
            nn.Conv2d(1, 16, 3, stride=2, padding=1),   # 28 -> 14
            nn.ReLU(),
            nn.Conv2d(16, 32, 3, stride=2, padding=1),  # 14 -> 7
        )
        self.dec = nn.Sequential(
            nn.ConvTranspose2d(32, 16, 3, stride=2, padding=1),  # 7 -> 13 (!)
            nn.ReLU(),
            nn.ConvTranspose2d(16, 1, 3,
                               stride=2,    # keep this comment
                               padding=1),
        )

    def forward(self, x):
        return self.dec(self.enc(x))
'''

PARTS = '''\
from torch import nn


class Up(nn.Module):
    def __init__(self, c_in, c_out):
        super().__init__()
        self.up = nn.ConvTranspose2d(c_in, c_out, kernel_size=3, stride=2, padding=1)

    def forward(self, x):
        return self.up(x)
'''

MODEL = '''\
from torch import nn

from parts import Up


class Net(nn.Module):  # convlint: input=(1, 3, 32, 32)
    def __init__(self):
        super().__init__()
        self.down = nn.Conv2d(3, 8, 3, stride=2, padding=1)
        self.up = Up(8, 3)

    def forward(self, x):
        return self.up(self.down(x))
'''


def convlint(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "NO_COLOR": "1"}
    env.pop("FORCE_COLOR", None)
    return subprocess.run(
        [sys.executable, "-m", "convlint", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


load_module = import_file  # the file as a module, run for real


@pytest.fixture
def ae(tmp_path: Path) -> Path:
    p = tmp_path / "ae.py"
    p.write_text(AUTOENCODER)
    return p


def changed_lines(before: str, after: str) -> list[tuple[str, str]]:
    a, b = before.splitlines(), after.splitlines()
    assert len(a) == len(b), "a fix added or removed lines"
    return [(x, y) for x, y in zip(a, b) if x != y]


def test_fix_repairs_chained_decoder_bugs_and_the_model_runs(ae: Path) -> None:
    before = convlint(ae.parent, "check", "ae.py", "--no-cache")
    assert before.returncode == 1 and before.stdout.count("CVL004") >= 2

    r = convlint(ae.parent, "check", "ae.py", "--fix", "--no-cache")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "Found 2 errors (2 fixed, 0 remaining)." in r.stdout

    fixed = ae.read_text()
    libcst.parse_module(fixed)
    assert changed_lines(AUTOENCODER, fixed) == [
        (
            "            nn.ConvTranspose2d(32, 16, 3, stride=2, padding=1),  # 7 -> 13 (!)",
            "            nn.ConvTranspose2d(32, 16, 3, stride=2, padding=1, output_padding=1),  # 7 -> 13 (!)",
        ),
        (
            "                               padding=1),",
            "                               padding=1, output_padding=1),",
        ),
    ]
    assert "# keep this comment" in fixed

    clean = convlint(ae.parent, "check", "ae.py", "--no-cache")
    assert clean.returncode == 0, clean.stdout
    assert "All checks passed!" in clean.stdout

    torch = pytest.importorskip("torch")
    model = load_module(ae).AutoEncoder()
    assert tuple(model(torch.zeros(2, 1, 28, 28)).shape) == (2, 1, 28, 28)


def test_fix_twice_changes_nothing_the_second_time(ae: Path) -> None:
    assert convlint(ae.parent, "check", "ae.py", "--fix").returncode == 0
    once = ae.read_bytes()
    second = convlint(ae.parent, "check", "ae.py", "--fix")
    assert second.returncode == 0
    assert ae.read_bytes() == once
    assert "fixed" not in second.stdout
    assert convlint(ae.parent, "check", "ae.py", "--diff").stdout == ""


def test_diff_shows_the_fix_and_writes_nothing(ae: Path) -> None:
    r = convlint(ae.parent, "check", "ae.py", "--diff", "--no-cache")
    assert r.returncode == 1
    assert ae.read_text() == AUTOENCODER
    lines = r.stdout.splitlines()
    assert lines[:2] == ["--- a/ae.py", "+++ b/ae.py"]
    assert "+            nn.ConvTranspose2d(32, 16, 3, stride=2, padding=1, output_padding=1),  # 7 -> 13 (!)" in lines
    assert "+                               padding=1, output_padding=1)," in lines
    # the diff is what --fix does: applying it gives the fixed file
    convlint(ae.parent, "check", "ae.py", "--fix")
    assert sum(1 for line in lines if line.startswith("+") and not line.startswith("+++")) == 2
    assert changed_lines(AUTOENCODER, ae.read_text())[0][1] in r.stdout


def test_diff_exit_zero_when_nothing_to_fix(tmp_path: Path) -> None:
    (tmp_path / "ok.py").write_text(AUTOENCODER.replace("padding=1),", "padding=1, output_padding=1),"))
    r = convlint(tmp_path, "check", "ok.py", "--diff")
    assert (r.returncode, r.stdout) == (0, "")


def test_fix_follows_the_model_into_the_file_that_builds_the_layer(tmp_path: Path) -> None:
    (tmp_path / "parts.py").write_text(PARTS)
    (tmp_path / "model.py").write_text(MODEL)
    r = convlint(tmp_path, "check", "model.py", "--fix", "--no-cache")
    assert r.returncode == 0, r.stdout + r.stderr
    assert (tmp_path / "model.py").read_text() == MODEL
    assert changed_lines(PARTS, (tmp_path / "parts.py").read_text()) == [
        (
            "        self.up = nn.ConvTranspose2d(c_in, c_out, kernel_size=3, stride=2, padding=1)",
            "        self.up = nn.ConvTranspose2d(c_in, c_out, kernel_size=3, stride=2, padding=1, output_padding=1)",
        )
    ]
    assert convlint(tmp_path, "check", "model.py", "--no-cache").returncode == 0


def test_fix_keeps_crlf_line_endings_bom_and_mode(ae: Path) -> None:
    data = b"\xef\xbb\xbf" + AUTOENCODER.replace("\n", "\r\n").encode()
    ae.write_bytes(data)
    ae.chmod(0o640)
    r = convlint(ae.parent, "check", "ae.py", "--fix", "--no-cache")
    assert r.returncode == 0, r.stdout + r.stderr
    out = ae.read_bytes()
    assert out.startswith(b"\xef\xbb\xbf")
    assert out.count(b"\r\n") == data.count(b"\r\n") and b"\n" not in out.replace(b"\r\n", b"")
    assert out.count(b"output_padding=1") == 2
    assert ae.stat().st_mode & 0o777 == 0o640
    assert not [p for p in ae.parent.iterdir() if p.name.endswith(".convlint-tmp")]


def test_fix_keeps_a_latin1_coding_cookie(tmp_path: Path) -> None:
    src = "# -*- coding: latin-1 -*-\n# Gr\xfc\xdfe\n" + AUTOENCODER
    p = tmp_path / "ae.py"
    p.write_bytes(src.encode("latin-1"))
    r = convlint(tmp_path, "check", "ae.py", "--fix", "--no-cache")
    assert r.returncode == 0, r.stdout + r.stderr
    out = p.read_bytes().decode("latin-1")
    assert out.startswith("# -*- coding: latin-1 -*-\n# Gr\xfc\xdfe\n")
    assert out.count("output_padding=1") == 2


# ----------------------------------------------------------------------------- convlint.fix directly


def finding(path: Path, line: int, edits, code: str = "CVL004") -> Finding:
    return Finding(code, "error", "test", str(path), line, 1, line, 2, Fix("test fix", None, tuple(edits)))


def test_a_fix_whose_result_would_not_parse_is_not_written(tmp_path: Path) -> None:
    p = tmp_path / "m.py"
    p.write_text("x = f(1, 2)\ny = g(3)\n")
    good = finding(p, 2, [(2, 8, 2, 8, ", 4")])
    broken = finding(p, 1, [(1, 11, 1, 11, ", (")])  # x = f(1, 2, ()  -> unbalanced
    err = io.StringIO()
    outcome = apply_fixes([broken, good], write=True, stderr=err)
    assert p.read_text() == "x = f(1, 2)\ny = g(3)\n"
    assert outcome.applied == 0 and outcome.changed == []
    assert "would not parse" in err.getvalue() and "m.py" in err.getvalue()


def test_overlapping_edits_apply_the_first_only(tmp_path: Path) -> None:
    p = tmp_path / "m.py"
    p.write_text("conv(1, padding=1)\n")
    a = finding(p, 1, [(1, 17, 1, 18, "0")])
    b = finding(p, 1, [(1, 9, 1, 18, "padding=2")])
    outcome = apply_fixes([a, b], write=True, stderr=io.StringIO())
    assert outcome.applied == 1
    assert p.read_text() in ("conv(1, padding=0)\n", "conv(1, padding=2)\n")


def test_edits_of_one_fix_apply_back_to_front(tmp_path: Path) -> None:
    p = tmp_path / "m.py"
    p.write_text("up = T(1, 2, 3, stride=2, padding=1)  # note\n")
    f = finding(p, 1, [(1, 35, 1, 36, "0"), (1, 36, 1, 36, ", output_padding=1")])
    outcome = apply_fixes([f], write=False, stderr=io.StringIO())
    assert outcome.applied == 1
    assert p.read_text() == "up = T(1, 2, 3, stride=2, padding=1)  # note\n"  # write=False
    assert outcome.diff.splitlines()[-1] == "+up = T(1, 2, 3, stride=2, padding=0, output_padding=1)  # note"


def test_diff_marks_a_missing_final_newline(tmp_path: Path) -> None:
    p = tmp_path / "m.py"
    p.write_text("a = f(1)")
    outcome = apply_fixes([finding(p, 1, [(1, 8, 1, 8, ", 2")])], write=False, stderr=io.StringIO())
    assert outcome.diff.endswith("+a = f(1, 2)\n\\ No newline at end of file\n")


def test_fix_summary_is_ruff_style() -> None:
    assert fix_summary(2, []) == "Found 2 errors (2 fixed, 0 remaining).\n"
    rest = [Finding("CVL003", "error", "m", "a.py", 1, 1, 1, 2)]
    assert fix_summary(1, rest) == "Found 2 errors (1 fixed, 1 remaining).\n"
    warn = [Finding("CVL006", "warning", "m", "a.py", 1, 1, 1, 2)]
    assert fix_summary(1, warn) == "Found 2 problems (1 fixed, 1 remaining).\n"


def test_an_edit_outside_the_file_is_skipped(tmp_path: Path) -> None:
    p = tmp_path / "m.py"
    p.write_text("a = 1\n")
    err = io.StringIO()
    outcome = apply_fixes([finding(p, 9, [(9, 1, 9, 2, "x")])], write=True, stderr=err)
    assert outcome.applied == 0 and p.read_text() == "a = 1\n"
    assert "does not fit" in err.getvalue()


@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"])
def test_positions_count_characters_per_line_as_libcst_does(tmp_path: Path, newline: str) -> None:
    text = textwrap.dedent("""\
        if x:
        \ty = f("é", 3)
        z = 1
        """).replace("\n", newline)
    p = tmp_path / "m.py"
    p.write_bytes(text.encode())
    outcome = apply_fixes([finding(p, 2, [(2, 13, 2, 14, "4")])], write=True, stderr=io.StringIO())
    assert outcome.applied == 1
    assert p.read_bytes().decode() == text.replace("3)", "4)")


def test_a_fix_that_repeats_a_keyword_is_not_written(tmp_path: Path) -> None:
    # parses with LibCST, but Python rejects it: keyword argument repeated
    p = tmp_path / "m.py"
    p.write_text("up = T(1, output_padding=0)\n")
    err = io.StringIO()
    outcome = apply_fixes([finding(p, 1, [(1, 27, 1, 27, ", output_padding=1")])], write=True, stderr=err)
    assert outcome.applied == 0 and p.read_text() == "up = T(1, output_padding=0)\n"
    assert "keyword argument repeated" in err.getvalue()


# ----------------------------------------------------------------------------- termination

TRAIN = '''\
"""Training script: no convolution of its own (the prefilter drops it), but it imports the model."""
from ae import AutoEncoder

model = AutoEncoder()
'''


def test_fix_and_diff_end_when_a_file_without_convs_imports_the_model(tmp_path: Path, monkeypatch, capsys) -> None:
    # Used to hang at 100% CPU: the re-check waited for train.py, which the prefilter never admits.
    from convlint.cli import main

    (tmp_path / "ae.py").write_text(AUTOENCODER)
    (tmp_path / "train.py").write_text(TRAIN)
    monkeypatch.chdir(tmp_path)
    assert main(["check", "--diff", "--no-cache", "."]) == 1
    out = capsys.readouterr().out
    assert out.count("+            nn.ConvTranspose2d(32, 16, 3, stride=2, padding=1, output_padding=1),") == 1
    assert main(["check", "--fix", "--no-cache", "."]) == 0
    assert "Found 2 errors (2 fixed, 0 remaining)." in capsys.readouterr().out
    assert (tmp_path / "train.py").read_text() == TRAIN


def test_fix_ends_whatever_imports_whatever(tmp_path: Path, monkeypatch, capsys) -> None:
    # a cycle of scripts without convolutions around the model, and a chain of them
    from convlint.cli import main

    (tmp_path / "ae.py").write_text(AUTOENCODER + "\nimport train  # noqa\n")
    (tmp_path / "train.py").write_text("import ae\nimport evaluate\n")
    (tmp_path / "evaluate.py").write_text("import train\nimport report\n")
    (tmp_path / "report.py").write_text("import evaluate\nimport ae\n")
    monkeypatch.chdir(tmp_path)
    assert main(["check", "--fix", "--no-cache", "."]) == 0
    assert (tmp_path / "ae.py").read_text().count("output_padding=1") == 2


def _fixable_finding(path: Path, content: str = ", output_padding=1") -> Finding:
    return finding(path, 1, [(1, 8, 1, 8, content)])


def test_a_pass_that_does_not_reduce_the_fixable_set_stops(tmp_path: Path) -> None:
    p = tmp_path / "m.py"
    p.write_text("a = f(1)\n")
    calls = []

    def never_settles(overlay):  # an engine that reports a fixable finding after every fix
        calls.append(dict(overlay))
        return [_fixable_finding(p, f", {len(calls)}")]

    err = io.StringIO()
    outcome = apply_fixes([_fixable_finding(p, ", 0")], write=False, stderr=err, recheck=never_settles)
    assert len(calls) == 1 and outcome.passes == 1
    assert "do not settle" in err.getvalue()
    assert outcome.diff.splitlines()[-1] == "+a = f(1, 0)"


def test_a_pass_that_repeats_an_earlier_state_stops(tmp_path: Path) -> None:
    # two files whose fixes undo each other, with a shrinking (so far) fixable set
    p, q = tmp_path / "p.py", tmp_path / "q.py"
    p.write_text("a = f(1)\n")
    q.write_text("b = g(2)\n")
    calls = []

    def flip_flop(overlay):
        calls.append(1)
        n = 10 - len(calls)
        text = overlay.get(p, p.read_text())
        fix = finding(p, 1, [(1, 7, 1, 8, "2" if "f(1)" in text else "1")])
        return [fix] * n

    err = io.StringIO()
    outcome = apply_fixes([finding(p, 1, [(1, 7, 1, 8, "2")])] * 10, write=False, stderr=err, recheck=flip_flop)
    assert len(calls) <= 2 and outcome.passes <= 3
    assert "do not settle" in err.getvalue()


# ----------------------------------------------------------------------------- files --fix cannot write


@pytest.fixture
def read_only_dir(tmp_path: Path):
    """A folder no file can be created in, even by root (``chattr +i``), with the model in it."""
    d = tmp_path / "frozen"
    d.mkdir()
    (d / "ae.py").write_text(AUTOENCODER)
    if os.geteuid() == 0:
        if subprocess.run(["chattr", "+i", str(d)], capture_output=True).returncode != 0:
            pytest.skip("running as root without chattr: cannot make a read-only folder")
        undo = ["chattr", "-i", str(d)]
    else:
        d.chmod(0o555)
        undo = None
    try:
        yield d
    finally:
        if undo:
            subprocess.run(undo, capture_output=True)
        else:
            d.chmod(0o755)


def test_a_file_fix_cannot_write_is_a_one_line_error_and_the_run_goes_on(tmp_path: Path, read_only_dir: Path, monkeypatch, capsys) -> None:
    from convlint.cli import main

    (tmp_path / "other.py").write_text(AUTOENCODER)
    monkeypatch.chdir(tmp_path)
    assert main(["check", "--fix", "--no-cache", "."]) == 2
    out, err = capsys.readouterr()
    assert err.splitlines() == [f"convlint: error: frozen/ae.py: not written: cannot create a file in its folder ({os.strerror(1) if os.geteuid() == 0 else os.strerror(13)})"]
    assert (read_only_dir / "ae.py").read_text() == AUTOENCODER
    assert (tmp_path / "other.py").read_text().count("output_padding=1") == 2  # the other file is fixed
    assert "frozen/ae.py:15:13: CVL004" in out and "other.py" not in out


def test_fix_never_writes_through_a_link_out_of_the_project(tmp_path: Path, monkeypatch, capsys) -> None:
    from convlint.cli import main

    outside = tmp_path / "elsewhere" / "ae.py"
    outside.parent.mkdir()
    outside.write_text(AUTOENCODER)
    project = tmp_path / "project"
    project.mkdir()
    (project / "pyproject.toml").write_text("[tool.convlint]\n")
    (project / "ae.py").symlink_to(outside)
    monkeypatch.chdir(project)
    assert main(["check", "--fix", "--no-cache", "ae.py"]) == 1
    assert outside.read_text() == AUTOENCODER
    assert "outside the project, not changed" in capsys.readouterr().err


def test_a_fix_is_tried_on_a_project_that_shares_every_other_parsed_file(tmp_path):
    # the trial of a fix parses only the file it edits; what it imports is read as already parsed
    from convlint.source.project import Project

    (tmp_path / "blocks.py").write_text("from torch import nn\n\n\ndef down(c):\n    return nn.Conv2d(c, c, 3, stride=2, padding=1)\n")
    main = tmp_path / "model.py"
    main.write_text("from blocks import down\n")
    project = Project(tmp_path)
    before = project.parse_text(str(main), main.read_text())
    blocks = project.parsed(str(tmp_path / "blocks.py"))
    trial = project.with_text(str(main), "from blocks import down  # edited\n")
    assert trial.parsed(str(tmp_path / "blocks.py")) is blocks
    edited = trial.parsed(str(main))
    assert edited is not before and edited.text.endswith("# edited\n")
    assert project.parsed(str(main)) is before  # the project itself is unchanged
