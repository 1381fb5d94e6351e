"""Run a user's model on abstract inputs and record what every conv-family layer did to the shape.

This is ``--confirm=model`` and the oracle for the static engine's tests. It *executes the user's
code*: the module is imported from its file, the model is built with its ``init(...)`` arguments
and applied to inputs that carry shapes but no data — torch tensors on the ``meta`` device,
``jax.ShapeDtypeStruct`` values under :func:`jax.eval_shape`. While it runs, every layer of
interest is recorded as a :class:`LayerEvent`, in execution order, with the source line that built
it:

* torch: leaf modules (conv, transposed conv, pooling, adaptive pooling, upsampling, padding,
  linear, flatten, norms, pixel shuffle, recurrent layers) through global forward hooks;
  functional calls (``F.conv*``, ``F.conv_transpose*``, ``F.interpolate``, ``F.pad``,
  ``F.*pool*``, ``torch.cat``, ``torch.stack``) through a
  :class:`torch.overrides.TorchFunctionMode`. A functional call made inside a torch module
  (``nn.Conv2d.forward`` calls ``F.conv2d``) is not recorded twice. The hooks and the mode are
  on while the model is built too: a dummy forward in ``__init__`` is
  :attr:`TraceResult.init_events`.
* flax: module calls (``Conv``, ``ConvTranspose``, ``Dense``, norms, …) through
  :func:`flax.linen.intercept_methods`; functional calls (``nn.avg_pool``, ``nn.max_pool``,
  ``lax.conv_general_dilated``, ``lax.conv_transpose``, ``jax.image.resize``,
  ``jnp.concatenate``, …) by wrapping those functions for the duration of the run.
* plain JAX scripts: the module's top-level code, or one function, runs under
  :func:`jax.eval_shape` so that ``jnp.ones((32, 256, 64, 64))`` allocates nothing.

The file is imported as what it is: a module of its package when it is in one (relative
imports work; :func:`package_context` finds the package's top, namespace packages and src
layouts included), else under a private name.

Nothing escapes: an exception anywhere (import, construction, forward) becomes
:attr:`TraceResult.error`, pointing at the innermost frame in the user's files. Every patch
(``nn.Module.__init__``, flax's ``Module.__post_init__``, the wrapped functions, hooks, modes) is
undone in ``finally``, and the additions to ``sys.path`` and ``sys.modules`` are removed.

torch, jax and flax are imported lazily inside the functions; importing this module imports none
of them.

A caveat the caller must know: the meta device computes shapes but does not enforce every rule
the real kernels enforce (it accepts ``output_padding >= max(stride, dilation)`` which CPU
rejects). Pass ``device="cpu"`` with tiny inputs when accept/reject matters.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import io
import os
import runpy
import sys
import sysconfig
import threading
import traceback
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, NamedTuple

__all__ = [
    "LayerEvent",
    "TraceError",
    "TraceResult",
    "trace_flax_model",
    "trace_jax_script",
    "trace_torch_model",
]

Shape = tuple[int, ...]
InputSpec = Sequence[Any] | Mapping[str, Any] | None

# Patching the frameworks is process-global: one trace at a time.
_LOCK = threading.RLock()


@dataclass(frozen=True)
class LayerEvent:
    """One layer application seen at run time.

    ``op`` is the qualified callable as the ``shapes`` JSON spells it (``torch.nn.Conv2d``,
    ``torch.nn.functional.interpolate``, ``flax.linen.Conv``, ``jax.lax.conv_general_dilated``).
    ``input`` is the shape of the first tensor argument (for ``cat``/``concatenate``: of the first
    joined tensor) and ``operands`` the shapes of every joined tensor of a merge (empty otherwise).
    ``path``/``line``/``column`` (1-based; ``column`` may be None) locate the expression that built
    the layer — for a module, the constructor call; for a functional call, the call itself.
    ``name`` is the module's qualified attribute name (``encoder.0``; flax: its scope path joined
    with dots, ``Encoder_0.Conv_1``), None for functional calls.
    """

    op: str
    input: Shape | None
    output: Shape | None
    path: str | None
    line: int | None
    name: str | None = None
    column: int | None = None
    operands: tuple[Shape, ...] = ()


class TraceError(NamedTuple):
    """A run-time failure: exception type name, its message, and the innermost user frame."""

    type: str
    message: str
    path: str | None
    line: int | None


@dataclass
class TraceResult:
    """What one run recorded.

    ``events`` in execution order; ``output_shapes`` the shapes of every array/tensor in the
    model's output (flattened); ``error`` None when the run completed. ``failed_layer`` is the
    layer that raised ``error``, when a recorded layer did (its ``output`` is None; its
    ``path``/``line`` are where it was built, which may differ from ``error.line``, the innermost
    user frame). ``stage`` says where it stopped ("import", "init", "forward" or "done");
    ``stdout`` is what the code printed.

    ``built`` is true once the model object exists (torch: the constructor returned; flax: the
    dataclass was made): an error with ``built`` false is a construction error (stage "init"),
    one with ``built`` true happened while the model ran (flax's ``model.init`` is stage "init"
    too, but runs ``__call__``). ``init_events`` are the layers applied while the model was
    being built (torch: a dummy forward in ``__init__``), in order, before ``events``.
    """

    events: list[LayerEvent] = field(default_factory=list)
    output_shapes: list[Shape] = field(default_factory=list)
    error: TraceError | None = None
    failed_layer: LayerEvent | None = None
    stage: str = "import"
    stdout: str = ""
    init_events: list[LayerEvent] = field(default_factory=list)
    built: bool = False

    @property
    def ok(self) -> bool:
        """The run completed without an exception."""
        return self.error is None


# ------------------------------------------------------------------------------ frames and files


def _norm(path: str) -> str:
    return os.path.normcase(os.path.realpath(path))


def _library_dirs() -> tuple[str, ...]:
    """Directories whose files are never the user's code: stdlib, site-packages, convlint."""
    dirs = set()
    for key in ("stdlib", "platstdlib", "purelib", "platlib"):
        try:
            p = sysconfig.get_paths().get(key)
        except Exception:  # pragma: no cover - exotic interpreters
            p = None
        if p:
            dirs.add(_norm(p))
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # the convlint package
    dirs.add(_norm(here))
    for name in ("torch", "jax", "jaxlib", "flax", "numpy", "optax"):
        mod = sys.modules.get(name)
        f = getattr(mod, "__file__", None) if mod else None
        if f:
            dirs.add(_norm(os.path.dirname(f)))
    return tuple(sorted(dirs))


class _Files:
    """Decides which source files are the user's, and finds user frames."""

    def __init__(self, roots: Sequence[str]) -> None:
        self.roots = tuple(_norm(r) for r in roots)
        self.library = _library_dirs()
        self._cache: dict[str, tuple[bool, bool]] = {}

    def _classify(self, filename: str) -> tuple[bool, bool]:
        """(is library code, is under the user's roots)."""
        hit = self._cache.get(filename)
        if hit is None:
            if not filename or filename.startswith("<"):
                hit = (True, False)
            else:
                p = _norm(filename)
                lib = any(p == d or p.startswith(d + os.sep) for d in self.library)
                user = any(p.startswith(r + os.sep) for r in self.roots)
                hit = (lib and not user, user)
            self._cache[filename] = hit
        return hit

    def is_library(self, filename: str) -> bool:
        """Library (stdlib, site-packages, convlint, frameworks) or synthetic code."""
        return self._classify(filename)[0]

    def is_user(self, filename: str) -> bool:
        """A file under the user's roots, not inside a library directory."""
        lib, user = self._classify(filename)
        return user and not lib

    def user_site(self, frame) -> tuple[str | None, int | None, int | None]:
        """The innermost frame (from ``frame`` outward) in the user's files, else the innermost
        non-library frame: its (path, line, 1-based column)."""
        fallback = None
        f = frame
        while f is not None:
            name = f.f_code.co_filename
            if self.is_user(name):
                return _site_of(f)
            if fallback is None and not self.is_library(name):
                fallback = f
            f = f.f_back
        return _site_of(fallback) if fallback is not None else (None, None, None)

    def user_tb_site(self, exc: BaseException) -> tuple[str | None, int | None]:
        """The innermost traceback entry in the user's files (else non-library) of ``exc``."""
        entries = traceback.extract_tb(exc.__traceback__)
        for pick in (self.is_user, lambda n: not self.is_library(n)):
            for fs in reversed(entries):
                if pick(fs.filename):
                    return os.path.abspath(fs.filename), fs.lineno
        # A SyntaxError in the user's file carries its own location.
        if isinstance(exc, SyntaxError) and exc.filename:
            return os.path.abspath(exc.filename), exc.lineno
        return None, None


def _site_of(frame) -> tuple[str | None, int | None, int | None]:
    """Path, start line and 1-based start column of the call ``frame`` is executing."""
    line = frame.f_lineno
    column = None
    try:
        pos = list(frame.f_code.co_positions())[frame.f_lasti // 2]
        if pos[0] is not None:
            line = pos[0]
        if pos[2] is not None:
            column = pos[2] + 1
    except (AttributeError, IndexError):  # Python < 3.11 has no co_positions
        pass
    return os.path.abspath(frame.f_code.co_filename), line, column


def _error_from(exc: BaseException, files: _Files) -> TraceError:
    path, line = files.user_tb_site(exc)
    message = " ".join(s.strip() for s in str(exc).strip().splitlines() if s.strip())
    return TraceError(type(exc).__name__, message, path, line)


# ----------------------------------------------------------------------------- importing the file


def _package_root(directory: str) -> tuple[str, list[str]]:
    """Walk up from ``directory`` while it is a package; return (dir holding the top package,
    the dotted package parts)."""
    parts: list[str] = []
    d = directory
    while os.path.isfile(os.path.join(d, "__init__.py")):
        parts.insert(0, os.path.basename(d))
        parent = os.path.dirname(d)
        if parent == d:
            break
        d = parent
    return d, parts


def _relative_level(file_path: str) -> int:
    """How many packages the file's relative imports climb: 1 for ``from .x import y``, 2 for
    ``from ..x import y``; 0 without relative imports (or when the file does not parse: the
    import then reports it)."""
    import ast

    try:
        with open(file_path, "rb") as f:
            tree = ast.parse(f.read())
    except (OSError, SyntaxError, ValueError):
        return 0
    return max((n.level or 0 for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)), default=0)


_PROJECT_MARKERS = ("pyproject.toml", "setup.py", "setup.cfg", ".git")


def _bases(directory: str, root: str | None) -> list[str]:
    """Directories that may hold the top of a namespace package: the project root (given, or the
    nearest ancestor with a pyproject.toml, setup.py, setup.cfg or .git) and its ``src``."""
    out: list[str] = []
    found = []
    if root:
        found.append(os.path.abspath(root))
    d = directory
    while True:
        if any(os.path.exists(os.path.join(d, m)) for m in _PROJECT_MARKERS):
            found.append(d)
            break
        parent = os.path.dirname(d)
        if parent == d:
            break
        d = parent
    for base in found:
        for cand in (os.path.join(base, "src"), base):
            if cand not in out and os.path.isdir(cand):
                out.append(cand)
    return out


def _dotted(parts: list[str]) -> bool:
    import keyword

    return all(p.isidentifier() and not keyword.iskeyword(p) for p in parts)


def package_context(file_path: str, root: str | None = None) -> tuple[str, list[str]]:
    """Where the file's package starts and its package's dotted parts: ``(top, parts)`` such that
    the file is the module ``".".join(parts + [stem])`` when ``top`` is on ``sys.path``
    (``parts`` is empty for a file that is no package's module).

    A regular package is walked up to the first ancestor without ``__init__.py``. When the file's
    relative imports climb higher than that (namespace packages: directories without
    ``__init__.py``, as in many src layouts), the package starts at the project root (``root``,
    or the nearest ancestor with a pyproject.toml, setup.py, setup.cfg or .git), or at its
    ``src`` folder; failing those, at the ancestor the relative imports need.
    """
    file_path = os.path.abspath(file_path)
    directory = os.path.dirname(file_path)
    top, parts = _package_root(directory)
    level = _relative_level(file_path)
    if level <= len(parts):
        return top, parts
    for base in _bases(directory, root):
        rel = os.path.relpath(directory, base)
        if rel == os.pardir or rel.startswith(os.pardir + os.sep) or os.path.isabs(rel):
            continue
        comps = [] if rel == os.curdir else rel.split(os.sep)
        if len(comps) >= level and _dotted(comps):
            return base, comps
    comps = directory.split(os.sep)[-level:]
    if len(comps) == level and _dotted(comps):
        d = directory
        for _ in range(level):
            d = os.path.dirname(d)
        return d, comps
    return top, parts


def _under(path: str, roots: Sequence[str]) -> bool:
    p = _norm(path)
    return any(p == r or p.startswith(r + os.sep) for r in roots)


@contextlib.contextmanager
def _user_import_env(file_path: str, root: str | None = None) -> Iterator[tuple[str, list[str], _Files]]:
    """Put the file's package root (see :func:`package_context`) and its directory on
    ``sys.path``, the project root and its ``src`` after them; afterwards restore ``sys.path`` and
    drop (or restore) every module that was imported from the user's files.

    Yields (module name to import, roots, file classifier).
    """
    file_path = os.path.abspath(file_path)
    directory = os.path.dirname(file_path)
    top, pkg = package_context(file_path, root)
    stem = os.path.splitext(os.path.basename(file_path))[0]
    roots = [directory] if not pkg else [top]
    saved_path = list(sys.path)
    saved_modules = dict(sys.modules)
    for p in (directory, top):
        if p not in sys.path:
            sys.path.insert(0, p)
    for p in _bases(directory, root):  # absolute imports of the project's own packages
        if p not in sys.path:
            sys.path.append(p)
    if pkg:
        modname = ".".join([*pkg, stem]) if stem != "__init__" else ".".join(pkg)
        head = sys.modules.get(pkg[0])
        if head is not None and not _module_under(head, [_norm(top)]):
            del sys.modules[pkg[0]]  # another module of that name (restored afterwards)
    else:
        modname = f"_convlint_trace_{stem}"
    files = _Files(roots)
    try:
        yield modname, roots, files
    finally:
        # decide first (a namespace package's __path__ is recomputed from sys.path and its parent)
        norm_roots = [_norm(r) for r in roots]
        head = pkg[0] if pkg else modname
        changed = []
        for name, mod in list(sys.modules.items()):
            before = saved_modules.get(name)
            if before is mod:
                continue
            fname = getattr(mod, "__file__", None)
            ours = (
                name == modname
                or name == head
                or name.startswith(head + ".")
                or (fname is not None and files.is_user(fname))
                or (fname is None and _module_under(mod, norm_roots))
            )
            changed.append((name, before, ours))
        sys.path[:] = saved_path
        for name, before, ours in changed:
            if before is not None:
                sys.modules[name] = before
            elif ours:
                sys.modules.pop(name, None)
        for name, before in saved_modules.items():
            if name not in sys.modules:
                sys.modules[name] = before


def _module_under(module, roots: Sequence[str]) -> bool:
    """The module (or namespace package) comes from a file or folder under ``roots``."""
    fname = getattr(module, "__file__", None)
    if fname:
        return _under(fname, roots)
    try:
        paths = list(getattr(module, "__path__", None) or ())
    except Exception:  # noqa: BLE001 - an exotic __path__
        paths = []
    return bool(paths) and all(_under(p, roots) for p in paths)


def _import_user_module(file_path: str, modname: str):
    """Import ``file_path`` as ``modname`` (a dotted package name, or a private top-level name)."""
    file_path = os.path.abspath(file_path)
    if "." in modname:
        # Import the parents first so relative imports in the file resolve; the package's
        # __init__ may already have imported the file itself.
        parent = modname.rpartition(".")[0]
        importlib.import_module(parent)
        existing = sys.modules.get(modname)
        if existing is not None and _norm(getattr(existing, "__file__", "") or "") == _norm(file_path):
            return existing
    spec = importlib.util.spec_from_file_location(modname, file_path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot import {file_path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[modname] = module
    spec.loader.exec_module(module)
    return module


def _resolve(module, qualname: str):
    obj = module
    for part in qualname.split("."):
        obj = getattr(obj, part)
    return obj


def _is_shape(value: Any) -> bool:
    return isinstance(value, (tuple, list)) and all(
        isinstance(d, int) and not isinstance(d, bool) for d in value
    )


def _split_inputs(inputs: InputSpec) -> tuple[list[Any], dict[str, Any]]:
    if inputs is None:
        return [], {}
    if isinstance(inputs, Mapping):
        return [], dict(inputs)
    if _is_shape(inputs) and inputs and not any(isinstance(d, (tuple, list)) for d in inputs):
        return [list(inputs)], {}  # a single bare shape
    return list(inputs), {}


# ---------------------------------------------------------------------------------------- torch

_TORCH_MODULE_KINDS = (
    "_ConvNd",
    "_MaxPoolNd",
    "_AvgPoolNd",
    "_AdaptiveAvgPoolNd",
    "_AdaptiveMaxPoolNd",
    "_LPPoolNd",
    "Upsample",
    "Linear",
    "Bilinear",
    "LazyLinear",
    "Flatten",
    "Unflatten",
    "_NormBase",
    "GroupNorm",
    "LayerNorm",
    "LocalResponseNorm",
    "_ConstantPadNd",
    "_ReflectionPadNd",
    "_ReplicationPadNd",
    "ZeroPad1d",
    "ZeroPad2d",
    "ZeroPad3d",
    "CircularPad1d",
    "CircularPad2d",
    "CircularPad3d",
    "PixelShuffle",
    "PixelUnshuffle",
    "Fold",
    "Unfold",
    "RNNBase",  # LSTM/GRU/RNN: a size error there is theirs (input_size), not the caller's line
)

_TORCH_FUNCTIONS = {
    **{f"conv{n}d": "torch.nn.functional.conv{n}d".format(n=n) for n in (1, 2, 3)},
    **{f"conv_transpose{n}d": f"torch.nn.functional.conv_transpose{n}d" for n in (1, 2, 3)},
    **{f"max_pool{n}d": f"torch.nn.functional.max_pool{n}d" for n in (1, 2, 3)},
    **{f"avg_pool{n}d": f"torch.nn.functional.avg_pool{n}d" for n in (1, 2, 3)},
    **{f"adaptive_avg_pool{n}d": f"torch.nn.functional.adaptive_avg_pool{n}d" for n in (1, 2, 3)},
    **{f"adaptive_max_pool{n}d": f"torch.nn.functional.adaptive_max_pool{n}d" for n in (1, 2, 3)},
    "interpolate": "torch.nn.functional.interpolate",
    "upsample": "torch.nn.functional.upsample",
    "pad": "torch.nn.functional.pad",
    "pixel_shuffle": "torch.nn.functional.pixel_shuffle",
    "pixel_unshuffle": "torch.nn.functional.pixel_unshuffle",
    "cat": "torch.cat",
    "concat": "torch.concat",
    "concatenate": "torch.concatenate",
    "stack": "torch.stack",
}

# torch files that only forward a functional call to its kernel (their frames are skipped when
# deciding who made the call).
_TORCH_PLUMBING = (
    os.path.join("torch", "overrides.py"),
    os.path.join("torch", "nn", "functional.py"),
    os.path.join("torch", "functional.py"),
    os.path.join("torch", "_jit_internal.py"),
    os.path.join("torch", "_tensor.py"),
    os.path.join("torch", "utils", "_device.py"),
    os.path.join("torch", "utils", "_python_dispatch.py"),
    os.path.join("torch", "_compile.py"),
    os.path.join("torch", "_dynamo"),
)


def _torch_function_name(func) -> str | None:
    name = getattr(func, "__name__", None)
    if not name:
        return None
    module = getattr(func, "__module__", None) or ""
    if module and not module.startswith("torch"):
        return None
    key = name.lstrip("_")
    if key.endswith("_with_indices"):
        key = key[: -len("_with_indices")]
    return _TORCH_FUNCTIONS.get(key)


def _torch_op_name(module) -> str:
    """``torch.nn.<Class>`` of the first public torch class in the module's MRO."""
    for klass in type(module).__mro__:
        mod = getattr(klass, "__module__", "")
        if mod.startswith("torch.nn") and not klass.__name__.startswith("_"):
            return f"torch.nn.{klass.__name__}"
    return f"{type(module).__module__}.{type(module).__qualname__}"


def _first_tensor(value, torch) -> Any:
    if isinstance(value, torch.Tensor):
        return value
    if isinstance(value, (tuple, list)):
        for v in value:
            t = _first_tensor(v, torch)
            if t is not None:
                return t
    if isinstance(value, Mapping):
        for v in value.values():
            t = _first_tensor(v, torch)
            if t is not None:
                return t
    return None


def _tensor_shapes(value, torch) -> list[Shape]:
    if isinstance(value, torch.Tensor):
        return [tuple(int(d) for d in value.shape)]
    out: list[Shape] = []
    if isinstance(value, (tuple, list)):
        for v in value:
            out.extend(_tensor_shapes(v, torch))
    elif isinstance(value, Mapping):
        for v in value.values():
            out.extend(_tensor_shapes(v, torch))
    return out


def _shape(t) -> Shape | None:
    return None if t is None else tuple(int(d) for d in t.shape)


def trace_torch_model(
    file_path: str | os.PathLike,
    class_name: str,
    init_kwargs: Mapping[str, Any] | None = None,
    inputs: InputSpec = None,
    *,
    device: str = "meta",
    dtype: str = "float32",
    dtypes: Mapping[Any, str] | None = None,
    call: Mapping[str, Any] | None = None,
    root: str | os.PathLike | None = None,
) -> TraceResult:
    """Import ``class_name`` from ``file_path``, build it with ``init_kwargs`` and run its
    ``forward`` under ``torch.no_grad()`` on inputs of the given shapes.

    ``inputs`` is a list of shapes (positional arguments) or a dict parameter name → shape; an
    entry that is not a shape (a bool, a string, None) is passed as-is. Parameters and inputs
    live on ``device`` ("meta" by default: nothing is allocated; "cpu" runs the real kernels,
    for tiny inputs only). An input is a ``dtype`` tensor unless ``dtypes`` gives its own (by
    parameter name, or by position for a list: ``{"labels": "int64"}``, ``{1: "int64"}``);
    ``call`` holds keyword arguments for ``forward`` (``train=False``). ``root`` is the
    project root, where a namespace package may start (:func:`package_context`).

    Layers applied while the model is being built (a dummy forward in ``__init__`` that
    measures a flattened size) are :attr:`TraceResult.init_events`. Returns the recorded
    :class:`TraceResult`; never raises for the user's errors.
    """
    with _LOCK:
        return _trace_torch(
            os.fspath(file_path), class_name, dict(init_kwargs or {}), inputs, device, dtype, dict(dtypes or {}), dict(call or {}),
            os.fspath(root) if root is not None else None,
        )


def _trace_torch(file_path, class_name, init_kwargs, inputs, device, dtype, dtypes, call, root) -> TraceResult:
    import torch
    from torch.overrides import TorchFunctionMode

    result = TraceResult()
    torch_dir = _norm(os.path.dirname(torch.__file__))
    plumbing = tuple(_norm(os.path.join(os.path.dirname(torch_dir), p)) for p in _TORCH_PLUMBING)
    kinds = tuple(
        k for k in (getattr(torch.nn.modules, n, None) or _torch_private(torch, n) for n in _TORCH_MODULE_KINDS) if k
    )

    with _user_import_env(file_path, root) as (modname, _roots, files):
        sites: dict[int, tuple[Any, tuple]] = {}
        names: dict[int, str] = {}
        depth = [0]  # > 0 while inside a torch module (or a recorded layer)'s forward
        active: list[tuple[LayerEvent, int]] = []  # recorded layers running now (innermost last), with id(module)
        failed: list[LayerEvent | None] = [None]
        sink = [result.init_events]  # init_events while the model is built, then events
        init_modules: list[int | None] = []  # id of the module of each init event (None: a function)

        def record(event: LayerEvent, module_id: int | None) -> None:
            if sink[0] is result.init_events:
                init_modules.append(module_id)
            sink[0].append(event)

        module_init = torch.nn.Module.__init__

        def recording_init(self, *args, **kwargs):
            module_init(self, *args, **kwargs)
            if id(self) not in sites:
                sites[id(self)] = (self, _module_site(self, sys._getframe(1), files))

        def inside(module) -> bool:
            """A recorded layer, or a torch leaf module: its functional calls are its own."""
            if isinstance(module, kinds):
                return True
            return type(module).__module__.startswith("torch.") and next(module.children(), None) is None

        def pre_hook(module, args):
            if inside(module):
                depth[0] += 1
            if isinstance(module, kinds):
                path, line, column = sites.get(id(module), (None, (None, None, None)))[1]
                active.append((
                    LayerEvent(
                        op=_torch_op_name(module),
                        input=_shape(_first_tensor(args, torch)),
                        output=None,
                        path=path,
                        line=line,
                        name=names.get(id(module)),
                        column=column,
                    ),
                    id(module),
                ))

        def post_hook(module, args, output):
            if inside(module):
                depth[0] = max(0, depth[0] - 1)
            if not isinstance(module, kinds) or not active:
                return
            started, module_id = active.pop()
            failed[0] = None
            record(replace(started, output=_shape(_first_tensor(output, torch))), module_id)

        def made_by_torch(frame) -> bool:
            """The innermost frame outside torch's call plumbing is torch's own code."""
            f = frame
            while f is not None:
                p = _norm(f.f_code.co_filename)
                if p.startswith(plumbing) or p == _norm(__file__):
                    f = f.f_back
                    continue
                return p.startswith(torch_dir + os.sep)
            return False

        class Recorder(TorchFunctionMode):
            def __torch_function__(self, func, types, args=(), kwargs=None):
                kwargs = kwargs or {}
                op = _torch_function_name(func)
                if op is None or depth[0] > 0:
                    return func(*args, **kwargs)
                caller = sys._getframe(1)
                if made_by_torch(caller):
                    return func(*args, **kwargs)
                first = args[0] if args else next(iter(kwargs.values()), None)
                operands: tuple = ()
                if op in ("torch.cat", "torch.concat", "torch.concatenate", "torch.stack"):
                    operands = tuple(_tensor_shapes(first, torch))
                path, line, column = files.user_site(caller)
                event = LayerEvent(
                    op=op,
                    input=_shape(_first_tensor(first, torch)),
                    output=None,
                    path=path,
                    line=line,
                    column=column,
                    operands=operands,
                )
                try:
                    out = func(*args, **kwargs)
                except Exception:
                    failed[0] = event
                    raise
                failed[0] = None
                record(replace(event, output=_shape(_first_tensor(out, torch))), None)
                return out

        handles = []
        try:
            torch.nn.Module.__init__ = recording_init
            module = _import_user_module(file_path, modname)
            result.stage = "init"
            cls = _resolve(module, class_name)
            handles.append(torch.nn.modules.module.register_module_forward_pre_hook(pre_hook))
            handles.append(torch.nn.modules.module.register_module_forward_hook(post_hook))
            with torch.device(device), Recorder():
                model = cls(**init_kwargs)
            result.built = True
            torch.nn.Module.__init__ = module_init
            if isinstance(model, torch.nn.Module):
                model.eval()
                for qual, sub in model.named_modules():
                    names.setdefault(id(sub), qual)
            # the layers a dummy forward in __init__ applied get their names now
            result.init_events[:] = [
                replace(e, name=names.get(m)) if m is not None and e.name is None else e for e, m in zip(result.init_events, init_modules)
            ]
            active.clear()  # a failure the constructor caught leaves nothing behind
            depth[0] = 0
            failed[0] = None
            sink[0] = result.events
            result.stage = "forward"
            args, kwargs = _split_inputs(inputs)
            args = [_torch_input(torch, v, device, _dtype_of(dtypes, dtype, index=i)) for i, v in enumerate(args)]
            kwargs = {k: _torch_input(torch, v, device, _dtype_of(dtypes, dtype, name=k)) for k, v in kwargs.items()}
            with torch.no_grad(), torch.device(device), Recorder():
                out = model(*args, **{**kwargs, **call})
            result.output_shapes = _tensor_shapes(out, torch)
            result.stage = "done"
        except Exception as exc:  # noqa: BLE001 - the user's error is the result
            result.error = _error_from(exc, files)
            result.failed_layer = active[-1][0] if active else failed[0]
        finally:
            torch.nn.Module.__init__ = module_init
            for h in handles:
                h.remove()
            sites.clear()
    return result


def _dtype_of(dtypes: Mapping[Any, str], default: str, *, index: int | None = None, name: str | None = None) -> str:
    """The declared dtype of an input (by parameter name, or by position), else ``default``."""
    if name is not None and name in dtypes:
        return dtypes[name]
    if index is not None:
        for key in (index, str(index)):
            if key in dtypes:
                return dtypes[key]
    return default


def _torch_input(torch, value, device: str, dtype: str):
    """A tensor of the declared shape and dtype (meta: no data; elsewhere zeros, which are valid
    class indices), or the value itself when it is not a shape."""
    if not _is_shape(value):
        return value
    make = torch.empty if device == "meta" else torch.zeros
    return make(tuple(value), device=device, dtype=getattr(torch, dtype))


def _torch_private(torch, name: str):
    """Find a private base class (``_ConvNd``) in torch.nn.modules' submodules."""
    for sub in ("conv", "pooling", "batchnorm", "padding", "instancenorm"):
        mod = getattr(torch.nn.modules, sub, None)
        if mod is not None and hasattr(mod, name):
            return getattr(mod, name)
    return None


def _module_site(module, frame, files: _Files) -> tuple:
    """Where ``module`` was constructed: the frame that called its class (skipping the
    ``__init__`` chain of the module itself), then outward to the first non-library frame."""
    f = frame
    while f is not None and f.f_code.co_name == "__init__" and f.f_locals.get("self") is module:
        f = f.f_back
    g = f
    while g is not None and files.is_library(g.f_code.co_filename):
        g = g.f_back
    if g is None:
        return (None, None, None)
    if not files.is_user(g.f_code.co_filename):
        # Not in the user's roots (a helper elsewhere): still better than nothing, but prefer a
        # user frame further out if there is one.
        path, line, col = files.user_site(g)
        if path is not None:
            return (path, line, col)
    return _site_of(g)


# ------------------------------------------------------------------------------------- flax/jax

# (module to patch, attribute, op name, index of the array whose shape is ``input``)
_JAX_FUNCTIONS = (
    ("jax.lax", "conv_general_dilated", "jax.lax.conv_general_dilated"),
    ("jax.lax", "conv", "jax.lax.conv"),
    ("jax.lax", "conv_with_general_padding", "jax.lax.conv_with_general_padding"),
    ("jax.lax", "conv_transpose", "jax.lax.conv_transpose"),
    ("jax.lax", "reduce_window", "jax.lax.reduce_window"),
    ("jax.image", "resize", "jax.image.resize"),
    ("jax.numpy", "concatenate", "jax.numpy.concatenate"),
    ("jax.numpy", "stack", "jax.numpy.stack"),
    ("jax.numpy", "pad", "jax.numpy.pad"),
    ("flax.linen", "avg_pool", "flax.linen.avg_pool"),
    ("flax.linen", "max_pool", "flax.linen.max_pool"),
    ("flax.linen", "min_pool", "flax.linen.min_pool"),
    ("flax.linen", "pool", "flax.linen.pool"),
    ("flax.linen.pooling", "avg_pool", "flax.linen.avg_pool"),
    ("flax.linen.pooling", "max_pool", "flax.linen.max_pool"),
    ("flax.linen.pooling", "min_pool", "flax.linen.min_pool"),
    ("flax.linen.pooling", "pool", "flax.linen.pool"),
)

_MERGES = ("jax.numpy.concatenate", "jax.numpy.stack")

_FLAX_RECORDED = (
    "Conv",
    "ConvTranspose",
    "ConvLocal",
    "Dense",
    "DenseGeneral",
    "BatchNorm",
    "LayerNorm",
    "GroupNorm",
    "RMSNorm",
    "InstanceNorm",
)


def _array_shapes(value) -> list[Shape]:
    import jax

    out = []
    for leaf in jax.tree_util.tree_leaves(value):
        shape = getattr(leaf, "shape", None)
        if shape is not None:
            out.append(tuple(int(d) for d in shape))
    return out


def _first_array_shape(value) -> Shape | None:
    shapes = _array_shapes(value)
    return shapes[0] if shapes else None


class _JaxRecorder:
    """Wraps the functional callables and intercepts flax module calls; records events."""

    def __init__(self, files: _Files) -> None:
        self.files = files
        self.events: list[LayerEvent] = []
        self.recording = True
        self.depth = 0  # > 0 inside a flax library module or a wrapped function
        self.failed: LayerEvent | None = None  # the recorded layer whose call raised last
        self.sites: dict[int, tuple[Any, tuple]] = {}
        self._patched: list[tuple[Any, str, Any]] = []

    # -- functional wrappers
    def _wrap(self, fn: Callable, op: str) -> Callable:
        recorder = self

        def wrapper(*args, **kwargs):
            if recorder.depth > 0:
                return fn(*args, **kwargs)
            first = args[0] if args else next(iter(kwargs.values()), None)
            operands = tuple(_array_shapes(first)) if op in _MERGES else ()
            path, line, column = recorder.files.user_site(sys._getframe(1))
            event = LayerEvent(
                op=op,
                input=_first_array_shape(first),
                output=None,
                path=path,
                line=line,
                column=column,
                operands=operands,
            )
            recorder.depth += 1
            try:
                out = fn(*args, **kwargs)
            except Exception:
                recorder.failed = event
                raise
            finally:
                recorder.depth -= 1
            recorder.failed = None
            if recorder.recording:
                recorder.events.append(replace(event, output=_first_array_shape(out)))
            return out

        wrapper.__wrapped__ = fn  # type: ignore[attr-defined]
        wrapper.__name__ = getattr(fn, "__name__", "wrapper")
        wrapper.__doc__ = getattr(fn, "__doc__", None)
        return wrapper

    def patch(self) -> None:
        """Install the wrappers (undo with :meth:`unpatch`)."""
        wrapped: dict[int, Callable] = {}
        for modname, attr, op in _JAX_FUNCTIONS:
            try:
                mod = importlib.import_module(modname)
            except ImportError:
                continue
            fn = getattr(mod, attr, None)
            if fn is None:
                continue
            w = wrapped.get(id(fn))
            if w is None:
                w = wrapped[id(fn)] = self._wrap(fn, op)
            self._patched.append((mod, attr, fn))
            setattr(mod, attr, w)

    def unpatch(self) -> None:
        """Restore every patched attribute."""
        while self._patched:
            mod, attr, fn = self._patched.pop()
            setattr(mod, attr, fn)

    # -- flax
    def interceptor(self, next_fun, args, kwargs, context):
        """A :func:`flax.linen.intercept_methods` interceptor."""
        module = context.module
        op = _flax_op_name(module)
        if op is None and not type(module).__module__.startswith("flax."):
            return next_fun(*args, **kwargs)
        if context.method_name != "__call__":
            self.depth += 1
            try:
                return next_fun(*args, **kwargs)
            finally:
                self.depth -= 1
        outer = self.depth == 0
        event = None
        if outer and op is not None:
            site = self.sites.get(id(module), (None, (None, None, None)))[1]
            if site[0] is None:
                site = self.files.user_site(sys._getframe(1))
            try:
                name = ".".join(str(p) for p in module.path) or None
            except Exception:  # noqa: BLE001 - an unbound module has no path
                name = getattr(module, "name", None)
            first = args[0] if args else next(iter(kwargs.values()), None)
            event = LayerEvent(
                op=op,
                input=_first_array_shape(first),
                output=None,
                path=site[0],
                line=site[1],
                column=site[2],
                name=name,
            )
        self.depth += 1
        try:
            out = next_fun(*args, **kwargs)
        except Exception:
            if event is not None:
                self.failed = event
            raise
        finally:
            self.depth -= 1
        if event is not None:
            self.failed = None
            if self.recording:
                self.events.append(replace(event, output=_first_array_shape(out)))
        return out


def _flax_op_name(module) -> str | None:
    for klass in type(module).__mro__:
        if klass.__module__.startswith("flax.linen") and klass.__name__ in _FLAX_RECORDED:
            return f"flax.linen.{klass.__name__}"
    return None


@contextlib.contextmanager
def _jax_recording(files: _Files) -> Iterator[_JaxRecorder]:
    """Wrap the functions, intercept flax modules and record their construction sites."""
    rec = _JaxRecorder(files)
    stack = contextlib.ExitStack()
    post_init = None
    flax_module = None
    try:
        rec.patch()
        try:
            import flax.linen as nn
        except ImportError:
            nn = None
        if nn is not None:
            flax_module = nn.Module
            post_init = flax_module.__post_init__

            def recording_post_init(self):
                post_init(self)
                if id(self) not in rec.sites:
                    rec.sites[id(self)] = (self, files.user_site(sys._getframe(1)))

            flax_module.__post_init__ = recording_post_init
            stack.enter_context(nn.intercept_methods(rec.interceptor))
        yield rec
    finally:
        stack.close()
        if flax_module is not None:
            flax_module.__post_init__ = post_init
        rec.unpatch()
        rec.sites.clear()


def _abstract_inputs(inputs: InputSpec, dtype: str, dtypes: Mapping[Any, str] | None = None):
    """Split the spec into (array args pytree, builder of the real call arguments): shapes become
    ``ShapeDtypeStruct`` of ``dtype`` or of their own declared dtype (``dtypes``, by parameter
    name or position; int64 is int32 unless jax runs with x64)."""
    import jax
    import jax.numpy as jnp

    args, kwargs = _split_inputs(inputs)
    dtypes = dtypes or {}

    def convert(v, dt):
        if _is_shape(v):
            return jax.ShapeDtypeStruct(tuple(v), jax.dtypes.canonicalize_dtype(jnp.dtype(dt)))
        if isinstance(v, str) and v == "rng":
            return jax.random.PRNGKey(0)
        return v

    return (
        [convert(v, _dtype_of(dtypes, dtype, index=i)) for i, v in enumerate(args)],
        {k: convert(v, _dtype_of(dtypes, dtype, name=k)) for k, v in kwargs.items()},
    )


def _split_static(values: list, kw: dict):
    """Separate the ShapeDtypeStruct entries (traced) from the rest (closed over)."""
    import jax

    dyn_pos = {i: v for i, v in enumerate(values) if isinstance(v, jax.ShapeDtypeStruct)}
    dyn_kw = {k: v for k, v in kw.items() if isinstance(v, jax.ShapeDtypeStruct)}

    def rebuild(dyn):
        pos, kws = dyn
        a = [pos.get(i, v) for i, v in enumerate(values)]
        k = {name: kws.get(name, v) for name, v in kw.items()}
        return a, k

    return (dyn_pos, dyn_kw), rebuild


def trace_flax_model(
    file_path: str | os.PathLike,
    class_name: str,
    init_kwargs: Mapping[str, Any] | None = None,
    inputs: InputSpec = None,
    *,
    method: str | None = None,
    dtype: str = "float32",
    dtypes: Mapping[Any, str] | None = None,
    call: Mapping[str, Any] | None = None,
    root: str | os.PathLike | None = None,
) -> TraceResult:
    """Import the flax ``class_name`` from ``file_path``, build it with ``init_kwargs``, and run
    ``jax.eval_shape`` of ``model.init`` then of ``model.apply`` on inputs of the given shapes.

    ``inputs`` is a list of shapes or a dict parameter name → shape; the string ``"rng"`` gives a
    PRNG key (a VAE's ``z_rng``), other non-shape entries (``train=False``) are passed as-is.
    Events are those of ``apply`` (``init`` runs the same code; its events are kept only when
    ``init`` itself fails, and then ``stage`` is "init"). ``mutable=True`` is
    used so that ``BatchNorm`` in training mode works. ``method`` names a method other than
    ``__call__``. ``dtypes``, ``call`` and ``root`` are as for :func:`trace_torch_model`
    (``call`` goes to ``init`` and ``apply``).
    """
    with _LOCK:
        return _trace_flax(
            os.fspath(file_path), class_name, dict(init_kwargs or {}), inputs, method, dtype, dict(dtypes or {}), dict(call or {}),
            os.fspath(root) if root is not None else None,
        )


def _trace_flax(file_path, class_name, init_kwargs, inputs, method, dtype, dtypes, call, root) -> TraceResult:
    import jax

    result = TraceResult()
    with _user_import_env(file_path, root) as (modname, _roots, files), _jax_recording(files) as rec:
        try:
            rec.recording = False
            module = _import_user_module(file_path, modname)
            result.stage = "init"
            cls = _resolve(module, class_name)
            model = cls(**init_kwargs)
            result.built = True
            args, kwargs = _abstract_inputs(inputs, dtype, dtypes)
            kwargs = {**kwargs, **call}
            dyn, rebuild = _split_static(args, kwargs)
            key = jax.random.PRNGKey(0)
            rngs = {"params": key, "dropout": jax.random.PRNGKey(1)}
            extra = {"method": method} if method else {}

            def init(d):
                a, k = rebuild(d)
                return model.init(rngs, *a, **k, **extra)

            rec.recording = True  # kept only if init fails: apply records the same layers
            variables = jax.eval_shape(init, dyn)
            result.stage = "forward"
            rec.events.clear()

            def apply(v, d):
                a, k = rebuild(d)
                out, _state = model.apply(v, *a, **k, rngs={"dropout": key}, mutable=True, **extra)
                return out

            out = jax.eval_shape(apply, variables, dyn)
            result.output_shapes = _array_shapes(out)
            result.stage = "done"
        except Exception as exc:  # noqa: BLE001 - the user's error is the result
            result.error = _error_from(exc, files)
            result.failed_layer = rec.failed
        result.events = rec.events
    return result


def trace_jax_script(
    file_path: str | os.PathLike,
    function_name: str | None = None,
    inputs: InputSpec = None,
    *,
    abstract: bool = True,
    dtype: str = "float32",
    dtypes: Mapping[Any, str] | None = None,
    call: Mapping[str, Any] | None = None,
    root: str | os.PathLike | None = None,
) -> TraceResult:
    """Run a plain JAX script and record its ``lax`` / ``jax.image`` / ``jnp.concatenate`` calls.

    With ``function_name``, the module is imported (its top-level code runs, unrecorded) and that
    function is evaluated with ``jax.eval_shape`` on ``inputs`` (shapes, as for
    :func:`trace_flax_model`). Without it, the module's top-level code is the model: it runs,
    recorded, inside ``jax.eval_shape`` when ``abstract`` is true, so ``jnp.ones((32, 256, 64,
    64))`` allocates nothing (it becomes a tracer); code that needs concrete values
    (``float(x)``, ``np.asarray``) then fails and must be run with ``abstract=False``.
    ``output_shapes`` holds, for a function, its outputs; for a script, nothing. What the script
    printed is in :attr:`TraceResult.stdout`. ``dtypes``, ``call`` and ``root`` are as for
    :func:`trace_torch_model`.
    """
    with _LOCK:
        return _trace_jax_script(
            os.fspath(file_path), function_name, inputs, abstract, dtype, dict(dtypes or {}), dict(call or {}),
            os.fspath(root) if root is not None else None,
        )


def _trace_jax_script(file_path, function_name, inputs, abstract, dtype, dtypes, call, root) -> TraceResult:
    import jax

    result = TraceResult()
    buffer = io.StringIO()
    with _user_import_env(file_path, root) as (modname, _roots, files), _jax_recording(files) as rec:
        try:
            with contextlib.redirect_stdout(buffer):
                if function_name is None:
                    result.stage = "forward"
                    result.built = True

                    def run_script():
                        if "." in modname:  # a package's module: its relative imports resolve
                            importlib.import_module(modname.rpartition(".")[0])
                            runpy.run_module(modname, run_name=modname)
                        else:
                            runpy.run_path(file_path, run_name=modname)
                        return ()

                    if abstract:
                        jax.eval_shape(run_script)
                    else:
                        run_script()
                else:
                    rec.recording = False
                    module = _import_user_module(file_path, modname)
                    result.stage = "init"
                    fn = _resolve(module, function_name)
                    result.built = True
                    args, kwargs = _abstract_inputs(inputs, dtype, dtypes)
                    dyn, rebuild = _split_static(args, kwargs)

                    def run(d):
                        a, k = rebuild(d)
                        return fn(*a, **k, **call)

                    result.stage = "forward"
                    rec.recording = True
                    if abstract:
                        out = jax.eval_shape(run, dyn)
                    else:
                        out = run(jax.tree_util.tree_map(lambda s: jax.numpy.zeros(s.shape, s.dtype), dyn))
                    result.output_shapes = _array_shapes(out)
            result.stage = "done"
        except Exception as exc:  # noqa: BLE001 - the user's error is the result
            result.error = _error_from(exc, files)
            result.failed_layer = rec.failed
        result.events = rec.events
        result.stdout = buffer.getvalue()
    return result
