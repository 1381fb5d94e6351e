"""The command line, run as a user would: `python -m convlint ...` in a subprocess.

The analysis engine is replaced by a tiny fake (installed through ``sitecustomize`` on
PYTHONPATH) in the end-to-end tests, so that these tests check the command's own behaviour:
discovery, prefilter, cache, selection, suppression, formats and exit codes.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

FAKE_ANALYSIS = '''
"""A fake convlint.analysis for the CLI tests: CVL001 on lines with 'padding=-1',
CVL006 on lines with 'stride=3', CVL008 on lines with 'UNKNOWN'; a '# dep: F' comment records F."""
import hashlib, os, sys, types
from dataclasses import dataclass, field
from pathlib import Path
from convlint.findings import Finding, Fix

@dataclass
class FileResult:
    findings: list
    deps: dict = field(default_factory=dict)

class Project:
    def __init__(self, root, config):
        self.root = Path(root)
        self.config = config

def analyze_file(project, path, text):
    log = os.environ.get("FAKE_ANALYSIS_LOG")
    if log:
        with open(log, "a") as fh:
            fh.write(f"{os.getpid()} {os.getppid()} {Path(path).name}\\n")
    out, deps = [], {}
    shown = os.path.relpath(path) if not os.path.relpath(path).startswith("..") else str(path)  # as the real engine
    for no, line in enumerate(text.splitlines(), 1):
        col = len(line) - len(line.lstrip()) + 1
        if "padding=-1" in line:
            i = line.index("padding=-1")
            fix = Fix("use padding=0", "padding=0", ((no, i + 1, no, i + 11, "padding=0"),))
            out.append(Finding("CVL001", "error", "padding must not be negative, got -1", shown, no, col, no, len(line) + 1, fix=fix))
        if "stride=3" in line:
            out.append(Finding("CVL006", "warning", "stride 3 drops trailing rows", shown, no, col, no, len(line) + 1))
        if "UNKNOWN" in line:
            out.append(Finding("CVL008", "info", "kernel_size could not be resolved", shown, no, col, no, len(line) + 1))
        if "# dep: " in line:
            dep = line.split("# dep: ")[1].strip()
            p = Path(project.root) / dep
            deps[os.path.relpath(p)] = hashlib.sha256(p.read_bytes()).hexdigest() if p.exists() else None
        if "CRASH" in line:
            raise RuntimeError("fake engine crash")
    return FileResult(out, deps)
'''

SITECUSTOMIZE = '''
import importlib.util, os, sys
spec = importlib.util.spec_from_file_location("convlint.analysis", os.path.join(os.path.dirname(__file__), "fake_analysis.py"))
mod = importlib.util.module_from_spec(spec)
sys.modules["convlint.analysis"] = mod
spec.loader.exec_module(mod)
'''

MODEL = """\
import torch.nn as nn


class Encoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.a = nn.Conv2d(3, 8, 3, padding=-1)
        self.b = nn.Conv2d(8, 8, 3, stride=3)
        self.c = nn.Conv2d(8, 8, 3, padding=-1)  # noqa: CVL001
"""


@pytest.fixture
def fake_engine(tmp_path):
    d = tmp_path / "_fake"
    d.mkdir()
    (d / "fake_analysis.py").write_text(FAKE_ANALYSIS)
    (d / "sitecustomize.py").write_text(SITECUSTOMIZE)
    return d


@pytest.fixture
def repo(tmp_path):
    r = tmp_path / "repo"
    r.mkdir()
    (r / "models").mkdir()
    (r / "models" / "enc.py").write_text(MODEL)
    (r / "utils.py").write_text("def convert(x):\n    return x  # no convolution here\n")
    return r


def run(cwd: Path, *args: str, fake: Path | None = None, env: dict | None = None, stdin=None) -> subprocess.CompletedProcess:
    e = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR", "CONVLINT_DEBUG")}
    if fake is not None:
        e["PYTHONPATH"] = str(fake)
    e.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "convlint", *args], cwd=cwd, env=e, capture_output=True, text=True, timeout=120, stdin=stdin
    )


def one_line_error(p: subprocess.CompletedProcess) -> str:
    assert p.returncode == 2, (p.stdout, p.stderr)
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1, p.stderr
    assert lines[0].startswith("convlint: error: ")
    assert "Traceback" not in p.stderr
    return lines[0]


# ---------------------------------------------------------------- usage errors


def test_unknown_option_is_one_line_and_exit_2(tmp_path):
    msg = one_line_error(run(tmp_path, "check", "--bogus"))
    assert "--bogus" in msg


def test_bad_option_values_are_usage_errors(tmp_path):
    assert "--jobs" in one_line_error(run(tmp_path, "check", "--jobs", "-3"))
    assert "--format" in one_line_error(run(tmp_path, "check", "--format", "xml"))
    assert "'CVL999'" in one_line_error(run(tmp_path, "check", "--select", "CVL999"))
    assert "--fix and --diff" in one_line_error(run(tmp_path, "check", "--fix", "--diff"))


def test_no_command_prints_help_and_exits_2(tmp_path):
    p = run(tmp_path)
    assert p.returncode == 2 and "check" in p.stderr


def test_bad_config_is_one_line_naming_file_and_key(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[tool.convlint]\nselect = ["CVL001"]\nline-length = 88\n')
    msg = one_line_error(run(tmp_path, "check"))
    assert "pyproject.toml" in msg and "tool.convlint.line-length" in msg and "unknown key" in msg


def test_invalid_toml_and_missing_config_file(tmp_path):
    (tmp_path / "pyproject.toml").write_text("[tool.convlint\n")
    assert "invalid TOML" in one_line_error(run(tmp_path, "check"))
    assert "no such file" in one_line_error(run(tmp_path, "check", "--config", "missing.toml"))


def test_version_flag_and_command(tmp_path):
    from convlint import __version__

    for args in (["--version"], ["version"]):
        p = run(tmp_path, *args)
        assert p.returncode == 0 and p.stdout.strip() == f"convlint {__version__}"


def test_unexpected_exception_is_an_internal_error_without_traceback(tmp_path, fake_engine, repo):
    (repo / "models" / "enc.py").write_text(MODEL + "        self.d = nn.Conv2d(1, 1, 1)  # CRASH\n")
    p = run(repo, "check", "--no-cache", fake=fake_engine)
    assert p.returncode == 2
    assert "internal error while analysing" in p.stderr and "fake engine crash" in p.stderr
    assert "Traceback" not in p.stderr


# ---------------------------------------------------------------- rule


def test_rule_prints_documentation(tmp_path):
    p = run(tmp_path, "rule", "cvl004")
    assert p.returncode == 0
    assert p.stdout.startswith("# CVL004 ") and "## What it does" in p.stdout and "## Fix" in p.stdout


def test_rule_all_and_unknown_code(tmp_path):
    p = run(tmp_path, "rule", "--all")
    assert p.returncode == 0 and p.stdout.count("## What it does") >= 11
    assert "unknown rule code 'CVL999'" in one_line_error(run(tmp_path, "rule", "CVL999"))


# ---------------------------------------------------------------- checking without the engine


def test_files_without_convolutions_pass_without_analysis(tmp_path):
    (tmp_path / "a.py").write_text("def convert(x):\n    return x\n")
    p = run(tmp_path, "check")
    assert p.returncode == 0, p.stderr
    assert p.stdout == "All checks passed!\n"


def test_missing_path_is_a_cvl000_finding_and_others_are_still_checked(tmp_path):
    (tmp_path / "a.py").write_text("x = 1\n")
    p = run(tmp_path, "check", "a.py", "nope.py", "--format", "json")
    assert p.returncode == 1, p.stderr
    data = json.loads(p.stdout)
    assert [(d["code"], d["path"], d["message"]) for d in data] == [
        ("CVL000", "nope.py", "cannot read: No such file or directory")
    ]


def test_binary_and_non_utf8_files_get_clear_messages(tmp_path):
    (tmp_path / "bin.py").write_bytes(b"\x00\x01\x02")
    (tmp_path / "latin.py").write_bytes(b"s = '\xe9'\n")
    p = run(tmp_path, "check", "--no-show-source")
    assert p.returncode == 1
    assert "bin.py:1:1: CVL000 binary file (NUL byte)" in p.stdout
    assert "latin.py:1:1: CVL000 not valid UTF-8: cannot decode byte 0xe9 on line 1" in p.stdout
    assert "Traceback" not in p.stderr


def test_startup_does_not_import_libcst_torch_or_jax(tmp_path):
    (tmp_path / "small.py").write_text("def f(x):\n    return x + 1\n")
    code = (
        "import sys\nfrom convlint.cli import main\nrc = main(['check', 'small.py'])\n"
        "heavy = sorted(m for m in ('libcst', 'torch', 'jax', 'flax', 'numpy') if m in sys.modules)\n"
        "print('HEAVY', heavy, rc)\n"
    )
    p = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert "HEAVY [] 0" in p.stdout, p.stdout + p.stderr


# ---------------------------------------------------------------- end to end with a fake engine


def test_findings_exit_1_noqa_and_sorted_text_output(fake_engine, repo):
    p = run(repo, "check", "--no-show-source", fake=fake_engine)
    assert p.returncode == 1, p.stderr
    assert p.stdout.splitlines() == [
        "models/enc.py:7:9: CVL001 [*] padding must not be negative, got -1",
        "models/enc.py:8:9: CVL006 stride 3 drops trailing rows",
        "Found 2 problems (1 error, 1 warning).",
        "[*] 1 fixable with the `--fix` option.",
    ]


def test_output_is_identical_from_run_to_run(fake_engine, repo):
    for fmt in ("text", "json", "sarif", "github"):
        a = run(repo, "check", "--format", fmt, "--no-cache", fake=fake_engine)
        b = run(repo, "check", "--format", fmt, fake=fake_engine)
        c = run(repo, "check", "--format", fmt, fake=fake_engine)  # from the cache
        assert a.stdout == b.stdout == c.stdout, fmt
        assert a.returncode == b.returncode == c.returncode == 1


def test_select_ignore_extend_select_and_exit_zero(fake_engine, repo):
    (repo / "models" / "enc.py").write_text(MODEL + "        self.k = nn.Conv2d(8, 8, UNKNOWN)\n")
    codes = lambda p: [d["code"] for d in json.loads(p.stdout)]  # noqa: E731
    assert codes(run(repo, "check", "--format", "json", fake=fake_engine)) == ["CVL001", "CVL006"]
    p = run(repo, "check", "--format", "json", "--select", "CVL008", fake=fake_engine)
    assert codes(p) == ["CVL008"] and p.returncode == 0, "info findings alone do not fail"
    assert codes(run(repo, "check", "--format", "json", "--ignore", "CVL001", "--extend-select", "CVL008", fake=fake_engine)) == ["CVL006", "CVL008"]
    p = run(repo, "check", "--exit-zero", fake=fake_engine)
    assert p.returncode == 0 and "CVL001" in p.stdout


def test_config_per_file_ignores_and_exclude(fake_engine, repo):
    (repo / "legacy").mkdir()
    (repo / "legacy" / "old.py").write_text(MODEL)
    (repo / "pyproject.toml").write_text(
        '[tool.convlint]\nextend-exclude = ["legacy"]\n[tool.convlint.per-file-ignores]\n"enc.py" = ["CVL006"]\n'
    )
    p = run(repo, "check", "--format", "json", fake=fake_engine)
    assert [(d["path"], d["code"]) for d in json.loads(p.stdout)] == [("models/enc.py", "CVL001")]
    p = run(repo, "check", "--format", "json", "legacy/old.py", fake=fake_engine)
    assert {d["path"] for d in json.loads(p.stdout)} == {"legacy/old.py"}, "explicit paths are checked"
    p = run(repo, "check", "--format", "json", "--force-exclude", "legacy/old.py", fake=fake_engine)
    assert json.loads(p.stdout) == [] and p.returncode == 0


def test_cache_is_used_and_invalidated_by_content_and_dependencies(fake_engine, repo, tmp_path):
    log = tmp_path / "analysed.log"
    env = {"FAKE_ANALYSIS_LOG": str(log)}
    (repo / "parts.py").write_text("import torch.nn as nn\nK = 3\nB = nn.Conv2d(3, 3, K)\n")
    (repo / "models" / "enc.py").write_text(MODEL + "# dep: parts.py\n")

    def analysed() -> list[str]:
        names = sorted(ln.split()[2] for ln in log.read_text().splitlines()) if log.exists() else []
        log.unlink(missing_ok=True)
        return names

    first = run(repo, "check", fake=fake_engine, env=env)
    assert analysed() == ["enc.py", "parts.py"]
    assert (repo / ".convlint_cache" / "CACHEDIR.TAG").is_file()
    second = run(repo, "check", fake=fake_engine, env=env)
    # enc.py's CVL001 carries a fix, and fixes are never served from the cache: it is analysed again
    assert analysed() == ["enc.py"] and second.stdout == first.stdout
    (repo / "parts.py").write_text("import torch.nn as nn\nK = 5\nB = nn.Conv2d(3, 3, K)\n")
    run(repo, "check", fake=fake_engine, env=env)
    assert analysed() == ["enc.py", "parts.py"], "a changed dependency re-checks its dependant"
    run(repo, "check", "--no-cache", fake=fake_engine, env=env)
    assert analysed() == ["enc.py", "parts.py"]


def test_running_from_a_subdirectory_with_the_config_above(fake_engine, repo, tmp_path):
    (repo / "pyproject.toml").write_text('[tool.convlint]\nignore = ["CVL006"]\n')
    (repo / "parts.py").write_text("import torch.nn as nn\nB = nn.Conv2d(3, 3, 3)\n")
    (repo / "models" / "enc.py").write_text(MODEL + "# dep: parts.py\n")
    top = run(repo, "check", "--format", "json", fake=fake_engine)
    sub = run(repo / "models", "check", "--format", "json", fake=fake_engine)  # served from the cache
    assert [(d["path"], d["code"]) for d in json.loads(top.stdout)] == [("models/enc.py", "CVL001")]
    assert [(d["path"], d["code"]) for d in json.loads(sub.stdout)] == [("enc.py", "CVL001")]
    log = tmp_path / "a.log"
    (repo / "parts.py").write_text("import torch.nn as nn\nB = nn.Conv2d(3, 3, 5)\n")
    run(repo / "models", "check", fake=fake_engine, env={"FAKE_ANALYSIS_LOG": str(log)})
    assert "enc.py" in log.read_text(), "the dependency recorded from the top is found from below"


def test_output_file_and_formats(fake_engine, repo):
    p = run(repo, "check", "--format", "sarif", "--output-file", "out/report.sarif", fake=fake_engine)
    assert p.returncode == 2 or p.returncode == 1
    if p.returncode == 2:
        assert "--output-file" in p.stderr  # the directory does not exist: a clear error
    (repo / "out").mkdir()
    p = run(repo, "check", "--format", "sarif", "--output-file", "out/report.sarif", fake=fake_engine)
    assert p.returncode == 1 and p.stdout == ""
    doc = json.loads((repo / "out" / "report.sarif").read_text())
    assert doc["version"] == "2.1.0"
    assert [r["ruleId"] for r in doc["runs"][0]["results"]] == ["CVL001", "CVL006"]
    p = run(repo, "check", "--format", "github", fake=fake_engine)
    assert p.stdout.splitlines()[0].startswith("::error file=models/enc.py,line=7,col=9,")


def test_colour_only_when_forced_and_not_disabled(fake_engine, repo):
    assert "\x1b[" not in run(repo, "check", fake=fake_engine).stdout
    assert "\x1b[" in run(repo, "check", fake=fake_engine, env={"FORCE_COLOR": "1"}).stdout
    assert "\x1b[" not in run(repo, "check", fake=fake_engine, env={"FORCE_COLOR": "1", "NO_COLOR": "1"}).stdout


def test_statistics_and_quiet(fake_engine, repo):
    p = run(repo, "check", "--statistics", fake=fake_engine)
    rows = [ln.split("\t")[:2] for ln in p.stdout.splitlines() if "\t" in ln]
    assert rows == [["1", "CVL001"], ["1", "CVL006"]]
    q = run(repo, "check", "--quiet", "--no-show-source", fake=fake_engine)
    assert "Found" not in q.stdout and q.returncode == 1


def test_bad_suppression_comment_is_reported(fake_engine, repo):
    (repo / "models" / "enc.py").write_text(MODEL + "x = 1  # convlint: ignore[CVL042]\n")
    p = run(repo, "check", "--format", "json", fake=fake_engine)
    bad = [d for d in json.loads(p.stdout) if d["code"] == "CVL000"]
    assert len(bad) == 1 and bad[0]["line"] == 10 and "unknown rule code 'CVL042'" in bad[0]["message"]


def test_jobs_uses_processes_only_for_enough_work(fake_engine, tmp_path):
    r = tmp_path / "many"
    r.mkdir()
    for i in range(40):
        (r / f"m{i:02d}.py").write_text(f"import torch.nn as nn\nc = nn.Conv2d(3, 8, 3, padding=-1)  # {i}\n")
    log = tmp_path / "pids.log"
    serial = run(r, "check", "--no-cache", "--format", "json", fake=fake_engine, env={"FAKE_ANALYSIS_LOG": str(log)})
    # (pid, parent pid) of each analysis: the convlint process itself is a child of this test; a
    # pool's workers are its grandchildren — whichever of them picked up the work (that depends on
    # the machine's load, which a test must not)
    me = str(os.getpid())
    serial_parents = {ln.split()[1] for ln in log.read_text().splitlines()}
    log.unlink()
    pooled = run(r, "check", "--no-cache", "--format", "json", "--jobs", "4", fake=fake_engine, env={"FAKE_ANALYSIS_LOG": str(log)})
    pooled_parents = {ln.split()[1] for ln in log.read_text().splitlines()}
    assert serial.stdout == pooled.stdout and len(json.loads(pooled.stdout)) == 40
    assert serial_parents == {me}
    assert me not in pooled_parents and len(pooled_parents) == 1, pooled.stderr
    log.unlink()
    few = r / "few"
    few.mkdir()
    (few / "a.py").write_text("import torch.nn as nn\nc = nn.Conv2d(3, 8, 3)\n")
    run(few, "check", "--no-cache", "--jobs", "4", fake=fake_engine, env={"FAKE_ANALYSIS_LOG": str(log)})
    assert {ln.split()[1] for ln in log.read_text().splitlines()} == {me}, "a few files are checked serially"


def test_end_to_end_with_the_real_engine(tmp_path):
    (tmp_path / "model.py").write_text(
        "import torch.nn as nn\n"
        "\n"
        "\n"
        "class Up(nn.Module):\n"
        "    def __init__(self):\n"
        "        super().__init__()\n"
        "        self.up = nn.ConvTranspose2d(8, 3, 3, stride=2, padding=1, output_padding=2)\n"
        "        self.ok = nn.ConvTranspose2d(8, 3, 3, stride=2, padding=1, output_padding=2)  # noqa: CVL001\n"
    )
    (tmp_path / "util.py").write_text("def convert(x):\n    return x\n")
    p = run(tmp_path, "check", "--format", "json", "--no-cache")
    assert p.returncode == 1, p.stderr
    found = [(d["code"], d["path"], d["line"]) for d in json.loads(p.stdout)]
    assert ("CVL001", "model.py", 7) in found
    assert not any(line == 8 for _, _, line in found), "the noqa line is suppressed"
    again = run(tmp_path, "check", "--format", "json")
    assert again.stdout == p.stdout
