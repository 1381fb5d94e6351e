"""Expressions: literals, names, attributes, subscripts, operators, comparisons and
comprehensions (a mixin of the interpreter).

Every expression evaluates to a known Python value or an abstract one
(:mod:`convlint.interpret.values`); operators on tensors, attributes of framework values and
subscripts of tensors are asked of the frameworks (:class:`~convlint.frameworks.Frameworks`).
"""

from __future__ import annotations

import operator

import libcst as cst

from convlint.interpret import builtins as pybuiltins
from convlint.interpret.flow import BudgetExceeded, UnknownLength, raised
from convlint.interpret.lattice import comparable, hashable, is_known, join
from convlint.interpret.ops import CST_BINOPS, CST_CMPOPS, BinOp
from convlint.interpret.scope import Scope
from convlint.interpret.statements import MAX_LOOP
from convlint.interpret.symbolic import Sym
from convlint.interpret.tensor import Tensor
from convlint.interpret.values import MISSING, BoundMethod, ClassVal, ExternalRef, FunctionVal, Instance, MethodDescriptor, PartialSeq, PartialVal, SuperVal, Unknown, UnknownNumber, mapping_of, numeric, unwrap
from convlint.source.project import ModuleInfo, NamespacePackage

__all__ = ["ExpressionEvaluator"]

# methods of ``dict`` a dict-subclass instance answers from its items
_DICT_METHODS = frozenset({"get", "items", "keys", "values", "copy", "pop", "update", "setdefault", "__contains__", "__len__", "__iter__"})


_UNSEEN = object()
_EVALUATORS: dict = {}  # (evaluator class, LibCST node type) -> its ``_ex_`` function, or None

# the value of a number or string literal by its source text (``ast.literal_eval`` is slow, and a
# model's loops evaluate the same literals again and again); values are immutable: shared safely
_LITERALS: dict[tuple[type, str], object] = {}
_LITERAL_TEXT = 256  # longer literals (docstrings) are not kept


def _literal(node):
    key = (type(node), node.value)
    hit = _LITERALS.get(key, _UNSEEN)
    if hit is _UNSEEN:
        hit = node.evaluated_value
        if len(node.value) <= _LITERAL_TEXT:
            if len(_LITERALS) > 50_000:
                _LITERALS.clear()
            _LITERALS[key] = hit
    return hit


def _fixed_hash(x) -> bool:
    """``hash(x)`` is the same in every run of the program (no string or bytes in it)."""
    if type(x) in (int, bool, float, type(None)):
        return True
    return type(x) is tuple and all(_fixed_hash(y) for y in x)


def _same_sizes(a, b):
    """``a == b`` for sizes and shapes that hold symbolic sizes (``x.shape != y.shape``): False when
    a pair of them differs for every value (:func:`~convlint.interpret.symbolic.always_differ`) or
    the lengths differ, True when every pair is the same, None when that is not decided (or the
    values are not sizes)."""
    from convlint.interpret.symbolic import always_differ

    def size(v):
        return (isinstance(v, int) and not isinstance(v, bool)) or isinstance(v, Sym)

    if isinstance(a, (tuple, list)) and isinstance(b, (tuple, list)) and type(a) is type(b):
        if not all(size(x) for x in (*a, *b)) or not any(isinstance(x, Sym) for x in (*a, *b)):
            return None
        if len(a) != len(b):
            return False
        pairs = list(zip(a, b))
    elif size(a) and size(b) and (isinstance(a, Sym) or isinstance(b, Sym)):
        pairs = [(a, b)]
    else:
        return None
    undecided = False
    for x, y in pairs:
        if isinstance(x, int) and isinstance(y, int):
            if x != y:
                return False
        elif x == y and type(x) is type(y):
            continue
        elif always_differ(x, y):
            return False
        else:
            undecided = True
    return None if undecided else True


def _stands_for_several(v) -> bool:
    """A framework value that is one of several (a join, ``frameworks.base.Op.join_with``)."""
    several = getattr(v, "stands_for_several", None)
    return several is not None and several()


class ExpressionEvaluator:
    """The expression half of :class:`~convlint.interpret.interpreter.Interpreter`."""

    # ------------------------------------------------------------------ expressions
    def eval(self, node, scope: Scope):
        kind = type(node)
        method = _EVALUATORS.get((type(self), kind), _UNSEEN)
        if method is _UNSEEN:  # the ``_ex_<node type>`` method, looked up once per class and node type
            method = _EVALUATORS[type(self), kind] = getattr(type(self), "_ex_" + kind.__name__, None)
        if method is None:
            return Unknown(f"unsupported expression {kind.__name__}")
        return method(self, node, scope)

    def _ex_Integer(self, node, scope):
        return _literal(node)

    def _ex_Float(self, node, scope):
        return _literal(node)

    def _ex_Imaginary(self, node, scope):
        return Unknown("complex literal")

    def _ex_SimpleString(self, node, scope):
        try:
            return _literal(node)
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
                return Unknown(f"name {name!r} is not defined here", self.site(node))
        return unwrap(v)

    def _ex_Attribute(self, node: cst.Attribute, scope: Scope):
        obj = self.eval(node.value, scope)
        v = self.getattr(obj, node.attr.value, node)
        return v.at(self.site(node)) if isinstance(v, Unknown) and v.site is None else v

    def getattr(self, obj, name: str, node=None, import_from: bool = False):
        if isinstance(obj, Unknown):
            return obj
        if isinstance(obj, ModuleInfo):  # a project module
            return self.module_attr(obj, name)
        if isinstance(obj, NamespacePackage):
            sub = self.project.submodule(obj, name)
            return sub if sub is not None else Unknown(f"{obj.name}.{name} not found")
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
            if name == "__dict__":  # a snapshot of the instance's own attributes
                return {k: v for k, v in obj.attrs.items() if not (k.startswith("__") and k.endswith("__"))}
            v, _owner = obj.cls.lookup(name)
            if v is MISSING and obj.data is not None and name in _DICT_METHODS:
                return pybuiltins.attr_of(self, obj.data, name)
            if v is MISSING and obj.data is not None and name in obj.data and obj.cls.lookup("__attribute_items__")[0] is True:
                return obj.data[name]  # a ConfigDict's keys are its attributes
            if v is MISSING:
                if not obj.setup_done:
                    self.fw.prepare_instance(self, obj)  # flax: ``setup`` defines attributes
                    if name in obj.attrs:
                        return obj.attrs[name]
                base_attr = self.fw.instance_attr_missing(self, obj, name)  # the framework's Module's
                if not isinstance(base_attr, Unknown):
                    return base_attr
                getattr_fn, _ = obj.cls.lookup("__getattr__")
                if isinstance(getattr_fn, FunctionVal) and (id(obj), name) not in self._in_getattr:
                    # Python calls ``__getattr__`` when the normal lookup (the class's, its framework
                    # base's) fails; an AttributeError it raises is the attribute's absence
                    self._in_getattr.add((id(obj), name))
                    try:
                        got = self.call(getattr_fn, [obj, name], {}, None)
                    finally:
                        self._in_getattr.discard((id(obj), name))
                    if not isinstance(got, Unknown) or raised(got):
                        return got
                return base_attr
            return self._bind(v, obj)
        if isinstance(obj, ClassVal):
            v, _owner = obj.lookup(name)
            if v is MISSING and (obj.framework or name == "apply"):
                v = self.fw.class_attr_missing(self, obj, name)
            if v is MISSING:
                if name in ("__name__", "__qualname__"):
                    return obj.name
                if name == "__module__":
                    return obj.module.name if obj.module is not None else Unknown("__module__")
                return Unknown(f"{obj.name}.{name} is not defined")
            if isinstance(v, MethodDescriptor):
                return BoundMethod(v.func, obj) if v.kind == "classmethod" else v.func
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
            inst = obj.self_val
            if isinstance(inst, Instance) and inst.data is not None:  # dict's own methods
                if name == "__init__":
                    def dict_init(i, a, k, n):
                        items = pybuiltins.BUILTINS["dict"].fn(i, [mapping_of(x) for x in a], k, n)
                        if isinstance(items, dict):
                            inst.data.update(items)
                        else:
                            inst.data = None  # items not known: the instance is no longer a known mapping
                        return None

                    return pybuiltins.Builtin("dict.__init__", dict_init)
                if name == "__setattr__":
                    return pybuiltins.Builtin("object.__setattr__", lambda i, a, k, n: self.setattr(inst, a[0], a[1]) if len(a) == 2 and isinstance(a[0], str) else None)
                if name in ("__setitem__", "__getitem__"):
                    return pybuiltins.Builtin(f"dict.{name}", lambda i, a, k, n: self.dict_item(inst, name, a))
                if name in _DICT_METHODS:
                    return pybuiltins.attr_of(self, inst.data, name)
            return self.fw.super_attr(self, obj, name)
        if isinstance(obj, BoundMethod) and name in ("__func__", "__self__"):
            return obj.func if name == "__func__" else obj.self_val
        fn = obj.func if isinstance(obj, BoundMethod) else obj
        if isinstance(fn, FunctionVal):
            if name == "__name__":
                return fn.name
            if name == "__qualname__":
                return fn.qualname
            if name == "__module__":
                return fn.module.name if fn.module is not None else Unknown("__module__")
            return Unknown(f"attribute {name} of a function")
        return pybuiltins.attr_of(self, obj, name)

    def dict_item(self, inst, name, args):
        """``dict.__getitem__`` / ``dict.__setitem__`` on a dict-subclass instance's items."""
        if inst.data is None or not args or not is_known(args[0]) or not hashable(args[0]):
            if name == "__setitem__":
                inst.data = None
            return Unknown(f"dict.{name}")
        if name == "__setitem__":
            if len(args) == 2:
                inst.data[args[0]] = args[1]
            return None
        return inst.data[args[0]] if args[0] in inst.data else Unknown(f"key {args[0]!r} not in dict")

    def _bind(self, v, self_val):
        if isinstance(v, FunctionVal):
            return BoundMethod(v, self_val)
        if isinstance(v, MethodDescriptor):
            if v.kind == "property":
                return self.call(v.func, [self_val], {}, None)
            if v.kind == "classmethod":
                return BoundMethod(v.func, self_val.cls if isinstance(self_val, Instance) else self_val)
            return v.func
        return v

    def shape_expr(self, node, scope: Scope):
        """``(tensor, value)`` of an expression: for ``E.shape`` or ``E.size()`` whose ``E`` is a
        tensor, that tensor and its shape as Python sees it; else ``(None, value)``. Where the
        shape is not a known tuple, the caller may still read what Python's own rules fix (an
        unpacking into names, an index from the end: :meth:`Tensor.unpacked_shape`)."""
        base = None
        if isinstance(node, cst.Attribute) and node.attr.value == "shape":
            base = node.value
        elif isinstance(node, cst.Call) and not node.args and isinstance(node.func, cst.Attribute) and node.func.attr.value == "size":
            base = node.func.value
        if base is None:
            return None, self.eval(node, scope)
        t = self.eval(base, scope)
        if not isinstance(t, Tensor):
            v = self.getattr(t, "shape" if isinstance(node, cst.Attribute) else "size", node)
            if isinstance(node, cst.Call):
                v = self.call(v, [], {}, node)
            return None, v.at(self.site(node)) if isinstance(v, Unknown) and v.site is None else v
        v = self.getattr(t, "shape", node)
        return t, v.at(self.site(node)) if isinstance(v, Unknown) and v.site is None else v

    def _ex_Subscript(self, node: cst.Subscript, scope: Scope):
        t, obj = self.shape_expr(node.value, scope)
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
        if t is not None and isinstance(obj, Unknown):
            got = t.shape_from_end(key)  # ``x.shape[-2:]`` of a rank known as a lower bound
            if got is not None:
                return got
        return self.subscript(obj, key, node)

    def subscript(self, obj, key, node=None):
        if isinstance(obj, Unknown):
            return obj
        fwv = self.fw.subscript(self, obj, key, node)
        if fwv is not MISSING:
            return fwv
        if isinstance(obj, PartialSeq):
            got = obj.item(key)
            return got if got is not None else Unknown("an item of a sequence whose rest is unknown")
        if isinstance(obj, (list, tuple, str)):
            if isinstance(key, (int, slice)) and not isinstance(key, bool):
                try:
                    return obj[key]
                except IndexError:
                    return Unknown("index out of range")
            return Unknown("unknown index")
        if isinstance(obj, dict):
            if is_known(key) and hashable(key):
                if key in obj:
                    return obj[key]
                return Unknown(f"key {key!r} not in dict")
            return Unknown("unknown key")
        if isinstance(obj, Instance):
            fn, _ = obj.cls.lookup("__getitem__")
            if isinstance(fn, FunctionVal):
                return self.call(fn, [obj, key], {}, node)
            if fn is MISSING and obj.data is not None:
                return self.subscript(obj.data, key, node)
        return Unknown("subscript of an unsupported value")

    def _ex_Tuple(self, node: cst.Tuple, scope: Scope):
        try:
            return tuple(self._elements(node.elements, scope))
        except UnknownLength:
            return Unknown("a tuple with a starred unknown: its length is not known")

    def _ex_List(self, node: cst.List, scope: Scope):
        try:
            return list(self._elements(node.elements, scope))
        except UnknownLength:
            return Unknown("a list with a starred unknown: its length is not known")

    def _ex_Set(self, node: cst.Set, scope: Scope):
        try:
            items = self._elements(node.elements, scope)
        except UnknownLength:
            return Unknown("set")
        if all(is_known(x) and hashable(x) for x in items):
            return set(items)
        return Unknown("set of unknowns")

    def _elements(self, elements, scope):
        out = []
        for e in elements:
            if isinstance(e, cst.StarredElement):
                v = self.eval(e.value, scope)
                items = self.iterate(v)
                if items is None:
                    raise UnknownLength()
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
                if not (is_known(k) and hashable(k)):
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
        return self.binop(CST_BINOPS[type(node.operator)], left, right, node)

    def binop(self, op: BinOp, left, right, node):
        """``left op right`` on abstract values; tensors go to the framework."""
        if isinstance(left, Tensor) or isinstance(right, Tensor):
            return self.fw.tensor_binop(self, op, left, right, self.site(node) if node is not None else None)
        if op is BinOp.ADD and (isinstance(left, PartialSeq) or isinstance(right, PartialSeq)
                                or (isinstance(left, (tuple, list)) and isinstance(right, Unknown))):
            # a sequence followed by one not known: its first items stay known (Python would raise
            # were the right operand no sequence of the same type)
            if isinstance(left, PartialSeq):
                return PartialSeq(left.prefix)
            if isinstance(left, (tuple, list)):
                return PartialSeq(tuple(left) + (right.prefix if isinstance(right, PartialSeq) else ()))
        if isinstance(left, Unknown) or isinstance(right, Unknown):
            u = left if isinstance(left, Unknown) else right
            if numeric(left) and numeric(right) and op.elementwise:
                return UnknownNumber("arithmetic on a number that is not known", u.site, u)  # still a number
            return Unknown(u.reason, u.site, u.cause) if type(u) is UnknownNumber else u
        fn = op.fn
        if isinstance(left, Sym) or isinstance(right, Sym):
            # a symbolic size is an int: arithmetic with a number that a Sym cannot express
            # (``dim ** 0.5``, ``dim / 2``) is still a number
            other = (isinstance(left, Sym) or numeric(left)) and (isinstance(right, Sym) or numeric(right)) and op.elementwise
            if op in (BinOp.ADD, BinOp.SUB, BinOp.MUL, BinOp.FLOORDIV, BinOp.MOD):
                try:
                    r = fn(left, right)
                    if r is not NotImplemented:
                        return r
                except Exception:
                    pass
            return UnknownNumber("symbolic arithmetic") if other else Unknown("symbolic arithmetic")
        if isinstance(left, (list, tuple, str, int, float, bool, type(None), dict, set)) and isinstance(
            right, (list, tuple, str, int, float, bool, type(None), dict, set)
        ):
            try:
                if op is BinOp.POW and isinstance(right, int) and abs(right) > 64:
                    return Unknown("large power")
                if op is BinOp.MUL and isinstance(left, (list, tuple, str)) and isinstance(right, int) and right * len(left) > 100_000:
                    return Unknown("large repetition")
                if op is BinOp.MUL and isinstance(right, (list, tuple, str)) and isinstance(left, int) and left * len(right) > 100_000:
                    return Unknown("large repetition")
                r = fn(left, right)
                if isinstance(r, list) and (r is left or r is right):
                    r = list(r)
                return r
            except Exception:
                return Unknown("arithmetic error")
        if isinstance(left, Instance) or isinstance(right, Instance):
            return self.fw.instance_binop(self, op, left, right, node)
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
        if len(node.comparisons) == 1 and isinstance(node.comparisons[0].operator, tuple(CST_CMPOPS)):
            right = self.eval(node.comparisons[0].comparator, scope)
            if isinstance(left, Tensor) or isinstance(right, Tensor):
                # elementwise: a boolean tensor of the broadcast shape
                return self.fw.tensor_binop(self, BinOp.ADD, left, right, self.site(node))
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
            if _stands_for_several(left) or _stands_for_several(right):
                other = right if _stands_for_several(left) else left
                if self.fw.is_framework_value(other):  # it may be that one, or another
                    return None
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
            right = mapping_of(right)
            if not is_known(left) or not isinstance(right, (list, tuple, dict, str, set)) or not is_known(right):
                if isinstance(right, dict) and is_known(left) and hashable(left):
                    r = left in right
                    return r if isinstance(op, cst.In) else not r
                return None
            try:
                r = left in right
            except Exception:
                return None
            return r if isinstance(op, cst.In) else not r
        fn = CST_CMPOPS.get(type(op))
        if fn is None or not is_known(left) or not is_known(right):
            return None
        if fn in (operator.eq, operator.ne):
            same = _same_sizes(left, right)
            if same is not None:
                return same if fn is operator.eq else not same
        if isinstance(left, (Sym, Tensor, Instance)) or isinstance(right, (Sym, Tensor, Instance)):
            if isinstance(left, Sym) and isinstance(right, Sym) and left == right and fn in (operator.eq, operator.le, operator.ge):
                return True
            return None
        if not (comparable(left) and comparable(right)):
            if fn in (operator.eq, operator.ne) and (isinstance(left, (ClassVal, FunctionVal)) or isinstance(right, (ClassVal, FunctionVal))
                                                     or pybuiltins.is_type_object(left) or pybuiltins.is_type_object(right)):
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
        if isinstance(out, Unknown) or not all(is_known(x) and hashable(x) for x in out):
            return Unknown("set comprehension")
        return set(out)

    def _ex_DictComp(self, node, scope):
        out = self._comprehension(node, scope, lambda s: (self.eval(node.key, s), self.eval(node.value, s)))
        if isinstance(out, Unknown):
            return out
        d = {}
        for k, v in out:
            if not (is_known(k) and hashable(k)):
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
        v = mapping_of(v)
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
        if isinstance(v, (set, frozenset)) and all(_fixed_hash(x) for x in v):
            # the order CPython iterates it in, the program's own: numbers (and None, tuples of
            # them) hash the same in every run; strings do not (PYTHONHASHSEED), so a set of
            # strings has no known order
            return list(v)
        return self.fw.iterate(self, v)
