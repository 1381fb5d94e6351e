"""The framework catalogue and the one object the interpreter asks about framework values.

Each framework module (``torch``, ``jax``, ``flax``) is data plus shape functions: a
``CATALOGUE`` of qualified names, the module names it owns and aliases. Adding a framework means
adding such a module to ``_FRAMEWORK_MODULES``; the interpreter does not change.
"""

from __future__ import annotations

from convlint.frameworks import common as C
from convlint.frameworks import einops as _einops
from convlint.frameworks import flax as _flax
from convlint.frameworks import jax as _jax
from convlint.frameworks import torch as _torch
from convlint.frameworks.base import Container, FwCallable, FwClass, FwModule, Layer, is_int
from convlint.interpret import builtins as pyb
from convlint.interpret.symbolic import Sym, is_size
from convlint.interpret.tensor import CHANNELS_FIRST, CHANNELS_LAST, Tensor
from convlint.interpret.values import MISSING, BoundMethod, ClassVal, FunctionVal, Instance, SuperVal, Unknown

_FRAMEWORK_MODULES = (_torch, _jax, _flax, _einops)

CATALOGUE: dict = {}
MODULES: set = set()
ALIASES: dict = {}
for _m in _FRAMEWORK_MODULES:
    CATALOGUE.update(_m.CATALOGUE)
    MODULES |= set(_m.MODULES)
    ALIASES.update(_m.ALIASES)
CATALOGUE.update(pyb.STDLIB)
MODULES |= pyb.STDLIB_MODULES

# Callables whose calls are conv-family sites (CVL001/CVL008 scan, shapes' op names).
CONV_FAMILY = frozenset(
    name
    for name in CATALOGUE
    if any(tag in name.rsplit(".", 1)[-1] for tag in ("Conv", "conv"))
    and not name.endswith("conv_dimension_numbers")
)


def canonical(qualname: str) -> str:
    for prefix, target in ALIASES.items():
        if qualname == prefix:
            return target
        if qualname.startswith(prefix + "."):
            return target + qualname[len(prefix) :]
    if qualname.startswith("torch.conv") or qualname.startswith("torch.conv_transpose"):
        return "torch.nn.functional." + qualname[len("torch.") :]
    if qualname.startswith("torch.max_pool") or qualname.startswith("torch.avg_pool"):
        return "torch.nn.functional." + qualname[len("torch.") :]
    return qualname


class Frameworks:
    """Answers the interpreter's questions about framework values."""

    # ---------------------------------------------------------------- catalogue
    def module(self, dotted: str):
        dotted = canonical(dotted)
        if dotted in MODULES:
            return FwModule(dotted)
        return None

    def lookup(self, qualname: str):
        return CATALOGUE.get(canonical(qualname))

    def is_framework_value(self, v) -> bool:
        return isinstance(v, (FwCallable, Layer, Container, FwClass))

    def module_framework(self, bases) -> str | None:
        for b in bases:
            if isinstance(b, FwClass):
                return b.framework
            if isinstance(b, ClassVal) and b.framework:
                return b.framework
            if isinstance(b, FwCallable) and b.kind in ("layer", "container"):
                return b.qualname.split(".", 1)[0] if b.qualname.startswith(("torch.", "flax.")) else None
        return None

    # ---------------------------------------------------------------- attributes
    def getattr(self, interp, obj, name):
        if isinstance(obj, FwModule):
            q = obj.qualname + "." + name
            v = self.lookup(q)
            if v is not None:
                return v
            if canonical(q) in MODULES:
                return FwModule(canonical(q))
            return Unknown(f"{q} is outside the catalogue")
        if isinstance(obj, Tensor):
            return tensor_attr(interp, obj, name)
        if isinstance(obj, Layer):
            return layer_attr(interp, obj, name)
        if isinstance(obj, Container):
            return container_attr(interp, obj, name)
        if isinstance(obj, FwCallable) or isinstance(obj, FwClass):
            return Unknown(f"attribute {name} of {obj.qualname}")
        return MISSING

    def attr_other(self, interp, obj, name):
        return Unknown(f"attribute {name} of {type(obj).__name__}")

    def instance_attr_missing(self, interp, inst: Instance, name):
        fw = inst.cls.framework
        if fw == "torch":
            if name in ("register_buffer", "add_module", "register_module", "register_parameter"):
                def reg(i, args, kwargs, node):
                    if len(args) >= 2 and isinstance(args[0], str):
                        inst.attrs[args[0]] = args[1]
                    return None

                return pyb.Builtin(name, reg)
            if name == "training":
                return Unknown("self.training")
            return pyb.Builtin(name, lambda i, a, k, n: Unknown(f"nn.Module.{name}"))
        if fw == "flax":
            if name in ("param", "variable", "make_rng", "sow", "is_initializing", "perturb"):
                return pyb.Builtin(name, lambda i, a, k, n: Unknown(f"flax {name}"))
        return Unknown(f"{inst.cls.name}.{name} is not set")

    def super_attr(self, interp, sup: SuperVal, name):
        base = _layer_base(sup.cls)
        inst = sup.self_val
        if base is not None and isinstance(inst, Instance):
            # a user subclass of a framework layer (``class StdConv2d(nn.Conv2d)``)
            if name == "__init__":
                return pyb.Builtin("super.__init__", lambda i, a, k, n: _build_base_layer(i, inst, base, a, k, n))
            if name in ("forward", "__call__", "_conv_forward"):
                def fwd(i, a, k, n):
                    layer = inst.attrs.get("__layer__")
                    if not isinstance(layer, Layer):
                        return Unknown("base layer not built")
                    return layer.apply(i, layer, a[:1], {}, n)

                return pyb.Builtin("super." + name, fwd)
        if name in ("__init__", "setup", "__post_init__"):
            return pyb.Builtin("super." + name, lambda i, a, k, n: None)
        return Unknown(f"super().{name}")

    def on_setattr(self, interp, inst, name, value):
        return None

    def setattr_other(self, interp, obj, name, value):
        if isinstance(obj, Layer):
            obj.params[name] = value
            return None
        return None

    # ---------------------------------------------------------------- subscripts / iteration
    def subscript(self, interp, obj, key, node):
        if isinstance(obj, Container):
            if isinstance(obj.items, dict):
                if isinstance(key, str) and key in obj.items:
                    return obj.items[key]
                if is_int(key):
                    vals = list(obj.items.values())
                    return vals[key] if -len(vals) <= key < len(vals) else Unknown("index")
                return Unknown("container key")
            if is_int(key):
                return obj.items[key] if -len(obj.items) <= key < len(obj.items) else Unknown("index")
            if isinstance(key, slice):
                return Container(obj.kind, obj.items[key], obj.site, obj.name)
            return Unknown("container index")
        if isinstance(obj, Tensor):
            return tensor_index(interp, obj, key)
        return MISSING

    def iterate(self, interp, v):
        if isinstance(v, Container):
            return v.values() if v.kind != "moduledict" else list(v.items.keys())
        if isinstance(v, Tensor) and v.shape and is_int(v.shape[0]) and 0 < v.shape[0] <= 64:
            return [v.derive(tuple(v.shape[1:])) for _ in range(v.shape[0])]  # along the first dim
        return None

    def length(self, interp, v):
        if isinstance(v, Container):
            return len(v.items)
        if isinstance(v, Tensor) and v.shape:
            return v.shape[0]
        return Unknown("len")

    def truth(self, v):
        if isinstance(v, (Layer, Container, FwCallable, FwClass, FwModule)):
            return True
        if isinstance(v, pyb.LazyIter):
            return len(v.items) > 0
        return None

    def isinstance_check(self, interp, obj, t):
        if isinstance(t, FwCallable) and isinstance(obj, Layer):
            return obj.op == t.qualname
        if isinstance(t, FwCallable) and isinstance(obj, Container):
            return t.kind == "container" and t.qualname.lower().endswith(obj.kind)
        if isinstance(t, ClassVal) and isinstance(obj, Instance):
            return t in obj.cls.mro()
        if isinstance(t, (FwCallable, FwClass)) and isinstance(obj, (Tensor, int, float, str, type(None), list, tuple, dict)):
            return False
        return None

    # ---------------------------------------------------------------- arithmetic
    def tensor_binop(self, interp, opcls, left, right, site):
        import libcst as cst

        lt = left if isinstance(left, Tensor) else None
        rt = right if isinstance(right, Tensor) else None
        if opcls is cst.MatrixMultiply:
            return Tensor(None)
        if lt is not None and rt is not None:
            label = {cst.Add: "+", cst.Subtract: "-", cst.Multiply: "*", cst.Divide: "/"}.get(opcls, "operator")
            shape = C.broadcast(interp, lt, rt, site, f"'{label}'")
            base = lt if len(lt.downs) >= len(rt.downs) else rt
            out = base.derive(shape)
            out.pending = tuple(dict.fromkeys(lt.pending + rt.pending))
            out.fresh = lt.fresh and rt.fresh
            return out
        t = lt or rt
        other = right if lt is not None else left
        if isinstance(other, (bool, int, float)) or isinstance(other, Sym):
            return t
        # the other operand may be a tensor of any shape: broadcasting makes the result unknown
        out = t.derive(None)
        return out

    def instance_binop(self, interp, opcls, left, right, node):
        return Unknown("operator on a module")

    # ---------------------------------------------------------------- calls
    def call(self, interp, func, args, kwargs, node):
        if isinstance(func, FwCallable):
            return func.fn(interp, args, kwargs, node)
        if isinstance(func, Layer):
            return func.apply(interp, func, args, kwargs, node)
        if isinstance(func, Container):
            if func.kind == "sequential":
                x = args[0] if args else Unknown("input")
                for item in func.values():
                    x = interp.call(item, [x], {}, node)
                return x
            return Unknown("calling a ModuleList")
        if isinstance(func, FwClass):
            # ``nn.Module()`` as an attribute bag (``down = nn.Module(); down.block = …``)
            return Instance(_bare_module_class(func))
        return MISSING

    def call_instance(self, interp, inst: Instance, args, kwargs, node):
        fw = inst.cls.framework
        if fw == "flax":
            self.run_setup(interp, inst)
            fn, _ = inst.cls.lookup("__call__")
        else:
            fn, _ = inst.cls.lookup("forward")
            if fn is MISSING:
                fn, _ = inst.cls.lookup("__call__")
            if fn is MISSING and isinstance(inst.attrs.get("__layer__"), Layer):
                layer = inst.attrs["__layer__"]
                return layer.apply(interp, layer, args, kwargs, node)
        if isinstance(fn, FunctionVal):
            return interp.call_function(fn, [inst, *args], kwargs, node)
        return Unknown(f"{inst.cls.name} has no forward")

    def instantiate(self, interp, cls: ClassVal, args, kwargs, node):
        if cls.framework != "flax":
            return MISSING
        inst = Instance(cls)
        fields = [f for f in cls.fields if f[0] not in ("parent", "name")]
        args = list(args)
        for fname, default in fields:
            if args:
                inst.attrs[fname] = args.pop(0)
            elif fname in kwargs:
                inst.attrs[fname] = kwargs[fname]
            elif default is not MISSING:
                inst.attrs[fname] = default
            else:
                inst.attrs[fname] = Unknown(f"field {fname!r} not given")
        post, _ = cls.lookup("__post_init__")
        if isinstance(post, FunctionVal):
            interp.call_function(post, [inst], {}, node)
        return inst

    def run_setup(self, interp, inst: Instance):
        if inst.setup_done:
            return
        inst.setup_done = True
        setup, _ = inst.cls.lookup("setup")
        if isinstance(setup, FunctionVal):
            interp.call_function(setup, [inst], {}, None)

    def base_init(self, interp, cls, inst, args, kwargs, node):
        base = _layer_base(cls)
        if base is not None:
            _build_base_layer(interp, inst, base, args, kwargs, node)
            return None
        return MISSING

    # ---------------------------------------------------------------- naming
    def name_layers(self, root) -> None:
        """Qualified attribute names (``encoder.0.conv``) for the layers under a model instance."""
        seen = set()

        def walk(v, prefix, depth):
            if depth > 12 or id(v) in seen:
                return
            if isinstance(v, Layer):
                seen.add(id(v))
                if v.name is None:
                    v.name = prefix
            elif isinstance(v, Container):
                seen.add(id(v))
                if v.name is None:
                    v.name = prefix
                items = v.items.items() if isinstance(v.items, dict) else enumerate(v.items)
                for k, x in items:
                    walk(x, f"{prefix}.{k}" if prefix else str(k), depth + 1)
            elif isinstance(v, Instance):
                seen.add(id(v))
                inner = v.attrs.get("__layer__")
                if isinstance(inner, Layer):
                    walk(inner, prefix, depth + 1)  # the framework layer a user subclass wraps
                for k, x in list(v.attrs.items()):
                    if k != "__layer__":
                        walk(x, f"{prefix}.{k}" if prefix else k, depth + 1)
            elif isinstance(v, (list, tuple)):
                for k, x in enumerate(v):
                    walk(x, f"{prefix}.{k}" if prefix else str(k), depth + 1)
            elif isinstance(v, dict):
                for k, x in v.items():
                    if isinstance(k, str):
                        walk(x, f"{prefix}.{k}" if prefix else k, depth + 1)

        walk(root, "", 0)


FRAMEWORKS = Frameworks()


def upsampling_fix(event, din, want):
    """The certain repair of an upsampling layer that misses ``want`` from input ``din``, or None."""
    layer = event.layer
    if isinstance(layer, Layer) and layer.framework == "torch":
        return _torch.transpose_fix(layer, din, want)
    if isinstance(layer, Layer) and layer.op == "flax.linen.ConvTranspose":
        pad = layer.params.get("padding")
        if isinstance(pad, str) or not event.windows:
            return None
        return C.pairs_fix(layer.extra.get("call"), event.windows, din, want, pad, 3, "ConvTranspose")
    if event.op in ("jax.lax.conv_general_dilated", "jax.lax.conv_transpose") and event.call_site is not None:
        pad = event.params.get("padding")
        if isinstance(pad, str) or (event.op == "jax.lax.conv_transpose" and event.params.get("use_consistent_padding")):
            return None
        return C.pairs_fix(event.call_site.node, event.windows, din, want, [], 3, event.op)  # lax: a list of pairs
    return None

# -------------------------------------------------------------------------------- tensor methods

def _dim_of(t: Tensor, d):
    if t.shape is None or not is_int(d):
        return Unknown("dim")
    n = len(t.shape)
    if not -n <= d < n:
        return Unknown("dim out of range")
    return t.shape[d]


def tensor_attr(interp, t: Tensor, name: str):
    if name == "shape":
        return tuple(t.shape) if t.shape is not None else Unknown("shape of unknown rank")
    if name == "ndim":
        return len(t.shape) if t.shape is not None else Unknown("rank")
    if name in ("T", "mT", "real", "imag", "data", "grad"):
        return t if name not in ("T", "mT") else (t.derive(tuple(reversed(t.shape))) if t.shape is not None else t)
    if name == "dtype" or name == "device":
        return Unknown(name)

    def method(fn):
        return pyb.Builtin(f"Tensor.{name}", fn)

    if name == "size":
        return method(lambda i, a, k, n: (tuple(t.shape) if t.shape is not None else Unknown("size")) if not a and "dim" not in k else _dim_of(t, a[0] if a else k["dim"]))
    if name == "dim":
        return method(lambda i, a, k, n: len(t.shape) if t.shape is not None else Unknown("dim"))
    if name in ("view", "reshape"):
        def view(i, a, k, n):
            if "*" in k or (len(a) == 1 and isinstance(a[0], Unknown)):
                return t.derive(None)  # the target's rank is not known
            shape = a[0] if len(a) == 1 and isinstance(a[0], (tuple, list)) else tuple(a)
            if "shape" in k:
                shape = k["shape"]
            s = C.as_shape(shape)
            return C.reshape(t, s, name) if s is not None else t.derive(None)

        return method(view)
    if name == "flatten":
        def fl(i, a, k, n):
            s = a[0] if a else k.get("start_dim", 0)
            e = a[1] if len(a) > 1 else k.get("end_dim", -1)
            return C.flatten(t, s, e, "flatten") if is_int(s) and is_int(e) else t.derive(None)

        return method(fl)
    if name in ("permute",):
        def perm(i, a, k, n):
            order = a[0] if len(a) == 1 and isinstance(a[0], (tuple, list)) else a
            if t.shape is None or not all(is_int(o) for o in order) or len(order) != len(t.shape):
                return t.derive(None)
            return t.derive(tuple(t.shape[o] for o in order), layout=None)

        return method(perm)
    if name in ("transpose", "swapaxes"):
        def tr(i, a, k, n):
            if t.shape is None:
                return t
            if t.framework in ("jax", "flax") and name == "transpose" and len(a) == len(t.shape) and len(a) != 2 and all(is_int(x) for x in a):
                return t.derive(tuple(t.shape[o] for o in a), layout=None)  # jax: x.transpose(0, 3, 1, 2)
            if len(a) == 2 and all(is_int(x) for x in a):
                s = list(t.shape)
                try:
                    s[a[0]], s[a[1]] = s[a[1]], s[a[0]]
                except IndexError:
                    return t.derive(None)
                return t.derive(tuple(s), layout=None)
            if len(a) == 1 and isinstance(a[0], (tuple, list)) and all(is_int(x) for x in a[0]) and len(a[0]) == len(t.shape):
                return t.derive(tuple(t.shape[o] for o in a[0]), layout=None)
            return t.derive(None)

        return method(tr)
    if name == "unsqueeze":
        def unsq(i, a, k, n):
            d = a[0] if a else k.get("dim")
            if t.shape is None or not is_int(d):
                return t.derive(None)
            s = list(t.shape)
            d = d if d >= 0 else len(s) + 1 + d
            s.insert(d, 1)
            return t.derive(tuple(s))

        return method(unsq)
    if name == "squeeze":
        def sq(i, a, k, n):
            if t.shape is None:
                return t
            if a and is_int(a[0]):
                d = a[0]
                if t.shape[d] == 1:
                    s = list(t.shape)
                    s.pop(d)
                    return t.derive(tuple(s))
                return t if is_int(t.shape[d]) else t.derive(None)
            if all(is_int(x) for x in t.shape):
                return t.derive(tuple(x for x in t.shape if x != 1))
            return t.derive(None)

        return method(sq)
    if name in ("chunk",):
        return method(lambda i, a, k, n: _torch._chunk(i, [t, *a], k, n))
    if name in ("mean", "sum", "amax", "amin", "max", "min", "std", "var", "norm", "prod", "logsumexp"):
        def red(i, a, k, n):
            return C.reduce(t, a[0] if a else k.get("dim", k.get("axis")), k.get("keepdim", k.get("keepdims", False)))

        return method(red)
    if name in _SAME_SHAPE_METHODS:
        return method(lambda i, a, k, n: t)
    if name in ("add", "sub", "mul", "div", "add_", "sub_", "mul_", "div_", "maximum", "minimum", "pow", "where"):
        import libcst as cst

        op = {"add": cst.Add, "sub": cst.Subtract, "mul": cst.Multiply, "div": cst.Divide}.get(name.rstrip("_"), cst.Add)

        def arith(i, a, k, n):
            other = a[0] if a else k.get("other", Unknown("operand"))
            return FRAMEWORKS.tensor_binop(i, op, t, other, i.site(n) if n is not None else None)

        return method(arith)
    if name == "unbind":
        def unbind(i, a, k, n):
            d = a[0] if a else k.get("dim", 0)
            if t.shape is None or not is_int(d) or not -len(t.shape) <= d < len(t.shape):
                return Unknown("unbind")
            d %= len(t.shape)
            size = t.shape[d]
            if not is_int(size) or size > 64:
                return Unknown("unbind")
            return tuple(t.derive(tuple(t.shape[:d]) + tuple(t.shape[d + 1 :])) for _ in range(size))

        return method(unbind)
    if name in ("matmul", "bmm", "mm"):
        return method(lambda i, a, k, n: C.matmul(t, a[0]) if a else Unknown("matmul"))
    if name == "split":
        return method(lambda i, a, k, n: C.split_sizes(t, a[0] if a else k.get("split_size"), a[1] if len(a) > 1 else k.get("dim", 0)))
    if name == "narrow":
        def narrow(i, a, k, n):
            if len(a) == 3 and all(is_int(v) for v in a) and t.shape is not None and -len(t.shape) <= a[0] < len(t.shape):
                d = a[0] % len(t.shape)
                return C.repair(t.derive(tuple(t.shape[:d]) + (a[2],) + tuple(t.shape[d + 1 :])))
            return Tensor(None)

        return method(narrow)
    if name in ("repeat", "tile"):
        def rep(i, a, k, n):
            reps = a[0] if len(a) == 1 and isinstance(a[0], (tuple, list)) else a
            if t.shape is None or not reps or not all(is_int(v) for v in reps) or len(reps) < len(t.shape):
                return Tensor(None)
            shape = (1,) * (len(reps) - len(t.shape)) + tuple(t.shape)
            return t.derive(tuple(d * r if is_size(d) else Unknown("repeat") for d, r in zip(shape, reps)))

        return method(rep)
    if name == "repeat_interleave":
        def ri(i, a, k, n):
            r = a[0] if a else k.get("repeats")
            d = a[1] if len(a) > 1 else k.get("dim")
            if t.shape is None or not is_int(r) or not is_int(d) or not -len(t.shape) <= d < len(t.shape):
                return Tensor(None)
            d %= len(t.shape)
            size = t.shape[d]
            return t.derive(tuple(t.shape[:d]) + ((size * r) if is_size(size) else Unknown("repeat"),) + tuple(t.shape[d + 1 :]))

        return method(ri)
    if name == "unflatten":
        def unf(i, a, k, n):
            d = a[0] if a else k.get("dim")
            sizes = a[1] if len(a) > 1 else k.get("sizes")
            if t.shape is None or not is_int(d) or not isinstance(sizes, (tuple, list)):
                return Tensor(None)
            d %= len(t.shape)
            return C.reshape(t, tuple(t.shape[:d]) + tuple(sizes) + tuple(t.shape[d + 1 :]), "unflatten")

        return method(unf)
    if name in ("view_as", "expand_as", "reshape_as"):
        return method(lambda i, a, k, n: t.derive(a[0].shape) if a and isinstance(a[0], Tensor) else t.derive(None))
    if name in ("new_zeros", "new_ones", "new_empty", "new_full"):
        def new(i, a, k, n):
            shape = a[0] if a and isinstance(a[0], (tuple, list)) else k.get("size")
            s = C.as_shape(shape)
            return Tensor(s, t.layout, framework=t.framework) if s is not None else Tensor(None)

        return method(new)
    if name == "numel":
        return method(lambda i, a, k, n: C.numel(t.shape) if t.shape is not None else Unknown("numel"))
    # anything else (argmax, topk, split, expand, repeat, matmul, …): the result is not known
    return method(lambda i, a, k, n: Unknown(f"Tensor.{name}"))


_SAME_SHAPE_METHODS = frozenset(
    (
        "to", "float", "double", "half", "bfloat16", "int", "long", "bool", "cuda", "cpu", "contiguous", "clone", "detach",
        "detach_", "requires_grad_", "relu", "relu_", "sigmoid", "sigmoid_", "tanh", "tanh_", "exp", "exp_", "log", "abs",
        "sqrt", "rsqrt", "neg", "clamp", "clamp_", "clip", "sin", "cos", "softmax", "log_softmax", "type_as", "masked_fill",
        "masked_fill_", "roll", "flip", "zero_", "fill_", "normal_", "uniform_", "square", "sign", "round", "floor", "ceil",
        "nan_to_num", "copy_", "pin_memory", "gelu", "silu", "leaky_relu", "cumsum", "cumprod", "erf", "reciprocal", "type",
        "astype", "block_until_ready", "mul_scalar", "sigmoid", "softplus", "lerp", "float32", "div_scalar",
    )
)


def tensor_index(interp, t: Tensor, key):
    """Indexing and slicing: known slices change sizes; a crop repairs pending mismatches."""
    if t.shape is None:
        return t.derive(None)
    keys = key if isinstance(key, tuple) else (key,)
    shape = list(t.shape)
    out = []
    axis = 0
    cropped = False
    if any(k is Ellipsis for k in keys):
        e = keys.index(Ellipsis)
        fill = len(shape) - (len(keys) - 1 - sum(1 for k in keys if k is None))
        keys = keys[:e] + (slice(None),) * max(fill, 0) + keys[e + 1 :]
    for k in keys:
        if k is None:
            out.append(1)
            continue
        if axis >= len(shape):
            return t.derive(None)
        d = shape[axis]
        if isinstance(k, slice):
            if k == slice(None):
                out.append(d)
            elif is_int(d):
                out.append(len(range(d)[k]))
                cropped = True
            elif isinstance(d, Sym) and k.step in (None, 1) and (k.start is None or k.start >= 0) and (k.stop is None or is_int(k.stop)):
                start = k.start or 0
                if k.stop is None:
                    out.append(d - start)
                elif k.stop < 0:
                    out.append(d + k.stop - start)
                else:
                    out.append(Unknown("slice of a symbolic size"))
                cropped = True
            else:
                out.append(Unknown("slice"))
                cropped = True
        elif isinstance(k, tuple) and k and k[0] == "slice":
            out.append(Unknown("slice with unknown bounds"))
            cropped = True
        elif is_int(k):
            pass  # dimension removed
        else:
            return t.derive(None)
        axis += 1
    out.extend(shape[axis:])
    res = t.derive(tuple(out))
    if cropped:
        C.repair(res)
    return res


def layer_attr(interp, layer: Layer, name: str):
    if name in layer.params:
        return layer.params[name]
    if name == "weight":
        return layer.extra["weight"] if "weight" in layer.extra else _weight(layer)
    return Unknown(f"{layer.op}.{name}")


def _layer_base(cls) -> FwCallable | None:
    """The framework layer a user class derives from, if any."""
    if not isinstance(cls, ClassVal):
        return None
    for c in cls.mro():
        for b in c.bases:
            if isinstance(b, FwCallable) and b.kind == "layer":
                return b
    return None


def _build_base_layer(interp, inst: Instance, base: FwCallable, args, kwargs, node):
    layer = base.fn(interp, list(args), dict(kwargs), node if node is not None else (inst.cls.node))
    if isinstance(layer, Layer):
        inst.attrs["__layer__"] = layer
        for k, v in layer.params.items():
            inst.attrs.setdefault(k, v)
        w = layer_attr(interp, layer, "weight")
        inst.attrs.setdefault("weight", w)
        inst.attrs.setdefault("bias", Unknown("bias"))
    return None


_BARE: dict = {}


def _bare_module_class(fwcls: FwClass) -> ClassVal:
    cls = _BARE.get(fwcls.qualname)
    if cls is None:
        cls = _BARE[fwcls.qualname] = ClassVal(None, None, fwcls.qualname.rsplit(".", 1)[-1], [fwcls], framework=fwcls.framework)
    return cls


def container_attr(interp, c: Container, name: str):
    if name == "insert" and isinstance(c.items, list):
        def ins(i, a, k, n):
            if len(a) == 2 and is_int(a[0]):
                c.items.insert(a[0], a[1])
            else:
                c.items[:] = [Unknown("insert at an unknown index")]

        return pyb.Builtin("insert", ins)
    if name == "pop" and isinstance(c.items, list):
        return pyb.Builtin("pop", lambda i, a, k, n: c.items.pop(*[x for x in a if is_int(x)][:1]) if c.items else Unknown("pop"))
    if name == "append" and isinstance(c.items, list):
        return pyb.Builtin("append", lambda i, a, k, n: c.items.append(a[0]) if a else None)
    if name == "extend" and isinstance(c.items, list):
        def ext(i, a, k, n):
            items = i.iterate(a[0]) if a else None
            if items is None:
                c.items.append(Unknown("extended by unknown"))
            else:
                c.items.extend(items)

        return pyb.Builtin("extend", ext)
    if name == "add_module":
        def add(i, a, k, n):
            if len(a) == 2 and isinstance(a[0], str):
                if isinstance(c.items, dict):
                    c.items[a[0]] = a[1]
                else:
                    c.items.append(a[1])

        return pyb.Builtin("add_module", add)
    if name in ("items", "keys", "values") and isinstance(c.items, dict):
        return pyb.Builtin(name, lambda i, a, k, n: pyb.LazyIter(getattr(c.items, name)()))
    if name == "children":
        return pyb.Builtin(name, lambda i, a, k, n: pyb.LazyIter(c.values()))
    if isinstance(c.items, dict) and name in c.items:
        return c.items[name]
    return Unknown(f"{c.kind}.{name}")


__all__ = ["Frameworks", "CATALOGUE", "CONV_FAMILY", "MODULES", "canonical", "Layer", "Container", "BoundMethod", "is_size", "CHANNELS_FIRST", "CHANNELS_LAST"]


def _weight(layer: Layer):
    """A conv layer's weight as a tensor: (out, in/groups, *k), or (in, out/groups, *k) transposed."""
    rank = layer.extra.get("rank")
    conv = layer.config
    p = layer.params
    if rank is None or conv is None:
        return Unknown("weight")
    g = p.get("groups", 1)
    cin, cout = p.get("in_channels"), p.get("out_channels")
    if not (is_int(g) and is_int(cin) and is_int(cout)) or g < 1:
        return Tensor((Unknown("channels"), Unknown("channels"), *conv.kernel_size), CHANNELS_FIRST, framework="torch")
    if layer.extra.get("transposed"):
        return Tensor((cin, cout // g, *conv.kernel_size), CHANNELS_FIRST, framework="torch")
    return Tensor((cout, cin // g, *conv.kernel_size), CHANNELS_FIRST, framework="torch")
