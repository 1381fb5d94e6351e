"""The rule registry: one module per rule code, each carrying its own documentation.

A rule module defines ``RULE = Rule(...)``. Rules read interpreter results; they never parse.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field

from convlint.findings import ERROR, INFO, WARNING  # noqa: F401  (re-exported for rule modules)


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
    # Snippets the test suite runs: each valid one must give no finding of this code,
    # each invalid one at least one. A snippet is a whole small Python file.
    valid: tuple[str, ...] = field(default=(), repr=False)
    invalid: tuple[str, ...] = field(default=(), repr=False)

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


_MODULES = (
    "cvl000_parse_error",
    "cvl001_invalid_conv_config",
    "cvl002_empty_output",
    "cvl003_channel_mismatch",
    "cvl004_decoder_mismatch",
    "cvl005_merge_mismatch",
    "cvl006_lossy_downsampling",
    "cvl007_transpose_not_adjoint",
    "cvl008_unresolved",
    "cvl009_output_mismatch",
    "cvl010_runtime_mismatch",
)

_registry: dict[str, Rule] | None = None


def all_rules() -> dict[str, Rule]:
    """Every rule by code, in code order."""
    global _registry
    if _registry is None:
        reg = {}
        for name in _MODULES:
            mod = importlib.import_module(f"{__name__}.{name}")
            reg[mod.RULE.code] = mod.RULE
        _registry = dict(sorted(reg.items()))
    return _registry


def get_rule(code: str) -> Rule | None:
    return all_rules().get(code.upper())


def default_selection() -> frozenset[str]:
    return frozenset(c for c, r in all_rules().items() if r.default_enabled)
