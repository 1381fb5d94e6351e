"""The finding: what every rule produces and every formatter prints."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

ERROR = "error"
WARNING = "warning"
INFO = "info"


@dataclass(frozen=True)
class Fix:
    """A certain, mechanical repair.

    ``edits`` are ``(line, column, end_line, end_column, replacement)`` tuples, 1-based columns,
    end exclusive, on the finding's file. ``replacement`` alone (a short human-readable form such
    as ``output_padding=1``) is what the JSON contract exposes.
    """

    message: str
    replacement: str | None = None
    edits: tuple[tuple[int, int, int, int, str], ...] = ()

    def apply(self, text: str) -> str:
        """``text`` with the edits applied (raises ValueError when an edit lies outside it)."""
        return apply_edits(text, self.edits)

    def to_json(self) -> dict[str, Any]:
        return {
            "message": self.message,
            "replacement": self.replacement,
            "edits": [
                {"line": a, "column": b, "end_line": c, "end_column": d, "content": e}
                for (a, b, c, d, e) in self.edits
            ],
        }


@dataclass(frozen=True)
class Related:
    """Another place that matters to a finding: the helper's line that builds the layer when the
    finding is reported at the call that passed the value (SARIF ``relatedLocations``)."""

    message: str
    path: str
    line: int
    column: int  # 1-based
    end_line: int
    end_column: int  # 1-based, exclusive

    def to_json(self) -> dict[str, Any]:
        return {"message": self.message, "path": self.path, "line": self.line, "column": self.column,
                "end_line": self.end_line, "end_column": self.end_column}

    @staticmethod
    def from_json(d) -> Related:
        return Related(str(d["message"]), str(d["path"]), int(d["line"]), int(d["column"]), int(d["end_line"]), int(d["end_column"]))


@dataclass(frozen=True)
class Finding:
    code: str
    severity: str
    message: str
    path: str
    line: int
    column: int  # 1-based
    end_line: int
    end_column: int  # 1-based, exclusive
    fix: Fix | None = None
    notes: tuple[str, ...] = field(default=(), compare=False)
    related: tuple[Related, ...] = field(default=(), compare=False)

    def sort_key(self) -> tuple:
        return (self.path, self.line, self.column, self.code, self.message)

    def to_json(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "severity": self.severity,
            "message": self.message,
            "path": self.path,
            "line": self.line,
            "column": self.column,
            "end_line": self.end_line,
            "end_column": self.end_column,
            "fix": self.fix.to_json() if self.fix else None,
        }


_LINE_BREAK = re.compile(r"\r\n|\r|\n")


def apply_edits(text: str, edits) -> str:
    """Apply ``(line, column, end_line, end_column, content)`` edits (1-based, end exclusive)."""
    starts = [0] + [m.end() for m in _LINE_BREAK.finditer(text)]

    def offset(line: int, col: int) -> int:
        if not 1 <= line <= len(starts) or col < 1:
            raise ValueError(f"edit outside the text: line {line}, column {col}")
        return starts[line - 1] + col - 1

    spans = sorted(((offset(a, b), offset(c, d), content) for a, b, c, d, content in edits), reverse=True)
    for start, end, content in spans:
        if end < start or end > len(text):
            raise ValueError("edit outside the text")
        text = text[:start] + content + text[end:]
    return text
