"""Declared inputs: ``# convlint: input=(…) output=(…) init(…)`` pragmas, jaxtyping annotations,
``[[tool.convlint.model]]`` entries and ``--input`` options, all turned into :class:`Entry` values.

A pragma goes on the line of ``class``/``def`` or on the line just above it (above decorators).
A malformed pragma raises :class:`DeclarationError`, which the analysis reports as a finding.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field

import libcst as cst

from convlint.source.files import python_lines

PRAGMA = re.compile(r"#\s*convlint\s*:\s*(?P<body>.*)$")
JAXTYPING_NAMES = {"Float", "Int", "Bool", "Shaped", "Num", "Real", "Inexact", "Complex", "UInt", "Integer", "Float32", "Float64", "Float16", "BFloat16", "Int32", "Int64", "UInt8"}


class DeclarationError(ValueError):
    def __init__(self, message: str, line: int, column: int = 1):
        super().__init__(message)
        self.message = message
        self.line = line
        self.column = column


@dataclass
class Entry:
    """One model to run: a class, a function, or the module's script code."""

    name: str  # class/function name, or "<module>"
    kind: str  # "class" | "function" | "module"
    node: cst.CSTNode | None
    inputs: object = None  # list of shapes (positional) or dict name -> shape; shapes hold ints and names
    output: tuple | None = None
    init: dict = field(default_factory=dict)
    source: str = "pragma"  # "pragma" | "config" | "jaxtyping" | "option" | "auto"
    line: int = 1
    call: dict = field(default_factory=dict)  # keyword arguments for forward / __call__ / apply
    dtypes: dict = field(default_factory=dict)  # input parameter (or position) -> dtype


def parse_shape(text: str, line: int) -> tuple:
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError:
        raise DeclarationError(f"bad shape {text.strip()!r}: expected a tuple of ints and names such as (B, 3, 64, 64)", line)
    node = tree.body
    if not isinstance(node, (ast.Tuple, ast.List)):
        raise DeclarationError(f"bad shape {text.strip()!r}: expected a tuple of ints and names", line)
    out = []
    for el in node.elts:
        if isinstance(el, ast.Constant) and isinstance(el.value, int) and not isinstance(el.value, bool) and el.value >= 0:
            out.append(el.value)
        elif isinstance(el, ast.Name):
            out.append(el.id)
        else:
            raise DeclarationError(f"bad shape {text.strip()!r}: {ast.unparse(el)!r} is neither a non-negative int nor a name", line)
    return tuple(out)


def _balanced(s: str, i: int, line: int) -> int:
    """Index just past the bracket expression starting at s[i]."""
    pairs = {"(": ")", "[": "]", "{": "}"}
    if i >= len(s) or s[i] not in pairs:
        raise DeclarationError(f"expected '(' at {s[i:i + 12]!r}", line)
    depth = 0
    quote = None
    for j in range(i, len(s)):
        c = s[j]
        if quote:
            if c == quote:
                quote = None
            continue
        if c in "'\"":
            quote = c
        elif c in "([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
            if depth == 0:
                return j + 1
    raise DeclarationError("unbalanced brackets in the convlint pragma", line)


def parse_pragma(body: str, line: int) -> dict | None:
    """``{"input": shape | {name: shape}, "output": shape, "init": {...}}``; None for other pragmas."""
    body = body.strip()
    if not body or body.startswith("ignore"):
        return None
    out: dict = {}
    i = 0
    n = len(body)
    while i < n:
        while i < n and body[i] in " \t,":
            i += 1
        if i >= n:
            break
        m = re.match(r"(input|output|init|call)\b", body[i:])
        if not m:
            word = re.match(r"\S+", body[i:]).group(0)
            raise DeclarationError(f"unknown convlint pragma key {word!r}: expected input=(…), output=(…), init(…) or call(…)", line)
        key = m.group(1)
        if key in out:
            raise DeclarationError(f"{key} is given twice", line)
        i += len(key)
        while i < n and body[i] == " ":
            i += 1
        if key in ("init", "call"):
            j = _balanced(body, i, line)
            try:
                call = ast.parse("f" + body[i:j], mode="eval").body
                if call.args:
                    raise DeclarationError(f"{key}(…) takes keyword arguments only", line)
                out[key] = {kw.arg: ast.literal_eval(kw.value) for kw in call.keywords if kw.arg}
            except (SyntaxError, ValueError) as e:
                if isinstance(e, DeclarationError):
                    raise
                raise DeclarationError(f"bad {key}(…): {body[i:j]!r} must hold name=literal pairs", line)
            i = j
        elif i < n and body[i] == "=":
            i += 1
            while i < n and body[i] == " ":
                i += 1
            j = _balanced(body, i, line)
            out[key] = parse_shape(body[i:j], line)
            i = j
        elif key == "input":
            named = {}
            while True:
                m2 = re.match(r"\s*([A-Za-z_]\w*)\s*=\s*", body[i:])
                if not m2 or m2.group(1) in ("output", "init", "call"):
                    break
                i += m2.end()
                j = _balanced(body, i, line)
                named[m2.group(1)] = parse_shape(body[i:j], line)
                i = j
                m3 = re.match(r":([A-Za-z0-9_]+)", body[i:])  # ``labels=(1,):int64``
                if m3:
                    out.setdefault("dtypes", {})[m2.group(1)] = m3.group(1)
                    i += m3.end()
            if not named:
                raise DeclarationError("input needs =(shape) or name=(shape) pairs", line)
            out["input"] = named
        else:
            raise DeclarationError(f"{key} needs =(shape)", line)
    if "input" not in out and out:
        raise DeclarationError("a convlint declaration needs input=(…)", line)
    return out or None


def pragma_lines(text: str) -> dict[int, tuple[str, int]]:
    """Line number → (pragma body, column) for every ``# convlint:`` comment (not in strings)."""
    out = {}
    if "convlint" not in text:
        return out
    import io
    import tokenize

    try:
        for tok in tokenize.generate_tokens(io.StringIO(python_lines(text)).readline):
            if tok.type == tokenize.COMMENT:
                m = PRAGMA.match(tok.string)
                if m:
                    out[tok.start[0]] = (m.group("body"), tok.start[1] + 1)
    except (tokenize.TokenError, IndentationError, SyntaxError):
        pass
    return out


def _decl_targets(tree: cst.Module):
    """(kind, name, node, owner) for classes and functions at module level and methods' classes."""
    for stmt in tree.body:
        if isinstance(stmt, cst.ClassDef):
            yield "class", stmt.name.value, stmt
        elif isinstance(stmt, cst.FunctionDef):
            yield "function", stmt.name.value, stmt


_DEF_START = re.compile(r"^(class|(?:async\s+)?def)\s+(\w+)\b", re.M)


def _all_def_lines(text: str) -> dict[tuple[str, str], list[int]]:
    """``(kind, name) -> [1-based lines]`` where each module-level ``class``/``def`` starts, in one
    pass over the text."""
    text = python_lines(text)
    out: dict[tuple[str, str], list[int]] = {}
    line, pos = 1, 0
    for m in _DEF_START.finditer(text):
        line += text.count("\n", pos, m.start())
        pos = m.start()
        out.setdefault(("class" if m.group(1) == "class" else "function", m.group(2)), []).append(line)
    return out


def _first_decorator_line(lines: list[str], line: int) -> int:
    """The line of the first decorator above ``line`` (1-based), or ``line`` itself."""
    first = line
    i = line - 2
    while i >= 0:
        stripped = lines[i].strip()
        if stripped.startswith("@"):
            first = i + 1
        elif stripped and not stripped.startswith("#") and first != line and lines[i][:1] in (" ", "\t", ")"):
            pass  # continuation of a multi-line decorator
        else:
            break
        i -= 1
    return first


def declared_entries(parsed, position=None) -> tuple[list[Entry], list[DeclarationError]]:
    """Entries declared in one parsed module, and the pragma errors found.

    Lines come from the text (no position metadata: that costs a whole-module pass).
    """
    entries: list[Entry] = []
    errors: list[DeclarationError] = []
    pragmas = pragma_lines(parsed.text)
    used: set[int] = set()
    text_lines = python_lines(parsed.text).split("\n")
    seen_count: dict = {}
    def_line: dict = {}
    all_lines = _all_def_lines(parsed.text)
    for kind, name, node in _decl_targets(parsed.tree):
        lines = all_lines.get((kind, name), [])
        k = seen_count.get((kind, name), 0)
        seen_count[(kind, name)] = k + 1
        def_line[id(node)] = lines[k] if k < len(lines) else None
    if pragmas:
        for kind, name, node in _decl_targets(parsed.tree):
            line = def_line.get(id(node))
            if line is None:
                continue
            first = _first_decorator_line(text_lines, line) if node.decorators else line
            for cand in (line, first - 1):
                if cand in pragmas and cand not in used:
                    body, _col = pragmas[cand]
                    try:
                        decl = parse_pragma(body, cand)
                    except DeclarationError as e:
                        errors.append(e)
                        used.add(cand)
                        break
                    if decl is None:
                        continue
                    used.add(cand)
                    inputs = decl["input"]
                    entries.append(Entry(name, kind, node, inputs if isinstance(inputs, dict) else [inputs], decl.get("output"), decl.get("init", {}), "pragma", line,
                                         call=decl.get("call", {}), dtypes=decl.get("dtypes", {})))
                    break
        for line, (body, col) in pragmas.items():
            if line in used:
                continue
            try:
                decl = parse_pragma(body, line)
            except DeclarationError as e:
                errors.append(e)
                continue
            if decl is not None:
                errors.append(DeclarationError("this convlint declaration is not on a class or def line, nor on the line just above one", line, col))
    if any(n + "[" in parsed.text for n in JAXTYPING_NAMES):
        declared = {e.name for e in entries}
        for kind, name, node in _decl_targets(parsed.tree):
            if name in declared:
                continue
            e = _jaxtyping_entry(kind, name, node)
            if e is not None:
                e.line = def_line.get(id(node)) or 1
                entries.append(e)
    return entries, errors


def _annotation_shape(ann) -> tuple | None:
    if not isinstance(ann, cst.Subscript):
        return None
    head = ann.value
    hname = head.attr.value if isinstance(head, cst.Attribute) else head.value if isinstance(head, cst.Name) else None
    if hname not in JAXTYPING_NAMES or len(ann.slice) != 2:
        return None
    s = ann.slice[1].slice
    if not isinstance(s, cst.Index) or not isinstance(s.value, cst.SimpleString):
        return None
    dims = []
    for tok in s.value.evaluated_value.split():
        tok = tok.lstrip("#")
        if tok.isdigit():
            dims.append(int(tok))
        elif re.fullmatch(r"[A-Za-z_]\w*", tok):
            dims.append(tok)
        else:
            return None  # variadic (*batch, ...) or expressions: rank unknown
    return tuple(dims)


def _jaxtyping_entry(kind, name, node) -> Entry | None:
    fn = None
    if kind == "class":
        for stmt in node.body.body:
            if isinstance(stmt, cst.FunctionDef) and stmt.name.value in ("forward", "__call__"):
                fn = stmt
                break
    else:
        fn = node
    if fn is None:
        return None
    params = [*fn.params.posonly_params, *fn.params.params]
    if kind == "class" and params:
        params = params[1:]
    shapes = {}
    for p in params:
        if p.annotation is None:
            continue
        shape = _annotation_shape(p.annotation.annotation)
        if shape is not None:
            shapes[p.name.value] = shape
    if not shapes:
        return None
    return Entry(name, kind, node, shapes, None, {}, "jaxtyping")
