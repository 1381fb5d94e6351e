"""Control-flow signals of the interpreter: how ``return``, ``break``, ``continue``, ``raise`` and
an exhausted work budget travel up through the evaluation of statements.
"""

from __future__ import annotations

__all__ = ["BudgetExceeded", "Return", "Break", "Continue", "Dead", "UnknownLength"]


class BudgetExceeded(Exception):
    """A bound on work was reached (steps, loop iterations, collection sizes): the unit being
    evaluated is abandoned and its values become unknown — never a hang, never a finding."""


class Return(Exception):
    def __init__(self, value):
        self.value = value


class Break(Exception):
    pass


class Continue(Exception):
    pass


class Dead(Exception):
    """The path raised (``raise``, a failing ``assert``) or otherwise cannot continue."""


RAISES = " raises on this path"  # ends the reason of a call's result when every path of it raised


def raised(v) -> bool:
    """Whether ``v`` is the result of a call that raised on every path."""
    return type(v).__name__ == "Unknown" and str(getattr(v, "reason", "")).endswith(RAISES)


class UnknownLength(Exception):
    """A starred unknown inside a literal: the literal's length is not known."""
