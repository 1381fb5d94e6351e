"""Losses: a 0-d tensor with ``reduction='mean'``/``'sum'`` (``'batchmean'``), the per-element or
per-sample losses with ``reduction='none'`` — as module classes, ``F.*_loss`` and the ``torch.*``
kernels (whose ``reduction`` is an int: 0 none, 1 mean, 2 sum; none by default)."""

from __future__ import annotations

from convlint.frameworks.base import Layer, Signature
from convlint.frameworks.torch.common import FRAMEWORK, elementwise, new_tensor, reg, unmodelled
from convlint.frameworks.torch.functions import reduce_dims
from convlint.interpret.tensor import CHANNELS_FIRST, Tensor
from convlint.interpret.values import Unknown

_LEGACY = (("size_average", None), ("reduce", None))


def _reduced(p) -> bool | None:
    """True: the loss is one number; False: per element/sample; None: not known."""
    if p.get("reduce") is False:
        return False
    r = p.get("reduction", "mean")
    if r in ("mean", "sum", "batchmean", 1, 2):
        return True
    if r in ("none", 0):
        return False
    return None


def _per_item(interp, node, kind, ts):
    """The unreduced loss: elementwise over broadcast operands, or one per sample."""
    x = ts[0]
    if kind == "elementwise":
        return elementwise(interp, node, "loss", *ts[:2])
    if not isinstance(x, Tensor) or x.shape is None or not x.exact_rank:
        return Tensor(None, CHANNELS_FIRST, framework=FRAMEWORK)
    n = len(x.shape)
    if kind == "class":  # (N, C, d1, …) → (N, d1, …); (C,) → ()
        return x.derive(() if n == 1 else (x.shape[0],) + tuple(x.shape[2:]))
    if kind == "sample":  # (N, C) → (N,); (C,) → ()
        return x.derive(() if n == 1 else (x.shape[0],))
    if kind == "ctc":  # log_probs (T, N, C) → (N,); (T, C) → ()
        return x.derive(() if n == 2 else (x.shape[1],) if n == 3 else None)
    if kind == "distance":  # the distance over the last dim of the broadcast operands
        out = elementwise(interp, node, "loss", *ts[:3])
        return reduce_dims(out, -1, False) if isinstance(out, Tensor) and out.shape else out
    if kind == "lead":  # input (*, features) → (*)
        return x.derive(tuple(x.shape[:-1]))
    return Tensor(None, CHANNELS_FIRST, framework=FRAMEWORK)


def loss_shape(interp, node, kind, p, operands):
    red = _reduced(p)
    if red is True:
        return new_tensor(())
    if red is None:
        return Tensor(None, CHANNELS_FIRST, framework=FRAMEWORK)
    return _per_item(interp, node, kind, [p.get(n, Unknown(n)) for n in operands])


# (module class, functional name, torch kernel, per-item kind, operands, module signature (after the operands), functional extras)
LOSSES = (
    ("L1Loss", "l1_loss", None, "elementwise", ("input", "target"), _LEGACY + (("reduction", "mean"),)),
    ("MSELoss", "mse_loss", None, "elementwise", ("input", "target"), _LEGACY + (("reduction", "mean"),)),
    ("SmoothL1Loss", "smooth_l1_loss", None, "elementwise", ("input", "target"), _LEGACY + (("reduction", "mean"), ("beta", 1.0))),
    ("HuberLoss", "huber_loss", None, "elementwise", ("input", "target"), (("reduction", "mean"), ("delta", 1.0))),
    ("SoftMarginLoss", "soft_margin_loss", None, "elementwise", ("input", "target"), _LEGACY + (("reduction", "mean"),)),
    ("BCELoss", "binary_cross_entropy", None, "elementwise", ("input", "target"), (("weight", None),) + _LEGACY + (("reduction", "mean"),)),
    ("BCEWithLogitsLoss", "binary_cross_entropy_with_logits", "binary_cross_entropy_with_logits", "elementwise", ("input", "target"),
     (("weight", None),) + _LEGACY + (("reduction", "mean"), ("pos_weight", None))),
    ("KLDivLoss", "kl_div", "kl_div", "elementwise", ("input", "target"), _LEGACY + (("reduction", "mean"), ("log_target", False))),
    ("PoissonNLLLoss", "poisson_nll_loss", "poisson_nll_loss", "elementwise", ("input", "target"),
     (("log_input", True), ("full", False), ("size_average", None), ("eps", 1e-8), ("reduce", None), ("reduction", "mean"))),
    ("GaussianNLLLoss", "gaussian_nll_loss", None, "elementwise", ("input", "target", "var"), (("full", False), ("eps", 1e-6), ("reduction", "mean"))),
    ("HingeEmbeddingLoss", "hinge_embedding_loss", "hinge_embedding_loss", "elementwise", ("input", "target"), (("margin", 1.0),) + _LEGACY + (("reduction", "mean"),)),
    ("CrossEntropyLoss", "cross_entropy", None, "class", ("input", "target"),
     (("weight", None), ("size_average", None), ("ignore_index", -100), ("reduce", None), ("reduction", "mean"), ("label_smoothing", 0.0))),
    ("NLLLoss", "nll_loss", None, "class", ("input", "target"), (("weight", None), ("size_average", None), ("ignore_index", -100), ("reduce", None), ("reduction", "mean"))),
    ("NLLLoss2d", None, None, "class", ("input", "target"), (("weight", None), ("size_average", None), ("ignore_index", -100), ("reduce", None), ("reduction", "mean"))),
    ("MultiMarginLoss", "multi_margin_loss", None, "sample", ("input", "target"), (("p", 1), ("margin", 1.0), ("weight", None)) + _LEGACY + (("reduction", "mean"),)),
    ("MultiLabelMarginLoss", "multilabel_margin_loss", None, "sample", ("input", "target"), _LEGACY + (("reduction", "mean"),)),
    ("MultiLabelSoftMarginLoss", "multilabel_soft_margin_loss", None, "sample", ("input", "target"), (("weight", None),) + _LEGACY + (("reduction", "mean"),)),
    ("CosineEmbeddingLoss", "cosine_embedding_loss", "cosine_embedding_loss", "lead", ("input1", "input2", "target"), (("margin", 0.0),) + _LEGACY + (("reduction", "mean"),)),
    ("MarginRankingLoss", "margin_ranking_loss", "margin_ranking_loss", "elementwise", ("input1", "input2", "target"), (("margin", 0.0),) + _LEGACY + (("reduction", "mean"),)),
    ("TripletMarginLoss", "triplet_margin_loss", "triplet_margin_loss", "distance", ("anchor", "positive", "negative"),
     (("margin", 1.0), ("p", 2.0), ("eps", 1e-6), ("swap", False)) + _LEGACY + (("reduction", "mean"),)),
    ("TripletMarginWithDistanceLoss", "triplet_margin_with_distance_loss", None, "distance", ("anchor", "positive", "negative"),
     (("distance_function", None), ("margin", 1.0), ("swap", False), ("reduction", "mean"))),
    ("CTCLoss", "ctc_loss", "ctc_loss", "ctc", ("log_probs", "targets", "input_lengths", "target_lengths"), (("blank", 0), ("reduction", "mean"), ("zero_infinity", False))),
)
# the module constructor's arguments (the functional ones follow the operands)
MODULE_ARGS = {
    "CrossEntropyLoss": (("weight", None), ("size_average", None), ("ignore_index", -100), ("reduce", None), ("reduction", "mean"), ("label_smoothing", 0.0)),
    "HuberLoss": (("reduction", "mean"), ("delta", 1.0)),
}
# the torch.* kernels: reduction is an int, and (as the Python bindings give it) 0 — no reduction — by default
KERNEL_ARGS = {
    "binary_cross_entropy_with_logits": (("weight", None), ("pos_weight", None), ("reduction", 0)),
    "kl_div": (("reduction", 0), ("log_target", False)),
    "poisson_nll_loss": (("log_input", True), ("full", False), ("eps", 1e-8), ("reduction", 0)),
    "hinge_embedding_loss": (("margin", 1.0), ("reduction", 0)),
    "cosine_embedding_loss": (("margin", 0.0), ("reduction", 0)),
    "margin_ranking_loss": (("margin", 0.0), ("reduction", 0)),
    "triplet_margin_loss": (("margin", 1.0), ("p", 2.0), ("eps", 1e-6), ("swap", False), ("reduction", 0)),
    "ctc_loss": (("blank", 0), ("reduction", 0), ("zero_infinity", False)),
}


def _module(op, kind, operands, extra):
    sig = Signature.of(*extra)
    fwd = Signature.of(*operands)

    def build(interp, args, kwargs, node):
        p = sig.bind(args, kwargs)

        def apply_(i, l, a, k, n):
            q = dict(l.params)
            q.update(fwd.bind(a, k))
            return loss_shape(i, n, kind, q, operands)

        return Layer(op, p, interp.site(node), FRAMEWORK, apply_)

    return build


def _function(kind, operands, extra):
    sig = Signature.of(*operands, *extra)

    def f(interp, args, kwargs, node):
        p = sig.bind(args, kwargs)
        return loss_shape(interp, node, kind, p, operands)

    return f


def _linear_ce_build(interp, args, kwargs, node):
    p = Signature.of("in_features", "num_classes").bind(args, kwargs)
    p["reduction"] = kwargs.get("reduction", "mean")
    return Layer("torch.nn.LinearCrossEntropyLoss", p, interp.site(node), FRAMEWORK,
                 lambda i, l, a, k, n: loss_shape(i, n, "lead", dict(l.params, **Signature.of("input", "target").bind(a, k)), ("input", "target")))


def register():
    F = "torch.nn.functional"
    for cls, fname, kernel, kind, operands, extra in LOSSES:
        reg(f"torch.nn.{cls}", _module(f"torch.nn.{cls}", kind, operands, MODULE_ARGS.get(cls, extra)), "layer")
        if fname:
            reg(f"{F}.{fname}", _function(kind, operands, extra))
        if kernel:
            reg(f"torch.{kernel}", _function(kind, operands, KERNEL_ARGS[kernel]))
    reg("torch.nn.LinearCrossEntropyLoss", _linear_ce_build, "layer")
    reg(f"{F}.linear_cross_entropy", lambda i, a, k, n: loss_shape(i, n, "lead", dict(Signature.of("input", "linear_weight", "target").bind(a, k), reduction=k.get("reduction", "mean")), ("input",)))
    unmodelled("torch.nn.AdaptiveLogSoftmaxWithLoss", "returns a named tuple (output, loss) built by a class-cluster softmax", "layer")
    unmodelled("torch.nn.LinearCrossEntropyOptions", "a configuration object for LinearCrossEntropyLoss, not a tensor")
