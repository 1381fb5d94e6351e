"""``convlint solve`` as a user runs it: a subprocess, its printed arguments rebuilt in each framework."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import convlint

ROOT = Path(convlint.__file__).resolve().parent


def solve_command() -> list[str]:
    return [sys.executable, "-m", "convlint", "solve"]


def solve(*args: str, env=None) -> subprocess.CompletedProcess:
    return subprocess.run([*solve_command(), *args], capture_output=True, text=True, encoding="utf-8", timeout=120, env=env)


def solve_json(*args: str) -> dict:
    proc = solve(*args, "--format", "json")
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def tuples(value):
    """JSON lists back to the tuples the frameworks expect (flax reads padding pairs as tuples)."""
    if isinstance(value, list):
        return tuple(tuples(v) for v in value)
    return value


# ------------------------------------------------------------------------------------ the seed


def test_seed_request_prints_every_framework():
    proc = solve("--in", "64", "--out", "20", "-k", "5", "-s", "3", "-d", "2")
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "nn.Conv1d(in_ch, out_ch, kernel_size=5, stride=3, padding=1, dilation=2)" in out
    assert "nn.ConvTranspose1d(in_ch, out_ch, kernel_size=5, stride=3, padding=1, output_padding=0, dilation=2)" in out
    assert "lax.conv_general_dilated(x, w, window_strides=(3,), padding=((1, 1),), rhs_dilation=(2,))" in out
    assert "lax.conv_general_dilated(x, w, window_strides=(1,), padding=((7, 7),), lhs_dilation=(3,), rhs_dilation=(2,))" in out
    assert "lax.conv_transpose(x, w, strides=(3,), padding=((7, 7),), rhs_dilation=(2,))" in out
    assert "nn.Conv(features, kernel_size=(5,), strides=(3,), padding=((1, 1),), kernel_dilation=(2,))" in out
    assert "nn.ConvTranspose(features, kernel_size=(5,), strides=(3,), padding=((7, 7),), kernel_dilation=(2,))" in out
    assert proc.stderr == ""


def test_two_dimensional_text_uses_tuples():
    proc = solve("--in", "64,48", "--out", "20,16", "-k", "5", "-s", "3", "-d", "2")
    assert proc.returncode == 0, proc.stderr
    assert "nn.Conv2d(in_ch, out_ch, kernel_size=(5, 5), stride=(3, 3), padding=(1, 3), dilation=(2, 2))" in proc.stdout
    assert "direct conv: 64×48 → 20×16" in proc.stdout


def test_padding_without_out_prints_the_output_sizes():
    doc = solve_json("--in", "64", "-k", "5", "-s", "3", "-d", "2", "-p", "2")
    assert doc["direct"]["input"] == [64] and doc["direct"]["output"] == [20]  # the seed's numbers
    assert doc["transpose"]["input"] == [64]
    torch = pytest.importorskip("torch")
    y = torch.nn.ConvTranspose1d(1, 1, 5, stride=3, padding=2, dilation=2, device="meta")(torch.empty(1, 1, 64, device="meta"))
    assert doc["transpose"]["output"] == [y.shape[-1]]


# ------------------------------------------------------------------------------ JSON schema


CASES = [
    ("--in", "64", "--out", "20", "-k", "5", "-s", "3", "-d", "2"),
    ("--in", "64,48", "--out", "20,16", "-k", "5", "-s", "3", "-d", "2"),
    ("--in", "5,6", "--out", "5,6", "-k", "2,3"),  # asymmetric: F.pad first, torch transpose impossible
    ("--in", "7", "--out", "3", "-k", "3", "-s", "2", "-p", "0:1"),  # asymmetric yet exact in torch
    ("--in", "20", "--out", "64", "-k", "5", "-s", "3", "-d", "2"),  # upsampling request
    ("--in", "32,32,16", "--out", "16,16,8", "-k", "4", "-s", "2"),
    ("--in", "33", "-k", "4", "-s", "2", "-p", "1", "--output-padding", "1"),
    ("--in", "10", "--out", "19", "-k", "3", "-s", "1", "--input-dilation", "2"),
    ("--in", "33", "--out", "40", "-k", "4", "-d", "2"),  # a transposed conv with output_padding ≥ stride; no mirror
    ("--in", "17", "--out", "51", "-k", "6", "-d", "2"),  # only a direct conv, padded past its kernel
    ("--in", "10", "--out", "6", "-k", "5", "--transpose"),  # a transposed conv that shrinks (padding d·(k−1))
    ("--in", "33,20", "--out", "66,40", "-k", "3", "-s", "2", "-p", "1"),  # fixed padding: output_padding solved
]

KWARGS = {
    "torch": {"kernel_size", "stride", "padding", "dilation", "output_padding"},
    "lax": {"window_strides", "padding", "lhs_dilation", "rhs_dilation"},
    "lax_conv_transpose": {"strides", "padding", "rhs_dilation"},
    "flax": {"kernel_size", "strides", "padding", "input_dilation", "kernel_dilation"},
}


@pytest.mark.parametrize("args", CASES, ids=lambda a: " ".join(a))
def test_json_follows_the_design_contract(args):
    doc = solve_json(*args)
    assert set(doc) - {"notes"} == {"direct", "transpose"}
    assert all(isinstance(note, str) for note in doc.get("notes", []))
    answers = sum(1 for key in ("direct", "transpose") if doc[key] and doc[key]["role"] == "answer")
    assert answers == (1 if "--out" in args else sum(1 for key in ("direct", "transpose") if doc[key]))  # sizes: both take --in
    for key in ("direct", "transpose"):
        section = doc[key]
        if section is None:
            assert doc["notes"]
            continue
        assert isinstance(section["input"], list) and isinstance(section["output"], list)
        assert all(isinstance(v, int) and v > 0 for v in section["input"] + section["output"])
        assert section["role"] in ("answer", "mirror")
        if "padding_only_outputs" in section:
            assert len(section["padding_only_outputs"]) == len(section["input"]) and section["warnings"]
        frameworks = set(section) - {"input", "output", "torch_pad", "torch_exact", "role", "padding_only_outputs", "warnings"}
        assert frameworks <= set(KWARGS) and "lax" in frameworks
        if key == "direct":
            assert "lax_conv_transpose" not in frameworks
        for name in frameworks:
            assert set(section[name]) <= KWARGS[name], (name, section[name])
            for value in section[name].values():
                assert isinstance(value, list)
        if "torch_exact" in section:
            assert "torch" in section and isinstance(section["torch_exact"], bool)
        if "torch_pad" in section:
            assert key == "direct" and len(section["torch_pad"]) == 2 * len(section["input"])


def test_upsampling_request_reads_out_as_the_transpose_target():
    doc = solve_json("--in", "20", "--out", "64", "-k", "5", "-s", "3", "-d", "2")
    assert (doc["direct"]["input"], doc["direct"]["output"]) == ([64], [20])
    assert (doc["transpose"]["input"], doc["transpose"]["output"]) == ([20], [64])


# ------------------------------------------------------------- answers rebuilt in the frameworks


def build_torch(section, transposed: bool) -> tuple[int, ...]:
    import torch
    import torch.nn.functional as F

    rank = len(section["input"])
    kw = {k: tuples(v) for k, v in section["torch"].items()}
    x = torch.zeros((1, 1, *section["input"]))
    if "torch_pad" in section:
        x = F.pad(x, tuples(section["torch_pad"]))
    cls = getattr(torch.nn, f"ConvTranspose{rank}d" if transposed else f"Conv{rank}d")
    layer = cls(1, 1, **kw)  # CPU: enforces every rule (output_padding included)
    with torch.no_grad():
        return tuple(layer(x).shape[2:])


def build_lax(section, name: str, kernel) -> tuple[int, ...]:
    import jax
    from jax import lax

    rank = len(section["input"])
    kw = {k: tuples(v) for k, v in section[name].items()}
    lhs = jax.ShapeDtypeStruct((1, 1, *section["input"]), "float32")
    rhs = jax.ShapeDtypeStruct((1, 1, *kernel), "float32")
    if name == "lax":
        out = jax.eval_shape(lambda a, b: lax.conv_general_dilated(a, b, **kw), lhs, rhs)
    else:
        letters = "DHW"[-rank:]
        dn = ("NC" + letters, "OI" + letters, "NC" + letters)
        out = jax.eval_shape(lambda a, b: lax.conv_transpose(a, b, dimension_numbers=dn, **kw), lhs, rhs)
    return tuple(out.shape[2:])


def build_flax(section, transposed: bool) -> tuple[int, ...]:
    import flax.linen as nn
    import jax

    kw = {k: tuples(v) for k, v in section["flax"].items()}
    module = (nn.ConvTranspose if transposed else nn.Conv)(features=1, **kw)
    x = jax.ShapeDtypeStruct((1, *section["input"], 1), "float32")
    out = jax.eval_shape(lambda a: module.init_with_output(jax.random.PRNGKey(0), a)[0], x)
    return tuple(out.shape[1:-1])


@pytest.mark.parametrize("args", CASES, ids=lambda a: " ".join(a))
def test_every_printed_answer_gives_the_requested_sizes_in_its_framework(args):
    pytest.importorskip("torch")
    pytest.importorskip("jax")
    pytest.importorskip("flax")
    doc = solve_json(*args)
    kernel = [int(v) for v in args[args.index("-k") + 1].split(",")]
    if len(kernel) == 1:
        kernel = kernel * len((doc["direct"] or doc["transpose"])["input"])
    checked = 0
    for key in ("direct", "transpose"):
        section = doc[key]
        if section is None:
            continue
        want = tuple(section["output"])
        transposed = key == "transpose" and "lax_conv_transpose" in section
        if "torch" in section:
            assert build_torch(section, transposed) == want
            checked += 1
        assert build_lax(section, "lax", kernel) == want
        checked += 1
        if "lax_conv_transpose" in section:
            assert build_lax(section, "lax_conv_transpose", kernel) == want
            checked += 1
        if "flax" in section:
            assert build_flax(section, transposed) == want
            checked += 1
    assert checked >= 3


def test_the_direct_and_transpose_answers_round_trip():
    doc = solve_json("--in", "64,48", "--out", "20,16", "-k", "5", "-s", "3", "-d", "2")
    assert doc["direct"]["output"] == doc["transpose"]["input"] == [20, 16]
    assert doc["transpose"]["output"] == doc["direct"]["input"] == [64, 48]
    assert doc["transpose"]["torch_exact"] is True


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_verify_confirms_with_the_frameworks(fmt):
    pytest.importorskip("torch")
    pytest.importorskip("jax")
    proc = solve("--in", "64,48", "--out", "20,16", "-k", "5", "-s", "3", "-d", "2", "--verify", "--format", fmt)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    if fmt == "json":
        items = json.loads(proc.stdout)["verify"]
        assert len(items) >= 7 and all(item["ok"] for item in items)
        assert {item["what"] for item in items} >= {"nn.Conv2d", "nn.ConvTranspose2d", "lax.conv_general_dilated", "lax.conv_transpose", "nn.Conv"}
    else:
        assert "verify:" in proc.stdout and "FAIL" not in proc.stdout


BLOCK_FRAMEWORKS = """
import sys
class Block:
    def find_spec(self, name, path=None, target=None):
        if name.split('.')[0] in ('torch', 'jax', 'flax'):
            raise ModuleNotFoundError(name)
sys.meta_path.insert(0, Block())
from convlint.commands.solve import main
sys.exit(main(sys.argv[1:]))
"""


def test_verify_without_the_frameworks_names_the_extra_and_exits_2():
    proc = subprocess.run(
        [sys.executable, "-c", BLOCK_FRAMEWORKS, "--in", "64", "--out", "20", "-k", "5", "-s", "3", "--verify"],
        capture_output=True, text=True, encoding="utf-8", timeout=60,
    )
    assert proc.returncode == 2
    assert proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "pip install torch jax flax (what the convlint[jax,torch] extras add; in a convlint clone: pip install -e '.[jax,torch]')" in lines[0]


# ------------------------------------------------------------------------------- bad requests


@pytest.mark.parametrize(
    "args, words",
    [
        (("--in", "10", "--out", "4", "-k", "3"), "zero padding gives 8"),
        (("--in", "8", "-k", "3", "-s", "2", "-p", "1", "--output-padding", "2"), "output_padding < max(stride, dilation)"),
        (("--in", "3", "-k", "5", "-p", "0"), "output size"),
        (("--in", "64", "--out", "20", "-k", "5", "-s", "3", "-d", "2", "-p", "0"), "takes 64 to 19, not 20"),
        (("--in", "64"), "-k/--kernel is required"),
        (("--in", "64", "-k", "3"), "give --out"),
        (("--in", "64,48", "--out", "20", "-k", "5,3,3"), "--kernel has 3 values"),
        (("--in", "x", "-k", "3", "-p", "1"), "not an integer"),
        (("--in", "0", "-k", "1", "-p", "0"), "at least 1"),
        (("--in", "8", "-k", "3", "-p", "1:-1"), "non-negative"),
        (("--bogus",), "unrecognized arguments"),
    ],
)
def test_impossible_or_bad_requests_are_one_line_and_exit_2(args, words):
    proc = solve(*args)
    assert proc.returncode == 2
    assert proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("convlint: error: ")
    assert words in lines[0]
    assert "Traceback" not in proc.stderr


def test_ascii_terminal_gets_ascii_not_a_traceback():
    import os

    env = dict(os.environ, PYTHONIOENCODING="ascii")
    proc = solve("--in", "64,48", "--out", "20,16", "-k", "5", "-s", "3", "-d", "2", env=env)
    assert proc.returncode == 0, proc.stderr
    assert "64x48 -> 20x16" in proc.stdout


# ---------------------------------------------------------------------------------- start-up


def test_start_up_imports_neither_torch_nor_jax():
    code = (
        "import sys\n"
        "from convlint.commands.solve import main\n"
        "rc = main(['--in', '64,48', '--out', '20,16', '-k', '5', '-s', '3', '-d', '2', '--format', 'json'])\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in ('torch', 'jax', 'flax', 'numpy'))\n"
        "print(heavy, file=sys.stderr)\n"
        "sys.exit(rc or (3 if heavy else 0))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    proc = subprocess.run([sys.executable, "-X", "importtime", *solve_command()[1:], "--in", "64", "--out", "20", "-k", "5", "-s", "3"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0
    imported = {line.rsplit("|", 1)[-1].strip() for line in proc.stderr.splitlines() if line.startswith("import time:")}
    assert imported and not {m for m in imported if m.split(".")[0] in ("torch", "jax", "flax")}


def test_no_transposed_conv_is_a_note_and_null_in_json():
    proc = solve("--in", "3", "-k", "3", "-p", "3")
    assert proc.returncode == 0, proc.stderr
    assert "direct conv: 3 → 7" in proc.stdout and "note: the transposed conv with the same arguments has no output" in proc.stdout
    doc = solve_json("--in", "3", "-k", "3", "-p", "3")
    assert doc["transpose"] is None and doc["direct"]["output"] == [7]


def test_verify_reports_a_wrong_static_answer():
    """--verify really compares: a plan whose sizes were tampered with fails in every framework."""
    pytest.importorskip("torch")
    pytest.importorskip("jax")
    import argparse

    from convlint.commands import solve as solve_mod

    parser = argparse.ArgumentParser()
    solve_mod.add_arguments(parser)
    answer = solve_mod.plan(solve_mod.parse_request(parser.parse_args(["--in", "64", "--out", "20", "-k", "5", "-s", "3", "-d", "2"])))
    assert all(item["ok"] for item in solve_mod.verify_plan(answer))
    answer.direct.output = (21,)
    results = solve_mod.verify_plan(answer)
    direct = [item for item in results if item["expected"] == [21]]
    assert direct and not any(item["ok"] for item in direct)


# ------------------------------------------------------------------- every feasible request, both readings


def test_a_transposed_conv_answers_when_its_mirror_would_crop():
    """33 → 40 with kernel 4, dilation 2: torch's output_padding (< dilation) reaches 40; the direct
    conv 40 → 33 would need negative padding, so there is no mirror — a note, and null in JSON."""
    proc = solve("--in", "33", "--out", "40", "-k", "4", "-d", "2")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("transposed conv: 33 → 40")
    assert "note: no direct conv takes 40 back to 33: even zero padding gives 34" in proc.stdout
    doc = solve_json("--in", "33", "--out", "40", "-k", "4", "-d", "2")
    assert doc["direct"] is None and doc["transpose"]["role"] == "answer"
    assert doc["transpose"]["torch"]["output_padding"] == [1]
    pytest.importorskip("torch")
    assert build_torch(doc["transpose"], transposed=True) == (40,)


def test_a_direct_conv_padded_past_its_kernel_answers_with_a_warning():
    """17 → 51 with kernel 6, dilation 2 (stride 1): no transposed conv reaches 51 (at most 28), a
    direct conv does with padding 22 — and says that outputs read only padding."""
    proc = solve("--in", "17", "--out", "51", "-k", "6", "-d", "2")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("direct conv: 17 → 51")
    assert "warning: padding larger than the kernel: 24 of 51 outputs read only zero padding" in proc.stdout
    assert "note: no transposed conv takes 17 to 51: a transposed conv gives at most 28" in proc.stdout
    doc = solve_json("--in", "17", "--out", "51", "-k", "6", "-d", "2")
    assert doc["direct"]["padding_only_outputs"] == [[12, 12]] and doc["direct"]["warnings"]
    pytest.importorskip("torch")
    import torch

    # torch as the oracle of "reads only padding": with a zero input and a bias, exactly those outputs are the bias
    conv = torch.nn.Conv1d(1, 1, 6, padding=22, dilation=2)
    with torch.no_grad():
        conv.weight.fill_(1.0)
        conv.bias.fill_(0.0)
        y = conv(torch.ones(1, 1, 17))[0, 0]
    zeros = (y == 0).nonzero().flatten().tolist()
    assert zeros == list(range(12)) + list(range(51 - 12, 51))


def test_reading_can_be_forced_and_explains_itself():
    proc = solve("--in", "10", "--out", "6", "-k", "5", "--direct")
    assert proc.returncode == 0 and proc.stdout.startswith("direct conv: 10 → 6")
    proc = solve("--in", "10", "--out", "6", "-k", "5", "--transpose")
    assert proc.returncode == 0 and proc.stdout.startswith("transposed conv: 10 → 6")
    proc = solve("--in", "10", "--out", "64", "-k", "3", "-s", "2", "--transpose")
    assert proc.returncode == 2
    pytest.importorskip("torch")
    most = _torch_len("ConvTranspose1d", 10, kernel_size=3, stride=2, output_padding=1)  # the largest CPU torch allows
    assert proc.stderr.strip() == (
        f"convlint: error: no transposed conv takes 10 to 64: a transposed conv gives at most {most} "
        "(output_padding < max(stride, dilation) = 2) [output_padding < max(stride, dilation)]"
    )
    proc = solve("--in", "10", "--out", "3", "-k", "3", "--direct", "--transpose")
    assert proc.returncode == 2 and "not allowed with argument" in proc.stderr


def test_impossible_in_both_readings_names_both_constraints():
    proc = solve("--in", "10", "--out", "4", "-k", "3")
    assert proc.returncode == 2 and proc.stdout == ""
    (line,) = proc.stderr.strip().splitlines()
    assert "no conv with kernel 3, stride 1, dilation 1 takes 10 to 4" in line
    assert "[output ≥ size reached with zero padding; transposed output ≥ (input − 1)·stride + 1 − dilation·(kernel − 1)]" in line


# ------------------------------------------------------------ property: answers iff a configuration exists


def _examples(n: int, sweep: int = 2000):
    from hypothesis import HealthCheck, settings

    return settings(max_examples=sweep if SWEEP else n, deadline=None, derandomize=not SWEEP, database=None,
                    suppress_health_check=list(HealthCheck))


import os  # noqa: E402

SWEEP = os.environ.get("CONVLINT_SWEEP") == "1"
PROPERTY_COUNTS: dict = {}


def _torch_len(cls: str, n: int, **kw) -> int:
    """torch's own output length on the meta device (0 when torch refuses: no output)."""
    import torch

    try:
        layer = getattr(torch.nn, cls)(1, 1, device="meta", **kw)
        return layer(torch.empty(1, 1, n, device="meta")).shape[-1]
    except RuntimeError:
        return 0


def _direct_reach(i, k, s, d, pads=None) -> set[int]:
    """Every output of a direct conv with non-negative padding, searched by brute force in torch:
    a total padding t (F.pad splits it however it likes; only the total sets the size) up to a
    bound no useful padding needs to pass."""
    if pads is not None:
        return {_torch_len("Conv1d", i + pads[0] + pads[1], kernel_size=k, stride=s, dilation=d)} - {0}
    return {_torch_len("Conv1d", i + t, kernel_size=k, stride=s, dilation=d) for t in range(0, 3 * (k * d + s * 24))} - {0}


def _transpose_reach(i, k, s, d, pads=None) -> set[int]:
    """Every output of a transposed conv: torch ConvTranspose (CPU rules: output_padding < max(s, d)),
    padding per side in [0, d(k−1)] (lax/flax take the sides apart: output = torch's with p = 0
    minus both sides)."""
    e = d * (k - 1)
    out = set()
    for op in range(max(s, d)):
        if pads is not None:
            full = _torch_len("ConvTranspose1d", i, kernel_size=k, stride=s, dilation=d, output_padding=op)
            out.add(full - pads[0] - pads[1])
            continue
        full = _torch_len("ConvTranspose1d", i, kernel_size=k, stride=s, dilation=d, output_padding=op)
        out |= {full - t for t in range(2 * e + 1)}
    return {v for v in out if v >= 1}


def _property_plan(args):
    import argparse

    from convlint.commands import solve as solve_mod

    parser = argparse.ArgumentParser()
    solve_mod.add_arguments(parser)
    req = solve_mod.parse_request(parser.parse_args(args))
    try:
        p = solve_mod.plan(req)
    except ConvArithmeticError as exc:
        return None, exc
    return json.loads(solve_mod.render_json(p)), None


from convlint.arith import ConvArithmeticError  # noqa: E402

try:
    from hypothesis import given
    from hypothesis import strategies as st
except ImportError:  # pragma: no cover
    given = None


if given is not None:

    @_examples(40)
    @given(
        i=st.integers(1, 24), o=st.integers(1, 48), k=st.integers(1, 5), s=st.integers(1, 3), d=st.integers(1, 3),
        reading=st.sampled_from(["auto", "auto", "direct", "transpose"]),
        pads=st.one_of(st.none(), st.none(), st.tuples(st.integers(0, 3), st.integers(0, 3))),
    )
    def test_solve_answers_iff_a_configuration_exists_and_every_answer_builds(i, o, k, s, d, reading, pads):
        pytest.importorskip("torch")
        pytest.importorskip("jax")
        if pads is not None and reading == "transpose" and pads[0] != pads[1]:
            pads = (pads[0], pads[0])
        direct = o in _direct_reach(i, k, s, d, pads)
        transpose = o in _transpose_reach(i, k, s, d, pads)
        feasible = {"auto": direct or transpose, "direct": direct, "transpose": transpose}[reading]
        args = ["--in", str(i), "--out", str(o), "-k", str(k), "-s", str(s), "-d", str(d)]
        if pads is not None:
            args += ["-p", f"{pads[0]}:{pads[1]}"]
        if reading != "auto":
            args.append(f"--{reading}")
        doc, err = _property_plan(args)
        assert (doc is not None) == feasible, (args, direct, transpose, err and err.message)
        PROPERTY_COUNTS["answered" if feasible else "refused"] = PROPERTY_COUNTS.get("answered" if feasible else "refused", 0) + 1
        if doc is None:
            assert err.constraint and "\n" not in err.message
            return
        answer = next(sec for sec in (doc["direct"], doc["transpose"]) if sec and sec["role"] == "answer")
        assert (answer["input"], answer["output"]) == ([i], [o])
        if reading == "direct" or (reading == "auto" and not transpose):
            assert doc["direct"] is answer
        if reading == "transpose" or (reading == "auto" and not direct):
            assert doc["transpose"] is answer
        for key in ("direct", "transpose"):
            section = doc[key]
            if section is None:
                continue
            want = tuple(section["output"])
            transposed = key == "transpose"
            if "torch" in section:
                assert build_torch(section, transposed) == want, (args, key)
            assert build_lax(section, "lax", [k]) == want, (args, key)
            if transposed:
                assert build_lax(section, "lax_conv_transpose", [k]) == want, (args, key)
            if "flax" in section:
                assert build_flax(section, transposed) == want, (args, key)
            PROPERTY_COUNTS["sections built"] = PROPERTY_COUNTS.get("sections built", 0) + 1
        # the mirror exists exactly when a direct conv with non-negative padding takes o back to i
        if doc["transpose"] is answer and pads is None:
            assert (doc["direct"] is not None) == (i in _direct_reach(o, k, s, d)), args

    @pytest.fixture(scope="module", autouse=True)
    def _property_report():
        yield
        if PROPERTY_COUNTS:
            import sys

            sys.stderr.write(f"\nconvlint solve property: {PROPERTY_COUNTS}\n")
