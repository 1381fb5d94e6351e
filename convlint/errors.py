"""The one error type for a bad invocation: a wrong option, a bad configuration, an impossible request.

:func:`convlint.cli.main` prints it as one line (``convlint: error: ...``) on stderr and exits 2,
never with a traceback. Problems in the *checked files* are findings (CVL000), not errors.
"""

from __future__ import annotations

__all__ = ["UsageError"]


class UsageError(Exception):
    """A problem with how convlint was called or configured: one line on stderr, exit 2."""
