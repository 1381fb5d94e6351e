"""Like with like: which run-time layer is which static layer, and what kind of error a run raised.

``--confirm=model`` compares the layers convlint traced with the layers the framework applied.
Both lists are in execution order, but the order is not the identity of a layer: convlint may
trace a layer the run never reaches (a branch it could not decide), miss one it could not
resolve, or see a layer twice (a dummy forward in ``__init__``); a positional pairing then
compares a layer with another layer's call. :func:`match` pairs them by what a layer *is*:

* its **module path** — the qualified attribute name (``encoder.0.conv``), where the side knows
  it (torch modules on both sides; flax scope paths at run time only);
* its **call site** — path, line and column of the expression that built the layer (for a
  functional call: the call).

A layer applied several times (a shared layer, a block in a loop, a dummy forward) is paired
occurrence by occurrence, in execution order, within the same (op, name, site). Pairing goes in
tiers, each over what the earlier ones left: (op, name, site); (op, name) when both sides
name the layer (the name is unique in a model; the two sides may locate a subclass's
constructor differently); (op, site) and then (op, file, line) when one side has no name for
it. What stays unpaired appeared on one side only: not a disagreement.

:func:`error_kind` sorts a run-time exception: a shape error of the framework (CVL010), a dtype
error (an input that should hold integers), a limit of the abstract run (meta tensors and jax
tracers carry no values), a call that does not bind (missing constructor arguments), or other.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import NamedTuple

__all__ = ["Ident", "match", "error_kind", "SHAPE", "DTYPE", "ABSTRACT", "ARGUMENTS", "OTHER"]


class Ident(NamedTuple):
    """What identifies one layer application: op, module path (or None), and call site."""

    op: str
    name: str | None
    path: str | None
    line: int | None
    column: int | None


def _tier(static, runtime, pairs, used, skey: Callable, rkey: Callable, ok: Callable) -> None:
    buckets: dict = {}
    for k, r in enumerate(runtime):
        if k in used:
            continue
        key = rkey(r)
        if key is not None:
            buckets.setdefault(key, []).append(k)
    for j, s in enumerate(static):
        if j in pairs:
            continue
        key = skey(s)
        cands = buckets.get(key) if key is not None else None
        if not cands:
            continue
        for n, k in enumerate(cands):
            if ok(s, runtime[k]):
                pairs[j] = k
                used.add(k)
                del cands[n]
                break


def _full(i: Ident):
    return tuple(i)


def _named(i: Ident):
    return (i.op, i.name) if i.name else None


def _site(i: Ident):
    return (i.op, i.path, i.line, i.column) if i.path is not None and i.line is not None else None


def _line(i: Ident):
    return (i.op, i.path, i.line) if i.path is not None and i.line is not None else None


def _always(s: Ident, r: Ident) -> bool:
    return True


def _unnamed(s: Ident, r: Ident) -> bool:
    """One side has no name for the layer (flax statically, functional calls, plain lists)."""
    return s.name is None or r.name is None


def match(static: Sequence[Ident], runtime: Sequence[Ident]) -> dict[int, int]:
    """Static index -> run-time index for every layer found on both sides (see the module doc)."""
    pairs: dict[int, int] = {}
    used: set[int] = set()
    for key, ok in ((_full, _always), (_named, _always), (_site, _unnamed), (_line, _unnamed)):
        _tier(static, runtime, pairs, used, key, key, ok)
    return pairs


# ------------------------------------------------------------------------------------------ errors

SHAPE = "shape"
DTYPE = "dtype"
ABSTRACT = "abstract"
ARGUMENTS = "arguments"
OTHER = "other"

# a call that does not bind: the constructor's or forward's arguments, not a shape
_ARGUMENTS = re.compile(
    r"missing \d+ required|required (?:keyword-only |positional )?argument|unexpected keyword argument|"
    r"takes (?:from \d+ to )?\d+ positional arguments? but|got multiple values for argument|takes no arguments"
)
# an input that must hold integers (class indices, timesteps, token ids) or dtypes that clash
_DTYPE = re.compile(
    r"scalar types?\b|\bdtypes?\b|LongTensor|must (?:be|have) (?:an? )?(?:integer|int|long)\b|integer or (?:boolean|unsigned)|"
    r"integer type|used as indices must be|index tensor|for index\b|indices must|type \(.*\) and .*type \(.*\) should be the same",
    re.I,
)
# the abstract run's own limits: meta tensors and jax tracers have shapes but no values
_ABSTRACT = re.compile(r"meta tensor|'Meta' backend|meta device|Abstract tracer value|concrete value", re.I)
_ABSTRACT_TYPES = (
    "ConcretizationTypeError",
    "TracerBoolConversionError",
    "TracerIntegerConversionError",
    "TracerArrayConversionError",
    "UnexpectedTracerError",
    "NonConcreteBooleanIndexError",
    "NotImplementedError",
)
# what frameworks say when shapes do not fit (torch on CPU and on meta, jax, flax, einops)
_SHAPE = re.compile(
    r"shape|size|dimension|\bdims?\b|\brank\b|channel|broadcast|mismatch|padding|stride|non-singleton|"
    r"reduction dim|elements not|out of bounds|out of range|normalized_shape|must match|too small|cannot be multiplied|"
    r"features|input_size|hidden_size",
    re.I,
)
_SHAPE_TYPES = ("RuntimeError", "ValueError", "TypeError", "IndexError", "AssertionError")


def error_kind(etype: str, message: str) -> str:
    """:data:`SHAPE`, :data:`DTYPE`, :data:`ABSTRACT`, :data:`ARGUMENTS` or :data:`OTHER` for an
    exception of type name ``etype`` with ``message``."""
    message = message or ""
    if etype in _ABSTRACT_TYPES or _ABSTRACT.search(message):
        return ABSTRACT
    if etype == "TypeError" and _ARGUMENTS.search(message):
        return ARGUMENTS
    if _DTYPE.search(message) and etype in (*_SHAPE_TYPES, "EinopsError"):
        return DTYPE
    if etype.endswith("ShapeError") or (etype == "EinopsError" and _SHAPE.search(message)):
        return SHAPE
    if etype in _SHAPE_TYPES and _SHAPE.search(message):
        return SHAPE
    return OTHER
