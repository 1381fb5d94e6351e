"""Record the runtime shapes of every conv-family layer of each manifest model.

    python benchmarks/eval/record.py [--repos /work/repos] [ID ...] [--repo NAME] [--timeout 300]

For each entry of ``manifest.toml`` the entry script is written to
``<checkout>/<entry_dir>/_convlint_eval_entry.py`` (removed afterwards) and run as ``__main__`` in
a child process (cwd = the checkout, sys.path[0] = the script's folder, CPU, tiny sizes) while
every conv-family layer is recorded:

* torch: construction sites via a patched ``nn.Module.__init__``; conv/pool/upsample modules via
  global forward pre/post hooks; ``F.conv*``/``F.*pool*``/``F.interpolate`` via a
  ``TorchFunctionMode`` (a functional call made inside a recorded module or by torch itself is
  not recorded again);
* flax/jax: ``flax.linen.intercept_methods`` for ``Conv``/``ConvTranspose``/``ConvLocal`` (and
  sites via ``Module.__post_init__``), and wrappers around ``lax.conv*``, ``lax.reduce_window``,
  ``jax.image.resize`` and flax's pooling functions (calls made inside a flax library module or a
  wrapped function are not recorded again).

This mirrors ``convlint/confirm/trace.py`` but runs a whole script instead of one class, and keeps
only the conv family. The fixture ``runtime/<id>.json`` holds the repository, the commit, the
entry script's hash and the layers in execution order: path (relative to the checkout), line,
column, op, name, input and output shape. No source text.
"""

from __future__ import annotations

import argparse
import json
import os
import runpy
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import (  # noqa: E402
    DEFAULT_REPOS,
    RUNTIME_DIR,
    Entry,
    check_checkout,
    is_conv_family,
    load_manifest,
    placed,
    select,
)


# ------------------------------------------------------------------------------------- the child


class Sites:
    """Which files are the repository's, and where a frame's call is."""

    def __init__(self, root: str) -> None:
        import sysconfig

        self.root = os.path.realpath(root)
        lib = set()
        for key in ("stdlib", "platstdlib", "purelib", "platlib"):
            p = sysconfig.get_paths().get(key)
            if p:
                lib.add(os.path.realpath(p))
        lib.add(os.path.realpath(os.path.dirname(os.path.abspath(__file__))))
        self.lib = tuple(lib)
        self._cache: dict[str, bool] = {}

    def is_user(self, filename: str) -> bool:
        hit = self._cache.get(filename)
        if hit is None:
            if not filename or filename.startswith("<"):
                hit = False
            else:
                p = os.path.realpath(filename)
                hit = p.startswith(self.root + os.sep) and not any(p.startswith(d + os.sep) for d in self.lib)
            self._cache[filename] = hit
        return hit

    def rel(self, filename: str) -> str:
        return os.path.relpath(os.path.realpath(filename), self.root)

    def site(self, frame, skip_init_of=None):
        """(path relative to the checkout, line, 1-based column) of the innermost user frame."""
        f = frame
        if skip_init_of is not None:
            while f is not None and f.f_code.co_name == "__init__" and f.f_locals.get("self") is skip_init_of:
                f = f.f_back
        while f is not None:
            if self.is_user(f.f_code.co_filename):
                line, col = f.f_lineno, None
                try:
                    pos = list(f.f_code.co_positions())[f.f_lasti // 2]
                    if pos[0] is not None:
                        line = pos[0]
                    if pos[2] is not None:
                        col = pos[2] + 1
                except (AttributeError, IndexError):
                    pass
                return self.rel(f.f_code.co_filename), line, col
            f = f.f_back
        return None, None, None


def _shape(x):
    s = getattr(x, "shape", None)
    if s is None:
        return None
    try:
        return [int(d) for d in s]
    except TypeError:
        return None


def _first(value):
    """First array/tensor in a (nested) argument."""
    if hasattr(value, "shape") and hasattr(value, "dtype"):
        return value
    if isinstance(value, (list, tuple)):
        for v in value:
            t = _first(v)
            if t is not None:
                return t
    if isinstance(value, dict):
        for v in value.values():
            t = _first(v)
            if t is not None:
                return t
    return None


def _leaf_shapes(value, depth=0) -> list:
    """Shapes of every array/tensor in the entry script's ``out`` (nested containers)."""
    if depth > 6:
        return []
    if hasattr(value, "shape") and hasattr(value, "dtype"):
        s = _shape(value)
        return [s] if s is not None else []
    items = ()
    if isinstance(value, dict):
        items = value.values()
    elif isinstance(value, (list, tuple)):
        items = value
    out = []
    for v in items:
        out.extend(_leaf_shapes(v, depth + 1))
    return out


class Recorder:
    def __init__(self, sites: Sites) -> None:
        self.sites = sites
        self.events: list[dict] = []
        self.depth = 0
        self.module_sites: dict[int, tuple] = {}
        self.module_ids: dict[int, int] = {}  # event index -> id(module), to name torch modules later
        self.undo: list = []

    def add(self, op, site, inp, out, name=None, module=None):
        self.events.append(
            {
                "path": site[0],
                "line": site[1],
                "column": site[2],
                "op": op,
                "name": name,
                "input": inp,
                "output": out,
            }
        )
        if module is not None:
            self.module_ids[len(self.events) - 1] = id(module)

    # ---------------------------------------------------------------------------------- torch
    def install_torch(self) -> None:
        import torch
        from torch.overrides import TorchFunctionMode

        rec = self
        torch_dir = os.path.realpath(os.path.dirname(torch.__file__))
        kinds = []
        for sub, names in (
            ("conv", ("_ConvNd",)),
            ("pooling", ("_MaxPoolNd", "_AvgPoolNd", "_AdaptiveAvgPoolNd", "_AdaptiveMaxPoolNd", "_LPPoolNd",
                         "_MaxUnpoolNd", "FractionalMaxPool2d", "FractionalMaxPool3d")),
            ("upsampling", ("Upsample",)),
        ):
            mod = getattr(torch.nn.modules, sub)
            kinds.extend(getattr(mod, n) for n in names if hasattr(mod, n))
        kinds = tuple(kinds)

        def op_name(module) -> str:
            for klass in type(module).__mro__:
                if klass.__module__.startswith("torch.nn") and not klass.__name__.startswith("_"):
                    return f"torch.nn.{klass.__name__}"
            return f"{type(module).__module__}.{type(module).__qualname__}"

        orig_init = torch.nn.Module.__init__

        def recording_init(self, *args, **kwargs):
            orig_init(self, *args, **kwargs)
            if isinstance(self, kinds) and id(self) not in rec.module_sites:
                rec.module_sites[id(self)] = (self, rec.sites.site(sys._getframe(1), skip_init_of=self))

        torch.nn.Module.__init__ = recording_init
        self.undo.append(lambda: setattr(torch.nn.Module, "__init__", orig_init))

        active: list = []

        def pre_hook(module, args):
            if isinstance(module, kinds):
                rec.depth += 1
                active.append((module, _shape(_first(args))))

        def post_hook(module, args, output):
            if isinstance(module, kinds) and active and active[-1][0] is module:
                rec.depth -= 1
                _, inp = active.pop()
                site = rec.module_sites.get(id(module), (None, (None, None, None)))[1]
                rec.add(op_name(module), site, inp, _shape(_first(output)), module=module)

        h1 = torch.nn.modules.module.register_module_forward_pre_hook(pre_hook)
        h2 = torch.nn.modules.module.register_module_forward_hook(post_hook)
        self.undo.append(h1.remove)
        self.undo.append(h2.remove)

        functions = {}
        for n in (1, 2, 3):
            for base in ("conv", "conv_transpose", "max_pool", "avg_pool", "adaptive_avg_pool",
                         "adaptive_max_pool", "lp_pool", "fractional_max_pool", "max_unpool"):
                functions[f"{base}{n}d"] = f"torch.nn.functional.{base}{n}d"
        for n in ("interpolate", "upsample", "upsample_nearest", "upsample_bilinear"):
            functions[n] = f"torch.nn.functional.{n}"

        plumbing = tuple(
            os.path.join(torch_dir, p)
            for p in ("overrides.py", os.path.join("nn", "functional.py"), "functional.py", "_jit_internal.py",
                      "_tensor.py", os.path.join("utils", "_device.py"), os.path.join("utils", "_python_dispatch.py"),
                      "_compile.py", "_dynamo", "_ops.py")
        )
        here = os.path.realpath(__file__)

        def made_by_torch(frame) -> bool:
            f = frame
            while f is not None:
                p = os.path.realpath(f.f_code.co_filename)
                if p.startswith(plumbing) or p == here:
                    f = f.f_back
                    continue
                return p.startswith(torch_dir + os.sep)
            return False

        class Mode(TorchFunctionMode):
            def __torch_function__(self, func, types, args=(), kwargs=None):
                kwargs = kwargs or {}
                name = getattr(func, "__name__", "") or ""
                key = name.lstrip("_")
                if key.endswith("_with_indices"):
                    key = key[: -len("_with_indices")]
                op = functions.get(key)
                if op is None or rec.depth > 0 or not (getattr(func, "__module__", "") or "torch").startswith("torch"):
                    return func(*args, **kwargs)
                caller = sys._getframe(1)
                if made_by_torch(caller):
                    return func(*args, **kwargs)
                first = args[0] if args else next(iter(kwargs.values()), None)
                site = rec.sites.site(caller)
                rec.depth += 1
                try:
                    out = func(*args, **kwargs)
                finally:
                    rec.depth -= 1
                rec.add(op, site, _shape(_first(first)), _shape(_first(out)))
                return out

        mode = Mode()
        mode.__enter__()
        self.undo.append(lambda: mode.__exit__(None, None, None))
        grad = torch.no_grad()
        grad.__enter__()
        self.undo.append(lambda: grad.__exit__(None, None, None))

    def name_torch_modules(self, namespace: dict) -> None:
        import torch

        names: dict[int, str] = {}
        roots = [v for v in namespace.values() if isinstance(v, torch.nn.Module)]
        roots.sort(key=lambda m: -sum(1 for _ in m.modules()))
        for root in roots:
            for qual, sub in root.named_modules():
                names.setdefault(id(sub), qual)
        for i, mid in self.module_ids.items():
            if mid in names:
                self.events[i]["name"] = names[mid]

    # ------------------------------------------------------------------------------------ jax
    def install_jax(self) -> None:
        import importlib

        rec = self
        funcs = (
            ("jax.lax", "conv_general_dilated"),
            ("jax.lax", "conv"),
            ("jax.lax", "conv_with_general_padding"),
            ("jax.lax", "conv_transpose"),
            ("jax.lax", "reduce_window"),
            ("jax.image", "resize"),
            ("jax.image", "scale_and_translate"),
            ("flax.linen", "avg_pool"),
            ("flax.linen", "max_pool"),
            ("flax.linen", "min_pool"),
            ("flax.linen", "pool"),
            ("flax.linen.pooling", "avg_pool"),
            ("flax.linen.pooling", "max_pool"),
            ("flax.linen.pooling", "min_pool"),
            ("flax.linen.pooling", "pool"),
        )
        wrapped: dict[int, object] = {}

        def wrap(fn, op):
            def wrapper(*args, **kwargs):
                if rec.depth > 0:
                    return fn(*args, **kwargs)
                first = args[0] if args else next(iter(kwargs.values()), None)
                site = rec.sites.site(sys._getframe(1))
                rec.depth += 1
                try:
                    out = fn(*args, **kwargs)
                finally:
                    rec.depth -= 1
                rec.add(op, site, _shape(_first(first)), _shape(_first(out)))
                return out

            wrapper.__wrapped__ = fn
            wrapper.__name__ = getattr(fn, "__name__", "wrapper")
            wrapper.__doc__ = getattr(fn, "__doc__", None)
            return wrapper

        for modname, attr in funcs:
            try:
                mod = importlib.import_module(modname)
            except ImportError:
                continue
            fn = getattr(mod, attr, None)
            if fn is None:
                continue
            op = f"{'flax.linen' if modname.startswith('flax') else modname}.{attr}"
            w = wrapped.get(id(fn)) or wrap(fn, op)
            wrapped[id(fn)] = w
            setattr(mod, attr, w)
            self.undo.append(lambda mod=mod, attr=attr, fn=fn: setattr(mod, attr, fn))

        try:
            from flax import nnx
        except ImportError:
            nnx = None
        if nnx is not None:
            for attr in ("avg_pool", "max_pool", "min_pool", "pool"):
                fn = getattr(nnx, attr, None)
                if fn is not None:
                    w = wrapped.get(id(fn)) or wrap(fn, f"flax.linen.{attr}")
                    setattr(nnx, attr, w)
                    self.undo.append(lambda attr=attr, fn=fn: setattr(nnx, attr, fn))
            for cname in ("Conv", "ConvTranspose", "ConvLocal"):
                klass = getattr(nnx, cname, None)
                if klass is not None:
                    self._patch_nnx(klass, f"flax.nnx.{cname}")
        try:
            import flax.linen as nn
        except ImportError:
            return
        recorded = ("Conv", "ConvTranspose", "ConvLocal")

        def flax_op(module):
            for klass in type(module).__mro__:
                if klass.__module__.startswith("flax.linen") and klass.__name__ in recorded:
                    return f"flax.linen.{klass.__name__}"
            return None

        post_init = nn.Module.__post_init__

        def recording_post_init(self):
            post_init(self)
            if flax_op(self) and id(self) not in rec.module_sites:
                rec.module_sites[id(self)] = (self, rec.sites.site(sys._getframe(1)))

        nn.Module.__post_init__ = recording_post_init
        self.undo.append(lambda: setattr(nn.Module, "__post_init__", post_init))

        def interceptor(next_fun, args, kwargs, context):
            module = context.module
            op = flax_op(module)
            library = type(module).__module__.startswith("flax.")
            if op is None and not library:
                return next_fun(*args, **kwargs)
            if context.method_name != "__call__" or op is None or rec.depth > 0:
                rec.depth += 1
                try:
                    return next_fun(*args, **kwargs)
                finally:
                    rec.depth -= 1
            site = rec.module_sites.get(id(module), (None, (None, None, None)))[1]
            if site[0] is None:
                site = rec.sites.site(sys._getframe(1))
            try:
                name = ".".join(str(p) for p in module.path) or None
            except Exception:  # noqa: BLE001 - an unbound module has no path
                name = getattr(module, "name", None)
            first = args[0] if args else next(iter(kwargs.values()), None)
            inp = _shape(_first(first))
            rec.depth += 1
            try:
                out = next_fun(*args, **kwargs)
            finally:
                rec.depth -= 1
            rec.add(op, site, inp, _shape(_first(out)), name=name)
            return out

        ctx = nn.intercept_methods(interceptor)
        ctx.__enter__()
        self.undo.append(lambda: ctx.__exit__(None, None, None))

    def _patch_nnx(self, klass, op: str) -> None:
        rec = self
        orig_init, orig_call = klass.__init__, klass.__call__

        def init(module, *args, **kwargs):
            orig_init(module, *args, **kwargs)
            if id(module) not in rec.module_sites:
                rec.module_sites[id(module)] = (module, rec.sites.site(sys._getframe(1), skip_init_of=module))

        def call(module, *args, **kwargs):
            if rec.depth > 0:
                return orig_call(module, *args, **kwargs)
            site = rec.module_sites.get(id(module), (None, (None, None, None)))[1]
            first = args[0] if args else next(iter(kwargs.values()), None)
            inp = _shape(_first(first))
            rec.depth += 1
            try:
                out = orig_call(module, *args, **kwargs)
            finally:
                rec.depth -= 1
            rec.add(op, site, inp, _shape(_first(out)))
            return out

        klass.__init__, klass.__call__ = init, call
        self.undo.append(lambda: (setattr(klass, "__init__", orig_init), setattr(klass, "__call__", orig_call)))

    def uninstall(self) -> None:
        while self.undo:
            try:
                self.undo.pop()()
            except Exception:  # noqa: BLE001 - undo as much as possible
                pass


class _StubMeta(type):
    def __getattr__(cls, attr):
        if attr.startswith("__"):
            raise AttributeError(attr)
        return _stub_class(f"{cls.__name__}.{attr}")

    def __add__(cls, other):
        return cls

    __radd__ = __or__ = __ror__ = __add__

    def __iter__(cls):
        return iter(())


class _Stub(metaclass=_StubMeta):
    """Stands for anything of a stubbed import-only dependency; used as a decorator, it is a no-op."""

    def __new__(cls, *args, **kwargs):
        if len(args) == 1 and not kwargs and callable(args[0]) and not isinstance(args[0], type):
            return args[0]
        return super().__new__(cls)

    def __init__(self, *args, **kwargs):
        pass

    def __call__(self, *args, **kwargs):
        if len(args) == 1 and not kwargs and callable(args[0]):
            return args[0]
        return _Stub()

    def __getattr__(self, attr):
        if attr.startswith("__"):
            raise AttributeError(attr)
        return _Stub()


def _stub_class(name: str):
    return _StubMeta(name, (_Stub,), {})


def install_stubs(prefixes: list[str]) -> None:
    """Import-only dependencies that cannot be installed here (torchvision, tensorflow, ...):
    every module under these names imports as an empty module whose attributes are dummies."""
    import importlib.abc
    import importlib.machinery
    import types

    class StubModule(types.ModuleType):
        def __getattr__(self, attr):
            if attr.startswith("__"):
                raise AttributeError(attr)
            value = _stub_class(attr)
            setattr(self, attr, value)
            return value

    class Finder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
        def find_spec(self, fullname, path=None, target=None):
            if any(fullname == p or fullname.startswith(p + ".") for p in prefixes):
                return importlib.machinery.ModuleSpec(fullname, self, is_package=True)
            return None

        def create_module(self, spec):
            m = StubModule(spec.name)
            m.__path__ = []
            return m

        def exec_module(self, module):
            pass

    sys.meta_path.insert(0, Finder())


def run_child(entry_file: str, root: str, framework: str, stubs: list[str] | None = None) -> dict:
    """Run the entry script recorded; return the fixture's runtime part."""
    os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")
    os.environ.setdefault("JAX_PLATFORMS", "cpu")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.chdir(root)
    sys.path.insert(0, os.path.dirname(entry_file))
    sites = Sites(root)
    rec = Recorder(sites)
    result: dict = {"status": "ok", "error": None}
    namespace: dict = {}
    t0 = time.time()
    if stubs:
        install_stubs(stubs)
    try:
        if framework == "torch":
            import torch

            torch.manual_seed(0)
            rec.install_torch()
        else:
            rec.install_jax()
        namespace = runpy.run_path(entry_file, run_name="__main__")
    except BaseException as exc:  # noqa: BLE001 - the model's failure is the result
        tb = traceback.extract_tb(exc.__traceback__)
        where = next((fs for fs in reversed(tb) if sites.is_user(fs.filename)), None)
        msg = " ".join(s.strip() for s in str(exc).strip().splitlines() if s.strip())[:500]
        result["status"] = "error"
        result["error"] = {
            "type": type(exc).__name__,
            "message": msg,
            "path": sites.rel(where.filename) if where else None,
            "line": where.lineno if where else None,
        }
    finally:
        rec.uninstall()
    out = namespace.get("out")
    result["output_shapes"] = _leaf_shapes(out) if out is not None else None
    if framework == "torch":
        try:
            rec.name_torch_modules(namespace)
        except Exception:  # noqa: BLE001
            pass
    result["seconds"] = round(time.time() - t0, 2)
    result["layers"] = [e for e in rec.events if is_conv_family(e["op"])]
    return result


# ------------------------------------------------------------------------------------ the parent


def versions() -> dict:
    out = {"python": sys.version.split()[0]}
    for name in ("torch", "jax", "flax"):
        try:
            from importlib.metadata import version

            out[name] = version(name)
        except Exception:  # noqa: BLE001
            pass
    return out


def record_entry(entry: Entry, repos: Path, timeout: float, extra_env: dict | None = None) -> dict:
    """Run one entry in a child process; return the fixture (not written)."""
    co = entry.checkout(repos)
    fixture = {
        "id": entry.id,
        "repo": entry.repo,
        "commit": entry.commit,
        "framework": entry.framework,
        "entry": entry.entry_rel,
        "entry_sha256": entry.script_hash,
    }
    problem = check_checkout(entry, repos)
    if problem:
        fixture.update(status="error", error={"type": "Checkout", "message": problem}, layers=[])
        return fixture
    with tempfile.TemporaryDirectory() as tmp, placed(co / entry.entry_rel, entry.script) as path:
        out = Path(tmp) / "out.json"
        cmd = [sys.executable, os.path.abspath(__file__), "--child", str(path), "--root", str(co),
               "--framework", entry.framework, "--out", str(out)]
        for stub in entry.stubs:
            cmd += ["--stub", stub]
        env = dict(os.environ, **(extra_env or {}))
        env.pop("PYTHONPATH", None)
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env, cwd=co)
        except subprocess.TimeoutExpired:
            fixture.update(status="error", error={"type": "Timeout", "message": f"over {timeout:g} s"}, layers=[])
            return fixture
        if not out.exists():
            tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
            fixture.update(
                status="error",
                error={"type": "Crash", "message": f"exit {proc.returncode}: {' | '.join(tail)}"[:500]},
                layers=[],
            )
            return fixture
        fixture.update(json.loads(out.read_text()))
    fixture["versions"] = versions()
    return fixture


def write_fixture(fixture: dict) -> Path:
    RUNTIME_DIR.mkdir(exist_ok=True)
    path = RUNTIME_DIR / f"{fixture['id']}.json"
    layers = fixture.pop("layers")
    text = json.dumps(fixture, indent=1)
    # one layer a line: small diffs, easy to read
    body = ",\n".join("  " + json.dumps(layer, separators=(", ", ": ")) for layer in layers)
    text = text[:-2] + ',\n "layers": [\n' + body + "\n ]\n}\n"
    fixture["layers"] = layers
    path.write_text(text)
    return path


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("ids", nargs="*", help="model ids (default: all)")
    ap.add_argument("--repos", type=Path, default=DEFAULT_REPOS, help="folder holding the checkouts")
    ap.add_argument("--repo", help="only models of repositories whose owner/name contains this")
    ap.add_argument("--timeout", type=float, default=300)
    ap.add_argument("--child", help=argparse.SUPPRESS)
    ap.add_argument("--root", help=argparse.SUPPRESS)
    ap.add_argument("--framework", help=argparse.SUPPRESS)
    ap.add_argument("--out", help=argparse.SUPPRESS)
    ap.add_argument("--stub", action="append", default=[], help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        result = run_child(args.child, args.root, args.framework, args.stub)
        Path(args.out).write_text(json.dumps(result))
        return 0
    _, entries = load_manifest()
    failures = 0
    for entry in select(entries, args.ids, args.repo):
        try:
            fixture = record_entry(entry, args.repos, args.timeout)
        except FileExistsError as e:
            failures += 1
            print(f"{entry.id:32} SKIPPED {e}")
            continue
        write_fixture(fixture)
        n = len(fixture["layers"])
        if fixture["status"] == "ok":
            print(f"{entry.id:32} ok     {n:4d} conv-family layers  {fixture.get('seconds', 0):6.1f} s")
        else:
            failures += 1
            err = fixture["error"]
            where = f" at {err.get('path')}:{err.get('line')}" if err.get("path") else ""
            print(f"{entry.id:32} ERROR  {err['type']}: {err['message'][:150]}{where}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
