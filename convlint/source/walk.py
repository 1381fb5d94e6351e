"""A fast walk over LibCST trees.

LibCST visitors rebuild every node they pass (``_visit_and_replace_children``), which costs several
times a plain traversal; read-only questions walk the dataclass fields instead, skipping the
whitespace and punctuation fields that never hold code.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator

import libcst as cst

_SKIP_PREFIXES = (
    "whitespace", "lpar", "rpar", "comma", "semicolon", "header", "footer", "leading_lines",
    "lines_after_decorators", "newline", "trailing_whitespace", "operator", "equal", "colon", "star", "indent",
)
_FIELDS: dict[type, tuple[str, ...]] = {}


def code_fields(cls: type) -> tuple[str, ...]:
    f = _FIELDS.get(cls)
    if f is None:
        f = _FIELDS[cls] = tuple(x.name for x in dataclasses.fields(cls) if not x.name.startswith(_SKIP_PREFIXES))
    return f


_IS_NODE: dict[type, bool] = {}  # type -> is it a CSTNode (``isinstance`` goes through ABCMeta: slow)


def is_node(v: object) -> bool:
    t = type(v)
    hit = _IS_NODE.get(t)
    if hit is None:
        hit = _IS_NODE[t] = isinstance(v, cst.CSTNode)
    return hit


def children(node: cst.CSTNode) -> list[cst.CSTNode]:
    """The nodes held by ``node``'s code fields, in field order."""
    out = []
    known = _IS_NODE
    for name in code_fields(type(node)):
        v = getattr(node, name)
        t = type(v)
        if t is tuple or t is list:
            for x in v:
                hit = known.get(type(x))
                if hit is None:
                    hit = is_node(x)
                if hit:
                    out.append(x)
        else:
            hit = known.get(t)
            if hit is None:
                hit = is_node(v)
            if hit:
                out.append(v)
    return out


def walk(node: cst.CSTNode, prune: Callable[[cst.CSTNode], bool] | None = None) -> Iterator[cst.CSTNode]:
    """Every node under ``node`` (itself included), depth first; ``prune(n)`` stops descent below n."""
    stack = [node]
    while stack:
        n = stack.pop()
        yield n
        if prune is not None and prune(n) and n is not node:
            continue
        stack.extend(children(n))
