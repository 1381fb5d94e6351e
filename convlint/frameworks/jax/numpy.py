"""``jax.numpy``: every public callable is modelled, shape-preserving or unknown with a reason."""

from __future__ import annotations

from convlint.frameworks import shapes as C
from convlint.frameworks.base import Signature, is_int
from convlint.frameworks.jax import arrays as A
from convlint.frameworks.jax.registry import Registry
from convlint.interpret.symbolic import Sym, is_size
from convlint.interpret.tensor import Tensor
from convlint.interpret.values import Unknown

NS = "jax.numpy"


def register(R: Registry, ns: str = NS) -> None:
    def op(names, sig=None, family=None):
        def deco(f):
            if sig is not None:
                def fn(i, a, k, n, f=f):
                    return f(i, sig.bind(a, k), n)
            else:
                fn = f
            for name in names.split():
                R.model(f"{ns}.{name}", fn, sig, family)
            return f

        return deco

    # ------------------------------------------------------------------ shape-preserving
    for name in PRESERVING.split():
        R.preserve(f"{ns}.{name}", same)

    # ------------------------------------------------------------------ elementwise
    for name in BINARY.split():
        R.model(f"{ns}.{name}", _elementwise(f"jnp.{name}", 2))
    for name in ("divmod", "frexp", "modf"):
        R.model(f"{ns}.{name}", _pair(name))

    @op("where", Signature.of("condition", ("x", None), ("y", None), ("size", None), ("fill_value", None)))
    def where(i, p, n):
        if p["x"] is None and p["y"] is None:
            if is_int(p["size"]):
                x = A.as_array(p["condition"])
                if x is None or x.shape is None:
                    return Unknown("where(condition, size=...) of unknown rank")
                return tuple(A.new((p["size"],)) for _ in x.shape)
            return Unknown("jnp.where(condition) has a data-dependent size (give size=)")
        return A.elementwise(i, [p["condition"], p["x"], p["y"]], n, "jnp.where")

    @op("clip", Signature.of(("arr", None), ("min", None), ("max", None), ("a", None), ("a_min", None), ("a_max", None)))
    def clip(i, p, n):
        x = p["arr"] if p["arr"] is not None else p["a"]
        lo = p["min"] if p["min"] is not None else p["a_min"]
        hi = p["max"] if p["max"] is not None else p["a_max"]
        return A.elementwise(i, [x, lo, hi], n, "jnp.clip")

    @op("select", Signature.of("condlist", "choicelist", ("default", 0)))
    def select(i, p, n):
        conds = i.iterate(p["condlist"])
        choices = i.iterate(p["choicelist"])
        if conds is None or choices is None:
            return Unknown("select of unknown lists")
        return A.elementwise(i, [*conds, *choices, p["default"]], n, "jnp.select")

    @op("choose", Signature.of("a", "choices", ("out", None), ("mode", "raise")))
    def choose(i, p, n):
        choices = i.iterate(p["choices"])
        if choices is None:
            return Unknown("choose of unknown choices")
        return A.elementwise(i, [p["a"], *choices], n, "jnp.choose")

    @op("isclose", Signature.of("a", "b", ("rtol", 1e-5), ("atol", 1e-8), ("equal_nan", False)))
    def isclose(i, p, n):
        return A.elementwise(i, [p["a"], p["b"]], n, "jnp.isclose")

    @op("array_equal array_equiv allclose")
    def scalar_result(i, a, k, n):
        return A.new(())

    # ------------------------------------------------------------------ reductions
    for name in REDUCTIONS.split():
        R.model(f"{ns}.{name}", _reduction)
    R.model(f"{ns}.count_nonzero", _reduction)

    @op("average", Signature.of("a", ("axis", None), ("weights", None), ("returned", False), ("keepdims", False)))
    def average(i, p, n):
        out = A.reduce(p["a"], p["axis"], p["keepdims"])
        if p["returned"] is True:
            return (out, out)
        return out if p["returned"] is False else Unknown("average(returned=?)")

    @op("percentile quantile nanpercentile nanquantile", Signature.of("a", "q", ("axis", None), ("out", None), ("overwrite_input", False), ("method", "linear"), ("keepdims", False)))
    def quantile(i, p, n):
        out = A.reduce(p["a"], p["axis"], p["keepdims"])
        q = A.as_array(p["q"])
        if not isinstance(out, Tensor) or q is None or q.shape is None or out.shape is None:
            return A.unknown_like(out if isinstance(out, Tensor) else None, "quantile")
        return out.derive(tuple(q.shape) + tuple(out.shape))

    @op("trapezoid", Signature.of("y", ("x", None), ("dx", 1.0), ("axis", -1)))
    def trapezoid(i, p, n):
        return A.reduce(p["y"], p["axis"], False)

    # ------------------------------------------------------------------ scans / sorts along an axis
    @op("cumsum cumprod nancumsum nancumprod", Signature.of("a", ("axis", None), ("dtype", None), ("out", None)))
    def cum(i, p, n):
        x = A.as_array(p["a"])
        return A.along(x, p["axis"], lambda d: d) if x is not None else Unknown("cumulative op")

    @op("cumulative_sum cumulative_prod", Signature.of("x", ("axis", None), ("dtype", None), ("include_initial", False)))
    def cumulative(i, p, n):
        x = A.as_array(p["x"])
        if x is None:
            return Unknown("cumulative op")
        axis = p["axis"]
        if axis is None and x.shape is not None and len(x.shape) == 1:
            axis = 0
        if axis is None:
            return A.unknown_like(x, "cumulative_sum needs an axis")
        grow = p["include_initial"]
        if grow not in (True, False):
            return A.along(x, axis, lambda d: Unknown("include_initial"))
        return A.along(x, axis, lambda d: A.add(d, 1) if grow else d)

    @op("sort argsort", Signature.of("a", ("axis", -1)))
    def sort(i, p, n):
        x = A.as_array(p["a"])
        return A.along(x, p["axis"], lambda d: d) if x is not None else Unknown("sort")

    @op("diff", Signature.of("a", ("n", 1), ("axis", -1), ("prepend", None), ("append", None)))
    def diff(i, p, n):
        x = A.as_array(p["a"])
        if x is None:
            return Unknown("diff")
        k = p["n"]
        extra = 0
        for side in ("prepend", "append"):
            v = p[side]
            if v is None:
                continue
            t = A.as_array(v)
            if t is not None and t.shape == ():
                extra += 1
            elif t is not None and t.shape is not None and x.shape is not None and len(t.shape) == len(x.shape) and is_int(p["axis"]):
                ax = A.norm_axis(p["axis"], len(t.shape))
                extra = A.add(extra, t.shape[ax]) if ax is not None else Unknown("size")
            else:
                extra = Unknown("size")
        if not is_int(k):
            return A.along(x, p["axis"], lambda d: Unknown("diff order"))
        return A.along(x, p["axis"], lambda d: _clamp0(A.add(A.add(d, extra), -k)) if k else d)

    @op("ediff1d", Signature.of("ary", ("to_end", None), ("to_begin", None)))
    def ediff1d(i, p, n):
        x = A.as_array(p["ary"])
        if x is None or x.shape is None:
            return A.new(None)
        size = A.flattened_size(x)
        size = _clamp0(A.add(size, -1))
        for side in ("to_end", "to_begin"):
            t = A.as_array(p[side]) if p[side] is not None else None
            if p[side] is not None:
                size = A.add(size, A.flattened_size(t)) if t is not None and t.shape is not None else Unknown("size")
        return x.derive((size,))

    @op("gradient")
    def gradient(i, a, k, n):
        f = A.as_array(a[0]) if a else None
        if f is None or f.shape is None:
            return Unknown("gradient")
        axis = k.get("axis")
        if axis is None:
            count = len(f.shape)
        else:
            ax = A.axes_tuple(axis)
            if ax is None:
                return Unknown("gradient axis")
            count = len(ax) if not is_int(axis) else 1
        if count == 1:
            return f
        return tuple(f for _ in range(count))

    # ------------------------------------------------------------------ makers
    @op("zeros ones empty", Signature.of("shape", ("dtype", None)))
    def maker(i, p, n):
        s = A.shape_arg(p["shape"])
        return A.new(s)

    @op("full", Signature.of("shape", "fill_value", ("dtype", None)))
    def full(i, p, n):
        s = A.shape_arg(p["shape"])
        return A.new(s)

    @op("zeros_like ones_like empty_like", Signature.of("a", ("dtype", None), ("shape", None)))
    def like(i, p, n):
        return _like(p["a"], p["shape"])

    @op("full_like", Signature.of("a", "fill_value", ("dtype", None), ("shape", None)))
    def full_like(i, p, n):
        return _like(p["a"], p["shape"])

    @op("array asarray copy", Signature.of("object", ("dtype", None), ("copy", True), ("order", "K"), ("ndmin", 0)))
    def array(i, p, n):
        x = A.as_array(p["object"])
        if x is None:
            return Unknown("array of an unknown value")
        nd = p["ndmin"]
        if is_int(nd) and x.shape is not None and nd > len(x.shape):
            return x.derive((1,) * (nd - len(x.shape)) + tuple(x.shape))
        return x

    @op("arange", Signature.of("start", ("stop", None), ("step", None), ("dtype", None)))
    def arange(i, p, n):
        start, stop, step = p["start"], p["stop"], p["step"]
        if stop is None:
            start, stop = 0, start
        if step is None:
            step = 1
        if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (start, stop, step)) and step != 0:
            import math

            return A.new((max(0, math.ceil((stop - start) / step)),))
        if isinstance(stop, Sym) and is_int(start) and step == 1:
            return A.new((stop - start,))
        return A.new((Unknown("arange of unknown bounds"),))

    @op("linspace logspace geomspace", Signature.of("start", "stop", ("num", 50), ("endpoint", True), ("retstep", False), ("dtype", None), ("axis", 0)))
    def linspace(i, p, n):
        num = A.dim(p["num"])
        s, e = A.as_array(p["start"]), A.as_array(p["stop"])
        if s is None or e is None:
            return Unknown("linspace of unknown bounds")
        b = A.broadcast_shapes([s.shape, e.shape])
        if b is None:
            out = A.new(None)
        else:
            ax = p["axis"]
            r = len(b) + 1
            a = A.norm_axis(ax, r)
            out = A.new(b[:a] + (num,) + b[a:] if a is not None else None)
        if p.get("retstep") is True:
            return (out, A.new(b) if b is not None else A.new(None))
        return out

    @op("eye", Signature.of("N", ("M", None), ("k", 0), ("dtype", None)))
    def eye(i, p, n):
        return A.new((A.dim(p["N"]), A.dim(p["M"] if p["M"] is not None else p["N"])))

    @op("tri", Signature.of("N", ("M", None), ("k", 0), ("dtype", None)))
    def tri(i, p, n):
        return A.new((A.dim(p["N"]), A.dim(p["M"] if p["M"] is not None else p["N"])))

    @op("identity", Signature.of("n", ("dtype", None)))
    def identity(i, p, n):
        return A.new((A.dim(p["n"]), A.dim(p["n"])))

    @op("bartlett blackman hamming hanning", Signature.of("M"))
    def window(i, p, n):
        return A.new((A.dim(p["M"]),))

    @op("kaiser", Signature.of("M", "beta"))
    def kaiser(i, p, n):
        return A.new((A.dim(p["M"]),))

    @op("indices", Signature.of("dimensions", ("dtype", None), ("sparse", False)))
    def indices(i, p, n):
        dims = A.shape_arg(p["dimensions"])
        if dims is None or p["sparse"] not in (True, False):
            return Unknown("indices")
        if p["sparse"]:
            k = len(dims)
            return tuple(A.new(tuple(d if j == m else 1 for j, d in enumerate(dims))) for m in range(k))
        return A.new((len(dims), *dims))

    @op("meshgrid")
    def meshgrid(i, a, k, n):
        if "*" in k:
            return Unknown("meshgrid of unknown arrays")
        xs = [A.as_array(v) for v in a]
        if any(x is None for x in xs):
            return Unknown("meshgrid")
        sizes = [A.flattened_size(x) for x in xs]
        indexing, sparse = k.get("indexing", "xy"), k.get("sparse", False)
        if indexing not in ("xy", "ij") or sparse not in (True, False):
            return Unknown("meshgrid indexing")
        if indexing == "xy" and len(sizes) >= 2:
            sizes = [sizes[1], sizes[0], *sizes[2:]]
            order = [1, 0, *range(2, len(sizes))]
        else:
            order = list(range(len(sizes)))
        if sparse:
            out = []
            for m in range(len(xs)):
                pos = order.index(m)
                out.append(A.new(tuple(sizes[j] if j == pos else 1 for j in range(len(sizes)))))
            return out
        return [A.new(tuple(sizes)) for _ in xs]

    @op("ix_")
    def ix_(i, a, k, n):
        xs = [A.as_array(v) for v in a]
        if "*" in k or any(x is None for x in xs):
            return Unknown("ix_")
        m = len(xs)
        return tuple(A.new(tuple(A.flattened_size(x) if j == q else 1 for j in range(m))) for q, x in enumerate(xs))

    @op("diag", Signature.of("v", ("k", 0)))
    def diag(i, p, n):
        x = A.as_array(p["v"])
        if x is None or x.shape is None or not is_int(p["k"]):
            return Unknown("diag")
        k = p["k"]
        if len(x.shape) == 1:
            d = A.add(x.shape[0], abs(k))
            return x.derive((d, d))
        if len(x.shape) == 2:
            return x.derive((_diag_len(x.shape[0], x.shape[1], k),))
        return Unknown("diag of an array of rank > 2")

    @op("diagflat", Signature.of("v", ("k", 0)))
    def diagflat(i, p, n):
        x = A.as_array(p["v"])
        if x is None or not is_int(p["k"]):
            return Unknown("diagflat")
        d = A.add(A.flattened_size(x), abs(p["k"]))
        return x.derive((d, d))

    @op("diagonal", Signature.of("a", ("offset", 0), ("axis1", 0), ("axis2", 1)))
    def diagonal(i, p, n):
        return _diagonal(p["a"], p["offset"], p["axis1"], p["axis2"], keep=True)

    @op("trace", Signature.of("a", ("offset", 0), ("axis1", 0), ("axis2", 1)))
    def trace(i, p, n):
        return _diagonal(p["a"], p["offset"], p["axis1"], p["axis2"], keep=False)

    @op("vander", Signature.of("x", ("N", None), ("increasing", False)))
    def vander(i, p, n):
        x = A.as_array(p["x"])
        if x is None or x.shape is None or len(x.shape) != 1:
            return Unknown("vander")
        return x.derive((x.shape[0], A.dim(p["N"]) if p["N"] is not None else x.shape[0]))

    # ------------------------------------------------------------------ shape manipulation
    @op("reshape", Signature.of("a", ("shape", None), ("order", "C"), ("newshape", None)))
    def reshape(i, p, n):
        x = A.as_array(p["a"])
        shape = p["shape"] if p["shape"] is not None else p["newshape"]
        s = A.shape_arg(shape)
        if x is None:
            return Unknown("reshape of an unknown value")
        if s is None:
            return x.derive(None)
        return reshape_to(x, s)

    @op("ravel", Signature.of("a", ("order", "C")))
    def ravel(i, p, n):
        x = A.as_array(p["a"])
        return x.derive((A.flattened_size(x),), label="ravel") if x is not None and x.shape is not None else A.new(None)

    @op("transpose permute_dims", Signature.of("a", ("axes", None)))
    def transpose(i, p, n):
        return transpose_to(A.as_array(p["a"]), p["axes"])

    @op("matrix_transpose", Signature.of("x"))
    def matrix_transpose(i, p, n):
        return swap(A.as_array(p["x"]), -1, -2)

    @op("swapaxes", Signature.of("a", "axis1", "axis2"))
    def swapaxes(i, p, n):
        return swap(A.as_array(p["a"]), p["axis1"], p["axis2"])

    @op("moveaxis", Signature.of("a", "source", "destination"))
    def moveaxis(i, p, n):
        return moveaxis_to(A.as_array(p["a"]), p["source"], p["destination"])

    @op("rollaxis", Signature.of("a", "axis", ("start", 0)))
    def rollaxis(i, p, n):
        x = A.as_array(p["a"])
        if x is None or x.shape is None or not A.known_ints(p["axis"], p["start"]):
            return A.unknown_like(x, "rollaxis")
        r = len(x.shape)
        a = A.norm_axis(p["axis"], r)
        start = p["start"] + r if p["start"] < 0 else p["start"]
        if a is None or not 0 <= start <= r:
            return x.derive(None)
        if a < start:
            start -= 1
        if a == start:
            return x
        return moveaxis_to(x, a, start)

    @op("expand_dims", Signature.of("a", "axis"))
    def expand_dims(i, p, n):
        return expand(A.as_array(p["a"]), p["axis"])

    @op("squeeze", Signature.of("a", ("axis", None)))
    def squeeze(i, p, n):
        return squeeze_axes(A.as_array(p["a"]), p["axis"])

    @op("broadcast_to", Signature.of("array", "shape"))
    def broadcast_to(i, p, n):
        x = A.as_array(p["array"])
        s = A.shape_arg(p["shape"])
        if s is None:
            return A.unknown_like(x, "broadcast_to")
        if x is None:
            return A.new(s)
        out = x.derive(tuple(s))
        return out

    @op("broadcast_arrays")
    def broadcast_arrays(i, a, k, n):
        xs = [A.as_array(v) for v in a]
        if "*" in k or any(x is None for x in xs):
            return Unknown("broadcast_arrays")
        s = A.broadcast_shapes([x.shape for x in xs])
        return [x.derive(s) for x in xs]

    @op("broadcast_shapes")
    def broadcast_shapes(i, a, k, n):
        shapes = [A.shape_arg(v) if not isinstance(v, tuple) or v else () for v in a]
        if "*" in k or any(s is None for s in shapes):
            return Unknown("broadcast_shapes")
        return A.broadcast_shapes(shapes)

    for nd in (1, 2, 3):
        R.model(f"{ns}.atleast_{nd}d", _atleast(nd))

    @op("repeat", Signature.of("a", "repeats", ("axis", None), ("total_repeat_length", None)))
    def repeat(i, p, n):
        x = A.as_array(p["a"])
        if x is None:
            return Unknown("repeat")
        r, total = p["repeats"], p["total_repeat_length"]
        if is_int(total):
            return A.along(x, p["axis"], lambda d: total)
        if is_int(r):
            return A.along(x, p["axis"], lambda d: A.mul(d, r))
        if isinstance(r, (list, tuple)) and all(is_int(v) for v in r):
            return A.along(x, p["axis"], lambda d: sum(r) if len(r) > 1 or not is_size(d) else A.mul(d, r[0]))
        return A.along(x, p["axis"], lambda d: Unknown("repeats from an array"))

    @op("tile", Signature.of("A", "reps"))
    def tile(i, p, n):
        return tile_by(A.as_array(p["A"]), p["reps"])

    @op("pad", Signature.of("array", "pad_width", ("mode", "constant")))
    def pad(i, p, n):
        return pad_width(A.as_array(p["array"]), p["pad_width"])

    @op("resize", Signature.of("a", "new_shape"))
    def resize(i, p, n):
        x = A.as_array(p["a"])
        s = A.shape_arg(p["new_shape"])
        if s is None:
            return A.unknown_like(x, "resize")
        return C.repair(x.derive(s, label="resize")) if x is not None else A.new(s)

    @op("rot90", Signature.of("m", ("k", 1), ("axes", (0, 1))))
    def rot90(i, p, n):
        x = A.as_array(p["m"])
        if x is None or not is_int(p["k"]):
            return A.unknown_like(x, "rot90")
        if p["k"] % 2 == 0:
            return x
        ax = p["axes"]
        if not (isinstance(ax, (tuple, list)) and len(ax) == 2):
            return A.unknown_like(x, "rot90")
        return swap(x, ax[0], ax[1])

    # ------------------------------------------------------------------ joins and splits
    @op("concatenate", Signature.of("arrays", ("axis", 0), ("dtype", None)))
    def concatenate(i, p, n):
        return concat(i, p["arrays"], p["axis"], n, "jnp.concatenate")

    @op("concat", Signature.of("arrays", ("axis", 0)))
    def concat_(i, p, n):
        return concat(i, p["arrays"], p["axis"], n, "jnp.concat")

    @op("stack", Signature.of("arrays", ("axis", 0), ("out", None), ("dtype", None)))
    def stack(i, p, n):
        return concat(i, p["arrays"], p["axis"], n, "jnp.stack", stack=True)

    @op("hstack", Signature.of("tup", ("dtype", None)))
    def hstack(i, p, n):
        xs = _arrays(i, p["tup"])
        if xs is None:
            return Unknown("hstack")
        xs = [_atleast_shape(x, 1) for x in xs]
        axis = 0 if xs and xs[0].shape is not None and len(xs[0].shape) == 1 else 1
        return concat(i, xs, axis, n, "jnp.hstack")

    @op("vstack", Signature.of("tup", ("dtype", None)))
    def vstack(i, p, n):
        xs = _arrays(i, p["tup"])
        return concat(i, [_atleast_shape(x, 2) for x in xs], 0, n, "jnp.vstack") if xs is not None else Unknown("vstack")

    @op("dstack", Signature.of("tup", ("dtype", None)))
    def dstack(i, p, n):
        xs = _arrays(i, p["tup"])
        return concat(i, [_atleast_shape(x, 3) for x in xs], 2, n, "jnp.dstack") if xs is not None else Unknown("dstack")

    @op("column_stack", Signature.of("tup"))
    def column_stack(i, p, n):
        xs = _arrays(i, p["tup"])
        if xs is None:
            return Unknown("column_stack")
        cols = [x.derive((x.shape[0], 1)) if x.shape is not None and len(x.shape) == 1 else x for x in xs]
        return concat(i, cols, 1, n, "jnp.column_stack")

    @op("append", Signature.of("arr", "values", ("axis", None)))
    def append(i, p, n):
        if p["axis"] is None:
            xs = [A.as_array(p["arr"]), A.as_array(p["values"])]
            if any(x is None or x.shape is None for x in xs):
                return A.new(None)
            return xs[0].derive((A.add(A.flattened_size(xs[0]), A.flattened_size(xs[1])),))
        return concat(i, [p["arr"], p["values"]], p["axis"], n, "jnp.append")

    @op("block", Signature.of("arrays"))
    def block(i, p, n):
        return _block(i, p["arrays"], n)

    @op("split array_split", Signature.of("ary", "indices_or_sections", ("axis", 0)))
    def split(i, p, n):
        return split_by(A.as_array(p["ary"]), p["indices_or_sections"], p["axis"])

    for name, axis in (("hsplit", None), ("vsplit", 0), ("dsplit", 2)):
        R.model(f"{ns}.{name}", _split_fixed(axis))

    @op("unstack", Signature.of("x", ("axis", 0)))
    def unstack(i, p, n):
        return unstack_along(A.as_array(p["x"]), p["axis"])

    # ------------------------------------------------------------------ indexing
    @op("take", Signature.of("a", "indices", ("axis", None)))
    def take(i, p, n):
        return take_along(A.as_array(p["a"]), A.as_array(p["indices"]), p["axis"])

    @op("take_along_axis", Signature.of("arr", "indices", ("axis", -1)))
    def take_along_axis(i, p, n):
        x, idx = A.as_array(p["arr"]), A.as_array(p["indices"])
        if x is None or idx is None or x.shape is None or idx.shape is None:
            return A.unknown_like(x, "take_along_axis")
        if p["axis"] is None:
            return idx.derive(tuple(idx.shape))
        if len(x.shape) != len(idx.shape):
            return x.derive(None)
        a = A.norm_axis(p["axis"], len(x.shape))
        if a is None:
            return x.derive(None)
        shape = list(A.broadcast_shapes([tuple(d for j, d in enumerate(x.shape) if j != a), tuple(d for j, d in enumerate(idx.shape) if j != a)]))
        shape.insert(a, idx.shape[a])
        return x.derive(tuple(shape))

    @op("put put_along_axis place fill_diagonal")
    def put(i, a, k, n):
        return same(i, a, k, n)

    @op("searchsorted", Signature.of("a", "v", ("side", "left"), ("sorter", None)))
    def searchsorted(i, p, n):
        v = A.as_array(p["v"])
        return v if v is not None else Unknown("searchsorted")

    @op("digitize", Signature.of("x", "bins", ("right", False)))
    def digitize(i, p, n):
        x = A.as_array(p["x"])
        return x if x is not None else Unknown("digitize")

    @op("interp", Signature.of("x", "xp", "fp"))
    def interp(i, p, n):
        x = A.as_array(p["x"])
        return x if x is not None else Unknown("interp")

    @op("isin", Signature.of("element", "test_elements"))
    def isin(i, p, n):
        x = A.as_array(p["element"])
        return x if x is not None else Unknown("isin")

    @op("lexsort", Signature.of("keys", ("axis", -1)))
    def lexsort(i, p, n):
        ks = _arrays(i, p["keys"])
        if not ks:
            return Unknown("lexsort")
        return ks[-1]

    @op("delete", Signature.of("arr", "obj", ("axis", None)))
    def delete(i, p, n):
        x = A.as_array(p["arr"])
        if x is None:
            return Unknown("delete")
        obj = p["obj"]
        if is_int(obj):
            return A.along(x, p["axis"], lambda d: A.add(d, -1))
        if isinstance(obj, slice):
            return A.along(x, p["axis"], lambda d: d - len(range(d)[obj]) if is_int(d) else Unknown("size"))
        if isinstance(obj, (list, tuple)) and all(is_int(v) for v in obj) and len(set(obj)) == len(obj):
            return A.along(x, p["axis"], lambda d: A.add(d, -len(obj)) if all(-d <= v < d for v in obj) or not is_int(d) else Unknown("size"))
        return A.along(x, p["axis"], lambda d: Unknown("deleted count"))

    @op("insert", Signature.of("arr", "obj", "values", ("axis", None)))
    def insert(i, p, n):
        x = A.as_array(p["arr"])
        v = A.as_array(p["values"])
        if x is None:
            return Unknown("insert")
        if is_int(p["obj"]) and v is not None and v.shape == ():
            return A.along(x, p["axis"], lambda d: A.add(d, 1))
        return A.along(x, p["axis"], lambda d: Unknown("inserted count"))

    # ------------------------------------------------------------------ products
    @op("einsum")
    def einsum(i, a, k, n):
        return einsum_shape(a, k)

    @op("matmul", Signature.of("a", "b"))
    def matmul(i, p, n):
        return matmul_shape(i, A.as_array(p["a"]), A.as_array(p["b"]), n)

    @op("dot", Signature.of("a", "b"))
    def dot(i, p, n):
        a, b = A.as_array(p["a"]), A.as_array(p["b"])
        if a is None or b is None or a.shape is None or b.shape is None:
            return A.unknown_like(a, "dot")
        if a.shape == () or b.shape == ():
            return A.elementwise(i, [a, b], n, "jnp.dot")
        if len(b.shape) == 1:
            return a.derive(tuple(a.shape[:-1]))
        return a.derive(tuple(a.shape[:-1]) + tuple(b.shape[:-2]) + (b.shape[-1],))

    @op("vdot", Signature.of("a", "b"))
    def vdot(i, p, n):
        return A.new(())

    @op("inner", Signature.of("a", "b"))
    def inner(i, p, n):
        a, b = A.as_array(p["a"]), A.as_array(p["b"])
        if a is None or b is None or a.shape is None or b.shape is None:
            return A.unknown_like(a, "inner")
        if a.shape == () or b.shape == ():
            return A.elementwise(i, [a, b], n, "jnp.inner")
        return a.derive(tuple(a.shape[:-1]) + tuple(b.shape[:-1]))

    @op("outer", Signature.of("a", "b"))
    def outer(i, p, n):
        a, b = A.as_array(p["a"]), A.as_array(p["b"])
        if a is None or b is None or a.shape is None or b.shape is None:
            return A.new((Unknown("size"), Unknown("size")))
        return a.derive((A.flattened_size(a), A.flattened_size(b)))

    @op("tensordot", Signature.of("a", "b", ("axes", 2)))
    def tensordot(i, p, n):
        return tensordot_shape(A.as_array(p["a"]), A.as_array(p["b"]), p["axes"])

    @op("kron", Signature.of("a", "b"))
    def kron(i, p, n):
        a, b = A.as_array(p["a"]), A.as_array(p["b"])
        if a is None or b is None or a.shape is None or b.shape is None:
            return A.unknown_like(a, "kron")
        r = max(len(a.shape), len(b.shape))
        sa = (1,) * (r - len(a.shape)) + tuple(a.shape)
        sb = (1,) * (r - len(b.shape)) + tuple(b.shape)
        return a.derive(tuple(A.mul(x, y) for x, y in zip(sa, sb)))

    @op("matvec", Signature.of("x1", "x2"))
    def matvec(i, p, n):
        a, b = A.as_array(p["x1"]), A.as_array(p["x2"])
        if a is None or b is None or a.shape is None or b.shape is None or len(a.shape) < 2 or len(b.shape) < 1:
            return A.unknown_like(a, "matvec")
        batch = A.broadcast_shapes([a.shape[:-2], b.shape[:-1]])
        return a.derive(batch + (a.shape[-2],))

    @op("vecmat", Signature.of("x1", "x2"))
    def vecmat(i, p, n):
        a, b = A.as_array(p["x1"]), A.as_array(p["x2"])
        if a is None or b is None or a.shape is None or b.shape is None or len(b.shape) < 2 or len(a.shape) < 1:
            return A.unknown_like(a, "vecmat")
        batch = A.broadcast_shapes([a.shape[:-1], b.shape[:-2]])
        return a.derive(batch + (b.shape[-1],))

    @op("vecdot", Signature.of("x1", "x2", ("axis", -1)))
    def vecdot(i, p, n):
        a, b = A.as_array(p["x1"]), A.as_array(p["x2"])
        if a is None or b is None or a.shape is None or b.shape is None or not is_int(p["axis"]):
            return A.unknown_like(a, "vecdot")
        s = A.broadcast_shapes([a.shape, b.shape])
        ax = A.norm_axis(p["axis"], len(s))
        if ax is None:
            return a.derive(None)
        return a.derive(tuple(d for j, d in enumerate(s) if j != ax))

    @op("cross", Signature.of("a", "b", ("axisa", -1), ("axisb", -1), ("axisc", -1), ("axis", None)))
    def cross(i, p, n):
        a, b = A.as_array(p["a"]), A.as_array(p["b"])
        if p["axis"] is not None or (p["axisa"], p["axisb"], p["axisc"]) != (-1, -1, -1):
            return Unknown("cross with moved axes")
        if a is None or b is None or a.shape is None or b.shape is None or not a.shape or not b.shape:
            return A.unknown_like(a, "cross")
        batch = A.broadcast_shapes([a.shape[:-1], b.shape[:-1]])
        if a.shape[-1] == 2 and b.shape[-1] == 2:
            return a.derive(batch)
        if a.shape[-1] in (2, 3) and b.shape[-1] in (2, 3):
            return a.derive(batch + (3,))
        return a.derive(batch + (Unknown("cross"),))

    @op("convolve correlate", Signature.of("a", "v", ("mode", "full")))
    def convolve(i, p, n):
        a, v = A.as_array(p["a"]), A.as_array(p["v"])
        if a is None or v is None or a.shape is None or v.shape is None or len(a.shape) != 1 or len(v.shape) != 1:
            return A.new((Unknown("convolve"),))
        la, lv = a.shape[0], v.shape[0]
        mode = p["mode"]
        if not (is_int(la) and is_int(lv)):
            return a.derive((Unknown("convolve"),))
        if mode == "full":
            size = la + lv - 1
        elif mode == "same":
            size = max(la, lv)
        elif mode == "valid":
            size = max(la, lv) - min(la, lv) + 1
        else:
            size = Unknown("mode")
        return a.derive((size,))

    # ------------------------------------------------------------------ polynomials
    @op("polyval", Signature.of("p", "x"))
    def polyval(i, p, n):
        x = A.as_array(p["x"])
        return x if x is not None else Unknown("polyval")

    @op("polyadd polysub", Signature.of("a1", "a2"))
    def polyadd(i, p, n):
        return _poly_len(p["a1"], p["a2"], lambda x, y: max(x, y))

    @op("polymul", Signature.of("a1", "a2"))
    def polymul(i, p, n):
        return _poly_len(p["a1"], p["a2"], lambda x, y: x + y - 1)

    @op("polyder", Signature.of("p", ("m", 1)))
    def polyder(i, p, n):
        return _poly_len(p["p"], None, lambda x, _: max(x - p["m"], 1) if is_int(p["m"]) else None)

    @op("polyint", Signature.of("p", ("m", 1), ("k", None)))
    def polyint(i, p, n):
        return _poly_len(p["p"], None, lambda x, _: x + p["m"] if is_int(p["m"]) else None)

    @op("poly", Signature.of("seq_of_zeros"))
    def poly(i, p, n):
        x = A.as_array(p["seq_of_zeros"])
        if x is None or x.shape is None:
            return A.new((Unknown("size"),))
        return A.new((A.add(x.shape[0], 1),)) if x.shape else A.new((1,))

    @op("polyfit", Signature.of("x", "y", "deg"))
    def polyfit(i, p, n):
        y = A.as_array(p["y"])
        deg = p["deg"]
        if not is_int(deg) or y is None or y.shape is None:
            return Unknown("polyfit")
        return A.new((deg + 1,) + tuple(y.shape[1:]))

    # ------------------------------------------------------------------ histograms / bits
    @op("histogram", Signature.of("a", ("bins", 10), ("range", None), ("weights", None), ("density", None)))
    def histogram(i, p, n):
        nb = _bins(p["bins"])
        return (A.new((nb,)), A.new((A.add(nb, 1),)))

    @op("histogram_bin_edges", Signature.of("a", ("bins", 10)))
    def histogram_bin_edges(i, p, n):
        return A.new((A.add(_bins(p["bins"]), 1),))

    @op("bincount", Signature.of("x", ("weights", None), ("minlength", 0), ("length", None)))
    def bincount(i, p, n):
        if is_int(p["length"]):
            return A.new((p["length"],))
        return A.new((Unknown("bincount without length= has a data-dependent size"),))

    @op("packbits", Signature.of("a", ("axis", None), ("bitorder", "big")))
    def packbits(i, p, n):
        x = A.as_array(p["a"])
        return A.along(x, p["axis"], lambda d: -(-d // 8) if is_int(d) else Unknown("size")) if x is not None else Unknown("packbits")

    @op("unpackbits", Signature.of("a", ("axis", None), ("count", None), ("bitorder", "big")))
    def unpackbits(i, p, n):
        x = A.as_array(p["a"])
        if x is None:
            return Unknown("unpackbits")
        c = p["count"]
        return A.along(x, p["axis"], lambda d: (d * 8 if c is None else (c if c >= 0 else d * 8 + c)) if is_int(d) and (c is None or is_int(c)) else Unknown("size"))

    # ------------------------------------------------------------------ index helpers
    @op("unravel_index", Signature.of("indices", "shape"))
    def unravel_index(i, p, n):
        idx = A.as_array(p["indices"])
        s = A.shape_arg(p["shape"])
        if idx is None or s is None:
            return Unknown("unravel_index")
        return tuple(idx for _ in s)

    @op("ravel_multi_index", Signature.of("multi_index", "dims"))
    def ravel_multi_index(i, p, n):
        parts = _arrays(i, p["multi_index"])
        if not parts:
            return Unknown("ravel_multi_index")
        s = A.broadcast_shapes([x.shape for x in parts])
        return parts[0].derive(s)

    @op("diag_indices", Signature.of("n", ("ndim", 2)))
    def diag_indices(i, p, n):
        if not is_int(p["ndim"]):
            return Unknown("diag_indices")
        return tuple(A.new((A.dim(p["n"]),)) for _ in range(p["ndim"]))

    @op("diag_indices_from", Signature.of("arr"))
    def diag_indices_from(i, p, n):
        x = A.as_array(p["arr"])
        if x is None or x.shape is None or not x.shape:
            return Unknown("diag_indices_from")
        return tuple(A.new((x.shape[0],)) for _ in x.shape)

    @op("shape", Signature.of("a"))
    def shape(i, p, n):
        x = A.as_array(p["a"])
        return tuple(x.shape) if x is not None and x.shape is not None and x.exact_rank else Unknown("shape of unknown rank")

    @op("ndim", Signature.of("a"))
    def ndim(i, p, n):
        x = A.as_array(p["a"])
        return len(x.shape) if x is not None and x.shape is not None and x.exact_rank else Unknown("rank")

    @op("size", Signature.of("a", ("axis", None)))
    def size(i, p, n):
        x = A.as_array(p["a"])
        if x is None or x.shape is None:
            return Unknown("size")
        if p["axis"] is None:
            return A.flattened_size(x)
        ax = A.norm_axis(p["axis"], len(x.shape))
        return x.shape[ax] if ax is not None and A.front_ok(x, (p["axis"],)) else Unknown("size")

    @op("isscalar", Signature.of("element"))
    def isscalar(i, p, n):
        v = p["element"]
        if isinstance(v, (bool, int, float, complex)):
            return True
        if isinstance(v, Tensor) and v.shape is not None and v.exact_rank:
            return len(v.shape) == 0
        if isinstance(v, (list, tuple, str)):
            return False
        return Unknown("isscalar")

    @op("cov", Signature.of("m", ("y", None), ("rowvar", True)))
    def cov(i, p, n):
        m = A.as_array(p["m"])
        if m is None or m.shape is None or p["y"] is not None or p["rowvar"] not in (True, False):
            return Unknown("cov")
        if len(m.shape) <= 1:
            return A.new(())
        v = m.shape[0] if p["rowvar"] else m.shape[1]
        return A.new((v, v))

    @op("corrcoef", Signature.of("x", ("y", None), ("rowvar", True)))
    def corrcoef(i, p, n):
        return cov(i, {"m": p["x"], "y": p["y"], "rowvar": p["rowvar"]}, n)

    norm_sig = Signature.of("x", ("ord", None), ("axis", None), ("keepdims", False))
    R.model("jax.numpy.linalg.norm", lambda i, a, k, n: (lambda p: A.reduce(p["x"], p["axis"], p["keepdims"]))(norm_sig.bind(a, k)), norm_sig)

    # ------------------------------------------------------------------ data-dependent sizes
    for name in ("nonzero", "flatnonzero", "argwhere", "compress", "extract", "unique", "unique_all", "unique_counts", "unique_inverse",
                 "unique_values", "intersect1d", "setdiff1d", "setxor1d", "union1d", "trim_zeros"):
        R.model(f"{ns}.{name}", _sized(name))
    R.unknowns(ns, "roots", "the number of roots depends on the leading zeros of the coefficients")
    R.unknowns(ns, "polydiv", "the quotient's length depends on the leading zeros of the divisor")
    R.unknowns(ns, "tril_indices triu_indices tril_indices_from triu_indices_from mask_indices",
               "the index arrays' length is counted from the offset (not modelled)")
    R.unknowns(ns, "histogram2d histogramdd", "multi-dimensional histograms are not modelled")
    R.unknowns(ns, "apply_along_axis apply_over_axes vectorize frompyfunc piecewise fromfunction",
               "calls a user function whose result shape convlint does not derive here")
    R.unknowns(ns, "frombuffer fromfile fromiter fromstring load", "reads data: its size is not in the source")
    R.unknowns(ns, "save savez", "writes a file: no array result")
    R.unknowns(ns, "from_dlpack", "an array from another library: its shape is not in the source")
    R.unknowns(ns, "einsum_path", "returns a contraction plan, not an array")
    R.unknowns(ns, "array_repr array_str get_printoptions set_printoptions printoptions",
               "printing: no array result")
    R.unknowns(ns, "can_cast promote_types result_type issubdtype isdtype iscomplexobj isrealobj iterable",
               "a dtype or type query: no array result")


# ---------------------------------------------------------------------------------- name lists

PRESERVING = """
abs absolute acos acosh angle arccos arccosh arcsin arcsinh arctan arctanh around asin asinh astype atan atanh
bitwise_count bitwise_invert bitwise_not cbrt ceil conj conjugate cos cosh deg2rad degrees exp exp2 expm1 fabs
floor i0 imag invert iscomplex isfinite isinf isnan isneginf isposinf isreal log log10 log1p log2 logical_not
nan_to_num negative positive rad2deg radians real reciprocal rint round sign signbit sin sinc sinh spacing sqrt
square tan tanh trunc flip fliplr flipud roll tril triu partition argpartition sort_complex unwrap
""".split()
PRESERVING = " ".join(PRESERVING)

BINARY = """
add arctan2 atan2 bitwise_and bitwise_left_shift bitwise_or bitwise_right_shift bitwise_xor copysign divide equal
float_power floor_divide fmax fmin fmod gcd greater greater_equal heaviside hypot lcm ldexp left_shift less
less_equal logaddexp logaddexp2 logical_and logical_or logical_xor maximum minimum mod multiply nextafter
not_equal power pow remainder right_shift subtract true_divide
"""

REDUCTIONS = """
sum prod mean max min amax amin all any std var nanmax nanmin nansum nanprod nanmean nanstd nanvar median
nanmedian ptp argmax argmin nanargmax nanargmin
"""


# ---------------------------------------------------------------------------------- shared shape functions

def same(interp, args, kwargs, node):
    """A shape-preserving function: the result has its first array argument's shape."""
    if args:
        x = args[0]
    else:
        x = next((v for k, v in kwargs.items() if k not in ("*", "**")), Unknown("no input"))
    t = A.as_array(x)
    return t if t is not None else (x if isinstance(x, Unknown) else Unknown("array of an unknown value"))


def _elementwise(label, arity):
    def fn(interp, args, kwargs, node):
        vals = list(args[:arity])
        for name in ("x", "x1", "x2", "y", "a", "b"):
            if name in kwargs and len(vals) < arity:
                vals.append(kwargs[name])
        if "*" in kwargs and len(vals) < arity:
            vals.append(Unknown("*args"))
        return A.elementwise(interp, vals, node, label)

    return fn


def _pair(name):
    def fn(interp, args, kwargs, node):
        out = A.elementwise(interp, list(args[:2]) if name == "divmod" else list(args[:1]), node, f"jnp.{name}")
        return (out, out) if isinstance(out, Tensor) else Unknown(name)

    return fn


_RED_SIG = Signature.of("a", ("axis", None), ("dtype", None), ("out", None), ("keepdims", False))


def _reduction(interp, args, kwargs, node):
    p = _RED_SIG.bind(args, kwargs)
    if len(args) > 2 and "keepdims" not in kwargs:
        # argmax(a, axis, out, keepdims): positional keepdims moves; read it by name only
        p["keepdims"] = kwargs.get("keepdims", False)
    return A.reduce(p["a"], p["axis"], p["keepdims"])


def _clamp0(v):
    return max(v, 0) if is_int(v) else v


def _like(a, shape):
    x = A.as_array(a)
    if shape is not None:
        s = A.shape_arg(shape)
        return A.new(s)
    if x is None:
        return Unknown("array like an unknown value")
    out = A.new(x.shape)
    out.exact_rank = x.exact_rank
    return out


def _diag_len(r, c, k):
    if is_int(r) and is_int(c):
        return max(0, min(r, c - k) if k >= 0 else min(r + k, c))
    if k == 0 and C.dims_equal(r, c):
        return r
    return Unknown("diagonal length")


def _diagonal(a, offset, axis1, axis2, keep):
    x = A.as_array(a)
    if x is None or x.shape is None or not A.known_ints(offset, axis1, axis2) or not x.exact_rank:
        return A.unknown_like(x, "diagonal")
    r = len(x.shape)
    a1, a2 = A.norm_axis(axis1, r), A.norm_axis(axis2, r)
    if a1 is None or a2 is None or a1 == a2:
        return x.derive(None)
    rest = tuple(d for j, d in enumerate(x.shape) if j not in (a1, a2))
    if not keep:
        return x.derive(rest)
    return x.derive(rest + (_diag_len(x.shape[a1], x.shape[a2], offset),))


def reshape_to(x: Tensor, s) -> Tensor:
    if any(isinstance(d, Unknown) for d in s):
        known = [d for d in s if not isinstance(d, Unknown)]
        if sum(1 for d in known if is_int(d) and d == -1) == 0:
            return x.derive(tuple(s), label="reshape")
        return x.derive(tuple(Unknown("reshape") if (is_int(d) and d == -1) else d for d in s), label="reshape")
    if x.shape is not None and not x.exact_rank:
        return x.derive(tuple(Unknown("inferred reshape dim") if is_int(d) and d == -1 else d for d in s), label="reshape")
    return C.reshape(x, s, "reshape")


def transpose_to(x, axes):
    if x is None:
        return Unknown("transpose of an unknown value")
    if x.shape is None:
        return x.derive(None)
    if axes is None:
        if not x.exact_rank:
            return A.all_unknown(x, len(x.shape), "transposed")
        return x.derive(tuple(reversed(x.shape)), layout=None)
    if isinstance(axes, (tuple, list)) and all(is_int(a) for a in axes) and len(axes) == len(x.shape) and x.exact_rank:
        r = len(x.shape)
        idx = [A.norm_axis(a, r) for a in axes]
        if None in idx or len(set(idx)) != r:
            return x.derive(None)
        return x.derive(tuple(x.shape[a] for a in idx), layout=None)
    return x.derive(None if not isinstance(axes, (tuple, list)) else tuple(Unknown("transposed") for _ in axes), layout=None)


def swap(x, a1, a2):
    if x is None:
        return Unknown("swapaxes of an unknown value")
    if x.shape is None:
        return x.derive(None)
    r = len(x.shape)
    if not A.known_ints(a1, a2) or not A.front_ok(x, (a1, a2)):
        return A.all_unknown(x, r, "swapped axes")
    i, j = A.norm_axis(a1, r), A.norm_axis(a2, r)
    if i is None or j is None:
        return x.derive(None)
    s = list(x.shape)
    s[i], s[j] = s[j], s[i]
    out = x.derive(tuple(s), layout=None)
    out.exact_rank = x.exact_rank
    return out


def moveaxis_to(x, source, destination):
    if x is None:
        return Unknown("moveaxis of an unknown value")
    if x.shape is None:
        return x.derive(None)
    r = len(x.shape)
    src = A.axes_tuple(source)
    dst = A.axes_tuple(destination)
    if src is None or dst is None or len(src) != len(dst) or not x.exact_rank:
        return A.all_unknown(x, r, "moved axes")
    src = [A.norm_axis(a, r) for a in src]
    dst = [A.norm_axis(a, r) for a in dst]
    if None in src or None in dst:
        return x.derive(None)
    order = [j for j in range(r) if j not in src]
    for d, s in sorted(zip(dst, src)):
        order.insert(d, s)
    return x.derive(tuple(x.shape[j] for j in order), layout=None)


def expand(x, axis):
    if x is None:
        return Unknown("expand_dims of an unknown value")
    axes = A.axes_tuple(axis)
    if x.shape is None or axes is None:
        return x.derive(None)
    r = len(x.shape) + len(axes)
    if not A.front_ok(x, axes):
        return A.all_unknown(x, r, "expanded")
    idx = [A.norm_axis(a, r) for a in axes]
    if None in idx or len(set(idx)) != len(idx):
        return x.derive(None)
    it = iter(x.shape)
    return A.with_dims(x, tuple(1 if j in idx else next(it) for j in range(r)))


def squeeze_axes(x, axis):
    if x is None:
        return Unknown("squeeze of an unknown value")
    if x.shape is None:
        return x.derive(None)
    if axis is None:
        if not x.exact_rank or not all(is_int(d) for d in x.shape):
            return x.derive(None)
        return x.derive(tuple(d for d in x.shape if d != 1))
    axes = A.axes_tuple(axis)
    if axes is None:
        return x.derive(None)
    r = len(x.shape)
    if not A.front_ok(x, axes):
        return A.all_unknown(x, r - len(axes), "squeezed")
    idx = {A.norm_axis(a, r) for a in axes}
    if None in idx:
        return x.derive(None)
    return A.with_dims(x, tuple(d for j, d in enumerate(x.shape) if j not in idx))


def _atleast_shape(x, nd):
    if x is None or x.shape is None:
        return x
    s = tuple(x.shape)
    if len(s) >= nd:
        return x
    if nd == 1:
        return x.derive((1,))
    if nd == 2:
        return x.derive((1,) * (2 - len(s)) + s)
    return x.derive({0: (1, 1, 1), 1: (1, s[0], 1) if s else (1, 1, 1), 2: s + (1,)}[len(s)])


def _atleast(nd):
    def fn(interp, args, kwargs, node):
        if "*" in kwargs:
            return Unknown("atleast of unknown arrays")
        xs = [A.as_array(v) for v in args]
        outs = [_atleast_shape(x, nd) if x is not None else Unknown("atleast") for x in xs]
        return outs[0] if len(outs) == 1 else list(outs)

    return fn


def tile_by(x, reps):
    if x is None:
        return Unknown("tile of an unknown value")
    r = A.shape_arg(reps)
    if x.shape is None or r is None:
        return x.derive(None)
    n = max(len(r), len(x.shape))
    s = (1,) * (n - len(x.shape)) + tuple(x.shape)
    rr = (1,) * (n - len(r)) + tuple(r)
    if not x.exact_rank and len(r) > len(x.shape):
        return A.all_unknown(x, n, "tiled")
    return A.with_dims(x, tuple(A.mul(d, k) for d, k in zip(s, rr)))


def _pairs(pw, n):
    """``jnp.pad``'s pad_width in every form: an int, (before, after), ((b, a),), or one pair per axis."""
    if is_int(pw) or isinstance(pw, Sym):
        return [(pw, pw)] * n
    if isinstance(pw, Tensor):
        return None
    if isinstance(pw, (tuple, list)):
        if len(pw) == 1:
            return _pairs(pw[0], n)
        if len(pw) == 2 and all(is_int(v) or isinstance(v, (Sym, Unknown)) for v in pw):
            return [tuple(pw)] * n
        if len(pw) == n:
            out = []
            for q in pw:
                if is_int(q) or isinstance(q, Unknown):
                    out.append((q, q))
                elif isinstance(q, (tuple, list)) and len(q) == 1:
                    out.append((q[0], q[0]))
                elif isinstance(q, (tuple, list)) and len(q) == 2:
                    out.append(tuple(q))
                else:
                    return None
            return out
    return None


def pad_width(x, pw):
    if x is None:
        return Unknown("pad of an unknown value")
    if x.shape is None:
        return x.derive(None)
    n = len(x.shape)
    pairs = _pairs(pw, n)
    if pairs is None or (not x.exact_rank and not (is_int(pw) or isinstance(pw, (tuple, list)) and len(pw) in (1, 2))):
        return C.repair(A.all_unknown(x, n, "pad"))
    shape = tuple(A.add(A.add(d, lo), hi) for d, (lo, hi) in zip(x.shape, pairs))
    out = A.with_dims(x, shape, "pad")
    out.before_pad = x.before_pad or x.shape
    return C.repair(out)


def _arrays(interp, v):
    items = interp.iterate(v)
    if items is None:
        return None
    xs = [A.as_array(x) for x in items]
    return None if any(x is None for x in xs) else xs


def concat(interp, arrays, axis, node, label, stack=False):
    xs = arrays if isinstance(arrays, list) and all(isinstance(x, Tensor) for x in arrays) else _arrays(interp, arrays)
    if xs is None:
        return Unknown(f"{label} of unknown arrays")
    if not xs:
        return Unknown(f"{label} of nothing")
    if axis is None and not stack:
        total = 0
        for x in xs:
            total = A.add(total, A.flattened_size(x)) if x.shape is not None else Unknown("size")
        return xs[0].derive((total,))
    if any(x.shape is None for x in xs) or not is_int(axis):
        return xs[0].derive(None)
    if not all(x.exact_rank for x in xs):
        return _inexact_concat(xs, axis, stack)
    return C.concat(interp, xs, axis, interp.site(node) if node is not None else None, label, stack=stack)


def _inexact_concat(xs, axis, stack):
    base = max(xs, key=lambda t: len(t.shape))
    if axis >= 0:
        return A.all_unknown(base, len(base.shape) + (1 if stack else 0), "joined")
    s = list(base.shape)
    if stack:
        pos = len(s) + 1 + axis
        if not 0 <= pos <= len(s):
            return base.derive(None)
        s.insert(pos, len(xs))
    else:
        a = A.norm_axis(axis, len(s))
        if a is None:
            return base.derive(None)
        total = 0
        for x in xs:
            total = A.add(total, x.shape[axis]) if -len(x.shape) <= axis else Unknown("size")
        s[a] = total
    out = base.derive(tuple(s))
    out.exact_rank = False
    return out


def _block(interp, v, node, depth=0, total=None):
    """``jnp.block``: the innermost lists join along the last axis, the next along the one before."""
    if total is None:
        total = _block_depth(v)
    if isinstance(v, list):
        parts = [_block(interp, x, node, depth + 1, total) for x in v]
        if any(not isinstance(p, Tensor) or p.shape is None for p in parts):
            return Unknown("block")
        r = max(max(len(p.shape) for p in parts), total)
        parts = [p.derive((1,) * (r - len(p.shape)) + tuple(p.shape)) for p in parts]
        return concat(interp, parts, -(total - depth), node, "jnp.block")
    x = A.as_array(v)
    return x if x is not None else Unknown("block")


def _block_depth(v):
    d = 0
    while isinstance(v, list) and v:
        d += 1
        v = v[0]
    return d


def split_by(x, ios, axis):
    if x is None or x.shape is None or not is_int(axis):
        return Unknown("split")
    r = len(x.shape)
    a = A.norm_axis(axis, r)
    if a is None or not A.front_ok(x, (axis,)):
        return Unknown("split")
    size = x.shape[a]
    if is_int(ios):
        if ios <= 0:
            return Unknown("split into no sections")
        if is_int(size):
            q, rem = divmod(size, ios)
            parts = [q + 1] * rem + [q] * (ios - rem)
        else:
            parts = [Unknown("section size")] * ios
    elif isinstance(ios, (tuple, list)) and all(is_int(v) for v in ios):
        bounds = list(ios)
        if not is_int(size):
            if all(v >= 0 for v in bounds) and list(bounds) == sorted(bounds):
                parts = [b - a_ for a_, b in zip([0] + bounds[:-1], bounds)] + [A.add(size, -bounds[-1]) if bounds else size]
            else:
                parts = [Unknown("section size")] * (len(bounds) + 1)
        else:
            parts = []
            prev = 0
            for b in bounds + [size]:
                b = min(max(b + size if b < 0 else b, 0), size)
                parts.append(max(b - prev, 0))
                prev = max(prev, b)
    else:
        return Unknown("split at unknown indices")
    s = list(x.shape)
    out = []
    for p in parts:
        s2 = list(s)
        s2[a] = p
        out.append(A.with_dims(x, s2))
    return out


def _split_fixed(axis):
    def fn(interp, args, kwargs, node):
        p = Signature.of("ary", "indices_or_sections").bind(args, kwargs)
        x = A.as_array(p["ary"])
        ax = axis
        if ax is None:
            ax = 0 if x is not None and x.shape is not None and len(x.shape) == 1 else 1
        return split_by(x, p["indices_or_sections"], ax)

    return fn


def unstack_along(x, axis):
    if x is None or x.shape is None or not is_int(axis):
        return Unknown("unstack")
    r = len(x.shape)
    a = A.norm_axis(axis, r)
    if a is None or not is_int(x.shape[a]) or x.shape[a] > 64 or not A.front_ok(x, (axis,)):
        return Unknown("unstack")
    rest = tuple(d for j, d in enumerate(x.shape) if j != a)
    return tuple(A.with_dims(x, rest) for _ in range(x.shape[a]))


def take_along(x, idx, axis):
    if x is None or idx is None or idx.shape is None:
        return Unknown("take")
    if axis is None:
        return idx.derive(tuple(idx.shape)) if x is not None else Unknown("take")
    if x.shape is None or not is_int(axis):
        return x.derive(None)
    r = len(x.shape)
    a = A.norm_axis(axis, r)
    if a is None or not A.front_ok(x, (axis,)):
        return A.all_unknown(x, r - 1 + len(idx.shape), "take")
    return A.with_dims(x, tuple(x.shape[:a]) + tuple(idx.shape) + tuple(x.shape[a + 1 :]))


def einsum_shape(args, kwargs):
    """``jnp.einsum`` with subscripts (``...`` included), or implicit output."""
    if not args or not isinstance(args[0], str):
        return Unknown("einsum in the interleaved form")
    eq = args[0].replace(" ", "")
    ops = [A.as_array(v) for v in args[1:]]
    if len(ops) == 1 and isinstance(args[1], (list, tuple)):
        ops = [A.as_array(v) for v in args[1]]
    if any(o is None for o in ops):
        return Unknown("einsum of an unknown operand")
    lhs, arrow, out = eq.partition("->")
    terms = lhs.split(",")
    if len(terms) != len(ops):
        return Unknown("einsum operand count")
    if any(o.shape is None or not o.exact_rank for o in ops):
        if arrow and "." not in out:
            return ops[0].derive(tuple(Unknown("einsum") for _ in out))
        return ops[0].derive(None)
    sizes: dict = {}
    ell_shapes = []
    for term, o in zip(terms, ops):
        if "..." in term:
            pre, post = term.split("...")
            k = len(o.shape) - len(pre) - len(post)
            if k < 0:
                return Unknown("einsum")
            ell_shapes.append(tuple(o.shape[len(pre) : len(pre) + k]))
            dims = list(zip(pre, o.shape[: len(pre)])) + list(zip(post, o.shape[len(pre) + k :]))
        else:
            if len(term) != len(o.shape):
                return Unknown("einsum subscripts do not match the rank")
            dims = list(zip(term, o.shape))
        for letter, d in dims:
            cur = sizes.get(letter)
            if cur is None or (is_int(cur) and cur == 1):
                sizes[letter] = d
            elif isinstance(cur, Unknown) and not isinstance(d, Unknown):
                sizes[letter] = d
    ell = A.broadcast_shapes(ell_shapes) if ell_shapes else ()
    if not arrow:
        counts: dict = {}
        for t in terms:
            for c in t.replace(".", ""):
                counts[c] = counts.get(c, 0) + 1
        out = ("..." if ell_shapes else "") + "".join(sorted(c for c, m in counts.items() if m == 1))
    res = []
    if "..." in out:
        pre, post = out.split("...")
        res = [sizes.get(c, Unknown("einsum")) for c in pre] + list(ell) + [sizes.get(c, Unknown("einsum")) for c in post]
    else:
        res = [sizes.get(c, Unknown("einsum")) for c in out]
    base = max(ops, key=lambda t: len(t.downs))
    return base.derive(tuple(res))


def matmul_shape(interp, a, b, node):
    if a is None or b is None:
        return Unknown("matmul of an unknown value")
    if a.shape is None or b.shape is None:
        return (a if a.shape is None else b).derive(None)
    sa, sb = tuple(a.shape), tuple(b.shape)
    if not sa or not sb:
        return Unknown("matmul of a 0-d array")
    va, vb = len(sa) == 1, len(sb) == 1
    if va:
        sa = (1,) + sa
    if vb:
        sb = sb + (1,)
    batch = A.broadcast_shapes([sa[:-2], sb[:-2]])
    out = batch + (() if va else (sa[-2],)) + (() if vb else (sb[-1],))
    base = a if len(a.downs) >= len(b.downs) else b
    res = base.derive(out)
    res.exact_rank = a.exact_rank and b.exact_rank
    return res


def tensordot_shape(a, b, axes):
    if a is None or b is None or a.shape is None or b.shape is None:
        return A.unknown_like(a, "tensordot")
    if is_int(axes):
        if axes > len(a.shape) or axes > len(b.shape):
            return a.derive(None)
        return a.derive(tuple(a.shape[: len(a.shape) - axes]) + tuple(b.shape[axes:]))
    if isinstance(axes, (tuple, list)) and len(axes) == 2:
        xa, xb = A.axes_tuple(axes[0]), A.axes_tuple(axes[1])
        if xa is None or xb is None:
            return a.derive(None)
        ia = {A.norm_axis(v, len(a.shape)) for v in xa}
        ib = {A.norm_axis(v, len(b.shape)) for v in xb}
        if None in ia or None in ib:
            return a.derive(None)
        return a.derive(tuple(d for j, d in enumerate(a.shape) if j not in ia) + tuple(d for j, d in enumerate(b.shape) if j not in ib))
    return a.derive(None)


def _poly_len(p1, p2, f):
    a = A.as_array(p1)
    b = A.as_array(p2) if p2 is not None else None
    if a is None or a.shape is None or len(a.shape) != 1 or (p2 is not None and (b is None or b.shape is None or len(b.shape) != 1)):
        return A.new((Unknown("polynomial length"),))
    la = a.shape[0]
    lb = b.shape[0] if b is not None else 0
    if not (is_int(la) and is_int(lb)):
        return A.new((Unknown("polynomial length"),))
    r = f(la, lb)
    return A.new((r if is_int(r) else Unknown("polynomial length"),))


def _bins(bins):
    if is_int(bins):
        return bins
    x = A.as_array(bins)
    if x is not None and x.shape is not None and len(x.shape) == 1:
        return A.add(x.shape[0], -1)
    return Unknown("bins")


def _sized(name):
    """Functions whose result size depends on the data; with ``size=`` it is given."""
    def fn(interp, args, kwargs, node):
        size = kwargs.get("size")
        if not is_int(size):
            return Unknown(f"jnp.{name} has a data-dependent size (give size=)")
        if name == "nonzero":
            x = A.as_array(args[0]) if args else None
            if x is None or x.shape is None:
                return Unknown("nonzero")
            return tuple(A.new((size,)) for _ in x.shape)
        if name == "argwhere":
            x = A.as_array(args[0]) if args else None
            if x is None or x.shape is None:
                return A.new((size, Unknown("rank")))
            return A.new((size, len(x.shape)))
        if name in ("unique", "unique_all", "unique_counts", "unique_inverse", "unique_values"):
            if kwargs.get("axis") is not None:
                return Unknown(f"jnp.{name} along an axis")
            flags = [kwargs.get(f, False) for f in ("return_index", "return_inverse", "return_counts")]
            if name != "unique" or any(f is not False for f in flags):
                return Unknown(f"jnp.{name} with several results")
        return A.new((size,))

    return fn
