"""Running one entry: build the model (or take the function), make its input tensors, call it.

An :class:`~convlint.interpret.declare.Entry` is a declared model (pragma, jaxtyping annotation,
``[[tool.convlint.model]]``, ``--input``), the analysed file's script code (``<module>``), or a
model class convlint runs on its own with its defaults and an input of unknown size. Running it
gives a :class:`ModelRun`: the trace the rules read, and the input and output.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field

import libcst as cst

from convlint.interpret.declare import Entry
from convlint.interpret.events import Trace
from convlint.interpret.flow import BudgetExceeded, Dead, Return
from convlint.interpret.symbolic import Sym
from convlint.interpret.tensor import Tensor
from convlint.interpret.values import ClassVal, FunctionVal, Instance, Unknown, unwrap

__all__ = ["ModelRun", "run_entry", "make_tensor"]


@dataclass
class ModelRun:
    """One entry's interpretation: its trace and its input/output values."""

    entry: Entry
    path: str
    trace: Trace
    input: object = None
    output: object = None
    error: str | None = None
    module: object = None
    issues: list = field(default_factory=list)  # what the rules found in this run


def make_tensor(shape, framework: str | None, fw) -> Tensor:
    """A declared input: ints stay, names become symbolic sizes."""
    dims = tuple(d if isinstance(d, int) else Sym.var(d) for d in shape)
    return Tensor(dims, fw.input_layout(framework), history=(("input", dims),), framework=framework)


def run_entry(interp, module, entry: Entry) -> ModelRun:
    trace = Trace()
    interp.trace = trace
    interp.steps = 0
    # a declared model, or script code that builds one: what its code passes is what Python
    # passes (a class run with its own defaults may hold placeholders the real caller replaces)
    interp.declared = entry.source != "auto" or entry.kind == "module"
    fw = interp.fw
    run = ModelRun(entry, module.path, trace, module=module)
    try:
        scope = interp.module_globals(module)
        if entry.kind == "module":
            return run
        target = unwrap(_resolve_target(interp, scope, entry.name))
        if isinstance(target, FunctionVal) and entry.inputs is not None:
            # a factory (``resnet18(pretrained=False, **kwargs)``) returns the model to run
            model = _call_factory(interp, module, target, entry)
            if model is not None:
                target = model
        framework = target.framework if isinstance(target, ClassVal) else None
        if isinstance(target, Instance):
            framework = target.cls.framework
        if framework is None and isinstance(target, FunctionVal):
            framework = "jax"
        entry_channels = None
        if isinstance(target, ClassVal):
            init = dict(entry.init)
            if entry.source == "auto":
                symbolic = symbolic_arguments(target, fw)
                init = {**symbolic, **init}
                entry_channels = next((v for k, v in symbolic.items() if _INPUT_CHANNELS.match(k)), None)
            with interp.in_module(module):
                inst = interp.instantiate(target, [], init, entry.node)
            if isinstance(inst, Instance):
                fw.name_layers(inst)
            callee = inst
            fn_node = _forward_node(target)
        elif isinstance(target, Instance):
            callee = target
            fn_node = _forward_node(target.cls)
        elif isinstance(target, FunctionVal):
            callee = target
            fn_node = target.node
        else:
            run.error = f"{entry.name} is not a class or function of this module"
            return run
        args, kwargs = _entry_args(entry, fn_node, framework, isinstance(callee, Instance), fw)
        if entry_channels is not None and args and isinstance(args[0], Tensor) and args[0].entry:
            args[0].entry_channels = entry_channels
        kwargs.update(entry.call)
        run.input = args[0] if args else (next(iter(kwargs.values())) if kwargs else None)
        with interp.in_module(module):
            if isinstance(callee, Instance):
                out = fw.call_instance(interp, callee, args, kwargs, entry.node)
            else:
                out = interp.call(callee, args, kwargs, entry.node)
        run.output = out
    except BudgetExceeded as e:
        trace.incomplete = str(e)
    except (Dead, Return):
        pass
    except RecursionError:
        trace.incomplete = "recursion"
    except Exception as e:  # an engine bug must not stop the file's other entries, nor the run
        if os.environ.get("CONVLINT_DEBUG"):
            raise
        trace.incomplete = f"internal error: {type(e).__name__}: {e}"
    return run


# Constructor parameters that hold a size (channels, features, width): a model class that needs
# them is still run on its own, with each such parameter a symbolic size of its own name.
_SIZE_PARAM = re.compile(
    r"(?:^|_)(?:ch|chs|chan|chans|channel|channels|dim|dims|feature|features|feat|feats|planes|width|filters|filter|"
    r"c|nc|nf|ngf|ndf|nz|hidden|embed|emb|d_model|size)(?:$|_)", re.I)
# ... and among them, the one that names the input's channel count (``in_channels``, ``inplanes``)
_INPUT_CHANNELS = re.compile(r"^(?:in_?(?:channels?|chs?|chans|planes|dim|features|feats)|inplanes|dim_in|c_in|input_(?:channels|dim|nc)|nc_in)$", re.I)
_NOT_SIZE = re.compile(r"kernel|stride|pad|dilation|group|head|layer|depth|block|num_res|ratio|scale|drop|eps|mult", re.I)


def required_parameters(cls: ClassVal) -> list:
    """The parameters of a class's constructor that have no default (after ``self``)."""
    init, _ = cls.lookup("__init__")
    if isinstance(init, FunctionVal) and isinstance(init.node, cst.FunctionDef):
        params = [*init.node.params.posonly_params, *init.node.params.params][1:] + list(init.node.params.kwonly_params)
        return [p for p in params if p.default is None]
    return []


def symbolic_arguments(cls: ClassVal, fw) -> dict:
    """For a model convlint runs on its own: a symbolic size for each required constructor
    parameter that holds a size (by its name, or an ``int`` annotation). Channel counts derived
    from them are then compared for every value: ``Conv2d(2 * dim, …)`` fed ``dim`` channels is a
    mismatch whatever ``dim`` is."""
    out = {}
    for p in required_parameters(cls):
        name = p.name.value
        ann = p.annotation.annotation if p.annotation is not None else None
        is_int = isinstance(ann, cst.Name) and ann.value == "int"
        if (is_int or _SIZE_PARAM.search(name)) and not _NOT_SIZE.search(name):
            out[name] = Sym.var(name)
    return out


def _resolve_target(interp, scope, name: str):
    """A module-level name, or a dotted one (``Outer.Inner``, ``registry.fn``)."""
    head, *rest = name.split(".")
    v = scope.lookup(head) if hasattr(scope, "lookup") else scope.vars.get(head)
    for part in rest:
        v = interp.getattr(v, part, None)
    return v


def _call_factory(interp, module, fn: FunctionVal, entry: Entry):
    """``fn(**init)`` when it returns a model (a framework module instance), else None (then ``fn``
    is a function of the declared inputs, like a plain JAX function). The call runs on a scratch
    trace: only the model's run is the entry."""
    saved = interp.trace
    scratch = interp.trace = Trace()
    try:
        with interp.in_module(module):
            model = interp.call(fn, [], dict(entry.init), entry.node)
    except (BudgetExceeded, Dead, Return, RecursionError):
        model = None
    finally:
        interp.trace = saved
    if isinstance(model, Instance) and model.cls.framework:
        interp.fw.name_layers(model)
        saved.layers += scratch.layers  # what building the model recorded belongs to this entry
        saved.checks += scratch.checks
        saved.reached |= scratch.reached
        return model
    return None


def _forward_node(cls: ClassVal):
    for c in cls.mro():
        for name in ("forward", "__call__"):
            v = c.attrs.get(name)
            if isinstance(v, FunctionVal):
                return v.node
    return None


def _entry_args(entry: Entry, fn_node, framework, is_method, fw):
    """Positional/keyword input tensors: declared shapes, or one input of unknown rank."""
    if entry.inputs is None:
        params = []
        if isinstance(fn_node, cst.FunctionDef):
            params = [*fn_node.params.posonly_params, *fn_node.params.params]
            if is_method and params:
                params = params[1:]
        required = [p for p in params if p.default is None]
        args = [Tensor(None, fw.input_layout(framework), entry=True, framework=framework)]
        args += [Unknown(f"argument {p.name.value!r}") for p in required[1:]]
        return args, {}
    if isinstance(entry.inputs, dict):
        return [], {k: make_tensor(v, framework, fw) for k, v in entry.inputs.items()}
    return [make_tensor(v, framework, fw) for v in entry.inputs], {}
