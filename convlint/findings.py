"""The finding: what every rule produces and every formatter prints."""

from __future__ import annotations

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
