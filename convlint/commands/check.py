"""``convlint check [PATHS]``: lint files and folders, print the findings, apply fixes with ``--fix``.

Exit status: 0 nothing failing (info findings alone are not failing), 1 an error or warning
finding was reported (with ``--diff``: there is something to fix), 2 a usage, configuration or
internal error.

Nothing checked is not "all passed":

- No rule selected (``--select ''``, ``select = []``, ``--ignore ALL``): an error naming the
  setting, exit 2, before anything is read.
- A path given (or the default ``.``) under which every Python file is excluded (``exclude``,
  ``extend-exclude``, ``.gitignore``, always-skipped folders): an error naming the path and the
  setting, exit 2 — a typo in ``exclude`` must not look like a clean repository. With
  ``--force-exclude`` (what the pre-commit hook runs) excluding is what was asked for: pre-commit
  passes the staged files whatever the excludes say, so when all of them are excluded the run
  exits 0 with a warning, as ``ruff check --force-exclude`` does.
- A folder with no Python file at all: a warning, exit status unchanged.
- When no file was checked, the text report does not print ``All checks passed!``.

A progress line goes to stderr on a terminal (see :mod:`convlint.commands.progress`).
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from typing import IO, Any

from convlint.commands.common import EXIT_ERROR, EXIT_FINDINGS, EXIT_OK, add_confirm_arguments, err, with_confirm, write
from convlint.errors import UsageError


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.description = "Lint Python files for convolution shape bugs. PATHS default to the current directory."
    p.add_argument("paths", nargs="*", metavar="PATH", help="files or folders to check (default: .)")
    p.add_argument("--format", choices=("text", "json", "sarif", "github"), default="text", help="output format (default: text)")
    p.add_argument("--output-file", "-o", metavar="FILE", help="write the report to FILE instead of stdout")
    p.add_argument("--select", action="append", metavar="CODES", help="rule codes or prefixes to enable, replacing the configured selection (comma-separated, ALL for every rule)")
    p.add_argument("--extend-select", action="append", default=[], metavar="CODES", help="rule codes or prefixes to enable in addition")
    p.add_argument("--ignore", action="append", default=[], metavar="CODES", help="rule codes or prefixes to disable")
    p.add_argument("--exit-zero", action="store_true", help="exit 0 even when findings are reported")
    p.add_argument("--config", metavar="FILE", help="read the configuration from FILE (pyproject.toml or convlint.toml)")
    p.add_argument("--quiet", "-q", action="store_true", help="print findings only, no summary")
    p.add_argument("--statistics", action="store_true", help="print the number of findings per rule code")
    p.add_argument("--no-cache", action="store_true", help="neither read nor write the .convlint_cache")
    p.add_argument("--jobs", "-j", type=_jobs, metavar="N", help="analyse in N processes (0: one per CPU); used only when there is enough work")
    p.add_argument("--max-importers", type=_max_importers, metavar="N",
                   help="when the paths name part of the project, also analyse at most N of the files that import them "
                        "(default: the max-importers setting, 2; 0: none)")
    p.add_argument("--force-exclude", action="store_true", help="apply excludes and .gitignore to paths named on the command line too")
    p.add_argument("--fix", action="store_true", help="apply the fixes that are certain, then report what remains")
    p.add_argument("--diff", action="store_true", help="show the fixes as a unified diff without writing files")
    p.add_argument("--show-source", action=argparse.BooleanOptionalAction, default=True, help="show the source line under each finding (text format)")
    add_confirm_arguments(p)


def _count(zero: str):
    """An argparse type for a count of 0 or more (``zero`` says what 0 means)."""

    def parse(value: str) -> int:
        try:
            n = int(value)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got {value!r}") from None
        if n < 0:
            raise argparse.ArgumentTypeError(f"must be 0 ({zero}) or more, got {n}")
        return n

    return parse


_jobs = _count("one per CPU")
_max_importers = _count("none")


def run(args: argparse.Namespace) -> int:
    from convlint.config import load_config
    from convlint.pipeline import run_check
    from convlint.report import ReportOptions, render, use_color

    if args.fix and args.diff:
        raise UsageError("--fix and --diff cannot be used together (--diff shows what --fix would do)")
    config = load_config(
        args.paths,
        config_file=args.config,
        select=args.select,
        extend_select=args.extend_select,
        ignore=args.ignore,
        jobs=args.jobs,
        cache=False if args.no_cache else None,
    )
    config = with_confirm(config, args)
    if getattr(args, "max_importers", None) is not None:
        config = dataclasses.replace(config, max_importers=args.max_importers)
    for line in config.warnings:
        err(f"convlint: warning: {line}")
    if not config.selected:
        raise UsageError(f"no rule is selected: {config.selection_note or 'the selection is empty'} (0 rules, nothing to check)")
    use_cache = not args.no_cache and not config.confirm  # a confirmation depends on the installed frameworks

    def check() -> Any:
        from convlint.commands.progress import progress_for

        progress = progress_for(sys.stderr, fmt=args.format, quiet=args.quiet)
        try:
            result = run_check(args.paths, config, force_exclude=args.force_exclude, use_cache=use_cache, jobs=args.jobs, progress=progress)
        finally:
            if progress is not None:
                progress.close()
        _nothing_checked(result, args.force_exclude)
        return result

    result = check()
    fixed = 0
    if args.fix or args.diff:
        from convlint.fix import apply_fixes

        fixable = [f for f in result.findings if f.fix is not None and f.fix.edits]
        outcome = apply_fixes(fixable, write=args.fix, paths=args.paths, config=config, force_exclude=args.force_exclude)
        fixed, diff = outcome.applied, outcome.diff
        if args.diff:
            _messages(result)
            write(sys.stdout, diff)
            if result.errors:
                return EXIT_ERROR
            return EXIT_FINDINGS if diff and not args.exit_zero else EXIT_OK
        if fixed:
            result = check()
        result.errors.extend(outcome.errors)  # files --fix could not write: the run goes on, exit 2

    _messages(result)
    out_file = None
    stream: IO[str] = sys.stdout
    if args.output_file:
        try:
            out_file = open(args.output_file, "w", encoding="utf-8", newline="\n")
        except OSError as exc:
            raise UsageError(f"--output-file: cannot write {args.output_file}: {exc.strerror or exc}") from None
        stream = out_file
    try:
        options = ReportOptions(
            color=args.format == "text" and use_color(stream),
            show_source=args.show_source,
            statistics=args.statistics,
            # no "All checks passed!" when nothing was checked: stderr says why
            quiet=args.quiet or bool(fixed and args.format == "text") or (result.files_checked == 0 and not result.findings),
            files_checked=result.files_checked,
            root=config.root,
            sources=result.sources,
        )
        text = render(args.format, result.findings, options)
        if fixed and args.format == "text" and not args.quiet:
            from convlint.fix import fix_summary

            text += fix_summary(fixed, result.findings)
        try:
            write(stream, text)
        except OSError as exc:
            if out_file is None:
                raise  # stdout: a closed pipe is handled by the CLI
            raise UsageError(f"--output-file: cannot write {args.output_file}: {exc.strerror or exc}") from None
    finally:
        if out_file is not None:
            try:
                out_file.close()
            except OSError:
                pass

    if result.errors:
        return EXIT_ERROR
    if args.exit_zero:
        return EXIT_OK
    failing = any(f.severity in ("error", "warning") for f in result.findings)
    return EXIT_FINDINGS if failing else EXIT_OK


def _nothing_checked(result: Any, force_exclude: bool) -> None:
    """Turn the paths under which nothing was checked into errors and warnings (module doc)."""
    unchecked = getattr(result, "unchecked", [])
    if not unchecked:
        return
    if force_exclude:
        if result.files_checked == 0 and not result.findings:
            if len(unchecked) == 1:
                result.warnings.append(unchecked[0].message)
            else:
                n = len(unchecked)
                result.warnings.append(f"0 files checked: all {n} paths given are excluded (--force-exclude applies exclude, extend-exclude and .gitignore to them)")
        return
    for u in unchecked:
        if u.excluded:
            result.errors.append(u.message)
        else:
            result.warnings.append(u.message)


def _messages(result: Any) -> None:
    for line in result.warnings:
        err(f"convlint: warning: {line}")
    for line in result.errors:
        err(f"convlint: error: {line}")
