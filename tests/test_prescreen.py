"""The pre-screen: nothing CPython rejects, and nothing LibCST parses in super-linear time or
memory (or crashes on), reaches LibCST; such a file is one CVL000 with a reason and a position.

The inputs here are the measured hostile cases: every one of them either crashed LibCST's native
parser (exit 139), or took it from seconds to minutes and gigabytes. Each is refused from the AST
alone, before LibCST is imported for it.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from convlint.cli import main
from convlint.source.prescreen import (
    MAX_DEPTH,
    MAX_FILE_WEIGHT,
    MAX_NODES,
    MAX_STATEMENT_WEIGHT,
    PrescreenError,
    measure,
    prescreen,
)
from convlint.source.project import ParsedModule

ROOT = Path(__file__).resolve().parents[1]
REAL_FILES = sorted([*(ROOT / "tests" / "fixtures" / "models").rglob("*.py"), *(ROOT / "examples").rglob("*.py")])

CONV = "import torch.nn as nn\nconv = nn.Conv2d(3, 8, 3)\n"

# name -> (source, what the reason must say)
HOSTILE = {
    "brackets nested 2,000 deep": ("x = " + "(" * 2000 + "1" + ")" * 2000 + "\n", "too many nested parentheses"),
    "calls nested 1,000 deep": ("x = " + "f(" * 1000 + "1" + ")" * 1000 + "\n", "too many nested parentheses"),
    "1 + 1 + … with 2,000 terms": ("x = " + " + ".join(["1"] * 2000) + "\n", "expression too long"),
    "1 + 1 + … with 10,000 terms": ("x = " + " + ".join(["1"] * 10_000) + "\n", "nesting too deep"),
    "a.b.b.… 20,000 times": ("x = a" + ".b" * 20_000 + "\n", "nesting too deep"),
    "a.b.b.… 2,000 times": ("x = a" + ".b" * 2_000 + "\n", "expression too long"),
    "100,000-element literal": ("x = [" + ", ".join(["1"] * 100_000) + "]\n", "expression too long"),
    "400,000-element literal": ("x = [" + ", ".join(["1"] * 400_000) + "]\n", "expression too long"),
    "5,000 chained lambdas": ("x = " + "lambda: " * 5000 + "1\n", "nesting too deep"),
    "1,000 chained lambdas": ("x = " + "lambda: " * 1000 + "1\n", "nesting too deep"),
    "a and b and … with 10,000 terms": ("x = " + " and ".join(["a"] * 10_000) + "\n", "expression too long"),
    "10,000 elif branches": ("if a:\n    pass\n" + "elif a:\n    pass\n" * 10_000, "nesting too deep"),
    "import a.b.b.… with 10,000 parts": ("import a" + ".b" * 10_000 + "\n", "expression too long"),
    "from a.b.b.… with 10,000 parts": ("from a" + ".b" * 10_000 + " import c\n", "expression too long"),
    "3,000 unary minus": ("x = " + "-" * 3000 + "1\n", "nesting too deep"),
    "200 nested parentheses, 1,000 times": (("x = " + "(" * 200 + "1" + ")" * 200 + "\n") * 1000, "file too large"),
    "100,000 statements": ("x = 1\n" * 100_000, "file too large"),
    # LibCST's parser backtracks over case patterns in exponential time: 12 nested mapping
    # patterns took it 71 s, 30 grouping parentheses would take it about an hour
    "a mapping pattern nested 12 deep": ("match x:\n    case " + "{1: " * 12 + "1" + "}" * 12 + ":\n        pass\n", "case pattern nested too deep"),
    "30 grouping parentheses in a case": ("match x:\n    case " + "(" * 30 + "1" + ")" * 30 + ":\n        pass\n", "case pattern nested too deep"),
    "20 class patterns nested": ("match x:\n    case " + "A(" * 20 + "1" + ")" * 20 + ":\n        pass\n", "case pattern nested too deep"),
    "five mapping patterns 8 deep": ("match x:\n" + ("    case " + "{1: " * 8 + "1" + "}" * 8 + ":\n        pass\n") * 5, "case patterns too deep"),
}


@pytest.mark.parametrize("name", list(HOSTILE))
def test_hostile_input_is_refused_with_a_reason(name: str) -> None:
    src, reason = HOSTILE[name]
    err = prescreen(CONV + src)
    assert isinstance(err, PrescreenError), name
    assert reason in err.message, err.message
    assert err.raw_line >= 1 and err.raw_column >= 0


def test_a_syntax_error_has_cpythons_reason_and_position() -> None:
    err = prescreen("import torch\n\nx = (1,\ny = 2\n")
    assert err is not None and err.raw_line == 3 and err.raw_column == 4
    assert "never closed" in err.message
    err = prescreen("def f():\nreturn 1\n")
    assert err is not None and err.message.startswith("expected an indented block") and err.raw_line == 2
    err = prescreen("x = " + "(" * 300 + "1" + ")" * 300 + "\n")
    assert err is not None and err.message == "too many nested parentheses" and (err.raw_line, err.raw_column) == (1, 204)  # the 201st "("


def test_the_deepest_node_is_where_the_error_points() -> None:
    src = "import torch\n\n\ndef f(x):\n    return " + "lambda: " * 400 + "x\n"
    err = prescreen(src)
    assert err is not None and err.raw_line == 5 and "nesting too deep" in err.message


def test_cpythons_own_limits_are_nesting_errors_not_crashes() -> None:
    # CPython's AST construction recursion limit and its parser stack limit
    for src in ("x = " + " + ".join(["1"] * 100_000) + "\n", "x = " + "lambda: " * 100_000 + "1\n", "x = " + "(1, " * 200 + "1" + ")" * 200):
        err = prescreen(src)
        assert err is not None and ("nesting too deep" in err.message or "parenthes" in err.message), err.message


def test_null_bytes_and_syntax_warnings() -> None:
    err = prescreen("x = 1\0\n")
    assert err is not None and "null" in err.message
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a SyntaxWarning would raise here if the pre-screen let it out
        assert prescreen('x = "\\d"\nassert (x, "y")\nif x is 1:\n    pass\n') is None


@pytest.mark.parametrize("path", REAL_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_real_model_files_pass(path: Path) -> None:
    assert prescreen(path.read_text(encoding="utf-8")) is None


def test_the_bounds_have_margin_over_real_code() -> None:
    # The largest values in the fixtures and examples; the module docstring gives those of
    # diffusers, timm, flax and big_vision (depth 53, statement weight 65,535, file weight 195,743).
    worst = [measure(p.read_text(encoding="utf-8")) for p in REAL_FILES]
    assert max(m.depth for m in worst) * 3 < MAX_DEPTH
    assert max(m.statement_weight for m in worst) * 10 < MAX_STATEMENT_WEIGHT
    assert max(m.file_weight for m in worst) * 10 < MAX_FILE_WEIGHT
    assert max(m.nodes for m in worst) * 10 < MAX_NODES


def test_what_the_ast_hides_is_weighed() -> None:
    # Redundant parentheses are dropped by the AST; LibCST keeps (and memoises) every level.
    one = "x = " + "(" * 150 + "1" + ")" * 150 + "\n"
    assert measure(one).file_weight >= 150 * 151 // 2
    # a bracket or a quote inside a string or a comment is not one
    tricky = 'x = "((((("  # )))\ny = """\n(((\n"""\nz = \'\\\'(\'\n'
    assert measure(tricky).file_weight == measure("x = 1\ny = 2\nz = 3\n").file_weight + 3  # one per string


REPOS = Path("/work/repos")


@pytest.mark.slow
@pytest.mark.skipif(not REPOS.is_dir(), reason="the reference repositories are not on this machine")
def test_every_file_of_the_reference_repositories_passes() -> None:
    refused = []
    for path in sorted(REPOS.rglob("*.py")):
        if ".git" in path.parts:
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        err = prescreen(text)
        if err is not None and not _cpython_rejects(text):
            refused.append(f"{path}: {err.message}")
    assert refused == []


def _cpython_rejects(text: str) -> bool:
    import ast

    try:
        ast.parse(text)
    except (SyntaxError, ValueError):
        return True
    return False


# ----------------------------------------------------------------------------- through the check


def test_parsed_module_never_hands_refused_text_to_libcst() -> None:
    pm = ParsedModule("m.py", "m", "x = " + "(" * 2000 + "1" + ")" * 2000 + "\n")
    assert pm.tree is None and isinstance(pm.error, PrescreenError)


def test_check_reports_cvl000_and_goes_on(tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "ae.py").write_text((ROOT / "examples" / "autoencoder.py").read_text())
    for i, (src, _) in enumerate(HOSTILE.values()):
        (tmp_path / f"hostile_{i:02d}.py").write_text(CONV + src)
    monkeypatch.chdir(tmp_path)
    status = main(["check", "--no-cache", "--format", "json", "."])
    out, err = capsys.readouterr()
    import json

    findings = json.loads(out)
    assert status == 1 and "Traceback" not in err and err == ""
    by_file = {}
    for f in findings:
        by_file.setdefault(f["path"], []).append(f["code"])
    assert by_file.pop("ae.py") == ["CVL004"]
    assert sorted(by_file) == [f"hostile_{i:02d}.py" for i in range(len(HOSTILE))]
    assert all(codes == ["CVL000"] for codes in by_file.values())
    assert all(f["message"].startswith("cannot parse: ") for f in findings if f["code"] == "CVL000")


def test_brackets_nested_2000_deep_no_longer_kill_the_process(tmp_path: Path) -> None:
    # The native parser's segmentation fault (exit 139) takes the whole process: run one.
    (tmp_path / "deep.py").write_text(CONV + "x = " + "[" * 2000 + "1" + "]" * 2000 + "\n")
    (tmp_path / "lambdas.py").write_text(CONV + "x = " + "lambda: " * 5000 + "1\n")
    (tmp_path / "ands.py").write_text(CONV + "x = " + " and ".join(["a"] * 10_000) + "\n")
    env = {**os.environ, "NO_COLOR": "1"}
    r = subprocess.run(
        [sys.executable, "-m", "convlint", "check", "--no-cache", "--no-show-source", "."],
        cwd=tmp_path, env=env, capture_output=True, text=True, stdin=subprocess.DEVNULL,
    )
    assert r.returncode == 1, (r.returncode, r.stdout, r.stderr)
    assert r.stderr == ""
    assert "deep.py:3:" in r.stdout and "too many nested parentheses" in r.stdout
    # CPython's parser gives up on 5,000 lambdas without a position: the file's first line
    assert "lambdas.py:1:1: CVL000 cannot parse: nesting too deep" in r.stdout
    assert "ands.py:3:5: CVL000 cannot parse: expression too long" in r.stdout


# ----------------------------------------------------------------------------- just under the bounds

AE = (ROOT / "examples" / "autoencoder.py").read_text()
UNDER = {
    "calls": lambda n: "x = " + "f(" * n + "1" + ")" * n + "\n",
    "lists": lambda n: "x = " + "[" * n + "1" + "]" * n + "\n",
    "tuples": lambda n: "x = " + "(1, " * n + "1" + ")" * n + "\n",
    "dicts": lambda n: "x = " + "{1: " * n + "1" + "}" * n + "\n",
    "subscripts": lambda n: "x = " + "a[" * n + "1" + "]" * n + "\n",
    "lambdas": lambda n: "x = " + "lambda: " * n + "1\n",
    "sums": lambda n: "x = " + " + ".join(["1"] * n) + "\n",
    "ands": lambda n: "x = " + " and ".join(["a"] * n) + "\n",
    "elifs": lambda n: "if a:\n    pass\n" + "elif a:\n    pass\n" * n,
    "blocks": lambda n: "".join("    " * i + "if a:\n" for i in range(min(n, 99))) + "    " * min(n, 99) + "x = " + "f(" * n + "1" + ")" * n + "\n",
    "mapping patterns": lambda n: "match x:\n    case " + "{1: (" * n + "1" + ",)}" * n + ":\n        pass\n",
    "grouped patterns": lambda n: "match x:\n    case " + "(" * n + "1" + ")" * n + ":\n        pass\n",
}


def _deepest_accepted(make) -> str:
    lo, hi = 1, 2
    while prescreen(AE + make(hi)) is None:
        lo, hi = hi, hi * 2
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (mid, hi) if prescreen(AE + make(mid)) is None else (lo, mid)
    return AE + make(lo)


@pytest.mark.parametrize("kind", list(UNDER))
def test_just_under_the_bounds_every_finding_is_still_reported(kind, tmp_path, monkeypatch, capsys) -> None:
    # Deeper than this, LibCST's position metadata hit Python's recursion limit and every finding
    # of the file was silently dropped ("All checks passed!" on a file with a real bug).
    (tmp_path / "m.py").write_text(_deepest_accepted(UNDER[kind]))
    monkeypatch.chdir(tmp_path)
    assert main(["check", "--no-cache", "--format", "json", "m.py"]) == 1
    import json

    assert [f["code"] for f in json.loads(capsys.readouterr().out)] == ["CVL004"]


def test_ordinary_match_statements_pass() -> None:
    src = (
        "match (((command))):\n"
        "    case (\n        (1)\n    ) if f(((a))):\n        pass\n"
        "    case {\"k\": [1, (2, 3)], **rest} | Point(x=0, y=[_, *_]):  # (((( in a comment\n"
        "        x = \"(((((\"\n"
        "    case _:\n        y = g(h(i(j(k(l(m(n(o(1)))))))))\n"
    )
    assert prescreen(src) is None


def test_an_ast_the_caller_already_has_is_used() -> None:
    import ast

    src = "x = " + "lambda: " * 1000 + "1\n"
    err = prescreen(src, tree=ast.parse(src))
    assert err is not None and "nesting too deep" in err.message
    assert prescreen("x = 1\n", tree=ast.parse("x = 1\n")) is None


def test_an_imported_module_is_screened_statement_by_statement(tmp_path: Path) -> None:
    """An imported module is read a few statements at a time: a hostile statement LibCST must not
    see is screened when it is reached (its name is then unknown), and the module's other
    statements are still followed. Checked in a child process: were LibCST given one of them,
    the crash (a segmentation fault) or the minutes of parsing would show there."""
    import json
    import subprocess
    import sys

    accepted = [n for n, (src, _) in HOSTILE.items() if _cpython_accepts(src)]
    assert len(accepted) >= 8
    block = "import torch.nn as nn\n\n\nclass Down(nn.Module):\n    def __init__(self, c):\n        super().__init__()\n        self.conv = nn.Conv2d(c, 2 * c, 4, stride=2, padding=1)\n\n    def forward(self, x):\n        return self.conv(x)\n\n\n"
    for i, name in enumerate(accepted):
        (tmp_path / f"blocks_{i:02d}.py").write_text(block + HOSTILE[name][0])
    uses = "\n".join(f"from blocks_{i:02d} import Down as D{i}, x as x{i}" for i in range(len(accepted)))
    layers = "\n".join(f"        self.d{i} = D{i}(3)" for i in range(len(accepted)))
    model = f"import torch.nn as nn\n{uses}\n\n\n# convlint: input=(1, 4, 32, 32)\nclass Net(nn.Module):\n    def __init__(self):\n        super().__init__()\n{layers}\n        self.s = x0\n\n    def forward(self, x):\n        return self.d0(x)\n"
    (tmp_path / "model.py").write_text(model)
    r = subprocess.run([sys.executable, "-m", "convlint", "check", "--no-cache", "--format", "json", "model.py"], cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert "Traceback" not in r.stderr, r.stderr
    # the block from a module with a hostile statement is followed: 4 channels into Down(3) is
    # the finding, on the block's conv (line 7 of that module)
    assert [(f["path"], f["code"], f["line"]) for f in json.loads(r.stdout)] == [("blocks_00.py", "CVL003", 7)], r.stdout


def _cpython_accepts(src: str) -> bool:
    import ast

    try:
        ast.parse(src)
    except (SyntaxError, RecursionError, MemoryError, ValueError):
        return False
    return True
