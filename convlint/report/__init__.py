"""Formatters: text (ruff-like full output), json (the contract in docs/contracts.md), sarif, github.

Each formatter module has ``render(findings, options) -> str`` over findings already sorted
(:func:`sort_findings`). :func:`render` dispatches by format name.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Iterable, Mapping, Sequence

from convlint.findings import Finding

__all__ = ["FORMATS", "ReportOptions", "escape_controls", "escape_json", "render", "sort_findings", "use_color", "rule_names"]

# What must not reach a terminal raw: C0 controls (ESC starts an escape sequence), DEL, C1 controls
# (0x9B is a one-byte CSI on some terminals), and the Unicode controls that reorder or break lines
# (bidirectional overrides and isolates, as in "Trojan Source", and the line/paragraph separators).
_CONTROLS = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


# the same, less C0: json.dumps escapes those inside strings, so a raw one is the layout's "\n"
_RAW_IN_JSON = re.compile("[\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def _escaped(ch: str) -> str:
    o = ord(ch)
    return f"\\x{o:02x}" if o < 0x100 else f"\\u{o:04x}"


def escape_controls(text: str, keep: str = "") -> str:
    """``text`` with every control character written as an escape (``\\x1b``, ``\\u202e``).

    ``keep`` lists the controls left as they are (``"\\n"`` in multi-line messages, ``"\\t"`` in
    source excerpts). Paths and messages can hold anything a file name or a source file holds.
    """
    if not _CONTROLS.search(text):
        return text
    return _CONTROLS.sub(lambda m: m.group() if m.group() in keep else _escaped(m.group()), text)


def escape_json(text: str) -> str:
    """JSON text (from ``json.dumps``) with the controls ``ensure_ascii=False`` leaves raw escaped.

    ``json.dumps`` escapes only U+0000–U+001F; DEL, C1 and the Unicode controls above would be
    written as they are. In JSON they can only stand inside strings, where ``\\uXXXX`` means the same.
    """
    return _RAW_IN_JSON.sub(lambda m: f"\\u{ord(m.group()):04x}", text)

FORMATS = ("text", "json", "sarif", "github")


@dataclass
class ReportOptions:
    """What a formatter may need besides the findings.

    ``sources`` maps a finding's path to the file's text (the runner has them); a path missing
    there is read from disk when the text formatter shows source. ``root`` is the directory
    SARIF URIs are relative to.
    """

    color: bool = False
    show_source: bool = True
    statistics: bool = False
    quiet: bool = False
    files_checked: int = 0
    root: Path | None = None
    sources: Mapping[str, str] = field(default_factory=dict)

    def source_of(self, path: str) -> str | None:
        if path in self.sources:
            return self.sources[path]
        from convlint.source.files import DEFAULT_MAX_FILE_SIZE, read_regular

        try:  # never a FIFO or a device: they would block or never end
            return read_regular(path, DEFAULT_MAX_FILE_SIZE).decode("utf-8", errors="replace")
        except (OSError, ValueError):
            return None


def sort_findings(findings: Iterable[Finding]) -> list[Finding]:
    """Sorted by path, line, column, code, message; exact duplicates removed."""
    return sorted(set(findings), key=lambda f: (*f.sort_key(), f.end_line, f.end_column))


def use_color(stream: IO[str] | None, env: Mapping[str, str] | None = None) -> bool:
    """Colour when the stream is a terminal; ``NO_COLOR`` (non-empty) disables it and wins over
    ``FORCE_COLOR`` (non-empty), which enables it on any stream."""
    env = os.environ if env is None else env
    if env.get("NO_COLOR"):
        return False
    if env.get("FORCE_COLOR"):
        return True
    try:
        return bool(stream is not None and stream.isatty())
    except (AttributeError, ValueError, OSError):
        return False


def rule_names() -> dict[str, str]:
    """code -> rule name, from the registry ({} if it cannot be imported)."""
    try:
        from convlint.rules import all_rules

        return {code: rule.name for code, rule in all_rules().items()}
    except ImportError:
        return {}


def render(fmt: str, findings: Sequence[Finding], options: ReportOptions | None = None) -> str:
    """Render ``findings`` (sorted) in format ``fmt`` (one of :data:`FORMATS`)."""
    options = options or ReportOptions()
    if fmt == "text":
        from convlint.report import text as mod
    elif fmt == "json":
        from convlint.report import json as mod  # type: ignore[no-redef]
    elif fmt == "sarif":
        from convlint.report import sarif as mod  # type: ignore[no-redef]
    elif fmt == "github":
        from convlint.report import github as mod  # type: ignore[no-redef]
    else:
        raise ValueError(f"unknown format {fmt!r} (expected one of: {', '.join(FORMATS)})")
    return mod.render(findings, options)
