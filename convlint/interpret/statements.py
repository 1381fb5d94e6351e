"""Statements: assignments, control flow, definitions and imports (a mixin of the interpreter).

``if`` on a known condition takes one branch; on an unknown one both run from the same state and
:meth:`StatementEvaluator.branch` joins what they leave behind (names, lists, dicts and module
attributes reachable from the frame). ``for`` over a known iterable unrolls (bounded by
:data:`MAX_LOOP`); over an unknown one the body may run zero or more times, which is a branch.
``raise`` and a failing ``assert`` end the path.
"""

from __future__ import annotations

import libcst as cst

from convlint.interpret import builtins as pybuiltins
from convlint.interpret.events import Trace
from convlint.interpret.flow import Break, BudgetExceeded, Continue, Dead, Return
from convlint.interpret.lattice import hashable, is_known, join
from convlint.interpret.ops import CST_AUGOPS
from convlint.interpret.scope import LazyImport, ModuleScope, Scope, dotted_name as _dotted, import_from_target, settle, star_binds, star_exports
from convlint.interpret.tensor import Tensor
from convlint.interpret.values import MISSING, BoundMethod, ClassVal, ExternalRef, FunctionVal, Instance, LazyFunctionVal, MethodDescriptor, PartialVal, Unknown, UnknownItems
from convlint.source.project import ModuleInfo

__all__ = ["StatementEvaluator", "MAX_LOOP"]

MAX_LOOP = 512  # iterations of one loop before it is abandoned as unknown
EPOCHS_FOLLOWED = 2  # iterations of script code's loop around a data loader followed one by one


class StatementEvaluator:
    """The statement half of :class:`~convlint.interpret.interpreter.Interpreter`."""

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
        if isinstance(stmt, cst.BaseSmallStatement):  # the body of ``if x: return y`` on one line
            self.exec_small(stmt, scope)
            return
        method = getattr(self, "_stmt_" + type(stmt).__name__, None)
        if method is not None:
            method(stmt, scope)

    def exec_small(self, s, scope: Scope) -> None:
        if isinstance(s, cst.Expr):
            self.eval(s.value, scope)
        elif isinstance(s, cst.Assign):
            tensor, value = self.shape_expr(s.value, scope)
            shape_of = tensor if tensor is not None and isinstance(value, Unknown) else None
            for t in s.targets:
                target = t.target
                if isinstance(value, Unknown) and isinstance(target, (cst.Tuple, cst.List)) and self._unpack_shape(s.value, target, scope, shape_of):
                    continue
                self.assign(target, value, scope)
                if shape_of is not None and isinstance(target, cst.Name):
                    # ``shape = x.shape`` of a rank not known yet: unpacking the name later is
                    # unpacking the shape (while the name holds it)
                    self.shape_names[(id(scope), target.value)] = (shape_of, value)
        elif isinstance(s, cst.AnnAssign):
            if s.value is not None:
                self.assign(s.target, self.eval(s.value, scope), scope)
        elif isinstance(s, cst.AugAssign):
            cur = self.eval(s.target, scope)
            rhs = self.eval(s.value, scope)
            op = CST_AUGOPS.get(type(s.operator))
            if isinstance(cur, Tensor) and cur.values is not None:
                cur.values = None  # ``t += 1`` is in place: aliases of ``t`` change too
            if isinstance(cur, list) and isinstance(s.operator, cst.AddAssign):
                if isinstance(rhs, (list, tuple)):
                    cur.extend(rhs)
                else:
                    cur.append(UnknownItems("extended by an unknown"))
                return
            value = self.binop(op, cur, rhs, s) if op else Unknown("augmented assignment")
            self.assign(s.target, value, scope)
        elif isinstance(s, cst.Return):
            raise Return(self.eval(s.value, scope) if s.value is not None else None)
        elif isinstance(s, cst.Break):
            raise Break()
        elif isinstance(s, cst.Continue):
            raise Continue()
        elif isinstance(s, cst.Raise):
            raise Dead()
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
            verdict = self.truth(self.eval(s.test, scope))
            if verdict is False:  # the assertion fails: this path stops as Python would
                from convlint.interpret.asserts import record_false

                record_false(self, s, scope)  # a shape assert decided false is a finding (CVL011)
                raise Dead()
            if verdict is None:  # undecided: a fact about the path that goes on
                from convlint.interpret.asserts import narrow

                narrow(self, s.test, scope)
        elif isinstance(s, (cst.Global, cst.Nonlocal, cst.Pass)):
            pass

    def _import_from(self, s: cst.ImportFrom, scope: Scope) -> None:
        dotted, level = import_from_target(s)
        if isinstance(scope, ModuleScope) and not isinstance(s.names, cst.ImportStar) and (level or (dotted and self.fw.module(dotted) is None)):
            # an imported module's ``from m import a, b``: looked up when a name is read
            for alias in s.names:
                name = _dotted(alias.name)
                bind = alias.asname.name.value if alias.asname is not None else name
                scope.vars[bind] = LazyImport(dotted, level, self.current_module, name)
            return
        base = self.import_module(dotted, level) if (dotted or level) else Unknown("import")
        if isinstance(s.names, cst.ImportStar):
            if isinstance(base, ModuleInfo):
                g = self.module_globals(base)
                if isinstance(g, ModuleScope):
                    g.resolve_all()
                keep_lazy = isinstance(scope, ModuleScope)
                exported = star_exports(g)
                for k, v in list(g.vars.items()):
                    if star_binds(exported, k):
                        scope.vars[k] = v if keep_lazy else settle(self, v)
            return
        for alias in s.names:
            name = _dotted(alias.name)
            bind = alias.asname.name.value if alias.asname is not None else name
            scope.vars[bind] = self.getattr(base, name, None, import_from=True)

    def _defaults(self, node: cst.FunctionDef, scope: Scope) -> dict:
        params = node.params
        return {p.name.value: self.eval(p.default, scope) for p in (*params.posonly_params, *params.params, *params.kwonly_params) if p.default is not None}

    def _stmt_FunctionDef(self, node: cst.FunctionDef, scope: Scope) -> None:
        parsed = getattr(self.current_module, "parsed", None)
        lazy_header = parsed is not None and parsed.header_elided(node)
        defaults = {} if lazy_header else self._defaults(node, scope)
        decos = tuple(_deco_name(d.decorator) for d in node.decorators)
        closure = scope.parent if scope.kind == "class" else scope
        owner = scope.owner_cls if scope.kind == "class" else None
        qual = f"{owner.name}.{node.name.value}" if owner is not None else node.name.value
        if parsed is not None and parsed.is_skeleton(node):  # its body is parsed when first needed
            fn = LazyFunctionVal(parsed.full_definition, node, self.current_module, closure, defaults, node.name.value, qual, owner, decos)
            if lazy_header:  # and its parameters: their defaults are literals, evaluated then
                module = self.current_module
                fn.defaults_of = lambda full, scope=scope, module=module: self._defaults_in(module, full, scope)
        else:
            fn = FunctionVal(node, self.current_module, closure, defaults, node.name.value, qual, owner, decos)
        value = fn
        for d in reversed(node.decorators):
            dn = _deco_name(d.decorator)
            kind = next((k for k in ("property", "staticmethod", "classmethod") if dn.endswith(k)), None)
            if kind is not None:
                value = MethodDescriptor(kind, fn)
            elif isinstance(value, FunctionVal):
                value = self._decorate(d.decorator, value, scope)
        scope.vars[node.name.value] = value

    def _defaults_in(self, module, node, scope: Scope) -> dict:
        with self.in_module(module):
            return self._defaults(node, scope) if isinstance(node, cst.FunctionDef) else {}

    def _decorate(self, deco_node, target, scope: Scope):
        """Apply a user-defined decorator (``@register_model`` fills a registry); the target stays
        as it is when the decorator is a framework's, unknown, or returns something unusable."""
        deco = self.eval(deco_node, scope)
        framework = self.fw.is_framework_value(deco)  # ``@jax.vmap``, ``@jax.jit``: function transforms
        if isinstance(deco, pybuiltins.Builtin) and deco.name == pybuiltins.WRAPS_DECORATOR:
            return deco.fn(self, [target], {}, deco_node)
        if isinstance(deco, Unknown) and self._from_jax(deco_node, scope):
            # an unmodelled jax / flax transform (``@nnx.vmap(...)``, ``@nnx.scan(...)``) changes
            # what the function computes: it is not the function as written
            return Unknown(f"a function transformed by {_deco_name(deco_node)}, which convlint does not follow", cause=deco)
        if not (isinstance(deco, (FunctionVal, ClassVal, BoundMethod, PartialVal)) or framework):
            return target
        try:
            result = self.call(deco, [target], {}, deco_node)
        except (Return, Break, Continue, Dead):
            return target
        if framework:
            return result if not isinstance(result, Unknown) and result is not None else target
        return result if isinstance(result, (FunctionVal, ClassVal, BoundMethod, PartialVal)) and not _is_wrapper(result, target) else target

    def _from_jax(self, deco_node, scope: Scope) -> bool:
        """Whether a decorator expression is reached from a jax or flax module (``nnx.vmap(...)``)."""
        node = deco_node
        while True:
            if isinstance(node, cst.Call):
                node = node.func
            elif isinstance(node, cst.Attribute):
                node = node.value
            else:
                break
        if not isinstance(node, cst.Name):
            return False
        root = scope.lookup(node.value) if hasattr(scope, "lookup") else None
        qual = getattr(root, "qualname", None)
        return type(root).__name__ == "FwModule" and isinstance(qual, str) and qual.split(".", 1)[0] in ("jax", "flax")

    def _stmt_ClassDef(self, node: cst.ClassDef, scope: Scope) -> None:
        bases = [self.eval(b.value, scope) for b in node.bases]
        cls = ClassVal(node, self.current_module, node.name.value, bases)
        cls.framework = self.fw.module_framework(bases)
        body = Scope(scope, "class")
        body.owner_cls = cls
        scope.vars[node.name.value] = cls  # visible to methods (recursion) while the body runs
        try:
            self.exec_block(node.body.body if isinstance(node.body, cst.IndentedBlock) else [node.body], body)
        except (Return, Break, Continue, Dead):
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
        for d in reversed(node.decorators):  # ``@register("unet")``: the registration happens
            if _deco_name(d.decorator).split(".")[-1] != "dataclass":
                decorated = self._decorate(d.decorator, cls, scope)
                if isinstance(decorated, ClassVal):
                    scope.vars[node.name.value] = cls = decorated

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

            self.branch(scope, run_a, run_b, self.site(node))

    def branch(self, scope: Scope, run_a, run_b, site=None) -> None:
        """Run two alternative paths from the same state and join what they leave behind."""
        objs = self._mutable_roots(scope)
        before = self._snapshot(scope, objs)
        results = []
        self.undecided += 1  # what runs now runs only on some of the paths the unknowns allow
        try:
            for run in (run_a, run_b):
                if run is run_b:  # the first path starts from the state just taken
                    self._restore(scope, objs, before)
                status, value = "ok", None
                try:
                    run()
                except Return as r:
                    status, value = "return", r.value
                except Dead:
                    status = "dead"
                except (Break, Continue) as e:
                    status, value = "jump", e
                results.append((status, value, self._snapshot(scope, objs)))
        finally:
            self.undecided -= 1
        live = [r for r in results if r[0] == "ok"]
        rets = [r for r in results if r[0] == "return"]
        if not live:
            if rets and len(rets) == 2:
                self._restore(scope, objs, rets[0][2])
                self._merge_into(scope, objs, rets[1][2], site)
                raise Return(join(rets[0][1], rets[1][1], site))
            if rets:
                self._restore(scope, objs, rets[0][2])
                raise Return(rets[0][1])
            jumps = [r for r in results if r[0] == "jump"]
            if jumps:
                self._restore(scope, objs, jumps[0][2])
                raise jumps[0][1]
            raise Dead()
        for r in rets:
            scope.returns.append(r[1])
        self._restore(scope, objs, live[0][2])
        for r in live[1:]:
            self._merge_into(scope, objs, r[2], site)

    def _mutable_roots(self, scope: Scope) -> list:
        """The lists, dicts and instances a path may change in place, reachable from the scope's
        bindings within three levels (64 entries of each), in depth-first order: an instance's
        attributes are followed to its lists and dicts only (a layer's own state is not a path's)."""
        roots = []
        seen = set()
        containers = (list, dict)
        for v in list(scope.vars.values()):
            if not isinstance(v, (list, dict, Instance)):
                continue
            stack = [(v, 0)]
            while stack:
                o, depth = stack.pop()
                if id(o) not in seen:
                    seen.add(id(o))
                    roots.append(o)
                if depth == 2:
                    continue
                if isinstance(o, list):
                    below = [x for x in o[:64] if isinstance(x, (list, dict, Instance))]
                elif isinstance(o, dict):
                    below = [x for x in list(o.values())[:64] if isinstance(x, (list, dict, Instance))]
                else:
                    below = [x for x in list(o.attrs.values())[:64] if isinstance(x, containers)]
                stack.extend((x, depth + 1) for x in reversed(below))
        return roots

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

    def _merge_into(self, scope: Scope, objs, other, site=None) -> None:
        # a name bound on one path only keeps that path's value (``join`` with MISSING), and
        # ``join(a, a)`` is ``a``: only the names the other path bound to another value are joined
        vars_, snap = other
        here = scope.vars
        for k, b in vars_.items():
            a = here.get(k, MISSING)
            if a is b:
                continue
            if a is MISSING:
                here[k] = b
                continue
            if type(a) is LazyImport and a.same(b):
                continue  # the same import on both paths
            if type(a) is LazyImport or type(b) is LazyImport:
                a, b = settle(self, a), settle(self, b)  # two different bindings: what they are decides
            here[k] = join(a, b, site)
        for o in objs:
            s = snap.get(id(o))
            if s is None:
                continue
            if isinstance(o, list):
                if len(o) == len(s):
                    o[:] = [join(a, b, site) for a, b in zip(o, s)]
                else:
                    o[:] = [Unknown("list differs between branches")]
            else:
                d = o if isinstance(o, dict) else o.attrs if isinstance(o, Instance) else None
                if d is None:
                    continue
                for k, b in s.items():
                    a = d.get(k, MISSING)
                    if a is not b:
                        d[k] = b if a is MISSING else join(a, b, site)

    def _stmt_For(self, node: cst.For, scope: Scope) -> None:
        it = self.eval(node.iter, scope)
        items = self.iterate(it)
        if items is None:
            # unknown iterable: the body may run zero or more times
            self.unknown_loops += 1
            self._loop_once(node, Unknown("element of an unknown iterable"), scope)
            return
        broke = False
        mark = self._script_loop()
        for n, item in enumerate(items):
            if n >= MAX_LOOP:
                self.trace.incomplete = "loop bound"
                raise BudgetExceeded("loop bound")
            if self._followed_enough(mark, n):
                self._loop_once(node, Unknown("iteration of a loop around a data loader"), scope)
                break
            self.tick()
            self.assign(node.target, item, scope)
            try:
                self.exec_block(node.body.body, scope)
            except Break:
                broke = True
                break
            except Continue:
                continue
        if not broke and node.orelse is not None:
            self.exec_block(node.orelse.body.body, scope)

    def _script_loop(self):
        """Where a loop of script code (outside any model call or constructor) starts: what
        :meth:`_followed_enough` compares with; None for any other loop."""
        if self.script_entry and self.model_depth == 0 and self.building == 0:
            return (self.unknown_loops, self.unknown_applications)
        return None

    def _followed_enough(self, mark, n: int) -> bool:
        """Script code's epoch loop around a data loader (``for epoch in range(200): for batch in
        loader: …``), or a sampling loop that applies a model to data of unknown shape or loses
        track in it (``while len(images) < n: images += [model(noise)]``): after ``n`` =
        :data:`EPOCHS_FOLLOWED` iterations the others are followed as one more, with the loop
        variable (or condition) unknown — each would apply the same models to the same unknown
        data again."""
        return mark is not None and n >= EPOCHS_FOLLOWED and (self.unknown_loops > mark[0] or self.unknown_applications > mark[1])

    def _loop_once(self, node: cst.For, target, scope: Scope) -> None:
        """The body of ``node`` run zero times or once more, with ``target`` as its element."""
        def once():
            self.assign(node.target, target, scope)
            try:
                self.exec_block(node.body.body, scope)
            except (Break, Continue):
                pass

        self.branch(scope, once, lambda: None, self.site(node))

    def _stmt_While(self, node: cst.While, scope: Scope) -> None:
        mark = self._script_loop()
        for n in range(MAX_LOOP + 1):
            self.tick()
            cond = self.truth(self.eval(node.test, scope))
            if cond is not False and self._followed_enough(mark, n):
                cond = None  # once more, then stop
            if cond is False:
                if node.orelse is not None:
                    self.exec_block(node.orelse.body.body, scope)
                return
            if cond is None:
                def once():
                    try:
                        self.exec_block(node.body.body, scope)
                    except (Break, Continue):
                        pass

                self.branch(scope, once, lambda: None, self.site(node))
                return
            try:
                self.exec_block(node.body.body, scope)
            except Break:
                return
            except Continue:
                continue
        raise BudgetExceeded("while bound")

    def _stmt_With(self, node: cst.With, scope: Scope) -> None:
        expected = False
        for item in node.items:
            expected = expected or self._expects_exception(item.item, scope)
            v = self.eval(item.item, scope)
            if item.asname is not None:
                self.assign(item.asname.name, Unknown("context manager value") if not isinstance(v, Tensor) else v, scope)
        if expected:
            self._expected_to_raise(node.body.body, scope)
            return
        self.exec_block(node.body.body, scope)

    def _expects_exception(self, expr, scope: Scope) -> bool:
        """``pytest.raises(E)`` or a unittest ``self.assertRaises(E)`` (``…Regex``) used as a context
        manager: its body is meant to raise."""
        if not isinstance(expr, cst.Call):
            return False
        func = expr.func
        if isinstance(func, cst.Attribute) and func.attr.value in _ASSERT_RAISES:
            return True
        if isinstance(func, (cst.Name, cst.Attribute)):
            callee = self.eval(func, scope)
            return isinstance(callee, ExternalRef) and callee.qualname == "pytest.raises"
        return False

    def _expected_to_raise(self, body, scope: Scope) -> None:
        """The body of ``with pytest.raises(E):`` — a test that a wrong input or configuration is
        rejected. What fails in it is the test's point, not a finding: it runs with a trace of its
        own, kept aside. It raises somewhere (else the test fails), so after it every name it binds
        is unknown, and what it changes in place is joined with the state before it."""
        saved = self.trace
        self.trace = Trace()
        try:
            self.branch(scope, lambda: self.exec_block(body, scope), lambda: None)
        except (Return, Dead, Break, Continue):
            pass
        finally:
            self.trace = saved
        for name in _bound_names(body):
            scope.vars[name] = Unknown(f"{name!r} is bound in a block that is meant to raise (pytest.raises)")

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
    def _shape_source(self, node, scope: Scope):
        """The tensor whose shape (of a rank not known) ``node`` reads: ``x.shape`` itself, or a
        name that ``shape = x.shape`` bound and nothing rebound since; else None."""
        if isinstance(node, cst.Name):
            rec = self.shape_names.get((id(scope), node.value))
            if rec is not None and scope.vars.get(node.value, MISSING) is rec[1]:
                return rec[0]
            return None
        if isinstance(node, cst.Attribute) and node.attr.value == "shape" and isinstance(node.value, cst.Name):
            t = self.eval(node.value, scope)
            if isinstance(t, Tensor) and (t.shape is None or not t.exact_rank):
                return t
        return None

    def _unpack_shape(self, rhs, target, scope: Scope, shape_of) -> bool:
        """Unpack a tensor shape of a rank not known into ``target`` as Python would, when Python's
        rule fixes something: ``b, c, h, w = x.shape`` (or ``= shape``, bound to it before) has
        exactly four dims; ``b, n, x, y, h = *shape, self.heads`` has four plus one; ``*_, h, w =
        x.shape`` of a rank known as a lower bound reads the last two. A model input learns its
        rank there (:meth:`Tensor.unpacked_shape`). True when the names were bound here."""
        elts = target.elements
        star = [i for i, e in enumerate(elts) if isinstance(e, cst.StarredElement)]
        tensor = shape_of if shape_of is not None else self._shape_source(rhs, scope)
        if tensor is not None:
            if not star:
                dims = tensor.unpacked_shape(len(elts))
                if dims is None:
                    return False
                self.assign(target, dims, scope)
                return True
            after = len(elts) - star[0] - 1
            tail = tensor.shape_from_end(slice(-after, None)) if after else None
            if len(star) != 1 or tail is None:
                return False
            for e in elts[: star[0]]:
                self.assign(e.value, Unknown("a leading dim of a tensor whose rank is only a lower bound"), scope)
            self.assign(elts[star[0]].value, Unknown("the leading dims of a tensor whose rank is only a lower bound"), scope)
            for e, v in zip(elts[star[0] + 1 :], tail):
                self.assign(e.value, v, scope)
            return True
        if star or not isinstance(rhs, (cst.Tuple, cst.List)):
            return False
        # ``(*shape, self.heads)``: one starred shape among plain items (names, attributes,
        # numbers: read again here, as reading them has no effect)
        starred = [i for i, e in enumerate(rhs.elements) if isinstance(e, cst.StarredElement)]
        if len(starred) != 1:
            return False
        j = starred[0]
        tensor = self._shape_source(rhs.elements[j].value, scope)
        others = [e.value for i, e in enumerate(rhs.elements) if i != j]
        if tensor is None or not all(_plain_read(v) for v in others):
            return False
        dims = tensor.unpacked_shape(len(elts) - len(others))
        if dims is None:
            return False
        items = [self.eval(v, scope) for v in others]
        self.assign(target, (*items[:j], *dims, *items[j:]), scope)
        return True

    def assign(self, target, value, scope: Scope) -> None:
        if isinstance(target, cst.Name):
            if self.shape_names:
                self.shape_names.pop((id(scope), target.value), None)
            scope.vars[target.value] = value
            if scope.origins:
                scope.origins.pop(target.value, None)  # no longer the value the caller passed
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
            if isinstance(obj, Instance) and obj.data is not None:
                setitem, _ = obj.cls.lookup("__setitem__")
                if setitem is MISSING:
                    obj = obj.data
            if isinstance(obj, Tensor) and obj.values is not None:
                obj.values = None  # ``t[i] = v`` writes into a constant tensor: its elements are no longer known
            if len(target.slice) == 1 and isinstance(target.slice[0].slice, cst.Index):
                key = self.eval(target.slice[0].slice.value, scope)
                if self.fw.setitem(self, obj, key, value):
                    return  # ``self.blocks[name] = block`` on a ModuleDict (or ModuleList)
                if isinstance(obj, dict) and is_known(key) and hashable(key):
                    obj[key] = value
                elif isinstance(obj, list) and isinstance(key, int) and -len(obj) <= key < len(obj):
                    obj[key] = value
                elif isinstance(obj, list) and not (isinstance(key, int) or isinstance(key, slice)):
                    for i in range(len(obj)):  # an unknown index: any element may be the new value
                        obj[i] = join(obj[i], value)
                elif isinstance(obj, dict):
                    # an unknown key: any key may now be present, the dict's contents are unknown
                    # (``init_dict[key] = …`` in a loop over unknown keys, then ``cls(**init_dict)``)
                    for k in list(obj):
                        obj[k] = join(obj[k], value)
                    self._forget(target.value, scope, "a dict given a key of unknown value")
        elif isinstance(target, cst.StarredElement):
            self.assign(target.value, value, scope)

    def _forget(self, expr, scope: Scope, why: str) -> None:
        """The value ``expr`` names (a variable, an attribute) becomes unknown."""
        if isinstance(expr, (cst.Name, cst.Attribute)):
            self.assign(expr, Unknown(why), scope)

    def setattr(self, obj, name: str, value) -> None:
        if name == "__dict__" and isinstance(obj, Instance) and (type(value) is dict or (value is obj and obj.data is not None)):
            # ``self.__dict__ = self`` (an AttrDict: its keys are its attributes) or ``= some_dict``:
            # the attributes are that dict from now on, the ones before are gone
            obj.attrs = value.data if value is obj else value
            return
        if isinstance(obj, Instance) and obj.data is not None and obj.cls.lookup("__attribute_items__")[0] is True:
            obj.data[name] = value  # ``config.width = 64`` on a ConfigDict sets its key
        elif isinstance(obj, Instance):
            obj.attrs[name] = value
            self.fw.on_setattr(self, obj, name, value)
        elif isinstance(obj, ClassVal):
            obj.attrs[name] = value
        else:
            self.fw.setattr_other(self, obj, name, value)


def _is_wrapper(result, target) -> bool:
    """A decorator's ``def wrapper(*args, **kwargs)``: calling it would lose the target's signature
    for nothing convlint needs; the target itself is kept."""
    if not isinstance(result, FunctionVal) or result is target or not isinstance(result.node, cst.FunctionDef):
        return False
    params = result.node.params
    return isinstance(params.star_arg, cst.Param) and not params.params and not params.posonly_params


def _deco_name(node) -> str:
    if isinstance(node, cst.Call):
        node = node.func
    return _dotted(node)


_ASSERT_RAISES = frozenset({"assertRaises", "assertRaisesRegex", "assertRaisesRegexp"})


def _bound_names(body) -> set[str]:
    """Every name the statements ``body`` bind in their scope (not inside the functions, classes
    and lambdas they define, whose own names they do bind)."""
    from convlint.source.walk import walk

    out: set[str] = set()

    def targets(t) -> None:
        if isinstance(t, cst.Name):
            out.add(t.value)
        elif isinstance(t, (cst.Tuple, cst.List)):
            for e in t.elements:
                targets(e.value)
        elif isinstance(t, cst.StarredElement):
            targets(t.value)

    def prune(n) -> bool:
        return isinstance(n, (cst.FunctionDef, cst.ClassDef, cst.Lambda))

    for stmt in body:
        if isinstance(stmt, (cst.FunctionDef, cst.ClassDef)):
            out.add(stmt.name.value)
            continue
        for n in walk(stmt, prune):
            if isinstance(n, (cst.FunctionDef, cst.ClassDef)):
                out.add(n.name.value)
            elif isinstance(n, cst.AssignTarget):
                targets(n.target)
            elif isinstance(n, (cst.AnnAssign, cst.AugAssign, cst.NamedExpr, cst.For)):
                targets(n.target)
            elif isinstance(n, cst.AsName):  # ``with … as x``, ``except E as e``, ``import a as b``
                targets(n.name)
            elif isinstance(n, cst.ImportAlias) and n.asname is None:  # ``import a.b`` binds ``a``
                root = n.name
                while isinstance(root, cst.Attribute):
                    root = root.value
                targets(root)
    return out


def _assigned_names(block) -> list[str]:
    from convlint.source.walk import walk

    return [n.target.value for n in walk(block) if isinstance(n, cst.AssignTarget) and isinstance(n.target, cst.Name)]




def _plain_read(node) -> bool:
    """A name, an attribute of one (``self.heads``) or a number: reading it again has no effect."""
    while isinstance(node, cst.Attribute):
        node = node.value
    return isinstance(node, (cst.Name, cst.Integer))
