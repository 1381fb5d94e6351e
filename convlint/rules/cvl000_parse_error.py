"""CVL000: files and convlint comments that cannot be parsed (reported by the analysis itself)."""

from convlint.rules import ERROR, Invalid, Rule

RULE = Rule(
    code="CVL000",
    name="parse-error",
    severity=ERROR,
    summary="A file, or a convlint comment in it, cannot be parsed; the run goes on with the other files.",
    what="""
Reports a Python file that LibCST cannot parse (a syntax error), a file that cannot be read (missing,
unreadable, binary, not UTF-8, too large), and a malformed convlint comment: a `# convlint:` declaration
whose shape or `init(...)` cannot be read, or a `# convlint: ignore[...]` naming no valid code.
""",
    why="""
convlint checks nothing in a file it cannot read, and a declaration it cannot parse would otherwise be
silently ignored: you would believe a model is checked when it is not.
""",
    example="""
class AutoEncoder(nn.Module):  # convlint: input=(8, 3, 64 64)
    ...
""",
    fix="""
Fix the syntax error, or write the declaration as `input=(8, 3, 64, 64)`: a tuple of non-negative
ints and names, optionally followed by `output=(…)` and `init(name=literal, …)`.
""",
    valid=("import torch.nn as nn\n\nclass M(nn.Module):  # convlint: input=(1, 3, 8, 8)\n    def __init__(self):\n        super().__init__()\n        self.c = nn.Conv2d(3, 4, 3)\n\n    def forward(self, x):\n        return self.c(x)\n",),
    invalid=(
        Invalid(
            'import torch.nn as nn\n\ndef broken(:\n    return nn.Conv2d(3, 4, 3)\n',
            line=3,
            message='cannot parse: invalid syntax',
        ),
        Invalid(
            'import torch.nn as nn\n\nclass M(nn.Module):  # convlint: input=(1, 3, 8 8)\n    def __init__(self):\n        super().__init__()\n        self.c = nn.Conv2d(3, 4, 3)\n',
            line=3,
            message="bad convlint pragma: bad shape '(1, 3, 8 8)'",
        ),
    ),
)


def check(run) -> list:
    """Parse errors are found before any entry runs (:mod:`convlint.analysis`); nothing to read here."""
    return []
