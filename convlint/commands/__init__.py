"""The subcommands of ``convlint``: one module each, with ``add_arguments(parser)`` and ``run(args) -> int``.

:mod:`convlint.cli` imports a command's module only when that command runs, so that ``convlint
check`` does not pay for ``solve`` or ``shapes`` at start-up. Options shared by several commands
(``--confirm`` and friends) and the console helpers live in :mod:`convlint.commands.common`.
"""

from __future__ import annotations

__all__ = ["COMMANDS"]

# name -> (module, one-line help), in the order ``convlint --help`` lists them
COMMANDS: dict[str, tuple[str, str]] = {
    "check": ("convlint.commands.check", "lint files and folders for convolution shape bugs"),
    "shapes": ("convlint.commands.shapes", "show the shapes flowing through each model, layer by layer"),
    "solve": ("convlint.commands.solve", "find the padding, output_padding or dilation that gives a wanted size"),
    "rule": ("convlint.commands.rule", "explain a rule"),
    "version": ("convlint.commands.version", "print the version"),
}
