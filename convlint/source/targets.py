"""Does a declared model name something? ``[[tool.convlint.model]]`` targets and ``shapes --input``
/ ``PATH::Name`` are checked against the file itself (its ``ast``): the file must exist, the class
or function must be defined at its top level, and the ``init``/``call`` keywords must be accepted
by the constructor (or factory) and by ``forward``/``__call__`` when they are defined right there.
A declaration that names nothing is an error, never silence.
"""

from __future__ import annotations

import ast
from pathlib import Path

__all__ = ["target_problems", "defined_names"]


def _parse(path: Path) -> ast.Module | None:
    try:
        return ast.parse(path.read_bytes())
    except (OSError, SyntaxError, ValueError, RecursionError, MemoryError):
        return None


def defined_names(tree: ast.Module) -> list[str]:
    """Classes and functions defined at the top level, in order."""
    return [n.name for n in tree.body if isinstance(n, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))]


def _accepts(fn: ast.FunctionDef | ast.AsyncFunctionDef, skip_self: bool) -> tuple[set[str], bool]:
    a = fn.args
    names = [p.arg for p in (*a.posonlyargs, *a.args, *a.kwonlyargs)]
    if skip_self and names:
        names = names[1:]
    return set(names), a.kwarg is not None


def _method(cls: ast.ClassDef, *names: str):
    for node in cls.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name in names:
            return node
    return None


def target_problems(path: Path, name: str, init: dict | None = None, call: dict | None = None) -> list[str]:
    """What is wrong with declaring ``path::name`` (empty when nothing is)."""
    if not path.is_file():
        return [f"{path}: no such file"]
    tree = _parse(path)
    if tree is None:
        return []  # the file's own CVL000 says why it cannot be read
    if name == "<module>":
        return []
    head = name.split(".")[0]
    nodes = {n.name: n for n in tree.body if isinstance(n, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))}
    if head not in nodes:
        assigned = {t.id for n in tree.body if isinstance(n, (ast.Assign, ast.AnnAssign)) for t in (n.targets if isinstance(n, ast.Assign) else [n.target]) if isinstance(t, ast.Name)}
        imported = {a.asname or a.name.split(".")[0] for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom)) for a in n.names}
        if head in assigned or head in imported:
            return []  # ``Model = make_model(...)`` or re-exported: followed by the engine
        there = ", ".join(defined_names(tree)) or "no class or function"
        return [f"{path} has no class or function {head!r} (it defines: {there})"]
    if "." in name:
        return []
    node = nodes[head]
    problems = []
    if isinstance(node, ast.ClassDef):
        ctor = _method(node, "__init__")
        fwd = _method(node, "forward", "__call__")
        skip = True
    else:
        ctor, fwd, skip = node, None, False
    for what, fn, values in (("init", ctor, init), ("call", fwd, call)):
        if not values or fn is None:
            continue
        names, star = _accepts(fn, skip_self=skip if what == "init" else True)
        if star:
            continue
        bad = sorted(set(values) - names)
        if bad:
            where = f"{head}.{fn.name}" if fn is not node else head
            problems.append(f"{what} keyword{'s' if len(bad) > 1 else ''} {', '.join(map(repr, bad))} not accepted by {where}({', '.join(sorted(names))})")
    return problems
