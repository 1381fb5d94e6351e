"""Run a snippet of torch code through convlint's interpreter and through real torch, and compare.

An :class:`Example` is a code snippet that assigns ``out`` from inputs (``x``, ``y``, …), and the
inputs' real shapes. convlint sees each input with some of its facts hidden — a dim given as a
symbolic size (a name), a dim unknown, the rank only a lower bound, or the shape unknown
altogether (``Tensor.exact_rank``) — and must never state a dim that torch contradicts. torch runs
the same snippet on the meta device (and on small CPU tensors where accepting or rejecting
matters: the meta device accepts what CPU rejects).
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass, field

from convlint.frameworks import FRAMEWORKS
from convlint.interpret.declare import Entry
from convlint.interpret.entries import ModelRun
from convlint.interpret.events import Trace
from convlint.interpret.interpreter import Interpreter
from convlint.interpret.symbolic import Sym
from convlint.interpret.tensor import CHANNELS_FIRST, Tensor
from convlint.interpret.values import Unknown
from convlint.source.project import Project

HEADER = "import torch\nimport torch.nn as nn\nimport torch.nn.functional as F\n\n\n"
ERRORS = ("CVL001", "CVL002", "CVL003", "CVL005")  # findings that claim the framework raises


@dataclass
class Input:
    shape: tuple  # the real shape
    dtype: str = "float"  # float | long | bool
    high: int = 2  # long inputs on CPU are drawn in [0, high)
    view: tuple | None = None  # per dim: "k" known, "s" symbolic, "u" unknown; None: all known
    rank: str = "exact"  # exact | inexact (the last ``keep`` dims, rank a lower bound) | none
    keep: int = 0


@dataclass
class Example:
    code: str
    inputs: dict = field(default_factory=dict)  # name -> Input
    cpu: bool = False  # run on CPU too: accept/reject matters
    full: bool = True  # with every input dim known, convlint must state every output dim

    def source(self) -> str:
        body = textwrap.indent(textwrap.dedent(self.code).strip() + "\nreturn out", "    ")
        return HEADER + f"def f({', '.join(self.inputs)}):\n{body}\n"


# ------------------------------------------------------------------------------------------ convlint

def static_tensor(name: str, inp: Input, env: dict) -> Tensor:
    if inp.rank == "none":
        return Tensor(None, CHANNELS_FIRST, framework="torch")
    view = inp.view or ("k",) * len(inp.shape)
    dims = []
    for i, (d, v) in enumerate(zip(inp.shape, view)):
        if v == "s":
            sym = f"{name.upper()}{i}"
            env[sym] = d
            dims.append(Sym.var(sym))
        elif v == "u":
            dims.append(Unknown("hidden by the test"))
        else:
            dims.append(d)
    if inp.rank == "inexact":
        t = Tensor(tuple(dims[len(dims) - inp.keep :]), CHANNELS_FIRST, framework="torch")
        t.exact_rank = False
        return t
    return Tensor(tuple(dims), CHANNELS_FIRST, framework="torch")


def run_static(ex: Example):
    """``(value of out, env of symbolic sizes, issues)``."""
    import os
    import tempfile

    from convlint.analysis import _check

    root = tempfile.gettempdir()
    path = os.path.join(root, "convlint_catalogue_example.py")
    project = Project(root)
    project.begin(path)
    try:
        project.parse_text(path, ex.source())
        module = project.info(path)
        interp = Interpreter(project, FRAMEWORKS)
        trace = Trace()
        interp.trace = trace
        scope = interp.module_globals(module)
        fn = scope.vars["f"]
        env: dict = {}
        args = [static_tensor(n, inp, env) for n, inp in ex.inputs.items()]
        with interp.in_module(module):
            out = interp.call(fn, args, {}, fn.node)
        run = ModelRun(Entry("f", "function", fn.node, None, None, {}, "option", 1), path, trace, args[0] if args else None, out, module=module)
        issues = _check([run])
    finally:
        project.end()
    return out, env, issues


# ------------------------------------------------------------------------------------------ torch

def real_inputs(ex: Example, device: str):
    import torch

    g = torch.Generator().manual_seed(0)
    out = {}
    for name, inp in ex.inputs.items():
        if device == "meta":
            dt = {"float": torch.float32, "long": torch.long, "bool": torch.bool}[inp.dtype]
            out[name] = torch.empty(inp.shape, dtype=dt, device="meta")
        elif inp.dtype == "long":
            out[name] = torch.randint(0, max(inp.high, 1), inp.shape, generator=g)
        elif inp.dtype == "bool":
            out[name] = torch.rand(inp.shape, generator=g) > 0.5
        else:
            out[name] = torch.randn(inp.shape, generator=g)
    return out


def run_torch(ex: Example):
    """``("ok", value)`` or ``("raises", exception)``: CPU decides when the example asks for it, or
    when the meta device cannot compute the op (data-dependent shapes)."""
    import torch
    import torch.nn as nn
    import torch.nn.functional as F

    def attempt(device):
        ns = {"torch": torch, "nn": nn, "F": F, **real_inputs(ex, device)}
        code = textwrap.dedent(ex.code).strip()
        torch.manual_seed(0)
        if device == "meta":
            with torch.device("meta"):
                exec(code, ns)
        else:
            exec(code, ns)
        return ns["out"]

    if ex.cpu:
        try:
            return "ok", attempt("cpu")
        except Exception as e:  # noqa: BLE001 - any torch error is a rejection
            return "raises", e
    try:
        return "ok", attempt("meta")
    except NotImplementedError:
        pass
    except Exception as e:  # noqa: BLE001
        if "meta" not in str(e).lower() and "data-dependent" not in str(e).lower():
            return "raises", e
    try:
        return "ok", attempt("cpu")
    except Exception as e:  # noqa: BLE001
        return "raises", e


# ------------------------------------------------------------------------------------------ comparison

def _dim_value(d, env):
    if isinstance(d, Sym):
        return d.evaluate(env)
    return d


def stated(v) -> bool:
    """Every dim of every tensor in ``v`` is stated (no unknown, rank exact)."""
    if isinstance(v, Tensor):
        return v.shape is not None and v.exact_rank and not any(isinstance(d, Unknown) for d in v.shape)
    if isinstance(v, (tuple, list)):
        return all(stated(x) for x in v)
    return not isinstance(v, Unknown)


def compare(static, real, env, where="out"):
    """Assert that what convlint states about ``static`` holds for torch's ``real``."""
    import torch

    if isinstance(static, Unknown):
        return
    if isinstance(real, torch.Tensor):
        assert isinstance(static, Tensor), f"{where}: convlint gives {static!r}, torch a tensor {tuple(real.shape)}"
        if static.shape is None:
            return
        rs, ss = tuple(real.shape), tuple(static.shape)
        if static.exact_rank:
            assert len(ss) == len(rs), f"{where}: convlint states rank {len(ss)} {ss}, torch gives {rs}"
            pairs = list(zip(ss, rs))
        else:
            assert len(ss) <= len(rs), f"{where}: convlint states at least {len(ss)} dims {ss}, torch gives {rs}"
            pairs = list(zip(ss, rs[len(rs) - len(ss) :]))
        for i, (s, r) in enumerate(pairs):
            if isinstance(s, Unknown):
                continue
            assert _dim_value(s, env) == r, f"{where}: convlint states {ss} (dim {i}: {s}), torch gives {rs}"
        return
    if isinstance(real, (tuple, list)):
        assert isinstance(static, (tuple, list)), f"{where}: convlint gives {static!r}, torch a sequence of {len(real)}"
        assert len(static) == len(real), f"{where}: convlint gives {len(static)} items, torch {len(real)}"
        for j, (s, r) in enumerate(zip(static, real)):
            compare(s, r, env, f"{where}[{j}]")
        return
    if real is None:
        assert static is None or isinstance(static, Unknown), f"{where}: convlint gives {static!r}, torch None"
        return
    if isinstance(real, (bool, int)) and isinstance(static, (bool, int, Sym)):
        assert _dim_value(static, env) == real, f"{where}: convlint gives {static!r}, torch {real!r}"


def _empty(v) -> bool:
    import torch

    if isinstance(v, torch.Tensor):
        return 0 in tuple(v.shape)
    if isinstance(v, (tuple, list)):
        return any(_empty(x) for x in v)
    return False


def check_example(ex: Example) -> dict:
    """Run both sides and compare; returns a summary for the caller's statistics."""
    static, env, issues = run_static(ex)
    outcome, real = run_torch(ex)
    errors = [i for i in issues if i.code in ERRORS]
    src = ex.source()
    if outcome == "ok":
        if _empty(real):
            # torch (CPU) returns an empty tensor where convlint reports an empty output (CVL002):
            # they agree that the output is empty
            errors = [i for i in errors if i.code != "CVL002"]
        assert not errors, f"convlint reports {[(i.code, i.message) for i in errors]} but torch accepts:\n{src}"
        compare(static, real, env)
        known = all(inp.rank == "exact" and (inp.view is None or set(inp.view) <= {"k"}) for inp in ex.inputs.values())
        if ex.full and known and not _empty(real):
            assert stated(static), f"every input dim is known, but convlint leaves {static!r} partly unknown:\n{src}"
    return {"outcome": outcome, "reported": bool(errors)}
