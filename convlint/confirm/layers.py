"""Build one layer in its real framework and report what it does to a shape.

This is how convlint asks the frameworks themselves: torch (on the ``meta`` device for shapes, on
tiny CPU tensors for accept/reject), ``jax.lax`` and ``flax.linen`` under ``jax.eval_shape`` with
:class:`jax.ShapeDtypeStruct` inputs. No real data is allocated beyond a few CPU elements and no
user code runs.

torch, jax and flax are imported lazily inside the functions: importing this module imports none
of them. Framework warnings are silenced and no exception escapes: a rejection becomes the string
``"TypeName: message"`` in :attr:`LayerOutcome.error`.

Traps these functions make visible rather than hide:

* torch's ``meta`` device does not enforce ``output_padding < max(stride, dilation)``;
  :func:`torch_layer_checked` runs tiny CPU tensors to judge accept/reject.
* jax returns a zero-size dimension instead of raising when the window exceeds the padded
  input; :func:`lax_layer` and :func:`flax_layer` report the shape as-is (callers treat 0 as
  failure, :attr:`LayerOutcome.empty` says so).
"""

from __future__ import annotations

import functools
import importlib
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

__all__ = [
    "LayerOutcome",
    "flax_layer",
    "lax_layer",
    "missing_frameworks",
    "torch_layer",
    "torch_layer_checked",
]


@dataclass(frozen=True)
class LayerOutcome:
    """What a framework did with one layer: the output ``shape``, or the ``error`` it raised."""

    shape: tuple[int, ...] | None
    error: str | None = None

    @property
    def ok(self) -> bool:
        """Built and ran (it may still have a zero-size dimension: see :attr:`empty`)."""
        return self.error is None

    @property
    def empty(self) -> bool:
        """The layer ran but produced a zero-size dimension (jax's way of failing)."""
        return self.shape is not None and any(d == 0 for d in self.shape)


def missing_frameworks(*names: str) -> list[str]:
    """The modules among ``names`` ("torch", "jax", "flax") that cannot be found; nothing is imported."""
    import importlib.util

    missing = []
    for name in names:
        try:
            found = importlib.util.find_spec(name) is not None
        except (ImportError, ValueError):
            found = False
        if not found:
            missing.append(name)
    return missing


# ---------------------------------------------------------------------------------------- helpers


def _describe(exc: BaseException) -> str:
    text = " ".join(line.strip() for line in str(exc).strip().splitlines() if line.strip())
    if len(text) > 500:
        text = text[:497] + "..."
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


_CACHE: dict[str, LayerOutcome] = {}
_CACHE_LIMIT = 200_000


def _cached(key_parts: tuple, build) -> LayerOutcome:
    """Memoise ``build()`` by the ``repr`` of its inputs (faithful for ints, strings, tuples, lists)."""
    key = repr(key_parts)
    hit = _CACHE.get(key)
    if hit is not None:
        return hit
    outcome = _guarded(build)
    if len(_CACHE) >= _CACHE_LIMIT:
        _CACHE.clear()
    _CACHE[key] = outcome
    return outcome


def _guarded(build) -> LayerOutcome:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            shape = build()
        return LayerOutcome(tuple(int(d) for d in shape), None)
    except Exception as exc:  # every framework error becomes data
        return LayerOutcome(None, _describe(exc))


def _resolve(op: str, aliases: Mapping[str, str]):
    """The object named by a dotted ``op`` (after expanding a short prefix such as ``nn.`` or ``F.``)."""
    for short, full in aliases.items():
        if op == short or op.startswith(short + "."):
            op = full + op[len(short):]
            break
    module_name, _, attr = op.rpartition(".")
    if not module_name:
        raise ValueError(f"{op!r} is not a qualified name")
    module = importlib.import_module(module_name)
    return getattr(module, attr)


# ------------------------------------------------------------------------------------------ torch

_TORCH_ALIASES = {"nn.functional": "torch.nn.functional", "F": "torch.nn.functional", "nn": "torch.nn"}
_TENSOR_KWARGS = ("weight", "bias")


def _is_shape(value) -> bool:
    return isinstance(value, (tuple, list)) and all(isinstance(v, int) and not isinstance(v, bool) for v in value)


def _torch_run(op: str, kwargs: dict, input_shape: tuple, device: str) -> tuple[int, ...]:
    import torch

    target = _resolve(op, _TORCH_ALIASES)
    kwargs = dict(kwargs)
    x = torch.zeros(tuple(input_shape), device=device)
    if isinstance(target, type) and issubclass(target, torch.nn.Module):
        forward_kwargs = {}
        if "output_size" in kwargs and "ConvTranspose" in target.__name__:
            forward_kwargs["output_size"] = kwargs.pop("output_size")
        if target.__name__.startswith("Conv"):
            # the channels may be left to the input: (N, C, *spatial) or unbatched (C, *spatial)
            rank = int(target.__name__[-2])
            channels = input_shape[1] if len(input_shape) == rank + 2 else input_shape[0]
            kwargs.setdefault("in_channels", channels)
            kwargs.setdefault("out_channels", kwargs["in_channels"])
            kwargs.setdefault("device", device)
        module = target(**kwargs)
        if "device" not in kwargs:
            module = module.to(device)
        with torch.no_grad():
            y = module(x, **forward_kwargs)
    else:
        call = {}
        for name, value in kwargs.items():
            if name in _TENSOR_KWARGS and _is_shape(value):
                call[name] = torch.zeros(tuple(value), device=device)
            elif name == "bias" and value is True:
                wshape = kwargs["weight"]
                out = wshape[0] if "transpose" not in op else wshape[1] * kwargs.get("groups", 1)
                call[name] = torch.zeros((out,), device=device)
            else:
                call[name] = value
        with torch.no_grad():
            y = target(x, **call)
    if isinstance(y, tuple):  # max_pool with return_indices
        y = y[0]
    return tuple(y.shape)


def torch_layer(op: str, kwargs: Mapping, input_shape: Sequence[int], *, device: str = "meta") -> LayerOutcome:
    """Build ``op`` with ``kwargs`` on ``device`` and run it on zeros of ``input_shape``.

    ``op`` is a qualified torch callable: ``"torch.nn.Conv2d"``, ``"torch.nn.ConvTranspose3d"``,
    ``"torch.nn.functional.conv1d"``, ``"torch.nn.functional.conv_transpose2d"``, and pools or
    resampling (``"torch.nn.MaxPool2d"``, ``"torch.nn.AvgPool1d"``, ``"torch.nn.Upsample"``,
    ``"torch.nn.functional.interpolate"``, …); ``nn.`` and ``F.`` prefixes are accepted.

    For a module, ``kwargs`` are its constructor's (``in_channels`` defaults to the input's
    channels, ``out_channels`` to ``in_channels``); for ``ConvTranspose`` an ``output_size`` entry
    goes to ``forward``. For a function, ``kwargs`` are its keyword arguments, with ``weight`` and
    ``bias`` given as shapes (``bias=True`` makes one of the right length).

    ``device="meta"`` is cheap but does not enforce every rule (``output_padding``); ``"cpu"``
    does, so give it tiny tensors (batch 1, one channel) — or use :func:`torch_layer_checked`.
    """
    input_shape = tuple(input_shape)
    kwargs = dict(kwargs)
    return _cached(("torch", op, sorted(kwargs.items()), input_shape, device), lambda: _torch_run(op, kwargs, input_shape, device))


def _shrunk(op: str, kwargs: dict, input_shape: tuple) -> tuple[dict, tuple] | None:
    """The same layer with batch 1 and fewer channels, for a cheap CPU run that accepts and
    rejects exactly what the full layer would (every divisibility and matching rule is kept)."""
    name = op.rpartition(".")[2]
    kwargs = dict(kwargs)
    groups = kwargs.get("groups", 1)
    if not isinstance(groups, int) or isinstance(groups, bool) or groups < 1:
        return None
    if name.startswith("Conv"):
        rank = int(name[-2])
        if len(input_shape) not in (rank + 1, rank + 2):
            return None
        batched = len(input_shape) == rank + 2
        channels = input_shape[1] if batched else input_shape[0]
        spatial = input_shape[-rank:]
        if kwargs.get("in_channels", channels) == channels and channels % groups == 0 and kwargs.get("out_channels", channels) % groups == 0:
            kwargs["in_channels"] = kwargs["out_channels"] = channels = groups
        return kwargs, ((1, channels) if batched else (channels,)) + spatial
    if name.startswith("conv"):
        weight = kwargs.get("weight")
        if not _is_shape(weight) or len(weight) < 3:
            return None
        rank = len(weight) - 2
        if len(input_shape) not in (rank + 1, rank + 2):
            return None
        batched = len(input_shape) == rank + 2
        weight = list(weight)
        if "transpose" in name:
            weight[1] = 1  # out_channels // groups: any positive count behaves alike
        elif weight[0] % groups == 0:
            weight[0] = groups
        kwargs["weight"] = tuple(weight)
        if _is_shape(kwargs.get("bias")):
            kwargs["bias"] = (weight[0] if "transpose" not in name else groups,)
        return kwargs, ((1,) if batched else ()) + tuple(input_shape[-rank - 1 :])
    # pools, upsampling: batch and channels to 1
    if len(input_shape) >= 3:
        return kwargs, (1, 1, *input_shape[2:])
    return kwargs, input_shape


def torch_layer_checked(op: str, kwargs: Mapping, input_shape: Sequence[int]) -> LayerOutcome:
    """Like :func:`torch_layer`, judged as CPU torch would: the shape from the meta device, and
    accept/reject from a CPU run on the same layer shrunk to batch 1 and the fewest channels.

    A rejection by either device is the outcome's error (the meta run keeps channel checks with
    the real channel counts; the CPU run adds the rules meta does not enforce).
    """
    input_shape = tuple(input_shape)
    kwargs = dict(kwargs)
    meta = torch_layer(op, kwargs, input_shape, device="meta")
    if not meta.ok:
        return meta
    small = _shrunk(op, kwargs, input_shape)
    if small is None:
        cpu = torch_layer(op, kwargs, input_shape, device="cpu")
        return cpu if not cpu.ok else meta
    cpu = torch_layer(op, small[0], small[1], device="cpu")
    if not cpu.ok:
        return cpu
    if cpu.shape[2:] != meta.shape[2:] and len(meta.shape) == len(cpu.shape):
        return LayerOutcome(meta.shape, f"MetaMismatch: meta gave {meta.shape}, cpu gave {cpu.shape}")
    return meta


# -------------------------------------------------------------------------------------------- jax

_LAX_OPS = ("conv_general_dilated", "conv", "conv_with_general_padding", "conv_transpose")


def _lax_run(op: str, kwargs: dict, lhs_shape: tuple, rhs_shape: tuple, dtype: str) -> tuple[int, ...]:
    import jax
    import jax.numpy as jnp

    name = op.rpartition(".")[2]
    if name not in _LAX_OPS:
        raise ValueError(f"{op!r} is not one of jax.lax.{', jax.lax.'.join(_LAX_OPS)}")
    fn = getattr(jax.lax, name)
    dt = jnp.dtype(dtype)
    out = jax.eval_shape(
        functools.partial(fn, **kwargs), jax.ShapeDtypeStruct(lhs_shape, dt), jax.ShapeDtypeStruct(rhs_shape, dt)
    )
    return tuple(out.shape)


def lax_layer(op: str, kwargs: Mapping, lhs_shape: Sequence[int], rhs_shape: Sequence[int], *, dtype: str = "float32") -> LayerOutcome:
    """``jax.eval_shape`` of a lax convolution on abstract ``lhs``/``rhs`` of the given shapes.

    ``op`` is ``"jax.lax.conv_general_dilated"``, ``"jax.lax.conv"``,
    ``"jax.lax.conv_with_general_padding"`` or ``"jax.lax.conv_transpose"`` (a bare or ``lax.``
    name works too); ``kwargs`` are its static keyword arguments (``window_strides``,
    ``padding``, ``lhs_dilation``, ``rhs_dilation``, ``dimension_numbers``, ``strides``,
    ``use_consistent_padding``, ``feature_group_count``, …). A zero-size dimension is reported
    as it comes (:attr:`LayerOutcome.empty`).
    """
    lhs_shape, rhs_shape, kwargs = tuple(lhs_shape), tuple(rhs_shape), dict(kwargs)
    return _cached(
        ("lax", op, sorted(kwargs.items()), lhs_shape, rhs_shape, dtype), lambda: _lax_run(op, kwargs, lhs_shape, rhs_shape, dtype)
    )


_FLAX_OPS = ("Conv", "ConvTranspose", "ConvLocal")


def _flax_run(op: str, kwargs: dict, input_shape: tuple, dtype: str) -> tuple[int, ...]:
    import jax
    import jax.numpy as jnp
    import flax.linen as nn

    name = op.rpartition(".")[2]
    if name not in _FLAX_OPS:
        raise ValueError(f"{op!r} is not one of flax.linen.{', flax.linen.'.join(_FLAX_OPS)}")
    kwargs = dict(kwargs)
    kwargs.setdefault("features", 1)
    model = getattr(nn, name)(**kwargs)

    def init_and_apply(x):
        y, _ = model.init_with_output(jax.random.PRNGKey(0), x)
        return y

    out = jax.eval_shape(init_and_apply, jax.ShapeDtypeStruct(input_shape, jnp.dtype(dtype)))
    return tuple(out.shape)


def flax_layer(op: str, kwargs: Mapping, input_shape: Sequence[int], *, dtype: str = "float32") -> LayerOutcome:
    """Initialise and apply a flax layer under ``jax.eval_shape`` on an abstract input.

    ``op`` is ``"flax.linen.Conv"``, ``"flax.linen.ConvTranspose"`` or ``"flax.linen.ConvLocal"``
    (``nn.Conv`` or a bare name work too); ``kwargs`` are the module's attributes (``features``
    defaults to 1); ``input_shape`` is channels-last, ``(N, *spatial, C)``.
    """
    input_shape, kwargs = tuple(input_shape), dict(kwargs)
    return _cached(("flax", op, sorted(kwargs.items()), input_shape, dtype), lambda: _flax_run(op, kwargs, input_shape, dtype))
