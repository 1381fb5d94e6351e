"""The exact set of input sizes a model accepts, and which layer excludes the others.

A symbolic input size ``n`` (a name such as ``H``) flows through a model as :class:`~convlint.
interpret.symbolic.Sym` expressions. Each layer that can fail adds a :class:`Constraint` in ``n``:

- ``expr ≥ 1`` (:func:`at_least`) — a conv or pool output must not be empty;
- ``a == b`` (:func:`equal`) — a merge (cat, add) or a declared output size;
- ``expr % m == 0`` (:func:`divisible`) — a reshape or ``pixel_unshuffle`` that needs divisibility;
- ``a == b or a == 1 or b == 1`` (:func:`broadcasts`) — an elementwise merge with broadcasting.

Each carries a ``provenance`` that this module never looks into (a label and a location, say).
:func:`valid_sizes` returns the exact set ``{n ≥ 1 : every constraint holds}`` as a :class:`SizeSet`.

**Why the set is eventually periodic, and how it is decided exactly.** Every expression ``E`` built
from ``n`` with ``+``, ``−``, ``·`` by a constant and ``//`` by a constant is *quasi-linear*: with
``P(E)`` from :func:`~convlint.interpret.symbolic.period_and_growth` (at most the product of the
divisors along each path of its tree, lcm over the paths),

    E(n + P) = E(n) + Δ      for every integer n,   Δ = E(P) − E(0).

By induction: ``n`` has ``P = 1, Δ = 1``; sums take the lcm of the periods; and if
``E(n + P) = E(n) + Δ`` then ``(E(n + P·m))//m = (E(n) + m·Δ)//m = E(n)//m + Δ`` because
``⌊x + k⌋ = ⌊x⌋ + k`` for an integer ``k``. So ``q(n) = P·E(n) − Δ·n`` is ``P``-periodic and
bounded by its values on ``0 ≤ r < P``: ``q_min ≤ q(n) ≤ q_max``. Per constraint, with
``P·E(n) = q(n) + Δ·n``:

- ``E ≥ b``: if ``Δ > 0`` it holds for every ``n ≥ ⌈(P·b − q_min)/Δ⌉``; if ``Δ < 0`` it fails
  for every ``n > (q_max − P·b)/(−Δ)``; if ``Δ = 0``, ``E`` itself is ``P``-periodic.
- ``a == b``: the same for ``D = a − b``: if ``Δ ≠ 0`` then ``|P·D(n)| ≥ |Δ|·n − max|q| > 0`` for
  every ``n > max|q| / |Δ|`` (never again equal); if ``Δ = 0``, ``D`` is periodic.
- ``a == b or a == 1 or b == 1``: each of the three equalities is periodic past its threshold,
  so their disjunction is periodic (lcm of the periods) past the largest threshold.
- ``E % m == 0``: ``E(n + P·m) = E(n) + m·Δ ≡ E(n) (mod m)``: periodic with period ``P·m``
  for every ``n``.

Take ``N₀`` the largest of these thresholds and ``L`` the lcm of the periods. For ``n > N₀`` every
constraint's truth is ``L``-periodic in ``n`` (constant, or periodic), hence so is their
conjunction: evaluating ``n = N₀ + 1 … N₀ + L`` decides every ``n > N₀``, and evaluating
``n = 1 … N₀`` decides the rest. The result is then reduced: the smallest period that divides
``L`` and leaves the residue set unchanged, and the smallest ``min`` from which the periodic
description is exact; the finitely many valid sizes below it are ``below_min``.

This module is pure Python (the standard library and :mod:`convlint.interpret.symbolic`).
"""

from __future__ import annotations

import functools
import math
import operator
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from convlint.interpret.symbolic import Sym, period_and_growth

__all__ = [
    "Constraint",
    "ConstraintReport",
    "SizeSet",
    "at_least",
    "broadcasts",
    "divisible",
    "equal",
    "quasi_linear",
    "solve",
    "valid_sizes",
    "window_output",
]

MAX_PERIOD = 1 << 20  # beyond this the exact analysis would evaluate too many sizes: ValueError
MAX_EVALUATIONS = 1 << 21  # sizes evaluated up to the threshold and one period past it (else ValueError)


# ------------------------------------------------------------------------------------ constraints


@dataclass(frozen=True)
class Constraint:
    """One predicate on a size expression. ``kind``: ``"at_least"`` (``left ≥ bound``),
    ``"equal"`` (``left == right``), ``"broadcast"`` (``left == right`` or either is 1) or
    ``"divisible"`` (``left % modulus == 0``).
    ``provenance`` is opaque: whatever the caller wants messages to name."""

    kind: str
    left: Any
    right: Any = None
    bound: int = 1
    modulus: int = 1
    provenance: Any = field(default=None, compare=False)

    def holds(self, n: int, name: str | None = None) -> bool:
        """Whether the predicate holds when the variable is ``n``."""
        env = {name: n} if name else None
        a = _value(self.left, env, n)
        if self.kind == "at_least":
            return a >= self.bound
        if self.kind == "equal":
            return a == _value(self.right, env, n)
        if self.kind == "divisible":
            return a % self.modulus == 0
        if self.kind == "broadcast":
            b = _value(self.right, env, n)
            return a == b or a == 1 or b == 1
        raise ValueError(self.kind)

    def variables(self) -> frozenset[str]:
        out: frozenset[str] = frozenset()
        for x in (self.left, self.right):
            if isinstance(x, Sym):
                out |= x.variables()
        return out

    def __str__(self) -> str:
        if self.kind == "at_least":
            return f"{self.left} ≥ {self.bound}"
        if self.kind == "equal":
            return f"{self.left} == {self.right}"
        if self.kind == "broadcast":
            return f"{self.left} == {self.right} (or either is 1)"
        return f"{self.left} ≡ 0 (mod {self.modulus})"


def at_least(expr, bound: int = 1, provenance: Any = None) -> Constraint:
    """``expr ≥ bound`` (by default: the output ``expr`` is not empty)."""
    return Constraint("at_least", expr, bound=bound, provenance=provenance)


def equal(a, b, provenance: Any = None) -> Constraint:
    """``a == b``: two sizes a merge joins, or a size and the declared one."""
    return Constraint("equal", a, b, provenance=provenance)


def broadcasts(a, b, provenance: Any = None) -> Constraint:
    """``a == b or a == 1 or b == 1``: two sizes an elementwise merge broadcasts together."""
    return Constraint("broadcast", a, b, provenance=provenance)


def divisible(expr, modulus: int, provenance: Any = None) -> Constraint:
    """``expr % modulus == 0`` (``modulus ≥ 1``)."""
    if isinstance(modulus, bool) or not isinstance(modulus, int) or modulus < 1:
        raise ValueError(f"modulus {modulus!r} must be a positive integer")
    return Constraint("divisible", expr, modulus=modulus, provenance=provenance)


def _value(x, env, n) -> int:
    if isinstance(x, Sym):
        if env is None:
            (name,) = x.variables()
            env = {name: n}
        return x.evaluate(env)
    return x


def window_output(window, n):
    """A canonical window's output size for an int or a Sym size ``n`` (``n ≥ 1``):
    ``((n + pre − 1)·δ + 1 + lo + hi − d(k−1) − 1)//s + 1``."""
    i = n + (window.pre_lo + window.pre_hi)
    return ((i - 1) * window.input_dilation + 1 + window.pad_lo + window.pad_hi - window.effective_kernel) // window.stride + 1


# ------------------------------------------------------------------------------- quasi-linearity


def quasi_linear(expr, name: str) -> tuple[int, int, int, int]:
    """``(P, Δ, q_min, q_max)`` with ``expr(n + P) = expr(n) + Δ`` for every integer ``n`` and
    ``q_min ≤ P·expr(n) − Δ·n ≤ q_max`` (see the module docstring)."""
    if not isinstance(expr, Sym):
        return 1, 0, expr, expr
    period = period_and_growth(expr)[0]
    if period > MAX_PERIOD:
        raise ValueError(f"the period of {expr} is {period}: too large to decide")
    values = [expr.evaluate({name: r}) for r in range(period + 1)]
    delta = values[period] - values[0]
    q = [period * values[r] - delta * r for r in range(period)]
    return period, delta, min(q), max(q)


def _ceil_div(a: int, b: int) -> int:
    return -((-a) // b)


def _analyse(c: Constraint, name: str) -> tuple[int, int]:
    """``(period, threshold)``: the constraint's truth is ``period``-periodic for ``n > threshold``."""
    if c.kind == "divisible":
        period, _, _, _ = quasi_linear(c.left, name)
        return period * c.modulus, 0
    if c.kind == "broadcast":
        period, threshold = 1, 0
        for a, b in ((c.left, c.right), (c.left, 1), (c.right, 1)):
            p, t = _analyse(equal(a, b), name)
            period, threshold = math.lcm(period, p), max(threshold, t)
        return period, threshold
    expr = c.left - c.right if c.kind == "equal" else c.left
    period, delta, qmin, qmax = quasi_linear(expr, name)
    if delta == 0:
        return period, 0
    if c.kind == "equal":
        return 1, max(abs(qmin), abs(qmax)) // abs(delta) + 1
    pb = period * c.bound
    if delta > 0:
        return 1, max(_ceil_div(pb - qmin, delta), 0)
    return 1, max((qmax - pb) // (-delta) + 1, 0)


# ---------------------------------------------------------------------------------- the size set


@dataclass(frozen=True)
class ConstraintReport:
    """What one constraint alone allows (``allowed``), and so what it excludes: the residues
    ``excluded_residues`` modulo ``allowed.period`` and the sizes ``excluded_below`` under
    ``allowed.min`` (those of ``1 … min−1`` not in ``allowed.below_min``)."""

    constraint: Constraint
    allowed: SizeSet

    @property
    def provenance(self) -> Any:
        return self.constraint.provenance

    @property
    def excluded_residues(self) -> tuple[int, ...]:
        a = self.allowed
        if a.period is None:
            return ()
        return tuple(r for r in range(a.period) if r not in a.residues)

    @property
    def excluded_below(self) -> tuple[int, ...]:
        a = self.allowed
        top = a.min if a.min is not None else 0
        return tuple(n for n in range(1, top) if n not in a.below_min)

    @property
    def restricts(self) -> bool:
        """Whether this constraint alone excludes some size."""
        a = self.allowed
        return not (a.min == 1 and a.period == 1 and a.residues == (0,))


@dataclass(frozen=True)
class SizeSet:
    """The sizes ``n ≥ 1`` of one symbolic size that satisfy every constraint.

    ``n`` is valid iff ``n in below_min``, or ``n ≥ min`` and ``n % period in residues``.
    ``min`` and ``period`` are None and the tuples empty when no size works; a finite set has
    ``period`` 1, no residues, and ``min`` one past its largest member. ``reports``: per
    constraint, what it alone allows (in the order given).
    """

    name: str
    min: int | None
    period: int | None
    residues: tuple[int, ...]
    below_min: tuple[int, ...]
    constraints: tuple[Constraint, ...] = ()
    reports: tuple[ConstraintReport, ...] = ()

    # --- membership ---------------------------------------------------------------------------
    def __contains__(self, n: int) -> bool:
        if n in self.below_min:
            return True
        if self.min is None or n < self.min:
            return False
        return n % self.period in self.residues

    @property
    def empty(self) -> bool:
        return self.min is None

    @property
    def finite(self) -> bool:
        return not self.residues

    def violated(self, n: int) -> list[Constraint]:
        """The constraints that size ``n`` breaks (empty when ``n`` is valid)."""
        return [c for c in self.constraints if not c.holds(n, self.name)]

    def nearest(self, n: int, k: int = 1) -> list[int]:
        """Up to ``k`` valid sizes below ``n`` and up to ``k`` above it, nearest first, in
        ascending order (``n`` itself is not included): ``nearest(100) == [96, 104]`` for the
        multiples of 8."""
        below, above = [], []
        m = n - 1
        while m >= 1 and len(below) < k:
            if m in self:
                below.append(m)
            m -= 1
        if not self.empty:
            top = (self.min + self.period * (k + 1) + max(n, 0)) if self.residues else (self.min - 1)
            m = max(n + 1, 1)
            while m <= top and len(above) < k:
                if m in self:
                    above.append(m)
                m += 1
        return sorted(below) + above

    # --- wording ------------------------------------------------------------------------------
    @property
    def text(self) -> str:
        """How a user would state it: ``H ≥ 16, H ≡ 0 (mod 16)``, ``H ≡ 1 (mod 4)``,
        ``H ∈ {8, 12}``, ``H = 8``, ``H ≥ 5``, ``H ∈ {3} or H ≥ 8, H ≡ 0 (mod 8)``, ``no size``."""
        h = self.name
        if self.empty:
            return "no size"
        if self.finite:
            return _listed(h, self.below_min)
        parts = []
        if self.min > 1 or self.period == 1:
            parts.append(f"{h} ≥ {self.min}")
        if self.period > 1:
            parts.append(f"{h} ≡ {_or(self.residues)} (mod {self.period})")
        core = ", ".join(parts)
        if self.below_min:
            small = _listed(h, self.below_min)
            return f"{small} or {core}"
        return core

    @property
    def words(self) -> str:
        """The same in words: ``H divisible by 16, at least 16``; ``H one of 8, 12``; ``no size``."""
        h = self.name
        if self.empty:
            return "no size works"
        if self.finite:
            return f"{h} = {self.below_min[0]} only" if len(self.below_min) == 1 else f"{h} one of {', '.join(map(str, self.below_min))}"
        if self.period == 1:
            core = f"any {h} ≥ {self.min}" if self.min > 1 else f"any {h}"
        else:
            if self.residues == (0,):
                core = f"{h} divisible by {self.period}"
            else:
                core = f"{h} leaving remainder {_or(self.residues)} when divided by {self.period}"
            if self.min > 1:
                core += f", at least {self.min}"
        if self.below_min:
            core = f"{h} {_or(self.below_min)}, or {core}"
        return core

    def to_json(self) -> dict:
        """``{"text", "min", "period", "residues", "below_min"}``."""
        return {
            "text": self.text,
            "min": self.min,
            "period": self.period,
            "residues": list(self.residues),
            "below_min": list(self.below_min),
        }

    def __str__(self) -> str:
        return self.text


def _listed(h: str, values: Sequence[int]) -> str:
    """``H = 8``, ``H ∈ {8, 12}``, or a run of more than 3 consecutive sizes as ``33 ≤ H ≤ 64``."""
    if len(values) == 1:
        return f"{h} = {values[0]}"
    if len(values) > 3 and values[-1] - values[0] == len(values) - 1:
        return f"{values[0]} ≤ {h} ≤ {values[-1]}"
    return f"{h} ∈ {{{', '.join(map(str, values))}}}"


def _or(values: Sequence[int]) -> str:
    vals = [str(v) for v in values]
    if len(vals) == 1:
        return vals[0]
    return ", ".join(vals[:-1]) + " or " + vals[-1]


# ------------------------------------------------------------------------------------ the solver


def solve(name: str, constraints: Sequence[Constraint]) -> SizeSet:
    """:func:`valid_sizes` without the per-constraint reports (and without checking variables)."""
    cs = tuple(constraints)
    lo, period, residues, small = _solved(name, tuple((c.kind, c.left, c.right, c.bound, c.modulus) for c in cs))
    return SizeSet(name, lo, period, residues, small, cs)


@functools.lru_cache(maxsize=4096)
def _solved(name: str, predicates: tuple) -> tuple[int | None, int | None, tuple[int, ...], tuple[int, ...]]:
    """``(min, period, residues, below_min)`` of :func:`solve`: a model's blocks repeat, and so do
    their constraints. Memoised by the predicates alone: a constraint's provenance (the layers and
    sites that impose it, and through them the parsed trees) is not kept alive by the memo."""
    constraints = tuple(Constraint(kind, left, right, bound, modulus) for kind, left, right, bound, modulus in predicates)
    period, threshold = 1, 0
    for c in constraints:
        p, t = _analyse(c, name)
        period = math.lcm(period, p)
        threshold = max(threshold, t)
        if period > MAX_PERIOD:
            raise ValueError(f"the combined period {period} is too large to decide")
    if threshold + period > MAX_EVALUATIONS:
        raise ValueError(f"deciding these constraints takes {threshold + period} sizes: more than {MAX_EVALUATIONS}")

    # ok[n - 1]: every constraint holds at n, for 1 ≤ n ≤ threshold + period
    ok = _holding(constraints, name, threshold + period)
    # n > threshold: L-periodic; decide one full period past the threshold
    residues = {n % period for n in range(threshold + 1, threshold + period + 1) if ok[n - 1]}
    # the smallest period that divides L and leaves the residues unchanged
    for p in sorted(d for d in range(1, period + 1) if period % d == 0):
        if all(((r + p) % period in residues) == (r in residues) for r in range(period)):
            residues = {r % p for r in residues}
            period = p
            break
    # the smallest start from which the periodic description is exact
    start = threshold + 1
    while start > 1 and ok[start - 2] == ((start - 1) % period in residues):
        start -= 1
    small = tuple(n for n in range(1, start) if ok[n - 1])
    if residues:
        lo = next(n for n in range(start, start + period) if n % period in residues)
        return lo, period, tuple(sorted(residues)), small
    if small:
        return small[-1] + 1, 1, (), small
    return None, None, (), ()


def _holding(constraints: Sequence[Constraint], name: str, top: int) -> list[bool]:
    """Whether every constraint holds, for each size ``1 … top`` (:meth:`Constraint.holds`, one
    expression node at a time over the whole range)."""
    ok = [True] * top
    for c in constraints:
        a = _over(c.left, name, top)
        if c.kind == "at_least":
            bound = c.bound
            this = [x >= bound for x in a]
        elif c.kind == "equal":
            this = [x == y for x, y in zip(a, _over(c.right, name, top))]
        elif c.kind == "divisible":
            m = c.modulus
            this = [x % m == 0 for x in a]
        elif c.kind == "broadcast":
            this = [x == y or x == 1 or y == 1 for x, y in zip(a, _over(c.right, name, top))]
        else:
            raise ValueError(c.kind)
        ok = [x and y for x, y in zip(ok, this)]
    return ok


def _over(x, name: str, top: int) -> list[int]:
    """The values of ``x`` (a Sym in ``name`` alone, or an int) at ``1 … top`` (:meth:`Sym.evaluate`)."""
    if not isinstance(x, Sym):
        return [x] * top
    op = x.op
    if op == "var":
        if x.args[0] != name:
            raise KeyError(x.args[0])
        return list(range(1, top + 1))
    if op not in _BINARY:  # a ``max`` is refused before (:func:`_analyse`: not quasi-linear)
        raise ValueError(op)
    vals = [_over(a, name, top) if isinstance(a, Sym) else a for a in x.args]
    f = _BINARY[op]
    a, b = vals
    if isinstance(a, list):
        if isinstance(b, list):
            return list(map(f, a, b))
        if op == "floordiv":  # the canonical form's ``(inner)//m``: the common case, kept fast
            return [p // b for p in a]
        return [f(p, b) for p in a]
    if isinstance(b, list):
        return [f(a, q) for q in b]
    return [f(a, b)] * top


_BINARY = {"add": operator.add, "mul": operator.mul, "floordiv": operator.floordiv}


def valid_sizes(name: str, constraints: Iterable[Constraint]) -> SizeSet:
    """The exact set of sizes ``n ≥ 1`` of the variable ``name`` for which every constraint holds,
    with a :class:`ConstraintReport` per constraint.

    Every constraint must be in ``name`` alone (or constant). Raises ValueError for another
    variable, a ``max`` of sizes, a period beyond :data:`MAX_PERIOD`, or a threshold and period
    beyond :data:`MAX_EVALUATIONS` (a constraint like ``H ≥ 10⁹``: no model has one).

    >>> from convlint.interpret.symbolic import Sym, period_and_growth
    >>> H = Sym.var("H")
    >>> s = valid_sizes("H", [at_least(H // 8), divisible(H, 8, "reshape")])
    >>> s.text, s.nearest(100)
    ('H ≥ 8, H ≡ 0 (mod 8)', [96, 104])
    """
    cs = tuple(constraints)
    for c in cs:
        extra = c.variables() - {name}
        if extra:
            raise ValueError(f"constraint {c} is in {', '.join(sorted(extra))}, not only in {name}")
    whole = solve(name, cs)
    reports = tuple(ConstraintReport(c, solve(name, (c,))) for c in cs)
    return SizeSet(whole.name, whole.min, whole.period, whole.residues, whole.below_min, cs, reports)
