"""The sizes convlint says a model accepts are the sizes the framework runs it on.

Random small encoder/decoder models (U-Nets with skips merged by cat or add, autoencoders with a
declared output; pools, strided convs with and without padding, valid convs, transposed convs,
nearest upsampling) are written as Python source, analysed by convlint (``shapes --sizes``'s
:func:`~convlint.interpret.sizing.model_sizes`), and run by torch on every length 1..128
(and by jax.eval_shape for lax models): the two sets are equal.
"""

from __future__ import annotations

import json
import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from convlint.commands.shapes import collect
from convlint.interpret.sizing import model_sizes

TOP = 96
SETTINGS = settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])


# ----------------------------------------------------------------------------------- torch models


@st.composite
def torch_ops(draw):
    """A list of ops on a 1-d activation: each merge joins an earlier activation."""
    ops, skips = [], []
    depth = draw(st.integers(1, 3))
    for _ in range(depth):
        if draw(st.booleans()):
            k = draw(st.sampled_from([1, 3, 3, 5]))
            ops.append(("conv", k, 1, draw(st.sampled_from([0, (k - 1) // 2])), 1))
        skips.append(len(ops))
        ops.append(draw(st.sampled_from([
            ("pool", "MaxPool1d", 2, 2, 0),
            ("pool", "AvgPool1d", 3, 2, 1),
            ("pool", "MaxPool1d", 3, 3, 0),
            ("conv", 3, 2, 1, 1),
            ("conv", 4, 2, 1, 1),
            ("conv", 3, 2, 0, 1),
            ("conv", 3, 1, 0, 2),
        ])))
    for level in reversed(range(depth)):
        ops.append(draw(st.sampled_from([
            ("convT", 2, 2, 0, 0),
            ("convT", 3, 2, 1, 1),
            ("convT", 4, 2, 1, 0),
            ("convT", 3, 2, 1, 0),
            ("up",),
        ])))
        if draw(st.integers(0, 3)):
            ops.append((draw(st.sampled_from(["cat", "add"])), skips[level]))
    return ops, draw(st.booleans())


def torch_source(ops, declare_output: bool) -> str:
    """The model as a torch module; every activation has 2 channels (a cat is followed by a 1×1 conv)."""
    init, body = [], ["        a0 = x"]
    for i, op in enumerate(ops):
        prev, cur = f"a{i}", f"a{i + 1}"
        if op[0] == "conv":
            _, k, s, p, d = op
            init.append(f"        self.l{i} = nn.Conv1d(2, 2, {k}, stride={s}, padding={p}, dilation={d})")
            body.append(f"        {cur} = self.l{i}({prev})")
        elif op[0] == "pool":
            _, cls, k, s, p = op
            init.append(f"        self.l{i} = nn.{cls}({k}, stride={s}, padding={p})")
            body.append(f"        {cur} = self.l{i}({prev})")
        elif op[0] == "convT":
            _, k, s, p, o = op
            init.append(f"        self.l{i} = nn.ConvTranspose1d(2, 2, {k}, stride={s}, padding={p}, output_padding={o})")
            body.append(f"        {cur} = self.l{i}({prev})")
        elif op[0] == "up":
            init.append(f"        self.l{i} = nn.Upsample(scale_factor=2, mode='nearest')")
            body.append(f"        {cur} = self.l{i}({prev})")
        elif op[0] == "cat":
            init.append(f"        self.l{i} = nn.Conv1d(4, 2, 1)")
            body.append(f"        {cur} = self.l{i}(torch.cat([{prev}, a{op[1]}], dim=1))")
        else:
            body.append(f"        {cur} = {prev} + a{op[1]}")
    body.append(f"        return a{len(ops)}")
    pragma = "input=(1, 2, L)" + (" output=(1, 2, L)" if declare_output else "")
    return "\n".join([
        "import torch",
        "import torch.nn as nn",
        "",
        "",
        f"class Net(nn.Module):  # convlint: {pragma}",
        "    def __init__(self):",
        "        super().__init__()",
        *(init or ["        pass"]),
        "",
        "    def forward(self, x):",
        *body,
        "",
    ])


def torch_accepts(source: str, declare_output: bool) -> list[int]:
    import torch

    ns: dict = {}
    exec(compile(source, "<model>", "exec"), ns)  # the test's own generated model, run by torch itself
    net = ns["Net"]().eval()
    ok = []
    for n in range(1, TOP + 1):
        try:
            with torch.no_grad():
                out = net(torch.zeros(1, 2, n))
        except RuntimeError:
            continue
        if declare_output and tuple(out.shape) != (1, 2, n):
            continue
        ok.append(n)
    return ok


def convlint_sizes(tmp_path, source: str, name: str = "model.py"):
    path = tmp_path / name
    path.write_text(source)
    _models, runs = collect([str(path)])
    (run,) = [r for r in runs if r.entry.name != "<module>"]
    ms = model_sizes(run)
    return ms


def members(s, top=TOP) -> list[int]:
    return [n for n in range(1, top + 1) if n in s]


@SETTINGS
@given(torch_ops())
def test_the_sizes_convlint_states_are_the_sizes_torch_runs(tmp_path, case):
    pytest.importorskip("torch")
    ops, declare_output = case
    source = torch_source(ops, declare_output)
    ms = convlint_sizes(tmp_path, source)
    v = ms.vars["L"]
    assert v.exact, (v.why, source)
    assert members(v.sizes) == torch_accepts(source, declare_output), (v.sizes.to_json(), source)


def test_a_unet_whose_pools_need_a_multiple_of_8_states_it_with_the_layers(tmp_path):
    pytest.importorskip("torch")
    ops = [("conv", 3, 1, 1, 1), ("pool", "MaxPool1d", 2, 2, 0)] * 3
    ops += [("up",), ("cat", 5), ("up",), ("cat", 3), ("up",), ("cat", 1)]
    source = torch_source(ops, True)
    v = convlint_sizes(tmp_path, source).vars["L"]
    assert v.sizes.text == "L ≥ 8, L ≡ 0 (mod 8)"
    assert members(v.sizes) == torch_accepts(source, True)
    why = dict(v.explain())
    assert [p.label for p in why["L ≥ 8"]][0] == "l5 (MaxPool1d, stride 2)"
    assert str(why["L ≥ 8, L ≡ 0 (mod 8)"][0]).startswith("the merge torch.cat at model.py:")


# ------------------------------------------------------------------------------------- jax (lax)


@st.composite
def lax_ops(draw):
    ops, skips = [], []
    depth = draw(st.integers(1, 3))
    for _ in range(depth):
        if draw(st.booleans()):
            ops.append(("conv", 3, 1, draw(st.sampled_from([0, 1]))))
        skips.append(len(ops))
        ops.append(draw(st.sampled_from([("conv", 3, 2, 1), ("conv", 2, 2, 0), ("conv", 3, 2, 0), ("pool", 2, 2), ("pool", 3, 2)])))
    for level in reversed(range(depth)):
        ops.append(draw(st.sampled_from([("convT", 2, "VALID"), ("convT", 3, "SAME"), ("convT", 4, "SAME")])))
        if draw(st.integers(0, 3)):
            ops.append(("cat", skips[level]))
    return ops


def lax_source(ops) -> str:
    """A plain function of lax ops on (1, 2, L) activations; weights are declared inputs."""
    params, decl, body = [], [], ["    a0 = x"]
    for i, op in enumerate(ops):
        prev, cur = f"a{i}", f"a{i + 1}"
        if op[0] == "conv":
            _, k, s, p = op
            params.append(f"w{i}")
            decl.append(f"w{i}=(2, 2, {k})")
            body.append(f"    {cur} = lax.conv_general_dilated({prev}, w{i}, ({s},), [({p}, {p})])")
        elif op[0] == "pool":
            _, k, s = op
            body.append(f"    {cur} = lax.reduce_window({prev}, -jnp.inf, lax.max, (1, 1, {k}), (1, 1, {s}), ((0, 0), (0, 0), (0, 0)))")
        elif op[0] == "convT":
            _, k, pad = op
            params.append(f"w{i}")
            decl.append(f"w{i}=(2, 2, {k})")
            body.append(f"    {cur} = lax.conv_transpose({prev}, w{i}, (2,), {pad!r}, dimension_numbers=('NCH', 'OIH', 'NCH'))")
        else:
            params.append(f"w{i}")
            decl.append(f"w{i}=(2, 4, 1)")
            body.append(f"    {cur} = lax.conv_general_dilated(jnp.concatenate([{prev}, a{op[1]}], axis=1), w{i}, (1,), 'VALID')")
    body.append(f"    return a{len(ops)}")
    return "\n".join([
        "import jax.numpy as jnp",
        "from jax import lax",
        "",
        "",
        f"def net(x, {', '.join(params)}):  # convlint: input x=(1, 2, L) {' '.join(decl)}",
        *body,
        "",
    ])


def jax_accepts(source: str, ops) -> tuple[list[int], list[int]]:
    """``(runs, runs_nonempty)``: the lengths jax.eval_shape accepts, and those of them where no
    activation is empty (jax returns a zero-size array where torch raises)."""
    import jax
    import jax.numpy as jnp

    ns: dict = {}
    exec(compile(source, "<model>", "exec"), ns)
    shapes: list = []
    real = ns["lax"]

    class Recording:  # the real lax; each result's shape is noted
        def __getattr__(self, name):
            fn = getattr(real, name)
            if name in ("max",):
                return fn

            def call(*a, **k):
                out = fn(*a, **k)
                shapes.append(out.shape)
                return out

            return call

    ns["lax"] = Recording()
    weights = {"conv": lambda op: (2, 2, op[1]), "convT": lambda op: (2, 2, op[1]), "cat": lambda op: (2, 4, 1)}
    ws = [jax.ShapeDtypeStruct(weights[op[0]](op), jnp.float32) for op in ops if op[0] in weights]
    runs, nonempty = [], []
    for n in range(1, TOP + 1):
        shapes.clear()
        try:
            jax.eval_shape(ns["net"], jax.ShapeDtypeStruct((1, 2, n), jnp.float32), *ws)
        except Exception:  # jax rejects the size (a TypeError or ValueError from its shape checks)
            continue
        runs.append(n)
        if all(math.prod(s) > 0 for s in shapes):
            nonempty.append(n)
    return runs, nonempty


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(lax_ops())
def test_the_sizes_convlint_states_for_a_lax_model_are_those_jax_runs_without_an_empty_array(tmp_path, ops):
    pytest.importorskip("jax")
    source = lax_source(ops)
    v = convlint_sizes(tmp_path, source).vars["L"]
    assert v.exact, (v.why, source)
    runs, nonempty = jax_accepts(source, ops)
    got = members(v.sizes)
    # jax never raises for an empty conv or pool output: the sizes convlint states are those jax
    # runs without producing an empty array; every one of them jax accepts
    assert got == nonempty, (v.sizes.to_json(), source)
    assert set(got) <= set(runs)


# ------------------------------------------------------------------------------------ the commands


UNET = torch_source([("conv", 3, 1, 1, 1), ("pool", "MaxPool1d", 2, 2, 0)] * 2 + [("up",), ("cat", 3), ("up",), ("cat", 1)], False)


def test_shapes_sizes_json_contract(tmp_path, capsys):
    from convlint.cli import main

    (tmp_path / "unet.py").write_text(UNET)
    assert main(["shapes", "--sizes", "--format", "json", str(tmp_path / "unet.py")]) == 0
    doc = json.loads(capsys.readouterr().out)
    (model,) = doc["models"]
    s = model["sizes"]["L"]
    assert {k: s[k] for k in ("text", "min", "period", "residues", "below_min")} == {
        "text": "L ≥ 4, L ≡ 0 (mod 4)", "min": 4, "period": 4, "residues": [0], "below_min": []}
    assert s["exact"] is True
    assert any(r["text"] == "L ≥ 4, L ≡ 0 (mod 4)" and r["by"][0].startswith("the merge torch.cat") for r in s["reasons"])


def test_shapes_sizes_text_names_the_layers(tmp_path, capsys):
    from convlint.cli import main

    (tmp_path / "unet.py").write_text(UNET)
    assert main(["shapes", "--sizes", str(tmp_path / "unet.py")]) == 0
    out = capsys.readouterr().out
    assert "  sizes: L ≥ 4, L ≡ 0 (mod 4)\n" in out
    assert "l3 (MaxPool1d, stride 2) at unet.py:11" in out and "need L ≥ 4" in out
    assert "the merge torch.cat at unet.py:" in out


def test_check_gives_the_nearest_valid_sizes_for_a_declared_input(tmp_path, capsys):
    from convlint.cli import main

    (tmp_path / "unet.py").write_text(UNET.replace("input=(1, 2, L)", "input=(1, 2, 102)"))
    assert main(["check", "--format", "json", str(tmp_path / "unet.py")]) == 1
    findings = json.loads(capsys.readouterr().out)
    merge = [f for f in findings if f["code"] in ("CVL005", "CVL004")]
    assert merge and all("(valid sizes: L ≥ 4, L ≡ 0 (mod 4); use 100 or 104, or pad to 104)" in f["message"] for f in merge)


NO_SIZE = '''import torch
import torch.nn as nn


class TwoWays(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(3, 3, 1)
        self.a = nn.Conv2d(3, 3, 3, stride=2, padding=1)
        self.a_up = nn.ConvTranspose2d(3, 3, 3, stride=2, padding=1)
        self.b = nn.MaxPool2d(2)
        self.b_up = nn.Upsample(scale_factor=2)

    def forward(self, x):
        x = self.stem(x)
        y = torch.cat([x, self.a_up(self.a(x))], dim=1)
        return y[:, :3] + self.b_up(self.b(x))
'''


def test_a_model_no_size_fits_is_an_error_with_nothing_declared(tmp_path, capsys):
    """The cat needs odd sizes, the add even ones (or 1, where the pool fails): no size at all,
    though each alone allows some. CVL005 at the add, with no input declared."""
    pytest.importorskip("torch")
    from convlint.cli import main

    (tmp_path / "two.py").write_text(NO_SIZE)
    _models, runs = collect([], inputs=[f"{tmp_path / 'two.py'}::TwoWays=1,3,H,W"])
    (run,) = [r for r in runs if r.entry.name == "TwoWays"]
    assert model_sizes(run).vars["H"].sizes.empty
    import torch

    ns: dict = {}
    exec(compile(NO_SIZE, "<model>", "exec"), ns)
    net = ns["TwoWays"]()
    for n in range(1, 40):
        with pytest.raises(RuntimeError):
            net(torch.zeros(1, 3, n, n))
    assert main(["check", "--format", "json", str(tmp_path / "two.py")]) == 1
    findings = json.loads(capsys.readouterr().out)
    hits = [f for f in findings if "no input size H works" in f["message"]]
    assert len(hits) == 1 and hits[0]["code"] == "CVL005" and hits[0]["line"] == 17


def test_when_only_a_few_sizes_work_they_are_named_and_none_is_advised(tmp_path):
    """A residual block whose branch keeps no size but a 1 that broadcasts: the sizes are true and
    listed, with no 'use 2×2' (torch agrees: 2×2 runs, 32×32 does not)."""
    import torch

    from convlint.analysis import Project, analyze_file
    from tests.oracle import import_file

    src = (
        "import torch.nn as nn\n\n\n"
        "class Block(nn.Module):  # convlint: input=(1, 4, 32, 32)\n"
        "    def __init__(self):\n"
        "        super().__init__()\n"
        "        self.conv = nn.Conv2d(4, 4, 3, stride=2, padding=1)\n\n"
        "    def forward(self, x):\n"
        "        return x + self.conv(x)\n"
    )
    path = tmp_path / "block.py"
    path.write_text(src)
    found = [f for f in analyze_file(Project(str(tmp_path)), str(path), src).findings if f.code == "CVL005"]
    assert len(found) == 1
    assert "(only H ∈ {1, 2} and W ∈ {1, 2} work)" in found[0].message and "use " not in found[0].message
    block = import_file(path).Block()
    for n in (1, 2):
        assert tuple(block(torch.zeros(1, 4, n, n)).shape) == (1, 4, n, n)
    for n in (3, 32):
        with pytest.raises(RuntimeError):
            block(torch.zeros(1, 4, n, n))
