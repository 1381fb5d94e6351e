"""einops: ``rearrange`` / ``repeat`` / ``reduce`` and their layer forms, for patterns made of
axis names, parenthesised groups and 1s (a pattern with ``...`` gives an unknown shape)."""

from __future__ import annotations

from convlint.frameworks import shapes as C
from convlint.frameworks.base import Layer, Op
from convlint.interpret.tensor import Tensor
from convlint.interpret.values import Unknown

FRAMEWORK = "einops"
CATALOGUE: dict = {}
MODULES = {"einops", "einops.layers", "einops.layers.torch", "einops.layers.flax"}
ALIASES: dict = {}


def _fn(mode):
    def fn(interp, args, kwargs, node):
        x = args[0] if args else kwargs.get("tensor")
        pattern = args[1] if len(args) > 1 else kwargs.get("pattern")
        if not isinstance(x, Tensor):
            return Unknown(f"einops.{mode} of a non-tensor")
        axes = {k: v for k, v in kwargs.items() if k not in ("tensor", "pattern", "reduction", "*", "**")}
        return C.einops_shape(pattern, x, axes, mode)

    return fn


def _layer(mode):
    def build(interp, args, kwargs, node):
        pattern = args[0] if args else kwargs.get("pattern")
        axes = {k: v for k, v in kwargs.items() if k not in ("pattern", "reduction", "*", "**")}

        def apply(i, layer, a, k, n):
            x = a[0] if a else Unknown("input")
            return C.einops_shape(pattern, x, axes, mode) if isinstance(x, Tensor) else Unknown("einops")

        return Layer(f"einops.layers.torch.{mode.capitalize()}", {"pattern": pattern, **axes}, interp.site(node), FRAMEWORK, apply)

    return build


for _mode in ("rearrange", "repeat", "reduce"):
    CATALOGUE[f"einops.{_mode}"] = Op(f"einops.{_mode}", _fn(_mode))
    for _sub in ("torch", "flax"):
        CATALOGUE[f"einops.layers.{_sub}.{_mode.capitalize()}"] = Op(f"einops.layers.{_sub}.{_mode.capitalize()}", _layer(_mode), "layer")

SEMANTICS = None


def upsampling_fix(event, din, want):
    return None
