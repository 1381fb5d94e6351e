"""How a framework module's catalogue is filled: every public callable is *modelled* (it has a
shape function), *shape-preserving* (its result has its first array argument's shape), or
*unknown* (with the reason why convlint does not follow it).

``tests/test_catalogue_jax.py`` enumerates the installed packages' public callables and fails on
any name that is in none of the three.
"""

from __future__ import annotations

from convlint.frameworks.base import Op
from convlint.interpret.values import Unknown

MODELLED = "modelled"
PRESERVING = "preserving"
UNKNOWN = "unknown"


class Registry:
    """A catalogue and the status of each of its names."""

    def __init__(self, catalogue: dict):
        self.catalogue = catalogue
        self.status: dict[str, str] = {}
        self.reasons: dict[str, str] = {}

    def model(self, name, fn, sig=None, family=None, kind="function"):
        self.catalogue[name] = Op(name, fn, kind, sig, family)
        self.status[name] = MODELLED
        return fn

    def preserve(self, name, fn, kind="function"):
        self.catalogue[name] = Op(name, fn, kind)
        self.status[name] = PRESERVING

    def unknown(self, name, reason: str):
        short = name.rsplit(".", 1)[-1]
        msg = f"{short}: {reason}"
        self.catalogue[name] = Op(name, lambda i, a, k, n: Unknown(msg))
        self.status[name] = UNKNOWN
        self.reasons[name] = reason

    def unknowns(self, prefix: str, names: str, reason: str):
        for n in names.split():
            self.unknown(f"{prefix}.{n}", reason)

    def of(self, prefix: str) -> dict[str, str]:
        """``{short name: status}`` for the names directly under ``prefix``."""
        out = {}
        for name, st in self.status.items():
            head, _, tail = name.rpartition(".")
            if head == prefix:
                out[tail] = st
        return out
