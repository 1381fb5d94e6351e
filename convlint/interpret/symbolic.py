"""Symbolic sizes: a dimension named in a declaration (``H``), carried through size arithmetic.

A :class:`Sym` is an integer expression over named sizes built from ``+``, ``-``, ``*`` and floor
division by a constant — exactly what convolution arithmetic needs — and products of sizes (an
attention block's ``h * w``, a flatten), divided again only exactly (``(b·h·w) / (h·w)`` is ``b``). Two
expressions in one variable can be compared over a range of sizes, which is how a rule decides
that a mismatch happens *for every* input size (and only then reports it).
"""

from __future__ import annotations

import functools
import math
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
    """An integer expression in canonical form: ``('var', name)``, ``('add', a, b)``, ``('mul', a, c)``,
    ``('floordiv', a, c)``, ``('max', a, b)``, ``('prod', f₁, f₂, …)``; ``a``/``b`` are Sym or int, ``c`` an
    int, the ``fᵢ`` (two or more, in canonical order, repeats allowed) canonical Syms other than
    products and multiples (an atom, or a sum whose coefficients have no common factor).

    Every Sym built through this API (``var``, ``+ - * // %``, ``max_of``) is in the *canonical form*
    of :func:`_canonical`: a sum ``c₁·t₁ + … + cₖ·tₖ + c₀`` of distinct atoms ``tᵢ`` — variables,
    then floor divisions ``(inner)//m`` (``m ≥ 2``), then ``max`` — in a fixed order, the constant
    last, left-nested as ``add`` nodes, a coefficient as ``mul`` (never 1 or 0). A constant result is
    a plain ``int``. The rules, each exact for every integer value of the variables:

    - ``(x + q·m·t + c)//m = q·t + (x + (c mod m))//m + c div m`` for an integer-valued ``t``: every
      coefficient and the constant of a floor's inner part lie in ``[0, m)``;
    - ``(g·x + c)//(g·m) = (x + c div g)//m`` (the gcd of the divisor and the inner coefficients);
    - ``(x + y//a)//m = (a·x + y)//(a·m)`` for an integer-valued ``x`` (nested floors merge:
      ``(x//a)//b = x//(a·b)``; the first such atom in the canonical order is merged);
    - ``x//(−m) = (−x)//m``, ``x % m = x − m·(x//m)``, constants fold, equal atoms combine;
    - a product of two non-constant sizes is a ``prod`` atom of their factors, sorted and flattened
      (``h·w`` and ``w·h`` are one atom), with a sum as one factor, its gcd taken out — not expanded,
      so that dividing by the same factors gives them back. Products are not quasi-linear: a
      one-variable part holding one keeps the rules' form, and the exact deciders refuse them.

    Then each one-variable part is rewritten in a complete normal form built from its values
    (:func:`_one_variable`: ``c·n + Σ c_b·((n + b)//p)``) when that needs at most
    :data:`NORMAL_FORM_FLOORS` floors — every size a conv, pool or resize chain produces does.

    So ``(((H - 2)//2 - 1)//2 - 1)//2 + 1`` is ``H//8``, ``2*(H//2)`` and ``(H + 1)//2`` stay, and two
    expressions that are equal functions are the same tree (``==`` and ``hash`` agree) whenever
    they are in that normal form (:func:`in_normal_form`), else whenever the rules show it.
    ``str()`` is Python source for the same function (``eval`` with the variables bound to ints).
    """

    op: str
    args: tuple

    @staticmethod
    def var(name: str) -> Sym:
        return Sym("var", (name,))

    # --- arithmetic: every result is canonical -----------------------------------------------
    def __add__(self, other):
        if isinstance(other, bool) or not isinstance(other, (int, Sym)):
            return NotImplemented
        return _build(_lin_add(_lin(self), _lin(other)))

    __radd__ = __add__

    def __sub__(self, other):
        if isinstance(other, bool) or not isinstance(other, (int, Sym)):
            return NotImplemented
        return _build(_lin_add(_lin(self), _lin_scale(_lin(other), -1)))

    def __rsub__(self, other):
        if isinstance(other, bool) or not isinstance(other, int):
            return NotImplemented
        return _build(_lin_add(_lin(other), _lin_scale(_lin(self), -1)))

    def __mul__(self, other):
        if isinstance(other, bool) or not isinstance(other, (int, Sym)):
            return NotImplemented
        if isinstance(other, Sym):
            return _build(_lin_mul(_lin(self), _lin(other)))
        return _build(_lin_scale(_lin(self), other))

    __rmul__ = __mul__

    def __neg__(self):
        return self * -1

    def __floordiv__(self, other):
        if isinstance(other, Sym):
            q = exact_div(self, other)  # exact: then it is the floor division too
            return q if q is not None else NotImplemented
        if isinstance(other, bool) or not isinstance(other, int) or other == 0:
            return NotImplemented
        return _build(_lin_floor(_lin(self), other))

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
        if self.op == "prod":
            return math.prod(vals)
        raise ValueError(self.op)

    def __str__(self) -> str:
        if self.op == "add":
            parts = []
            for i, (term, coeff) in enumerate(_terms(self)):
                text = _term_text(term, abs(coeff))
                if i == 0:
                    parts.append(text if coeff > 0 else _neg_text(term, text))
                else:
                    parts.append(("+ " if coeff > 0 else "- ") + text)
            return " ".join(parts)
        if self.op == "mul":
            atom, c = self.args
            text = _term_text(atom, abs(c))
            return text if c > 0 else _neg_text(atom, text)
        return _atom_text(self)

    def __repr__(self) -> str:
        return f"Sym({self})"


def max_of(a, b):
    """``max(a, b)`` of two sizes: an int when both are, else an opaque ``max`` atom (operands in a
    fixed order, so ``max_of(a, b) == max_of(b, a)``)."""
    if isinstance(a, int) and isinstance(b, int):
        return max(a, b)
    if a == b:
        return a
    x, y = sorted((a, b), key=_sort_key)
    return Sym("max", (x, y))


# --- the linear form: (constant, ((atom, coefficient), ...)) with atoms in canonical order -------


def _sort_key(x) -> tuple:
    if isinstance(x, int):
        return (-1, "", x)
    rank = {"var": 0, "floordiv": 1, "max": 2, "prod": 3}.get(x.op, 4)
    return (rank, str(x), 0)


def _factors(atom) -> tuple:
    return atom.args if atom.op == "prod" else (atom,)


def _as_factor(lin) -> tuple[int, tuple]:
    """A non-constant linear form as ``(coefficient, factors)``: ``c·t`` is ``(c, factors of t)``;
    a sum is one factor, its coefficients' gcd taken out (its first term positive), so that
    ``(2·H + 2)·W`` and ``2·((H + 1)·W)`` are one product."""
    const, terms = lin
    if const == 0 and len(terms) == 1:
        ((t, c),) = terms.items()
        return c, _factors(t)
    g = math.gcd(const, *terms.values())
    first = min(terms, key=_sort_key)
    if terms[first] < 0:
        g = -g
    return g, (_build((const // g, {t: c // g for t, c in terms.items()})),)


def _lin_mul(a, b):
    """The product of two linear forms: a constant scales; else one ``prod`` atom of their factors
    (not expanded: an attention block's ``(b h w)`` divides by ``h·w`` again whatever ``h`` is)."""
    if not a[1]:
        return _lin_scale(b, a[0])
    if not b[1]:
        return _lin_scale(a, b[0])
    ca, fa = _as_factor(a)
    cb, fb = _as_factor(b)
    return 0, {Sym("prod", tuple(sorted(fa + fb, key=_sort_key))): ca * cb}


def exact_div(a, b):
    """``q`` with ``q·b == a`` for every value of the variables, when the factors of ``b`` are among
    those of ``a`` (as a whole, or of each of its terms) and its coefficient divides theirs:
    ``(b·h·w)/(h·w) = b``, ``(2·h·w + 4·h)/(2·h) = w + 2``. None otherwise (nothing is guessed)."""
    from collections import Counter

    if isinstance(b, bool) or isinstance(a, bool) or not isinstance(a, (int, Sym)) or not isinstance(b, (int, Sym)):
        return None
    la, lb = _lin(a), _lin(b)
    if isinstance(b, int):
        if b == 0 or la[0] % b or any(c % b for c in la[1].values()):
            return None
        return _build((la[0] // b, {t: c // b for t, c in la[1].items()}))
    cb, fb = _as_factor(lb)
    want = Counter(fb)

    def divide(c, factors):
        have = Counter(factors)
        if c % cb or any(have[f] < n for f, n in want.items()):
            return None
        rest = sorted((have - want).elements(), key=_sort_key)
        if not rest:
            return c // cb, {}
        return 0, {(rest[0] if len(rest) == 1 else Sym("prod", tuple(rest))): c // cb}

    if isinstance(a, Sym):
        whole = divide(*_as_factor(la))
        if whole is not None:
            return _build(whole)
    if la[0] != 0:
        return None
    out: tuple = (0, {})
    for t, c in la[1].items():
        part = divide(c, _factors(t))
        if part is None:
            return None
        out = _lin_add(out, part)
    return _build(out)


def _lin(x) -> tuple[int, dict]:
    """A canonical Sym (or int) as ``(constant, {atom: coefficient})``."""
    if isinstance(x, int):
        return x, {}
    if x.op == "add":
        a, b = _lin(x.args[0]), _lin(x.args[1])
        return _lin_add(a, b)
    if x.op == "mul":
        return _lin_scale(_lin(x.args[0]), x.args[1])
    return 0, {x: 1}  # var, floordiv, max: atoms (canonical when built through the API)


def _lin_add(a, b):
    const = a[0] + b[0]
    terms = dict(a[1])
    for atom, c in b[1].items():
        terms[atom] = terms.get(atom, 0) + c
        if terms[atom] == 0:
            del terms[atom]
    return const, terms


def _lin_scale(a, k: int):
    if k == 0:
        return 0, {}
    return a[0] * k, {atom: c * k for atom, c in a[1].items()}


def _lin_floor(a, m: int):
    """``a // m`` in linear form (the rules of :class:`Sym`)."""
    const, terms = a
    if m < 0:
        const, terms, m = -const, {atom: -c for atom, c in terms.items()}, -m
    if m == 1:
        return const, dict(terms)
    out: dict = {}
    rem: dict = {}
    for atom, c in terms.items():
        q, r = divmod(c, m)
        if q:
            out[atom] = q
        if r:
            rem[atom] = r
    q_const, r_const = divmod(const, m)
    if not rem:
        return q_const, out  # (r_const)//m = 0
    g = math.gcd(m, *rem.values())
    if g > 1:
        inner = _lin_floor((r_const // g, {atom: c // g for atom, c in rem.items()}), m // g)
        return _lin_add((q_const, out), inner)
    nested = sorted((atom for atom, c in rem.items() if c == 1 and atom.op == "floordiv"), key=_sort_key)
    if nested:
        # (x + y//a)//m = ((a·x + y)//a)//m = (a·x + y)//(a·m): x is integer-valued
        atom = nested[0]
        y, a_div = atom.args
        rest = {t: c for t, c in rem.items() if t != atom}
        inner = _lin_floor(_lin_add(_lin_scale((r_const, rest), a_div), _lin(y)), a_div * m)
        return _lin_add((q_const, out), inner)
    floor_atom = _floor_atom(_build((r_const, rem)), m)
    out[floor_atom] = out.get(floor_atom, 0) + 1
    return q_const, out


def _floor_atom(inner, m: int) -> Sym:
    return Sym("floordiv", (inner, m))


def canonical(x):
    """Any Sym tree (say, built with ``Sym(op, args)`` by hand) rebuilt in canonical form."""
    if not isinstance(x, Sym):
        return x
    if x.op == "var":
        return x
    a = [canonical(v) for v in x.args]
    if x.op == "add":
        return a[0] + a[1]
    if x.op == "mul":
        return a[0] * a[1]
    if x.op == "floordiv":
        return a[0] // a[1]
    if x.op == "max":
        return max_of(a[0], a[1])
    if x.op == "prod":
        return math.prod(a)
    raise ValueError(x.op)


ONE_VARIABLE_PERIOD_LIMIT = 4096  # beyond it a one-variable part keeps the form the rules give
NORMAL_FORM_FLOORS = 3  # a one-variable part whose normal form needs more floors keeps the rules' form


def period_and_growth(x) -> tuple[int, dict]:
    """``(P, Δ)`` with ``x(v + P) = x(v) + Δ_v`` when one variable ``v`` moves by ``P`` and the
    others stay: ``Δ`` maps each variable to its growth. Exact for every integer value.

    A variable has ``P = 1, Δ = 1``; a sum takes the lcm; ``c·x`` scales ``Δ``; and if ``x`` grows
    by ``Δ`` per ``P`` then ``x//m`` grows by ``Δ·k/m`` per ``P·k`` with ``k = m / gcd(m, Δ)``
    (``⌊(y + j)/m⌋ = ⌊y/m⌋ + j/m`` when ``m`` divides ``j``; for several variables ``k`` uses the
    gcd of all growths). Raises ValueError for ``max``.
    """
    if isinstance(x, int):
        return 1, {}
    if x.op == "var":
        return 1, {x.args[0]: 1}
    if x.op == "add":
        pa, da = period_and_growth(x.args[0])
        pb, db = period_and_growth(x.args[1])
        p = math.lcm(pa, pb)
        out = {v: g * (p // pa) for v, g in da.items()}
        for v, g in db.items():
            out[v] = out.get(v, 0) + g * (p // pb)
        return p, {v: g for v, g in out.items() if g}
    if x.op == "mul":
        p, d = period_and_growth(x.args[0])
        return p, {v: g * x.args[1] for v, g in d.items() if g * x.args[1]}
    if x.op == "floordiv":
        p, d = period_and_growth(x.args[0])
        m = abs(x.args[1])
        k = m // math.gcd(m, *d.values()) if d else 1
        sign = 1 if x.args[1] > 0 else -1
        return p * k, {v: sign * g * k // m for v, g in d.items() if g * k // m}
    raise ValueError(f"{x.op} is not quasi-linear")


@functools.lru_cache(maxsize=4096)
def _one_variable(name: str, items: tuple) -> tuple[int, tuple] | None:
    """The complete normal form of ``Σ c·atom`` in one variable ``n``: ``(E(0), terms)`` with
    ``E(n) = E(0) + c₁·n + Σ c_b·((n + b)//p)``.

    ``E(n + P) = E(n) + Δ`` for the product ``P`` of the divisors, so the steps
    ``d_r = E(r) − E(r − 1)`` are periodic; ``p`` is their least period. Each ``(n + b)//p``
    (``0 ≤ b < p``) steps by 1 exactly at ``n ≡ −b (mod p)``, so ``E(n) = E(0) + Σ_{r=1..p} d_r ·
    (n + (−r mod p))//p``; ``c₁ n`` takes the most common step (the fewest floors; then the smallest
    ``|c₁|``, positive first) and a floor is left only where ``d_r ≠ c₁``. Equal functions have equal
    steps, so this form is unique: one-variable sizes that are equal are the same tree.

    None (keep the rules' form) when it would need more than :data:`NORMAL_FORM_FLOORS` floors
    (``H//64 + H//3`` would need dozens) or the period exceeds :data:`ONE_VARIABLE_PERIOD_LIMIT`.
    """
    try:
        period = math.lcm(*(period_and_growth(atom)[0] for atom, _ in items))
    except ValueError:
        return None
    if period > ONE_VARIABLE_PERIOD_LIMIT:
        return None
    vals = [sum(c * atom.evaluate({name: n}) for atom, c in items) for n in range(period + 1)]
    steps = [vals[r] - vals[r - 1] for r in range(1, period + 1)]
    p = next(q for q in range(1, period + 1) if period % q == 0 and all(steps[r] == steps[r % q] for r in range(period)))
    steps = steps[:p]
    c1 = min(set(steps), key=lambda c: (sum(1 for d in steps if d != c), abs(c), -c))
    if sum(1 for d in steps if d != c1) > NORMAL_FORM_FLOORS:
        return None
    var = Sym.var(name)
    terms = [(var, c1)] if c1 else []
    for r in range(1, p + 1):
        d = steps[r - 1]
        if d != c1:
            b = (-r) % p
            terms.append((Sym("floordiv", (var if b == 0 else Sym("add", (var, b)), p)), d - c1))
    return vals[0], tuple(terms)


def in_normal_form(x) -> bool:
    """Whether every one-variable part of ``x`` is in the complete normal form of
    :func:`_one_variable` (then any expression equal to ``x`` as a function, and also in normal
    form, is ``==`` to it). False when a part kept the rules' form (see :data:`NORMAL_FORM_FLOORS`)."""
    if not isinstance(x, Sym):
        return True
    groups: dict = {}
    for atom, c in _lin(x)[1].items():
        names = atom.variables()
        if len(names) == 1 and not _has_max(atom):
            groups.setdefault(next(iter(names)), []).append((atom, c))
    return all(_one_variable(k, tuple(sorted(g, key=lambda item: _sort_key(item[0])))) is not None for k, g in groups.items())


def _has_max(x) -> bool:
    """Whether ``x`` holds a ``max`` or a product: not quasi-linear, kept out of the one-variable normal form."""
    return isinstance(x, Sym) and (x.op in ("max", "prod") or any(_has_max(a) for a in x.args))


def _build(lin):
    """A linear form as a canonical Sym (or an int): each one-variable part in its complete normal
    form (:func:`_one_variable`), atoms of several variables (and ``max``) as the rules left them."""
    const, terms = lin
    groups: dict = {}
    for atom, c in terms.items():
        if not c:
            continue
        names = atom.variables()
        key = next(iter(names)) if len(names) == 1 and not _has_max(atom) else None
        groups.setdefault(key, []).append((atom, c))
    merged: dict = {}
    for key, group in groups.items():
        normal = None
        if key is not None:
            normal = _one_variable(key, tuple(sorted(group, key=lambda item: _sort_key(item[0]))))
        if normal is None:
            parts = group
        else:
            const += normal[0]
            parts = normal[1]
        for atom, c in parts:
            merged[atom] = merged.get(atom, 0) + c
    items = sorted(((atom, c) for atom, c in merged.items() if c), key=lambda item: _sort_key(item[0]))
    expr = None
    for atom, c in items:
        term = atom if c == 1 else Sym("mul", (atom, c))
        expr = term if expr is None else Sym("add", (expr, term))
    if expr is None:
        return const
    if const:
        expr = Sym("add", (expr, const))
    return expr


def _terms(x: Sym) -> list:
    """The (term, coefficient) list of a canonical sum, the constant as ``(None, c)``."""
    if x.op == "add":
        head = _terms(x.args[0])
        b = x.args[1]
        return head + ([(None, b)] if isinstance(b, int) else _terms(b))
    if x.op == "mul":
        return [(x.args[0], x.args[1])]
    return [(x, 1)]


def _atom_text(x) -> str:
    if x.op == "var":
        return x.args[0]
    if x.op == "floordiv":
        inner, m = x.args
        if isinstance(inner, Sym) and inner.op == "var":
            return f"{inner}//{m}"
        return f"({inner})//{m}"
    if x.op == "max":
        return f"max({x.args[0]}, {x.args[1]})"
    if x.op == "prod":
        return "*".join(f"({f})" if f.op in ("floordiv", "add") else _atom_text(f) for f in x.args)
    return x.op


def _term_text(term, coeff: int) -> str:
    """``coeff·term`` for a positive coeff (a constant when term is None)."""
    if term is None:
        return str(coeff)
    text = _atom_text(term)
    if coeff == 1:
        return text
    return f"{coeff}*({text})" if term.op == "floordiv" else f"{coeff}*{text}"


def _neg_text(term, text: str) -> str:
    """A leading negative term: ``-(H//2)`` (``-H//2`` would be ``(-H)//2``), ``-2*(H//2)``, ``-H``."""
    if term is not None and term.op == "floordiv" and not text[0].isdigit():
        return f"-({text})"
    return f"-{text}"


def has_symbolic(v) -> bool:
    """Whether a layer argument (a size, or a tuple/list of them) holds a symbolic size: the
    arithmetic cannot check it, and it is not a rejected configuration."""
    return isinstance(v, Sym) or (isinstance(v, (tuple, list)) and any(isinstance(x, Sym) for x in v))


def is_size(x) -> bool:
    return (isinstance(x, int) and not isinstance(x, bool)) or isinstance(x, Sym)


def always_differ(a, b) -> bool:
    """True when sizes ``a`` and ``b`` differ for every admissible value of their one variable.

    Ints compare directly. Expressions over one shared variable are decided exactly over every
    value ``n ≥ 1`` where both sides are at least 1 (those inputs are invalid anyway), with
    :mod:`convlint.interpret.sizes`; where that analysis refuses (a ``max``, a huge period) they are
    compared over :func:`sizes_for`. Anything else (two variables, no admissible value) is not
    decided: False.
    """
    if isinstance(a, int) and isinstance(b, int):
        return a != b
    if a == b:  # the same expression: equal for every value
        return False
    try:
        return _always_differ(a, b)
    except TypeError:  # pragma: no cover - an unhashable operand: decide it afresh
        return _always_differ.__wrapped__(a, b)


@functools.lru_cache(maxsize=8192)
def _always_differ(a, b) -> bool:
    """:func:`always_differ` of two sizes, one of them symbolic (memoised: the same comparison
    comes back in every model built from the same blocks)."""
    names = (a.variables() if isinstance(a, Sym) else frozenset()) | (b.variables() if isinstance(b, Sym) else frozenset())
    if len(names) != 1:
        return False
    (name,) = names
    try:
        from convlint.interpret import sizes

        admissible = [sizes.at_least(a), sizes.at_least(b)]
        if sizes.solve(name, admissible).empty:
            return False
        return sizes.solve(name, [*admissible, sizes.equal(a, b)]).empty
    except ValueError:
        pass
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
    """True when size ``a`` is below 1 for every value ``n ≥ 1`` of its variable (an int: when it
    is): decided exactly (:mod:`convlint.interpret.sizes`), else over :func:`sizes_for`."""
    if isinstance(a, int):
        return a < 1
    return _always_below_one(a)


@functools.lru_cache(maxsize=4096)
def _always_below_one(a) -> bool:
    names = a.variables()
    if len(names) != 1:
        return False
    (name,) = names
    try:
        from convlint.interpret import sizes

        return sizes.solve(name, [sizes.at_least(a)]).empty
    except ValueError:
        pass
    return all(a.evaluate({name: v}) < 1 for v in sizes_for(a))
