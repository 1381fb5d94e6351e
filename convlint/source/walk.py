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


def children(node: cst.CSTNode) -> Iterator[cst.CSTNode]:
    for name in code_fields(type(node)):
        v = getattr(node, name)
        if isinstance(v, cst.CSTNode):
            yield v
        elif isinstance(v, (tuple, list)):
            for x in v:
                if isinstance(x, cst.CSTNode):
                    yield x


def walk(node: cst.CSTNode, prune: Callable[[cst.CSTNode], bool] | None = None) -> Iterator[cst.CSTNode]:
    """Every node under ``node`` (itself included), depth first; ``prune(n)`` stops descent below n."""
    stack = [node]
    while stack:
        n = stack.pop()
        yield n
        if prune is not None and prune(n) and n is not node:
            continue
        stack.extend(children(n))
