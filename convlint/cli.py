"""The ``convlint`` command: parse the command line and run one subcommand from :mod:`convlint.commands`.

A command's module is imported only when that command runs, so that ``convlint check`` starts
fast. A bad option or configuration is one line ``convlint: error: ...`` on stderr and exit 2,
never a traceback; an unexpected exception is ``convlint: internal error: ...``
(``CONVLINT_DEBUG=1`` shows the traceback).
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from typing import NoReturn, Sequence

from convlint.commands import COMMANDS
from convlint.commands.common import EXIT_ERROR, EXIT_FINDINGS, EXIT_OK, err
from convlint.errors import UsageError

__all__ = ["main", "build_parser", "EXIT_OK", "EXIT_FINDINGS", "EXIT_ERROR"]


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (see '{self.prog} --help')")


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The argument parser; only ``command``'s options are registered (the others are listed by name)."""
    from convlint import __version__

    parser = _Parser(prog="convlint", description="A static linter for convolution shapes in PyTorch and JAX/Flax model code.")
    parser.add_argument("--version", action="version", version=f"convlint {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name, (module, help_text) in COMMANDS.items():
        if name == command:
            p = sub.add_parser(name, help=help_text)
            mod = importlib.import_module(module)
            mod.add_arguments(p)
            p.set_defaults(func=mod.run)
        else:  # listed in --help; its options are parsed only when it runs
            sub.add_parser(name, help=help_text, add_help=False)
    return parser


def _run(argv: Sequence[str]) -> int:
    command = next((a for a in argv if not a.startswith("-")), None)
    parser = build_parser(command)
    if not argv:
        parser.print_help(sys.stderr)
        return EXIT_ERROR
    args = parser.parse_args(list(argv))
    if getattr(args, "func", None) is None:
        parser.print_help(sys.stderr)
        return EXIT_ERROR
    return int(args.func(args) or 0)


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``convlint`` with ``argv`` (default: ``sys.argv[1:]``); returns the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        return _run(argv)
    except UsageError as exc:
        err(f"convlint: error: {exc}")
        return EXIT_ERROR
    except SystemExit as exc:  # argparse --help / --version
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else EXIT_ERROR)
    except KeyboardInterrupt:
        err("convlint: interrupted")
        return 130
    except BrokenPipeError:
        # The reader went away (``convlint check | head``): not an error of ours.
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
        except (OSError, ValueError):
            pass
        return EXIT_OK
    except Exception as exc:
        if os.environ.get("CONVLINT_DEBUG"):
            import traceback

            traceback.print_exc()
        else:
            err(
                f"convlint: internal error: {type(exc).__name__}: {exc}\n"
                "This is a bug in convlint: please report it with the command you ran "
                "(set CONVLINT_DEBUG=1 to see the traceback)."
            )
        return EXIT_ERROR


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
