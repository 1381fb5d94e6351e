"""What several commands share: console output that never fails on encoding, and the ``--confirm`` options."""

from __future__ import annotations

import argparse
import sys
from typing import IO, Any

from convlint.errors import UsageError

__all__ = ["EXIT_OK", "EXIT_FINDINGS", "EXIT_ERROR", "write", "out", "err", "add_confirm_arguments", "with_confirm"]

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_ERROR = 2


def write(stream: IO[str], text: str) -> None:
    """Write ``text``, replacing what the stream's encoding cannot represent."""
    try:
        stream.write(text)
    except UnicodeEncodeError:
        enc = getattr(stream, "encoding", None) or "utf-8"
        stream.write(text.encode(enc, "backslashreplace").decode(enc, "replace"))
    stream.flush()


def out(text: str) -> None:
    write(sys.stdout, text + "\n")


def err(text: str) -> None:
    """A message on stderr; control characters in it (from a file name) are escaped, line breaks kept."""
    from convlint.report import escape_controls

    write(sys.stderr, escape_controls(text, keep="\n\t") + "\n")


def add_confirm_arguments(p: argparse.ArgumentParser) -> None:
    """``--confirm``, ``--confirm-size``, ``--confirm-timeout`` (``check`` and ``shapes``)."""
    p.add_argument(
        "--confirm",
        choices=("layers", "model"),
        default=None,
        help="check the static shapes with torch/jax (CVL010): 'layers' builds each resolved layer alone (runs none of your code); "
        "'model' also IMPORTS AND RUNS your declared models on meta tensors / under jax.eval_shape. Turns the cache off.",
    )
    p.add_argument("--confirm-size", action="append", default=[], type=_confirm_size, metavar="NAME=N", help="a size for a symbolic dimension of a declared input (--confirm), e.g. B=2 or H=64; repeatable")
    p.add_argument("--confirm-timeout", type=_seconds, default=None, metavar="SECONDS", help="time limit per model for --confirm=model (default 120)")


MAX_CONFIRM_SIZE = 2**31 - 1  # a size the frameworks can build a tensor of
MAX_CONFIRM_TIMEOUT = 86_400.0  # seconds: a day per model


def _confirm_size(value: str) -> tuple[str, int]:
    name, eq, n = value.partition("=")
    n = n.strip()
    if not eq or not name.strip().isidentifier() or not (n.isascii() and n.isdigit()) or len(n) > 12 or not 1 <= int(n) <= MAX_CONFIRM_SIZE:
        raise argparse.ArgumentTypeError(
            f"expected NAME=N with a size from 1 to {MAX_CONFIRM_SIZE}, such as H=64, got {value!r}"
        )
    return name.strip(), int(n)


def _seconds(value: str) -> float:
    try:
        t = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {value!r}") from None
    if not 0 < t <= MAX_CONFIRM_TIMEOUT:  # also refuses nan and inf
        raise argparse.ArgumentTypeError(f"expected a number of seconds above 0 and at most {MAX_CONFIRM_TIMEOUT:.0f}, got {value!r}")
    return t


def with_confirm(config: Any, args: argparse.Namespace) -> Any:
    """``config`` with the ``--confirm`` options of ``args`` (unchanged without ``--confirm``)."""
    if not getattr(args, "confirm", None):
        if getattr(args, "confirm_size", None) or getattr(args, "confirm_timeout", None):
            raise UsageError("--confirm-size and --confirm-timeout need --confirm")
        return config
    from dataclasses import replace

    return replace(config, confirm=args.confirm, confirm_sizes=tuple(dict(args.confirm_size).items()), confirm_timeout=args.confirm_timeout)
