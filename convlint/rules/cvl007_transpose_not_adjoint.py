"""CVL007: a transposed conv that restores its partner's size but is not its transpose (gradient)."""

from convlint.arith.solve import solve_transpose
from convlint.interpret.events import Issue
from convlint.rules import WARNING, Invalid, Rule

RULE = Rule(
    code="CVL007",
    name="transpose-not-adjoint",
    severity=WARNING,
    summary="A transposed conv restores the shape but is not the transpose of its paired conv.",
    what="""
For each upsampling conv paired with a downsampling conv of the same kernel size and stride, checks that it
is the transpose (the gradient) of that conv: the same kernel dilation, and — for `lax` convolutions written
as the gradient of their conv — padding `d·(k−1) − p` on the low side. Reported when the shape comes out
right by another route — e.g. restoring a dilation-2 conv with a dilation-1 kernel and larger padding, as in
the blog post this project grew from. A torch or flax decoder layer that restores the size with padding of
its own (a GAN generator, an autoencoder) is not reported: it is not meant to be the gradient.
""",
    why="""
A decoder meant to mirror its encoder (tied weights, invertible or adjoint-based methods, a port between
frameworks) silently computes something else when only the shape was matched.
""",
    example="""
from jax import lax
import jax.numpy as jnp

x = jnp.ones((1, 1, 64, 64)); k = jnp.ones((1, 1, 5, 5))
y = lax.conv_general_dilated(x, k, (3, 3), [(2, 2), (2, 2)], (1, 1), (2, 2))
z = lax.conv_general_dilated(jnp.ones((1, 1, 20, 20)), k, (1, 1), [(5, 5), (5, 5)], (3, 3), (1, 1))
""",
    fix="""
Use the transpose convlint prints: for the example, `lhs_dilation=(3, 3), rhs_dilation=(2, 2)`,
padding `[(6, 8), (6, 8)]` — `convlint solve --in 64 -k 5 -s 3 -d 2 -p 2` gives it for every framework.
""",
    valid=("import jax.numpy as jnp\nfrom jax import lax\n\nx = jnp.ones((1, 1, 64, 64))\nk = jnp.ones((1, 1, 5, 5))\ny = lax.conv_general_dilated(x, k, (3, 3), [(2, 2), (2, 2)], (1, 1), (2, 2))\nz = lax.conv_general_dilated(jnp.ones((1, 1, 20, 20)), k, (1, 1), [(6, 8), (6, 8)], (3, 3), (2, 2))\n",),
    invalid=(
        Invalid(
            'import jax.numpy as jnp\nfrom jax import lax\n\nx = jnp.ones((1, 1, 64, 64))\nk = jnp.ones((1, 1, 5, 5))\ny = lax.conv_general_dilated(x, k, (3, 3), [(2, 2), (2, 2)], (1, 1), (2, 2))\nz = lax.conv_general_dilated(jnp.ones((1, 1, 20, 20)), k, (1, 1), [(5, 5), (5, 5)], (3, 3), (1, 1))\n',
            line=7,
            message='is not its transpose: dim 0: kernel dilation 1 where the conv has 2',
        ),
    ),
)


def check(run) -> list:
    out = []
    for step in run.trace.ups:
        if step.partner is None or step.mismatch is not None:
            continue
        up = step.extra.get("adjoint")
        down = step.partner.extra.get("adjoint")
        if not up or not down or up[0] != "transpose" or down[0] != "conv":
            continue
        wu, wd = up[1], down[1]
        if not wu or not wd or len(wu) != len(wd):
            continue
        problems = []
        fixes = []
        for axis, (u, d) in enumerate(zip(wu, wd)):
            if u.kernel != d.kernel or u.input_dilation != d.stride or d.input_dilation != 1:
                problems = []
                break
            want_lo = d.dilation * (d.kernel - 1) - d.pad_lo
            # a decoder layer with its own padding that happens to restore the size is ordinary
            # (GAN generators, autoencoders); a different kernel dilation, or a lax port written as
            # the gradient of its conv, is not
            padding_matters = step.event.op.startswith("jax.lax.")
            if u.dilation != d.dilation or (padding_matters and u.pad_lo != want_lo):
                what = []
                if u.dilation != d.dilation:
                    what.append(f"kernel dilation {u.dilation} where the conv has {d.dilation}")
                if u.pad_lo != want_lo:
                    what.append(f"low padding {u.pad_lo} where the transpose needs {want_lo}")
                problems.append(f"dim {axis}: " + " and ".join(what))
                size = step.partner.sizes[axis]
                if isinstance(size, int):
                    try:
                        sol = solve_transpose(size, d.kernel, d.stride, (d.pad_lo, d.pad_hi), d.dilation)
                        fixes.append(f"lhs_dilation={d.stride}, rhs_dilation={d.dilation}, padding={sol.lax_padding}")
                    except Exception:
                        pass
        if not problems:
            continue
        ev = step.event
        pev = step.partner.event
        ppos = pev.site.module.parsed.position(pev.site.node) if pev.site.node is not None else None
        msg = (
            f"{ev.op.rsplit('.', 1)[-1]} restores the size of the {pev.op.rsplit('.', 1)[-1]}"
            + (f" at line {ppos[0]}" if ppos else "")
            + " but is not its transpose: "
            + "; ".join(problems)
        )
        if fixes:
            msg += f" (the transpose: {fixes[0]})"
        out.append(Issue("CVL007", ev.site, msg, key=("adjoint",)))
    return out
