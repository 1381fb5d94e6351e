"""jax as the oracle for the jax/flax/einops catalogue: evaluate one expression with convlint's
interpreter (no file, no project: a scope with the framework modules and abstract arrays) and
with ``jax.eval_shape``, and compare.

A shape convlint states must equal jax's; an unknown (a whole value, a rank, or one dim) is
allowed. ``static(...)`` also returns the trace, for the events a call recorded.
"""

from __future__ import annotations

import os

import libcst as cst
from hypothesis import HealthCheck, settings

from convlint.frameworks import FRAMEWORKS
from convlint.frameworks.base import FwModule
from convlint.interpret.interpreter import Interpreter, Scope
from convlint.interpret.symbolic import Sym
from convlint.interpret.tensor import Tensor
from convlint.interpret.values import Unknown

SWEEP = os.environ.get("CONVLINT_SWEEP") == "1"

MODULES = {
    "jnp": "jax.numpy", "lax": "jax.lax", "jax": "jax", "jnn": "jax.nn", "jrandom": "jax.random", "image": "jax.image",
    "nn": "flax.linen", "einops": "einops",
}


class Arr:
    """An abstract input array: a shape and a dtype."""

    def __init__(self, shape, dtype="float32"):
        self.shape = tuple(shape)
        self.dtype = dtype

    def __repr__(self):
        return f"Arr({self.shape}, {self.dtype})"


def examples(n: int, sweep: int = 1500):
    """Few derandomised examples in the default suite; many random ones under CONVLINT_SWEEP=1."""
    return settings(max_examples=sweep if SWEEP else n, deadline=None, derandomize=not SWEEP, database=None,
                    suppress_health_check=list(HealthCheck))


def static(expr: str, env: dict | None = None, prelude: str = ""):
    """convlint's value of ``expr``; ``env`` maps names to :class:`Arr` (abstract arrays, their
    dims may be names: symbolic sizes, or None: unknown) or plain Python values."""
    interp = Interpreter(None, FRAMEWORKS)
    scope = Scope(None, "module")
    for name, mod in MODULES.items():
        scope.vars[name] = FwModule(mod)
    for k, v in (env or {}).items():
        if isinstance(v, Arr):
            dims = tuple(Sym.var(d) if isinstance(d, str) else (Unknown("test") if d is None else d) for d in v.shape)
            scope.vars[k] = Tensor(dims, framework="jax", history=(("input", dims),))
        elif isinstance(v, Tensor):
            scope.vars[k] = v
        else:
            scope.vars[k] = v
    if prelude:
        interp.exec_block(cst.parse_module(prelude).body, scope)
    value = interp.eval(cst.parse_expression(expr), scope)
    return value, interp.trace


def real(expr: str, env: dict | None = None, prelude: str = ""):
    """jax's shapes for ``expr`` (under ``jax.eval_shape``): a nested structure of shape tuples,
    or the exception jax raised."""
    import einops
    import flax.linen as nn
    import jax
    import jax.image
    import jax.lax as lax
    import jax.nn as jnn
    import jax.numpy as jnp
    import jax.random as jrandom

    arrays = {k: v for k, v in (env or {}).items() if isinstance(v, Arr)}
    plain = {k: v for k, v in (env or {}).items() if not isinstance(v, Arr)}
    g = {"jnp": jnp, "lax": lax, "jax": jax, "jnn": jnn, "jrandom": jrandom, "image": jax.image, "nn": nn, "einops": einops}

    def f(**kw):
        ns = dict(g, **plain, **kw)
        if prelude:
            exec(prelude, ns)
        return eval(expr, ns)

    structs = {k: jax.ShapeDtypeStruct(v.shape, getattr(jnp, v.dtype)) for k, v in arrays.items()}
    try:
        out = jax.eval_shape(f, **structs)
    except Exception as e:  # noqa: BLE001 - any rejection by jax
        return e
    return jax.tree_util.tree_map(lambda a: tuple(a.shape), out, is_leaf=lambda a: hasattr(a, "shape"))


def shape_of(v):
    """convlint's value as jax would print it: tuples of dims (None: unknown dim), None for an
    unknown value or rank, nested for tuples/lists."""
    if isinstance(v, Tensor):
        if v.shape is None:
            return None
        return tuple(d if isinstance(d, int) else None for d in v.shape), v.exact_rank
    if isinstance(v, (tuple, list)) and all(isinstance(x, int) and not isinstance(x, bool) for x in v) and v and not any(isinstance(x, Tensor) for x in v):
        return ("value", tuple(v))
    if isinstance(v, (tuple, list)):
        return type(v)(shape_of(x) for x in v)
    return None


def agrees(mine, theirs) -> tuple[bool, str]:
    """Every dim convlint states equals jax's; unknowns agree with anything."""
    if mine is None:
        return True, ""
    if isinstance(mine, tuple) and len(mine) == 2 and mine and mine[0] == "value":
        if isinstance(theirs, tuple):
            return (mine[1] == theirs or all(isinstance(t, tuple) for t in theirs)), f"{mine[1]} vs {theirs}"
        return True, ""
    if isinstance(mine, tuple) and len(mine) == 2 and isinstance(mine[1], bool):
        dims, exact = mine
        if not isinstance(theirs, tuple) or any(isinstance(t, tuple) for t in theirs):
            return False, f"{dims} vs {theirs!r}"
        if exact and len(dims) != len(theirs):
            return False, f"rank {len(dims)} vs {len(theirs)}"
        if len(dims) > len(theirs):
            return False, f"rank {len(dims)} > {len(theirs)}"
        tail = theirs[len(theirs) - len(dims):]
        for a, b in zip(dims, tail):
            if a is not None and a != b:
                return False, f"{dims} vs {theirs}"
        return True, ""
    if isinstance(mine, (tuple, list)):
        if not isinstance(theirs, (tuple, list)) or len(mine) != len(theirs):
            return False, f"{mine} vs {theirs}"
        for a, b in zip(mine, theirs):
            ok, why = agrees(a, b)
            if not ok:
                return ok, why
        return True, ""
    return True, ""


def check(expr: str, env: dict | None = None, prelude: str = "", require_known: bool = False):
    """Compare convlint with jax on one expression. Returns convlint's shape (or None when jax
    rejects the call). With ``require_known``, convlint must state the full shape."""
    theirs = real(expr, env, prelude)
    if isinstance(theirs, Exception):
        return None
    value, _trace = static(expr, env, prelude)
    mine = shape_of(value)
    ok, why = agrees(mine, theirs)
    assert ok, f"{expr} with {env}: convlint {mine} but jax {theirs} ({why})"
    if require_known:
        assert mine is not None and _full(mine), f"{expr} with {env}: convlint does not know {theirs} (got {value!r})"
    return mine


def _full(m) -> bool:
    if m is None:
        return False
    if isinstance(m, tuple) and len(m) == 2 and isinstance(m[1], bool):
        return all(d is not None for d in m[0])
    if isinstance(m, tuple) and len(m) == 2 and m[0] == "value":
        return True
    if isinstance(m, (tuple, list)):
        return all(_full(x) for x in m)
    return False
