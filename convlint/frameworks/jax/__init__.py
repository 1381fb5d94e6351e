"""JAX: ``jax.numpy``, ``jax.lax`` (convolutions with dimension numbers, ``reduce_window``),
``jax.nn``, ``jax.random``, ``jax.image`` and the ``jax`` transforms a model script uses
(``jit``, ``vmap``, ``eval_shape``, ``grad``).

Every public callable of those namespaces is in :data:`REGISTRY` as modelled, shape-preserving or
unknown with a reason (``tests/test_catalogue_jax.py`` checks it against the installed jax). jax
returns zero-size dimensions where torch raises; convlint reports those as empty output (CVL002).
"""

from __future__ import annotations

from convlint.frameworks.base import Signature
from convlint.frameworks.jax import arrays as A
from convlint.frameworks.jax import conv as _conv
from convlint.frameworks.jax import lax as _lax
from convlint.frameworks.jax import nn as _nn
from convlint.frameworks.jax import numpy as _numpy
from convlint.frameworks.jax.registry import Registry
from convlint.interpret import builtins as pyb
from convlint.interpret.tensor import Tensor
from convlint.interpret.values import Unknown

FRAMEWORK = "jax"
CATALOGUE: dict = {}
REGISTRY = Registry(CATALOGUE)
MODULES = {"jax", "jax.lax", "jax.numpy", "jax.numpy.linalg", "jax.image", "jax.random", "jax.nn"}
ALIASES = {"jax.experimental.numpy": "jax.numpy"}

DimNumbers = _conv.DimNumbers


def _shape_dtype_struct(interp, args, kwargs, node):
    p = Signature.of("shape", ("dtype", None)).bind(args, kwargs)
    return A.new(A.shape_arg(p["shape"]))


def _eval_shape(interp, args, kwargs, node):
    """``jax.eval_shape(fn, *args)``: the shapes are what convlint computes anyway."""
    if not args:
        return Unknown("eval_shape")
    return interp.call(args[0], list(args[1:]), kwargs, node)


def _identity_transform(name):
    def fn(interp, args, kwargs, node):
        return args[0] if args else Unknown(name)

    return fn


def _vmap(interp, args, kwargs, node):
    """``jax.vmap(f, in_axes=0, out_axes=0)(*xs)``: ``f`` sees each input without the mapped
    axis; its results get the axis back at ``out_axes``."""
    p = Signature.of("fun", ("in_axes", 0), ("out_axes", 0)).bind(args, kwargs)
    f, in_axes, out_axes = p["fun"], p["in_axes"], p["out_axes"]

    def call(i, a, k, n):
        size = None
        inner = []
        for j, x in enumerate(a):
            ax = in_axes[j] if isinstance(in_axes, (tuple, list)) and j < len(in_axes) else in_axes
            if isinstance(x, Tensor) and isinstance(ax, int) and not isinstance(ax, bool):
                if x.shape is None:
                    inner.append(x)
                    continue
                r = len(x.shape)
                a_ = A.norm_axis(ax, r)
                if a_ is None:
                    return Unknown("vmap axis")
                size = x.shape[a_] if size is None else size
                inner.append(x.derive(tuple(d for q, d in enumerate(x.shape) if q != a_)))
            elif ax is None or not isinstance(x, Tensor):
                inner.append(x)
            else:
                return Unknown("vmap over a tree of inputs")
        out = i.call(f, inner, k, n)
        return _with_axis(out, size if size is not None else Unknown("mapped size"), out_axes)

    return pyb.Builtin("vmap", call)


def _with_axis(v, size, axis):
    if isinstance(v, Tensor):
        if v.shape is None or not isinstance(axis, int) or isinstance(axis, bool):
            return v.derive(None)
        r = len(v.shape) + 1
        a = A.norm_axis(axis, r)
        if a is None:
            return v.derive(None)
        s = list(v.shape)
        s.insert(a, size)
        return v.derive(tuple(s))
    if isinstance(v, tuple):
        return tuple(_with_axis(x, size, axis) for x in v)
    if isinstance(v, list):
        return [_with_axis(x, size, axis) for x in v]
    return v if v is None else Unknown("vmapped result")


def _grad(with_value):
    def fn(interp, args, kwargs, node):
        p = Signature.of("fun", ("argnums", 0), ("has_aux", False)).bind(args, kwargs)

        def call(i, a, k, n):
            argnums = p["argnums"]
            out = i.call(p["fun"], list(a), k, n)
            if isinstance(argnums, int) and not isinstance(argnums, bool) and argnums < len(a):
                g = a[argnums]
            elif isinstance(argnums, tuple) and all(isinstance(q, int) and q < len(a) for q in argnums):
                g = tuple(a[q] for q in argnums)
            else:
                g = Unknown("gradient")
            if with_value:
                return (out, g)
            return (g, out[1]) if p["has_aux"] is True and isinstance(out, tuple) and len(out) == 2 else g

        return pyb.Builtin("grad", call)

    return fn


def _register():
    R = REGISTRY
    _numpy.register(R)
    _lax.register(R)
    _nn.register_nn(R)
    _nn.register_random(R)
    _nn.register_image(R)
    # the ``jax`` namespace: what model scripts use (not enumerated by the completeness test)
    R.model("jax.ShapeDtypeStruct", _shape_dtype_struct)
    R.model("jax.eval_shape", _eval_shape)
    for name in ("jit", "checkpoint", "remat", "named_call", "custom_jvp", "custom_vjp"):
        R.model(f"jax.{name}", _identity_transform(name))
    R.model("jax.vmap", _vmap)
    R.model("jax.grad", _grad(False))
    R.model("jax.value_and_grad", _grad(True))
    for name in ("device_put", "block_until_ready"):
        R.preserve(f"jax.{name}", _numpy.same)
    # the array type: ``isinstance(x, jnp.ndarray)`` is answered (frameworks.ARRAY_TYPES)
    for name in ("jax.Array", "jax.numpy.ndarray"):
        if name not in R.catalogue:
            R.unknown(name, "the array type (isinstance checks on it are answered; calling it is not followed)")


_register()


SEMANTICS = None  # plain JAX has no model classes (flax has)

upsampling_fix = _conv.upsampling_fix
