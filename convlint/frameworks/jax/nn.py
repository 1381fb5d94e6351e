"""``jax.nn``, ``jax.random`` and ``jax.image``: every public callable is modelled,
shape-preserving or unknown with a reason."""

from __future__ import annotations

from convlint.frameworks import shapes as C
from convlint.frameworks.base import Signature, is_int
from convlint.frameworks.jax import arrays as A
from convlint.frameworks.jax import numpy as N
from convlint.frameworks.jax.registry import Registry
from convlint.interpret.tensor import Tensor
from convlint.interpret.values import Unknown

ACTIVATIONS = """
celu elu gelu hard_sigmoid hard_silu hard_swish hard_tanh identity leaky_relu log_sigmoid log_softmax mish relu
relu6 selu sigmoid silu soft_sign softmax softplus sparse_plus sparse_sigmoid squareplus swish tanh standardize
log1mexp normalize
"""


def register_nn(R: Registry, ns: str = "jax.nn") -> None:
    for name in ACTIVATIONS.split():
        R.preserve(f"{ns}.{name}", N.same)
    R.model(f"{ns}.glu", glu, GLU_SIG)
    R.model(f"{ns}.one_hot", one_hot, ONE_HOT_SIG)
    R.model(f"{ns}.logsumexp", _logsumexp, LSE_SIG)
    R.model(f"{ns}.logmeanexp", _logsumexp, LSE_SIG)
    R.model(f"{ns}.dot_product_attention", dot_product_attention, DPA_SIG)
    R.unknowns(ns, "scaled_matmul scaled_dot_general get_scaled_dot_general_config", "block-scaled (fp8) products are not modelled")


GLU_SIG = Signature.of("x", ("axis", -1))


def glu(interp, args, kwargs, node):
    p = GLU_SIG.bind(args, kwargs)
    x = A.as_array(p["x"])
    if x is None:
        return Unknown("glu")
    return A.along(x, p["axis"], lambda d: d // 2 if is_int(d) else Unknown("half of a size"))


ONE_HOT_SIG = Signature.of("x", "num_classes", ("dtype", None), ("axis", -1))


def one_hot(interp, args, kwargs, node):
    p = ONE_HOT_SIG.bind(args, kwargs)
    x = A.as_array(p["x"])
    k = A.dim(p["num_classes"])
    if x is None or x.shape is None:
        return A.unknown_like(x, "one_hot")
    ax = p["axis"]
    if not is_int(ax):
        return x.derive(None)
    r = len(x.shape) + 1
    a = A.norm_axis(ax, r)
    if a is None or not A.front_ok(x, (ax,)):
        return A.all_unknown(x, r, "one_hot")
    s = list(x.shape)
    s.insert(a, k)
    return A.with_dims(x, s)


LSE_SIG = Signature.of("a", ("axis", None), ("b", None), ("keepdims", False), ("return_sign", False))


def _logsumexp(interp, args, kwargs, node):
    p = LSE_SIG.bind(args, kwargs)
    out = A.reduce(p["a"], p["axis"], p["keepdims"])
    return (out, out) if p.get("return_sign") is True else out


DPA_SIG = Signature.of("query", "key", "value", ("bias", None), ("mask", None))


def dot_product_attention(interp, args, kwargs, node):
    """(B, T, N, H) queries with (B, S, K, H) keys and values: the output has the query's shape
    with the value's head size."""
    p = DPA_SIG.bind(args, kwargs)
    q, v = A.as_array(p["query"]), A.as_array(p["value"])
    if q is None or q.shape is None:
        return A.unknown_like(q, "attention")
    if v is None or v.shape is None:
        return A.with_dims(q, tuple(q.shape[:-1]) + (Unknown("value head size"),))
    return A.with_dims(q, tuple(q.shape[:-1]) + (v.shape[-1],))


# ---------------------------------------------------------------------------------- jax.random

# name: (parameter names after the key, index of ``shape`` among them, default shape)
SAMPLERS = {
    "normal": ((), ()), "uniform": ((), ()), "bits": ((), ()), "cauchy": ((), ()), "exponential": ((), ()),
    "gumbel": ((), ()), "laplace": ((), ()), "logistic": ((), ()), "maxwell": ((), ()), "rademacher": ((), ()),
    "generalized_normal": (("p",), ()), "double_sided_maxwell": (("loc", "scale"), ()), "weibull_min": (("scale", "concentration"), ()),
    "bernoulli": (("p",), None), "beta": (("a", "b"), None), "binomial": (("n", "p"), None), "chisquare": (("df",), None),
    "f": (("dfnum", "dfden"), None), "gamma": (("a",), None), "loggamma": (("a",), None), "geometric": (("p",), None),
    "lognormal": (("sigma",), None), "pareto": (("b",), None), "poisson": (("lam",), None), "rayleigh": (("scale",), None),
    "t": (("df",), None), "triangular": (("left", "mode", "right"), None), "truncated_normal": (("lower", "upper"), None),
    "wald": (("mean",), None),
}
_SCALAR_DEFAULTS = {"bernoulli": {"p": 0.5}, "lognormal": {"sigma": 1.0}}


def _sampler(name):
    params, default = SAMPLERS[name]
    if default == ():
        names = ["key", *params, ("shape", ())]
    else:
        names = ["key", *[(q, _SCALAR_DEFAULTS.get(name, {}).get(q)) if q in _SCALAR_DEFAULTS.get(name, {}) else q for q in params], ("shape", None)]
    sig = Signature.of(*names)

    def fn(interp, args, kwargs, node):
        p = sig.bind(args, kwargs)
        arrays = [A.as_array(p[q]) for q in params]
        if default == () and params:
            s = A.shape_arg(p["shape"])
            if any(a is None or a.shape is None for a in arrays) or s is None:
                return A.new(None)
            b = A.broadcast_shapes([a.shape for a in arrays])
            if name == "weibull_min":
                return A.new(A.broadcast_shapes([s, b]))
            if name == "double_sided_maxwell":
                return A.new(s + b if s else b + b)  # jax broadcasts the parameters twice when shape=()
            return A.new(s)
        if p["shape"] is not None:
            return A.new(A.shape_arg(p["shape"]))
        if any(a is None for a in arrays):
            return A.new(None)
        return A.new(A.broadcast_shapes([a.shape for a in arrays]))

    return fn, sig


def register_random(R: Registry, ns: str = "jax.random") -> None:
    for name in SAMPLERS:
        fn, sig = _sampler(name)
        R.model(f"{ns}.{name}", fn, sig)

    def op(name, sig):
        def deco(f):
            R.model(f"{ns}.{name}", lambda i, a, k, n: f(i, sig.bind(a, k), n), sig)
            return f

        return deco

    @op("randint", Signature.of("key", "shape", "minval", "maxval"))
    def randint(i, p, n):
        return A.new(A.shape_arg(p["shape"]))

    @op("ball", Signature.of("key", "d", ("p", 2), ("shape", ())))
    def ball(i, p, n):
        s = A.shape_arg(p["shape"])
        return A.new(None if s is None else s + (A.dim(p["d"]),))

    @op("orthogonal", Signature.of("key", "n", ("shape", ()), ("dtype", None), ("m", None)))
    def orthogonal(i, p, n):
        s = A.shape_arg(p["shape"])
        k = A.dim(p["n"])
        return A.new(None if s is None else s + (k, A.dim(p["m"]) if p["m"] is not None else k))

    @op("categorical", Signature.of("key", "logits", ("axis", -1), ("shape", None)))
    def categorical(i, p, n):
        if p["shape"] is not None:
            return A.new(A.shape_arg(p["shape"]))
        x = A.as_array(p["logits"])
        return A.new(None) if x is None else A.reduce(x, p["axis"], False)

    @op("choice", Signature.of("key", "a", ("shape", ()), ("replace", True), ("p", None), ("axis", 0)))
    def choice(i, p, n):
        s = A.shape_arg(p["shape"])
        if s is None:
            return A.new(None)
        if is_int(p["a"]):
            return A.new(s)
        x = A.as_array(p["a"])
        if x is None or x.shape is None or not is_int(p["axis"]):
            return A.new(None)
        ax = A.norm_axis(p["axis"], len(x.shape))
        if ax is None:
            return A.new(None)
        return A.new(tuple(x.shape[:ax]) + s + tuple(x.shape[ax + 1 :]))

    @op("permutation", Signature.of("key", "x", ("axis", 0), ("independent", False)))
    def permutation(i, p, n):
        if is_int(p["x"]):
            return A.new((p["x"],))
        x = A.as_array(p["x"])
        return x if x is not None else Unknown("permutation")

    @op("dirichlet", Signature.of("key", "alpha", ("shape", None)))
    def dirichlet(i, p, n):
        a = A.as_array(p["alpha"])
        if a is None or a.shape is None or not a.shape:
            return A.new(None)
        batch = A.shape_arg(p["shape"]) if p["shape"] is not None else tuple(a.shape[:-1])
        return A.new(None if batch is None else batch + (a.shape[-1],))

    @op("multivariate_normal", Signature.of("key", "mean", "cov", ("shape", None)))
    def multivariate_normal(i, p, n):
        m, c = A.as_array(p["mean"]), A.as_array(p["cov"])
        if m is None or m.shape is None or not m.shape:
            return A.new(None)
        if p["shape"] is not None:
            batch = A.shape_arg(p["shape"])
        else:
            batch = A.broadcast_shapes([tuple(m.shape[:-1]), tuple(c.shape[:-2]) if c is not None and c.shape is not None else None])
        return A.new(None if batch is None else batch + (m.shape[-1],))

    @op("multinomial", Signature.of("key", "n", "p", ("shape", None)))
    def multinomial(i, p, n):
        q = A.as_array(p["p"])
        if p["shape"] is not None:
            return A.new(A.shape_arg(p["shape"]))
        return A.new(q.shape) if q is not None else A.new(None)

    # keys: a (2,) uint32 array from PRNGKey, a 0-d key array from key()
    @op("PRNGKey", Signature.of("seed"))
    def prng_key(i, p, n):
        return A.new((2,))

    @op("key", Signature.of("seed"))
    def key(i, p, n):
        return A.new(())

    @op("split", Signature.of("key", ("num", 2)))
    def split(i, p, n):
        k = A.as_array(p["key"])
        num = A.shape_arg(p["num"])
        if k is None or k.shape is None or num is None:
            return A.new(None)
        return A.new(num + tuple(k.shape))

    @op("fold_in", Signature.of("key", "data"))
    def fold_in(i, p, n):
        k = A.as_array(p["key"])
        return k if k is not None else A.new(None)

    @op("clone", Signature.of("key"))
    def clone(i, p, n):
        k = A.as_array(p["key"])
        return k if k is not None else A.new(None)

    @op("wrap_key_data", Signature.of("key_bits_array"))
    def wrap_key_data(i, p, n):
        k = A.as_array(p["key_bits_array"])
        return A.new(None) if k is None or k.shape is None or not k.shape else A.new(tuple(k.shape[:-1]))

    R.unknowns(ns, "key_data", "the raw key data's trailing size depends on the PRNG implementation")
    R.unknowns(ns, "key_impl key_dtype", "describes a PRNG implementation: no array result")


# ---------------------------------------------------------------------------------- jax.image

RESIZE_SIG = Signature.of("image", "shape", "method", ("antialias", True), ("precision", None))
SCALE_SIG = Signature.of("image", "shape", "spatial_dims", "scale", "translation", "method", ("antialias", True), ("precision", None))


def resize(interp, args, kwargs, node, op="jax.image.resize", sig=RESIZE_SIG):
    p = sig.bind(args, kwargs)
    x = p["image"]
    shape = A.shape_arg(p["shape"])
    site = interp.site(node)
    if not isinstance(x, Tensor):
        x = A.as_array(x)
        if x is None:
            return A.new(shape)
    if shape is None:
        return C.repair(x.derive(None if x.shape is None else tuple(Unknown("resize") for _ in x.shape)))
    kind = None
    axes = []
    if x.shape is not None and len(x.shape) == len(shape) and x.exact_rank:
        axes = [j for j, (a, b) in enumerate(zip(x.shape, shape)) if not (is_int(a) and is_int(b) and a == b)]
        ints = [(x.shape[j], shape[j]) for j in axes if is_int(x.shape[j]) and is_int(shape[j])]
        if ints and all(b > a for a, b in ints):
            kind = "up"
        elif ints and all(b < a for a, b in ints):
            kind = "down"
    return C.record(interp, op=op, layer=None, site=site, call_node=node, x=x, out_shape=tuple(shape), kind=kind, axes=axes, adjoint=("resample", (), None))


def scale_and_translate(interp, args, kwargs, node):
    return resize(interp, args, kwargs, node, "jax.image.scale_and_translate", SCALE_SIG)


def register_image(R: Registry, ns: str = "jax.image") -> None:
    R.model(f"{ns}.resize", resize, RESIZE_SIG, family="resize")
    R.model(f"{ns}.scale_and_translate", scale_and_translate, SCALE_SIG, family="resize")
