"""The value lattice: what is known, and what two paths leave behind when they meet.

Known Python values are plain Python objects; :class:`~convlint.interpret.values.Unknown` is the
top of the lattice. :func:`join` is the meet of two branches (``if`` on an unknown condition, a
loop that may not run): equal values stay, tensors keep the dimensions both paths agree on, and
everything else becomes unknown.
"""

from __future__ import annotations

from convlint.interpret.symbolic import Sym
from convlint.interpret.tensor import Tensor
from convlint.interpret.values import MISSING, OneOf, Unknown, UnknownNumber, may_be_called, numeric

MAX_OPTIONS = 4  # values a OneOf holds; beyond, the join is a plain unknown

__all__ = ["is_known", "first_unknown", "join", "hashable", "comparable", "plain"]


_SCALARS = frozenset((int, float, str, bool, type(None), bytes, complex))


def is_known(v, depth: int = 0) -> bool:
    """True when ``v`` holds no Unknown (looking into tuples, lists and dicts)."""
    if type(v) in _SCALARS:  # the common case, without an isinstance chain
        return True
    if isinstance(v, Unknown):
        return False
    if depth > 6:
        return True
    if isinstance(v, (tuple, list)):
        return all(is_known(x, depth + 1) for x in v)
    if isinstance(v, dict):
        return all(is_known(x, depth + 1) for x in v.values())
    return True


def first_unknown(v):
    if isinstance(v, Unknown):
        return v
    if isinstance(v, (tuple, list)):
        for x in v:
            u = first_unknown(x)
            if u is not None:
                return u
    if isinstance(v, dict):
        for x in v.values():
            u = first_unknown(x)
            if u is not None:
                return u
    return None


def plain(v) -> bool:
    """A value Python arithmetic may be applied to directly."""
    return isinstance(v, (int, float, str, bytes, bool, type(None), complex))


def join(a, b, site=None):
    """The value of a name after two paths met: equal values stay, others become unknown
    (located at ``site``, the statement where the paths met)."""
    if a is b:
        return a
    if a is MISSING:
        return b
    if b is MISSING:
        return a
    if type(a) is OneOf or type(b) is OneOf:
        return _one_of(a, b, site)
    if isinstance(a, Unknown) or isinstance(b, Unknown):
        # an unknown number stays a number only when the other path gave a number too
        if type(a) is UnknownNumber and not numeric(b):
            return b if isinstance(b, Unknown) else Unknown("differs between branches", site)
        if type(b) is UnknownNumber and not numeric(a):
            return a if isinstance(a, Unknown) else Unknown("differs between branches", site)
        return a if isinstance(a, Unknown) else b
    try:
        if type(a) is type(b) and plain(a) and a == b:
            return a
    except Exception:  # pragma: no cover
        pass
    if isinstance(a, tuple) and isinstance(b, tuple) and len(a) == len(b):
        return tuple(join(x, y, site) for x, y in zip(a, b))
    if isinstance(a, Sym) and isinstance(b, Sym) and a == b:
        return a
    if isinstance(a, Tensor) and isinstance(b, Tensor):
        if a.shape is not None and b.shape is not None and len(a.shape) == len(b.shape):
            shape = tuple(x if (x == y and type(x) is type(y)) else Unknown("differs between branches", site) for x, y in zip(a.shape, b.shape))
            return a.derive(shape, pending=tuple(set(a.pending) | set(b.pending)), exact_rank=a.exact_rank and b.exact_rank)
        return a.derive(None, lost=Unknown("the rank differs between branches", site))
    if numeric(a) and numeric(b):
        return UnknownNumber("differs between branches", site)
    joiner = getattr(a, "join_with", None)  # a framework value that can stand for both (frameworks.base)
    if joiner is not None:
        both = joiner(b, site)
        if both is not None:
            return both
    if may_be_called(a) and may_be_called(b):
        return OneOf((a, b), site)
    return Unknown("differs between branches", site)


def _one_of(a, b, site):
    """The join of a :class:`OneOf` with another value: one holding the options of both, while
    they are values it may hold and no more than :data:`MAX_OPTIONS`."""
    options: list = []
    for v in (a, b):
        if type(v) is OneOf:
            new = v.options
        elif isinstance(v, Unknown) or not may_be_called(v):
            return v if isinstance(v, Unknown) else Unknown("differs between branches", site)
        else:
            new = (v,)
        options += [o for o in new if not any(o is p for p in options)]
    if len(options) > MAX_OPTIONS:
        return Unknown("differs between branches", site)
    return options[0] if len(options) == 1 else OneOf(options, site)



def hashable(v) -> bool:
    try:
        hash(v)
        return True
    except TypeError:
        return False


def comparable(v) -> bool:
    if isinstance(v, (int, float, str, bool, bytes, type(None))):
        return True
    if isinstance(v, (tuple, list)):
        return all(comparable(x) for x in v)
    if isinstance(v, dict):
        return all(comparable(x) for x in v.values())
    return False


