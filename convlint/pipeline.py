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

- ``progress`` (optional) is called as ``progress(done, total, current)`` while files are analysed:
  ``done`` files of ``total`` are finished and ``current`` (a display path, or ``None``) is being
  analysed. The pipeline has no terminal code: the command decides whether and how to show it.
- Nothing checked is not "all passed": a command-line path (or the default ``.``) under which no
  file is checked gets an :class:`Unchecked` entry saying why (every file excluded by ``exclude``
  / ``extend-exclude``, ignored by ``.gitignore``, or no Python files at all); folders that cannot
  be read are warnings that name them.

The analysis engine is ``convlint.analysis`` (``Project(root=, config=)``, ``analyze_file(project,
path, text) -> FileResult(findings, deps)``), imported only when a file needs analysis.
"""

from __future__ import annotations

import gc
import os
import re
import traceback
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

from convlint.config import Config
from convlint.findings import ERROR, Finding
from convlint.source.discover import discover
from convlint.source.files import ReadError, SourceFile, read_source
from convlint.source.prefilter import may_contain_conv

__all__ = ["POOL_THRESHOLD", "CheckResult", "Progress", "Unchecked", "display_path", "effective_jobs", "run_check"]

POOL_THRESHOLD = 32  # files to analyse before a process pool pays for itself

Progress = Callable[[int, int, "str | None"], None]
"""``progress(done, total, current)``: ``done`` of ``total`` files analysed, ``current`` in progress."""


@dataclass(frozen=True)
class Unchecked:
    """A command-line path (or the default ``.``) under which no file is checked, and why.

    ``reason`` is ``"exclude"`` (the configuration's ``exclude`` / ``extend-exclude``),
    ``"gitignore"`` (a ``.gitignore`` or ``.git/info/exclude``), ``"skipped"`` (inside a folder that
    is always skipped: a virtual environment, ``build/``, ``.git``, ...) or ``"empty"`` (no Python
    file there at all). ``message`` says it in words, naming the path and the setting.
    """

    path: str
    reason: str
    message: str

    @property
    def excluded(self) -> bool:
        return self.reason in ("exclude", "gitignore", "skipped")


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
    unchecked: list[Unchecked] = field(default_factory=list)


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


def _declaration_findings(config: Config) -> list[Finding]:
    """CVL000 at the ``target = ...`` line of each ``[[tool.convlint.model]]`` that names nothing
    (no such file, class or function) or gives ``init``/``call`` keywords it does not take."""
    if not config.models or config.path is None:
        return []
    from convlint.source.targets import target_problems

    try:
        lines = Path(config.path).read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        lines = []
    out = []
    for m in config.models:
        problems = target_problems(Path(m.path), m.name, m.init, m.call)
        if not problems:
            continue
        line = next((i + 1 for i, text in enumerate(lines) if m.target in text and "target" in text), 1)
        col = lines[line - 1].find(m.target) + 1 if line <= len(lines) and m.target in lines[line - 1] else 1
        for problem in problems:
            out.append(Finding("CVL000", ERROR, f"[[tool.convlint.model]] target {m.target!r}: {problem}", str(config.path), line, max(col, 1), line, max(col, 1) + len(m.target)))
    return out


# --------------------------------------------------------------------------- analysis workers


_worker_project: Any = None


def _analyze_one(project: Any, analyze_file: Any, path: str, text: str) -> tuple[list[Finding], dict[str, str | None]]:
    try:
        result = analyze_file(project, path, text)
    finally:
        release = getattr(project, "release", None)
        if release is not None:  # a long run must not keep every file's whole tree
            release(path)
    findings = list(getattr(result, "findings", ()) or ())
    deps = dict(getattr(result, "deps", {}) or {})
    return findings, deps


def _parse_store(config: Config) -> Any:
    """The parse store of this configuration's cache (see ``convlint.cache.ParseStore``)."""
    from convlint.cache import Cache, ParseStore

    return ParseStore(Cache.for_config(config))


def _pool_init(config: Config, keep_parses: bool = False) -> None:
    global _worker_project
    from convlint.analysis import Project

    _worker_project = Project(root=config.root, config=config)
    if keep_parses and hasattr(_worker_project, "save_parses"):
        _worker_project.store = _parse_store(config)
    gc.freeze()
    gc.set_threshold(*_GC_THRESHOLDS)


# An analysis allocates LibCST trees and interpreter values by the hundred thousand: with CPython's
# default thresholds (700, 10, 10) the collector runs a young collection every 700 allocations and
# keeps walking the growing heap. A larger first threshold costs nothing in memory (young cycles
# are still collected, only in bigger batches); the older generations keep their defaults, so the
# cycles an analysis leaves behind (scopes and the functions defined in them) are still freed.
_GC_THRESHOLDS = (50_000, 10, 10)


@contextmanager
def _fewer_collections():
    """Collect young garbage less often for the whole analysis loop; restored afterwards.

    What was allocated before it (modules imported, the configuration, the files read) lives to
    the end of the run: it is moved out of the collector's sight (``gc.freeze``) for that time."""
    old = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(*(max(a, b) for a, b in zip(old, _GC_THRESHOLDS)))
    try:
        yield
    finally:
        gc.set_threshold(*old)
        gc.unfreeze()


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
    _save_parses(_worker_project)
    return out


def _save_parses(project: Any) -> None:
    save = getattr(project, "save_parses", None)  # an engine without a parse store has none
    if save is not None:
        save()


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
    progress: Progress | None = None,
) -> CheckResult:
    """Check ``paths`` (default ``.``) under ``config``. Never raises for bad input files.

    ``progress(done, total, current)`` is called as files are analysed (see the module doc).
    """
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
    warnings: list[str] = [f"cannot read folder {display_path(d, base)}: {why}; its files are not checked" for d, why in _unreadable_dirs(paths, found, config, force_exclude, base)]
    unchecked = _unchecked(paths, found, config, force_exclude, base)
    texts: dict[Path, str] = {}
    model_files = {m.path for m in config.models}
    raw += _declaration_findings(config)

    cache = None
    if use_cache and config.cache:
        from convlint.cache import Cache

        cache = Cache.for_config(config)

    # the files that import a given file (transitively): their entries run its code
    given = {Path(os.path.normpath(p)) for p in found.files}
    reaching, why_not = _reaching(paths, found.files, config, base, cache)
    if why_not:
        warnings.append(why_not)

    todo: list[SourceFile] = []
    prefiltered_out = 0
    cache_hits = 0
    for path in [*found.files, *reaching]:
        importer = path in reaching
        src = read_source(path, config.max_file_size)
        if isinstance(src, ReadError):
            if not importer:
                raw.append(_cvl000(path, src.reason))
            continue
        if not importer and not may_contain_conv(src.data) and path not in model_files:
            prefiltered_out += 1
            continue  # (an importer was admitted by the import scan: a script, or the prefilter)
        if not importer:
            texts[path] = src.text
        if cache is not None:
            cache.note_hash(path, src.sha256)
            hit = cache.get(path, src.sha256)
            if hit is not None:
                raw.extend(_in_given(hit.findings, given) if importer else hit.findings)
                cache_hits += 1
                continue
        todo.append(src)

    if todo:
        results, errs, warns = _analyze(todo, config, effective_jobs(jobs, config), base, progress, keep_parses=cache is not None)
        errors.extend(errs)
        warnings.extend(warns)
        for src in todo:
            if src.path not in results:
                continue
            findings, deps = _absolute(*results[src.path], base)
            raw.extend(_in_given(findings, given) if src.path in reaching else findings)
            if cache is not None:
                cache.put(src.path, src.sha256, findings, deps)

    findings, sources, noqa_warnings = _finish_with_warnings(raw, config, base, texts)
    warnings.extend(noqa_warnings)
    return CheckResult(
        findings=findings,
        files_checked=len(found.files),
        errors=errors,
        warnings=warnings,
        sources=sources,
        files_analyzed=len(todo),
        cache_hits=cache_hits,
        prefiltered_out=prefiltered_out,
        unchecked=unchecked,
    )


# --------------------------------------------------------------------------- what reaches a file


def _reaching(paths: Sequence[str | os.PathLike[str]], files: Sequence[Path], config: Config, base: Path, cache=None) -> tuple[list[Path], str | None]:
    """The project's files that import one of ``files`` directly or through others, when the
    command line names only part of the project (``convlint check parts.py``, as a pre-commit hook
    does): their entries (the model that runs ``parts.py``'s blocks, its smoke test) are analysed
    too, and what they report in ``files`` is kept. Nothing when the whole project is checked
    (a command-line folder holds the project root) or no file is inside the project.

    Returns the files (sorted) and a warning when the project is too large to scan. With a cache,
    the scan reads only the files changed since the last run."""
    root = Path(os.path.abspath(config.root))
    if not files:
        return [], None
    for raw in paths or (".",):
        p = Path(os.path.normpath(base / os.fspath(raw)))
        if p.is_dir() and (p == root or p in root.parents):
            return [], None
    inside = [f for f in files if root in Path(f).parents]
    if not inside:
        return [], None
    from convlint.source.importers import MAX_FILES, chosen_importers

    limit = config.max_importers
    if limit <= 0:
        return [], None
    try:
        project = discover([root], root=root, exclude=config.exclude, extend_exclude=config.extend_exclude, respect_gitignore=config.respect_gitignore, force_exclude=True, cwd=base)
    except Exception as exc:  # following importers is an extra: it must not break the check
        return [], f"the files importing {display_path(inside[0], base)} could not be listed ({_describe(exc)}); they were not analysed"
    if len(project.files) > MAX_FILES:
        return [], f"the project has more than {MAX_FILES} Python files: the files importing the given ones were not analysed"
    given = {Path(os.path.normpath(f)) for f in files}
    declared = {Path(os.path.normpath(m.path)) for m in config.models}
    # a file the prefilter drops is never analysed: it does not count against the limit
    state = None
    if cache is not None:  # what the last run's scan read: only files changed since are read again
        from convlint.source.importers import ScanState

        data = cache.get_blob("imports")
        state = (ScanState.from_json(root, data) if data is not None else None) or ScanState(root)
    found, count, more = chosen_importers(inside, project.files, root, state, limit=limit, skip=given, first=declared)
    if state is not None and state.worth_storing:
        cache.put_blob("imports", state.to_json())
    if more:
        shown = display_path(inside[0], base) + (f" and {len(inside) - 1} more" if len(inside) > 1 else "")
        note = f"{count} files import {shown} (directly or through others); the {limit} most relevant of those that may run its code were analysed (`max-importers`; `convlint check .` checks them all)"
        return sorted(imp.path for imp in found), note
    return sorted(imp.path for imp in found), None


def _in_given(findings: list[Finding], given: set[Path]) -> list[Finding]:
    """What an importer's analysis found in the given files (its own files are not being checked)."""
    return [f for f in findings if Path(os.path.normpath(f.path)) in given]


# --------------------------------------------------------------------------- nothing checked


def _under(f: Path, p: Path) -> bool:
    return f == p or p in f.parents


def _unchecked(paths: Sequence[str | os.PathLike[str]], found: Any, config: Config, force_exclude: bool, base: Path) -> list[Unchecked]:
    """The command-line paths (default ``.``) under which no file is checked, with the reason.

    Only the paths that came out empty are looked at again (discovery re-run without one setting
    at a time), so this costs nothing on an ordinary run.
    """
    out: list[Unchecked] = []
    missing = set(found.missing)
    for raw in paths or (".",):
        p = Path(os.path.normpath(base / os.fspath(raw)))
        if p in missing or any(_under(f, p) for f in found.files):
            continue
        out.append(_why_unchecked(p, config, force_exclude, base))
    return out


def _why_unchecked(p: Path, config: Config, force_exclude: bool, base: Path) -> Unchecked:
    """Why nothing under ``p`` is checked: discovery again, without one setting at a time."""
    shown = display_path(p, base)
    is_dir = p.is_dir()
    head = f"0 files checked under {shown}: every Python file is" if is_dir else f"0 files checked: {shown} is"
    cfg = display_path(config.path, base) if config.path is not None else "the configuration"
    gitignore = config.respect_gitignore

    def finds(*, exclude: Sequence[str] = (), extend_exclude: Sequence[str] = (), respect_gitignore: bool = gitignore) -> bool:
        try:
            d = discover([p], root=config.root, exclude=exclude, extend_exclude=extend_exclude, respect_gitignore=respect_gitignore, force_exclude=force_exclude, cwd=base)
        except Exception:  # a diagnosis must never break the run
            return False
        return bool(d.files)

    def settings(*pairs: tuple[str, Sequence[str]]) -> str:
        return " and ".join(f"{k} = {_toml_list(v)}" for k, v in pairs if v)

    has_excludes = bool(config.exclude or config.extend_exclude)
    # files come back without the config excludes / without .gitignore / without both
    no_excludes = has_excludes and finds()
    no_gitignore = gitignore and finds(exclude=config.exclude, extend_exclude=config.extend_exclude, respect_gitignore=False)
    neither = has_excludes and gitignore and not (no_excludes or no_gitignore) and finds(respect_gitignore=False)
    if (no_excludes and not no_gitignore) or neither:  # the excludes alone hide everything
        # the key whose removal alone brings files back (else both together)
        keys = []
        if config.exclude and finds(extend_exclude=config.extend_exclude):
            keys.append(("exclude", config.exclude))
        if config.extend_exclude and finds(exclude=config.exclude):
            keys.append(("extend-exclude", config.extend_exclude))
        chosen = settings(*(keys or [("exclude", config.exclude), ("extend-exclude", config.extend_exclude)]))
        return Unchecked(shown, "exclude", f"{head} excluded by {chosen} in {cfg}")
    if no_gitignore and not no_excludes:  # .gitignore alone hides everything
        return Unchecked(shown, "gitignore", f"{head} ignored by .gitignore (set respect-gitignore = false to check {'them' if is_dir else 'it'})")
    if no_gitignore and no_excludes:  # each hides a part
        both = settings(("exclude", config.exclude), ("extend-exclude", config.extend_exclude))
        return Unchecked(shown, "exclude", f"{head} excluded by {both} in {cfg} or ignored by .gitignore")
    if not is_dir:
        return Unchecked(shown, "skipped", f"{head} inside a folder convlint always skips (a virtual environment, build/, dist/, .git, ...)")
    if _any_python_file(p):
        return Unchecked(shown, "skipped", f"0 files checked under {shown}: its Python files are all inside folders convlint always skips (virtual environments, build/, dist/, .git, ...)")
    return Unchecked(shown, "empty", f"0 files checked under {shown}: there are no Python files (*.py, *.pyi)")


def _any_python_file(top: Path, limit: int = 10000) -> bool:
    """Is there a .py/.pyi file below ``top``? (bounded: looks at ``limit`` entries at most)"""
    from convlint.source.discover import PY_SUFFIXES

    seen = 0
    for _, _, files in os.walk(top):
        for name in files:
            if name.endswith(PY_SUFFIXES):
                return True
        seen += len(files) + 1
        if seen > limit:
            return False
    return False


def _toml_list(values: Sequence[str]) -> str:
    import json

    return "[" + ", ".join(json.dumps(v) for v in values) + "]"


def _unreadable_dirs(paths: Sequence[str | os.PathLike[str]], found: Any, config: Config, force_exclude: bool, base: Path) -> list[tuple[Path, str]]:
    """Folders below the command-line paths that could not be read (and were not excluded).

    Discovery skips them; this names them. When discovery reports them itself (a ``unreadable``
    attribute of its result) that is used; otherwise the folders are walked again the way
    discovery walks them (same skips, excludes and .gitignore), looking only at folders.
    """
    reported = getattr(found, "unreadable", None)
    if reported is not None:  # [path] or [(path, reason)]
        return [(Path(d[0]), str(d[1])) if isinstance(d, tuple) else (Path(d), "cannot be listed") for d in reported]
    out: list[tuple[Path, str]] = []
    tops = []
    for raw in paths or (".",):
        p = Path(os.path.normpath(base / os.fspath(raw)))
        if p.is_dir():
            tops.append(p)
    if not tops:
        return out
    try:
        from convlint.source import discover as _disc

        walker = _disc._Walker(config.root, [*config.exclude, *config.extend_exclude], config.respect_gitignore)
    except Exception:  # discovery's internals changed: name only the command-line folders
        walker = None
    for top in tops:
        if force_exclude and walker is not None:
            try:
                if walker.path_excluded(top, True):
                    continue
            except Exception:
                pass
        _scan_dirs(top, walker, out)
    return sorted(set(out))


def _scan_dirs(top: Path, walker: Any, out: list[tuple[Path, str]]) -> None:
    """Walk the folders below ``top`` as discovery does, recording those that cannot be listed."""
    try:
        stack0 = walker.stack_for(top) if walker is not None else []
    except Exception:
        stack0, walker = [], None
    todo: list[tuple[str, list]] = [(os.fspath(top), stack0)]
    while todo:
        d, stack = todo.pop()
        try:
            with os.scandir(d) as it:
                entries = [(e.name, e.path) for e in it if _is_dir(e)]
        except OSError as exc:
            out.append((Path(d), (exc.strerror or type(exc).__name__).lower()))
            continue
        if walker is None:
            continue  # without discovery's rules, only the command-line folder itself is judged
        for name, path in entries:
            try:
                from convlint.source.discover import _ignored

                if walker.excluded_name(path, True, name) or _ignored(stack, path, True):
                    continue
                sub = stack
                if walker.respect_gitignore:
                    ig = walker._gitignore_of(Path(path))
                    if ig is not None:
                        sub = [*stack, ig]
            except Exception:
                return
            todo.append((path, sub))


def _is_dir(entry: os.DirEntry) -> bool:
    try:
        return entry.is_dir(follow_symlinks=False)
    except OSError:
        return False


# --------------------------------------------------------------------------- analysis


def _analyze(
    todo: list[SourceFile], config: Config, jobs: int, cwd: Path, progress: Progress | None = None, keep_parses: bool = False
) -> tuple[dict[Path, tuple[list[Finding], dict]], list[str], list[str]]:
    """Run the analysis over ``todo``; returns results by path, error lines and warning lines.

    ``keep_parses``: read and write the parse store (``convlint.cache.ParseStore``), as the result
    cache is read and written."""
    try:
        from convlint.analysis import Project, analyze_file
    except ImportError as exc:
        return {}, [f"the analysis engine is not available ({exc}); {len(todo)} file(s) not analysed"], []
    results: dict[Path, tuple[list[Finding], dict]] = {}
    errors: list[str] = []
    warnings: list[str] = []
    total = len(todo)
    confirm = getattr(config, "confirm", None)
    if jobs > 1 and len(todo) >= POOL_THRESHOLD and not confirm:  # --confirm: one process imports the frameworks once
        try:
            res, errs = _analyze_pool(todo, config, jobs, cwd, progress, keep_parses)
            return res, errs, warnings
        except Exception as exc:  # e.g. no process support in this environment: go serial
            warnings.append(f"process pool failed ({_describe(exc)}); analysing serially instead")
    project = Project(root=config.root, config=config)
    if keep_parses and hasattr(project, "save_parses"):
        project.store = _parse_store(config)
    with _fewer_collections():
        for done, src in enumerate(todo):
            if progress is not None:
                progress(done, total, display_path(src.path, cwd))
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
    _save_parses(project)
    if progress is not None:
        progress(total, total, None)
    if confirm:
        from convlint.confirm.confirm import messages

        warnings.extend(messages(project))
    return results, errors, warnings


def _analyze_pool(
    todo: list[SourceFile], config: Config, jobs: int, cwd: Path, progress: Progress | None = None, keep_parses: bool = False
) -> tuple[dict[Path, tuple[list[Finding], dict]], list[str]]:
    from concurrent.futures import ProcessPoolExecutor

    workers = max(1, min(jobs, len(todo) // 8))
    n_chunks = workers * 4
    size = max(1, -(-len(todo) // n_chunks))
    items = [(str(s.path), s.text) for s in todo]
    chunks = [items[i : i + size] for i in range(0, len(items), size)]
    results: dict[Path, tuple[list[Finding], dict]] = {}
    errors: list[str] = []
    total, done = len(todo), 0
    if progress is not None:
        progress(0, total, None)
    with ProcessPoolExecutor(max_workers=workers, initializer=_pool_init, initargs=(config, keep_parses)) as pool:
        for chunk_out in pool.map(_pool_chunk, chunks):
            for path, findings, deps, err in chunk_out:
                if err is not None:
                    errors.append(f"{display_path(path, cwd)}: internal error while analysing: {err}")
                else:
                    results[Path(path)] = (findings, deps)
            done += len(chunk_out)
            if progress is not None:
                progress(done, total, None)
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
    """:func:`_finish_with_warnings` without the warnings (``convlint.fix`` re-checks with it)."""
    findings, sources, _ = _finish_with_warnings(raw, config, cwd, texts)
    return findings, sources


def _finish_with_warnings(raw: list[Finding], config: Config, cwd: Path, texts: dict[Path, str]) -> tuple[list[Finding], dict[str, str], list[str]]:
    """Display paths, selection, per-file-ignores, suppression comments, sort.

    Every file read (not only those with findings) has its suppression comments checked: a
    malformed ``# convlint: ignore`` is a CVL000 finding and a ``# noqa`` typo a warning wherever it
    is. Returns the findings, the sources by display path and the warnings.
    """
    from convlint.noqa import parse_directives
    from convlint.report import sort_findings

    by_file: dict[Path, list[Finding]] = {}
    for f in raw:
        absolute = Path(os.path.normpath(os.path.join(cwd, f.path)))
        if not config.is_selected(f.code, absolute):
            continue
        by_file.setdefault(absolute, []).append(f)
    for absolute in texts:
        by_file.setdefault(absolute, [])

    out: list[Finding] = []
    sources: dict[str, str] = {}
    warnings: dict[str, list[str]] = {}  # by display path; each file's in line order
    for absolute, fs in by_file.items():
        shown = display_path(absolute, cwd)
        fs = [f if f.path == shown else _with_path(f, shown) for f in fs]
        text = texts.get(absolute)
        if text is None and any(f.code != "CVL000" or f.line > 1 for f in fs):
            src = read_source(absolute, config.max_file_size)
            text = src.text if isinstance(src, SourceFile) else None
        if text is not None:
            d = parse_directives(text, shown)
            fs = [f for f in fs if not d.suppresses(f)]
            fs += [f for f in d.problems if config.is_selected(f.code, absolute)]
            if d.warnings:
                warnings[shown] = d.warnings
            if fs:
                sources[shown] = text
        out.extend(fs)
    return _one_per_cause(sort_findings(out)), sources, [w for shown in sorted(warnings) for w in warnings[shown]]


_ENTRY_NOTE = re.compile(r" \(entry: [^()]*\)")


def _one_per_cause(findings: list[Finding]) -> list[Finding]:
    """One finding per place and problem: the same problem in a shared block, seen from two
    entries analysed from different files (a model file and its smoke test), differs only in the
    entry its message names; the first (in sorted order) is kept."""
    seen: set = set()
    out = []
    for f in findings:
        key = (f.code, f.path, f.line, f.column, _ENTRY_NOTE.sub("", f.message))
        if key in seen:
            continue
        seen.add(key)
        out.append(f)
    return out


def _with_path(f: Finding, path: str) -> Finding:
    from dataclasses import replace

    return replace(f, path=path)
