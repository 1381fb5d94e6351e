"""The framework catalogue and the one object the interpreter asks about framework values.

Each framework module (:mod:`.torch`, :mod:`.jax`, :mod:`.flax`, :mod:`.einops`) is data plus
shape functions (the :class:`~convlint.frameworks.protocol.Framework` protocol): a ``CATALOGUE``
of qualified names → :class:`~convlint.frameworks.base.Op`, the module names it owns, aliases,
and the semantics of its model classes. :class:`Frameworks` (the
:class:`~convlint.frameworks.protocol.FrameworkSupport` the interpreter talks to) dispatches to
them; tensor attributes and methods come from :mod:`.tensor_methods`, framework-neutral shape
functions from :mod:`.shapes`. Adding a framework means adding its module to
:data:`FRAMEWORK_MODULES`; the interpreter does not change.
"""

from __future__ import annotations

from convlint.frameworks import einops as _einops
from convlint.frameworks import flax as _flax
from convlint.frameworks import jax as _jax
from convlint.frameworks import shapes as C
from convlint.frameworks import torch as _torch
from convlint.frameworks.flax import nnx as _flax_nnx
from convlint.frameworks.base import Container, Device, FwClass, FwModule, Layer, Op, VariableBox, container_of, framework_base, is_int
from convlint.frameworks.tensor_methods import tensor_attr
from convlint.interpret.flow import Dead
from convlint.interpret import builtins as pyb
from convlint.interpret.ops import BinOp
from convlint.interpret.symbolic import Sym
from convlint.interpret.tensor import CHANNELS_FIRST, Tensor
from convlint.interpret.values import MISSING, BoundMethod, ClassVal, ExternalRef, FunctionVal, Instance, MethodDescriptor, OneOf, PartialVal, SuperVal, Unknown, UnknownNumber

__all__ = ["Frameworks", "FRAMEWORKS", "FRAMEWORK_MODULES", "CATALOGUE", "CONV_FAMILY", "MODULES", "canonical", "family_of", "upsampling_fix"]

FRAMEWORK_MODULES = (_torch, _jax, _flax, _einops)

CATALOGUE: dict = {}
MODULES: set = set()
ALIASES: dict = {}
for _m in FRAMEWORK_MODULES:
    CATALOGUE.update(_m.CATALOGUE)
    MODULES |= set(_m.MODULES)
    ALIASES.update(_m.ALIASES)
CATALOGUE.update(pyb.STDLIB)
MODULES |= pyb.STDLIB_MODULES

_FAMILY = {name: op.family for name, op in CATALOGUE.items() if isinstance(op, Op) and op.family}
_BY_NAME = {m.FRAMEWORK: m for m in FRAMEWORK_MODULES}
_SEMANTICS = {m.FRAMEWORK: m.SEMANTICS for m in FRAMEWORK_MODULES if m.SEMANTICS is not None}
_SEMANTICS[_flax_nnx.FRAMEWORK] = _flax_nnx.SEMANTICS  # flax.nnx: eager modules (plain classes)

# Conv-family callables (direct and transposed convolutions): the CVL008 scan for calls no
# entry reaches, and the ops ``shapes`` counts as conv layers.
CONV_FAMILY = frozenset(name for name, fam in _FAMILY.items() if fam == "conv")


def family_of(qualname: str) -> str | None:
    """The catalogue's family tag of an op: ``"conv"``, ``"pool"``, ``"resize"`` or None."""
    return _FAMILY.get(qualname)


def upsampling_fix(event, din, want):
    """The certain repair of an upsampling layer that misses ``want`` from input ``din``, or None
    (asked of the framework that owns the layer)."""
    fw = _BY_NAME.get(event.framework) or _BY_NAME.get(event.op.split(".", 1)[0])
    return fw.upsampling_fix(event, din, want) if fw is not None else None


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


# the array types, by the framework whose tensors are instances of them (numpy's: none of convlint's)
ARRAY_TYPES = {
    "torch.Tensor": "torch", "jax.Array": "jax", "jax.numpy.ndarray": "jax", "jaxlib.xla_extension.ArrayImpl": "jax",
    "numpy.ndarray": "numpy",
}


class Frameworks:
    """Answers the interpreter's questions about framework values (:class:`~convlint.frameworks.protocol.FrameworkSupport`)."""

    # ---------------------------------------------------------------- catalogue
    def module(self, dotted: str):
        dotted = canonical(dotted)
        if dotted in MODULES:
            return FwModule(dotted)
        return None

    def lookup(self, qualname: str):
        return CATALOGUE.get(canonical(qualname))

    def is_framework_value(self, v) -> bool:
        return isinstance(v, (Op, Layer, Container, FwClass))

    def is_class(self, v) -> bool:
        """A framework class (``nn.Conv2d``, ``nn.Module``): what ``isinstance(v, type)`` sees."""
        return isinstance(v, FwClass) or (isinstance(v, Op) and v.kind in ("layer", "container"))

    def module_framework(self, bases) -> str | None:
        for b in bases:
            if isinstance(b, FwClass):
                return b.framework
            if isinstance(b, ClassVal) and b.framework:
                return b.framework
            if isinstance(b, Op) and b.kind in ("layer", "container"):
                fw = b.qualname.split(".", 1)[0]
                return fw if fw in _SEMANTICS else None
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
        if isinstance(obj, (Op, FwClass)):
            if name in ("__name__", "__qualname__"):
                if isinstance(obj, Op) and obj.alternatives:
                    return Unknown(f"the {name} of one of {', '.join(obj.alternatives)}")
                return obj.qualname.rsplit(".", 1)[-1]
            if name == "__module__":
                return obj.qualname.rsplit(".", 1)[0]
            return Unknown(f"attribute {name} of {obj.qualname}")
        if isinstance(obj, C.NamedResult):
            return obj.attr(name)
        return MISSING

    def dir_of(self, obj):
        """``dir(module)`` of a framework module: the names the catalogue knows in it (it lists
        every public callable of the installed frameworks, modelled or not)."""
        if not isinstance(obj, FwModule):
            return None
        prefix = obj.qualname + "."
        names = {q[len(prefix):].split(".", 1)[0] for q in CATALOGUE if q.startswith(prefix)}
        names |= {m[len(prefix):].split(".", 1)[0] for m in MODULES if m.startswith(prefix)}
        return sorted(names)

    def attr_other(self, interp, obj, name):
        if isinstance(obj, Device) and name in ("type", "index"):
            return getattr(obj, name)
        if isinstance(obj, VariableBox) and name == "value":
            return obj.value
        return Unknown(f"attribute {name} of {type(obj).__name__}")

    def instance_attr_missing(self, interp, inst: Instance, name):
        container = container_of(inst)
        if container is not None and name not in MODULE_TREE_METHODS:  # the tree starts at the instance
            v = container_attr(interp, container, name)
            if not isinstance(v, Unknown):
                return v
        sem = _SEMANTICS.get(inst.cls.framework)
        if sem is not None:
            v = sem.attr_missing(interp, inst, name)
            if v is not MISSING:
                return v
        return Unknown(f"{inst.cls.name}.{name} is not set")

    def class_attr_missing(self, interp, cls: ClassVal, name: str):
        """An attribute a model class does not define itself (flax: the generated ``__init__``;
        torch: ``apply`` of a ``torch.autograd.Function`` subclass)."""
        if name == "apply" and _autograd_function(cls):
            return autograd_apply(cls)
        sem = _SEMANTICS.get(cls.framework)
        hook = getattr(sem, "class_attr_missing", None)
        return hook(interp, cls, name) if hook is not None else MISSING

    def has_attribute(self, interp, inst: Instance, name: str):
        """``hasattr`` of a framework model instance for a name it does not set: True, False or Unknown."""
        if framework_base(inst.cls) is not None:
            return Unknown("hasattr of a framework layer subclass")
        sem = _SEMANTICS.get(inst.cls.framework)
        known = getattr(sem, "has_attribute", None)
        answer = known(inst, name) if known is not None else None
        return Unknown("hasattr") if answer is None else answer

    def super_attr(self, interp, sup: SuperVal, name):
        base = framework_base(sup.cls)
        inst = sup.self_val
        if base is not None and isinstance(inst, Instance):
            # a user subclass of a framework layer or container (``class StdConv2d(nn.Conv2d)``)
            if name == "__init__":
                return pyb.Builtin("super.__init__", lambda i, a, k, n: _build_base_layer(i, inst, base, a, k, n))
            container = container_of(inst)
            if container is not None and name in ("forward", "__call__"):
                return pyb.Builtin("super." + name, lambda i, a, k, n: self.call(i, container, a, k, n))
            if name in ("forward", "__call__", "_conv_forward"):
                def fwd(i, a, k, n):
                    layer = inst.attrs.get("__layer__")
                    if not isinstance(layer, Layer):
                        return Unknown("base layer not built")
                    return layer.apply(i, layer, a[:1], {}, n)

                return pyb.Builtin("super." + name, fwd)
        if name in ("__init__", "setup", "__post_init__"):
            return pyb.Builtin("super." + name, lambda i, a, k, n: None)
        if name == "__getattr__" and isinstance(inst, Instance) and inst.cls.framework == "torch":
            # ``nn.Module.__getattr__``: its parameters, buffers and submodules (the interpreter keeps
            # them as attributes) or AttributeError; it only runs once the normal lookup has failed
            def module_getattr(i, a, k, n):
                if a and isinstance(a[0], str) and a[0] in inst.attrs:
                    return inst.attrs[a[0]]
                raise Dead()

            return pyb.Builtin("nn.Module.__getattr__", module_getattr)
        return Unknown(f"super().{name}")

    def on_setattr(self, interp, inst, name, value):
        register_submodule(inst, name, value)
        return None

    def setattr_other(self, interp, obj, name, value):
        if isinstance(obj, Layer):
            obj.params[name] = value
        elif isinstance(obj, VariableBox) and name == "value":
            obj.value = value
        return None

    # ---------------------------------------------------------------- subscripts / iteration
    def setitem(self, interp, obj, key, value) -> bool:
        """``container[key] = module`` on an ``nn.ModuleDict`` / ``nn.ModuleList`` /
        ``nn.Sequential`` (or an instance of a subclass): True when ``obj`` is one. A key that is
        not known makes what the container holds unknown, not silently unchanged."""
        c = container_of(obj)
        if c is None:
            return False
        if isinstance(c.items, dict):
            if isinstance(key, str):
                c.items[key] = value
            elif is_int(key) and -len(c.items) <= key < len(c.items):
                c.items[list(c.items)[key]] = value  # an OrderedDict-built Sequential by position
            else:
                c.items["?"] = Unknown("a module set under a key that is not known")
        elif is_int(key) and -len(c.items) <= key < len(c.items):
            c.items[key] = value
        else:
            c.items[:] = [Unknown("a module set at an index that is not known")]
        return True

    def subscript(self, interp, obj, key, node):
        obj = container_of(obj) or obj
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
            out = tensor_index(interp, obj, key)
            if obj.values is not None and obj.shape is not None and len(obj.shape) == 1 and isinstance(out, Tensor):
                if is_int(key) and -len(obj.values) <= key < len(obj.values):
                    out.values = (obj.values[key],)  # an element of a constant vector
                elif isinstance(key, slice) and out.shape == (len(obj.values[key]),):
                    out.values = obj.values[key]
            return out
        return MISSING

    def iterate(self, interp, v):
        v = container_of(v) or v
        if isinstance(v, Container):
            return v.values() if v.kind != "moduledict" else list(v.items.keys())
        if isinstance(v, Tensor) and v.shape and is_int(v.shape[0]) and 0 < v.shape[0] <= 64:
            rows = [v.derive(tuple(v.shape[1:])) for _ in range(v.shape[0])]  # along the first dim
            if v.values is not None and len(v.shape) == 1:
                for row, x in zip(rows, v.values):
                    row.values = (x,)
            return rows
        return None

    def length(self, interp, v):
        v = container_of(v) or v
        if isinstance(v, Container):
            return len(v.items)
        if isinstance(v, Tensor) and v.shape:
            return v.shape[0]
        return Unknown("len")

    def truth(self, v):
        if isinstance(v, (Layer, Container, Op, FwClass, FwModule)):
            return True
        if isinstance(v, pyb.LazyIter):
            return len(v.items) > 0
        return None

    def isinstance_check(self, interp, obj, t):
        qual = getattr(t, "qualname", None) if isinstance(t, (Op, FwClass, ExternalRef)) else None
        if qual == "torch.Size":  # a shape: convlint's shapes are tuples, torch's are torch.Size
            return None if isinstance(obj, tuple) else False if isinstance(obj, (int, float, str, type(None), list, dict, Tensor, Layer)) else None
        if qual in ARRAY_TYPES:  # ``isinstance(x, torch.Tensor)``, ``isinstance(t, jnp.ndarray)``
            if isinstance(obj, Tensor):
                fam = obj.framework if obj.framework != "flax" else "jax"
                return None if fam is None else ARRAY_TYPES[qual] == fam
            if isinstance(obj, (Layer, Container, Instance, ClassVal, int, float, str, bytes, type(None), list, tuple, dict)):
                return False
            return None
        if isinstance(t, Op) and isinstance(obj, Layer):
            names = obj.extra.get("alternatives")
            if names:  # one of several layers (a join): undecided against one of them
                return None if t.qualname in names else False
            return obj.op == t.qualname
        if isinstance(t, Op) and isinstance(obj, Container):
            return t.kind == "container" and t.qualname.lower().endswith(obj.kind)
        if isinstance(t, ClassVal) and isinstance(obj, Instance):
            return t in obj.cls.mro()
        if isinstance(t, ClassVal) and isinstance(obj, (Layer, Container, Tensor, int, float, str, bytes, type(None), list, tuple, dict)):
            return False  # a framework value or a plain value is never an instance of a user class
        if isinstance(t, (Op, FwClass)) and isinstance(obj, (Tensor, int, float, str, type(None), list, tuple, dict)):
            return False
        return None

    # ---------------------------------------------------------------- arithmetic
    def tensor_binop(self, interp, op: BinOp, left, right, site):
        lt = left if isinstance(left, Tensor) else None
        rt = right if isinstance(right, Tensor) else None
        if not op.elementwise:
            return C.matmul(left, right)
        if lt is not None and rt is not None:
            return C.broadcast_pair(interp, lt, rt, site, f"'{op.value}'")
        t = lt or rt
        other = right if lt is not None else left
        if isinstance(other, (bool, int, float, UnknownNumber)) or isinstance(other, Sym):
            return t  # a number, known or not, broadcasts without changing ``t``
        # an operand of unknown value (a scale read from a config, a tensor from an unmodelled
        # helper): broadcasting keeps every dim of ``t`` it cannot change
        return C.broadcast_unknown(t, other)

    def instance_binop(self, interp, op, left, right, node):
        return Unknown("operator on a module")

    # ---------------------------------------------------------------- calls
    def call(self, interp, func, args, kwargs, node):
        if isinstance(func, Op):
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
        sem = _SEMANTICS.get(inst.cls.framework) or _torch.SEMANTICS
        depth = getattr(interp, "model_depth", 0)
        if interp.trace is not None and args and isinstance(args[0], Tensor) and args[0].shape is not None:
            interp.trace.applied.add(id(inst.cls.node))  # this block is checked where it is used
        interp.model_depth = depth + 1
        try:
            out = sem.call(interp, inst, args, kwargs, node)
        finally:
            interp.model_depth = depth
        # script code (a __main__ block, a smoke test) applying a model to a tensor: the model's
        # input and output, compared by the rules as a declared model's are
        if depth == 0 and getattr(interp, "script_entry", False) and interp.trace is not None:
            from convlint.rules.cvl009_output_mismatch import first_tensor  # (what the rules take for a model's output)

            x = args[0] if args else None
            if isinstance(x, Tensor) and x.shape is not None:
                interp.trace.applications.append((x, out))
            if not (_known_shape(x) and _known_shape(first_tensor(out))):
                # on data convlint cannot see, or a model it lost track in: a loop of script code
                # around it is not unrolled further (statements._stmt_For)
                interp.unknown_applications += 1
            unapplied = getattr(interp, "unapplied", None)
            if unapplied is not None:
                _note_application(unapplied, inst, x, args, kwargs, node)
        return out

    def instantiate(self, interp, cls: ClassVal, args, kwargs, node):
        sem = _SEMANTICS.get(cls.framework)
        return sem.instantiate(interp, cls, args, kwargs, node) if sem is not None else MISSING

    def prepare_instance(self, interp, inst: Instance) -> None:
        sem = _SEMANTICS.get(inst.cls.framework)
        if sem is not None:
            sem.prepare(interp, inst)

    def input_layout(self, framework: str | None) -> str:
        sem = _SEMANTICS.get(framework)
        return sem.input_layout if sem is not None else (_flax.SEMANTICS.input_layout if framework == "jax" else CHANNELS_FIRST)

    def base_init(self, interp, cls, inst, args, kwargs, node):
        base = framework_base(cls)
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
                for hidden in ("__layer__", "__container__"):
                    inner = v.attrs.get(hidden)
                    if isinstance(inner, (Layer, Container)):
                        walk(inner, prefix, depth + 1)  # the framework layer or container a user subclass wraps
                for k, x in list(v.attrs.items()):
                    if k not in ("__layer__", "__container__"):  # (a module walked already keeps its name)
                        walk(x, f"{prefix}.{k}" if prefix else k, depth + 1)
            elif isinstance(v, (list, tuple)):
                for k, x in enumerate(v):
                    walk(x, f"{prefix}.{k}" if prefix else str(k), depth + 1)
            elif isinstance(v, dict):
                for k, x in v.items():
                    if isinstance(k, str):
                        walk(x, f"{prefix}.{k}" if prefix else k, depth + 1)
            elif isinstance(v, OneOf):  # the attribute holds one of these: each is named by it
                for x in v.options:
                    walk(x, prefix, depth + 1)

        walk(root, "", 0)


FRAMEWORKS = Frameworks()


# -------------------------------------------------------------------------------- framework values

def tensor_index(interp, t: Tensor, key):
    """Indexing and slicing: known slices change sizes; a crop repairs pending mismatches."""
    if t.shape is None:
        return t.derive(None)
    keys = key if isinstance(key, tuple) else (key,)
    shape = list(t.shape)
    out = []
    axis = 0
    cropped = False
    # ``x[..., :3]``: keys after a leading ellipsis count from the end (right whatever the rank)
    from_end = any(k is Ellipsis for k in keys) and all(k == slice(None) for k in keys[: keys.index(Ellipsis)])
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
    if not t.exact_rank and not from_end and any(k != slice(None) for k in keys):
        # the rank is only a lower bound (dims are known counted from the end): keys counted from
        # the front may fall on any of them (``h[:, 1:]`` on a tensor that met an operand of unknown
        # rank): what they touched is not known, nor where
        return t.derive(tuple(Unknown("indexed from the front of a tensor of unknown rank") for _ in out), exact_rank=False)
    res = t.derive(tuple(out))
    if cropped:
        C.repair(res)
    return res


# ---------------------------------------------------------------------- the module tree (torch)

CONTAINER_CLASSES = {"sequential": "torch.nn.Sequential", "modulelist": "torch.nn.ModuleList", "moduledict": "torch.nn.ModuleDict"}
# catalogue layers that have submodules in torch (their tree is not modelled)
_COMPOSITE_LAYERS = ("torch.nn.MultiheadAttention", "torch.nn.Transformer")


def _is_torch_module(v) -> bool:
    return isinstance(v, (Layer, Container)) or (isinstance(v, Instance) and v.cls.framework == "torch")


def module_children(v):
    """``(name, module)`` of a torch module's direct submodules in registration order, as
    ``named_children`` gives them (duplicates included); None when they are not known."""
    if isinstance(v, Layer):
        if v.op.startswith(_COMPOSITE_LAYERS) or v.op in _torch.UNMODELLED:
            return None
        return []
    if isinstance(v, Container):
        items = list(v.items.items()) if isinstance(v.items, dict) else list(enumerate(v.items))
        if not all(_is_torch_module(x) for _, x in items):
            return None
        return [(str(k), x) for k, x in items]
    if isinstance(v, Instance) and v.cls.framework == "torch":
        out = []
        registered = v.attrs.get("__container__")
        registered = registered.items if isinstance(registered, Container) and isinstance(registered.items, dict) else {}
        for k, x in v.attrs.items():
            if k == "__container__":
                inner = module_children(x)
                if inner is None:
                    return None
                out += inner
            elif registered.get(k) is x:
                continue  # a submodule of a Sequential subclass: listed with the container's
            elif k == "__layer__" or x is None or isinstance(x, (bool, int, float, str, bytes, Tensor, tuple, list, dict, set)):
                continue  # not a module (a plain list of modules is not registered either)
            elif isinstance(x, (FunctionVal, BoundMethod, ClassVal, pyb.Builtin)) or (isinstance(x, Instance) and _plain_class(x.cls)):
                continue  # a function, a class, or an instance of a class that is no module (a config)
            elif _is_torch_module(x):
                out.append((k, x))
            else:
                return None  # an attribute of unknown value may be a module
        return out
    return None


def _plain_class(cls: ClassVal) -> bool:
    """A class whose every base is known and none a framework module: its instances are no modules."""
    return cls.framework is None and all(isinstance(b, ClassVal) or isinstance(b, pyb.Builtin) for c in cls.mro() for b in c.bases)


def named_modules(v, prefix: str = ""):
    """``named_modules()``: pre-order, each module once; None when the tree is not known."""
    out, seen = [], set()

    def walk(m, name, depth):
        if id(m) in seen:
            return True
        if depth > 64:
            return False
        seen.add(id(m))
        out.append((name, m))
        kids = module_children(m)
        if kids is None:
            return False
        return all(walk(c, f"{name}.{k}" if name else k, depth + 1) for k, c in kids)

    return out if walk(v, prefix, 0) else None


def training_method(module, name: str):
    """``module.train(mode=True)`` / ``module.eval()``: set the mode of the module and of every
    submodule known (what ``self.training`` reads in their ``forward``) and return the module. A
    mode that is not a known bool leaves ``training`` unknown. (A module nobody set a mode on:
    :func:`convlint.frameworks.torch.training_default`.)"""
    def run(i, a, k, n):
        mode = False if name == "eval" else (a[0] if a else k.get("mode", True))
        if type(mode) is not bool:
            mode = Unknown("the mode given to train() is not known")
        stack, seen = [module], set()
        while stack:
            m = stack.pop()
            if id(m) in seen:
                continue
            seen.add(id(m))
            if isinstance(m, Instance):
                m.attrs["training"] = mode
            elif isinstance(m, Layer):
                m.extra.setdefault("attrs", {})["training"] = mode
            stack.extend(c for _, c in (module_children(m) or ()))
        return module

    return pyb.Builtin(f"Module.{name}", run)


def module_tree_method(v, name: str):
    """``modules`` / ``named_modules`` / ``children`` / ``named_children`` of a torch module."""
    def run(i, a, k, n):
        if name in ("modules", "named_modules"):
            if name == "named_modules" and (a or k):  # memo / prefix / remove_duplicate: not followed
                return Unknown("named_modules with arguments")
            tree = named_modules(v)
            if tree is None:
                return Unknown(f"{name}() of a module whose submodules are not all known")
            return pyb.LazyIter([m for _, m in tree] if name == "modules" else [(p, m) for p, m in tree])
        kids = module_children(v)
        if kids is None:
            return Unknown(f"{name}() of a module whose submodules are not all known")
        seen, out = set(), []
        for k, m in kids:
            if id(m) not in seen:
                seen.add(id(m))
                out.append(m if name == "children" else (k, m))
        return pyb.LazyIter(out)

    return pyb.Builtin(name, run)


MODULE_TREE_METHODS = ("modules", "named_modules", "children", "named_children")


def layer_attr(interp, layer: Layer, name: str):
    attrs = layer.extra.get("attrs")
    if attrs and name in attrs:
        return attrs[name]
    methods = layer.extra.get("methods")  # a torch layer's nn.Module methods (torch.common.module_method)
    if methods is not None:
        method = methods(layer, name)
        if method is not None:
            layer.extra.setdefault("attrs", {})[name] = method  # one object per layer and name, as before
            return method
    if name == "__class__" and layer.framework == "torch":
        return FRAMEWORKS.lookup(layer.op) or Unknown(f"{layer.op}.__class__")
    if name in MODULE_TREE_METHODS and layer.framework == "torch":
        return module_tree_method(layer, name)
    if name in layer.params:
        return layer.params[name]
    if name == "weight":
        return layer.extra["weight"] if "weight" in layer.extra else _weight(layer)
    return Unknown(f"{layer.op}.{name}")


def _autograd_function(cls: ClassVal) -> bool:
    return any(isinstance(b, FwClass) and b.qualname == "torch.autograd.Function" for c in cls.mro() for b in c.bases)


_FUNCTION_CTX = ClassVal(None, None, "FunctionCtx", [])
_FUNCTION_CTX.attrs.update({
    m: pyb.Builtin(m, lambda i, a, k, n: None)
    for m in ("save_for_backward", "mark_dirty", "mark_non_differentiable", "set_materialize_grads")
})


def autograd_apply(cls: ClassVal):
    """``Fn.apply`` of a ``torch.autograd.Function`` subclass: its ``forward`` static method with a
    context object bound first (attributes set on it are kept; its bookkeeping methods do
    nothing), so that ``Fn.apply(*args)`` is ``forward(ctx, *args)``."""
    fwd, _owner = cls.lookup("forward")
    fn = fwd.func if isinstance(fwd, MethodDescriptor) else fwd
    if not isinstance(fn, FunctionVal):
        return Unknown(f"{cls.name}.forward is not known")
    return PartialVal(fn, [Instance(_FUNCTION_CTX)], {})


def register_submodule(inst: Instance, name: str, value) -> None:
    """``self.conv = nn.Conv2d(...)`` or ``self.add_module("conv", ...)`` in a subclass of
    ``nn.Sequential`` / ``nn.ModuleList``: torch registers the module, and the container runs it
    (and iterates it) after the ones given to its constructor, in the order they were set. A name
    set again replaces its module in place."""
    c = inst.attrs.get("__container__")
    if isinstance(c, Container) and c.kind in ("sequential", "modulelist") and _is_torch_module(value):
        _add_named(c, name, value)


def _add_named(c: Container, name: str, value) -> None:
    """Register ``value`` under ``name`` in ``c``, after what it holds (torch names the
    constructor's modules "0", "1", …)."""
    if isinstance(c.items, list):
        c.items = {str(i): m for i, m in enumerate(c.items)}
    c.items[name] = value


def _layer_base(cls) -> Op | None:
    base = framework_base(cls)
    return base if base is not None and base.kind == "layer" else None


def _build_base_layer(interp, inst: Instance, base: Op, args, kwargs, node):
    """``super().__init__(...)`` of a user subclass of a framework layer or container: build it."""
    built = base.fn(interp, list(args), dict(kwargs), node if node is not None else (inst.cls.node))
    if isinstance(built, Container):
        inst.attrs["__container__"] = built
        return None
    layer = built
    if isinstance(layer, Layer):
        inst.attrs["__layer__"] = layer
        for k, v in layer.params.items():
            inst.attrs.setdefault(k, v)
        w = layer_attr(interp, layer, "weight")
        inst.attrs.setdefault("weight", w)
        inst.attrs.setdefault("bias", Unknown("bias"))
    return None


_BARE: dict = {}


def _known_shape(x) -> bool:
    """A tensor whose rank is exact and whose sizes are all ints or symbolic."""
    return isinstance(x, Tensor) and x.shape is not None and x.exact_rank and not any(isinstance(d, Unknown) for d in x.shape)


def _note_application(unapplied: dict, inst: Instance, x, args, kwargs, node) -> None:
    """Script code applied ``inst``: to a tensor of known shape (its sizes ints or symbolic: it is
    checked there), or only to data whose shape convlint cannot see (a batch from a data loader, a
    tensor of unknown sizes), kept in ``unapplied`` to be run once more on an input of unknown
    size (:func:`convlint.interpret.entries.run_applied`)."""
    key = id(inst)
    if _known_shape(x):
        unapplied[key] = (inst, None)
    elif key not in unapplied and (isinstance(x, Tensor) or (isinstance(x, Unknown) and not isinstance(x, UnknownNumber))):
        unapplied[key] = (inst, (list(args), dict(kwargs), node))


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
    if name in ("add_module", "register_module"):
        def add(i, a, k, n):
            args = list(a) + [k[key] for key in ("name", "module") if key in k]
            if len(args) >= 2 and isinstance(args[0], str):
                _add_named(c, args[0], args[1])

        return pyb.Builtin(name, add)
    if name in ("items", "keys", "values") and isinstance(c.items, dict):
        return pyb.Builtin(name, lambda i, a, k, n: pyb.LazyIter(getattr(c.items, name)()))
    if name in MODULE_TREE_METHODS:
        return module_tree_method(c, name)
    if name == "__class__":
        return FRAMEWORKS.lookup(CONTAINER_CLASSES[c.kind]) or Unknown("__class__")
    if isinstance(c.items, dict) and name in c.items:
        return c.items[name]
    return Unknown(f"{c.kind}.{name}")


def _weight(layer: Layer):
    """A conv layer's weight as a tensor: (out, in/groups, *k), or (in, out/groups, *k) transposed."""
    rank = layer.extra.get("rank")
    conv = layer.config
    p = layer.params
    if rank is None or conv is None or "transposed" not in layer.extra:  # (a pool or a norm has a rank too)
        return Unknown("weight")
    g = p.get("groups", 1)
    cin, cout = p.get("in_channels"), p.get("out_channels")
    if not (is_int(g) and is_int(cin) and is_int(cout)) or g < 1:
        return Tensor((Unknown("channels"), Unknown("channels"), *conv.kernel_size), CHANNELS_FIRST, framework="torch")
    if layer.extra.get("transposed"):
        return Tensor((cin, cout // g, *conv.kernel_size), CHANNELS_FIRST, framework="torch")
    return Tensor((cout, cin // g, *conv.kernel_size), CHANNELS_FIRST, framework="torch")
