"""``jax.lax``: every public callable is modelled, shape-preserving or unknown with a reason."""

from __future__ import annotations

from convlint.arith.core import ConvArithmeticError
from convlint.arith.lax import dimension_numbers, lax_conv_general_dilated, lax_conv_transpose, lax_reduce_window, padtype_to_pads
from convlint.frameworks.base import Signature, as_tuple, is_int, known
from convlint.frameworks.jax import arrays as A
from convlint.frameworks.jax import conv as K
from convlint.frameworks.jax import numpy as N
from convlint.frameworks.jax.registry import Registry
from convlint.interpret.lattice import join
from convlint.interpret.tensor import Tensor
from convlint.interpret.values import Unknown

NS = "jax.lax"

UNARY = """
abs acos acosh asin asinh atan atanh bessel_i0e bessel_i1e cbrt ceil clz conj cos cosh digamma erf erf_inv erfc exp
exp2 expm1 floor imag is_finite lgamma log log1p logistic neg population_count real reciprocal round rsqrt sign sin
sinh sqrt square tan tanh bitwise_not stop_gradient reduce_precision integer_pow rev cumsum cumprod cummax cummin
cumlogsumexp convert_element_type with_sharding_constraint optimization_barrier random_gamma_grad
dynamic_update_slice dynamic_update_slice_in_dim dynamic_update_index_in_dim scatter scatter_add scatter_apply
scatter_max scatter_min scatter_mul scatter_sub psum pmean pmax pmin ppermute pshuffle pbroadcast pcast pswapaxes
"""

BINARY = """
add sub mul div rem pow max min atan2 nextafter eq ne lt le gt ge bitwise_and bitwise_or bitwise_xor shift_left
shift_right_arithmetic shift_right_logical complex igamma igammac igamma_grad_a polygamma zeta mulhi
"""


def register(R: Registry) -> None:
    ns = NS

    def op(names, sig=None, family=None):
        def deco(f):
            def fn(i, a, k, n, f=f):
                return f(i, sig.bind(a, k), n) if sig is not None else f(i, a, k, n)

            for name in names.split():
                R.model(f"{ns}.{name}", fn, sig, family)
            return f

        return deco

    for name in ("conv_general_dilated", "conv", "conv_with_general_padding"):
        R.model(f"{ns}.{name}", K.lax_conv_op(f"{ns}.{name}", False), family="conv")
    R.model(f"{ns}.conv_transpose", K.lax_conv_op(f"{ns}.conv_transpose", True), family="conv")
    R.model(f"{ns}.conv_dimension_numbers", K._conv_dimension_numbers)
    R.model(f"{ns}.reduce_window", K.reduce_window, K.REDUCE_WINDOW_SIG, family="pool")

    for name in UNARY.split():
        R.preserve(f"{ns}.{name}", N.same)
    for name in BINARY.split():
        R.model(f"{ns}.{name}", N._elementwise(f"lax.{name}", 2))
    R.model(f"{ns}.betainc", N._elementwise("lax.betainc", 3))

    @op("clamp", Signature.of("min", "x", "max"))
    def clamp(i, p, n):
        return A.elementwise(i, [p["min"], p["x"], p["max"]], n, "lax.clamp")

    @op("select", Signature.of("pred", "on_true", "on_false"))
    def select(i, p, n):
        return A.elementwise(i, [p["pred"], p["on_true"], p["on_false"]], n, "lax.select")

    @op("select_n")
    def select_n(i, a, k, n):
        return A.elementwise(i, list(a), n, "lax.select_n") if "*" not in k else Unknown("select_n")

    # ------------------------------------------------------------------ makers
    @op("full", Signature.of("shape", "fill_value", ("dtype", None)))
    def full(i, p, n):
        return A.new(A.shape_arg(p["shape"]))

    @op("full_like", Signature.of("x", "fill_value", ("dtype", None), ("shape", None)))
    def full_like(i, p, n):
        return N._like(p["x"], p["shape"])

    @op("iota", Signature.of("dtype", "size"))
    def iota(i, p, n):
        return A.new((A.dim(p["size"]),))

    @op("broadcasted_iota", Signature.of("dtype", "shape", "dimension"))
    def broadcasted_iota(i, p, n):
        return A.new(A.shape_arg(p["shape"]))

    @op("rng_uniform", Signature.of("a", "b", "shape"))
    def rng_uniform(i, p, n):
        return A.new(A.shape_arg(p["shape"]))

    @op("rng_bit_generator", Signature.of("key", "shape"))
    def rng_bit_generator(i, p, n):
        key = A.as_array(p["key"])
        return (key if key is not None else Unknown("key"), A.new(A.shape_arg(p["shape"])))

    # ------------------------------------------------------------------ shapes
    @op("reshape", Signature.of("operand", "new_sizes", ("dimensions", None)))
    def reshape(i, p, n):
        x = A.as_array(p["operand"])
        s = A.shape_arg(p["new_sizes"])
        if x is None:
            return Unknown("reshape")
        return N.reshape_to(x, s) if s is not None else x.derive(None)

    @op("transpose", Signature.of("operand", "permutation"))
    def transpose(i, p, n):
        return N.transpose_to(A.as_array(p["operand"]), as_tuple(p["permutation"]))

    @op("expand_dims", Signature.of("array", "dimensions"))
    def expand_dims(i, p, n):
        return N.expand(A.as_array(p["array"]), as_tuple(p["dimensions"]))

    @op("squeeze", Signature.of("array", "dimensions"))
    def squeeze(i, p, n):
        return N.squeeze_axes(A.as_array(p["array"]), as_tuple(p["dimensions"]))

    @op("broadcast", Signature.of("operand", "sizes"))
    def broadcast(i, p, n):
        x = A.as_array(p["operand"])
        s = A.shape_arg(p["sizes"])
        if x is None or s is None or x.shape is None:
            return A.unknown_like(x, "broadcast")
        return A.with_dims(x, tuple(s) + tuple(x.shape))

    @op("broadcast_in_dim", Signature.of("operand", "shape", "broadcast_dimensions"))
    def broadcast_in_dim(i, p, n):
        x = A.as_array(p["operand"])
        s = A.shape_arg(p["shape"])
        if s is None:
            return A.unknown_like(x, "broadcast_in_dim")
        return x.derive(tuple(s)) if x is not None else A.new(s)

    @op("broadcast_to_rank", Signature.of("x", "rank"))
    def broadcast_to_rank(i, p, n):
        x = A.as_array(p["x"])
        if x is None or x.shape is None or not is_int(p["rank"]):
            return A.unknown_like(x, "broadcast_to_rank")
        return x.derive((1,) * max(0, p["rank"] - len(x.shape)) + tuple(x.shape))

    @op("broadcast_shapes")
    def broadcast_shapes(i, a, k, n):
        shapes = [A.shape_arg(v) if v != () else () for v in a]
        if "*" in k or any(s is None for s in shapes):
            return Unknown("broadcast_shapes")
        return A.broadcast_shapes(shapes)

    @op("pad", Signature.of("operand", "padding_value", "padding_config"))
    def pad(i, p, n):
        x = A.as_array(p["operand"])
        cfg = p["padding_config"]
        if x is None or x.shape is None:
            return A.unknown_like(x, "pad")
        if not isinstance(cfg, (tuple, list)) or len(cfg) != len(x.shape) or not x.exact_rank:
            return A.all_unknown(x, len(x.shape), "pad")
        out = []
        for d, c in zip(x.shape, cfg):
            if isinstance(c, (tuple, list)) and len(c) == 3 and A.known_ints(*c) and is_int(d):
                lo, hi, interior = c
                out.append(max(0, d + lo + hi + max(d - 1, 0) * interior))
            elif isinstance(c, (tuple, list)) and len(c) == 3 and A.known_ints(*c) and c[2] == 0:
                out.append(A.add(A.add(d, c[0]), c[1]))
            else:
                out.append(Unknown("pad"))
        res = A.with_dims(x, out, "pad")
        res.before_pad = x.before_pad or x.shape
        from convlint.frameworks.shapes import repair

        return repair(res)

    @op("slice", Signature.of("operand", "start_indices", "limit_indices", ("strides", None)))
    def slice_(i, p, n):
        x = A.as_array(p["operand"])
        st, lim, sd = p["start_indices"], p["limit_indices"], p["strides"]
        if not isinstance(lim, (tuple, list)) or not isinstance(st, (tuple, list)):
            return A.unknown_like(x, "slice")
        sd = sd if sd is not None else (1,) * len(lim)
        dims = [(-(-(b - a) // s) if A.known_ints(a, b, s) and s > 0 else Unknown("slice")) for a, b, s in zip(st, lim, sd)]
        return _cropped(x, dims)

    @op("slice_in_dim", Signature.of("operand", "start_index", "limit_index", ("stride", 1), ("axis", 0)))
    def slice_in_dim(i, p, n):
        x = A.as_array(p["operand"])
        if x is None:
            return Unknown("slice_in_dim")
        st, lim, sd = p["start_index"], p["limit_index"], p["stride"]

        def size(d):
            if not is_int(d):
                return Unknown("slice")
            a = 0 if st is None else st
            b = d if lim is None else lim
            if not A.known_ints(a, b, sd):
                return Unknown("slice")
            a = a + d if a < 0 else a
            b = b + d if b < 0 else b
            return max(0, -(-(b - a) // sd))

        return _crop_along(x, p["axis"], size)

    @op("dynamic_slice", Signature.of("operand", "start_indices", "slice_sizes"))
    def dynamic_slice(i, p, n):
        s = A.shape_arg(p["slice_sizes"])
        x = A.as_array(p["operand"])
        return _cropped(x, s) if s is not None else A.unknown_like(x, "dynamic_slice")

    @op("dynamic_slice_in_dim", Signature.of("operand", "start_index", "slice_size", ("axis", 0)))
    def dynamic_slice_in_dim(i, p, n):
        x = A.as_array(p["operand"])
        return _crop_along(x, p["axis"], lambda d: A.dim(p["slice_size"])) if x is not None else Unknown("dynamic_slice_in_dim")

    @op("index_in_dim dynamic_index_in_dim", Signature.of("operand", "index", ("axis", 0), ("keepdims", True)))
    def index_in_dim(i, p, n):
        x = A.as_array(p["operand"])
        if x is None:
            return Unknown("index_in_dim")
        if p["keepdims"] is True:
            return _crop_along(x, p["axis"], lambda d: 1)
        return N.squeeze_axes(_crop_along(x, p["axis"], lambda d: 1), p["axis"]) if p["keepdims"] is False else A.unknown_like(x, "keepdims")

    @op("index_take", Signature.of("src", "idxs", "axes"))
    def index_take(i, p, n):
        return Unknown("index_take")

    @op("concatenate", Signature.of("operands", "dimension"))
    def concatenate(i, p, n):
        return N.concat(i, p["operands"], p["dimension"], n, "lax.concatenate")

    @op("split", Signature.of("operand", "sizes", ("axis", 0)))
    def split(i, p, n):
        x = A.as_array(p["operand"])
        sizes = p["sizes"]
        if x is None or x.shape is None or not isinstance(sizes, (tuple, list)) or not is_int(p["axis"]):
            return Unknown("split")
        a = A.norm_axis(p["axis"], len(x.shape))
        if a is None:
            return Unknown("split")
        out = []
        for s in sizes:
            d = list(x.shape)
            d[a] = A.dim(s)
            out.append(A.with_dims(x, d))
        return out

    @op("stack", Signature.of("operands", ("axis", 0)))
    def stack(i, p, n):
        return N.concat(i, p["operands"], p["axis"], n, "lax.stack", stack=True)

    @op("unstack", Signature.of("x", ("axis", 0)))
    def unstack(i, p, n):
        return N.unstack_along(A.as_array(p["x"]), p["axis"])

    @op("tile", Signature.of("operand", "reps"))
    def tile(i, p, n):
        return N.tile_by(A.as_array(p["operand"]), p["reps"])

    @op("collapse", Signature.of("operand", "start_dimension", ("stop_dimension", None)))
    def collapse(i, p, n):
        x = A.as_array(p["operand"])
        if x is None or x.shape is None or not is_int(p["start_dimension"]):
            return A.unknown_like(x, "collapse")
        r = len(x.shape)
        a = A.norm_axis(p["start_dimension"], r)
        stop = r if p["stop_dimension"] is None else p["stop_dimension"]
        if a is None or not is_int(stop):
            return x.derive(None)
        stop = stop + r if stop < 0 else stop
        if not a <= stop <= r:
            return x.derive(None)
        from convlint.frameworks.shapes import numel

        return x.derive(tuple(x.shape[:a]) + (numel(x.shape[a:stop]),) + tuple(x.shape[stop:]))

    # ------------------------------------------------------------------ reductions
    for name in ("reduce_sum", "reduce_max", "reduce_min", "reduce_prod", "reduce_and", "reduce_or", "reduce_xor"):
        R.model(f"{ns}.{name}", _reduce_axes)

    @op("reduce", Signature.of("operands", "init_values", "computation", "dimensions"))
    def reduce(i, p, n):
        dims = as_tuple(p["dimensions"])
        xs = p["operands"]
        if isinstance(xs, (tuple, list)):
            return type(xs)(A.reduce(x, dims, False) for x in xs)
        return A.reduce(xs, dims, False)

    @op("argmax argmin", Signature.of("operand", "axis", ("index_dtype", None)))
    def argmax(i, p, n):
        return A.reduce(p["operand"], p["axis"], False)

    @op("sort", Signature.of("operand", ("dimension", -1), ("is_stable", True), ("num_keys", 1)))
    def sort(i, p, n):
        x = p["operand"]
        if isinstance(x, (tuple, list)):
            return type(x)(N.same(i, [v], {}, n) for v in x)
        return N.same(i, [x], {}, n)

    @op("sort_key_val", Signature.of("keys", "values", ("dimension", -1), ("is_stable", True)))
    def sort_key_val(i, p, n):
        return (N.same(i, [p["keys"]], {}, n), N.same(i, [p["values"]], {}, n))

    @op("top_k", Signature.of("operand", "k"))
    def top_k(i, p, n):
        x = A.as_array(p["operand"])
        if x is None:
            return Unknown("top_k")
        out = A.along(x, -1, lambda d: A.dim(p["k"]))
        return (out, out)

    @op("approx_max_k approx_min_k", Signature.of("operand", "k", ("reduction_dimension", -1)))
    def approx_k(i, p, n):
        x = A.as_array(p["operand"])
        if x is None:
            return Unknown("approx_max_k")
        out = A.along(x, p["reduction_dimension"], lambda d: A.dim(p["k"]))
        return (out, out)

    # ------------------------------------------------------------------ products
    @op("dot", Signature.of("lhs", "rhs"))
    def dot(i, p, n):
        a, b = A.as_array(p["lhs"]), A.as_array(p["rhs"])
        if a is None or b is None or a.shape is None or b.shape is None:
            return A.unknown_like(a, "dot")
        if len(b.shape) == 1:
            return a.derive(tuple(a.shape[:-1]))
        if len(a.shape) == 1:
            return b.derive(tuple(b.shape[1:]))
        return a.derive(tuple(a.shape[:-1]) + tuple(b.shape[1:]))

    @op("dot_general", Signature.of("lhs", "rhs", "dimension_numbers"))
    def dot_general(i, p, n):
        return dot_general_shape(A.as_array(p["lhs"]), A.as_array(p["rhs"]), p["dimension_numbers"])

    @op("batch_matmul", Signature.of("lhs", "rhs"))
    def batch_matmul(i, p, n):
        return N.matmul_shape(i, A.as_array(p["lhs"]), A.as_array(p["rhs"]), n)

    @op("conv_general_dilated_patches", Signature.of("lhs", "filter_shape", "window_strides", "padding", ("lhs_dilation", None), ("rhs_dilation", None), ("dimension_numbers", None)))
    def patches(i, p, n):
        return _patches(i, p, n)

    # ------------------------------------------------------------------ shape queries (values, not arrays)
    @op("padtype_to_pads", Signature.of("in_shape", "window_shape", "window_strides", "padding"))
    def padtype(i, p, n):
        if not known(p["in_shape"], p["window_shape"], p["window_strides"], p["padding"]) or not all(is_int(v) for v in p["in_shape"]):
            return Unknown("padtype_to_pads of unknown sizes")
        try:
            return padtype_to_pads(p["in_shape"], p["window_shape"], p["window_strides"], p["padding"])
        except ConvArithmeticError:
            return Unknown("padtype_to_pads")

    @op("conv_general_shape_tuple", Signature.of("lhs_shape", "rhs_shape", "window_strides", "padding", "dimension_numbers"))
    def conv_general_shape_tuple(i, p, n):
        return _shape_tuple(p["lhs_shape"], p["rhs_shape"], p["window_strides"], p["padding"], p["dimension_numbers"], False)

    @op("conv_shape_tuple", Signature.of("lhs_shape", "rhs_shape", "strides", "pads", ("batch_group_count", 1)))
    def conv_shape_tuple(i, p, n):
        return _shape_tuple(p["lhs_shape"], p["rhs_shape"], p["strides"], p["pads"], None, False)

    @op("conv_transpose_shape_tuple", Signature.of("lhs_shape", "rhs_shape", "window_strides", "padding", "dimension_numbers"))
    def conv_transpose_shape_tuple(i, p, n):
        return _shape_tuple(p["lhs_shape"], p["rhs_shape"], p["window_strides"], p["padding"], p["dimension_numbers"], True)

    @op("reduce_window_shape_tuple", Signature.of("operand_shape", "window_dimensions", "window_strides", "padding", ("base_dilation", None), ("window_dilation", None)))
    def reduce_window_shape_tuple(i, p, n):
        shape = p["operand_shape"]
        if not known(shape, p["window_dimensions"], p["window_strides"], p["padding"], p["base_dilation"], p["window_dilation"]) or not all(is_int(v) for v in shape):
            return Unknown("reduce_window_shape_tuple of unknown sizes")
        try:
            ws = lax_reduce_window(tuple(shape), as_tuple(p["window_dimensions"]), as_tuple(p["window_strides"]), as_tuple(p["padding"]),
                                   as_tuple(p["base_dilation"]), as_tuple(p["window_dilation"]))
        except ConvArithmeticError:
            return Unknown("reduce_window_shape_tuple")
        return tuple(max(w.output_size(d), 0) for w, d in zip(ws, shape))

    @op("conv_general_permutations", Signature.of("dimension_numbers"))
    def conv_general_permutations(i, p, n):
        spec = as_tuple(p["dimension_numbers"])
        if not known(spec) or not isinstance(spec, tuple) or len(spec) != 3 or not all(isinstance(s, str) for s in spec):
            return Unknown("conv_general_permutations")
        try:
            dn = dimension_numbers(len(spec[0]), spec)
        except ConvArithmeticError:
            return Unknown("conv_general_permutations")
        return (dn.lhs_spec, dn.rhs_spec, dn.out_spec)

    # ------------------------------------------------------------------ control flow
    @op("cond")
    def cond(i, a, k, n):
        if len(a) < 3:
            return Unknown("cond")
        pred, t, f, *ops = a
        truth = i.truth(pred) if not isinstance(pred, Tensor) else None
        if truth is True:
            return i.call(t, ops, {}, n)
        if truth is False:
            return i.call(f, ops, {}, n)
        return join(i.call(t, ops, {}, n), i.call(f, ops, {}, n))

    @op("switch")
    def switch(i, a, k, n):
        if len(a) < 2:
            return Unknown("switch")
        idx, branches, *ops = a
        bs = i.iterate(branches)
        if not bs:
            return Unknown("switch of unknown branches")
        if is_int(idx):
            return i.call(bs[max(0, min(idx, len(bs) - 1))], ops, {}, n)
        out = i.call(bs[0], ops, {}, n)
        for b in bs[1:]:
            out = join(out, i.call(b, ops, {}, n))
        return out

    @op("fori_loop", Signature.of("lower", "upper", "body_fun", "init_val"))
    def fori_loop(i, p, n):
        once = i.call(p["body_fun"], [Unknown("loop index"), p["init_val"]], {}, n)
        return join(p["init_val"], once) if not isinstance(once, Unknown) else Unknown("fori_loop body")

    @op("while_loop", Signature.of("cond_fun", "body_fun", "init_val"))
    def while_loop(i, p, n):
        once = i.call(p["body_fun"], [p["init_val"]], {}, n)
        return join(p["init_val"], once) if not isinstance(once, Unknown) else Unknown("while_loop body")

    @op("map", Signature.of("f", "xs", ("batch_size", None)))
    def map_(i, p, n):
        xs = A.as_array(p["xs"])
        if xs is None or xs.shape is None or not xs.shape:
            return Unknown("lax.map over a non-array or a tree")
        y = i.call(p["f"], [xs.derive(tuple(xs.shape[1:]))], {}, n)
        return _stacked(y, xs.shape[0])

    @op("scan", Signature.of("f", "init", ("xs", None), ("length", None), ("reverse", False), ("unroll", 1)))
    def scan(i, p, n):
        xs = p["xs"]
        length = p["length"]
        x0 = None
        if isinstance(xs, Tensor) and xs.shape:
            length = xs.shape[0] if length is None else length
            x0 = xs.derive(tuple(xs.shape[1:]))
        elif xs is not None:
            return Unknown("lax.scan over a tree of arrays")
        if length is None:
            return Unknown("scan length")
        res = i.call(p["f"], [p["init"], x0], {}, n)
        if not isinstance(res, tuple) or len(res) != 2:
            return Unknown("scan body")
        carry, y = res
        return (join(p["init"], carry), _stacked(y, length))

    @op("associative_scan", Signature.of("fn", "elems", ("reverse", False), ("axis", 0)))
    def associative_scan(i, p, n):
        return p["elems"] if isinstance(p["elems"], (Tensor, tuple, list)) else Unknown("associative_scan")

    # ------------------------------------------------------------------ unknown
    R.unknowns(ns, "gather", "gather's output depends on its GatherDimensionNumbers and slice sizes (not modelled)")
    R.unknowns(ns, "fft", "the FFT type is an enum convlint does not read")
    R.unknowns(ns, "bitcast_convert_type", "the result's shape depends on the dtypes' widths")
    R.unknowns(ns, "all_gather all_to_all psum_scatter ragged_all_to_all axis_index axis_size psend precv",
               "a collective over a mapped axis whose size is not in the source")
    R.unknowns(ns, "ragged_dot ragged_dot_general scaled_dot", "ragged or scaled products are not modelled")
    R.unknowns(ns, "conv_general_dilated_local", "locally connected lax convolutions are not modelled (flax ConvLocal is)")
    R.unknowns(ns, "custom_linear_solve custom_root", "solves through user functions convlint does not follow")
    R.unknowns(ns, "composite platform_dependent stage dce_sink", "wraps a user function: not followed")
    R.unknowns(ns, "create_token after_all", "a token, not an array")
    R.unknowns(ns, "dtype", "a dtype, not an array")
    R.unknowns(ns, "shape_as_value", "a shape as an array value (not modelled)")
    R.unknowns(ns, "empty", "an empty array of a dtype, no shape")
    R.unknowns(ns, "broadcast_like", "not modelled")
    R.unknowns(ns, "ConvGeneralDilatedDimensionNumbers DotDimensionNumbers PrecisionLike", "a type annotation, not an array function")


def _reduce_axes(interp, args, kwargs, node):
    p = Signature.of("operand", "axes").bind(args, kwargs)
    return A.reduce(p["operand"], as_tuple(p["axes"]), False)


def _cropped(x, dims):
    if x is None:
        return A.new(tuple(dims)) if dims is not None else Unknown("slice")
    out = x.derive(tuple(dims))
    from convlint.frameworks.shapes import repair

    return repair(out)


def _crop_along(x, axis, size):
    from convlint.frameworks.shapes import repair

    if x.shape is None or not is_int(axis):
        return x.derive(None)
    return repair(A.along(x, axis, size))


def _stacked(y, length):
    if isinstance(y, Tensor):
        return y.derive(None) if y.shape is None else y.derive((A.dim(length),) + tuple(y.shape))
    if isinstance(y, tuple):
        return tuple(_stacked(v, length) for v in y)
    if isinstance(y, list):
        return [_stacked(v, length) for v in y]
    if y is None:
        return None
    return Unknown("stacked outputs")


def dot_general_shape(a, b, dn):
    if a is None or b is None or a.shape is None or b.shape is None:
        return A.unknown_like(a, "dot_general")
    try:
        (ca, cb), (ba, bb) = dn
        ca, cb, ba, bb = (tuple(as_tuple(v)) for v in (ca, cb, ba, bb))
    except (TypeError, ValueError):
        return a.derive(None)
    if not all(is_int(v) for v in (*ca, *cb, *ba, *bb)):
        return a.derive(None)
    ra, rb = len(a.shape), len(b.shape)
    ca = [v % ra for v in ca]
    ba = [v % ra for v in ba]
    cb = [v % rb for v in cb]
    bb = [v % rb for v in bb]
    batch = tuple(a.shape[v] for v in ba)
    fa = tuple(d for j, d in enumerate(a.shape) if j not in ca and j not in ba)
    fb = tuple(d for j, d in enumerate(b.shape) if j not in cb and j not in bb)
    return a.derive(batch + fa + fb)


def _shape_tuple(lhs, rhs, strides, padding, dn, transpose):
    lhs, rhs, padding, dn = as_tuple(lhs), as_tuple(rhs), as_tuple(padding), as_tuple(dn)
    if not known(lhs, rhs, strides, padding, dn) or not all(is_int(v) for v in (*lhs, *rhs)):
        return Unknown("shape tuple of unknown sizes")
    try:
        d = dimension_numbers(len(lhs), dn)
        lsp = tuple(lhs[j] for j in d.lhs_spec[2:])
        rsp = tuple(rhs[j] for j in d.rhs_spec[2:])
        if transpose:
            ws = lax_conv_transpose(lsp, rsp, as_tuple(strides), padding)
        else:
            ws = lax_conv_general_dilated(lsp, rsp, as_tuple(strides), padding)
    except ConvArithmeticError:
        return Unknown("shape tuple")
    out_t = (lhs[d.lhs_spec[0]], rhs[d.rhs_spec[0]], *(max(w.output_size(s), 0) for w, s in zip(ws, lsp)))
    out = [0] * len(lhs)
    for pos, v in zip(d.out_spec, out_t):
        out[pos] = v
    return tuple(out)


def _patches(interp, p, node):
    """``conv_general_dilated_patches``: the conv of an identity kernel — features C·prod(filter)."""
    x = A.as_array(p["lhs"])
    fs = as_tuple(p["filter_shape"])
    if x is None or x.shape is None or not isinstance(fs, tuple) or not all(is_int(v) for v in fs):
        return A.unknown_like(x, "patches")
    r = len(x.shape)
    spec = K._dn_value(p["dimension_numbers"])
    try:
        dn = dimension_numbers(r, as_tuple(spec))
    except ConvArithmeticError:
        return x.derive(None)
    c = x.shape[dn.lhs_spec[1]]
    feats = c
    for v in fs:
        feats = A.mul(feats, v)
    shape = [0] * r
    for j, v in zip(dn.rhs_spec, (feats, c, *fs)):
        shape[j] = v
    rhs = Tensor(tuple(shape), framework="jax")
    args = [x, rhs, p["window_strides"], p["padding"], p["lhs_dilation"], p["rhs_dilation"], spec]
    fn = K.lax_conv_op("jax.lax.conv_general_dilated", False)
    return fn(interp, args, {}, node)
