"""Running one entry: build the model (or take the function), make its input tensors, call it.

An :class:`~convlint.interpret.declare.Entry` is a declared model (pragma, jaxtyping annotation,
``[[tool.convlint.model]]``, ``--input``), the analysed file's script code (``<module>``), or a
model class convlint runs on its own with its defaults and an input of unknown size. Running it
gives a :class:`ModelRun`: the trace the rules read, and the input and output.

Test functions are entries too (:func:`pytest_entries`): in a file pytest would collect
(``test_*.py``, ``*_test.py``), each ``test*`` function (and ``test*`` method of a ``Test*`` class)
whose body may build and run a model is called — with the values of a literal
``@pytest.mark.parametrize``, one run per case, and an unknown for every fixture argument.
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
from convlint.interpret.values import ClassVal, FunctionVal, Instance, PartialVal, Unknown, unwrap

__all__ = ["ModelRun", "run_entry", "run_applied", "make_tensor", "open_parameters", "partial_entries", "pytest_entries", "is_test_file"]

INTERNAL_ERROR = "internal error: "  # begins the ``trace.incomplete`` of an entry the engine failed on


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
    # script code or a test: the models it applied only to data of unknown shape, ``(instance,
    # (args, kwargs, call node))`` (:func:`run_applied` runs each)
    unapplied: list = field(default_factory=list)
    part_of: object = None  # the script or test run whose model :func:`run_applied` ran again
    # the parameters of the model's forward (or the function) that need a value and were given
    # none: their shapes are unknown (``timesteps`` of a diffusion U-Net declared with ``x`` only)
    undeclared: list = field(default_factory=list)


def make_tensor(shape, framework: str | None, fw) -> Tensor:
    """A declared input: ints stay, names become symbolic sizes."""
    dims = tuple(d if isinstance(d, int) else Sym.var(d) for d in shape)
    return Tensor(dims, fw.input_layout(framework), history=(("input", dims),), framework=framework)


def run_entry(interp, module, entry: Entry) -> ModelRun:
    """Run ``entry`` (a declared model, a model class on its own, a test, a script)."""
    run = _run_entry(interp, module, entry)
    x = run.input
    hint = x.rank_hint if isinstance(x, Tensor) else None
    if entry.inputs is None and isinstance(hint, tuple):
        # the rank of its input of unknown rank became known only after it was used: its shape
        # unpacked first (``b, c, h, w = x.shape``), or a rank-aware layer met it only through a
        # resampling (an ``Upsample`` block interpolates first). Run again on an input of that
        # rank from the start — the sizes the first layer gave it, else fresh symbolic ones
        from convlint.frameworks.shapes import promote_entry

        spatial, channels, channels_last = hint
        first = None
        if x.shape is None and x.entry:
            first = Tensor(None, x.layout, entry=True, framework=x.framework, entry_channels=x.entry_channels)
            promote_entry(first, spatial, channels, channels_last)
        elif x.shape is not None and len(x.shape) == spatial + 2 and x.exact_rank and x.history[:1] == (("input", x.shape),):
            first = Tensor(x.shape, x.layout, history=x.history, framework=x.framework)
        if first is not None:
            run = _run_entry(interp, module, entry, first)
    return run


def _run_entry(interp, module, entry: Entry, first: Tensor | None = None) -> ModelRun:
    trace = Trace()
    interp.trace = trace
    interp.steps = 0
    # a declared model, or script code that builds one: what its code passes is what Python
    # passes (a class run with its own defaults may hold placeholders the real caller replaces)
    interp.declared = entry.source != "auto" or entry.kind == "module"
    fw = interp.fw
    run = ModelRun(entry, module.path, trace, module=module)
    interp.script_entry = entry.kind in ("module", "test")  # models it applies are recorded
    interp.unapplied = {} if interp.script_entry else None
    interp.model_depth = 0
    try:
        scope = interp.module_globals(module)
        if entry.kind == "module":
            return run
        if entry.kind == "test":
            _run_test(interp, module, scope, entry, run)
            return run
        target = unwrap(_resolve_target(interp, scope, entry.name))
        if isinstance(target, PartialVal) and entry.source == "auto":
            # ``ResNet18 = partial(ResNet, stage_sizes=…, block_cls=…)``: the class, built with
            # the partial's arguments and a symbolic size for each size parameter it leaves
            cls, symbolic, _needs = open_parameters(target)
            if cls is None or not cls.framework:
                run.error = f"{entry.name} is not a partial of a model class"
                return run
            with interp.in_module(module):
                target = interp.call(target, [], {name: Sym.var(name) for name in symbolic}, entry.node)
            if not isinstance(target, Instance):
                run.error = f"{entry.name} does not build a model"
                return run
            fw.name_layers(target)
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
                # (the input's channel count is the first layer's: a parameter named
                # ``in_channels`` is not always what the block is fed — an up block that
                # concatenates its skip takes ``2 * in_channels``)
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
        run.undeclared = _undeclared(entry, fn_node, isinstance(callee, Instance), len(args), kwargs)
        if first is not None and args and isinstance(args[0], Tensor) and args[0].entry:
            args[0] = first
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
    except Exception as e:  # an engine bug must not stop the file's other entries, nor the run
        _stopped(trace, e)
    finally:
        if interp.unapplied:
            run.unapplied = [(inst, call) for inst, call in interp.unapplied.values() if call is not None][:MAX_UNAPPLIED]
        interp.unapplied = None
    return run


def _stopped(trace: Trace, e: Exception) -> None:
    """A run that ended by an exception: a bound or a recursion (``trace.incomplete`` says which),
    a dead path or a ``return`` at the top (nothing to say), or an engine failure (said, as an
    internal error, where it happened)."""
    if isinstance(e, (Dead, Return)):
        return
    if isinstance(e, BudgetExceeded):
        trace.incomplete = str(e)
        return
    if isinstance(e, RecursionError):
        trace.incomplete = "recursion"
        return
    if os.environ.get("CONVLINT_DEBUG"):
        raise e
    import traceback

    tb = traceback.extract_tb(e.__traceback__)
    where = f" (at {os.path.basename(tb[-1].filename)}:{tb[-1].lineno})" if tb else ""
    trace.incomplete = f"{INTERNAL_ERROR}{type(e).__name__}: {e}{where}"


MAX_UNAPPLIED = 8  # models of one script or test run again on an input of unknown size


def run_applied(interp, module, parent: ModelRun, inst: Instance, call) -> ModelRun:
    """A model the script code or test ``parent`` applied only to data whose shape convlint cannot
    see (a batch from a data loader, a fixture), applied once more as the code applied it but with
    its first argument an input of unknown size (as a model class run on its own): the script's
    constructor arguments make the model, and what breaks for every input size is reported. A run
    of its own (its trace, its step budget, its symbolic sizes), under the script's name."""
    args, kwargs, node = call
    entry = parent.entry
    trace = Trace()
    interp.trace = trace
    interp.steps = 0
    interp.script_entry = True  # the model in the mode the script left it in, as torch runs it
    interp.declared = True  # built by the script's own code: a None it passes is what Python passes
    interp.unapplied = None
    interp.model_depth = 0
    framework = inst.cls.framework
    x = Tensor(None, interp.fw.input_layout(framework), entry=True, framework=framework)
    run = ModelRun(Entry(entry.name, entry.kind, entry.node, None, None, {}, "auto", entry.line), parent.path, trace,
                   input=x, module=module, part_of=parent)
    try:
        with interp.in_module(module):
            run.output = interp.fw.call_instance(interp, inst, [x, *args[1:]], kwargs, node)
    except Exception as e:  # an engine bug must not stop the file's other entries, nor the run
        _stopped(trace, e)
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
    """The parameters of a class's constructor that have no default (after ``self``), as
    ``cst.Param`` nodes: its ``__init__``'s, or for a dataclass-like module without one (a flax
    module) its fields without a default, with their annotations."""
    from convlint.interpret.values import MISSING

    init, _ = cls.lookup("__init__")
    if isinstance(init, FunctionVal) and isinstance(init.node, cst.FunctionDef):
        params = [*init.node.params.posonly_params, *init.node.params.params][1:] + list(init.node.params.kwonly_params)
        return [p for p in params if p.default is None]
    out = []
    for name, default in getattr(cls, "fields", None) or ():
        if default is MISSING and name not in ("parent", "name"):
            out.append(cst.Param(cst.Name(name), annotation=_field_annotation(cls, name)))
    return out


def open_parameters(target) -> tuple:
    """For a model class, or a ``functools.partial`` of one (``ResNet18 = partial(ResNet, …)``):
    ``(cls, symbolic, needs)`` — the class, the names of the required constructor parameters left
    open that hold sizes (run as symbolic sizes, :func:`symbolic_arguments`), and of those convlint
    cannot make up (a config object, a callable). ``(None, [], [])`` for anything else."""
    given: set = set()
    cls = target
    if isinstance(target, PartialVal):
        cls = unwrap(target.func)
        if isinstance(cls, ClassVal):
            given = set(target.kwargs) | {p.name.value for p in required_parameters(cls)[: len(target.args)]}
    if not isinstance(cls, ClassVal):
        return None, [], []
    symbolic = [name for name in symbolic_arguments(cls, None) if name not in given]
    needs = [p.name.value for p in required_parameters(cls) if p.name.value not in given and p.name.value not in symbolic]
    return cls, symbolic, needs


def _field_annotation(cls: ClassVal, name: str):
    """The annotation of a dataclass field ``name: int`` in the class or its bases, or None."""
    for c in cls.mro():
        body = getattr(getattr(c.node, "body", None), "body", ()) if isinstance(getattr(c, "node", None), cst.ClassDef) else ()
        for stmt in body:
            for small in getattr(stmt, "body", ()) if isinstance(stmt, cst.SimpleStatementLine) else ():
                if isinstance(small, cst.AnnAssign) and isinstance(small.target, cst.Name) and small.target.value == name:
                    return small.annotation
    return None


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


MAX_PARTIALS = 4  # module-level partials of one model class run on their own


def partial_entries(tree: cst.Module, scope) -> list:
    """``Name = functools.partial(ModelClass, …)`` at a module's top level (flax's ``ResNet18 =
    partial(ResNet, stage_sizes=[2, 2, 2, 2], block_cls=ResNetBlock)``): each a model to run on its
    own, as a class is with its defaults. Of the partials of one class, those that give the same
    classes and functions (``block_cls``, ``conv``) run the same code with other numbers: the first
    of each is run, at most :data:`MAX_PARTIALS` per class."""
    out = []
    seen: dict = {}
    for stmt in tree.body:
        if not isinstance(stmt, cst.SimpleStatementLine):
            continue
        for small in stmt.body:
            if not (isinstance(small, cst.Assign) and len(small.targets) == 1 and isinstance(small.targets[0].target, cst.Name)):
                continue
            name = small.targets[0].target.value
            v = scope.vars.get(name) if scope is not None else None
            if not isinstance(v, PartialVal):
                continue
            cls = unwrap(v.func)
            if not isinstance(cls, ClassVal) or not cls.framework:
                continue
            code = tuple(sorted((k, id(unwrap(x))) for k, x in v.kwargs.items() if isinstance(unwrap(x), (ClassVal, FunctionVal, PartialVal))))
            kinds = seen.setdefault(id(cls), set())
            if code in kinds or len(kinds) >= MAX_PARTIALS:
                continue
            kinds.add(code)
            out.append(Entry(name, "class", stmt, None, None, {}, "auto", 1))
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


def _positional(fn_node, is_method: bool) -> list:
    """The positional parameters of a ``def`` (after ``self`` for a method); [] for anything else."""
    if not isinstance(fn_node, cst.FunctionDef):
        return []
    return [*fn_node.params.posonly_params, *fn_node.params.params][1 if is_method else 0:]


def _undeclared(entry: Entry, fn_node, is_method: bool, n_args: int, kwargs: dict) -> list:
    """The parameters of ``fn_node`` without a default that the entry gives no value: beyond the
    first for a model run on its own (its one input), else beyond the declared ones."""
    if not isinstance(fn_node, cst.FunctionDef):
        return []
    positional = _positional(fn_node, is_method)
    given = 1 if entry.inputs is None else n_args
    names = [p.name.value for p in positional[given:] if p.default is None]
    names += [p.name.value for p in fn_node.params.kwonly_params if p.default is None]
    return [n for n in names if n not in kwargs and n not in entry.call]


def _entry_args(entry: Entry, fn_node, framework, is_method, fw):
    """Positional/keyword input tensors: declared shapes, or one input of unknown rank."""
    if entry.inputs is None:
        required = [p for p in _positional(fn_node, is_method) if p.default is None]
        args = [Tensor(None, fw.input_layout(framework), entry=True, framework=framework)]
        args += [Unknown(f"argument {p.name.value!r}") for p in required[1:]]
        return args, {}
    if isinstance(entry.inputs, dict):
        return [], {k: make_tensor(v, framework, fw) for k, v in entry.inputs.items()}
    return [make_tensor(v, framework, fw) for v in entry.inputs], {}


# ------------------------------------------------------------------------------------------ tests

_TEST_FILE = re.compile(r"^(?:test_.*|.*_test)\.py$")
# a test body worth running: it may build a conv-family layer or model, or make a literal-shaped
# input (torch.randn(1, 3, 64, 64), jnp.ones(...), jax.random.normal(key, shape)), or init/apply a
# flax model, or trace one with jax.eval_shape
_RUNS_A_MODEL = re.compile(rb"\.apply\(|\.init(?:_with_output)?\(|eval_shape\(|random\.(?:normal|uniform)\(|(?:randn|rand|ones|zeros|empty)\(")
MAX_CASES = 16  # parametrize cases followed one by one; beyond, the arguments are unknown


def is_test_file(path: str) -> bool:
    """A file pytest collects by default (``python_files = test_*.py *_test.py``)."""
    return _TEST_FILE.match(os.path.basename(path)) is not None


def pytest_entries(path: str, tree: cst.Module) -> list:
    """The test functions of a test file that may run a model, as ``kind="test"`` entries (one per
    literal parametrize case). An entry's ``init`` holds the case's arguments."""
    from convlint.source.prefilter import may_contain_conv

    if not is_test_file(path):
        return []
    out = []

    def add(fn: cst.FunctionDef, qual: str) -> None:
        code = cst.Module([]).code_for_node(fn).encode("utf-8", "surrogatepass")
        if not (_RUNS_A_MODEL.search(code) or may_contain_conv(code)):
            return
        cases = _parametrize_cases(fn)
        if len(cases) == 1:
            out.append(Entry(qual, "test", fn, None, None, cases[0][1], "test", 1))
        else:
            for case_id, values in cases:
                out.append(Entry(f"{qual}[{case_id}]", "test", fn, None, None, values, "test", 1))

    for stmt in tree.body:
        if isinstance(stmt, cst.FunctionDef) and stmt.name.value.startswith("test"):
            add(stmt, stmt.name.value)
        elif isinstance(stmt, cst.ClassDef) and stmt.name.value.startswith("Test"):
            for item in stmt.body.body:
                if isinstance(item, cst.FunctionDef) and item.name.value.startswith("test"):
                    add(item, f"{stmt.name.value}.{item.name.value}")
    return out


def _parametrize_cases(fn: cst.FunctionDef) -> list:
    """``[(case id, {argument: value})]``: the product of the function's literal
    ``@pytest.mark.parametrize`` decorators in pytest's order (the decorator nearest the function
    gives the first part of the id and varies slowest; parts joined with ``-``); ``[("", {})]`` when there is none or one is not literal
    (its arguments are then unknown, like fixtures)."""
    import ast
    import itertools

    tables = []
    for d in fn.decorators:
        call = d.decorator
        if not (isinstance(call, cst.Call) and isinstance(call.func, cst.Attribute) and call.func.attr.value == "parametrize"):
            continue
        positional = [a for a in call.args if a.keyword is None]
        if len(positional) < 2 or any(a.star for a in call.args):
            continue
        try:
            names = ast.literal_eval(cst.Module([]).code_for_node(positional[0].value))
            values = ast.literal_eval(cst.Module([]).code_for_node(positional[1].value))
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
            continue  # not literal: its arguments stay unknown
        if isinstance(names, str):
            names = [n.strip() for n in names.split(",") if n.strip()]
        if not isinstance(names, (list, tuple)) or not all(isinstance(n, str) for n in names) or not isinstance(values, (list, tuple)):
            continue
        rows = []
        for v in values:
            row = (v,) if len(names) == 1 else v
            if not isinstance(row, (list, tuple)) or len(row) != len(names):
                rows = None
                break
            rows.append(row)
        if rows:
            tables.append((list(names), rows))
    if not tables:
        return [("", {})]
    if any(True for _ in itertools.islice(itertools.product(*(rows for _, rows in tables)), MAX_CASES, None)):
        return [("", {})]  # too many cases to follow one by one: the arguments stay unknown
    # pytest lists the ids of the decorator nearest the function first
    tables.reverse()
    cases = []
    for combo in itertools.product(*(rows for _, rows in tables)):
        values, ids = {}, []
        for (names, _), row in zip(tables, combo):
            values.update(zip(names, row))
            ids += [_case_id(v, n, i) for i, (n, v) in enumerate(zip(names, row))]
        cases.append(("-".join(ids), values))
    return cases


def _case_id(v, name: str, i: int) -> str:
    if isinstance(v, (bool, int, float, str)) or v is None:
        return str(v)
    return f"{name}{i}"


def _run_test(interp, module, scope, entry: Entry, run: ModelRun) -> None:
    """Call a test function: its parametrize values, an unknown for each fixture."""
    fn_node = entry.node
    head, _, method = entry.name.split("[")[0].partition(".")
    target = unwrap(scope.lookup(head) if hasattr(scope, "lookup") else scope.vars.get(head))
    args = []
    if method:
        if not isinstance(target, ClassVal):
            return
        fn = unwrap(target.attrs.get(method))
        args = [Instance(target)]
    else:
        fn = target
    if not isinstance(fn, FunctionVal) or fn.node is not fn_node:
        return
    params = [*fn_node.params.posonly_params, *fn_node.params.params][1 if method else 0:]
    kwargs = {}
    for p in params + list(fn_node.params.kwonly_params):
        name = p.name.value
        if name in entry.init:
            kwargs[name] = entry.init[name]
        elif p.default is None:
            kwargs[name] = Unknown(f"pytest fixture {name!r}")
    with interp.in_module(module):
        run.output = interp.call(fn, args, kwargs, fn_node)
