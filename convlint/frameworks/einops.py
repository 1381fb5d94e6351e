"""einops: ``rearrange`` / ``repeat`` / ``reduce`` (names, numbers, ``1``, ``()``, groups and
``...``), ``pack`` / ``unpack``, ``einsum``, ``parse_shape``, and the layers
(``einops.layers.{torch,flax}.Rearrange`` / ``Reduce`` / ``EinMix``).

A pattern convlint cannot follow, or an axis whose size it cannot infer, gives unknown dims —
never a guess. An input whose rank is a lower bound keeps what an ellipsis in front of the named
axes allows (the named trailing dims)."""

from __future__ import annotations

from convlint.frameworks import shapes as C
from convlint.frameworks.base import Layer, Signature, is_int
from convlint.frameworks.jax import arrays as A
from convlint.frameworks.jax import numpy as N
from convlint.frameworks.jax.registry import Registry
from convlint.frameworks.shapes import numel
from convlint.interpret.symbolic import Sym, exact_div, is_size
from convlint.interpret.tensor import Tensor
from convlint.interpret.values import Unknown

FRAMEWORK = "einops"
CATALOGUE: dict = {}
REGISTRY = Registry(CATALOGUE)
MODULES = {"einops", "einops.layers", "einops.layers.torch", "einops.layers.flax"}
ALIASES: dict = {}

ELLIPSIS = "..."


# ---------------------------------------------------------------------------------- patterns

def parse_side(side: str):
    """``"b (h w) ... c"`` → ``[["b"], ["h", "w"], "...", ["c"]]``; None when malformed. Numbers
    are anonymous axes of that size (``"1"`` included); ``()`` is a group of size 1."""
    out: list = []
    group = None
    for tok in side.replace("(", " ( ").replace(")", " ) ").split():
        if tok == "(":
            if group is not None:
                return None
            group = []
        elif tok == ")":
            if group is None:
                return None
            out.append(group)
            group = None
        elif tok in (ELLIPSIS, "…"):
            if group is not None:
                group.append(ELLIPSIS)
            else:
                out.append(ELLIPSIS)
        elif tok.isidentifier() or tok.isdigit() or tok == "_":
            if group is not None:
                group.append(tok)
            else:
                out.append([tok])
        else:
            return None
    if group is not None:
        return None
    return out


def _atom_size(atom, sizes):
    if atom.isdigit():
        return int(atom)
    return sizes.get(atom)


def _product(vals):
    total = numel(vals)
    return total if is_size(total) else Unknown("einops axis")


def infer(left, x: Tensor, axes: dict):
    """Match the left side to ``x``'s dims: ``(sizes by name, ellipsis dims)``, or None."""
    if x.shape is None:
        return None
    sizes = {k: v for k, v in axes.items() if is_size(v)}
    n = len(x.shape)
    if ELLIPSIS in left:
        e = left.index(ELLIPSIS)
        before, after = left[:e], left[e + 1 :]
        k = n - len(before) - len(after)
        if k < 0:
            return None
        if not x.exact_rank and before:
            return None
        ell = tuple(x.shape[len(before) : len(before) + k])
        pairs = list(zip(before, x.shape[: len(before)])) + list(zip(after, x.shape[n - len(after) :]))
    else:
        # a pattern without an ellipsis fixes the rank (einops refuses any other): a rank known
        # only as a lower bound is that rank when the two agree
        if len(left) != n:
            return None
        ell = None
        pairs = list(zip(left, x.shape))
    for group, d in pairs:
        if ELLIPSIS in group:
            return None
        unknown = [a for a in group if _atom_size(a, sizes) is None]
        known = _product([_atom_size(a, sizes) for a in group if _atom_size(a, sizes) is not None])
        if len(unknown) == 1:
            if is_int(d) and is_int(known) and known > 0:
                sizes[unknown[0]] = d // known
            elif is_size(d) and is_int(known) and known == 1:
                sizes[unknown[0]] = d
            elif isinstance(d, Sym) and is_int(known) and known > 0:
                sizes[unknown[0]] = d // known
            elif isinstance(d, Sym) and isinstance(known, Sym) and (q := exact_div(d, known)) is not None:
                sizes[unknown[0]] = q  # '(b h w)' with h and w given: b
            else:
                sizes[unknown[0]] = Unknown("einops axis")
        else:
            for a in unknown:
                sizes.setdefault(a, Unknown("einops axis"))
    return sizes, ell


def compose(right, sizes, ell):
    """The dims of the right side."""
    out = []
    for el in right:
        if el == ELLIPSIS:
            if ell is None:
                return None
            out.extend(ell)
            continue
        vals = []
        for a in el:
            if a == ELLIPSIS:
                if ell is None:
                    return None
                vals.append(numel(ell) if ell else 1)
            else:
                s = _atom_size(a, sizes)
                vals.append(s if s is not None else Unknown(f"einops axis {a!r} not given"))
        out.append(_product(vals) if vals else 1)
    return out


def transform(pattern, x, axes, mode):
    """``rearrange`` / ``repeat`` / ``reduce`` of ``x`` by ``pattern``."""
    x = A.as_array(x) if not isinstance(x, Tensor) else x
    if x is None:
        if isinstance(pattern, str) and "->" in pattern:
            right = parse_side(pattern.split("->")[1])
            if right is not None and ELLIPSIS not in right and not any(ELLIPSIS in g for g in right):
                return Tensor(tuple(Unknown("einops of an unknown input") for _ in right))
        return Unknown(f"einops.{mode} of an unknown value")
    if not isinstance(pattern, str) or "->" not in pattern:
        return x.derive(None)
    lhs, rhs = pattern.split("->", 1)
    left, right = parse_side(lhs), parse_side(rhs)
    if left is None or right is None:
        return x.derive(None)
    inferred = infer(left, x, axes)
    if inferred is None:
        exact = ELLIPSIS not in right and not any(ELLIPSIS in g for g in right if g != ELLIPSIS)
        return x.derive(tuple(Unknown("einops") for _ in right)) if exact else x.derive(None)
    sizes, ell = inferred
    dims = compose(right, sizes, ell)
    if dims is None:
        return x.derive(None)
    out = x.derive(tuple(dims), label=f"einops.{mode}")
    out.exact_rank = x.exact_rank or ELLIPSIS not in right
    return out


# ---------------------------------------------------------------------------------- functions

def _named(kwargs, drop):
    return {k: v for k, v in kwargs.items() if k not in drop and k not in ("*", "**")}


def _tensor_list(interp, v):
    if isinstance(v, Tensor):
        return None
    items = interp.iterate(v) if isinstance(v, (list, tuple)) else None
    if items is None:
        return None
    xs = [A.as_array(t) for t in items]
    return None if any(t is None for t in xs) else xs


def _fn(mode):
    sig = Signature.of("tensor", "pattern", "reduction") if mode == "reduce" else Signature.of("tensor", "pattern")

    def fn(interp, args, kwargs, node):
        p = sig.bind(args, kwargs)
        x = p["tensor"]
        xs = _tensor_list(interp, x)
        if xs is not None:  # a list of tensors is stacked first (a new leading axis)
            x = N.concat(interp, xs, 0, node, f"einops.{mode}", stack=True) if xs else Unknown("empty list")
        return transform(p["pattern"], x, _named(kwargs, ("tensor", "pattern", "reduction")), mode)

    return fn, sig


PACK_SIG = Signature.of("tensors", "pattern")


def _pack_parts(pattern):
    toks = pattern.split() if isinstance(pattern, str) else None
    if toks is None or toks.count("*") != 1:
        return None
    star = toks.index("*")
    return star, len(toks) - star - 1


def pack(interp, args, kwargs, node):
    """``pack([a, b], "b * c")``: the ``*`` parts flattened and joined; returns (packed, shapes)."""
    p = PACK_SIG.bind(args, kwargs)
    parts = _pack_parts(p["pattern"])
    xs = _tensor_list(interp, p["tensors"])
    if parts is None or xs is None or not xs:
        return (Unknown("pack"), Unknown("packed shapes"))
    before, after = parts
    stars, total, fixed = [], 0, None
    for x in xs:
        if x.shape is None or len(x.shape) < before + after or (not x.exact_rank and before):
            return (Tensor(None, framework=x.framework), Unknown("packed shapes"))
        n = len(x.shape)
        st = tuple(x.shape[before : n - after])
        stars.append(st)
        total = A.add(total, numel(st)) if is_size(total) else total
        f = tuple(x.shape[:before]) + tuple(x.shape[n - after :])
        fixed = f if fixed is None else tuple(a if C.dims_equal(a, b) else (a if not isinstance(a, Unknown) else b) for a, b in zip(fixed, f))
    if len(xs) > 1:
        from convlint.interpret.events import MergeEvent

        interp.trace.record(MergeEvent(interp.site(node), "einops.pack", [_packed_operand(x, before, after) for x in xs],
                                       joined=before if all(x.exact_rank for x in xs) else None))
    base = max(xs, key=lambda t: len(t.downs))
    out = base.derive(tuple(fixed[:before]) + (total,) + tuple(fixed[before:]))
    out.exact_rank = all(x.exact_rank for x in xs)
    return (out, [tuple(s) for s in stars])


def _packed_operand(x: Tensor, before: int, after: int):
    """``x`` as ``pack`` joins it: its ``*`` dims flattened into one (tensors of different ranks
    are packed together), its other dims where they were."""
    from dataclasses import replace

    from convlint.frameworks.shapes import operand

    n = len(x.shape)
    shape = tuple(x.shape[:before]) + (numel(tuple(x.shape[before:n - after])),) + tuple(x.shape[n - after:])
    whole = operand(x)

    def trail(axis: int) -> str:  # the packed dim's axis in ``x``: its history's own
        return whole.trail(axis if axis < before else n - after + axis - before - 1) if axis != before else "packed"

    return replace(whole, shape=shape, trail=trail, history=())  # the branches' histories have other ranks


UNPACK_SIG = Signature.of("tensor", "packed_shapes", "pattern")


def unpack(interp, args, kwargs, node):
    """``unpack(x, ps, "b * c")``: one tensor per packed shape, the ``*`` dim restored."""
    p = UNPACK_SIG.bind(args, kwargs)
    parts = _pack_parts(p["pattern"])
    x = A.as_array(p["tensor"])
    shapes = interp.iterate(p["packed_shapes"]) if isinstance(p["packed_shapes"], (list, tuple)) else None
    if parts is None or x is None or shapes is None:
        return Unknown("unpack")
    before, after = parts
    if x.shape is None or len(x.shape) != before + after + 1:
        return [x.derive(None) for _ in shapes]
    out = []
    for s in shapes:
        s = A.shape_arg(s) if not isinstance(s, Tensor) else None
        if s is None:
            out.append(x.derive(None))
            continue
        out.append(x.derive(tuple(x.shape[:before]) + tuple(s) + tuple(x.shape[before + 1 :])))
    return out


def einsum(interp, args, kwargs, node):
    """``einops.einsum(a, b, "b h w c, c d -> b h w d")``: axis names become letters."""
    if not args or not isinstance(args[-1], str):
        return Unknown("einops.einsum without a pattern")
    pattern, tensors = args[-1], list(args[:-1])
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = list(tensors[0])
    if "->" not in pattern:
        return Unknown("einops.einsum needs an output")
    letters: dict = {}
    pool = iter("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")

    def side(s):
        out = []
        for tok in s.split():
            if tok in (ELLIPSIS, "…"):
                out.append("...")
            elif tok.isidentifier():
                if tok not in letters:
                    letters[tok] = next(pool)
                out.append(letters[tok])
            else:
                return None
        return "".join(out)

    lhs, rhs = pattern.split("->", 1)
    terms = [side(t) for t in lhs.split(",")]
    out = side(rhs)
    if out is None or any(t is None for t in terms):
        return Unknown("einops.einsum pattern")
    return N.einsum_shape([",".join(terms) + "->" + out, *tensors], {})


def parse_shape(interp, args, kwargs, node):
    p = Signature.of("x", "pattern").bind(args, kwargs)
    x = A.as_array(p["x"])
    left = parse_side(p["pattern"]) if isinstance(p["pattern"], str) else None
    if x is None or left is None or any(el != ELLIPSIS and len(el) != 1 for el in left):
        return Unknown("parse_shape")
    inferred = infer(left, x, {})
    if inferred is None:
        return Unknown("parse_shape")
    sizes, _ = inferred
    names = [el[0] for el in left if el != ELLIPSIS and el[0] != "_" and not el[0].isdigit()]
    return {k: sizes[k] for k in names}


# ---------------------------------------------------------------------------------- layers

def _layer(op, mode):
    sig = Signature.of("pattern", "reduction") if mode == "reduce" else Signature.of("pattern")

    def build(interp, args, kwargs, node):
        p = sig.bind(args, kwargs)
        axes = _named(kwargs, ("pattern", "reduction", "name", "parent"))
        params = {"pattern": p["pattern"], **axes}

        def apply(i, layer, a, k, n):
            x = a[0] if a else k.get("x", k.get("input", Unknown("input")))
            return transform(p["pattern"], x, axes, mode)

        name = kwargs.get("name")
        return Layer(op, params, interp.site(node), FRAMEWORK, apply, name=name if isinstance(name, str) else None)

    return build, sig


EINMIX_SIG = Signature.of("pattern", "weight_shape", ("bias_shape", None))


def _einmix(op):
    def build(interp, args, kwargs, node):
        p = EINMIX_SIG.bind(args, kwargs)
        axes = _named(kwargs, ("pattern", "weight_shape", "bias_shape", "name", "parent"))

        def apply(i, layer, a, k, n):
            x = A.as_array(a[0]) if a else None
            pat = p["pattern"]
            if x is None or not isinstance(pat, str) or "->" not in pat:
                return Unknown("EinMix")
            lhs, rhs = pat.split("->", 1)
            left, right = parse_side(lhs), parse_side(rhs)
            if left is None or right is None:
                return x.derive(None)
            inferred = infer(left, x, axes)
            if inferred is None:
                return x.derive(None)
            sizes, ell = inferred
            dims = compose(right, sizes, ell)
            return x.derive(tuple(dims)) if dims is not None else x.derive(None)

        return Layer(op, {"pattern": p["pattern"], **axes}, interp.site(node), FRAMEWORK, apply)

    return build


def _register():
    R = REGISTRY
    for mode in ("rearrange", "repeat", "reduce"):
        fn, sig = _fn(mode)
        R.model(f"einops.{mode}", fn, sig)
        for sub in ("torch", "flax"):
            build, lsig = _layer(f"einops.layers.{sub}.{mode.capitalize()}", mode)
            R.model(f"einops.layers.{sub}.{mode.capitalize()}", build, lsig, kind="layer")
    for sub in ("torch", "flax"):
        R.model(f"einops.layers.{sub}.EinMix", _einmix(f"einops.layers.{sub}.EinMix"), EINMIX_SIG, kind="layer")
    for sub in ("torch", "flax"):
        R.unknowns(f"einops.layers.{sub}", "RearrangeMixin ReduceMixin", "a mixin base class: the layers built on it are modelled")
    R.unknown("einops.layers.torch.apply_for_scriptable_torch", "a TorchScript helper: not followed")
    R.model("einops.pack", pack, PACK_SIG)
    R.model("einops.unpack", unpack, UNPACK_SIG)
    R.model("einops.einsum", einsum)
    R.model("einops.parse_shape", parse_shape)
    R.preserve("einops.asnumpy", N.same)


_register()

SEMANTICS = None


def upsampling_fix(event, din, want):
    return None
