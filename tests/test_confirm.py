"""--confirm: the frameworks check convlint's static shapes (CVL010).

``layers`` builds each resolved layer alone (torch meta + tiny CPU, lax/flax under jax.eval_shape);
``model`` runs each declared model in a child process. The fixtures (tests/fixtures/models) are the
agreeing cases and the models that raise; a deliberately wrong static answer shows that CVL010 fires.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
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
from convlint.interpret.events import Issue  # noqa: E402

BASE = Path(__file__).parent / "fixtures" / "models"
MANIFEST = json.loads((BASE / "MANIFEST.json").read_text())["fixtures"]
FILES = sorted({f["file"] for f in MANIFEST})


def _analyze(path: Path, mode: str, **config):
    project = Project(BASE, config=replace(Config.default(BASE), confirm=mode, **config))
    res = analyze_file(project, str(path), path.read_text())
    return res, project


def _cvl010(res):
    return [(os.path.relpath(os.path.abspath(f.path), BASE).replace(os.sep, "/"), f.line, f.message) for f in res.findings if f.code == "CVL010"]


# ------------------------------------------------------------------------------------------ layers


@pytest.mark.parametrize("file", FILES)
def test_layers_agree_with_the_frameworks_on_every_fixture(file):
    res, _ = _analyze(BASE / file, "layers")
    assert _cvl010(res) == []
    for run in res.runs:
        for i, ev in enumerate(run.trace.events):
            if C.layer_request(ev) is not None:  # every resolved layer was built and agreed
                assert run.confirmed.get(i) in ("ok", "rejected"), (ev.op, ev.input, run.confirmed.get(i))


def test_layers_confirm_the_declared_models_resolved_layers():
    res, _ = _analyze(BASE / "autoencoder_odd.py", "layers")
    (run,) = [r for r in res.runs if r.entry.name == "ConvAutoencoder"]
    convs = [i for i, ev in enumerate(run.trace.events) if "Conv" in ev.op]
    assert convs and all(run.confirmed[i] == "ok" for i in convs)


def test_a_rejection_convlint_reported_is_agreement_meta_silent_output_padding():
    # output_padding=2 with stride 2: the meta device accepts it, CPU torch rejects it (CVL001)
    res, _ = _analyze(BASE / "bad_output_padding.py", "layers")
    assert _cvl010(res) == []
    (run,) = [r for r in res.runs if r.entry.name == "Decoder"]
    assert "rejected" in run.confirmed.values()


def test_a_wrong_static_size_is_cvl010(monkeypatch):
    import convlint.frameworks.torch.conv as fw_torch

    real = fw_torch.window_out
    monkeypatch.setattr(fw_torch, "window_out", lambda w, i: real(w, i) + 1 if isinstance(i, int) else real(w, i))
    res, _ = _analyze(BASE / "autoencoder_odd.py", "layers")
    found = _cvl010(res)
    assert ("autoencoder_odd.py", 24, "Conv2d (encoder.0) on (4, 1, 63, 63): convlint computed (4, 8, 33, 33), torch gives (4, 8, 32, 32)") in found


def _run_of(file, name, mode="layers"):
    path = BASE / file
    project = Project(BASE, config=Config.default(BASE))
    res = analyze_file(project, str(path), path.read_text())
    (run,) = [r for r in res.runs if r.entry.name == name]
    return run, project


def test_a_layer_convlint_rejected_but_the_framework_accepts_is_cvl010():
    run, project = _run_of("autoencoder_odd.py", "ConvAutoencoder")
    ev = run.trace.events[0]
    run.issues.append(Issue("CVL001", ev.site, "Conv2d: pretend this is invalid"))
    issues = C.confirm_runs("layers", [run], run.module, project)
    assert [i.code for i in issues] == ["CVL010"]
    assert "convlint reported CVL001 (Conv2d: pretend this is invalid), but torch accepts it and gives (4, 8, 32, 32)" in issues[0].message


def test_a_layer_the_framework_rejects_but_convlint_accepted_is_cvl010():
    # the fixture's CVL001 taken away: convlint "accepted" output_padding=2, CPU torch rejects it
    run, project = _run_of("bad_output_padding.py", "Decoder")
    run.issues[:] = [i for i in run.issues if i.code != "CVL001"]
    issues = C.confirm_runs("layers", [run], run.module, project)
    assert len(issues) == 1 and "torch rejects it (RuntimeError" in issues[0].message
    assert run.module.parsed.position(issues[0].site.node)[0] == 20


def test_a_zero_size_jax_output_is_a_failure():
    run, project = _run_of("seed_jax_examples.py", "<module>")
    ev = run.trace.events[0]  # lax.conv_general_dilated, VALID, 3x3 kernel on 6x6
    ev.input = (32, 256, 2, 2)
    ev.output = (32, 64, 1, 1)  # a wrong static answer: jax gives 0x0
    issues = C.confirm_runs("layers", [run], run.module, project)
    assert len(issues) == 1 and "jax.lax rejects it (a zero-size output (32, 64, 0, 0)" in issues[0].message


def test_symbolic_batch_is_given_a_size_other_names_need_one():
    from convlint.interpret.symbolic import Sym

    b, h = Sym.var("b"), Sym.var("H")
    assert C.concrete_input((b, 3, 64, 64)) == ((2, 3, 64, 64), {"b": 2})
    assert C.concrete_input((b, 3, h, 64)) is None
    assert C.concrete_input((b, 3, h, 64), {"H": 32}) == ((2, 3, 32, 64), {"b": 2, "H": 32})


# ------------------------------------------------------------------------------------------ model


def test_model_runs_agree_layer_by_layer():
    res, project = _analyze(BASE / "autoencoder_odd.py", "model")
    assert _cvl010(res) == []
    assert C.messages(project) == []
    (run,) = [r for r in res.runs if r.entry.name == "ConvAutoencoder"]
    assert sum(v == "ok" for v in run.confirmed.values()) == 5


@pytest.mark.parametrize("fx", [f for f in MANIFEST if f["runtime"] == "raises" and f["file"] in ("vae_fc_mismatch.py", "flax_unet_odd.py")], ids=lambda f: f["file"])
def test_a_run_time_shape_error_is_cvl010_on_the_layer_that_raised(fx):
    # convlint's own finding there taken away (with it, the error confirms that finding:
    # tests/test_confirm_model.py): the framework's error is CVL010 on the layer that raised
    err = fx["runtime_error"]
    path = BASE / fx["file"]
    project = Project(BASE, config=Config.default(BASE))
    res = analyze_file(project, str(path), path.read_text())
    where = (os.path.realpath(BASE / err["path"]), err["layer_line"])
    for run in res.runs:
        run.issues[:] = [i for i in run.issues if C._issue_place(i) != where]
    (run,) = [r for r in res.runs if r.entry.name == fx["model"]]
    issues = [i for i in C.confirm_runs("model", res.runs, run.module, project) if i.message.startswith(f"running {fx['model']} on ")]
    assert len(issues) == 1 and err["type"] in issues[0].message, issues
    site = issues[0].site
    pos = site.module.parsed.position(site.node)[0] if site.node is not None else issues[0].key[0]
    assert (os.path.realpath(site.module.path), pos) == where


def test_a_wrong_static_size_only_a_whole_run_can_see_is_cvl010_in_model_mode(monkeypatch):
    # F.max_pool2d is recorded without its arguments, so --confirm=layers cannot build it alone;
    # running the model compares it
    import convlint.frameworks.torch.pool as fw_torch

    real = fw_torch.pool_output_size
    monkeypatch.setattr(fw_torch, "pool_output_size", lambda *a: real(*a) + 1)
    res, _ = _analyze(BASE / "lenet_mnist.py", "layers")
    assert not [f for f in _cvl010(res) if f[1] == 22]
    res, _ = _analyze(BASE / "lenet_mnist.py", "model")
    assert ("lenet_mnist.py", 22, "running LeNet on (8, 1, 28, 28): max_pool2d got output (8, 6, 12, 12) where convlint computed (8, 6, 13, 13)") in _cvl010(res)


@pytest.mark.slow  # ~12 s: a model that hangs is stopped by its 3 s time limit, in child processes that import torch
def test_import_errors_missing_arguments_and_hangs_are_messages(tmp_path):
    (tmp_path / "broken.py").write_text(textwrap.dedent("""\
        import no_such_module_for_convlint
        import torch.nn as nn

        class Net(nn.Module):  # convlint: input=(1, 3, 8, 8)
            def __init__(self):
                super().__init__()
                self.conv = nn.Conv2d(3, 4, 3)

            def forward(self, x):
                return self.conv(x)
        """))
    (tmp_path / "slow.py").write_text(textwrap.dedent("""\
        import torch.nn as nn

        class NeedsArgs(nn.Module):  # convlint: input=(1, 3, 8, 8)
            def __init__(self, width):
                super().__init__()
                self.conv = nn.Conv2d(3, width, 3)

            def forward(self, x):
                return self.conv(x)

        class Hangs(nn.Module):  # convlint: input=(1, 3, 8, 8)
            def __init__(self):
                super().__init__()
                self.conv = nn.Conv2d(3, 4, 3)

            def forward(self, x):
                while True:
                    pass
        """))
    project = Project(tmp_path, config=replace(Config.default(tmp_path), confirm="model", confirm_timeout=3))
    for name in ("broken.py", "slow.py"):
        p = tmp_path / name
        res = analyze_file(project, str(p), p.read_text())
        assert [f for f in res.findings if f.code == "CVL010"] == []
    notes = "\n".join(C.messages(project))
    assert "Net: --confirm=model could not import the file: ModuleNotFoundError: No module named 'no_such_module_for_convlint'" in notes
    assert "NeedsArgs: --confirm=model could not build it with init(): TypeError" in notes
    assert "Hangs: --confirm=model timed out" in notes


# ------------------------------------------------------------------------------------------ CLI


def test_check_cli_confirm_layers_and_a_missing_framework(monkeypatch, capsys):
    from convlint.cli import main

    args = ["check", "--confirm=layers", "--no-cache", str(BASE / "autoencoder_odd.py"), "--select", "CVL010"]
    assert main(args) == 0
    import convlint.confirm.layers as layers

    monkeypatch.setattr(layers, "missing_frameworks", lambda *names: list(names))
    capsys.readouterr()
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "--confirm needs torch" in err and "pip install torch (what the convlint[torch] extra adds; in a convlint clone: pip install -e '.[torch]')" in err
    assert "Traceback" not in err


def test_shapes_cli_marks_confirmed_layers(capsys):
    from convlint.cli import main

    assert main(["shapes", "--confirm=layers", "--format", "json", str(BASE / "autoencoder_odd.py")]) == 0
    doc = json.loads(capsys.readouterr().out)
    layers = doc["models"][0]["layers"]
    assert doc["findings"] == []
    assert [layer["confirm"] for layer in layers if "Conv" in layer["op"]] == ["ok"] * 5


def test_confirm_is_part_of_the_configuration_fingerprint():
    cfg = Config.default(BASE)
    assert cfg.fingerprint() != replace(cfg, confirm="layers").fingerprint()


def test_check_without_confirm_imports_no_framework():
    code = (
        "import sys\n"
        "from convlint.cli import main\n"
        f"main(['check', '--no-cache', '-q', {str(BASE / 'autoencoder_odd.py')!r}])\n"
        "heavy = [m for m in ('torch', 'jax', 'flax') if m in sys.modules]\n"
        "sys.exit(3 if heavy else 0)\n"
    )
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=120).returncode == 0


def test_a_layer_convlint_gave_no_answer_for_is_not_a_disagreement():
    # big_vision's StdConv after a max_pool convlint lost the rank of: the static input (32,) is
    # only the trailing channels of a tensor of unknown rank and convlint computed no output;
    # flax rejects a rank-1 input, which says nothing about convlint's arithmetic
    res, _ = _analyze(BASE / "flax_stdconv.py", "layers")
    assert _cvl010(res) == []
