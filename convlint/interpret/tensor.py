"""Abstract tensors: a shape whose dims are ints, symbolic sizes or unknowns, with provenance.

``history`` records the layers that made the tensor (for messages such as ``28 → 14 → 7 → 13``);
``downs`` is the stack of downsampling steps along its data flow, which upsampling steps pop
(decoder/encoder pairing); ``pending`` holds upsampling steps whose size mismatch has not been
repaired (by ``F.pad``, a crop or a resize to an explicit size) yet.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from convlint.interpret.symbolic import Sym
from convlint.interpret.values import Unknown

CHANNELS_FIRST = "channels_first"  # torch: (N, C, *spatial)
CHANNELS_LAST = "channels_last"  # flax / NHWC: (N, *spatial, C)

HISTORY_LIMIT = 64


@dataclass(eq=False)
class Tensor:
    shape: tuple | None  # None: rank unknown
    layout: str | None = None
    history: tuple = ()  # ((label, shape), ...)
    downs: tuple = ()  # (PairStep, ...)
    pending: tuple = ()  # (PairStep, ...) upsampling steps with unrepaired mismatch
    fresh: bool = False  # built from a literal shape (jnp.ones((…))): not on a model's data path
    entry: bool = False  # a model's input whose rank is unknown
    framework: str | None = None
    before_pad: tuple | None = None  # the shape before an F.pad / ZeroPad right before this point
    pad_tail: tuple | None = None  # with it: per dim, the rows that pad added at the end (not data)
    # False when the rank is only a lower bound: the tensor met an operand of unknown shape
    # (``x * scale``), which may have added leading dims. Dims counted from the end stay right;
    # rules do not report what depends on the rank (or on dims counted from the front).
    exact_rank: bool = True
    lost: object = None  # when ``shape`` is None: an Unknown saying where and why the shape was lost
    entry_channels: object = None  # a model input of unknown rank: its channel count, when the model names it
    # the elements of a small constant tensor of rank 0 or 1 (``torch.linspace(0, 0, 4)``,
    # ``torch.arange(3)``) where each is known exactly (an Unknown where one is not); None otherwise
    values: tuple | None = None
    # a model input of unknown rank and the tensors shape-preserving ops made of it (a norm, an
    # activation, ``x * torch.sigmoid(x)``) share one list: they have one shape, and the first
    # rank-aware layer one of them meets fixes it for all (:func:`~convlint.frameworks.shapes.promote_entry`)
    entry_group: list | None = None
    # a tensor of unknown rank made from a model input of unknown rank by ops that keep its rank
    # and channels but not its sizes (``F.interpolate(x, scale_factor=2)``): that input. The first
    # rank-aware layer it meets tells the input's rank (the input's ``rank_hint``: ``(rank,
    # channels, channels_last)``, False when two layers disagree), and the model is run again on
    # an input of that rank (:func:`~convlint.interpret.entries.run_entry`)
    rank_of: object = None
    rank_hint: object = None

    @property
    def rank(self) -> int | None:
        return None if self.shape is None else len(self.shape)

    def derive(self, shape, label: str | None = None, **changes) -> Tensor:
        hist = self.history
        if label is not None:
            hist = (hist + ((label, shape),))[-HISTORY_LIMIT:]
        changes.setdefault("before_pad", None)
        changes.setdefault("pad_tail", None)
        changes.setdefault("values", None)
        changes.setdefault("entry_group", None)
        changes.setdefault("rank_of", None)
        changes.setdefault("rank_hint", None)
        if shape is not None:
            changes.setdefault("lost", None)
        return replace(self, shape=shape, history=hist, entry=False, **changes)

    def same(self) -> Tensor:
        """A new tensor of this tensor's shape: what a shape-preserving op returns. Of a model
        input of unknown rank, a twin of it (its :attr:`entry_group`)."""
        if self.shape is None and self.entry:
            if self.entry_group is None:
                self.entry_group = [self]
            out = replace(self, before_pad=None, pad_tail=None, values=None, rank_hint=None)  # entry, its channels, its group
            self.entry_group.append(out)
            return out
        return self.derive(self.shape, rank_of=self.rank_of if self.shape is None or not self.exact_rank else None)

    def input_root(self):
        """The model input of unknown rank this tensor has the rank of (itself, a twin's first, or
        :attr:`rank_of`), or None."""
        if self.shape is not None:
            return None
        if self.entry:
            return self.entry_group[0] if self.entry_group else self
        return self.rank_of

    def settle(self, shape: tuple) -> None:
        """A model input of unknown rank takes ``shape``, and so do the twins shape-preserving ops
        made of it (:attr:`entry_group`): every later use of it sees the same sizes."""
        for t in self.entry_group or (self,):
            if t.shape is None and t.entry:
                t.shape, t.history, t.entry, t.lost = shape, (("input", shape),), False, None

    def note_rank(self, rank: int, spatial: int | None = None, channels=None, channels_last: bool | None = None) -> None:
        """A model input of unknown rank is known to have ``rank`` dims (``b, c, h, w = x.shape``),
        or a layer that takes ``spatial`` spatial dims and ``channels`` channels met a tensor of
        its rank (:attr:`rank_of`): its :attr:`rank_hint`, ``(spatial dims, channels,
        channels_last)``; False once two disagree."""
        last = (self.layout == CHANNELS_LAST) if channels_last is None else channels_last
        hint = (rank - 2 if spatial is None else spatial, channels, last)
        old = self.rank_hint
        if old is None:
            self.rank_hint = hint
        elif old is not False and (old[0] != hint[0] or old[2] != hint[2]):
            self.rank_hint = False
        elif old is not False and old[1] is None and channels is not None:
            self.rank_hint = hint

    def unpacked_shape(self, n: int) -> tuple | None:
        """``a, b, … = t.shape`` into ``n`` names, where ``t.shape`` is not known as a tuple:
        Python unpacks only a shape of exactly ``n`` dims, so a rank known as a lower bound gives
        its dims counted from the end (the others unknown), and a model input of unknown rank
        learns its rank (:meth:`note_rank`). None when nothing is known."""
        if self.shape is None:
            root = self.input_root()
            if root is not None:
                root.note_rank(n)
            return None
        if self.exact_rank or n < len(self.shape):
            return None
        return (*(Unknown("a leading dim of a tensor whose rank is only a lower bound") for _ in range(n - len(self.shape))), *self.shape)

    def shape_from_end(self, key):
        """``t.shape[key]`` for a rank known as a lower bound, where ``key`` counts from the end
        (``-1``, ``[-2:]``, ``[-3:-1]``): those dims are right. None otherwise."""
        if self.shape is None or self.exact_rank:
            return None
        k = len(self.shape)
        if type(key) is int:
            return self.shape[key] if -k <= key < 0 else None
        if isinstance(key, slice) and key.step in (None, 1) and type(key.start) is int and -k <= key.start < 0:
            if key.stop is None or (type(key.stop) is int and key.start <= key.stop < 0):
                return tuple(self.shape[key.start:key.stop])
        return None

    def twin_of(self, other) -> bool:
        """Are ``self`` and ``other`` one model input of unknown rank, or twins of it?"""
        if self is other:
            return self.shape is None and self.entry
        return (isinstance(other, Tensor) and self.shape is None and other.shape is None and self.entry and other.entry
                and self.entry_group is not None and self.entry_group is other.entry_group)

    def located(self, site, what: str) -> Tensor:
        """This tensor with its unknowns located at ``site`` (where an expression produced them)."""
        if self.shape is None:
            if self.lost is None:
                self.lost = Unknown(f"{what} gives a tensor of unknown rank", site)
            elif self.lost.site is None:
                self.lost = self.lost.at(site)
        elif any(isinstance(d, Unknown) and d.site is None for d in self.shape):
            self.shape = tuple(d.at(site) if isinstance(d, Unknown) else d for d in self.shape)
        return self


@dataclass(eq=False)
class PairStep:
    """A spatial resampling step on the forward path: a downsampling (its input size) or an upsampling."""

    event: object  # the trace event
    sizes: tuple  # the spatial sizes it saw: input for a downsampling, output for an upsampling
    axes: tuple = ()
    repaired: bool = False
    mismatch: object = None
    partner: object = None
    extra: dict = field(default_factory=dict)


def fmt_dim(d) -> str:
    if isinstance(d, Unknown):
        return "?"
    return str(d)


def fmt_shape(shape) -> str:
    if shape is None:
        return "(?)"
    return "(" + ", ".join(fmt_dim(d) for d in shape) + ")"


def json_dim(d):
    if isinstance(d, bool):
        return None
    if isinstance(d, int):
        return d
    if isinstance(d, Sym):
        return str(d)
    return None


def json_shape(shape):
    if shape is None:
        return None
    return [json_dim(d) for d in shape]
