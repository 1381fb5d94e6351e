"""One `convlint check`: discover → read → prefilter → cache → analyse → filter → sort.

- Files the prefilter rejects produce no findings and are never parsed (libcst is not even
  imported when no file passes). Files named as ``[[tool.convlint.model]]`` targets always pass.
- Unreadable, binary, non-UTF-8 and too-large files, and command-line paths that do not exist,
  become CVL000 findings; the other files are still checked.
- The cache stores a file's findings before selection and suppression, so changing ``--select``
  or a ``# noqa`` does not need a re-analysis (but the config fingerprint includes the selection,
  in case an engine skips work for rules that are off).
- Selection, ``per-file-ignores`` and suppression comments are applied to every finding,
  wherever it points (a finding may point into another file than the one analysed).
- With ``jobs`` other than 1 and at least :data:`POOL_THRESHOLD` files to analyse, a process pool
  does the analysis (chunked; workers build their own ``Project``); serial otherwise.

The analysis engine is ``convlint.analysis`` (``Project(root=, config=)``, ``analyze_file(project,
path, text) -> FileResult(findings, deps)``), imported only when a file needs analysis.
"""

from __future__ import annotations

import os
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

from convlint.config import Config
from convlint.findings import ERROR, Finding
from convlint.source.discover import discover
from convlint.source.files import ReadError, SourceFile, read_source
from convlint.source.prefilter import may_contain_conv

__all__ = ["POOL_THRESHOLD", "CheckResult", "display_path", "effective_jobs", "run_check"]

POOL_THRESHOLD = 32  # files to analyse before a process pool pays for itself


@dataclass
class CheckResult:
    """What a check found.

    ``findings`` are selected, unsuppressed, sorted, with display paths (relative to the current
    directory when below it). ``errors`` are convlint's own failures (one line each; the CLI exits
    2 when there are any); ``warnings`` are degradations that did not change the result (printed,
    exit status unaffected). ``sources`` maps display paths to text, for the formatters.
    """

    findings: list[Finding]
    files_checked: int
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    sources: dict[str, str] = field(default_factory=dict)
    files_analyzed: int = 0
    cache_hits: int = 0
    prefiltered_out: int = 0


def display_path(path: str | os.PathLike[str], cwd: Path, root: Path | None = None) -> str:
    """A path as the user sees it: relative to ``cwd`` when below it, else absolute.

    A relative ``path`` is taken relative to ``root`` (default ``cwd``).
    """
    p = Path(path)
    if not p.is_absolute():
        p = (root or cwd) / p
    p = Path(os.path.normpath(p))
    try:
        return p.relative_to(cwd).as_posix()
    except ValueError:
        return str(p)


def effective_jobs(jobs: int | None, config: Config) -> int:
    """``jobs`` (else the config's); 0 means one per CPU."""
    n = config.jobs if jobs is None else jobs
    if n <= 0:
        n = os.cpu_count() or 1
    return max(1, n)


def _cvl000(path: Path, reason: str) -> Finding:
    return Finding("CVL000", ERROR, reason, str(path), 1, 1, 1, 1)


# --------------------------------------------------------------------------- analysis workers


_worker_project: Any = None


def _analyze_one(project: Any, analyze_file: Any, path: str, text: str) -> tuple[list[Finding], dict[str, str | None]]:
    result = analyze_file(project, path, text)
    findings = list(getattr(result, "findings", ()) or ())
    deps = dict(getattr(result, "deps", {}) or {})
    return findings, deps


def _pool_init(config: Config) -> None:
    global _worker_project
    from convlint.analysis import Project

    _worker_project = Project(root=config.root, config=config)


def _pool_chunk(items: list[tuple[str, str]]) -> list[tuple[str, Any, Any, str | None]]:
    """Analyse a chunk in a worker: (path, findings, deps, error) per file."""
    from convlint.analysis import analyze_file

    out = []
    for path, text in items:
        try:
            findings, deps = _analyze_one(_worker_project, analyze_file, path, text)
            out.append((path, findings, deps, None))
        except Exception as exc:  # reported by the parent as an internal error for this file
            out.append((path, None, None, _describe(exc)))
    return out


def _describe(exc: BaseException) -> str:
    tb = traceback.extract_tb(exc.__traceback__)
    where = f" (at {Path(tb[-1].filename).name}:{tb[-1].lineno})" if tb else ""
    return f"{type(exc).__name__}: {exc}{where}"


# --------------------------------------------------------------------------- the check


def run_check(
    paths: Sequence[str | os.PathLike[str]],
    config: Config,
    *,
    force_exclude: bool = False,
    use_cache: bool = True,
    jobs: int | None = None,
    cwd: str | os.PathLike[str] | None = None,
) -> CheckResult:
    """Check ``paths`` (default ``.``) under ``config``. Never raises for bad input files."""
    base = Path(os.path.abspath(cwd if cwd is not None else os.getcwd()))
    found = discover(
        paths,
        root=config.root,
        exclude=config.exclude,
        extend_exclude=config.extend_exclude,
        respect_gitignore=config.respect_gitignore,
        force_exclude=force_exclude,
        cwd=base,
    )
    raw: list[Finding] = [_cvl000(p, "cannot read: No such file or directory") for p in found.missing]
    errors: list[str] = []
    warnings: list[str] = []
    texts: dict[Path, str] = {}
    model_files = {m.path for m in config.models}

    cache = None
    if use_cache and config.cache:
        from convlint.cache import Cache

        cache = Cache.for_config(config)

    todo: list[SourceFile] = []
    prefiltered_out = 0
    cache_hits = 0
    for path in found.files:
        src = read_source(path, config.max_file_size)
        if isinstance(src, ReadError):
            raw.append(_cvl000(path, src.reason))
            continue
        if not may_contain_conv(src.data) and path not in model_files:
            prefiltered_out += 1
            continue
        texts[path] = src.text
        if cache is not None:
            cache.note_hash(path, src.sha256)
            hit = cache.get(path, src.sha256)
            if hit is not None:
                raw.extend(hit.findings)
                cache_hits += 1
                continue
        todo.append(src)

    if todo:
        results, errs, warns = _analyze(todo, config, effective_jobs(jobs, config), base)
        errors.extend(errs)
        warnings.extend(warns)
        for src in todo:
            if src.path not in results:
                continue
            findings, deps = _absolute(*results[src.path], base)
            raw.extend(findings)
            if cache is not None:
                cache.put(src.path, src.sha256, findings, deps)

    findings, sources = _finish(raw, config, base, texts)
    return CheckResult(
        findings=findings,
        files_checked=len(found.files),
        errors=errors,
        warnings=warnings,
        sources=sources,
        files_analyzed=len(todo),
        cache_hits=cache_hits,
        prefiltered_out=prefiltered_out,
    )


def _analyze(todo: list[SourceFile], config: Config, jobs: int, cwd: Path) -> tuple[dict[Path, tuple[list[Finding], dict]], list[str], list[str]]:
    """Run the analysis over ``todo``; returns results by path, error lines and warning lines."""
    try:
        from convlint.analysis import Project, analyze_file
    except ImportError as exc:
        return {}, [f"the analysis engine is not available ({exc}); {len(todo)} file(s) not analysed"], []
    results: dict[Path, tuple[list[Finding], dict]] = {}
    errors: list[str] = []
    warnings: list[str] = []
    confirm = getattr(config, "confirm", None)
    if jobs > 1 and len(todo) >= POOL_THRESHOLD and not confirm:  # --confirm: one process imports the frameworks once
        try:
            res, errs = _analyze_pool(todo, config, jobs, cwd)
            return res, errs, warnings
        except Exception as exc:  # e.g. no process support in this environment: go serial
            warnings.append(f"process pool failed ({_describe(exc)}); analysing serially instead")
    project = Project(root=config.root, config=config)
    for src in todo:
        try:
            results[src.path] = _analyze_one(project, analyze_file, str(src.path), src.text)
        except Exception as exc:
            if confirm:
                from convlint.confirm.confirm import ConfirmUnavailable

                if isinstance(exc, ConfirmUnavailable):  # a missing framework: say which extra, once
                    if str(exc) not in errors:
                        errors.append(str(exc))
                    continue
            errors.append(f"{display_path(src.path, cwd)}: internal error while analysing: {_describe(exc)}")
    if confirm:
        from convlint.confirm.confirm import messages

        warnings.extend(messages(project))
    return results, errors, warnings


def _analyze_pool(todo: list[SourceFile], config: Config, jobs: int, cwd: Path) -> tuple[dict[Path, tuple[list[Finding], dict]], list[str]]:
    from concurrent.futures import ProcessPoolExecutor

    workers = max(1, min(jobs, len(todo) // 8))
    n_chunks = workers * 4
    size = max(1, -(-len(todo) // n_chunks))
    items = [(str(s.path), s.text) for s in todo]
    chunks = [items[i : i + size] for i in range(0, len(items), size)]
    results: dict[Path, tuple[list[Finding], dict]] = {}
    errors: list[str] = []
    with ProcessPoolExecutor(max_workers=workers, initializer=_pool_init, initargs=(config,)) as pool:
        for chunk_out in pool.map(_pool_chunk, chunks):
            for path, findings, deps, err in chunk_out:
                if err is not None:
                    errors.append(f"{display_path(path, cwd)}: internal error while analysing: {err}")
                else:
                    results[Path(path)] = (findings, deps)
    return results, errors


def _absolute(findings: list[Finding], deps: dict[str, str | None], cwd: Path) -> tuple[list[Finding], dict[str, str | None]]:
    """Make finding and dependency paths absolute (the engine gives them relative to the working
    directory), so that cache entries do not depend on where convlint was run from."""
    out = []
    for f in findings:
        p = os.path.normpath(os.path.join(cwd, f.path))
        out.append(f if f.path == p else _with_path(f, p))
    return out, {os.path.normpath(os.path.join(cwd, k)): v for k, v in deps.items()}


def _finish(raw: list[Finding], config: Config, cwd: Path, texts: dict[Path, str]) -> tuple[list[Finding], dict[str, str]]:
    """Display paths, selection, per-file-ignores, suppression comments, sort."""
    from convlint.noqa import apply_noqa
    from convlint.report import sort_findings

    by_file: dict[Path, list[Finding]] = {}
    for f in raw:
        absolute = Path(os.path.normpath(os.path.join(cwd, f.path)))
        if not config.is_selected(f.code, absolute):
            continue
        by_file.setdefault(absolute, []).append(f)

    out: list[Finding] = []
    sources: dict[str, str] = {}
    for absolute, fs in by_file.items():
        shown = display_path(absolute, cwd)
        fs = [f if f.path == shown else _with_path(f, shown) for f in fs]
        text = texts.get(absolute)
        if text is None and any(f.code != "CVL000" or f.line > 1 for f in fs):
            src = read_source(absolute, config.max_file_size)
            text = src.text if isinstance(src, SourceFile) else None
        if text is not None:
            sources[shown] = text
            fs = [f for f in apply_noqa(fs, text, shown) if config.is_selected(f.code, absolute)]
        out.extend(fs)
    return sort_findings(out), sources


def _with_path(f: Finding, path: str) -> Finding:
    from dataclasses import replace

    return replace(f, path=path)
