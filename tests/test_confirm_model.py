"""--confirm=model compares like with like (tests/fixtures/confirm).

Each fixture is a model in the style of real code: a src-layout package whose ``models`` folder
is a namespace package (relative imports), a class-conditional discriminator whose labels are
class indices (``nn.Embedding``), a Flax classifier with an integer domain input and a ``train``
flag, an FPN whose layers are declared in another order than they run with a head shared by three
levels, the ``n_flat`` idiom (a dummy forward in ``__init__``), and models that raise a shape error
at run time, with and without a static finding. torch and jax run for real in the child process.
"""

from __future__ import annotations

import json
import os
import shutil
import textwrap
from dataclasses import replace
from pathlib import Path

import pytest

from convlint.analysis import Project, analyze_file
from convlint.config import Config

pytest.importorskip("torch")
pytest.importorskip("jax")
pytest.importorskip("flax")

from convlint.confirm import confirm as C  # noqa: E402
from convlint.confirm import match as M  # noqa: E402

HERE = Path(__file__).parent / "fixtures" / "confirm"
MODELS = Path(__file__).parent / "fixtures" / "models"
SEGKIT = HERE / "segkit_project"


def _analyze(path: Path, mode: str | None = "model", root: Path | None = None):
    root = root or path.parent
    project = Project(root, config=replace(Config.default(root), confirm=mode))
    res = analyze_file(project, str(path), path.read_text())
    return res, project


def _run(res, name):
    (run,) = [r for r in res.runs if r.entry.name == name]
    return run


def _found(res, code=None):
    return [(Path(f.path).name, f.line, f.code, f.message) for f in res.findings if code is None or f.code == code]


def _marks(run) -> list[tuple[str, str | None, str | None]]:
    """(op, name, mark) of every compared static layer."""
    return [(ev.op.rsplit(".", 1)[-1], ev.name, run.confirmed.get(i)) for i, ev in enumerate(run.trace.events) if C.compared(ev.op)]


def _line(path: Path, text: str) -> int:
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if text in line)


# ------------------------------------------------------------------------------ packages


def test_a_module_with_relative_imports_in_a_namespace_package_runs_as_a_package():
    # segkit/models has no __init__.py: before, the file was imported alone and
    # `from ..blocks import ...` failed ("attempted relative import with no known parent package")
    unet = SEGKIT / "src" / "segkit" / "models" / "unet.py"
    res, project = _analyze(unet, root=SEGKIT)
    assert C.messages(project) == []
    assert _found(res, "CVL010") == []
    marks = _marks(_run(res, "UNet"))
    assert len(marks) == 15 and {m for _, _, m in marks} == {"ok"}


def test_the_package_runs_from_the_command_line_too(capsys, monkeypatch):
    from convlint.cli import main

    monkeypatch.chdir(SEGKIT)
    assert main(["check", "--confirm=model", "--no-cache", "src/segkit/models/unet.py"]) == 0
    assert "warning" not in capsys.readouterr().err


# ------------------------------------------------------------------------------ dtypes and call


def test_class_indices_declared_int64_run_through_the_embedding():
    res, project = _analyze(HERE / "cond_gan.py")
    assert C.messages(project) == []
    assert _found(res, "CVL010") == []
    assert {m for _, _, m in _marks(_run(res, "ProjectionDiscriminator"))} == {"ok"}


def test_without_a_declared_dtype_a_dtype_error_is_a_warning_with_the_hint(tmp_path):
    # the same file, its pragma without ":int64": the labels are float32 and nn.Embedding refuses
    src = (HERE / "cond_gan.py").read_text().replace("labels=(8,):int64", "labels=(8,)")
    p = tmp_path / "cond_gan.py"
    p.write_text(src)
    res, project = _analyze(p)
    assert _found(res, "CVL010") == []  # before: a CVL010 for the model's "shape error"
    (note,) = C.messages(project)
    assert "ProjectionDiscriminator: --confirm=model could not run it on" in note
    assert "Expected tensor for argument #1 'indices' to have one of the following scalar types: Long, Int" in note
    assert 'needs an integer dtype: declare dtype = "int64"' in note
    assert "labels=(8,):int64" in note and 'labels = { shape = [8], dtype = "int64" }' in note


def test_a_dtype_in_a_config_input_table(tmp_path, capsys, monkeypatch):
    from convlint.cli import main

    shutil.copy(HERE / "cond_gan.py", tmp_path / "gan.py")
    (tmp_path / "gan.py").write_text((tmp_path / "gan.py").read_text().replace("# convlint: input", "# input"))
    (tmp_path / "pyproject.toml").write_text(textwrap.dedent("""\
        [tool.convlint]

        [[tool.convlint.model]]
        target = "gan.py::ProjectionDiscriminator"
        input = { x = [8, 3, 32, 32], labels = { shape = [8], dtype = "int64" } }
        init = { num_classes = 10 }
        """))
    monkeypatch.chdir(tmp_path)
    assert main(["check", "--confirm=model", "--no-cache", "gan.py"]) == 0
    assert "warning" not in capsys.readouterr().err


def test_flax_integer_input_and_call_keywords(tmp_path):
    # call(train=False) reaches __call__; the domain index is an int32 ShapeDtypeStruct
    res, project = _analyze(HERE / "flax_cond_classifier.py")
    assert C.messages(project) == []
    assert _found(res, "CVL010") == []
    assert {m for _, _, m in _marks(_run(res, "DomainClassifier"))} == {"ok"}
    # the same model declared without call(...) and without the dtype: two warnings, no finding
    src = (HERE / "flax_cond_classifier.py").read_text() + textwrap.dedent("""

        # convlint: input x=(4, 32, 32, 3) domain=(4,):int32 init(num_domains=3)
        class NoCall(DomainClassifier):
            pass


        # convlint: input x=(4, 32, 32, 3) domain=(4,) call(train=False) init(num_domains=3)
        class FloatDomain(DomainClassifier):
            pass
        """)
    p = tmp_path / "flax_cond_classifier.py"
    p.write_text(src)
    res, project = _analyze(p)
    assert _found(res, "CVL010") == []
    notes = "\n".join(C.messages(project))
    assert "NoCall: --confirm=model could not run it" in notes and "missing 1 required positional argument: 'train'" in notes
    assert "give the call's other arguments with call(...)" in notes
    assert "FloatDomain: --confirm=model could not run it" in notes and "Input type must be an integer" in notes
    assert "domain=(4,):int64" in notes


def test_an_unknown_dtype_skips_the_model(tmp_path):
    src = (HERE / "cond_gan.py").read_text().replace("labels=(8,):int64", "labels=(8,):int65")
    p = tmp_path / "cond_gan.py"
    p.write_text(src)
    res, project = _analyze(p)
    (note,) = C.messages(project)
    assert note.endswith("ProjectionDiscriminator: --confirm=model skipped it: unknown dtype 'int65' (expected one of float16, bfloat16, float32, float64, int8, int16, int32, int64, uint8, bool, complex64)")
    run = _run(res, "ProjectionDiscriminator")
    assert all(m in ("ok", "not run") for _, _, m in _marks(run))


# ------------------------------------------------------------------------------ like with like


def test_layers_declared_in_another_order_a_shared_head_and_a_dummy_forward():
    res, project = _analyze(HERE / "fpn_heads.py")
    assert C.messages(project) == []
    assert _found(res, "CVL010") == []
    marks = _marks(_run(res, "RetinaNeck"))
    # 4 backbone convs of the dummy forward in __init__, 4 of the real one, 3 laterals, 2
    # interpolations, the shared smooth conv and box head three times each
    assert len(marks) == 19 and {m for _, _, m in marks} == {"ok"}


def test_the_dummy_forward_is_not_compared_with_the_real_one():
    # Before, the run's four conv/pool calls were paired with the four of the dummy forward
    # (1x1x28x28): "Conv2d got input (16, 1, 32, 32) where convlint computed (1, 1, 28, 28)".
    res, project = _analyze(HERE / "probe_cnn.py")
    assert C.messages(project) == []
    found = _found(res)
    assert [f for f in found if f[2] == "CVL010"] == []
    (cvl003,) = [f for f in found if f[2] == "CVL003"]
    assert cvl003[1] == 22 and "(confirmed by --confirm=model: torch raises RuntimeError: " in cvl003[3]
    small = _marks(_run(res, "SmallCNN"))
    assert small[-1] == ("Linear", "classifier", "rejected") and {m for _, _, m in small[:-1]} == {"ok"}
    assert {m for _, _, m in _marks(_run(res, "SmallCNN28"))} == {"ok"}


def _ident(op, name=None, path="m.py", line=1, column=1):
    return M.Ident(op, name, path, line, column)


def test_match_pairs_by_module_path_and_site_not_by_order():
    conv = "torch.nn.Conv2d"
    static = [_ident(conv, "enc.0", line=5), _ident(conv, "enc.1", line=5), _ident(conv, "head", line=9)]
    # the run applied them in another order, and one layer convlint never saw
    runtime = [_ident(conv, "head", line=9), _ident(conv, "stem", line=3), _ident(conv, "enc.1", line=5), _ident(conv, "enc.0", line=5)]
    assert M.match(static, runtime) == {0: 3, 1: 2, 2: 0}


def test_match_occurrences_within_the_same_layer_and_site():
    conv = "torch.nn.Conv2d"
    static = [_ident(conv, "head", line=9)] * 3
    runtime = [_ident(conv, "head", line=9)] * 2  # the run stopped before the third use
    assert M.match(static, runtime) == {0: 0, 1: 1}


def test_match_by_site_when_one_side_has_no_name_and_by_line_when_columns_differ():
    conv = "flax.linen.Conv"
    static = [_ident(conv, None, line=20, column=19), _ident(conv, None, line=20, column=19), _ident(conv, None, line=30, column=5)]
    runtime = [_ident(conv, "encoder.convs.0", line=20, column=19), _ident(conv, "encoder.convs.1", line=20, column=19), _ident(conv, "out", line=30, column=9)]
    assert M.match(static, runtime) == {0: 0, 1: 1, 2: 2}
    # two different names never pair, whatever their sites
    assert M.match([_ident(conv, "a", line=1)], [_ident(conv, "b", line=1)]) == {}
    # nor do two ops
    assert M.match([_ident("torch.nn.Conv2d", "a")], [_ident("torch.nn.MaxPool2d", "a")]) == {}


def test_pairing_a_real_static_trace_with_run_time_events():
    # the static trace of the FPN against its run as the child reports it, then with the run's
    # layers regrouped by name (each layer's own uses stay in their order): each static layer is
    # paired with its own call
    res, _ = _analyze(HERE / "fpn_heads.py", mode=None)
    run = _run(res, "RetinaNeck")
    from convlint.confirm import trace

    r = trace.trace_torch_model(HERE / "fpn_heads.py", "RetinaNeck", {}, [(2, 3, 128, 128)])
    assert r.ok and len(r.init_events) == 4
    events = [C._event_dict(e) for e in [*r.init_events, *r.events]]
    for shuffled in (events, sorted(events, key=lambda e: (e["name"] or "~", -e["line"]))):
        pairs = C.pair_layers(run, shuffled)
        assert len(pairs) == 19
        for i, rt in pairs:
            ev = run.trace.events[i]
            assert (tuple(ev.input), tuple(ev.output)) == (tuple(rt["input"]), tuple(rt["output"]))


# ------------------------------------------------------------------------------ run-time errors


def test_a_run_time_shape_error_convlint_missed_is_cvl010_on_the_layer(capsys):
    from convlint.cli import main

    line = _line(HERE / "crnn.py", "self.rnn = nn.LSTM(")
    # convlint models nn.LSTM and reports the wrong input_size itself; the run confirms it
    res, project = _analyze(HERE / "crnn.py")
    assert C.messages(project) == []
    (f,) = _found(res)
    assert (f[1], f[2]) == (line, "CVL003") and "confirmed by --confirm=model: torch raises RuntimeError: input.size(-1) must be equal to input_size" in f[3]
    # without that static finding, the run-time error is CVL010 on the layer that raised
    issues, project = _without_static(HERE / "crnn.py", "CRNN", line)
    assert C.messages(project) == []
    (iss,) = [i for i in issues if i.code == "CVL010"]
    assert C._issue_place(iss)[1] == line
    assert iss.message == "running CRNN on (4, 1, 32, 128): LSTM (rnn) on (4, 32, 1024) raised RuntimeError: input.size(-1) must be equal to input_size. Expected 256, got 1024"
    assert main(["check", "--confirm=model", "--no-cache", "-q", str(HERE / "crnn.py")]) == 1
    capsys.readouterr()


def _without_static(path: Path, name: str, line: int):
    """The model's runs with convlint's own findings on ``line`` taken away, then confirmed."""
    res, project = _analyze(path, mode=None)
    for run in res.runs:
        run.issues[:] = [i for i in run.issues if C._issue_place(i) != (os.path.realpath(path), line)]
    run = _run(res, name)
    return C.confirm_runs("model", res.runs, run.module, project), project


def test_a_run_time_error_convlint_reported_confirms_the_finding_instead_of_a_second_one():
    res, project = _analyze(HERE / "resnet_tiny.py")
    found = _found(res)
    assert [f[2] for f in found] == ["CVL005"]
    assert found[0][1] == 27 and found[0][3].endswith(
        "(confirmed by --confirm=model: torch raises RuntimeError: Attempting to broadcast a dimension of length 32 at -1! "
        "Mismatching argument at index 1 had torch.Size([8, 16, 32, 32]); but expected shape should be broadcastable to [8, 32, 16, 16])"
    )
    # the same run without the static finding: CVL010 on the line that raised (no layer raised)
    issues, _ = _without_static(HERE / "resnet_tiny.py", "ResNetTiny", 27)
    (iss,) = issues
    assert iss.code == "CVL010" and iss.key[0] == 27
    assert iss.message.startswith("running ResNetTiny on (8, 3, 32, 32): RuntimeError: Attempting to broadcast")


def test_a_flax_shape_error_during_init_is_a_finding_not_a_construction_warning():
    # model.init runs __call__: a broadcasting TypeError there was reported as "could not build
    # it with init()" with exit status 0
    vit = HERE / "flax_vit.py"
    line = _line(vit, "x = x + pos")
    res, project = _analyze(vit)
    assert C.messages(project) == []
    found = [f for f in _found(res) if f[1] == line]
    assert found, _found(res)
    assert all(f[2] == "CVL010" or "(confirmed by --confirm=model: jax raises TypeError: add got incompatible shapes for broadcasting: (2, 100, 64), (1, 196, 64)" in f[3] for f in found)
    issues, project = _without_static(vit, "ViTEncoder", line)
    assert C.messages(project) == []
    (iss,) = issues
    assert iss.code == "CVL010" and iss.key[0] == line
    assert iss.message == "running ViTEncoder on (2, 160, 160, 3): TypeError: add got incompatible shapes for broadcasting: (2, 100, 64), (1, 196, 64)."


def test_a_shape_error_in_the_constructor_is_a_finding_a_missing_argument_a_warning(tmp_path):
    p = tmp_path / "encoder.py"
    p.write_text(textwrap.dedent("""\
        import torch
        import torch.nn as nn


        # convlint: input=(4, 3, 64, 64)
        class Encoder(nn.Module):
            def __init__(self, probe_size=4):
                super().__init__()
                self.features = nn.Sequential(nn.Conv2d(3, 8, 7), nn.ReLU(), nn.Conv2d(8, 8, 3))
                with torch.no_grad():
                    n = self.features(torch.zeros(1, 3, probe_size, probe_size)).numel()
                self.fc = nn.Linear(n, 10)

            def forward(self, x):
                return self.fc(self.features(x).flatten(1))


        # convlint: input=(4, 3, 64, 64)
        class Wide(Encoder):
            def __init__(self, width):
                super().__init__(probe_size=64)
        """))
    issues, project = _without_static(p, "Encoder", 9)
    # (building the conv alone disagrees too, as convlint now "accepted" it: --confirm=layers' CVL010)
    (iss,) = [i for i in issues if i.code == "CVL010" and i.message.startswith("running ")]
    assert iss.message.startswith("running Encoder on (4, 3, 64, 64): Conv2d on (1, 3, 4, 4) raised RuntimeError: ")
    assert "Kernel size can't be greater than actual input size" in iss.message
    assert iss.site.module.parsed.position(iss.site.node)[:2] == (9, 39)
    (note,) = C.messages(project)
    assert note.endswith("Wide: --confirm=model could not build it with init(): TypeError: Wide.__init__() missing 1 required positional argument: 'width'; give the constructor's arguments with init(...)")


_RAISES = [f for f in json.loads((MODELS / "MANIFEST.json").read_text())["fixtures"] if f["runtime"] == "raises"]


@pytest.mark.parametrize("fx", _RAISES, ids=lambda f: f["file"])
def test_every_raising_fixture_confirms_its_static_finding(fx):
    res, project = _analyze(MODELS / fx["file"], root=MODELS)
    err = fx["runtime_error"]
    assert [f for f in res.findings if f.code == "CVL010"] == []
    at = [f for f in res.findings if os.path.relpath(os.path.abspath(f.path), MODELS) == err["path"] and f.line == err["layer_line"]]
    fw = "torch" if fx["framework"] == "torch" else "jax"
    assert any(f"(confirmed by --confirm=model: {fw} raises {err['type']}: " in f.message for f in at), at


# ------------------------------------------------------------------------------ error kinds


def _torch_error(fn):
    try:
        fn()
    except Exception as exc:  # noqa: BLE001
        return type(exc).__name__, str(exc)
    raise AssertionError("no error")


def test_error_kinds_of_real_framework_messages():
    import jax
    import jax.numpy as jnp
    import torch
    import torch.nn as nn

    meta = torch.device("meta")
    shape = [
        lambda: nn.Linear(3, 4, device=meta)(torch.empty(2, 5, device=meta)),
        lambda: nn.Conv2d(3, 4, 3, device=meta)(torch.empty(2, 5, 8, 8, device=meta)),
        lambda: nn.Conv2d(3, 4, 3)(torch.zeros(2, 5, 8, 8)),
        lambda: nn.Conv2d(3, 4, 3, device=meta)(torch.empty(2, 3, 2, 2, device=meta)),
        lambda: torch.cat([torch.empty(2, 3, 4, device=meta), torch.empty(2, 3, 5, device=meta)], 1),
        lambda: torch.empty(2, 3, device=meta).view(5, -1),
        lambda: nn.LSTM(64, 32, device=meta)(torch.empty(10, 2, 128, device=meta)),
        lambda: nn.MaxPool2d(2)(torch.zeros(1, 1, 1, 1)),
        lambda: jax.eval_shape(lambda a, b: a + b, jax.ShapeDtypeStruct((1, 30), jnp.float32), jax.ShapeDtypeStruct((1, 31), jnp.float32)),
        lambda: jax.eval_shape(lambda a: a.reshape(5, -1), jax.ShapeDtypeStruct((2, 3), jnp.float32)),
    ]
    for fn in shape:
        etype, msg = _torch_error(fn)
        assert M.error_kind(etype, msg) == M.SHAPE, (etype, msg)
    dtype = [
        lambda: nn.Embedding(10, 4, device=meta)(torch.empty(8, device=meta)),
        lambda: torch.zeros(10, 4)[torch.zeros(8)],
        lambda: torch.nn.functional.one_hot(torch.zeros(8), 10),
        lambda: jnp.zeros((10, 4))[jnp.ones(2)],
    ]
    for fn in dtype:
        etype, msg = _torch_error(fn)
        assert M.error_kind(etype, msg) == M.DTYPE, (etype, msg)
    abstract = [
        lambda: torch.empty(2, 3, device=meta).sum().item(),
        lambda: jax.eval_shape(lambda a: int(a.sum()), jax.ShapeDtypeStruct((2, 3), jnp.float32)),
    ]
    for fn in abstract:
        etype, msg = _torch_error(fn)
        assert M.error_kind(etype, msg) == M.ABSTRACT, (etype, msg)

    class Net(nn.Module):
        def __init__(self, kernel_size):
            super().__init__()

    etype, msg = _torch_error(lambda: Net())
    assert M.error_kind(etype, msg) == M.ARGUMENTS  # "kernel_size" is no shape error
    assert M.error_kind("KeyError", "'encoder.weight'") == M.OTHER
    assert M.error_kind("ValueError", "unknown activation 'swish2'") == M.OTHER


def test_shapes_marks_the_layers_a_failed_run_never_reached(capsys):
    from convlint.cli import main

    path = str(HERE / "resnet_tiny.py")
    assert main(["shapes", "--confirm=model", "--format", "json", path]) == 0  # the error repeats convlint's CVL005
    doc = json.loads(capsys.readouterr().out)
    (model,) = doc["models"]
    marks = [(layer["name"], layer["confirm"]) for layer in model["layers"] if C.compared(layer["op"])]
    assert marks[-1] == ("linear", "not run")  # after the residual add that raised
    assert {m for _, m in marks[:-1]} == {"ok"}
    assert main(["shapes", "--confirm=model", path]) == 0
    text = capsys.readouterr().out
    assert "linear" in text and "not run" in text
