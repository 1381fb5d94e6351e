"""``--format github``: GitHub Actions workflow commands, one annotation per finding.

``::error file=F,line=L,col=C,endLine=EL,endColumn=EC,title=CODE name::message`` — ``warning``
for warnings, ``notice`` for info. Data is escaped as the Actions runner expects (``%`` → ``%25``,
CR → ``%0D``, LF → ``%0A``); property values additionally escape ``:`` → ``%3A`` and ``,`` → ``%2C``.

GitHub shows only 10 annotations of each level per step (and 50 per job). When a level has more,
a ``::notice`` is printed *first* — so that it is itself among the notices shown — saying how
many of that level there are and that the rest are only in the log; every finding is still
printed as a workflow command, so the log has them all.
"""

from __future__ import annotations

from typing import Sequence

from convlint.findings import ERROR, INFO, WARNING, Finding
from convlint.report import ReportOptions, escape_controls, rule_names

LIMIT_PER_LEVEL = 10
_LEVEL = {ERROR: "error", WARNING: "warning", INFO: "notice"}
_NOUN = {"error": ("error", "errors"), "warning": ("warning", "warnings"), "notice": ("notice", "notices")}


def escape_data(s: str) -> str:
    """Escape a workflow command's message (other control characters are written as ``\\x1b``:
    the log shows them as text, and no terminal sees them raw)."""
    s = escape_controls(s, keep="\r\n")
    return s.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(s: str) -> str:
    """Escape a workflow command's property value."""
    return escape_data(s).replace(":", "%3A").replace(",", "%2C")


def level_of(f: Finding) -> str:
    return _LEVEL.get(f.severity, "error")


def annotation(f: Finding, names: dict[str, str] | None = None) -> str:
    """The workflow command for one finding."""
    name = (names or {}).get(f.code)
    title = f"{f.code} {name}" if name else f.code
    props = [
        ("file", f.path.replace("\\", "/")),
        ("line", str(f.line)),
        ("col", str(f.column)),
        ("endLine", str(f.end_line)),
        ("endColumn", str(f.end_column)),
        ("title", title),
    ]
    message = f.message
    if f.fix is not None:
        message += f"\nhelp: {f.fix.message}"
    for note in f.notes:
        message += f"\nnote: {note}"
    for r in f.related:
        message += f"\nnote: {r.message} at {r.path}:{r.line}:{r.column}"
    head = ",".join(f"{k}={escape_property(v)}" for k, v in props)
    return f"::{level_of(f)} {head}::{escape_data(message)}"


def render(findings: Sequence[Finding], options: ReportOptions | None = None) -> str:
    names = rule_names()
    counts: dict[str, int] = {}
    for f in findings:
        counts[level_of(f)] = counts.get(level_of(f), 0) + 1
    lines = []
    for level in ("error", "warning", "notice"):
        n = counts.get(level, 0)
        if n > LIMIT_PER_LEVEL:
            noun = _NOUN[level][1]
            msg = (
                f"convlint reported {n} {noun}; GitHub shows only {LIMIT_PER_LEVEL} annotations of each level "
                f"per step, so {n - LIMIT_PER_LEVEL} more {noun} are only in the job log (or upload --format sarif)."
            )
            lines.append(f"::notice title={escape_property('convlint: more ' + noun)}::{escape_data(msg)}")
    lines.extend(annotation(f, names) for f in findings)
    return "".join(line + "\n" for line in lines)
