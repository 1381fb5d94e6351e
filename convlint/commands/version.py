"""``convlint version``: the same as ``convlint --version``."""

from __future__ import annotations

import argparse

from convlint.commands.common import EXIT_OK, out


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.description = "Print convlint's version."


def run(args: argparse.Namespace) -> int:
    from convlint import __version__

    out(f"convlint {__version__}")
    return EXIT_OK
