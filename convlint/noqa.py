"""Suppression comments: ``# noqa``, ``# noqa: CVL004``, ``# convlint: ignore[CVL004]``.

A suppression comment applies to findings whose *first* line carries it. Forms:

- ``# noqa`` (any case) suppresses every finding on the line; ``# noqa: CVL004, CVL001`` (also
  ``# NOQA:CVL004``, codes separated by commas or spaces) only those codes. Codes of other tools
  in a ``noqa`` list (``E501``) are allowed and ignored, since flake8 and ruff share the comment.
- ``# convlint: ignore[CVL004]`` / ``# convlint: ignore[CVL004, CVL005]`` suppresses those codes;
  a bare ``# convlint: ignore`` suppresses every finding on the line.

Only real comments count: the source is tokenized, so ``"# noqa"`` inside a string does nothing.

A malformed ``# convlint: ignore...`` (no closing bracket, empty list, unknown code, anything but
codes in the brackets) is itself reported, as a **CVL000** error "bad suppression comment: ...":
CVL000 means "this file, or its convlint comments, cannot be parsed", and an ignore comment that
silently ignores nothing would hide the very findings it was meant to single out. These findings
are not suppressible by the comment they are about (use ``--ignore CVL000`` or per-file-ignores).
"""

from __future__ import annotations

import io
import re
import tokenize
from dataclasses import dataclass, field
from typing import Iterable, Sequence

from convlint.findings import ERROR, Finding

__all__ = ["Directives", "apply_noqa", "parse_directives"]

_NOQA = re.compile(r"#\s*noqa(?P<sep>\s*:\s*(?P<codes>[A-Za-z]+[0-9]+(?:(?:\s*,\s*|\s+)[A-Za-z]+[0-9]+)*))?", re.I)
_CONVLINT_IGNORE = re.compile(r"#\s*convlint\s*:\s*ignore\b(?P<rest>.*)", re.I)
_IGNORE_LIST = re.compile(r"^\[(?P<body>[^\]]*)\]")
_CODE = re.compile(r"^CVL[0-9]{3}$")
_QUICK = re.compile(r"noqa|convlint\s*:\s*ignore", re.I)


@dataclass
class Directives:
    """The suppression comments of one file.

    ``by_line`` maps a 1-based line to the codes suppressed there (``None``: every code);
    ``problems`` holds a CVL000 finding for each malformed ``# convlint: ignore`` comment.
    """

    by_line: dict[int, frozenset[str] | None] = field(default_factory=dict)
    problems: list[Finding] = field(default_factory=list)

    def suppresses(self, finding: Finding) -> bool:
        if finding.line not in self.by_line:
            return False
        codes = self.by_line[finding.line]
        return codes is None or finding.code in codes

    def _add(self, line: int, codes: frozenset[str] | None) -> None:
        if line in self.by_line:
            prev = self.by_line[line]
            self.by_line[line] = None if prev is None or codes is None else prev | codes
        else:
            self.by_line[line] = codes


def _comments(text: str) -> Iterable[tuple[int, int, str]]:
    """(line, 0-based column, text) of every comment; after a tokenize error, a line scan."""
    last_line = 0
    try:
        for tok in tokenize.generate_tokens(io.StringIO(text).readline):
            if tok.type == tokenize.COMMENT:
                yield tok.start[0], tok.start[1], tok.string
            last_line = tok.start[0]
    except (tokenize.TokenError, SyntaxError, ValueError):
        # An unparsable file: fall back to a plain scan of the lines not yet tokenized
        # (a '#' inside a string may be taken for a comment there; the file has a CVL000 anyway).
        for no, line in enumerate(text.splitlines(), start=1):
            if no <= last_line:
                continue
            col = line.find("#")
            if col >= 0:
                yield no, col, line[col:]


def parse_directives(text: str, path: str, codes: Sequence[str] | None = None) -> Directives:
    """Read the suppression comments of ``text`` (the file at ``path``, for problem findings).

    ``codes`` are the known rule codes (default: from :func:`convlint.config.known_codes`).
    """
    d = Directives()
    if not _QUICK.search(text):
        return d
    known: set[str] | None = None
    for line, col, comment in _comments(text):
        for m in _NOQA.finditer(comment):
            raw = m.group("codes")
            if raw is None:
                d._add(line, None)
            else:
                d._add(line, frozenset(c.upper() for c in re.split(r"[\s,]+", raw.strip()) if c))
        m = _CONVLINT_IGNORE.search(comment)
        if m is None:
            continue
        if known is None:
            if codes is None:
                from convlint.config import known_codes

                codes = list(known_codes())
            known = set(codes)
        rest = m.group("rest")
        start_col = col + m.start() + 1
        end_col = col + len(comment) + 1

        def bad(why: str) -> None:
            d.problems.append(
                Finding(
                    code="CVL000",
                    severity=ERROR,
                    message=f"bad suppression comment: {why}",
                    path=path,
                    line=line,
                    column=start_col,
                    end_line=line,
                    end_column=end_col,
                )
            )

        stripped = rest.strip()
        if not stripped or stripped.startswith("#"):
            d._add(line, None)  # bare "# convlint: ignore"
            continue
        lm = _IGNORE_LIST.match(rest)
        if lm is None:
            if rest.startswith("["):
                bad("missing ']' in '# convlint: ignore[...]'")
            else:
                bad(f"expected '# convlint: ignore[CODE, ...]', got {m.group(0).strip()!r}")
            continue
        after = rest[lm.end():].strip()
        if after and not after.startswith("#"):
            bad(f"unexpected text after ']': {after!r}")
            continue
        items = [c.strip() for c in lm.group("body").split(",")]
        if not any(items):
            bad("empty code list in '# convlint: ignore[]'")
            continue
        good: set[str] = set()
        problem = None
        for item in items:
            if not item:
                problem = "empty entry in the code list"
            elif not _CODE.match(item.upper()):
                problem = f"{item!r} is not a rule code (expected like CVL004)"
            elif item.upper() not in known:
                problem = f"unknown rule code {item!r}"
            else:
                good.add(item.upper())
            if problem:
                break
        if problem:
            bad(problem)
            continue
        d._add(line, frozenset(good))
    return d


def apply_noqa(findings: Sequence[Finding], text: str, path: str, codes: Sequence[str] | None = None) -> list[Finding]:
    """Drop suppressed findings of one file and add a CVL000 finding per malformed ignore comment."""
    d = parse_directives(text, path, codes)
    kept = [f for f in findings if not d.suppresses(f)]
    return kept + d.problems
