"""Test-session settings shared by every test module."""

from __future__ import annotations

import os
import tempfile


def pytest_configure(config) -> None:
    # The result cache authenticates its entries with a key in the user's cache directory
    # ($XDG_CACHE_HOME/convlint/key): the tests, and the convlint processes they start, use a
    # throwaway one instead of the developer's.
    if not os.environ.get("CONVLINT_TEST_KEEP_XDG"):
        os.environ["XDG_CACHE_HOME"] = tempfile.mkdtemp(prefix="convlint-test-xdg-")
