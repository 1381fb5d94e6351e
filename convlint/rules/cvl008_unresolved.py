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
Lists conv-family calls whose arguments convlint could not resolve — values read from a config file or
the command line, computed by code it does not follow — naming the argument and the reason, and calls no
entry point reaches. convlint never guesses such values, so it checks nothing that depends on them.
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
    out = []
    for ev in run.trace.of(UnresolvedEvent):
        name = ev.op.rsplit(".", 1)[-1]
        if ev.never_reached:
            out.append(Issue("CVL008", ev.site, f"{name}: this call is never reached from a model or with known arguments", key=("unreached",)))
        else:
            out.append(Issue("CVL008", ev.site, f"{name}: could not determine {', '.join(ev.reasons)}", key=("unresolved",)))
    return out
