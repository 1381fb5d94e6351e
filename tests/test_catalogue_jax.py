"""The jax / flax / einops catalogue: complete, and proven against jax.

1. **Complete.** Every public callable of the *installed* ``jax.numpy``, ``jax.lax``,
   ``jax.image``, ``jax.nn``, ``jax.random``, ``flax.linen`` and ``einops`` (and einops' layers)
   is modelled, shape-preserving, or marked unknown with a reason.
2. **Proven.** Property-based tests sample arguments and input shapes for each modelled family and
   compare convlint's value with ``jax.eval_shape``: a dim convlint states equals jax's, an
   unknown is allowed; where jax returns a zero-size conv/pool output, the LayerEvent carries the
   raw size below 1 (CVL002's input). Derandomised and small by default; ``CONVLINT_SWEEP=1`` runs
   a long random sweep.
3. **Partial knowledge.** Inputs with unknown dims: convlint never states a wrong dim, and keeps
   the dims that do not depend on the unknown one.
"""

from __future__ import annotations

import sys
import types

import pytest

pytest.importorskip("jax")
pytest.importorskip("flax")

from hypothesis import assume, given  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from convlint.frameworks import jax as fjax  # noqa: E402
from convlint.interpret.events import LayerEvent  # noqa: E402
from tests.jaxcheck import Arr, check, examples, real, shape_of, static  # noqa: E402

# ---------------------------------------------------------------------------------- completeness


# flax.linen re-exports jax's activations as its own API
OWN_ROOTS = {"jax": ("jax", "jaxlib"), "flax": ("flax", "jax", "jaxlib")}


def public_callables(mod, classes=None) -> set[str]:
    """The module's own public callables: no private names, submodules, non-callables, names
    imported from other packages (``typing.cast``) or types (except subclasses of ``classes``:
    flax modules, einops layers)."""
    out = set()
    root = mod.__name__.split(".")[0]
    for name in dir(mod):
        if name.startswith("_"):
            continue
        v = getattr(mod, name)
        if isinstance(v, types.ModuleType) or not callable(v):
            continue
        origin = getattr(v, "__module__", None)
        if isinstance(origin, str) and origin.split(".")[0] not in OWN_ROOTS.get(root, (root,)):
            continue
        if isinstance(v, type):
            if classes is not None and issubclass(v, classes):
                out.add(name)
            continue
        out.add(name)
    return out


def _namespaces():
    import einops
    import einops.layers.flax
    import einops.layers.torch
    import flax.linen
    import jax.image
    import jax.lax
    import jax.nn
    import jax.numpy
    import jax.random

    from convlint.frameworks import einops as feinops
    from convlint.frameworks import flax as fflax

    return [
        ("jax.numpy", jax.numpy, None, fjax.REGISTRY),
        ("jax.lax", jax.lax, None, fjax.REGISTRY),
        ("jax.image", jax.image, None, fjax.REGISTRY),
        ("jax.nn", jax.nn, None, fjax.REGISTRY),
        ("jax.random", jax.random, None, fjax.REGISTRY),
        ("flax.linen", flax.linen, flax.linen.Module, fflax.REGISTRY),
        ("einops", einops, None, feinops.REGISTRY),
        ("einops.layers.torch", einops.layers.torch, object, feinops.REGISTRY),
        ("einops.layers.flax", einops.layers.flax, object, feinops.REGISTRY),
    ]


NAMESPACES = ["jax.numpy", "jax.lax", "jax.image", "jax.nn", "jax.random", "flax.linen", "einops", "einops.layers.torch", "einops.layers.flax"]


def coverage_table() -> dict[str, dict[str, int]]:
    table = {}
    for prefix, mod, classes, reg in _namespaces():
        status = reg.of(prefix)
        names = public_callables(mod, classes)
        row = {"modelled": 0, "preserving": 0, "unknown": 0, "missing": 0}
        for n in names:
            row[status.get(n, "missing")] += 1
        table[prefix] = row
    return table


@pytest.mark.parametrize("prefix", NAMESPACES)
def test_every_public_callable_is_classified(prefix):
    if prefix == "einops.layers.torch":
        pytest.importorskip("torch")
    ns = {p: (m, c, r) for p, m, c, r in _namespaces()}
    mod, classes, reg = ns[prefix]
    status = reg.of(prefix)
    missing = sorted(public_callables(mod, classes) - set(status))
    assert not missing, f"{prefix}: neither modelled, shape-preserving nor marked unknown: {missing}"


def test_unknown_entries_carry_a_reason_and_return_it():
    from convlint.frameworks import einops as feinops
    from convlint.frameworks import flax as fflax

    for reg in (fjax.REGISTRY, fflax.REGISTRY, feinops.REGISTRY):
        for name, st_ in reg.status.items():
            if st_ == "unknown":
                assert reg.reasons[name].strip(), name
    value, _ = static("jnp.save('f.npy', x)", {"x": Arr((2, 3))})
    assert "writes a file" in value.reason


def test_coverage_report(capsys):
    table = coverage_table()
    with capsys.disabled():
        sys.stderr.write("\nconvlint jax catalogue: " + "; ".join(
            f"{ns}: {r['modelled']} modelled, {r['preserving']} shape-preserving, {r['unknown']} unknown" for ns, r in table.items()) + "\n")
    assert all(r["missing"] == 0 for r in table.values())


# ---------------------------------------------------------------------------------- strategies

dims = st.integers(1, 5)
shapes = st.lists(dims, min_size=0, max_size=4).map(tuple)
shapes1 = st.lists(dims, min_size=1, max_size=4).map(tuple)


@st.composite
def broadcastable(draw, n=2):
    """``n`` shapes that broadcast together (some dims 1, some leading dims dropped)."""
    base = draw(st.lists(dims, min_size=0, max_size=4))
    out = []
    for _ in range(n):
        drop = draw(st.integers(0, len(base)))
        s = [1 if draw(st.booleans()) and draw(st.booleans()) else d for d in base[drop:]]
        out.append(tuple(s))
    return out


@st.composite
def axis_of(draw, rank, allow_none=True, allow_tuple=True):
    choices = []
    if allow_none:
        choices.append(st.none())
    if rank:
        choices.append(st.integers(-rank, rank - 1))
        if allow_tuple:
            choices.append(st.lists(st.integers(0, rank - 1), min_size=1, max_size=rank, unique=True).map(tuple))
    return draw(st.one_of(*choices)) if choices else None


INT_ONLY = {"bitwise_count", "bitwise_invert", "bitwise_not", "invert", "bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_left_shift",
            "bitwise_right_shift", "left_shift", "right_shift", "gcd", "lcm"}

# ---------------------------------------------------------------------------------- jax.numpy families


@examples(40)
@given(st.sampled_from(sorted(set(fjax.numpy.PRESERVING.split()) - {"astype"})), shapes)
def test_jnp_shape_preserving(name, shape):
    dtype = "int32" if name in INT_ONLY else "float32"
    check(f"jnp.{name}(x)", {"x": Arr(shape, dtype)}, require_known=True)


@examples(40)
@given(st.sampled_from(sorted(fjax.numpy.BINARY.split())), broadcastable(2))
def test_jnp_binary_broadcasts(name, pair):
    dtype = "int32" if name in INT_ONLY else "float32"
    check(f"jnp.{name}(x, y)", {"x": Arr(pair[0], dtype), "y": Arr(pair[1], dtype)}, require_known=True)
    check(f"jnp.{name}(x, 2)", {"x": Arr(pair[0], dtype)}, require_known=True)


@examples(30)
@given(broadcastable(3))
def test_jnp_where_and_clip(three):
    env = {"c": Arr(three[0], "bool"), "x": Arr(three[1]), "y": Arr(three[2])}
    check("jnp.where(c, x, y)", env, require_known=True)
    check("jnp.clip(x, y, 1.0)", env, require_known=True)


@examples(60)
@given(st.sampled_from(sorted(fjax.numpy.REDUCTIONS.split()) + ["count_nonzero"]), st.data())
def test_jnp_reductions(name, data):
    shape = data.draw(shapes1)
    axis = data.draw(axis_of(len(shape), allow_tuple=name not in ("argmax", "argmin", "nanargmax", "nanargmin")))
    keep = data.draw(st.booleans())
    env = {"x": Arr(shape)}
    check(f"jnp.{name}(x, axis={axis!r}, keepdims={keep})", env, require_known=True)
    check(f"x.{name}(axis={axis!r}, keepdims={keep})" if name in ("sum", "mean", "max", "min", "prod", "std", "var", "all", "any") else f"jnp.{name}(x)", env)


@examples(30)
@given(shapes1, st.data())
def test_jnp_reductions_whole_array_is_0d(shape, data):
    name = data.draw(st.sampled_from(["sum", "mean", "max", "argmax", "median", "std"]))
    assert check(f"jnp.{name}(x)", {"x": Arr(shape)}, require_known=True) == ((), True)


@st.composite
def reshape_target(draw, shape):
    n = 1
    for d in shape:
        n *= d
    parts = []
    while n > 1 and len(parts) < 4:
        divs = [d for d in range(2, n + 1) if n % d == 0]
        d = draw(st.sampled_from(divs))
        parts.append(d)
        n //= d
    if n > 1 or not parts:
        parts.append(n)
    if draw(st.booleans()):
        parts = list(parts)
        parts[draw(st.integers(0, len(parts) - 1))] = -1
    return tuple(parts)


@examples(60)
@given(shapes1, st.data())
def test_jnp_shape_manipulation(shape, data):
    r = len(shape)
    env = {"x": Arr(shape)}
    target = data.draw(reshape_target(shape))
    check(f"jnp.reshape(x, {target!r})", env, require_known=True)
    check(f"x.reshape({target!r})", env, require_known=True)
    perm = tuple(data.draw(st.permutations(range(r))))
    check(f"jnp.transpose(x, {perm!r})", env, require_known=True)
    check("jnp.transpose(x)", env, require_known=True)
    a, b = data.draw(st.integers(-r, r - 1)), data.draw(st.integers(-r, r - 1))
    check(f"jnp.swapaxes(x, {a}, {b})", env, require_known=True)
    check(f"jnp.moveaxis(x, {a}, {b})", env, require_known=True)
    e = data.draw(st.integers(-r - 1, r))
    check(f"jnp.expand_dims(x, {e})", env, require_known=True)
    check("jnp.squeeze(x)", env, require_known=True)
    ones = [i for i, d in enumerate(shape) if d == 1]
    if ones:
        check(f"jnp.squeeze(x, axis={data.draw(st.sampled_from(ones))})", env, require_known=True)
    k = data.draw(st.integers(1, 3))
    ax = data.draw(st.one_of(st.none(), st.integers(-r, r - 1)))
    check(f"jnp.repeat(x, {k}, axis={ax!r})", env, require_known=True)
    reps = tuple(data.draw(st.lists(st.integers(1, 3), min_size=1, max_size=r + 1)))
    check(f"jnp.tile(x, {reps!r})", env, require_known=True)
    big = tuple(data.draw(st.lists(dims, max_size=2))) + tuple(d if data.draw(st.booleans()) else d for d in shape)
    check(f"jnp.broadcast_to(x, {big!r})", env, require_known=True)
    check("jnp.ravel(x)", env, require_known=True)
    check(f"jnp.flip(x, {a})", env, require_known=True)
    check(f"jnp.cumsum(x, axis={ax!r})", env, require_known=True)
    check(f"jnp.sort(x, axis={ax!r})", env, require_known=True)
    check(f"jnp.diff(x, n={k}, axis={a})", env, require_known=True)


@st.composite
def pad_widths(draw, r):
    form = draw(st.sampled_from(["int", "pair", "single", "pairs", "ints"]))
    p = st.integers(0, 3)
    if form == "int":
        return draw(p)
    if form == "pair":
        return (draw(p), draw(p))
    if form == "single":
        return ((draw(p), draw(p)),)
    if form == "ints":
        return tuple(draw(p) for _ in range(r))
    return tuple((draw(p), draw(p)) for _ in range(r))


@examples(40)
@given(shapes1, st.data())
def test_jnp_pad_every_form(shape, data):
    pw = data.draw(pad_widths(len(shape)))
    mode = data.draw(st.sampled_from(["constant", "edge", "reflect", "wrap"]))
    check(f"jnp.pad(x, {pw!r}, mode={mode!r})", {"x": Arr(shape)}, require_known=True)


@examples(40)
@given(shapes1, st.data())
def test_jnp_joins_and_splits(shape, data):
    r = len(shape)
    ax = data.draw(st.integers(-r, r - 1))
    other = list(shape)
    other[ax] = data.draw(dims)
    env = {"x": Arr(shape), "y": Arr(tuple(other))}
    check(f"jnp.concatenate([x, y], axis={ax})", env, require_known=True)
    check(f"jnp.concat([x, y, x], axis={ax})", env, require_known=True)
    check("jnp.concatenate([x, y], axis=None)", env, require_known=True)
    sax = data.draw(st.integers(-r - 1, r))
    check(f"jnp.stack([x, x], axis={sax})", env, require_known=True)
    check(f"jnp.append(x, y, axis={ax})", env, require_known=True)
    n = data.draw(st.integers(1, 4))
    check(f"jnp.array_split(x, {n}, axis={ax})", env, require_known=True)
    check(f"jnp.split(x, {n}, axis={ax})", env)
    idx = sorted(data.draw(st.lists(st.integers(0, 6), max_size=3)))
    check(f"jnp.split(x, {idx!r}, axis={ax})", env, require_known=True)
    check(f"jnp.unstack(x, axis={ax})", env, require_known=True)
    check("jnp.hstack([x, y])", env)
    check("jnp.vstack([x, x])", env, require_known=True)
    check("jnp.dstack([x, x])", env, require_known=True)


@examples(40)
@given(shapes1, shapes, st.data())
def test_jnp_take_and_indexing(shape, ishape, data):
    r = len(shape)
    ax = data.draw(st.one_of(st.none(), st.integers(-r, r - 1)))
    env = {"x": Arr(shape), "i": Arr(ishape, "int32")}
    check(f"jnp.take(x, i, axis={ax!r})", env, require_known=True)
    check("jnn.one_hot(i, 7)", env, require_known=True)
    oh = data.draw(st.integers(-len(ishape) - 1, len(ishape)))
    check(f"jnn.one_hot(i, 3, axis={oh})", env, require_known=True)


@st.composite
def einsum_case(draw):
    letters = "abcdef"
    sizes = {c: draw(dims) for c in letters}
    nops = draw(st.integers(1, 3))
    terms = []
    for _ in range(nops):
        k = draw(st.integers(0, 4))
        terms.append("".join(draw(st.permutations(letters))[:k]))
    used = sorted(set("".join(terms)))
    out = "".join(draw(st.permutations(used))[: draw(st.integers(0, len(used)))]) if used else ""
    explicit = draw(st.booleans())
    eq = ",".join(terms) + ("->" + out if explicit else "")
    env = {f"o{j}": Arr(tuple(sizes[c] for c in t)) for j, t in enumerate(terms)}
    return eq, env


@examples(40)
@given(einsum_case())
def test_jnp_einsum(case):
    eq, env = case
    ops = ", ".join(sorted(env))
    check(f"jnp.einsum({eq!r}, {ops})", env, require_known=True)


@examples(40)
@given(st.data())
def test_jnp_products(data):
    batch = data.draw(broadcastable(2))
    m, k, n = data.draw(dims), data.draw(dims), data.draw(dims)
    a = batch[0] + (m, k) if data.draw(st.booleans()) else (k,)
    b = batch[1] + (k, n) if data.draw(st.booleans()) else (k,)
    env = {"a": Arr(a), "b": Arr(b)}
    check("jnp.matmul(a, b)", env, require_known=True)
    check("a @ b", env)  # the operator goes through shapes.matmul (engine): 1-d operands give an unknown
    check("jnp.dot(a, b)", env, require_known=True)
    check("jnp.inner(a, b)", env, require_known=True)
    check("jnp.outer(a, b)", env, require_known=True)
    check("jnp.tensordot(a, b, 1)", env, require_known=True)
    check("jnp.kron(a, b)", env, require_known=True)


@examples(40)
@given(st.data())
def test_jnp_makers(data):
    s = data.draw(shapes)
    check(f"jnp.zeros({s!r})", require_known=True)
    check(f"jnp.full({s!r}, 2.0)", require_known=True)
    check(f"jnp.ones_like(jnp.zeros({s!r}))", require_known=True)
    start, stop, step = data.draw(st.integers(-5, 5)), data.draw(st.integers(-5, 20)), data.draw(st.sampled_from([1, 2, 3, -1, 0.5]))
    check(f"jnp.arange({start}, {stop}, {step})", require_known=True)
    check(f"jnp.arange({stop})", require_known=True)
    num = data.draw(st.integers(0, 9))
    check(f"jnp.linspace({start}, {stop}, {num})", require_known=True)
    v = data.draw(shapes)
    ax = data.draw(st.integers(-len(v) - 1, len(v)))
    check(f"jnp.linspace(jnp.zeros({v!r}), 1.0, {num}, axis={ax})", require_known=True)
    check(f"jnp.eye({data.draw(dims)}, {data.draw(dims)})", require_known=True)
    check(f"jnp.arange({stop}) * jnp.exp(-jnp.log(1e4) * jnp.arange({stop}) / {stop + 1})", require_known=True)


@examples(40)
@given(st.sampled_from(sorted(fjax.nn.SAMPLERS)), st.data())
def test_jax_random_samplers(name, data):
    s = data.draw(shapes)
    params = fjax.nn.SAMPLERS[name][0]
    args = ", ".join("0.5" for _ in params)
    key = "jrandom.PRNGKey(0)"
    check(f"jrandom.{name}({key}, {args + ', ' if args else ''}shape={s!r})", require_known=True)
    if params:
        ps = data.draw(broadcastable(len(params)))
        env = {f"p{j}": Arr(q) for j, q in enumerate(ps)}
        check(f"jrandom.{name}({key}, {', '.join(sorted(env))})", env, require_known=True)


@examples(20)
@given(shapes1, st.integers(1, 4))
def test_jax_random_keys_and_choices(shape, k):
    check(f"jrandom.split(jrandom.PRNGKey(0), {k})", require_known=True)
    check(f"jrandom.randint(jrandom.PRNGKey(0), {shape!r}, 0, 5)", require_known=True)
    check(f"jrandom.categorical(jrandom.PRNGKey(0), x, axis=-1)", {"x": Arr(shape)}, require_known=True)
    check(f"jrandom.choice(jrandom.PRNGKey(0), x, ({k},))", {"x": Arr(shape)}, require_known=True)
    check("jrandom.permutation(jrandom.PRNGKey(0), x)", {"x": Arr(shape)}, require_known=True)


# ---------------------------------------------------------------------------------- jax.lax families


@examples(40)
@given(st.data())
def test_lax_shapes(data):
    shape = data.draw(shapes1)
    r = len(shape)
    env = {"x": Arr(shape)}
    cfg = tuple((data.draw(st.integers(-1, 2)), data.draw(st.integers(-1, 2)), data.draw(st.integers(0, 2))) for _ in range(r))
    check(f"lax.pad(x, 0.0, {cfg!r})", env, require_known=True)
    starts = tuple(data.draw(st.integers(0, d - 1)) for d in shape)
    limits = tuple(data.draw(st.integers(s + 1, d)) for s, d in zip(starts, shape))
    strides = tuple(data.draw(st.integers(1, 3)) for _ in shape)
    check(f"lax.slice(x, {starts!r}, {limits!r}, {strides!r})", env, require_known=True)
    sizes = tuple(data.draw(st.integers(1, d)) for d in shape)
    check(f"lax.dynamic_slice(x, {starts!r}, {sizes!r})", env, require_known=True)
    ax = tuple(sorted(data.draw(st.lists(st.integers(0, r - 1), unique=True, max_size=r))))
    check(f"lax.reduce_sum(x, {ax!r})", env, require_known=True)
    check(f"lax.reduce_max(x, {ax!r})", env, require_known=True)
    check(f"lax.broadcast(x, (2, 3))", env, require_known=True)
    perm = tuple(data.draw(st.permutations(range(r))))
    check(f"lax.transpose(x, {perm!r})", env, require_known=True)
    check(f"lax.expand_dims(x, (0,))", env, require_known=True)
    check(f"lax.top_k(x, 1)", env, require_known=True)
    check(f"lax.rev(x, (0,))", env, require_known=True)
    check(f"lax.argmax(x, {r - 1}, jnp.int32)", env, require_known=True)
    check(f"lax.index_in_dim(x, 0, {r - 1}, False)", env, require_known=True)
    check(f"lax.slice_in_dim(x, 0, None, 2, axis={r - 1})", env, require_known=True)
    check(f"lax.collapse(x, 0)", env, require_known=True)


@examples(30)
@given(st.data())
def test_lax_dot_general(data):
    b, m, k, n = (data.draw(dims) for _ in range(4))
    env = {"a": Arr((b, m, k)), "c": Arr((b, k, n))}
    check("lax.dot_general(a, c, (((2,), (1,)), ((0,), (0,))))", env, require_known=True)
    check("lax.batch_matmul(a, c)", env, require_known=True)


def _zero_size_reported(trace, theirs_shape, axes):
    """Where jax returns a 0 along a windowed axis, the LayerEvent carries a raw size below 1."""
    evs = [e for e in trace.events if isinstance(e, LayerEvent)]
    assert evs, "no LayerEvent recorded"
    ev = evs[-1]
    if any(theirs_shape[a] == 0 for a in axes):
        assert ev.spatial_out and any(isinstance(o, int) and o < 1 for o in ev.spatial_out), (ev.spatial_out, theirs_shape)


@examples(80, 3000)
@given(st.data())
def test_lax_reduce_window_is_a_pool(data):
    rank = data.draw(st.integers(1, 4))
    shape = tuple(data.draw(st.integers(1, 9)) for _ in range(rank))
    win = tuple(data.draw(st.integers(1, 4)) for _ in range(rank))
    strides = data.draw(st.one_of(st.none(), st.tuples(*[st.integers(1, 3)] * rank)))
    padding = data.draw(st.one_of(st.sampled_from(["VALID", "SAME", "SAME_LOWER"]),
                                  st.tuples(*[st.tuples(st.integers(0, 2), st.integers(0, 2))] * rank)))
    bd = data.draw(st.one_of(st.none(), st.tuples(*[st.integers(1, 2)] * rank)))
    wd = data.draw(st.one_of(st.none(), st.tuples(*[st.integers(1, 2)] * rank)))
    expr = f"lax.reduce_window(x, 0.0, lax.add, {win!r}, {strides!r}, {padding!r}, {bd!r}, {wd!r})"
    env = {"x": Arr(shape)}
    theirs = real(expr, env)
    assume(not isinstance(theirs, Exception))
    value, trace = static(expr, env)
    mine = shape_of(value)
    assert mine is not None and mine[0] == theirs, (expr, shape, mine, theirs)
    ev = [e for e in trace.events if isinstance(e, LayerEvent)][-1]
    assert ev.family == "pool"
    _zero_size_reported(trace, theirs, ev.spatial_axes)
    assert tuple(check("lax.reduce_window_shape_tuple(" + f"{shape!r}, {win!r}, {strides or (1,) * rank!r}, "
                       f"{padding if not isinstance(padding, str) else tuple((0, 0) for _ in shape)!r}, {bd!r}, {wd!r})") or ()) is not None


@examples(60, 3000)
@given(st.data())
def test_lax_conv_general_dilated(data):
    nsp = data.draw(st.integers(1, 3))
    layout = data.draw(st.sampled_from(["NC", "NHWC"]))
    letters = "HWD"[:nsp]
    if layout == "NC":
        dn = ("NC" + letters, "OI" + letters, "NC" + letters)
    else:
        dn = ("N" + letters + "C", letters + "IO", "N" + letters + "C")
    n, c, o = data.draw(dims), data.draw(dims), data.draw(dims)
    sp = tuple(data.draw(st.integers(1, 9)) for _ in range(nsp))
    k = tuple(data.draw(st.integers(1, 4)) for _ in range(nsp))
    lhs = (n, c, *sp) if layout == "NC" else (n, *sp, c)
    rhs = (o, c, *k) if layout == "NC" else (*k, c, o)
    strides = tuple(data.draw(st.integers(1, 3)) for _ in range(nsp))
    padding = data.draw(st.one_of(st.sampled_from(["VALID", "SAME"]), st.tuples(*[st.tuples(st.integers(-1, 2), st.integers(-1, 2))] * nsp)))
    rd = tuple(data.draw(st.integers(1, 2)) for _ in range(nsp))
    ld = tuple(data.draw(st.integers(1, 2)) for _ in range(nsp)) if not isinstance(padding, str) else None
    expr = f"lax.conv_general_dilated(x, w, {strides!r}, {padding!r}, {ld!r}, {rd!r}, {dn!r})"
    env = {"x": Arr(lhs), "w": Arr(rhs)}
    theirs = real(expr, env)
    assume(not isinstance(theirs, Exception))
    value, trace = static(expr, env)
    mine = shape_of(value)
    assert mine is not None and mine[0] == theirs, (expr, env, mine, theirs)
    ev = [e for e in trace.events if isinstance(e, LayerEvent)][-1]
    _zero_size_reported(trace, theirs, [dn[2].index(ch) for ch in letters])


@examples(30)
@given(st.data())
def test_image_resize(data):
    shape = data.draw(shapes1)
    out = tuple(data.draw(dims) for _ in shape)
    method = data.draw(st.sampled_from(["nearest", "linear", "cubic", "lanczos3"]))
    check(f"image.resize(x, {out!r}, {method!r})", {"x": Arr(shape)}, require_known=True)


# ---------------------------------------------------------------------------------- partial knowledge

PARTIAL = [
    "jnp.exp(x)", "x + y", "jnp.add(x, y)", "jnp.sum(x, axis=-1)", "jnp.mean(x, axis=0, keepdims=True)", "jnp.concatenate([x, x], axis=-1)",
    "jnp.stack([x, x], axis=0)", "jnp.pad(x, 1)", "jnp.transpose(x)", "jnp.swapaxes(x, -1, -2)", "jnp.expand_dims(x, -1)",
    "jnp.reshape(x, (-1, {last}))", "jnp.repeat(x, 2, axis=-1)", "jnp.tile(x, (2, 1))", "jnp.einsum('...c,c->...', x, jnp.ones({last}))",
    "jnn.one_hot(x, 4)", "jnp.take(x, jnp.ones((3,), 'int32'), axis=-1)", "jnp.max(x)", "x @ jnp.ones(({last}, 5))",
    "lax.reduce_window(x, 0.0, lax.add, (1,) * {rank}, (1,) * {rank}, 'VALID')", "jnp.where(x > 0, x, y)", "x * jnp.arange({last})",
    "jnp.split(x, 2, axis=-1)", "image.resize(x, (3,) * {rank}, 'nearest')", "jnp.squeeze(x, axis=-1)", "x.sum(axis=-1)",
]


@examples(60)
@given(st.sampled_from(PARTIAL), st.data())
def test_partial_knowledge_never_states_a_wrong_dim(expr, data):
    shape = tuple(data.draw(st.lists(st.sampled_from([1, 2, 4]), min_size=2, max_size=4)))
    unknown = data.draw(st.integers(0, len(shape) - 1))
    ushape = tuple(None if j == unknown else d for j, d in enumerate(shape))
    yshape = tuple(data.draw(st.sampled_from([1, d])) for d in shape)
    e = expr.format(last=shape[-1], rank=len(shape))
    theirs = real(e, {"x": Arr(shape), "y": Arr(yshape)})
    assume(not isinstance(theirs, Exception))
    value, _ = static(e, {"x": Arr(ushape), "y": Arr(yshape)})
    from tests.jaxcheck import agrees

    ok, why = agrees(shape_of(value), theirs)
    assert ok, (e, ushape, why)


def test_partial_knowledge_keeps_independent_dims():
    env = {"x": Arr((8, None, 16)), "t": Arr((8,))}
    v, _ = static("x + jnp.exp(t)[:, None, None]", env)
    assert shape_of(v) == ((8, None, 16), True)
    v, _ = static("jnp.concatenate([x, x], axis=-1)", env)
    assert shape_of(v) == ((8, None, 32), True)
    v, _ = static("jnp.sum(x, axis=1)", env)
    assert shape_of(v) == ((8, 16), True)
    v, _ = static("x * u", {"x": Arr((8, 4, 16))})  # an undefined name: an unknown operand
    assert shape_of(v) == ((8, 4, 16), False)
    v, _ = static("jnp.mean(x * u, axis=-1)", {"x": Arr((8, 4, 16))})
    assert shape_of(v) == ((8, 4), False)


def test_timestep_embedding_keeps_the_unet_known():
    """The diffusion idiom that used to turn ``h + emb`` into an unknown."""
    prelude = (
        "half = 32\n"
        "freqs = jnp.exp(-jnp.log(10000.0) * jnp.arange(0, half, dtype=jnp.float32) / half)\n"
        "args = t[:, None].astype(jnp.float32) * freqs[None]\n"
        "emb = jnp.concatenate([jnp.cos(args), jnp.sin(args)], axis=-1)\n"
    )
    env = {"t": Arr((4,)), "h": Arr((4, 16, 16, 64))}
    assert check("h + emb[:, None, None, :]", env, prelude, require_known=True) == ((4, 16, 16, 64), True)


# ---------------------------------------------------------------------------------- flax layers

KEY = "jrandom.PRNGKey(0)"


def flax_out(layer: str, call: str = "x") -> str:
    """A flax layer built and applied through its entry point, as a script would."""
    return f"{layer}.init_with_output({KEY}, {call})[0]"


@examples(60, 3000)
@given(st.data())
def test_flax_conv_family(data):
    nsp = data.draw(st.integers(1, 3))
    op = data.draw(st.sampled_from(["Conv", "ConvTranspose", "ConvLocal"]))
    shape = (data.draw(dims),) + tuple(data.draw(st.integers(1, 9)) for _ in range(nsp)) + (data.draw(dims),)
    k = tuple(data.draw(st.integers(1, 4)) for _ in range(nsp))
    strides = tuple(data.draw(st.integers(1, 3)) for _ in range(nsp))
    pads = ["SAME", "VALID", data.draw(st.integers(0, 2)), tuple((data.draw(st.integers(0, 2)), data.draw(st.integers(0, 2))) for _ in range(nsp))]
    if op == "Conv":
        pads += ["CIRCULAR", "REFLECT"] + (["CAUSAL"] if nsp == 1 else [])
    padding = data.draw(st.sampled_from(pads))
    dil = tuple(data.draw(st.integers(1, 2)) for _ in range(nsp))
    feats = data.draw(dims)
    layer = f"nn.{op}({feats}, {k!r}, strides={strides!r}, padding={padding!r}, kernel_dilation={dil!r}, name='c1')"
    expr = flax_out(layer)
    env = {"x": Arr(shape)}
    theirs = real(expr, env)
    assume(not isinstance(theirs, Exception))
    value, trace = static(expr, env)
    mine = shape_of(value)
    assert mine is not None and mine[0] == theirs, (expr, shape, mine, theirs)
    ev = [e for e in trace.events if isinstance(e, LayerEvent)][-1]
    assert ev.name == "c1" and ev.family == "conv"
    _zero_size_reported(trace, theirs, ev.spatial_axes)


@examples(50, 3000)
@given(st.data())
def test_flax_pools(data):
    nsp = data.draw(st.integers(1, 3))
    batch = tuple(data.draw(st.lists(dims, min_size=0, max_size=2)))
    shape = batch + tuple(data.draw(st.integers(1, 9)) for _ in range(nsp)) + (data.draw(dims),)
    win = tuple(data.draw(st.integers(1, 4)) for _ in range(nsp))
    strides = data.draw(st.one_of(st.none(), st.tuples(*[st.integers(1, 3)] * nsp)))
    padding = data.draw(st.one_of(st.sampled_from(["VALID", "SAME"]), st.tuples(*[st.tuples(st.integers(0, 2), st.integers(0, 2))] * nsp)))
    fn = data.draw(st.sampled_from(["avg_pool", "max_pool", "min_pool"]))
    expr = f"nn.{fn}(x, {win!r}, strides={strides!r}, padding={padding!r})"
    env = {"x": Arr(shape)}
    theirs = real(expr, env)
    assume(not isinstance(theirs, Exception))
    value, trace = static(expr, env)
    mine = shape_of(value)
    assert mine is not None and mine[0] == theirs, (expr, shape, mine, theirs)
    ev = [e for e in trace.events if isinstance(e, LayerEvent)][-1]
    assert ev.family == "pool"
    _zero_size_reported(trace, theirs, ev.spatial_axes)


@examples(15, 500)
@given(shapes1, st.data())
def test_flax_layers(shape, data):
    f = data.draw(dims)
    env = {"x": Arr(shape), "i": Arr(shape, "int32")}
    check(flax_out(f"nn.Dense({f})"), env, require_known=True)
    ax = data.draw(st.integers(-len(shape), len(shape) - 1))
    check(flax_out(f"nn.DenseGeneral(({f}, 2), axis={ax})"), env, require_known=True)
    check(flax_out(f"nn.Embed(10, {f})", "i"), env, require_known=True)
    for norm in ("LayerNorm()", "RMSNorm()", "Dropout(0.5, deterministic=True)", "PReLU()"):
        check(flax_out(f"nn.{norm}"), env, require_known=True)
    check(flax_out("nn.Sequential([nn.Dense(7), nn.relu, nn.Dense(3)])"), env, require_known=True)
    check(flax_out("nn.BatchNorm(use_running_average=True)"), env, require_known=True)


@examples(30)
@given(st.data())
def test_flax_group_norm_reports_indivisible_features(data):
    c = data.draw(st.integers(1, 12))
    g = data.draw(st.integers(1, 6))
    env = {"x": Arr((2, 4, 4, c))}
    expr = flax_out(f"nn.GroupNorm(num_groups={g})")
    theirs = real(expr, env)
    value, trace = static(expr, env)
    from convlint.interpret.events import ChannelEvent

    flagged = any(isinstance(e, ChannelEvent) and e.groups == g and e.got % g for e in trace.checks)
    assert flagged == isinstance(theirs, Exception), (c, g, theirs)
    if not flagged:
        assert shape_of(value)[0] == theirs


@examples(10, 300)
@given(st.data())
def test_flax_attention_and_recurrent(data):
    b, t, c = data.draw(dims), data.draw(st.integers(1, 6)), data.draw(st.sampled_from([2, 4, 6, 8]))
    heads = data.draw(st.sampled_from([1, 2]))
    out_f = data.draw(st.one_of(st.none(), dims))
    env = {"x": Arr((b, t, c)), "kv": Arr((b, data.draw(st.integers(1, 6)), c))}
    check(flax_out(f"nn.MultiHeadDotProductAttention(num_heads={heads}, out_features={out_f!r})", "x, kv"), env, require_known=True)
    check(flax_out(f"nn.SelfAttention(num_heads={heads})"), env, require_known=True)
    f = data.draw(dims)
    cell = data.draw(st.sampled_from(["LSTMCell", "GRUCell", "OptimizedLSTMCell", "MGUCell", "SimpleCell"]))
    check(flax_out(f"nn.RNN(nn.{cell}({f}))"), env, require_known=True)
    check(flax_out(f"nn.RNN(nn.LSTMCell({f}), return_carry=True)"), env)
    check(f"nn.LSTMCell({f}).initialize_carry({KEY}, ({b}, {c}))", env, require_known=True)
    check(flax_out(f"nn.Bidirectional(nn.RNN(nn.GRUCell({f})), nn.RNN(nn.GRUCell({f + 1})))"), env, require_known=True)
    check(f"nn.dot_product_attention(x[:, :, None], kv[:, :, None], kv[:, :, None])", env, require_known=True)
    check("nn.make_causal_mask(x[..., 0])", env, require_known=True)
    check("nn.make_attention_mask(x[..., 0], kv[..., 0])", env, require_known=True)


FLAX_MODEL = """
class Block(nn.Module):
    features: int

    @nn.compact
    def __call__(self, x, train: bool = False):
        x = nn.Conv(self.features, (3, 3), strides=(2, 2), name="conv1")(x)
        x = nn.GroupNorm(num_groups=2)(x)
        x = nn.avg_pool(nn.relu(x), (2, 2), strides=(2, 2))
        return nn.Dense(10)(x.reshape((x.shape[0], -1)))

    def encode(self, x):
        return nn.Conv(self.features, (3, 3), padding="VALID")(x)

model = Block(features=4)
key = jrandom.PRNGKey(0)
"""


@pytest.mark.parametrize("expr", [
    "model.init_with_output(key, jnp.ones((2, 32, 32, 3)))[0]",
    "model.apply(model.init(key, jnp.ones((2, 32, 32, 3))), jnp.ones((2, 16, 16, 3)), train=False)",
    "model.apply(model.init(key, jnp.ones((2, 32, 32, 3))), jnp.ones((2, 16, 16, 3)), mutable=['batch_stats'])[0]",
    "model.apply(model.init(key, jnp.ones((1, 8, 8, 3)), method=model.encode), jnp.ones((1, 8, 8, 3)), method='encode')",
    "model.apply(model.init(key, jnp.ones((1, 8, 8, 3)), method=Block.encode), jnp.ones((1, 8, 8, 3)), method=lambda m, x: m.encode(x))",
    "jax.eval_shape(model.init_with_output, key, jnp.ones((4, 16, 16, 3)))[0]",
    "nn.vmap(Block, variable_axes={'params': 0}, split_rngs={'params': True})(features=4).init_with_output(key, jnp.ones((3, 2, 8, 8, 3)))[0]",
])
def test_flax_entry_points_call_the_module(expr):
    check(expr, prelude=FLAX_MODEL, require_known=True)


def test_flax_entry_points_record_named_layers():
    _, trace = static("model.init(key, jnp.ones((2, 32, 32, 3)))", prelude=FLAX_MODEL)
    convs = [e for e in trace.events if isinstance(e, LayerEvent) and e.family == "conv"]
    assert [(e.name, e.output) for e in convs] == [("conv1", (2, 16, 16, 4))]
    _, trace = static("nn.tabulate(model, key)(jnp.ones((2, 32, 32, 3)))", prelude=FLAX_MODEL)
    assert any(isinstance(e, LayerEvent) and e.name == "conv1" for e in trace.events)
    _, trace = static("jax.eval_shape(model.init, key, jnp.ones((2, 32, 32, 3)))", prelude=FLAX_MODEL)
    assert any(isinstance(e, LayerEvent) and e.name == "conv1" for e in trace.events)


def test_flax_script_is_followed(tmp_path):
    """``Model().init(key, x)`` at a script's top level: the layers are in ``convlint shapes``."""
    from tests.oracle import write

    p = write(tmp_path, "import jax\nimport jax.numpy as jnp\nimport flax.linen as nn\nimport jax.random as jrandom\n" + FLAX_MODEL +
              "variables = model.init(key, jnp.ones((2, 32, 32, 3)))\nout = model.apply(variables, jnp.ones((2, 32, 32, 3)))\n", "script.py")
    from convlint.commands.shapes import collect
    from convlint.config import Config

    models, _ = collect([str(p)], config=Config.default(tmp_path))
    layers = [layer for m in models for layer in m["layers"]]
    assert [la["output"] for la in layers if la["op"].endswith("Conv")] == [[2, 16, 16, 4], [2, 16, 16, 4]]


# ---------------------------------------------------------------------------------- einops

@st.composite
def einops_case(draw):
    names = ["b", "c", "h", "w"]
    sizes = {n: draw(dims) for n in names}
    k = draw(st.integers(1, 4))
    used = names[:k]
    shape = tuple(sizes[n] for n in used)
    out = list(draw(st.permutations(used)))
    # group some neighbours on the right
    right = []
    j = 0
    while j < len(out):
        if j + 1 < len(out) and draw(st.booleans()):
            right.append(f"({out[j]} {out[j + 1]})")
            j += 2
        else:
            right.append(out[j])
            j += 1
    ell = draw(st.booleans()) and k > 1
    if ell:
        left = "... " + " ".join(used[1:])
        right = ["..."] + [r for r in right if used[0] not in r.split() and f"({used[0]}" not in r and f"{used[0]})" not in r]
    else:
        left = " ".join(used)
    return f"{left} -> {' '.join(right)}", shape


@examples(60)
@given(einops_case())
def test_einops_rearrange(case):
    pattern, shape = case
    check(f"einops.rearrange(x, {pattern!r})", {"x": Arr(shape)}, require_known=True)


@examples(40)
@given(shapes1, st.data())
def test_einops_reduce_repeat_pack(shape, data):
    names = "abcd"[: len(shape)]
    env = {"x": Arr(shape), "y": Arr(shape[:1] + (3,) + shape[1:])}
    keep = "".join(data.draw(st.lists(st.sampled_from(list(names)), unique=True)))
    pattern = f"{' '.join(names)} -> {' '.join(c for c in names if c in keep)}"
    check(f"einops.reduce(x, {pattern!r}, 'mean')", env, require_known=True)
    n = data.draw(dims)
    check(f"einops.repeat(x, '{' '.join(names)} -> {' '.join(names)} r', r={n})", env, require_known=True)
    check(f"einops.repeat(x, '{names[0]} ... -> ({names[0]} r) ...', r={n})", env, require_known=True)
    check(f"einops.rearrange(x, '{names[0]} ... -> {names[0]} (...)')", env, require_known=True)
    if len(shape) >= 1:
        check(f"einops.pack([x, x], '{names[0]} *')", env, require_known=True)
        prelude = f"packed, ps = einops.pack([x, y], '{names[0]} *')\n"
        check(f"einops.unpack(packed, ps, '{names[0]} *')", env, prelude, require_known=True)


# ---------------------------------------------------------------------------------- jax array methods

@pytest.fixture()
def array_hook(monkeypatch):
    """The one-line hook in ``tensor_methods.tensor_attr`` that consults
    :mod:`convlint.frameworks.array_methods` for jax arrays, until the shared table has it."""
    import convlint.frameworks as F
    from convlint.frameworks import array_methods as AM
    from convlint.interpret.values import MISSING

    orig = F.tensor_attr

    def hooked(interp, t, name):
        if t.framework in AM.FRAMEWORKS:
            v = AM.attr(interp, t, name)
            if v is not MISSING:
                return v
        return orig(interp, t, name)

    monkeypatch.setattr(F, "tensor_attr", hooked)  # harmless once the hook is in tensor_methods
    yield


ARRAY_METHODS = [
    "x.at[0].set(1.0)", "x.at[..., 1].add(2.0)", "x.at[0].get()", "x.size", "x.repeat(2, axis=-1)", "x.repeat(2)", "x.cumsum()",
    "x.cumsum(axis=0)", "x.reshape(-1, {last})", "x.reshape((-1,))", "x.sum(axis=-1, keepdims=True)", "x.mean(axis=0)", "x.max()",
    "x.T", "x.swapaxes(0, -1)", "x.take(jnp.ones((2, 3), 'int32'), axis=0)", "x.ravel()", "x.squeeze()", "x.astype(jnp.int32)",
    "x.transpose()", "x.argmax(axis=-1)", "x.clip(0, 1)", "x.flatten()", "x.sort(axis=0)",
]


@examples(40)
@given(st.sampled_from(ARRAY_METHODS), shapes1)
def test_jax_array_methods(array_hook, expr, shape):
    check(expr.format(last=shape[-1]), {"x": Arr(shape)}, require_known=True)


FLAX_PARTIAL = [
    flax_out("nn.Conv(5, (3, 3), strides=2)"), flax_out("nn.Conv(5, (3, 3), padding='VALID')"), flax_out("nn.ConvTranspose(5, (3, 3), strides=(2, 2))"),
    flax_out("nn.Dense(7)"), flax_out("nn.GroupNorm(num_groups=1)"), flax_out("nn.DenseGeneral((2, 3))"),
    "nn.avg_pool(x, (2, 2), strides=(2, 2))", "nn.max_pool(x, (3, 3), padding='SAME')", "einops.rearrange(x, 'b h w c -> b (h w) c')",
    "einops.rearrange(x, '... c -> c ...')", "einops.reduce(x, 'b h w c -> b c', 'mean')",
]


@examples(40)
@given(st.sampled_from(FLAX_PARTIAL), st.data())
def test_flax_and_einops_partial_knowledge(expr, data):
    shape = (data.draw(dims), data.draw(st.integers(3, 8)), data.draw(st.integers(3, 8)), data.draw(dims))
    unknown = data.draw(st.integers(0, 3))
    ushape = tuple(None if j == unknown else d for j, d in enumerate(shape))
    theirs = real(expr, {"x": Arr(shape)})
    assume(not isinstance(theirs, Exception))
    value, _ = static(expr, {"x": Arr(ushape)})
    from tests.jaxcheck import agrees

    mine = shape_of(value)
    ok, why = agrees(mine, theirs)
    assert ok, (expr, ushape, why)
    if mine is not None and "Conv" in expr and unknown != 3:
        assert mine[0][-1] == theirs[-1], "a conv keeps its features when a spatial dim is unknown"
