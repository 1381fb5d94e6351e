"""Attention: ``nn.MultiheadAttention`` (``batch_first``, ``kdim``/``vdim``, averaged or per-head
weights), ``F.scaled_dot_product_attention``, ``F.multi_head_attention_forward`` and the
Transformer layers, encoders and decoders (they keep their target's shape)."""

from __future__ import annotations

from convlint.frameworks.base import Layer, Signature, is_int
from convlint.frameworks.torch.common import (
    FRAMEWORK, channel_check, event, label_of, new_tensor, rank_check, reg, reject, tensor_arg,
)
from convlint.interpret.symbolic import is_size
from convlint.interpret.tensor import CHANNELS_FIRST, Tensor
from convlint.interpret.values import Unknown

MHA_SIG = Signature.of("embed_dim", "num_heads", ("dropout", 0.0), ("bias", True), ("add_bias_kv", False), ("add_zero_attn", False),
                       ("kdim", None), ("vdim", None), ("batch_first", False), ("device", None), ("dtype", None))


def _heads_check(interp, site, op, e, h, what="embed_dim"):
    if is_int(h) and h <= 0:
        reject(interp, site, op, f"num_heads={h} must be greater than zero", "num_heads > 0", "num_heads")
    elif is_int(e) and e <= 0:
        reject(interp, site, op, f"{what}={e} must be greater than zero", f"{what} > 0", what)
    elif is_int(e) and is_int(h) and e % h:
        reject(interp, site, op, f"{what}={e} is not divisible by num_heads={h}", f"{what} divisible by num_heads", "num_heads")


def _mha_build(interp, args, kwargs, node):
    p = MHA_SIG.bind(args, kwargs)
    site = interp.site(node)
    _heads_check(interp, site, "torch.nn.MultiheadAttention", p["embed_dim"], p["num_heads"])
    return Layer("torch.nn.MultiheadAttention", p, site, FRAMEWORK, _mha_apply)


def _len(t, i):
    return t.shape[i] if isinstance(t, Tensor) and t.shape is not None and t.exact_rank and -len(t.shape) <= i < len(t.shape) else Unknown("dim")


def mha(interp, site, label, q, k, v, e, heads, kdim, vdim, batch_first, need_weights, average, extra_kv=0):
    """``(attn_output, attn_weights)`` of multi-head attention."""
    for t, want, what in ((q, e, "query features (embed_dim)"), (k, kdim, "key features (kdim)"), (v, vdim, "value features (vdim)")):
        if isinstance(t, Tensor) and t.shape:
            channel_check(interp, label, site, want, t.shape[-1], t, len(t.shape) - 1, what=what)
    e = e if is_size(e) else Unknown("embed_dim")
    if not isinstance(q, Tensor) or q.shape is None or not q.exact_rank:
        out = new_tensor((e,))
        out.exact_rank = False
        weights = Tensor(None, CHANNELS_FIRST, framework=FRAMEWORK) if need_weights is not False else None
        return (out, weights)
    if rank_check(interp, site, label, q, (3, 2)):
        return (q.derive(None), Tensor(None, CHANNELS_FIRST, framework=FRAMEWORK))
    batched = len(q.shape) == 3
    out = q.derive(tuple(q.shape[:-1]) + (e,), label=label)
    if need_weights is False:
        return (out, None)
    if need_weights is not True:
        return (out, Unknown("need_weights"))
    if batched:
        n = q.shape[0] if batch_first is True else q.shape[1] if batch_first is False else Unknown("batch")
        tgt = q.shape[1] if batch_first is True else q.shape[0] if batch_first is False else Unknown("length")
        src = _len(k, 1 if batch_first is True else 0) if batch_first in (True, False) else Unknown("length")
    else:
        n, tgt, src = None, q.shape[0], _len(k, 0)
    if extra_kv and is_size(src):
        src = src + extra_kv
    lead = (n,) if n is not None else ()
    if average is True:
        return (out, new_tensor(lead + (tgt, src)))
    if average is False:
        return (out, new_tensor(lead + (heads if is_size(heads) else Unknown("num_heads"), tgt, src)))
    return (out, Tensor(None, CHANNELS_FIRST, framework=FRAMEWORK))


def _mha_apply(interp, layer, args, kwargs, node):
    q = Signature.of("query", "key", "value", ("key_padding_mask", None), ("need_weights", True), ("attn_mask", None),
                     ("average_attn_weights", True), ("is_causal", False)).bind(args, kwargs)
    p = layer.params
    e = p["embed_dim"]
    kdim = e if p["kdim"] is None else p["kdim"]
    vdim = e if p["vdim"] is None else p["vdim"]
    extra = (1 if p["add_bias_kv"] is True else 0) + (1 if p["add_zero_attn"] is True else 0)
    res = mha(interp, layer.site, label_of(layer), q["query"], q["key"], q["value"], e, p["num_heads"], kdim, vdim, p["batch_first"],
              q["need_weights"], q["average_attn_weights"], extra)
    event(interp, layer.site, node, layer.op, q["query"], res[0], layer)
    return res


def _mha_forward(interp, args, kwargs, node):
    """``F.multi_head_attention_forward``: sequence-first, ``embed_dim_to_check`` features."""
    p = Signature.of("query", "key", "value", "embed_dim_to_check", "num_heads", "in_proj_weight", "in_proj_bias", "bias_k", "bias_v",
                     "add_zero_attn", "dropout_p", "out_proj_weight", "out_proj_bias", ("training", True), ("key_padding_mask", None),
                     ("need_weights", True), ("attn_mask", None), ("use_separate_proj_weight", False), ("q_proj_weight", None),
                     ("k_proj_weight", None), ("v_proj_weight", None), ("static_k", None), ("static_v", None),
                     ("average_attn_weights", True), ("is_causal", False)).bind(args, kwargs)
    e = p["embed_dim_to_check"]
    extra = (1 if isinstance(p["bias_k"], Tensor) else 0) + (1 if p["add_zero_attn"] is True else 0)
    k, v = p["key"], p["value"]
    kd = _len(k, -1) if p["use_separate_proj_weight"] is True else e
    vd = _len(v, -1) if p["use_separate_proj_weight"] is True else e
    return mha(interp, interp.site(node), "multi_head_attention_forward", p["query"], k, v, e, p["num_heads"], kd, vd, False,
               p["need_weights"], p["average_attn_weights"], extra)


def _sdpa(interp, args, kwargs, node):
    """``(…, L, E) × (…, S, E) × (…, S, Ev) → (…, L, Ev)``."""
    p = Signature.of("query", "key", "value", ("attn_mask", None), ("dropout_p", 0.0), ("is_causal", False)).bind(args, kwargs)
    q, k, v = p["query"], p["key"], p["value"]
    site = interp.site(node)
    if isinstance(q, Tensor) and isinstance(k, Tensor) and q.shape and k.shape:
        channel_check(interp, "scaled_dot_product_attention", site, q.shape[-1], k.shape[-1], k, len(k.shape) - 1, what="features in key (the query's last dim)")
    ev = v.shape[-1] if isinstance(v, Tensor) and v.shape else Unknown("value features")
    if not isinstance(q, Tensor) or q.shape is None or not q.shape:
        out = new_tensor((ev,))
        out.exact_rank = False
        return out
    return q.derive(tuple(q.shape[:-1]) + (ev,))


# ---------------------------------------------------------------------------------------- transformers

ENC_SIG = Signature.of("d_model", "nhead", ("dim_feedforward", 2048), ("dropout", 0.1), ("activation", "relu"), ("layer_norm_eps", 1e-5),
                       ("batch_first", False), ("norm_first", False), ("bias", True), ("device", None), ("dtype", None))


def _layer_build(op, decoder):
    def build(interp, args, kwargs, node):
        p = ENC_SIG.bind(args, kwargs)
        site = interp.site(node)
        _heads_check(interp, site, op, p["d_model"], p["nhead"], "d_model")
        return Layer(op, p, site, FRAMEWORK, apply_)

    def apply_(interp, layer, args, kwargs, node):
        names = ("tgt", "memory") if decoder else ("src",)
        q = Signature.of(*names).bind(args[: len(names)], {k: v for k, v in kwargs.items() if k in names})
        x = q[names[0]]
        label = label_of(layer)
        for n in names:
            t = q[n]
            if isinstance(t, Tensor) and t.shape:
                channel_check(interp, label, layer.site, layer.params["d_model"], t.shape[-1], t, len(t.shape) - 1, what=f"features in {n} (d_model)")
        out = x if isinstance(x, (Tensor, Unknown)) else Tensor(None, CHANNELS_FIRST, framework=FRAMEWORK)
        event(interp, layer.site, node, layer.op, x, out, layer)
        return out

    return build


def _stack_build(op, decoder):
    sig = Signature.of("decoder_layer" if decoder else "encoder_layer", "num_layers", ("norm", None))

    def build(interp, args, kwargs, node):
        p = sig.bind(args, kwargs)
        return Layer(op, p, interp.site(node), FRAMEWORK, apply_)

    def apply_(interp, layer, args, kwargs, node):
        inner = layer.params["decoder_layer" if decoder else "encoder_layer"]
        n = 2 if decoder else 1
        x = interp.call(inner, list(args[:n]), {k: v for k, v in kwargs.items() if k in ("tgt", "memory", "src")}, node) if not isinstance(inner, Unknown) else tensor_arg(args, kwargs)
        norm = layer.params["norm"]
        if norm is not None and not isinstance(norm, Unknown):
            x = interp.call(norm, [x], {}, node)
        return x

    return build


def _transformer_build(interp, args, kwargs, node):
    p = Signature.of(("d_model", 512), ("nhead", 8), ("num_encoder_layers", 6), ("num_decoder_layers", 6), ("dim_feedforward", 2048),
                     ("dropout", 0.1), ("activation", "relu"), ("custom_encoder", None), ("custom_decoder", None), ("layer_norm_eps", 1e-5),
                     ("batch_first", False), ("norm_first", False), ("bias", True), ("device", None), ("dtype", None)).bind(args, kwargs)
    site = interp.site(node)
    _heads_check(interp, site, "torch.nn.Transformer", p["d_model"], p["nhead"], "d_model")
    return Layer("torch.nn.Transformer", p, site, FRAMEWORK, _transformer_apply)


def _transformer_apply(interp, layer, args, kwargs, node):
    q = Signature.of("src", "tgt").bind(args[:2], {k: v for k, v in kwargs.items() if k in ("src", "tgt")})
    src, tgt = q["src"], q["tgt"]
    label = label_of(layer)
    p = layer.params
    for n, t in (("src", src), ("tgt", tgt)):
        if isinstance(t, Tensor) and t.shape:
            channel_check(interp, label, layer.site, p["d_model"], t.shape[-1], t, len(t.shape) - 1, what=f"features in {n} (d_model)")
    if all(isinstance(t, Tensor) and t.shape is not None and t.exact_rank and len(t.shape) == 3 for t in (src, tgt)) and p["batch_first"] in (True, False):
        b = 0 if p["batch_first"] else 1
        channel_check(interp, label, layer.site, src.shape[b], tgt.shape[b], tgt, b, what="batch entries in tgt (src's batch)")
    out = tgt if isinstance(tgt, (Tensor, Unknown)) else Tensor(None, CHANNELS_FIRST, framework=FRAMEWORK)
    event(interp, layer.site, node, layer.op, tgt, out, layer)
    return out


def register():
    F = "torch.nn.functional"
    reg("torch.nn.MultiheadAttention", _mha_build, "layer")
    reg(f"{F}.multi_head_attention_forward", _mha_forward)
    reg(f"{F}.scaled_dot_product_attention", _sdpa)
    reg("torch.nn.TransformerEncoderLayer", _layer_build("torch.nn.TransformerEncoderLayer", False), "layer")
    reg("torch.nn.TransformerDecoderLayer", _layer_build("torch.nn.TransformerDecoderLayer", True), "layer")
    reg("torch.nn.TransformerEncoder", _stack_build("torch.nn.TransformerEncoder", False), "layer")
    reg("torch.nn.TransformerDecoder", _stack_build("torch.nn.TransformerDecoder", True), "layer")
    reg("torch.nn.Transformer", _transformer_build, "layer")
