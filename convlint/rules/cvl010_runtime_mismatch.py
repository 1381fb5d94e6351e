"""CVL010: `--confirm` disagrees with the static answer (reported by :mod:`convlint.confirm`)."""

from convlint.rules import ERROR, Rule

RULE = Rule(
    code="CVL010",
    name="runtime-mismatch",
    severity=ERROR,
    summary="`--confirm` saw a size different from the static one, or a shape error.",
    what="""
With `--confirm=layers`, every layer whose configuration and input shape are known is built alone in its
framework (torch on the meta device, with tiny CPU tensors to judge accept/reject; flax and lax under
`jax.eval_shape`) and its output shape compared with convlint's. With `--confirm=model` (which imports and
runs your code), whole models run on meta tensors / under `jax.eval_shape` and every layer is compared
with the same layer of the static trace (by module path and call site); a run-time shape error convlint
did not report becomes a finding on the line of the layer that raised (one it reported is confirmed on
that finding instead).
""",
    why="""
Static answers are only worth trusting if they can be checked against the frameworks themselves.
""",
    example="""
convlint check --confirm=layers models/
""",
    fix="A disagreement is a convlint bug unless your environment differs (framework version): please report it.",
)


def check(run) -> list:
    """Run-time disagreements come from :mod:`convlint.confirm`, not from a static trace."""
    return []
