"""``--format text``: ruff-like full output.

::

    models/ae.py:12:19: CVL004 [*] ConvTranspose2d gives 63, the encoder took 64
       |
    12 |         self.up = nn.ConvTranspose2d(16, 3, 3, stride=2, padding=1)
       |                   ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^ CVL004
       |
       = help: set output_padding=1
       = note: the encoder conv is at line 8

    Found 1 error.
    [*] 1 fixable with the `--fix` option.

``[*]`` marks a finding whose fix can be applied. Without source (``--no-show-source``) only the
header lines are printed. The summary is ``All checks passed!`` when there is nothing;
``--quiet`` drops it; ``--statistics`` prints counts per code instead of the findings.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Sequence

from convlint.findings import ERROR, INFO, WARNING, Finding
from convlint.report import _CONTROLS, ReportOptions, escape_controls, rule_names

_LINES = re.compile(r"\r\n|\r|\n")  # Python's line breaks (str.splitlines also breaks at \f, \x1c, \u2028, ...)

_RESET = "\x1b[0m"
_BOLD = "\x1b[1m"
_DIM = "\x1b[2m"
_RED = "\x1b[31m"
_YELLOW = "\x1b[33m"
_CYAN = "\x1b[36m"
_BLUE = "\x1b[34m"
_SEVERITY_COLOR = {ERROR: _RED, WARNING: _YELLOW, INFO: _CYAN}
_TAB = 4


class _Paint:
    def __init__(self, on: bool) -> None:
        self.on = on

    def __call__(self, text: str, *styles: str) -> str:
        if not self.on or not text:
            return text
        return "".join(styles) + text + _RESET


def _fixable(f: Finding) -> bool:
    return f.fix is not None and bool(f.fix.edits)


def _expand(line: str, col0: int) -> tuple[str, int]:
    """Expand tabs in ``line`` and escape its other control characters; map a 0-based character
    column to the display column."""
    out, disp, mapped = [], 0, None
    for i, ch in enumerate(line):
        if i == col0:
            mapped = disp
        if ch == "\t":
            n = _TAB - disp % _TAB
            out.append(" " * n)
            disp += n
        elif _CONTROLS.match(ch):
            shown = escape_controls(ch)
            out.append(shown)
            disp += len(shown)
        else:
            out.append(ch)
            disp += 1
    if mapped is None:
        mapped = disp + max(0, col0 - len(line))
    return "".join(out), mapped


def _snippet(f: Finding, source: str | None, paint: _Paint) -> list[str]:
    if source is None:
        return []
    lines = _LINES.split(source)
    if lines and lines[-1] == "":
        lines.pop()
    if not 1 <= f.line <= len(lines):
        return []
    raw = lines[f.line - 1]
    shown, start = _expand(raw, max(0, f.column - 1))
    if f.end_line == f.line and f.end_column > f.column:
        _, end = _expand(raw, f.end_column - 1)
    else:  # a span over several lines: underline to the end of the first
        end = max(len(shown.rstrip()), start + 1)
    width = max(1, end - start)
    no = str(f.line)
    pad = " " * len(no)
    bar = paint("|", _BLUE, _BOLD)
    color = _SEVERITY_COLOR.get(f.severity, _RED)
    out = [
        f"{pad} {bar}",
        f"{paint(no, _BLUE, _BOLD)} {bar} {shown}".rstrip(),
        f"{pad} {bar} {' ' * start}{paint('^' * width + ' ' + f.code, color, _BOLD)}",
        f"{pad} {bar}",
    ]
    return out


def _finding(f: Finding, opts: ReportOptions, paint: _Paint) -> list[str]:
    color = _SEVERITY_COLOR.get(f.severity, _RED)
    path = escape_controls(f.path)
    loc = f"{paint(path, _BOLD)}{paint(':', _CYAN)}{f.line}{paint(':', _CYAN)}{f.column}{paint(':', _CYAN)}"
    mark = " " + paint("[*]", _CYAN) if _fixable(f) else ""
    out = [f"{loc} {paint(f.code, color, _BOLD)}{mark} {escape_controls(f.message)}"]
    if not opts.show_source:
        return out
    snippet = _snippet(f, opts.source_of(f.path), paint)
    out.extend(snippet)
    pad = " " * (len(str(f.line)) if snippet else 0)
    if f.fix is not None:
        out.append(f"{pad} = {paint('help', _BOLD)}: {escape_controls(f.fix.message)}")
    for note in f.notes:
        out.append(f"{pad} = {paint('note', _BOLD)}: {escape_controls(note)}")
    for r in f.related:
        out.append(f"{pad} = {paint('note', _BOLD)}: {escape_controls(related_text(r))}")
    out.append("")
    return out


def related_text(r) -> str:
    """``the Conv1d is built in the helper at blocks.py:12:12``."""
    return f"{r.message} at {r.path}:{r.line}:{r.column}"


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 or word == "info" else "s")


def summary(findings: Sequence[Finding]) -> list[str]:
    """The closing lines: ``Found N errors.`` / ``All checks passed!`` and the fixable count."""
    if not findings:
        return ["All checks passed!"]
    by = Counter(f.severity for f in findings)
    if set(by) <= {ERROR}:
        lines = [f"Found {_plural(len(findings), 'error')}."]
    else:
        parts = [_plural(by[s], s) for s in (ERROR, WARNING, INFO) if by.get(s)]
        lines = [f"Found {_plural(len(findings), 'problem')} ({', '.join(parts)})."]
    fixable = sum(1 for f in findings if _fixable(f))
    if fixable:
        lines.append(f"[*] {fixable} fixable with the `--fix` option.")
    return lines


def statistics(findings: Sequence[Finding], paint: _Paint | None = None) -> list[str]:
    """One line per code: count, code, ``[*]`` if any is fixable, rule name; most frequent first."""
    paint = paint or _Paint(False)
    names = rule_names()
    counts = Counter(f.code for f in findings)
    fixable = {f.code for f in findings if _fixable(f)}
    rows = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    width = max((len(str(n)) for _, n in rows), default=1)
    out = []
    for code, n in rows:
        mark = "[*]" if code in fixable else "   "
        out.append(f"{str(n).rjust(width)}\t{paint(code, _RED, _BOLD)}\t{mark} {names.get(code, '')}".rstrip())
    return out


def render(findings: Sequence[Finding], options: ReportOptions | None = None) -> str:
    opts = options or ReportOptions()
    paint = _Paint(opts.color)
    lines: list[str] = []
    if opts.statistics:
        lines.extend(statistics(findings, paint))
    else:
        for f in findings:
            lines.extend(_finding(f, opts, paint))
    if not opts.quiet:
        if opts.statistics and findings:
            lines.append("")
        lines.extend(summary(findings))
    return "".join(line + "\n" for line in lines)
