"""Running one entry: build the model (or take the function), make its input tensors, call it.

An :class:`~convlint.interpret.declare.Entry` is a declared model (pragma, jaxtyping annotation,
``[[tool.convlint.model]]``, ``--input``), the analysed file's script code (``<module>``), or a
model class convlint runs on its own with its defaults and an input of unknown size. Running it
gives a :class:`ModelRun`: the trace the rules read, and the input and output.
"""

from __future__ import annotations

import os
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
        if isinstance(target, ClassVal):
            with interp.in_module(module):
                inst = interp.instantiate(target, [], dict(entry.init), entry.node)
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
