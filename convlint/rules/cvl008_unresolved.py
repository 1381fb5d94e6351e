"""CVL008: conv-family layers whose arguments could not be determined, and calls no entry reaches."""

from convlint.interpret.events import Issue, UnresolvedEvent
from convlint.rules import INFO, Invalid, Rule

RULE = Rule(
    code="CVL008",
    name="unresolved",
    severity=INFO,
    default_enabled=False,
    summary="A conv's arguments or input could not be determined statically (off by default).",
    what="""
Reports where convlint lost track, once per root cause rather than once per layer: the expression whose
value it could not determine (a value read from a config file or the command line, a call of code it does
not model, two branches that disagree), with how many conv-family layers are therefore not checked; and
conv calls no entry point reaches. convlint never guesses such values, so it checks nothing that depends
on them. `convlint shapes` prints the same places for each model.
""",
    why="""
Shows what convlint could not see, so you can declare an input or `init(...)` values and get those layers
checked too.
""",
    example="""
import torch.nn as nn

def make(cfg):
    return nn.Conv2d(3, 16, cfg.kernel)
""",
    fix="Declare the model with `# convlint: input=(…) init(…)` or a `[[tool.convlint.model]]` entry giving the values.",
    valid=("import torch.nn as nn\n\nconv = nn.Conv2d(3, 16, 3)\n",),
    invalid=(
        Invalid(
            'import torch.nn as nn\n\ndef make(cfg):\n    return nn.Conv2d(3, 16, cfg.kernel)\n',
            line=4,
            message="Conv2d: could not determine kernel_size (parameter 'cfg' of make)",
        ),
    ),
)


def check(run) -> list:
    """One finding per root cause: where the engine lost a value that conv-family layers needed
    (an argument of a layer, the input of a layer), with what it cost; and conv calls no entry reaches."""
    from convlint.interpret.coverage import coverage

    out = []
    for ev in run.trace.of(UnresolvedEvent):
        name = ev.op.rsplit(".", 1)[-1]
        if ev.never_reached:
            out.append(Issue("CVL008", ev.site, f"{name}: this call is never reached from a model or with known arguments", key=("unreached",)))
            continue
        cause = next((u.root() for u in ev.causes if u.root().site is not None and u.root().site.node is not None), None)
        where = cause.site if cause is not None else ev.site
        out.append(Issue("CVL008", where, f"{name}: could not determine {', '.join(ev.reasons)}", key=("unresolved", ev.reasons)))
    for loss in coverage(run).lost:
        if loss.site is None or loss.site.node is None or not loss.layers or " is built but not followed" in loss.reason:
            continue
        n = len(loss.layers)
        first = loss.layers[0][0].rsplit(".", 1)[-1]
        what = f"{n} conv-family layer{'s' if n != 1 else ''} ({first}{', …' if n > 1 else ''})"
        out.append(Issue("CVL008", loss.site, f"convlint lost track here ({loss.reason}): {what} after it {'are' if n != 1 else 'is'} not checked", key=("lost", loss.reason)))
    return out
