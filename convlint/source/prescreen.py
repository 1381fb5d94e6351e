"""Refuse, before LibCST sees it, source that CPython rejects or that LibCST cannot handle safely.

LibCST's native parser recurses once per nesting level and memoises copies of subtrees, so it
crashes (a segmentation fault, not an exception) on brackets nested about 1,200 deep, on
``a and b and …`` with 8,000 terms, on 10,000 ``elif`` branches or a dotted import name of 10,000
parts; it takes time quadratic in the length of a left-recursive chain (``1 + 1 + …``, ``a.b.b.…``:
4,000 terms take 4–8 s) and memory quadratic in the nesting depth (200 nested calls: 100 MB per
statement, and it keeps them all); and it costs about 50 µs and 5 KB per node even on flat code.
Its Python side (the position metadata convlint reports with) recurses too, and gives up a
little under 300 levels of its tree: every finding of such a file would silently vanish. A file
of that kind must cost one CVL000 finding, never the run, and never a finding.

:func:`prescreen` is the guard, in about 1.5 times the time of ``ast.parse``:

1. CPython's own parser (``ast.parse``). What it rejects is reported with its reason and position
   (``too many nested parentheses``, ``invalid syntax``); its recursion and stack limits
   (``RecursionError``, ``MemoryError``) become "nesting too deep".
2. One iterative walk over the AST estimating LibCST's tree. Each node's *depth* counts LibCST's
   levels from the module down: a nested block two (the block, the statement), an ``elif`` one,
   a call argument, a list/tuple/set/dict element two, a subscript three; a ``BoolOp`` of *k*
   values is *k − 1* nested operations and a dotted import name of *k* parts *k − 1* nested
   attributes, as in LibCST. Then:

   - the deepest node (:data:`MAX_DEPTH`), reported as "nesting too deep" or, when the deepest
     path is mostly a chain (``+``, ``.attr``, calls on calls, ``and``), "expression too long";
   - the weight of each statement, the sum of its nodes' depths below it
     (:data:`MAX_STATEMENT_WEIGHT`): linear in the size of a flat literal, quadratic in the length
     of a chain and in nesting, as LibCST's time and memory are;
   - the weight of the whole file (:data:`MAX_FILE_WEIGHT`), since LibCST keeps every statement's
     memoised copies until the end, and its number of nodes (:data:`MAX_NODES`).
3. One regular-expression scan for what the AST does not show: redundant parentheses (LibCST
   keeps each level; 200 of them cost it 4.6 MB per statement) and the literals of an implicit
   string concatenation. They add to the file's weight and node count.
4. ``match`` statements: LibCST's parser backtracks over case patterns in exponential time (12
   nested mapping patterns: 71 s; 19 grouping parentheses, which the AST drops: 1.4 s, each one
   more doubling it). The brackets of each ``case`` header are counted (:data:`MAX_PATTERN_DEPTH`,
   0.15 s at worst), and so is the sum of 4 to the power of each depth (:data:`MAX_PATTERN_WEIGHT`).

The bounds are several times what real model code reaches: over every ``.py`` file of diffusers,
pytorch-image-models, flax, big_vision and the other repositories convlint is tested on (5,450
files), the largest values are depth 53 (a 50-class ``|`` union), statement depth 39 (an ``elif``
chain), statement weight 65,535 (ImageNet's 1,000 class names in one list), file weight 195,743
and 67,027 nodes (both flax's ``transforms_test.py``, which LibCST parses in 2.7 s and 280 MB).
At the bounds LibCST takes a few seconds and at most about 550 MB, never crashes, and the
positions of every finding resolve.
"""

from __future__ import annotations

import ast
import re
import warnings
from dataclasses import dataclass

__all__ = [
    "MAX_DEPTH",
    "MAX_FILE_WEIGHT",
    "MAX_NODES",
    "MAX_PATTERN_DEPTH",
    "MAX_STATEMENT_WEIGHT",
    "PrescreenError",
    "Measure",
    "measure",
    "prescreen",
]

MAX_DEPTH = 180
MAX_STATEMENT_WEIGHT = 150_000
MAX_FILE_WEIGHT = 500_000
MAX_NODES = 150_000
MAX_PATTERN_DEPTH = 8
MAX_PATTERN_WEIGHT = 4 * 4**8


class PrescreenError(Exception):
    """Why a text must not be given to LibCST: a one-line ``message`` and a position.

    ``raw_line`` is 1-based and ``raw_column`` 0-based, as in LibCST's ``ParserSyntaxError``, so
    that code reporting either kind of error reads both the same way.
    """

    def __init__(self, message: str, line: int = 1, column: int = 0) -> None:
        super().__init__(message)
        self.message = message
        self.raw_line = max(1, int(line or 1))
        self.raw_column = max(0, int(column or 0))

    @property
    def line(self) -> int:
        return self.raw_line

    @property
    def column(self) -> int:
        return self.raw_column


@dataclass(frozen=True)
class Measure:
    """The largest values of one file (see the module docstring)."""

    depth: int
    statement_depth: int
    statement_weight: int
    file_weight: int
    nodes: int


# --------------------------------------------------------------------------- the walk

# How many LibCST levels one AST link stands for: LibCST wraps each call argument in an ``Arg``,
# each element of a list, tuple, set or dict in an ``Element``/``DictElement``, and a subscript's
# index in a ``SubscriptElement`` and an ``Index``. Every other link is one level.
_LEVELS: dict[tuple[type, str], int] = {
    (ast.Call, "args"): 2,
    (ast.List, "elts"): 2,
    (ast.Tuple, "elts"): 2,
    (ast.Set, "elts"): 2,
    (ast.Dict, "keys"): 2,
    (ast.Dict, "values"): 2,
    (ast.Subscript, "slice"): 3,
}
_FIELDS: dict[type, tuple[tuple[str, int], ...]] = {}


def _fields(cls: type) -> tuple[tuple[str, int], ...]:
    """``(field name, LibCST levels)`` of an AST class."""
    f = _FIELDS.get(cls)
    if f is None:
        f = _FIELDS[cls] = tuple((name, _LEVELS.get((cls, name), 1)) for name in cls._fields)
    return f


def _extra(node: ast.AST) -> int:
    """How many nesting levels LibCST adds at ``node`` that the AST keeps flat."""
    cls = type(node)
    if cls is ast.BoolOp:
        return len(node.values) - 1  # type: ignore[attr-defined]
    if cls is ast.alias:
        return node.name.count(".")  # type: ignore[attr-defined]
    if cls is ast.ImportFrom:
        return (node.module or "").count(".")  # type: ignore[attr-defined]
    return 0


def _is_elif(s: ast.AST, field: str, value: list) -> bool:
    return type(s) is ast.If and field == "orelse" and len(value) == 1 and type(value[0]) is ast.If


class _Walk:
    """One pass over a module; stops at the first bound exceeded (``error``).

    A statement's *base* is its estimated depth in LibCST's tree (a nested block adds two levels:
    the block and the statement; an ``elif`` one); an expression node's depth is its base plus
    the LibCST levels from the statement down to it. LibCST's own recursive Python code (the
    position metadata, visitors) fails a little under 300 levels, and the engine's walks too.
    """

    def __init__(self, limits: tuple[int, int, int]) -> None:
        self.max_depth, self.max_stmt_weight, self.max_file_weight = limits
        self.depth = self.statement_depth = self.statement_weight = self.file_weight = self.nodes = 0
        self.matches: list[ast.Match] = []
        self.error: PrescreenError | None = None

    def run(self, tree: ast.AST) -> None:
        STMT, AST, fields, extra = ast.stmt, ast.AST, _fields, _extra
        flat = (ast.BoolOp, ast.alias, ast.ImportFrom)
        statements: list[tuple[ast.AST, int]] = [(tree, -1)]
        max_depth = self.max_depth
        while statements:
            s, sc = statements.pop()
            if sc > self.statement_depth:
                self.statement_depth = sc
                if sc > max_depth:
                    self.error = PrescreenError(
                        f"nesting too deep for analysis: statements nested {sc} levels deep (an elif chain?); "
                        f"convlint's limit is {max_depth}",
                        getattr(s, "lineno", 1), getattr(s, "col_offset", 0),
                    )
                    return
            limit = max_depth - sc  # for this statement's expressions
            if type(s) is ast.Match:
                self.matches.append(s)
            weight = 0
            deepest, deep_at, deep_node = 0, 0, s
            stack: list[tuple[ast.AST, int]] = []
            base = extra(s) if isinstance(s, flat) else 0
            self.nodes += 1
            for name, levels in fields(type(s)):
                v = getattr(s, name, None)
                if type(v) is list:
                    inner = sc + (1 if _is_elif(s, name, v) else 2)
                    for c in v:
                        if isinstance(c, STMT):
                            statements.append((c, inner))
                        elif isinstance(c, AST):
                            stack.append((c, levels + base))
                elif isinstance(v, AST):
                    stack.append((v, levels + base))
            while stack:
                node, d = stack.pop()
                self.nodes += 1
                weight += d
                if isinstance(node, flat):
                    k = extra(node)
                    if k:
                        weight += k * d + k * (k + 1) // 2
                        d += k
                if d > deep_at and hasattr(node, "lineno"):  # the deepest node with a position
                    deep_at, deep_node = d, node
                if d > deepest:
                    deepest = d
                    if d > limit:
                        break
                for name, levels in fields(type(node)):
                    v = getattr(node, name, None)
                    if type(v) is list:
                        for c in v:
                            if isinstance(c, STMT):  # an except or case block's body
                                statements.append((c, sc + d + 2))
                            elif isinstance(c, AST):
                                stack.append((c, d + levels))
                    elif isinstance(v, AST):
                        stack.append((v, d + levels))
            if sc + deepest > self.depth:
                self.depth = sc + deepest
            if weight > self.statement_weight:
                self.statement_weight = weight
            self.file_weight += weight
            if deepest > limit:
                self.error = _too_deep(s, deep_node, sc + deepest, max_depth)
                return
            if weight > self.max_stmt_weight:
                self.error = PrescreenError(
                    f"expression too long for analysis: the statement weighs {weight:,} "
                    f"(its syntax nodes counted by nesting depth); convlint's limit is {self.max_stmt_weight:,}",
                    getattr(s, "lineno", 1), getattr(s, "col_offset", 0),
                )
                return
            if self.file_weight > self.max_file_weight:
                self.error = _too_large(self.max_file_weight, getattr(s, "lineno", 1))
                return


def _too_large(limit: int, line: int = 1) -> PrescreenError:
    return PrescreenError(
        f"file too large for analysis: its syntax nodes, counted by nesting depth, weigh over {limit:,}; "
        "split it, or exclude it",
        line,
    )


def _too_many(nodes: int, limit: int) -> PrescreenError:
    return PrescreenError(
        f"file too large for analysis: {nodes:,} syntax nodes (with brackets and string literals); "
        f"convlint's limit is {limit:,}; split it, or exclude it",
    )


# A link parent -> child that continues a left-recursive chain in LibCST's grammar.
def _chain_link(parent: ast.AST, field: str, child: ast.AST) -> bool:
    if isinstance(parent, ast.BinOp):
        return field == "left" and isinstance(child, ast.BinOp)
    if isinstance(parent, (ast.Attribute, ast.Subscript)):
        return field == "value" and isinstance(child, (ast.Attribute, ast.Subscript, ast.Call))
    if isinstance(parent, ast.Call):
        return field == "func" and isinstance(child, (ast.Attribute, ast.Subscript, ast.Call))
    return False


def _too_deep(stmt: ast.AST, deep_node: ast.AST, depth: int, limit: int) -> PrescreenError:
    """The error for an expression nested deeper than ``limit``: a chain or a nesting."""
    # Re-walk the statement with parent links to classify the deepest path (only on refusal).
    chain = 0
    parent: dict[int, tuple[ast.AST, str]] = {}
    stack = [stmt]
    found = False
    while stack and not found:
        node = stack.pop()
        for name, _ in _fields(type(node)):
            v = getattr(node, name, None)
            for c in v if type(v) is list else (v,):
                if isinstance(c, ast.AST) and not isinstance(c, ast.stmt):
                    parent[id(c)] = (node, name)
                    if c is deep_node:
                        found = True
                    stack.append(c)
    node = deep_node
    chain += _extra(node)
    while id(node) in parent:
        p, name = parent[id(node)]
        if _chain_link(p, name, node):
            chain += 1
        chain += _extra(p)  # a BoolOp's values, an import's dotted name
        node = p
    if node is not stmt:
        chain += _extra(stmt)
    line = getattr(deep_node, "lineno", None) or getattr(stmt, "lineno", 1)
    col = getattr(deep_node, "col_offset", None) if hasattr(deep_node, "lineno") else getattr(stmt, "col_offset", 0)
    if chain * 2 >= depth:
        return PrescreenError(
            f"expression too long for analysis: a chain of over {limit} operations "
            f"(such as a + b + …, a.b.c…, x and y and …); convlint's limit is {limit}",
            line, col,
        )
    return PrescreenError(f"nesting too deep for analysis: over {limit} levels; convlint's limit is {limit}", line, col)


# --------------------------------------------------------------------------- what the AST does not show

# Comments, string literals and brackets, in a text that ``ast.parse`` accepted (so its strings are
# well formed): each alternative consumes a whole token, so a bracket or quote inside a string or a
# comment is never taken for one outside. The alternatives are disjoint, hence linear.
_TOKENS = re.compile(
    r"""\#[^\r\n]*
    | '''(?:[^'\\]|\\.|'(?!''))*'''
    | \"\"\"(?:[^"\\]|\\.|"(?!""))*\"\"\"
    | '(?:[^'\\\r\n]|\\.)*'
    | "(?:[^"\\\r\n]|\\.)*"
    | [(\[{]
    | [)\]}]
    """,
    re.VERBOSE | re.DOTALL,
)


def _token_weight(text: str) -> tuple[int, int]:
    """What LibCST pays for and the AST hides: redundant parentheses and implicit concatenation.

    ``(weight, count)``: the sum, over opening brackets, of their nesting depth (LibCST's memory
    grows with the square of a parenthesis nesting that the AST drops entirely) plus one per
    string literal (a concatenation of thousands of literals is one AST node but thousands of
    LibCST nodes); and the number of brackets and string literals.
    """
    depth = 0
    weight = 0
    count = 0
    for m in _TOKENS.finditer(text):
        c = m.group()[0]
        if c in "([{":
            depth += 1
            weight += depth
            count += 1
        elif c in ")]}":
            depth = depth - 1 if depth > 0 else 0
        elif c != "#":
            weight += 1
            count += 1
    return weight, count


# --------------------------------------------------------------------------- match patterns

_LINE_BREAKS = re.compile(r"\r\n|\r|\n")  # as CPython's tokenizer counts lines


def _pattern_depths(text: str, matches: list[ast.Match]) -> list[tuple[int, ast.AST]]:
    """For each ``case``: the deepest bracket nesting between its ``case`` keyword and its body
    (grouping parentheses included, which the AST drops), and its pattern node.

    LibCST's parser backtracks over pattern alternatives in exponential time: a mapping or tuple
    pattern nested 11 deep takes it 20 s, 19 grouping parentheses 1.4 s, 30 would take an hour.
    """
    if not matches:
        return []
    lines = _LINE_BREAKS.split(text)

    def offset_text(line: int, col: int, end_line: int, end_col: int) -> str:
        # AST columns are UTF-8 byte offsets
        first = lines[line - 1].encode("utf-8")[col:].decode("utf-8", "ignore")
        if end_line == line:
            return lines[line - 1].encode("utf-8")[col:end_col].decode("utf-8", "ignore")
        last = lines[end_line - 1].encode("utf-8")[:end_col].decode("utf-8", "ignore")
        return "\n".join([first, *lines[line : end_line - 1], last])

    out = []
    for m in matches:
        prev = (m.subject.end_lineno or m.subject.lineno, m.subject.end_col_offset or 0)
        for case in m.cases:
            body = case.body[0]
            region = offset_text(prev[0], prev[1], body.lineno, body.col_offset)
            depth = deepest = 0
            for tok in _TOKENS.finditer(region):
                c = tok.group()[0]
                if c in "([{":
                    depth += 1
                    deepest = max(deepest, depth)
                elif c in ")]}":
                    depth = depth - 1 if depth > 0 else 0
            out.append((deepest, case.pattern))
            last = case.body[-1]
            prev = (last.end_lineno or last.lineno, last.end_col_offset or 0)
    return out


def _check_patterns(text: str, matches: list[ast.Match], max_depth: int, max_weight: int) -> PrescreenError | None:
    weight = 0
    for depth, pattern in _pattern_depths(text, matches):
        where = (getattr(pattern, "lineno", 1), getattr(pattern, "col_offset", 0))
        if depth > max_depth:
            return PrescreenError(
                f"case pattern nested too deep for analysis: {depth} levels of brackets; convlint's limit is {max_depth}",
                *where,
            )
        weight += 4**depth
        if weight > max_weight:
            return PrescreenError(
                f"case patterns too deep for analysis, taken together (the parser's time grows fourfold with each "
                f"level of brackets); convlint's limit is {max_weight // 4**max_depth} patterns of {max_depth} levels",
                *where,
            )
    return None


# --------------------------------------------------------------------------- the guard


def measure(text: str) -> Measure:
    """The values the bounds apply to, without the bounds (for tests and measurements).

    Raises what ``ast.parse`` raises.
    """
    tree = _parse(text)
    w = _Walk((1 << 62, 1 << 62, 1 << 62))
    w.run(tree)
    weight, count = _token_weight(text)
    return Measure(w.depth, w.statement_depth, w.statement_weight, w.file_weight + weight, w.nodes + count)


def parse_python(text: str) -> ast.AST:
    """``ast.parse`` without printing CPython's SyntaxWarnings (they are not ours to print)."""
    with warnings.catch_warnings():  # SyntaxWarning, DeprecationWarning: not ours to print
        warnings.simplefilter("ignore")
        return ast.parse(text)


_parse = parse_python


def statement_depth_error(tree: ast.AST, max_depth: int = MAX_DEPTH) -> PrescreenError | None:
    """The statement-nesting bound of :func:`prescreen` alone (an ``elif`` chain, nested blocks),
    over the statements only: what a module must pass before its top-level statements are
    indexed (the index recurses into blocks). Its expressions are screened statement by statement,
    when one is parsed (:func:`prescreen` on that statement's text)."""
    stack: list[tuple[ast.AST, int]] = [(tree, -1)]
    STMT = ast.stmt
    while stack:
        s, depth = stack.pop()
        if depth > max_depth:
            return PrescreenError(
                f"nesting too deep for analysis: statements nested {depth} levels deep (an elif chain?); convlint's limit is {max_depth}",
                getattr(s, "lineno", 1), getattr(s, "col_offset", 0),
            )
        for name in ("body", "orelse", "finalbody", "handlers", "cases"):
            v = getattr(s, name, None)
            if type(v) is not list:
                continue
            inner = depth + (1 if _is_elif(s, name, v) else 2)
            for c in v:
                if isinstance(c, STMT) or type(c) in (ast.ExceptHandler, ast.match_case):
                    stack.append((c, inner))
    return None


def prescreen(
    text: str,
    *,
    tree: ast.AST | None = None,
    max_depth: int = MAX_DEPTH,
    max_statement_weight: int = MAX_STATEMENT_WEIGHT,
    max_file_weight: int = MAX_FILE_WEIGHT,
    max_nodes: int = MAX_NODES,
) -> PrescreenError | None:
    """None when ``text`` may be given to LibCST; else why not (never raises).

    ``tree`` is ``ast.parse(text)`` when the caller already has it (it is not parsed again).
    """
    try:
        if tree is None:
            tree = _parse(text)
    except SyntaxError as exc:  # IndentationError, TabError too
        msg = exc.msg or "invalid syntax"
        line = exc.lineno or 1
        col = (exc.offset or 1) - 1
        return PrescreenError(msg, line, col)
    except RecursionError:
        return PrescreenError("nesting too deep (CPython: maximum recursion depth exceeded while parsing)")
    except MemoryError:
        return PrescreenError("nesting too deep (CPython: too complex to parse)")
    except ValueError as exc:  # null bytes
        return PrescreenError(str(exc).splitlines()[0] if str(exc) else "cannot be parsed")
    except Exception as exc:  # pragma: no cover - defensive
        return PrescreenError(f"cannot be parsed ({type(exc).__name__})")
    try:
        walk = _Walk((max_depth, max_statement_weight, max_file_weight))
        walk.run(tree)
    except (RecursionError, MemoryError):  # pragma: no cover - the walk is iterative
        return PrescreenError("nesting too deep for analysis")
    if walk.error is not None:
        return walk.error
    refused = _check_patterns(text, walk.matches, MAX_PATTERN_DEPTH, MAX_PATTERN_WEIGHT)
    if refused is not None:
        return refused
    if walk.nodes > max_nodes:
        return _too_many(walk.nodes, max_nodes)
    weight, count = _token_weight(text)
    if walk.file_weight + weight > max_file_weight:
        return _too_large(max_file_weight)
    if walk.nodes + count > max_nodes:
        return _too_many(walk.nodes + count, max_nodes)
    return None
