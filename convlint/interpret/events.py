"""What one interpreter run records — the facts rules read — and the issues rules produce.

Framework shape functions never decide what is a finding. They compute shapes with
:mod:`convlint.arith` and record *events*: a layer applied to a tensor (:class:`LayerEvent`, with
its canonical windows and raw output sizes), a channel count compared with what a layer was built
for (:class:`ChannelEvent`), a configuration the framework rejects (:class:`ConfigEvent`),
tensors joined (:class:`MergeEvent`), a layer whose arguments could not be resolved
(:class:`UnresolvedEvent`), a symbolic size that must divide evenly (:class:`SizeEvent`). Tensors carry the stack of downsampling steps along their data flow,
so that upsampling steps are paired with the step they mirror (:class:`~convlint.interpret.tensor.PairStep`,
in :attr:`Trace.downs` / :attr:`Trace.ups`).

Each rule module in :mod:`convlint.rules` is a ``check(run)`` over these records that returns
:class:`Issue` values; :mod:`convlint.analysis` turns issues into findings with positions and fixes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "LayerEvent",
    "ChannelEvent",
    "RankEvent",
    "ConfigEvent",
    "MergeEvent",
    "Operand",
    "UnresolvedEvent",
    "SizeEvent",
    "AssertEvent",
    "Trace",
    "Issue",
    "FixSpec",
    "where_supplied",
]


@dataclass(eq=False)
class LayerEvent:
    """A layer (or a shape function) applied to a tensor: one row of ``convlint shapes``.

    ``family`` is the catalogue's tag of the op (``"conv"``, ``"pool"``, ``"resize"``, or None);
    for a conv or pool with resolved arguments, ``windows`` are its canonical windows (one per
    spatial dimension, in the order of ``spatial_axes``) and ``spatial_in``/``spatial_out`` the
    sizes along them — ``spatial_out`` as the arithmetic computes it, *before* an empty (< 1) size
    is replaced by an unknown for the layers downstream.
    """

    site: Any  # Site where the layer was built (for a functional call: the call)
    call_site: Any  # Site where it was applied
    op: str
    input: tuple | None
    output: tuple | None
    layer: Any = None  # the Layer value; None for functional calls
    params: dict = field(default_factory=dict)
    windows: tuple = ()
    name: str | None = None
    family: str | None = None
    framework: str | None = None
    transposed: bool = False
    ceil_mode: bool = False  # a pool that rounds up: no row is ever dropped
    spatial_axes: tuple = ()
    spatial_in: tuple = ()
    spatial_out: tuple = ()
    input_label: str | None = None  # the layer that produced the input (for messages)
    input_lost: Any = None  # when the input's rank is unknown: the Unknown saying where it was lost
    pad_tail: tuple = ()  # per spatial dim: trailing rows of the input an explicit pad right before added

    @property
    def label(self) -> str:
        """``name`` when the layer has one (``encoder.0``), else the op's last part."""
        if self.name:
            return self.name
        if self.layer is not None and getattr(self.layer, "name", None):
            return self.layer.name
        return self.op.rsplit(".", 1)[-1]


@dataclass(eq=False)
class ChannelEvent:
    """A layer built for ``expected`` channels (features, normalized sizes) applied to a tensor
    whose ``axis`` holds ``got``."""

    site: Any
    label: str
    expected: Any
    got: Any
    input: tuple | None
    axis: int
    source: str | None = None  # the layer that produced the input
    what: str = "input channels"
    groups: Any = None  # feature groups: ``got`` must be divisible by them (flax)
    layer: Any = None  # the Layer (its ``extra["origins"]`` say where ``argument`` was written)
    argument: str | None = None  # the layer's parameter that holds ``expected`` (``in_channels``)


@dataclass(eq=False)
class RankEvent:
    """A layer applied to a tensor of a rank it does not accept."""

    site: Any
    label: str
    accepted: tuple  # ranks the layer accepts
    got: int
    input: tuple | None
    what: str = ""


@dataclass(eq=False)
class ConfigEvent:
    """The framework rejects a configuration: ``error`` is the arithmetic core's
    :class:`~convlint.arith.core.ConvArithmeticError` (its kind, message, constraint and fix)."""

    site: Any
    label: str
    error: Any
    context: str = ""  # e.g. " (input (1, 3, 5, 5) from encoder.0)"
    layer: Any = None  # the Layer rejected, when a layer was built (``error.argument`` names its parameter)


@dataclass(eq=False)
class Operand:
    """One tensor joined by a merge, as it was at the merge."""

    shape: tuple
    label: str  # the layer that produced it, or "input"
    trail: Any  # callable axis -> "28 → 14 → 7" (computed only for messages)
    pending: tuple  # upsampling PairSteps whose size has not been repaired yet
    exact_rank: bool = True  # False: dims counted from the front may be off (see Tensor.exact_rank)
    history: tuple = ()  # the tensor's history ((label, shape), ...): the layers of its branch


@dataclass(eq=False)
class MergeEvent:
    """Tensors joined by ``cat``/``stack`` (``joined`` is the concatenated dim, None for stack)
    or combined elementwise with broadcasting (``broadcast``)."""

    site: Any
    op: str  # "torch.cat", "'+'", "jnp.concatenate", ...
    operands: list
    joined: int | None = None
    broadcast: bool = False


@dataclass(eq=False)
class UnresolvedEvent:
    """A conv-family layer whose arguments could not be determined: ``reasons`` name each
    argument and why."""

    site: Any
    op: str
    reasons: tuple
    never_reached: bool = False
    causes: tuple = ()  # the Unknown values behind the reasons (with the sites where they were lost)
    layer: Any = None


@dataclass(eq=False)
class SizeEvent:
    """A shape function needs a symbolic size divisible by ``modulus`` (``pixel_unshuffle``, a
    reshape whose inferred size must come out whole). :mod:`convlint.interpret.sizing` reads it;
    ``code`` is the rule that reports a concrete size breaking it."""

    site: Any
    label: str  # "pixel_unshuffle (downscale_factor 2)"
    size: Any  # a Sym
    modulus: int
    code: str = "CVL001"


@dataclass(eq=False)
class AssertEvent:
    """A shape ``assert`` the engine decided false on known shapes (the path ends there, as in
    Python): ``test`` is its source, ``values`` the ``(expression, value)`` pairs that show why."""

    site: Any  # the assert statement
    test: str
    values: tuple = ()


@dataclass(eq=False)
class Issue:
    """A rule violation, before positions are resolved (:mod:`convlint.analysis` does that)."""

    code: str
    site: Any
    message: str
    fix: Any = None  # FixSpec or None
    key: tuple = ()  # dedup key beyond (code, site)
    layer: Any = None  # the Layer at fault, if any: with ``arguments``, where the finding belongs
    arguments: tuple = ()  # the layer's parameters whose values are at fault (``("in_channels",)``)
    related: tuple = ()  # ((message, Site), ...): other places that matter (the declaration a CVL009 compares with)
    # the layer's code is right in its other uses: the value at fault came from the caller, even
    # through a parameter the function uses several times (``where_supplied(..., via=True)``)
    at_caller: bool = False


@dataclass(eq=False)
class FixSpec:
    """A certain repair of a call: set keyword arguments to source expressions."""

    message: str
    call: Any  # the LibCST Call node
    set_args: dict  # name -> source text
    positional_index: dict = field(default_factory=dict)  # name -> positional index if the arg may be positional

    @property
    def replacement(self) -> str:
        return ", ".join(f"{k}={v}" for k, v in self.set_args.items())


@dataclass
class Trace:
    """Everything one entry's run recorded, in execution order."""

    events: list = field(default_factory=list)  # LayerEvents: the shapes table
    checks: list = field(default_factory=list)  # ChannelEvent, RankEvent, ConfigEvent, MergeEvent, UnresolvedEvent
    reached: set = field(default_factory=set)  # ids of call nodes evaluated (conv sites reached)
    downs: list = field(default_factory=list)  # downsampling PairSteps in execution order
    ups: list = field(default_factory=list)  # upsampling PairSteps
    layers: list = field(default_factory=list)  # conv-family layers built
    applications: list = field(default_factory=list)  # (input, output) of each model script code applied
    incomplete: str | None = None
    size_losses: list = field(default_factory=list)  # (site, why): a merge of tensors whose shapes were not followed
    applied: set = field(default_factory=set)  # ids of the class nodes of model instances applied to a tensor of known rank

    def record(self, event) -> None:
        self.checks.append(event)

    def of(self, kind) -> list:
        return [e for e in self.checks if isinstance(e, kind)]

    def makers(self) -> dict:
        """``id(shape)`` -> the LayerEvent that made that shape: the first one that gave it as
        output. A shape-preserving layer (a BatchNorm, an activation) passes its input's shape on
        as its own output, and is not where a size changed."""
        out: dict = {}
        for e in self.events:
            if isinstance(e, LayerEvent) and e.output is not None:
                out.setdefault(id(e.output), e)
        return out


def where_supplied(layer, arguments, via: bool = False) -> Any:
    """The call in the user's code that supplied the values of ``arguments`` to ``layer`` when it
    is not the call that built the layer (a helper such as ``def conv3x3(cin, cout): return
    nn.Conv2d(cin, cout, 3, padding=1)`` was given them): the :class:`~convlint.interpret.values.Site`
    of the outermost call that passed them on, or None when they were written at the layer's own
    call (or in the helper), came from different calls, or their origin is not known.

    An argument not given at all (a keyword a fix would add) is supplied by the outermost call whose
    ``**kwargs`` reach the layer unchanged. With ``via``, a parameter the helper uses several times
    (``Up(in_channels, ...)`` builds a ``ConvTranspose2d(in_channels, in_channels // 2)``) is
    followed to its caller too: for a layer whose code is right in its other uses.
    """
    from convlint.interpret.values import Origin, Site

    origins = getattr(layer, "extra", {}).get("origins") if layer is not None else None
    if not origins or not arguments:
        return None
    own = layer.site.node
    calls = []
    for a in arguments:
        o = origins.get(a)
        if via and isinstance(o, Origin) and isinstance(o.via, Origin):
            o = o.via
        if isinstance(o, Origin):
            calls.append(o.call)
        elif o is None and isinstance(origins.get("**"), Site):
            calls.append(origins["**"])
        else:
            return None
    first = calls[0]
    if first.node is own or any(c.node is not first.node for c in calls):
        return None
    return first
