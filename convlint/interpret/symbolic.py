"""Symbolic sizes: a dimension named in a declaration (``H``), carried through size arithmetic.

A :class:`Sym` is an integer expression over named sizes built from ``+``, ``-``, ``*`` by a
constant and floor division by a constant — exactly what convolution arithmetic needs. Two
expressions in one variable can be compared over a range of sizes, which is how a rule decides
that a mismatch happens *for every* input size (and only then reports it).
"""

from __future__ import annotations

from dataclasses import dataclass

SWEEP = range(1, 257)  # the small sizes a one-variable comparison is decided over


def _divisors(e) -> list[int]:
    if not isinstance(e, Sym):
        return []
    out = [e.args[1]] if e.op == "floordiv" else []
    for a in e.args:
        out += _divisors(a)
    return out


def sizes_for(*exprs) -> list[int]:
    """Sizes to decide a one-variable claim on: 1..256, then around multiples of the expressions'
    period (the product of their divisors), and powers of two — where sizes line up again."""
    import math

    period = 1
    for e in exprs:
        for d in _divisors(e):
            period = period * abs(d) // math.gcd(period, abs(d))
            if period > 1 << 16:
                period = 1 << 16
    extra = set()
    for k in range(1, 5):
        for r in range(-3, 4):
            extra.add(period * k + r)
    for p in range(9, 21):
        for r in (-1, 0, 1):
            extra.add((1 << p) + r)
    return list(SWEEP) + sorted(v for v in extra if v > 256)


@dataclass(frozen=True)
class Sym:
    """An integer expression: ``('var', name)``, ``('add', a, b)``, ``('mul', a, c)``, ``('floordiv', a, c)``,
    ``('max', a, b)``; ``a``/``b`` are Sym or int, ``c`` an int."""

    op: str
    args: tuple

    @staticmethod
    def var(name: str) -> Sym:
        return Sym("var", (name,))

    # --- construction with light simplification -------------------------------------------
    def __add__(self, other):
        if isinstance(other, bool) or not isinstance(other, (int, Sym)):
            return NotImplemented
        if isinstance(other, int):
            if other == 0:
                return self
            if self.op == "add" and isinstance(self.args[1], int):
                return _add(self.args[0], self.args[1] + other)
        return _add(self, other)

    __radd__ = __add__

    def __sub__(self, other):
        if isinstance(other, bool) or not isinstance(other, (int, Sym)):
            return NotImplemented
        if isinstance(other, int):
            return self + (-other)
        if other == self:
            return 0
        return _add(self, other * -1)

    def __rsub__(self, other):
        if isinstance(other, bool) or not isinstance(other, int):
            return NotImplemented
        return (self * -1) + other

    def __mul__(self, other):
        if isinstance(other, bool) or not isinstance(other, int):
            return NotImplemented
        if other == 1:
            return self
        if other == 0:
            return 0
        if self.op == "mul":
            return Sym("mul", (self.args[0], self.args[1] * other))
        return Sym("mul", (self, other))

    __rmul__ = __mul__

    def __neg__(self):
        return self * -1

    def __floordiv__(self, other):
        if isinstance(other, bool) or not isinstance(other, int) or other == 0:
            return NotImplemented
        if other == 1:
            return self
        if self.op == "mul" and isinstance(self.args[1], int) and self.args[1] % other == 0:
            return self.args[0] * (self.args[1] // other)
        return Sym("floordiv", (self, other))

    def __mod__(self, other):
        if isinstance(other, bool) or not isinstance(other, int) or other == 0:
            return NotImplemented
        return self - (self // other) * other

    # --- evaluation ---------------------------------------------------------------------------
    def variables(self) -> frozenset[str]:
        if self.op == "var":
            return frozenset(self.args)
        out: frozenset[str] = frozenset()
        for a in self.args:
            if isinstance(a, Sym):
                out |= a.variables()
        return out

    def evaluate(self, env: dict[str, int]) -> int:
        if self.op == "var":
            return env[self.args[0]]
        vals = [a.evaluate(env) if isinstance(a, Sym) else a for a in self.args]
        if self.op == "add":
            return vals[0] + vals[1]
        if self.op == "mul":
            return vals[0] * vals[1]
        if self.op == "floordiv":
            return vals[0] // vals[1]
        if self.op == "max":
            return max(vals)
        raise ValueError(self.op)

    def __str__(self) -> str:
        if self.op == "var":
            return self.args[0]
        a = self.args
        if self.op == "add":
            if isinstance(a[1], int) and a[1] < 0:
                return f"{_paren(a[0])} - {-a[1]}"
            if isinstance(a[1], Sym) and a[1].op == "mul" and isinstance(a[1].args[1], int) and a[1].args[1] < 0:
                return f"{_paren(a[0])} - {_paren(a[1] * -1)}"
            return f"{_paren(a[0])} + {_paren(a[1])}"
        if self.op == "mul":
            if a[1] == -1:
                return f"-{_paren(a[0])}"
            return f"{a[1]}*{_paren(a[0])}"
        if self.op == "floordiv":
            return f"({a[0]})//{a[1]}"
        if self.op == "max":
            return f"max({a[0]}, {a[1]})"
        return self.op

    def __repr__(self) -> str:
        return f"Sym({self})"


def _add(a, b):
    if isinstance(a, int) and isinstance(b, int):
        return a + b
    if isinstance(a, int):
        a, b = b, a
    if isinstance(b, int) and b == 0:
        return a
    return Sym("add", (a, b))


def _paren(x) -> str:
    s = str(x)
    if isinstance(x, Sym) and x.op == "add":
        return f"({s})"
    return s


def is_size(x) -> bool:
    return (isinstance(x, int) and not isinstance(x, bool)) or isinstance(x, Sym)


def always_differ(a, b) -> bool:
    """True when sizes ``a`` and ``b`` differ for every admissible value of their one variable.

    Ints compare directly. Expressions over one shared variable are compared over :data:`SWEEP`,
    skipping values where either side is below 1 (those inputs are invalid anyway). Anything else
    (two variables, no admissible value) is not decided: False.
    """
    if isinstance(a, int) and isinstance(b, int):
        return a != b
    names = (a.variables() if isinstance(a, Sym) else frozenset()) | (b.variables() if isinstance(b, Sym) else frozenset())
    if len(names) != 1:
        return False
    (name,) = names
    seen = False
    for v in sizes_for(a, b):
        env = {name: v}
        x = a.evaluate(env) if isinstance(a, Sym) else a
        y = b.evaluate(env) if isinstance(b, Sym) else b
        if x < 1 or y < 1:
            continue
        seen = True
        if x == y:
            return False
    return seen


def differ_example(a, b) -> tuple[int, int, dict[str, int]] | None:
    """A value of the variable for which ``a`` and ``b`` differ, for messages."""
    if isinstance(a, int) and isinstance(b, int):
        return (a, b, {}) if a != b else None
    names = (a.variables() if isinstance(a, Sym) else frozenset()) | (b.variables() if isinstance(b, Sym) else frozenset())
    if len(names) != 1:
        return None
    (name,) = names
    for v in (64, 32, 65, 33, *SWEEP):
        env = {name: v}
        x = a.evaluate(env) if isinstance(a, Sym) else a
        y = b.evaluate(env) if isinstance(b, Sym) else b
        if x >= 1 and y >= 1 and x != y:
            return x, y, env
    return None


def always_below_one(a) -> bool:
    """True when size ``a`` is below 1 for every value of its variable (an int: when it is)."""
    if isinstance(a, int):
        return a < 1
    names = a.variables()
    if len(names) != 1:
        return False
    (name,) = names
    return all(a.evaluate({name: v}) < 1 for v in sizes_for(a))
