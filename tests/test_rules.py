"""Every rule carries its documentation and its own valid and invalid examples, which run here."""

from __future__ import annotations

import pytest

from convlint.analysis import Project, analyze_file
from convlint.rules import all_rules, get_rule

RULES = all_rules()
CASES = [
    pytest.param(code, kind, i, snippet, id=f"{code}-{kind}-{i}")
    for code, rule in RULES.items()
    for kind, snippets in (("valid", rule.valid), ("invalid", rule.invalid))
    for i, snippet in enumerate(snippets)
]


def test_every_rule_code_of_the_design_is_registered():
    assert list(RULES) == [f"CVL{n:03d}" for n in range(11)]


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


@pytest.mark.parametrize("code,kind,i,snippet", CASES)
def test_rule_example(tmp_path, code, kind, i, snippet):
    path = tmp_path / "example.py"
    path.write_text(snippet)
    result = analyze_file(Project(tmp_path), str(path), snippet)
    codes = [f.code for f in result.findings]
    if kind == "valid":
        assert code not in codes, result.findings
    else:
        assert code in codes, result.findings


def test_invalid_examples_point_at_a_line_of_the_snippet(tmp_path):
    for code, rule in RULES.items():
        for snippet in rule.invalid:
            path = tmp_path / "example.py"
            path.write_text(snippet)
            lines = snippet.splitlines()
            for f in analyze_file(Project(tmp_path), str(path), snippet).findings:
                assert 1 <= f.line <= max(len(lines), 1)
                assert f.column >= 1


def test_get_rule_is_case_insensitive_and_rejects_unknown_codes():
    assert get_rule("cvl004").name == "decoder-mismatch"
    assert get_rule("CVL999") is None


def test_unresolved_is_off_by_default():
    assert not RULES["CVL008"].default_enabled
    assert all(r.default_enabled for c, r in RULES.items() if c != "CVL008")
