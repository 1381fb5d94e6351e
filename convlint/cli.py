"""The ``convlint`` command.

``convlint check [PATHS]`` lints; ``convlint rule CODE`` explains a rule; ``convlint version``;
``convlint solve`` and ``convlint shapes`` come from ``convlint.solve`` / ``convlint.shapes_cli``
(each with ``add_arguments(parser)`` and ``run(args) -> int``), imported only when that
subcommand is asked for, so that ``check`` starts fast and works without them.

Exit status: 0 nothing failing (info findings alone are not failing), 1 an error or warning
finding was reported, 2 a usage, configuration or internal error. A bad option or configuration
is one line ``convlint: error: ...`` on stderr, never a traceback; an unexpected exception is
``convlint: internal error: ...`` (``CONVLINT_DEBUG=1`` shows the traceback).
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import IO, Any, NoReturn, Sequence

__all__ = ["main", "build_parser", "EXIT_OK", "EXIT_FINDINGS", "EXIT_ERROR"]

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_ERROR = 2

_PLUGGED = {
    "solve": ("convlint.solve", "find the padding, output_padding or dilation that gives a wanted size"),
    "shapes": ("convlint.shapes_cli", "show the shapes flowing through each declared model"),
}


class UsageError(Exception):
    """A command-line problem: printed as one line, exit 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        hint = f" (see '{self.prog} --help')"
        raise UsageError(message + hint)


def _add_check(sub: Any) -> None:
    p = sub.add_parser(
        "check",
        help="lint files and folders for convolution shape bugs",
        description="Lint Python files for convolution shape bugs. PATHS default to the current directory.",
    )
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
    p.add_argument("--force-exclude", action="store_true", help="apply excludes and .gitignore to paths named on the command line too")
    p.add_argument("--fix", action="store_true", help="apply the fixes that are certain, then report what remains")
    p.add_argument("--diff", action="store_true", help="show the fixes as a unified diff without writing files")
    p.add_argument("--show-source", action=argparse.BooleanOptionalAction, default=True, help="show the source line under each finding (text format)")
    add_confirm_arguments(p)
    p.set_defaults(func=_cmd_check)


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


def _confirm_size(value: str) -> tuple[str, int]:
    name, eq, n = value.partition("=")
    if not eq or not name.strip().isidentifier() or not n.strip().isdigit() or int(n) < 1:
        raise argparse.ArgumentTypeError(f"expected NAME=N with a positive size, such as H=64, got {value!r}")
    return name.strip(), int(n)


def _seconds(value: str) -> float:
    try:
        t = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {value!r}") from None
    if not t > 0:
        raise argparse.ArgumentTypeError(f"must be positive, got {value!r}")
    return t


def with_confirm(config: Any, args: argparse.Namespace) -> Any:
    """``config`` with the ``--confirm`` options of ``args`` (unchanged without ``--confirm``)."""
    if not getattr(args, "confirm", None):
        if getattr(args, "confirm_size", None) or getattr(args, "confirm_timeout", None):
            raise UsageError("--confirm-size and --confirm-timeout need --confirm")
        return config
    from dataclasses import replace

    return replace(config, confirm=args.confirm, confirm_sizes=tuple(dict(args.confirm_size).items()), confirm_timeout=args.confirm_timeout)


def _jobs(value: str) -> int:
    try:
        n = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of processes, got {value!r}") from None
    if n < 0:
        raise argparse.ArgumentTypeError(f"must be 0 (one per CPU) or more, got {n}")
    return n


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The argument parser; ``solve``/``shapes`` get their real options only when ``command`` names them."""
    from convlint import __version__

    parser = _Parser(prog="convlint", description="A static linter for convolution shapes in PyTorch and JAX/Flax model code.")
    parser.add_argument("--version", action="version", version=f"convlint {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    _add_check(sub)

    p = sub.add_parser("rule", help="explain a rule", description="Print a rule's documentation.")
    p.add_argument("code", nargs="?", metavar="CODE", help="a rule code such as CVL004")
    p.add_argument("--all", action="store_true", help="print every rule")
    p.set_defaults(func=_cmd_rule)

    p = sub.add_parser("version", help="print the version")
    p.set_defaults(func=lambda args: _print(f"convlint {__version__}") or EXIT_OK)

    for name, (module, help_text) in _PLUGGED.items():
        if command == name:
            p = sub.add_parser(name, help=help_text)
            mod = _plugin(module)
            if mod is None:
                p.set_defaults(func=lambda args, n=name: _unavailable(n))
            else:
                mod.add_arguments(p)
                p.set_defaults(func=mod.run)
        else:  # listed in --help; parsed for real only when asked for
            sub.add_parser(name, help=help_text, add_help=False)
    return parser


def _plugin(module: str) -> Any:
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as exc:
        if exc.name == module:
            return None
        raise


def _unavailable(name: str) -> int:
    raise UsageError(f"'convlint {name}' is not available in this version (module {_PLUGGED[name][0]} is missing)")


# --------------------------------------------------------------------------- output


def _write(stream: IO[str], text: str) -> None:
    try:
        stream.write(text)
    except UnicodeEncodeError:
        enc = getattr(stream, "encoding", None) or "utf-8"
        stream.write(text.encode(enc, "backslashreplace").decode(enc, "replace"))
    stream.flush()


def _print(text: str) -> None:
    _write(sys.stdout, text + "\n")


def _stderr(text: str) -> None:
    _write(sys.stderr, text + "\n")


# --------------------------------------------------------------------------- commands


def _cmd_rule(args: argparse.Namespace) -> int:
    from convlint.rules import all_rules, get_rule

    if args.all:
        docs = [r.documentation().rstrip() for r in all_rules().values()]
        _print("\n\n---\n\n".join(docs))
        return EXIT_OK
    if not args.code:
        raise UsageError("give a rule code (e.g. 'convlint rule CVL004') or --all")
    rule = get_rule(args.code.strip())
    if rule is None:
        known = ", ".join(all_rules())
        raise UsageError(f"unknown rule code {args.code!r} (known: {known})")
    _print(rule.documentation().rstrip())
    return EXIT_OK


def _cmd_check(args: argparse.Namespace) -> int:
    from convlint.config import load_config
    from convlint.report import ReportOptions, render, use_color
    from convlint.runner import run_check

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
    use_cache = not args.no_cache and not config.confirm  # a confirmation depends on the installed frameworks

    def check() -> Any:
        return run_check(args.paths, config, force_exclude=args.force_exclude, use_cache=use_cache, jobs=args.jobs)

    result = check()
    fixed = 0
    if args.fix or args.diff:
        fixed, diff = _apply_fixes(result, write=args.fix, paths=args.paths, config=config, force_exclude=args.force_exclude)
        if args.diff:
            for line in result.warnings:
                _stderr(f"convlint: warning: {line}")
            for line in result.errors:
                _stderr(f"convlint: error: {line}")
            _write(sys.stdout, diff)
            if result.errors:
                return EXIT_ERROR
            return EXIT_FINDINGS if diff and not args.exit_zero else EXIT_OK
        if fixed:
            result = check()

    for line in result.warnings:
        _stderr(f"convlint: warning: {line}")
    for line in result.errors:
        _stderr(f"convlint: error: {line}")

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
            quiet=args.quiet or bool(fixed and args.format == "text"),
            files_checked=result.files_checked,
            root=config.root,
            sources=result.sources,
        )
        text = render(args.format, result.findings, options)
        if fixed and args.format == "text" and not args.quiet:
            from convlint.fix import fix_summary

            text += fix_summary(fixed, result.findings)
        _write(stream, text)
    finally:
        if out_file is not None:
            out_file.close()

    if result.errors:
        return EXIT_ERROR
    if args.exit_zero:
        return EXIT_OK
    failing = any(f.severity in ("error", "warning") for f in result.findings)
    return EXIT_FINDINGS if failing else EXIT_OK


def _apply_fixes(result: Any, *, write: bool, **context: Any) -> tuple[int, str]:
    """Call ``convlint.fix.apply_fixes(findings, write=..., paths=, config=, force_exclude=)``
    -> (number applied, unified diff); the context lets it re-check the fixed text."""
    try:
        from convlint.fix import apply_fixes
    except ImportError as exc:
        if exc.name == "convlint.fix":
            raise UsageError("--fix/--diff are not available in this version (module convlint.fix is missing)") from None
        raise
    fixable = [f for f in result.findings if f.fix is not None and f.fix.edits]
    outcome = apply_fixes(fixable, write=write, **context)
    if isinstance(outcome, tuple):
        applied, diff = outcome
    else:
        applied, diff = getattr(outcome, "applied", 0), getattr(outcome, "diff", "")
    return int(applied or 0), str(diff or "")


# --------------------------------------------------------------------------- entry point


def _run(argv: Sequence[str]) -> int:
    command = next((a for a in argv if not a.startswith("-")), None)
    parser = build_parser(command)
    if not argv:
        parser.print_help(sys.stderr)
        return EXIT_ERROR
    args = parser.parse_args(list(argv))
    if getattr(args, "func", None) is None:
        if args.command in _PLUGGED:  # not reached: the real parser was built for it
            return _unavailable(args.command)
        parser.print_help(sys.stderr)
        return EXIT_ERROR
    return int(args.func(args) or 0)


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``convlint`` with ``argv`` (default: ``sys.argv[1:]``); returns the exit status."""
    from convlint.config import ConfigError

    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        return _run(argv)
    except (UsageError, ConfigError) as exc:
        _stderr(f"convlint: error: {exc}")
        return EXIT_ERROR
    except SystemExit as exc:  # argparse --help / --version
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else EXIT_ERROR)
    except KeyboardInterrupt:
        _stderr("convlint: interrupted")
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
            _stderr(
                f"convlint: internal error: {type(exc).__name__}: {exc}\n"
                "This is a bug in convlint: please report it with the command you ran "
                "(set CONVLINT_DEBUG=1 to see the traceback)."
            )
        return EXIT_ERROR


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
