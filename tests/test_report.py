"""Formatters: text, json, sarif (validated against the official schema), github."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

import convlint.rules
from convlint.findings import ERROR, INFO, WARNING, Finding, Fix
from convlint.report import ReportOptions, render, sort_findings, use_color
from convlint.report.github import escape_data, escape_property
from convlint.rules import Rule

REPO = Path(__file__).resolve().parents[1]
SCHEMA = REPO.parent / "shared" / "sarif" / "sarif-schema-2.1.0.json"

SRC = "import torch.nn as nn\n\nclass AE(nn.Module):\n\tdef __init__(self):\n\t\tself.up = nn.ConvTranspose2d(16, 3, 3, stride=2, padding=1)\n"

FIX = Fix("set output_padding=1", "output_padding=1", ((5, 56, 5, 56, ", output_padding=1"),))
F_ERR = Finding("CVL004", ERROR, "ConvTranspose2d gives 63, the encoder took 64", "models/ae.py", 5, 13, 5, 57, fix=FIX, notes=("the encoder conv is at line 3",))
F_WARN = Finding("CVL006", WARNING, "stride 2 drops the last row for H=65", "models/ae.py", 3, 1, 3, 5)
F_INFO = Finding("CVL008", INFO, "kernel_size unknown: a parameter without default", "models/b.py", 1, 1, 1, 2)


def fake_rule(code: str, name: str, severity: str, on: bool = True) -> Rule:
    return Rule(code, name, severity, f"when {name}", f"Finds {name}.", "It breaks.", "x = 1", "Fix it.", default_enabled=on)


@pytest.fixture
def registry(monkeypatch):
    rules = {
        "CVL000": fake_rule("CVL000", "parse-error", ERROR),
        "CVL004": fake_rule("CVL004", "decoder-mismatch", ERROR),
        "CVL006": fake_rule("CVL006", "lossy-downsampling", WARNING),
        "CVL008": fake_rule("CVL008", "unresolved", INFO, on=False),
    }
    monkeypatch.setattr(convlint.rules, "all_rules", lambda: rules)
    return rules


def opts(**kw) -> ReportOptions:
    kw.setdefault("sources", {"models/ae.py": SRC})
    return ReportOptions(**kw)


# ---------------------------------------------------------------- text


def test_text_header_snippet_caret_help_and_summary():
    out = render("text", [F_ERR], opts())
    lines = out.splitlines()
    assert lines[0] == "models/ae.py:5:13: CVL004 [*] ConvTranspose2d gives 63, the encoder took 64"
    src_line = next(ln for ln in lines if ln.startswith("5 |"))
    caret_line = lines[lines.index(src_line) + 1]
    # the tab-indented source is expanded; the caret starts under "nn.ConvTranspose2d"
    assert src_line == "5 |         self.up = nn.ConvTranspose2d(16, 3, 3, stride=2, padding=1)"
    start = caret_line.index("^")
    assert src_line[start:].startswith("nn.ConvTranspose2d(")
    assert caret_line.endswith("^ CVL004")
    assert caret_line.count("^") == 57 - 13
    assert "  = help: set output_padding=1" in lines
    assert "  = note: the encoder conv is at line 3" in lines
    assert lines[-2:] == ["Found 1 error.", "[*] 1 fixable with the `--fix` option."]


def test_text_without_findings_says_all_checks_passed():
    assert render("text", [], opts()) == "All checks passed!\n"
    assert render("text", [], opts(quiet=True)) == ""


def test_text_summary_counts_severities():
    out = render("text", sort_findings([F_ERR, F_WARN, F_INFO]), opts(show_source=False))
    assert out.splitlines() == [
        "models/ae.py:3:1: CVL006 stride 2 drops the last row for H=65",
        "models/ae.py:5:13: CVL004 [*] ConvTranspose2d gives 63, the encoder took 64",
        "models/b.py:1:1: CVL008 kernel_size unknown: a parameter without default",
        "Found 3 problems (1 error, 1 warning, 1 info).",
        "[*] 1 fixable with the `--fix` option.",
    ]


def test_text_has_no_escape_codes_unless_colour_is_on():
    assert "\x1b[" not in render("text", [F_ERR], opts())
    assert "\x1b[" in render("text", [F_ERR], opts(color=True))


def test_statistics_counts_per_code(registry):
    out = render("text", sort_findings([F_ERR, F_ERR.__class__(**{**F_ERR.__dict__, "line": 4}), F_WARN]), opts(statistics=True))
    lines = out.splitlines()
    assert lines[0].split("\t") == ["2", "CVL004", "[*] decoder-mismatch"]
    assert lines[1].split("\t") == ["1", "CVL006", "    lossy-downsampling"]


def test_colour_follows_tty_no_color_and_force_color():
    class Tty(io.StringIO):
        def isatty(self):
            return True

    assert use_color(Tty(), {}) is True
    assert use_color(io.StringIO(), {}) is False
    assert use_color(Tty(), {"NO_COLOR": "1"}) is False
    assert use_color(io.StringIO(), {"FORCE_COLOR": "1"}) is True
    assert use_color(Tty(), {"NO_COLOR": "1", "FORCE_COLOR": "1"}) is False


def test_sort_is_by_path_line_column_code_and_drops_duplicates():
    a = Finding("CVL005", ERROR, "m", "b.py", 1, 1, 1, 2)
    b = Finding("CVL001", ERROR, "m", "b.py", 1, 1, 1, 2)
    c = Finding("CVL001", ERROR, "m", "a.py", 9, 1, 9, 2)
    assert sort_findings([a, b, c, a]) == [c, b, a]


# ---------------------------------------------------------------- json


def test_json_is_the_design_contract():
    data = json.loads(render("json", [F_ERR, F_INFO], opts()))
    assert isinstance(data, list) and len(data) == 2
    first = data[0]
    for key in ("code", "severity", "message", "path", "line", "column", "end_line", "end_column", "fix"):
        assert key in first
    assert first["fix"]["message"] == "set output_padding=1"
    assert first["fix"]["replacement"] == "output_padding=1"
    assert data[1]["fix"] is None
    assert render("json", [], opts()).strip() == "[]"


# ---------------------------------------------------------------- sarif


def sarif(findings, registry_, root: Path) -> dict:
    return json.loads(render("sarif", findings, opts(root=root)))


def test_sarif_validates_against_the_official_schema(registry, tmp_path):
    if not SCHEMA.is_file():
        pytest.skip(f"SARIF schema not found at {SCHEMA} (CI keeps shared/ beside the clone)")
    jsonschema = pytest.importorskip("jsonschema", reason="jsonschema is in the test extra")
    findings = [
        Finding(F_ERR.code, F_ERR.severity, F_ERR.message, str(tmp_path / "models/ae.py"), 5, 13, 5, 57, fix=FIX, notes=F_ERR.notes),
        F_WARN.__class__(**{**F_WARN.__dict__, "path": str(tmp_path / "models" / "ae.py")}),
    ]
    doc = sarif(findings, registry, tmp_path)
    schema = json.loads(SCHEMA.read_text())
    validator = jsonschema.Draft7Validator(schema, format_checker=jsonschema.FormatChecker())
    errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors[:5])
    empty = sarif([], registry, tmp_path)
    assert not list(validator.iter_errors(empty))


def test_sarif_driver_lists_every_rule_with_help(registry, tmp_path):
    run = sarif([], registry, tmp_path)["runs"][0]
    driver = run["tool"]["driver"]
    assert driver["name"] == "convlint" and driver["version"] and driver["informationUri"].startswith("https://")
    assert [r["id"] for r in driver["rules"]] == ["CVL000", "CVL004", "CVL006", "CVL008"]
    r8 = driver["rules"][3]
    assert r8["name"] == "unresolved"
    assert r8["shortDescription"]["text"] and r8["fullDescription"]["text"]
    assert r8["help"]["markdown"].startswith("# CVL008 unresolved (info)")
    assert r8["defaultConfiguration"] == {"level": "note", "enabled": False}


def test_sarif_results_have_relative_uris_regions_levels_and_fixes(registry, tmp_path):
    abs_err = Finding(F_ERR.code, F_ERR.severity, F_ERR.message, str(tmp_path / "models" / "ae.py"), 5, 13, 5, 57, fix=FIX)
    abs_warn = Finding(F_WARN.code, F_WARN.severity, F_WARN.message, str(tmp_path / "models" / "ae.py"), 3, 1, 3, 5)
    run = sarif(sort_findings([abs_err, abs_warn]), registry, tmp_path)["runs"][0]
    warn, err = run["results"]
    assert run["tool"]["driver"]["rules"][err["ruleIndex"]]["id"] == "CVL004"
    assert (err["level"], warn["level"]) == ("error", "warning")
    loc = err["locations"][0]["physicalLocation"]
    assert loc["artifactLocation"] == {"uri": "models/ae.py", "uriBaseId": "%SRCROOT%"}
    assert loc["region"] == {"startLine": 5, "startColumn": 13, "endLine": 5, "endColumn": 57}
    rep = err["fixes"][0]["artifactChanges"][0]["replacements"][0]
    assert rep == {
        "deletedRegion": {"startLine": 5, "startColumn": 56, "endLine": 5, "endColumn": 56},
        "insertedContent": {"text": ", output_padding=1"},
    }
    assert "fixes" not in warn


# ---------------------------------------------------------------- github


def test_github_annotation_format_and_levels(registry):
    out = render("github", sort_findings([F_ERR, F_WARN, F_INFO]), opts()).splitlines()
    assert out[0] == "::warning file=models/ae.py,line=3,col=1,endLine=3,endColumn=5,title=CVL006 lossy-downsampling::stride 2 drops the last row for H=65"
    assert out[1].startswith("::error file=models/ae.py,line=5,col=13,endLine=5,endColumn=57,title=CVL004 decoder-mismatch::")
    assert "%0Ahelp: set output_padding=1" in out[1]
    assert out[2].startswith("::notice file=models/b.py,")
    assert "::kernel_size unknown: a parameter without default" in out[2]


def test_github_escaping_of_data_and_properties():
    assert escape_data("100% done\r\nnext") == "100%25 done%0D%0Anext"
    assert escape_property("a:b,c%\n") == "a%3Ab%2Cc%25%0A"
    f = Finding("CVL001", ERROR, "padding: 50% too big,\nreally", "dir,with:odd/m.py", 1, 1, 1, 2)
    line = render("github", [f], opts())
    assert line.startswith("::error file=dir%2Cwith%3Aodd/m.py,")
    assert line.rstrip("\n").endswith("::padding: 50%25 too big,%0Areally")


def test_github_says_how_many_annotations_beyond_ten_per_level():
    errs = [Finding("CVL004", ERROR, f"e{i}", "m.py", i + 1, 1, i + 1, 2) for i in range(13)]
    warns = [Finding("CVL006", WARNING, f"w{i}", "m.py", i + 1, 1, i + 1, 2) for i in range(3)]
    out = render("github", sort_findings(errs + warns), opts()).splitlines()
    assert out[0].startswith("::notice ")
    assert "13 errors" in out[0] and "3 more errors" in out[0]
    assert sum(1 for ln in out if ln.startswith("::error ")) == 13, "every finding is still in the log"
    assert not any("more warnings" in ln for ln in out)


def test_sarif_with_the_real_rule_registry_validates_and_lists_every_rule(tmp_path):
    if not SCHEMA.is_file():
        pytest.skip(f"SARIF schema not found at {SCHEMA}")
    jsonschema = pytest.importorskip("jsonschema", reason="jsonschema is in the test extra")
    try:
        rules = convlint.rules.all_rules()
    except ImportError as exc:
        pytest.skip(f"rule registry not importable yet: {exc}")
    f = Finding("CVL004", ERROR, "m", str(tmp_path / "a.py"), 1, 1, 1, 2, fix=FIX)
    doc = json.loads(render("sarif", [f], opts(root=tmp_path)))
    errors = list(jsonschema.Draft7Validator(json.loads(SCHEMA.read_text())).iter_errors(doc))
    assert not errors, errors[0].message
    driver = doc["runs"][0]["tool"]["driver"]
    assert [r["id"] for r in driver["rules"]] == list(rules)
    for r in driver["rules"]:
        assert r["name"] and r["shortDescription"]["text"] and r["fullDescription"]["text"]
        assert r["help"]["text"] and r["help"]["markdown"].startswith(f"# {r['id']} ")
        assert r["defaultConfiguration"]["level"] in ("error", "warning", "note")


# ----------------------------------------------------------------------------- control characters

import re  # noqa: E402

EVIL_PATH = "models/evil\x1b[2J\x1b]0;pwned\x07\x9b31m\u202egp.py"
EVIL_MSG = "cannot parse: invalid character '\x1b' (U+001B)\x85 \u2028 done"
EVIL_SRC = "x = 1\n# a \x0c form feed is no line break\ny = '\x1b[31m'\t+ \x7f  # \u202e\n"
F_EVIL = Finding("CVL000", ERROR, EVIL_MSG, EVIL_PATH, 3, 6, 3, 7, fix=Fix("help \x1b[5m", None, ()), notes=("note \x9b1m",))
RAW = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202e\u2028]")


def test_text_escapes_controls_in_paths_messages_and_excerpts(registry):
    out = render("text", [F_EVIL], ReportOptions(color=False, sources={EVIL_PATH: EVIL_SRC}))
    assert not RAW.search(out), repr(out)
    assert "\t" not in out
    head, _, line, caret, *_ = out.splitlines()
    assert head.startswith("models/evil\\x1b[2J\\x1b]0;pwned\\x07\\x9b31m\\u202egp.py:3:6: CVL000 cannot parse: invalid character '\\x1b'")
    # line 3 as Python counts lines (the form feed on line 2 does not break it), escaped, the caret under "\x1b"
    assert line == "3 | y = '\\x1b[31m'  + \\x7f  # \\u202e"
    assert caret.index("^") == line.index("\\x1b") and caret.count("^") == 4


def test_github_escapes_controls_and_keeps_its_own_encoding(registry):
    out = render("github", [F_EVIL])
    assert not RAW.search(out) and out.count("\n") == 1
    assert "file=models/evil\\x1b[2J\\x1b]0;pwned\\x07\\x9b31m\\u202egp.py," in out
    assert "%0Ahelp: help \\x1b[5m%0Anote: note \\x9b1m" in out


@pytest.mark.parametrize("fmt", ["json", "sarif"])
def test_json_and_sarif_escape_every_control_and_round_trip(registry, fmt):
    out = render(fmt, [F_EVIL], ReportOptions(root=Path("/")))
    assert not RAW.search(out)
    doc = json.loads(out)
    strings = []

    def collect(x):
        if isinstance(x, str):
            strings.append(x)
        elif isinstance(x, dict):
            [collect(v) for v in x.values()]
        elif isinstance(x, list):
            [collect(v) for v in x]

    collect(doc)
    assert any(EVIL_MSG in s for s in strings)  # the values themselves are unchanged


def test_stderr_messages_escape_controls(capsys):
    from convlint.commands.common import err

    err("convlint: error: evil\x1b[31m.py: not written\nsecond line")
    assert capsys.readouterr().err == "convlint: error: evil\\x1b[31m.py: not written\nsecond line\n"
