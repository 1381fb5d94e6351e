"""Asserts are facts: a shape ``assert`` decided false is recorded, one left undecided narrows.

``assert h.shape == skip.shape`` on known shapes that differ ends the path as Python would, and
records an :class:`~convlint.interpret.events.AssertEvent` (CVL011 reports it) instead of ending it
silently. An assert the engine cannot decide is a fact about the path that continues after it;
where that fact pins a value down *certainly*, the value is narrowed:

- ``assert x.shape[1] == 64`` (or ``x.size(1) == 64``, ``64 == x.shape[1]``) with ``x.shape[1]``
  unknown: ``x`` is rebound to a tensor whose dim 1 is 64 (a known size or a symbolic one);
- ``assert x.shape == y.shape`` (or ``== (1, 3, H, W)``, or ``x.shape[1:] == (C, H, W)``) with the
  same rank: the unknown dims of one side take the known dims of the other; a model input of
  unknown rank (a model run on its own) takes that rank and those dims (``x.shape[1:]``: a
  symbolic batch ``B`` first, as its first layer would give it);
- ``assert x.ndim == 4`` (``len(x.shape) == 4``, ``x.dim() == 4``) with ``x`` of unknown rank
  (not a model input, whose rank its first layer decides): ``x`` gets rank 4, its dims unknown.

Only plain names are rebound (``x``, not ``self.x`` or ``xs[0]``), in the scope the assert runs
in. Anything else — ``H % 8 == 0``, ``x.shape[1] in (3, 4)``, a chain of ``and`` — stays as it
is: unknown values are never guessed.
"""

from __future__ import annotations

import libcst as cst

from convlint.interpret.events import AssertEvent
from convlint.interpret.symbolic import is_size
from convlint.interpret.tensor import Tensor, fmt_shape
from convlint.interpret.values import Unknown

__all__ = ["is_shape_test", "record_false", "narrow"]

_SHAPE_ATTRS = {"shape", "ndim"}
_SHAPE_METHODS = {"size", "dim", "numel", "ndimension"}


def _code(node) -> str:
    return cst.Module([]).code_for_node(node)


def _walk(node):
    from convlint.source.walk import children

    stack = [node]
    while stack:
        n = stack.pop()
        yield n
        stack.extend(children(n))


def is_shape_test(test) -> bool:
    """Does the assert's test read a tensor's shape (``.shape``, ``.ndim``, ``.size()``, ``.dim()``)?"""
    for n in _walk(test):
        if isinstance(n, cst.Attribute) and n.attr.value in _SHAPE_ATTRS:
            return True
        if isinstance(n, cst.Call) and isinstance(n.func, cst.Attribute) and n.func.attr.value in _SHAPE_METHODS:
            return True
    return False


def _fmt(v) -> str | None:
    if isinstance(v, Tensor):
        return None if v.shape is None else fmt_shape(v.shape)
    if isinstance(v, tuple) and all(is_size(d) or isinstance(d, Unknown) for d in v):
        return fmt_shape(v)
    if is_size(v) or isinstance(v, (bool, str, float)) or v is None:
        return str(v)
    return None


def record_false(interp, stmt: cst.Assert, scope) -> None:
    """Record a shape assert decided false, with the values that decide it. Nothing is recorded
    when a tensor it reads has a rank that is only a lower bound (``exact_rank`` False: dims counted
    from the front may be off), or when a value it shows cannot be printed."""
    test = stmt.test
    if not is_shape_test(test):
        return
    tensors = []
    for n in _walk(test):
        if isinstance(n, (cst.Name, cst.Attribute)):
            try:
                v = interp.eval(n, scope)
            except Exception:
                continue
            if isinstance(v, Tensor):
                if not v.exact_rank or v.shape is None:
                    return
                tensors.append((_code(n), v))
    values = []
    parts = [test.left, *(c.comparator for c in test.comparisons)] if isinstance(test, cst.Comparison) else []
    for part in parts:
        try:
            v = interp.eval(part, scope)
        except Exception:
            v = None
        text = _fmt(v)
        if text is not None and not isinstance(part, (cst.Integer, cst.Tuple, cst.List)) and not isinstance(v, Tensor):
            values.append((_code(part), text + _source(part, tensors)))
    for name, t in tensors:
        if not any(shown == name or shown.startswith(name + ".shape") for shown, _ in values):
            values.append((name, fmt_shape(t.shape) + _source(None, [(name, t)])))
    interp.trace.record(AssertEvent(interp.site(stmt), _code(test), tuple(values)))


def _source(part, tensors) -> str:
    """`` (from conv2)``: the layer that made the tensor an expression reads, when it has one."""
    code = _code(part) if part is not None else None
    for name, t in tensors:
        if code is None or code == name or code.startswith(name + ".") or code.startswith(name + "["):
            label = t.history[-1][0] if t.history else None
            return f" (from {label})" if label and label != "input" else ""
    return ""


# ------------------------------------------------------------------------------------------ narrowing


def _shape_dim(node):
    """``(name, index)`` for ``x.shape[i]`` / ``x.size(i)`` with ``x`` a plain name, else None."""
    if isinstance(node, cst.Subscript) and isinstance(node.value, cst.Attribute) and node.value.attr.value == "shape" \
            and isinstance(node.value.value, cst.Name) and len(node.slice) == 1 and isinstance(node.slice[0].slice, cst.Index):
        return node.value.value.value, node.slice[0].slice.value
    if isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute) and node.func.attr.value == "size" \
            and isinstance(node.func.value, cst.Name) and len(node.args) == 1 and node.args[0].keyword is None:
        return node.func.value.value, node.args[0].value
    return None


def _shape_of(node):
    """``x`` for ``x.shape`` with ``x`` a plain name."""
    if isinstance(node, cst.Attribute) and node.attr.value == "shape" and isinstance(node.value, cst.Name):
        return node.value.value
    return None


def _shape_tail(node):
    """``(x, k)`` for ``x.shape[k:]`` with ``x`` a plain name and ``k`` a non-negative int literal."""
    if isinstance(node, cst.Subscript) and len(node.slice) == 1 and isinstance(node.slice[0].slice, cst.Slice):
        sl = node.slice[0].slice
        name = _shape_of(node.value)
        if name is not None and sl.upper is None and sl.step is None and isinstance(sl.lower, cst.Integer):
            return name, int(sl.lower.value)
    return None


def _rank_of(node):
    """``x`` for ``x.ndim``, ``x.dim()``, ``len(x.shape)``."""
    if isinstance(node, cst.Attribute) and node.attr.value == "ndim" and isinstance(node.value, cst.Name):
        return node.value.value
    if isinstance(node, cst.Call) and not node.args and isinstance(node.func, cst.Attribute) and node.func.attr.value in ("dim", "ndimension") \
            and isinstance(node.func.value, cst.Name):
        return node.func.value.value
    if isinstance(node, cst.Call) and isinstance(node.func, cst.Name) and node.func.value == "len" and len(node.args) == 1:
        return _shape_of(node.args[0].value)
    return None


def narrow(interp, test, scope) -> None:
    """Narrow the values an undecided ``assert a == b`` names, where that is certain."""
    if not (isinstance(test, cst.Comparison) and len(test.comparisons) == 1 and isinstance(test.comparisons[0].operator, cst.Equal)):
        return
    left, right = test.left, test.comparisons[0].comparator
    for a, b in ((left, right), (right, left)):
        try:
            if _narrow_side(interp, a, b, scope):
                return
        except Exception:  # narrowing is a refinement: it must never break the run
            return


def _tensor(scope, name):
    v = scope.vars.get(name)
    return v if isinstance(v, Tensor) else None


def _narrow_side(interp, a, b, scope) -> bool:
    dim = _shape_dim(a)
    if dim is not None:
        name, index_node = dim
        t = _tensor(scope, name)
        index = interp.eval(index_node, scope)
        value = interp.eval(b, scope)
        if t is None or t.shape is None or not t.exact_rank or not isinstance(index, int) or isinstance(index, bool) or not is_size(value):
            return False
        if not -len(t.shape) <= index < len(t.shape) or not isinstance(t.shape[index], Unknown):
            return False
        shape = list(t.shape)
        shape[index] = value
        scope.vars[name] = _with_shape(t, tuple(shape))
        return True
    tail = _shape_tail(a)
    name = _shape_of(a)
    if tail is not None or name is not None:
        name, start = tail if tail is not None else (name, 0)
        t = _tensor(scope, name)
        other = interp.eval(b, scope)
        other = other.shape if isinstance(other, Tensor) else other
        if t is not None and t.shape is None and t.entry and isinstance(other, tuple) and start <= 1 \
                and all(is_size(o) or isinstance(o, Unknown) for o in other) and 1 <= start + len(other) <= 8:
            # a model input of unknown rank (a model run on its own): the assert gives its rank
            # and those dims — ``assert x.shape[1:] == (self.channels, size, size)``; the batch a
            # symbolic ``B``, as the first rank-aware layer would give it
            from convlint.interpret.symbolic import Sym

            t.settle(((Sym.var("B"),) if start == 1 else ()) + tuple(other))
            return True
        if t is None or t.shape is None or not t.exact_rank or not isinstance(other, tuple) or len(other) != len(t.shape) - start:
            return False
        other = tuple(t.shape[:start]) + other
        shape = tuple(o if isinstance(d, Unknown) and is_size(o) else d for d, o in zip(t.shape, other))
        if shape == t.shape:
            return False
        scope.vars[name] = _with_shape(t, shape)
        return True
    name = _rank_of(a)
    if name is not None:
        t = _tensor(scope, name)
        rank = interp.eval(b, scope)
        if t is None or t.shape is not None or t.entry or not isinstance(rank, int) or isinstance(rank, bool) or not 0 <= rank <= 8:
            return False
        why = t.lost if isinstance(t.lost, Unknown) else Unknown("a dim of a tensor whose rank an assert gave")
        scope.vars[name] = _with_shape(t, tuple(why for _ in range(rank)))
        return True
    return False


def _with_shape(t: Tensor, shape: tuple) -> Tensor:
    from dataclasses import replace

    return replace(t, shape=shape, lost=None if shape is not None else t.lost)
