"""Write docs/rules/CVLNNN.md and docs/rules/README.md from the rule registry.

    python scripts/generate_rule_docs.py          # rewrite the pages
    python scripts/generate_rule_docs.py --check  # exit 1 if a page is out of date

The test suite runs the check: the pages are always what ``convlint rule CODE`` prints.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from convlint.rules import all_rules  # noqa: E402


def pages() -> dict[str, str]:
    out = {}
    rows = []
    for code, rule in all_rules().items():
        out[f"{code}.md"] = rule.documentation()
        rows.append(f"| [{code}]({code}.md) | {rule.name} | {rule.severity} | {rule.summary} |")
    out["README.md"] = (
        "# Rules\n\nGenerated from the rule registry by `scripts/generate_rule_docs.py`; "
        "`convlint rule CODE` prints the same text.\n\n"
        "| code | name | severity | when |\n| --- | --- | --- | --- |\n" + "\n".join(rows) + "\n"
    )
    return out


def main(argv: list[str]) -> int:
    target = ROOT / "docs" / "rules"
    stale = []
    for name, text in pages().items():
        path = target / name
        if "--check" in argv:
            if not path.exists() or path.read_text(encoding="utf-8") != text:
                stale.append(name)
        else:
            target.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
    if stale:
        print(f"docs/rules is out of date ({', '.join(stale)}): run python scripts/generate_rule_docs.py", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
