"""``convlint rule CODE`` / ``convlint rule --all``: a rule's documentation (what, why, example, fix)."""

from __future__ import annotations

import argparse

from convlint.commands.common import EXIT_OK, out
from convlint.errors import UsageError


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.description = "Print a rule's documentation."
    p.add_argument("code", nargs="?", metavar="CODE", help="a rule code such as CVL004")
    p.add_argument("--all", action="store_true", help="print every rule")


def run(args: argparse.Namespace) -> int:
    from convlint.rules import all_rules, get_rule

    if args.all:
        docs = [r.documentation().rstrip() for r in all_rules().values()]
        out("\n\n---\n\n".join(docs))
        return EXIT_OK
    if not args.code:
        raise UsageError("give a rule code (e.g. 'convlint rule CVL004') or --all")
    rule = get_rule(args.code.strip())
    if rule is None:
        known = ", ".join(all_rules())
        raise UsageError(f"unknown rule code {args.code!r} (known: {known})")
    out(rule.documentation().rstrip())
    return EXIT_OK
