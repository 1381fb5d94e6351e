"""flax.linen functions: pooling (through ``lax.reduce_window``'s arithmetic), activations,
attention helpers and masks, initializers, and the lifted transforms applied to a module class
(``jit``/``remat``/``checkpoint`` keep it; ``vmap`` and ``scan`` map or scan its call)."""

from __future__ import annotations

from convlint.arith.core import ConvArithmeticError
from convlint.arith.lax import lax_reduce_window
from convlint.frameworks import shapes as C
from convlint.frameworks.base import Signature, as_tuple, is_int, known, window_out
from convlint.frameworks.jax import arrays as A
from convlint.frameworks.jax import nn as JNN
from convlint.frameworks.jax import numpy as N
from convlint.frameworks.jax.registry import Registry
from convlint.interpret import builtins as pyb
from convlint.interpret.events import ConfigEvent
from convlint.interpret.lattice import join
from convlint.interpret.symbolic import Sym
from convlint.interpret.tensor import Tensor
from convlint.interpret.values import ClassVal, Instance, Unknown

NS = "flax.linen"

# ---------------------------------------------------------------------------------- pooling

POOL_SIG = Signature.of("inputs", "window_shape", ("strides", None), ("padding", "VALID"))
GENERIC_POOL_SIG = Signature.of("inputs", "init", "reduce_fn", "window_shape", ("strides", None), ("padding", "VALID"))


def pool(op, generic=False):
    """``avg_pool``/``max_pool``/``min_pool``/``pool``: ``lax.reduce_window`` over the spatial dims
    (batch dims and features untouched), sizes from the arithmetic core."""
    sig = GENERIC_POOL_SIG if generic else POOL_SIG

    def fn(interp, args, kwargs, node):
        p = sig.bind(args, kwargs)
        x = p["inputs"]
        site = interp.site(node)
        if not isinstance(x, Tensor):
            return Tensor(None)
        ws = as_tuple(p["window_shape"])
        strides, pad = as_tuple(p["strides"]), as_tuple(p["padding"])
        if x.shape is None or not known(ws, strides, pad) or not isinstance(ws, tuple):
            out = None
            if x.shape is not None and isinstance(ws, tuple) and len(x.shape) >= len(ws) + 1:
                n = len(x.shape)
                out = tuple(Unknown("pool") if n - 1 - len(ws) <= j < n - 1 else d for j, d in enumerate(x.shape))
            return C.record(interp, op=op, layer=None, site=site, call_node=node, x=x, out_shape=out)
        rank = len(ws)
        n = len(x.shape)
        if n < rank + 1:
            return C.record(interp, op=op, layer=None, site=site, call_node=node, x=x, out_shape=None)
        axes = list(range(n - 1 - rank, n - 1))
        strides = strides if strides is not None else (1,) * rank
        sizes = tuple(x.shape[a] for a in axes)
        conc = tuple(s if is_int(s) else 1 for s in sizes)
        if not isinstance(pad, str):
            if not isinstance(pad, tuple) or len(pad) != rank:
                return C.record(interp, op=op, layer=None, site=site, call_node=node, x=x, out_shape=None)
        try:
            windows = lax_reduce_window(conc, ws, strides, pad)
        except ConvArithmeticError as e:
            interp.trace.record(ConfigEvent(site, op.rsplit(".", 1)[-1], e))
            return C.record(interp, op=op, layer=None, site=site, call_node=node, x=x, out_shape=None)
        if isinstance(pad, str) and pad.upper() != "VALID" and not all(is_int(s) for s in sizes):
            spatial = tuple(((s + (st - 1)) // st) if isinstance(s, Sym) else Unknown("pool") for s, st in zip(sizes, strides))
            windows = ()
        else:
            spatial = tuple(window_out(w, i) for w, i in zip(windows, sizes))
        raw = spatial
        spatial = tuple(max(o, 0) if is_int(o) else o for o in spatial)  # jax gives a zero-size array
        kindv = "down" if any(s > 1 for s in strides) else None
        out = tuple(x.shape[: n - 1 - rank]) + spatial + (x.shape[-1],)
        res = C.record(interp, op=op, layer=None, site=site, call_node=node, x=x, out_shape=out,
                       windows=windows, kind=kindv, axes=axes, adjoint=("pool", windows, None), spatial_out=raw,
                       params={"window_shape": ws, "strides": strides, "padding": pad})
        res.exact_rank = x.exact_rank
        return res

    return fn


# ---------------------------------------------------------------------------------- attention helpers

DPA_W_SIG = Signature.of("query", "key", ("bias", None), ("mask", None))


def attention_weights(interp, args, kwargs, node):
    """``dot_product_attention_weights``: (batch..., heads, q_length, kv_length)."""
    p = DPA_W_SIG.bind(args, kwargs)
    q, k = A.as_array(p["query"]), A.as_array(p["key"])
    if q is None or k is None or q.shape is None or k.shape is None or len(q.shape) < 3 or len(k.shape) < 3:
        return Tensor(None)
    return q.derive(tuple(q.shape[:-3]) + (q.shape[-2], q.shape[-3], k.shape[-3]))


MASK_SIG = Signature.of("query_input", "key_input", ("pairwise_fn", None), ("extra_batch_dims", 0))


def attention_mask(interp, args, kwargs, node):
    p = MASK_SIG.bind(args, kwargs)
    q, k = A.as_array(p["query_input"]), A.as_array(p["key_input"])
    e = p["extra_batch_dims"]
    if q is None or k is None or q.shape is None or k.shape is None or not is_int(e) or not q.shape or not k.shape:
        return Tensor(None)
    batch = A.broadcast_shapes([tuple(q.shape[:-1]), tuple(k.shape[:-1])])
    return A.new((1,) * e + batch + (1, q.shape[-1], k.shape[-1]))


def causal_mask(interp, args, kwargs, node):
    p = Signature.of("x", ("extra_batch_dims", 0)).bind(args, kwargs)
    x = A.as_array(p["x"])
    e = p["extra_batch_dims"]
    if x is None or x.shape is None or not x.shape or not is_int(e):
        return Tensor(None)
    return A.new((1,) * e + tuple(x.shape[:-1]) + (1, x.shape[-1], x.shape[-1]))


def combine_masks(interp, args, kwargs, node):
    vals = [v for v in args if v is not None]
    if not vals:
        return None
    return A.elementwise(interp, vals, node, "combine_masks")


# ---------------------------------------------------------------------------------- initializers

def initializer_call(interp, args, kwargs, node):
    """``nn.zeros(key, shape)`` / ``nn.ones(key, shape)``: an array of that shape."""
    p = Signature.of("key", "shape", ("dtype", None)).bind(args, kwargs)
    return A.new(A.shape_arg(p["shape"]))


def initializer_maker(interp, args, kwargs, node):
    """``nn.zeros_init()``: an initializer."""
    return pyb.Builtin("initializer", initializer_call)


# ---------------------------------------------------------------------------------- transforms

def keep_target(interp, args, kwargs, node):
    """A lifted transform that keeps the module's shapes (``jit``, ``remat``, ``checkpoint``,
    ``named_call``, ``map_variables``, ``add_metadata_axis``, …) or a decorator (``compact``)."""
    return args[0] if args else Unknown("transform of nothing")


def _as_module(interp, op, fn, kwargs, node):
    """A lifted module: calling it calls ``fn``; it has ``init``/``apply`` like any flax module."""
    from convlint.frameworks.flax.layers import make_layer

    return make_layer(interp, op, {}, node, lambda i, layer, a, k, n: i.call(fn, list(a), k, n), kwargs)


def _instantiate(interp, target, a, k, node):
    return interp.call(target, list(a), k, node)


def vmap(interp, args, kwargs, node):
    p = Signature.of("target", ("variable_axes", None), ("split_rngs", None), ("in_axes", 0), ("out_axes", 0), ("axis_size", None)).bind(args, kwargs)
    target = p["target"]
    from convlint.frameworks.jax import _vmap

    if isinstance(target, ClassVal):
        def build(i, a, k, n):
            inst = _instantiate(i, target, a, k, n)
            mapped = _vmap(i, [inst], {"in_axes": p["in_axes"], "out_axes": p["out_axes"]}, n)
            return _as_module(i, "flax.linen.vmap", mapped, k, n)

        return pyb.Builtin(f"vmap({target.name})", build)
    return _vmap(interp, [target], {"in_axes": p["in_axes"], "out_axes": p["out_axes"]}, node)


def scan(interp, args, kwargs, node):
    p = Signature.of("target", ("variable_axes", None), ("variable_broadcast", False), ("variable_carry", False), ("split_rngs", None),
                     ("in_axes", 0), ("out_axes", 0), ("length", None)).bind(args, kwargs)
    target = p["target"]

    def scanned(inst):
        def call(i, a, k, n):
            if not a:
                return Unknown("scan without a carry")
            carry, *xs = a
            in_axes = p["in_axes"]
            length = p["length"]
            sliced = []
            for j, x in enumerate(xs):
                ax = in_axes[j] if isinstance(in_axes, (tuple, list)) and j < len(in_axes) else in_axes
                if is_int(ax) and isinstance(x, Tensor) and x.shape is not None and x.shape:
                    r = len(x.shape)
                    a_ = A.norm_axis(ax, r)
                    if a_ is None:
                        return Unknown("scan axis")
                    length = x.shape[a_] if length is None else length
                    sliced.append(x.derive(tuple(d for q, d in enumerate(x.shape) if q != a_)))
                else:
                    sliced.append(x)  # nn.broadcast or a non-array: passed as is
            res = i.call(inst, [carry, *sliced], k, n)
            if not isinstance(res, tuple) or len(res) != 2:
                return Unknown("scan body")
            new_carry, ys = res
            from convlint.frameworks.jax import _with_axis

            out_ax = p["out_axes"] if is_int(p["out_axes"]) else 0
            return (join(carry, new_carry), _with_axis(ys, length if length is not None else Unknown("scan length"), out_ax))

        return pyb.Builtin("scan", call)

    if isinstance(target, ClassVal):
        return pyb.Builtin(f"scan({target.name})", lambda i, a, k, n: _as_module(i, "flax.linen.scan", scanned(_instantiate(i, target, a, k, n)), k, n))
    return Unknown("nn.scan of a function (lifted over a module argument)")


def lifted_cond(interp, args, kwargs, node):
    """``nn.cond(pred, true_fun, false_fun, module, *operands)``."""
    if len(args) < 4:
        return Unknown("nn.cond")
    pred, t, f, *ops = args
    truth = interp.truth(pred) if not isinstance(pred, Tensor) else None
    if truth is True:
        return interp.call(t, ops, {}, node)
    if truth is False:
        return interp.call(f, ops, {}, node)
    return join(interp.call(t, ops, {}, node), interp.call(f, ops, {}, node))


def lifted_switch(interp, args, kwargs, node):
    if len(args) < 3:
        return Unknown("nn.switch")
    idx, branches, *ops = args
    bs = interp.iterate(branches)
    if not bs:
        return Unknown("nn.switch of unknown branches")
    out = interp.call(bs[0], ops, {}, node)
    for b in bs[1:]:
        out = join(out, interp.call(b, ops, {}, node))
    return out


def lifted_while(interp, args, kwargs, node):
    p = Signature.of("cond_fn", "body_fn", "mdl", "init").bind(args, kwargs)
    once = interp.call(p["body_fn"], [p["mdl"], p["init"]], {}, node)
    return join(p["init"], once)


def functional_apply(interp, args, kwargs, node):
    """``nn.apply(fn, module)(variables, *args)``: ``fn(module, *args)``."""
    p = Signature.of("fn", "module", ("mutable", False), ("capture_intermediates", False)).bind(args, kwargs)

    def call(i, a, k, n):
        out = i.call(p["fn"], [p["module"], *a[1:]], k, n)
        return out if p["mutable"] is False else (out, Unknown("flax state"))

    return pyb.Builtin("apply", call)


def functional_init(with_output):
    def fn(interp, args, kwargs, node):
        p = Signature.of("fn", "module", ("mutable", None), ("capture_intermediates", False)).bind(args, kwargs)

        def call(i, a, k, n):
            out = i.call(p["fn"], [p["module"], *a[1:]], k, n)
            return (out, Unknown("flax variables")) if with_output else Unknown("flax variables")

        return pyb.Builtin("init", call)

    return fn


def tabulate(interp, args, kwargs, node):
    """``nn.tabulate(module, rngs)(*args)``: runs the module; the table is text."""
    p = Signature.of("module", "rngs").bind(args, kwargs)

    def call(i, a, k, n):
        m = p["module"]
        fn = i.getattr(m, "tabulate") if isinstance(m, Instance) else None
        if fn is not None and not isinstance(fn, Unknown):
            return i.call(fn, [p["rngs"], *a], k, n)
        i.call(m, list(a), k, n)
        return Unknown("flax table")

    return pyb.Builtin("tabulate", call)


# ---------------------------------------------------------------------------------- registration

PRESERVING_FNS = JNN.ACTIVATIONS + " unbox with_logical_constraint"


def register(R: Registry) -> None:
    ns = NS
    R.model(f"{ns}.avg_pool", pool(f"{ns}.avg_pool"), POOL_SIG, family="pool")
    R.model(f"{ns}.max_pool", pool(f"{ns}.max_pool"), POOL_SIG, family="pool")
    R.model(f"{ns}.min_pool", pool(f"{ns}.min_pool"), POOL_SIG, family="pool")
    R.model(f"{ns}.pool", pool(f"{ns}.pool", generic=True), GENERIC_POOL_SIG, family="pool")
    for name in PRESERVING_FNS.split():
        R.preserve(f"{ns}.{name}", N.same)
    R.model(f"{ns}.glu", JNN.glu, JNN.GLU_SIG)
    R.model(f"{ns}.one_hot", JNN.one_hot, JNN.ONE_HOT_SIG)
    R.model(f"{ns}.logsumexp", JNN._logsumexp, JNN.LSE_SIG)
    R.model(f"{ns}.dot_product_attention", JNN.dot_product_attention, JNN.DPA_SIG)
    R.model(f"{ns}.dot_product_attention_weights", attention_weights, DPA_W_SIG)
    R.model(f"{ns}.make_attention_mask", attention_mask, MASK_SIG)
    R.model(f"{ns}.make_causal_mask", causal_mask)
    R.model(f"{ns}.combine_masks", combine_masks)
    for name in ("zeros", "ones"):
        R.model(f"{ns}.{name}", initializer_call)
    for name in ("zeros_init", "ones_init"):
        R.model(f"{ns}.{name}", initializer_maker)
    R.model(f"{ns}.merge_param", lambda i, a, k, n: next((v for v in a[1:3] if v is not None), Unknown("merge_param")) if len(a) >= 3 else Unknown("merge_param"))
    for name in ("compact", "nowrap", "compact_name_scope", "jit", "remat", "checkpoint", "named_call", "map_variables", "add_metadata_axis",
                 "share_scope", "fold_rngs"):
        R.model(f"{ns}.{name}", keep_target)
    R.model(f"{ns}.vmap", vmap)
    R.model(f"{ns}.scan", scan)
    R.model(f"{ns}.cond", lifted_cond)
    R.model(f"{ns}.switch", lifted_switch)
    R.model(f"{ns}.while_loop", lifted_while)
    R.model(f"{ns}.apply", functional_apply)
    R.model(f"{ns}.init", functional_init(False))
    R.model(f"{ns}.init_with_output", functional_init(True))
    R.model(f"{ns}.tabulate", tabulate)
    R.unknowns(ns, "remat_scan", "scans a module a fixed number of times over lengths given as a tuple (not modelled)")
    R.unknowns(ns, "grad value_and_grad jvp vjp custom_vjp", "differentiates a function of a module: gradients of variables, not arrays convlint follows")
    R.unknowns(ns, "intercept_methods", "a context manager: no array result")
    R.unknowns(ns, "disable_named_call enable_named_call override_named_call", "a global switch: no array result")
    R.unknowns(ns, "get_logical_axis_rules set_logical_axis_rules logical_axis_rules logical_to_mesh logical_to_mesh_axes logical_to_mesh_sharding "
                   "get_partition_spec get_sharding with_partitioning with_logical_partitioning",
               "sharding metadata: no array shape")
