"""Recurrent layers: ``nn.RNN`` / ``nn.LSTM`` / ``nn.GRU`` (outputs and ``(h, c)`` states with
``batch_first``, ``bidirectional``, ``num_layers``, ``proj_size``, unbatched inputs) and their cells.

A sequence input is ``(L, N, H_in)`` (``(N, L, H_in)`` with ``batch_first``) or ``(L, H_in)``; the
output is ``(…, D·H_out)`` with ``H_out = proj_size or hidden_size``; ``h_n`` is
``(D·num_layers, N, H_out)`` and LSTM's ``c_n`` ``(D·num_layers, N, hidden_size)`` — never batch-first.
"""

from __future__ import annotations

from convlint.frameworks.base import Layer, Signature, is_int
from convlint.frameworks.torch.common import (
    FRAMEWORK, channel_check, event, label_of, mul, new_tensor, rank_check, reg, reject, unmodelled,
)
from convlint.interpret.symbolic import is_size
from convlint.interpret.tensor import Tensor
from convlint.interpret.values import Unknown

def _rnn_params(mode, args, kwargs):
    """Bind torch's constructor: RNN takes ``nonlinearity`` as its 4th positional argument."""
    args = list(args)
    if mode == "RNN":
        nl = args.pop(3) if len(args) > 3 else kwargs.get("nonlinearity", "tanh")
        kwargs = {k: v for k, v in kwargs.items() if k != "nonlinearity"}
    else:
        nl = None
    sig = Signature.of("input_size", "hidden_size", ("num_layers", 1), ("bias", True), ("batch_first", False), ("dropout", 0.0),
                       ("bidirectional", False), ("proj_size", 0), ("device", None), ("dtype", None))
    p = sig.bind(args, kwargs)
    p["nonlinearity"] = nl
    return p


def _validate(interp, site, op, mode, p, proj_given):
    i, h, n, proj, drop = p["input_size"], p["hidden_size"], p["num_layers"], p["proj_size"], p["dropout"]
    if mode != "LSTM" and proj_given:
        reject(interp, site, op, "proj_size is only supported for LSTM", "proj_size only for LSTM", "proj_size")
    if mode == "RNN" and isinstance(p["nonlinearity"], str) and p["nonlinearity"] not in ("tanh", "relu"):
        reject(interp, site, op, f"nonlinearity={p['nonlinearity']!r} is not 'tanh' or 'relu'", "nonlinearity is tanh or relu", "nonlinearity")
    for name, v in (("input_size", i), ("hidden_size", h), ("num_layers", n)):
        if is_int(v) and v <= 0:
            reject(interp, site, op, f"{name}={v} must be greater than zero", f"{name} > 0", name)
    if is_int(proj) and is_int(h) and (proj < 0 or (proj > 0 and proj >= h)):
        reject(interp, site, op, f"proj_size={proj} must be smaller than hidden_size={h} (and not negative)", "0 <= proj_size < hidden_size", "proj_size")
    if isinstance(drop, (int, float)) and not isinstance(drop, bool) and not 0 <= drop <= 1:
        reject(interp, site, op, f"dropout={drop} is not a probability in [0, 1]", "0 <= dropout <= 1", "dropout")


def _rnn_build(op, mode):
    def build(interp, args, kwargs, node):
        p = _rnn_params(mode, args, kwargs)
        site = interp.site(node)
        _validate(interp, site, op, mode, p, "proj_size" in kwargs or len(args) > 7)
        return Layer(op, p, site, FRAMEWORK, _rnn_apply, extra={"mode": mode})

    return build


def _directions(p):
    b = p.get("bidirectional")
    return 2 if b is True else 1 if b is False else None


def _rnn_apply(interp, layer, args, kwargs, node):
    p = layer.params
    q = Signature.of("input", ("hx", None)).bind(args, kwargs)
    x, hx = q["input"], q["hx"]
    mode = layer.extra["mode"]
    label = label_of(layer)
    d = _directions(p)
    hidden, proj, layers = p["hidden_size"], p["proj_size"], p["num_layers"]
    h_out = proj if is_int(proj) and proj > 0 else hidden
    h_out = h_out if is_size(h_out) else Unknown("hidden_size")
    last = mul(d, h_out) if d is not None else Unknown("directions")
    dl = mul(d, layers) if d is not None and is_size(layers) else Unknown("layers × directions")
    c_size = hidden if is_size(hidden) else Unknown("hidden_size")
    bf = p["batch_first"]
    if not isinstance(x, Tensor) or x.shape is None or (not x.exact_rank and len(x.shape) < 3):
        out = new_tensor(tuple(x.shape[:-1]) + (last,) if isinstance(x, Tensor) and x.shape else (last,))
        out.exact_rank = False
        h = new_tensor((h_out,))
        h.exact_rank = False
        c = new_tensor((c_size,))
        c.exact_rank = False
        return _result(interp, layer, node, x, mode, out, h, c)
    if rank_check(interp, layer.site, label, x, (3, 2)):
        return _result(interp, layer, node, x, mode, x.derive(None), new_tensor(None), new_tensor(None))
    channel_check(interp, label, layer.site, p["input_size"], x.shape[-1], x, len(x.shape) - 1, what="input features (input_size)", layer=layer, argument="input_size")
    batched = len(x.shape) == 3
    if batched:
        batch = x.shape[0] if bf is True else x.shape[1] if bf is False else Unknown("batch")
        state = (dl, batch)
    else:
        state = (dl,)
    out = x.derive(tuple(x.shape[:-1]) + (last,), label=label)
    h = new_tensor(state + (h_out,))
    c = new_tensor(state + (c_size,))
    if hx is not None:
        given = list(hx) if isinstance(hx, (tuple, list)) else [hx]
        want = [h, c] if mode == "LSTM" else [h]
        for g, w in zip(given, want):
            if isinstance(g, Tensor) and g.shape is not None and g.exact_rank and len(g.shape) == len(w.shape):
                for j, (gd, wd) in enumerate(zip(g.shape, w.shape)):
                    if channel_check(interp, label, layer.site, wd, gd, g, j, what=f"in dim {j} of the initial state (shape {tuple(w.shape)})"):
                        break
    return _result(interp, layer, node, x, mode, out, h, c)


def _result(interp, layer, node, x, mode, out, h, c):
    event(interp, layer.site, node, layer.op, x, out, layer)
    return (out, (h, c)) if mode == "LSTM" else (out, h)


# ---------------------------------------------------------------------------------------- cells

def _cell_build(op, mode):
    sig = Signature.of("input_size", "hidden_size", ("bias", True), *((("nonlinearity", "tanh"),) if mode == "RNN" else ()), ("device", None), ("dtype", None))

    def build(interp, args, kwargs, node):
        p = sig.bind(args, kwargs)
        site = interp.site(node)
        for name in ("input_size", "hidden_size"):
            if is_int(p[name]) and p[name] <= 0:
                reject(interp, site, op, f"{name}={p[name]} must be greater than zero", f"{name} > 0", name)
        if mode == "RNN" and isinstance(p["nonlinearity"], str) and p["nonlinearity"] not in ("tanh", "relu"):
            reject(interp, site, op, f"nonlinearity={p['nonlinearity']!r} is not 'tanh' or 'relu'", "nonlinearity is tanh or relu", "nonlinearity")
        return Layer(op, p, site, FRAMEWORK, _cell_apply, extra={"mode": mode})

    return build


def _cell_apply(interp, layer, args, kwargs, node):
    q = Signature.of("input", ("hx", None)).bind(args, kwargs)
    x, hx = q["input"], q["hx"]
    p = layer.params
    label = label_of(layer)
    hid = p["hidden_size"] if is_size(p["hidden_size"]) else Unknown("hidden_size")
    if not isinstance(x, Tensor) or x.shape is None or not x.exact_rank:
        h = new_tensor((hid,))
        h.exact_rank = False
    else:
        if rank_check(interp, layer.site, label, x, (2, 1)):
            h = new_tensor(None)
        else:
            channel_check(interp, label, layer.site, p["input_size"], x.shape[-1], x, len(x.shape) - 1, what="input features (input_size)", layer=layer, argument="input_size")
            h = new_tensor(tuple(x.shape[:-1]) + (hid,))
    if hx is not None:
        given = list(hx) if isinstance(hx, (tuple, list)) else [hx]
        for g in given:
            if isinstance(g, Tensor) and g.shape and isinstance(h, Tensor) and h.shape:
                channel_check(interp, label, layer.site, hid, g.shape[-1], g, len(g.shape) - 1, what="features in the state (hidden_size)")
    event(interp, layer.site, node, layer.op, x, h, layer)
    if layer.extra["mode"] == "LSTM":
        return (h, h.derive(h.shape))
    return h


def register():
    for cls, mode in (("RNN", "RNN"), ("LSTM", "LSTM"), ("GRU", "GRU")):
        # the signatures say where the sizes were written (``input_size``, ``hidden_size``)
        reg(f"torch.nn.{cls}", _rnn_build(f"torch.nn.{cls}", mode), "layer", Signature.of("input_size", "hidden_size"))
        reg(f"torch.nn.{cls}Cell", _cell_build(f"torch.nn.{cls}Cell", mode), "layer", Signature.of("input_size", "hidden_size"))
    unmodelled("torch.nn.RNNBase", "the base class of RNN/LSTM/GRU: it has no forward (calling it raises)", "layer")
    for name in ("quantized_lstm", "quantized_gru", "quantized_lstm_cell", "quantized_gru_cell", "quantized_rnn_relu_cell", "quantized_rnn_tanh_cell"):
        unmodelled(f"torch.{name}", "quantized recurrent kernel", "tensor")
    unmodelled("torch.miopen_rnn", "a MIOpen (ROCm) backend kernel", "tensor")
    unmodelled("torch.mkldnn_rnn_layer", "a oneDNN backend kernel", "tensor")
