"""The fixture corpus (tests/fixtures/models, described by MANIFEST.json): static shapes equal the
runtime ones layer by layer, every planted bug is reported on its line, and correct models get no
error or warning.

The runtime side is the real framework: torch forward hooks on the meta device, flax and lax
under ``jax.eval_shape`` (``convlint.confirm.trace``).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from convlint.analysis import Project, analyze_file
from convlint.rules import default_selection
from convlint.commands.shapes import collect

BASE = Path(__file__).parent / "fixtures" / "models"
MANIFEST = json.loads((BASE / "MANIFEST.json").read_text())["fixtures"]
# ops both sides record the same way (layers and the functional calls the tracer sees from user code)
COMPARED = (
    "Conv", "ConvTranspose", "MaxPool", "AvgPool", "AdaptiveAvgPool", "AdaptiveMaxPool", "Upsample", "Linear",
    "conv", "conv_transpose", "interpolate", "conv_general_dilated", "avg_pool", "max_pool",
)


def _compared(op: str) -> bool:
    last = op.rsplit(".", 1)[-1]
    return any(last == c or (last.startswith(c) and last[len(c):] in ("1d", "2d", "3d")) for c in COMPARED)


def _findings(file: str):
    path = BASE / file
    res = analyze_file(Project(BASE), str(path), path.read_text())
    out = set()
    for f in res.findings:
        if f.code in default_selection() and f.severity in ("error", "warning"):
            rel = os.path.relpath(os.path.abspath(f.path), BASE).replace(os.sep, "/")
            out.add((f.code, rel, f.line))
    return out


@pytest.mark.parametrize("fx", MANIFEST, ids=[f"{f['file']}::{f['model']}" for f in MANIFEST])
def test_planted_bugs_are_reported_on_their_lines(fx):
    found = _findings(fx["file"])
    for bug in fx.get("bugs", []):
        assert (bug["code"], bug["path"], bug["line"]) in found, (bug, sorted(found))


def test_no_error_or_warning_beyond_the_planted_bugs():
    planted = {(b["code"], b["path"], b["line"]) for f in MANIFEST for b in f.get("bugs", [])}
    found = set()
    for file in sorted({f["file"] for f in MANIFEST}):
        found |= _findings(file)
    extra = found - planted
    # Each extra below is a true statement about a fixture, beside the bug it plants:
    expected_extra = {
        ("CVL003", "vae_fc_mismatch.py", 28),  # fc_var is sized like fc_mu: the same mistake twice
        ("CVL004", "flax_autoencoder_setup.py", 38),  # the second upsampling also misses (32 for 30)
        ("CVL006", "unet/parts.py", 34),  # MaxPool2d(2) on the odd 75/37/9 maps drops a row
        # CVL006 covers flax and lax since the rules own their checks: flax_unet_odd.py's 62×62
        # input reaches the second max_pool as 31×31, which drops a row and a column
        ("CVL006", "flax_unet_compact.py", 63),
    }
    assert extra <= expected_extra, sorted(extra - expected_extra)


def _runtime(fx):
    from convlint.confirm import trace

    inputs = fx["inputs"]
    path = BASE / fx["file"]
    if fx["framework"] == "torch":
        return trace.trace_torch_model(path, fx["model"], fx.get("init") or {}, inputs)
    if fx["framework"] == "flax":
        return trace.trace_flax_model(path, fx["model"], fx.get("init") or {}, inputs)
    return trace.trace_jax_script(path)


# models that run; a configuration only the meta device accepts (CPU rejects it) is CVL001, not a shape
RUNNABLE = [f for f in MANIFEST if f.get("runtime") == "ok" and f.get("runtime_cpu", "ok") == "ok"]


def _same(static, runtime, names) -> bool:
    """Shapes agree; a symbolic static dim (a name) stands for the same runtime size everywhere."""
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


@pytest.mark.parametrize("fx", RUNNABLE, ids=[f"{f['file']}::{f['model']}" for f in RUNNABLE])
def test_static_shapes_equal_runtime_shapes_layer_by_layer(fx):
    if fx["framework"] == "torch":
        pytest.importorskip("torch")
    else:
        pytest.importorskip("jax")
    if fx["framework"] == "flax":
        pytest.importorskip("flax")
    rt = _runtime(fx)
    assert rt.ok, rt.error
    models, _ = collect([f"{BASE / fx['file']}::{fx['model']}"])
    (static,) = [m for m in models if m["name"] == fx["model"]]
    got = [(layer["op"], layer["input"], layer["output"]) for layer in static["layers"] if _compared(layer["op"])]
    want = [(e.op, list(e.input) if e.input else None, list(e.output) if e.output else None) for e in rt.events if _compared(e.op)]
    assert [g[0] for g in got] == [w[0] for w in want]
    names: dict = {}
    for g, w in zip(got, want):
        assert _same(g[1], w[1], names) and _same(g[2], w[2], names), (g, w)
    if rt.output_shapes and static["output"] is not None:
        assert _same(static["output"], list(rt.output_shapes[0]), names)
