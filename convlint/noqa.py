"""Suppression comments: ``# noqa``, ``# noqa: CVL004``, ``# convlint: ignore[CVL004]``.

Which lines count: a suppression comment applies to a finding when it is on **any line from the
finding's first line to its last** (``line`` .. ``end_line``). A finding covers the expression it
is about — usually one conv call — so on a call written over several lines the comment may go on
the opening line, on an argument's line or on the closing ``)`` line::

    self.up = nn.ConvTranspose2d(       # noqa: CVL004   (counts)
        16, 1, 3, stride=2, padding=1,  # noqa: CVL004   (counts)
    )                                   # noqa: CVL004   (counts)

Forms:

- ``# noqa`` (any case) suppresses every finding; ``# noqa: CVL004, CVL001`` (also
  ``# NOQA:CVL004``, codes separated by commas or spaces) only those codes. Codes of other tools
  in a ``noqa`` list (``E501``) are allowed and ignored, since flake8 and ruff share the comment.
- ``# convlint: ignore[CVL004]`` / ``# convlint: ignore[CVL004, CVL005]`` suppresses those codes;
  a bare ``# convlint: ignore`` suppresses every finding.

Only real comments count: the source is tokenized, so ``"# noqa"`` inside a string does nothing.

Typos are reported, never silently accepted:

- In a ``# noqa`` list, a code that starts with ``CVL`` but is no rule code (``CVL04``, ``CVL00``)
  suppresses nothing and gets a **warning** (``m.py:3: unknown rule code 'CVL04' in '# noqa:
  CVL04' (did you mean CVL004?); it suppresses nothing``), as ruff warns about invalid ``noqa``
  directives: the comment is shared with other tools, so it is not a finding. So do
  ``# noqa CVL004`` (no colon: flake8 and convlint read it as a bare ``# noqa`` that suppresses
  everything) and ``# noqa: decoder-mismatch`` (not a code list: also read as a bare ``# noqa``).
- A malformed ``# convlint: ignore...`` (no closing bracket, empty list, unknown code, anything
  but codes in the brackets) is itself reported, as a **CVL000** error "bad suppression comment:
  ...": the comment is convlint's own, CVL000 means "this file, or its convlint comments, cannot
  be parsed", and an ignore comment that silently ignores nothing would hide the very findings it
  was meant to single out. These findings are not suppressible by the comment they are about (use
  ``--ignore CVL000`` or per-file-ignores).
"""

from __future__ import annotations

import io
import re
import tokenize
from dataclasses import dataclass, field
from typing import Iterable, Sequence

from convlint.findings import ERROR, Finding
from convlint.source.files import python_lines

__all__ = ["Directives", "apply_noqa", "parse_directives"]

_NOQA = re.compile(r"#\s*noqa(?P<sep>\s*:\s*(?P<codes>[A-Za-z]+[0-9]+(?:(?:\s*,\s*|\s+)[A-Za-z]+[0-9]+)*))?", re.I)
_NOQA_NO_COLON = re.compile(r"\s+(?P<code>CVL[0-9]*)\b", re.I)  # "# noqa CVL004"
_NOQA_NOT_CODES = re.compile(r"\s*:\s*(?P<text>[^\s#,][^#]*)")  # "# noqa: decoder-mismatch"
_CONVLINT_IGNORE = re.compile(r"#\s*convlint\s*:\s*ignore\b(?P<rest>.*)", re.I)
_IGNORE_LIST = re.compile(r"^\[(?P<body>[^\]]*)\]")
_CODE = re.compile(r"^CVL[0-9]{3}$")
_QUICK = re.compile(r"noqa|convlint\s*:\s*ignore", re.I)


def _may_hold_directive(text: str) -> bool:
    """``_QUICK.search(text)``, answered first by a case-folded substring test (ten times faster
    than a case-insensitive regex over a whole file): none of the letters of ``noqa`` and ``convl``
    has a case variant outside ASCII, so a file whose lower-cased text holds neither cannot match."""
    low = text.lower()
    return ("noqa" in low or "convl" in low) and _QUICK.search(text) is not None


@dataclass
class Directives:
    """The suppression comments of one file.

    ``by_line`` maps a 1-based line to the codes suppressed there (``None``: every code);
    ``problems`` holds a CVL000 finding for each malformed ``# convlint: ignore`` comment;
    ``warnings`` one line (``path:line: ...``) for each ``# noqa`` comment with a typo.
    """

    by_line: dict[int, frozenset[str] | None] = field(default_factory=dict)
    problems: list[Finding] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def suppresses(self, finding: Finding) -> bool:
        """Does a comment on any line from the finding's first to its last line suppress it?"""
        if not self.by_line:
            return False
        first = finding.line
        last = max(first, finding.end_line or first)
        if last - first + 1 <= len(self.by_line):
            lines: Iterable[int] = (n for n in range(first, last + 1) if n in self.by_line)
        else:
            lines = (n for n in self.by_line if first <= n <= last)
        for n in lines:
            codes = self.by_line[n]
            if codes is None or finding.code in codes:
                return True
        return False

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
        for tok in tokenize.generate_tokens(io.StringIO(python_lines(text)).readline):
            if tok.type == tokenize.COMMENT:
                yield tok.start[0], tok.start[1], tok.string
            last_line = tok.start[0]
    except (tokenize.TokenError, SyntaxError, ValueError):
        # An unparsable file: fall back to a plain scan of the lines not yet tokenized
        # (a '#' inside a string may be taken for a comment there; the file has a CVL000 anyway).
        for no, line in enumerate(python_lines(text).split("\n"), start=1):
            if no <= last_line:
                continue
            col = line.find("#")
            if col >= 0:
                yield no, col, line[col:]


def _did_you_mean(code: str, known: set[str]) -> str:
    """`` (did you mean CVL004?)`` for ``CVL04`` / ``CVL4`` / ``cvl0004``; else ``""``."""
    m = re.fullmatch(r"CVL0*([0-9]{1,3})", code)
    if m:
        guess = f"CVL{int(m.group(1)):03d}"
        if guess in known and guess != code:
            return f" (did you mean {guess}?)"
    return ""


def _range(known: set[str]) -> str:
    ordered = sorted(known)
    return f"{ordered[0]}..{ordered[-1]}" if ordered else "none"


def parse_directives(text: str, path: str, codes: Sequence[str] | None = None) -> Directives:
    """Read the suppression comments of ``text`` (the file at ``path``, for problem findings).

    ``codes`` are the known rule codes (default: from :func:`convlint.config.known_codes`).
    """
    d = Directives()
    if not _may_hold_directive(text):
        return d
    if codes is None:
        from convlint.config import known_codes

        codes = list(known_codes())
    known = set(codes)
    for line, col, comment in _comments(text):
        for m in _NOQA.finditer(comment):
            raw = m.group("codes")
            shown = m.group(0).strip()
            if raw is None:
                d._add(line, None)
                after = comment[m.end():]
                nc = _NOQA_NO_COLON.match(after)
                if nc is not None:
                    d.warnings.append(
                        f"{path}:{line}: '# noqa {nc.group('code')}' has no colon, so it is a bare '# noqa' that "
                        f"suppresses every finding on its line; write '# noqa: {nc.group('code')}'"
                    )
                    continue
                bad = _NOQA_NOT_CODES.match(after)
                if bad is not None:
                    d.warnings.append(
                        f"{path}:{line}: '# noqa: {bad.group('text').strip()}' is not a list of rule codes, so it is "
                        f"a bare '# noqa' that suppresses every finding on its line; write codes such as '# noqa: CVL004'"
                    )
                continue
            found: set[str] = set()
            for c in re.split(r"[\s,]+", raw.strip()):
                if not c:
                    continue
                c = c.upper()
                found.add(c)
                if c.startswith("CVL") and c not in known:
                    d.warnings.append(
                        f"{path}:{line}: unknown rule code {c!r} in {shown!r}{_did_you_mean(c, known)}; "
                        f"it suppresses nothing (convlint's codes are {_range(known)})"
                    )
            d._add(line, frozenset(found))
        m = _CONVLINT_IGNORE.search(comment)
        if m is None:
            continue
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
                problem = f"{item!r} is not a rule code ({_did_you_mean(item.upper(), known).strip(' ()') or 'expected like CVL004'})"
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
    """Drop suppressed findings of one file and add a CVL000 finding per malformed ignore comment.

    (The warnings about ``# noqa`` typos are in :attr:`Directives.warnings`: use
    :func:`parse_directives` to get them.)
    """
    d = parse_directives(text, path, codes)
    kept = [f for f in findings if not d.suppresses(f)]
    return kept + d.problems
