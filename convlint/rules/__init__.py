"""The rules: one module per code (``cvl004_decoder_mismatch.py``), discovered from this package.

A rule module defines ``RULE = Rule(...)`` — its code, name, severity, documentation (what, why,
example, fix) and its own valid and invalid examples, which the test suite runs — and
``check(run) -> list[Issue]``, a pure function of one entry's interpreter run
(:class:`convlint.analysis.ModelRun`: its trace of events, its input and output). Rules read
events; they never parse and never interpret. Adding a rule is adding a module here: the
registry, ``convlint rule``, the configuration's code list and ``docs/rules/`` follow from it.
"""

from __future__ import annotations

import importlib
import pkgutil
import re

from convlint.rules.base import ERROR, INFO, WARNING, Invalid, Rule  # noqa: F401  (re-exported for rule modules)

__all__ = ["Rule", "Invalid", "ERROR", "WARNING", "INFO", "all_rules", "get_rule", "rule_modules", "default_selection"]

_MODULE_NAME = re.compile(r"^cvl\d{3}_\w+$")
_modules: dict | None = None


def rule_modules() -> dict:
    """Every rule module by code, in code order."""
    global _modules
    if _modules is None:
        found = {}
        for info in pkgutil.iter_modules(__path__):
            if _MODULE_NAME.match(info.name):
                mod = importlib.import_module(f"{__name__}.{info.name}")
                found[mod.RULE.code] = mod
        _modules = dict(sorted(found.items()))
    return _modules


def all_rules() -> dict[str, Rule]:
    """Every rule by code, in code order."""
    return {code: mod.RULE for code, mod in rule_modules().items()}


def get_rule(code: str) -> Rule | None:
    return all_rules().get(code.strip().upper())


def default_selection() -> frozenset[str]:
    return frozenset(c for c, r in all_rules().items() if r.default_enabled)
