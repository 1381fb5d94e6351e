"""The runtime tracer (convlint.confirm.trace) records what torch and jax really do, layer by layer.

Reference shapes come from the frameworks themselves: independent forward hooks on a CPU run
(torch), flax's own ``capture_intermediates``, ``jax.eval_shape`` called directly, and the shapes
the seed document prints for its JAX examples.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from convlint.confirm.trace import (
    LayerEvent,
    TraceResult,
    trace_flax_model,
    trace_jax_script,
    trace_torch_model,
)

torch = pytest.importorskip("torch")
jax = pytest.importorskip("jax")
flax = pytest.importorskip("flax")

FIXTURES = Path(__file__).parent / "fixtures" / "models"
MANIFEST = json.loads((FIXTURES / "MANIFEST.json").read_text())["fixtures"]


def _entry(file: str, model: str) -> dict:
    return next(e for e in MANIFEST if e["file"] == file and e["model"] == model)


def _inputs(entry: dict):
    inputs = entry["inputs"]
    if isinstance(inputs, dict):
        return {k: tuple(v) for k, v in inputs.items()}
    return [tuple(s) for s in inputs]


def _init(entry: dict) -> dict:
    # JSON has no tuples; the fixtures accept lists wherever the pragma writes a tuple.
    return dict(entry["init"])


def _run(entry: dict, device: str = "meta") -> TraceResult:
    path = FIXTURES / entry["file"]
    if entry["framework"] == "torch":
        return trace_torch_model(path, entry["model"], _init(entry), _inputs(entry), device=device)
    if entry["framework"] == "flax":
        return trace_flax_model(path, entry["model"], _init(entry), _inputs(entry))
    return trace_jax_script(path)


def _ids(entries):
    return [f"{e['file']}::{e['model']}" for e in entries]


# --------------------------------------------------------------------------- import isolation


def test_importing_trace_imports_no_framework():
    code = textwrap.dedent(
        """
        import sys
        import convlint.confirm
        import convlint.confirm.trace
        bad = [m for m in ("torch", "jax", "jaxlib", "flax", "numpy") if m in sys.modules]
        assert not bad, bad
        """
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


# ----------------------------------------------------------------------- every fixture, as declared


@pytest.mark.parametrize("entry", MANIFEST, ids=_ids(MANIFEST))
def test_fixture_runs_as_the_manifest_says(entry):
    result = _run(entry)
    if entry["runtime"] == "ok":
        assert result.error is None, result.error
        assert result.stage == "done"
        assert result.events, "a conv-family model records layers"
        declared = entry["output"]
        if declared is not None:
            output_bug = any(b["code"] == "CVL009" for b in entry["bugs"])
            assert (list(result.output_shapes[0]) != declared) == output_bug
    else:
        err = entry["runtime_error"]
        assert result.error is not None
        assert result.error.type == err["type"]
        assert Path(result.error.path) == FIXTURES / err["path"]
        assert result.error.line == err["line"]
        assert result.failed_layer is not None
        assert result.failed_layer.line == err["layer_line"]
        assert result.failed_layer.output is None
        if "stage" in err:
            assert result.stage == err["stage"]


@pytest.mark.parametrize("entry", MANIFEST, ids=_ids(MANIFEST))
def test_manifest_bugs_are_documented_in_the_fixture(entry):
    header = (FIXTURES / entry["file"]).read_text()
    lines = {(FIXTURES / b["path"]).read_text().count("\n") + 1 for b in entry["bugs"]}
    for bug in entry["bugs"]:
        assert bug["code"] in header
        assert f"line {bug['line']}" in header
        assert bug["line"] <= max(lines)


@pytest.mark.parametrize(
    "entry", [e for e in MANIFEST if e["framework"] != "jax"], ids=_ids([e for e in MANIFEST if e["framework"] != "jax"])
)
def test_every_event_points_at_the_expression_that_builds_it(entry):
    result = _run(entry)
    checked = 0
    for event in result.events:
        assert event.path is not None and event.line is not None, event
        text = Path(event.path).read_text().splitlines()[event.line - 1].lower()
        short = event.op.rsplit(".", 1)[-1].lower()
        # a flax conv built from a ``partial(nn.Conv, ...)`` field is called as ``self.conv(...)``
        assert short in text or (short == "conv" and "conv" in text), (event, text)
        checked += 1
    assert checked


# ------------------------------------------------------------------- torch: against a CPU reference


_REFERENCE_KINDS = (
    "Conv1d", "Conv2d", "Conv3d", "ConvTranspose1d", "ConvTranspose2d", "ConvTranspose3d",
    "MaxPool1d", "MaxPool2d", "AvgPool2d", "AdaptiveAvgPool2d", "Upsample", "Linear", "Flatten",
    "BatchNorm1d", "BatchNorm2d", "GroupNorm", "ZeroPad2d",
)


def _reference_module_shapes(entry: dict) -> list[tuple[str, str, tuple, tuple]]:
    """Run the fixture for real on CPU with plain forward hooks; no convlint code involved."""
    path = FIXTURES / entry["file"]
    saved_path, saved_modules = list(sys.path), set(sys.modules)
    sys.path.insert(0, str(FIXTURES))
    try:
        if "/" in entry["file"]:
            pkg, stem = entry["file"].rsplit("/", 1)
            module = importlib.import_module(f"{pkg.replace('/', '.')}.{stem[:-3]}")
        else:
            spec = importlib.util.spec_from_file_location("_reference_" + path.stem, path)
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
        model = getattr(module, entry["model"])(**_init(entry)).eval()
        seen = []
        handles = []
        for name, sub in model.named_modules():
            if type(sub).__name__ in _REFERENCE_KINDS and type(sub).__module__.startswith("torch.nn"):
                def hook(mod, args, out, name=name):
                    seen.append((f"torch.nn.{type(mod).__name__}", name, tuple(args[0].shape), tuple(out.shape)))
                handles.append(sub.register_forward_hook(hook))
        inputs = _inputs(entry)
        with torch.no_grad():
            if isinstance(inputs, dict):
                model(**{k: torch.zeros(v) for k, v in inputs.items()})
            else:
                model(*[torch.zeros(s) for s in inputs])
        for h in handles:
            h.remove()
        return seen
    finally:
        sys.path[:] = saved_path
        for name in set(sys.modules) - saved_modules:
            if getattr(sys.modules[name], "__file__", "") and str(FIXTURES) in (sys.modules[name].__file__ or ""):
                del sys.modules[name]


_TORCH_OK = [
    e for e in MANIFEST if e["framework"] == "torch" and e["runtime"] == "ok" and e.get("runtime_cpu", "ok") == "ok"
]


@pytest.mark.parametrize("entry", _TORCH_OK, ids=_ids(_TORCH_OK))
def test_torch_module_events_equal_a_cpu_run_with_forward_hooks(entry):
    expected = _reference_module_shapes(entry)
    result = _run(entry)
    got = [
        (e.op, e.name, e.input, e.output)
        for e in result.events
        if e.name is not None and e.op.rsplit(".", 1)[-1] in _REFERENCE_KINDS
    ]
    assert got == expected


@pytest.mark.parametrize("entry", _TORCH_OK, ids=_ids(_TORCH_OK))
def test_torch_meta_and_cpu_traces_agree(entry):
    meta = _run(entry, device="meta")
    cpu = _run(entry, device="cpu")
    assert cpu.error is None
    assert meta.events == cpu.events
    assert meta.output_shapes == cpu.output_shapes


def test_functional_calls_are_recorded_at_the_call_site():
    entry = _entry("unet/model.py", "UNet")
    result = _run(entry)
    pads = [e for e in result.events if e.op == "torch.nn.functional.pad"]
    cats = [e for e in result.events if e.op == "torch.cat"]
    assert len(pads) == len(cats) == 4
    parts = (FIXTURES / "unet" / "parts.py").read_text().splitlines()
    assert all(Path(e.path).name == "parts.py" and "F.pad(" in parts[e.line - 1] for e in pads)
    # 75 -> 37 -> 18 -> 9 -> 4: each transposed conv doubles, F.pad restores the skip's size
    assert [e.input[-1] for e in pads] == [8, 18, 36, 74]
    assert [e.output[-1] for e in pads] == [9, 18, 37, 75]
    for cat in cats:
        assert len(cat.operands) == 2
        assert cat.operands[0][2:] == cat.operands[1][2:]
        assert cat.output[1] == cat.operands[0][1] + cat.operands[1][1]


def test_functional_calls_inside_torch_modules_are_not_recorded_twice():
    entry = _entry("unet/model.py", "UNetBilinear")
    result = _run(entry)
    ops = {e.op for e in result.events}
    assert "torch.nn.Upsample" in ops
    assert "torch.nn.functional.interpolate" not in ops  # nn.Upsample's own call
    assert "torch.nn.functional.conv2d" not in ops  # nn.Conv2d's own call
    # but a user's own F.interpolate is recorded (vqgan_style's Upsample block)
    vq = _run(_entry("vqgan_style.py", "AutoencoderKL"))
    interps = [e for e in vq.events if e.op == "torch.nn.functional.interpolate"]
    assert interps and all(e.output[-1] == 2 * e.input[-1] for e in interps)


def test_module_names_and_sites_follow_the_builder_not_the_caller():
    result = _run(_entry("unet/model.py", "UNet"))
    first = result.events[0]
    assert first.name == "inc.double_conv.0"
    assert Path(first.path).name == "parts.py"
    assert first.column is not None and first.column >= 1
    ups = [e for e in result.events if e.op == "torch.nn.ConvTranspose2d"]
    assert [e.name for e in ups] == ["up1.up", "up2.up", "up3.up", "up4.up"]
    assert len({(e.path, e.line) for e in ups}) == 1  # all built by the same line of Up.__init__


def test_meta_accepts_an_output_padding_cpu_rejects():
    entry = _entry("bad_output_padding.py", "Decoder")
    meta = _run(entry, device="meta")
    assert meta.error is None and meta.output_shapes == [(1, 3, 33, 33)]
    cpu = _run(entry, device="cpu")
    assert cpu.error is not None and "output padding" in cpu.error.message
    assert cpu.failed_layer.op == "torch.nn.ConvTranspose2d"
    assert cpu.failed_layer.input == (1, 8, 16, 16)


def test_a_runtime_error_names_the_user_line_and_the_failing_layer():
    result = _run(_entry("lenet_mnist.py", "LeNet"))
    assert result.stage == "forward"
    assert result.error.type == "RuntimeError"
    src = (FIXTURES / "lenet_mnist.py").read_text().splitlines()
    assert "self.fc1(x)" in src[result.error.line - 1]
    assert result.failed_layer.op == "torch.nn.Linear"
    assert result.failed_layer.name == "fc1"
    assert result.failed_layer.input == (8, 256)
    assert "nn.Linear(16 * 5 * 5" in src[result.failed_layer.line - 1]


def test_import_and_constructor_errors_are_results_not_tracebacks(tmp_path):
    bad = tmp_path / "broken.py"
    bad.write_text("import torch.nn as nn\n\nclass Net(nn.Module):\n    def __init__(self, width):\n        super().__init__()\n")
    result = trace_torch_model(bad, "Net", {}, [(1, 3, 8, 8)])
    assert result.stage == "init" and result.error.type == "TypeError"
    missing = trace_torch_model(bad, "Nope", {}, [(1, 3, 8, 8)])
    assert missing.error.type == "AttributeError"
    syntax = tmp_path / "syntax.py"
    syntax.write_text("def f(:\n    pass\n")
    result = trace_torch_model(syntax, "Net", {}, [(1,)])
    assert result.stage == "import" and result.error.type == "SyntaxError"
    assert result.error.path == str(syntax) and result.error.line == 1


# ----------------------------------------------------------------------------------------- flax


_FLAX_OK = [e for e in MANIFEST if e["framework"] == "flax" and e["runtime"] == "ok"]


@pytest.mark.parametrize("entry", _FLAX_OK, ids=_ids(_FLAX_OK))
def test_flax_module_events_equal_captured_intermediates(entry):
    result = _run(entry)
    path = FIXTURES / entry["file"]
    saved_path = list(sys.path)
    sys.path.insert(0, str(FIXTURES))
    try:
        spec = importlib.util.spec_from_file_location("_reference_" + path.stem, path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    finally:
        sys.path[:] = saved_path
    model = getattr(module, entry["model"])(**_init(entry))
    # flax's own capture_intermediates (no convlint code), shapes by jax.eval_shape (a concrete
    # CPU run gives the same shapes but compiles every op: seconds per model)
    x = jax.ShapeDtypeStruct(tuple(entry["inputs"][0]), jax.numpy.float32)
    variables = jax.eval_shape(model.init, jax.random.PRNGKey(0), x)
    out, state = jax.eval_shape(
        lambda v, a: model.apply(v, a, capture_intermediates=True, mutable=["intermediates"]), variables, x
    )
    assert [tuple(out.shape)] == result.output_shapes
    modules = [e for e in result.events if e.name is not None]
    assert modules
    for event in modules:
        node = state["intermediates"]
        for part in event.name.split("."):
            node = node[part]
        assert tuple(node["__call__"][0].shape) == event.output, event


def test_flax_functional_calls_and_setup_sites():
    result = _run(_entry("flax_unet_compact.py", "UNet"))
    ops = [e.op for e in result.events]
    assert ops.count("flax.linen.max_pool") == 2
    assert ops.count("jax.numpy.concatenate") == 2
    assert ops.count("jax.image.resize") == 1
    # lax.conv_general_dilated inside nn.Conv is the module's own call
    assert "jax.lax.conv_general_dilated" not in ops
    resize = next(e for e in result.events if e.op == "jax.image.resize")
    assert resize.output == (1, 64, 64, 8) and resize.input == (1, 32, 32, 8)

    setup = _run(_entry("flax_autoencoder_setup.py", "AutoEncoder"))
    src = (FIXTURES / "flax_autoencoder_setup.py").read_text().splitlines()
    up1 = next(e for e in setup.events if e.name == "decoder.up1")
    assert "self.up1 = nn.ConvTranspose(" in src[up1.line - 1]  # built in setup(), not where called
    assert (up1.input, up1.output) == ((2, 8, 8, 8), (2, 16, 16, 8))


def test_flax_init_failure_keeps_the_events_before_it():
    result = _run(_entry("flax_unet_odd.py", "TileUNet"))
    assert result.stage == "init"
    assert result.error.type == "TypeError"
    assert result.failed_layer.op == "jax.numpy.concatenate"
    assert result.failed_layer.operands == ((1, 31, 31, 8), (1, 30, 30, 8))
    assert result.events[-1].op == "flax.linen.ConvTranspose"
    assert result.events[-1].output == (1, 30, 30, 8)


# ------------------------------------------------------------------------------------- plain JAX


def test_seed_script_shapes_match_the_seed_document():
    entry = _entry("seed_jax_examples.py", "<module>")
    result = _run(entry)
    assert result.error is None
    convs = [e for e in result.events if e.op == "jax.lax.conv_general_dilated"]
    assert [list(e.output) for e in convs] == entry["expected_conv_outputs"]
    printed = [line.split(": ", 1)[1] for line in result.stdout.splitlines()]
    assert printed == [str(tuple(s)) for s in entry["expected_conv_outputs"]]
    src = (FIXTURES / "seed_jax_examples.py").read_text().splitlines()
    assert all("conv_general_dilated" in src[e.line - 1] for e in convs[:4])


def test_jax_function_is_traced_under_eval_shape(tmp_path):
    script = tmp_path / "encode.py"
    script.write_text(
        textwrap.dedent(
            """
            import jax.numpy as jnp
            from jax import lax

            def encode(x, kernel):
                h = lax.conv_general_dilated(x, kernel, (2, 2), 'SAME')
                return jnp.concatenate([h, h], axis=1)
            """
        )
    )
    x, k = (2, 3, 9, 9), (4, 3, 3, 3)
    result = trace_jax_script(script, "encode", [x, k])
    expected = jax.eval_shape(
        lambda a, b: jax.lax.conv_general_dilated(a, b, (2, 2), "SAME"),
        jax.ShapeDtypeStruct(x, jax.numpy.float32),
        jax.ShapeDtypeStruct(k, jax.numpy.float32),
    )
    assert [e.op for e in result.events] == ["jax.lax.conv_general_dilated", "jax.numpy.concatenate"]
    assert result.events[0].output == tuple(expected.shape)
    assert result.events[1].line == 7 and result.events[1].operands == (tuple(expected.shape),) * 2
    assert result.output_shapes == [(2, 8, 5, 5)]


# -------------------------------------------------------------------------------- no leaked state


def _global_state():
    import flax.linen as nn
    import jax.numpy as jnp

    return {
        "Module.__init__": torch.nn.Module.__init__,
        "Conv2d.__init__": torch.nn.Conv2d.__init__,
        "flax.__post_init__": nn.Module.__post_init__,
        "lax.conv_general_dilated": jax.lax.conv_general_dilated,
        "lax.conv_transpose": jax.lax.conv_transpose,
        "jnp.concatenate": jnp.concatenate,
        "nn.avg_pool": nn.avg_pool,
        "nn.max_pool": nn.max_pool,
        "image.resize": jax.image.resize,
        "forward hooks": len(torch.nn.modules.module._global_forward_hooks),
        "forward pre hooks": len(torch.nn.modules.module._global_forward_pre_hooks),
        "torch function modes": torch._C._len_torch_function_stack(),
        "sys.path": list(sys.path),
    }


def test_traces_leave_no_global_state_behind():
    before = _global_state()
    modules_before = set(sys.modules)
    for file, model in [
        ("unet/model.py", "UNet"),
        ("lenet_mnist.py", "LeNet"),  # raises
        ("flax_unet_odd.py", "TileUNet"),  # raises, sibling import
        ("flax_autoencoder_setup.py", "AutoEncoder"),
        ("seed_jax_examples.py", "<module>"),
    ]:
        _run(_entry(file, model))
    assert _global_state() == before
    leaked = [
        m for m in set(sys.modules) - modules_before
        if str(FIXTURES) in (getattr(sys.modules[m], "__file__", None) or "")
    ]
    assert leaked == []
    assert "unet" not in sys.modules and "flax_unet_compact" not in sys.modules


def test_layer_event_fields():
    event = LayerEvent("torch.nn.Conv2d", (1, 3, 8, 8), (1, 4, 8, 8), "m.py", 3, name="conv")
    assert event.column is None and event.operands == ()


# ------------------------------------------------------------------------ packages, dtypes, init


CONFIRM = Path(__file__).parent / "fixtures" / "confirm"


def _tree(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)


def test_package_context_finds_the_top_of_the_package(tmp_path):
    from convlint.confirm.trace import package_context

    rel = "from ..blocks import Block\n"
    _tree(tmp_path, {
        # a regular package: walked up to the first folder without __init__.py
        "a/pkg/__init__.py": "", "a/pkg/models/__init__.py": "", "a/pkg/models/net.py": rel,
        # a namespace sub-package (models/ has no __init__.py) in a regular package
        "b/pyproject.toml": "", "b/pkg/__init__.py": "", "b/pkg/models/net.py": rel,
        # a src layout without any __init__.py
        "c/setup.cfg": "", "c/src/pkg/models/net.py": rel,
        # no project marker: as high as the relative imports climb
        "d/x-y/pkg/models/net.py": rel,
        # no relative import: no package needed
        "e/pyproject.toml": "", "e/pkg/models/net.py": "import torch\n",
    })
    assert package_context(tmp_path / "a/pkg/models/net.py") == (str(tmp_path / "a"), ["pkg", "models"])
    assert package_context(tmp_path / "b/pkg/models/net.py") == (str(tmp_path / "b"), ["pkg", "models"])
    assert package_context(tmp_path / "c/src/pkg/models/net.py") == (str(tmp_path / "c/src"), ["pkg", "models"])
    # the project root the caller gives (convlint's), where no marker is
    assert package_context(tmp_path / "d/x-y/pkg/models/net.py", tmp_path / "d/x-y") == (str(tmp_path / "d/x-y"), ["pkg", "models"])
    # a root too deep for the relative imports is passed over
    assert package_context(tmp_path / "c/src/pkg/models/net.py", tmp_path / "c/src/pkg") == (str(tmp_path / "c/src"), ["pkg", "models"])
    # neither: as high as the relative imports climb
    assert package_context(tmp_path / "d/x-y/pkg/models/net.py") == (str(tmp_path / "d/x-y"), ["pkg", "models"])
    assert package_context(tmp_path / "e/pkg/models/net.py") == (str(tmp_path / "e/pkg/models"), [])


def test_a_namespace_package_module_is_imported_and_cleaned_up():
    before_path, before_modules = list(sys.path), set(sys.modules)
    unet = CONFIRM / "segkit_project" / "src" / "segkit" / "models" / "unet.py"
    result = trace_torch_model(unet, "UNet", {"n_classes": 2}, [(2, 3, 64, 64)])
    assert result.error is None, result.error
    assert result.output_shapes == [(2, 2, 64, 64)]
    assert [Path(e.path).name for e in result.events[:2]] == ["layers.py", "layers.py"]
    assert result.events[0].name == "inc.block.0.0"
    assert sys.path == before_path
    assert [m for m in set(sys.modules) - before_modules if m.split(".")[0] == "segkit"] == []


def test_declared_dtypes_and_call_keywords_reach_the_model():
    gan = CONFIRM / "cond_gan.py"
    inputs = {"x": (8, 3, 32, 32), "labels": (8,)}
    floats = trace_torch_model(gan, "ProjectionDiscriminator", {"num_classes": 10}, inputs)
    assert floats.error.type == "RuntimeError" and "'indices'" in floats.error.message
    ints = trace_torch_model(gan, "ProjectionDiscriminator", {"num_classes": 10}, inputs, dtypes={"labels": "int64"})
    assert ints.error is None and ints.output_shapes == [(8, 1)]
    # by position, on CPU (zeros are valid class indices)
    cpu = trace_torch_model(gan, "ProjectionDiscriminator", {"num_classes": 10}, [(2, 3, 32, 32), (2,)], dtypes={1: "int64"}, device="cpu")
    assert cpu.error is None and cpu.output_shapes == [(2, 1)]
    flax_model = CONFIRM / "flax_cond_classifier.py"
    finputs = {"x": (4, 32, 32, 3), "domain": (4,)}
    missing = trace_flax_model(flax_model, "DomainClassifier", {"num_domains": 3}, finputs, dtypes={"domain": "int64"})
    assert missing.error.type == "TypeError" and "'train'" in missing.error.message
    ok = trace_flax_model(flax_model, "DomainClassifier", {"num_domains": 3}, finputs, dtypes={"domain": "int64"}, call={"train": False})
    assert ok.error is None and ok.output_shapes == [(4, 10)]


def test_layers_applied_while_the_model_is_built_are_init_events():
    result = trace_torch_model(CONFIRM / "probe_cnn.py", "SmallCNN28", {}, [(16, 1, 28, 28)])
    assert result.error is None and result.built
    convs = [(e.op.rsplit(".", 1)[-1], e.name, e.input) for e in result.init_events if "Conv" in e.op]
    assert convs == [("Conv2d", "features.0", (1, 1, 28, 28)), ("Conv2d", "features.3", (1, 16, 12, 12))]
    assert [e.input for e in result.events if e.name == "features.0"] == [(16, 1, 28, 28)]
    # the 32x32 model fails in forward, after it was built; a constructor that fails is not built
    failing = trace_torch_model(CONFIRM / "probe_cnn.py", "SmallCNN", {}, [(16, 1, 32, 32)])
    assert failing.built and failing.stage == "forward" and failing.failed_layer.name == "classifier"
    unbuilt = trace_torch_model(CONFIRM / "probe_cnn.py", "SmallCNN", {"image_size": 4}, [(16, 1, 32, 32)])
    assert not unbuilt.built and unbuilt.stage == "init"
    assert unbuilt.failed_layer.op == "torch.nn.Conv2d" and unbuilt.failed_layer.input == (1, 1, 4, 4)


def test_a_recurrent_layer_that_raises_is_the_failed_layer():
    result = trace_torch_model(CONFIRM / "crnn.py", "CRNN", {}, [(4, 1, 32, 128)])
    assert result.failed_layer.op == "torch.nn.LSTM" and result.failed_layer.name == "rnn"
    assert result.failed_layer.input == (4, 32, 1024)
    assert "nn.LSTM(" in (CONFIRM / "crnn.py").read_text().splitlines()[result.failed_layer.line - 1]
