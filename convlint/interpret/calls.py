"""Calls: user functions and classes are interpreted, framework callables are shape functions
(a mixin of the interpreter).

Arguments are bound as Python binds them (defaults, ``*args``, ``**kwargs``); call depth and
recursion are bounded (:data:`MAX_DEPTH`); a call of an unknown value gives an unknown — and an
unknown that says why.
"""

from __future__ import annotations

import libcst as cst

from convlint.interpret import builtins as pybuiltins
from convlint.interpret.flow import RAISES, Break, Continue, Dead, Return, raised
from convlint.interpret.lattice import join
from convlint.interpret.scope import Scope
from convlint.interpret.tensor import Tensor
from convlint.frameworks.base import Layer
from convlint.interpret.values import MISSING, BoundMethod, ClassVal, ExternalRef, FunctionVal, Instance, OneOf, Origin, PartialSeq, PartialVal, SuperVal, Unknown, Wiring, dict_base, mapping_of

__all__ = ["CallEvaluator", "MAX_DEPTH"]

MAX_DEPTH = 48  # nested calls before a call gives an unknown


class CallEvaluator:
    """The call half of :class:`~convlint.interpret.interpreter.Interpreter`."""

    # ------------------------------------------------------------------ calls
    def _ex_Call(self, node: cst.Call, scope: Scope):
        func = self.eval(node.func, scope)
        if func is pybuiltins.SUPER:
            return self.super_(scope)
        args, kwargs = [], {}
        for a in node.args:
            if a.star == "*":
                v = self.eval(a.value, scope)
                items = self.iterate(v)
                if isinstance(v, PartialSeq):  # its first items, then items not known
                    args.extend(v.prefix)
                    args.append(_STAR_UNKNOWN)
                elif items is None:
                    args.append(_STAR_UNKNOWN)
                else:
                    args.extend(items)
            elif a.star == "**":
                m = mapping_of(self.eval(a.value, scope))
                if isinstance(m, dict) and all(isinstance(k, str) for k in m):
                    kwargs.update(m)
                else:
                    kwargs["**"] = Unknown("** of an unknown mapping")
            elif a.keyword is not None:
                kwargs[a.keyword.value] = self.eval(a.value, scope)
            else:
                args.append(self.eval(a.value, scope))
        self.trace.reached.add(id(node))
        saved = self.call_context
        self.call_context = (scope, node, func, len(args))
        try:
            result = self.call(func, args, kwargs, node)
        finally:
            self.call_context = saved
        if isinstance(result, Layer) and "origins" not in result.extra:
            sig = getattr(func, "signature", None)
            if sig is None and isinstance(func, PartialVal) and not func.args:
                # ``conv = partial(nn.Conv, use_bias=False)``; ``conv(f, (3, 3), strides)``: this
                # call's arguments are the layer's own (a partial's positional ones would shift them)
                sig = getattr(func.func, "signature", None)
            if sig is not None:
                result.extra["origins"] = self.layer_origins(node, scope, [p[0] for p in sig.params])
                fn = self.current_function
                result.extra["built_in"] = fn.name if fn is not None else None
        if isinstance(result, Unknown):
            if result.site is None:
                result = result.at(self.site(node))
        elif isinstance(result, Tensor):
            result.located(self.site(node), _callee_name(func))
        return result

    def call(self, func, args, kwargs, node):
        self.tick()
        if type(func) is OneOf:
            return self._call_one_of(func, args, kwargs, node)
        if isinstance(func, Unknown):
            return self._unknown_call(func, args, kwargs)
        if any(a is _STAR_UNKNOWN for a in args):
            user = isinstance(func, (FunctionVal, ClassVal, PartialVal)) or (isinstance(func, BoundMethod) and isinstance(func.func, FunctionVal))
            if not (user or self.fw.is_framework_value(func)):
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

    def _call_one_of(self, func: OneOf, args, kwargs, node):
        """Call each value ``func`` may be, from the same state — as the paths of a branch run, in
        the caller's scope — and join their results. A ``None`` among them is a path that stops
        (calling it raises), as is an option whose call raises on every path."""
        options = [o for o in func.options if o is not None]
        context = self.call_context
        if not options:
            raise Dead()
        if len(options) == 1:
            return self.call(options[0], args, kwargs, node)
        if context is None:  # no caller's scope to run paths from
            return self._unknown_call(func, args, kwargs)
        scope, site = context[0], self.site(node) if node is not None else None
        results: list = []

        def path(option):
            def go():
                saved = self.call_context
                self.call_context = (context[0], context[1], option, context[3])  # what helpers' origins follow
                try:
                    results.append(self.call(option, list(args), dict(kwargs), node))
                finally:
                    self.call_context = saved

            return go

        def paths(rest):
            if len(rest) == 1:
                return path(rest[0])
            return lambda: self.branch(scope, path(rest[0]), paths(rest[1:]), site)

        paths(options)()
        live = [r for r in results if not raised(r)] or results[:1]  # an option whose call raised goes no further
        out = live[0]
        for r in live[1:]:
            out = join(out, r, site)
        return out

    def _unknown_call(self, func: Unknown, args, kwargs):
        return Unknown(func.reason, cause=func)

    def bind_params(self, fn: FunctionVal, args, kwargs) -> dict | None:
        params = fn.node.params
        out: dict = {}
        positional = [*params.posonly_params, *params.params]
        args = list(args)
        # ``f(*unknown)`` / ``f(**unknown)``: a parameter not given otherwise may come from them —
        # its default is not what the call passes
        maybe = "*" in kwargs or "**" in kwargs
        for p in positional:
            name = p.name.value
            if args:
                out[name] = args.pop(0)
            elif name in kwargs:
                out[name] = kwargs.pop(name)
            elif maybe:
                out[name] = Unknown(f"argument {name!r} may come from unknown *args or **kwargs")
            elif name in fn.defaults:
                out[name] = fn.defaults[name]
            else:
                out[name] = Unknown(f"argument {name!r} not given")
        star = params.star_arg
        if isinstance(star, cst.Param):
            # after ``f(a, *unknown)`` the items past those given are not known
            out[star.name.value] = PartialSeq(tuple(args)) if "*" in kwargs else tuple(args)
        for p in params.kwonly_params:
            name = p.name.value
            if name in kwargs:
                out[name] = kwargs.pop(name)
            elif "**" in kwargs:
                out[name] = Unknown(f"argument {name!r} may come from unknown **kwargs")
            elif name in fn.defaults:
                out[name] = fn.defaults[name]
            else:
                out[name] = Unknown(f"argument {name!r} not given")
        if params.star_kwarg is not None:
            rest = {k: v for k, v in kwargs.items() if k not in ("*", "**")}
            out[params.star_kwarg.name.value] = rest if "**" not in kwargs else Unknown("**kwargs of an unknown mapping")
        return out

    def call_function(self, fn: FunctionVal, args, kwargs, node):
        key = id(fn.node)
        if self.depth >= MAX_DEPTH or key in self.active_calls and self.call_stack.count(key) > 2:
            return Unknown("call depth or recursion bound")
        bound = self.bind_params(fn, args, dict(kwargs))
        frame = Scope(fn.closure, "function")
        frame.vars.update(bound)
        ctx = self.call_context
        if isinstance(node, cst.Call) and ctx is not None and ctx[1] is node and isinstance(fn.node, cst.FunctionDef) and _calls(ctx[2], fn):
            frame.origins = self.frame_origins(fn, node, ctx[0], len(args) - ctx[3])
        if fn.owner is not None:
            frame.owner_cls = fn.owner
            positional = [*fn.node.params.posonly_params, *fn.node.params.params] if isinstance(fn.node, cst.FunctionDef) else []
            if positional:
                frame.self_name = positional[0].name.value
        self.depth += 1
        self.call_stack.append(key)
        self.active_calls.add(key)
        prev_module = self.current_module
        self.current_module = fn.module
        prev_function = self.current_function
        self.current_function = fn
        try:
            if isinstance(fn.node, cst.Lambda):
                return self.eval(fn.node.body, frame)
            if _is_generator(fn):
                return Unknown("generator")
            body = fn.node.body
            stmts = body.body if isinstance(body, cst.IndentedBlock) else [body]
            try:
                self.exec_block(stmts, frame)
                result = None
            except Return as r:
                result = r.value
            except Dead:
                if frame.returns:
                    result = frame.returns[0]
                    for r in frame.returns[1:]:
                        result = join(result, r)
                    return result
                return Unknown(f"{fn.qualname}{RAISES}")
            except (Break, Continue):
                result = None
            for r in frame.returns:
                result = join(r, result)
            return result
        finally:
            self.current_module = prev_module
            self.current_function = prev_function
            self.depth -= 1
            self.call_stack.pop()
            if key not in self.call_stack:
                self.active_calls.discard(key)

    def call_origins(self, node: cst.Call, scope) -> tuple[list, dict, bool]:
        """Where each argument of the call ``node`` was written (:class:`Origin`): one per positional
        value, one per keyword, and whether the positional list is complete (a ``*`` of values of
        unknown origin ends it). A parameter passed on unchanged keeps its own origin; ``*args`` and
        ``**kwargs`` passed on carry the origins of what they hold."""
        pos: list = []
        kw: dict = {}
        complete = True
        for a in node.args:
            if a.star == "*":
                inherited = _origin_in(scope, a.value.value) if isinstance(a.value, cst.Name) else None
                if complete and isinstance(inherited, tuple):
                    pos.extend(inherited)
                else:
                    complete = False
            elif a.star == "**":
                inherited = _origin_in(scope, a.value.value) if isinstance(a.value, cst.Name) else None
                if isinstance(inherited, dict):
                    kw.update(inherited)
            elif a.keyword is not None:
                kw[a.keyword.value] = self._origin(a.value, scope, node)
            elif complete:
                pos.append(self._origin(a.value, scope, node))
        return pos, kw, complete

    def _origin(self, expr, scope, node) -> Origin:
        if isinstance(expr, cst.Name):
            inherited = _origin_in(scope, expr.value)
            if isinstance(inherited, Origin):
                return inherited
            if isinstance(inherited, Wiring):
                return Origin(self.site(expr), self.site(node), via=inherited.origin)
        return Origin(self.site(expr), self.site(node))

    def layer_origins(self, node: cst.Call, scope, names: list) -> dict:
        """Framework parameter -> :class:`Origin` for a layer built by the call ``node``; ``"**"``
        is the outermost call that passes its keywords on to this one (where a keyword may be added)."""
        pos, kw, _complete = self.call_origins(node, scope)
        out = {names[i]: o for i, o in enumerate(pos) if i < len(names)}
        out.update({k: o for k, o in kw.items() if k in names or k == "**"})
        if "**" not in out:
            out["**"] = self.site(node)
        return out

    def frame_origins(self, fn: FunctionVal, node: cst.Call, scope, offset: int) -> dict:
        """Parameter -> :class:`Origin` for a call of the user function ``fn`` (``offset`` values,
        ``self`` or a partial's arguments, precede the call's own positional values)."""
        params = fn.node.params
        positional = [p.name.value for p in (*params.posonly_params, *params.params)]
        named = set(positional) | {p.name.value for p in params.kwonly_params}
        pos, kw, complete = self.call_origins(node, scope)
        out: dict = {}
        for j, o in enumerate(pos):
            i = j + offset
            if 0 <= i < len(positional):
                out[positional[i]] = o
        if isinstance(params.star_arg, cst.Param) and complete and offset >= 0:
            out[params.star_arg.name.value] = tuple(pos[max(0, len(positional) - offset):])
        rest = {}
        for k, o in kw.items():
            if k in named:
                out[k] = o
            else:
                rest[k] = o
        if params.star_kwarg is not None:
            rest.setdefault("**", self.site(node))
            out[params.star_kwarg.name.value] = rest
        # a parameter the function uses once is passed through (a helper such as ``conv3x3(cin,
        # cout)`` or ``WNConv1d(*a, **k)``): a finding about its value belongs to the caller. One
        # used in several places (``in_channels`` for a norm, a conv and a shortcut) is the
        # function's own wiring: a finding about one use belongs in the function.
        # Its origin is kept aside (:class:`Wiring`) for a finding that follows it out anyway.
        uses = _name_uses(fn.node)
        kept: dict = {}
        for k, v in out.items():
            if uses.get(k, 0) <= 1:
                kept[k] = v
            elif isinstance(v, Origin):
                kept[k] = Wiring(v)
        return kept

    def instantiate(self, cls: ClassVal, args, kwargs, node):
        """Build an instance; a model built outside any other constructor names its layers."""
        self.building += 1
        try:
            inst = self._instantiate(cls, args, kwargs, node)
        finally:
            self.building -= 1
        if self.building == 0 and isinstance(inst, Instance) and inst.cls.framework:
            self.fw.name_layers(inst)
        return inst

    def _instantiate(self, cls: ClassVal, args, kwargs, node):
        fwv = self.fw.instantiate(self, cls, args, kwargs, node)
        if fwv is not MISSING:
            return fwv
        inst = Instance(cls, data={} if dict_base(cls) else None)
        init, _owner = cls.lookup("__init__")
        if init is MISSING and cls.lookup("__dataclass__")[0] is True:
            self._dataclass_init(cls, inst, args, kwargs, node)
            return inst
        if isinstance(init, FunctionVal):
            self.call_function(init, [inst, *args], kwargs, node)
        elif init is MISSING and inst.data is not None:  # dict's own __init__
            items = pybuiltins.BUILTINS["dict"].fn(self, [mapping_of(a) for a in args], kwargs, node)
            inst.data = items if isinstance(items, dict) else None
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




def _calls(func, fn: FunctionVal) -> bool:
    """Whether calling ``func`` runs ``fn`` with the call's own arguments (after ``self`` or a
    partial's): ``fn`` itself, a method bound to it, a class whose ``__init__`` it is."""
    if func is fn:
        return True
    if isinstance(func, BoundMethod):
        return func.func is fn
    if isinstance(func, PartialVal):
        return _calls(func.func, fn)
    if isinstance(func, ClassVal):
        return fn.name == "__init__" and func.lookup("__init__")[0] is fn
    return False


def _origin_in(scope, name: str):
    """The origin of a parameter ``name`` visible in ``scope`` (None for other names)."""
    s = scope
    while s is not None:
        if name in s.vars:
            return s.origins.get(name)
        s = s.parent
    return None


def _callee_name(func) -> str:
    for attr in ("qualname", "op", "name"):
        v = getattr(func, attr, None)
        if isinstance(v, str):
            return v
    if isinstance(func, BoundMethod):
        return _callee_name(func.func)
    if isinstance(func, Instance):
        return func.cls.name
    return "this call"


_USES_CACHE: dict = {}  # id(FunctionDef) -> (node, {name: number of loads in its body})


def _name_uses(node) -> dict:
    """How many times each name is read in a function's body (nested functions included)."""
    key = id(node)
    hit = _USES_CACHE.get(key)
    if hit is not None and hit[0] is node:
        return hit[1]
    from convlint.source.walk import walk

    counts: dict = {}
    labels = set()  # names that are not variables: ``x.attr``, ``f(key=...)``
    for n in walk(node.body):
        if isinstance(n, cst.Attribute):
            labels.add(id(n.attr))
        elif isinstance(n, cst.Arg) and n.keyword is not None:
            labels.add(id(n.keyword))
        elif isinstance(n, cst.Name) and id(n) not in labels:
            counts[n.value] = counts.get(n.value, 0) + 1
    if len(_USES_CACHE) > 4096:
        _USES_CACHE.clear()
    _USES_CACHE[key] = (node, counts)
    return counts


def _is_generator(fn) -> bool:
    """Does the user function ``fn`` yield? Asked at every call: memoised on the function value
    (a memo keyed by node would keep released trees alive for the whole run)."""
    known = fn.__dict__.get("_generator")
    if known is None:
        # a module whose text never says ``yield`` has no generator: no walk of the body
        known = fn.__dict__["_generator"] = "yield" in getattr(getattr(fn.module, "parsed", None), "text", "yield") and _scan_generator(fn.node)
    return known


def _scan_generator(node) -> bool:
    if not isinstance(node, cst.FunctionDef):
        return False
    from convlint.source.walk import walk

    def prune(n):
        return isinstance(n, (cst.FunctionDef, cst.Lambda, cst.ClassDef))

    return any(isinstance(n, cst.Yield) for n in walk(node.body, prune))
