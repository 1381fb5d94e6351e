"""``--format json``: a JSON list of findings, as docs/contracts.md specifies.

Each object has ``code``, ``severity``, ``message``, ``path``, ``line``, ``column`` (1-based),
``end_line``, ``end_column`` (exclusive) and ``fix`` (null, or ``message``, ``replacement`` and
``edits``), plus ``notes`` (a list of strings, possibly empty) and ``related`` (a list, possibly
empty, of other places that matter — ``message``, ``path``, ``line``, ``column``, ``end_line``,
``end_column`` — e.g. the helper's line that builds the layer when the finding is reported at the
call that passed the wrong value).
"""

from __future__ import annotations

import json
from typing import Sequence

from convlint.findings import Finding
from convlint.report import escape_json


def render(findings: Sequence[Finding], options: object = None) -> str:
    out = []
    for f in findings:
        d = f.to_json()
        d["notes"] = list(f.notes)
        d["related"] = [r.to_json() for r in f.related]
        out.append(d)
    return escape_json(json.dumps(out, indent=2, ensure_ascii=False)) + "\n"
