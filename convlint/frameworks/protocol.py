"""The boundary between the interpreter and the frameworks, as typed protocols.

The interpreter (:mod:`convlint.interpret`) never names a framework. It asks one object,
:class:`FrameworkSupport` (implemented by :class:`convlint.frameworks.Frameworks`), about
framework values: modules and catalogue entries, attributes and subscripts of tensors and
layers, operators on tensors, calls of layers and of model instances. That object in turn
dispatches to the framework modules — each a :class:`Framework`: data (a catalogue of
:class:`~convlint.frameworks.base.Op`, the module names it owns, aliases) plus the semantics of
its model classes (:class:`ModuleSemantics`: how ``nn.Module.forward`` or a flax ``__call__``
is reached, how a flax dataclass module is constructed).

Adding a framework means writing such a module and listing it in
``convlint.frameworks.FRAMEWORK_MODULES``; the interpreter does not change.
"""

from __future__ import annotations

from typing import Any, Protocol

__all__ = ["Framework", "ModuleSemantics", "FrameworkSupport"]


class ModuleSemantics(Protocol):
    """How a framework's model classes (subclasses of its ``Module``) behave."""

    input_layout: str  # CHANNELS_FIRST or CHANNELS_LAST: where a model's input keeps its channels

    def call(self, interp, inst, args: list, kwargs: dict, node) -> Any:
        """Apply a model instance (``model(x)``): run its forward / ``__call__``."""

    def instantiate(self, interp, cls, args: list, kwargs: dict, node) -> Any:
        """Build an instance, or MISSING to let the interpreter run ``__init__``."""

    def attr_missing(self, interp, inst, name: str) -> Any:
        """An attribute a model instance does not define (``self.register_buffer``, ``self.param``),
        or MISSING."""

    def prepare(self, interp, inst) -> None:
        """Before attributes are read or the instance is called (flax: run ``setup``)."""

    def has_attribute(self, inst, name: str) -> bool | None:
        """Whether the framework's ``Module`` gives an instance the attribute ``name`` it does not
        set itself (``hasattr``), or None when that is not known."""


class Framework(Protocol):
    """What a framework module (``convlint.frameworks.torch``, ``.jax``, ``.flax``, ``.einops``) provides."""

    FRAMEWORK: str  # "torch", "jax", "flax", "einops"
    CATALOGUE: dict  # qualified name -> Op or FwClass
    MODULES: set  # module names it owns (``torch.nn``)
    ALIASES: dict  # module path -> canonical path (``torch.nn.modules.conv`` -> ``torch.nn``)
    SEMANTICS: ModuleSemantics | None  # for frameworks with model classes

    def upsampling_fix(self, event, din: tuple, want: tuple) -> Any:
        """A FixSpec that makes the upsampling ``event`` map ``din`` to ``want``, or None."""


class FrameworkSupport(Protocol):
    """Everything the interpreter asks about framework values (:class:`convlint.frameworks.Frameworks`)."""

    def module(self, dotted: str) -> Any: ...
    def lookup(self, qualname: str) -> Any: ...
    def is_framework_value(self, v) -> bool: ...
    def is_class(self, v) -> bool: ...
    def dir_of(self, obj) -> list | None: ...
    def module_framework(self, bases: list) -> str | None: ...
    def getattr(self, interp, obj, name: str) -> Any: ...
    def attr_other(self, interp, obj, name: str) -> Any: ...
    def instance_attr_missing(self, interp, inst, name: str) -> Any: ...
    def super_attr(self, interp, sup, name: str) -> Any: ...
    def on_setattr(self, interp, inst, name: str, value) -> None: ...
    def setattr_other(self, interp, obj, name: str, value) -> None: ...
    def subscript(self, interp, obj, key, node) -> Any: ...
    def iterate(self, interp, v) -> list | None: ...
    def length(self, interp, v) -> Any: ...
    def truth(self, v) -> bool | None: ...
    def isinstance_check(self, interp, obj, t) -> bool | None: ...
    def tensor_binop(self, interp, op, left, right, site) -> Any: ...
    def instance_binop(self, interp, op, left, right, node) -> Any: ...
    def call(self, interp, func, args: list, kwargs: dict, node) -> Any: ...
    def call_instance(self, interp, inst, args: list, kwargs: dict, node) -> Any: ...
    def instantiate(self, interp, cls, args: list, kwargs: dict, node) -> Any: ...
    def prepare_instance(self, interp, inst) -> None: ...
    def base_init(self, interp, cls, inst, args: list, kwargs: dict, node) -> Any: ...
    def name_layers(self, root) -> None: ...
