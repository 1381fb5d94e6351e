"""``convlint solve``: the arguments that take a size to another, for every framework.

    convlint solve --in 64 --out 20 -k 5 -s 3 -d 2

prints a convolution that takes ``--in`` to ``--out`` and its *mirror*, the convolution of the
other direction, as arguments for torch (``nn.ConvNd`` / ``nn.ConvTransposeNd``),
``lax.conv_general_dilated``, ``lax.conv_transpose`` and flax (``nn.Conv`` / ``nn.ConvTranspose``).
Every feasible request is answered, in one of two readings (:mod:`convlint.arith.request` has the
arithmetic and the exact rules):

- a **direct** conv (non-negative padding) from ``--in`` to ``--out``, mirrored by its exact
  transpose (its gradient) from ``--out`` back to ``--in``;
- a **transposed** conv (torch's padding per side in ``[0, d·(k−1)]``, ``output_padding <
  max(stride, dilation)``) from ``--in`` to ``--out``, mirrored by the direct conv whose gradient
  it is — when that direct conv needs no negative padding; otherwise there is no mirror and a
  note says what it would need.

By default an upsampling request (every ``--out ≥ --in``, one larger) tries the transposed reading
first and any other request the direct one; each falls back to the other. ``--direct`` or
``--transpose`` asks for one reading only. A request that no allowed reading meets is one line on
stderr, exit 2, naming the constraint of each reading tried (``[...; ...]``). A padding so large
that outputs read only zero padding is answered with a ``warning:`` line. With ``-p`` and
``--out`` the padding is kept (the transposed reading then solves for ``output_padding``); with
``-p`` and no ``--out`` it prints the output sizes of the direct conv and of the transposed conv
with the same arguments. Comma lists give several spatial dimensions (``--in 64,48``); a single
value is used for every dimension.

``--format json`` prints ``{"direct": {...}, "transpose": {...}}``; each has ``input``,
``output`` and one object per framework that applies — ``torch``, ``lax``
(``conv_general_dilated``), ``lax_conv_transpose`` and ``flax`` — holding that callable's own
keyword arguments (lists for tuples). Beside them:

- ``role``: ``"answer"`` (it takes ``--in`` to ``--out``; without ``--out`` both sections are
  answers) or ``"mirror"``;
- ``torch_pad`` (direct): torch's conv cannot pad as asymmetrically as needed: ``F.pad(x,
  torch_pad)`` comes first (and the conv's ``padding`` is 0);
- ``torch_exact`` (transpose, with its ``torch`` object): whether that ``ConvTranspose``
  computes exactly the canonical transposed conv (the other frameworks' answer, and the gradient
  of the direct conv when there is one) or only gives the same size;
- ``padding_only_outputs`` and ``warnings`` (only when some output reads only zero padding): per
  dimension ``[low, high]``, how many outputs at each end read nothing but padding, and the
  warning lines the text prints.

A section is null when it does not exist (no mirror without cropping, or no transposed conv for
the given arguments); a top-level ``notes`` list (present when non-empty) says why, and why the
first reading tried failed when the answer comes from the other. With ``--verify`` a top-level
``verify`` list is added.

Only the standard library and :mod:`convlint.arith` are imported at start-up; ``--verify``
imports torch and jax (through :mod:`convlint.confirm.layers`). This module parses, calls
:func:`convlint.arith.request.solve_request` / :func:`~convlint.arith.request.sizes_request`, and
renders: it does no size arithmetic of its own.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import sys
from dataclasses import dataclass, field

from convlint.arith import ConvArithmeticError
from convlint.arith.request import Solved, sizes_request, solve_request
from convlint.errors import UsageError

__all__ = ["Plan", "Section", "add_arguments", "main", "plan", "render_json", "render_text", "run"]

PROG = "convlint solve"


# ------------------------------------------------------------------------------------------ parsing


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Register the options of ``convlint solve`` on ``parser`` (values are parsed by :func:`run`)."""
    if not parser.description:
        parser.description = (
            "Find the padding that takes --in to --out for a kernel, stride and dilation, and the transposed "
            "conv that undoes it, as torch, lax and flax arguments; with -p and no --out, print the output sizes."
        )
    if not parser.epilog:
        parser.epilog = "example: convlint solve --in 64,48 --out 20,16 -k 5 -s 3 -d 2"
    parser.add_argument("--in", dest="input", metavar="SIZE[,SIZE...]", help="input spatial size(s), e.g. 64 or 64,48")
    parser.add_argument("--out", dest="output", metavar="SIZE[,SIZE...]", help="wanted output size(s)")
    parser.add_argument("-k", "--kernel", metavar="K[,K...]", help="kernel size(s)")
    parser.add_argument("-s", "--stride", metavar="S[,S...]", default="1", help="stride(s) (default 1)")
    parser.add_argument("-d", "--dilation", metavar="D[,D...]", default="1", help="kernel dilation(s) (default 1)")
    parser.add_argument(
        "-p", "--padding", metavar="P[,P...]",
        help="padding per dimension: P (both sides) or LO:HI; without --out, print the output sizes",
    )
    parser.add_argument("--output-padding", metavar="OP[,OP...]", help="output_padding of the transposed conv (with -p, no --out)")
    parser.add_argument("--input-dilation", metavar="N[,N...]", default="1", help="input (lhs) dilation of the direct conv (default 1)")
    reading = parser.add_mutually_exclusive_group()
    reading.add_argument("--direct", dest="reading", action="store_const", const="direct", help="answer only with a direct conv from --in to --out")
    reading.add_argument("--transpose", dest="reading", action="store_const", const="transpose", help="answer only with a transposed conv from --in to --out")
    parser.add_argument("--format", choices=("text", "json"), default="text", help="output format (default text)")
    parser.add_argument("--verify", action="store_true", help="build every answer in torch (meta/CPU) and jax.eval_shape and compare")


def _ints(text: str | None, name: str, *, minimum: int) -> tuple[int, ...] | None:
    if text is None:
        return None
    values = []
    for part in str(text).split(","):
        part = part.strip()
        try:
            value = int(part)
        except ValueError:
            raise UsageError(f"{name} {text!r}: {part!r} is not an integer") from None
        if value < minimum:
            raise UsageError(f"{name} {text!r}: every value must be at least {minimum}")
        values.append(value)
    return tuple(values)


def _pads(text: str | None) -> tuple[tuple[int, int], ...] | None:
    if text is None:
        return None
    pairs = []
    for part in str(text).split(","):
        bits = part.strip().split(":")
        try:
            nums = [int(b) for b in bits]
        except ValueError:
            raise UsageError(f"--padding {text!r}: {part!r} is not P or LO:HI") from None
        if len(nums) not in (1, 2) or any(n < 0 for n in nums):
            raise UsageError(f"--padding {text!r}: {part!r} is not P or LO:HI with non-negative integers")
        pairs.append((nums[0], nums[-1]))
    return tuple(pairs)


def _broadcast(values, rank: int, name: str):
    if len(values) == 1:
        return tuple(values) * rank
    if len(values) != rank:
        raise UsageError(f"{name} has {len(values)} values but --in has {rank} dimensions")
    return tuple(values)


# ------------------------------------------------------------------------------------------ the plan


@dataclass
class Section:
    """One convolution of the answer: its sizes and each framework's keyword arguments."""

    title: str
    input: tuple[int, ...]
    output: tuple[int, ...]
    kernel: tuple[int, ...] = ()
    frameworks: dict = field(default_factory=dict)  # name -> kwargs (tuples), in display order
    torch_pad: tuple[int, ...] | None = None  # F.pad's pad argument before the torch conv
    torch_exact: bool | None = None  # the torch ConvTranspose is exactly the canonical window
    notes: dict = field(default_factory=dict)  # name -> list of extra text lines
    role: str = "answer"  # "answer": takes --in to --out; "mirror": the other direction
    kind: str = "direct"  # "direct", "transposed" or "gradient"
    padding_only: tuple[tuple[int, int], ...] = ()  # per dim: outputs at (low, high) end reading only padding
    warnings: list = field(default_factory=list)


@dataclass
class Plan:
    direct: Section | None  # None: no direct conv mirrors the transposed answer (a note says why)
    transpose: Section | None  # None: no transposed conv applies (printed as a note, null in JSON)
    notes: list = field(default_factory=list)
    reading: str = "direct"  # "direct", "transpose" or "sizes"


@dataclass(frozen=True)
class Request:
    input: tuple[int, ...]
    output: tuple[int, ...] | None
    kernel: tuple[int, ...]
    stride: tuple[int, ...]
    dilation: tuple[int, ...]
    padding: tuple[tuple[int, int], ...] | None
    output_padding: tuple[int, ...] | None
    input_dilation: tuple[int, ...]
    reading: str = "auto"

    @property
    def rank(self) -> int:
        return len(self.input)


def parse_request(args) -> Request:
    sizes = _ints(getattr(args, "input", None), "--in", minimum=1)
    if sizes is None:
        raise UsageError("--in is required (the input size, e.g. --in 64 or --in 64,48)")
    rank = len(sizes)
    kernel = _ints(getattr(args, "kernel", None), "--kernel", minimum=1)
    if kernel is None:
        raise UsageError("-k/--kernel is required (the kernel size)")
    out = _ints(getattr(args, "output", None), "--out", minimum=1)
    pads = _pads(getattr(args, "padding", None))
    op = _ints(getattr(args, "output_padding", None), "--output-padding", minimum=0)
    reading = getattr(args, "reading", None) or "auto"
    if out is None and pads is None:
        raise UsageError("give --out (to solve for the padding) or -p/--padding (to compute the output sizes)")
    if op is not None and out is not None:
        raise UsageError("--output-padding is chosen by the solver when --out is given; leave it out")
    if out is None and reading != "auto":
        raise UsageError(f"--{reading} needs --out: without it, -p prints the sizes of both")
    return Request(
        input=sizes,
        output=_broadcast(out, rank, "--out") if out is not None else None,
        kernel=_broadcast(kernel, rank, "--kernel"),
        stride=_broadcast(_ints(getattr(args, "stride", "1"), "--stride", minimum=1), rank, "--stride"),
        dilation=_broadcast(_ints(getattr(args, "dilation", "1"), "--dilation", minimum=1), rank, "--dilation"),
        padding=_broadcast(pads, rank, "--padding") if pads is not None else None,
        output_padding=_broadcast(op, rank, "--output-padding") if op is not None else None,
        input_dilation=_broadcast(_ints(getattr(args, "input_dilation", "1"), "--input-dilation", minimum=1), rank, "--input-dilation"),
        reading=reading,
    )


_TITLES = {
    ("direct", "direct"): "direct conv",
    ("direct", "transposed"): "transposed conv (the gradient of the direct conv)",
    ("direct", "gradient"): "transposed conv (the gradient of the input-dilated direct conv)",
    ("transpose", "transposed"): "transposed conv",
    ("transpose", "direct"): "direct conv (the transposed conv is its gradient)",
    ("sizes", "direct"): "direct conv",
    ("sizes", "transposed"): "transposed conv, same arguments",
}


def _section(reading: str, solved: Solved, mirrored: bool) -> Section:
    """An arith answer as keyword arguments per framework: a mapping of fields, no arithmetic."""
    ws = solved.windows
    rank = len(ws)
    k = solved.kernel
    d = tuple(w.dilation for w in ws)
    pads = solved.padding
    sec = Section(_TITLES[(reading, solved.kind)], solved.input, solved.output, k, role=solved.role, kind=solved.kind,
                  padding_only=solved.padding_only, warnings=solved.warnings())
    t = solved.torch
    if solved.kind == "direct":
        s = tuple(w.stride for w in ws)
        delta = tuple(w.input_dilation for w in ws)
        if t is not None:
            sec.frameworks["torch"] = {"kernel_size": k, "stride": s, "padding": t.padding, "dilation": d}
            sec.torch_pad = t.pre_pad
        sec.frameworks["lax"] = {"window_strides": s, "padding": pads, "lhs_dilation": delta, "rhs_dilation": d}
        sec.frameworks["flax"] = {"kernel_size": k, "strides": s, "padding": pads, "input_dilation": delta, "kernel_dilation": d}
    elif solved.kind == "transposed":
        s = tuple(w.input_dilation for w in ws)
        if t is not None:
            sec.frameworks["torch"] = {"kernel_size": k, "stride": s, "padding": t.padding, "output_padding": t.output_padding, "dilation": d}
            sec.torch_exact = t.exact
        sec.frameworks["lax"] = {"window_strides": (1,) * rank, "padding": pads, "lhs_dilation": s, "rhs_dilation": d}
        sec.notes["lax"] = [
            "with w's spatial axes flipped and its in/out axes swapped, this is exactly the gradient of the direct conv"
            if mirrored else
            "with w's spatial axes flipped and its in/out axes swapped, this computes what ConvTranspose computes"
        ]
        sec.frameworks["lax_conv_transpose"] = {"strides": s, "padding": pads, "rhs_dilation": d}
        if solved.consistent_padding is not None:
            sec.notes["lax_conv_transpose"] = [("consistent", solved.consistent_padding)]
        sec.frameworks["flax"] = {"kernel_size": k, "strides": s, "padding": pads, "kernel_dilation": d}
    else:  # the gradient of an input-dilated conv: lax only
        sec.frameworks["lax"] = {
            "window_strides": tuple(w.stride for w in ws), "padding": pads,
            "lhs_dilation": tuple(w.input_dilation for w in ws), "rhs_dilation": d,
        }
    return sec


def plan(req: Request) -> Plan:
    """Answer a request with :mod:`convlint.arith.request`; :class:`ConvArithmeticError` when it cannot be met."""
    if req.output is None:
        answer = sizes_request(req.input, req.kernel, req.padding, req.stride, req.dilation, req.input_dilation, req.output_padding)
    else:
        answer = solve_request(req.input, req.output, req.kernel, req.stride, req.dilation, req.input_dilation, req.padding, req.reading)
    both = answer.direct is not None and answer.transpose is not None and answer.reading != "sizes"
    direct = _section(answer.reading, answer.direct, both) if answer.direct is not None else None
    transpose = _section(answer.reading, answer.transpose, both) if answer.transpose is not None else None
    return Plan(direct, transpose, list(answer.notes), answer.reading)

# ------------------------------------------------------------------------------------------ output


def _show(sizes) -> str:
    return str(sizes[0]) if len(sizes) == 1 else "×".join(map(str, sizes))


def _show_pads(pads) -> str:
    return ",".join(str(lo) if lo == hi else f"{lo}:{hi}" for lo, hi in pads)


def _py(value, rank: int, *, scalar_ok: bool) -> str:
    """A tuple as Python source; an int for 1-d torch arguments."""
    if isinstance(value, tuple) and value and all(isinstance(v, tuple) for v in value):
        inner = ", ".join(f"({a}, {b})" for a, b in value)
        return f"({inner},)" if len(value) == 1 else f"({inner})"
    if isinstance(value, tuple):
        if scalar_ok and len(value) == 1:
            return str(value[0])
        return f"({value[0]},)" if len(value) == 1 else "(" + ", ".join(map(str, value)) + ")"
    return repr(value)


def _call(name: str, head: str, kwargs: dict, rank: int, *, torch_style: bool, skip=()) -> str:
    parts = [head] if head else []
    for key, value in kwargs.items():
        if key in skip:
            continue
        parts.append(f"{key}={_py(value, rank, scalar_ok=torch_style)}")
    return f"{name}({', '.join(parts)})"


def _consistent_supported() -> bool:
    """Whether the installed jax's lax.conv_transpose has use_consistent_padding (read, not imported)."""
    try:
        spec = importlib.util.find_spec("jax")
    except (ImportError, ValueError):
        return False
    if spec is None or not spec.origin:
        return False
    path = os.path.join(os.path.dirname(spec.origin), "_src", "lax", "convolution.py")
    try:
        with open(path, encoding="utf-8") as fh:
            return "use_consistent_padding" in fh.read()
    except OSError:
        return False


def _sections(p: Plan) -> list[Section]:
    """The answer first, then its mirror."""
    secs = [sec for sec in (p.direct, p.transpose) if sec is not None]
    return sorted(secs, key=lambda sec: sec.role != "answer")


def render_text(p: Plan, verify: list | None = None) -> str:
    lines = []
    for sec in _sections(p):
        rank = len(sec.input)
        lines.append(f"{sec.title}: {_show(sec.input)} → {_show(sec.output)}")
        fw = sec.frameworks
        if "torch" in fw:
            kw = dict(fw["torch"])
            if "output_padding" in kw:
                exact = sec.torch_exact
                lines.append("  torch:   " + _call(f"nn.ConvTranspose{rank}d", "in_ch, out_ch", kw, rank, torch_style=True))
                if not exact:
                    lines.append("           (restores the shape only: not exactly the transpose of the direct conv — use lax/flax for that)")
            else:
                pad = sec.torch_pad
                if pad is not None:
                    lines.append(f"  torch:   x = F.pad(x, {pad!r})  # Conv{rank}d cannot pad asymmetrically; F.pad lists the last dim first")
                    lines.append("           " + _call(f"nn.Conv{rank}d", "in_ch, out_ch", kw, rank, torch_style=True))
                else:
                    lines.append("  torch:   " + _call(f"nn.Conv{rank}d", "in_ch, out_ch", kw, rank, torch_style=True))
        elif rank <= 3 and sec.kind == "transposed":
            lines.append(f"  torch:   no ConvTranspose{rank}d (symmetric padding, output_padding < max(stride, dilation)) gives this; use lax or flax")
        elif rank <= 3 and sec.kind == "direct":
            lines.append(f"  torch:   nn.Conv{rank}d has no input dilation; use lax or flax")
        if "lax" in fw:
            kw = dict(fw["lax"])
            skip = [n for n in ("lhs_dilation", "rhs_dilation") if kw.get(n) == (1,) * rank]
            lines.append("  lax:     " + _call("lax.conv_general_dilated", "x, w", kw, rank, torch_style=False, skip=skip))
            for note in sec.notes.get("lax", []):
                lines.append(f"           ({note})")
        if "lax_conv_transpose" in fw:
            kw = dict(fw["lax_conv_transpose"])
            skip = ["rhs_dilation"] if kw.get("rhs_dilation") == (1,) * rank else []
            lines.append("  lax:     " + _call("lax.conv_transpose", "x, w", kw, rank, torch_style=False, skip=skip))
            for note in sec.notes.get("lax_conv_transpose", []):
                if note[0] == "consistent" and _consistent_supported():
                    ckw = dict(kw, padding=note[1], use_consistent_padding=True)
                    lines.append("       or: " + _call("lax.conv_transpose", "x, w", ckw, rank, torch_style=False, skip=skip))
            lines.append("           (transpose_kernel=True for the gradient with the direct conv's kernel; the default layout is channels-last)")
        if "flax" in fw:
            kw = dict(fw["flax"])
            name = "nn.ConvTranspose" if "lax_conv_transpose" in fw else "nn.Conv"
            skip = [n for n in ("input_dilation", "kernel_dilation") if kw.get(n) == (1,) * rank]
            lines.append("  flax:    " + _call(name, "features", kw, rank, torch_style=False, skip=skip))
        lax_pads = [pair for name in ("lax", "lax_conv_transpose") for pair in fw.get(name, {}).get("padding", ())]
        if any(lo < 0 for lo, _ in lax_pads):
            lines.append("  note:    a negative padding crops; XLA:CPU f32 convs with a negative low padding have read out of")
            lines.append("           bounds (openxla/xla#48713): check the values, or crop the input yourself and pad with 0")
        for warning in sec.warnings:
            lines.append(f"  warning: {warning}")
        lines.append("")
    for note in p.notes:
        lines.append(f"note: {note}")
        lines.append("")
    if verify is not None:
        lines.append("verify:")
        for item in verify:
            mark = "ok  " if item["ok"] else "FAIL"
            lines.append(f"  {mark} {item['what']}: {item['detail']}")
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def _jsonable(value):
    if isinstance(value, (tuple, list)):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    return value


def render_json(p: Plan, verify: list | None = None) -> str:
    doc = {}
    for key, sec in (("direct", p.direct), ("transpose", p.transpose)):
        if sec is None:
            doc[key] = None
            continue
        entry = {"input": list(sec.input), "output": list(sec.output)}
        entry.update(_jsonable(sec.frameworks))
        if sec.torch_pad is not None:
            entry["torch_pad"] = list(sec.torch_pad)
        if sec.torch_exact is not None:
            entry["torch_exact"] = sec.torch_exact
        entry["role"] = sec.role
        if any(a or b for a, b in sec.padding_only):
            entry["padding_only_outputs"] = _jsonable(sec.padding_only)
            entry["warnings"] = list(sec.warnings)
        doc[key] = entry
    if p.notes:
        doc["notes"] = list(p.notes)
    if verify is not None:
        doc["verify"] = verify
    return _dump(doc) + "\n"


def _dump(value, level: int = 0) -> str:
    """JSON with objects indented and lists (of numbers, pairs) kept on one line."""
    if isinstance(value, dict) and value:
        pad = "  " * (level + 1)
        items = [f"{pad}{json.dumps(k)}: {_dump(v, level + 1)}" for k, v in value.items()]
        return "{\n" + ",\n".join(items) + "\n" + "  " * level + "}"
    if isinstance(value, list) and any(isinstance(v, dict) for v in value):
        pad = "  " * (level + 1)
        return "[\n" + ",\n".join(pad + _dump(v, level + 1) for v in value) + "\n" + "  " * level + "]"
    return json.dumps(value, ensure_ascii=False)


# ------------------------------------------------------------------------------------------ verify


def verify_plan(p: Plan) -> list[dict]:
    """Build every answer in its framework (torch meta + CPU, jax.eval_shape) and compare sizes."""
    from convlint.confirm import layers

    results = []

    def record(what, expected, outcome, spatial):
        if outcome.ok:
            got = spatial(outcome.shape)
            ok = got == tuple(expected) and all(v > 0 for v in got)
            detail = f"{_show(got)}" + ("" if ok else f" (expected {_show(expected)})")
        else:
            ok, detail = False, outcome.error
        results.append({"what": what, "ok": ok, "detail": detail, "expected": list(expected)})

    for sec in (p.direct, p.transpose):
        if sec is None:
            continue
        rank = len(sec.input)
        i, o = sec.input, sec.output
        fw = sec.frameworks
        if "torch" in fw:
            kw = dict(fw["torch"])
            pad = sec.torch_pad
            shape = tuple(i)
            if pad is not None:
                pairs = list(zip(pad[0::2], pad[1::2]))[::-1]
                shape = tuple(n + lo + hi for n, (lo, hi) in zip(i, pairs))
            op = f"torch.nn.ConvTranspose{rank}d" if "output_padding" in kw else f"torch.nn.Conv{rank}d"
            kw.update(in_channels=1, out_channels=1)
            record(op.replace("torch.", "", 1), o, layers.torch_layer_checked(op, kw, (1, 1, *shape)), lambda s: tuple(s[2:]))
        kernel = sec.kernel
        if "lax" in fw:
            kw = dict(fw["lax"])
            record("lax.conv_general_dilated", o, layers.lax_layer("jax.lax.conv_general_dilated", kw, (1, 1, *i), (1, 1, *kernel)), lambda s: tuple(s[2:]))
        if "lax_conv_transpose" in fw and rank <= 3:
            letters = "DHW"[-rank:]
            kw = dict(fw["lax_conv_transpose"], dimension_numbers=("NC" + letters, "OI" + letters, "NC" + letters))
            record("lax.conv_transpose", o, layers.lax_layer("jax.lax.conv_transpose", kw, (1, 1, *i), (1, 1, *kernel)), lambda s: tuple(s[2:]))
            for note in sec.notes.get("lax_conv_transpose", []):
                if note[0] == "consistent" and _consistent_supported():
                    ckw = dict(kw, padding=note[1], use_consistent_padding=True)
                    outcome = layers.lax_layer("jax.lax.conv_transpose", ckw, (1, 1, *i), (1, 1, *kernel))
                    record("lax.conv_transpose(use_consistent_padding=True)", o, outcome, lambda s: tuple(s[2:]))
        if "flax" in fw:
            name = "flax.linen.ConvTranspose" if "lax_conv_transpose" in fw else "flax.linen.Conv"
            kw = dict(fw["flax"], features=1)
            record(name.replace("flax.linen", "nn"), o, layers.flax_layer(name, kw, (1, *i, 1)), lambda s: tuple(s[1:-1]))
    return results


# ------------------------------------------------------------------------------------------ entry


_ASCII = str.maketrans({"→": "->", "×": "x", "≥": ">=", "≤": "<=", "−": "-", "—": "-", "δ": "delta"})


def _emit(stream, text: str) -> None:
    """Write ``text``; on a stream that cannot encode it (an ASCII locale), in plain ASCII."""
    enc = getattr(stream, "encoding", None) or "utf-8"
    try:
        text.encode(enc)
    except (UnicodeEncodeError, LookupError):
        text = text.translate(_ASCII).encode("ascii", "backslashreplace").decode("ascii")
    stream.write(text)
    stream.flush()


def _fail(message: str) -> int:
    _emit(sys.stderr, f"convlint: error: {message}\n")
    return 2


def run(args) -> int:
    """Run ``convlint solve`` for parsed ``args``; 0 ok, 1 a --verify disagreement, 2 bad request."""
    try:
        req = parse_request(args)
        answer = plan(req)
    except UsageError as exc:
        return _fail(str(exc))
    except ConvArithmeticError as exc:
        message = exc.message.rstrip(".")
        return _fail(f"{message} [{exc.constraint}]")
    except Exception as exc:  # never a traceback
        return _fail(f"internal error: {type(exc).__name__}: {exc}")
    verify = None
    if getattr(args, "verify", False):
        from convlint.confirm.layers import missing_frameworks

        missing = missing_frameworks("torch", "jax", "flax")
        if missing:
            extras = sorted({"torch" if m == "torch" else "jax" for m in missing})
            return _fail(f"--verify needs {', '.join(missing)}: pip install {' '.join(missing)} (what the convlint[{','.join(extras)}] extras add; in a convlint clone: pip install -e '.[{','.join(extras)}]')")
        try:
            verify = verify_plan(answer)
        except Exception as exc:
            return _fail(f"--verify failed: {type(exc).__name__}: {exc}")
    text = render_json(answer, verify) if getattr(args, "format", "text") == "json" else render_text(answer, verify)
    _emit(sys.stdout, text)
    if verify is not None and not all(item["ok"] for item in verify):
        return 1
    return 0


class _OneLineParser(argparse.ArgumentParser):
    def error(self, message):  # one line on stderr, exit 2
        raise SystemExit(_fail(message))


def main(argv=None) -> int:
    parser = _OneLineParser(prog=PROG)
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
