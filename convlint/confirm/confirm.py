"""``--confirm``: check the static answers with the frameworks themselves (CVL010).

Two modes, called from the end of :func:`convlint.analysis._analyze` through :func:`confirm_runs`:

``layers``
    Every layer event whose configuration and input shape are known ints is built alone in its
    framework (:mod:`convlint.confirm.layers`): torch on the meta device for the shape, with the
    same layer shrunk to tiny CPU tensors to judge accept/reject (meta does not enforce every rule);
    lax and flax under ``jax.eval_shape`` (a zero-size dimension counts as a failure, jax's way of
    failing). Nothing of the user's runs. A disagreement is CVL010: the shapes differ, the
    framework rejects a layer convlint accepted, or accepts one convlint reported (CVL001, CVL002,
    CVL003). Results are cached per (op, arguments, input) for the whole process.

``model``
    ``layers``, and then each *declared* model of the file (a pragma, ``[[tool.convlint.model]]``,
    a jaxtyping annotation or ``--input``; never the classes convlint runs on its own) is imported
    and run by :mod:`convlint.confirm.trace` — torch on meta tensors, flax/jax under
    ``jax.eval_shape`` — **in a subprocess** with a time limit, so a hang or a crash of the user's
    code cannot take convlint with it. Inputs have their declared dtypes (float32 otherwise) and
    the declaration's ``call`` keywords are passed; a file in a package is imported as its module.

    The layers that ran are paired with the static ones by what they are, not by their order
    (:mod:`convlint.confirm.match`: module path and call site, occurrence by occurrence). A layer
    whose output differs on the same input is CVL010, as is the first input that differs where
    no earlier difference explains it; a layer seen on one side only is marked "not run", not
    reported. A run-time *shape* error is CVL010 on the layer that raised (else the innermost user
    line) — unless convlint reported it already (CVL001/2/3/5 on that layer or line): that finding
    then says "confirmed by --confirm=model: torch raises ...". Other errors (an import, missing
    constructor or call arguments, a dtype error — with the hint to declare ``dtype = "int64"`` —,
    code that needs values meta tensors do not have) and timeouts are messages (printed as
    ``convlint: warning: ...``), not findings. A symbolic size used only as the batch (first)
    dimension runs as 2; a model with other symbolic sizes runs only when they are given
    (``--confirm-size H=64``), otherwise it is skipped with a message.

A missing framework raises :class:`ConfirmUnavailable` naming the extra to install; the CLI
prints it and exits 2. torch, jax and flax are imported only by the functions that need them.
"""

from __future__ import annotations

import ast
import math
import os
import re
import subprocess
import sys
import tempfile

from convlint.config import DTYPES
from convlint.confirm import match as M
from convlint.errors import UsageError
from convlint.interpret.symbolic import Sym
from convlint.interpret.events import Issue
from convlint.interpret.values import Site

__all__ = ["DEFAULT_TIMEOUT", "MODES", "ConfirmUnavailable", "confirm_runs", "messages"]

MODES = ("layers", "model")
DEFAULT_TIMEOUT = 120.0  # seconds per model, --confirm=model
_SOURCES = ("pragma", "config", "jaxtyping", "option")  # declared models; "auto" ones are never run
_EXTRA = {"torch": "torch", "jax": "jax", "flax": "jax"}

# ops both the static engine and the tracer record the same way (as tests/test_engine_fixtures.py)
_COMPARED = (
    "Conv", "ConvTranspose", "MaxPool", "AvgPool", "AdaptiveAvgPool", "AdaptiveMaxPool", "Upsample", "Linear",
    "conv", "conv_transpose", "interpolate", "conv_general_dilated", "avg_pool", "max_pool",
)
_TORCH_MODULE = re.compile(r"^torch\.nn\.(Conv[123]d|ConvTranspose[123]d|MaxPool[123]d|AvgPool[123]d|AdaptiveAvgPool[123]d|AdaptiveMaxPool[123]d|Upsample|Linear)$")
_TORCH_FCONV = re.compile(r"^torch\.nn\.functional\.(conv[123]d|conv_transpose[123]d)$")
_LAX = ("jax.lax.conv_general_dilated", "jax.lax.conv", "jax.lax.conv_with_general_padding", "jax.lax.conv_transpose")
_FLAX = ("flax.linen.Conv", "flax.linen.ConvTranspose", "flax.linen.ConvLocal")
_REJECT_CODES = ("CVL001", "CVL002", "CVL003")
_ERROR_CODES = (*_REJECT_CODES, "CVL005")  # a merge convlint reported also explains a run-time error there


class ConfirmUnavailable(UsageError):
    """``--confirm`` needs a framework that is not installed (the message names the extra)."""


def compared(op: str) -> bool:
    last = op.rsplit(".", 1)[-1]
    return any(last == c or (last.startswith(c) and last[len(c):] in ("1d", "2d", "3d")) for c in _COMPARED)


# ------------------------------------------------------------------------------------------ entry


class _State:
    """Per-project bookkeeping: messages for the CLI, framework availability."""

    def __init__(self, project):
        self.messages: list[str] = []
        self.available: dict[str, bool] = {}
        cfg = getattr(project, "config", None)
        self.sizes: dict[str, int] = dict(getattr(cfg, "confirm_sizes", ()) or ())
        self.timeout: float = float(getattr(cfg, "confirm_timeout", None) or DEFAULT_TIMEOUT)


def state_of(project) -> _State:
    st = getattr(project, "_confirm_state", None)
    if st is None:
        st = _State(project)
        project._confirm_state = st
    return st


def messages(project) -> list[str]:
    """The notes ``--confirm`` left for the user (skipped models, import errors, timeouts)."""
    st = getattr(project, "_confirm_state", None)
    return list(st.messages) if st is not None else []


def confirm_runs(mode, runs, module, project) -> list[Issue]:
    """CVL010 issues for ``runs`` (the file's :class:`convlint.analysis.ModelRun` list).

    Each run gets ``run.confirmed``: a dict event index -> ``"ok"`` (the framework agrees),
    ``"rejected"`` (it rejects the layer, as convlint reported) or ``"mismatch"`` (CVL010) for the
    layers that were checked, and in ``model`` mode ``"not run"`` for the declared models' layers
    neither built alone nor seen in the run (``convlint shapes --confirm`` shows it). A run-time
    error convlint had reported is not a new issue: the static issue's message says it was
    confirmed.
    """
    if mode not in MODES:
        raise ValueError(f"--confirm: expected one of {', '.join(MODES)}, got {mode!r}")
    st = state_of(project)
    issues: list[Issue] = []
    for run in runs:
        if not hasattr(run, "confirmed"):
            run.confirmed = {}
    issues += _confirm_layers(runs, st)
    if mode == "model":
        issues += _confirm_models(runs, module, project, st)
    return issues


def _need(st: _State, framework: str, op: str) -> None:
    if framework not in st.available:
        from convlint.confirm.layers import missing_frameworks

        names = ("jax", "flax") if framework == "flax" else (framework,)
        st.available[framework] = not missing_frameworks(*names)
    if not st.available[framework]:
        what = "flax" if framework == "flax" else framework
        raise ConfirmUnavailable(f"--confirm needs {what} to check {op}: pip install {'torch' if _EXTRA[framework] == 'torch' else 'jax flax'} (what the convlint[{_EXTRA[framework]}] extra adds; in a convlint clone: pip install -e '.[{_EXTRA[framework]}]')")


# ------------------------------------------------------------------------------------------ layers


def _plain(v) -> bool:
    if v is None or isinstance(v, (bool, int, float, str)):
        return not isinstance(v, float) or math.isfinite(v)
    if isinstance(v, (tuple, list)):
        return all(_plain(x) for x in v)
    return False


def _ints(shape) -> bool:
    return isinstance(shape, tuple) and all(isinstance(d, int) and not isinstance(d, bool) for d in shape)


def concrete_input(shape, sizes: dict | None = None):
    """``(shape of ints, env)`` for a layer input: ints as they are; a symbolic size (a plain
    name) from ``sizes``, or 2 for the batch axis (axis 0 of a 3-d or larger input: no conv
    arithmetic reads it). None when some size stays unknown."""
    if not isinstance(shape, tuple):
        return None
    env: dict = {}
    out = []
    for axis, d in enumerate(shape):
        if isinstance(d, int) and not isinstance(d, bool):
            out.append(d)
        elif isinstance(d, Sym) and d.op == "var":
            name = d.args[0]
            if sizes and name in sizes:
                env[name] = sizes[name]
            elif axis == 0 and len(shape) >= 3 and not any(isinstance(o, Sym) and name in o.variables() for o in shape[1:]):
                env[name] = 2
            else:
                return None
            out.append(env[name])
        else:
            return None
    return tuple(out), env


def layer_request(ev, sizes: dict | None = None):
    """How to build this event's layer alone: ``(framework, op, kwargs, shapes, env)`` or None
    when its configuration or input is not fully known (or the op is not one we build); ``env``
    holds the sizes chosen for the input's symbolic dims."""
    op = ev.op
    conc = concrete_input(ev.input, sizes)
    if conc is None:
        return None
    x, env = conc
    req = _request(ev, op, x)
    return None if req is None else (*req, env)


def _request(ev, op, x):
    if _TORCH_MODULE.match(op) and ev.layer is not None:
        kw = {k: v for k, v in ev.layer.params.items() if not (k in ("device", "dtype") and v is None)}
        if "AdaptiveAvgPool" in op and kw.get("return_indices") is False:
            del kw["return_indices"]  # the engine binds the adaptive pools with one signature
        if not _plain(list(kw.values())):
            return None
        return "torch", op, kw, (x,)
    if _TORCH_FCONV.match(op) and ev.layer is None:
        p = dict(ev.params)
        kw = {}
        for k, v in p.items():
            if k == "input":
                continue
            if k in ("weight", "bias"):
                shape = getattr(v, "shape", None)
                if shape is not None:
                    if not _ints(tuple(shape)):
                        return None
                    kw[k] = tuple(shape)
                    continue
                if k == "bias" and v is None:
                    continue
                return None
            kw[k] = v
        if "weight" not in kw or not _plain(list(kw.values())):
            return None
        return "torch", op, kw, (x,)
    if op in _LAX and ev.layer is None:
        p = dict(ev.params)
        rhs = p.pop("rhs_shape", None)
        if not _ints(rhs):
            return None
        if op == "jax.lax.conv_transpose":
            keys = ("strides", "padding", "rhs_dilation", "dimension_numbers", "transpose_kernel", "use_consistent_padding")
        else:
            op = "jax.lax.conv_general_dilated"  # conv / conv_with_general_padding are this with defaults
            keys = ("window_strides", "padding", "lhs_dilation", "rhs_dilation", "dimension_numbers", "feature_group_count", "batch_group_count")
        kw = {k: p[k] for k in keys if k in p and p[k] is not None}
        if not _plain(list(kw.values())):
            return None
        return "jax", op, kw, (x, rhs)
    if op in _FLAX and ev.layer is not None:
        kw = dict(ev.layer.params)
        if not _plain(list(kw.values())):
            return None
        return "flax", op, kw, (x,)
    return None


def build_layer(framework: str, op: str, kw: dict, shapes: tuple):
    """(output shape or None, error message or None) from the framework."""
    from convlint.confirm import layers

    if framework == "torch":
        out = layers.torch_layer_checked(op, kw, shapes[0])
    elif framework == "jax":
        out = layers.lax_layer(op, kw, shapes[0], shapes[1])
    else:
        out = layers.flax_layer(op, kw, shapes[0])
    if not out.ok:
        return None, out.error
    if out.empty:
        return out.shape, f"a zero-size output {_fmt(out.shape)} (jax's way of rejecting a window larger than the padded input)"
    return out.shape, None


def _fmt(shape) -> str:
    if shape is None:
        return "(?)"
    dims = [d if isinstance(d, (int, str)) else (str(d) if isinstance(d, Sym) else "?") for d in shape]
    return "(" + ", ".join(str(d) for d in dims) + ("," if len(dims) == 1 else "") + ")"


def _fw_name(framework: str) -> str:
    return {"torch": "torch", "jax": "jax.lax", "flax": "flax"}[framework]


def _static_reject(ev, site_issues) -> Issue | None:
    """The issue with which convlint rejected this application of the layer, if any."""
    for iss in site_issues:
        if iss.code == "CVL001":
            return iss
        if iss.code == "CVL002":
            out = ev.output
            if out is None or any((isinstance(d, int) and d < 1) or not isinstance(d, (int, Sym)) for d in out):
                return iss
        if iss.code == "CVL003":
            key = iss.key
            if len(key) == 2 and all(isinstance(k, (int, str)) and str(k).lstrip("-").isdigit() for k in key):
                # (expected, got) channel or feature counts: this application is the one that got them
                if ev.input is not None and str(key[1]) in [str(d) for d in ev.input]:
                    return iss
            else:
                return iss
    return None


def _confirm_layers(runs, st: _State) -> list[Issue]:
    issues: list[Issue] = []
    for run in runs:
        # what convlint reported in this run (another model sharing the layer may feed it other shapes)
        by_site: dict[int, list[Issue]] = {}
        for iss in run.issues:
            if iss.code in _REJECT_CODES and iss.site is not None and iss.site.node is not None:
                by_site.setdefault(id(iss.site.node), []).append(iss)
        for i, ev in enumerate(run.trace.events):
            req = layer_request(ev, st.sizes)
            if req is None or ev.site is None or ev.site.node is None:
                continue
            framework, op, kw, shapes, env = req
            _need(st, framework, op)
            got, error = build_layer(framework, op, kw, shapes)
            rejected = _static_reject(ev, by_site.get(id(ev.site.node), ()))
            if error is not None and rejected is None and ev.output is None:
                # convlint gave no answer for this input (its rank may be only a lower bound, the
                # trailing dims of a tensor it lost track of): nothing to agree or disagree with
                continue
            iss = _judge(ev, framework, got, error, rejected, shapes[0], env)
            run.confirmed[i] = "mismatch" if iss is not None else ("rejected" if error is not None else "ok")
            if iss is not None:
                issues.append(iss)
    return issues


def _judge(ev, framework, got, error, rejected: Issue | None, x=None, env=None) -> Issue | None:
    """CVL010 when the framework's answer (``got`` or ``error``) disagrees with the static event.
    ``x`` is the input that was built (the event's, with ``env`` for its symbolic sizes)."""
    name = ev.op.rsplit(".", 1)[-1]
    label = f"{name} ({ev.name})" if ev.name else name
    fw = _fw_name(framework)
    x = tuple(ev.input) if x is None else x
    env = env or {}
    where = f"{label} on {_fmt(x)}" + (f" ({', '.join(f'{k}={v}' for k, v in env.items())})" if env else "")
    key = ("confirm", x)
    if error is not None:
        if rejected is not None:
            return None
        return Issue("CVL010", ev.site, f"{where}: {fw} rejects it ({error}), but convlint computed {_fmt(ev.output)}", key=key)
    if rejected is not None:
        return Issue("CVL010", ev.site, f"{where}: convlint reported {rejected.code} ({rejected.message}), but {fw} accepts it and gives {_fmt(got)}", key=key)
    static = ev.output
    if static is None:
        return None
    if len(static) != len(got) or not _same(static, got, env, {}):
        return Issue("CVL010", ev.site, f"{where}: convlint computed {_fmt(static)}, {fw} gives {_fmt(got)}", key=key)
    return None


# ------------------------------------------------------------------------------------------ models


def _framework_of(run, module) -> str | None:
    from convlint.interpret.values import ClassVal

    entry = run.entry
    if entry.kind == "class":
        cls = module.scope.vars.get(entry.name) if module.scope is not None else None
        fw = getattr(cls, "framework", None) if isinstance(cls, ClassVal) else None
        if fw in ("torch", "flax"):
            return fw
    ops = [ev.op for ev in run.trace.events]
    if entry.kind in ("function", "module") and ops and all(not o.startswith("torch.") for o in ops):
        return "jax"
    return None


def _batch_names(inputs) -> set:
    """Names that are the first (batch) dim of a 3-d or larger declared input and appear nowhere
    but first (a class-label or timestep input ``(B,)`` shares the batch)."""
    shapes = list(inputs.values()) if isinstance(inputs, dict) else list(inputs or ())
    first = {s[0] for s in shapes if len(s) >= 3 and isinstance(s[0], str)}
    rest = {d for s in shapes for d in s[1:] if isinstance(d, str)}
    return first - rest


def _concrete(shape, sizes: dict[str, int], batch: set = frozenset()):
    out = []
    missing = []
    for d in shape:
        if isinstance(d, int):
            out.append(d)
        elif isinstance(d, str) and d in sizes:
            out.append(sizes[d])
        elif isinstance(d, str) and d in batch:
            out.append(2)
        else:
            missing.append(str(d))
    return out, missing


def _model_label(run) -> str:
    return f"{run.path}:{_entry_line(run)} {run.entry.name}"


def _entry_line(run) -> int:
    node = run.entry.node
    if node is None:
        return run.entry.line
    try:
        pos = run.module.parsed.position(node.name if hasattr(node, "name") else node)
    except Exception:
        pos = None
    return pos[0] if pos else run.entry.line


def _confirm_models(runs, module, project, st: _State) -> list[Issue]:
    specs = []
    for run in runs:
        entry = run.entry
        if entry.source not in _SOURCES:
            continue
        label = _model_label(run)
        fw = _framework_of(run, module)
        if fw is None:
            st.messages.append(f"{label}: --confirm=model skipped it: only torch and flax classes and JAX functions or scripts are run")
            continue
        inputs = entry.inputs
        missing: list[str] = []
        if inputs is None and entry.kind != "module":
            st.messages.append(f"{label}: --confirm=model skipped it: no declared input")
            continue
        batch = _batch_names(inputs)
        if isinstance(inputs, dict):
            conc = {}
            for k, v in inputs.items():
                conc[k], m = _concrete(v, st.sizes, batch)
                missing += m
        elif inputs is not None:
            conc = []
            for v in inputs:
                c, m = _concrete(v, st.sizes, batch)
                conc.append(c)
                missing += m
        else:
            conc = None
        if missing:
            names = ", ".join(dict.fromkeys(missing))
            st.messages.append(f"{label}: --confirm=model skipped it: the input has symbolic sizes ({names}); give them with --confirm-size NAME=N")
            _not_run(run)
            continue
        dtypes, bad = _dtypes(getattr(entry, "dtypes", None) or {})
        if bad:
            st.messages.append(f"{label}: --confirm=model skipped it: unknown dtype {bad!r} (expected one of {', '.join(DTYPES)})")
            _not_run(run)
            continue
        _need(st, "flax" if fw == "flax" else fw, entry.name)
        root = str(getattr(project, "root", None) or os.getcwd())
        specs.append((run, {
            "name": entry.name, "kind": entry.kind, "framework": fw, "init": dict(entry.init or {}), "inputs": conc,
            "dtypes": dtypes, "call": dict(getattr(entry, "call", None) or {}), "root": root,
        }))
    if not specs:
        return []
    path = os.path.abspath(module.path)
    results = _run_worker(path, [s for _, s in specs], st.timeout, str(getattr(project, "root", os.getcwd())))
    issues: list[Issue] = []
    for (run, spec), res in zip(specs, results):
        res.setdefault("inputs", spec["inputs"])
        issues += _compare_model(run, spec, res, module, project, st, runs)
        _not_run(run)
    return issues


# torch and numpy spellings a pragma may use beside the configuration's names
_DTYPE_ALIASES = {"long": "int64", "float": "float32", "double": "float64", "half": "float16", "short": "int16", "bool_": "bool"}


def _dtypes(declared: dict) -> tuple[dict, str | None]:
    """The declared dtypes in the configuration's spelling, and the first one convlint does not know."""
    out = {}
    for k, v in declared.items():
        name = _DTYPE_ALIASES.get(str(v), str(v))
        if name not in DTYPES:
            return {}, str(v)
        out[k] = name
    return out, None


def _not_run(run) -> None:
    """Static layers no run compared (skipped model, a layer the run never applied): "not run",
    unless building them alone already marked them."""
    for i, ev in enumerate(run.trace.events):
        if compared(ev.op) and i not in run.confirmed:
            run.confirmed[i] = "not run"


STARTUP_LIMIT = 600.0  # seconds for the child to start and import the frameworks (not the user's code)


def _run_worker(path: str, specs: list[dict], timeout: float, cwd: str) -> list[dict]:
    """Run the models of one file in a child Python; one result dict per spec (``status``:
    ``"done"``, ``"timeout"`` or ``"crashed"``).

    The child first imports the frameworks and says so; from then on each model has ``timeout``
    seconds. Importing torch or jax is slow on a loaded machine, and is not the model's time.
    """
    import time

    with tempfile.TemporaryDirectory(prefix="convlint-confirm-") as tmp:
        spec_file = os.path.join(tmp, "spec.py")
        out_file = os.path.join(tmp, "out.txt")
        err_file = os.path.join(tmp, "err.txt")
        with open(spec_file, "w", encoding="utf-8") as f:
            f.write(repr({"file": path, "models": specs, "out": out_file}))
        env = dict(os.environ)
        pkg_parent = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
        env["PYTHONPATH"] = pkg_parent + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
        env.setdefault("JAX_PLATFORMS", "cpu")
        status, detail = "done", ""
        results: list[dict] = []
        with open(err_file, "wb") as err:
            proc = subprocess.Popen(
                [sys.executable, "-m", "convlint.confirm.confirm", spec_file],
                cwd=cwd if os.path.isdir(cwd) else None, env=env, stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL, stderr=err,
            )
            ready = False
            deadline = time.monotonic() + STARTUP_LIMIT
            offset = 0
            try:
                while True:
                    lines, offset = _new_lines(out_file, offset)
                    for res in lines:
                        if res.get("status") == "ready":
                            ready = True
                        else:
                            results.append(res)
                        deadline = time.monotonic() + timeout  # progress: the next model's time starts
                    if len(results) >= len(specs) or proc.poll() is not None:
                        lines, offset = _new_lines(out_file, offset)
                        results += [r for r in lines if r.get("status") != "ready"]
                        break
                    if time.monotonic() > deadline:
                        status = "timeout"
                        detail = f"no answer within {timeout:g} s (--confirm-timeout)" if ready else f"the child process did not start within {STARTUP_LIMIT:g} s"
                        break
                    time.sleep(0.02)
            finally:
                if proc.poll() is None:
                    proc.kill()
                proc.wait()
        if status == "done" and proc.returncode not in (0, None) and len(results) < len(specs):
            status = "crashed"
            with open(err_file, encoding="utf-8", errors="replace") as f:
                tail = f.read().strip().splitlines()
            detail = f"exit status {proc.returncode}" + (f": {tail[-1]}" if tail else "")
    out = []
    for i in range(len(specs)):
        if i < len(results):
            out.append(results[i])
        else:
            out.append({"status": status if status != "done" else "crashed", "detail": detail or "no result"})
    return out


def _new_lines(path: str, offset: int) -> tuple[list[dict], int]:
    """The complete result lines appended to ``path`` since ``offset``."""
    try:
        with open(path, encoding="utf-8") as f:
            f.seek(offset)
            data = f.read()
    except OSError:
        return [], offset
    out = []
    consumed = 0
    for line in data.splitlines(keepends=True):
        if not line.endswith("\n"):
            break
        consumed += len(line.encode("utf-8"))
        try:
            out.append(ast.literal_eval(line))
        except (ValueError, SyntaxError):
            out.append({"status": "crashed", "detail": "unreadable result"})
    return out, offset + consumed


def _site_at(project, module, path, line, column):
    """An issue site for a position in ``path`` (the analysed module when it is that file)."""
    info = None
    if path:
        if os.path.realpath(path) == os.path.realpath(os.path.abspath(module.path)):
            info = module
        else:
            try:
                info = project.info(path)
            except Exception:
                info = None
    if info is None:
        return None
    return Site(info, None), (int(line), int(column or 1))


def _line_site(run, path: str, line):
    """A layer convlint built on that line of that file (a constructor that raised there)."""
    want = (_real(path), line)
    for layer in run.trace.layers:
        site = getattr(layer, "site", None)
        if site is not None and site.node is not None and site.module is not None:
            pos = site.module.parsed.position(site.node)
            if pos and (_real(site.module.path), pos[0]) == want:
                return site, ()
    return None


# ------------------------------------------------------------------------------------------ pairing


def _real(path) -> str | None:
    return os.path.realpath(os.path.abspath(path)) if path else None


def _layer_name(name) -> str | None:
    """A module path in one spelling for both sides: flax's ``convs_0`` is ``convs.0``."""
    return re.sub(r"_(\d+)(?=\.|$)", r".\1", name) if name else None


def _static_site(ev):
    return ev.site if ev.layer is not None else (ev.call_site or ev.site)


def _static_ident(ev) -> M.Ident:
    site = _static_site(ev)
    path = line = column = None
    if site is not None and site.node is not None and site.module is not None:
        pos = site.module.parsed.position(site.node)
        if pos:
            line, column = pos[0], pos[1]
        path = _real(site.module.path)
    # a layer applied while the model was being built has no name yet when the event is recorded
    name = ev.name or (getattr(ev.layer, "name", None) if ev.layer is not None else None)
    return M.Ident(ev.op, _layer_name(name), path, line, column)


def _runtime_ident(r: dict) -> M.Ident:
    return M.Ident(r["op"], _layer_name(r.get("name")), _real(r.get("path")), r.get("line"), r.get("column"))


def pair_layers(run, runtime: list[dict]) -> list[tuple[int, dict]]:
    """(static event index, run-time event) for every compared layer both sides applied, in the
    static execution order (:func:`convlint.confirm.match.match`)."""
    static = [(i, ev) for i, ev in enumerate(run.trace.events) if compared(ev.op)]
    rt = [r for r in runtime if compared(r["op"])]
    pairs = M.match([_static_ident(ev) for _, ev in static], [_runtime_ident(r) for r in rt])
    return [(static[j][0], rt[k]) for j, k in sorted(pairs.items())]


# ------------------------------------------------------------------------------------------ judging a run


def _compare_model(run, spec, res, module, project, st: _State, runs=()) -> list[Issue]:
    label = _model_label(run)
    status = res.get("status")
    if status != "done":
        word = "timed out" if status == "timeout" else "crashed"
        st.messages.append(f"{label}: --confirm=model {word} ({res.get('detail')})")
        return []
    error = res.get("error")
    stage = res.get("stage")
    inp = spec["inputs"]
    shown = _fmt(tuple(inp[0])) if isinstance(inp, list) and len(inp) == 1 else repr(inp)
    fw = "torch" if spec.get("framework") == "torch" else "jax"
    runtime = list(res.get("init_events") or []) + list(res.get("events") or [])
    failed = res.get("failed_layer")
    if failed is not None:
        runtime.append(failed)
    pairs = pair_layers(run, runtime)
    failed_static = next((i for i, r in pairs if r is failed), None) if failed is not None else None
    issues = _compare_pairs(run, [(i, r) for i, r in pairs if r is not failed], res, shown)
    if error is None:
        static_n = sum(1 for ev in run.trace.events if compared(ev.op))
        runtime_n = sum(1 for r in runtime if compared(r["op"]))
        if static_n and runtime_n and not pairs:
            st.messages.append(f"{label}: --confirm=model could not tell which of the {runtime_n} layers that ran are the {static_n} convlint traced (no module path or call site in common); none compared")
        return issues
    etype, emsg = error[0], error[1]
    if stage == "import":
        st.messages.append(f"{label}: --confirm=model could not import the file: {etype}: {emsg}")
        return issues
    kind = M.error_kind(etype, emsg)
    built = res.get("built", stage != "init")
    if kind == M.SHAPE:
        confirmed = _confirm_static(run, runs, res, failed_static, fw)
        if confirmed:
            if failed_static is not None:
                run.confirmed[failed_static] = "rejected"
            return issues
        issues.append(_error_issue(run, res, shown, module, project, failed_static))
        return issues
    said = f"{etype}: {emsg.rstrip('.')}"
    if not built:
        hint = "; give the constructor's arguments with init(...)" if kind == M.ARGUMENTS else ""
        st.messages.append(f"{label}: --confirm=model could not build it with init({_kw(spec['init'])}): {said}{hint}")
    elif kind == M.DTYPE:
        st.messages.append(f"{label}: --confirm=model could not run it on {shown}: {said}{_dtype_hint(spec)}")
    elif kind == M.ARGUMENTS:
        st.messages.append(f"{label}: --confirm=model could not run it on {shown}: {said}; give the call's other arguments with call(...) in the pragma or call = {{ ... }} in [[tool.convlint.model]]")
    elif kind == M.ABSTRACT:
        why = "meta tensors have shapes but no values" if fw == "torch" else "jax.eval_shape traces values it does not know"
        st.messages.append(f"{label}: --confirm=model could not run it on {shown}: {etype}: {emsg} ({why}: code that reads the input's values cannot run under --confirm=model)")
    else:
        st.messages.append(f"{label}: --confirm=model could not run it on {shown}: {etype}: {emsg}")
    return issues


def _dtype_hint(spec) -> str:
    """How to declare an integer input, naming the inputs that have no declared dtype."""
    inputs, dtypes = spec["inputs"], spec.get("dtypes") or {}
    if isinstance(inputs, dict):
        free = [k for k in inputs if k not in dtypes]
        if not free:
            return ""
        # indices and timesteps are (B,) or (B, T): the lowest-rank input is the likely one
        k = min(reversed(free), key=lambda name: len(inputs[name]))
        shape = tuple(inputs[k])
        example = f'`input ... {k}={_fmt(shape)}:int64` in the pragma, or `{k} = {{ shape = {list(shape)}, dtype = "int64" }}` in its [[tool.convlint.model]] input table'
    else:
        if len(dtypes) >= len(inputs or ()):
            return ""
        example = 'a pragma that names the inputs, `input x=(…) labels=(…):int64`, or `{ shape = [...], dtype = "int64" }` in a [[tool.convlint.model]] input table'
    return f'; an input that holds class indices, token ids or timesteps needs an integer dtype: declare dtype = "int64" ({example})'


def _compare_pairs(run, pairs, res, shown) -> list[Issue]:
    """CVL010 where a layer's run-time input or output differs from the static one; marks every
    compared layer in ``run.confirmed``. A layer whose own output differs on the same input is
    reported; an input that differs only where no earlier difference explains it."""
    env = _env(run, res.get("inputs"))
    names: dict = {}
    issues: list[Issue] = []
    for i, r in pairs:
        sev = run.trace.events[i]
        diffs = []
        for what, s, got in (("input", sev.input, r.get("input")), ("output", sev.output, r.get("output"))):
            if s is not None and got is not None and not _same(s, tuple(got), env, names):
                diffs.append((what, s, got))
        if not diffs:
            run.confirmed[i] = "ok"
            continue
        run.confirmed[i] = "mismatch"
        if diffs[0][0] == "input" and issues:
            continue  # what an earlier difference explains
        what, s, got = diffs[0]
        nm = sev.op.rsplit(".", 1)[-1] + (f" ({sev.name})" if sev.name else "")
        msg = f"running {run.entry.name} on {shown}: {nm} got {what} {_fmt(tuple(got))} where convlint computed {_fmt(s)}"
        issues.append(Issue("CVL010", _static_site(sev), msg, key=("model", run.entry.name)))
    return issues


def _site_place(site, key: tuple = ()):
    """(real path, line) of a site (a site without a node: the line ``key`` starts with)."""
    if site is None or site.module is None:
        return None
    if site.node is None:
        return (_real(site.module.path), key[0]) if len(key) >= 2 else None
    pos = site.module.parsed.position(site.node)
    return (_real(site.module.path), pos[0]) if pos else None


def _issue_place(iss):
    """(real path, line) of a static issue."""
    return _site_place(iss.site, iss.key)


def _issue_places(iss) -> list:
    """The issue's place and those of its related sites (a CVL005 blamed on a layer names the
    merge where the tensors meet, which is where the framework raises)."""
    return [_issue_place(iss), *(_site_place(site) for _msg, site in iss.related)]


_CONFIRMED = "confirmed by --confirm=model"


def _confirm_static(run, runs, res, failed_static, fw) -> bool:
    """A run-time shape error where convlint already reported one (CVL001/2/3/5 on the layer
    that raised, on the line that built it, or on the innermost user line): the static
    finding gets the framework's word; no second finding. True when one was found."""
    etype, emsg, epath, eline = res["error"]
    failed = res.get("failed_layer")
    candidates = []
    for r in (run, *[x for x in runs if x is not run]):
        candidates += [iss for iss in r.issues if iss.code in _ERROR_CODES and iss.site is not None]
    if not candidates:
        return False
    levels = []
    if failed_static is not None:
        node = _static_site(run.trace.events[failed_static]).node
        levels.append(lambda iss: node is not None and iss.site.node is node)
    if failed is not None and failed.get("path") and failed.get("line"):
        where = (_real(failed["path"]), failed["line"])
        levels.append(lambda iss: where in _issue_places(iss))
    if epath and eline:
        here = (_real(epath), eline)
        levels.append(lambda iss: here in _issue_places(iss))
    short = emsg if len(emsg) <= 200 else emsg[:197] + "..."
    for level in levels:
        hits = [iss for iss in candidates if level(iss)]
        if hits:
            for iss in hits:
                if _CONFIRMED not in iss.message:
                    iss.message = f"{iss.message} ({_CONFIRMED}: {fw} raises {etype}: {short})"
            return True
    return False


def _error_issue(run, res, shown, module, project, failed_static) -> Issue:
    """CVL010 for a run-time shape error: on the layer that raised, else the innermost user line."""
    etype, emsg, epath, eline = res["error"]
    failed = res.get("failed_layer")
    where = None
    what = ""
    if failed is not None:
        if failed_static is not None:
            run.confirmed[failed_static] = "mismatch"
            where = (_static_site(run.trace.events[failed_static]), ())
        elif failed.get("path") and failed.get("line"):
            where = _site_at(project, module, failed["path"], failed["line"], failed.get("column"))
        what = f"{failed['op'].rsplit('.', 1)[-1]}" + (f" ({failed['name']})" if failed.get("name") else "") + f" on {_fmt(tuple(failed['input'])) if failed.get('input') else '(?)'} raised "
    if where is None and epath:
        where = _line_site(run, epath, eline) or _site_at(project, module, epath, eline, 1)
    if where is None:
        where = (Site(module, None), (_entry_line(run), 1))
    msg = f"running {run.entry.name} on {shown}: {what}{etype}: {emsg}"
    return Issue("CVL010", where[0], msg, key=where[1] + ("model", run.entry.name))


def _kw(init: dict) -> str:
    return ", ".join(f"{k}={v!r}" for k, v in init.items())


def _env(run, conc) -> dict:
    """Symbol -> size from the declared input (names) and the concrete input that ran."""
    env: dict = {}
    decl = run.entry.inputs
    if conc is None:
        return env
    if isinstance(decl, dict):
        pairs = [(decl[k], conc[k]) for k in decl if k in conc]
    elif decl is not None:
        pairs = list(zip(decl, conc))
    else:
        pairs = []
    for d, c in pairs:
        for a, b in zip(d, c):
            if isinstance(a, str):
                env[a] = b
    return env


def _same(static, runtime, env, names) -> bool:
    if len(static) != len(runtime):
        return False
    for s, r in zip(static, runtime):
        if isinstance(s, bool):
            continue
        if isinstance(s, int):
            if s != r:
                return False
        elif isinstance(s, Sym):
            try:
                if s.variables() <= set(env):
                    if s.evaluate(env) != r:
                        return False
                elif s.op == "var" and names.setdefault(s.args[0], r) != r:
                    return False
            except Exception:
                continue
        # Unknown: nothing to compare
    return True


# ------------------------------------------------------------------------------------------ worker


def _event_dict(e) -> dict:
    return {
        "op": e.op,
        "input": list(e.input) if e.input is not None else None,
        "output": list(e.output) if e.output is not None else None,
        "path": e.path,
        "line": e.line,
        "column": e.column,
        "name": e.name,
    }


def _worker(spec_file: str) -> int:
    """The child side of ``--confirm=model``: run each model, append one result line per model."""
    import io
    from contextlib import redirect_stdout

    from convlint.confirm import trace

    with open(spec_file, encoding="utf-8") as f:
        spec = ast.literal_eval(f.read())
    path = spec["file"]
    with open(spec["out"], "w", encoding="utf-8") as out:
        for framework in sorted({m["framework"] or "" for m in spec["models"]}):  # imported before any model's time starts
            try:
                if framework == "torch":
                    import torch  # noqa: F401
                elif framework in ("flax", "jax"):
                    import jax  # noqa: F401

                    if framework == "flax":
                        import flax.linen  # noqa: F401
            except ImportError:
                pass  # the model's run reports it
        out.write(repr({"status": "ready"}) + "\n")
        out.flush()
        for m in spec["models"]:
            buf = io.StringIO()
            try:
                extra = {"dtypes": m.get("dtypes") or {}, "call": m.get("call") or {}, "root": m.get("root")}
                with redirect_stdout(buf):
                    if m["framework"] == "torch":
                        r = trace.trace_torch_model(path, m["name"], m["init"], m["inputs"], **extra)
                    elif m["framework"] == "flax":
                        r = trace.trace_flax_model(path, m["name"], m["init"], m["inputs"], **extra)
                    elif m["kind"] == "module":
                        r = trace.trace_jax_script(path, root=extra["root"])
                    else:
                        r = trace.trace_jax_script(path, m["name"], m["inputs"], **extra)
                res = {
                    "status": "done",
                    "stage": r.stage,
                    "built": r.built,
                    "init_events": [_event_dict(e) for e in r.init_events],
                    "events": [_event_dict(e) for e in r.events],
                    "output_shapes": [list(s) for s in r.output_shapes],
                    "error": tuple(r.error) if r.error is not None else None,
                    "failed_layer": _event_dict(r.failed_layer) if r.failed_layer is not None else None,
                }
            except BaseException as exc:  # noqa: BLE001 - a tracer failure is this model's result
                res = {"status": "crashed", "detail": f"{type(exc).__name__}: {exc}"}
            out.write(repr(res).replace("\n", " ") + "\n")
            out.flush()
    return 0


if __name__ == "__main__":  # pragma: no cover - run by _run_worker in a child process
    sys.exit(_worker(sys.argv[1]))
