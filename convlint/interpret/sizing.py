"""Which input sizes a run's model accepts, and which layer or merge excludes the others.

A model run on symbolic sizes (``input=(B, 3, H, W)``, or a model convlint runs on its own) records
what it did (:mod:`convlint.interpret.events`). This module reads that record and states, for each
symbolic size, the predicates every size must satisfy — each with where it comes from — and
solves them exactly with :mod:`convlint.interpret.sizes`:

- a conv, pool or transposed conv (a :class:`~convlint.interpret.events.LayerEvent` of family
  ``conv``/``pool``) and a torch resize: every output size ``≥ 1``. torch raises below 1; jax and
  flax return a zero-size array instead (``rejects`` is False: the size is counted invalid, as
  CVL002 reports it, and the wording says jax does not raise);
- a merge (:class:`~convlint.interpret.events.MergeEvent`): the sizes it joins are equal outside the
  joined dimension; with broadcasting, equal or one of them 1;
- a :class:`~convlint.interpret.events.SizeEvent` a shape function recorded (``pixel_unshuffle``,
  a reshape whose inferred size must divide evenly): ``size % m == 0``;
- the declared output (``output=``): each of its sizes equals the size the model returns.

Every predicate recorded is one the framework enforces (or, for jax, an empty array), so a size
that breaks one is certainly invalid. The set is *exact* — these are all the predicates — only
when the run followed every conv-family layer and merge with known sizes; otherwise
:attr:`VarSizes.exact` is False and the set is an upper bound (``no size`` stays certain).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from convlint.interpret import sizes as S
from convlint.interpret.events import ChannelEvent, LayerEvent, MergeEvent, SizeEvent
from convlint.interpret.symbolic import Sym, is_size
from convlint.interpret.values import Unknown

__all__ = ["Provenance", "VarSizes", "ModelSizes", "model_sizes", "size_constraints", "nearest_text"]


@dataclass(frozen=True)
class Provenance:
    """Where a constraint comes from: ``label`` names the layer or merge (``down3.maxpool_conv.0
    (stride 2)``, ``the merge torch.cat``), ``site`` is where a finding would go, ``code`` the
    rule that reports a size breaking it, ``rejects`` whether the framework raises (jax returns an
    empty array)."""

    label: str
    site: Any = None
    code: str = "CVL002"
    rejects: bool = True

    @property
    def where(self) -> str:
        pos = _position(self.site)
        if pos is None:
            return ""
        return f"{os.path.basename(self.site.module.parsed.path)}:{pos[0]}"

    def __str__(self) -> str:
        w = self.where
        return f"{self.label} at {w}" if w else self.label


@dataclass
class VarSizes:
    """The valid sizes of one symbolic size: ``sizes`` (a :class:`~convlint.interpret.sizes.SizeSet`,
    None when it could not be decided), whether it is ``exact``, and ``why`` not."""

    name: str
    sizes: S.SizeSet | None
    exact: bool = True
    why: list = field(default_factory=list)

    def to_json(self) -> dict:
        if self.sizes is None:
            return {"text": "not decided", "min": None, "period": None, "residues": [], "below_min": [], "exact": False, "why": list(self.why)}
        out = self.sizes.to_json()
        out["exact"] = self.exact
        if self.why:
            out["why"] = list(self.why)
        out["reasons"] = [
            {"text": text, "by": [str(p) for p in provs], "path": _path(provs[0].site), "line": _line(provs[0].site)}
            for text, provs in self.explain()
        ]
        return out

    def explain(self) -> list:
        """``[(what it allows, [Provenance, ...])]``: the constraints that exclude sizes, grouped by
        what each allows alone, in execution order. Of the plain minimums (``H ≥ m``) only the
        largest is kept: a smaller one is implied by it."""
        if self.sizes is None:
            return []
        groups: dict = {}
        plain_min = 0
        for r in self.sizes.reports:
            if not r.restricts:
                continue
            a = r.allowed
            if a.period == 1 and a.residues == (0,) and not a.below_min:
                plain_min = max(plain_min, a.min)
            groups.setdefault(a.text, (a, []))[1].append(r.provenance)
        out = []
        for text, (a, provs) in groups.items():
            if a.period == 1 and a.residues == (0,) and not a.below_min and a.min < plain_min:
                continue
            out.append((text, provs))
        return out


@dataclass
class ModelSizes:
    """Per symbolic size of a run's input: its :class:`VarSizes`."""

    vars: dict
    constraints: list
    exact: bool
    why: list

    @property
    def empty(self) -> list:
        """The sizes for which no value works (certain even when not exact)."""
        return [v for v in self.vars.values() if v.sizes is not None and v.sizes.empty]


def _position(site):
    if site is None or getattr(site, "node", None) is None or getattr(site, "module", None) is None:
        return None
    try:
        return site.module.parsed.position(site.node)
    except Exception:
        return None


def _path(site):
    return site.module.parsed.path if site is not None and getattr(site, "module", None) is not None else None


def _line(site):
    pos = _position(site)
    return pos[0] if pos else None


def _short_op(op: str) -> str:
    return op.rsplit(".", 1)[-1]


def _layer_label(ev: LayerEvent) -> str:
    detail = []
    if ev.name:
        detail.append(_short_op(ev.op))
    strides = {w.stride for w in ev.windows} if ev.windows and not ev.transposed else set()
    if strides and strides != {1}:
        detail.append("stride " + "×".join(str(w.stride) for w in ev.windows) if len(strides) > 1 else f"stride {strides.pop()}")
    if ev.transposed and ev.windows:
        ups = {w.input_dilation for w in ev.windows}
        if ups != {1}:
            detail.append("stride " + "×".join(str(w.input_dilation) for w in ev.windows) if len(ups) > 1 else f"stride {ups.pop()}")
    return ev.label + (f" ({', '.join(detail)})" if detail else "")


def _sym(x) -> bool:
    return isinstance(x, Sym)


def _has_unknown(shape) -> bool:
    return shape is None or any(isinstance(d, Unknown) or d is None for d in shape)


def size_constraints(run) -> tuple[list, list]:
    """``(constraints, losses)``: every predicate on symbolic sizes the run recorded, in execution
    order, and why the list may be incomplete (empty when it is complete)."""
    trace = run.trace
    cs: list = []
    losses: list = []
    if trace.incomplete:
        losses.append(f"the run stopped early ({trace.incomplete})")
    for _site, why in getattr(trace, "size_losses", ()):
        losses.append(why)
    for ev in trace.events:
        if (ev.input is not None and _has_unknown(ev.input)) or (ev.output is not None and _has_unknown(ev.output)):
            losses.append(f"{ev.label}: a size of its input or output is unknown")
        params = getattr(ev.layer, "params", None) or ev.params or {}
        unknown = [k for k, v in params.items() if isinstance(v, Unknown) or (isinstance(v, (tuple, list)) and any(isinstance(x, Unknown) for x in v))]
        if unknown:
            losses.append(f"{ev.label}: its {unknown[0]} is unknown (what it checks is not known)")
        if ev.family in ("conv", "pool", "resize"):
            if ev.input is not None and ev.output is None or (ev.input is not None and _has_unknown(ev.spatial_out)):
                if any(_sym(d) for d in (ev.input or ())):
                    losses.append(f"{ev.label}: sizes not followed")
            if ev.family == "resize" and ev.framework not in ("torch", None):
                continue
            jax = ev.framework in ("jax", "flax")
            prov = Provenance(_layer_label(ev), ev.site if ev.layer is not None else ev.call_site, "CVL002", rejects=not jax)
            for o in ev.spatial_out:
                if _sym(o):
                    cs.append(S.at_least(o, 1, prov))
    for ev in trace.checks:
        if isinstance(ev, MergeEvent):
            prov = Provenance(f"the merge {ev.op}", ev.site, "CVL005")
            ops = ev.operands
            if any(op.shape is None for op in ops):
                losses.append(f"{ev.op}: an operand's rank is unknown")
                continue
            if any(_has_unknown(op.shape) for op in ops) and any(_sym(d) for op in ops for d in op.shape):
                losses.append(f"{ev.op}: an operand's sizes are unknown")
            if ev.broadcast:
                a, b = ops[0].shape, ops[1].shape
                for x, y in zip(reversed(a), reversed(b)):
                    if (_sym(x) or _sym(y)) and is_size(x) and is_size(y) and x != y:
                        cs.append(S.broadcasts(x, y, prov))  # an unknown pair adds nothing (counted as a loss above)
                continue
            if not all(op.exact_rank for op in ops):
                continue
            first = ops[0].shape
            for op in ops[1:]:
                if len(op.shape) != len(first):
                    continue
                for axis, (x, y) in enumerate(zip(first, op.shape)):
                    if axis == ev.joined:
                        continue
                    if (_sym(x) or _sym(y)) and is_size(x) and is_size(y) and x != y:
                        cs.append(S.equal(x, y, prov))
        elif isinstance(ev, ChannelEvent):
            # a layer built for n features fed a symbolic count (a Linear after a flatten)
            if (_sym(ev.got) or _sym(ev.expected)) and is_size(ev.got) and is_size(ev.expected) and ev.got != ev.expected and ev.groups is None:
                cs.append(S.equal(ev.got, ev.expected, Provenance(f"{ev.label} (built for {ev.expected} {ev.what})", ev.site, "CVL003")))
        elif isinstance(ev, SizeEvent):
            cs.append(S.divisible(ev.size, ev.modulus, Provenance(ev.label, ev.site, ev.code)))
    declared = getattr(run.entry, "output", None)
    if declared is not None:
        from convlint.rules.cvl009_output_mismatch import first_tensor

        out = first_tensor(run.output)
        site = _entry_site(run)
        if out is None or out.shape is None or _has_unknown(out.shape):
            if any(not isinstance(d, int) for d in declared) or any(_sym(d) for d in (getattr(run.input, "shape", None) or ())):
                losses.append("the model's output sizes are unknown")
        elif len(out.shape) == len(declared):
            prov = Provenance("the declared output", site, "CVL009")
            for got, want in zip(out.shape, declared):
                want = want if isinstance(want, int) else Sym.var(want)
                if (_sym(got) or _sym(want)) and got != want:
                    cs.append(S.equal(got, want, prov))
    return cs, losses


def _entry_site(run):
    from convlint.interpret.values import Site

    node = run.entry.node
    node = node.name if hasattr(node, "name") else node
    return Site(run.module, node) if run.module is not None and node is not None else None


def _input_vars(run) -> list:
    """The symbolic sizes of the run's input, in order: declared names, else the sizes a model run
    on its own was given at its first layer."""
    names: list = []
    inputs = run.entry.inputs
    shapes = list(inputs.values()) if isinstance(inputs, dict) else list(inputs or [])
    for shape in shapes:
        for d in shape:
            if isinstance(d, str) and d not in names:
                names.append(d)
    if not names:
        for ev in run.trace.events:
            for d in ev.input or ():
                if isinstance(d, Sym) and d.op == "var" and d.args[0] not in names:
                    names.append(d.args[0])
            if names:
                break
    return names


def model_sizes(run) -> ModelSizes:
    """The valid sizes of each symbolic input size of ``run`` (cached on the run)."""
    cached = getattr(run, "_model_sizes", None)
    if cached is not None:
        return cached
    cs, losses = size_constraints(run)
    spatial: set = set()
    for ev in run.trace.events:
        if ev.family in ("conv", "pool", "resize"):
            for d in ev.spatial_in:
                if _sym(d):
                    spatial |= d.variables()
    involved: set = set()
    for c in cs:
        involved |= c.variables()
    result: dict = {}
    for name in _input_vars(run):
        if name not in spatial and name not in involved:
            continue
        mine = [c for c in cs if c.variables() == {name}]
        shared = [c for c in cs if name in c.variables() and len(c.variables()) > 1]
        why = list(losses)
        if shared:
            why.append(f"{len(shared)} constraint(s) tie {name} to another size: {', '.join(str(c) for c in shared[:2])}")
        try:
            sset = S.valid_sizes(name, mine)
        except ValueError as e:
            result[name] = VarSizes(name, None, False, why + [str(e)])
            continue
        # the recorded constraints are all necessary: a set they leave empty is empty for certain
        result[name] = VarSizes(name, sset, not why or sset.empty, why)
    out = ModelSizes(result, cs, not losses, losses)
    try:
        run._model_sizes = out
    except AttributeError:
        pass
    return out


def nearest_text(sets: list, values: list) -> str | None:
    """For concrete sizes ``values`` of the symbolic sizes ``sets`` (same order; a set may be
    None for a size with no constraint): ``use 96×128 or 104×128, or pad to 104×128``, or None when
    the sizes are valid or a set is empty."""
    below, above = [], []
    bad = False
    for s, v in zip(sets, values):
        if s is None or v in s:
            below.append(v)
            above.append(v)
            continue
        if s.empty:
            return None
        bad = True
        near = s.nearest(v)
        lo = [m for m in near if m < v]
        hi = [m for m in near if m > v]
        below.append(lo[-1] if lo else None)
        above.append(hi[0] if hi else None)
    if not bad:
        return None
    opts = []
    for cand in (below, above):
        if all(c is not None for c in cand):
            opts.append("×".join(map(str, cand)))
    if not opts:
        return None
    text = "use " + " or ".join(opts)
    if all(c is not None for c in above):
        text += f", or pad to {'×'.join(map(str, above))}"
    return text


def no_size_issues(run, code: str) -> list:
    """``code``'s findings for a model that accepts no value of a symbolic input size, though
    each of its constraints alone allows some (a constraint that allows none is reported by its
    own rule already): at the constraint that leaves no size, with what the ones before it allow."""
    from convlint.interpret.events import Issue

    if not any(isinstance(d, Sym) for d in _entry_dims(run)) and run.entry.source != "auto":
        return []
    try:
        ms = model_sizes(run)
    except Exception:  # a model the solver cannot decide is not a finding
        return []
    out = []
    for v in ms.empty:
        mine = [c for c in v.sizes.constraints]
        if any(r.allowed.empty for r in v.sizes.reports):
            continue
        for k in range(1, len(mine) + 1):
            if S.solve(v.name, mine[:k]).empty:
                culprit = mine[k - 1]
                prov = culprit.provenance
                if prov.code != code or prov.site is None:
                    break
                before = S.solve(v.name, mine[: k - 1])
                alone = S.solve(v.name, [culprit])
                earlier = [str(c.provenance) for c in mine[: k - 1] if S.solve(v.name, [c]).text != f"{v.name} ≥ 1"]
                by = f" ({', '.join(dict.fromkeys(earlier[:3]))}{' and more' if len(set(earlier)) > 3 else ''})" if earlier else ""
                msg = (f"no input size {v.name} works: {prov.label} needs {alone.text}, but the layers before it{by} "
                       f"allow only {before.text}")
                out.append(Issue(code, prov.site, msg, key=("no size", v.name)))
                break
    return out


def _entry_dims(run) -> list:
    inputs = run.entry.inputs
    shapes = list(inputs.values()) if isinstance(inputs, dict) else list(inputs or [])
    return [Sym.var(d) if isinstance(d, str) else d for shape in shapes for d in shape]


SIZE_CODES = ("CVL002", "CVL004", "CVL005", "CVL009")  # findings a wrong input size can cause


def symbolic_entry(run):
    """The run's entry with its concrete spatial input sizes replaced by symbolic ones (batch and
    channels kept), and the names in order with their concrete values: ``(entry, [(name, value)])``,
    or None. The spatial axes are those the first conv-family layer applied to the input slides over;
    a declared output size equal to a replaced input size on the same axis is replaced too."""
    from dataclasses import replace

    entry = run.entry
    if entry.source == "auto" or entry.inputs is None:
        return None
    inputs = entry.inputs
    items = list(inputs.items()) if isinstance(inputs, dict) else list(enumerate(inputs))
    used = {d for _, shape in items for d in shape if isinstance(d, str)}
    for ev in run.trace.events:
        if ev.family not in ("conv", "pool", "resize") or ev.input is None:
            continue
        for key, shape in items:
            if tuple(ev.input) != tuple(shape) or not ev.spatial_axes:
                continue
            rank = len(shape)
            axes = sorted({a % rank for a in ev.spatial_axes})
            if not all(isinstance(shape[a], int) for a in axes):
                return None
            names = {1: ("L",), 2: ("H", "W"), 3: ("D", "H", "W")}.get(len(axes), tuple(f"S{i}" for i in range(len(axes))))
            if used & set(names):
                return None
            new = list(shape)
            for a, n in zip(axes, names):
                new[a] = n
            new_inputs = dict(inputs) if isinstance(inputs, dict) else list(inputs)
            new_inputs[key] = tuple(new)
            output = entry.output
            if output is not None and len(output) == rank:
                output = tuple(names[axes.index(i)] if i in axes and d == shape[i] else d for i, d in enumerate(output))
            return replace(entry, inputs=new_inputs, output=output), [(n, shape[a]) for a, n in zip(axes, names)]
        return None
    return None


def suggest_sizes(interp, module, run) -> str | None:
    """For a declared concrete input that breaks the model's size constraints: ``valid sizes: H ≥ 16,
    H ≡ 0 (mod 16) and W …: use 96×128 or 104×128, or pad to 104×128``, ``only H = 64 and W = 64
    work`` when finitely many sizes do, or that no size works, from a run with symbolic spatial
    sizes. None when the sizes are fine, or not decided exactly."""
    from convlint.interpret.entries import run_entry

    made = symbolic_entry(run)
    if made is None:
        return None
    entry, named = made
    saved = interp.trace
    try:
        sym_run = run_entry(interp, module, entry)
    finally:
        interp.trace = saved
    ms = model_sizes(sym_run)
    sets = []
    for name, value in named:
        v = ms.vars.get(name)
        if v is None:
            sets.append(None)
            continue
        if v.sizes is None or not (v.exact or v.sizes.empty):
            return None
        sets.append(v.sizes)
    if not any(s is not None and value not in s for s, (_, value) in zip(sets, named)):
        return None
    rules = [s.text for s in sets if s is not None]
    empty = [s for s in sets if s is not None and s.empty]
    if empty:
        return f"no input size works ({', '.join(s.name for s in empty)}: no size)"
    if any(s is not None and s.finite and value not in s for s, (_, value) in zip(sets, named)):
        # a few sizes only (a 1 that broadcasts, the one size a Linear was built for): say which,
        # without advising one — a size that merely makes a branch's output 1 is no fix
        return f"only {' and '.join(rules)} work"
    hint = nearest_text(sets, [value for _, value in named])
    head = f"valid sizes: {' and '.join(rules)}"
    return f"{head}; {hint}" if hint else head
