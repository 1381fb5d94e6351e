"""Every rule code and whether it is on by default: what the configuration needs to validate
``select``/``ignore`` and to pick the default rules, known without importing the rule modules (they
import the engine's event and shape classes: a run that analyses nothing, such as a pre-commit hook
whose files are all cached, would pay for them). The test suite checks this table against the
registry (``tests/test_rules.py``): a new rule adds its line here.
"""

from __future__ import annotations

__all__ = ["CODES"]

CODES: dict[str, bool] = {
    "CVL000": True,
    "CVL001": True,
    "CVL002": True,
    "CVL003": True,
    "CVL004": True,
    "CVL005": True,
    "CVL006": True,
    "CVL007": True,
    "CVL008": False,  # unresolved conv-family layers: informational, off unless selected
    "CVL009": True,
    "CVL010": True,
    "CVL011": True,
}
