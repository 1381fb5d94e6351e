"""A hostile repository, as a pre-commit hook or a CI check sees it: one bad file costs a finding,
never the run; nothing in the repository steers convlint into running code, reading forever or
writing outside it; every option value is checked.

The end-to-end test builds one directory holding every measured case (each of which crashed,
hung or misled convlint before) next to a real bug, and runs ``convlint check``, ``--fix`` and
``--diff`` over it in-process, as a user would.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from convlint.cli import main

ROOT = Path(__file__).resolve().parents[1]
AUTOENCODER = (ROOT / "examples" / "autoencoder.py").read_text()
CONV = "import torch.nn as nn\nconv = nn.Conv2d(3, 8, 3)\n"


def one_line_error(capsys: pytest.CaptureFixture[str], status: int) -> str:
    out, err = capsys.readouterr()
    assert status == 2, (out, err)
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("convlint: error: "), err
    assert "Traceback" not in err and "internal error" not in err
    return lines[0]


# ----------------------------------------------------------------------------- option values


@pytest.mark.parametrize(
    "args, says",
    [
        (["check", "--confirm=model", "--confirm-timeout", "inf"], "--confirm-timeout"),
        (["check", "--confirm=model", "--confirm-timeout", "nan"], "--confirm-timeout"),
        (["check", "--confirm=model", "--confirm-timeout", "-1"], "--confirm-timeout"),
        (["check", "--confirm=model", "--confirm-timeout", "0"], "--confirm-timeout"),
        (["check", "--confirm=model", "--confirm-timeout", "1e308"], "--confirm-timeout"),
        (["check", "--confirm=layers", "--confirm-size", "H=0"], "--confirm-size"),
        (["check", "--confirm=layers", "--confirm-size", "H=-3"], "--confirm-size"),
        (["check", "--confirm=layers", "--confirm-size", "H=99999999999999999999999"], "--confirm-size"),
        (["check", "--confirm=layers", "--confirm-size", "H=nan"], "--confirm-size"),
        (["check", "--jobs", "-1"], "--jobs"),
        (["check", "--jobs", "inf"], "--jobs"),
        (["shapes", "--confirm=model", "--confirm-timeout", "inf"], "--confirm-timeout"),
        (["solve", "--in", "64", "-k", "3", "-s", "0", "-p", "1"], "--stride"),
        (["solve", "--in", "inf", "-k", "3", "-p", "1"], "--in"),
        (["solve", "--in", "64", "-k", "nan", "-p", "1"], "--kernel"),
        (["solve", "--in", "64", "-k", "3", "-p", "-1"], "--padding"),
        (["solve", "--in", "64", "-k", "3", "-d", "0", "-p", "0"], "--dilation"),
        (["solve", "--in", "0", "-k", "3", "-p", "0"], "--in"),
    ],
)
def test_a_bad_option_value_is_a_one_line_usage_error(args, says, tmp_path, monkeypatch, capsys) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "m.py").write_text(AUTOENCODER)
    line = one_line_error(capsys, main([*args, *(["m.py"] if args[0] in ("check", "shapes") else [])]))
    assert says in line


def test_a_report_that_cannot_be_written_is_a_one_line_error(tmp_path, monkeypatch, capsys) -> None:
    if not os.path.exists("/dev/full"):
        pytest.skip("no /dev/full")
    monkeypatch.chdir(tmp_path)
    (tmp_path / "m.py").write_text(AUTOENCODER)
    line = one_line_error(capsys, main(["check", "--no-cache", "m.py", "--output-file", "/dev/full"]))
    assert line == "convlint: error: --output-file: cannot write /dev/full: No space left on device"


# ----------------------------------------------------------------------------- the hostile repository


def _hostile_repo(root: Path) -> dict[str, str]:
    """Every measured case, next to a real bug. Returns file -> what its CVL000 must say."""
    root.mkdir()
    (root / "pyproject.toml").write_text("[tool.convlint]\n")
    # the real bug, and a script without convolutions that imports it (--fix used to hang on it)
    (root / "model.py").write_text(AUTOENCODER)
    (root / "train.py").write_text("from model import ConvAutoEncoder\n\nmodel = ConvAutoEncoder()\n")
    expect = {
        "nested.py": "too many nested parentheses",
        "chain_plus.py": "expression too long",
        "chain_attr.py": "nesting too deep",
        "literal.py": "expression too long",
        "lambdas.py": "nesting too deep",
        "ands.py": "expression too long",
        "elifs.py": "nesting too deep",
        "syntax.py": "invalid syntax",
        "binary.py": "binary file",
        "latin1.py": "not valid UTF-8",
    }
    (root / "nested.py").write_text(CONV + "x = " + "[" * 2000 + "1" + "]" * 2000 + "\n")
    (root / "chain_plus.py").write_text(CONV + "x = " + " + ".join(["1"] * 2000) + "\n")
    (root / "chain_attr.py").write_text(CONV + "x = a" + ".b" * 20_000 + "\n")
    (root / "literal.py").write_text(CONV + "x = [" + ", ".join(["1"] * 400_000) + "]\n")
    (root / "lambdas.py").write_text(CONV + "x = " + "lambda: " * 5000 + "1\n")
    (root / "ands.py").write_text(CONV + "x = " + " and ".join(["a"] * 10_000) + "\n")
    (root / "elifs.py").write_text(CONV + "if a:\n    pass\n" + "elif a:\n    pass\n" * 10_000)
    (root / "syntax.py").write_text(CONV + "def f(:\n")
    (root / "binary.py").write_bytes(CONV.encode() + b"\x00\x01\x02")
    (root / "latin1.py").write_bytes(CONV.encode() + b"s = '\xe9'\n")
    # control characters in a file name
    (root / "evil\x1b[31m.py").write_text(CONV + "def f(:\n")
    expect["evil\\x1b[31m.py"] = "invalid syntax"
    # a FIFO and a link to /dev/zero: named *.py in the tree (and the link named on the command line)
    if hasattr(os, "mkfifo"):
        os.mkfifo(root / "pipe.py")
        expect["pipe.py"] = "not a regular file (a FIFO)"
    if os.path.exists("/dev/zero"):
        (root / "zero.py").symlink_to("/dev/zero")
        expect["zero.py"] = "not a regular file (a symbolic link to a character device)"
    # a .gitignore line that backtracks for minutes in a regular expression, and a long name
    (root / ".gitignore").write_text("*a*a*a*a*a*a*a*a*a*a*a*a*b.py\n")
    (root / ("a" * 200 + ".py")).write_text(CONV)
    # a configuration elsewhere in the tree that would write two levels above (not read from the top)
    (root / "sub").mkdir()
    (root / "sub" / "pyproject.toml").write_text('[tool.convlint]\ncache-dir = "../.."\n')
    return expect


def _tamper_cache(root: Path) -> None:
    """A committed .convlint_cache, from another key: says model.py is clean."""
    from convlint.cache import _MAGIC, Cache
    from convlint.config import load_config

    config = load_config(cwd=root)
    cache = Cache(config.cache_path, config.fingerprint(), root=config.root, key=b"\x01" * 32)
    import hashlib

    cache._prepare()
    for name in ("model.py", "nested.py"):
        data = (root / name).read_bytes()
        sha = hashlib.sha256(data).hexdigest()
        key = cache.key(root / name, sha)
        payload = json.dumps({"format": 2, "path": name, "sha256": sha, "findings": [], "deps": {}}).encode()
        entry = cache._entry(key)
        entry.parent.mkdir(parents=True, exist_ok=True)
        entry.write_bytes(_MAGIC + cache._mac(key, payload).encode() + b"\n" + payload)


def _snapshot(d: Path) -> dict[str, float]:
    """What lies beside the repository, and the folders above it: nothing may change there."""
    return {
        **{str(p): p.lstat().st_mtime for p in d.iterdir() if p.name != "repo"},
        **{str(p): p.lstat().st_mtime for p in (d, d.parent)},
    }


def test_a_hostile_repository_costs_findings_never_the_run(tmp_path: Path, monkeypatch, capsys) -> None:
    repo = tmp_path / "repo"
    expect = _hostile_repo(repo)
    _tamper_cache(repo)
    above = _snapshot(tmp_path)
    monkeypatch.chdir(repo)

    args = ["check", "--format", "json", "."]
    if os.path.exists("/dev/zero"):
        args.append("zero.py")  # named on the command line as well
    assert main(args) == 1
    out, err = capsys.readouterr()
    assert err == ""
    findings = json.loads(out)
    by_path: dict[str, list[tuple[str, str]]] = {}
    for f in findings:
        by_path.setdefault(f["path"], []).append((f["code"], f["message"]))
    real = by_path.pop("model.py")
    assert [c for c, _ in real] == ["CVL004"], "the real bug is reported, whatever the committed cache says"
    for name, says in expect.items():
        got = by_path.pop(name.replace("\\x1b", "\x1b"), [])
        assert len(got) == 1 and got[0][0] == "CVL000" and says in got[0][1], (name, got)
    assert by_path == {}, by_path
    assert _snapshot(tmp_path) == above, "nothing written outside the project"

    # --diff, then --fix: both end; only the real fix is applied; nothing else is written
    assert main(["check", "--diff", "."]) == 1
    diff = capsys.readouterr().out
    assert diff.startswith("--- a/model.py\n+++ b/model.py\n") and diff.count("\n+ ") == 1
    before = {p.name: p.read_bytes() for p in repo.iterdir() if p.is_file() and not p.is_symlink() and p.name != "pipe.py"}
    assert main(["check", "--fix", "."]) == 1
    out, err = capsys.readouterr()
    assert "(1 fixed," in out and "Traceback" not in err
    after = {p.name: p.read_bytes() for p in repo.iterdir() if p.is_file() and not p.is_symlink() and p.name != "pipe.py"}
    assert [n for n in before if before[n] != after[n]] == ["model.py"]
    assert after["model.py"].count(b"output_padding=1") == before["model.py"].count(b"output_padding=1") + 1
    assert _snapshot(tmp_path) == above

    # the configuration that points the cache two levels up is refused, naming the key
    monkeypatch.chdir(repo / "sub")
    line = one_line_error(capsys, main(["check", "."]))
    assert "tool.convlint.cache-dir" in line and "inside the project" in line
    assert _snapshot(tmp_path) == above


def test_the_output_of_a_hostile_repository_is_safe_to_print(tmp_path: Path, monkeypatch) -> None:
    repo = tmp_path / "repo"
    _hostile_repo(repo)
    env = {**os.environ, "FORCE_COLOR": "", "NO_COLOR": "1"}
    for fmt in ("text", "github"):
        r = subprocess.run(
            [sys.executable, "-m", "convlint", "check", "--no-cache", "--format", fmt, "."],
            cwd=repo, env=env, capture_output=True, stdin=subprocess.DEVNULL,
        )
        assert r.returncode == 1, r.stderr
        assert b"\x1b" not in r.stdout + r.stderr and b"Traceback" not in r.stderr
        assert b"evil\\x1b[31m.py" in r.stdout
