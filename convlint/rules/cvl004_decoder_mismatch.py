"""CVL004: pair each upsampling step with the downsampling step it mirrors, stack-wise along the
forward path; report the ones that do not restore the size (and were not padded or cropped after)."""

from convlint.interpret.events import Issue, MergeEvent
from convlint.interpret.symbolic import Sym, differ_example
from convlint.rules import ERROR, Invalid, Rule

RULE = Rule(
    code="CVL004",
    name="decoder-mismatch",
    severity=ERROR,
    summary="An upsampling step does not restore the size of the downsampling step it mirrors.",
    what="""
Walks the forward path: each strided conv or pool pushes the size it received; each upsampling step
(`ConvTranspose` with stride > 1, `Upsample`, `interpolate` by a factor, `lax.conv_transpose`, a
`conv_general_dilated` with `lhs_dilation`, flax `ConvTranspose`) pops the size it should restore. A step
that does not restore it, and is not repaired afterwards (by `F.pad`, a crop, or a resize to an explicit
size), is reported only when the mismatch has a consequence: the tensors collide at a merge (a skip
connection), the model's output differs from its declared `output=`, or an autoencoder (same rank and
channels in and out) returns a size other than its input's. A decoder that is not a step-by-step mirror
of its encoder (four steps down, three up) but restores the size is not reported.

One root cause, one finding: of the steps behind a consequence, the first one that is wrong on its own
(given the size it should receive) carries the finding and its fix (for a torch `ConvTranspose`, the
`padding` / `output_padding`; for `lax`/flax, explicit padding pairs); the later steps that only inherit
its mismatch are counted in its message. When the decoder is not a mirror — the mirror repairs of the
steps it names would not, together, make a wrong output right — the finding is on the step nearest the output
whose own repair makes the output right with every other layer unchanged (a torch `ConvTranspose` chain
without merges; the smallest change), and its fix gives the size that step must produce.

The finding goes on the downsampling step instead when its stride is what breaks the pair: the two
steps scale by different factors, the downsampling step with the upsampling step's factor as its
`stride` (its padding kept) restores the size, and no upsampling step with the downsampling step's
stride as its factor can, whatever its padding (a `stride=3` conv mirrored by an `interpolate` that
doubles: 32 → 11 → 22). When both repairs would do, which one was meant cannot be told, and the
upsampling step carries it.

An upsampling step undone by the stride right after it (`Upsample(scale_factor=2)` then a conv with
`stride=2`, a flax `jax.image.resize` then `nn.Conv(strides=(2, 2))`) pairs like a mirror on both sides,
yet the decoder does not upsample: when the model's output differs from its input and taking those
strides out restores it exactly, the finding is on the strided conv (no fix is offered: the stride may
come from a parameter other layers share). A model's output is its first tensor: of a tuple, a dict, or
an output dataclass (`DecoderOutput(sample=…)`).
""",
    why="""
An encoder/decoder pair that only works for even sizes, or a `ConvTranspose` that returns 62×62 instead of
64×64, breaks the skip connection or the loss at run time — often only for some input sizes.
""",
    example="""
import torch.nn as nn

class AE(nn.Module):  # convlint: input=(1, 1, 28, 28)
    def __init__(self):
        super().__init__()
        self.down = nn.Conv2d(1, 8, 3, stride=2, padding=1)
        self.up = nn.ConvTranspose2d(8, 1, 3, stride=2, padding=1)

    def forward(self, x):
        return self.up(self.down(x))
""",
    fix="""
Set the argument convlint prints (here `output_padding=1`: 28 → 14 → 27 becomes 28), or resize the
upsampled tensor to the skip's size before joining.
""",
    valid=("import torch.nn as nn\n\nclass AE(nn.Module):  # convlint: input=(1, 1, 28, 28)\n    def __init__(self):\n        super().__init__()\n        self.down = nn.Conv2d(1, 8, 3, stride=2, padding=1)\n        self.up = nn.ConvTranspose2d(8, 1, 3, stride=2, padding=1, output_padding=1)\n\n    def forward(self, x):\n        return self.up(self.down(x))\n",
        # not a mirror: four steps down (28 → 10 → 5 → 3 → 2), three up (2 → 5 → 15 → 28), and the input restored
        "import torch.nn as nn\n\nclass TutorialAE(nn.Module):  # convlint: input=(4, 1, 28, 28)\n    def __init__(self):\n        super().__init__()\n        self.encoder = nn.Sequential(\n            nn.Conv2d(1, 16, 3, stride=3, padding=1), nn.ReLU(),  # 28 -> 10\n            nn.MaxPool2d(2, stride=2),  # 10 -> 5\n            nn.Conv2d(16, 8, 3, stride=2, padding=1), nn.ReLU(),  # 5 -> 3\n            nn.MaxPool2d(2, stride=1),  # 3 -> 2\n        )\n        self.decoder = nn.Sequential(\n            nn.ConvTranspose2d(8, 16, 3, stride=2), nn.ReLU(),  # 2 -> 5\n            nn.ConvTranspose2d(16, 8, 5, stride=3, padding=1), nn.ReLU(),  # 5 -> 15\n            nn.ConvTranspose2d(8, 1, 2, stride=2, padding=1),  # 15 -> 28\n        )\n\n    def forward(self, x):\n        return self.decoder(self.encoder(x))\n",
        "import torch.nn as nn\n\nclass Signal1dAE(nn.Module):  # convlint: input=(2, 4, 64)\n    def __init__(self):\n        super().__init__()\n        self.down = nn.Sequential(\n            nn.Conv1d(4, 32, 5, stride=2, padding=2),  # 64 -> 32\n            nn.Conv1d(32, 32, 5, stride=2, padding=2),  # 32 -> 16\n            nn.Conv1d(32, 32, 5, stride=2, padding=2),  # 16 -> 8\n        )\n        self.up = nn.Sequential(\n            nn.ConvTranspose1d(32, 32, 4, stride=4),  # 8 -> 32\n            nn.ConvTranspose1d(32, 4, 4, stride=2, padding=1),  # 32 -> 64\n        )\n\n    def forward(self, x):\n        return self.up(self.down(x))\n",
    ),
    invalid=(
        Invalid(
            'import torch.nn as nn\n\nclass AE(nn.Module):  # convlint: input=(1, 1, 28, 28)\n    def __init__(self):\n        super().__init__()\n        self.down = nn.Conv2d(1, 8, 3, stride=2, padding=1)\n        self.up = nn.ConvTranspose2d(8, 1, 3, stride=2, padding=1)\n\n    def forward(self, x):\n        return self.up(self.down(x))\n',
            line=7,
            message="gives 27×27, but the Conv2d 'down' (line 6) it mirrors took 28×28",
            fixed='import torch.nn as nn\n\nclass AE(nn.Module):  # convlint: input=(1, 1, 28, 28)\n    def __init__(self):\n        super().__init__()\n        self.down = nn.Conv2d(1, 8, 3, stride=2, padding=1)\n        self.up = nn.ConvTranspose2d(8, 1, 3, stride=2, padding=1, output_padding=1)\n\n    def forward(self, x):\n        return self.up(self.down(x))\n',
        ),
        Invalid(
            # not a mirror (three steps down, two up): the step nearest the output that one repair makes right
            "import torch.nn as nn\n\nclass Signal1dAE(nn.Module):  # convlint: input=(2, 4, 64)\n    def __init__(self):\n        super().__init__()\n        self.down = nn.Sequential(\n            nn.Conv1d(4, 32, 5, stride=2, padding=2),  # 64 -> 32\n            nn.Conv1d(32, 32, 5, stride=2, padding=2),  # 32 -> 16\n            nn.Conv1d(32, 32, 5, stride=2, padding=2),  # 16 -> 8\n        )\n        self.up = nn.Sequential(\n            nn.ConvTranspose1d(32, 32, 4, stride=4),  # 8 -> 32\n            nn.ConvTranspose1d(32, 4, 4, stride=2),  # 32 -> 64\n        )\n\n    def forward(self, x):\n        return self.up(self.down(x))\n",
            line=13,
            message="ConvTranspose1d 'up.1' gives 66 from 32, so the model's output differs from its input (64 → 32 → 16 → 8 → 32 → 66 instead of 64); set padding=1 to give 64",
            fixed="import torch.nn as nn\n\nclass Signal1dAE(nn.Module):  # convlint: input=(2, 4, 64)\n    def __init__(self):\n        super().__init__()\n        self.down = nn.Sequential(\n            nn.Conv1d(4, 32, 5, stride=2, padding=2),  # 64 -> 32\n            nn.Conv1d(32, 32, 5, stride=2, padding=2),  # 32 -> 16\n            nn.Conv1d(32, 32, 5, stride=2, padding=2),  # 16 -> 8\n        )\n        self.up = nn.Sequential(\n            nn.ConvTranspose1d(32, 32, 4, stride=4),  # 8 -> 32\n            nn.ConvTranspose1d(32, 4, 4, stride=2, padding=1),  # 32 -> 64\n        )\n\n    def forward(self, x):\n        return self.up(self.down(x))\n",
        ),
        Invalid(
            # the downsampling conv strides by 3 where its mirror doubles: the stride is what to edit
            "import torch\nimport torch.nn as nn\nimport torch.nn.functional as F\n\nclass Level(nn.Module):  # convlint: input=(1, 3, 32, 32)\n    def __init__(self):\n        super().__init__()\n        self.inc = nn.Conv2d(3, 16, 3, padding=1)\n        self.down = nn.Conv2d(16, 16, 3, stride=3, padding=1)\n        self.out = nn.Conv2d(32, 3, 3, padding=1)\n\n    def forward(self, x):\n        h = self.inc(x)\n        u = F.interpolate(self.down(h), scale_factor=2.0)\n        return self.out(torch.cat([u, h], dim=1))\n",
            line=9,
            message="Conv2d 'down' strides by 3, but the interpolate (line 14) that mirrors it upsamples by 2: 32×32 → 11×11 → 22×22, where stride 2 gives 32×32 back",
            fixed="import torch\nimport torch.nn as nn\nimport torch.nn.functional as F\n\nclass Level(nn.Module):  # convlint: input=(1, 3, 32, 32)\n    def __init__(self):\n        super().__init__()\n        self.inc = nn.Conv2d(3, 16, 3, padding=1)\n        self.down = nn.Conv2d(16, 16, 3, stride=2, padding=1)\n        self.out = nn.Conv2d(32, 3, 3, padding=1)\n\n    def forward(self, x):\n        h = self.inc(x)\n        u = F.interpolate(self.down(h), scale_factor=2.0)\n        return self.out(torch.cat([u, h], dim=1))\n",
        ),
        Invalid(
            # the decoder's conv strides right after the Upsample: 16 -> 32 -> 16, the output stays 16x16
            "import torch.nn as nn\n\nclass Generator(nn.Module):  # convlint: input=(1, 3, 32, 32)\n    def __init__(self):\n        super().__init__()\n        self.down = nn.Conv2d(3, 16, 3, stride=2, padding=1)\n        self.up = nn.Upsample(scale_factor=2)\n        self.conv = nn.Conv2d(16, 3, 3, stride=2, padding=1)\n\n    def forward(self, x):\n        return self.conv(self.up(self.down(x)))\n",
            line=8,
            message="Conv2d 'conv' strides by 2 right after the Upsample 'up' (line 7) upsampled by 2: together they keep 16×16, so this decoder step does not upsample; the model returns 16×16 for 32×32",
        ),
    ),
)


def _label(ev) -> str:
    op = ev.op.rsplit(".", 1)[-1]
    return f"{op} '{ev.name}'" if ev.name else op


def _line(site, here=None) -> str:
    """`` (line N)`` — or `` (path:N)`` when ``site`` is in another file than ``here``."""
    if site is None or site.node is None or site.module is None:
        return ""
    pos = site.module.parsed.position(site.node)
    if pos is None:
        return ""
    if here is not None and here.module is not None and here.module.parsed.path != site.module.parsed.path:
        return f" ({site.module.parsed.path}:{pos[0]})"
    return f" (line {pos[0]})"


def _fmt(sizes) -> str:
    if len(sizes) == 1:
        return str(sizes[0])
    return "×".join(str(s) for s in sizes)


def _sole_layer_of_its_site(run, layer) -> bool:
    """A fix edits the call that built the layer: certain only if that call built no other layer
    (a loop or a helper called twice builds several, which may need other arguments)."""
    node = layer.site.node
    return sum(1 for other in run.trace.layers if other.site.node is node) <= 1


def _sole_layer_of_its_caller(run, layer, arguments) -> bool:
    """A layer built in a helper (called several times) whose arguments to change were passed by
    one call of the helper: the fix edits that call, certain only if that call built no other layer."""
    from convlint.interpret.events import where_supplied

    where = where_supplied(layer, arguments)
    if where is None:
        return False
    return sum(1 for other in run.trace.layers if (w := where_supplied(other, arguments)) is not None and w.node is where.node) <= 1


def _consequences(run) -> list:
    """``(steps, where)`` for each real consequence of unrepaired upsampling mismatches: a merge
    that collides (``where`` is the merge's site), or a model output that differs from its input
    (an autoencoder) or from its declared output (``where`` is None)."""
    from convlint.rules.cvl005_merge_mismatch import mismatched_axis

    out = []
    for ev in run.trace.of(MergeEvent):
        if mismatched_axis(ev) is None:
            continue
        steps = [s for op in ev.operands for s in op.pending if s.mismatch is not None]  # unrepaired at the merge
        if steps:
            out.append((steps, ev.site, "merge"))
    # script code on literal-shaped arrays (a transpose written to undo a conv): the step itself
    # is what the script computes
    scripted = [s for s in run.trace.ups if s.extra.get("by_order") and s.mismatch is not None and not s.repaired]
    for s in scripted:
        out.append(([s], None, "script"))
    t = _first_tensor(run.output)
    if t is not None and t.shape is not None:
        steps = [s for s in t.pending if s.mismatch is not None and not s.repaired]
        if steps and (_differs_from_input(run.input, t) or _differs_from_declared(run, t)):
            out.append((steps, None, "output"))
    # script code and smoke tests applying a model (``model(x)``, flax ``.init(key, x)``): each
    # application's output is compared with its input, as a declared autoencoder's
    for x, result in getattr(run.trace, "applications", ()):
        t = _first_tensor(result)
        if t is not None and t.shape is not None:
            steps = [s for s in t.pending if s.mismatch is not None and not s.repaired]
            if steps and _differs_from_input(x, t):
                out.append((steps, None, "output"))
    return out


def _first_tensor(v):
    from convlint.rules.cvl009_output_mismatch import first_tensor

    return first_tensor(v)


def _channel_axis(x, t) -> int | None:
    """The channel axis an autoencoder's input and output share (same rank, same count there): its
    layout's, else the other candidate (a flax model fed NCHW transposes it inside); None if neither."""
    shape = getattr(x, "shape", None)
    if shape is None or t.shape is None or len(shape) != len(t.shape) or len(shape) < 3:
        return None
    first = getattr(x, "layout", None) != "channels_last"
    for ch in ((1, len(shape) - 1) if first else (len(shape) - 1, 1)):
        if _same(shape[ch], t.shape[ch]):
            return ch
    return None


def _spatial(t, ch: int) -> tuple:
    """A tensor's sizes other than its batch dim and its channel dim ``ch`` (:func:`_channel_axis`)."""
    return tuple(d for a, d in enumerate(t.shape) if a not in (0, ch))


def _differs_from_input(x, t) -> bool:
    """An autoencoder (same rank and channels in and out) whose output size is not its input's."""
    from convlint.frameworks.shapes import mismatch

    ch = _channel_axis(x, t)
    return ch is not None and any(mismatch(a, b) for a, b in zip(_spatial(x, ch), _spatial(t, ch)))


def _differs_from_declared(run, t) -> bool:
    from convlint.frameworks.shapes import mismatch
    from convlint.interpret.symbolic import Sym

    declared = run.entry.output
    if declared is None or len(declared) != len(t.shape):
        return False
    want = tuple(d if isinstance(d, int) else Sym.var(d) for d in declared)
    return any(mismatch(g, w) for g, w in zip(t.shape, want))


def _same(a, b) -> bool:
    return a == b and type(a) is type(b)


def _scales(ev, n: int):
    """A resize step's ``scale_factor``, one number per axis of its ``n``, or None."""
    scale = ev.params.get("scale_factor") if ev.params and ev.params.get("size") is None else None
    if scale is None:
        return None
    factors = tuple(scale) if isinstance(scale, (tuple, list)) else (scale,) * n
    if len(factors) != n or not all(isinstance(f, (int, float)) and not isinstance(f, bool) for f in factors):
        return None
    return factors


def _maps(ev, din):
    """What the upsampling layer of ``ev`` gives for input sizes ``din`` (None when not computable)."""
    if not din or not all(isinstance(v, int) for v in din):
        return None
    if ev.windows and len(ev.windows) == len(din):
        return tuple(w.output_size(i) for w, i in zip(ev.windows, din))
    factors = _scales(ev, len(din))
    return tuple(int(i * f) for i, f in zip(din, factors)) if factors is not None else None


def _intended_input(step):
    """The sizes an upsampling step should receive: its partner's output (if the layers before it
    are right), else what it received."""
    din = step.partner.extra.get("out") if step.partner is not None else None
    if not din or not all(isinstance(v, int) for v in din):
        din = step.extra.get("in", ())
    return din


def _roots(steps) -> list:
    """``(root, inherited)`` pairs: each step that is wrong on its own (given the input it should
    receive) is a root cause; a later step that would be right once the roots before it are fixed
    inherits the mismatch of the nearest root before it."""
    out: list = []
    for s in steps:
        got = _maps(s.event, _intended_input(s))
        own_fault = got is None or s.mismatch is None or tuple(got) != tuple(s.mismatch[1])
        if own_fault or not out:
            out.append((s, []))
        else:
            out[-1][1].append(s)
    return out


def check(run) -> list:
    from convlint.frameworks import upsampling_fix
    from convlint.frameworks.base import Layer

    out = []
    order = {id(s): n for n, s in enumerate(run.trace.ups)}
    reported: set = set()
    for steps, where, kind in _consequences(run):
        steps = sorted(dict.fromkeys(steps), key=lambda s: order.get(id(s), 0))
        roots = _roots(steps)
        if kind == "output":
            repair = _output_repair(run, roots, upsampling_fix, Layer)
            if repair is not None:
                if all(id(s) not in reported for s in steps):
                    out.append(repair)
                reported.update(id(s) for s in steps)
                continue
        for root, inherited in roots:
            if id(root) in reported:
                continue
            reported.add(id(root))
            out.append(_finding(run, root, inherited, where, kind, upsampling_fix, Layer))
    out += _cancelled(run)
    return out


# ------------------------------------------------------------------------- undone upsampling

def _cancelled(run) -> list:
    """An upsampling step undone by the stride right after it (``Upsample(scale_factor=2)`` then
    a ``Conv2d`` with ``stride=2``): the pairing sees a mirror on each side and reports nothing,
    yet the decoder does not upsample. Reported when the model's output differs from its input
    (an autoencoder or an image-to-image generator, same channels) with no mismatched upsampling
    step to explain it, and when taking the stride out of every such conv restores the input's
    size (the strides make up the whole difference); one finding per line that builds them."""
    cands = []
    t = _first_tensor(run.output)
    if t is not None and t.shape is not None and _differs_from_input(run.input, t):
        cands.append((run.input, t))
    for x, result in getattr(run.trace, "applications", ()):
        r = _first_tensor(result)
        if r is not None and r.shape is not None and _differs_from_input(x, r):
            cands.append((x, r))
    out, seen = [], set()
    for x, t in cands:
        if any(s.mismatch is not None and not s.repaired for s in t.pending):
            continue  # a mismatched upsampling step explains it (reported above)
        found = _undone(run, x, t)
        for ev, up, before, after in found:
            node = ev.site.node if ev.site is not None else None
            if node is None or id(node) in seen:
                continue
            seen.add(id(node))
            ch = _channel_axis(x, t)
            msg = (f"{_label(ev)} strides by {ev.windows[0].stride} right after the {_label(up)}{_line(up.site, ev.site)} "
                   f"upsampled by {after[0] // before[0]}: together they keep {_fmt(before)}, so this decoder step does not "
                   f"upsample; the model returns {_fmt(_spatial(t, ch))} for {_fmt(_spatial(x, ch))}")
            arguments = ("strides",) if "strides" in getattr(ev.layer, "params", {}) else ("stride",)
            out.append(Issue("CVL004", ev.site, msg, key=("undone", before), layer=ev.layer, arguments=arguments))
    return out


def _undone(run, x, t) -> list:
    """``[(strided LayerEvent, upsampling LayerEvent, size before both, size between)]`` along the
    output's history: a strided conv or pool right after an upsampling step (no other size change
    between) whose output is the size the upsampling received; empty unless removing those strides
    gives the output the input's size exactly."""
    path = _path(run, t)
    if not path:
        return []
    rank = len(t.shape)
    axes = next((tuple(ev.spatial_axes) for ev, shape in path if ev is not None and ev.spatial_axes and len(shape) == rank), None)
    if axes is None:
        return []
    # (event, sizes before, sizes after) of each change of the spatial sizes; the event is None for
    # a change no layer made (a pad, a reshape): it separates the steps around it
    steps = []
    prev = None
    for ev, shape in path:
        if len(shape) != rank:
            continue  # an attention block's tokens: the sizes are compared when they come back
        sizes = tuple(shape[a] for a in axes)
        if not all(isinstance(v, int) for v in sizes):
            return []
        if prev is not None and sizes != prev:
            steps.append((ev, prev, sizes))
        prev = sizes
    found = []
    for (up, b0, a0), (down, b1, a1) in zip(steps, steps[1:]):
        if up is None or down is None:
            continue
        ups = all(q > p for p, q in zip(b0, a0))
        strided = bool(down.windows) and not down.transposed and len(down.windows) == len(axes) \
            and all(w.stride > 1 and w.input_dilation == 1 for w in down.windows)
        if ups and strided and b1 == a0 and a1 == b0:
            found.append((down, up, b0, a0))
    if not found:
        return []
    # taking the strides out multiplies the output by them: it must then be the input's size
    ch = _channel_axis(x, t)
    if ch is None:
        return []
    got, want = _spatial(t, ch), _spatial(x, ch)
    if len(got) != len(axes) or not all(isinstance(v, int) for v in (*got, *want)):
        return []
    for down, _up, _b, _a in found:
        got = tuple(g * w.stride for g, w in zip(got, down.windows))
    return found if got == want else []


# ---------------------------------------------------------------------------------------- outputs

def _output_repair(run, roots, upsampling_fix, Layer):
    """For a model whose output differs from its input (or its declared output): the one upsampling
    step whose own repair makes the output right, the other layers unchanged — or None (then the
    mirror pairing decides).

    The mirror pairing is trusted when each root it names has its mirror repair and, together,
    they give the right output. A decoder that is not a step-by-step mirror (four steps down and three up, a ×4 then a
    ×2 step) has no such root: the steps are tried from the output backwards, and the nearest one
    that one repair makes right carries the finding — the smallest change, which leaves every other
    layer's input as it is. Only torch ``ConvTranspose`` chains without merges are searched (their
    windows do not depend on the input size); the fix is still proven by re-analysis.
    """
    from convlint.interpret.events import MergeEvent

    if run.trace.of(MergeEvent):
        return None
    t = _first_tensor(run.output)
    if t is None or t.shape is None:
        return None
    target = _target(run, t)
    if target is None:
        return None
    path = _path(run, t)
    if path is None:
        return None
    if roots and all(r.mismatch is not None and upsampling_fix(r.event, _intended_input(r), r.mismatch[1]) is not None for r, _ in roots):
        # every root has its mirror repair: if they make the output right together, the decoder
        # is a mirror and the pairing explains the output — report it as such
        last = roots[-1][0]
        k = next((i for i, (ev, _s) in enumerate(path) if ev is last.event), None)
        axes = last.event.spatial_axes
        if k is not None and _through(path[k + 1:], tuple(last.mismatch[1]), axes) == tuple(target[a] for a in axes):
            return None
    for k in range(len(path) - 1, -1, -1):
        ev = path[k][0]
        if ev is None or not ev.transposed or not ev.windows or not isinstance(ev.layer, Layer) or ev.framework != "torch":
            continue
        axes = ev.spatial_axes
        goal = tuple(target[a] for a in axes)
        din = tuple(ev.spatial_in)
        if not all(isinstance(v, int) for v in (*goal, *din)):
            continue
        for want in _preimages(path[k + 1:], goal, axes, tuple(ev.spatial_out)):
            fix = upsampling_fix(ev, din, want)
            if fix is None:
                continue
            got = tuple(ev.spatial_out)
            if not _sole_layer_of_its_site(run, ev.layer) and not _sole_layer_of_its_caller(run, ev.layer, tuple(fix.set_args)):
                fix_spec = None
            else:
                fix_spec = fix
            axis = axes[0]
            from convlint.frameworks.shapes import trail

            what = "its declared output" if run.entry.output is not None else "its input"
            msg = (f"{_label(ev)} gives {_fmt(got)} from {_fmt(din)}, so the model's output differs from {what} "
                   f"({trail(t, axis)} instead of {target[axis]}); {fix.message} to give {_fmt(want)}")
            if fix_spec is None:
                msg = msg.replace(f"; {fix.message} to give", "; it would need")
            return Issue("CVL004", ev.site, msg, fix_spec, key=(got, want), layer=ev.layer, arguments=tuple(fix.set_args))
    return None


def _target(run, t):
    """The output the model should return: its declared output, else (an autoencoder) its input."""
    from convlint.interpret.symbolic import Sym

    if run.entry.output is not None and len(run.entry.output) == len(t.shape):
        return tuple(d if isinstance(d, int) else Sym.var(d) for d in run.entry.output)
    if _differs_from_input(run.input, t):
        return tuple(run.input.shape)
    return None


def _path(run, t):
    """``[(LayerEvent or None, shape)]`` along the output's history (same rank as the output), each
    shape once: a shape-preserving layer (a BatchNorm after the ConvTranspose) passes its input's
    shape on, and is not a step."""
    events = run.trace.makers()
    n = len(t.shape)
    out = []
    for _label, shape in t.history:
        if shape is not None and len(shape) == n and not (out and out[-1][1] is shape):
            out.append((events.get(id(shape)), shape))
    return out or None


def _through(later, sizes, axes):
    """The sizes along ``axes`` after the layers ``later`` for sizes ``sizes`` right before them
    (None when a layer's result for other sizes is not known)."""
    sizes = tuple(sizes)
    prev = None
    for ev, shape in later:
        if ev is not None and ev.windows and tuple(ev.spatial_axes) == tuple(axes) and "Adaptive" not in ev.op and ev.framework == "torch":
            try:
                sizes = tuple(w.output_size(i) for w, i in zip(ev.windows, sizes))
            except Exception:
                return None
            if any(not isinstance(v, int) or v < 1 for v in sizes):
                return None
        elif ev is not None and ev.family == "resize":
            mapped = _maps(ev, sizes)
            if mapped is None:
                return None
            sizes = tuple(mapped)
        else:
            # a layer that keeps the sizes (an activation, a norm, a stride-1 'same' layer)
            before = prev if prev is not None else (ev.input if ev is not None else None)
            if before is None or len(before) != len(shape) or any(before[a] != shape[a] for a in axes):
                return None
        prev = shape
    return sizes


def _preimages(later, goal, axes, base, limit: int = 3):
    """The sizes right before ``later`` that give ``goal`` (at most ``limit`` per axis; none when
    the search cannot be certain)."""
    import itertools

    per_axis = []
    for j, g in enumerate(goal):
        found = []
        for r in range(1, 4 * g + 65):
            probe = list(base)  # the other axes keep the sizes they have
            probe[j] = r
            got = _through(later, tuple(probe), axes)
            if got is None:
                return []
            if got[j] == g:
                found.append(r)
        if not found or len(found) > limit:
            return []
        per_axis.append(found)
    return [tuple(c) for c in itertools.product(*per_axis)]


def _factor(ev, n: int):
    """The integer factor per axis by which an upsampling step scales (a resize's ``scale_factor``, a
    transposed conv's stride), or None."""
    f = tuple(w.input_dilation for w in ev.windows) if ev.windows and len(ev.windows) == n else _scales(ev, n)
    if f is None or not all(v == int(v) and v > 1 for v in f):
        return None
    return tuple(int(v) for v in f)


def _could_restore(ev, din, want, factor) -> bool:
    """The upsampling step of ``ev`` with ``factor`` instead of its own can give ``want`` from
    ``din``: a resize scaled by it, a ``ConvTranspose`` with it as its stride and some padding and
    output_padding (its kernel and dilation kept)."""
    from convlint.arith import ConvArithmeticError
    from convlint.arith.solve import solve_torch_transpose

    if ev.windows:
        try:
            for w, f, i, o in zip(ev.windows, factor, din, want):
                solve_torch_transpose(i, o, w.kernel, f, w.dilation)
        except ConvArithmeticError:
            return False
        return True
    return tuple(i * f for i, f in zip(din, factor)) == tuple(want)


def stride_at_fault(root):
    """``(partner event, its strides, the factors)`` when the downsampling step, not the upsampling
    step, is at fault: the two scale by different factors, the downsampling step with the
    upsampling step's factor as its stride (its padding kept) restores the size, and the
    upsampling step with the downsampling step's stride as its factor cannot, whatever its padding
    (``stride=3`` where the upsampling doubles: 32 → 11 → 22; stride 2 gives 32 → 16 → 32, a
    factor 3 gives 33). None otherwise — then the
    upsampling step carries the finding, as when both would do. Only torch layers, whose windows
    do not depend on the stride (a flax ``'SAME'`` padding does), with the upsampling step fed
    what its partner gave (nothing between changes the size)."""
    import dataclasses

    partner = root.partner
    if partner is None or root.mismatch is None:
        return None
    down, up = partner.event, root.event
    if down.framework != "torch" or up.framework != "torch" or not down.windows or down.transposed:
        return None
    want = tuple(partner.sizes)
    din = tuple(root.extra.get("in", ()))
    n = len(want)
    if len(down.windows) != n or len(din) != n or din != tuple(partner.extra.get("out", ())):
        return None
    if not all(isinstance(v, int) for v in (*want, *din)):
        return None
    factor = _factor(up, n)
    strides = tuple(w.stride for w in down.windows)
    if factor is None or factor == strides or any(w.input_dilation != 1 for w in down.windows):
        return None
    mid = tuple(dataclasses.replace(w, stride=f).output_size(i) for w, f, i in zip(down.windows, factor, want))
    if any(v < 1 for v in mid) or _maps(up, mid) != want:
        return None
    if _could_restore(up, din, want, strides):
        return None
    return down, strides, factor


def _stride_fix(run, down, factor):
    """``stride=<factor>`` on the call that built the downsampling layer, when it built no other."""
    from convlint.frameworks.torch.conv import stride_fix

    if not _sole_layer_of_its_site(run, down.layer) and not _sole_layer_of_its_caller(run, down.layer, ("stride",)):
        return None
    return stride_fix(down.layer, factor)


def _finding(run, root, inherited, where, kind, upsampling_fix, Layer) -> Issue:
    got, want = root.mismatch
    fault = stride_at_fault(root)
    if fault is not None:
        down, strides, factor = fault
        ev = root.event
        from convlint.frameworks.torch.conv import arg_text

        msg = (f"{_label(down)} strides by {arg_text(strides)}, but the {_label(ev)}{_line(ev.site, down.site)} that mirrors it "
               f"upsamples by {arg_text(factor)}: {_fmt(want)} → {_fmt(root.extra.get('in', ()))} → {_fmt(got)}, where stride "
               f"{arg_text(factor)} gives {_fmt(want)} back")
        if kind == "merge":
            msg += f"; the tensors collide at the merge{_line(where, down.site)}"
        elif kind == "output":
            msg += "; the model's output differs from " + ("its declared output" if run.entry.output is not None else "its input")
        fix = _stride_fix(run, down, factor)
        if fix is not None:
            msg += f"; {fix.message}"
        return Issue("CVL004", down.site, msg, fix, key=("stride", got, want), layer=down.layer, arguments=("stride",))
    ev = root.event
    partner = root.partner.event if root.partner is not None else None
    mirrors = ""
    if partner is not None:
        mirrors = f" the {_label(partner)}{_line(partner.site, ev.site)} it mirrors took {_fmt(want)}"
    example = ""
    if any(isinstance(v, Sym) for v in (*got, *want)):
        for g, w in zip(got, want):
            ex = differ_example(g, w)
            if ex is not None:
                env = ", ".join(f"{k}={v}" for k, v in ex[2].items())
                example = f" (for every input size; e.g. {env}: {ex[0]} instead of {ex[1]})"
                break
    chain = ""
    if partner is not None and all(isinstance(v, int) for v in (*got, *want)):
        din = root.extra.get("in", ())
        chain = f": {_fmt(want)} → {_fmt(din)} → {_fmt(got)}" if din else ""
    msg = f"{_label(ev)} gives {_fmt(got)}, but{mirrors}{chain}{example}"
    if kind == "merge":
        msg += f"; the tensors collide at the merge{_line(where, ev.site)}"
    elif kind == "output":
        msg += "; the model's output differs from " + ("its declared output" if run.entry.output is not None else "its input")
    if inherited:
        n = len(inherited)
        msg += f"; {n} later upsampling step{'s' if n > 1 else ''} inherit{'' if n > 1 else 's'} it"
    fix = None
    # the fix assumes what comes before is right: the layer should receive its partner's
    # output (an earlier bug may have changed what it receives now)
    din = _intended_input(root)
    arguments: tuple = ()  # what the repair changes: the finding belongs where those values were written
    if ev.layer is None or isinstance(ev.layer, Layer):
        fix = upsampling_fix(ev, din, want)
        arguments = tuple(fix.set_args) if fix is not None else ()
        if fix is not None and ev.layer is not None and not _sole_layer_of_its_site(run, ev.layer) \
                and not _sole_layer_of_its_caller(run, ev.layer, arguments):
            fix = None
    if fix is not None:
        msg += f"; {fix.message} to restore {_fmt(want)}"
    return Issue("CVL004", ev.site, msg, fix, key=(got, want), layer=ev.layer, arguments=arguments)
