"""Every rule carries its documentation and its own valid and invalid examples, which run here:
a valid example gives no finding of its rule; an invalid one gives one on its pinned line, with
its message, and exactly its fix (the whole fixed source) or none."""

from __future__ import annotations

import pytest

from convlint.analysis import Project, analyze_file
from convlint.config import known_codes
from convlint.rules import Invalid, all_rules, get_rule, rule_modules

RULES = all_rules()
VALID = [pytest.param(code, snippet, id=f"{code}-valid-{i}") for code, rule in RULES.items() for i, snippet in enumerate(rule.valid)]
INVALID = [pytest.param(code, example, id=f"{code}-invalid-{i}") for code, rule in RULES.items() for i, example in enumerate(rule.invalid)]


def _findings(tmp_path, source: str, code: str):
    path = tmp_path / "example.py"
    path.write_text(source)
    result = analyze_file(Project(tmp_path), str(path), source)
    return [f for f in result.findings if f.code == code]


def _apply(source: str, fix) -> str:
    """The source after the fix's edits (1-based lines and columns, end exclusive)."""
    lines = source.splitlines(keepends=True)
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line))
    out = source
    for line, col, end_line, end_col, text in sorted(fix.edits, reverse=True):
        a = starts[line - 1] + col - 1
        b = starts[end_line - 1] + end_col - 1
        out = out[:a] + text + out[b:]
    return out


def test_the_registry_is_discovered_from_the_rule_modules():
    assert list(RULES) == sorted(RULES)
    assert list(RULES) == [f"CVL{n:03d}" for n in range(len(RULES))]  # contiguous: a new rule takes the next code
    for code, mod in rule_modules().items():
        assert mod.__name__.rsplit(".", 1)[-1].startswith(code.lower() + "_")
        assert callable(mod.check)


def test_the_configuration_knows_exactly_the_registered_codes():
    # ``convlint.rules.codes`` spares a run that analyses nothing the import of the rule modules
    registered = {code: rule.default_enabled for code, rule in RULES.items()}
    assert known_codes() == registered, "convlint/rules/codes.py must list every rule code and its default"


def test_a_run_that_analyses_nothing_imports_no_rule_module(tmp_path):
    # the code table answers the configuration; the rules (and the engine classes they import)
    # are loaded only when a file is analysed
    import subprocess
    import sys

    (tmp_path / "plain.py").write_text("x = 1\n")
    probe = (
        "import sys\n"
        "from convlint.cli import main\n"
        "rc = main(['check', '--no-cache', 'plain.py'])\n"
        "print(sorted(m for m in sys.modules if m.startswith(('convlint.rules.cvl', 'convlint.interpret'))))\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], cwd=tmp_path, capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "[]"


@pytest.mark.parametrize("code", list(RULES))
def test_rule_documents_what_why_example_and_fix(code):
    rule = RULES[code]
    for part in (rule.summary, rule.what, rule.why, rule.example, rule.fix):
        assert part.strip(), f"{code} lacks a section"
    doc = rule.documentation()
    assert doc.startswith(f"# {code} {rule.name}")
    for heading in ("## What it does", "## Why is this bad?", "## Example", "## Fix"):
        assert heading in doc


@pytest.mark.parametrize("code", [c for c in RULES if c != "CVL010"])
def test_static_rules_carry_valid_and_invalid_examples(code):
    assert RULES[code].valid and RULES[code].invalid
    assert all(isinstance(x, Invalid) for x in RULES[code].invalid)


@pytest.mark.parametrize("code,snippet", VALID)
def test_valid_example_gives_no_finding(tmp_path, code, snippet):
    assert _findings(tmp_path, snippet, code) == []


@pytest.mark.parametrize("code,example", INVALID)
def test_invalid_example_gives_its_finding_on_its_line_with_its_fix(tmp_path, code, example):
    found = _findings(tmp_path, example.source, code)
    assert [f.line for f in found] == [example.line], found
    (finding,) = found
    assert example.message in finding.message
    assert 1 <= finding.column <= len(example.source.splitlines()[finding.line - 1]) + 1
    if example.fixed is None:
        assert finding.fix is None, finding.fix
    else:
        assert finding.fix is not None and finding.fix.edits
        assert _apply(example.source, finding.fix) == example.fixed


def test_get_rule_is_case_insensitive_and_rejects_unknown_codes():
    assert get_rule("cvl004").name == "decoder-mismatch"
    assert get_rule("CVL999") is None


def test_unresolved_is_off_by_default():
    assert not RULES["CVL008"].default_enabled
    assert all(r.default_enabled for c, r in RULES.items() if c != "CVL008")


def test_the_rule_pages_in_docs_are_generated_from_the_registry():
    import subprocess
    import sys
    from pathlib import Path

    script = Path(__file__).resolve().parents[1] / "scripts" / "generate_rule_docs.py"
    proc = subprocess.run([sys.executable, str(script), "--check"], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


def test_the_readme_table_lists_every_rule():
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    for code, rule in RULES.items():
        assert f"| {code} | {rule.name} | {rule.severity} |" in readme, code
