"""The abstract interpreter: evaluates the part of Python that model code uses, on abstract values.

Framework calls are replaced by shape functions from :mod:`convlint.frameworks`; user functions
and classes are interpreted from their LibCST trees. Loops unroll up to a bound, unknown
conditions run both branches and join, and every bound that is hit yields unknowns, never a hang
or a finding. Nothing of the checked code is imported or run.
"""

from __future__ import annotations

import operator
from contextlib import contextmanager

import libcst as cst

from convlint.interpret import builtins as pybuiltins
from convlint.interpret.symbolic import Sym, is_size
from convlint.interpret.tensor import Tensor
from convlint.interpret.trace import Trace
from convlint.interpret.values import (
    MISSING,
    BoundMethod,
    ClassVal,
    ExternalRef,
    FunctionVal,
    Instance,
    PartialVal,
    Site,
    SuperVal,
    Unknown,
)

MAX_STEPS = 200_000  # per entry (a model run, a module's top level)
MAX_FILE_STEPS = 1_000_000  # per analysed file
MAX_DEPTH = 48
MAX_LOOP = 512


class BudgetExceeded(Exception):
    pass


class _Return(Exception):
    def __init__(self, value):
        self.value = value


class _Break(Exception):
    pass


class _Continue(Exception):
    pass


class _UnknownLength(Exception):
    """A starred unknown inside a literal: the literal's length is not known."""


class _Dead(Exception):
    """The path raised (``raise``) or otherwise cannot continue."""


class Scope:
    __slots__ = ("vars", "parent", "kind", "returns", "owner_cls", "self_name")

    def __init__(self, parent: Scope | None, kind: str = "function"):
        self.vars: dict = {}
        self.parent = parent
        self.kind = kind
        self.returns: list = []
        self.owner_cls = None
        self.self_name = None

    def lookup(self, name: str):
        s = self
        while s is not None:
            if name in s.vars:
                return s.vars[name]
            if s.kind == "lazy-module":
                return s.lookup(name)
            s = s.parent
        return MISSING


class LazyScope(Scope):
    """An imported module's globals, evaluated one binding statement at a time."""

    __slots__ = ("interp", "module", "index", "mutations", "stars", "done", "running")

    def __init__(self, interp, module):
        super().__init__(None, "lazy-module")
        self.interp = interp
        self.module = module
        self.vars["__name__"] = module.name
        self.vars["__file__"] = module.path
        self.index: dict[str, list[int]] = {}
        self.mutations: dict[str, list[int]] = {}
        self.stars: list[int] = []
        self.done: set[int] = set()
        self.running: set[int] = set()
        for i, stmt in enumerate(module.tree.body):
            for name in _bound_names(stmt, self.stars, i):
                self.index.setdefault(name, []).append(i)
            for name in _mutated_names(stmt):
                self.mutations.setdefault(name, []).append(i)

    def lookup(self, name: str):
        if name not in self.vars:
            self.resolve(name)
        return self.vars.get(name, MISSING)

    def resolve(self, name: str) -> None:
        idxs = self.index.get(name)
        if not idxs:
            for i in self.stars:  # perhaps from ``from x import *``
                self.run(i)
            return
        last = idxs[-1]
        self.run(last)
        for i in self.mutations.get(name, ()):
            if i > last:
                self.run(i)

    def resolve_all(self) -> None:
        for i in range(len(self.module.tree.body)):
            self.run(i)

    def run(self, i: int) -> None:
        if i in self.done or i in self.running:
            return
        self.running.add(i)
        interp = self.interp
        saved_trace, saved_steps = interp.trace, interp.steps
        interp.trace = Trace()
        try:
            with interp.in_module(self.module):
                try:
                    interp.exec_stmt(self.module.tree.body[i], self)
                except (_Return, _Break, _Continue, _Dead):
                    pass
                except BudgetExceeded:
                    self.module.incomplete = True
        finally:
            interp.trace, interp.steps = saved_trace, saved_steps
            self.running.discard(i)
            self.done.add(i)


def _target_names(t) -> list[str]:
    if isinstance(t, cst.Name):
        return [t.value]
    if isinstance(t, (cst.Tuple, cst.List)):
        return [n for e in t.elements for n in _target_names(e.value)]
    if isinstance(t, cst.StarredElement):
        return _target_names(t.value)
    return []


def _root_name(node) -> str | None:
    while isinstance(node, (cst.Attribute, cst.Subscript)):
        node = node.value
    return node.value if isinstance(node, cst.Name) else None


def _bound_names(stmt, stars: list, index: int) -> list[str]:
    """Names a top-level statement binds (looking into if/try/with/for, not into defs)."""
    if isinstance(stmt, (cst.FunctionDef, cst.ClassDef)):
        return [stmt.name.value]
    if isinstance(stmt, cst.SimpleStatementLine):
        out = []
        for s in stmt.body:
            if isinstance(s, cst.Assign):
                for t in s.targets:
                    out += _target_names(t.target)
            elif isinstance(s, (cst.AnnAssign, cst.AugAssign)):
                out += _target_names(s.target)
            elif isinstance(s, cst.Import):
                for a in s.names:
                    out.append(a.asname.name.value if a.asname is not None else _dotted(a.name).split(".")[0])
            elif isinstance(s, cst.ImportFrom):
                if isinstance(s.names, cst.ImportStar):
                    stars.append(index)
                else:
                    for a in s.names:
                        out.append(a.asname.name.value if a.asname is not None else _dotted(a.name))
        return out
    out = []
    for block in _blocks(stmt):
        for inner in block:
            out += _bound_names(inner, stars, index)
    if isinstance(stmt, cst.For):
        out += _target_names(stmt.target)
    if isinstance(stmt, cst.With):
        for item in stmt.items:
            if item.asname is not None:
                out += _target_names(item.asname.name)
    return out


def _mutated_names(stmt) -> list[str]:
    """Names a top-level statement mutates in place: ``REG["a"] = A``, ``REG.update(...)``."""
    out = []
    if isinstance(stmt, cst.SimpleStatementLine):
        for s in stmt.body:
            if isinstance(s, cst.Assign):
                for t in s.targets:
                    if isinstance(t.target, (cst.Subscript, cst.Attribute)):
                        r = _root_name(t.target)
                        if r:
                            out.append(r)
            elif isinstance(s, cst.AugAssign):
                out += _target_names(s.target)
            elif isinstance(s, cst.Expr) and isinstance(s.value, cst.Call) and isinstance(s.value.func, cst.Attribute):
                r = _root_name(s.value.func.value)
                if r:
                    out.append(r)
    else:
        for block in _blocks(stmt):
            for inner in block:
                out += _mutated_names(inner)
    return out


def _blocks(stmt) -> list:
    """The statement lists of a compound top-level statement (not functions or classes)."""
    out = []
    if isinstance(stmt, (cst.If, cst.For, cst.While, cst.With, cst.Try, cst.TryStar)):
        body = getattr(stmt, "body", None)
        if body is not None and hasattr(body, "body"):
            out.append(body.body)
        orelse = getattr(stmt, "orelse", None)
        while orelse is not None:
            if isinstance(orelse, cst.If):
                out.append(orelse.body.body)
                orelse = orelse.orelse
            else:
                out.append(orelse.body.body)
                orelse = None
        for h in getattr(stmt, "handlers", ()) or ():
            out.append(h.body.body)
        fin = getattr(stmt, "finalbody", None)
        if fin is not None:
            out.append(fin.body.body)
    return out


_BINOPS = {
    cst.Add: operator.add,
    cst.Subtract: operator.sub,
    cst.Multiply: operator.mul,
    cst.Divide: operator.truediv,
    cst.FloorDivide: operator.floordiv,
    cst.Modulo: operator.mod,
    cst.Power: operator.pow,
    cst.LeftShift: operator.lshift,
    cst.RightShift: operator.rshift,
    cst.BitOr: operator.or_,
    cst.BitAnd: operator.and_,
    cst.BitXor: operator.xor,
    cst.MatrixMultiply: operator.matmul,
}
_AUGOPS = {
    cst.AddAssign: cst.Add,
    cst.SubtractAssign: cst.Subtract,
    cst.MultiplyAssign: cst.Multiply,
    cst.DivideAssign: cst.Divide,
    cst.FloorDivideAssign: cst.FloorDivide,
    cst.ModuloAssign: cst.Modulo,
    cst.PowerAssign: cst.Power,
    cst.LeftShiftAssign: cst.LeftShift,
    cst.RightShiftAssign: cst.RightShift,
    cst.BitOrAssign: cst.BitOr,
    cst.BitAndAssign: cst.BitAnd,
    cst.BitXorAssign: cst.BitXor,
    cst.MatrixMultiplyAssign: cst.MatrixMultiply,
}
_CMPOPS = {
    cst.Equal: operator.eq,
    cst.NotEqual: operator.ne,
    cst.LessThan: operator.lt,
    cst.LessThanEqual: operator.le,
    cst.GreaterThan: operator.gt,
    cst.GreaterThanEqual: operator.ge,
}


def is_known(v, depth: int = 0) -> bool:
    """True when ``v`` holds no Unknown (looking into tuples, lists and dicts)."""
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


def _plain(v) -> bool:
    """A value Python arithmetic may be applied to directly."""
    return isinstance(v, (int, float, str, bytes, bool, type(None), complex))


def join(a, b):
    """The value of a name after two paths met: equal values stay, others become unknown."""
    if a is b:
        return a
    if a is MISSING:
        return b
    if b is MISSING:
        return a
    if isinstance(a, Unknown):
        return a
    if isinstance(b, Unknown):
        return b
    try:
        if type(a) is type(b) and _plain(a) and a == b:
            return a
    except Exception:  # pragma: no cover
        pass
    if isinstance(a, tuple) and isinstance(b, tuple) and len(a) == len(b):
        return tuple(join(x, y) for x, y in zip(a, b))
    if isinstance(a, Sym) and isinstance(b, Sym) and a == b:
        return a
    if isinstance(a, Tensor) and isinstance(b, Tensor):
        if a.shape is not None and b.shape is not None and len(a.shape) == len(b.shape):
            shape = tuple(x if (x == y and type(x) is type(y)) else Unknown("differs between branches") for x, y in zip(a.shape, b.shape))
            return a.derive(shape, pending=tuple(set(a.pending) | set(b.pending)))
        return a.derive(None)
    return Unknown("differs between branches")


class Interpreter:
    """Evaluates modules, classes and functions of one project on abstract values."""

    def __init__(self, project, frameworks, trace: Trace | None = None):
        self.project = project
        self.fw = frameworks
        self.trace = trace or Trace()
        self.steps = 0
        self.total_steps = 0  # across every entry of one file: bounds the file's analysis time
        self.depth = 0
        self.active_calls: set = set()
        self.current_module = None

    # ------------------------------------------------------------------ budget / helpers
    def tick(self, n: int = 1) -> None:
        self.steps += n
        self.total_steps += n
        if self.steps > MAX_STEPS:
            raise BudgetExceeded("step budget exhausted")
        if self.total_steps > MAX_FILE_STEPS:
            raise BudgetExceeded("the file's step budget is exhausted")

    def site(self, node: cst.CSTNode, module=None) -> Site:
        return Site(module or self.current_module, node)

    @contextmanager
    def in_module(self, module):
        prev = self.current_module
        self.current_module = module
        try:
            yield
        finally:
            self.current_module = prev

    # ------------------------------------------------------------------ modules
    def module_globals(self, module) -> Scope:
        """The module's global scope.

        The analysed file runs its whole top level (it is script code too). An imported module is
        evaluated lazily: a name is looked up by running only the top-level statement that binds
        it (and the later ones that mutate it) — importing a package must not mean interpreting
        everything it imports, transitively.
        """
        if module.scope is not None:
            return module.scope
        if not getattr(module, "main", False):
            module.scope = LazyScope(self, module)
            return module.scope
        scope = Scope(None, "module")
        scope.vars["__name__"] = module.name
        scope.vars["__file__"] = module.path
        module.scope = scope
        # an imported module's top level runs on a scratch trace: only the analysed file's
        # script code is a `<module>` entry of its own
        saved_trace = self.trace
        if not getattr(module, "main", False):
            self.trace = Trace()
        saved_steps = self.steps
        try:
            with self.in_module(module):
                try:
                    self.exec_block(module.tree.body, scope)
                except (_Return, _Break, _Continue, _Dead):
                    pass
                except BudgetExceeded:
                    module.incomplete = True
        finally:
            if not getattr(module, "main", False):
                self.trace = saved_trace
                self.steps = saved_steps
        return scope

    def import_module(self, dotted: str, level: int = 0, importer=None):
        """A module value: a project module (interpreted), a catalogue module, or an ExternalRef."""
        if level == 0:
            fwmod = self.fw.module(dotted)
            if fwmod is not None:
                return fwmod
        info = self.project.find_module(dotted, level, importer or self.current_module)
        if info is not None:
            return info
        if level == 0:
            return ExternalRef(dotted)
        return Unknown(f"module {'.' * level}{dotted} not found")

    def module_attr(self, module, name: str):
        scope = self.module_globals(module)
        v = scope.lookup(name)
        if v is MISSING:
            sub = self.project.find_module(name, 1, module, package_of=True)
            if sub is not None:
                return sub
            return Unknown(f"{module.name}.{name} not found")
        return v

    # ------------------------------------------------------------------ statements
    def exec_block(self, body, scope: Scope) -> None:
        for stmt in body:
            self.exec_stmt(stmt, scope)

    def exec_stmt(self, stmt, scope: Scope) -> None:
        self.tick()
        if isinstance(stmt, cst.SimpleStatementLine):
            for small in stmt.body:
                self.exec_small(small, scope)
            return
        method = getattr(self, "_stmt_" + type(stmt).__name__, None)
        if method is not None:
            method(stmt, scope)

    def exec_small(self, s, scope: Scope) -> None:
        if isinstance(s, cst.Expr):
            self.eval(s.value, scope)
        elif isinstance(s, cst.Assign):
            value = self.eval(s.value, scope)
            for t in s.targets:
                self.assign(t.target, value, scope)
        elif isinstance(s, cst.AnnAssign):
            if s.value is not None:
                self.assign(s.target, self.eval(s.value, scope), scope)
        elif isinstance(s, cst.AugAssign):
            cur = self.eval(s.target, scope)
            rhs = self.eval(s.value, scope)
            opcls = _AUGOPS.get(type(s.operator))
            if isinstance(cur, list) and isinstance(s.operator, cst.AddAssign):
                if isinstance(rhs, (list, tuple)):
                    cur.extend(rhs)
                else:
                    cur.append(Unknown("extended by an unknown"))
                return
            value = self.binop(opcls, cur, rhs, s) if opcls else Unknown("augmented assignment")
            self.assign(s.target, value, scope)
        elif isinstance(s, cst.Return):
            raise _Return(self.eval(s.value, scope) if s.value is not None else None)
        elif isinstance(s, cst.Break):
            raise _Break()
        elif isinstance(s, cst.Continue):
            raise _Continue()
        elif isinstance(s, cst.Raise):
            raise _Dead()
        elif isinstance(s, cst.Import):
            for alias in s.names:
                dotted = _dotted(alias.name)
                if alias.asname is not None:
                    scope.vars[alias.asname.name.value] = self.import_module(dotted)
                else:
                    top = dotted.split(".")[0]
                    scope.vars[top] = self.import_module(top)
                    if "." in dotted:
                        self.import_module(dotted)
        elif isinstance(s, cst.ImportFrom):
            self._import_from(s, scope)
        elif isinstance(s, cst.Del):
            pass
        elif isinstance(s, cst.Assert):
            if self.truth(self.eval(s.test, scope)) is False:
                raise _Dead()  # the assertion fails: this path stops as Python would
        elif isinstance(s, (cst.Global, cst.Nonlocal, cst.Pass)):
            pass

    def _import_from(self, s: cst.ImportFrom, scope: Scope) -> None:
        level = len(s.relative)
        dotted = _dotted(s.module) if s.module is not None else ""
        base = self.import_module(dotted, level) if (dotted or level) else Unknown("import")
        if isinstance(s.names, cst.ImportStar):
            if hasattr(base, "tree"):
                g = self.module_globals(base)
                if isinstance(g, LazyScope):
                    g.resolve_all()
                for k, v in g.vars.items():
                    if not k.startswith("_"):
                        scope.vars[k] = v
            return
        for alias in s.names:
            name = _dotted(alias.name)
            bind = alias.asname.name.value if alias.asname is not None else name
            scope.vars[bind] = self.getattr(base, name, None, import_from=True)

    def _stmt_FunctionDef(self, node: cst.FunctionDef, scope: Scope) -> None:
        defaults = {}
        params = node.params
        for p in (*params.posonly_params, *params.params, *params.kwonly_params):
            if p.default is not None:
                defaults[p.name.value] = self.eval(p.default, scope)
        decos = tuple(_deco_name(d.decorator) for d in node.decorators)
        closure = scope.parent if scope.kind == "class" else scope
        owner = scope.owner_cls if scope.kind == "class" else None
        qual = f"{owner.name}.{node.name.value}" if owner is not None else node.name.value
        fn = FunctionVal(node, self.current_module, closure, defaults, node.name.value, qual, owner, decos)
        value = fn
        for d in node.decorators:
            dn = _deco_name(d.decorator)
            if dn.endswith("property"):
                value = ("property", fn)
            elif dn.endswith("staticmethod"):
                value = ("staticmethod", fn)
            elif dn.endswith("classmethod"):
                value = ("classmethod", fn)
        scope.vars[node.name.value] = value

    def _stmt_ClassDef(self, node: cst.ClassDef, scope: Scope) -> None:
        bases = [self.eval(b.value, scope) for b in node.bases]
        cls = ClassVal(node, self.current_module, node.name.value, bases)
        cls.framework = self.fw.module_framework(bases)
        body = Scope(scope, "class")
        body.owner_cls = cls
        scope.vars[node.name.value] = cls  # visible to methods (recursion) while the body runs
        try:
            self.exec_block(node.body.body if isinstance(node.body, cst.IndentedBlock) else [node.body], body)
        except (_Return, _Break, _Continue, _Dead):
            pass
        for k, v in body.vars.items():
            cls.attrs[k] = v
        # flax dataclass fields: annotated names in order; a default is the class attribute
        inherited = []
        for b in reversed(cls.mro()[1:]):
            for f in b.fields:
                if f[0] not in [x[0] for x in inherited]:
                    inherited.append(f)
        own = []
        for stmt in node.body.body if isinstance(node.body, cst.IndentedBlock) else []:
            if isinstance(stmt, cst.SimpleStatementLine):
                for small in stmt.body:
                    if isinstance(small, cst.AnnAssign) and isinstance(small.target, cst.Name):
                        name = small.target.value
                        own.append((name, cls.attrs.get(name, MISSING) if small.value is not None else MISSING))
        names = [f[0] for f in own]
        cls.fields = [f for f in inherited if f[0] not in names] + own
        if any(_deco_name(d.decorator).split(".")[-1] == "dataclass" for d in node.decorators):
            cls.attrs.setdefault("__dataclass__", True)

    def _stmt_If(self, node: cst.If, scope: Scope) -> None:
        cond = self.truth(self.eval(node.test, scope))
        orelse = node.orelse
        if cond is True:
            self.exec_block(node.body.body, scope)
        elif cond is False:
            if isinstance(orelse, cst.If):
                self._stmt_If(orelse, scope)
            elif isinstance(orelse, cst.Else):
                self.exec_block(orelse.body.body, scope)
        else:
            def run_a():
                self.exec_block(node.body.body, scope)

            def run_b():
                if isinstance(orelse, cst.If):
                    self._stmt_If(orelse, scope)
                elif isinstance(orelse, cst.Else):
                    self.exec_block(orelse.body.body, scope)

            self.branch(scope, run_a, run_b)

    def branch(self, scope: Scope, run_a, run_b) -> None:
        """Run two alternative paths from the same state and join what they leave behind."""
        objs = self._mutable_roots(scope)
        before = self._snapshot(scope, objs)
        results = []
        for run in (run_a, run_b):
            self._restore(scope, objs, before)
            status, value = "ok", None
            try:
                run()
            except _Return as r:
                status, value = "return", r.value
            except _Dead:
                status = "dead"
            except (_Break, _Continue) as e:
                status, value = "jump", e
            results.append((status, value, self._snapshot(scope, objs)))
        live = [r for r in results if r[0] == "ok"]
        rets = [r for r in results if r[0] == "return"]
        if not live:
            if rets and len(rets) == 2:
                self._restore(scope, objs, rets[0][2])
                self._merge_into(scope, objs, rets[1][2])
                raise _Return(join(rets[0][1], rets[1][1]))
            if rets:
                self._restore(scope, objs, rets[0][2])
                raise _Return(rets[0][1])
            jumps = [r for r in results if r[0] == "jump"]
            if jumps:
                self._restore(scope, objs, jumps[0][2])
                raise jumps[0][1]
            raise _Dead()
        for r in rets:
            scope.returns.append(r[1])
        self._restore(scope, objs, live[0][2])
        for r in live[1:]:
            self._merge_into(scope, objs, r[2])

    def _mutable_roots(self, scope: Scope) -> list:
        roots = []
        seen = set()
        for v in list(scope.vars.values()):
            for o in self._reachable(v, 0):
                if id(o) not in seen:
                    seen.add(id(o))
                    roots.append(o)
        return roots

    def _reachable(self, v, depth):
        if depth > 2:
            return
        if isinstance(v, (list, dict)):
            yield v
            vals = v if isinstance(v, list) else list(v.values())
            for x in vals[:64]:
                yield from self._reachable(x, depth + 1)
        elif isinstance(v, Instance):
            yield v
            for x in list(v.attrs.values())[:64]:
                if isinstance(x, (list, dict)):
                    yield from self._reachable(x, depth + 1)

    def _snapshot(self, scope: Scope, objs):
        snap = {}
        for o in objs:
            if isinstance(o, list):
                snap[id(o)] = list(o)
            elif isinstance(o, dict):
                snap[id(o)] = dict(o)
            elif isinstance(o, Instance):
                snap[id(o)] = dict(o.attrs)
        return dict(scope.vars), snap

    def _restore(self, scope: Scope, objs, state) -> None:
        vars_, snap = state
        scope.vars.clear()
        scope.vars.update(vars_)
        for o in objs:
            s = snap.get(id(o))
            if s is None:
                continue
            if isinstance(o, list):
                o[:] = s
            elif isinstance(o, dict):
                o.clear()
                o.update(s)
            elif isinstance(o, Instance):
                o.attrs.clear()
                o.attrs.update(s)

    def _merge_into(self, scope: Scope, objs, other) -> None:
        vars_, snap = other
        for k in set(scope.vars) | set(vars_):
            scope.vars[k] = join(scope.vars.get(k, MISSING), vars_.get(k, MISSING))
        for o in objs:
            s = snap.get(id(o))
            if s is None:
                continue
            if isinstance(o, list):
                if len(o) == len(s):
                    o[:] = [join(a, b) for a, b in zip(o, s)]
                else:
                    o[:] = [Unknown("list differs between branches")]
            elif isinstance(o, dict):
                for k in set(o) | set(s):
                    o[k] = join(o.get(k, MISSING), s.get(k, MISSING))
            elif isinstance(o, Instance):
                for k in set(o.attrs) | set(s):
                    o.attrs[k] = join(o.attrs.get(k, MISSING), s.get(k, MISSING))

    def _stmt_For(self, node: cst.For, scope: Scope) -> None:
        it = self.eval(node.iter, scope)
        items = self.iterate(it)
        if items is None:
            # unknown iterable: the body may run zero or more times
            def once():
                self.assign(node.target, Unknown("element of an unknown iterable"), scope)
                try:
                    self.exec_block(node.body.body, scope)
                except (_Break, _Continue):
                    pass

            self.branch(scope, once, lambda: None)
            return
        broke = False
        for n, item in enumerate(items):
            if n >= MAX_LOOP:
                self.trace.incomplete = "loop bound"
                raise BudgetExceeded("loop bound")
            self.tick()
            self.assign(node.target, item, scope)
            try:
                self.exec_block(node.body.body, scope)
            except _Break:
                broke = True
                break
            except _Continue:
                continue
        if not broke and node.orelse is not None:
            self.exec_block(node.orelse.body.body, scope)

    def _stmt_While(self, node: cst.While, scope: Scope) -> None:
        for n in range(MAX_LOOP + 1):
            self.tick()
            cond = self.truth(self.eval(node.test, scope))
            if cond is False:
                if node.orelse is not None:
                    self.exec_block(node.orelse.body.body, scope)
                return
            if cond is None:
                def once():
                    try:
                        self.exec_block(node.body.body, scope)
                    except (_Break, _Continue):
                        pass

                self.branch(scope, once, lambda: None)
                return
            try:
                self.exec_block(node.body.body, scope)
            except _Break:
                return
            except _Continue:
                continue
        raise BudgetExceeded("while bound")

    def _stmt_With(self, node: cst.With, scope: Scope) -> None:
        for item in node.items:
            v = self.eval(item.item, scope)
            if item.asname is not None:
                self.assign(item.asname.name, Unknown("context manager value") if not isinstance(v, Tensor) else v, scope)
        self.exec_block(node.body.body, scope)

    def _stmt_Try(self, node, scope: Scope) -> None:
        try:
            self.exec_block(node.body.body, scope)
            if node.orelse is not None:
                self.exec_block(node.orelse.body.body, scope)
        finally:
            if node.finalbody is not None:
                self.exec_block(node.finalbody.body.body, scope)

    _stmt_TryStar = _stmt_Try

    def _stmt_Match(self, node, scope: Scope) -> None:
        for case in node.cases:
            for name in _assigned_names(case.body):
                scope.vars[name] = Unknown("assigned in a match statement")

    # ------------------------------------------------------------------ assignment
    def assign(self, target, value, scope: Scope) -> None:
        if isinstance(target, cst.Name):
            scope.vars[target.value] = value
        elif isinstance(target, (cst.Tuple, cst.List)):
            elts = target.elements
            star = [i for i, e in enumerate(elts) if isinstance(e, cst.StarredElement)]
            items = self.iterate(value)
            if items is None or (not star and len(items) != len(elts)) or (star and len(items) < len(elts) - 1):
                for e in elts:
                    self.assign(e.value, Unknown("unpacking an unknown value"), scope)
                return
            if star:
                si = star[0]
                after = len(elts) - si - 1
                for e, v in zip(elts[:si], items[:si]):
                    self.assign(e.value, v, scope)
                self.assign(elts[si].value, list(items[si : len(items) - after]), scope)
                for e, v in zip(elts[si + 1 :], items[len(items) - after :]):
                    self.assign(e.value, v, scope)
            else:
                for e, v in zip(elts, items):
                    self.assign(e.value, v, scope)
        elif isinstance(target, cst.Attribute):
            obj = self.eval(target.value, scope)
            self.setattr(obj, target.attr.value, value)
        elif isinstance(target, cst.Subscript):
            obj = self.eval(target.value, scope)
            if len(target.slice) == 1 and isinstance(target.slice[0].slice, cst.Index):
                key = self.eval(target.slice[0].slice.value, scope)
                if isinstance(obj, dict) and is_known(key) and _hashable(key):
                    obj[key] = value
                elif isinstance(obj, list) and isinstance(key, int) and -len(obj) <= key < len(obj):
                    obj[key] = value
                elif isinstance(obj, dict):
                    for k in list(obj):
                        obj[k] = join(obj[k], value)
        elif isinstance(target, cst.StarredElement):
            self.assign(target.value, value, scope)

    def setattr(self, obj, name: str, value) -> None:
        if isinstance(obj, Instance):
            obj.attrs[name] = value
            self.fw.on_setattr(self, obj, name, value)
        elif isinstance(obj, ClassVal):
            obj.attrs[name] = value
        else:
            self.fw.setattr_other(self, obj, name, value)

    # ------------------------------------------------------------------ expressions
    def eval(self, node, scope: Scope):
        method = getattr(self, "_ex_" + type(node).__name__, None)
        if method is None:
            return Unknown(f"unsupported expression {type(node).__name__}")
        return method(node, scope)

    def _ex_Integer(self, node, scope):
        return node.evaluated_value

    def _ex_Float(self, node, scope):
        return node.evaluated_value

    def _ex_Imaginary(self, node, scope):
        return Unknown("complex literal")

    def _ex_SimpleString(self, node, scope):
        try:
            return node.evaluated_value
        except Exception:
            return Unknown("string literal")

    def _ex_ConcatenatedString(self, node, scope):
        try:
            v = node.evaluated_value
            return v if v is not None else Unknown("f-string")
        except Exception:
            return Unknown("string literal")

    def _ex_FormattedString(self, node, scope):
        parts = []
        for p in node.parts:
            if isinstance(p, cst.FormattedStringText):
                parts.append(p.value)
            else:
                v = self.eval(p.expression, scope)
                if p.format_spec or p.conversion or not isinstance(v, (int, str)) or isinstance(v, bool):
                    return Unknown("f-string")
                parts.append(str(v))
        return "".join(parts)

    def _ex_Ellipsis(self, node, scope):
        return Ellipsis

    def _ex_Name(self, node: cst.Name, scope: Scope):
        name = node.value
        v = scope.lookup(name)
        if v is MISSING:
            v = pybuiltins.BUILTINS.get(name, MISSING)
            if v is MISSING:
                if name in ("True", "False", "None"):
                    return {"True": True, "False": False, "None": None}[name]
                return Unknown(f"name {name!r} is not defined here")
        if isinstance(v, tuple) and len(v) == 2 and v[0] in ("property", "staticmethod", "classmethod") and isinstance(v[1], FunctionVal):
            return v[1]
        return v

    def _ex_Attribute(self, node: cst.Attribute, scope: Scope):
        obj = self.eval(node.value, scope)
        return self.getattr(obj, node.attr.value, node)

    def getattr(self, obj, name: str, node=None, import_from: bool = False):
        if isinstance(obj, Unknown):
            return obj
        if hasattr(obj, "tree") and hasattr(obj, "scope"):  # a project module
            return self.module_attr(obj, name)
        if isinstance(obj, ExternalRef):
            fwv = self.fw.lookup(obj.qualname + "." + name)
            if fwv is not None:
                return fwv
            if import_from:
                sub = self.fw.module(obj.qualname + "." + name)
                if sub is not None:
                    return sub
            return ExternalRef(obj.qualname + "." + name)
        fwattr = self.fw.getattr(self, obj, name)
        if fwattr is not MISSING:
            return fwattr
        if isinstance(obj, Instance):
            if name in obj.attrs:
                return obj.attrs[name]
            if name == "__class__":
                return obj.cls
            v, _owner = obj.cls.lookup(name)
            if v is MISSING:
                if obj.cls.framework == "flax" and not obj.setup_done:
                    self.fw.run_setup(self, obj)
                    if name in obj.attrs:
                        return obj.attrs[name]
                return self.fw.instance_attr_missing(self, obj, name)
            return self._bind(v, obj)
        if isinstance(obj, ClassVal):
            v, _owner = obj.lookup(name)
            if v is MISSING:
                return Unknown(f"{obj.name}.{name} is not defined")
            if isinstance(v, tuple) and len(v) == 2 and v[0] in ("staticmethod", "classmethod", "property"):
                if v[0] == "classmethod":
                    return BoundMethod(v[1], obj)
                return v[1]
            return v
        if isinstance(obj, SuperVal):
            mro = obj.self_val.cls.mro() if isinstance(obj.self_val, Instance) else []
            try:
                start = mro.index(obj.cls) + 1
            except ValueError:
                start = len(mro)
            for c in mro[start:]:
                if name in c.attrs:
                    return self._bind(c.attrs[name], obj.self_val)
            return self.fw.super_attr(self, obj, name)
        if isinstance(obj, BoundMethod) or isinstance(obj, FunctionVal):
            return Unknown(f"attribute {name} of a function")
        return pybuiltins.attr_of(self, obj, name)

    def _bind(self, v, self_val):
        if isinstance(v, FunctionVal):
            return BoundMethod(v, self_val)
        if isinstance(v, tuple) and len(v) == 2 and v[0] in ("property", "staticmethod", "classmethod"):
            if v[0] == "property":
                return self.call(v[1], [self_val], {}, None)
            if v[0] == "classmethod":
                return BoundMethod(v[1], self_val.cls if isinstance(self_val, Instance) else self_val)
            return v[1]
        return v

    def _ex_Subscript(self, node: cst.Subscript, scope: Scope):
        obj = self.eval(node.value, scope)
        keys = []
        for el in node.slice:
            s = el.slice
            if isinstance(s, cst.Index):
                if s.star is not None:
                    keys.append(Unknown("starred index"))
                else:
                    keys.append(self.eval(s.value, scope))
            else:
                lo = self.eval(s.lower, scope) if s.lower is not None else None
                hi = self.eval(s.upper, scope) if s.upper is not None else None
                st = self.eval(s.step, scope) if s.step is not None else None
                if all(isinstance(x, (int, type(None))) and not isinstance(x, bool) for x in (lo, hi, st)):
                    keys.append(slice(lo, hi, st))
                else:
                    keys.append(("slice", lo, hi, st))
        key = keys[0] if len(keys) == 1 else tuple(keys)
        return self.subscript(obj, key, node)

    def subscript(self, obj, key, node=None):
        if isinstance(obj, Unknown):
            return obj
        fwv = self.fw.subscript(self, obj, key, node)
        if fwv is not MISSING:
            return fwv
        if isinstance(obj, (list, tuple, str)):
            if isinstance(key, (int, slice)) and not isinstance(key, bool):
                try:
                    return obj[key]
                except IndexError:
                    return Unknown("index out of range")
            return Unknown("unknown index")
        if isinstance(obj, dict):
            if is_known(key) and _hashable(key):
                if key in obj:
                    return obj[key]
                return Unknown(f"key {key!r} not in dict")
            return Unknown("unknown key")
        if isinstance(obj, Instance):
            fn, _ = obj.cls.lookup("__getitem__")
            if isinstance(fn, FunctionVal):
                return self.call(fn, [obj, key], {}, node)
        return Unknown("subscript of an unsupported value")

    def _ex_Tuple(self, node: cst.Tuple, scope: Scope):
        try:
            return tuple(self._elements(node.elements, scope))
        except _UnknownLength:
            return Unknown("a tuple with a starred unknown: its length is not known")

    def _ex_List(self, node: cst.List, scope: Scope):
        try:
            return list(self._elements(node.elements, scope))
        except _UnknownLength:
            return Unknown("a list with a starred unknown: its length is not known")

    def _ex_Set(self, node: cst.Set, scope: Scope):
        try:
            items = self._elements(node.elements, scope)
        except _UnknownLength:
            return Unknown("set")
        if all(is_known(x) and _hashable(x) for x in items):
            return set(items)
        return Unknown("set of unknowns")

    def _elements(self, elements, scope):
        out = []
        for e in elements:
            if isinstance(e, cst.StarredElement):
                v = self.eval(e.value, scope)
                items = self.iterate(v)
                if items is None:
                    raise _UnknownLength()
                else:
                    out.extend(items)
            else:
                out.append(self.eval(e.value, scope))
        return out

    def _ex_Dict(self, node: cst.Dict, scope: Scope):
        out = {}
        for e in node.elements:
            if isinstance(e, cst.StarredDictElement):
                v = self.eval(e.value, scope)
                if isinstance(v, dict):
                    out.update(v)
                else:
                    return Unknown("** of an unknown mapping")
            else:
                k = self.eval(e.key, scope)
                v = self.eval(e.value, scope)
                if not (is_known(k) and _hashable(k)):
                    return Unknown("dict with an unknown key")
                out[k] = v
        return out

    def _ex_IfExp(self, node: cst.IfExp, scope: Scope):
        cond = self.truth(self.eval(node.test, scope))
        if cond is True:
            return self.eval(node.body, scope)
        if cond is False:
            return self.eval(node.orelse, scope)
        return join(self.eval(node.body, scope), self.eval(node.orelse, scope))

    def _ex_NamedExpr(self, node: cst.NamedExpr, scope: Scope):
        v = self.eval(node.value, scope)
        self.assign(node.target, v, scope)
        return v

    def _ex_Await(self, node, scope):
        return self.eval(node.expression, scope)

    def _ex_Yield(self, node, scope):
        return Unknown("yield")

    def _ex_Lambda(self, node: cst.Lambda, scope: Scope):
        defaults = {}
        for p in (*node.params.posonly_params, *node.params.params, *node.params.kwonly_params):
            if p.default is not None:
                defaults[p.name.value] = self.eval(p.default, scope)
        return FunctionVal(node, self.current_module, scope, defaults, "<lambda>", "<lambda>")

    def _ex_UnaryOperation(self, node: cst.UnaryOperation, scope: Scope):
        v = self.eval(node.expression, scope)
        op = node.operator
        if isinstance(op, cst.Not):
            t = self.truth(v)
            return Unknown("not of an unknown") if t is None else (not t)
        if isinstance(v, Unknown):
            return v
        if isinstance(v, Tensor):
            return v
        try:
            if isinstance(op, cst.Minus):
                return -v
            if isinstance(op, cst.Plus):
                return +v
            if isinstance(op, cst.BitInvert):
                return ~v
        except Exception:
            return Unknown("unary operation failed")
        return Unknown("unary operation")

    def _ex_BinaryOperation(self, node: cst.BinaryOperation, scope: Scope):
        left = self.eval(node.left, scope)
        right = self.eval(node.right, scope)
        return self.binop(type(node.operator), left, right, node)

    def binop(self, opcls, left, right, node):
        if isinstance(left, Tensor) or isinstance(right, Tensor):
            return self.fw.tensor_binop(self, opcls, left, right, self.site(node) if node is not None else None)
        if isinstance(left, Unknown):
            return left
        if isinstance(right, Unknown):
            return right
        fn = _BINOPS.get(opcls)
        if fn is None:
            return Unknown("operator")
        if isinstance(left, Sym) or isinstance(right, Sym):
            if opcls in (cst.Add, cst.Subtract, cst.Multiply, cst.FloorDivide, cst.Modulo):
                try:
                    r = fn(left, right)
                    return r if r is not NotImplemented else Unknown("symbolic arithmetic")
                except Exception:
                    return Unknown("symbolic arithmetic")
            return Unknown("symbolic arithmetic")
        if isinstance(left, (list, tuple, str, int, float, bool, type(None), dict, set)) and isinstance(
            right, (list, tuple, str, int, float, bool, type(None), dict, set)
        ):
            try:
                if opcls is cst.Power and isinstance(right, int) and abs(right) > 64:
                    return Unknown("large power")
                if opcls is cst.Multiply and isinstance(left, (list, tuple, str)) and isinstance(right, int) and right * len(left) > 100_000:
                    return Unknown("large repetition")
                if opcls is cst.Multiply and isinstance(right, (list, tuple, str)) and isinstance(left, int) and left * len(right) > 100_000:
                    return Unknown("large repetition")
                r = fn(left, right)
                if isinstance(r, list) and (r is left or r is right):
                    r = list(r)
                return r
            except Exception:
                return Unknown("arithmetic error")
        if isinstance(left, Instance) or isinstance(right, Instance):
            return self.fw.instance_binop(self, opcls, left, right, node)
        return Unknown("operator on unsupported values")

    def _ex_BooleanOperation(self, node: cst.BooleanOperation, scope: Scope):
        left = self.eval(node.left, scope)
        t = self.truth(left)
        if isinstance(node.operator, cst.And):
            if t is False:
                return left
            if t is True:
                return self.eval(node.right, scope)
            right = self.eval(node.right, scope)
            return Unknown("and of an unknown") if self.truth(right) is not False else right
        if t is True:
            return left
        if t is False:
            return self.eval(node.right, scope)
        right = self.eval(node.right, scope)
        # ``x = x or default``: an unknown left keeps the result unknown
        return Unknown("or of an unknown")

    def _ex_Comparison(self, node: cst.Comparison, scope: Scope):
        left = self.eval(node.left, scope)
        if len(node.comparisons) == 1 and isinstance(node.comparisons[0].operator, tuple(_CMPOPS)):
            right = self.eval(node.comparisons[0].comparator, scope)
            if isinstance(left, Tensor) or isinstance(right, Tensor):
                # elementwise: a boolean tensor of the broadcast shape
                return self.fw.tensor_binop(self, cst.Add, left, right, self.site(node))
            r = self.compare(node.comparisons[0].operator, left, right)
            return Unknown("comparison of unknowns") if r is None else r
        result = True
        for target in node.comparisons:
            right = self.eval(target.comparator, scope)
            r = self.compare(target.operator, left, right)
            if r is False:
                return False
            if r is None:
                result = None
            left = right
        return Unknown("comparison of unknowns") if result is None else True

    def compare(self, op, left, right):
        if isinstance(op, (cst.Is, cst.IsNot)):
            if left is None or right is None or isinstance(left, bool) or isinstance(right, bool):
                if isinstance(left, Unknown) or isinstance(right, Unknown):
                    return None
                same = left is right
                return same if isinstance(op, cst.Is) else not same
            if isinstance(left, Unknown) or isinstance(right, Unknown):
                return None
            same = left is right
            return same if isinstance(op, cst.Is) else not same
        if isinstance(op, (cst.In, cst.NotIn)):
            if not is_known(left) or not isinstance(right, (list, tuple, dict, str, set)) or not is_known(right):
                if isinstance(right, dict) and is_known(left) and _hashable(left):
                    r = left in right
                    return r if isinstance(op, cst.In) else not r
                return None
            try:
                r = left in right
            except Exception:
                return None
            return r if isinstance(op, cst.In) else not r
        fn = _CMPOPS.get(type(op))
        if fn is None or not is_known(left) or not is_known(right):
            return None
        if isinstance(left, (Sym, Tensor, Instance)) or isinstance(right, (Sym, Tensor, Instance)):
            if isinstance(left, Sym) and isinstance(right, Sym) and left == right and fn in (operator.eq, operator.le, operator.ge):
                return True
            return None
        if not (_comparable(left) and _comparable(right)):
            if fn in (operator.eq, operator.ne) and (isinstance(left, (ClassVal, FunctionVal)) or isinstance(right, (ClassVal, FunctionVal))):
                return fn(left is right, True)
            return None
        try:
            return bool(fn(left, right))
        except Exception:
            return None

    def truth(self, v):
        """True/False when known, None when not."""
        if isinstance(v, Unknown):
            return None
        if isinstance(v, (bool, int, float, str, bytes, tuple, list, dict, set, type(None))):
            if isinstance(v, (tuple, list)) and len(v) == 0:
                return False
            if isinstance(v, (tuple, list, dict, set, str, bytes)):
                return len(v) > 0
            return bool(v)
        if isinstance(v, Sym):
            return None
        if isinstance(v, (Instance, ClassVal, FunctionVal, BoundMethod, Tensor, PartialVal)):
            return True
        return self.fw.truth(v)

    # comprehensions
    def _ex_ListComp(self, node, scope):
        out = self._comprehension(node, scope, lambda s: self.eval(node.elt, s))
        return out if isinstance(out, Unknown) else list(out)

    def _ex_GeneratorExp(self, node, scope):
        return self._ex_ListComp(node, scope)

    def _ex_SetComp(self, node, scope):
        out = self._comprehension(node, scope, lambda s: self.eval(node.elt, s))
        if isinstance(out, Unknown) or not all(is_known(x) and _hashable(x) for x in out):
            return Unknown("set comprehension")
        return set(out)

    def _ex_DictComp(self, node, scope):
        out = self._comprehension(node, scope, lambda s: (self.eval(node.key, s), self.eval(node.value, s)))
        if isinstance(out, Unknown):
            return out
        d = {}
        for k, v in out:
            if not (is_known(k) and _hashable(k)):
                return Unknown("dict comprehension with unknown keys")
            d[k] = v
        return d

    def _comprehension(self, node, scope, produce):
        inner = Scope(scope, "function")
        out = []
        ok = self._comp_for(node.for_in, inner, produce, out)
        return out if ok else Unknown("comprehension over an unknown iterable")

    def _comp_for(self, comp, scope, produce, out) -> bool:
        items = self.iterate(self.eval(comp.iter, scope))
        if items is None:
            return False
        for n, item in enumerate(items):
            if n >= MAX_LOOP:
                raise BudgetExceeded("comprehension bound")
            self.tick()
            self.assign(comp.target, item, scope)
            skip = False
            for cond in comp.ifs:
                t = self.truth(self.eval(cond.test, scope))
                if t is None:
                    return False
                if not t:
                    skip = True
                    break
            if skip:
                continue
            if comp.inner_for_in is not None:
                if not self._comp_for(comp.inner_for_in, scope, produce, out):
                    return False
            else:
                out.append(produce(scope))
        return True

    def iterate(self, v):
        """A Python list of the items of ``v``, or None when they are not known."""
        if isinstance(v, (list, tuple)):
            return list(v)
        if isinstance(v, range):
            if len(v) > MAX_LOOP * 8:
                return None
            return list(v)
        if isinstance(v, dict):
            return list(v.keys())
        if isinstance(v, str):
            return list(v)
        if isinstance(v, pybuiltins.LazyIter):
            return v.items
        return self.fw.iterate(self, v)

    # ------------------------------------------------------------------ calls
    def _ex_Call(self, node: cst.Call, scope: Scope):
        func = self.eval(node.func, scope)
        if func is pybuiltins.SUPER:
            return self.super_(scope)
        args, kwargs = [], {}
        for a in node.args:
            if a.star == "*":
                items = self.iterate(self.eval(a.value, scope))
                if items is None:
                    args.append(_STAR_UNKNOWN)
                else:
                    args.extend(items)
            elif a.star == "**":
                m = self.eval(a.value, scope)
                if isinstance(m, dict) and all(isinstance(k, str) for k in m):
                    kwargs.update(m)
                else:
                    kwargs["**"] = Unknown("** of an unknown mapping")
            elif a.keyword is not None:
                kwargs[a.keyword.value] = self.eval(a.value, scope)
            else:
                args.append(self.eval(a.value, scope))
        self.trace.reached.add(id(node))
        return self.call(func, args, kwargs, node)

    def call(self, func, args, kwargs, node):
        self.tick()
        if isinstance(func, Unknown):
            return self._unknown_call(func, args, kwargs)
        if any(a is _STAR_UNKNOWN for a in args):
            if not self.fw.is_framework_value(func):
                return self._unknown_call(Unknown("call with unknown *args"), args, kwargs)
            # what follows the starred unknown sits at unknown positions: keep what precedes it
            # and tell the callee (``*``), whose keyword defaults may be given too (``**``)
            args = args[: args.index(_STAR_UNKNOWN)]
            kwargs = dict(kwargs, **{"*": Unknown("*args"), "**": Unknown("*args")})
        if isinstance(func, FunctionVal):
            return self.call_function(func, args, kwargs, node)
        if isinstance(func, BoundMethod):
            if isinstance(func.func, FunctionVal):
                return self.call_function(func.func, [func.self_val, *args], kwargs, node)
            return self.call(func.func, [func.self_val, *args], kwargs, node)
        if isinstance(func, PartialVal):
            merged = dict(func.kwargs)
            merged.update(kwargs)
            return self.call(func.func, [*func.args, *args], merged, node)
        if isinstance(func, ClassVal):
            return self.instantiate(func, args, kwargs, node)
        if isinstance(func, Instance):
            return self.fw.call_instance(self, func, args, kwargs, node)
        if isinstance(func, pybuiltins.Builtin):
            return func.fn(self, args, kwargs, node)
        fwv = self.fw.call(self, func, args, kwargs, node)
        if fwv is not MISSING:
            return fwv
        if isinstance(func, ExternalRef):
            return self._unknown_call(Unknown(f"{func.qualname} is outside the catalogue"), args, kwargs)
        return self._unknown_call(Unknown("call of an unsupported value"), args, kwargs)

    def _unknown_call(self, func: Unknown, args, kwargs):
        return Unknown(func.reason)

    def bind_params(self, fn: FunctionVal, args, kwargs) -> dict | None:
        params = fn.node.params
        out: dict = {}
        positional = [*params.posonly_params, *params.params]
        args = list(args)
        for p in positional:
            name = p.name.value
            if args:
                out[name] = args.pop(0)
            elif name in kwargs:
                out[name] = kwargs.pop(name)
            elif name in fn.defaults:
                out[name] = fn.defaults[name]
            else:
                out[name] = Unknown(f"argument {name!r} not given")
        star = params.star_arg
        if isinstance(star, cst.Param):
            out[star.name.value] = tuple(args)
        for p in params.kwonly_params:
            name = p.name.value
            if name in kwargs:
                out[name] = kwargs.pop(name)
            elif name in fn.defaults:
                out[name] = fn.defaults[name]
            else:
                out[name] = Unknown(f"argument {name!r} not given")
        if params.star_kwarg is not None:
            rest = {k: v for k, v in kwargs.items() if k != "**"}
            out[params.star_kwarg.name.value] = rest if "**" not in kwargs else Unknown("**kwargs of an unknown mapping")
        return out

    def call_function(self, fn: FunctionVal, args, kwargs, node):
        key = id(fn.node)
        if self.depth >= MAX_DEPTH or key in self.active_calls and self._recursion_count(key) > 2:
            return Unknown("call depth or recursion bound")
        bound = self.bind_params(fn, args, dict(kwargs))
        frame = Scope(fn.closure, "function")
        frame.vars.update(bound)
        if fn.owner is not None:
            frame.owner_cls = fn.owner
            positional = [*fn.node.params.posonly_params, *fn.node.params.params] if isinstance(fn.node, cst.FunctionDef) else []
            if positional:
                frame.self_name = positional[0].name.value
        self.depth += 1
        self._stack.append(key)
        self.active_calls.add(key)
        prev_module = self.current_module
        self.current_module = fn.module
        try:
            if isinstance(fn.node, cst.Lambda):
                return self.eval(fn.node.body, frame)
            if "yield" in getattr(getattr(fn.module, "parsed", None), "text", "yield") and _is_generator(fn.node):
                return Unknown("generator")
            body = fn.node.body
            stmts = body.body if isinstance(body, cst.IndentedBlock) else [body]
            try:
                self.exec_block(stmts, frame)
                result = None
            except _Return as r:
                result = r.value
            except _Dead:
                if frame.returns:
                    result = frame.returns[0]
                    for r in frame.returns[1:]:
                        result = join(result, r)
                    return result
                return Unknown(f"{fn.qualname} raises on this path")
            except (_Break, _Continue):
                result = None
            for r in frame.returns:
                result = join(r, result)
            return result
        finally:
            self.current_module = prev_module
            self.depth -= 1
            self._stack.pop()
            if key not in self._stack:
                self.active_calls.discard(key)

    @property
    def _stack(self):
        st = self.__dict__.get("_call_stack")
        if st is None:
            st = self.__dict__["_call_stack"] = []
        return st

    def _recursion_count(self, key) -> int:
        return self._stack.count(key)

    def instantiate(self, cls: ClassVal, args, kwargs, node):
        """Build an instance; a model built outside any other constructor names its layers."""
        self._building = getattr(self, "_building", 0) + 1
        try:
            inst = self._instantiate(cls, args, kwargs, node)
        finally:
            self._building -= 1
        if self._building == 0 and isinstance(inst, Instance) and inst.cls.framework:
            self.fw.name_layers(inst)
        return inst

    def _instantiate(self, cls: ClassVal, args, kwargs, node):
        fwv = self.fw.instantiate(self, cls, args, kwargs, node)
        if fwv is not MISSING:
            return fwv
        inst = Instance(cls)
        init, _owner = cls.lookup("__init__")
        if init is MISSING and cls.lookup("__dataclass__")[0] is True:
            self._dataclass_init(cls, inst, args, kwargs, node)
            return inst
        if isinstance(init, FunctionVal):
            self.call_function(init, [inst, *args], kwargs, node)
        elif init is MISSING:
            self.fw.base_init(self, cls, inst, args, kwargs, node)
        return inst

    def _dataclass_init(self, cls: ClassVal, inst: Instance, args, kwargs, node) -> None:
        """``@dataclass``: fields in order from positional and keyword arguments, then defaults."""
        args = list(args)
        for fname, default in cls.fields:
            if args:
                value = args.pop(0)
            elif fname in kwargs:
                value = kwargs[fname]
            elif isinstance(default, pybuiltins.FieldSpec):
                if default.factory is not None:
                    value = self.call(default.factory, [], {}, node)
                elif default.default is not MISSING:
                    value = default.default
                else:
                    value = Unknown(f"field {fname!r} not given")
            elif default is not MISSING:
                value = default
            else:
                value = Unknown(f"field {fname!r} not given")
            inst.attrs[fname] = value
        post, _ = cls.lookup("__post_init__")
        if isinstance(post, FunctionVal):
            self.call_function(post, [inst], {}, node)

    def super_(self, scope: Scope):
        s = scope
        while s is not None and s.owner_cls is None:
            s = s.parent
        if s is None or s.self_name is None:
            return Unknown("super() outside a method")
        return SuperVal(s.owner_cls, s.vars.get(s.self_name, Unknown("self")))


_STAR_UNKNOWN = Unknown("*args of an unknown iterable")


def _hashable(v) -> bool:
    try:
        hash(v)
        return True
    except TypeError:
        return False


def _comparable(v) -> bool:
    if isinstance(v, (int, float, str, bool, bytes, type(None))):
        return True
    if isinstance(v, (tuple, list)):
        return all(_comparable(x) for x in v)
    if isinstance(v, dict):
        return all(_comparable(x) for x in v.values())
    return False


def _dotted(node) -> str:
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        return _dotted(node.value) + "." + node.attr.value
    return ""


def _deco_name(node) -> str:
    if isinstance(node, cst.Call):
        node = node.func
    return _dotted(node)


def _assigned_names(block) -> list[str]:
    from convlint.source.walk import walk

    return [n.target.value for n in walk(block) if isinstance(n, cst.AssignTarget) and isinstance(n.target, cst.Name)]


_GENERATOR_CACHE: dict = {}


def _is_generator(node) -> bool:
    key = id(node)
    hit = _GENERATOR_CACHE.get(key)
    if hit is not None and hit[0] is node:
        return hit[1]
    result = _scan_generator(node)
    _GENERATOR_CACHE[key] = (node, result)
    return result


def _scan_generator(node) -> bool:
    if not isinstance(node, cst.FunctionDef):
        return False
    from convlint.source.walk import walk

    def prune(n):
        return isinstance(n, (cst.FunctionDef, cst.Lambda, cst.ClassDef))

    return any(isinstance(n, cst.Yield) for n in walk(node.body, prune))


__all__ = ["Interpreter", "Scope", "BudgetExceeded", "is_known", "join", "first_unknown", "is_size"]
