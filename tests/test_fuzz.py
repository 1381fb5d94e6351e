"""Fuzzing: seeded mutations of the project's own fixtures and examples, checked end to end.

Every case is a number: seed file ``SEEDS[n % len(SEEDS)]`` mutated by ``fuzz_mutate.mutate(data,
n)`` (truncations, deleted and duplicated lines, swapped and deleted tokens, random bytes, NULs,
BOM and CR/LF/CRLF mixes, non-UTF-8 bytes, control characters, tabs, edge-value numbers, odd
pragmas; and, in the heavy set, very deep nesting, very long chains, huge literals and elif
chains). A case passes when ``convlint check`` ends with exit 0, 1 or 2 with no traceback and no
internal error, and ``--fix`` on a copy never leaves a file that does not parse.

The cheap cases run in-process; the heavy ones in a child process (a crash of LibCST's native
parser would take the test run with it). The work is bounded by counts, never by time: the
default suite runs :data:`CHEAP` cheap cases and :data:`HEAVY` heavy ones; ``CONVLINT_FUZZ=1``
runs the long sweep (:data:`CHEAP_LONG` and :data:`HEAVY_LONG`).

An internal error inside the analysis engine (``convlint/interpret``, ``convlint/frameworks``,
``convlint/analysis.py``, ``convlint/rules``) is not fixed from here: each one found is a strict
xfail below with its smallest input, and the long sweep marks cases that hit a known one as
expected failures.
"""

from __future__ import annotations

import ast
import json
import os
import shutil
import subprocess
import sys
import traceback
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from fuzz_mutate import CHEAP as CHEAP_MUTATORS  # noqa: E402
from fuzz_mutate import HEAVY as HEAVY_MUTATORS  # noqa: E402
from fuzz_mutate import mutate  # noqa: E402

from convlint.cli import main  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SEEDS = sorted(
    p for p in [*(ROOT / "tests" / "fixtures" / "models").rglob("*.py"), *(ROOT / "examples").rglob("*.py")]
    if "__pycache__" not in p.parts
)
LONG = bool(os.environ.get("CONVLINT_FUZZ"))
CHEAP, CHEAP_LONG = 120, 4000
HEAVY, HEAVY_LONG = 8, 200
HEAVY_BATCH = 25

# Engine crashes the fuzzer found (internal errors in code this suite does not own), by the
# frame that raised: a long-sweep case that hits one is an expected failure, any other is a bug.
KNOWN_ENGINE_CRASHES: dict[str, str] = {}  # "file.py:line" → what crashes there (none known)


def _case(n: int, base: Path, mutators) -> tuple[Path, str, str]:
    """Copy the seed's folder (its imports resolve) into base/cN, mutate the seed: (file, seed, mutations)."""
    seed = SEEDS[n % len(SEEDS)]
    case = base / f"c{n}"
    shutil.copytree(seed.parent, case, ignore=shutil.ignore_patterns("MANIFEST.json", "__pycache__", "*.pyc"))
    name, data = mutate(seed.read_bytes(), n, mutators)
    target = case / seed.name
    target.write_bytes(data)
    return target, seed.relative_to(ROOT).as_posix(), name


def _engine_traceback(path: Path) -> str:
    """The traceback of an internal error, from the analysis called directly (the CLI prints one line)."""
    from convlint.analysis import Project, analyze_file
    from convlint.config import load_config
    from convlint.source.files import read_source

    src = read_source(path)
    try:
        config = load_config([str(path)], cwd=path.parent)
        analyze_file(Project(root=config.root, config=config), str(path), src.text)
    except Exception:
        return traceback.format_exc()
    return "(no error when analysed alone)"


def _check_output(status, out: str, err: str, what: str) -> None:
    assert status in (0, 1, 2), f"{what}: exit {status}\n{err}"
    assert "Traceback" not in err, f"{what}: traceback\n{err}"
    errors = [line for line in err.splitlines() if "internal error" in line]
    unknown = [line for line in errors if not any(f"(at {where})" in line for where in KNOWN_ENGINE_CRASHES)]
    if unknown:
        pytest.fail(f"{what}: internal error\n{err}")
    if errors:
        pytest.xfail("known engine crash: " + "; ".join(r for w, r in KNOWN_ENGINE_CRASHES.items() if f"(at {w})" in err))


def _files_parse_or_are_unchanged(before: dict[Path, bytes], what: str) -> None:
    for path, data in before.items():
        now = path.read_bytes()
        if now != data:
            try:
                ast.parse(now)
            except SyntaxError as exc:
                pytest.fail(f"{what}: --fix wrote {path.name}, which does not parse: {exc}")


def _snapshot(d: Path) -> dict[Path, bytes]:
    return {p: p.read_bytes() for p in d.rglob("*.py") if p.is_file() and not p.is_symlink()}


@pytest.mark.parametrize("n", range(CHEAP_LONG if LONG else CHEAP))
def test_cheap_mutation(n: int, tmp_path: Path, monkeypatch, capsys) -> None:
    target, seed, mutations = _case(n, tmp_path, CHEAP_MUTATORS)
    what = f"case {n} ({seed}: {mutations})"
    monkeypatch.chdir(target.parent)
    status = main(["check", "--no-cache", "--format", "json", target.name])
    out, err = capsys.readouterr()
    if "internal error" in err and not any(f"(at {w})" in err for w in KNOWN_ENGINE_CRASHES):
        err += "\n" + _engine_traceback(target)
    _check_output(status, out, err, what)
    findings = json.loads(out)
    if not any(f["fix"] and f["fix"]["edits"] for f in findings):
        return
    before = _snapshot(target.parent)
    status = main(["check", "--no-cache", "--fix", target.name])
    out, err = capsys.readouterr()
    _check_output(status, out, err, what + " --fix")
    _files_parse_or_are_unchanged(before, what)


def _heavy_batches() -> list[range]:
    total = HEAVY_LONG if LONG else HEAVY
    return [range(i, min(total, i + HEAVY_BATCH)) for i in range(0, total, HEAVY_BATCH)]


@pytest.mark.parametrize("cases", _heavy_batches(), ids=lambda r: f"{r.start}-{r.stop - 1}")
def test_heavy_mutations_in_a_child_process(cases: range, tmp_path: Path) -> None:
    described = []
    for n in cases:
        target, seed, mutations = _case(n, tmp_path, HEAVY_MUTATORS)
        described.append(f"case {n} ({seed}: {mutations})")
    env = {**os.environ, "NO_COLOR": "1"}
    env.pop("FORCE_COLOR", None)
    before = _snapshot(tmp_path)
    args = ["check", "--no-cache", "--fix", "--no-show-source", "."]  # --fix checks, fixes and reports
    r = subprocess.run([sys.executable, "-m", "convlint", *args], cwd=tmp_path, env=env, capture_output=True, text=True, stdin=subprocess.DEVNULL)
    what = f"{' '.join(args)} over " + "; ".join(described)
    assert r.returncode >= 0, f"{what}: killed by signal {-r.returncode}"
    _check_output(r.returncode, r.stdout, r.stderr, what)
    assert "CVL000" in r.stdout, what  # the heavy mutations are refused, not parsed for minutes
    _files_parse_or_are_unchanged(before, "heavy batch")


# ----------------------------------------------------------------------------- engine crashes found


def test_a_pragma_followed_by_a_lone_cr_is_read_as_python_reads_it(tmp_path: Path, monkeypatch, capsys) -> None:
    # found by the fuzzer: the pragma's comment token ran on past the CR (an AttributeError once)
    (tmp_path / "m.py").write_bytes(b"# convlint: input=(1, 3, 8, 8)\rclass A:\n    pass\n")
    monkeypatch.chdir(tmp_path)
    status = main(["check", "--no-cache", "m.py"])
    out, err = capsys.readouterr()
    assert status == 0 and "internal error" not in err, out + err


@pytest.mark.parametrize("eol", ["\r", "\r\n"])
def test_files_with_cr_line_endings_get_findings_pragmas_and_fixes_on_python_s_lines(eol: str, tmp_path: Path, monkeypatch, capsys) -> None:
    src = (
        "from torch import nn\n\n\n"
        "class AE(nn.Module):  # convlint: input=(2, 1, 28, 28)\n"
        "    def __init__(self):\n"
        "        super().__init__()\n"
        "        self.down = nn.Conv2d(1, 4, 3, stride=2, padding=1)\n"
        "        self.up = nn.ConvTranspose2d(4, 1, 3, stride=2, padding=1)\n"
        "        self.other = nn.ConvTranspose2d(4, 1, 3, stride=2, padding=1)  # noqa: CVL004\n\n"
        "    def forward(self, x):\n"
        "        return self.up(self.down(x))\n"
    ).replace("\n", eol)
    (tmp_path / "m.py").write_bytes(src.encode())
    monkeypatch.chdir(tmp_path)
    status = main(["check", "--no-cache", "--format", "json", "m.py"])
    out, err = capsys.readouterr()
    assert status == 1, err
    found = [(f["code"], f["line"]) for f in json.loads(out)]
    assert found == [("CVL004", 8)], found
    assert main(["check", "--no-cache", "--fix", "m.py"]) == 0
    fixed = (tmp_path / "m.py").read_bytes().decode()
    ast.parse(fixed)
    assert fixed.replace("\r\n", "\n").replace("\r", "\n").split("\n")[7].endswith("padding=1, output_padding=1)")
    assert fixed.count(eol) == src.count(eol)


def test_the_mutations_are_reproducible() -> None:
    data = SEEDS[0].read_bytes()
    for n in range(20):
        assert mutate(data, n) == mutate(data, n)
        assert mutate(data, n, HEAVY_MUTATORS) == mutate(data, n, HEAVY_MUTATORS)
    assert len({mutate(data, n)[1] for n in range(20)}) > 15
