"""PyTorch: the catalogue of ``torch.nn`` / ``torch.nn.functional`` / ``torch`` callables and
``Tensor`` methods, and their shape functions. Sizes come from :mod:`convlint.arith`; the shape
functions translate arguments, check channels and configurations, and record what happened.

The catalogue is complete over the installed torch's public callables: each is modelled (a shape
function), shape-preserving (:data:`PRESERVING`) or explicitly not followed, with the reason
(:data:`UNMODELLED`) — ``tests/test_catalogue_torch.py`` checks it against ``dir()`` of the
installed packages. Its parts:

- :mod:`.conv` convolutions, :mod:`.pool` pooling, :mod:`.resample` upsampling, shuffles, fold/unfold
  and sampling grids, :mod:`.norm` normalisation, :mod:`.layers` linear/embedding/flatten/padding/
  activations/containers, :mod:`.recurrent` RNN/LSTM/GRU, :mod:`.attention` attention and
  Transformers, :mod:`.losses` losses;
- :mod:`.functions` the tensor functions shared by ``torch.*`` and the ``Tensor`` methods;
- :mod:`.namespace` what of ``torch.*`` is not a tensor op (global settings, types, backends…).
"""

from __future__ import annotations

from convlint.frameworks.base import Container, Layer
from convlint.frameworks.torch import attention, conv, layers, losses, namespace, norm, pool, recurrent, resample
from convlint.frameworks.torch.common import CATALOGUE, FRAMEWORK, MODULE_ATTRIBUTES, PRESERVING, SELF_METHODS, UNMODELLED, training_default
from convlint.frameworks.torch.conv import transpose_fix, upsampling_fix
from convlint.frameworks.torch.functions import chunk_parts
from convlint.frameworks.base import Signature
from convlint.interpret import builtins as pyb
from convlint.interpret.tensor import CHANNELS_FIRST
from convlint.interpret.values import MISSING, FunctionVal, Unknown

__all__ = ["FRAMEWORK", "CATALOGUE", "MODULES", "ALIASES", "SEMANTICS", "PRESERVING", "UNMODELLED", "upsampling_fix", "transpose_fix", "chunk"]

MODULES = {
    "torch", "torch.nn", "torch.nn.functional", "torch.nn.modules", "torch.nn.init", "torch.nn.utils", "torch.nn.utils.parametrizations",
    "torch.nn.parallel", "torch.utils", "torch.utils.checkpoint", "torch.cuda", "torch.jit", "torch.backends", "torch.distributed",
    "torch.autograd",
}
ALIASES = {
    "torch.autograd.function": "torch.autograd",
    "torch.nn.modules.conv": "torch.nn",
    "torch.nn.modules.pooling": "torch.nn",
    "torch.nn.modules.linear": "torch.nn",
    "torch.nn.modules.activation": "torch.nn",
    "torch.nn.modules.batchnorm": "torch.nn",
    "torch.nn.modules.container": "torch.nn",
    "torch.nn.modules.module": "torch.nn",
}


def chunk(interp, args, kwargs, node):
    """``torch.chunk(input, chunks, dim=0)``."""
    p = Signature.of("input", "chunks", ("dim", 0)).bind(args, kwargs)
    return chunk_parts(p["input"], p["chunks"], p["dim"])


for _m in (conv, pool, resample, norm, layers, losses, recurrent, attention, namespace):
    _m.register()


# ---------------------------------------------------------------------------------------- model classes

class TorchModules:
    """``nn.Module`` subclasses: ``model(x)`` runs ``forward``; ``register_buffer``/``add_module``
    set attributes; a subclass of a framework layer without ``forward`` applies that layer."""

    input_layout = CHANNELS_FIRST

    def call(self, interp, inst, args, kwargs, node):
        fn, _ = inst.cls.lookup("forward")
        if fn is MISSING:
            fn, _ = inst.cls.lookup("__call__")
        if fn is MISSING:
            inner = inst.attrs.get("__layer__") or inst.attrs.get("__container__")
            if isinstance(inner, (Layer, Container)):
                return interp.call(inner, args, kwargs, node)
        if isinstance(fn, FunctionVal):
            return interp.call_function(fn, [inst, *args], kwargs, node)
        return Unknown(f"{inst.cls.name} has no forward")

    def instantiate(self, interp, cls, args, kwargs, node):
        return MISSING

    def attr_missing(self, interp, inst, name):
        if name in ("register_buffer", "add_module", "register_module", "register_parameter"):
            def register(i, args, kwargs, node):
                if len(args) >= 2 and isinstance(args[0], str):
                    inst.attrs[args[0]] = args[1]
                    if name in ("add_module", "register_module"):
                        from convlint.frameworks import register_submodule

                        register_submodule(inst, args[0], args[1])
                return None

            return pyb.Builtin(name, register)
        if name == "training":  # a mode nobody set (``train()``/``eval()`` set it: attrs)
            return training_default(interp)
        if name in ("train", "eval"):
            from convlint.frameworks import training_method

            return training_method(inst, name)
        if name in SELF_METHODS:  # ``model.to(device).eval()`` is the model
            return pyb.Builtin(name, lambda i, a, k, n: inst)
        if name in ("modules", "named_modules", "children", "named_children"):
            from convlint.frameworks import module_tree_method

            return module_tree_method(inst, name)
        if name in MODULE_ATTRIBUTES:
            return pyb.Builtin(name, lambda i, a, k, n: Unknown(f"nn.Module.{name}"))
        return Unknown(f"{inst.cls.name}.{name} is not set")

    def prepare(self, interp, inst) -> None:
        return None

    def has_attribute(self, inst, name: str) -> bool | None:
        return name in MODULE_ATTRIBUTES


SEMANTICS = TorchModules()
