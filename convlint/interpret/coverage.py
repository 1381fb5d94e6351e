"""How much of a model the engine followed, and where it lost track.

A conv-family layer (a conv, a pool, a resize: the catalogue's ``family`` tag) is *resolved* when
its input and output shapes are fully known (ints or symbolic sizes). For every layer that is not,
the *root cause* is the first place a value it depends on became unknown: the site an
:class:`~convlint.interpret.values.Unknown` carries (set where an expression first produced it),
or the argument of the layer that could not be determined, or — for a layer that was built but
never applied — the layer itself. Causes are reported once, with how many layers they cost.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from convlint.interpret.events import UnresolvedEvent
from convlint.interpret.values import Unknown

__all__ = ["Coverage", "Loss", "coverage"]


@dataclass
class Loss:
    """One root cause: where the engine lost track, why, and the conv-family layers it cost."""

    site: object  # Site or None
    reason: str
    layers: list = field(default_factory=list)  # (op, site) of the layers not followed


@dataclass
class Coverage:
    resolved: int = 0
    total: int = 0
    lost: list = field(default_factory=list)  # Loss, in order of first appearance


def _known(shape) -> bool:
    return shape is not None and not any(isinstance(d, Unknown) for d in shape)


def _first_unknown(shape):
    if shape is None:
        return None
    for d in shape:
        if isinstance(d, Unknown):
            return d
    return None


def coverage(run) -> Coverage:
    cov = Coverage()
    losses: dict = {}

    def lose(u: Unknown | None, fallback_site, fallback_reason: str, ev_op: str, ev_site) -> None:
        if u is not None:
            u = u.root()
        if u is not None and u.site is not None:
            key = (id(u.site.module), id(u.site.node), u.reason)
            site, reason = u.site, u.reason
        else:
            key = (id(getattr(fallback_site, "module", None)), id(getattr(fallback_site, "node", None)), fallback_reason)
            site, reason = fallback_site, (fallback_reason if u is None else f"{fallback_reason}: {u.reason}")
        loss = losses.get(key)
        if loss is None:
            loss = losses[key] = Loss(site, reason)
            cov.lost.append(loss)
        loss.layers.append((ev_op, ev_site))

    unresolved = {id(e.layer): e for e in run.trace.of(UnresolvedEvent) if e.layer is not None}
    applied = set()
    for ev in run.trace.events:
        if ev.family is None:
            continue
        if ev.layer is not None:
            applied.add(id(ev.layer))
        cov.total += 1
        if _known(ev.input) and _known(ev.output):
            cov.resolved += 1
            continue
        label = ev.op.rsplit(".", 1)[-1]
        if ev.input is None:
            lose(ev.input_lost, ev.call_site or ev.site, f"the input of {label} has an unknown shape", ev.op, ev.site)
        elif not _known(ev.input):
            lose(_first_unknown(ev.input), ev.call_site or ev.site, f"a size of the input of {label} is unknown", ev.op, ev.site)
        elif ev.layer is not None and id(ev.layer) in unresolved:
            un = unresolved[id(ev.layer)]
            cause = next((u for u in un.causes if u.site is not None), None)
            lose(cause, ev.site, f"{label}: could not determine {', '.join(un.reasons)}", ev.op, ev.site)
        else:
            lose(_first_unknown(ev.output), ev.site, f"{label} gives a size that is not known", ev.op, ev.site)
    for layer in run.trace.layers:
        if id(layer) in applied:
            continue
        cov.total += 1
        label = layer.op.rsplit(".", 1)[-1]
        reason = run.trace.incomplete or "the forward pass never applies it (the path to it was lost)"
        lose(None, layer.site, f"{label} is built but not followed: {reason}", layer.op, layer.site)
    return cov
