"""The frameworks as the oracle: one helper for every static-vs-runtime comparison in the tests.

``static_layers`` runs ``convlint shapes`` (in process) on a model; ``runtime_layers`` runs the same
model for real with :mod:`convlint.confirm.trace` (torch on the meta device with hooks, flax under
``jax.eval_shape``); ``assert_matches_runtime`` compares them layer by layer, in execution order.
A symbolic static size (a name) must stand for the same runtime size everywhere.
"""

from __future__ import annotations

import importlib.util
import sys
import textwrap
from pathlib import Path

__all__ = ["write", "static_model", "runtime_trace", "compared", "assert_matches_runtime", "same_shape"]

# ops both sides record the same way (module layers and the functional calls the tracer sees)
COMPARED = (
    "Conv", "ConvTranspose", "ConvLocal", "MaxPool", "AvgPool", "AdaptiveAvgPool", "AdaptiveMaxPool", "Upsample", "Linear",
    "conv", "conv_transpose", "interpolate", "conv_general_dilated", "avg_pool", "max_pool", "Dense",
)


def write(tmp_path: Path, source: str, name: str = "model.py") -> Path:
    p = tmp_path / name
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(textwrap.dedent(source))
    return p


def compared(op: str) -> bool:
    last = op.rsplit(".", 1)[-1]
    return any(last == c or (last.startswith(c) and last[len(c):] in ("1d", "2d", "3d")) for c in COMPARED)


def static_model(path: Path, model: str, shape=None, init=None, root=None) -> dict:
    """``convlint shapes``' JSON model for ``path::model`` (declared here when ``shape`` is given);
    ``root`` is the project root (default: the file's folder)."""
    from convlint.commands.shapes import collect
    from convlint.config import Config

    inputs = [f"{path}::{model}=" + ",".join(str(d) for d in shape)] if shape is not None else []
    inits = [f"{path}::{model}:{k}={v!r}" for k, v in (init or {}).items()]
    models, _runs = collect([f"{path}::{model}"], inputs, inits, Config.default(root or path.parent))
    found = [m for m in models if m["name"] == model]
    assert found, f"{model} not among {[m['name'] for m in models]}"
    return found[0]


def runtime_trace(path: Path, model: str, shape, init=None, framework: str = "torch"):
    from convlint.confirm import trace

    if framework == "torch":
        res = trace.trace_torch_model(path, model, init or {}, [shape])
    else:
        res = trace.trace_flax_model(path, model, init or {}, [shape])
    assert res.ok, res.error
    return res


def same_shape(static, runtime, names: dict) -> bool:
    if static is None or runtime is None:
        return static == runtime
    if len(static) != len(runtime):
        return False
    for s, r in zip(static, runtime):
        if isinstance(s, str):
            if names.setdefault(s, r) != r:
                return False
        elif s != r:
            return False
    return True


def assert_matches_runtime(path: Path, model: str, shape, init=None, framework: str = "torch", min_layers: int = 1) -> dict:
    """Static and runtime shapes agree for every compared layer, in order, and for the output."""
    static = static_model(path, model, shape, init)
    rt = runtime_trace(path, model, shape, init, framework)
    got = [(layer["op"], layer["input"], layer["output"]) for layer in static["layers"] if compared(layer["op"])]
    want = [(e.op, list(e.input) if e.input else None, list(e.output) if e.output else None) for e in rt.events if compared(e.op)]
    assert [g[0] for g in got] == [w[0] for w in want], (got, want)
    assert len(want) >= min_layers
    names: dict = {}
    for g, w in zip(got, want):
        assert same_shape(g[1], w[1], names) and same_shape(g[2], w[2], names), (g, w)
    out = rt.output_shapes[0] if rt.output_shapes else None
    assert same_shape(static["output"], list(out) if out is not None else None, names), (static["output"], out)
    return static


def import_file(path: Path):
    """The fixture file as a module, run for real (its folder importable while it loads)."""
    spec = importlib.util.spec_from_file_location(f"_convlint_fixture_{path.stem}_{id(path)}", path)
    mod = importlib.util.module_from_spec(spec)
    sys.path.insert(0, str(path.parent))
    try:
        spec.loader.exec_module(mod)
    finally:
        sys.path.remove(str(path.parent))
    return mod
