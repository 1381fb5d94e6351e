"""``python -m convlint``: the same as the ``convlint`` command."""

import sys

from convlint.cli import main

sys.exit(main())
