"""A cheap index of a module's top-level statements, from Python's own parser.

Looking up a name in an imported module runs only the top-level statement that binds it (and the
later statements that mutate it). To find that statement without LibCST-parsing the whole file,
the module is parsed with :mod:`ast` (about ten times faster, and it rejects exactly what CPython
rejects) and each top-level statement is described by its lines and the names it binds and
mutates. :meth:`convlint.source.project.ParsedModule.statement` then LibCST-parses only the
statements the analysis reaches.

Statements that share a physical line (``a = 1; b = 2``) are one LibCST statement, and one entry
here.

:func:`reached_digest` is what an analysis read of an imported module, for the result cache: the
module's name bindings and the text and lines of the statements it ran. Another version of the
file with the same digest gives that analysis the same result (see ``convlint.cache``).
"""

from __future__ import annotations

import ast
import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

__all__ = ["StatementInfo", "ModuleIndex", "build_index", "index_from_data", "index_to_data", "line_starts", "reached_digest"]

_LINE_BREAK = re.compile(r"\r\n|\r|\n")  # as CPython's tokenizer counts lines


@dataclass(frozen=True)
class StatementInfo:
    """One top-level statement: its lines (1-based, decorators included) and the names it binds
    and mutates in place (``REG["a"] = A``, ``REG.update(...)``, ``x += 1``)."""

    first_line: int
    last_line: int
    names: tuple[str, ...]
    mutated: tuple[str, ...]
    star_import: bool = False


@dataclass
class ModuleIndex:
    statements: list[StatementInfo] = field(default_factory=list)
    names: dict[str, list[int]] = field(default_factory=dict)  # name -> statements binding it
    mutations: dict[str, list[int]] = field(default_factory=dict)  # name -> statements mutating it
    stars: list[int] = field(default_factory=list)  # statements doing ``from x import *``
    classes: dict[str, int] = field(default_factory=dict)  # class name -> its (last) statement
    functions: dict[str, int] = field(default_factory=dict)  # function name -> its (last) statement
    # statement -> the function bodies that may be parsed later than the statement itself:
    # ``(def_line, body_line, body_col, end_line, head_line)`` per function (decorators from
    # ``def_line``), the statement's own function or its class's methods, in order; ``head_line``
    # is the line of ``def`` when the header (its parameters) may be parsed later too — every
    # default is a literal, so evaluating them later gives what Python gave — else 0
    bodies: dict[int, tuple[tuple[int, int, int, int, int], ...]] = field(default_factory=dict)


def index_to_data(index: ModuleIndex) -> dict:
    """The index as plain data (tuples, lists, dicts of ints and strings), for the parse store."""
    return {
        "statements": [(s.first_line, s.last_line, list(s.names), list(s.mutated), s.star_import) for s in index.statements],
        "names": index.names, "mutations": index.mutations, "stars": index.stars,
        "classes": index.classes, "functions": index.functions,
        "bodies": {i: [list(b) for b in bs] for i, bs in index.bodies.items()},
    }


def index_from_data(data: dict) -> ModuleIndex:
    """The inverse of :func:`index_to_data`; raises (KeyError, TypeError, ValueError) on malformed data."""
    def ints(v) -> list[int]:
        out = [int(x) for x in v]
        return out

    def strs(v) -> tuple[str, ...]:
        if not all(isinstance(x, str) for x in v):
            raise TypeError("not a name")
        return tuple(v)

    statements = [StatementInfo(int(a), int(b), strs(n), strs(m), bool(star)) for a, b, n, m, star in data["statements"]]
    count = len(statements)

    def table(d) -> dict[str, list[int]]:
        out = {}
        for k, v in d.items():
            idx = ints(v)
            if not isinstance(k, str) or any(not 0 <= i < count for i in idx):
                raise ValueError("bad index")
            out[k] = idx
        return out

    def one(d) -> dict[str, int]:
        return {k: v for k, v in ((str(k), int(v)) for k, v in d.items()) if 0 <= v < count}

    bodies = {}
    for i, bs in data["bodies"].items():
        i = int(i)
        if not 0 <= i < count:
            raise ValueError("bad index")
        rows = tuple(tuple(ints(b)) for b in bs)
        if any(len(r) != 5 for r in rows):
            raise ValueError("bad body")
        bodies[i] = rows
    return ModuleIndex(statements, table(data["names"]), table(data["mutations"]), [i for i in ints(data["stars"]) if 0 <= i < count],
                       one(data["classes"]), one(data["functions"]), bodies)


def line_starts(text: str) -> list[int]:
    """The offset in ``text`` at which each line starts (line 1 at index 0)."""
    return [0, *(m.end() for m in _LINE_BREAK.finditer(text))]


def reached_digest(text: str, index: ModuleIndex, reached: Iterable[int], starts: list[int] | None = None) -> str | None:
    """A digest of what an analysis that ran the top-level statements ``reached`` of a module read
    of it: every statement's bound, mutated and star-imported names (which statement a lookup
    runs: a binding added anywhere changes it), and the text and lines of each statement run
    (findings carry their positions). None when ``reached`` names a statement ``index`` lacks.

    Everything else — comments between statements, the bodies of functions and classes the
    analysis never ran, trailing text — may change without changing the digest."""
    h = hashlib.sha256(repr([(s.names, s.mutated, s.star_import) for s in index.statements]).encode("utf-8", "surrogatepass"))
    starts = line_starts(text) if starts is None else starts
    count = len(index.statements)
    for i in sorted(set(reached)):
        if not 0 <= i < count:
            return None
        s = index.statements[i]
        lo = starts[s.first_line - 1] if s.first_line - 1 < len(starts) else len(text)
        hi = starts[s.last_line] if s.last_line < len(starts) else len(text)
        h.update(f"\0{i}:{s.first_line}:{s.last_line}\0".encode("ascii"))
        h.update(text[lo:hi].encode("utf-8", "surrogatepass"))
    return h.hexdigest()


def build_index(tree: ast.Module) -> ModuleIndex:
    index = ModuleIndex()
    groups: list[list[ast.stmt]] = []
    for stmt in tree.body:
        if groups and stmt.lineno == groups[-1][-1].end_lineno and _first_line(stmt) == stmt.lineno:
            groups[-1].append(stmt)  # ``a = 1; b = 2``: one line, one LibCST statement
        else:
            groups.append([stmt])
    for i, group in enumerate(groups):
        names: list[str] = []
        mutated: list[str] = []
        star = False
        for stmt in group:
            star |= _bound(stmt, names)
            _mutated(stmt, mutated)
            if isinstance(stmt, ast.ClassDef):
                index.classes[stmt.name] = i
            elif isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
                index.functions[stmt.name] = i
        info = StatementInfo(_first_line(group[0]), group[-1].end_lineno or group[-1].lineno, tuple(dict.fromkeys(names)), tuple(dict.fromkeys(mutated)), star)
        index.statements.append(info)
        for n in info.names:
            index.names.setdefault(n, []).append(i)
        for n in info.mutated:
            index.mutations.setdefault(n, []).append(i)
        if star:
            index.stars.append(i)
        if len(group) == 1:
            lazy = _lazy_bodies(group[0])
            if lazy:
                index.bodies[i] = lazy
    return index


def _lazy_bodies(stmt: ast.stmt) -> tuple[tuple[int, int, int, int, int], ...]:
    """The function bodies of a top-level ``def`` or of a top-level class's methods that start on
    a line of their own (``def f(self):`` then the body below it), as ``(def_line, body_line,
    body_col, end_line)``; a class is elided only if every one of its methods is elidable."""
    FN = (ast.FunctionDef, ast.AsyncFunctionDef)
    if isinstance(stmt, FN):
        one = _body_range(stmt)
        return (one,) if one is not None else ()
    if isinstance(stmt, ast.ClassDef):
        out = []
        for child in stmt.body:
            if isinstance(child, FN):
                one = _body_range(child)
                if one is None:
                    return ()
                out.append(one)
        return tuple(out)
    return ()


def _body_range(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> tuple[int, int, int, int, int] | None:
    first = fn.body[0]
    end = fn.end_lineno or fn.lineno
    if first.lineno <= fn.lineno or end < first.lineno:
        return None
    a = fn.args
    defaults = [*a.defaults, *(d for d in a.kw_defaults if d is not None)]
    head = fn.lineno if all(_literal(d) for d in defaults) else 0
    return (_first_line(fn), first.lineno, first.col_offset, end, head)


def _literal(e: ast.expr) -> bool:
    """A constant, a signed number, or a tuple, list, set or dict of those (``ast.literal_eval``'s)."""
    if isinstance(e, ast.Constant):
        return True
    if isinstance(e, ast.UnaryOp) and isinstance(e.op, (ast.USub, ast.UAdd)):
        return isinstance(e.operand, ast.Constant) and isinstance(e.operand.value, (int, float, complex)) and not isinstance(e.operand.value, bool)
    if isinstance(e, (ast.Tuple, ast.List, ast.Set)):
        return all(_literal(x) for x in e.elts)
    if isinstance(e, ast.Dict):
        return all(k is not None and _literal(k) for k in e.keys) and all(_literal(v) for v in e.values)
    return False


def _first_line(stmt: ast.stmt) -> int:
    decos = getattr(stmt, "decorator_list", None)
    if decos:
        return min(stmt.lineno, *(d.lineno for d in decos))
    return stmt.lineno


def _targets(t: ast.expr, out: list[str]) -> None:
    if isinstance(t, ast.Name):
        out.append(t.id)
    elif isinstance(t, (ast.Tuple, ast.List)):
        for e in t.elts:
            _targets(e, out)
    elif isinstance(t, ast.Starred):
        _targets(t.value, out)


def _root(node: ast.expr) -> str | None:
    while isinstance(node, (ast.Attribute, ast.Subscript)):
        node = node.value
    return node.id if isinstance(node, ast.Name) else None


def _blocks(stmt: ast.stmt) -> list[list[ast.stmt]]:
    """The statement lists of a compound statement (not of functions or classes)."""
    out = []
    for attr in ("body", "orelse", "finalbody"):
        block = getattr(stmt, attr, None)
        if isinstance(block, list) and not isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            out.append(block)
    for h in getattr(stmt, "handlers", ()) or ():
        out.append(h.body)
    for case in getattr(stmt, "cases", ()) or ():
        out.append(case.body)
    return out


def _bound(stmt: ast.stmt, out: list[str]) -> bool:
    """Append the names ``stmt`` binds at module level; True if it is a star import."""
    star = False
    if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        out.append(stmt.name)
        return False
    if isinstance(stmt, ast.Assign):
        for t in stmt.targets:
            _targets(t, out)
    elif isinstance(stmt, (ast.AnnAssign, ast.AugAssign)):
        _targets(stmt.target, out)
    elif isinstance(stmt, ast.Import):
        for a in stmt.names:
            out.append(a.asname or a.name.split(".")[0])
    elif isinstance(stmt, ast.ImportFrom):
        for a in stmt.names:
            if a.name == "*":
                star = True
            else:
                out.append(a.asname or a.name)
    elif isinstance(stmt, (ast.For, ast.AsyncFor)):
        _targets(stmt.target, out)
    elif isinstance(stmt, (ast.With, ast.AsyncWith)):
        for item in stmt.items:
            if item.optional_vars is not None:
                _targets(item.optional_vars, out)
    for block in _blocks(stmt):
        for inner in block:
            star |= _bound(inner, out)
    return star


def _mutated(stmt: ast.stmt, out: list[str]) -> None:
    if isinstance(stmt, ast.Assign):
        for t in stmt.targets:
            if isinstance(t, (ast.Subscript, ast.Attribute)):
                r = _root(t)
                if r:
                    out.append(r)
    elif isinstance(stmt, ast.AugAssign):
        _targets(stmt.target, out)
    elif isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call) and isinstance(stmt.value.func, ast.Attribute):
        r = _root(stmt.value.func.value)
        if r:
            out.append(r)
    for block in _blocks(stmt):
        for inner in block:
            _mutated(inner, out)
