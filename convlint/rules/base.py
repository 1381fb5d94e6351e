"""What a rule is: its code, severity, documentation, and the examples the test suite runs."""

from __future__ import annotations

from dataclasses import dataclass, field

from convlint.findings import ERROR, INFO, WARNING

__all__ = ["Rule", "Invalid", "ERROR", "WARNING", "INFO"]


@dataclass(frozen=True)
class Invalid:
    """An example that must give a finding of the rule — pinned to its line, a fragment of its
    message and, when the finding carries a fix, the whole source after ``--fix`` (``fixed``;
    None: no fix may be offered)."""

    source: str
    line: int
    message: str
    fixed: str | None = None


@dataclass(frozen=True)
class Rule:
    code: str
    name: str
    severity: str
    summary: str  # one line: when it fires
    what: str  # what it does
    why: str  # why it matters
    example: str  # code that triggers it
    fix: str  # how to repair, prose + code
    default_enabled: bool = True
    # Whole small Python files the test suite runs: a valid one gives no finding of this code,
    # an invalid one gives one at its line, with its message and fix.
    valid: tuple[str, ...] = field(default=(), repr=False)
    invalid: tuple[Invalid, ...] = field(default=(), repr=False)

    def documentation(self) -> str:
        return (
            f"# {self.code} {self.name} ({self.severity})\n\n"
            f"{self.summary}\n\n"
            f"## What it does\n\n{self.what.strip()}\n\n"
            f"## Why is this bad?\n\n{self.why.strip()}\n\n"
            f"## Example\n\n```python\n{self.example.strip()}\n```\n\n"
            f"## Fix\n\n{self.fix.strip()}\n"
            + ("" if self.default_enabled else "\nThis rule is off by default: enable it with `--extend-select " + self.code + "`.\n")
        )
