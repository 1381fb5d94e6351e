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
    code cannot take convlint with it. The recorded layers are compared with the static trace;
    the first layer whose shapes differ is CVL010, and a run-time error is CVL010 on the line of
    the layer that raised, with the framework's message. A symbolic size used only as the batch
    (first) dimension runs as 2; a model with other symbolic sizes runs only when they are given
    (``--confirm-size H=64``), otherwise it is skipped with a message. Import errors, missing constructor arguments and timeouts are messages (printed as
    ``convlint: warning: ...``), not findings.

A missing framework raises :class:`ConfirmUnavailable` naming the extra to install; the CLI
prints it and exits 2. torch, jax and flax are imported only by the functions that need them.
"""

from __future__ import annotations

import ast
import difflib
import math
import os
import re
import subprocess
import sys
import tempfile

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
    layers that were checked (``convlint shapes --confirm`` shows it).
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
            if len(key) == 2 and all(isinstance(k, int) for k in key):
                if key[1] in ev.input:
                    return iss
            else:
                return iss
    return None


def _confirm_layers(runs, st: _State) -> list[Issue]:
    by_site: dict[int, list[Issue]] = {}
    for run in runs:
        for iss in run.issues:
            if iss.code in _REJECT_CODES and iss.site is not None and iss.site.node is not None:
                by_site.setdefault(id(iss.site.node), []).append(iss)
    issues: list[Issue] = []
    for run in runs:
        for i, ev in enumerate(run.trace.events):
            req = layer_request(ev, st.sizes)
            if req is None or ev.site is None or ev.site.node is None:
                continue
            framework, op, kw, shapes, env = req
            _need(st, framework, op)
            got, error = build_layer(framework, op, kw, shapes)
            iss = _judge(ev, framework, got, error, _static_reject(ev, by_site.get(id(ev.site.node), ())), shapes[0], env)
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
    """Names used only as the first (batch) dim of 3-d or larger declared inputs."""
    shapes = list(inputs.values()) if isinstance(inputs, dict) else list(inputs or ())
    first = {s[0] for s in shapes if len(s) >= 3 and isinstance(s[0], str)}
    rest = {d for s in shapes for d in (s[1:] if len(s) >= 3 else s) if isinstance(d, str)}
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
            continue
        _need(st, "flax" if fw == "flax" else fw, entry.name)
        specs.append((run, {"name": entry.name, "kind": entry.kind, "framework": fw, "init": dict(entry.init or {}), "inputs": conc}))
    if not specs:
        return []
    path = os.path.abspath(module.path)
    results = _run_worker(path, [s for _, s in specs], st.timeout, str(getattr(project, "root", os.getcwd())))
    issues: list[Issue] = []
    for (run, spec), res in zip(specs, results):
        res.setdefault("inputs", spec["inputs"])
        issues += _compare_model(run, spec, res, module, project, st)
    return issues


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


def _event_site(run, failed: dict):
    """The static event's site for the layer that raised (same op, file and line): the finding
    then spans the whole expression."""
    if not failed.get("path"):
        return None
    want = (failed["op"], os.path.realpath(failed["path"]), failed.get("line"))
    for i, ev in enumerate(run.trace.events):
        if _static_key(ev) == want:
            return i, (ev.site if ev.layer is not None else (ev.call_site or ev.site))
    return None


def _line_site(run, path: str, line):
    """A layer convlint built on that line of that file (a constructor that raised there)."""
    want = (os.path.realpath(path), line)
    for layer in run.trace.layers:
        site = getattr(layer, "site", None)
        if site is not None and site.node is not None and site.module is not None:
            pos = site.module.parsed.position(site.node)
            if pos and (os.path.realpath(os.path.abspath(site.module.path)), pos[0]) == want:
                return site, ()
    return None


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


def _compare_model(run, spec, res, module, project, st: _State) -> list[Issue]:
    label = _model_label(run)
    status = res.get("status")
    if status != "done":
        word = "timed out" if status == "timeout" else "crashed"
        st.messages.append(f"{label}: --confirm=model {word} ({res.get('detail')})")
        return []
    error = res.get("error")
    failed = res.get("failed_layer")
    stage = res.get("stage")
    inp = spec["inputs"]
    shown = _fmt(tuple(inp[0])) if isinstance(inp, list) and len(inp) == 1 else repr(inp)
    if error is not None:
        etype, emsg = error[0], error[1]
        if stage == "import":
            st.messages.append(f"{label}: --confirm=model could not import the file: {etype}: {emsg}")
            return []
        if stage == "init" and failed is None and etype == "TypeError":
            st.messages.append(f"{label}: --confirm=model could not build it with init({_kw(spec['init'])}): {etype}: {emsg}; give the constructor's arguments with init(...)")
            return []
    issues = _compare_layers(run, res, shown)
    if error is not None:
        issues.append(_error_issue(run, res, shown, module, project))
    elif not issues:
        static = [ev for ev in run.trace.events if compared(ev.op)]
        runtime = [ev for ev in res.get("events", []) if compared(ev["op"])]
        if [ev.op for ev in static] != [r["op"] for r in runtime]:
            n = sum(1 for v in run.confirmed.values() if v)
            st.messages.append(f"{label}: --confirm=model could pair only some of its {len(static)} static and {len(runtime)} run-time layers (they differ in order or op); {n} compared")
    return issues


def _compare_layers(run, res, shown) -> list[Issue]:
    """The first layer whose run-time input or output differs from the static one (CVL010);
    marks the layers compared in ``run.confirmed``."""
    static = [(i, ev) for i, ev in enumerate(run.trace.events) if compared(ev.op)]
    runtime = [ev for ev in res.get("events", []) if compared(ev["op"])]
    env = _env(run, res.get("inputs"))
    names: dict = {}
    for (i, sev), rev in _align(static, runtime):
        for what, s, r in (("input", sev.input, rev["input"]), ("output", sev.output, rev["output"])):
            if s is None or r is None:
                continue
            if not _same(s, tuple(r), env, names):
                run.confirmed[i] = "mismatch"
                site = sev.site if sev.layer is not None else (sev.call_site or sev.site)
                nm = sev.op.rsplit(".", 1)[-1] + (f" ({sev.name})" if sev.name else "")
                msg = f"running {run.entry.name} on {shown}: {nm} got {what} {_fmt(tuple(r))} where convlint computed {_fmt(s)}"
                return [Issue("CVL010", site, msg, key=("model", run.entry.name))]
        if run.confirmed.get(i) != "mismatch":
            run.confirmed[i] = "ok"
    return []


def _error_issue(run, res, shown, module, project) -> Issue:
    """CVL010 for a run-time error: on the layer that raised, else the innermost user line."""
    etype, emsg, epath, eline = res["error"]
    failed = res.get("failed_layer")
    where = None
    what = ""
    if failed is not None:
        found = _event_site(run, failed)
        if found is not None:
            i, site = found
            rejected = any(iss.code in _ERROR_CODES and iss.site.node is site.node for iss in run.issues if iss.site is not None)
            run.confirmed[i] = "rejected" if rejected else "mismatch"
            where = (site, ())
        else:
            where = _site_at(project, module, failed["path"], failed["line"], failed["column"])
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
        pairs = [(decl[k], conc[k]) for k in decl]
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


def _static_key(ev) -> tuple:
    site = ev.site if ev.layer is not None else (ev.call_site or ev.site)
    line = None
    path = None
    if site is not None and site.node is not None and site.module is not None:
        pos = site.module.parsed.position(site.node)
        line = pos[0] if pos else None
        path = os.path.realpath(os.path.abspath(site.module.path))
    return (ev.op, path, line)


def _align(static, runtime) -> list:
    """Pairs (static (index, event), runtime event): by op sequence when the two agree, else by
    (op, file, line) with a longest-matching alignment."""
    ops, rops = [ev.op for _, ev in static], [r["op"] for r in runtime]
    if ops == rops or (len(rops) < len(ops) and ops[: len(rops)] == rops):  # equal, or a run stopped by an error
        return list(zip(static, runtime))
    a = [_static_key(ev) for _, ev in static]
    b = [(r["op"], os.path.realpath(r["path"]) if r.get("path") else None, r.get("line")) for r in runtime]
    sm = difflib.SequenceMatcher(None, a, b, autojunk=False)
    out = []
    for block in sm.get_matching_blocks():
        for k in range(block.size):
            out.append((static[block.a + k], runtime[block.b + k]))
    return out


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
                with redirect_stdout(buf):
                    if m["framework"] == "torch":
                        r = trace.trace_torch_model(path, m["name"], m["init"], m["inputs"])
                    elif m["framework"] == "flax":
                        r = trace.trace_flax_model(path, m["name"], m["init"], m["inputs"])
                    elif m["kind"] == "module":
                        r = trace.trace_jax_script(path)
                    else:
                        r = trace.trace_jax_script(path, m["name"], m["inputs"])
                res = {
                    "status": "done",
                    "stage": r.stage,
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
