"""Suppression comments: noqa and convlint: ignore."""

from __future__ import annotations

from convlint.findings import ERROR, Finding
from convlint.noqa import apply_noqa, parse_directives

CODES = [f"CVL{i:03d}" for i in range(11)]


def finding(code: str, line: int, end_line: int | None = None) -> Finding:
    return Finding(code, ERROR, "msg", "m.py", line, 5, end_line or line, 9)


def kept(src: str, *findings: Finding) -> list[tuple[str, int]]:
    return [(f.code, f.line) for f in apply_noqa(list(findings), src, "m.py", CODES)]


def test_bare_noqa_suppresses_every_code_on_its_line():
    src = "a = 1  # noqa\nb = 2\n"
    assert kept(src, finding("CVL004", 1), finding("CVL001", 1), finding("CVL004", 2)) == [("CVL004", 2)]


def test_noqa_with_codes_suppresses_only_those():
    src = "a = 1  # noqa: CVL004, CVL001\n"
    assert kept(src, finding("CVL004", 1), finding("CVL001", 1), finding("CVL005", 1)) == [("CVL005", 1)]


def test_noqa_is_case_insensitive_and_colon_spacing_is_free():
    src = "a = 1  # NOQA:cvl004\nb = 2  #noqa :CVL005 CVL006\n"
    assert kept(src, finding("CVL004", 1), finding("CVL005", 2), finding("CVL006", 2), finding("CVL001", 2)) == [("CVL001", 2)]


def test_noqa_after_another_comment_and_other_tools_codes():
    src = "a = 1  # type: ignore  # noqa: E501,CVL004\n"
    assert kept(src, finding("CVL004", 1), finding("CVL005", 1)) == [("CVL005", 1)]


def test_noqa_inside_a_string_does_not_count():
    src = 's = "# noqa"\nt = """\n# noqa\n"""\n'
    assert kept(src, finding("CVL004", 1), finding("CVL004", 3)) == [("CVL004", 1), ("CVL004", 3)]


def test_convlint_ignore_with_one_and_several_codes():
    src = "a = 1  # convlint: ignore[CVL004]\nb = 2  # convlint: ignore[CVL004,CVL005]\n"
    got = kept(src, finding("CVL004", 1), finding("CVL005", 1), finding("CVL004", 2), finding("CVL005", 2))
    assert got == [("CVL005", 1)]


def test_bare_convlint_ignore_suppresses_everything_on_the_line():
    assert kept("a = 1  # convlint: ignore\n", finding("CVL004", 1), finding("CVL001", 1)) == []


def test_multiline_finding_is_suppressed_by_a_comment_on_any_of_its_lines():
    # the finding spans the call: a comment on its first, an inner or its closing line counts
    src = (
        "x = nn.Conv2d(  # noqa: CVL001\n    3, 8, 3,\n)\n"
        "y = nn.Conv2d(\n    3, 8, 3,  # noqa: CVL001\n)\n"
        "z = nn.Conv2d(\n    3, 8, 3,\n)  # convlint: ignore[CVL001]\n"
    )
    got = kept(src, finding("CVL001", 1, end_line=3), finding("CVL001", 4, end_line=6), finding("CVL001", 7, end_line=9))
    assert got == []


def test_a_comment_outside_the_findings_lines_does_not_count():
    src = "a = 1  # noqa: CVL001\nx = nn.Conv2d(\n    3, 8, 3,\n)\nb = 2  # noqa\n"
    assert kept(src, finding("CVL001", 2, end_line=4)) == [("CVL001", 2)]


def test_a_comment_on_an_inner_line_suppresses_only_its_codes():
    src = "x = nn.Conv2d(\n    3, 8, 3,  # noqa: CVL004\n)\n"
    assert kept(src, finding("CVL001", 1, end_line=3), finding("CVL004", 1, end_line=3)) == [("CVL001", 1)]


def test_a_long_finding_with_many_comments_is_checked_line_by_line():
    lines = ["x = f("] + [f"    a{i},  # noqa: E501" for i in range(50)] + [")  # noqa: CVL002"]
    src = "\n".join(lines) + "\n"
    assert kept(src, finding("CVL002", 1, end_line=52), finding("CVL003", 1, end_line=52)) == [("CVL003", 1)]


def test_unknown_cvl_code_in_noqa_is_a_warning_and_suppresses_nothing():
    src = "a = 1  # noqa: CVL04\nb = 2  # noqa: E501, cvl4\nc = 3  # noqa: CVL00\n"
    d = parse_directives(src, "m.py", CODES)
    assert d.warnings == [
        "m.py:1: unknown rule code 'CVL04' in '# noqa: CVL04' (did you mean CVL004?); it suppresses nothing (convlint's codes are CVL000..CVL010)",
        "m.py:2: unknown rule code 'CVL4' in '# noqa: E501, cvl4' (did you mean CVL004?); it suppresses nothing (convlint's codes are CVL000..CVL010)",
        "m.py:3: unknown rule code 'CVL00' in '# noqa: CVL00' (did you mean CVL000?); it suppresses nothing (convlint's codes are CVL000..CVL010)",
    ]
    assert d.problems == [], "noqa is shared with other tools: a warning, not a finding"
    assert kept(src, finding("CVL004", 1), finding("CVL004", 2), finding("CVL000", 3)) == [("CVL004", 1), ("CVL004", 2), ("CVL000", 3)]


def test_other_tools_codes_in_noqa_are_not_warned_about():
    d = parse_directives("a = 1  # noqa: E501, F401 W291\nb = 2  # noqa\nc = 3  # NOQA:CVL004\n", "m.py", CODES)
    assert d.warnings == []


def test_noqa_without_colon_or_with_words_is_a_bare_noqa_with_a_warning():
    src = "a = 1  # noqa CVL004\nb = 2  # noqa: decoder-mismatch\n"
    d = parse_directives(src, "m.py", CODES)
    assert d.by_line == {1: None, 2: None}, "as flake8 reads them: every finding on the line"
    assert len(d.warnings) == 2
    assert d.warnings[0].startswith("m.py:1: '# noqa CVL004' has no colon") and "write '# noqa: CVL004'" in d.warnings[0]
    assert d.warnings[1].startswith("m.py:2: '# noqa: decoder-mismatch' is not a list of rule codes")


def test_malformed_convlint_ignore_is_reported_as_cvl000():
    src = (
        "a = 1  # convlint: ignore[CVL999]\n"
        "b = 2  # convlint: ignore[CVL004\n"
        "c = 3  # convlint: ignore[]\n"
        "d = 4  # convlint: ignore CVL004\n"
        "e = 5  # convlint: ignore[decoder-mismatch]\n"
        "f = 6  # convlint: ignore[CVL004] please\n"
    )
    out = apply_noqa([finding("CVL004", 2)], src, "m.py", CODES)
    problems = [f for f in out if f.code == "CVL000"]
    assert [f.line for f in problems] == [1, 2, 3, 4, 5, 6]
    assert all(f.severity == "error" and f.message.startswith("bad suppression comment: ") for f in problems)
    assert "unknown rule code 'CVL999'" in problems[0].message
    assert "missing ']'" in problems[1].message
    assert "'decoder-mismatch' is not a rule code" in problems[4].message
    assert problems[0].column == 8, "the column points at the comment (1-based)"
    assert ("CVL004", 2) in [(f.code, f.line) for f in out], "a malformed comment suppresses nothing"


def test_input_pragma_is_not_a_suppression():
    d = parse_directives("class M:  # convlint: input=(1, 3, 8, 8)\n    pass\n", "m.py", CODES)
    assert d.by_line == {} and d.problems == []


def test_unparsable_source_still_honours_noqa_on_later_lines():
    src = "def f(:\n    pass\nx = (  # noqa: CVL004\n"
    assert kept(src, finding("CVL004", 3)) == []


# the quick test that skips files without a directive answers exactly as the regex it guards
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from convlint.noqa import _QUICK, _may_hold_directive  # noqa: E402

_PIECES = ["noqa", "NoQA", "nOqA", "convlint", "CONVLINT", "convlİnt", "convlınt", "CONVLıNT", ": ignore", ":ignore",
           " :  IGNORE", "ignore", "#", " ", "\n", "x", "İ", "ı", "K", "ſ", "no", "qa", "conv", "lint", "é"]


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(_PIECES), max_size=12))
def test_the_quick_directive_test_is_the_regex(pieces):
    text = "".join(pieces)
    assert _may_hold_directive(text) == (_QUICK.search(text) is not None)


def test_a_dotted_capital_i_still_spells_convlint_ignore():
    # ``re.I`` matches "i" to "İ" and "ı": the quick test must not skip such a file
    assert _may_hold_directive("x = 1  # convlİnt: ignore[CVL004]\n")
    assert not _may_hold_directive("x = 1  # conv lint\n")
